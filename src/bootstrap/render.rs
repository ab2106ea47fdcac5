//! The views of a bootstrap report: text, Markdown and JSON (`format_version` 1). With
//! `--apply` they show the changes made and the state checked again afterwards.

use serde::Serialize;

use super::{Applied, Change, Report, State};
use crate::render::escape::md;

/// The JSON document's version.
pub const FORMAT_VERSION: u32 = 1;

/// One change in words: the operation and what it acts on.
pub fn change_line(change: &Change) -> String {
    let on = match change {
        Change::EnableServiceAccess(p) => format!("trusted access for {p}"),
        Change::CreateServiceLinkedRole(s) => format!("the service-linked role of {s}"),
        Change::LinkOrganization => {
            "EnableIntegration=true and EnableCrossAccountsDiscovery=true".to_owned()
        }
        Change::EnableScpPolicyType(root) => format!("SERVICE_CONTROL_POLICY on the root {root}"),
        Change::RegisterDelegatedAdministrator(a) => {
            format!("{a} as License Manager's delegated administrator")
        }
        Change::SubmitUseCase(form) => {
            format!("Anthropic's use-case form from settings.bootstrap.anthropic_use_case: {form}")
        }
    };
    format!("{}: {on}", change.operation())
}

/// What `--apply` is about to do, for the confirmation (stderr).
pub fn changes_text(changes: &[Change]) -> String {
    let mut out = format!(
        "bootstrap --apply will make {} change{}:\n",
        changes.len(),
        plural(changes.len())
    );
    for c in changes {
        out.push_str(&format!("  + {}\n", change_line(c)));
    }
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn summary(report: &Report) -> String {
    let (missing, unknown) = (report.count(State::Missing), report.count(State::Unknown));
    if report.all_done() {
        return "Every prerequisite is set up: nothing to do.".to_owned();
    }
    let automatic = report.changes().len();
    let mut s = format!(
        "{missing} missing, {unknown} unknown, {} done.",
        report.count(State::Done)
    );
    if automatic > 0 {
        s.push_str(&format!(
            " `bootstrap --apply` makes {automatic} change{} for them.",
            plural(automatic)
        ));
    }
    let manual = report
        .prerequisites
        .iter()
        .filter(|p| p.state != State::Done)
        .filter(|p| p.fix.as_ref().is_none_or(|f| f.change.is_none()))
        .count();
    if manual > 0 {
        s.push_str(&format!(
            " {manual} need{} the fix shown, by hand.",
            if manual == 1 { "s" } else { "" }
        ));
    }
    s
}

fn result_word(a: &Applied) -> (&'static str, Option<String>) {
    match &a.result {
        None => ("not_attempted", None),
        Some(Ok(())) => ("done", None),
        Some(Err(e)) => ("failed", Some(e.to_string())),
    }
}

/// Plain text.
pub fn text(report: &Report, applied: Option<&[Applied]>) -> String {
    let mut out = String::new();
    if let Some(applied) = applied {
        out.push_str("Changes:\n");
        for a in applied {
            let (word, error) = result_word(a);
            out.push_str(&format!("  {word:<13} {}\n", change_line(&a.change)));
            if let Some(e) = error {
                out.push_str(&format!("                {e}\n"));
            }
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Prerequisites (caller {}, management account {}):\n",
        report.caller, report.management_account
    ));
    for p in &report.prerequisites {
        let word = match p.state {
            State::Done => "ok",
            State::Missing => "MISSING",
            State::Unknown => "UNKNOWN",
        };
        out.push_str(&format!("  {word:<8} {}: {}\n", p.name, p.detail));
        if let (Some(fix), true) = (&p.fix, p.state != State::Done) {
            out.push_str(&format!("           fix: {}\n", fix.how));
        }
    }
    out.push_str(&format!("\n{}\n", summary(report)));
    out
}

/// Markdown (a PR comment): one table row per prerequisite.
pub fn markdown(report: &Report, applied: Option<&[Applied]>) -> String {
    let mut out = String::from("## bedrock-entitlements bootstrap\n\n");
    if let Some(applied) = applied {
        out.push_str("| change | result |\n|---|---|\n");
        for a in applied {
            let (word, error) = result_word(a);
            let cell = error.map_or_else(|| word.to_owned(), |e| format!("{word}: {}", md(&e)));
            out.push_str(&format!("| {} | {cell} |\n", md(&change_line(&a.change))));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Caller {}, management account {}.\n\n| prerequisite | state | detail | fix |\n|---|---|---|---|\n",
        md(report.caller.as_str()),
        md(report.management_account.as_str())
    ));
    for p in &report.prerequisites {
        let fix = match (&p.fix, p.state) {
            (Some(f), State::Missing | State::Unknown) => md(&f.how),
            _ => String::new(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {fix} |\n",
            md(&p.name),
            p.state.as_str(),
            md(&p.detail)
        ));
    }
    out.push_str(&format!("\n{}\n", md(&summary(report))));
    out
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    format_version: u32,
    caller: &'a str,
    management_account: &'a str,
    prerequisites: Vec<JsonPrerequisite<'a>>,
    summary: JsonSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<Vec<JsonChange>>,
}

#[derive(Serialize)]
struct JsonPrerequisite<'a> {
    name: &'a str,
    state: &'static str,
    detail: &'a str,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    how: &'a str,
    /// The operation `--apply` calls; null: a person must fix it.
    operation: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonSummary {
    done: usize,
    missing: usize,
    unknown: usize,
}

#[derive(Serialize)]
struct JsonChange {
    operation: &'static str,
    change: String,
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// JSON: `format_version`, `caller`, `management_account`, `prerequisites` (`name`, `state`
/// done|missing|unknown, `detail`, `fix` {`how`, `operation`} or null), `summary` and, with
/// `--apply`, `changes` (`operation`, `change`, `result` done|failed|not_attempted, `error`).
pub fn json(report: &Report, applied: Option<&[Applied]>) -> String {
    let doc = JsonDoc {
        format_version: FORMAT_VERSION,
        caller: report.caller.as_str(),
        management_account: report.management_account.as_str(),
        prerequisites: report
            .prerequisites
            .iter()
            .map(|p| JsonPrerequisite {
                name: &p.name,
                state: p.state.as_str(),
                detail: &p.detail,
                fix: p
                    .fix
                    .as_ref()
                    .filter(|_| p.state != State::Done)
                    .map(|f| JsonFix {
                        how: &f.how,
                        operation: f.change.as_ref().map(Change::operation),
                    }),
            })
            .collect(),
        summary: JsonSummary {
            done: report.count(State::Done),
            missing: report.count(State::Missing),
            unknown: report.count(State::Unknown),
        },
        changes: applied.map(|list| {
            list.iter()
                .map(|a| {
                    let (result, error) = result_word(a);
                    JsonChange {
                        operation: a.change.operation(),
                        change: change_line(&a.change),
                        result,
                        error,
                    }
                })
                .collect()
        }),
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    s.push('\n');
    s
}
