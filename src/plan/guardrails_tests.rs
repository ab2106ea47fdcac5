//! The guardrails layer of the planner, with hand-built live SCPs on the org tests' fixture
//! organization:
//!
//! ```text
//! Root: management 111111111111, dup 777777777777
//! ├── Workloads ou-root-workload: shared 888888888888
//! │   ├── ML ou-root-mlmlmlml: ml-dev 222222222222, ml-prod 333333333333
//! │   └── Web ou-root-webwebwe: web 444444444444
//! └── Sandbox ou-root-sandbox1: sandbox 555555555555 (SUSPENDED), dup 666666666666
//! ```

use std::collections::BTreeSet;

use super::{GuardrailNoteKind, Plan, PolicyAction, PolicyPhase, fingerprint, plan};
use crate::config::{GuardrailMode, ModelKey};
use crate::model::{AccountId, Live, LiveGuardrails, MANAGED_TAG_KEY, PolicyId, ScpPolicy, Target};
use crate::org::tests::fixture_live;
use crate::org::{Desired, ResolveOptions, resolve};

const PREFIX: &str = "bedrock-entitlements";
const CLAUDE: &str = "bedrock-entitlements-claude";

fn desired_with(mode: &str, models: &str, live: &Live) -> Desired {
    let text = format!("version: 1\nsettings:\n  guardrails:\n    mode: {mode}\nmodels:\n{models}");
    let config = crate::config::parse(&text).expect("a valid test file");
    resolve(&config, live, &ResolveOptions::default()).expect("resolves")
}

/// `claude` (license prod-a) granted to the ML OU.
fn desired(mode: &str, live: &Live) -> Desired {
    desired_with(
        mode,
        "  claude:\n    product_sku: prod-a\n    grant_to: {organizational_units: [ou-root-mlmlmlml]}\n    bedrock_model_ids: [anthropic.claude-*]\n",
        live,
    )
}

pub(crate) fn target(id: &str) -> Target {
    Target::parse(id).expect("a target id")
}

fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// A customer-managed SCP `id` named `name` (with the managed tag where `tagged`), attached to
/// `targets`; audit's guardrail drift tests build theirs with it too.
pub(crate) fn scp(
    id: &str,
    name: &str,
    tagged: bool,
    content: &str,
    targets: &[&str],
) -> ScpPolicy {
    ScpPolicy {
        id: id.parse::<PolicyId>().unwrap(),
        arn: format!(
            "arn:aws:organizations::111111111111:policy/o-aaaaaaaaaa/service_control_policy/{id}"
        ),
        name: name.to_owned(),
        description: String::new(),
        aws_managed: false,
        content: content.to_owned(),
        managed_tag: tagged,
        targets: targets.iter().map(|t| target(t)).collect(),
    }
}

fn full_aws_access() -> ScpPolicy {
    let mut p = scp(
        "p-FullAWSAccess",
        "FullAWSAccess",
        false,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        &["r-root"],
    );
    p.aws_managed = true;
    p
}

/// A foreign SCP attached at the root (denies leaving the organization).
fn foreign() -> ScpPolicy {
    scp(
        "p-foreign01",
        "DenyLeaveOrganization",
        false,
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
        &["r-root"],
    )
}

fn live_with(policies: Vec<ScpPolicy>) -> Live {
    let mut live = fixture_live();
    let mut policies = policies;
    policies.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    live.guardrails = Some(LiveGuardrails {
        scp_enabled: true,
        policies,
    });
    live
}

/// The plan's guardrail actions.
fn actions(p: &Plan) -> &[PolicyAction] {
    &p.guardrails.as_ref().expect("a guardrail plan").actions
}

/// The live state after every action of the plan, as Organizations would hold it (ids `p-new…`).
fn applied(live: &Live, p: &Plan) -> Live {
    let mut after = live.clone();
    let g = after.guardrails.as_mut().unwrap();
    for (i, a) in actions(p).iter().enumerate() {
        let find = |policies: &mut Vec<ScpPolicy>, name: &str| {
            policies
                .iter()
                .position(|p| p.name == name)
                .expect("policy")
        };
        match a {
            PolicyAction::Create {
                name,
                description,
                content,
            } => {
                let mut new = scp(&format!("p-new{i:05}"), name, true, content, &[]);
                new.description = description.clone();
                g.policies.push(new);
            }
            PolicyAction::Update {
                name,
                description,
                content,
                ..
            } => {
                let at = find(&mut g.policies, name);
                g.policies[at].content = content.clone();
                g.policies[at].description = description.clone();
            }
            PolicyAction::Attach { name, target, .. } => {
                let at = find(&mut g.policies, name);
                g.policies[at].targets.insert(target.clone());
            }
            PolicyAction::Detach { name, target, .. } => {
                let at = find(&mut g.policies, name);
                g.policies[at].targets.remove(target);
            }
            PolicyAction::Delete { name, .. } => {
                let at = find(&mut g.policies, name);
                g.policies.remove(at);
            }
        }
    }
    g.policies
        .sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    after
}

/// Every policy the actions name.
fn touched(p: &Plan) -> BTreeSet<String> {
    actions(p).iter().map(|a| a.name().to_owned()).collect()
}

#[test]
fn a_first_plan_creates_the_deny_and_attaches_it_to_the_minimal_cover() {
    let live = live_with(vec![full_aws_access(), foreign()]);
    let d = desired("enforce", &live);
    let p = plan(&d, &live);
    let acts = actions(&p);
    let PolicyAction::Create {
        name,
        content,
        description,
    } = &acts[0]
    else {
        panic!("a create first: {acts:?}");
    };
    assert_eq!(name, CLAUDE);
    assert!(description.contains("claude"), "{description}");
    assert!(content.contains("arn:aws:bedrock:*::foundation-model/anthropic.claude-*"));
    // Denied: dup (root), shared (Workloads), web (the Web OU), the Sandbox OU (its active dup;
    // the suspended account is no reason to split it). Not ML, not the management account.
    let attached: Vec<&Target> = acts
        .iter()
        .filter_map(|a| match a {
            PolicyAction::Attach {
                policy: None,
                target,
                ..
            } => Some(target),
            _ => None,
        })
        .collect();
    // (Targets order as roots, then OUs, then accounts.)
    let want = [
        "ou-root-sandbox1",
        "ou-root-webwebwe",
        "777777777777",
        "888888888888",
    ];
    let want: Vec<Target> = want.iter().map(|t| target(t)).collect();
    assert_eq!(attached, want.iter().collect::<Vec<_>>());
    assert_eq!(acts.len(), 5);
    assert_eq!(acts[0].phase(), PolicyPhase::BeforeGrants);
    assert!(
        acts[1..]
            .iter()
            .all(|a| a.phase() == PolicyPhase::AfterGrants)
    );
    // FullAWSAccess and the foreign SCP are never named.
    assert_eq!(touched(&p), BTreeSet::from([CLAUDE.to_owned()]));
    let effect = &p.guardrails.as_ref().unwrap().effects[0];
    assert_eq!(effect.model, ModelKey::parse("claude"));
    let ids = |s: &[&str]| s.iter().map(|a| account(a)).collect::<BTreeSet<_>>();
    assert_eq!(
        effect.newly_denied,
        ids(&[
            "444444444444",
            "666666666666",
            "777777777777",
            "888888888888"
        ])
    );
    assert!(effect.newly_allowed.is_empty());
    assert_eq!(
        effect.allowed_through_grant,
        ids(&["222222222222", "333333333333"])
    );
    assert!(!p.is_empty(), "enforce mode: apply has SCP writes to make");
}

#[test]
fn after_the_actions_a_second_plan_is_empty() {
    let live = live_with(vec![full_aws_access(), foreign()]);
    let d = desired("enforce", &live);
    let after = applied(&live, &plan(&d, &live));
    let second = plan(&d, &after);
    assert_eq!(actions(&second), &[] as &[PolicyAction]);
    assert!(!super::guardrails_differ(&second));
    let effect = &second.guardrails.as_ref().unwrap().effects[0];
    assert!(effect.newly_denied.is_empty() && effect.newly_allowed.is_empty());
    assert_eq!(effect.allowed_through_grant.len(), 2);
}

#[test]
fn a_hand_edited_managed_policy_is_updated_and_a_reformatted_one_is_not() {
    let live = live_with(vec![full_aws_access()]);
    let d = desired("enforce", &live);
    let settled = applied(&live, &plan(&d, &live));
    let mut edited = settled.clone();
    let g = edited.guardrails.as_mut().unwrap();
    let at = g.policies.iter().position(|p| p.name == CLAUDE).unwrap();
    let id = g.policies[at].id.clone();
    let wanted = g.policies[at].content.clone();
    g.policies[at].content = wanted.replace("anthropic.claude-*", "anthropic.claude-3-*");
    let p = plan(&d, &edited);
    let [
        PolicyAction::Update {
            policy, content, ..
        },
    ] = actions(&p)
    else {
        panic!("one update: {:?}", actions(&p));
    };
    assert_eq!(policy, &id);
    assert_eq!(content, &wanted);

    // AWS may hand the document back pretty-printed: the same JSON is no change.
    let mut pretty = settled.clone();
    let g = pretty.guardrails.as_mut().unwrap();
    let value: serde_json::Value = serde_json::from_str(&g.policies[at].content).unwrap();
    g.policies[at].content = serde_json::to_string_pretty(&value).unwrap();
    assert!(actions(&plan(&d, &pretty)).is_empty());
}

#[test]
fn a_detached_managed_policy_is_attached_again() {
    let live = live_with(vec![full_aws_access()]);
    let d = desired("enforce", &live);
    let mut detached = applied(&live, &plan(&d, &live));
    let g = detached.guardrails.as_mut().unwrap();
    let at = g.policies.iter().position(|p| p.name == CLAUDE).unwrap();
    let id = g.policies[at].id.clone();
    g.policies[at].targets.remove(&target("ou-root-webwebwe"));
    g.policies[at].targets.insert(target("ou-root-mlmlmlml"));
    let p = plan(&d, &detached);
    assert_eq!(
        actions(&p),
        &[
            PolicyAction::Detach {
                policy: id.clone(),
                name: CLAUDE.to_owned(),
                target: target("ou-root-mlmlmlml"),
            },
            PolicyAction::Attach {
                policy: Some(id),
                name: CLAUDE.to_owned(),
                target: target("ou-root-webwebwe"),
            },
        ]
    );
    let effect = &p.guardrails.as_ref().unwrap().effects[0];
    let ids = |s: &[&str]| s.iter().map(|a| account(a)).collect::<BTreeSet<_>>();
    assert_eq!(effect.newly_denied, ids(&["444444444444"]));
    assert_eq!(effect.newly_allowed, ids(&["222222222222", "333333333333"]));
}

#[test]
fn a_managed_policy_the_layout_no_longer_has_is_detached_then_deleted() {
    let old = scp(
        "p-oldpolicy",
        "bedrock-entitlements-retired",
        true,
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        &["ou-root-sandbox1", "777777777777"],
    );
    let live = live_with(vec![full_aws_access(), old]);
    let d = desired("enforce", &live);
    let p = plan(&d, &live);
    let retired: Vec<&PolicyAction> = actions(&p)
        .iter()
        .filter(|a| a.name() == "bedrock-entitlements-retired")
        .collect();
    let id: PolicyId = "p-oldpolicy".parse().unwrap();
    assert_eq!(
        retired,
        [
            &PolicyAction::Detach {
                policy: id.clone(),
                name: "bedrock-entitlements-retired".to_owned(),
                target: target("ou-root-sandbox1"),
            },
            &PolicyAction::Detach {
                policy: id.clone(),
                name: "bedrock-entitlements-retired".to_owned(),
                target: target("777777777777"),
            },
            &PolicyAction::Delete {
                policy: id,
                name: "bedrock-entitlements-retired".to_owned(),
            },
        ]
    );
    assert_eq!(super::destructive_policy_actions(&p), 3);
    // They count against max_deletes (no grant is deleted here).
    assert!(crate::apply::check_max_deletes(&p, 2).is_err());
    assert_eq!(crate::apply::check_max_deletes(&p, 3), Ok(()));
    // Phase first: every BeforeGrants action precedes every AfterGrants one.
    let phases: Vec<PolicyPhase> = actions(&p).iter().map(PolicyAction::phase).collect();
    assert!(phases.is_sorted(), "{phases:?}");
    // In report mode the same actions are planned, none is destructive for max_deletes, and
    // apply has nothing to do, but the plan differs.
    let report = plan(&desired("report", &live), &live);
    assert_eq!(actions(&report), actions(&p));
    assert_eq!(super::destructive_policy_actions(&report), 0);
    assert_eq!(crate::apply::check_max_deletes(&report, 0), Ok(()));
    assert_eq!(report.actions, p.actions);
    assert!(super::guardrails_differ(&report));
    let only_guardrails = Plan {
        actions: Vec::new(),
        ..report
    };
    assert!(
        only_guardrails.is_empty(),
        "report mode: apply writes no SCP"
    );
}

#[test]
fn foreign_policies_and_full_aws_access_are_never_touched() {
    // Prefix without the tag, tag without the prefix, and the tool's own name taken by an
    // untagged policy: none is acted on.
    let untagged = scp(
        "p-untagged1",
        CLAUDE,
        false,
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        &["777777777777"],
    );
    let mut no_prefix = scp(
        "p-noprefix1",
        "team-claude-deny",
        true,
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        &["ou-root-sandbox1"],
    );
    no_prefix.managed_tag = true;
    let live = live_with(vec![full_aws_access(), foreign(), untagged, no_prefix]);
    let p = plan(&desired("enforce", &live), &live);
    assert!(actions(&p).is_empty(), "{:?}", actions(&p));
    assert_eq!(p.guardrail_notes.len(), 1, "{:?}", p.guardrail_notes);
    assert_eq!(p.guardrail_notes[0].kind, GuardrailNoteKind::NameTaken);
    assert!(MANAGED_TAG_KEY == "managed-by");
}

#[test]
fn foreign_attachments_count_against_the_per_target_quota() {
    // Four foreign SCPs attached to the Web OU: the deny still fits (5 per target).
    let mut policies = vec![full_aws_access()];
    for i in 0..4 {
        policies.push(scp(
            &format!("p-foreign1{i}"),
            &format!("other-{i}"),
            false,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            &["ou-root-webwebwe"],
        ));
    }
    let live = live_with(policies.clone());
    let p = plan(&desired("enforce", &live), &live);
    assert!(actions(&p).iter().any(|a| matches!(a, PolicyAction::Attach { target, .. } if *target == target_of("ou-root-webwebwe"))));
    // A fifth fills the OU: the deny moves down to the OU's account.
    policies.push(scp(
        "p-foreign19",
        "other-9",
        false,
        r#"{"Version":"2012-10-17","Statement":[]}"#,
        &["ou-root-webwebwe"],
    ));
    let live = live_with(policies);
    let p = plan(&desired("enforce", &live), &live);
    let targets: BTreeSet<&Target> = actions(&p)
        .iter()
        .filter_map(|a| match a {
            PolicyAction::Attach { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    assert!(targets.contains(&target("444444444444")), "{targets:?}");
    assert!(
        !targets.contains(&target("ou-root-webwebwe")),
        "{targets:?}"
    );
}

fn target_of(id: &str) -> Target {
    target(id)
}

#[test]
fn the_grantor_is_always_allowed() {
    // A delegated administrator (shared, 888888888888) plans: it is never denied.
    let mut live = live_with(vec![full_aws_access()]);
    live.caller = account("888888888888");
    let p = plan(&desired("enforce", &live), &live);
    let g = p.guardrails.as_ref().unwrap();
    assert!(!g.effects[0].newly_denied.contains(&account("888888888888")));
    let attached: BTreeSet<&Target> = g
        .actions
        .iter()
        .filter_map(|a| match a {
            PolicyAction::Attach { target, .. } => Some(target),
            _ => None,
        })
        .collect();
    // Not the Workloads OU (it holds the grantor) and not the grantor itself.
    assert!(!attached.contains(&target("ou-root-workload")));
    assert!(!attached.contains(&target("888888888888")));
    assert!(attached.contains(&target("ou-root-webwebwe")));
}

#[test]
fn exceptions_are_denied_and_disabled_models_entitle_nobody() {
    let live = live_with(vec![full_aws_access()]);
    let d = desired_with(
        "enforce",
        "  claude:\n    product_sku: prod-a\n    grant_to: {organization: true}\n    except_accounts: [\"333333333333\"]\n    bedrock_model_ids: [anthropic.claude-*]\n  llama:\n    product_sku: prod-b\n    grant_to: {organization: true}\n    status: disabled\n    bedrock_model_ids: [meta.llama3-*]\n",
        &live,
    );
    let p = plan(&d, &live);
    let g = p.guardrails.as_ref().unwrap();
    let claude = &g.effects[0];
    assert_eq!(
        claude.newly_denied,
        BTreeSet::from([account("333333333333")])
    );
    let llama = &g.effects[1];
    assert_eq!(llama.model, ModelKey::parse("llama"));
    assert!(llama.allowed_through_grant.is_empty());
    assert_eq!(llama.newly_denied.len(), 6, "{:?}", llama.newly_denied);
}

#[test]
fn without_live_scps_there_is_a_note_and_no_guardrail_plan() {
    let mut live = fixture_live();
    let p = plan(&desired("enforce", &live), &live);
    assert!(p.guardrails.is_none());
    assert_eq!(p.guardrail_notes[0].kind, GuardrailNoteKind::NotRead);
    // Mode off: nothing at all, even with SCPs read.
    live.guardrails = Some(LiveGuardrails::default());
    let p = plan(&desired("off", &live), &live);
    assert!(p.guardrails.is_none() && p.guardrail_notes.is_empty());
}

#[test]
fn an_organization_without_scps_enabled_is_noted() {
    let mut live = live_with(vec![full_aws_access()]);
    live.guardrails.as_mut().unwrap().scp_enabled = false;
    let p = plan(&desired("report", &live), &live);
    assert_eq!(p.guardrails.as_ref().unwrap().mode, GuardrailMode::Report);
    assert!(
        p.guardrail_notes
            .iter()
            .any(|n| n.kind == GuardrailNoteKind::ScpDisabled)
    );
}

#[test]
fn the_fingerprint_covers_the_managed_policies_only() {
    let live = live_with(vec![full_aws_access(), foreign()]);
    let d = desired("enforce", &live);
    let settled = applied(&live, &plan(&d, &live));
    let licenses = plan(&d, &settled).licenses;
    let base = fingerprint(&settled, &licenses);
    let mut moved = settled.clone();
    let g = moved.guardrails.as_mut().unwrap();
    let at = g.policies.iter().position(|p| p.name == CLAUDE).unwrap();
    g.policies[at].targets.remove(&target("777777777777"));
    assert_ne!(
        fingerprint(&moved, &licenses),
        base,
        "a detached managed policy"
    );
    let mut foreign_moved = settled.clone();
    let g = foreign_moved.guardrails.as_mut().unwrap();
    let at = g
        .policies
        .iter()
        .position(|p| p.name == "DenyLeaveOrganization")
        .unwrap();
    g.policies[at].targets.insert(target("777777777777"));
    assert_eq!(
        fingerprint(&foreign_moved, &licenses),
        base,
        "foreign policies are not ours"
    );
    // Without SCPs read, the fingerprint is the one of the grants alone.
    let mut unread = settled.clone();
    unread.guardrails = None;
    let mut no_policies = settled;
    no_policies.guardrails = Some(LiveGuardrails::default());
    assert_ne!(
        fingerprint(&unread, &licenses),
        fingerprint(&no_policies, &licenses)
    );
}

#[test]
fn the_config_digest_moves_with_guardrails_only_when_they_are_on() {
    let live = live_with(vec![]);
    let mut off = desired("off", &live);
    let plain = {
        let mut d = off.clone();
        d.guardrails = Default::default();
        super::config_digest(&d)
    };
    assert_eq!(
        super::config_digest(&off),
        plain,
        "mode off: the digest of before"
    );
    off.guardrails.settings.mode = GuardrailMode::Report;
    let report = super::config_digest(&off);
    assert_ne!(report, plain);
    off.guardrails
        .models
        .values_mut()
        .for_each(|m| m.bedrock_model_ids.push("x.y".to_owned()));
    assert_ne!(super::config_digest(&off), report);
    let _ = PREFIX;
}
