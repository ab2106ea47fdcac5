//! A snapshot of every renderer in every format, on the worlds of [`fixtures`]: plans made by
//! the real planner, drift by `audit::classify`, access by `audit::Access` (CSV and JSON from
//! rows made as they are written, as the command does), licenses by `product_choices`, apply
//! reports by `apply::execute` against the emulator. [`VIEWS`] lists
//! them; `every_format_the_command_line_offers_has_a_view` fails when a format of a command has
//! no entry there, and every entry is snapshotted (`snapshots/…every_format…<noun>-<format>-
//! <world>.snap`; a missing snapshot fails under CI, where insta writes none). JSON outputs
//! validate against their published schema.
//!
//! The huge world is left out: its plan is shown by the digests of `plan::{text, markdown,
//! json}`'s own tests.

use clap::CommandFactory;

use super::fixtures::{self, Case};
use crate::render;

/// One renderer in one format, and the worlds it is shown on.
struct View {
    noun: &'static str,
    format: &'static str,
    cases: &'static [Case],
    render: fn(Case) -> String,
    /// The schema (`render::schema::all`) a JSON output must validate against.
    schema: Option<&'static str>,
}

const PLANS: &[Case] = &[
    Case::Empty,
    Case::Mixed,
    Case::Guardrails,
    Case::Subscriptions,
];
const GRANTS: &[Case] = &[Case::Empty, Case::Mixed];
const DRIFT: &[Case] = &[Case::Empty, Case::Mixed, Case::Guardrails];
const APPLY: &[Case] = &[
    Case::Empty,
    Case::Mixed,
    Case::Guardrails,
    Case::Subscriptions,
];
const GUARDRAILS: &[Case] = &[Case::Guardrails];
const SUBSCRIPTIONS: &[Case] = &[Case::Subscriptions];

fn plan_of(case: Case) -> &'static crate::plan::Plan {
    &fixtures::world(case).plan
}

fn access_text(case: Case, explain: bool) -> String {
    let mut m = fixtures::access(case);
    if explain {
        // `access --account`: the account whose name carries Markdown metacharacters.
        m.only_account(&"121212121212".parse().expect("an account id"));
    }
    render::access::text(&m, render::access::AccessOptions { explain })
}

fn licenses_with(
    case: Case,
    f: fn(&[crate::model::License], &[render::licenses::ProductChoice]) -> String,
) -> String {
    let (licenses, choices) = fixtures::licenses(case);
    f(&licenses, &choices)
}

fn guardrail_export(case: Case) -> String {
    let w = fixtures::world(case);
    let without: Vec<_> = w
        .desired
        .models
        .keys()
        .filter(|k| !w.desired.guardrails.models.contains_key(*k))
        .cloned()
        .collect();
    let layout = crate::plan::guardrail_layout(&w.desired, &w.live).expect("a layout fits");
    render::guardrails::export_json(&layout, &w.config.settings.guardrails, &without)
}

/// An apply view with each grant the run made named `g-new<action index>` (each policy it
/// created `p-new<index>`): the emulator mints
/// grant ids in the order its calls arrive, which the executor's concurrency does not fix.
fn apply_view(case: Case, f: fn(&crate::apply::ApplyReport) -> String) -> String {
    use crate::apply::{Outcome, PolicyOutcome};
    let report = fixtures::apply_report(case);
    let live = &fixtures::world(case).live;
    let mut out = f(&report);
    for a in &report.actions {
        let made = match &a.outcome {
            Outcome::Done { grant, .. } | Outcome::Pending { grant, .. } => Some(grant),
            _ => None,
        };
        if let Some(grant) = made.filter(|g| !live.grants.iter().any(|l| &l.arn == *g)) {
            out = out.replace(grant.grant_id(), &format!("g-new{}", a.index));
        }
    }
    // Policies the run created, the same way (their ids too are minted in call order).
    for p in &report.policies {
        if let (crate::plan::PolicyAction::Create { .. }, PolicyOutcome::Done { policy, .. }) =
            (&p.action, &p.outcome)
        {
            out = out.replace(policy.as_str(), &format!("p-new{}", p.index));
        }
    }
    out
}

fn guardrail_drift(case: Case) -> Vec<crate::audit::guardrail_drift::GuardrailDrift> {
    fixtures::drift(case).guardrails
}

const VIEWS: &[View] = &[
    View {
        noun: "plan",
        format: "text",
        cases: PLANS,
        render: |c| render::text::plan(plan_of(c), &Default::default()),
        schema: None,
    },
    View {
        noun: "plan",
        format: "markdown",
        cases: PLANS,
        render: |c| render::markdown::plan(plan_of(c)),
        schema: None,
    },
    View {
        noun: "plan",
        format: "json",
        cases: PLANS,
        render: |c| render::json::to_string(plan_of(c)),
        schema: Some("plan"),
    },
    View {
        noun: "drift",
        format: "text",
        cases: DRIFT,
        render: |c| render::drift::text(&fixtures::drift(c)),
        schema: None,
    },
    View {
        noun: "drift",
        format: "markdown",
        cases: DRIFT,
        render: |c| render::drift::markdown(&fixtures::drift(c)),
        schema: None,
    },
    View {
        noun: "drift",
        format: "json",
        cases: DRIFT,
        render: |c| render::drift::json(&fixtures::drift(c)),
        schema: Some("drift"),
    },
    View {
        noun: "access",
        format: "text",
        cases: GRANTS,
        render: |c| access_text(c, false),
        schema: None,
    },
    View {
        noun: "access",
        format: "text-explain",
        cases: &[Case::Mixed],
        render: |c| access_text(c, true),
        schema: None,
    },
    View {
        noun: "access",
        format: "markdown",
        cases: GRANTS,
        render: |c| render::access::markdown(&fixtures::access(c), Default::default()),
        schema: None,
    },
    View {
        noun: "access",
        format: "csv",
        cases: GRANTS,
        render: |c| render::access::csv(&fixtures::access_rows(c)),
        schema: None,
    },
    View {
        noun: "access",
        format: "json",
        cases: GRANTS,
        render: |c| render::access::json(&fixtures::access_rows(c)),
        schema: Some("access"),
    },
    View {
        noun: "access",
        format: "html",
        cases: GRANTS,
        render: |c| render::html::access(&fixtures::access(c)),
        schema: None,
    },
    View {
        noun: "licenses",
        format: "text",
        cases: GRANTS,
        render: |c| licenses_with(c, render::licenses::text),
        schema: None,
    },
    View {
        noun: "licenses",
        format: "markdown",
        cases: GRANTS,
        render: |c| licenses_with(c, render::licenses::markdown),
        schema: None,
    },
    View {
        noun: "licenses",
        format: "json",
        cases: GRANTS,
        render: |c| licenses_with(c, render::licenses::json),
        schema: Some("licenses"),
    },
    View {
        noun: "apply",
        format: "text",
        cases: APPLY,
        render: |c| apply_view(c, render::apply::text),
        schema: None,
    },
    View {
        noun: "apply",
        format: "markdown",
        cases: APPLY,
        render: |c| apply_view(c, render::apply::markdown),
        schema: None,
    },
    View {
        noun: "apply",
        format: "json",
        cases: APPLY,
        render: |c| apply_view(c, render::apply::json),
        schema: Some("apply"),
    },
    View {
        noun: "guardrails",
        format: "text",
        cases: GUARDRAILS,
        render: |c| render::guardrails::text(plan_of(c)),
        schema: None,
    },
    View {
        noun: "guardrails",
        format: "markdown",
        cases: GUARDRAILS,
        render: |c| render::guardrails::markdown(plan_of(c)),
        schema: None,
    },
    View {
        noun: "guardrails",
        format: "drift-text",
        cases: GUARDRAILS,
        render: |c| render::guardrails::drift_text(&guardrail_drift(c)),
        schema: None,
    },
    View {
        noun: "guardrails",
        format: "drift-markdown",
        cases: GUARDRAILS,
        render: |c| render::guardrails::drift_markdown(&guardrail_drift(c)),
        schema: None,
    },
    View {
        noun: "guardrail-export",
        format: "json",
        cases: GUARDRAILS,
        render: guardrail_export,
        schema: Some("guardrail-export"),
    },
    View {
        noun: "subscriptions",
        format: "text",
        cases: SUBSCRIPTIONS,
        render: |c| render::subscriptions::text(plan_of(c)),
        schema: None,
    },
    View {
        noun: "subscriptions",
        format: "markdown",
        cases: SUBSCRIPTIONS,
        render: |c| render::subscriptions::markdown(plan_of(c)),
        schema: None,
    },
];

fn has_view(noun: &str, format: &str) -> bool {
    VIEWS.iter().any(|v| v.noun == noun && v.format == format)
}

/// Each command's `--format` values (subcommands joined with a space: `guardrail export`).
fn command_formats() -> Vec<(String, Vec<String>)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Vec<String>)>) {
        for sub in cmd.get_subcommands() {
            let name = [path, sub.get_name()].join(" ").trim().to_owned();
            if let Some(arg) = sub.get_arguments().find(|a| a.get_long() == Some("format")) {
                let values = arg.get_possible_values();
                out.push((
                    name.clone(),
                    values.iter().map(|v| v.get_name().to_owned()).collect(),
                ));
            }
            walk(sub, &name, out);
        }
    }
    let mut out = Vec::new();
    walk(&crate::cli::Cli::command(), "", &mut out);
    out
}

/// The noun of [`VIEWS`] that shows each command's output; `None` for a command whose output
/// another module renders (`bootstrap`: `bootstrap::render`).
fn noun_of(command: &str) -> Option<&'static str> {
    match command {
        "plan" => Some("plan"),
        "drift" => Some("drift"),
        "access" => Some("access"),
        "licenses" => Some("licenses"),
        "apply" => Some("apply"),
        "guardrail export" => Some("guardrail-export"),
        "bootstrap" => None,
        other => panic!("command {other} has --format: name the noun of VIEWS that shows it"),
    }
}

#[test]
fn every_format_the_command_line_offers_has_a_view() {
    let commands = command_formats();
    assert!(commands.len() >= 6, "{commands:?}");
    let mut missing = Vec::new();
    for (command, formats) in &commands {
        let Some(noun) = noun_of(command) else {
            continue;
        };
        for format in formats {
            if !has_view(noun, format) {
                missing.push(format!("{command} --format {format}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "formats without a snapshot: {missing:?}"
    );
}

#[test]
fn every_view_of_every_world() {
    let schemas = render::schema::all();
    for view in VIEWS {
        for case in view.cases {
            let out = (view.render)(*case);
            let name = format!("{}-{}-{}", view.noun, view.format, case.name());
            if let Some(noun) = view.schema {
                let (_, schema) = schemas.iter().find(|(n, _)| *n == noun).expect("published");
                let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
                let errors = render::schema::validate(schema, &value);
                assert!(errors.is_empty(), "{name}: {errors:#?}");
            }
            insta::assert_snapshot!(name, out);
        }
    }
}
