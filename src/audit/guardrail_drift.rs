//! Guardrail drift: where the live SCPs differ from the guardrail layout, and foreign SCPs that
//! deny an entitled account a model. Pure, built on the plan like grant drift:
//!
//! - the tool's own policies (name prefix and managed tag): a policy missing (never created, or
//!   deleted since), edited by hand (document or description), detached from a target it must
//!   hold, attached where the layout does not put it, or no longer in the layout. These are the
//!   plan's guardrail actions read back; they are drift (exit 2) in `report` and `enforce` mode
//!   alike, and `apply` fixes them in `enforce` mode.
//! - foreign SCPs (any other policy but FullAWSAccess) attached along an entitled account's path
//!   with a `Deny` on a Bedrock invoke action whose resources cover one of the model's ids: a
//!   static reading, like the access report's. An unconditional statement denies
//!   ([`GuardrailDriftKind::ForeignDenies`]); one with a `Condition`, or written with
//!   `NotAction` / `NotResource`, cannot be decided statically
//!   ([`GuardrailDriftKind::ForeignMayDeny`], "unknown"). Reported only, like foreign grants:
//!   the tool never changes a foreign policy, and they do not make the exit code 2.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::invoke::glob;
use crate::config::{GuardrailMode, ModelKey};
use crate::model::{AccountId, AccountState, Live, Organization, PolicyId, ScpPolicy, Target};
use crate::org::Desired;
use crate::plan::{Plan, PolicyAction};

/// The Bedrock action whose denial makes a model unusable.
const INVOKE: &str = "bedrock:InvokeModel";

/// What kind of guardrail difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardrailDriftKind {
    /// A policy of the layout does not exist (never created, or deleted).
    PolicyMissing,
    /// A managed policy's document or description was changed.
    PolicyEdited,
    /// A managed policy is not attached to a target the layout puts it on.
    PolicyDetached,
    /// A managed policy is attached to a target the layout does not put it on.
    AttachedElsewhere,
    /// A managed policy the layout no longer has.
    NotInLayout,
    /// A foreign SCP denies an entitled account the model, unconditionally.
    ForeignDenies,
    /// A foreign SCP may deny an entitled account the model: a condition decides ("unknown").
    ForeignMayDeny,
}

impl GuardrailDriftKind {
    pub const ALL: [GuardrailDriftKind; 7] = [
        GuardrailDriftKind::PolicyMissing,
        GuardrailDriftKind::PolicyEdited,
        GuardrailDriftKind::PolicyDetached,
        GuardrailDriftKind::AttachedElsewhere,
        GuardrailDriftKind::NotInLayout,
        GuardrailDriftKind::ForeignDenies,
        GuardrailDriftKind::ForeignMayDeny,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailDriftKind::PolicyMissing => "policy_missing",
            GuardrailDriftKind::PolicyEdited => "policy_edited",
            GuardrailDriftKind::PolicyDetached => "policy_detached",
            GuardrailDriftKind::AttachedElsewhere => "attached_elsewhere",
            GuardrailDriftKind::NotInLayout => "not_in_layout",
            GuardrailDriftKind::ForeignDenies => "foreign_denies",
            GuardrailDriftKind::ForeignMayDeny => "foreign_may_deny",
        }
    }

    /// The tool's own policy differs: drift (exit 2). Foreign denies are reported only.
    pub fn is_difference(self) -> bool {
        !matches!(
            self,
            GuardrailDriftKind::ForeignDenies | GuardrailDriftKind::ForeignMayDeny
        )
    }
}

/// One guardrail difference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GuardrailDrift {
    pub kind: GuardrailDriftKind,
    pub policy_name: String,
    /// The live policy; `None` for a missing one.
    pub policy_id: Option<PolicyId>,
    /// The model keys the policy denies (for a foreign deny: the model it denies).
    pub models: Vec<ModelKey>,
    /// Detached / attached elsewhere: the targets; a foreign deny: where it is attached.
    pub targets: Vec<Target>,
    /// The active member accounts it concerns, sorted.
    pub accounts: Vec<AccountId>,
    /// `apply` fixes it (enforce mode, the tool's own policy).
    pub fixed_by_apply: bool,
    pub message: String,
}

/// Whether any guardrail difference is drift (exit 2): a difference of the tool's own policies
/// that `apply` would fix (enforce mode). In report mode the differences are reported but, as the
/// contract says of everything `apply` cannot act on, do not by themselves make the exit code 2.
pub fn has_drift(items: &[GuardrailDrift]) -> bool {
    items
        .iter()
        .any(|i| i.kind.is_difference() && i.fixed_by_apply)
}

/// Every guardrail difference of the plan and the live SCPs, sorted by kind, policy, target.
/// Empty when guardrails are off or the SCPs were not read.
pub fn classify(desired: &Desired, live: &Live, plan: &Plan) -> Vec<GuardrailDrift> {
    let (Some(g), Some(scps)) = (&plan.guardrails, &live.guardrails) else {
        return Vec::new();
    };
    let models_of = policy_models(desired, live);
    let fixed = g.mode == GuardrailMode::Enforce;
    let mut out = own_policies(&g.actions, &models_of, &live.organization, fixed);
    let prefix = &desired.guardrails.settings.policy_name_prefix;
    let foreign: Vec<&ScpPolicy> = scps
        .policies
        .iter()
        .filter(|p| !p.aws_managed && !p.is_managed(prefix))
        .collect();
    out.extend(foreign_denies(desired, live, &foreign));
    out.sort();
    out
}

/// The model keys of each policy of the layout, by name.
fn policy_models(desired: &Desired, live: &Live) -> BTreeMap<String, Vec<ModelKey>> {
    let Ok(layout) = crate::plan::guardrail_layout(desired, live) else {
        return BTreeMap::new();
    };
    layout
        .policies
        .iter()
        .map(|p| {
            let keys = p
                .kind
                .models()
                .iter()
                .filter_map(|k| ModelKey::parse(k))
                .collect();
            (p.name.clone(), keys)
        })
        .collect()
}

/// The active member accounts under a target.
fn accounts_under(org: &Organization, t: &Target) -> Vec<AccountId> {
    org.accounts
        .values()
        .filter(|a| a.state == AccountState::Active && a.id != org.management_account)
        .filter(|a| crate::plan::path_of(org, &a.id).contains(t))
        .map(|a| a.id.clone())
        .collect()
}

struct Own<'a> {
    models_of: &'a BTreeMap<String, Vec<ModelKey>>,
    org: &'a Organization,
    fixed: bool,
}

impl Own<'_> {
    fn item(
        &self,
        kind: GuardrailDriftKind,
        name: &str,
        policy: Option<&PolicyId>,
        targets: Vec<Target>,
        message: String,
    ) -> GuardrailDrift {
        let mut accounts: BTreeSet<AccountId> = BTreeSet::new();
        for t in &targets {
            accounts.extend(accounts_under(self.org, t));
        }
        GuardrailDrift {
            kind,
            policy_name: name.to_owned(),
            policy_id: policy.cloned(),
            models: self.models_of.get(name).cloned().unwrap_or_default(),
            targets,
            accounts: accounts.into_iter().collect(),
            fixed_by_apply: self.fixed,
            message,
        }
    }
}

/// The targets a created policy is attached to by the same plan.
fn created_targets(actions: &[PolicyAction], name: &str) -> Vec<Target> {
    actions
        .iter()
        .filter_map(|b| match b {
            PolicyAction::Attach {
                policy: None,
                name: n,
                target,
            } if n == name => Some(target.clone()),
            _ => None,
        })
        .collect()
}

/// The targets a deleted policy is detached from first.
fn detached_targets(actions: &[PolicyAction], policy: &PolicyId) -> Vec<Target> {
    actions
        .iter()
        .filter_map(|b| match b {
            PolicyAction::Detach {
                policy: p, target, ..
            } if p == policy => Some(target.clone()),
            _ => None,
        })
        .collect()
}

fn own_policies(
    actions: &[PolicyAction],
    models_of: &BTreeMap<String, Vec<ModelKey>>,
    org: &Organization,
    fixed: bool,
) -> Vec<GuardrailDrift> {
    let own = Own {
        models_of,
        org,
        fixed,
    };
    let deleted: BTreeSet<&PolicyId> = actions
        .iter()
        .filter_map(|a| match a {
            PolicyAction::Delete { policy, .. } => Some(policy),
            _ => None,
        })
        .collect();
    actions
        .iter()
        .filter_map(|a| own.of_action(a, actions, &deleted))
        .collect()
}

impl Own<'_> {
    /// The difference one guardrail action of the plan repairs, if it stands for one.
    fn of_action(
        &self,
        a: &PolicyAction,
        actions: &[PolicyAction],
        deleted: &BTreeSet<&PolicyId>,
    ) -> Option<GuardrailDrift> {
        use GuardrailDriftKind as K;
        let item = match a {
            PolicyAction::Create { name, .. } => {
                let m = format!("SCP {name:?} does not exist (never created, or deleted)");
                self.item(
                    K::PolicyMissing,
                    name,
                    None,
                    created_targets(actions, name),
                    m,
                )
            }
            PolicyAction::Update { policy, name, .. } => {
                let m = format!(
                    "SCP {name:?} ({policy}) was edited: its document or description differs from the layout"
                );
                self.item(K::PolicyEdited, name, Some(policy), Vec::new(), m)
            }
            PolicyAction::Attach {
                policy: Some(policy),
                name,
                target,
            } => {
                let m = format!(
                    "SCP {name:?} ({policy}) is not attached to {target}: accounts there may invoke the model without the negotiated terms"
                );
                let targets = vec![target.clone()];
                self.item(K::PolicyDetached, name, Some(policy), targets, m)
            }
            PolicyAction::Detach {
                policy,
                name,
                target,
            } if !deleted.contains(policy) => {
                let m = format!(
                    "SCP {name:?} ({policy}) is attached to {target}, where the layout does not put it"
                );
                let targets = vec![target.clone()];
                self.item(K::AttachedElsewhere, name, Some(policy), targets, m)
            }
            PolicyAction::Delete { policy, name } => {
                let m =
                    format!("SCP {name:?} ({policy}) is the tool's but no longer in the layout");
                let targets = detached_targets(actions, policy);
                self.item(K::NotInLayout, name, Some(policy), targets, m)
            }
            _ => return None,
        };
        Some(item)
    }
}

/// IAM's wildcard match ([`glob`]), case-insensitive where `case_insensitive` (actions).
fn wildcard(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    if case_insensitive {
        glob(&pattern.to_lowercase(), &text.to_lowercase())
    } else {
        glob(pattern, text)
    }
}

/// What a static reading of a document says about invoking `resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reading {
    Denies,
    /// A condition (or `NotAction` / `NotResource`) decides.
    Unknown,
    NoDeny,
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether `content` denies `bedrock:InvokeModel` on `resource`, as far as a static reading
/// decides.
pub fn reading(content: &str, resource: &str) -> Reading {
    let Ok(doc) = serde_json::from_str::<Value>(content) else {
        return Reading::NoDeny;
    };
    let statements: Vec<&Value> = match &doc["Statement"] {
        Value::Array(items) => items.iter().collect(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    let mut out = Reading::NoDeny;
    for s in statements.into_iter().filter(|s| s["Effect"] == "Deny") {
        let action = strings(&s["Action"])
            .iter()
            .any(|a| wildcard(a, INVOKE, true));
        let not_action = s.get("NotAction").is_some();
        let hits = strings(&s["Resource"])
            .iter()
            .any(|r| wildcard(r, resource, false));
        let not_resource = s.get("NotResource").is_some();
        if (action || not_action) && (hits || not_resource) {
            let certain = action && hits && s.get("Condition").is_none();
            out = out.min(if certain {
                Reading::Denies
            } else {
                Reading::Unknown
            });
        }
    }
    out
}

/// Per (foreign policy index, model, reading): where it is attached on the paths, the accounts.
type Found<'k> = BTreeMap<(usize, &'k ModelKey, Reading), (BTreeSet<Target>, BTreeSet<AccountId>)>;

fn foreign_denies(desired: &Desired, live: &Live, foreign: &[&ScpPolicy]) -> Vec<GuardrailDrift> {
    let org = &live.organization;
    let entitled = crate::plan::entitled_accounts(desired, live);
    let mut found: Found<'_> = BTreeMap::new();
    for (key, guarded) in &desired.guardrails.models {
        let mut accounts: BTreeSet<AccountId> = entitled.get(key).cloned().unwrap_or_default();
        accounts.insert(live.caller.clone());
        for a in &accounts {
            let active = org
                .accounts
                .get(a)
                .is_some_and(|x| x.state == AccountState::Active && x.id != org.management_account);
            if !active {
                continue;
            }
            let path = crate::plan::path_of(org, a);
            for (i, p) in foreign.iter().enumerate() {
                let Some(t) = path.iter().find(|t| p.targets.contains(*t)) else {
                    continue;
                };
                let r = guarded
                    .bedrock_model_ids
                    .iter()
                    .map(|id| {
                        let arn = format!("arn:aws:bedrock:us-east-1::foundation-model/{id}");
                        reading(&p.content, &arn)
                    })
                    .min()
                    .unwrap_or(Reading::NoDeny);
                if r != Reading::NoDeny {
                    let e = found.entry((i, key, r)).or_default();
                    e.0.insert(t.clone());
                    e.1.insert(a.clone());
                }
            }
        }
    }
    foreign_items(found, foreign)
}

fn foreign_items(found: Found<'_>, foreign: &[&ScpPolicy]) -> Vec<GuardrailDrift> {
    found
        .into_iter()
        .map(|((i, key, r), (targets, accounts))| {
            let p = foreign[i];
            let (kind, verb) = match r {
                Reading::Denies => (GuardrailDriftKind::ForeignDenies, "denies"),
                _ => (GuardrailDriftKind::ForeignMayDeny, "may deny (a condition decides: unknown)"),
            };
            GuardrailDrift {
                kind,
                policy_name: p.name.clone(),
                policy_id: Some(p.id.clone()),
                models: vec![key.clone()],
                message: format!(
                    "SCP {:?} ({}), not the tool's, {verb} model {key} to {} entitled account(s): entitled but denied",
                    p.name,
                    p.id,
                    accounts.len()
                ),
                targets: targets.into_iter().collect(),
                accounts: accounts.into_iter().collect(),
                fixed_by_apply: false,
            }
        })
        .collect()
}
