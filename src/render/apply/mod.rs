//! The report of an `apply`: what was done, what is still pending (and on whom), what failed.

mod policies;
mod subscriptions;

use serde::Serialize;

use crate::apply::{ActionReport, ApplyReport, CoverWait, Outcome};
use crate::model::Principal;
use crate::render::common::clean;
use crate::render::escape::md;

/// `OU grant ou-ab12-cdef3456`, `organization grant o-abcde12345`, `account grant 222233334444`.
fn cover_grant(principal: &Principal) -> String {
    let kind = match principal {
        Principal::Organization { .. } => "organization",
        Principal::Ou { .. } => "OU",
        Principal::Account(_) => "account",
    };
    format!("{kind} grant {}", principal.short_id())
}

/// `waits for OU grant ou-… to be in effect for 222233334444, 333344445555; …`.
pub(crate) fn deferral(waits_for: &[CoverWait]) -> String {
    let parts: Vec<String> = waits_for
        .iter()
        .map(|w| {
            let accounts: Vec<&str> = w.accounts.iter().map(|a| a.as_str()).collect();
            let made = if w.grant.is_none() {
                " (this run did not make it)"
            } else {
                ""
            };
            format!(
                "waits for {}{made} to be in effect for {}",
                cover_grant(&w.principal),
                accounts.join(", ")
            )
        })
        .collect();
    parts.join("; ")
}

fn who(a: &ActionReport) -> (String, String) {
    let who = format!(
        "{} {} {}",
        a.action.kind().as_str(),
        a.action.principal.kind(),
        a.action.principal.short_id()
    );
    let model = a
        .action
        .model()
        .map(|m| m.to_string())
        .unwrap_or_else(|| "(no model)".to_owned());
    (who, model)
}

/// One line per action that did not simply finish, then a summary line.
pub fn text(report: &ApplyReport) -> String {
    let mut out = String::new();
    let counts = report.counts();
    for a in &report.actions {
        let (who, model) = who(a);
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
            Outcome::Deferred { grant, waits_for } => out.push_str(&format!(
                "  deferred {model}: {who}{}  deferred: {}\n",
                grant
                    .as_ref()
                    .map(|g| format!("  {}", g.grant_id()))
                    .unwrap_or_default(),
                deferral(waits_for)
            )),
        }
    }
    out.push_str(&policies::text(&report.policies));
    out.push_str(&format!(
        "Apply: {} done, {} pending, {} failed, {} skipped, {} deferred.\n",
        counts.done, counts.pending, counts.failed, counts.skipped, counts.deferred
    ));
    if counts.deferred > 0 {
        out.push_str("Deferred revokes wait for their replacement grants to be in effect, so that no account loses access; run apply again later to carry them out.\n");
    }
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
    /// The guardrail SCP actions (absent when the plan enforces none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policy_actions: Vec<policies::PolicyActionDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_summary: Option<std::collections::BTreeMap<&'static str, usize>>,
    /// The subscriptions of apply's first phase (absent when the plan subscribes to nothing).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subscriptions: Vec<subscriptions::SubscriptionDocument>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscription_summary: Option<std::collections::BTreeMap<&'static str, usize>>,
}

#[derive(Serialize)]
struct SummaryDocument {
    done: usize,
    pending: usize,
    failed: usize,
    skipped: usize,
    deferred: usize,
}

#[derive(Serialize)]
struct CoverWaitDocument {
    license_arn: String,
    principal: String,
    /// Absent when the grant this plan was to create was not made.
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_arn: Option<String>,
    accounts: Vec<String>,
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
    /// For a deferred revoke: the covers not in effect yet, with the accounts they wait for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    waits_for: Vec<CoverWaitDocument>,
}

/// One action's entry of the report.
fn action_document(a: &ActionReport) -> ActionDocument {
    let (status, waiting_on, operation, error_code, message) = match &a.outcome {
        Outcome::Done { status, .. } => (Some(status.to_string()), None, None, None, None),
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
        Outcome::Deferred { waits_for, .. } => (None, None, None, None, Some(deferral(waits_for))),
    };
    let waits_for = match &a.outcome {
        Outcome::Deferred { waits_for, .. } => waits_for
            .iter()
            .map(|w| CoverWaitDocument {
                license_arn: w.license_arn.to_string(),
                principal: w.principal.to_string(),
                grant_arn: w.grant.as_ref().map(|g| g.to_string()),
                accounts: w.accounts.iter().map(|a| a.to_string()).collect(),
            })
            .collect(),
        _ => Vec::new(),
    };
    ActionDocument {
        action: a.action.kind().as_str(),
        model: a.action.model().map(|m| m.to_string()),
        license_arn: a.action.license_arn.to_string(),
        principal: a.action.principal.to_string(),
        outcome: a.outcome.label(),
        grant_arn: a.outcome.grant().map(|g| g.to_string()),
        status,
        waiting_on,
        operation,
        error_code,
        message,
        waits_for,
    }
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
            deferred: counts.deferred,
        },
        actions: report.actions.iter().map(action_document).collect(),
        policy_actions: policies::json(&report.policies),
        policy_summary: (!report.policies.is_empty()).then(|| policies::summary(&report.policies)),
        subscriptions: subscriptions::json(&report.subscriptions),
        subscription_summary: (!report.subscriptions.is_empty())
            .then(|| subscriptions::summary(&report.subscriptions)),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}

/// The report as Markdown: a table of every action and its outcome, then the summary.
pub fn markdown(report: &ApplyReport) -> String {
    let counts = report.counts();
    let mut out = String::from("## Apply\n\n");
    out.push_str(&subscriptions::markdown(&report.subscriptions));
    if report.actions.is_empty() {
        out.push_str("No grant actions.\n");
    } else {
        out.push_str("| outcome | model | action | grant | detail |\n|---|---|---|---|---|\n");
    }
    for a in &report.actions {
        let (who, model) = who(a);
        let detail = match &a.outcome {
            Outcome::Done { status, .. } => status.to_string(),
            Outcome::Pending {
                status, waiting_on, ..
            } => format!("{status}, waiting on the {}", waiting_on.as_str()),
            Outcome::Failed { error, .. } => format!("{}: {}", error.operation(), error.message()),
            Outcome::Skipped { reason } => reason.clone(),
            Outcome::Deferred { waits_for, .. } => format!("deferred: {}", deferral(waits_for)),
        };
        let grant = a
            .outcome
            .grant()
            .map(|g| g.grant_id().to_owned())
            .unwrap_or_default();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            a.outcome.label(),
            md(&model),
            md(&who),
            md(&grant),
            md(&detail)
        ));
    }
    out.push_str(&policies::markdown(&report.policies));
    out.push_str(&format!(
        "\n**{} done, {} pending, {} failed, {} skipped, {} deferred.**\n",
        counts.done, counts.pending, counts.failed, counts.skipped, counts.deferred
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferral_names_the_cover_and_the_accounts_waiting() {
        let ou: Principal = "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdef3456"
            .parse()
            .expect("valid");
        let wait = CoverWait {
            license_arn:
                "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef"
                    .parse()
                    .expect("valid"),
            principal: ou,
            grant: Some(
                "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000001"
                    .parse()
                    .expect("valid"),
            ),
            accounts: vec![
                "222233334444".parse().expect("valid"),
                "333344445555".parse().expect("valid"),
            ],
        };
        assert_eq!(
            deferral(std::slice::from_ref(&wait)),
            "waits for OU grant ou-ab12-cdef3456 to be in effect for 222233334444, 333344445555"
        );
        let unmade = CoverWait {
            grant: None,
            ..wait
        };
        assert_eq!(
            deferral(&[unmade]),
            "waits for OU grant ou-ab12-cdef3456 (this run did not make it) to be in effect for 222233334444, 333344445555"
        );
    }
}
