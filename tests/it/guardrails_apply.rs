//! Guardrails (issue 13) against the emulator through the real SDK: the SCP adapter and the live
//! read (`live::read_guardrails`; no policy call with guardrails off), and the executor's policy
//! actions (idempotent create by name and tag, attach/detach/delete that read "already done"
//! errors as done, lost responses, throttling, crashes), with `GuardrailPlan`s built by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use bedrock_entitlements::apply::{
    self, AdaptiveLimits, ApplyOptions, ApplyReport, NoProgress, NoRecipients, PolicyClient,
    PolicyError, PolicyOutcome,
};
use bedrock_entitlements::aws::{
    AccountEntry, AwsError, NewPolicy, OrgInfo, OrganizationsApi, PolicyChange, PolicyDetail,
    PolicySummary, RootPolicyTypes, SdkOrganizations,
};
use bedrock_entitlements::config::GuardrailMode;
use bedrock_entitlements::emulator::{Decision, EmulatorHandle, EmulatorOptions, FaultRates, Seed};
use bedrock_entitlements::live::{self, LicenseScope};
use bedrock_entitlements::model::{
    AccountId, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, OuId, ParentId, PolicyId, RootId, Target,
};
use bedrock_entitlements::plan::{GuardrailPlan, Plan, PolicyAction};
use tokio::sync::Notify;

use crate::cli_support::Cli;
use crate::support::*;

const PREFIX: &str = "bedrock-entitlements";
const SONNET_ARN: &str =
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0";
const COHERE_ARN: &str = "arn:aws:bedrock:us-east-1::foundation-model/cohere.command-r-plus-v1:0";

fn deny(pattern: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyModel","Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/{pattern}"}}]}}"#
    )
}

async fn orgs(emu: &EmulatorHandle) -> Arc<SdkOrganizations> {
    session(emu, &Arc::new(AdaptiveLimits::new())).await.orgs
}

/// The sandbox organization with SCPs enabled on its root, then `opts` in force.
async fn scp_emulator(opts: EmulatorOptions) -> EmulatorHandle {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    enable_scps(&emu).await;
    emu.state().set_options(opts);
    emu
}

async fn enable_scps(emu: &EmulatorHandle) {
    clients(emu)
        .await
        .orgs
        .enable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("EnablePolicyType");
}

fn managed_tags() -> BTreeMap<String, String> {
    BTreeMap::from([(MANAGED_TAG_KEY.to_owned(), MANAGED_TAG_VALUE.to_owned())])
}

async fn create(
    o: &SdkOrganizations,
    name: &str,
    content: &str,
    tags: BTreeMap<String, String>,
) -> PolicyId {
    o.create_policy(&NewPolicy {
        name: name.to_owned(),
        description: "test".to_owned(),
        content: content.to_owned(),
        tags,
    })
    .await
    .expect("CreatePolicy")
    .id
}

fn account(id: &str) -> Target {
    Target::Account(id.parse().expect("an account id"))
}

fn ou(id: &str) -> Target {
    Target::Ou(id.parse().expect("an OU id"))
}

fn policy_calls(emu: &EmulatorHandle) -> BTreeMap<String, u64> {
    const POLICY_OPS: &[&str] = &[
        "ListPolicies",
        "DescribePolicy",
        "ListTargetsForPolicy",
        "ListTagsForResource",
        "ListPoliciesForTarget",
        "CreatePolicy",
        "UpdatePolicy",
        "AttachPolicy",
        "DetachPolicy",
        "DeletePolicy",
        "TagResource",
    ];
    emu.state()
        .call_counts()
        .into_iter()
        .filter(|(op, n)| POLICY_OPS.contains(&op.as_str()) && *n > 0)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The adapter and the live read.

#[tokio::test]
async fn the_live_read_sees_every_scp_with_targets_tags_and_documents() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let o = orgs(&emu).await;
    let managed = create(
        &o,
        &format!("{PREFIX}-claude"),
        &deny("anthropic.*"),
        managed_tags(),
    )
    .await;
    let untagged = create(
        &o,
        &format!("{PREFIX}-cohere"),
        &deny("cohere.*"),
        BTreeMap::new(),
    )
    .await;
    let foreign = create(&o, "security-baseline", &deny("meta.*"), BTreeMap::new()).await;
    o.attach_policy(&managed, &account(ML_DEV)).await.unwrap();
    o.attach_policy(&managed, &ou(OU_SANDBOX)).await.unwrap();
    o.attach_policy(&foreign, &ou(OU_ML)).await.unwrap();

    let g = live::read_guardrails(&o, PREFIX).await.expect("read");
    assert!(g.scp_enabled);
    let names: Vec<&str> = g.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "FullAWSAccess",
            "bedrock-entitlements-claude",
            "bedrock-entitlements-cohere",
            "security-baseline"
        ],
        "sorted by name"
    );
    let by_id = |id: &PolicyId| g.policies.iter().find(|p| &p.id == id).unwrap();
    let m = by_id(&managed);
    assert!(m.managed_tag && m.is_managed(PREFIX));
    assert_eq!(m.content, deny("anthropic.*"));
    assert_eq!(m.targets, BTreeSet::from([ou(OU_SANDBOX), account(ML_DEV)]));
    let u = by_id(&untagged);
    assert!(
        !u.managed_tag && !u.is_managed(PREFIX),
        "same prefix, no tag: foreign"
    );
    let f = by_id(&foreign);
    assert_eq!(
        f.content,
        deny("meta.*"),
        "a foreign policy's document is read"
    );
    assert!(!f.managed_tag);
    assert_eq!(f.targets.len(), 1);
    let full = &g.policies[0];
    assert!(full.aws_managed && full.content.is_empty() && full.targets.is_empty());
    // Tags are read only for the prefixed policies; FullAWSAccess gets no call of its own.
    assert_eq!(emu.state().call_count("ListTagsForResource"), 2);
    assert_eq!(emu.state().call_count("DescribePolicy"), 3);
    assert_eq!(emu.state().call_count("ListTargetsForPolicy"), 3);
}

#[tokio::test]
async fn the_live_read_reports_scps_disabled_and_pages_through_many_policies() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let o = orgs(&emu).await;
    let g = live::read_guardrails(&o, PREFIX).await.expect("read");
    assert!(!g.scp_enabled);
    // FullAWSAccess exists (and is listed) while the type is disabled.
    assert!(g.policies.iter().all(|p| p.aws_managed), "{:?}", g.policies);

    let emu = scp_emulator(EmulatorOptions {
        faults: bedrock_entitlements::emulator::FaultRates {
            empty_page: 0.3,
            throttle: 0.2,
            ..Default::default()
        },
        ..EmulatorOptions::default()
    })
    .await;
    let o = orgs(&emu).await;
    for i in 0..45 {
        create(
            &o,
            &format!("{PREFIX}-m{i:02}"),
            &deny(&format!("m{i}.*")),
            managed_tags(),
        )
        .await;
    }
    let g = live::read_guardrails(&o, PREFIX).await.expect("read");
    assert_eq!(
        g.policies.len(),
        46,
        "45 and FullAWSAccess, over pages of 20"
    );
    assert!(
        g.policies
            .iter()
            .filter(|p| !p.aws_managed)
            .all(|p| p.managed_tag)
    );
}

#[tokio::test]
async fn with_guardrails_off_the_live_read_makes_no_policy_call() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let s = session(&emu, &Arc::new(AdaptiveLimits::new())).await;
    emu.state().reset_counts();
    let l = live::read(&s.lm, &s.orgs, &LicenseScope::All, None)
        .await
        .unwrap();
    assert!(l.guardrails.is_none());
    assert_eq!(policy_calls(&emu), BTreeMap::new());
    // Root ListRoots once: the walk's own.
    assert_eq!(emu.state().call_count("ListRoots"), 1);

    let l = live::read(&s.lm, &s.orgs, &LicenseScope::All, Some(PREFIX))
        .await
        .unwrap();
    let g = l.guardrails.expect("read with a prefix");
    assert!(g.scp_enabled);
    assert_eq!(policy_calls(&emu).get("ListPolicies"), Some(&1));
}

// ---------------------------------------------------------------------------------------------
// The executor's policy actions, with hand-built guardrail plans.

fn guardrail_plan(mode: GuardrailMode, actions: Vec<PolicyAction>) -> Plan {
    Plan {
        guardrails: Some(GuardrailPlan {
            mode,
            actions,
            effects: Vec::new(),
        }),
        ..Plan::default()
    }
}

fn create_action(model: &str, pattern: &str) -> PolicyAction {
    PolicyAction::Create {
        name: format!("{PREFIX}-{model}"),
        description: format!("Denies {model} to the accounts not entitled to it"),
        content: deny(pattern),
    }
}

fn attach_new(model: &str, target: Target) -> PolicyAction {
    PolicyAction::Attach {
        policy: None,
        name: format!("{PREFIX}-{model}"),
        target,
    }
}

/// Creates `claude` (denied to OU sandbox and ML dev) and `cohere` (denied to ML prod).
fn layout_plan() -> Plan {
    guardrail_plan(
        GuardrailMode::Enforce,
        vec![
            create_action("claude", "anthropic.claude-*"),
            create_action("cohere", "cohere.*"),
            attach_new("claude", ou(OU_SANDBOX)),
            attach_new("claude", account(ML_DEV)),
            attach_new("cohere", account(ML_PROD)),
        ],
    )
}

async fn run_with<O: OrganizationsApi + 'static>(
    emu: &EmulatorHandle,
    orgs: Arc<O>,
    plan: &Plan,
) -> ApplyReport {
    let limits = Arc::new(AdaptiveLimits::new());
    // The plans have no grant action: the License Manager client is not called.
    let s = session(emu, &limits).await;
    let opts = ApplyOptions {
        limits,
        guardrails: Some(PolicyClient::new(orgs)),
        ..ApplyOptions::default()
    };
    apply::execute(
        s.lm.clone(),
        None::<&NoRecipients>,
        plan,
        &opts,
        &NoProgress,
    )
    .await
}

async fn run(emu: &EmulatorHandle, plan: &Plan) -> ApplyReport {
    run_with(emu, orgs(emu).await, plan).await
}

/// The customer-managed policies of the emulator by name: (tagged, targets), one entry per
/// policy (a name twice is a duplicate).
fn customer_policies(emu: &EmulatorHandle) -> BTreeMap<String, Vec<(bool, Vec<String>)>> {
    let mut out: BTreeMap<String, Vec<(bool, Vec<String>)>> = BTreeMap::new();
    for p in emu
        .state()
        .org_policies()
        .into_iter()
        .filter(|p| !p.aws_managed)
    {
        let tagged = p.tags.get(MANAGED_TAG_KEY).map(String::as_str) == Some(MANAGED_TAG_VALUE);
        out.entry(p.name).or_default().push((tagged, p.targets));
    }
    out
}

/// What `layout_plan` leaves: each policy once, tagged, on exactly its targets.
fn assert_layout(emu: &EmulatorHandle) {
    let mut sandbox_and_dev = vec![ML_DEV.to_owned(), OU_SANDBOX.to_owned()];
    sandbox_and_dev.sort();
    assert_eq!(
        customer_policies(emu),
        BTreeMap::from([
            (format!("{PREFIX}-claude"), vec![(true, sandbox_and_dev)]),
            (
                format!("{PREFIX}-cohere"),
                vec![(true, vec![ML_PROD.to_owned()])]
            ),
        ])
    );
    let may = |a: &str, m: &str| emu.state().may_invoke(a, "bedrock:InvokeModel", m).unwrap();
    assert_eq!(may(SANDBOX_ALICE, SONNET_ARN), Decision::Deny);
    assert_eq!(may(ML_DEV, SONNET_ARN), Decision::Deny);
    assert_eq!(may(ML_PROD, SONNET_ARN), Decision::Allow);
    assert_eq!(may(ML_PROD, COHERE_ARN), Decision::Deny);
    assert_eq!(may(ML_DEV, COHERE_ARN), Decision::Allow);
}

fn already(r: &ApplyReport) -> Vec<bool> {
    r.policies
        .iter()
        .map(|p| matches!(p.outcome, PolicyOutcome::Done { already: true, .. }))
        .collect()
}

#[tokio::test]
async fn an_enforcing_plan_creates_and_attaches_and_a_second_run_changes_nothing() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let p = layout_plan();
    let first = run(&emu, &p).await;
    assert!(first.is_success(), "{:?}", first.policies);
    assert_eq!(already(&first), [false; 5]);
    assert_layout(&emu);
    let text = bedrock_entitlements::render::apply::text(&first);
    assert!(
        text.contains(&format!(
            "done     guardrail: attach SCP {PREFIX}-claude to {OU_SANDBOX}"
        )),
        "{text}"
    );
    assert!(text.contains("Guardrails: 5 done, 0 failed."), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&bedrock_entitlements::render::apply::json(&first)).unwrap();
    assert_eq!(json["policy_actions"][2]["action"], "attach");
    assert_eq!(json["policy_actions"][2]["target"], OU_SANDBOX);
    assert_eq!(json["policy_summary"]["done"], 5);

    // The same plan again (a re-run after a crash that lost every answer): nothing twice.
    emu.state().reset_counts();
    let second = run(&emu, &p).await;
    assert!(second.is_success(), "{:?}", second.policies);
    assert_eq!(already(&second), [true; 5]);
    assert_eq!(emu.state().call_count("CreatePolicy"), 0);
    assert_eq!(
        emu.state().call_count("ListPolicies"),
        1,
        "one lookup per run"
    );
    assert_layout(&emu);
}

#[tokio::test]
async fn detach_and_delete_read_gone_as_done_and_leave_foreign_policies_alone() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let o = orgs(&emu).await;
    let foreign = create(&o, "security-baseline", &deny("meta.*"), BTreeMap::new()).await;
    o.attach_policy(&foreign, &ou(OU_SANDBOX)).await.unwrap();
    assert!(run(&emu, &layout_plan()).await.is_success());
    let claude = live::read_guardrails(&o, PREFIX)
        .await
        .unwrap()
        .policies
        .into_iter()
        .find(|p| p.name.ends_with("-claude"))
        .unwrap()
        .id;
    let name = format!("{PREFIX}-claude");
    let p = guardrail_plan(
        GuardrailMode::Enforce,
        vec![
            PolicyAction::Detach {
                policy: claude.clone(),
                name: name.clone(),
                target: ou(OU_SANDBOX),
            },
            PolicyAction::Detach {
                policy: claude.clone(),
                name: name.clone(),
                target: account(ML_DEV),
            },
            PolicyAction::Delete {
                policy: claude.clone(),
                name,
            },
        ],
    );
    let first = run(&emu, &p).await;
    assert!(first.is_success(), "{:?}", first.policies);
    assert_eq!(already(&first), [false; 3]);
    let second = run(&emu, &p).await;
    assert!(second.is_success(), "{:?}", second.policies);
    assert_eq!(already(&second), [true; 3], "not attached, not found: done");
    let left = customer_policies(&emu);
    assert!(!left.contains_key(&format!("{PREFIX}-claude")));
    assert_eq!(
        left["security-baseline"],
        vec![(false, vec![OU_SANDBOX.to_owned()])]
    );
    assert!(
        emu.state()
            .org_policies()
            .iter()
            .any(|p| p.id == "p-FullAWSAccess")
    );
}

#[tokio::test]
async fn a_same_named_policy_without_the_managed_tag_is_never_adopted() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let o = orgs(&emu).await;
    let squatter = create(
        &o,
        &format!("{PREFIX}-claude"),
        &deny("x.*"),
        BTreeMap::new(),
    )
    .await;
    let p = guardrail_plan(
        GuardrailMode::Enforce,
        vec![
            create_action("claude", "anthropic.claude-*"),
            attach_new("claude", ou(OU_SANDBOX)),
        ],
    );
    let report = run(&emu, &p).await;
    assert!(!report.is_success());
    match &report.policies[0].outcome {
        PolicyOutcome::Failed {
            error: PolicyError::Unmanaged { name, policy },
            ..
        } => {
            assert_eq!(name, &format!("{PREFIX}-claude"));
            assert_eq!(policy, &squatter);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        report.policies[1].outcome.is_failed(),
        "the attach does not take the squatter"
    );
    let text = bedrock_entitlements::render::apply::text(&report);
    assert!(
        text.contains(squatter.as_str()) && text.contains("not adopted"),
        "{text}"
    );
    assert_eq!(
        customer_policies(&emu)[&format!("{PREFIX}-claude")],
        vec![(false, vec![])],
        "untouched"
    );
    let d = o.describe_policy(&squatter).await.unwrap();
    assert_eq!(d.content, deny("x.*"));
}

#[tokio::test]
async fn report_mode_makes_no_organizations_call() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    emu.state().reset_counts();
    let p = Plan {
        guardrails: Some(GuardrailPlan {
            mode: GuardrailMode::Report,
            ..layout_plan().guardrails.unwrap()
        }),
        ..Plan::default()
    };
    let report = run(&emu, &p).await;
    assert!(report.is_success() && report.policies.is_empty());
    assert_eq!(policy_calls(&emu), BTreeMap::new());
}

#[tokio::test]
async fn lost_responses_and_throttling_still_end_with_each_policy_once() {
    let faults = FaultRates {
        throttle: 0.15,
        lost_response: 0.2,
        server_error: 0.05,
        empty_page: 0.1,
    };
    for seed in 0..6 {
        let emu = scp_emulator(EmulatorOptions {
            faults,
            fault_seed: seed,
            ..EmulatorOptions::default()
        })
        .await;
        let mut runs = 0;
        loop {
            runs += 1;
            let r = run(&emu, &layout_plan()).await;
            if r.is_success() {
                break;
            }
            assert!(runs < 4, "seed {seed}: not converged: {:?}", r.policies);
        }
        emu.state().set_options(EmulatorOptions::default());
        assert_layout(&emu);
        let lost: u64 = emu.state().lost_counts().values().sum();
        assert!(
            lost > 0 || seed > 0,
            "seed {seed}: the faults were injected"
        );
    }
}

/// An Organizations client that "dies" right after its `kill_at`-th policy write reached AWS:
/// it tells `kill` and never answers, so the executor's future is dropped there.
struct Crashing {
    inner: SdkOrganizations,
    writes: AtomicUsize,
    kill_at: usize,
    kill: Arc<Notify>,
}

impl Crashing {
    async fn write<T>(&self, r: Result<T, AwsError>) -> Result<T, AwsError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) + 1 >= self.kill_at {
            self.kill.notify_one();
            std::future::pending::<()>().await;
        }
        r
    }
}

impl OrganizationsApi for Crashing {
    async fn describe_organization(&self) -> Result<OrgInfo, AwsError> {
        self.inner.describe_organization().await
    }
    async fn list_roots(&self) -> Result<Vec<RootId>, AwsError> {
        self.inner.list_roots().await
    }
    async fn list_ous_for_parent(&self, p: &ParentId) -> Result<Vec<(OuId, String)>, AwsError> {
        self.inner.list_ous_for_parent(p).await
    }
    async fn list_accounts_for_parent(&self, p: &ParentId) -> Result<Vec<AccountEntry>, AwsError> {
        self.inner.list_accounts_for_parent(p).await
    }
    async fn list_aws_service_access(&self) -> Result<Vec<String>, AwsError> {
        self.inner.list_aws_service_access().await
    }
    async fn list_delegated_administrators(&self, s: &str) -> Result<Vec<AccountId>, AwsError> {
        self.inner.list_delegated_administrators(s).await
    }
    async fn caller_account(&self) -> Result<AccountId, AwsError> {
        self.inner.caller_account().await
    }
    async fn list_policies(&self) -> Result<Vec<PolicySummary>, AwsError> {
        self.inner.list_policies().await
    }
    async fn describe_policy(&self, p: &PolicyId) -> Result<PolicyDetail, AwsError> {
        self.inner.describe_policy(p).await
    }
    async fn list_targets_for_policy(&self, p: &PolicyId) -> Result<BTreeSet<Target>, AwsError> {
        self.inner.list_targets_for_policy(p).await
    }
    async fn list_tags_for_resource(&self, r: &str) -> Result<BTreeMap<String, String>, AwsError> {
        self.inner.list_tags_for_resource(r).await
    }
    async fn root_policy_types(&self) -> Result<Vec<RootPolicyTypes>, AwsError> {
        self.inner.root_policy_types().await
    }
    async fn create_policy(&self, req: &NewPolicy) -> Result<PolicySummary, AwsError> {
        self.write(self.inner.create_policy(req).await).await
    }
    async fn update_policy(
        &self,
        p: &PolicyId,
        c: &PolicyChange,
    ) -> Result<PolicySummary, AwsError> {
        self.write(self.inner.update_policy(p, c).await).await
    }
    async fn attach_policy(&self, p: &PolicyId, t: &Target) -> Result<(), AwsError> {
        self.write(self.inner.attach_policy(p, t).await).await
    }
    async fn detach_policy(&self, p: &PolicyId, t: &Target) -> Result<(), AwsError> {
        self.write(self.inner.detach_policy(p, t).await).await
    }
    async fn delete_policy(&self, p: &PolicyId) -> Result<(), AwsError> {
        self.write(self.inner.delete_policy(p).await).await
    }
}

#[tokio::test]
async fn killed_after_any_write_a_rerun_ends_with_each_policy_once() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    // layout_plan makes 5 writes; kill after each of them.
    for kill_at in 1..=5 {
        emu.state().reset();
        enable_scps(&emu).await;
        let kill = Arc::new(Notify::new());
        let crashing = Arc::new(Crashing {
            inner: (*orgs(&emu).await).clone(),
            writes: AtomicUsize::new(0),
            kill_at,
            kill: kill.clone(),
        });
        let p = layout_plan();
        let killed = tokio::select! {
            _ = run_with(&emu, crashing, &p) => false,
            _ = kill.notified() => true,
        };
        assert!(killed, "kill point {kill_at} was reached");
        for (name, list) in customer_policies(&emu) {
            assert_eq!(list.len(), 1, "kill point {kill_at}: {name} twice");
        }
        let r = run(&emu, &p).await;
        assert!(r.is_success(), "kill point {kill_at}: {:?}", r.policies);
        assert_layout(&emu);
    }
}

#[tokio::test]
async fn create_policy_with_tags_needs_organizations_tag_resource() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let only_create = bedrock_entitlements::emulator::PolicyDocument::from_json(
        r#"{"Statement":[{"Effect":"Allow","Action":["organizations:CreatePolicy","organizations:ListPolicies"],"Resource":"*"}]}"#,
    )
    .unwrap();
    emu.state()
        .update_options(|o| o.iam_policy = Some(only_create.clone()));
    let o = orgs(&emu).await;
    let req = |tags| NewPolicy {
        name: format!("{PREFIX}-claude"),
        description: "d".to_owned(),
        content: deny("anthropic.*"),
        tags,
    };
    let e = o.create_policy(&req(managed_tags())).await.unwrap_err();
    assert_eq!(e.code, "AccessDeniedException");
    assert!(e.message.contains("organizations:TagResource"), "{e}");
    assert!(
        o.list_policies()
            .await
            .unwrap()
            .iter()
            .all(|p| p.aws_managed),
        "nothing made"
    );
    o.create_policy(&req(BTreeMap::new()))
        .await
        .expect("untagged needs no TagResource");
}

// ---------------------------------------------------------------------------------------------
// End to end: the real binary, planner included, against the emulator.

/// A concrete Bedrock model id of each model of `examples/entitlements.yaml`, matched by its
/// `bedrock_model_ids`.
const EXAMPLE_INVOKED: &[(&str, &str)] = &[
    ("ai21-jamba", "ai21.jamba-1-5-large-v1:0"),
    ("claude-sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("cohere-command", "cohere.command-r-plus-v1:0"),
    ("stability-sdxl", "stability.stable-diffusion-xl-v1"),
];

fn model_arn(id: &str) -> String {
    format!("arn:aws:bedrock:us-east-1::foundation-model/{id}")
}

/// `examples/entitlements.yaml` with `settings.guardrails.mode` set to `mode`.
fn example_file(mode: &str) -> String {
    let text = include_str!("../../examples/entitlements.yaml");
    let out = text.replacen("mode: off", &format!("mode: {mode}"), 1);
    assert_ne!(out, text, "the example file names a guardrails mode");
    out
}

/// The Organizations writes of the policy layer so far.
fn policy_writes(emu: &EmulatorHandle) -> u64 {
    [
        "CreatePolicy",
        "UpdatePolicy",
        "AttachPolicy",
        "DetachPolicy",
        "DeletePolicy",
    ]
    .iter()
    .map(|op| emu.state().call_count(op))
    .sum()
}

/// The customer-managed SCPs by name: (content, tags, targets), one entry per policy.
type Layout = BTreeMap<String, Vec<(String, BTreeMap<String, String>, Vec<String>)>>;

fn layout(emu: &EmulatorHandle) -> Layout {
    let mut out: Layout = BTreeMap::new();
    for p in emu
        .state()
        .org_policies()
        .into_iter()
        .filter(|p| !p.aws_managed)
    {
        out.entry(p.name)
            .or_default()
            .push((p.content, p.tags, p.targets));
    }
    out
}

fn assert_no_policy_twice(layout: &Layout, when: &str) {
    for (name, list) in layout {
        assert_eq!(list.len(), 1, "{when}: {name} exists {} times", list.len());
    }
}

/// Applies until the plan is empty (at most `runs` applies); returns the applies it took.
async fn converge(cli: &Cli, runs: usize) -> usize {
    for n in 0..runs {
        let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
        if plan.code == 0 {
            return n;
        }
        assert_eq!(plan.code, 2, "plan failed:\n{}", plan.stderr);
        cli.run(&["apply", "--auto-approve"]).await;
    }
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.code, 0,
        "not converged after {runs} applies:\n{}",
        plan.stdout
    );
    runs
}

/// For every active account but the management account (SCPs never apply to it) and every
/// model: the emulator's evaluator says "may invoke" exactly when the account holds an active
/// entitlement to the model's product (read from the emulator's grants, not from the plan).
fn assert_invoke_matches_entitlement(
    emu: &EmulatorHandle,
    seed: &Seed,
    models: &[(String, String, String)],
) {
    let entitled: BTreeSet<(String, String)> = emu
        .state()
        .entitlements()
        .into_iter()
        .map(|e| (e.product_sku, e.account))
        .collect();
    let org = &seed.organization;
    let mut wrong = Vec::new();
    for a in org.accounts.iter().filter(|a| a.state == "ACTIVE") {
        if a.id == org.management_account {
            continue;
        }
        for (model, sku, invoked) in models {
            let want = if entitled.contains(&(sku.clone(), a.id.clone())) {
                Decision::Allow
            } else {
                Decision::Deny
            };
            let got = emu
                .state()
                .may_invoke(&a.id, "bedrock:InvokeModel", &model_arn(invoked))
                .unwrap();
            if got != want {
                wrong.push(format!(
                    "{} {model}: {got:?}, entitled {:?}",
                    a.id,
                    want == Decision::Allow
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
}

fn example_models(seed: &Seed) -> Vec<(String, String, String)> {
    let sku = |name_or_sku: &str| {
        seed.licenses
            .iter()
            .find(|l| l.product_sku == name_or_sku || l.product_name.starts_with(name_or_sku))
            .map(|l| l.product_sku.clone())
            .unwrap_or_else(|| panic!("no license for {name_or_sku}"))
    };
    let skus = [
        ("ai21-jamba", sku("Jamba 1.5 Large")),
        ("claude-sonnet", sku("prod-cl4ud3s0nn3t1")),
        ("cohere-command", sku("prod-c0h3r3cmdr01")),
        ("stability-sdxl", sku("prod-stab1l1tysdx")),
    ];
    EXAMPLE_INVOKED
        .iter()
        .zip(skus)
        .map(|((m, id), (_, s))| ((*m).to_owned(), s, (*id).to_owned()))
        .collect()
}

/// A foreign SCP on the ML OU, as another team would keep it.
async fn foreign_policy(emu: &EmulatorHandle) {
    let o = orgs(emu).await;
    let p = create(&o, "security-baseline", &deny("meta.*"), BTreeMap::new()).await;
    o.attach_policy(&p, &ou(OU_ML)).await.unwrap();
}

fn untouchable(emu: &EmulatorHandle) -> Vec<bedrock_entitlements::emulator::PolicyView> {
    emu.state()
        .org_policies()
        .into_iter()
        .filter(|p| p.aws_managed || p.name == "security-baseline")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_on_the_example_organization_makes_invoke_follow_entitlement() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    foreign_policy(&emu).await;
    let before = untouchable(&emu);
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &example_file("enforce"));
    let run = cli
        .run(&["apply", "--auto-approve", "--format", "json"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        report["policy_summary"]["done"].as_u64().unwrap_or(0) >= 4,
        "{}",
        run.stdout
    );
    let runs = converge(&cli, 2).await;
    assert!(runs <= 1, "{runs} more applies");
    assert_no_policy_twice(&layout(&emu), "after apply");
    assert_invoke_matches_entitlement(&emu, &sandbox_seed(), &example_models(&sandbox_seed()));
    assert_eq!(
        untouchable(&emu),
        before,
        "FullAWSAccess and the foreign SCP are unchanged"
    );
}

#[tokio::test]
async fn report_mode_apply_makes_no_organizations_write() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &example_file("report"));
    emu.state().reset_counts();
    let run = cli.run(&["apply", "--auto-approve"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        emu.state().call_count("ListPolicies") >= 1,
        "report mode reads the SCPs"
    );
    assert_eq!(policy_writes(&emu), 0, "{:?}", policy_calls(&emu));
    assert_eq!(emu.state().call_count("TagResource"), 0);
    assert!(layout(&emu).is_empty());
}

/// Spawns `apply --auto-approve` on the scratch directory's file.
fn apply_child(cli: &Cli) -> tokio::process::Child {
    cli.spawn(&["apply", "--auto-approve", "-c", "entitlements.yaml"])
}

/// Runs apply and SIGKILLs it once the emulator has answered `at` policy writes. Returns
/// whether it was killed before it finished.
async fn apply_killed_at(cli: &Cli, emu: &EmulatorHandle, at: u64) -> bool {
    let start = policy_writes(emu);
    let mut calls = emu.state().watch_calls();
    let mut child = apply_child(cli);
    let watch = async {
        loop {
            if policy_writes(emu) - start >= at {
                return;
            }
            calls.changed().await.expect("the emulator runs");
        }
    };
    let race = async {
        tokio::select! {
            status = child.wait() => {
                status.expect("apply ran");
                false
            }
            () = watch => {
                child.kill().await.expect("SIGKILL the apply process");
                true
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), race)
        .await
        .expect("apply did not finish in 120 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_any_policy_write_reruns_end_with_exactly_the_planned_policies() {
    // The layout an unkilled apply makes, and how many policy writes it takes.
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &example_file("enforce"));
    emu.state().reset_counts();
    converge(&cli, 2).await;
    let want = layout(&emu);
    let writes = policy_writes(&emu);
    assert!(
        writes >= 10,
        "only {writes} policy writes to kill at: {want:?}"
    );
    let mut killed = 0;
    for at in 1..=writes {
        emu.state().reset();
        enable_scps(&emu).await;
        if apply_killed_at(&cli, &emu, at).await {
            killed += 1;
        }
        assert_no_policy_twice(&layout(&emu), &format!("killed at write {at}"));
        let runs = converge(&cli, 3).await;
        assert!(runs <= 2, "killed at write {at}: {runs} re-runs");
        assert_eq!(layout(&emu), want, "killed at write {at}");
    }
    assert!(
        killed >= 10,
        "only {killed} of {writes} runs were killed before they finished"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_throttling_reruns_converge_with_each_policy_once() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &example_file("enforce"));
    converge(&cli, 2).await;
    let want = layout(&emu);

    emu.state().reset();
    enable_scps(&emu).await;
    let throttled = FaultRates {
        throttle: 0.5,
        lost_response: 0.1,
        ..FaultRates::default()
    };
    let ops = [
        "ListPolicies",
        "DescribePolicy",
        "ListTargetsForPolicy",
        "ListTagsForResource",
        "CreatePolicy",
        "UpdatePolicy",
        "AttachPolicy",
        "DetachPolicy",
        "DeletePolicy",
    ];
    emu.state().update_options(|o| {
        o.op_faults = ops.iter().map(|op| ((*op).to_owned(), throttled)).collect();
    });
    emu.state().reset_counts();
    let runs = converge(&cli, 4).await;
    assert!(runs >= 1, "the throttled apply ran");
    let throttles: u64 = emu
        .state()
        .error_counts()
        .values()
        .filter_map(|c| c.get("TooManyRequestsException"))
        .sum();
    assert!(throttles > 0, "Organizations throttled");
    assert_eq!(layout(&emu), want);
}

// The generated organization: 2,000 accounts in 10 OUs (two levels), 20 model licenses.

const GEN_ROOT: &str = "r-gen1";
const GEN_MANAGEMENT: &str = "100000000000";

fn gen_ou(i: usize) -> String {
    format!("ou-gen1-gen{i:05}")
}

fn gen_account(i: usize) -> String {
    format!("{:012}", 200_000_000_000u64 + i as u64)
}

fn generated_seed() -> Seed {
    let mut y = format!(
        "region: us-east-1\norganization:\n  id: o-generated01\n  feature_set: ALL\n  management_account: \"{GEN_MANAGEMENT}\"\n  root: {GEN_ROOT}\n  organizational_units:\n"
    );
    for i in 0..10 {
        // OUs 5..9 are nested under OUs 0..4.
        let parent = if i < 5 {
            GEN_ROOT.to_owned()
        } else {
            gen_ou(i - 5)
        };
        y.push_str(&format!(
            "    - {{ id: {}, name: ou{i}, parent: {parent} }}\n",
            gen_ou(i)
        ));
    }
    y.push_str(&format!(
        "  accounts:\n    - {{ id: \"{GEN_MANAGEMENT}\", name: management, parent: {GEN_ROOT} }}\n"
    ));
    for i in 0..2000 {
        let state = if i % 397 == 5 {
            ", state: SUSPENDED"
        } else {
            ""
        };
        y.push_str(&format!(
            "    - {{ id: \"{}\", name: acct{i}, parent: {}{state} }}\n",
            gen_account(i),
            gen_ou(i % 10)
        ));
    }
    y.push_str("licenses:\n");
    for m in 0..20 {
        y.push_str(&format!(
            "  - arn: arn:aws:license-manager::294406891311:license:l-{:032x}\n    product_name: Model {m} (Amazon Bedrock Edition)\n    product_sku: prod-genmodel{m:02}\n",
            m + 1
        ));
    }
    Seed::from_yaml(&y).expect("the generated seed is valid")
}

/// 20 models: organization grants with exceptions, OU grants (nested OUs included), account
/// grants, a mix, and a disabled one.
fn generated_file(mode: &str) -> String {
    let mut y = format!(
        "version: 1\nsettings:\n  max_deletes: 1000\n  guardrails:\n    mode: {mode}\nmodels:\n"
    );
    for m in 0..20 {
        y.push_str(&format!(
            "  model-{m:02}:\n    product_sku: prod-genmodel{m:02}\n    bedrock_model_ids: [\"gen.model-{m:02}-*\"]\n    grant_to:\n"
        ));
        match m % 5 {
            0 => y.push_str(&format!(
                "      organization: true\n    except_accounts: [\"{}\", \"{}\"]\n",
                gen_account(m * 7),
                gen_account(m * 7 + 13)
            )),
            1 => y.push_str(&format!(
                "      organizational_units: [{}, {}]\n",
                gen_ou(m % 5),
                gen_ou(5 + (m + 2) % 5)
            )),
            2 => y.push_str(&format!(
                "      accounts: [\"{}\", \"{}\", \"{}\"]\n",
                gen_account(m * 10),
                gen_account(m * 10 + 1),
                gen_account(m * 10 + 2)
            )),
            3 => y.push_str(&format!(
                "      organizational_units: [{}]\n      accounts: [\"{}\"]\n",
                gen_ou(m % 10),
                gen_account(m * 31 + 4)
            )),
            _ => y.push_str(&format!(
                "      organizational_units: [{}]\n    status: disabled\n",
                gen_ou(1)
            )),
        }
    }
    y
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_on_2000_accounts_and_20_models_makes_invoke_follow_entitlement() {
    let seed = generated_seed();
    let emu = start_emulator(seed.clone(), EmulatorOptions::default()).await;
    clients_as(&emu, GEN_MANAGEMENT)
        .await
        .orgs
        .enable_policy_type()
        .root_id(GEN_ROOT)
        .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("EnablePolicyType");
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &generated_file("enforce"));
    let run = cli.run(&["apply", "--auto-approve"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let runs = converge(&cli, 2).await;
    assert!(runs <= 1, "{runs} more applies");
    let l = layout(&emu);
    assert_no_policy_twice(&l, "after apply");
    // AWS's SCP limits: 5,120 characters a document, 5 SCPs a target (FullAWSAccess counts).
    let mut per_target: BTreeMap<String, usize> = BTreeMap::new();
    for (name, list) in &l {
        for (content, tags, targets) in list {
            assert!(
                content.chars().count() <= 5_120,
                "{name}: {} characters",
                content.len()
            );
            assert_eq!(
                tags.get(MANAGED_TAG_KEY).map(String::as_str),
                Some(MANAGED_TAG_VALUE)
            );
            for t in targets {
                *per_target.entry(t.clone()).or_default() += 1;
            }
        }
    }
    assert!(per_target.values().all(|n| *n <= 4), "{per_target:?}");
    let models: Vec<(String, String, String)> = (0..20)
        .map(|m| {
            (
                format!("model-{m:02}"),
                format!("prod-genmodel{m:02}"),
                format!("gen.model-{m:02}-v1:0"),
            )
        })
        .collect();
    assert_invoke_matches_entitlement(&emu, &seed, &models);
}

/// The contract's plan JSON for guardrails: in enforce mode a top-level `policy_actions` list
/// (`action`, `policy_name`, `target`) counted in `summary` as `policy_<action>`, and exit code 2;
/// in report mode the differences are reported but make no exit code 2 (apply would not write).
/// `access` then shows both layers and no leak.
#[tokio::test]
async fn enforce_plans_list_policy_actions_and_report_mode_reports_without_exit_2() {
    let emu = scp_emulator(EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", &example_file("enforce"));
    let doc = cli
        .run(&["plan", "--format", "json", "--detailed-exitcode"])
        .await
        .expect(2)
        .json();
    let listed = doc["policy_actions"].as_array().expect("policy_actions");
    assert!(!listed.is_empty(), "{doc}");
    for kind in ["create", "update", "attach", "detach", "delete"] {
        let n = listed.iter().filter(|a| a["action"] == kind).count();
        assert_eq!(doc["summary"][format!("policy_{kind}")], n, "{kind}");
    }
    assert!(listed.iter().all(|a| a["policy_name"].is_string()));
    assert!(
        listed
            .iter()
            .filter(|a| a["action"] == "attach")
            .all(|a| a["target"].is_string())
    );
    cli.run(&["apply", "--auto-approve"]).await.expect(0);
    converge(&cli, 2).await;

    // Someone detaches one of the tool's policies by hand.
    let p = emu
        .state()
        .org_policies()
        .into_iter()
        .find(|p| {
            !p.aws_managed && !p.targets.is_empty() && p.name.starts_with("bedrock-entitlements")
        })
        .expect("a managed, attached policy");
    clients(&emu)
        .await
        .orgs
        .detach_policy()
        .policy_id(&p.id)
        .target_id(&p.targets[0])
        .send()
        .await
        .expect("detach by hand");
    cli.run(&["plan", "--detailed-exitcode"]).await.expect(2);
    cli.write("entitlements.yaml", &example_file("report"));
    let doc = cli
        .run(&["plan", "--format", "json", "--detailed-exitcode"])
        .await
        .expect(0)
        .json();
    assert!(doc.get("policy_actions").is_none(), "{doc}");
    assert_eq!(doc["guardrails"]["mode"], "report");
    assert!(!doc["guardrails"]["actions"].as_array().unwrap().is_empty());
    let drift = cli.run(&["drift", "--format", "json"]).await.expect(0);
    assert!(drift.stdout.contains("policy_detached"), "{}", drift.stdout);

    // Both layers in `access`: the detached policy's target may invoke now without a grant.
    let access = cli
        .run(&["access", "--format", "json"])
        .await
        .expect(0)
        .json();
    let leaks: Vec<String> = access["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| {
            a["models"]
                .as_object()
                .unwrap()
                .values()
                .filter_map(|c| c["leak"].as_str().map(str::to_owned))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        leaks.iter().any(|l| l == "can_invoke_without_terms"),
        "{leaks:?}"
    );
    assert!(
        access["accounts"][0]["models"]
            .as_object()
            .unwrap()
            .values()
            .all(|c| c["may_invoke"].is_string())
    );
}
