//! The plan document of the contract: what `plan --out` saves, `plan --format json` prints and
//! `apply PLAN` reads back.
//!
//! The wire types here are the only serde types of a plan: internal types never derive
//! `Serialize`, so the document changes only when this file does. Identifiers travel as
//! strings and are checked by [`parse`], which names the offending field
//! (`actions[3].principal: ...`).
//!
//! ```json
//! {
//!   "format_version": 1,
//!   "live_fingerprint": "…", "config_digest": "…",
//!   "summary": { "create": 1, "activate": 0, "deactivate": 0, "update": 0, "delete": 0, "recreate": 0, "accept": 0 },
//!   "actions": [ { "action": "create", "model": "claude", "license_arn": "…", "principal": "arn:aws:iam::111122223333:root",
//!                  "grant_name": "…", "operations": ["…"], "target_status": "active", "reason": "…" } ],
//!   "notes": [ … ],
//!   "access": { "claude": { "before": [], "after": ["111122223333"] } },
//!   "guardrails": { "mode": "enforce",
//!                   "actions": [ { "kind": "create", "phase": "before_grants", "name": "bedrock-entitlements-claude",
//!                                  "description": "…", "content": "{\"Version\":…}" },
//!                                { "kind": "attach", "phase": "after_grants", "name": "bedrock-entitlements-claude",
//!                                  "target": "ou-ab12-sandbox1" } ],
//!                   "effects": [ { "model": "claude", "newly_denied": ["…"], "newly_allowed": [],
//!                                  "allowed_through_grant": ["…"], "sentence": "…" } ] },
//!   "guardrail_notes": [ { "kind": "scp_disabled", "message": "…" } ]
//! }
//! ```
//!
//! `guardrails` and `guardrail_notes` are left out when guardrails are off, so such plans are
//! byte for byte what they were before guardrails existed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::common::ALL_KINDS;
use crate::config::{ActivationOverride, ModelKey};
use crate::model::{AccountId, GrantArn, GrantStatus, IdError};
use crate::org::{LicenseCandidate, LostBecause};
use crate::plan::{
    AccessChange, Action, ActionBody, ActionKind, BodyError, Cover, ExpiryWarning, LicenseChoice,
    Note, NoteDetail, NoteKind, Plan, PlannedGrant, Reason, TargetStatus, words,
};

/// The only `format_version` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The whole plan document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    /// Identifies the live grants the plan was computed from; `apply` refuses the plan when
    /// a fresh read gives another value.
    pub live_fingerprint: String,
    /// Digest of the desired state the plan was computed from.
    pub config_digest: String,
    /// The licenses whose grants `live_fingerprint` covers.
    pub licenses: Vec<String>,
    pub summary: SummaryDocument,
    pub actions: Vec<ActionDocument>,
    pub notes: Vec<NoteDocument>,
    /// Accounts that can use each model before and after the plan.
    pub access: BTreeMap<String, AccessDocument>,
    /// Models whose product has several received licenses: the rule's choice and the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_choices: Vec<LicenseChoiceDocument>,
    /// Licenses in use that expire soon or have expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiry: Vec<ExpiryDocument>,
    /// The guardrails layer (SCP actions and their effects); absent when guardrails are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<super::guardrails::GuardrailsDocument>,
    /// What the guardrails layer could not plan; absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrail_notes: Vec<super::guardrails::GuardrailNoteDocument>,
    /// The guardrail changes `apply` will make (`settings.guardrails.mode: enforce` only; the
    /// contract's list). Derived from `guardrails` and not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_actions: Option<Vec<super::guardrails::PolicyActionEntry>>,
    /// Subscriptions `apply` makes before any grant (`action: "subscribe"`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscription_actions: Vec<super::subscriptions::SubscriptionActionEntry>,
    /// Why a subscribed model gets no subscription; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscription_notes: Vec<super::subscriptions::SubscriptionNoteEntry>,
}

/// Number of actions of each kind; every kind is present, zero included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SummaryDocument {
    pub create: usize,
    pub activate: usize,
    pub deactivate: usize,
    pub update: usize,
    pub delete: usize,
    pub recreate: usize,
    pub accept: usize,
    /// `policy_create` … `policy_delete`, in enforce mode only.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<super::guardrails::PolicySummary>,
    /// Subscriptions (`subscription_actions`); left out when there is none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subscribe: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SummaryDocument {
    fn count_mut(&mut self, kind: ActionKind) -> &mut usize {
        match kind {
            ActionKind::Create => &mut self.create,
            ActionKind::Activate => &mut self.activate,
            ActionKind::Deactivate => &mut self.deactivate,
            ActionKind::Update => &mut self.update,
            ActionKind::Delete => &mut self.delete,
            ActionKind::Recreate => &mut self.recreate,
            ActionKind::Accept => &mut self.accept,
        }
    }

    pub fn count(&self, kind: ActionKind) -> usize {
        match kind {
            ActionKind::Create => self.create,
            ActionKind::Activate => self.activate,
            ActionKind::Deactivate => self.deactivate,
            ActionKind::Update => self.update,
            ActionKind::Delete => self.delete,
            ActionKind::Recreate => self.recreate,
            ActionKind::Accept => self.accept,
        }
    }

    fn of(actions: &[Action]) -> SummaryDocument {
        let mut summary = SummaryDocument::default();
        for a in actions {
            *summary.count_mut(a.kind()) += 1;
        }
        summary
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDocument {
    /// `create`, `activate`, `deactivate`, `update`, `delete`, `recreate` or `accept`.
    pub action: String,
    /// The model key; `null` for a managed grant the file no longer names.
    pub model: Option<String>,
    pub license_arn: String,
    /// The principal ARN (account root, OU or organization).
    pub principal: String,
    /// The grant acted on; absent for `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_arn: Option<String>,
    /// The grant's version when planned; absent for `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_version: Option<String>,
    pub grant_name: String,
    /// Allowed operations the grant gets (create, recreate, update); empty otherwise.
    pub operations: Vec<String>,
    /// `active` or `disabled`.
    pub target_status: String,
    pub reason: String,
    /// The idempotency token `apply` sends with this action's mutating calls.
    pub client_token: String,
    /// Access continuity (revoking actions): the grants that must be in effect for the listed
    /// accounts before the revoke runs; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits_for: Vec<CoverDocument>,
    /// `Options.ActivationOverrideBehavior` API value sent with every activation of the
    /// action (`DISTRIBUTED_GRANTS_ONLY` / `ALL_GRANTS_PERMITTED_BY_ISSUER`); absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_override: Option<String>,
}

/// A grant that must be in effect for some accounts before a revoke runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverDocument {
    pub license_arn: String,
    pub principal: String,
    /// The live grant; absent when the plan's `create` on this pair makes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_arn: Option<String>,
    pub accounts: Vec<String>,
}

/// A model whose product has several received licenses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseChoiceDocument {
    pub model: String,
    pub chosen: String,
    pub others: Vec<LicenseCandidateDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseCandidateDocument {
    pub license_arn: String,
    /// `not_available`, `no_create_grant`, `not_yet_valid`, `expired`, `ends_earlier`,
    /// `began_earlier` or `larger_arn`.
    pub lost: String,
    /// The license status, for `not_available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why, in words.
    pub why: String,
}

/// A license in use that expires within `settings.expiry_warning_days`, or has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryDocument {
    pub license_arn: String,
    pub model: Option<String>,
    pub ends: String,
    pub days_left: i64,
    pub expired: bool,
    /// The accounts that would lose access.
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDocument {
    /// `foreign`, `foreign_conflict`, `in_progress`, `awaiting_acceptance`,
    /// `kept_for_continuity` or `keeps_other_grant`.
    pub kind: String,
    pub model: Option<String>,
    pub license_arn: String,
    pub principal: String,
    pub grant_arn: String,
    pub grant_name: String,
    /// The grant's License Manager status, e.g. `PENDING_ACCEPT`.
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDocument {
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// Why a plan file cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("the plan file is not valid JSON: {0}")]
    Syntax(serde_json::Error),
    #[error("the plan file is not a JSON object: it is not a plan saved by `plan --out`")]
    NotAnObject,
    #[error("the plan file has no format_version: it is not a plan saved by `plan --out`")]
    MissingFormatVersion,
    #[error(
        "the plan file has format_version {found}, but this version of bedrock-entitlements reads only format_version {FORMAT_VERSION}"
    )]
    UnsupportedFormatVersion { found: String },
    #[error("the plan file does not have the shape of a plan: {0}")]
    Shape(serde_json::Error),
    #[error("the plan file is invalid at {path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "the plan file's summary counts {stated} {action} actions but its actions list has {actual}: it was edited by hand"
    )]
    SummaryMismatch {
        action: &'static str,
        stated: usize,
        actual: usize,
    },
}

fn invalid(path: impl Into<String>, message: impl Into<String>) -> PlanFileError {
    PlanFileError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

fn note_kind_name(kind: &NoteKind) -> &'static str {
    match kind {
        NoteKind::Foreign => "foreign",
        NoteKind::ForeignConflict => "foreign_conflict",
        NoteKind::InProgress => "in_progress",
        NoteKind::AwaitingAcceptance => "awaiting_acceptance",
        NoteKind::KeptForContinuity => "kept_for_continuity",
        NoteKind::KeepsOtherGrant => "keeps_other_grant",
    }
}

const NOTE_KINDS: [NoteKind; 6] = [
    NoteKind::Foreign,
    NoteKind::ForeignConflict,
    NoteKind::InProgress,
    NoteKind::AwaitingAcceptance,
    NoteKind::KeptForContinuity,
    NoteKind::KeepsOtherGrant,
];

fn target_status_name(s: TargetStatus) -> &'static str {
    match s {
        TargetStatus::Active => "active",
        TargetStatus::Disabled => "disabled",
    }
}

impl PlanDocument {
    /// The document for a plan.
    pub fn from_plan(plan: &Plan) -> PlanDocument {
        PlanDocument {
            format_version: FORMAT_VERSION,
            live_fingerprint: plan.live_fingerprint.clone(),
            config_digest: plan.config_digest.clone(),
            licenses: plan.licenses.iter().map(|l| l.to_string()).collect(),
            summary: SummaryDocument {
                policies: super::guardrails::policy_summary(plan),
                subscribe: plan.subscriptions.len(),
                ..SummaryDocument::of(&plan.actions)
            },
            actions: plan.actions.iter().map(action_document).collect(),
            notes: plan.notes.iter().map(note_document).collect(),
            access: plan
                .access
                .iter()
                .map(|(model, change)| {
                    let ids = |v: &[AccountId]| v.iter().map(|a| a.to_string()).collect();
                    (
                        model.to_string(),
                        AccessDocument {
                            before: ids(&change.before),
                            after: ids(&change.after),
                        },
                    )
                })
                .collect(),
            license_choices: plan.license_choices.iter().map(choice_document).collect(),
            expiry: plan.expiry.iter().map(expiry_document).collect(),
            guardrails: super::guardrails::document(plan),
            guardrail_notes: super::guardrails::notes_document(plan),
            policy_actions: super::guardrails::policy_actions(plan),
            subscription_actions: super::subscriptions::actions(plan),
            subscription_notes: super::subscriptions::notes(plan),
        }
    }

    /// Checks every field and builds the plan; errors name the field (`actions[2].principal`).
    pub fn into_plan(self) -> Result<Plan, PlanFileError> {
        if self.format_version != FORMAT_VERSION {
            return Err(PlanFileError::UnsupportedFormatVersion {
                found: self.format_version.to_string(),
            });
        }
        let actions = self
            .actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| action_from(&format!("actions[{i}]"), a))
            .collect::<Result<Vec<_>, _>>()?;
        let actual = SummaryDocument::of(&actions);
        for kind in ALL_KINDS {
            let (stated, actual) = (self.summary.count(kind), actual.count(kind));
            if stated != actual {
                return Err(PlanFileError::SummaryMismatch {
                    action: kind.as_str(),
                    stated,
                    actual,
                });
            }
        }
        let notes = self
            .notes
            .into_iter()
            .enumerate()
            .map(|(i, n)| note_from(&format!("notes[{i}]"), n))
            .collect::<Result<Vec<_>, _>>()?;
        let mut access = BTreeMap::new();
        for (model, change) in self.access {
            let path = format!("access.{model}");
            let key = model_key(&path, &model)?;
            let ids = |side: &str, v: Vec<String>| -> Result<Vec<AccountId>, PlanFileError> {
                v.into_iter()
                    .enumerate()
                    .map(|(i, s)| typed(&format!("{path}.{side}[{i}]"), &s))
                    .collect()
            };
            let change = AccessChange {
                before: ids("before", change.before)?,
                after: ids("after", change.after)?,
            };
            access.insert(key, change);
        }
        let licenses = self
            .licenses
            .iter()
            .enumerate()
            .map(|(i, l)| typed(&format!("licenses[{i}]"), l))
            .collect::<Result<_, _>>()?;
        let license_choices = self
            .license_choices
            .into_iter()
            .enumerate()
            .map(|(i, c)| choice_from(&format!("license_choices[{i}]"), c))
            .collect::<Result<_, _>>()?;
        let expiry = self
            .expiry
            .into_iter()
            .enumerate()
            .map(|(i, e)| expiry_from(&format!("expiry[{i}]"), e))
            .collect::<Result<_, _>>()?;
        let (guardrails, guardrail_notes) =
            super::guardrails::from_documents(self.guardrails.as_ref(), &self.guardrail_notes)
                .map_err(|(path, message)| invalid(path, message))?;
        if self.summary.subscribe != self.subscription_actions.len() {
            return Err(PlanFileError::SummaryMismatch {
                action: "subscribe",
                stated: self.summary.subscribe,
                actual: self.subscription_actions.len(),
            });
        }
        let (subscriptions, subscription_notes) = super::subscriptions::from_documents(
            self.subscription_actions,
            self.subscription_notes,
        )
        .map_err(|(path, message)| invalid(path, message))?;
        Ok(Plan {
            subscriptions,
            subscription_notes,
            actions,
            notes,
            access,
            licenses,
            license_choices,
            expiry,
            guardrails,
            guardrail_notes,
            live_fingerprint: self.live_fingerprint,
            config_digest: self.config_digest,
        })
    }
}

fn action_document(a: &Action) -> ActionDocument {
    ActionDocument {
        action: a.kind().as_str().to_owned(),
        model: a.model().map(|m| m.to_string()),
        license_arn: a.license_arn.to_string(),
        principal: a.principal.arn(),
        grant_arn: a.grant_arn().map(|g| g.to_string()),
        planned_version: a.planned_version().map(str::to_owned),
        grant_name: a.grant_name.clone(),
        operations: a.operations.iter().cloned().collect(),
        target_status: target_status_name(a.target_status).to_owned(),
        reason: words::reason(&a.reason),
        client_token: a.client_token.clone(),
        waits_for: a
            .waits_for
            .iter()
            .map(|c| CoverDocument {
                license_arn: c.license_arn.to_string(),
                principal: c.principal.arn(),
                grant_arn: c.grant_arn.as_ref().map(|g| g.to_string()),
                accounts: c.accounts.iter().map(|a| a.to_string()).collect(),
            })
            .collect(),
        activation_override: a.activation_override.map(|o| o.api_value().to_owned()),
    }
}

fn choice_document(c: &LicenseChoice) -> LicenseChoiceDocument {
    LicenseChoiceDocument {
        model: c.model.to_string(),
        chosen: c.chosen.to_string(),
        others: c
            .others
            .iter()
            .map(|o| LicenseCandidateDocument {
                license_arn: o.arn.to_string(),
                lost: o.lost.code().to_owned(),
                status: match &o.lost {
                    LostBecause::NotAvailable(status) => Some(status.clone()),
                    _ => None,
                },
                why: o.lost.describe(),
            })
            .collect(),
    }
}

fn expiry_document(e: &ExpiryWarning) -> ExpiryDocument {
    ExpiryDocument {
        license_arn: e.license_arn.to_string(),
        model: e.model.as_ref().map(|m| m.to_string()),
        ends: e.ends.clone(),
        days_left: e.days_left,
        expired: e.expired,
        accounts: e.accounts.iter().map(|a| a.to_string()).collect(),
    }
}

fn choice_from(path: &str, c: LicenseChoiceDocument) -> Result<LicenseChoice, PlanFileError> {
    let others = c
        .others
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            let at = format!("{path}.others[{i}]");
            let lost = LostBecause::from_code(&o.lost, o.status.as_deref()).ok_or_else(|| {
                invalid(format!("{at}.lost"), format!("unknown reason {:?}", o.lost))
            })?;
            Ok(LicenseCandidate {
                arn: typed(&format!("{at}.license_arn"), &o.license_arn)?,
                lost,
            })
        })
        .collect::<Result<_, PlanFileError>>()?;
    Ok(LicenseChoice {
        model: model_key(&format!("{path}.model"), &c.model)?,
        chosen: typed(&format!("{path}.chosen"), &c.chosen)?,
        others,
    })
}

fn expiry_from(path: &str, e: ExpiryDocument) -> Result<ExpiryWarning, PlanFileError> {
    Ok(ExpiryWarning {
        license_arn: typed(&format!("{path}.license_arn"), &e.license_arn)?,
        model: optional_model(&format!("{path}.model"), e.model)?,
        ends: e.ends,
        days_left: e.days_left,
        expired: e.expired,
        accounts: e
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| typed(&format!("{path}.accounts[{i}]"), a))
            .collect::<Result<_, _>>()?,
    })
}

fn cover_from(path: &str, c: CoverDocument) -> Result<Cover, PlanFileError> {
    Ok(Cover {
        license_arn: typed(&format!("{path}.license_arn"), &c.license_arn)?,
        principal: typed(&format!("{path}.principal"), &c.principal)?,
        grant_arn: c
            .grant_arn
            .as_deref()
            .map(|g| typed(&format!("{path}.grant_arn"), g))
            .transpose()?,
        accounts: c
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| typed(&format!("{path}.accounts[{i}]"), a))
            .collect::<Result<_, _>>()?,
    })
}

fn override_from(
    path: &str,
    value: Option<&str>,
) -> Result<Option<ActivationOverride>, PlanFileError> {
    match value {
        None => Ok(None),
        Some("DISTRIBUTED_GRANTS_ONLY") => Ok(Some(ActivationOverride::DistributedGrantsOnly)),
        Some("ALL_GRANTS_PERMITTED_BY_ISSUER") => {
            Ok(Some(ActivationOverride::AllGrantsPermittedByIssuer))
        }
        Some(other) => Err(invalid(
            path,
            format!(
                "unknown override {other:?}: expected DISTRIBUTED_GRANTS_ONLY or ALL_GRANTS_PERMITTED_BY_ISSUER"
            ),
        )),
    }
}

fn note_document(n: &Note) -> NoteDocument {
    NoteDocument {
        kind: note_kind_name(&n.kind()).to_owned(),
        model: n.model.as_ref().map(|m| m.to_string()),
        license_arn: n.license_arn.to_string(),
        principal: n.principal.arn(),
        grant_arn: n.grant_arn.to_string(),
        grant_name: n.grant_name.clone(),
        status: n.status.as_str().to_owned(),
        message: words::note(n),
    }
}

fn typed<T: std::str::FromStr<Err = IdError>>(path: &str, s: &str) -> Result<T, PlanFileError> {
    s.parse().map_err(|e: IdError| invalid(path, e.to_string()))
}

fn model_key(path: &str, s: &str) -> Result<ModelKey, PlanFileError> {
    ModelKey::parse(s).ok_or_else(|| {
        invalid(
            path,
            format!("{s:?} is not a valid model key: expected lowercase letters, digits and '-'"),
        )
    })
}

fn optional_model(path: &str, s: Option<String>) -> Result<Option<ModelKey>, PlanFileError> {
    s.map(|s| model_key(path, &s)).transpose()
}

fn action_from(path: &str, a: ActionDocument) -> Result<Action, PlanFileError> {
    let kind = ActionKind::parse(&a.action).ok_or_else(|| {
        let names: Vec<&str> = ALL_KINDS.iter().map(|k| k.as_str()).collect();
        invalid(
            format!("{path}.action"),
            format!(
                "unknown action {:?}: expected one of {}",
                a.action,
                names.join(", ")
            ),
        )
    })?;
    let model = optional_model(&format!("{path}.model"), a.model)?;
    let body = body_from(path, kind, model, a.grant_arn, a.planned_version)?;
    let target_status = match a.target_status.as_str() {
        "active" => TargetStatus::Active,
        "disabled" => TargetStatus::Disabled,
        other => {
            return Err(invalid(
                format!("{path}.target_status"),
                format!("unknown status {other:?}: expected active or disabled"),
            ));
        }
    };
    Ok(Action {
        body,
        license_arn: typed(&format!("{path}.license_arn"), &a.license_arn)?,
        principal: typed(&format!("{path}.principal"), &a.principal)?,
        grant_name: a.grant_name,
        operations: a.operations.into_iter().collect::<BTreeSet<_>>(),
        target_status,
        reason: Reason::Recorded(a.reason),
        client_token: a.client_token,
        waits_for: a
            .waits_for
            .into_iter()
            .enumerate()
            .map(|(i, c)| cover_from(&format!("{path}.waits_for[{i}]"), c))
            .collect::<Result<_, _>>()?,
        activation_override: override_from(
            &format!("{path}.activation_override"),
            a.activation_override.as_deref(),
        )?,
    })
}

/// The kind-specific members of an action: a create names no grant, every other kind its
/// grant and that grant's planned version, every kind but delete its model.
fn body_from(
    path: &str,
    kind: ActionKind,
    model: Option<ModelKey>,
    grant_arn: Option<String>,
    planned_version: Option<String>,
) -> Result<ActionBody, PlanFileError> {
    let grant_arn: Option<GrantArn> = grant_arn
        .as_deref()
        .map(|s| typed(&format!("{path}.grant_arn"), s))
        .transpose()?;
    match (kind, &grant_arn) {
        (ActionKind::Create, Some(_)) => {
            return Err(invalid(
                format!("{path}.grant_arn"),
                "a create action names no existing grant",
            ));
        }
        (ActionKind::Create, None) | (_, Some(_)) => {}
        (_, None) => {
            return Err(invalid(
                format!("{path}.grant_arn"),
                format!(
                    "a {} action needs the ARN of the grant it acts on",
                    kind.as_str()
                ),
            ));
        }
    }
    if kind == ActionKind::Create && planned_version.is_some() {
        return Err(invalid(
            format!("{path}.planned_version"),
            "a create action has no grant version",
        ));
    }
    let grant = match (grant_arn, planned_version) {
        (Some(arn), Some(version)) => Some(PlannedGrant { arn, version }),
        (Some(_), None) => {
            return Err(invalid(
                format!("{path}.planned_version"),
                format!(
                    "{} actions need the version of the grant they act on",
                    kind.as_str()
                ),
            ));
        }
        (None, _) => None,
    };
    ActionBody::new(kind, model, grant).map_err(|e| {
        let member = match e {
            BodyError::NoModel(_) => "model",
            BodyError::CreateWithGrant | BodyError::NoGrant(_) => "grant_arn",
        };
        invalid(format!("{path}.{member}"), e.to_string())
    })
}

fn note_from(path: &str, n: NoteDocument) -> Result<Note, PlanFileError> {
    let kind = NOTE_KINDS
        .iter()
        .find(|k| note_kind_name(k) == n.kind)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = NOTE_KINDS.iter().map(note_kind_name).collect();
            invalid(
                format!("{path}.kind"),
                format!(
                    "unknown note kind {:?}: expected one of {}",
                    n.kind,
                    names.join(", ")
                ),
            )
        })?;
    Ok(Note {
        model: optional_model(&format!("{path}.model"), n.model)?,
        license_arn: typed(&format!("{path}.license_arn"), &n.license_arn)?,
        principal: typed(&format!("{path}.principal"), &n.principal)?,
        grant_arn: typed(&format!("{path}.grant_arn"), &n.grant_arn)?,
        grant_name: n.grant_name,
        status: GrantStatus::parse(&n.status),
        detail: NoteDetail::Recorded {
            kind,
            message: n.message,
        },
    })
}

/// The plan as a pretty-printed JSON document, ending in a newline.
pub fn to_string(plan: &Plan) -> String {
    let doc = PlanDocument::from_plan(plan);
    // Serializing plain structs of strings, numbers, lists and string-keyed maps cannot fail.
    let mut text = serde_json::to_string_pretty(&doc).expect("a plan document always serializes");
    text.push('\n');
    text
}

/// Reads a plan document back (for `apply PLAN`). Rejects an unknown `format_version` before
/// looking at anything else, then any malformed ARN, id, action or note kind.
pub fn parse(text: &str) -> Result<Plan, PlanFileError> {
    #[derive(Deserialize)]
    struct VersionProbe {
        format_version: Option<serde_json::Value>,
    }
    let probe: VersionProbe = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            PlanFileError::NotAnObject
        } else {
            PlanFileError::Syntax(e)
        }
    })?;
    match probe.format_version {
        None | Some(serde_json::Value::Null) => return Err(PlanFileError::MissingFormatVersion),
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
        Some(v) => {
            return Err(PlanFileError::UnsupportedFormatVersion {
                found: v.to_string(),
            });
        }
    }
    let doc: PlanDocument = serde_json::from_str(text).map_err(PlanFileError::Shape)?;
    doc.into_plan()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    #[test]
    fn empty_plan_document() {
        let text = to_string(&fixtures::empty());
        insta::assert_snapshot!(text);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        for kind in ALL_KINDS {
            assert_eq!(value["summary"][kind.as_str()], 0, "{}", kind.as_str());
        }
    }

    #[test]
    fn mixed_plan_document() {
        let text = to_string(&fixtures::mixed());
        assert!(text.ends_with("}\n"));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn create_has_no_grant_arn_and_the_rest_do() {
        let value: serde_json::Value =
            serde_json::from_str(&to_string(&fixtures::mixed())).unwrap();
        for a in value["actions"].as_array().unwrap() {
            let is_create = a["action"] == "create";
            assert_eq!(a.get("grant_arn").is_none(), is_create, "{a}");
            assert!(
                a.get("model").is_some(),
                "model is always present, null or not"
            );
        }
    }

    #[test]
    fn round_trip() {
        for p in [fixtures::empty(), fixtures::mixed(), fixtures::huge()] {
            let text = to_string(&p);
            let back = parse(&text).unwrap();
            assert_eq!(back, p);
            assert_eq!(to_string(&back), text);
        }
    }

    #[test]
    fn huge_plan_summary() {
        let value: serde_json::Value = serde_json::from_str(&to_string(&fixtures::huge())).unwrap();
        assert_eq!(value["actions"].as_array().unwrap().len(), 5_000);
        insta::assert_snapshot!(serde_json::to_string_pretty(&value["summary"]).unwrap());
    }

    /// Edits a valid document, parses it and returns the error message.
    fn check(edit: impl FnOnce(&mut serde_json::Value), want: &str) {
        let mut value: serde_json::Value =
            serde_json::from_str(&to_string(&fixtures::mixed())).unwrap();
        edit(&mut value);
        let text = serde_json::to_string_pretty(&value).unwrap();
        match parse(&text) {
            Ok(_) => panic!("parsed although it should fail with: {want}"),
            Err(e) => assert_eq!(e.to_string(), want),
        }
    }

    #[test]
    fn rejects_bad_documents() {
        use serde_json::json;
        check(
            |v| v["format_version"] = json!(2),
            "the plan file has format_version 2, but this version of bedrock-entitlements reads only format_version 1",
        );
        check(
            |v| v["format_version"] = json!("1"),
            "the plan file has format_version \"1\", but this version of bedrock-entitlements reads only format_version 1",
        );
        check(
            |v| {
                v.as_object_mut().unwrap().remove("format_version");
            },
            "the plan file has no format_version: it is not a plan saved by `plan --out`",
        );
        check(
            |v| v["actions"][2]["action"] = json!("destroy"),
            "the plan file is invalid at actions[2].action: unknown action \"destroy\": expected one of create, activate, deactivate, update, delete, recreate, accept",
        );
        check(
            |v| v["actions"][1]["principal"] = json!("arn:aws:iam::1234:root"),
            "the plan file is invalid at actions[1].principal: \"arn:aws:iam::1234:root\" is not a valid grant principal: expected arn:aws:iam::<account>:root, arn:aws:organizations::<account>:organization/o-… or arn:aws:organizations::<account>:ou/o-…/ou-…",
        );
        check(
            |v| v["actions"][0]["license_arn"] = json!("arn:aws:s3:::bucket"),
            "the plan file is invalid at actions[0].license_arn: \"arn:aws:s3:::bucket\" is not a valid license ARN: expected arn:aws:license-manager::<12-digit account>:license:l-<id>",
        );
        check(
            |v| v["actions"][0]["grant_arn"] = v["actions"][2]["grant_arn"].clone(),
            "the plan file is invalid at actions[0].grant_arn: a create action names no existing grant",
        );
        check(
            |v| {
                v["actions"][7].as_object_mut().unwrap().remove("grant_arn");
            },
            "the plan file is invalid at actions[7].grant_arn: a delete action needs the ARN of the grant it acts on",
        );
        check(
            |v| v["actions"][3]["grant_arn"] = json!("g-123"),
            "the plan file is invalid at actions[3].grant_arn: \"g-123\" is not a valid grant ARN: expected arn:aws:license-manager::<12-digit account>:grant:g-<id>",
        );
        check(
            |v| v["actions"][4]["target_status"] = json!("ACTIVE"),
            "the plan file is invalid at actions[4].target_status: unknown status \"ACTIVE\": expected active or disabled",
        );
        check(
            |v| v["actions"][4]["model"] = json!("Llama 3"),
            "the plan file is invalid at actions[4].model: \"Llama 3\" is not a valid model key: expected lowercase letters, digits and '-'",
        );
        check(
            |v| {
                v["actions"][7]
                    .as_object_mut()
                    .unwrap()
                    .remove("planned_version");
            },
            "the plan file is invalid at actions[7].planned_version: delete actions need the version of the grant they act on",
        );
        check(
            |v| v["actions"][4]["model"] = json!(null),
            "the plan file is invalid at actions[4].model: activate actions name their model",
        );
        check(
            |v| v["summary"]["delete"] = json!(0),
            "the plan file's summary counts 0 delete actions but its actions list has 1: it was edited by hand",
        );
        check(
            |v| v["notes"][1]["kind"] = json!("conflict"),
            "the plan file is invalid at notes[1].kind: unknown note kind \"conflict\": expected one of foreign, foreign_conflict, in_progress, awaiting_acceptance, kept_for_continuity, keeps_other_grant",
        );
        check(
            |v| v["access"]["llama-3"]["after"][1] = json!("12345"),
            "the plan file is invalid at access.llama-3.after[1]: \"12345\" is not a valid account id: expected exactly 12 digits",
        );
        check(
            |v| {
                v["actions"][5].as_object_mut().unwrap().remove("reason");
            },
            "the plan file does not have the shape of a plan: missing field `reason` at line 141 column 5",
        );
    }

    #[test]
    fn rejects_what_is_not_a_plan() {
        let cases = [
            (
                "{",
                "the plan file is not valid JSON: EOF while parsing an object at line 1 column 1",
            ),
            (
                "[]",
                "the plan file is not a JSON object: it is not a plan saved by `plan --out`",
            ),
            (
                "\"plan\"",
                "the plan file is not a JSON object: it is not a plan saved by `plan --out`",
            ),
            (
                "{}",
                "the plan file has no format_version: it is not a plan saved by `plan --out`",
            ),
        ];
        for (input, want) in cases {
            let err = parse(input).expect_err(input);
            assert_eq!(err.to_string(), want, "{input}");
        }
    }
}
