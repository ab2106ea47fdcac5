//! The drift report as the body of the issue a scheduled job opens or updates.

use std::fmt::Write as _;

use super::{accounts_text, by_kind, grant_text, summary_line};
use crate::audit::DriftReport;
use crate::render::escape::md as md_escape;

/// The hidden first line a scheduled job looks for to update its issue instead of opening one.
pub const MARKER: &str = "<!-- bedrock-entitlements:drift -->";

/// The most bytes [`markdown`] returns (GitHub refuses issue bodies over 65,536 characters).
pub const MAX_LEN: usize = 60_000;

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
    for line in crate::render::plan::common::heads_up(&heads_up) {
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
    out.push_str(&crate::render::guardrails::drift_markdown(
        &report.guardrails,
    ));
    out.push_str("<sub>Fix what apply can with `bedrock-entitlements apply`; the rest needs a person (see docs/troubleshooting.md).</sub>\n");
    out
}
