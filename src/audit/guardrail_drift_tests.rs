//! Guardrail drift on the org tests' fixture organization (see `plan/guardrails_tests.rs` for
//! the tree): `claude` is granted to the ML OU (222222222222, 333333333333); the layout denies
//! it at the Sandbox and Web OUs and the accounts 777777777777 and 888888888888.

use std::collections::BTreeSet;

use super::guardrail_drift::{GuardrailDriftKind as K, Reading, classify, has_drift, reading};
use crate::config::Config;
use crate::model::{AccountId, Live, LiveGuardrails, ScpPolicy};
use crate::org::tests::fixture_live;
use crate::org::{Desired, ResolveOptions, resolve};
use crate::plan::guardrails_tests::{scp, target};
use crate::plan::{Plan, PolicyAction, plan};

const CLAUDE: &str = "bedrock-entitlements-claude";

fn config(mode: &str) -> Config {
    crate::config::parse(&format!(
        "version: 1\nsettings:\n  guardrails:\n    mode: {mode}\nmodels:\n  claude:\n    product_sku: prod-a\n    grant_to: {{organizational_units: [ou-root-mlmlmlml]}}\n    bedrock_model_ids: [anthropic.claude-*]\n"
    ))
    .expect("valid")
}

fn desired(mode: &str, live: &Live) -> Desired {
    resolve(&config(mode), live, &ResolveOptions::default()).expect("resolves")
}

fn live_with(policies: Vec<ScpPolicy>) -> Live {
    let mut live = fixture_live();
    live.guardrails = Some(LiveGuardrails {
        scp_enabled: true,
        policies,
    });
    live
}

/// The live SCPs as the first plan's actions leave them.
fn settled(mode: &str) -> Live {
    let live = live_with(Vec::new());
    let p = plan(&desired(mode, &live), &live);
    let mut created = scp("p-claude001", CLAUDE, true, "", &[]);
    for a in &p.guardrails.as_ref().unwrap().actions {
        match a {
            PolicyAction::Create {
                description,
                content,
                ..
            } => {
                created.description = description.clone();
                created.content = content.clone();
            }
            PolicyAction::Attach { target, .. } => {
                created.targets.insert(target.clone());
            }
            other => panic!("a first plan only creates and attaches: {other:?}"),
        }
    }
    live_with(vec![created])
}

fn drift(mode: &str, live: &Live) -> (Plan, Vec<super::guardrail_drift::GuardrailDrift>) {
    let d = desired(mode, live);
    let p = plan(&d, live);
    let items = classify(&d, live, &p);
    (p, items)
}

fn kinds(items: &[super::guardrail_drift::GuardrailDrift]) -> Vec<K> {
    items.iter().map(|i| i.kind).collect()
}

fn ids(s: &[&str]) -> Vec<AccountId> {
    s.iter().map(|a| a.parse().unwrap()).collect()
}

#[test]
fn settled_guardrails_have_no_drift() {
    let (_, items) = drift("enforce", &settled("enforce"));
    assert!(items.is_empty(), "{items:?}");
}

#[test]
fn an_edited_a_detached_and_a_misplaced_policy_are_drift() {
    let mut live = settled("enforce");
    let p = &mut live.guardrails.as_mut().unwrap().policies[0];
    p.content = p
        .content
        .replace("anthropic.claude-*", "anthropic.claude-3-*");
    p.targets.remove(&target("ou-root-webwebwe"));
    p.targets.insert(target("ou-root-mlmlmlml"));
    let (_, items) = drift("enforce", &live);
    assert_eq!(
        kinds(&items),
        [K::PolicyEdited, K::PolicyDetached, K::AttachedElsewhere]
    );
    assert_eq!(items[1].targets, [target("ou-root-webwebwe")]);
    assert_eq!(items[1].accounts, ids(&["444444444444"]));
    assert_eq!(items[2].accounts, ids(&["222222222222", "333333333333"]));
    assert!(items.iter().all(|i| i.fixed_by_apply));
    assert!(
        items
            .iter()
            .all(|i| i.models.len() == 1 && i.models[0].as_str() == "claude")
    );
    assert!(has_drift(&items));
}

#[test]
fn a_deleted_policy_and_one_no_longer_laid_out_are_reported_in_report_mode_without_exit_2() {
    let mut live = settled("report");
    let g = live.guardrails.as_mut().unwrap();
    g.policies[0].name = "bedrock-entitlements-retired".to_owned();
    let (_, items) = drift("report", &live);
    assert_eq!(kinds(&items), [K::PolicyMissing, K::NotInLayout]);
    assert_eq!(items[0].policy_name, CLAUDE);
    assert_eq!(items[0].policy_id, None);
    assert_eq!(items[0].accounts.len(), 4, "{:?}", items[0].accounts);
    assert_eq!(items[1].targets.len(), 4);
    assert!(
        items.iter().all(|i| !i.fixed_by_apply),
        "report mode writes nothing"
    );
    // Apply would not act on them, so (as the contract says of foreign grants) no exit code 2.
    assert!(!has_drift(&items));
}

#[test]
fn a_foreign_deny_of_an_entitled_account_is_reported_not_drift() {
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:Invoke*","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.*"}]}"#;
    let conditional = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"bedrock:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"x"}}}}"#;
    let other_model = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/meta.*"}]}"#;
    let mut live = settled("enforce");
    let g = live.guardrails.as_mut().unwrap();
    g.policies.push(scp(
        "p-foreign01",
        "team-deny",
        false,
        deny,
        &["ou-root-mlmlmlml"],
    ));
    g.policies.push(scp(
        "p-foreign02",
        "maybe",
        false,
        conditional,
        &["333333333333"],
    ));
    g.policies.push(scp(
        "p-foreign03",
        "meta-only",
        false,
        other_model,
        &["r-root"],
    ));
    let mut fa = scp("p-FullAWSAccess", "FullAWSAccess", false, deny, &["r-root"]);
    fa.aws_managed = true;
    g.policies.push(fa);
    let (p, items) = drift("enforce", &live);
    assert_eq!(kinds(&items), [K::ForeignDenies, K::ForeignMayDeny]);
    assert_eq!(items[0].policy_name, "team-deny");
    assert_eq!(items[0].accounts, ids(&["222222222222", "333333333333"]));
    assert_eq!(items[0].targets, [target("ou-root-mlmlmlml")]);
    assert_eq!(items[1].accounts, ids(&["333333333333"]));
    assert!(!has_drift(&items), "foreign policies are reported only");
    // Foreign policies are never acted on.
    let touched: BTreeSet<&str> = p
        .guardrails
        .as_ref()
        .unwrap()
        .actions
        .iter()
        .map(PolicyAction::name)
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
}

#[test]
fn the_static_reading_decides_only_unconditional_statements() {
    let arn = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-*";
    let doc = |s: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{s}]}}"#);
    let cases = [
        (
            r#"{"Effect":"Deny","Action":"*","Resource":"*"}"#,
            Reading::Denies,
        ),
        (
            r#"{"Effect":"Deny","Action":["s3:*","BEDROCK:invokemodel"],"Resource":["arn:aws:bedrock:*"]}"#,
            Reading::Denies,
        ),
        (
            r#"{"Effect":"Deny","Action":"s3:*","Resource":"*"}"#,
            Reading::NoDeny,
        ),
        (
            r#"{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}"#,
            Reading::NoDeny,
        ),
        (
            r#"{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}"#,
            Reading::Unknown,
        ),
        (
            r#"{"Effect":"Deny","Action":"bedrock:*","NotResource":"arn:x"}"#,
            Reading::Unknown,
        ),
        (
            r#"{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/meta.*"}"#,
            Reading::NoDeny,
        ),
    ];
    for (statement, want) in cases {
        assert_eq!(reading(&doc(statement), arn), want, "{statement}");
    }
    assert_eq!(reading("not json", arn), Reading::NoDeny);
}

#[test]
fn the_drift_report_counts_guardrail_differences_for_its_exit_code() {
    let mut live = settled("enforce");
    live.guardrails.as_mut().unwrap().policies[0]
        .targets
        .remove(&target("777777777777"));
    let c = config("enforce");
    let d = resolve(&c, &live, &ResolveOptions::default()).unwrap();
    let p = plan(&d, &live);
    let mut no_grant_actions = p.clone();
    no_grant_actions.actions.clear();
    let report = super::classify(&super::DriftInput {
        config: &c,
        desired: &d,
        live: &live,
        plan: &no_grant_actions,
        baseline: None,
        now: None,
    });
    assert_eq!(report.actions, 0);
    assert_eq!(kinds(&report.guardrails), [K::PolicyDetached]);
    assert!(report.has_drift(), "a detached guardrail is drift (exit 2)");
    let json = crate::render::drift::json(&report);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["guardrails"][0]["kind"], "policy_detached");
    assert_eq!(v["guardrail_summary"]["policy_detached"], 1);
    assert!(
        crate::render::drift::text(&report).contains("policy_detached bedrock-entitlements-claude")
    );
}
