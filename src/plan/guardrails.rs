//! The guardrails layer of the plan: the SCPs that make "may invoke" match "entitled".
//!
//! Per model of the file that gives `bedrock_model_ids`, the entitled accounts are the accounts
//! its desired grants reach after the plan (the resolved principals expanded through the
//! organization; `except_accounts` is already left out of them, as the grants leave it out) and
//! the grantor (`Live::caller`); a `status: disabled` model entitles nobody but the grantor.
//! [`crate::guardrails::layout`] places the denies; this module diffs the layout against the live
//! policies the run owns (name prefix and managed tag, see [`ScpPolicy::is_managed`]) into
//! [`PolicyAction`]s, and says what they change per model ([`GuardrailEffect`]). FullAWSAccess and
//! every other policy are only counted (they take room at a target), never acted on.
//!
//! Pure: no I/O; the same input gives the same actions in the same order.

use std::collections::{BTreeMap, BTreeSet};

use super::types::{
    GuardrailEffect, GuardrailNote, GuardrailNoteKind, GuardrailPlan, Plan, PolicyAction,
};
use crate::config::{DesiredStatus, GuardrailMode, ModelKey};
use crate::guardrails::{GuardPolicy, Layout, LayoutInput, ModelGuard, layout, model_resources};
use crate::model::{
    AccountId, AccountState, Live, LiveGuardrails, Organization, ParentId, ScpPolicy, Target,
};
use crate::org::{Desired, covered_accounts};

/// Fills `plan.guardrails` (or a note saying why not) when `settings.guardrails.mode` is on.
pub(super) fn add(desired: &Desired, live: &Live, plan: &mut Plan) {
    let settings = &desired.guardrails.settings;
    if settings.mode == GuardrailMode::Off {
        return;
    }
    let Some(scps) = &live.guardrails else {
        plan.guardrail_notes.push(note(
            GuardrailNoteKind::NotRead,
            "guardrails are on but the organization's SCPs were not read: no guardrail plan"
                .to_owned(),
        ));
        return;
    };
    if !scps.scp_enabled {
        plan.guardrail_notes.push(note(
            GuardrailNoteKind::ScpDisabled,
            format!(
                "the SERVICE_CONTROL_POLICY type is not enabled on root {}: SCPs have no effect until `aws organizations enable-policy-type --root-id {} --policy-type SERVICE_CONTROL_POLICY`",
                live.organization.root, live.organization.root
            ),
        ));
    }
    let run = Run::new(desired, scps);
    if desired.targeted_only && run.left_alone > 0 {
        plan.guardrail_notes.push(note(
            GuardrailNoteKind::LeftForTarget,
            format!(
                "--target: {} of the tool's SCPs belong to other models and are left alone",
                run.left_alone
            ),
        ));
    }
    let entitled = entitled_accounts(desired, live);
    let input = layout_input(desired, live, &run, &entitled);
    let layout = match layout(&input) {
        Ok(l) => l,
        Err(e) => {
            plan.guardrail_notes.push(note(
                GuardrailNoteKind::LayoutFailed,
                format!("no guardrail layout fits: {e}"),
            ));
            return;
        }
    };
    let actions = diff(&layout, &run, &mut plan.guardrail_notes);
    let effects = effects(desired, live, &layout, &run, &entitled);
    plan.guardrails = Some(GuardrailPlan {
        mode: settings.mode,
        actions,
        effects,
    });
}

/// The layout `enforce` would write for the file, in any mode (`guardrail export`): the SCPs
/// this run owns are left out of the count of other policies at each target, as in a plan. Only
/// models that give `bedrock_model_ids` are laid out.
pub fn guardrail_layout(
    desired: &Desired,
    live: &Live,
) -> Result<Layout, crate::guardrails::LayoutError> {
    let none = LiveGuardrails::default();
    let run = Run::new(desired, live.guardrails.as_ref().unwrap_or(&none));
    let entitled = entitled_accounts(desired, live);
    layout(&layout_input(desired, live, &run, &entitled))
}

fn note(kind: GuardrailNoteKind, message: String) -> GuardrailNote {
    GuardrailNote { kind, message }
}

/// Whether the plan's guardrail layer differs from the live SCPs, in either mode: `plan
/// --detailed-exitcode` exits 2 then (see docs/configuration.md).
pub fn guardrails_differ(plan: &Plan) -> bool {
    plan.guardrails
        .as_ref()
        .is_some_and(|g| !g.actions.is_empty())
}

/// The guardrail detaches and deletes `apply` would carry out (enforce mode only): they count
/// against `max_deletes`.
pub fn destructive_policy_actions(plan: &Plan) -> usize {
    plan.guardrails
        .as_ref()
        .filter(|g| g.mode == GuardrailMode::Enforce)
        .map_or(0, |g| {
            g.actions.iter().filter(|a| a.is_destructive()).count()
        })
}

/// The live SCPs split into the ones this run owns and the rest.
struct Run<'a> {
    owned: Vec<&'a ScpPolicy>,
    others: Vec<&'a ScpPolicy>,
    /// The tool's own policies that `--target` leaves alone.
    left_alone: usize,
}

impl<'a> Run<'a> {
    fn new(desired: &Desired, scps: &'a LiveGuardrails) -> Run<'a> {
        let prefix = &desired.guardrails.settings.policy_name_prefix;
        let mut run = Run {
            owned: Vec::new(),
            others: Vec::new(),
            left_alone: 0,
        };
        for p in &scps.policies {
            if !p.is_managed(prefix) {
                run.others.push(p);
            } else if desired.targeted_only && !targeted_name(desired, prefix, &p.name) {
                run.left_alone += 1;
                run.others.push(p);
            } else {
                run.owned.push(p);
            }
        }
        run
    }
}

/// `{prefix}-{model}` or `{prefix}-{model}-part{n}` of a targeted model.
fn targeted_name(desired: &Desired, prefix: &str, name: &str) -> bool {
    desired.guardrails.models.keys().any(|k| {
        let base = format!("{prefix}-{k}");
        name == base
            || name
                .strip_prefix(&format!("{base}-part"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Per guarded model, the accounts its desired grants reach (without the grantor).
fn entitled_accounts(desired: &Desired, live: &Live) -> BTreeMap<ModelKey, BTreeSet<AccountId>> {
    desired
        .guardrails
        .models
        .keys()
        .filter_map(|k| desired.models.get(k).map(|m| (k, m)))
        .map(|(k, m)| {
            let accounts = match m.status {
                DesiredStatus::Active => m
                    .principals
                    .iter()
                    .flat_map(|p| covered_accounts(&live.organization, p))
                    .collect(),
                DesiredStatus::Disabled => BTreeSet::new(),
            };
            (k.clone(), accounts)
        })
        .collect()
}

fn layout_input<'a>(
    desired: &Desired,
    live: &'a Live,
    run: &Run<'_>,
    entitled: &BTreeMap<ModelKey, BTreeSet<AccountId>>,
) -> LayoutInput<'a> {
    let settings = &desired.guardrails.settings;
    let models = desired
        .guardrails
        .models
        .iter()
        .filter_map(|(k, g)| {
            let m = desired.models.get(k)?;
            let sku = live
                .licenses
                .iter()
                .find(|l| l.arn == m.license)
                .map(|l| l.product_sku.clone())
                .filter(|s| !s.is_empty());
            Some(ModelGuard {
                key: k.to_string(),
                model_ids: g.bedrock_model_ids.clone(),
                entitled: entitled.get(k).cloned().unwrap_or_default(),
                marketplace_product_id: g.marketplace_product_id.clone().or(sku),
            })
        })
        .collect();
    let mut foreign_attachments: BTreeMap<Target, u32> = BTreeMap::new();
    for p in &run.others {
        for t in &p.targets {
            *foreign_attachments.entry(t.clone()).or_insert(0) += 1;
        }
    }
    LayoutInput {
        organization: &live.organization,
        grantor: live.caller.clone(),
        policy_name_prefix: settings.policy_name_prefix.clone(),
        models,
        deny_marketplace_subscribe: settings.deny_marketplace_subscribe,
        foreign_attachments,
        foreign_policies: run.others.len(),
    }
}

/// The same policy document: equal as JSON values (AWS may return it reformatted), or as text
/// when one does not parse.
pub(crate) fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The layout against the owned live policies: creates, updates, attaches, detaches, deletes.
fn diff(layout: &Layout, run: &Run<'_>, notes: &mut Vec<GuardrailNote>) -> Vec<PolicyAction> {
    let mut by_name: BTreeMap<&str, Vec<&ScpPolicy>> = BTreeMap::new();
    for p in &run.owned {
        by_name.entry(p.name.as_str()).or_default().push(p);
    }
    for same in by_name.values_mut() {
        same.sort_by(|a, b| a.id.cmp(&b.id));
        same.reverse();
    }
    let taken: BTreeSet<&str> = run.others.iter().map(|p| p.name.as_str()).collect();
    let mut out = Vec::new();
    for want in &layout.policies {
        match by_name.get_mut(want.name.as_str()).and_then(Vec::pop) {
            Some(live) => converge(want, live, &mut out),
            None if taken.contains(want.name.as_str()) => notes.push(note(
                GuardrailNoteKind::NameTaken,
                format!(
                    "an SCP named {:?} exists without the managed tag (or is not the tool's): it is left alone and the guardrail it would hold is not written",
                    want.name
                ),
            )),
            None => create(want, &mut out),
        }
    }
    for live in by_name.into_values().flatten() {
        for target in &live.targets {
            out.push(PolicyAction::Detach {
                policy: live.id.clone(),
                name: live.name.clone(),
                target: target.clone(),
            });
        }
        out.push(PolicyAction::Delete {
            policy: live.id.clone(),
            name: live.name.clone(),
        });
    }
    out.sort_by(|a, b| action_key(a).cmp(&action_key(b)));
    out
}

fn create(want: &GuardPolicy, out: &mut Vec<PolicyAction>) {
    out.push(PolicyAction::Create {
        name: want.name.clone(),
        description: want.description.clone(),
        content: want.document.clone(),
    });
    for target in &want.targets {
        out.push(PolicyAction::Attach {
            policy: None,
            name: want.name.clone(),
            target: target.clone(),
        });
    }
}

fn converge(want: &GuardPolicy, live: &ScpPolicy, out: &mut Vec<PolicyAction>) {
    if !same_document(&want.document, &live.content) || want.description != live.description {
        out.push(PolicyAction::Update {
            policy: live.id.clone(),
            name: want.name.clone(),
            description: want.description.clone(),
            content: want.document.clone(),
        });
    }
    for target in want.targets.difference(&live.targets) {
        out.push(PolicyAction::Attach {
            policy: Some(live.id.clone()),
            name: want.name.clone(),
            target: target.clone(),
        });
    }
    for target in live.targets.difference(&want.targets) {
        out.push(PolicyAction::Detach {
            policy: live.id.clone(),
            name: live.name.clone(),
            target: target.clone(),
        });
    }
}

/// Phase, then name, then create/update before detach before attach before delete, then target.
fn action_key(a: &PolicyAction) -> (super::PolicyPhase, &str, u8, Option<&Target>) {
    let (rank, target) = match a {
        PolicyAction::Create { .. } | PolicyAction::Update { .. } => (0, None),
        PolicyAction::Detach { target, .. } => (1, Some(target)),
        PolicyAction::Attach { target, .. } => (2, Some(target)),
        PolicyAction::Delete { .. } => (3, None),
    };
    (a.phase(), a.name(), rank, target)
}

/// The resources an SCP document denies to Bedrock actions without a condition (the only
/// statements a static reading can decide), for the effects of the plan.
pub(crate) fn unconditional_bedrock_denies(content: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(content) else {
        return out;
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(items) => items.iter().collect(),
        one @ serde_json::Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let strings = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    for s in statements {
        let bedrock = strings(&s["Action"])
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("bedrock:"));
        if s["Effect"] == "Deny" && bedrock && s.get("Condition").is_none() {
            out.extend(strings(&s["Resource"]));
        }
    }
    out
}

/// The targets from an account up to the root: the account, its OUs, the root.
pub(crate) fn path_of(org: &Organization, account: &AccountId) -> Vec<Target> {
    let mut path = vec![Target::Account(account.clone())];
    let mut parent = org.accounts.get(account).map(|a| a.parent.clone());
    while let Some(p) = parent.take() {
        match p {
            ParentId::Root(r) => path.push(Target::Root(r)),
            ParentId::Ou(ou) => {
                parent = org.ous.get(&ou).map(|o| o.parent.clone());
                path.push(Target::Ou(ou));
            }
        }
        if path.len() > 16 {
            break;
        }
    }
    path
}

/// Per target, the models the owned live policies attached there deny now.
fn denied_now<'k>(
    run: &Run<'_>,
    models: &'k BTreeMap<ModelKey, crate::org::GuardedModel>,
) -> BTreeMap<Target, BTreeSet<&'k ModelKey>> {
    let mut resources: BTreeMap<&Target, BTreeSet<String>> = BTreeMap::new();
    for p in &run.owned {
        let denies = unconditional_bedrock_denies(&p.content);
        for t in &p.targets {
            resources
                .entry(t)
                .or_default()
                .extend(denies.iter().cloned());
        }
    }
    resources
        .into_iter()
        .map(|(t, denied)| {
            let keys = models
                .iter()
                .filter(|(_, g)| {
                    g.bedrock_model_ids
                        .iter()
                        .all(|id| denied.contains(&model_resources(id)[0]))
                })
                .map(|(k, _)| k)
                .collect();
            (t.clone(), keys)
        })
        .collect()
}

/// Per guarded model, whose ability to invoke the plan changes.
fn effects(
    desired: &Desired,
    live: &Live,
    layout: &Layout,
    run: &Run<'_>,
    entitled: &BTreeMap<ModelKey, BTreeSet<AccountId>>,
) -> Vec<GuardrailEffect> {
    let org = &live.organization;
    let now = denied_now(run, &desired.guardrails.models);
    let active: Vec<&AccountId> = org
        .accounts
        .values()
        .filter(|a| a.state == AccountState::Active && a.id != org.management_account)
        .map(|a| &a.id)
        .collect();
    let mut now_denied: BTreeMap<&ModelKey, BTreeSet<AccountId>> = BTreeMap::new();
    for a in &active {
        for t in path_of(org, a) {
            for k in now.get(&t).into_iter().flatten() {
                now_denied.entry(k).or_default().insert((*a).clone());
            }
        }
    }
    let none = BTreeSet::new();
    desired
        .guardrails
        .models
        .keys()
        .filter(|k| desired.models.contains_key(*k))
        .map(|k| {
            let after = layout.denied.get(k.as_str()).unwrap_or(&none);
            let before = now_denied.get(k).unwrap_or(&none);
            let granted = entitled.get(k).unwrap_or(&none);
            GuardrailEffect {
                model: Some(k.clone()),
                newly_denied: after.difference(before).cloned().collect(),
                newly_allowed: before.difference(after).cloned().collect(),
                allowed_through_grant: active
                    .iter()
                    .filter(|a| granted.contains(**a))
                    .map(|a| (*a).clone())
                    .collect(),
            }
        })
        .collect()
}
