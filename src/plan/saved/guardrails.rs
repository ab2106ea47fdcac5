//! Reading a saved plan's guardrail layer (`guardrails`, `guardrail_notes`) back.

use std::collections::BTreeSet;

use super::document::{
    EffectDocument, GuardrailNoteDocument, GuardrailsDocument, PolicyActionDocument,
};
use crate::config::{GuardrailMode, ModelKey};
use crate::model::{AccountId, PolicyId, Target};
use crate::plan::{GuardrailEffect, GuardrailNote, GuardrailNoteKind, GuardrailPlan, PolicyAction};

/// Why a guardrail field of a plan file is refused: the field's path and what is wrong.
pub type FieldError = (String, String);

fn typed<T: std::str::FromStr>(path: &str, s: &str) -> Result<T, FieldError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| (path.to_owned(), e.to_string()))
}

fn required<'a>(path: &str, v: &'a Option<String>, field: &str) -> Result<&'a str, FieldError> {
    v.as_deref().ok_or_else(|| {
        (
            format!("{path}.{field}"),
            "is required for this kind".to_owned(),
        )
    })
}

fn action_from(path: &str, d: &PolicyActionDocument) -> Result<PolicyAction, FieldError> {
    let name = d.name.clone();
    let id = |d: &PolicyActionDocument| -> Result<Option<PolicyId>, FieldError> {
        d.policy_id
            .as_deref()
            .map(|p| typed(&format!("{path}.policy_id"), p))
            .transpose()
    };
    let must_id = |d: &PolicyActionDocument| -> Result<PolicyId, FieldError> {
        id(d)?.ok_or_else(|| {
            (
                format!("{path}.policy_id"),
                "is required for this kind".to_owned(),
            )
        })
    };
    let target = |d: &PolicyActionDocument| -> Result<Target, FieldError> {
        let t = required(path, &d.target, "target")?;
        Target::parse(t).ok_or_else(|| {
            (
                format!("{path}.target"),
                format!("{t:?} is not a root, OU or account id"),
            )
        })
    };
    let text = |field: &str, v: &Option<String>| required(path, v, field).map(str::to_owned);
    let action = match d.kind.as_str() {
        "create" => PolicyAction::Create {
            name,
            description: text("description", &d.description)?,
            content: text("content", &d.content)?,
        },
        "update" => PolicyAction::Update {
            policy: must_id(d)?,
            name,
            description: text("description", &d.description)?,
            content: text("content", &d.content)?,
        },
        "attach" => PolicyAction::Attach {
            policy: id(d)?,
            name,
            target: target(d)?,
        },
        "detach" => PolicyAction::Detach {
            policy: must_id(d)?,
            name,
            target: target(d)?,
        },
        "delete" => PolicyAction::Delete {
            policy: must_id(d)?,
            name,
        },
        other => {
            return Err((
                format!("{path}.kind"),
                format!("unknown policy action {other:?}"),
            ));
        }
    };
    Ok(action)
}

fn accounts_from(path: &str, v: &[String]) -> Result<BTreeSet<AccountId>, FieldError> {
    v.iter()
        .enumerate()
        .map(|(i, s)| typed(&format!("{path}[{i}]"), s))
        .collect()
}

fn effect_from(path: &str, d: &EffectDocument) -> Result<GuardrailEffect, FieldError> {
    let model = match &d.model {
        Some(m) => Some(
            ModelKey::parse(m)
                .ok_or_else(|| (format!("{path}.model"), format!("{m:?} is not a model key")))?,
        ),
        None => None,
    };
    Ok(GuardrailEffect {
        model,
        newly_denied: accounts_from(&format!("{path}.newly_denied"), &d.newly_denied)?,
        newly_allowed: accounts_from(&format!("{path}.newly_allowed"), &d.newly_allowed)?,
        allowed_through_grant: accounts_from(
            &format!("{path}.allowed_through_grant"),
            &d.allowed_through_grant,
        )?,
    })
}

/// Reads the `guardrails` object and the `guardrail_notes` back.
pub fn from_documents(
    doc: Option<&GuardrailsDocument>,
    notes: &[GuardrailNoteDocument],
) -> Result<(Option<GuardrailPlan>, Vec<GuardrailNote>), FieldError> {
    let notes = notes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let kind = GuardrailNoteKind::parse(&n.kind).ok_or_else(|| {
                (
                    format!("guardrail_notes[{i}].kind"),
                    format!("unknown guardrail note {:?}", n.kind),
                )
            })?;
            Ok(GuardrailNote {
                kind,
                message: n.message.clone(),
            })
        })
        .collect::<Result<Vec<_>, FieldError>>()?;
    let Some(doc) = doc else {
        return Ok((None, notes));
    };
    let mode = match doc.mode.as_str() {
        "report" => GuardrailMode::Report,
        "enforce" => GuardrailMode::Enforce,
        other => {
            return Err((
                "guardrails.mode".to_owned(),
                format!("{other:?} is not report or enforce"),
            ));
        }
    };
    let actions = doc
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| action_from(&format!("guardrails.actions[{i}]"), a))
        .collect::<Result<_, _>>()?;
    let effects = doc
        .effects
        .iter()
        .enumerate()
        .map(|(i, e)| effect_from(&format!("guardrails.effects[{i}]"), e))
        .collect::<Result<_, _>>()?;
    let plan = GuardrailPlan {
        mode,
        actions,
        effects,
    };
    Ok((Some(plan), notes))
}
