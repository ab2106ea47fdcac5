//! The drift report: text for a terminal, Markdown for the issue a scheduled job opens or
//! updates, JSON for scripts (and as the baseline of a later run, see [`parse_baseline`]).

mod json;
mod markdown;

pub use json::{BaselineError, DriftDocument, FORMAT_VERSION, json, parse_baseline};
pub use markdown::{MARKER, MAX_LEN, markdown};

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::audit::{DriftItem, DriftKind, DriftReport};
use crate::model::AccountId;
use crate::render::common::clean;

/// Accounts listed by name in one item before "and N more".
const ACCOUNTS_SHOWN: usize = 6;

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

pub(super) fn accounts_text(accounts: &[AccountId]) -> String {
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

pub(super) fn grant_text(item: &DriftItem) -> String {
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
pub(super) fn by_kind(report: &DriftReport) -> BTreeMap<DriftKind, Vec<&DriftItem>> {
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
    out.push_str(&crate::render::guardrails::drift_text(&report.guardrails));
    out.push_str(&summary_line(report));
    out.push('\n');
    out
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
