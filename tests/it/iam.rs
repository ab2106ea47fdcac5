//! The least-privilege IAM policies of `docs/iam/`, proved against the emulator: it refuses every
//! action a policy does not allow, every command works under the policy documented for it, each
//! documented action is needed (removing any one makes a command fail, naming it), every action
//! the tool calls is documented, and the read-only policy changes nothing.
//!
//! A *scenario* is a short script of real-binary runs against an emulator whose callers carry
//! given policies: the read commands (`ReadOnly`), `apply` from the management account
//! (`Apply`), from License Manager's delegated administrator (`DelegatedAdmin`), and with
//! `settings.recipient_role` in a consolidated-billing organization (`Recipients`), and `plan`
//! then `apply PLAN` of a file that subscribes to a model (`Subscribe`).

use std::collections::{BTreeMap, BTreeSet};

use bedrock_entitlements::emulator::{
    EmulatorHandle, EmulatorOptions, EmulatorState, FeatureSetSeed, PolicyDocument, Seed,
};
use serde_json::Value;

use crate::cli_support::{Cli, Run};
use crate::support::{self, start_emulator};

/// Calls AWS authorizes without any permission: the STS API reference says GetCallerIdentity
/// "No permissions are required to perform this operation", even under a policy that denies it.
const NEEDS_NO_PERMISSION: &[&str] = &["sts:GetCallerIdentity"];

/// The role `settings.recipient_role` names in the recipient scenario, and that
/// `docs/iam/assume-recipient-role-policy.json` lets the apply role assume.
const RECIPIENT_ROLE: &str = "bedrock-entitlements-recipient";

// ---------------------------------------------------------------------------------------------
// The documented policies.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum File {
    ReadOnly,
    Apply,
    AssumeRecipient,
    Recipient,
    Bootstrap,
}

const FILES: [File; 5] = [
    File::ReadOnly,
    File::Apply,
    File::AssumeRecipient,
    File::Recipient,
    File::Bootstrap,
];

impl File {
    fn path(self) -> &'static str {
        match self {
            File::ReadOnly => "docs/iam/readonly-policy.json",
            File::Apply => "docs/iam/apply-policy.json",
            File::AssumeRecipient => "docs/iam/assume-recipient-role-policy.json",
            File::Recipient => "docs/iam/recipient-role-policy.json",
            File::Bootstrap => "docs/iam/bootstrap-policy.json",
        }
    }

    fn text(self) -> &'static str {
        match self {
            File::ReadOnly => include_str!("../../docs/iam/readonly-policy.json"),
            File::Apply => include_str!("../../docs/iam/apply-policy.json"),
            File::AssumeRecipient => {
                include_str!("../../docs/iam/assume-recipient-role-policy.json")
            }
            File::Recipient => include_str!("../../docs/iam/recipient-role-policy.json"),
            File::Bootstrap => include_str!("../../docs/iam/bootstrap-policy.json"),
        }
    }

    fn doc(self) -> PolicyDocument {
        PolicyDocument::from_json(self.text())
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", self.path()))
    }

    /// The scenarios that run under this file.
    fn scenarios(self) -> &'static [Scenario] {
        match self {
            File::ReadOnly => &[Scenario::ReadOnly],
            File::Apply => &[
                Scenario::Apply,
                Scenario::DelegatedAdmin,
                Scenario::Recipients,
                Scenario::Subscribe,
            ],
            File::AssumeRecipient | File::Recipient => &[Scenario::Recipients],
            File::Bootstrap => &[Scenario::Bootstrap],
        }
    }
}

/// The actions a policy allows, as written (the documented files list exact actions).
fn actions(doc: &PolicyDocument) -> BTreeSet<String> {
    doc.statement
        .iter()
        .flat_map(|s| s.action.iter().cloned())
        .collect()
}

/// `doc` without `action` (a statement left with no action is dropped).
fn without(doc: &PolicyDocument, action: &str) -> PolicyDocument {
    let mut doc = doc.clone();
    for s in &mut doc.statement {
        s.action.retain(|a| a != action);
    }
    doc.statement.retain(|s| !s.action.is_empty());
    doc
}

/// One document holding the statements of several.
fn union(docs: &[PolicyDocument]) -> PolicyDocument {
    PolicyDocument {
        version: Some("2012-10-17".to_owned()),
        statement: docs.iter().flat_map(|d| d.statement.clone()).collect(),
    }
}

/// `doc` plus one statement allowing `extra`.
fn with(doc: &PolicyDocument, extra: &[&str]) -> PolicyDocument {
    let more = PolicyDocument::from_json(
        &serde_json::json!({"Statement": [{"Effect": "Allow", "Action": extra, "Resource": "*"}]})
            .to_string(),
    )
    .expect("a valid policy");
    union(&[doc.clone(), more])
}

/// The IAM action of an emulator operation name (`ListRoots` -> `organizations:ListRoots`).
fn action_of(op: &str) -> String {
    const ORGANIZATIONS: [&str; 26] = [
        "DisableAWSServiceAccess",
        "EnableAWSServiceAccess",
        "RegisterDelegatedAdministrator",
        "AttachPolicy",
        "CreatePolicy",
        "DeletePolicy",
        "DescribePolicy",
        "DetachPolicy",
        "EnablePolicyType",
        "ListPolicies",
        "ListPoliciesForTarget",
        "ListTagsForResource",
        "ListTargetsForPolicy",
        "TagResource",
        "UpdatePolicy",
        "DescribeOrganization",
        "DescribeOrganizationalUnit",
        "DescribeAccount",
        "ListAWSServiceAccessForOrganization",
        "ListAccounts",
        "ListAccountsForParent",
        "ListChildren",
        "ListDelegatedAdministrators",
        "ListOrganizationalUnitsForParent",
        "ListParents",
        "ListRoots",
    ];
    let service = if ORGANIZATIONS.contains(&op) {
        "organizations"
    } else if matches!(op, "AssumeRole" | "GetCallerIdentity") {
        "sts"
    } else if matches!(
        op,
        "GetUseCaseForModelAccess"
            | "PutUseCaseForModelAccess"
            | "ListFoundationModelAgreementOffers"
            | "CreateFoundationModelAgreement"
            | "GetFoundationModelAvailability"
            | "GetFoundationModel"
    ) {
        "bedrock"
    } else if matches!(op, "GetRole" | "CreateServiceLinkedRole") {
        "iam"
    } else {
        "license-manager"
    };
    format!("{service}:{op}")
}

/// The IAM actions one call of `op` is authorized by: CreatePolicy with `Tags` (the tool always
/// tags its SCPs) needs `organizations:TagResource` too (Organizations API reference), and
/// CreateFoundationModelAgreement on a model sold through Marketplace `aws-marketplace:Subscribe`
/// (Bedrock user guide, model-access-permissions), so their calls and refusals count for both.
fn actions_of(op: &str) -> Vec<String> {
    let mut out = vec![action_of(op)];
    if op == "CreatePolicy" {
        out.push("organizations:TagResource".to_owned());
    }
    if op == "CreateFoundationModelAgreement" {
        out.push("aws-marketplace:Subscribe".to_owned());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    ReadOnly,
    Apply,
    DelegatedAdmin,
    Recipients,
    Bootstrap,
    Subscribe,
}

const SCENARIOS: [Scenario; 6] = [
    Scenario::ReadOnly,
    Scenario::Apply,
    Scenario::DelegatedAdmin,
    Scenario::Recipients,
    Scenario::Bootstrap,
    Scenario::Subscribe,
];

impl Scenario {
    /// The files whose union is the policy of the identity that runs the tool.
    fn caller_files(self) -> &'static [File] {
        match self {
            Scenario::ReadOnly => &[File::ReadOnly],
            Scenario::Apply | Scenario::DelegatedAdmin | Scenario::Subscribe => &[File::Apply],
            Scenario::Recipients => &[File::Apply, File::AssumeRecipient],
            Scenario::Bootstrap => &[File::Bootstrap],
        }
    }

    /// The file of the role assumed in member accounts.
    fn role_file(self) -> Option<File> {
        (self == Scenario::Recipients).then_some(File::Recipient)
    }

    /// The documented policies of this scenario, with `edit` replacing one file's document.
    fn policies(self, edit: Option<(File, &PolicyDocument)>) -> Policies {
        let pick = |f: File| match edit {
            Some((e, doc)) if e == f => doc.clone(),
            _ => f.doc(),
        };
        let caller: Vec<PolicyDocument> = self.caller_files().iter().map(|f| pick(*f)).collect();
        Policies {
            caller: union(&caller),
            role: self.role_file().map(pick),
        }
    }

    fn allowed(&self) -> BTreeSet<String> {
        let p = self.policies(None);
        let mut all = actions(&p.caller);
        if let Some(role) = &p.role {
            all.extend(actions(role));
        }
        all
    }
}

/// The policies a scenario's emulator enforces.
#[derive(Debug, Clone)]
struct Policies {
    /// Of the identity that runs the tool (`iam_policy`).
    caller: PolicyDocument,
    /// Of [`RECIPIENT_ROLE`] in member accounts (`role_policies`).
    role: Option<PolicyDocument>,
}

/// A step that did not go as the scenario expects.
#[derive(Debug)]
struct Failure {
    step: String,
    why: String,
    /// stdout and stderr of the run.
    output: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}\n{}", self.step, self.why, self.output)
    }
}

/// What a scenario did.
#[derive(Debug)]
struct Report {
    failure: Option<Failure>,
    /// Calls per operation while the policies were in force.
    calls: BTreeMap<String, u64>,
    errors: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Report {
    /// The actions called at least once.
    /// The actions called that need a permission (GetCallerIdentity needs none).
    fn called(&self) -> BTreeSet<String> {
        self.calls
            .iter()
            .filter(|(_, n)| **n > 0)
            .flat_map(|(op, _)| actions_of(op))
            .filter(|a| !NEEDS_NO_PERMISSION.contains(&a.as_str()))
            .collect()
    }

    fn denials(&self) -> BTreeMap<String, u64> {
        self.errors
            .iter()
            .filter_map(|(op, codes)| {
                let n: u64 = codes
                    .iter()
                    .filter(|(c, _)| c.starts_with("AccessDenied"))
                    .map(|(_, n)| n)
                    .sum();
                (n > 0).then(|| actions_of(op).into_iter().map(move |a| (a, n)))
            })
            .flatten()
            .collect()
    }
}

/// Runs the binary step by step; the first run that does not end as expected is the failure.
struct Script<'a> {
    cli: &'a Cli,
}

impl Script<'_> {
    async fn run(&self, args: &[&str], want: i32) -> Result<Run, Failure> {
        let run = self.cli.run(args).await;
        if run.code != want {
            return Err(Failure {
                step: args.join(" "),
                why: format!("exit code {} (wanted {want})", run.code),
                output: format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr),
            });
        }
        Ok(run)
    }

    fn json(&self, step: &str, run: &Run) -> Result<Value, Failure> {
        serde_json::from_str(&run.stdout).map_err(|e| Failure {
            step: step.to_owned(),
            why: format!("stdout is not JSON: {e}"),
            output: run.stdout.clone(),
        })
    }

    fn file(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.cli.path(name)).expect("the file was written");
        serde_json::from_str(&text).expect("the file is JSON")
    }
}

fn check(ok: bool, step: &str, why: impl Into<String>, output: &str) -> Result<(), Failure> {
    if ok {
        Ok(())
    } else {
        Err(Failure {
            step: step.to_owned(),
            why: why.into(),
            output: output.to_owned(),
        })
    }
}

/// The organization of the scenarios: nested OUs (Root/Workloads/ML), a sandbox OU, a suspended
/// account, four model licenses received by the management account.
const SEED: &str = r#"
region: us-east-1
default_caller: "111111111111"
organization:
  id: o-iampolicy01
  feature_set: ALL
  management_account: "111111111111"
  root: r-ia01
  organizational_units:
    - { id: ou-ia01-workload, name: Workloads, parent: r-ia01 }
    - { id: ou-ia01-mlmlmlml, name: ML, parent: ou-ia01-workload }
    - { id: ou-ia01-sandbox1, name: Sandbox, parent: r-ia01 }
  accounts:
    - { id: "111111111111", name: management, parent: r-ia01 }
    - { id: "222222222222", name: shared, parent: ou-ia01-workload }
    - { id: "333333333333", name: ml-dev, parent: ou-ia01-mlmlmlml }
    - { id: "444444444444", name: ml-prod, parent: ou-ia01-mlmlmlml }
    - { id: "555555555555", name: sandbox-a, parent: ou-ia01-sandbox1 }
    - { id: "666666666666", name: sandbox-b, parent: ou-ia01-sandbox1 }
    - { id: "777777777777", name: legacy, parent: r-ia01, state: SUSPENDED }
licenses:
  - arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001
    product_name: Claude 3.5 Sonnet (Amazon Bedrock Edition)
    product_sku: prod-claude0001
  - arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000002
    product_name: Llama 3.1 70B Instruct (Amazon Bedrock Edition)
    product_sku: prod-llama00001
  - arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000003
    product_name: Mistral Large (Amazon Bedrock Edition)
    product_sku: prod-mistral001
  - arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000004
    product_name: Jamba 1.5 Large (Amazon Bedrock Edition)
    product_sku: prod-jamba00001
bedrock:
  models:
    - model_id: anthropic.claude-sonnet-4-5-20250929-v1:0
      provider_name: Anthropic
      model_name: Claude Sonnet 4.5
      product_sku: prod-sonnet0001
      product_name: Claude Sonnet 4.5 (Amazon Bedrock Edition)
      offers:
        - { offer_id: offer-sonnetpub001, offer_token: tok-sonnet-public, type: PUBLIC }
"#;

/// Grants made before the tool runs: managed grants that drifted (so `apply` activates,
/// deactivates, updates and deletes) and one foreign grant.
const GRANTS: &str = r#"
grants:
  - name: bedrock-entitlements-mistral-222222222222
    license_arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000003
    principal: arn:aws:iam::222222222222:root
    status: DISABLED
    version: 2
  - name: bedrock-entitlements-jamba-333333333333
    license_arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000004
    principal: arn:aws:iam::333333333333:root
    status: ACTIVE
    version: 3
  - name: bedrock-entitlements-renamed-by-hand
    license_arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000002
    principal: arn:aws:organizations::111111111111:ou/o-iampolicy01/ou-ia01-mlmlmlml
    status: WORKFLOW_COMPLETED
    version: 2
  - name: bedrock-entitlements-mistral-444444444444
    license_arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000003
    principal: arn:aws:iam::444444444444:root
    status: ACTIVE
    version: 2
  - name: llama-for-shared-by-hand
    license_arn: arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000002
    principal: arn:aws:iam::222222222222:root
    status: ACTIVE
    version: 1
"#;

/// The desired state of the read-only and apply scenarios: an organization grant with an
/// exception, an OU by path, accounts by name and id, a disabled model.
const ENTITLEMENTS: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organization: true
    except_accounts: [sandbox-b]
  llama:
    product_sku: prod-llama00001
    grant_to:
      organizational_units: [Root/Workloads/ML]
  mistral:
    product_name: Mistral Large (Amazon Bedrock Edition)
    grant_to:
      accounts: [shared, "555555555555"]
  jamba:
    product_sku: prod-jamba00001
    grant_to:
      accounts: [ml-dev]
    status: disabled
"#;

/// [`ENTITLEMENTS`] with guardrails enforced: the read-only scenario reads the SCPs the apply
/// made, the apply scenario creates, updates, attaches, detaches and deletes SCPs.
fn entitlements_guarded() -> String {
    ENTITLEMENTS
        .replacen(
            "version: 1\n",
            "version: 1\nsettings:\n  guardrails:\n    mode: enforce\n",
            1,
        )
        .replacen(
            "    product_sku: prod-claude0001\n",
            "    product_sku: prod-claude0001\n    bedrock_model_ids: [\"anthropic.claude-3-5-sonnet-*\"]\n",
            1,
        )
        .replacen(
            "    product_sku: prod-llama00001\n",
            "    product_sku: prod-llama00001\n    bedrock_model_ids: [\"meta.llama3-1-70b-*\"]\n",
            1,
        )
        .replacen(
            "    product_name: Mistral Large (Amazon Bedrock Edition)\n",
            "    product_name: Mistral Large (Amazon Bedrock Edition)\n    bedrock_model_ids: [\"mistral.mistral-large-*\"]\n",
            1,
        )
}

/// A model the central account has no license for yet, subscribed from the file (the IAM seed's
/// Bedrock model, its public offer), granted to ml-dev once the license appears.
const SONNET: &str = r#"  sonnet:
    product_sku: prod-sonnet0001
    bedrock_model_ids: ["anthropic.claude-sonnet-4-5-20250929-v1:0"]
    subscribe:
      offer: public
    grant_to:
      accounts: [ml-dev]
"#;

/// SCPs enabled on the root (no IAM policy is in force yet).
async fn enable_scps(emu: &EmulatorHandle) {
    support::clients(emu)
        .await
        .orgs
        .enable_policy_type()
        .root_id("r-ia01")
        .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("EnablePolicyType");
}

/// Managed SCPs that drifted: claude's with another document on the wrong OU (update, detach),
/// one for a model the file no longer has (detach, delete).
async fn drifted_scps(emu: &EmulatorHandle) {
    use aws_sdk_organizations::types::{PolicyType, Tag};
    let c = support::clients(emu).await.orgs;
    let tag = Tag::builder()
        .key("managed-by")
        .value("bedrock-entitlements")
        .build()
        .expect("a tag");
    for (name, target) in [
        ("bedrock-entitlements-claude", "ou-ia01-workload"),
        ("bedrock-entitlements-retired", "ou-ia01-sandbox1"),
    ] {
        let out = c
            .create_policy()
            .name(name)
            .description("drifted")
            .r#type(PolicyType::ServiceControlPolicy)
            .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/retired.*"}]}"#)
            .tags(tag.clone())
            .send()
            .await
            .expect("CreatePolicy");
        let id = out
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|p| p.id())
            .expect("a policy id")
            .to_owned();
        c.attach_policy()
            .policy_id(id)
            .target_id(target)
            .send()
            .await
            .expect("AttachPolicy");
    }
}

fn seed(grants: bool) -> Seed {
    let text = if grants {
        format!("{SEED}{GRANTS}")
    } else {
        SEED.to_owned()
    };
    Seed::from_yaml(&text).expect("the IAM seed is valid")
}

/// License Manager's delegated administrator (ml-prod) runs the tool and holds the licenses.
fn delegated_admin_seed() -> Seed {
    let mut seed = seed(false);
    seed.organization.delegated_administrator = Some("444444444444".to_owned());
    seed.default_caller = Some("444444444444".to_owned());
    seed
}

fn consolidated_billing_seed() -> Seed {
    let mut seed = seed(false);
    seed.organization.feature_set = FeatureSetSeed::ConsolidatedBilling;
    seed.organization.trusted_access = false;
    seed
}

fn enforce(state: &EmulatorState, p: &Policies) {
    let p = p.clone();
    state.update_options(move |o| {
        o.iam_policy = Some(p.caller);
        o.role_policies = p
            .role
            .into_iter()
            .map(|doc| (RECIPIENT_ROLE.to_owned(), doc))
            .collect();
    });
    state.reset_counts();
}

/// Runs `scenario` under `policies` on a fresh emulator.
async fn run(scenario: Scenario, policies: &Policies) -> Report {
    let seed = match scenario {
        Scenario::ReadOnly | Scenario::Apply => seed(true),
        Scenario::DelegatedAdmin => delegated_admin_seed(),
        Scenario::Recipients => consolidated_billing_seed(),
        Scenario::Bootstrap => {
            Seed::from_yaml(crate::bootstrap::BARE_SEED).expect("the bare seed is valid")
        }
        Scenario::Subscribe => seed(false),
    };
    // An agreement's license appears after 200 ms of emulator time (AWS: 1-2 minutes).
    let opts = EmulatorOptions {
        agreement_license_ms: 200,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(seed, opts).await;
    let cli = Cli::new(emu.endpoint_url());
    let script = Script { cli: &cli };
    let result = match scenario {
        Scenario::ReadOnly => read_only(&emu, &script, policies).await,
        Scenario::Apply => apply(&emu, &script, policies).await,
        Scenario::DelegatedAdmin => delegated_admin(&emu, &script, policies).await,
        Scenario::Recipients => recipients(&emu, &script, policies).await,
        Scenario::Bootstrap => bootstrap(&emu, &script, policies).await,
        Scenario::Subscribe => subscribe(&emu, &script, policies).await,
    };
    let state = emu.state();
    Report {
        failure: result.err(),
        calls: state.call_counts(),
        errors: state.error_counts(),
    }
}

/// Every read command, as the plan and drift jobs and a person exploring run them: first on an
/// organization in sync with the file (import round trip included), then after a grant was
/// disabled out of band. The state is set up by an `apply` without policy.
async fn read_only(emu: &EmulatorHandle, s: &Script<'_>, p: &Policies) -> Result<(), Failure> {
    enable_scps(emu).await;
    s.cli.write("entitlements.yaml", &entitlements_guarded());
    s.run(&["apply", "--auto-approve"], 0).await?;
    enforce(&emu.state(), p);

    let licenses = s.run(&["licenses", "--format", "json"], 0).await?;
    let json = s.json("licenses", &licenses)?;
    check(
        json["licenses"].as_array().map(Vec::len) == Some(4),
        "licenses",
        "four licenses",
        &licenses.stdout,
    )?;
    s.run(&["licenses"], 0).await?;
    s.run(&["plan", "--detailed-exitcode"], 0).await?;
    let drift = s.run(&["drift", "--format", "json"], 0).await?;
    let json = s.json("drift", &drift)?;
    check(
        json["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|i| i["kind"] == "foreign")),
        "drift",
        "the foreign grant is reported",
        &drift.stdout,
    )?;
    s.run(
        &["import", "--include-unmanaged", "--out", "imported.yaml"],
        0,
    )
    .await?;
    s.run(&["plan", "-c", "imported.yaml", "--detailed-exitcode"], 0)
        .await?;
    s.run(&["import"], 0).await?;
    let access = s.run(&["access", "--format", "json"], 0).await?;
    s.json("access", &access)?;
    let why = s
        .run(
            &["access", "--account", "sandbox-b", "--model", "claude"],
            0,
        )
        .await?;
    check(
        why.stdout.contains("except_accounts"),
        "access --account sandbox-b --model claude",
        "the exception is explained",
        &why.stdout,
    )?;
    s.run(&["access", "--format", "csv", "--model", "llama"], 0)
        .await?;
    // The plan job of a file that subscribes: Bedrock's offers, availability and provider.
    s.cli.write(
        "subscribing.yaml",
        &format!("{}{SONNET}", entitlements_guarded()),
    );
    let subscribing = s
        .run(
            &[
                "plan",
                "-c",
                "subscribing.yaml",
                "--format",
                "json",
                "--detailed-exitcode",
            ],
            2,
        )
        .await?;
    check(
        s.json("plan -c subscribing.yaml", &subscribing)?["summary"]["subscribe"] == 1,
        "plan -c subscribing.yaml",
        "the plan subscribes to sonnet",
        &format!("{}\n{}", subscribing.stdout, subscribing.stderr),
    )?;

    // Out of band: the ML OU loses llama.
    let state = emu.state();
    let ml = state
        .grants()
        .into_iter()
        .find(|g| g.name == "bedrock-entitlements-llama-ou-ia01-mlmlmlml")
        .expect("apply made the ML OU grant");
    state.disable_grant(&ml.arn).expect("disable out of band");

    s.run(&["drift"], 2).await?;
    s.run(&["drift", "--format", "markdown"], 2).await?;
    s.run(&["plan", "--detailed-exitcode", "--out", "plan.json"], 2)
        .await?;
    s.run(
        &[
            "plan",
            "--format",
            "markdown",
            "--target",
            "llama",
            "--detailed-exitcode",
        ],
        2,
    )
    .await?;
    s.run(&["access", "--account", "ml-dev", "--model", "llama"], 0)
        .await?;
    Ok(())
}

/// The apply job (`plan --out` then `apply PLAN --auto-approve`) from the management account,
/// on grants that drifted every way apply acts on, then `import --adopt`.
async fn apply(emu: &EmulatorHandle, s: &Script<'_>, p: &Policies) -> Result<(), Failure> {
    enable_scps(emu).await;
    drifted_scps(emu).await;
    enforce(&emu.state(), p);
    s.cli.write("entitlements.yaml", &entitlements_guarded());
    s.run(&["plan", "--detailed-exitcode", "--out", "plan.json"], 2)
        .await?;
    let policy_kinds: BTreeSet<String> = s.file("plan.json")["guardrails"]["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["kind"].as_str().map(str::to_owned))
        .collect();
    let want: BTreeSet<String> = ["create", "update", "attach", "detach", "delete"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    check(
        policy_kinds == want,
        "plan --out plan.json",
        format!("the plan exercises every kind of SCP change: {policy_kinds:?}"),
        "",
    )?;
    let kinds: BTreeSet<String> = s.file("plan.json")["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["action"].as_str().map(str::to_owned))
        .collect();
    let want: BTreeSet<String> = ["create", "activate", "deactivate", "update", "delete"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    check(
        kinds == want,
        "plan --out plan.json",
        format!("the plan exercises every kind of change: {kinds:?}"),
        "",
    )?;
    s.run(&["apply", "plan.json", "--auto-approve"], 0).await?;
    s.run(&["plan", "--detailed-exitcode"], 0).await?;
    s.run(&["drift"], 0).await?;
    s.run(
        &[
            "import",
            "--adopt",
            "--auto-approve",
            "--out",
            "adopted.yaml",
        ],
        0,
    )
    .await?;
    let adopted = emu
        .state()
        .grants()
        .into_iter()
        .filter(|g| g.name.starts_with("llama-for-shared"))
        .count();
    check(
        adopted == 0,
        "import --adopt",
        "the foreign grant was renamed",
        "",
    )?;
    s.run(&["plan", "-c", "adopted.yaml", "--detailed-exitcode"], 0)
        .await?;
    Ok(())
}

/// `apply --auto-approve` run by License Manager's delegated administrator.
async fn delegated_admin(
    emu: &EmulatorHandle,
    s: &Script<'_>,
    p: &Policies,
) -> Result<(), Failure> {
    enforce(&emu.state(), p);
    s.cli.write(
        "entitlements.yaml",
        "version: 1\nmodels:\n  llama:\n    product_sku: prod-llama00001\n    grant_to:\n      organizational_units: [Root/Workloads/ML]\n      accounts: [sandbox-a]\n",
    );
    s.run(&["plan", "--detailed-exitcode"], 2).await?;
    s.run(&["apply", "--auto-approve"], 0).await?;
    s.run(&["plan", "--detailed-exitcode"], 0).await?;
    Ok(())
}

/// `bootstrap` on an organization with nothing set up, guardrails on and a delegated
/// administrator named: the check lists every prerequisite (exit 2), `--apply` makes them all,
/// and the next check finds nothing to do.
async fn bootstrap(emu: &EmulatorHandle, s: &Script<'_>, p: &Policies) -> Result<(), Failure> {
    enforce(&emu.state(), p);
    s.cli.write("entitlements.yaml", crate::bootstrap::FILE);
    s.run(&["bootstrap"], 2).await?;
    s.run(&["bootstrap", "--apply", "--auto-approve"], 0)
        .await?;
    s.run(&["bootstrap"], 0).await?;
    Ok(())
}

/// The apply job of a file that subscribes: `plan --out` shows the subscription (and nothing
/// else), `apply PLAN` accepts the public offer, waits for the license and grants it in the
/// same run; the next plan is empty.
async fn subscribe(emu: &EmulatorHandle, s: &Script<'_>, p: &Policies) -> Result<(), Failure> {
    enforce(&emu.state(), p);
    s.cli.write(
        "entitlements.yaml",
        &format!("version: 1\nmodels:\n{SONNET}"),
    );
    s.run(&["plan", "--detailed-exitcode", "--out", "plan.json"], 2)
        .await?;
    let applied = s
        .run(&["apply", "plan.json", "--auto-approve", "--wait", "5m"], 0)
        .await?;
    let granted = emu
        .state()
        .grants()
        .into_iter()
        .any(|g| g.name == "bedrock-entitlements-sonnet-333333333333");
    check(
        granted,
        "apply plan.json",
        "subscribed, and ml-dev granted from the new license",
        &format!("{}\n{}", applied.stdout, applied.stderr),
    )?;
    s.run(&["plan", "--detailed-exitcode"], 0).await?;
    Ok(())
}

/// `apply --auto-approve` in a consolidated-billing organization, where every account grant
/// waits for its recipient: the tool accepts (and activates) through the recipient role.
async fn recipients(emu: &EmulatorHandle, s: &Script<'_>, p: &Policies) -> Result<(), Failure> {
    enforce(&emu.state(), p);
    s.cli.write(
        "entitlements.yaml",
        &format!(
            "version: 1\nsettings:\n  recipient_role: {RECIPIENT_ROLE}\nmodels:\n  claude:\n    product_sku: prod-claude0001\n    grant_to:\n      accounts: [ml-dev, sandbox-a]\n  jamba:\n    product_sku: prod-jamba00001\n    grant_to:\n      accounts: [shared]\n    status: disabled\n"
        ),
    );
    s.run(&["plan", "--detailed-exitcode"], 2).await?;
    s.run(&["apply", "--auto-approve"], 0).await?;
    s.run(&["plan", "--detailed-exitcode"], 0).await?;
    let statuses: BTreeMap<String, String> = emu
        .state()
        .grants()
        .into_iter()
        .map(|g| (g.name, g.status))
        .collect();
    let want: BTreeMap<String, String> = [
        ("bedrock-entitlements-claude-333333333333", "ACTIVE"),
        ("bedrock-entitlements-claude-555555555555", "ACTIVE"),
        ("bedrock-entitlements-jamba-222222222222", "DISABLED"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    check(
        statuses == want,
        "apply",
        format!("grants accepted and activated in the recipient accounts: {statuses:?}"),
        "",
    )
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// The emulator enforces a policy on calls made through the real SDK: for the caller's own
/// identity, for STS, and for assumed-role sessions.
#[tokio::test]
async fn the_emulator_refuses_actions_a_policy_does_not_allow() {
    use aws_sdk_licensemanager::types::AllowedOperation;

    let readonly = File::ReadOnly.doc();
    let opts = EmulatorOptions {
        iam_policy: Some(readonly.clone()),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(support::sandbox_seed(), opts).await;
    let c = support::clients(&emu).await;

    // Allowed by the read-only policy.
    let licenses = c.lm.list_received_licenses().send().await.expect("allowed");
    assert_eq!(licenses.licenses().len(), 4);
    c.orgs.list_roots().send().await.expect("allowed");

    // Not allowed: a mutating License Manager call, an Organizations read the tool never
    // makes, STS.
    let (code, message) = support::error_of(
        c.lm.create_grant()
            .client_token(support::token())
            .grant_name("bedrock-entitlements-denied")
            .license_arn(support::CLAUDE_LICENSE)
            .principals(support::account_principal(support::ML_PROD))
            .home_region("us-east-1")
            .allowed_operations(AllowedOperation::CheckoutLicense)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains("not authorized to perform: license-manager:CreateGrant"),
        "{message}"
    );
    let (code, message) = support::error_of(c.orgs.list_accounts().send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("organizations:ListAccounts"), "{message}");
    let (code, message) = support::error_of(
        c.sts
            .assume_role()
            .role_arn(format!(
                "arn:aws:iam::{}:role/{RECIPIENT_ROLE}",
                support::ML_PROD
            ))
            .role_session_name("denied")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDenied");
    assert!(message.contains("sts:AssumeRole"), "{message}");
    // Nothing was created.
    assert!(
        emu.state()
            .grants()
            .iter()
            .all(|g| g.name != "bedrock-entitlements-denied")
    );
    assert_eq!(
        emu.state().error_counts()["CreateGrant"]["AccessDeniedException"],
        1
    );

    // Assumed-role sessions carry their role's policy, not the caller's.
    emu.state().update_options(|o| {
        o.iam_policy = Some(with(&readonly, &["sts:AssumeRole"]));
        o.role_policies = BTreeMap::from([(RECIPIENT_ROLE.to_owned(), File::Recipient.doc())]);
    });
    let recipient = support::clients_assuming(&c, support::ML_PROD, RECIPIENT_ROLE).await;
    let (code, message) = support::error_of(recipient.lm.list_received_licenses().send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains(&format!(
            "assumed-role/{RECIPIENT_ROLE}/bedrock-entitlements-test is not authorized to perform: license-manager:ListReceivedLicenses"
        )),
        "{message}"
    );
    // AcceptGrant is allowed: the grant is unknown, which is not an authorization error.
    let (code, _) = support::error_of(
        recipient
            .lm
            .accept_grant()
            .grant_arn(
                "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000",
            )
            .send()
            .await,
    );
    assert_ne!(code, "AccessDeniedException");
}

/// The files are what IAM expects and what the README documents: exact actions (no
/// wildcards), Allow only, the apply policy covering the read-only one (the apply job plans
/// too), the AssumeRole statement scoped to the recipient role, and the README's table naming
/// every action of every file.
#[test]
fn the_documented_policies_list_exact_actions() {
    for file in FILES {
        let doc = file.doc();
        assert_eq!(
            doc.version.as_deref(),
            Some("2012-10-17"),
            "{}",
            file.path()
        );
        for s in &doc.statement {
            assert_eq!(
                s.effect,
                bedrock_entitlements::emulator::Effect::Allow,
                "{}",
                file.path()
            );
            assert!(s.not_action.is_empty());
            if let Some(c) = &s.condition {
                assert_eq!(file, File::Bootstrap, "{}: a Condition", file.path());
                assert_eq!(s.action, ["iam:CreateServiceLinkedRole"]);
                assert_eq!(
                    c,
                    &serde_json::json!({"StringEquals": {"iam:AWSServiceName": BOOTSTRAP_SERVICES}})
                );
            }
            assert!(
                s.resource.is_some(),
                "{}: a statement without Resource",
                file.path()
            );
            for a in &s.action {
                assert!(
                    !a.contains(['*', '?']) && a.split_once(':').is_some(),
                    "{}: {a} is not one exact action",
                    file.path()
                );
            }
        }
        let listed: Vec<&String> = doc.statement.iter().flat_map(|s| &s.action).collect();
        assert_eq!(
            listed.len(),
            actions(&doc).len(),
            "{}: an action is listed twice",
            file.path()
        );
    }
    let readonly = actions(&File::ReadOnly.doc());
    let apply = actions(&File::Apply.doc());
    assert!(
        readonly.is_subset(&apply),
        "the apply role also plans: {:?} missing from the apply policy",
        readonly.difference(&apply).collect::<Vec<_>>()
    );

    let assume = File::AssumeRecipient.doc();
    assert_eq!(
        actions(&assume),
        BTreeSet::from(["sts:AssumeRole".to_owned()])
    );
    assert_eq!(
        assume.statement[0].resource,
        Some(Value::String(format!(
            "arn:aws:iam::*:role/{RECIPIENT_ROLE}"
        )))
    );

    // docs/iam/README.md: one table row per action, naming the files that hold it.
    let readme = include_str!("../../docs/iam/README.md");
    let mut rows: BTreeMap<String, BTreeSet<File>> = BTreeMap::new();
    for line in readme.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((action, rest)) = rest.split_once('`') else {
            continue;
        };
        if !action.contains(':') || NEEDS_NO_PERMISSION.contains(&action) {
            continue;
        }
        // The second cell: the files, as `name.json` separated by commas.
        let cell = rest.split('|').nth(1).unwrap_or_default();
        let named: BTreeSet<&str> = cell
            .split(',')
            .map(|n| n.trim().trim_matches('`'))
            .collect();
        let files: BTreeSet<File> = FILES
            .into_iter()
            .filter(|f| named.contains(f.path().rsplit('/').next().unwrap_or_default()))
            .collect();
        assert_eq!(files.len(), named.len(), "README row {action}: {cell}");
        assert!(
            rows.insert(action.to_owned(), files).is_none(),
            "README lists {action} twice"
        );
    }
    let mut want: BTreeMap<String, BTreeSet<File>> = BTreeMap::new();
    for file in FILES {
        for a in actions(&file.doc()) {
            want.entry(a).or_default().insert(file);
        }
    }
    assert_eq!(rows, want, "docs/iam/README.md's action table");
}

/// Checks a scenario's full run: it succeeded, nothing was denied, every action it called is
/// in its policies; returns the actions called.
fn assert_clean(scenario: Scenario, report: &Report) -> BTreeSet<String> {
    if let Some(f) = &report.failure {
        panic!("{scenario:?} under the documented policies: {f}");
    }
    assert!(
        report.denials().is_empty(),
        "{scenario:?}: calls denied under the documented policies: {:?}",
        report.denials()
    );
    let called = report.called();
    let allowed = scenario.allowed();
    let undocumented: Vec<&String> = called.difference(&allowed).collect();
    assert!(
        undocumented.is_empty(),
        "{scenario:?} called actions its policies do not list: {undocumented:?}"
    );
    called
}

/// Every scenario passes under its documented policies, and together they call every
/// documented action.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_works_under_its_documented_policy() {
    let mut called: BTreeMap<File, BTreeSet<String>> = BTreeMap::new();
    for scenario in SCENARIOS {
        let report = run(scenario, &scenario.policies(None)).await;
        let actions = assert_clean(scenario, &report);
        for file in scenario.caller_files().iter().chain(&scenario.role_file()) {
            called.entry(*file).or_default().extend(actions.clone());
        }
    }
    for file in FILES {
        let listed = actions(&file.doc());
        let unused: Vec<&String> = listed.difference(&called[&file]).collect();
        assert!(
            unused.is_empty(),
            "{}: no scenario calls {unused:?}",
            file.path()
        );
    }
}

/// For each action of `file`: without it, some scenario of the file fails, and the failing
/// run names the denied action.
async fn assert_minimal(file: File) {
    let doc = file.doc();
    let mut problems = Vec::new();
    for action in actions(&doc) {
        let reduced = without(&doc, &action);
        let mut failure = None;
        for scenario in file.scenarios() {
            let report = run(*scenario, &scenario.policies(Some((file, &reduced)))).await;
            let denied = report.denials();
            if let Some(f) = report.failure {
                failure = Some((*scenario, f, denied));
                break;
            }
        }
        match failure {
            None => problems.push(format!(
                "{action}: every scenario passes without it (not needed)"
            )),
            Some((scenario, f, denied)) => {
                println!("{action}: needed by {scenario:?}, `{}` fails", f.step);
                if !denied.contains_key(&action) {
                    problems.push(format!(
                        "{action}: {scenario:?} failed, but not on a denied {action} ({denied:?}): {f}"
                    ));
                } else if !f.output.contains(&action) {
                    problems.push(format!(
                        "{action}: {scenario:?} failed without naming the denied action: {f}"
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} is not minimal:\n{}",
        file.path(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readonly_policy_is_minimal() {
    assert_minimal(File::ReadOnly).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apply_policy_is_minimal() {
    assert_minimal(File::Apply).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recipient_policies_are_minimal() {
    assert_minimal(File::AssumeRecipient).await;
    assert_minimal(File::Recipient).await;
}

/// The services whose service-linked roles the bootstrap policy lets the tool create.
const BOOTSTRAP_SERVICES: [&str; 2] = [
    "license-manager.amazonaws.com",
    "license-management.marketplace.amazonaws.com",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_policy_is_minimal() {
    assert_minimal(File::Bootstrap).await;
}

/// The CreateServiceLinkedRole condition names exactly the two services: without either, the
/// bootstrap run fails on a refused iam:CreateServiceLinkedRole that it names; and the
/// emulator evaluates it (a third service is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bootstrap_policy_creates_only_the_two_service_linked_roles() {
    let action = "iam:CreateServiceLinkedRole";
    for keep in BOOTSTRAP_SERVICES {
        let mut doc = File::Bootstrap.doc();
        for st in &mut doc.statement {
            if st.condition.is_some() {
                st.condition =
                    Some(serde_json::json!({"StringEquals": {"iam:AWSServiceName": [keep]}}));
            }
        }
        let report = run(
            Scenario::Bootstrap,
            &Scenario::Bootstrap.policies(Some((File::Bootstrap, &doc))),
        )
        .await;
        let denied = report.denials();
        let f = report
            .failure
            .expect("a service left out of the condition fails");
        assert_eq!(denied.get(action), Some(&1), "{f}");
        assert!(f.output.contains(action), "{f}");
    }
    assert!(
        !File::Bootstrap
            .doc()
            .allows_in(action, &[("iam:AWSServiceName", "ec2.amazonaws.com")])
    );
    assert!(
        File::Bootstrap
            .doc()
            .allows_in(action, &[("iam:AWSServiceName", BOOTSTRAP_SERVICES[1])])
    );
}

const MUTATING: [&str; 5] = [
    "CreateGrant",
    "CreateGrantVersion",
    "DeleteGrant",
    "AcceptGrant",
    "RejectGrant",
];

/// The apply policy's actions that subscribe (not reads).
const SUBSCRIBING: [&str; 2] = [
    "bedrock:CreateFoundationModelAgreement",
    "aws-marketplace:Subscribe",
];

/// Under the read-only policy `apply` changes nothing: it stops at its first call the policy
/// lacks. Even with the reads apply's checks need added, every mutating call is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readonly_policy_cannot_change_anything() {
    let readonly = File::ReadOnly.doc();
    let emu = start_emulator(seed(true), EmulatorOptions::default()).await;
    let state = emu.state();
    let before = state.grants();
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", ENTITLEMENTS);
    enforce(
        &state,
        &Policies {
            caller: readonly.clone(),
            role: None,
        },
    );

    // The documented read-only policy: apply's preflight checks are already refused.
    let run = cli.run(&["apply", "--auto-approve"]).await.expect(1);
    assert!(
        run.stderr.contains("AccessDeniedException")
            && run.stderr.contains("license-manager:GetServiceSettings"),
        "{}",
        run.stderr
    );
    for op in MUTATING {
        assert_eq!(state.call_count(op), 0, "{op} was called");
    }
    assert_eq!(state.grants(), before);

    // With the reads of the apply policy added (preflight, GetGrant), apply gets as far as a
    // read-only identity can: each action stops at its first mutating call, which is refused.
    let reads: Vec<String> = actions(&File::Apply.doc())
        .into_iter()
        .filter(|a| !MUTATING.iter().any(|m| a.ends_with(&format!(":{m}"))))
        .filter(|a| !SUBSCRIBING.contains(&a.as_str()))
        .collect();
    let reads: Vec<&str> = reads.iter().map(String::as_str).collect();
    enforce(
        &state,
        &Policies {
            caller: with(&readonly, &reads),
            role: None,
        },
    );
    let run = cli
        .run(&["apply", "--auto-approve", "--format", "json"])
        .await
        .expect(1);
    let report = run.json();
    let mut failed = 0;
    for a in report["actions"].as_array().expect("actions") {
        match a["outcome"].as_str() {
            Some("failed") => {
                failed += 1;
                let op = a["operation"].as_str().unwrap_or_default();
                assert!(MUTATING.contains(&op), "{a}");
                assert_eq!(a["error_code"], "AccessDeniedException", "{a}");
                let message = a["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(&format!(
                        "is not authorized to perform: license-manager:{op}"
                    )),
                    "{a}"
                );
            }
            // A delete waits for the other actions on its license (so access is never removed
            // before what replaces it is in place).
            Some("skipped") => assert_eq!(a["action"], "delete", "{a}"),
            _ => panic!("read-only apply did something: {a}"),
        }
    }
    assert!(failed >= 5, "{}", run.stdout);
    let calls = state.call_counts();
    let errors = state.error_counts();
    let mut attempted = 0;
    for op in MUTATING {
        let n = calls.get(op).copied().unwrap_or(0);
        let denied = errors
            .get(op)
            .and_then(|e| e.get("AccessDeniedException"))
            .copied()
            .unwrap_or(0);
        assert_eq!(denied, n, "{op}: {n} calls, {denied} denied");
        attempted += n;
    }
    assert_eq!(
        attempted, failed,
        "one refused mutating call per failed action: {calls:?}"
    );
    assert_eq!(state.grants(), before, "read-only apply changed grants");
}
