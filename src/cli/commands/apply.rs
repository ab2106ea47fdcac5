//! `apply`: execute a saved plan (refused when live state moved since it was made), or plan the
//! desired-state file and apply that.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::sync::Arc;

use crate::apply::{
    self, AdaptiveLimits, ApplyOptions, ApplyReport, BarProgress, LogProgress, NoRecipients,
    Progress, RoleRecipients,
};
use crate::cli::apply_args::ApplyArgs;
use crate::cli::{CliError, Context, Format, Outcome, Planned, Session};
use crate::config::{Config, ModelKey};
use crate::model::Live;
use crate::plan::{self, ActionKind, Plan};
use crate::{preflight, render};

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<Outcome, CliError> {
    let Loaded {
        config,
        targets,
        saved,
    } = load(ctx, args)?;
    let limits = Arc::new(AdaptiveLimits::new());
    let session = ctx
        .connect_with(&config.settings.home_region, Some(limits.clone()))
        .await?;
    let planned = ctx
        .plan(&session, &config, targets.clone())
        .await
        .map_err(|e| nothing_changed(crate::cli::error::explain_refusal(e)))?;
    let Planned { live, plan, .. } = planned;
    let plan = fresh(saved, &live, plan)?;

    let max_deletes = args.max_deletes.unwrap_or(config.settings.max_deletes);
    apply::check_max_deletes(&plan, max_deletes)?;
    crate::cli::subscribe::refuse_sellers(&plan)?;
    let color = ctx.color();
    if plan.is_empty() {
        print!(
            "{}",
            render::text::plan(&plan, &render::text::TextOptions { color })
        );
        return Ok(Outcome::Success);
    }
    check_preflight(&session, &live, &config, &plan).await?;
    confirm(args, &plan, color)?;
    // First phase: subscriptions; a license that appeared is granted in this same run.
    let text = args.format == Format::Text;
    let subscribed =
        crate::cli::subscribe::apply_subscriptions(&session, &config, &plan, args.wait, text).await;
    let plan = if subscribed.replan {
        let again = ctx.plan(&session, &config, targets).await?;
        check_preflight(&session, &again.live, &config, &again.plan).await?;
        again.plan
    } else {
        plan
    };

    let opts = ApplyOptions {
        parallelism: args.parallelism,
        wait: args.wait,
        home_region: config.settings.home_region.clone(),
        poll: apply::PollPolicy::default(),
        limits,
        guardrails: Some(apply::PolicyClient::new(session.orgs.clone())),
    };
    let mut report = execute(&session, &config, &plan, &opts).await;
    report.subscriptions = subscribed.reports;
    report_outcome(args.format, &report)
}

/// What `apply` starts from, before any AWS call.
struct Loaded {
    config: Config,
    targets: Option<BTreeSet<ModelKey>>,
    saved: Option<Plan>,
}

/// Load: the file, the targets, the saved plan, and the settings preflight can judge offline.
fn load(ctx: &Context, args: &ApplyArgs) -> Result<Loaded, CliError> {
    let config = ctx.load_config()?;
    let targets = ctx.targets(&config, &args.targets)?;
    let saved = load_saved(args)?;
    let settings_problems = preflight::check_settings(&config.settings.home_region);
    if !settings_problems.is_empty() {
        return Err(preflight_failed(&settings_problems));
    }
    Ok(Loaded {
        config,
        targets,
        saved,
    })
}

/// The saved plan of `--plan`, if any.
fn load_saved(args: &ApplyArgs) -> Result<Option<Plan>, CliError> {
    let Some(path) = &args.plan else {
        return Ok(None);
    };
    let text = super::read_text(path)?;
    plan::saved::read(&text)
        .map(|saved| Some(saved.into_plan()))
        .map_err(|source| CliError::SavedPlan {
            path: path.display().to_string(),
            source,
        })
}

/// Freshness: a saved plan runs only when live grants and the desired state are those it was
/// made from ([`plan::check_saved`]).
fn fresh(saved: Option<Plan>, live: &Live, planned: Plan) -> Result<Plan, CliError> {
    let Some(saved) = saved else {
        return Ok(planned);
    };
    plan::check_saved(&saved, live, &planned)?;
    Ok(saved)
}

/// Preflight: the organization and the licenses allow what the plan does.
async fn check_preflight(
    session: &Session,
    live: &Live,
    config: &Config,
    plan: &Plan,
) -> Result<(), CliError> {
    let org_or_ou = plan.actions.iter().any(|a| {
        matches!(a.kind(), ActionKind::Create | ActionKind::Recreate)
            && !matches!(a.principal, crate::model::Principal::Account(_))
    });
    let facts = preflight::gather(
        session.lm.as_ref(),
        session.orgs.as_ref(),
        live,
        &config.settings.home_region,
        &plan.actions.iter().map(|a| a.license_arn.clone()).collect(),
        org_or_ou,
        plan.guardrails.as_ref().is_some_and(|g| {
            g.mode == crate::config::GuardrailMode::Enforce && !g.actions.is_empty()
        }),
    )
    .await;
    let problems = preflight::evaluate(&facts);
    if !problems.is_empty() {
        return Err(preflight_failed(&problems));
    }
    Ok(())
}

/// Confirm: without `--auto-approve`, the plan is shown and the user asked.
fn confirm(args: &ApplyArgs, plan: &Plan, color: bool) -> Result<(), CliError> {
    if args.auto_approve {
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        print!(
            "{}",
            render::text::plan(plan, &render::text::TextOptions { color })
        );
    }
    super::confirm(
        &format!("Apply these {} actions?", plan.actions.len()),
        "apply needs --auto-approve when stdin is not a terminal; nothing was changed",
        "apply cancelled; nothing was changed",
    )
}

/// Execute: the plan's actions, with the recipient role when the settings name one.
async fn execute(
    session: &Session,
    config: &Config,
    plan: &Plan,
    opts: &ApplyOptions,
) -> ApplyReport {
    let progress: Box<dyn Progress> = if std::io::stderr().is_terminal() {
        Box::new(BarProgress::new())
    } else {
        Box::new(LogProgress)
    };
    match &config.settings.recipient_role {
        Some(role) => {
            let recipients = RoleRecipients::new(session.clients.clone(), role.clone());
            apply::execute(
                session.lm.clone(),
                Some(&recipients),
                plan,
                opts,
                progress.as_ref(),
            )
            .await
        }
        None => {
            apply::execute(
                session.lm.clone(),
                None::<&NoRecipients>,
                plan,
                opts,
                progress.as_ref(),
            )
            .await
        }
    }
}

/// The report in the chosen format, and the outcome it makes: failed grant or SCP actions
/// first, then subscriptions not accepted.
fn report_outcome(format: Format, report: &ApplyReport) -> Result<Outcome, CliError> {
    match format {
        Format::Json => print!("{}", render::apply::json(report)),
        Format::Markdown => print!("{}", render::apply::markdown(report)),
        Format::Text => print!("{}", render::apply::text(report)),
    }
    if !report.grants_and_policies_succeeded() {
        let failed = report.counts().failed
            + report.counts().skipped
            + report
                .policies
                .iter()
                .filter(|p| p.outcome.is_failed())
                .count();
        return Err(CliError::Reported(format!(
            "{failed} action{} failed; run apply again once the cause is fixed",
            if failed == 1 { "" } else { "s" }
        )));
    }
    match report.subscriptions_failed() {
        0 => Ok(Outcome::Success),
        n => Err(CliError::Reported(format!(
            "{n} subscription{} not accepted; nothing was subscribed for {}",
            if n == 1 { " was" } else { "s were" },
            if n == 1 { "it" } else { "them" }
        ))),
    }
}

/// A failure before the first change says so (problems already printed get the line after them).
fn nothing_changed(e: CliError) -> CliError {
    match e {
        CliError::Reported(message) => {
            CliError::Reported(format!("{message}\nnothing was changed"))
        }
        other => other,
    }
}

/// Prints each failed check with its fix; the error that ends the run.
fn preflight_failed(problems: &[preflight::Problem]) -> CliError {
    for p in problems {
        eprintln!("error: {p}");
    }
    CliError::Reported(format!(
        "{} preflight check{} failed; nothing was changed",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    ))
}
