//! The drift report as JSON, and its reader as the baseline of a later run.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::audit::guardrail_drift::{GuardrailDrift, GuardrailDriftKind};
use crate::audit::{Baseline, DriftItem, DriftKind, DriftReport};
use crate::model::{AccountId, GrantArn};

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// `drift --format json`. Fields are declared in alphabetical order, the order the document
/// has always had (it was a `serde_json::Value`, whose maps are sorted).
#[derive(Debug, Serialize)]
pub struct DriftDocument<'r> {
    /// Per model key: `before` (now) and `after` (once applied); what `--baseline` reads.
    pub access: BTreeMap<&'r str, AccessDocument<'r>>,
    /// The number of plan actions.
    pub actions: usize,
    pub baseline_generated_at: Option<u64>,
    pub config_digest: &'r str,
    /// Whether apply would change something (exit 2).
    pub drift: bool,
    pub expiry: Vec<ExpiryDocument<'r>>,
    pub format_version: u32,
    pub generated_at: Option<u64>,
    /// Counts per guardrail difference kind; absent without guardrail items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail_summary: Option<BTreeMap<&'static str, usize>>,
    /// Absent without guardrail items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<Vec<GuardrailDriftDocument<'r>>>,
    pub items: Vec<ItemDocument<'r>>,
    pub live_fingerprint: &'r str,
    /// Always `drift`.
    pub report: &'static str,
    /// Counts per kind, every kind present.
    pub summary: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Serialize)]
pub struct AccessDocument<'r> {
    pub after: Vec<&'r str>,
    pub before: Vec<&'r str>,
}

#[derive(Debug, Serialize)]
pub struct ExpiryDocument<'r> {
    pub accounts: Vec<&'r str>,
    pub days_left: i64,
    pub ends: &'r str,
    pub expired: bool,
    pub license_arn: &'r str,
    pub model: Option<&'r str>,
}

#[derive(Debug, Serialize)]
pub struct ItemDocument<'r> {
    pub accounts: Vec<&'r str>,
    pub action: Option<&'static str>,
    pub grant_arn: Option<&'r str>,
    pub grant_name: Option<&'r str>,
    pub kind: &'static str,
    pub license_arn: &'r str,
    pub message: &'r str,
    pub model: Option<&'r str>,
    pub principal: Option<String>,
    pub status: Option<&'r str>,
    pub status_reason: Option<&'r str>,
    pub version: Option<&'r str>,
}

#[derive(Debug, Serialize)]
pub struct GuardrailDriftDocument<'r> {
    pub accounts: Vec<&'r str>,
    pub fixed_by_apply: bool,
    pub kind: &'static str,
    pub message: &'r str,
    pub models: Vec<&'r str>,
    pub policy_id: Option<&'r str>,
    pub policy_name: &'r str,
    pub targets: Vec<&'r str>,
}

fn ids(accounts: &[AccountId]) -> Vec<&str> {
    accounts.iter().map(AccountId::as_str).collect()
}

fn item_document(i: &DriftItem) -> ItemDocument<'_> {
    let grant = i.grant.as_ref();
    ItemDocument {
        accounts: ids(&i.accounts),
        action: i.action.map(|a| a.as_str()),
        grant_arn: grant.map(|g| g.arn.as_str()),
        grant_name: grant.map(|g| g.name.as_str()),
        kind: i.kind.as_str(),
        license_arn: i.license_arn.as_str(),
        message: &i.message,
        model: i.model.as_ref().map(|m| m.as_str()),
        principal: i.principal.as_ref().map(|p| p.arn()),
        status: grant.map(|g| g.status.as_str()),
        status_reason: grant.and_then(|g| g.status_reason.as_deref()),
        version: grant.map(|g| g.version.as_str()).filter(|v| !v.is_empty()),
    }
}

fn guardrail_document(i: &GuardrailDrift) -> GuardrailDriftDocument<'_> {
    GuardrailDriftDocument {
        accounts: ids(&i.accounts),
        fixed_by_apply: i.fixed_by_apply,
        kind: i.kind.as_str(),
        message: &i.message,
        models: i.models.iter().map(|m| m.as_str()).collect(),
        policy_id: i.policy_id.as_ref().map(|p| p.as_str()),
        policy_name: &i.policy_name,
        targets: i.targets.iter().map(|t| t.id()).collect(),
    }
}

impl<'r> DriftDocument<'r> {
    pub fn of(report: &'r DriftReport) -> DriftDocument<'r> {
        let guardrails = &report.guardrails;
        DriftDocument {
            access: report
                .access
                .iter()
                .map(|(k, c)| {
                    let doc = AccessDocument {
                        after: ids(&c.after),
                        before: ids(&c.before),
                    };
                    (k.as_str(), doc)
                })
                .collect(),
            actions: report.actions,
            baseline_generated_at: report.baseline.as_ref().and_then(|b| b.generated_at),
            config_digest: &report.config_digest,
            drift: report.has_drift(),
            expiry: report
                .expiry
                .iter()
                .map(|w| ExpiryDocument {
                    accounts: ids(&w.accounts),
                    days_left: w.days_left,
                    ends: &w.ends,
                    expired: w.expired,
                    license_arn: w.license_arn.as_str(),
                    model: w.model.as_ref().map(|m| m.as_str()),
                })
                .collect(),
            format_version: FORMAT_VERSION,
            generated_at: report.generated_at,
            guardrail_summary: (!guardrails.is_empty()).then(|| {
                GuardrailDriftKind::ALL
                    .iter()
                    .map(|k| {
                        (
                            k.as_str(),
                            guardrails.iter().filter(|i| i.kind == *k).count(),
                        )
                    })
                    .collect()
            }),
            guardrails: (!guardrails.is_empty())
                .then(|| guardrails.iter().map(guardrail_document).collect()),
            items: report.items.iter().map(item_document).collect(),
            live_fingerprint: &report.live_fingerprint,
            report: "drift",
            summary: DriftKind::ALL
                .iter()
                .map(|k| (k.as_str(), report.count(*k)))
                .collect(),
        }
    }
}

/// The report as JSON: `format_version`, `drift` (exit 2), `summary` (counts per kind, every
/// kind present), `items`, and `access` per model (`before`: now, `after`: once applied), which
/// makes the document usable as a later run's `--baseline`.
pub fn json(report: &DriftReport) -> String {
    let mut text = serde_json::to_string_pretty(&DriftDocument::of(report))
        .expect("a drift document always serializes");
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
