//! Organizations policies through the real `aws-sdk-organizations` client: every operation, AWS's
//! quotas and errors, the SCP evaluator along an account's path, a guardrail layout applied and
//! judged by the evaluator, and the boto3 check (`tests/boto3/org_policies.py`).

use std::collections::BTreeMap;

use aws_sdk_organizations::Client;
use aws_sdk_organizations::error::SdkError;
use aws_sdk_organizations::operation::attach_policy::AttachPolicyError;
use aws_sdk_organizations::operation::create_policy::CreatePolicyError;
use aws_sdk_organizations::operation::detach_policy::DetachPolicyError;
use aws_sdk_organizations::types::{
    ConstraintViolationExceptionReason, PolicyType, PolicyTypeStatus, Tag, TargetType,
};
use bedrock_entitlements::emulator::{Decision, EmulatorHandle, EmulatorOptions, Seed};
use bedrock_entitlements::guardrails::{self, LayoutInput, ModelGuard, Target};
use bedrock_entitlements::model::{
    AccountId, AccountState, FeatureSet, OrgAccount, OrgUnit, Organization, ParentId,
};

use crate::support::*;

const SCP: PolicyType = PolicyType::ServiceControlPolicy;
const FULL: &str = "p-FullAWSAccess";
const SONNET: &str =
    "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0";
const DENY_SONNET: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-*"}]}"#;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build().unwrap()
}

async fn enabled(emu: &EmulatorHandle) -> Client {
    let c = clients(emu).await.orgs;
    c.enable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(SCP)
        .send()
        .await
        .unwrap();
    c
}

async fn create(c: &Client, name: &str, content: &str) -> String {
    let out = c
        .create_policy()
        .name(name)
        .description("test")
        .r#type(SCP)
        .content(content)
        .send()
        .await
        .unwrap();
    let id = out
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap();
    id.to_owned()
}

async fn attached(c: &Client, target: &str) -> Vec<String> {
    let out = c
        .list_policies_for_target()
        .target_id(target)
        .filter(SCP)
        .send()
        .await
        .unwrap();
    out.policies()
        .iter()
        .filter_map(|p| p.id().map(str::to_owned))
        .collect()
}

fn attach_reason(r: Result<impl std::fmt::Debug, SdkError<AttachPolicyError>>) -> String {
    match r.unwrap_err().into_service_error() {
        AttachPolicyError::ConstraintViolationException(e) => e
            .reason()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        other => panic!("expected ConstraintViolationException, got {other:?}"),
    }
}

#[tokio::test]
async fn enabling_scps_attaches_full_aws_access_everywhere() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.orgs;
    let roots = c.list_roots().send().await.unwrap();
    assert!(roots.roots()[0].policy_types().is_empty());
    assert_eq!(attached(&c, ML_PROD).await, Vec::<String>::new());
    let (code, _) = error_of(
        c.attach_policy()
            .policy_id(FULL)
            .target_id(ML_PROD)
            .send()
            .await,
    );
    assert_eq!(code, "PolicyTypeNotEnabledException");

    let out = c
        .enable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(SCP)
        .send()
        .await
        .unwrap();
    let types = out.root().unwrap().policy_types();
    assert_eq!(types[0].r#type(), Some(&SCP));
    assert_eq!(types[0].status(), Some(&PolicyTypeStatus::Enabled));
    let roots = c.list_roots().send().await.unwrap();
    assert_eq!(roots.roots()[0].policy_types().len(), 1);
    let (code, _) = error_of(
        c.enable_policy_type()
            .root_id(ROOT_ID)
            .policy_type(SCP)
            .send()
            .await,
    );
    assert_eq!(code, "PolicyTypeAlreadyEnabledException");
    let (code, _) = error_of(
        c.enable_policy_type()
            .root_id("r-zz99")
            .policy_type(SCP)
            .send()
            .await,
    );
    assert_eq!(code, "RootNotFoundException");
}

#[tokio::test]
async fn full_aws_access_sits_on_every_target() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    for target in [ROOT_ID, OU_ML, ML_PROD] {
        assert_eq!(attached(&c, target).await, [FULL]);
    }
    let full = c.describe_policy().policy_id(FULL).send().await.unwrap();
    let full = full.policy().unwrap();
    let summary = full.policy_summary().unwrap();
    assert_eq!(summary.name(), Some("FullAWSAccess"));
    assert!(summary.aws_managed());
    assert_eq!(
        summary.arn(),
        Some("arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess")
    );
    // Every root, OU and account: 1 + 5 + 14 targets, in pages of 7.
    let pages: Vec<_> = c
        .list_targets_for_policy()
        .policy_id(FULL)
        .max_results(7)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let targets: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().targets().to_vec())
        .collect();
    assert_eq!(targets.len(), 20);
    assert!(
        targets
            .iter()
            .any(|t| t.r#type() == Some(&TargetType::Root))
    );
    let ml = targets
        .iter()
        .find(|t| t.target_id() == Some(OU_ML))
        .unwrap();
    assert_eq!(ml.name(), Some("ML"));
    assert_eq!(ml.r#type(), Some(&TargetType::OrganizationalUnit));
}

#[tokio::test]
async fn create_describe_list_and_tag_a_policy() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    let out = c
        .create_policy()
        .name("guard-sonnet")
        .description("deny sonnet")
        .r#type(SCP)
        .content(DENY_SONNET)
        .tags(tag("managed-by", "bedrock-entitlements"))
        .send()
        .await
        .unwrap();
    let summary = out.policy().unwrap().policy_summary().unwrap();
    let id = summary.id().unwrap().to_owned();
    assert!(id.starts_with("p-") && id.len() >= 12, "{id}");
    assert_eq!(
        summary.arn().unwrap(),
        format!("arn:aws:organizations::{MANAGEMENT}:policy/{ORG_ID}/service_control_policy/{id}")
    );
    assert!(!summary.aws_managed());
    let d = c.describe_policy().policy_id(&id).send().await.unwrap();
    assert_eq!(d.policy().unwrap().content(), Some(DENY_SONNET));
    let tags = c
        .list_tags_for_resource()
        .resource_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].key(), "managed-by");
    c.tag_resource()
        .resource_id(&id)
        .tags(tag("team", "ml"))
        .send()
        .await
        .unwrap();
    c.untag_resource()
        .resource_id(&id)
        .tag_keys("managed-by")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_id(&id)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["team"]);

    let (code, _) = error_of(
        c.create_policy()
            .name("guard-sonnet")
            .description("")
            .r#type(SCP)
            .content(DENY_SONNET)
            .send()
            .await,
    );
    assert_eq!(code, "DuplicatePolicyException");
    let listed = c.list_policies().filter(SCP).send().await.unwrap();
    let mut ids: Vec<&str> = listed.policies().iter().filter_map(|p| p.id()).collect();
    ids.sort();
    let mut expect = vec![FULL, id.as_str()];
    expect.sort();
    assert_eq!(ids, expect);
}

#[tokio::test]
async fn attach_update_detach_and_delete() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    let id = create(&c, "guard-sonnet", DENY_SONNET).await;
    c.attach_policy()
        .policy_id(&id)
        .target_id(OU_ML)
        .send()
        .await
        .unwrap();
    let (code, _) = error_of(
        c.attach_policy()
            .policy_id(&id)
            .target_id(OU_ML)
            .send()
            .await,
    );
    assert_eq!(code, "DuplicatePolicyAttachmentException");
    let mut on_ml = attached(&c, OU_ML).await;
    on_ml.sort();
    assert_eq!(on_ml.len(), 2);
    let targets = c
        .list_targets_for_policy()
        .policy_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets()[0].target_id(), Some(OU_ML));
    let (code, _) = error_of(c.delete_policy().policy_id(&id).send().await);
    assert_eq!(code, "PolicyInUseException");

    let new_doc = DENY_SONNET.replace("sonnet-4-5", "opus-4");
    let u = c
        .update_policy()
        .policy_id(&id)
        .name("guard-opus")
        .content(&new_doc)
        .send()
        .await
        .unwrap();
    assert_eq!(u.policy().unwrap().content(), Some(new_doc.as_str()));
    assert_eq!(
        u.policy().unwrap().policy_summary().unwrap().name(),
        Some("guard-opus")
    );
    let (code, _) = error_of(c.update_policy().policy_id(FULL).name("mine").send().await);
    assert_eq!(code, "InvalidInputException");

    c.detach_policy()
        .policy_id(&id)
        .target_id(OU_ML)
        .send()
        .await
        .unwrap();
    let (code, _) = error_of(
        c.detach_policy()
            .policy_id(&id)
            .target_id(OU_ML)
            .send()
            .await,
    );
    assert_eq!(code, "PolicyNotAttachedException");
    c.delete_policy().policy_id(&id).send().await.unwrap();
    let (code, _) = error_of(c.describe_policy().policy_id(&id).send().await);
    assert_eq!(code, "PolicyNotFoundException");
    let (code, _) = error_of(c.describe_policy().policy_id("nope").send().await);
    assert_eq!(code, "InvalidInputException");
}

#[tokio::test]
async fn document_size_syntax_and_name_quotas() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    // Size: 5,120 characters is the SCP quota.
    let padded = |n: usize| {
        let base = DENY_SONNET.trim_end_matches("]}");
        let sid_pad = n - DENY_SONNET.len();
        format!("{base}{}]}}", " ".repeat(sid_pad))
    };
    assert_eq!(padded(5_120).chars().count(), 5_120);
    create(&c, "exactly-5120", &padded(5_120)).await;
    let r = c
        .create_policy()
        .name("too-big")
        .description("")
        .r#type(SCP)
        .content(padded(5_121))
        .send()
        .await;
    match r.unwrap_err().into_service_error() {
        CreatePolicyError::ConstraintViolationException(e) => assert_eq!(
            e.reason(),
            Some(&ConstraintViolationExceptionReason::PolicyContentLimitExceeded)
        ),
        other => panic!("{other:?}"),
    }
    for bad in [
        "not json",
        r#"{"Statement":[{"Effect":"Deny"}]}"#,
        r#"{"Statement":[{"Effect":"Deny","Action":"*","Principal":"*"}]}"#,
    ] {
        let (code, _) = error_of(
            c.create_policy()
                .name("bad")
                .description("")
                .r#type(SCP)
                .content(bad)
                .send()
                .await,
        );
        assert_eq!(code, "MalformedPolicyDocumentException", "{bad}");
    }
    let (code, _) = error_of(
        c.create_policy()
            .name("n".repeat(129))
            .description("")
            .r#type(SCP)
            .content(DENY_SONNET)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInputException");
    create(&c, &"n".repeat(128), DENY_SONNET).await;
}

#[tokio::test]
async fn five_scps_per_target_and_never_none() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    // Five SCPs per target, FullAWSAccess counting.
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create(&c, &format!("p{i}"), DENY_SONNET).await);
    }
    for id in &ids[..4] {
        c.attach_policy()
            .policy_id(id)
            .target_id(ML_PROD)
            .send()
            .await
            .unwrap();
    }
    let r = c
        .attach_policy()
        .policy_id(&ids[4])
        .target_id(ML_PROD)
        .send()
        .await;
    assert_eq!(
        attach_reason(r),
        "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    );
    // FullAWSAccess can go while another SCP stays; the last one cannot.
    c.detach_policy()
        .policy_id(FULL)
        .target_id(ML_PROD)
        .send()
        .await
        .unwrap();
    for id in &ids[..3] {
        c.detach_policy()
            .policy_id(id)
            .target_id(ML_PROD)
            .send()
            .await
            .unwrap();
    }
    let r = c
        .detach_policy()
        .policy_id(&ids[3])
        .target_id(ML_PROD)
        .send()
        .await;
    match r.unwrap_err().into_service_error() {
        DetachPolicyError::ConstraintViolationException(e) => assert_eq!(
            e.reason(),
            Some(&ConstraintViolationExceptionReason::MinPolicyTypeAttachmentLimitExceeded)
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(attached(&c, ML_PROD).await, [ids[3].clone()]);
}

#[tokio::test]
async fn unknown_targets_members_and_disabling() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    let (code, _) = error_of(
        c.attach_policy()
            .policy_id(FULL)
            .target_id("123456789012")
            .send()
            .await,
    );
    assert_eq!(code, "TargetNotFoundException");
    let (code, _) = error_of(
        c.attach_policy()
            .policy_id(FULL)
            .target_id("ou-nope")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidInputException");
    let (code, _) = error_of(c.delete_policy().policy_id(FULL).send().await);
    assert_eq!(code, "InvalidInputException");

    // Only the management account manages policies.
    let member = clients_as(&emu, ML_PROD).await.orgs;
    let (code, _) = error_of(member.list_policies().filter(SCP).send().await);
    assert_eq!(code, "AccessDeniedException");

    // Disabling the type detaches every SCP; enabling it again attaches FullAWSAccess only.
    c.disable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(SCP)
        .send()
        .await
        .unwrap();
    assert!(attached(&c, ML_PROD).await.is_empty());
    let (code, _) = error_of(
        c.disable_policy_type()
            .root_id(ROOT_ID)
            .policy_type(SCP)
            .send()
            .await,
    );
    assert_eq!(code, "PolicyTypeNotEnabledException");
    c.enable_policy_type()
        .root_id(ROOT_ID)
        .policy_type(SCP)
        .send()
        .await
        .unwrap();
    assert_eq!(attached(&c, ML_PROD).await, [FULL]);
}

#[tokio::test]
async fn the_evaluator_reads_every_level_of_the_path() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let state = emu.state();
    // SCPs not enabled: nothing is restricted.
    assert_eq!(
        state.may_invoke(ML_PROD, "bedrock:InvokeModel", SONNET),
        Ok(Decision::Allow)
    );
    let c = enabled(&emu).await;
    let deny = create(&c, "deny-sonnet", DENY_SONNET).await;
    c.attach_policy()
        .policy_id(&deny)
        .target_id(OU_WORKLOADS)
        .send()
        .await
        .unwrap();
    let may = |a: &str, r: &str| state.may_invoke(a, "bedrock:InvokeModel", r).unwrap();
    assert_eq!(may(ML_PROD, SONNET), Decision::Deny, "denied two levels up");
    assert_eq!(may(DATA_PROD, SONNET), Decision::Deny);
    assert_eq!(may(SANDBOX_ALICE, SONNET), Decision::Allow);
    assert_eq!(
        may(MANAGEMENT, SONNET),
        Decision::Allow,
        "SCPs spare the management account"
    );
    let haiku = SONNET.replace("sonnet-4-5", "haiku-4-5");
    assert_eq!(may(ML_PROD, &haiku), Decision::Allow);

    // A level without an Allow denies: replace FullAWSAccess on ML with an S3-only allow.
    let s3 = create(
        &c,
        "s3-only",
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    )
    .await;
    c.attach_policy()
        .policy_id(&s3)
        .target_id(OU_ML)
        .send()
        .await
        .unwrap();
    c.detach_policy()
        .policy_id(FULL)
        .target_id(OU_ML)
        .send()
        .await
        .unwrap();
    assert_eq!(may(ML_PROD, &haiku), Decision::Deny);
    assert_eq!(may(DATA_PROD, &haiku), Decision::Allow);

    // A condition makes it undecidable.
    let cond = create(&c, "region", r#"{"Statement":{"Effect":"Deny","Action":"bedrock:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}}"#).await;
    c.attach_policy()
        .policy_id(&cond)
        .target_id(SANDBOX_ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(may(SANDBOX_ALICE, &haiku), Decision::Unknown);
}

#[tokio::test]
async fn the_admin_route_evaluates_too() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    let deny = create(&c, "deny-sonnet", DENY_SONNET).await;
    c.attach_policy()
        .policy_id(&deny)
        .target_id(OU_WORKLOADS)
        .send()
        .await
        .unwrap();
    // The admin route says the same, with the levels.
    let (status, v) = admin_post(
        &emu,
        "scp/evaluate",
        serde_json::json!({"account_id": ML_PROD, "resource": SONNET}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["decision"], "deny");
    assert_eq!(v["levels"][0][0], ROOT_ID);
    assert_eq!(v["levels"][3][0], ML_PROD);
    let (status, v) = admin_get(&emu, "scp/policies").await;
    assert_eq!(status, 200);
    assert_eq!(v.as_array().unwrap().len(), 2);
    let (status, _) = admin_post(
        &emu,
        "scp/evaluate",
        serde_json::json!({"account_id": "123456789012", "resource": SONNET}),
    )
    .await;
    assert_eq!(status, 404);
}

/// The seed's organization as the model describes it (for the layout).
fn organization(seed: &Seed) -> Organization {
    let o = &seed.organization;
    let parent = |p: &str| match p.parse() {
        Ok(ou) if p.starts_with("ou-") => ParentId::Ou(ou),
        _ => ParentId::Root(o.root.parse().unwrap()),
    };
    Organization {
        id: o.id.parse().unwrap(),
        management_account: o.management_account.parse().unwrap(),
        feature_set: FeatureSet::All,
        root: o.root.parse().unwrap(),
        ous: o
            .organizational_units
            .iter()
            .map(|u| {
                let id = u.id.parse().unwrap();
                let unit = OrgUnit {
                    id: u.id.parse().unwrap(),
                    name: u.name.clone(),
                    parent: parent(&u.parent),
                };
                (id, unit)
            })
            .collect(),
        accounts: o
            .accounts
            .iter()
            .map(|a| {
                let id: AccountId = a.id.parse().unwrap();
                let acc = OrgAccount {
                    id: id.clone(),
                    name: a.name.clone(),
                    state: AccountState::parse(&a.state),
                    parent: parent(a.parent.as_deref().unwrap_or(&o.root)),
                };
                (id, acc)
            })
            .collect(),
    }
}

#[tokio::test]
async fn a_guardrail_layout_applied_denies_exactly_the_accounts_not_entitled() {
    let seed = sandbox_seed();
    let org = organization(&seed);
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = enabled(&emu).await;
    let guard = |key: &str, ids: &[&str], entitled: &[&str]| ModelGuard {
        key: key.to_owned(),
        model_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        entitled: entitled.iter().map(|a| a.parse().unwrap()).collect(),
        marketplace_product_id: Some(format!("prod-{key}")),
    };
    let models = vec![
        guard(
            "claude-sonnet",
            &["anthropic.claude-sonnet-4-5-*"],
            &[ML_PROD, ML_DEV],
        ),
        guard(
            "cohere",
            &["cohere.command-r-*", "cohere.embed-*"],
            &[DATA_PROD],
        ),
    ];
    let input = LayoutInput {
        organization: &org,
        grantor: MANAGEMENT.parse().unwrap(),
        policy_name_prefix: "bedrock-guard".to_owned(),
        models: models.clone(),
        deny_marketplace_subscribe: true,
        foreign_attachments: BTreeMap::new(),
        foreign_policies: 1,
    };
    let layout = guardrails::layout(&input).unwrap();
    for p in &layout.policies {
        let id = create(&c, &p.name, &p.document).await;
        for t in &p.targets {
            c.attach_policy()
                .policy_id(&id)
                .target_id(t.id())
                .send()
                .await
                .unwrap();
        }
    }
    // ML holds ml-research, not entitled to sonnet: ML is no clean subtree for it.
    let sonnet = layout
        .policies
        .iter()
        .find(|p| p.name == "bedrock-guard-claude-sonnet")
        .unwrap();
    assert!(
        sonnet
            .targets
            .contains(&Target::Ou(OU_SANDBOX.parse().unwrap()))
    );
    let state = emu.state();
    for m in &models {
        let model = m.model_ids[0].replace('*', "20250101-v1:0");
        let arn = format!("arn:aws:bedrock:us-west-2::foundation-model/{model}");
        for (id, a) in &org.accounts {
            let d = state
                .may_invoke(id.as_str(), "bedrock:InvokeModel", &arn)
                .unwrap();
            let entitled = m.entitled.contains(id) || id.as_str() == MANAGEMENT;
            if a.state == AccountState::Active {
                let expect = if entitled {
                    Decision::Allow
                } else {
                    Decision::Deny
                };
                assert_eq!(d, expect, "{} {}", a.name, m.key);
            }
        }
    }
    for p in state.org_policies() {
        assert!(p.content.chars().count() <= guardrails::SCP_MAX_CHARS);
        assert!(p.targets.iter().all(|t| !t.is_empty()));
    }
}

/// boto3 against `bedrock-entitlements emulator`: AWS-shaped answers and errors. Skipped, with the
/// reason printed, where python3 or boto3 is missing.
#[test]
fn boto3_sees_aws_shaped_policies() {
    crate::support::run_boto3_check("org_policies.py");
}
