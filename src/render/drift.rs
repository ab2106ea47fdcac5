//! The drift report: text for a terminal, Markdown for the issue a scheduled job opens or
//! updates, JSON for scripts (and as the baseline of a later run, see [`parse_baseline`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::common::clean;
use super::escape::md as md_escape;
use crate::audit::{Baseline, DriftItem, DriftKind, DriftReport};
use crate::model::{AccountId, GrantArn};

/// The hidden first line a scheduled job looks for to update its issue instead of opening one.
pub const MARKER: &str = "<!-- bedrock-entitlements:drift -->";

/// The most bytes [`markdown`] returns (GitHub refuses issue bodies over 65,536 characters).
pub const MAX_LEN: usize = 60_000;

/// Accounts listed by name in one item before "and N more".
const ACCOUNTS_SHOWN: usize = 6;

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

fn fixable(report: &DriftReport) -> usize {
    report.items.iter().filter(|i| i.action.is_some()).count()
}

/// `Drift: 3 differences apply would fix, 2 reported only.` or the in-sync sentence.
pub fn summary_line(report: &DriftReport) -> String {
    let fix = fixable(report);
    let only = report.items.len() - fix;
    let only_text = match only {
        0 => String::new(),
        1 => "; 1 difference reported only (apply cannot act on it)".to_owned(),
        n => format!("; {n} differences reported only (apply cannot act on them)"),
    };
    if report.has_drift() {
        format!(
            "Drift: {fix} difference{} apply would fix{only_text}.",
            if fix == 1 { "" } else { "s" }
        )
    } else if only > 0 {
        format!("No drift apply can fix{only_text}.")
    } else {
        "No drift. Live grants match entitlements.yaml.".to_owned()
    }
}

fn accounts_text(accounts: &[AccountId]) -> String {
    let shown: Vec<&str> = accounts
        .iter()
        .take(ACCOUNTS_SHOWN)
        .map(AccountId::as_str)
        .collect();
    let mut s = shown.join(", ");
    if accounts.len() > ACCOUNTS_SHOWN {
        let _ = write!(s, " and {} more", accounts.len() - ACCOUNTS_SHOWN);
    }
    s
}

fn grant_text(item: &DriftItem) -> String {
    match &item.grant {
        Some(g) if g.version.is_empty() => {
            format!(
                "grant {:?} ({}, {})",
                clean(&g.name),
                g.arn.grant_id(),
                g.status
            )
        }
        Some(g) => format!(
            "grant {:?} ({}, {} v{})",
            clean(&g.name),
            g.arn.grant_id(),
            g.status,
            g.version
        ),
        None => "no grant".to_owned(),
    }
}

fn head(item: &DriftItem) -> String {
    let model = match &item.model {
        Some(m) => format!("model {m}"),
        None => "no model".to_owned(),
    };
    let target = match &item.principal {
        Some(p) => format!("{} {}", p.kind(), p.short_id()),
        None => format!("account {}", accounts_text(&item.accounts)),
    };
    let action = match item.action {
        Some(a) => format!("[apply: {}]", a.as_str()),
        None => "[reported only]".to_owned(),
    };
    format!("{action} {model}  {target}  {}", grant_text(item))
}

/// Groups items by kind, in the kinds' order.
fn by_kind(report: &DriftReport) -> BTreeMap<DriftKind, Vec<&DriftItem>> {
    let mut map: BTreeMap<DriftKind, Vec<&DriftItem>> = BTreeMap::new();
    for item in &report.items {
        map.entry(item.kind).or_default().push(item);
    }
    map
}

/// The report for a terminal (no colour: it is read in CI logs as often as on a terminal).
pub fn text(report: &DriftReport) -> String {
    let mut out = String::new();
    for (kind, items) in by_kind(report) {
        let _ = writeln!(out, "{} ({}):", kind.title(), items.len());
        for item in items {
            let _ = writeln!(out, "  {}", head(item));
            let _ = writeln!(out, "      {}", clean(&item.message));
            if item.principal.is_some() && !item.accounts.is_empty() {
                let _ = writeln!(
                    out,
                    "      accounts reached: {}",
                    accounts_text(&item.accounts)
                );
            }
        }
        out.push('\n');
    }
    out.push_str(&super::guardrails::drift_text(&report.guardrails));
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// The report as an issue body: at most [`MAX_LEN`] bytes, with a closing line saying how many
/// items were left out when it had to cut.
pub fn markdown(report: &DriftReport) -> String {
    let mut out = String::new();
    out.push_str(MARKER);
    out.push_str("\n## bedrock-entitlements drift\n\n");
    // Expiring licenses first: they cut access off whatever else is done.
    let heads_up = crate::plan::Plan {
        expiry: report.expiry.clone(),
        ..crate::plan::Plan::default()
    };
    for line in super::common::heads_up(&heads_up) {
        let _ = writeln!(out, "> **{}**\n", md_escape(&line));
    }
    let _ = writeln!(out, "**{}**\n", summary_line(report));
    let groups = by_kind(report);
    if !groups.is_empty() {
        out.push_str("| difference | count | apply fixes it |\n| :-- | --: | :-- |\n");
        for (kind, items) in &groups {
            let fixes = if items.iter().all(|i| i.action.is_some()) {
                "yes"
            } else if items.iter().any(|i| i.action.is_some()) {
                "some"
            } else {
                "no"
            };
            let _ = writeln!(out, "| {} | {} | {fixes} |", kind.title(), items.len());
        }
        out.push('\n');
    }
    let reserve = 400;
    let mut left_out = 0usize;
    for (kind, items) in &groups {
        let heading = format!("### {} ({})\n\n", kind.title(), items.len());
        if out.len() + heading.len() + reserve > MAX_LEN {
            left_out += items.len();
            continue;
        }
        out.push_str(&heading);
        for item in items {
            let model = item
                .model
                .as_ref()
                .map_or("no model".to_owned(), |m| format!("`{m}`"));
            let target = match &item.principal {
                Some(p) => format!("{} `{}`", p.kind(), p.short_id()),
                None => format!("account `{}`", accounts_text(&item.accounts)),
            };
            let action = match item.action {
                Some(a) => format!("apply: **{}**", a.as_str()),
                None => "reported only".to_owned(),
            };
            let line = format!(
                "- {model} · {target} · {action} · {}  \n  {}\n",
                md_escape(&grant_text(item)),
                md_escape(&item.message)
            );
            if out.len() + line.len() + reserve > MAX_LEN {
                left_out += 1;
                continue;
            }
            out.push_str(&line);
        }
        out.push('\n');
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "> [!WARNING]\n> {left_out} item(s) left out to fit in an issue; run `bedrock-entitlements drift` for the full report.\n"
        );
    }
    out.push_str(&super::guardrails::drift_markdown(&report.guardrails));
    out.push_str("<sub>Fix what apply can with `bedrock-entitlements apply`; the rest needs a person (see docs/troubleshooting.md).</sub>\n");
    out
}

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
    super::guardrails::add_drift_json(&mut doc, &report.guardrails);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{DriftItem, GrantFacts};
    use crate::config::ModelKey;
    use crate::model::GrantStatus;
    use crate::plan::ActionKind;

    fn report(n: usize) -> DriftReport {
        let items = (0..n)
            .map(|i| DriftItem {
                kind: if i % 2 == 0 {
                    DriftKind::Missing
                } else {
                    DriftKind::Stuck
                },
                model: ModelKey::parse("claude"),
                license_arn: "arn:aws:license-manager::294406891311:license:l-abc"
                    .parse()
                    .unwrap(),
                principal: Some(format!("arn:aws:iam::{:012}:root", i).parse().unwrap()),
                grant: (i % 2 == 1).then(|| GrantFacts {
                    arn: format!("arn:aws:license-manager::111122223333:grant:g-{i:032x}")
                        .parse()
                        .unwrap(),
                    name: "a <b> *name* | with `markup`".to_owned(),
                    status: GrantStatus::PendingWorkflow,
                    version: "2".to_owned(),
                    status_reason: None,
                }),
                accounts: vec![format!("{:012}", i).parse().unwrap()],
                action: (i % 2 == 0).then_some(ActionKind::Create),
                message: "a message long enough to fill an issue quickly when repeated often"
                    .to_owned(),
            })
            .collect();
        DriftReport {
            expiry: Vec::new(),
            items,
            actions: n.div_ceil(2),
            access: Default::default(),
            live_fingerprint: "f".to_owned(),
            config_digest: "d".to_owned(),
            generated_at: Some(1),
            baseline: None,
            guardrails: Vec::new(),
        }
    }

    #[test]
    fn markdown_stays_under_the_issue_limit_and_says_what_it_left_out() {
        let md = markdown(&report(5_000));
        assert!(md.len() <= MAX_LEN, "{}", md.len());
        assert!(md.starts_with(MARKER));
        assert!(md.contains("| Missing grants | 2500 | yes |"));
        assert!(md.contains("| Grants stuck in an AWS workflow | 2500 | no |"));
        let shown = md.matches("\n- `claude`").count();
        let left: usize = md
            .split("> [!WARNING]\n> ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("the warning counts what was left out");
        assert_eq!(shown + left, 5_000);
        assert!(!md.contains("<b>"), "grant names cannot inject markup");
    }

    #[test]
    fn small_reports_are_whole_and_json_is_a_baseline() {
        let r = report(4);
        let md = markdown(&r);
        assert!(!md.contains("left out"));
        assert_eq!(md.matches("\n- `claude`").count(), 4);
        let text = json(&r);
        let baseline = parse_baseline(&text).unwrap();
        assert_eq!(baseline.generated_at, Some(1));
        assert_eq!(baseline.stuck.len(), 2);
        assert_eq!(
            summary_line(&r),
            "Drift: 2 differences apply would fix; 2 differences reported only (apply cannot act on them)."
        );
        assert!(parse_baseline("{}").is_err());
        assert!(parse_baseline(r#"{"access":{"m":{"after":["12"]}}}"#).is_err());
    }
}
