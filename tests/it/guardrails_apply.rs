//! Guardrails (issue 13) against the emulator through the real SDK: the SCP adapter and the live
//! read (`live::read_guardrails`; no policy call with guardrails off), and the executor's policy
//! actions (idempotent create by name and tag, attach/detach/delete that read "already done"
//! errors as done, lost responses, throttling, crashes), with `GuardrailPlan`s built by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use bedrock_entitlements::apply::AdaptiveLimits;
use bedrock_entitlements::aws::{
    self, ConnectOptions, NewPolicy, OrganizationsApi, RetryPolicy, SdkOrganizations,
};
use bedrock_entitlements::cli::Session;
use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions};
use bedrock_entitlements::live::{self, LicenseScope};
use bedrock_entitlements::model::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE, PolicyId, Target};

use crate::support::*;

const PREFIX: &str = "bedrock-entitlements";

fn deny(pattern: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyModel","Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/{pattern}"}}]}}"#
    )
}

fn test_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(100),
    }
}

async fn session(emu: &EmulatorHandle, limits: &Arc<AdaptiveLimits>) -> Session {
    let clients = aws::connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDEXAMPLE".to_owned(), "emulator-secret".to_owned())),
        retry: Some(test_retry()),
        observer: Some(limits.clone()),
        ..ConnectOptions::default()
    })
    .await;
    Session::from_clients(clients)
}

async fn orgs(emu: &EmulatorHandle) -> Arc<SdkOrganizations> {
    session(emu, &Arc::new(AdaptiveLimits::new())).await.orgs
}

/// The sandbox organization with SCPs enabled on its root.
async fn scp_emulator(opts: EmulatorOptions) -> EmulatorHandle {
    let emu = start_emulator(sandbox_seed(), opts).await;
    clients(&emu)
        .await
        .orgs
        .enable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("EnablePolicyType");
    emu
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
