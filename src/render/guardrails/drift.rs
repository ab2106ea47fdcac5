//! The guardrail items of a drift report: text lines, a Markdown table, the JSON list.

use std::fmt::Write as _;

use super::MD_ROWS;
use crate::audit::guardrail_drift::GuardrailDrift;

use crate::model::AccountId;
use crate::render::common::clean;
use crate::render::escape::md;

/// The guardrail items of a drift report for a terminal; empty when there are none.
pub fn drift_text(items: &[GuardrailDrift]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Guardrail differences ({}):", items.len());
    for i in items {
        let fix = if i.fixed_by_apply {
            "apply fixes it"
        } else if i.kind.is_difference() {
            "report mode: apply writes no SCP"
        } else {
            "reported only"
        };
        let _ = writeln!(
            out,
            "  {} {} ({fix})",
            i.kind.as_str(),
            clean(&i.policy_name)
        );
        let _ = writeln!(out, "      {}", clean(&i.message));
        if !i.accounts.is_empty() {
            let ids: Vec<&str> = i.accounts.iter().take(6).map(AccountId::as_str).collect();
            let more = i.accounts.len().saturating_sub(6);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let _ = writeln!(out, "      accounts: {}{tail}", ids.join(", "));
        }
    }
    out.push('\n');
    out
}

/// The guardrail items of a drift report for an issue (at most [`MD_ROWS`] rows).
pub fn drift_markdown(items: &[GuardrailDrift]) -> String {
    let mut out = String::new();
    if items.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "### Guardrail differences ({})\n\n| difference | policy | accounts | apply fixes it |\n| :-- | :-- | --: | :-- |",
        items.len()
    );
    for i in items.iter().take(MD_ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            i.kind.as_str(),
            md(&i.policy_name),
            i.accounts.len(),
            if i.fixed_by_apply { "yes" } else { "no" }
        );
    }
    if items.len() > MD_ROWS {
        let _ = writeln!(out, "\n*… and {} more*", items.len() - MD_ROWS);
    }
    out.push('\n');
    out
}
