//! The report of an `apply`: what was done, what is still pending (and on whom), what failed.

use serde::Serialize;

use crate::apply::{ApplyReport, Outcome};
use crate::render::common::clean;

/// One line per action that did not simply finish, then a summary line.
pub fn text(report: &ApplyReport) -> String {
    let mut out = String::new();
    let counts = report.counts();
    for a in &report.actions {
        let who = format!(
            "{} {} {}",
            a.action.kind.as_str(),
            a.action.principal.kind(),
            a.action.principal.short_id()
        );
        let model = a
            .action
            .model
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_else(|| "(no model)".to_owned());
        match &a.outcome {
            Outcome::Done { grant, status } => {
                out.push_str(&format!(
                    "  done     {model}: {who}  {} ({status})\n",
                    grant.grant_id()
                ));
            }
            Outcome::Pending {
                grant,
                status,
                waiting_on,
            } => out.push_str(&format!(
                "  pending  {model}: {who}  {} is {status}, waiting on the {}\n",
                grant.grant_id(),
                waiting_on.as_str()
            )),
            Outcome::Failed { grant, error } => out.push_str(&format!(
                "  failed   {model}: {who}{}  {}: {}\n",
                grant
                    .as_ref()
                    .map(|g| format!("  {}", g.grant_id()))
                    .unwrap_or_default(),
                error.operation(),
                clean(&error.message())
            )),
            Outcome::Skipped { reason } => {
                out.push_str(&format!("  skipped  {model}: {who}  {}\n", clean(reason)))
            }
        }
    }
    out.push_str(&format!(
        "Apply: {} done, {} pending, {} failed, {} skipped.\n",
        counts.done, counts.pending, counts.failed, counts.skipped
    ));
    if counts.pending > 0 {
        out.push_str("Pending grants are waiting on AWS workflows or on their recipients; run plan again later to see them settle.\n");
    }
    if counts.failed + counts.skipped > 0 {
        out.push_str("Some actions failed: fix the cause and run apply again; it continues from where live state is.\n");
    }
    out
}

#[derive(Serialize)]
struct ReportDocument {
    format_version: u32,
    success: bool,
    summary: SummaryDocument,
    actions: Vec<ActionDocument>,
}

#[derive(Serialize)]
struct SummaryDocument {
    done: usize,
    pending: usize,
    failed: usize,
    skipped: usize,
}

#[derive(Serialize)]
struct ActionDocument {
    action: &'static str,
    model: Option<String>,
    license_arn: String,
    principal: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting_on: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// The report as JSON (pretty, trailing newline).
pub fn json(report: &ApplyReport) -> String {
    let counts = report.counts();
    let doc = ReportDocument {
        format_version: 1,
        success: report.is_success(),
        summary: SummaryDocument {
            done: counts.done,
            pending: counts.pending,
            failed: counts.failed,
            skipped: counts.skipped,
        },
        actions: report
            .actions
            .iter()
            .map(|a| {
                let (status, waiting_on, operation, error_code, message) = match &a.outcome {
                    Outcome::Done { status, .. } => {
                        (Some(status.to_string()), None, None, None, None)
                    }
                    Outcome::Pending {
                        status, waiting_on, ..
                    } => (
                        Some(status.to_string()),
                        Some(waiting_on.as_str()),
                        None,
                        None,
                        None,
                    ),
                    Outcome::Failed { error, .. } => (
                        None,
                        None,
                        Some(error.operation()),
                        error.code().map(str::to_owned),
                        Some(error.message()),
                    ),
                    Outcome::Skipped { reason } => (None, None, None, None, Some(reason.clone())),
                };
                ActionDocument {
                    action: a.action.kind.as_str(),
                    model: a.action.model.as_ref().map(|m| m.to_string()),
                    license_arn: a.action.license_arn.to_string(),
                    principal: a.action.principal.to_string(),
                    outcome: a.outcome.label(),
                    grant_arn: a.outcome.grant().map(|g| g.to_string()),
                    status,
                    waiting_on,
                    operation,
                    error_code,
                    message,
                }
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}
