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
    let s = Shape::new(
        consolidated_billing(),
        EmulatorOptions::default(),
        CB_WITHOUT_ROLE,
    )
    .await;
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
