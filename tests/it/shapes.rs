//! Every organization shape through the real binary against the emulator (issue 7):
//! - a consolidated-billing organization converges with `settings.recipient_role` (account grants
//!   accepted and activated by each member account, through a role assumed there);
//! - without a recipient role the plan, its JSON and `drift` name each account that must accept,
//!   with the exact commands, and that alone is no change (exit code 0);
//! - a delegated administrator converges in an all-features organization;
//! - each preflight failure (and each refusal of `apply`) says what is wrong and how to fix it,
//!   and changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use bedrock_entitlements::emulator::{
    EmulatorHandle, EmulatorOptions, GrantSeed, GrantView, PolicyDocument, Seed, StateDump,
};
use serde_json::Value;

use crate::cli_support::{Cli, Run};
use crate::support::start_emulator;

const PREFIX: &str = "bedrock-entitlements";
const ROLE: &str = "OrganizationAccountAccessRole";

const PAYER: &str = "100000000001";
const LICENSE_ADMIN: &str = "300000000001";
const ML_PROD: &str = "200000000001";
const ML_DEV: &str = "200000000002";
const ANALYTICS: &str = "200000000003";

const CB_CLAUDE: &str =
    "arn:aws:license-manager::294406891311:license:l-c1000000000000000000000000000001";
const CB_LLAMA: &str =
    "arn:aws:license-manager::294406891311:license:l-c1000000000000000000000000000002";
const AF_CLAUDE: &str =
    "arn:aws:license-manager::294406891311:license:l-a1000000000000000000000000000001";

/// The calls that change License Manager state.
const MUTATIONS: [&str; 5] = [
    "CreateGrant",
    "CreateGrantVersion",
    "DeleteGrant",
    "AcceptGrant",
    "RejectGrant",
];

fn consolidated_billing() -> Seed {
    Seed::from_yaml(include_str!("../data/shapes/consolidated-billing.yaml"))
        .expect("the consolidated-billing seed is valid")
}

/// All features, License Manager run from the delegated administrator (license-admin).
fn all_features() -> Seed {
    Seed::from_yaml(include_str!("../data/shapes/all-features.yaml"))
        .expect("the all-features seed is valid")
}

/// All features, run from the management account (no delegated administrator).
fn all_features_management() -> Seed {
    let mut seed = all_features();
    seed.organization.delegated_administrator = None;
    seed
}

fn policy(json: &str) -> PolicyDocument {
    PolicyDocument::from_json(json).expect("a valid policy document")
}

/// The grantor may do anything but accept grants; an assumed recipient role may do exactly what
/// `docs/iam/recipient-role-policy.json` allows. So a successful AcceptGrant was made through the
/// recipient role, and (the emulator lets only the grantee accept) by the grantee account.
fn recipient_role_policies() -> EmulatorOptions {
    EmulatorOptions {
        iam_policy: Some(policy(
            r#"{"Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                {"Effect": "Deny", "Action": "license-manager:AcceptGrant", "Resource": "*"}
            ]}"#,
        )),
        role_policies: BTreeMap::from([(
            ROLE.to_owned(),
            policy(include_str!("../../docs/iam/recipient-role-policy.json")),
        )]),
        ..EmulatorOptions::default()
    }
}

/// Workflows complete before the first read (apply still waits for its first poll, 2 s): for
/// tests where the workflow is not the point.
fn quick_workflows() -> EmulatorOptions {
    EmulatorOptions {
        workflow_reads: 0,
        ..EmulatorOptions::default()
    }
}

/// An emulator and a scratch directory holding `entitlements.yaml`.
struct Shape {
    emu: EmulatorHandle,
    cli: Cli,
}

impl Shape {
    async fn new(seed: Seed, opts: EmulatorOptions, config: &str) -> Shape {
        let emu = start_emulator(seed, opts).await;
        let cli = Cli::new(emu.endpoint_url());
        cli.write("entitlements.yaml", config);
        Shape { emu, cli }
    }

    /// Runs the binary as the seed's default caller.
    async fn run(&self, args: &[&str]) -> Run {
        self.cli.run(args).await
    }

    /// Runs the binary with the documented `ACCT<id>` access key: acting as `account` itself.
    async fn run_as(&self, account: &str, args: &[&str]) -> Run {
        let key = format!("ACCT{account}");
        self.cli
            .run_with(args, &[("AWS_ACCESS_KEY_ID", key.as_str())])
            .await
    }

    fn write_config(&self, config: &str) {
        self.cli.write("entitlements.yaml", config);
    }

    fn dump(&self) -> StateDump {
        self.emu.state().dump()
    }

    /// Managed grants that are not DELETED, by principal and license.
    fn managed(&self) -> BTreeMap<(String, String), GrantView> {
        self.emu
            .state()
            .grants()
            .into_iter()
            .filter(|g| g.name.starts_with(PREFIX) && g.status != "DELETED")
            .map(|g| ((g.principal.clone(), g.license_arn.clone()), g))
            .collect()
    }

    fn calls(&self, op: &str) -> u64 {
        self.emu.state().call_count(op)
    }

    fn mutating_calls(&self) -> BTreeMap<&'static str, u64> {
        MUTATIONS
            .iter()
            .map(|op| (*op, self.calls(op)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// Every error the emulator answered, as `operation code`.
    fn errors(&self) -> BTreeSet<String> {
        self.emu
            .state()
            .error_counts()
            .into_iter()
            .flat_map(|(op, codes)| codes.into_keys().map(move |c| format!("{op} {c}")))
            .collect()
    }
}

fn account(id: &str) -> String {
    format!("arn:aws:iam::{id}:root")
}

/// `(principal, license)` pairs, for comparing with [`Shape::managed`].
fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(p, l)| ((*p).to_owned(), (*l).to_owned()))
        .collect()
}

/// The plan's actions as `action principal-or-account`.
fn actions(plan: &Value) -> BTreeSet<String> {
    plan["actions"]
        .as_array()
        .expect("a plan has actions")
        .iter()
        .map(|a| {
            let principal = a["principal"].as_str().unwrap_or_default();
            format!(
                "{} {} {}",
                a["action"].as_str().unwrap_or_default(),
                a["model"].as_str().unwrap_or("-"),
                short(principal)
            )
        })
        .collect()
}

/// `arn:aws:iam::ID:root` → ID; an organization or OU ARN → its last part.
fn short(principal: &str) -> &str {
    principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|p| p.strip_suffix(":root"))
        .unwrap_or_else(|| principal.rsplit('/').next().unwrap_or(principal))
}

// ---------------------------------------------------------------------------------------------
// Consolidated billing, with a recipient role

const CB_WITH_ROLE: &str = r#"version: 1
settings:
  recipient_role: OrganizationAccountAccessRole
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organization: true
    except_accounts: [analytics]
  llama:
    product_sku: prod-llama00001
    grant_to:
      organizational_units: [ou-cb01-workload]
      accounts: [analytics]
"#;

#[tokio::test]
async fn a_consolidated_billing_org_converges_by_accepting_in_each_member_account() {
    let s = Shape::new(
        consolidated_billing(),
        recipient_role_policies(),
        CB_WITH_ROLE,
    )
    .await;

    // Organization and OU targets become one grant per account (payer and suspended left out).
    let plan = s
        .run(&["plan", "--detailed-exitcode", "--format", "json"])
        .await
        .expect(2);
    assert_eq!(
        actions(&plan.json()),
        [
            "create claude 200000000001",
            "create claude 200000000002",
            "create llama 200000000001",
            "create llama 200000000002",
            "create llama 200000000003",
        ]
        .map(str::to_owned)
        .into(),
    );
    assert!(
        plan.stderr
            .contains("the organization has only consolidated billing, so its organization and OU targets are granted account by account"),
        "{}",
        plan.stderr
    );

    let apply = s.run(&["apply", "--auto-approve"]).await.expect(0);
    assert!(
        apply.stdout.contains("Apply: 5 done, 0 pending, 0 failed"),
        "{}",
        apply.stdout
    );

    let grants = s.managed();
    assert_eq!(
        grants.keys().cloned().collect::<BTreeSet<_>>(),
        pairs(&[
            (&account(ML_PROD), CB_CLAUDE),
            (&account(ML_DEV), CB_CLAUDE),
            (&account(ML_PROD), CB_LLAMA),
            (&account(ML_DEV), CB_LLAMA),
            (&account(ANALYTICS), CB_LLAMA),
        ])
    );
    for g in grants.values() {
        assert_eq!(g.status, "ACTIVE", "{g:?}");
        assert_eq!(g.grantor, PAYER, "{g:?}");
    }
    // One role session per member account, one acceptance per grant, each by its grantee
    // through the role (the grantor's own identity may not accept: see the policies).
    assert_eq!(s.calls("AssumeRole"), 3);
    assert_eq!(s.calls("AcceptGrant"), 5);
    assert_eq!(s.calls("CreateGrant"), 5);
    assert_eq!(s.errors(), BTreeSet::new());

    s.run(&["plan", "--detailed-exitcode"]).await.expect(0);
    s.run(&["drift"]).await.expect(0);
}

// ---------------------------------------------------------------------------------------------
// Consolidated billing, without a recipient role

const CB_WITHOUT_ROLE: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      accounts: [ml-prod, ml-dev]
"#;

/// The commands a note tells `account` to run, as written between backquotes.
fn commands_in(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Runs one `aws license-manager ...` command a plan note prints, through the SDK, as `account`
/// (as the AWS CLI would: every flag mapped to its API member, an unknown flag fails the test).
async fn run_printed_command(s: &Shape, account: &str, command: &str) {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[..2], ["aws", "license-manager"], "{command}");
    let mut flags = BTreeMap::new();
    for pair in words[3..].chunks(2) {
        match pair {
            [flag, value] if flag.starts_with("--") => {
                flags.insert(flag.trim_start_matches("--"), *value);
            }
            _ => panic!("cannot read {pair:?} in {command}"),
        }
    }
    assert_eq!(flags.remove("region"), Some("us-east-1"), "{command}");
    let clients = crate::support::clients_as(&s.emu, account).await;
    let grant = flags.remove("grant-arn").expect("--grant-arn");
    match words[2] {
        "accept-grant" => {
            clients
                .lm
                .accept_grant()
                .grant_arn(grant)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{command}: {e:?}"));
        }
        "create-grant-version" => {
            let status = flags.remove("status").expect("--status");
            let token = flags.remove("client-token").expect("--client-token");
            clients
                .lm
                .create_grant_version()
                .grant_arn(grant)
                .status(status.into())
                .client_token(token)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{command}: {e:?}"));
        }
        other => panic!("unexpected command {other} in {command}"),
    }
    assert!(flags.is_empty(), "unused flags {flags:?} in {command}");
}

#[tokio::test]
async fn without_a_recipient_role_the_plan_names_each_account_that_must_accept() {
    let s = Shape::new(consolidated_billing(), quick_workflows(), CB_WITHOUT_ROLE).await;
    let apply = s.run(&["apply", "--auto-approve"]).await.expect(0);
    assert!(
        apply.stdout.contains("Apply: 0 done, 2 pending, 0 failed"),
        "{}",
        apply.stdout
    );
    let grants = s.managed();
    assert_eq!(
        grants.keys().cloned().collect::<BTreeSet<_>>(),
        pairs(&[
            (&account(ML_PROD), CB_CLAUDE),
            (&account(ML_DEV), CB_CLAUDE)
        ])
    );
    for g in grants.values() {
        assert_eq!(g.status, "PENDING_ACCEPT", "{g:?}");
    }
    assert_eq!(s.calls("AcceptGrant"), 0);
    assert_eq!(s.calls("AssumeRole"), 0);

    // Waiting on recipients is nothing apply could change: exit code 0, and every account that
    // must accept is named with the exact commands, in the text and in the JSON.
    let text = s.run(&["plan", "--detailed-exitcode"]).await.expect(0);
    let json = s
        .run(&["plan", "--detailed-exitcode", "--format", "json"])
        .await
        .expect(0)
        .json();
    assert_eq!(json["actions"], Value::Array(vec![]));
    let notes = json["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 2, "{notes:#?}");
    for (id, note) in [ML_PROD, ML_DEV].iter().zip(notes) {
        let grant = &grants[&(account(id), CB_CLAUDE.to_owned())];
        assert_eq!(note["kind"], "awaiting_acceptance");
        assert_eq!(note["principal"], account(id));
        assert_eq!(note["grant_arn"], grant.arn.as_str());
        let message = note["message"].as_str().expect("a message");
        assert!(
            message.starts_with(&format!("account {id} must accept the grant: run ")),
            "{message}"
        );
        assert_eq!(
            commands_in(message),
            [
                format!(
                    "aws license-manager accept-grant --grant-arn {} --region us-east-1",
                    grant.arn
                ),
                format!(
                    "aws license-manager create-grant-version --grant-arn {} --status ACTIVE \
                     --client-token activate-{} --region us-east-1",
                    grant.arn,
                    grant.arn.rsplit(':').next().unwrap_or_default()
                ),
            ]
        );
        assert!(text.stdout.contains(message), "{}", text.stdout);
    }
    let drift = s.run(&["drift", "--format", "json"]).await.expect(0).json();
    let awaiting: Vec<&Value> = drift["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["kind"] == "awaiting_acceptance")
        .collect();
    assert_eq!(awaiting.len(), 2, "{drift:#}");
    s.run(&["drift"]).await.expect(0);

    // The printed commands work: ml-prod runs them itself, and is no longer listed.
    for command in commands_in(notes[0]["message"].as_str().unwrap_or_default()) {
        run_printed_command(&s, ML_PROD, &command).await;
    }
    assert_eq!(
        s.managed()[&(account(ML_PROD), CB_CLAUDE.to_owned())].status,
        "ACTIVE"
    );
    let json = s
        .run(&["plan", "--detailed-exitcode", "--format", "json"])
        .await
        .expect(0)
        .json();
    let notes = json["notes"].as_array().expect("notes");
    assert_eq!(notes.len(), 1, "{notes:#?}");
    assert_eq!(notes[0]["principal"], account(ML_DEV));

    // With a recipient role, the same grant becomes an `accept` action apply carries out.
    s.write_config(&CB_WITHOUT_ROLE.replace(
        "version: 1\n",
        "version: 1\nsettings:\n  recipient_role: OrganizationAccountAccessRole\n",
    ));
    let plan = s
        .run(&["plan", "--detailed-exitcode", "--format", "json"])
        .await
        .expect(2)
        .json();
    assert_eq!(
        actions(&plan),
        ["accept claude 200000000002".to_owned()].into()
    );
    s.emu.state().reset_counts();
    s.run(&["apply", "--auto-approve"]).await.expect(0);
    assert_eq!(s.calls("AssumeRole"), 1);
    assert_eq!(s.calls("AcceptGrant"), 1);
    assert_eq!(s.calls("CreateGrant"), 0);
    for g in s.managed().values() {
        assert_eq!(g.status, "ACTIVE", "{g:?}");
    }
    s.run(&["plan", "--detailed-exitcode"]).await.expect(0);
}

// ---------------------------------------------------------------------------------------------
// A delegated administrator in an all-features organization

const AF_CONFIG: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organization: true
  llama:
    product_sku: prod-llama00001
    grant_to:
      organizational_units: [Root/Workloads]
      accounts: [analytics]
"#;

const AF_LLAMA: &str =
    "arn:aws:license-manager::294406891311:license:l-a1000000000000000000000000000002";
const AF_ORG: &str = "arn:aws:organizations::100000000001:organization/o-shapesallft1";
const AF_WORKLOADS: &str = "arn:aws:organizations::100000000001:ou/o-shapesallft1/ou-af01-workload";

#[tokio::test]
async fn a_delegated_administrator_converges_in_an_all_features_org() {
    // Every caller that is not an assumed role holds exactly the documented apply policy.
    let opts = EmulatorOptions {
        iam_policy: Some(policy(include_str!("../../docs/iam/apply-policy.json"))),
        ..quick_workflows()
    };
    let s = Shape::new(all_features(), opts, AF_CONFIG).await;

    let plan = s
        .run_as(
            LICENSE_ADMIN,
            &["plan", "--detailed-exitcode", "--format", "json"],
        )
        .await
        .expect(2);
    assert_eq!(
        actions(&plan.json()),
        [
            "create claude o-shapesallft1",
            "create llama ou-af01-workload",
            "create llama 200000000003",
        ]
        .map(str::to_owned)
        .into(),
    );
    let apply = s
        .run_as(LICENSE_ADMIN, &["apply", "--auto-approve", "--wait", "1m"])
        .await
        .expect(0);
    assert!(
        apply.stdout.contains("Apply: 3 done, 0 pending, 0 failed"),
        "{}",
        apply.stdout
    );

    let grants = s.managed();
    assert_eq!(
        grants.keys().cloned().collect::<BTreeSet<_>>(),
        pairs(&[
            (AF_ORG, AF_CLAUDE),
            (AF_WORKLOADS, AF_LLAMA),
            (&account(ANALYTICS), AF_LLAMA),
        ])
    );
    for g in grants.values() {
        assert_eq!(g.grantor, LICENSE_ADMIN, "{g:?}");
        let settled = if g.principal.starts_with("arn:aws:iam::") {
            "ACTIVE"
        } else {
            "WORKFLOW_COMPLETED"
        };
        assert_eq!(g.status, settled, "{g:?}");
    }
    assert_eq!(s.errors(), BTreeSet::new());

    // An account in the nested OU received both models, active (asked as that account, which
    // the apply policy does not cover).
    s.emu.state().update_options(|o| o.iam_policy = None);
    let ml_dev = crate::support::clients_as(&s.emu, ML_DEV).await;
    let received = ml_dev
        .lm
        .list_received_grants()
        .send()
        .await
        .expect("ListReceivedGrants as ml-dev");
    let statuses: BTreeSet<(String, String)> = received
        .grants()
        .iter()
        .map(|g| {
            (
                g.license_arn().to_owned(),
                g.grant_status().as_str().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        pairs(&[(AF_CLAUDE, "ACTIVE"), (AF_LLAMA, "ACTIVE")])
    );

    s.run_as(LICENSE_ADMIN, &["plan", "--detailed-exitcode"])
        .await
        .expect(0);
    s.run_as(LICENSE_ADMIN, &["drift"]).await.expect(0);
}

// ---------------------------------------------------------------------------------------------
// Preflight and refusals: a message with its fix, and nothing changed

/// Runs `args` as `caller` (None: the seed's default caller) and checks that it failed with
/// exit code 1, left the emulator's state as it was and made no mutating call.
async fn refused(s: &Shape, caller: Option<&str>, args: &[&str]) -> Run {
    let before = s.dump();
    s.emu.state().reset_counts();
    let run = match caller {
        Some(c) => s.run_as(c, args).await,
        None => s.run(args).await,
    }
    .expect(1);
    assert_eq!(s.mutating_calls(), BTreeMap::new(), "{}", run.stderr);
    assert_eq!(s.dump(), before, "the state changed:\n{}", run.stderr);
    run
}

/// Asserts that `stderr` holds every one of `lines`, and says nothing was changed.
fn says(run: &Run, lines: &[&str]) {
    for line in lines {
        assert!(
            run.stderr.contains(line),
            "{line:?} not in:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("nothing was changed"),
        "no \"nothing was changed\" in:\n{}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "stdout carries no plan or report");
}

const ONE_ACCOUNT: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      accounts: [ml-prod]
"#;

#[tokio::test]
async fn trusted_access_off_refuses_an_ou_target() {
    let mut seed = all_features_management();
    seed.organization.trusted_access = false;
    let s = Shape::new(seed, EmulatorOptions::default(), AF_CONFIG).await;
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    says(
        &run,
        &[
            "error: preflight trusted access: AWS Organizations has no trusted access for license-manager.amazonaws.com, so organization and OU grants fail",
            "  fix: in the management account: aws organizations enable-aws-service-access --service-principal license-manager.amazonaws.com, then link AWS Organizations in License Manager's settings",
            "2 preflight checks failed; nothing was changed",
        ],
    );
}

#[tokio::test]
async fn license_manager_not_linked_to_the_organization_refuses_only_organization_and_ou_grants() {
    // Trusted access off: GetServiceSettings says EnableIntegration false. Account grants need
    // neither (AWS needs the link for organization and OU grants only), so a file that grants
    // one account applies; a file with OU targets is refused, the missing link named.
    let mut seed = all_features_management();
    seed.organization.trusted_access = false;
    let s = Shape::new(seed, EmulatorOptions::default(), ONE_ACCOUNT).await;
    let run = s.run(&["apply", "--auto-approve"]).await.expect(0);
    assert!(!run.stderr.contains("preflight"), "{}", run.stderr);
    s.write_config(AF_CONFIG);
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    says(
        &run,
        &[
            "error: preflight license manager settings: License Manager is not linked to AWS Organizations (GetServiceSettings: EnableIntegration is false), so organization and OU grants cannot be distributed",
            "  fix: in the License Manager console of the management account, Settings → Link AWS Organizations accounts (or aws license-manager update-service-settings --organization-configuration EnableIntegration=true)",
        ],
    );
}

#[tokio::test]
async fn a_caller_neither_management_nor_delegated_administrator_is_told_what_to_do() {
    // license-admin holds the subscriptions but is no longer the delegated administrator.
    let mut seed = all_features_management();
    for license in &mut seed.licenses {
        license.beneficiary = Some(LICENSE_ADMIN.to_owned());
    }
    let s = Shape::new(seed, quick_workflows(), ONE_ACCOUNT).await;
    let explained = [
        "error: ListRoots failed: AccessDeniedException: You don't have permissions to access this resource.",
        "  AWS Organizations refused ListRoots (AccessDeniedException): only the management account and a delegated administrator may read the organization",
        "  fix: run the tool in the management account or in License Manager's delegated administrator (--profile, --role-arn); to make this account the delegated administrator, run in the management account: aws organizations register-delegated-administrator --account-id ACCOUNT_ID --service-principal license-manager.amazonaws.com",
    ];
    for caller in [LICENSE_ADMIN, ML_PROD] {
        let run = refused(&s, Some(caller), &["apply", "--auto-approve"]).await;
        says(&run, &explained);
        let plan = refused(&s, Some(caller), &["plan"]).await;
        for line in explained {
            assert!(plan.stderr.contains(line), "{}", plan.stderr);
        }
    }

    // Registered again, it converges.
    s.emu
        .state()
        .set_delegated_administrator(Some(LICENSE_ADMIN))
        .expect("license-admin becomes the delegated administrator");
    s.run_as(LICENSE_ADMIN, &["apply", "--auto-approve"])
        .await
        .expect(0);
    s.run_as(LICENSE_ADMIN, &["plan", "--detailed-exitcode"])
        .await
        .expect(0);
}

#[tokio::test]
async fn a_home_region_other_than_us_east_1_is_refused_before_anything_is_read() {
    let config = ONE_ACCOUNT.replace(
        "version: 1\n",
        "version: 1\nsettings:\n  home_region: eu-west-1\n",
    );
    let s = Shape::new(
        all_features_management(),
        EmulatorOptions::default(),
        &config,
    )
    .await;
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    says(
        &run,
        &[
            "error: preflight home region: settings.home_region is eu-west-1, but Bedrock model licenses and their grants live in us-east-1",
            "  fix: remove settings.home_region or set it to us-east-1",
            "1 preflight check failed; nothing was changed",
        ],
    );
    assert_eq!(
        s.emu.state().call_counts(),
        BTreeMap::new(),
        "no call at all"
    );
    // `plan` warns with the same check, then reports what it finds there (no licenses).
    let plan = s.run(&["plan"]).await.expect(1);
    assert!(
        plan.stderr
            .contains("warning: preflight home region: settings.home_region is eu-west-1"),
        "{}",
        plan.stderr
    );
}

#[tokio::test]
async fn a_license_without_create_grant_is_refused() {
    let config = "version: 1\nmodels:\n  palmyra:\n    product_sku: prod-palmyra001\n    grant_to:\n      accounts: [ml-prod]\n";
    let s = Shape::new(
        all_features_management(),
        EmulatorOptions::default(),
        config,
    )
    .await;
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    says(
        &run,
        &[
            "entitlements.yaml:4:18: error: model palmyra: license arn:aws:license-manager::294406891311:license:l-a1000000000000000000000000000003 does not allow this account to create grants",
            "  hint: only the account that subscribed to the model (the management account or the delegated administrator) can distribute its license",
        ],
    );
    refused(&s, None, &["plan"]).await;
}

// ---------------------------------------------------------------------------------------------
// apply's own refusals

fn managed_seed_grant(model: &str, license: &str, account_id: &str) -> GrantSeed {
    let name = format!("{PREFIX}-{model}-{account_id}");
    crate::support::active_grant_seed(name, license, account(account_id))
}

#[tokio::test]
async fn apply_without_auto_approve_and_no_terminal_refuses() {
    let s = Shape::new(
        all_features_management(),
        EmulatorOptions::default(),
        ONE_ACCOUNT,
    )
    .await;
    let run = refused(&s, None, &["apply"]).await;
    says(
        &run,
        &["error: apply needs --auto-approve when stdin is not a terminal; nothing was changed"],
    );
}

#[tokio::test]
async fn a_stale_saved_plan_is_refused() {
    let mut seed = all_features_management();
    seed.grants
        .push(managed_seed_grant("claude", AF_CLAUDE, ML_PROD));
    let config = ONE_ACCOUNT.replace("[ml-prod]", "[ml-prod, ml-dev]");
    let s = Shape::new(seed, quick_workflows(), &config).await;
    s.run(&["plan", "--out", "plan.json"]).await.expect(0);

    // Someone disables the ml-prod grant after the plan was made.
    let arn = s.managed()[&(account(ML_PROD), AF_CLAUDE.to_owned())]
        .arn
        .clone();
    s.emu
        .state()
        .disable_grant(&arn)
        .expect("disabled out of band");
    let run = refused(&s, None, &["apply", "plan.json", "--auto-approve"]).await;
    says(
        &run,
        &[
            "error: the saved plan is stale: live grants changed since it was made; nothing was changed; run plan again",
        ],
    );

    // A fresh plan of the same state applies.
    s.run(&["plan", "--out", "plan.json"]).await.expect(0);
    s.run(&["apply", "plan.json", "--auto-approve"])
        .await
        .expect(0);
    s.run(&["plan", "--detailed-exitcode"]).await.expect(0);
}

#[tokio::test]
async fn a_plan_deleting_more_than_allowed_is_refused() {
    let mut seed = all_features_management();
    for id in [ML_PROD, ML_DEV, ANALYTICS] {
        seed.grants.push(managed_seed_grant("llama", AF_LLAMA, id));
    }
    // The file no longer names llama: its three grants go.
    let s = Shape::new(seed, quick_workflows(), ONE_ACCOUNT).await;
    let run = refused(&s, None, &["apply", "--auto-approve", "--max-deletes", "2"]).await;
    says(
        &run,
        &[
            "error: the plan deletes 3 grants, more than the 2 allowed; raise --max-deletes (or settings.max_deletes) if that is intended",
        ],
    );
    s.write_config(
        &ONE_ACCOUNT.replace("version: 1\n", "version: 1\nsettings:\n  max_deletes: 1\n"),
    );
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    assert!(
        run.stderr
            .contains("the plan deletes 3 grants, more than the 1 allowed"),
        "{}",
        run.stderr
    );
    // Allowed explicitly, it goes ahead.
    s.run(&["apply", "--auto-approve", "--max-deletes", "3"])
        .await
        .expect(0);
    assert_eq!(
        s.managed().keys().cloned().collect::<BTreeSet<_>>(),
        pairs(&[(&account(ML_PROD), AF_CLAUDE)])
    );
}

// ---------------------------------------------------------------------------------------------
// A recipient role that may not accept

#[tokio::test]
async fn a_recipient_role_without_accept_grant_fails_naming_each_account_and_recovers() {
    let mut opts = recipient_role_policies();
    opts.workflow_reads = 0;
    opts.role_policies.insert(
        ROLE.to_owned(),
        policy(r#"{"Statement": [{"Effect": "Allow", "Action": "license-manager:GetGrant", "Resource": "*"}]}"#),
    );
    let s = Shape::new(consolidated_billing(), opts, CB_WITHOUT_ROLE).await;
    s.write_config(&CB_WITHOUT_ROLE.replace(
        "version: 1\n",
        "version: 1\nsettings:\n  recipient_role: OrganizationAccountAccessRole\n",
    ));
    let run = s.run(&["apply", "--auto-approve"]).await.expect(1);
    for id in [ML_PROD, ML_DEV] {
        let line = format!(
            "AcceptGrant: User: arn:aws:sts::{id}:assumed-role/{ROLE}/bedrock-entitlements is not authorized to perform: license-manager:AcceptGrant"
        );
        assert!(
            run.stdout.contains(&line),
            "{line:?} not in:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stderr
            .contains("2 actions failed; run apply again once the cause is fixed"),
        "{}",
        run.stderr
    );
    for g in s.managed().values() {
        assert_eq!(g.status, "PENDING_ACCEPT", "{g:?}");
    }
    // With the documented policy on the role, the next apply accepts what is left.
    s.emu.state().update_options(|o| {
        o.role_policies.insert(
            ROLE.to_owned(),
            policy(include_str!("../../docs/iam/recipient-role-policy.json")),
        );
    });
    let plan = s
        .run(&["plan", "--detailed-exitcode", "--format", "json"])
        .await
        .expect(2)
        .json();
    assert_eq!(
        actions(&plan),
        ["accept claude 200000000001", "accept claude 200000000002"]
            .map(str::to_owned)
            .into()
    );
    s.run(&["apply", "--auto-approve"]).await.expect(0);
    for g in s.managed().values() {
        assert_eq!(g.status, "ACTIVE", "{g:?}");
    }
    s.run(&["plan", "--detailed-exitcode"]).await.expect(0);
}

#[tokio::test]
async fn a_missing_service_linked_role_is_named_with_the_command_that_creates_it() {
    // IAM GetRole (the real SDK's IAM client) says AWS Marketplace's role is missing in the
    // management account: nothing is changed, and the role and its fix are named.
    let mut seed = all_features_management();
    seed.organization.marketplace_service_linked_role = false;
    let s = Shape::new(seed, EmulatorOptions::default(), ONE_ACCOUNT).await;
    let run = refused(&s, None, &["apply", "--auto-approve"]).await;
    says(
        &run,
        &[
            "error: preflight service-linked role: the service-linked role AWSServiceRoleForMarketplaceLicenseManagement does not exist in account",
            "  fix: aws iam create-service-linked-role --aws-service-name license-management.marketplace.amazonaws.com",
        ],
    );
    assert_eq!(s.emu.state().call_count("GetRole"), 2);
}
