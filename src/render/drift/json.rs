//! The drift report as JSON, and its reader as the baseline of a later run.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::audit::{Baseline, DriftKind, DriftReport};
use crate::model::{AccountId, GrantArn};

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// The report as JSON: `format_version`, `drift` (exit 2), `summary` (counts per kind, every
/// kind present), `items`, and `access` per model (`before`: now, `after`: once applied), which
/// makes the document usable as a later run's `--baseline`.
pub fn json(report: &DriftReport) -> String {
    let mut summary = serde_json::Map::new();
    for kind in DriftKind::ALL {
        summary.insert(kind.as_str().to_owned(), json!(report.count(kind)));
    }
    let items: Vec<Value> = report
        .items
        .iter()
        .map(|i| {
            json!({
                "kind": i.kind.as_str(),
                "model": i.model.as_ref().map(|m| m.as_str()),
                "license_arn": i.license_arn.as_str(),
                "principal": i.principal.as_ref().map(|p| p.arn()),
                "grant_arn": i.grant.as_ref().map(|g| g.arn.as_str()),
                "grant_name": i.grant.as_ref().map(|g| g.name.as_str()),
                "status": i.grant.as_ref().map(|g| g.status.as_str()),
                "version": i.grant.as_ref().map(|g| g.version.as_str()).filter(|v| !v.is_empty()),
                "status_reason": i.grant.as_ref().and_then(|g| g.status_reason.as_deref()),
                "accounts": i.accounts.iter().map(AccountId::as_str).collect::<Vec<_>>(),
                "action": i.action.map(|a| a.as_str()),
                "message": i.message,
            })
        })
        .collect();
    let access: serde_json::Map<String, Value> = report
        .access
        .iter()
        .map(|(k, c)| {
            (
                k.to_string(),
                json!({
                    "before": c.before.iter().map(AccountId::as_str).collect::<Vec<_>>(),
                    "after": c.after.iter().map(AccountId::as_str).collect::<Vec<_>>(),
                }),
            )
        })
        .collect();
    let mut doc = json!({
        "format_version": FORMAT_VERSION,
        "report": "drift",
        "drift": report.has_drift(),
        "actions": report.actions,
        "generated_at": report.generated_at,
        "baseline_generated_at": report.baseline.as_ref().and_then(|b| b.generated_at),
        "live_fingerprint": report.live_fingerprint,
        "config_digest": report.config_digest,
        "summary": summary,
        "items": items,
        "access": access,
        "expiry": report.expiry.iter().map(|w| json!({
            "license_arn": w.license_arn.as_str(),
            "model": w.model.as_ref().map(|m| m.as_str()),
            "ends": w.ends,
            "days_left": w.days_left,
            "expired": w.expired,
            "accounts": w.accounts.iter().map(AccountId::as_str).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    crate::render::guardrails::add_drift_json(&mut doc, &report.guardrails);
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// Why a baseline file could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BaselineError(String);

/// Reads a baseline: a saved plan (`plan --out`) or an earlier `drift --format json`. Uses
/// `access.<model>.after`, and from a drift report `generated_at` and its stuck grants.
pub fn parse_baseline(text: &str) -> Result<Baseline, BaselineError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| BaselineError(format!("not JSON: {e}")))?;
    let access = doc
        .get("access")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            BaselineError(
                "no `access` object: expected a plan saved by `plan --out` or the output of `drift --format json`"
                    .to_owned(),
            )
        })?;
    let mut baseline = Baseline::default();
    for (model, change) in access {
        let after = change
            .get("after")
            .and_then(Value::as_array)
            .ok_or_else(|| BaselineError(format!("access.{model}.after is not a list")))?;
        let mut accounts = BTreeSet::new();
        for (i, a) in after.iter().enumerate() {
            let id = a
                .as_str()
                .and_then(|s| s.parse::<AccountId>().ok())
                .ok_or_else(|| {
                    BaselineError(format!(
                        "access.{model}.after[{i}] is not a 12-digit account id"
                    ))
                })?;
            accounts.insert(id);
        }
        baseline.access.insert(model.clone(), accounts);
    }
    baseline.generated_at = doc.get("generated_at").and_then(Value::as_u64);
    if let Some(items) = doc.get("items").and_then(Value::as_array) {
        for item in items {
            if item.get("kind").and_then(Value::as_str) != Some(DriftKind::Stuck.as_str()) {
                continue;
            }
            let arn = item
                .get("grant_arn")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<GrantArn>().ok());
            let status = item.get("status").and_then(Value::as_str);
            if let (Some(arn), Some(status)) = (arn, status) {
                let version = item
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                baseline
                    .stuck
                    .insert(arn, (status.to_owned(), version.to_owned()));
            }
        }
    }
    Ok(baseline)
}
