//! The saved plan: [`read`] checks a document written by `plan --out` and builds the plan
//! back, for `apply PLAN`. The wire types are in [`document`]; `render` writes them.
//!
//! A saved plan's reasons and notes read back as `Reason::Recorded` / `NoteDetail::Recorded`:
//! the file has their words only. Every error names the offending field
//! (`actions[3].principal: ...`).

mod document;
mod guardrails;
mod subscriptions;

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

pub use document::*;
pub use subscriptions::{SubscriptionActionEntry, SubscriptionNoteEntry};

use crate::config::{ActivationOverride, ModelKey};
use crate::model::{AccountId, GrantArn, GrantStatus, IdError};
use crate::org::{LicenseCandidate, LostBecause};
use crate::plan::{
    AccessChange, Action, ActionBody, ActionKind, BodyError, Cover, ExpiryWarning, LicenseChoice,
    Note, NoteDetail, Plan, PlannedGrant, Reason, TargetStatus,
};

/// A plan read back from a file: its reasons and notes are the recorded words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlan {
    pub plan: Plan,
}

impl SavedPlan {
    pub fn into_plan(self) -> Plan {
        self.plan
    }
}

/// Why a plan file cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
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

fn invalid(path: impl Into<String>, message: impl Into<String>) -> SavedPlanError {
    SavedPlanError::Invalid {
        path: path.into(),
        message: message.into(),
    }
}

/// Reads a plan document back (for `apply PLAN`). Rejects an unknown `format_version` before
/// looking at anything else, then any malformed ARN, id, action or note kind, and a summary
/// that does not count the actions listed.
pub fn read(text: &str) -> Result<SavedPlan, SavedPlanError> {
    #[derive(Deserialize)]
    struct VersionProbe {
        format_version: Option<serde_json::Value>,
    }
    let probe: VersionProbe = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            SavedPlanError::NotAnObject
        } else {
            SavedPlanError::Syntax(e)
        }
    })?;
    match probe.format_version {
        None | Some(serde_json::Value::Null) => return Err(SavedPlanError::MissingFormatVersion),
        Some(v) if v.as_u64() == Some(u64::from(FORMAT_VERSION)) => {}
        Some(v) => {
            return Err(SavedPlanError::UnsupportedFormatVersion {
                found: v.to_string(),
            });
        }
    }
    let doc: PlanDocument = serde_json::from_str(text).map_err(SavedPlanError::Shape)?;
    Ok(SavedPlan {
        plan: from_document(doc)?,
    })
}

/// Checks every field of a document and builds the plan; errors name the field.
pub fn from_document(doc: PlanDocument) -> Result<Plan, SavedPlanError> {
    if doc.format_version != FORMAT_VERSION {
        return Err(SavedPlanError::UnsupportedFormatVersion {
            found: doc.format_version.to_string(),
        });
    }
    let actions: Vec<Action> = each("actions", doc.actions, action_from)?;
    check_summary(&doc.summary, &actions)?;
    let (guardrails, guardrail_notes) =
        guardrails::from_documents(doc.guardrails.as_ref(), &doc.guardrail_notes)
            .map_err(|(path, message)| invalid(path, message))?;
    if doc.summary.subscribe != doc.subscription_actions.len() {
        return Err(SavedPlanError::SummaryMismatch {
            action: "subscribe",
            stated: doc.summary.subscribe,
            actual: doc.subscription_actions.len(),
        });
    }
    let (subscriptions, subscription_notes) =
        subscriptions::from_documents(doc.subscription_actions, doc.subscription_notes)
            .map_err(|(path, message)| invalid(path, message))?;
    Ok(Plan {
        subscriptions,
        subscription_notes,
        actions,
        notes: each("notes", doc.notes, note_from)?,
        access: access_from(doc.access)?,
        licenses: each("licenses", doc.licenses, |path, l| typed(path, &l))?,
        license_choices: each("license_choices", doc.license_choices, choice_from)?,
        expiry: each("expiry", doc.expiry, expiry_from)?,
        guardrails,
        guardrail_notes,
        live_fingerprint: doc.live_fingerprint,
        config_digest: doc.config_digest,
    })
}

/// Reads each element of a list with its path (`actions[3]`).
fn each<D, T, C: FromIterator<T>>(
    list: &str,
    items: Vec<D>,
    read: impl Fn(&str, D) -> Result<T, SavedPlanError>,
) -> Result<C, SavedPlanError> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, d)| read(&format!("{list}[{i}]"), d))
        .collect()
}

/// The summary must count the actions the list has: a mismatch means the file was edited.
fn check_summary(summary: &SummaryDocument, actions: &[Action]) -> Result<(), SavedPlanError> {
    let actual = SummaryDocument::of(actions);
    for kind in ACTION_KINDS {
        let (stated, actual) = (summary.count(kind), actual.count(kind));
        if stated != actual {
            return Err(SavedPlanError::SummaryMismatch {
                action: kind.as_str(),
                stated,
                actual,
            });
        }
    }
    Ok(())
}

fn access_from(
    access: BTreeMap<String, AccessDocument>,
) -> Result<BTreeMap<ModelKey, AccessChange>, SavedPlanError> {
    let mut out = BTreeMap::new();
    for (model, change) in access {
        let path = format!("access.{model}");
        let key = model_key(&path, &model)?;
        let ids = |side: &str, v: Vec<String>| -> Result<Vec<AccountId>, SavedPlanError> {
            each(&format!("{path}.{side}"), v, |at, s| typed(at, &s))
        };
        let change = AccessChange {
            before: ids("before", change.before)?,
            after: ids("after", change.after)?,
        };
        out.insert(key, change);
    }
    Ok(out)
}

fn choice_from(path: &str, c: LicenseChoiceDocument) -> Result<LicenseChoice, SavedPlanError> {
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
        .collect::<Result<_, SavedPlanError>>()?;
    Ok(LicenseChoice {
        model: model_key(&format!("{path}.model"), &c.model)?,
        chosen: typed(&format!("{path}.chosen"), &c.chosen)?,
        others,
    })
}

fn expiry_from(path: &str, e: ExpiryDocument) -> Result<ExpiryWarning, SavedPlanError> {
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

fn cover_from(path: &str, c: CoverDocument) -> Result<Cover, SavedPlanError> {
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
) -> Result<Option<ActivationOverride>, SavedPlanError> {
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

fn typed<T: std::str::FromStr<Err = IdError>>(path: &str, s: &str) -> Result<T, SavedPlanError> {
    s.parse().map_err(|e: IdError| invalid(path, e.to_string()))
}

fn model_key(path: &str, s: &str) -> Result<ModelKey, SavedPlanError> {
    ModelKey::parse(s).ok_or_else(|| {
        invalid(
            path,
            format!("{s:?} is not a valid model key: expected lowercase letters, digits and '-'"),
        )
    })
}

fn optional_model(path: &str, s: Option<String>) -> Result<Option<ModelKey>, SavedPlanError> {
    s.map(|s| model_key(path, &s)).transpose()
}

fn action_from(path: &str, a: ActionDocument) -> Result<Action, SavedPlanError> {
    let kind = ActionKind::parse(&a.action).ok_or_else(|| {
        let names: Vec<&str> = ACTION_KINDS.iter().map(|k| k.as_str()).collect();
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
) -> Result<ActionBody, SavedPlanError> {
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

fn note_from(path: &str, n: NoteDocument) -> Result<Note, SavedPlanError> {
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
