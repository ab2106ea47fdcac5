//! The GitOps commands through the real binary against the emulator: drift classification (each
//! kind, from out-of-band changes), the effective-access matrix, import round trips (with
//! foreign grants and adoption), name and path resolution errors, `licenses`, and the
//! secret-redaction check at `RUST_LOG=trace`.

use std::collections::BTreeSet;

use bedrock_entitlements::emulator::{
    AccountSeed, EmulatorHandle, EmulatorOptions, EmulatorState, GrantSeed, Seed,
};
use serde_json::Value;

use crate::cli_support::{Cli, Run, plan_actions};
use crate::support::start_emulator;

const CLAUDE: u32 = 1;
const LLAMA: u32 = 2;
const MISTRAL: u32 = 3;
const JAMBA: u32 = 4;
const COHERE: u32 = 5;

fn license(n: u32) -> String {
    format!("arn:aws:license-manager::294406891311:license:l-{n:032x}")
}

fn grant_arn(n: u32) -> String {
    format!("arn:aws:license-manager::111111111111:grant:g-{n:032x}")
}

fn ou(id: &str) -> String {
    format!("arn:aws:organizations::111111111111:ou/o-gitopsorg01/{id}")
}

fn acct(id: &str) -> String {
    format!("arn:aws:iam::{id}:root")
}

fn seed() -> Seed {
    Seed::from_yaml(include_str!("../data/gitops-seed.yaml")).expect("the GitOps seed is valid")
}

fn grant(n: u32, name: &str, lic: u32, principal: &str, status: &str) -> GrantSeed {
    GrantSeed {
        arn: Some(grant_arn(n)),
        name: name.to_owned(),
        license_arn: license(lic),
        principal: principal.to_owned(),
        grantor: None,
        status: status.to_owned(),
        status_reason: None,
        version: 2,
        operations: crate::support::DEFAULT_OPS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    }
}

/// The file the "applied" grants of [`applied`] match exactly.
const ENTITLEMENTS: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organization: true
    except_accounts: [sandbox-a]
  llama:
    product_name: Llama 3.1 70B Instruct (Amazon Bedrock Edition)
    grant_to:
      organizational_units: [Root/Workloads/ML]
  mistral:
    product_sku: prod-mistral001
    grant_to:
      accounts: ["555555555555", shared]
  jamba:
    product_sku: prod-jamba00001
    grant_to:
      accounts: ["333333333333", "222222222222"]
    status: disabled
"#;

/// What an apply of [`ENTITLEMENTS`] leaves: `claude` is the organization minus sandbox-a
/// (Workloads, both Twin OUs, dup 888… in Sandbox and dup 777… in the root), plus one foreign
/// grant of llama to `shared`, which lies outside Root/Workloads/ML.
fn applied(state: &EmulatorState) {
    let grants = [
        grant(
            1,
            "bedrock-entitlements-claude-ou-gt01-workload",
            CLAUDE,
            &ou("ou-gt01-workload"),
            "WORKFLOW_COMPLETED",
        ),
        grant(
            2,
            "bedrock-entitlements-claude-ou-gt01-twintwi1",
            CLAUDE,
            &ou("ou-gt01-twintwi1"),
            "WORKFLOW_COMPLETED",
        ),
        grant(
            3,
            "bedrock-entitlements-claude-ou-gt01-twintwi2",
            CLAUDE,
            &ou("ou-gt01-twintwi2"),
            "WORKFLOW_COMPLETED",
        ),
        grant(
            4,
            "bedrock-entitlements-claude-777777777777",
            CLAUDE,
            &acct("777777777777"),
            "ACTIVE",
        ),
        grant(
            5,
            "bedrock-entitlements-claude-888888888888",
            CLAUDE,
            &acct("888888888888"),
            "ACTIVE",
        ),
        grant(
            6,
            "bedrock-entitlements-llama-ou-gt01-mlmlmlml",
            LLAMA,
            &ou("ou-gt01-mlmlmlml"),
            "WORKFLOW_COMPLETED",
        ),
        grant(
            7,
            "bedrock-entitlements-mistral-555555555555",
            MISTRAL,
            &acct("555555555555"),
            "ACTIVE",
        ),
        grant(
            8,
            "bedrock-entitlements-mistral-222222222222",
            MISTRAL,
            &acct("222222222222"),
            "ACTIVE",
        ),
        grant(
            9,
            "bedrock-entitlements-jamba-333333333333",
            JAMBA,
            &acct("333333333333"),
            "DISABLED",
        ),
        grant(
            10,
            "bedrock-entitlements-jamba-222222222222",
            JAMBA,
            &acct("222222222222"),
            "DISABLED",
        ),
        grant(
            0xf1,
            "llama-for-shared",
            LLAMA,
            &acct("222222222222"),
            "ACTIVE",
        ),
    ];
    for g in grants {
        state.add_grant(g).expect("the grant is added");
    }
}

async fn setup() -> (EmulatorHandle, Cli) {
    let emu = start_emulator(seed(), EmulatorOptions::default()).await;
    applied(&emu.state());
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", ENTITLEMENTS);
    (emu, cli)
}

/// The drift items of a JSON report as `kind model principal-short-id-or-account`.
fn kinds(report: &Value) -> BTreeSet<String> {
    report["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            let target = match i["principal"].as_str() {
                Some(p) => p
                    .rsplit(['/', ':'])
                    .find(|s| *s != "root")
                    .unwrap_or(p)
                    .to_owned(),
                None => i["accounts"][0].as_str().unwrap_or_default().to_owned(),
            };
            format!(
                "{} {} {target}",
                i["kind"].as_str().unwrap_or_default(),
                i["model"].as_str().unwrap_or("-"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_empty_when_live_matches_and_classifies_every_out_of_band_change() {
    let (emu, cli) = setup().await;
    let state = emu.state();

    // In sync: exit 0, though the foreign llama grant is reported.
    let before = cli.run(&["drift", "--format", "json"]).await.expect(0);
    let report = before.json();
    assert_eq!(report["drift"], false);
    assert_eq!(
        kinds(&report),
        BTreeSet::from(["foreign llama 222222222222".to_owned()])
    );
    cli.write("baseline.json", &before.stdout);

    // Behind the tool's back:
    state.delete_grant(&grant_arn(4)).unwrap(); // missing
    state.disable_grant(&grant_arn(6)).unwrap(); // disabled out of band
    state
        .add_grant(grant(
            11,
            "bedrock-entitlements-mistral-666666666666",
            MISTRAL,
            &acct("666666666666"),
            "ACTIVE",
        ))
        .unwrap(); // managed, not in the file
    state
        .add_grant(grant(
            0xf2,
            "web-mistral-by-hand",
            MISTRAL,
            &acct("555555555555"),
            "ACTIVE",
        ))
        .unwrap(); // foreign, on a pair the file wants
    state
        .set_grant_status(&grant_arn(8), "PENDING_WORKFLOW")
        .unwrap(); // stuck
    state
        .set_grant_status(&grant_arn(9), "PENDING_ACCEPT")
        .unwrap(); // awaiting acceptance
    state.set_grant_status(&grant_arn(10), "ACTIVE").unwrap(); // enabled out of band
    state
        .rename_grant(&grant_arn(2), "bedrock-entitlements-renamed-by-hand")
        .unwrap(); // changed
    state
        .set_grant_status(&grant_arn(3), "FAILED_WORKFLOW")
        .unwrap(); // failed
    state
        .add_grant(grant(
            12,
            "bedrock-entitlements-claude-ou-gt01-workload",
            CLAUDE,
            &ou("ou-gt01-workload"),
            "ACTIVE",
        ))
        .unwrap(); // duplicate
    // Membership: a new account in Sandbox (claude grants Sandbox account by account), dup 888…
    // moves under Workloads (now reached by the OU grant), a new account in Web (reached by the
    // unchanged Workloads grant: only the baseline shows it), ml-prod leaves the organization.
    let join = |id: &str, name: &str, parent: &str| AccountSeed {
        id: id.to_owned(),
        name: name.to_owned(),
        email: None,
        state: "ACTIVE".to_owned(),
        parent: Some(parent.to_owned()),
        joined_method: "CREATED".to_owned(),
        joined_timestamp: 1_767_225_600,
    };
    state
        .add_account(join("121212121212", "newcomer", "ou-gt01-sandbox1"))
        .unwrap();
    state
        .add_account(join("131313131313", "web-new", "ou-gt01-webwebwe"))
        .unwrap();
    state
        .move_account("888888888888", "ou-gt01-webwebwe")
        .unwrap();
    state.remove_account("444444444444").unwrap();

    let after = cli
        .run(&["drift", "--format", "json", "--baseline", "baseline.json"])
        .await
        .expect(2);
    let report = after.json();
    assert_eq!(report["drift"], true);
    let expect: BTreeSet<String> = [
        "missing claude 777777777777",
        "disabled_out_of_band llama ou-gt01-mlmlmlml",
        "enabled_out_of_band jamba 222222222222",
        "changed claude ou-gt01-twintwi1",
        "not_in_file mistral 666666666666",
        "duplicate claude ou-gt01-workload",
        "failed claude ou-gt01-twintwi2",
        "membership claude 121212121212",
        "membership claude 888888888888",
        "membership claude 131313131313",
        "membership claude 444444444444",
        "membership llama 444444444444",
        "stuck mistral 222222222222",
        "awaiting_acceptance jamba 333333333333",
        "foreign_overlap mistral 555555555555",
        "foreign llama 222222222222",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(kinds(&report), expect, "{}", after.stdout);
    // What apply can act on carries its action; the rest is reported only.
    for item in report["items"].as_array().unwrap() {
        let reported_only = matches!(
            item["kind"].as_str().unwrap(),
            "stuck" | "awaiting_acceptance" | "foreign_overlap" | "foreign"
        ) || (item["kind"] == "membership" && item["principal"].is_null());
        assert_eq!(item["action"].is_null(), reported_only, "{item}");
    }
    let item = |kind: &str| -> Value {
        report["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == kind)
            .cloned()
            .unwrap()
    };
    assert!(
        item("missing")["message"]
            .as_str()
            .unwrap()
            .contains("deleted out of band")
    );
    let stuck = item("stuck")["message"].as_str().unwrap().to_owned();
    assert!(stuck.contains("does not show how long"), "{stuck}");
    assert!(stuck.contains("at version 3"), "{stuck}");

    // The text report, as a person reads it.
    let text = cli
        .run(&["drift", "--baseline", "baseline.json"])
        .await
        .expect(2);
    insta::assert_snapshot!("drift_text", text.stdout);

    // A baseline that saw the stuck grant already says so.
    cli.write("baseline2.json", &after.stdout);
    let again = cli
        .run(&["drift", "--format", "json", "--baseline", "baseline2.json"])
        .await
        .expect(2);
    let report = again.json();
    let stuck = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "stuck")
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        stuck.contains("The baseline already saw it PENDING_WORKFLOW (version 3), so for at least"),
        "{stuck}"
    );

    // Markdown: what the scheduled job posts; marker first, under the issue limit.
    let md = cli.run(&["drift", "--format", "markdown"]).await.expect(2);
    assert!(
        md.stdout
            .starts_with("<!-- bedrock-entitlements:drift -->\n")
    );
    assert!(
        md.stdout
            .contains("| Grants disabled out of band | 1 | yes |"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("| Grants awaiting acceptance | 1 | no |"),
        "{}",
        md.stdout
    );
    assert!(md.stdout.len() < 60_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_only_differences_do_not_make_drift() {
    let (emu, cli) = setup().await;
    let state = emu.state();
    state
        .set_grant_status(&grant_arn(8), "PENDING_WORKFLOW")
        .unwrap();
    state
        .set_grant_status(&grant_arn(9), "PENDING_ACCEPT")
        .unwrap();
    let run = cli.run(&["drift", "--format", "json"]).await.expect(0);
    let kinds = kinds(&run.json());
    assert!(kinds.contains("stuck mistral 222222222222"), "{kinds:?}");
    assert!(
        kinds.contains("awaiting_acceptance jamba 333333333333"),
        "{kinds:?}"
    );
    let text = cli.run(&["drift"]).await.expect(0);
    assert!(
        text.stdout.ends_with(
            "No drift apply can fix; 3 differences reported only (apply cannot act on them).\n"
        ),
        "{}",
        text.stdout
    );
}

fn cell<'a>(matrix: &'a Value, account: &str, model: &str) -> &'a Value {
    let row = matrix["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == account)
        .unwrap_or_else(|| panic!("no row {account}"));
    let cell = &row["models"][model];
    assert!(cell.is_object(), "no cell {account} {model}");
    cell
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_matrix_names_the_grant_behind_every_cell() {
    let (emu, cli) = setup().await;
    emu.state().disable_grant(&grant_arn(7)).unwrap(); // mistral for web: DISABLED

    let m = cli
        .run(&["access", "--format", "json"])
        .await
        .expect(0)
        .json();
    let models: Vec<&str> = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["key"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["claude", "jamba", "llama", "mistral"]);
    // Nested OU: ml-dev gets claude through the Workloads grant, llama through ML.
    let c = cell(&m, "333333333333", "claude");
    assert_eq!(c["state"], "granted");
    assert_eq!(c["via"][0]["route"], "ou");
    assert_eq!(c["via"][0]["ou_path"], "Root/Workloads");
    assert_eq!(c["via"][0]["grant_arn"], grant_arn(1));
    assert_eq!(
        cell(&m, "333333333333", "llama")["via"][0]["ou_path"],
        "Root/Workloads/ML"
    );
    // Exceptions: sandbox-a has no claude grant, as the file wants.
    let c = cell(&m, "666666666666", "claude");
    assert_eq!(
        (c["state"].as_str(), c["wanted"].as_str()),
        (Some("none"), Some("excluded"))
    );
    assert_eq!(c["differs_from_file"], false);
    // Account grant, the grantor, a suspended account, a foreign grant, a disabled grant.
    assert_eq!(
        cell(&m, "777777777777", "claude")["via"][0]["route"],
        "account"
    );
    assert_eq!(cell(&m, "111111111111", "claude")["state"], "grantor");
    assert_eq!(cell(&m, "999999999999", "claude")["state"], "unusable");
    let c = cell(&m, "222222222222", "llama");
    assert_eq!(
        (c["state"].as_str(), c["via"][0]["managed"].as_bool()),
        (Some("granted"), Some(false))
    );
    assert_eq!(c["differs_from_file"], true);
    let c = cell(&m, "555555555555", "mistral");
    assert_eq!(
        (c["state"].as_str(), c["via"][0]["status"].as_str()),
        (Some("inactive"), Some("DISABLED"))
    );
    // jamba is disabled in the file, and its grants are DISABLED: no access, no drift.
    let c = cell(&m, "333333333333", "jamba");
    assert_eq!(
        (c["state"].as_str(), c["differs_from_file"].as_bool()),
        (Some("inactive"), Some(false))
    );

    let text = cli.run(&["access"]).await.expect(0);
    insta::assert_snapshot!("access_text", text.stdout);

    // Why (not)?
    let why = cli
        .run(&["access", "--account", "sandbox-a"])
        .await
        .expect(0);
    assert!(
        why.stdout
            .contains("model claude leaves it out with except_accounts"),
        "{}",
        why.stdout
    );
    let why = cli
        .run(&["access", "--account", "web", "--model", "mistral"])
        .await
        .expect(0);
    assert!(why.stdout.contains("is DISABLED"), "{}", why.stdout);
    assert!(why.stdout.contains("apply activates"), "{}", why.stdout);
    let why = cli
        .run(&["access", "--account", "111111111111", "--model", "llama"])
        .await
        .expect(0);
    assert!(why.stdout.contains("is the grantor"), "{}", why.stdout);
    let why = cli
        .run(&["access", "--account", "twin-a", "--model", "llama"])
        .await
        .expect(0);
    assert!(
        why.stdout.contains("targets neither the account"),
        "{}",
        why.stdout
    );
    let amb = cli.run(&["access", "--account", "dup"]).await.expect(1);
    assert!(
        amb.stderr.contains("ambiguous") && amb.stderr.contains("777777777777, 888888888888"),
        "{}",
        amb.stderr
    );
    let unknown = cli.run(&["access", "--model", "gpt"]).await.expect(1);
    assert!(unknown.stderr.contains("--model gpt"), "{}", unknown.stderr);

    let csv = cli
        .run(&["access", "--format", "csv", "--model", "claude"])
        .await
        .expect(0);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 1 + 10, "{}", csv.stdout);
    assert!(
        lines.iter().any(|l| l
            .starts_with("333333333333,ml-dev,Root/Workloads/ML,ACTIVE,claude,true,")
            && l.contains(",yes,granted,yes,ou,Root/Workloads,")),
        "{}",
        csv.stdout
    );
}

/// Runs `import ARGS --out FILE` then `plan -c FILE --detailed-exitcode`; returns the file.
async fn round_trip(cli: &Cli, file: &str, args: &[&str]) -> String {
    let mut all = vec!["import", "--out", file];
    all.extend_from_slice(args);
    cli.run(&all).await.expect(0);
    assert_eq!(crate::cli_support::mode(&cli.path(file)), 0o600);
    let plan = cli.run(&["plan", "-c", file, "--detailed-exitcode"]).await;
    let plan = plan.expect(0);
    assert!(
        plan.stdout
            .ends_with("No changes. Live grants match entitlements.yaml.\n"),
        "{}",
        plan.stdout
    );
    std::fs::read_to_string(cli.path(file)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_then_plan_is_empty_and_adopt_renames_foreign_grants() {
    let (emu, cli) = setup().await;
    let state = emu.state();
    // More foreign grants: an OU whose path is ambiguous, and one inside a managed OU grant.
    state
        .add_grant(grant(
            0xf3,
            "cohere-twins",
            COHERE,
            &ou("ou-gt01-twintwi1"),
            "WORKFLOW_COMPLETED",
        ))
        .unwrap();
    state
        .add_grant(grant(
            0xf4,
            "claude-for-ml-dev",
            CLAUDE,
            &acct("333333333333"),
            "ACTIVE",
        ))
        .unwrap();

    let managed_only = round_trip(&cli, "managed.yaml", &[]).await;
    insta::assert_snapshot!("import_managed", managed_only);

    let with_foreign = round_trip(&cli, "all.yaml", &["--include-unmanaged"]).await;
    assert!(with_foreign.contains("  command-r:\n    product_sku: prod-cohere0001\n    grant_to:\n      organizational_units:\n        - ou-gt01-twintwi1\n"), "{with_foreign}");

    // --adopt without a terminal and without --auto-approve refuses and renames nothing.
    let refused = cli
        .run(&["import", "--adopt", "--out", "x.yaml"])
        .await
        .expect(1);
    assert!(
        refused.stderr.contains("pass --auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        state.grant(&grant_arn(0xf1)).unwrap().name,
        "llama-for-shared"
    );

    let adopted = cli
        .run(&[
            "import",
            "--adopt",
            "--auto-approve",
            "--out",
            "adopted.yaml",
        ])
        .await
        .expect(0);
    assert!(
        adopted
            .stderr
            .contains("\"llama-for-shared\" -> \"bedrock-entitlements-llama-222222222222\""),
        "{}",
        adopted.stderr
    );
    assert_eq!(
        state.grant(&grant_arn(0xf1)).unwrap().name,
        "bedrock-entitlements-llama-222222222222"
    );
    assert_eq!(
        state.grant(&grant_arn(0xf3)).unwrap().name,
        "bedrock-entitlements-command-r-ou-gt01-twintwi1"
    );
    // The redundant foreign grant is not claimed by the file, so it is not renamed.
    assert_eq!(
        state.grant(&grant_arn(0xf4)).unwrap().name,
        "claude-for-ml-dev"
    );
    let plan = cli
        .run(&["plan", "-c", "adopted.yaml", "--detailed-exitcode"])
        .await
        .expect(0);
    assert!(!plan.stdout.contains("conflict"), "{}", plan.stdout);
    // Importing again now finds them managed.
    let again = round_trip(&cli, "again.yaml", &[]).await;
    assert_eq!(
        again,
        std::fs::read_to_string(cli.path("adopted.yaml")).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_names_and_ou_paths_are_resolved_or_rejected_with_positions() {
    let (_emu, cli) = setup().await;
    cli.write(
        "names.yaml",
        r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organizational_units:
        - Root/Sandbox/Twin
        - Root/Workloads/Nope
      accounts:
        - dup
        - Shared
        - "123456789012"
    except_accounts: [nobody]
"#,
    );
    let run = cli.run(&["plan", "-c", "names.yaml"]).await.expect(1);
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("name_and_path_errors", run.stderr);

    // Names and paths that name exactly one account or OU resolve.
    cli.write(
        "good.yaml",
        "version: 1\nmodels:\n  llama:\n    product_sku: prod-llama00001\n    grant_to:\n      organizational_units: [Root/Workloads/ML]\n      accounts: [shared, twin-a]\n",
    );
    let plan = cli
        // --target: the seed holds managed grants on other licenses, which a file naming only
        // llama would (rightly) plan to delete.
        .run(&[
            "plan",
            "-c",
            "good.yaml",
            "--format",
            "json",
            "--target",
            "llama",
        ])
        .await
        .expect(0);
    let principals = plan_actions(&plan.json());
    assert_eq!(
        principals,
        BTreeSet::from([format!("create {}", acct("101010101010"))])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn licenses_lists_what_can_be_granted() {
    let (_emu, cli) = setup().await;
    let text = cli.run(&["licenses"]).await.expect(0);
    insta::assert_snapshot!("licenses_text", text.stdout);
    let json = cli
        .run(&["licenses", "--format", "json"])
        .await
        .expect(0)
        .json();
    let palmyra = &json["licenses"][5];
    assert_eq!(palmyra["product_sku"], "prod-palmyra001");
    assert_eq!(palmyra["can_grant"], false);
    assert_eq!(palmyra["issuer"], "Writer, Inc.");
    assert_eq!(
        json["licenses"][2]["validity_end"],
        "2026-03-01T00:00:00.000Z"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_reach_logs_even_at_trace() {
    let (_emu, cli) = setup().await;
    let key = "AKIACANARYKEY7Q2W3E";
    let secret = "canarySecret/9xY+zzTopSecretValue0123";
    let token = "canarySessionTokenIQoJb3JpZ2luX2VjEJr";
    let env = [
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", token),
        ("RUST_LOG", "trace"),
    ];
    let runs: Vec<(&str, Run)> = vec![
        (
            "plan",
            cli.run_with(&["plan", "--out", "plan.json"], &env)
                .await
                .expect(0),
        ),
        ("drift", cli.run_with(&["drift"], &env).await.expect(0)),
        ("import", cli.run_with(&["import"], &env).await.expect(0)),
        ("access", cli.run_with(&["access"], &env).await.expect(0)),
        (
            "licenses",
            cli.run_with(&["licenses", "--format", "json"], &env)
                .await
                .expect(0),
        ),
    ];
    for (name, run) in &runs {
        // The test can fail: logging below INFO is really on (plan itself logs nothing there).
        if *name != "plan" {
            assert!(
                run.stderr.contains("DEBUG"),
                "{name}: no debug output:\n{}",
                run.stderr
            );
        }
        for output in [&run.stdout, &run.stderr] {
            for secret in [
                key,
                secret,
                token,
                "Signature=",
                "X-Amz-Security-Token",
                "x-amz-security-token",
            ] {
                assert!(
                    !output.contains(secret),
                    "{name}: {secret:?} appears in the output:\n{}",
                    output
                        .lines()
                        .filter(|l| l.contains(secret))
                        .take(3)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
        }
    }
    assert_eq!(crate::cli_support::mode(&cli.path("plan.json")), 0o600);
    let plan = std::fs::read_to_string(cli.path("plan.json")).unwrap();
    assert!(!plan.contains(key) && !plan.contains(secret) && !plan.contains(token));
}

/// Per-account truth of an OU grant (issue 11 item 3). Teams (dev, test, Labs/lab) is granted
/// claude through the tool; dev keeps a foreign ACTIVE account grant for the product, so the
/// emulator's one-active rule (no `ALL_GRANTS_PERMITTED_BY_ISSUER` on an activation that would
/// disable a grant the tool does not own) leaves dev's share of the OU grant DISABLED while the
/// OU grant itself is in effect. `access` must say dev is not entitled through the OU grant and
/// test is; once the foreign grant is disabled, dev has no access at all: "share not in effect".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_reads_each_accounts_share_of_an_ou_grant() {
    const L1: &str =
        "arn:aws:license-manager::294406891311:license:l-c0000000000000000000000000000001";
    const DEV: &str = "200000000001";
    const TEST: &str = "200000000002";
    let mut seed =
        Seed::from_yaml(include_str!("../data/continuity.yaml")).expect("the seed is valid");
    let mut foreign = grant(0xd1, "hand-made-dev", CLAUDE, &acct(DEV), "ACTIVE");
    foreign.arn = Some(
        "arn:aws:license-manager::100000000001:grant:g-d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1".to_owned(),
    );
    foreign.license_arn = L1.to_owned();
    seed.grants = vec![foreign.clone()];
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write(
        "entitlements.yaml",
        "version: 1\nmodels:\n  claude:\n    product_sku: prod-claude0001\n    grant_to:\n      organizational_units: [Root/Teams]\n",
    );
    // Create, then activate (each apply takes what is ready); at most 4 runs.
    let mut settled = false;
    for _ in 0..4 {
        cli.run(&["apply", "--auto-approve"]).await.expect(0);
        let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
        if plan.code == 0 {
            settled = true;
            break;
        }
    }
    assert!(settled, "apply settles: {:?}", emu.state().grants());
    let foreign_arn = foreign.arn.clone().unwrap();
    assert_eq!(
        emu.state().grant(&foreign_arn).map(|g| g.status).as_deref(),
        Some("ACTIVE"),
        "the foreign grant is never disabled"
    );

    let m = cli
        .run(&["access", "--format", "json"])
        .await
        .expect(0)
        .json();
    // The caller comes from STS (the management account), not from a license's beneficiary.
    assert_eq!(m["grantor"], "100000000001");
    // test: entitled through the OU grant, its share ACTIVE.
    let t = cell(&m, TEST, "claude");
    assert_eq!(t["state"], "granted", "{t}");
    assert_eq!(
        (
            t["via"][0]["route"].as_str(),
            t["via"][0]["share_status"].as_str()
        ),
        (Some("ou"), Some("ACTIVE"))
    );
    // dev: entitled through its foreign grant only; the OU grant reaches it, not in effect.
    let d = cell(&m, DEV, "claude");
    assert_eq!(d["state"], "granted", "{d}");
    assert_eq!(
        (
            d["via"][0]["route"].as_str(),
            d["via"][0]["grant_arn"].as_str()
        ),
        (Some("account"), Some(foreign_arn.as_str())),
        "{d}"
    );
    let ou_reach = &d["via"][1];
    assert_eq!(
        (
            ou_reach["route"].as_str(),
            ou_reach["share_status"].as_str(),
            ou_reach["in_effect"].as_bool(),
            ou_reach["share_not_in_effect"].as_bool()
        ),
        (Some("ou"), Some("DISABLED"), Some(false), Some(true)),
        "{d}"
    );
    let why = cli
        .run(&["access", "--account", "dev", "--model", "claude"])
        .await
        .expect(0);
    assert!(
        why.stdout
            .contains("not through: the grant to OU Root/Teams")
            && why.stdout.contains("share not in effect"),
        "{}",
        why.stdout
    );

    // Without the foreign grant, dev's share stays DISABLED: no access, share not in effect.
    emu.state().disable_grant(&foreign_arn).unwrap();
    let m = cli
        .run(&["access", "--format", "json"])
        .await
        .expect(0)
        .json();
    let d = cell(&m, DEV, "claude");
    assert_eq!(
        (d["state"].as_str(), d["access"].as_bool()),
        (Some("share_not_in_effect"), Some(false)),
        "{d}"
    );
    assert_eq!(d["differs_from_file"], true);
    assert_eq!(cell(&m, TEST, "claude")["state"], "granted");
    let text = cli.run(&["access"]).await.expect(0).stdout;
    let dev_line = text
        .lines()
        .find(|l| l.starts_with(DEV))
        .unwrap_or_default();
    assert!(dev_line.contains("no-share(ou:Teams)!"), "{text}");
    assert!(text.contains("claude 2 (1 share not in effect)"), "{text}");
    let md = cli
        .run(&["access", "--format", "markdown"])
        .await
        .expect(0)
        .stdout;
    // Markdown escapes the "differs" mark like every other cell character (render/escape.rs).
    assert!(md.contains("no-share(ou:Teams)\\!"), "{md}");
    let csv = cli
        .run(&["access", "--format", "csv"])
        .await
        .expect(0)
        .stdout;
    assert!(
        csv.lines().any(|l| l.starts_with(DEV)
            && l.contains(",no,share_not_in_effect,yes,ou,Root/Teams,")
            && l.ends_with(",DISABLED,false")),
        "{csv}"
    );
    let html = cli
        .run(&["access", "--format", "html"])
        .await
        .expect(0)
        .stdout;
    assert!(
        html.contains("data-state=\"share_not_in_effect\"")
            && html.contains("share not in effect")
            && html.contains("data-share=\"DISABLED\""),
        "{html}"
    );
    let why = cli
        .run(&["access", "--account", DEV, "--model", "claude"])
        .await
        .expect(0)
        .stdout;
    assert!(
        why.contains("no: the grant to OU Root/Teams")
            && why.contains("its share for the account is DISABLED: share not in effect")
            && why.contains("the account's share is not in effect"),
        "{why}"
    );
}
