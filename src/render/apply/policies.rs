//! The guardrail part of the apply report: one entry per SCP action of an enforcing plan.
//! Rendered beside the grant actions by `render::apply` (text lines, a JSON list
//! `policy_actions` with its `policy_summary`, a Markdown table); nothing when there is none.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::apply::{PolicyOutcome, PolicyReport};
use crate::plan::PolicyAction;
use crate::render::common::clean;
use crate::render::escape::md;
use crate::render::guardrails::kind_name;

fn target(a: &PolicyAction) -> Option<String> {
    match a {
        PolicyAction::Attach { target, .. } | PolicyAction::Detach { target, .. } => {
            Some(target.to_string())
        }
        _ => None,
    }
}

/// `attach SCP bedrock-entitlements-claude to ou-ab12-sandbox1`.
fn what(a: &PolicyAction) -> String {
    let to = match a {
        PolicyAction::Attach { .. } => " to ",
        PolicyAction::Detach { .. } => " from ",
        _ => "",
    };
    format!(
        "{} SCP {}{to}{}",
        kind_name(a),
        a.name(),
        target(a).unwrap_or_default()
    )
}

fn detail(o: &PolicyOutcome) -> String {
    match o {
        PolicyOutcome::Done { policy, already } => {
            format!("{policy}{}", if *already { " (already so)" } else { "" })
        }
        PolicyOutcome::Failed { error, .. } => {
            format!("{}: {}", error.operation(), clean(&error.message()))
        }
    }
}

/// Text lines (`  done     guardrail: attach SCP … to …  p-… (already so)`), then a count line.
pub(crate) fn text(policies: &[PolicyReport]) -> String {
    if policies.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for p in policies {
        out.push_str(&format!(
            "  {:<8} guardrail: {}  {}\n",
            p.outcome.label(),
            what(&p.action),
            detail(&p.outcome)
        ));
    }
    let s = summary(policies);
    out.push_str(&format!(
        "Guardrails: {} done, {} failed.\n",
        s.get("done").copied().unwrap_or(0),
        s.get("failed").copied().unwrap_or(0)
    ));
    out
}

/// Outcome label → count.
pub(crate) fn summary(policies: &[PolicyReport]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::from([("done", 0), ("failed", 0)]);
    for p in policies {
        *m.entry(p.outcome.label()).or_insert(0) += 1;
    }
    m
}

#[derive(Serialize)]
pub(crate) struct PolicyActionDocument {
    action: &'static str,
    policy_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    outcome: &'static str,
    /// Done without a change: the policy was already as the action wants it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    already: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

pub(crate) fn json(policies: &[PolicyReport]) -> Vec<PolicyActionDocument> {
    policies
        .iter()
        .map(|p| {
            let (already, error) = match &p.outcome {
                PolicyOutcome::Done { already, .. } => (*already, None),
                PolicyOutcome::Failed { error, .. } => (false, Some(error)),
            };
            PolicyActionDocument {
                action: kind_name(&p.action),
                policy_name: p.action.name().to_owned(),
                policy_id: p.outcome.policy().map(ToString::to_string),
                target: target(&p.action),
                outcome: p.outcome.label(),
                already,
                operation: error.map(|e| e.operation()),
                error_code: error.and_then(|e| e.code().map(str::to_owned)),
                message: error.map(|e| e.message()),
            }
        })
        .collect()
}

/// A Markdown table of the policy actions (nothing when there is none).
pub(crate) fn markdown(policies: &[PolicyReport]) -> String {
    if policies.is_empty() {
        return String::new();
    }
    let mut out =
        String::from("\n### Guardrails\n\n| outcome | action | detail |\n|---|---|---|\n");
    for p in policies {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            p.outcome.label(),
            md(&what(&p.action)),
            md(&detail(&p.outcome))
        ));
    }
    out
}
