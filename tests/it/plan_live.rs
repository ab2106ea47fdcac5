//! `plan` through the real binary and the real SDK against the emulator: a fresh organization,
//! a drifted one, exclusions, foreign grants and pagination (300 grants on one license).

use std::collections::BTreeSet;
use std::sync::Arc;

use bedrock_entitlements::aws::{self, ConnectOptions, SdkLicenseManager, SdkOrganizations};
use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions, GrantSeed};

use crate::cli_support::{Cli, plan_actions as actions};
use crate::support::{
    COHERE_LICENSE, OU_ML, active_grant_seed, bulk_account, seed_with_accounts, start_emulator,
};

const CLAUDE: &str =
    "arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811";

/// Managed ACTIVE grants of the Claude license to the first `count` bulk accounts.
fn bulk_grants(count: usize) -> impl Iterator<Item = GrantSeed> {
    (0..count).map(|i| GrantSeed {
        version: 1,
        ..active_grant_seed(
            format!("bedrock-entitlements-claude-sonnet-{}", bulk_account(i)),
            CLAUDE,
            format!("arn:aws:iam::{}:root", bulk_account(i)),
        )
    })
}

fn bulk_file(accounts: usize) -> String {
    let mut text = String::from(
        "version: 1\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts:\n",
    );
    for i in 0..accounts {
        text.push_str(&format!("        - \"{}\"\n", bulk_account(i)));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_grants_on_one_license_are_all_read_across_pages() {
    let mut seed = seed_with_accounts(300);
    seed.grants.extend(bulk_grants(300));
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    // All 300 in the file: nothing to do. Had a page been missed, its grants would be created again.
    cli.write("all.yaml", &bulk_file(300));
    let doc = json_plan(&cli, "all.yaml", 0).await;
    assert!(actions(&doc).is_empty());
    assert!(
        emu.state().call_count("ListDistributedGrants") >= 3 + 3,
        "pages of 100 for each license"
    );

    // 250 in the file: the last 50 (on the third page) are deleted, nothing is created.
    emu.state().reset_counts();
    cli.write("some.yaml", &bulk_file(250));
    let doc = json_plan(&cli, "some.yaml", 2).await;
    let expected: BTreeSet<String> = (250..300)
        .map(|i| format!("delete arn:aws:iam::{}:root", bulk_account(i)))
        .collect();
    assert_eq!(actions(&doc), expected);
}

/// The product's License Manager and Organizations clients (the real SDK) against `emu`, as
/// `live::read` takes them.
async fn live_clients(emu: &EmulatorHandle) -> (Arc<SdkLicenseManager>, Arc<SdkOrganizations>) {
    let clients = aws::connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDEXAMPLE".to_owned(), "secret".to_owned())),
        ..ConnectOptions::default()
    })
    .await;
    (
        Arc::new(clients.license_manager),
        Arc::new(clients.organizations),
    )
}

/// `plan --format json --detailed-exitcode` of `file`, which exits `code`: the plan document.
async fn json_plan(cli: &Cli, file: &str, code: i32) -> serde_json::Value {
    cli.run(&[
        "plan",
        "-c",
        file,
        "--format",
        "json",
        "--detailed-exitcode",
    ])
    .await
    .expect(code)
    .json()
}

/// `apply` of `file`, after which `plan --detailed-exitcode` finds nothing left to do (exit 0).
async fn apply_then_nothing_left(cli: &Cli, file: &str) {
    cli.run(&["apply", "-c", file, "--auto-approve"])
        .await
        .expect(0);
    cli.run(&["plan", "-c", file, "--detailed-exitcode"])
        .await
        .expect(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_then_drifted_organization() {
    let emu = start_emulator(crate::support::sandbox_seed(), EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    let file = format!("{}/examples/entitlements.yaml", env!("CARGO_MANIFEST_DIR"));

    // Fresh: only creates, and the exception (sandbox-alice) is never granted claude-sonnet.
    let doc = cli
        .run(&["plan", "-c", &file, "--format", "json"])
        .await
        .expect(0)
        .json();
    let fresh = actions(&doc);
    assert!(fresh.iter().all(|a| a.starts_with("create ")), "{fresh:?}");
    let claude_after: Vec<&str> = doc["access"]["claude-sonnet"]["after"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !claude_after.contains(&"555566667777"),
        "excluded account has access: {claude_after:?}"
    );
    assert!(
        !claude_after.contains(&"111122223333"),
        "the grantor needs no grant"
    );
    assert!(
        claude_after.contains(&"666677778888"),
        "sandbox-bob, beside the exclusion, keeps access"
    );
    // The minimal cover: the Sandbox OU is not granted whole (alice is in it); bob is granted alone.
    assert!(
        !fresh.iter().any(|a| a.contains("ou-ab12-sandbox1")),
        "{fresh:?}"
    );
    assert!(
        fresh.contains("create arn:aws:iam::666677778888:root"),
        "{fresh:?}"
    );

    apply_then_nothing_left(&cli, &file).await;

    // Drift: one grant disabled out of band, one deleted.
    let grants = emu.state().grants();
    let bob = grants
        .iter()
        .find(|g| g.name == "bedrock-entitlements-claude-sonnet-666677778888")
        .expect("bob's grant");
    let ml = grants
        .iter()
        .find(|g| g.name == "bedrock-entitlements-cohere-command-ou-ab12-mlplatfm")
        .expect("the ML OU grant");
    emu.state().disable_grant(&bob.arn).unwrap();
    emu.state().delete_grant(&ml.arn).unwrap();
    let doc = json_plan(&cli, &file, 2).await;
    let ml_ou = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-mlplatfm";
    assert_eq!(
        actions(&doc),
        BTreeSet::from([
            "activate arn:aws:iam::666677778888:root".to_owned(),
            format!("create {ml_ou}"),
        ])
    );
    // The foreign grant is reported, never acted on.
    let notes = doc["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["grant_name"] == "ml-research-claude-manual"),
        "{notes:?}"
    );

    apply_then_nothing_left(&cli, &file).await;
    let foreign = emu
        .state()
        .grants()
        .into_iter()
        .find(|g| g.name == "ml-research-claude-manual")
        .unwrap();
    assert_eq!(foreign.status, "ACTIVE");
    assert_eq!(foreign.version, 3, "the foreign grant was never changed");
}

/// `live::read_then` hands the organization and licenses over while the grants are still being
/// read: with ListDistributedGrants answering slowly, `ready` runs when only the first page of
/// each license has been asked for, and the snapshot it sees has no grants yet. The snapshot it
/// returns at the end is the one `live::read` gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organization_is_handed_over_while_grants_are_still_read() {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use bedrock_entitlements::live::{self, LicenseScope};

    let mut seed = seed_with_accounts(150);
    seed.grants.extend(bulk_grants(150));
    let opts = EmulatorOptions {
        op_latency: BTreeMap::from([(
            "ListDistributedGrants".to_owned(),
            Duration::from_millis(700),
        )]),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(seed, opts).await;
    let (lm, orgs) = live_clients(&emu).await;

    let (live, (seen, asked)) = live::read_then(&lm, &orgs, &LicenseScope::All, None, |early| {
        (
            early.clone(),
            emu.state().call_count("ListDistributedGrants"),
        )
    })
    .await
    .expect("read");
    let licenses = live.licenses.len() as u64;
    assert!(seen.grants.is_empty(), "ready runs before any grant is in");
    assert_eq!(seen.organization, live.organization);
    assert_eq!(seen.licenses, live.licenses);
    assert_eq!(seen.caller, live.caller);
    assert!(
        asked <= licenses,
        "when ready ran, at most the first page of each of the {licenses} licenses was asked for, not {asked} pages"
    );
    let pages = emu.state().call_count("ListDistributedGrants");
    assert!(
        pages > licenses,
        "150 grants on one license take two pages: {pages} calls"
    );
    let bulk: Vec<String> = (0..150).map(bulk_account).collect();
    let read = live
        .grants
        .iter()
        .filter(|g| bulk.iter().any(|a| g.principal.short_id() == a))
        .count();
    assert_eq!(read, 150, "every seeded grant is read");
    assert_eq!(
        live,
        live::read(&lm, &orgs, &LicenseScope::All, None)
            .await
            .expect("read")
    );
}

/// Each account's share of the live organization and OU grants is read, one
/// ListReceivedGrantsForOrganization stream per license that has one, in any status, sorted by
/// (parent, account); a DELETED OU grant's license gets no stream of its own. The caller is the
/// account STS names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_of_organization_and_ou_grants_are_read_per_account() {
    use bedrock_entitlements::live::{self, LicenseScope};
    use bedrock_entitlements::model::GrantStatus;

    use crate::support::{
        COHERE_LICENSE, MANAGEMENT, ML_DEV, ML_PROD, ORG_ARN, OU_ML, ou_principal, sandbox_seed,
    };

    let grant = |license: &str, principal: &str, status: &str, name: &str| GrantSeed {
        status: status.to_owned(),
        ..active_grant_seed(
            format!("bedrock-entitlements-{name}"),
            license,
            principal.to_owned(),
        )
    };
    let mut seed = sandbox_seed();
    seed.grants
        .push(grant(CLAUDE, &ou_principal(OU_ML), "DISABLED", "ml"));
    seed.grants
        .push(grant(CLAUDE, ORG_ARN, "WORKFLOW_COMPLETED", "org"));
    seed.grants.push(grant(
        COHERE_LICENSE,
        &ou_principal(OU_ML),
        "DELETED",
        "old",
    ));
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let (lm, orgs) = live_clients(&emu).await;
    let live = live::read(&lm, &orgs, &LicenseScope::All, None)
        .await
        .expect("read");

    assert_eq!(live.caller.as_str(), MANAGEMENT);
    assert_eq!(emu.state().call_count("GetCallerIdentity"), 1);
    assert_eq!(
        emu.state().call_count("ListReceivedGrantsForOrganization"),
        1,
        "one stream, for the license with live organization or OU grants"
    );
    let ml = live
        .grants
        .iter()
        .find(|g| g.name == "bedrock-entitlements-ml")
        .expect("the OU grant");
    let org = live
        .grants
        .iter()
        .find(|g| g.name == "bedrock-entitlements-org")
        .expect("the organization grant");
    let of = |parent: &bedrock_entitlements::model::GrantArn| -> Vec<(String, GrantStatus)> {
        live.shares
            .iter()
            .filter(|s| &s.parent == parent)
            .map(|s| (s.account.to_string(), s.status.clone()))
            .collect()
    };
    let ml_shares = of(&ml.arn);
    for account in [ML_DEV, ML_PROD] {
        assert!(
            ml_shares.contains(&(account.to_owned(), GrantStatus::Disabled)),
            "{account} holds a DISABLED share of the DISABLED OU grant: {ml_shares:?}"
        );
    }
    let org_shares = of(&org.arn);
    assert!(
        org_shares.len() > ml_shares.len()
            && org_shares.iter().all(|(_, s)| *s == GrantStatus::Active),
        "{org_shares:?}"
    );
    assert!(
        live.shares
            .iter()
            .all(|s| s.parent == ml.arn || s.parent == org.arn)
    );
    let keys: Vec<_> = live
        .shares
        .iter()
        .map(|s| (&s.parent, &s.account))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "sorted by (parent, account), once each");
}

/// An endpoint that serves License Manager and Organizations but neither STS GetCallerIdentity
/// nor ListReceivedGrantsForOrganization: `plan` still works, takes the licenses' beneficiary as
/// the caller and judges organization and OU grants by their own status, and says so on stderr.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_degrades_where_the_endpoint_serves_no_sts_or_shares() {
    let file = format!("{}/examples/entitlements.yaml", env!("CARGO_MANIFEST_DIR"));
    let full = start_emulator(crate::support::sandbox_seed(), EmulatorOptions::default()).await;
    let expected = Cli::new(full.endpoint_url())
        .run(&["plan", "-c", &file, "--format", "json"])
        .await
        .expect(0)
        .json();

    let opts = EmulatorOptions {
        unserved_operations: ["GetCallerIdentity", "ListReceivedGrantsForOrganization"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ..EmulatorOptions::default()
    };
    let partial = start_emulator(crate::support::sandbox_seed(), opts).await;
    let run = Cli::new(partial.endpoint_url())
        .run(&["plan", "-c", &file, "--format", "json"])
        .await
        .expect(0);
    assert_eq!(actions(&run.json()), actions(&expected));
    assert_eq!(run.json()["access"], expected["access"]);
    assert!(
        run.stderr.contains("GetCallerIdentity did not answer"),
        "{}",
        run.stderr
    );

    // With an OU grant live, its shares would be read: unserved, the grant is judged by its
    // own status (ACTIVE: in effect, nothing to do) and the plan says why on stderr.
    let mut seed = crate::support::sandbox_seed();
    seed.grants.push(GrantSeed {
        version: 1,
        ..active_grant_seed(
            format!("bedrock-entitlements-cohere-command-{OU_ML}"),
            COHERE_LICENSE,
            crate::support::ou_principal(OU_ML),
        )
    });
    let with_ou = start_emulator(seed, partial.state().options()).await;
    let run = Cli::new(with_ou.endpoint_url())
        .run(&["plan", "-c", &file, "--format", "json"])
        .await
        .expect(0);
    assert!(
        run.stderr.contains("cannot read the accounts' shares"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    let cohere: Vec<_> = doc["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["model"] == "cohere-command")
        .collect();
    assert!(cohere.is_empty(), "{cohere:?}");
}
