//! `apply`: execute a saved plan (refused when live state moved since it was made), or plan the
//! desired-state file and apply that.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use crate::apply::{
    self, AdaptiveLimits, ApplyOptions, ApplyReport, BarProgress, LogProgress, NoRecipients,
    Progress, RoleRecipients,
};
use crate::cli::apply_args::ApplyArgs;
use crate::cli::{CliError, Context, Format, Outcome, Planned, Session};
use crate::config::Config;
use crate::model::Live;
use crate::plan::{self, ActionKind, Plan};
use crate::{preflight, render};

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<Outcome, CliError> {
    // Load: the file, the arguments, the saved plan.
    let config = ctx.load_config()?;
    let targets = ctx.targets(&config, &args.targets)?;
    let wait = args.wait.as_deref().map(parse_duration).transpose()?;
    if args.parallelism == 0 {
        return Err(CliError::Usage(
            "--parallelism must be at least 1".to_owned(),
        ));
    }
    let saved = load_saved(args)?;
    let settings_problems = preflight::check_settings(&config.settings.home_region);
    if !settings_problems.is_empty() {
        return Err(preflight_failed(&settings_problems));
    }

    let limits = Arc::new(AdaptiveLimits::new());
    let session = ctx
        .connect_with(&config.settings.home_region, Some(limits.clone()))
        .await?;
    let planned = ctx
        .plan(&session, &config, targets.clone())
        .await
        .map_err(|e| nothing_changed(super::plan::explain_refusal(e)))?;
    let Planned { live, plan, .. } = planned;
    let plan = fresh(saved, &live, plan)?;

    let max_deletes = args.max_deletes.unwrap_or(config.settings.max_deletes);
    apply::check_max_deletes(&plan, max_deletes)
        .map_err(|refusal| CliError::Usage(format!("{refusal}; nothing was changed")))?;
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
        crate::cli::subscribe::apply_subscriptions(&session, &config, &plan, wait, text).await;
    let plan = if subscribed.replan {
        let again = ctx.plan(&session, &config, targets).await?;
        check_preflight(&session, &again.live, &config, &again.plan).await?;
        again.plan
    } else {
        plan
    };

    let opts = ApplyOptions {
        parallelism: args.parallelism,
        wait,
        home_region: config.settings.home_region.clone(),
        poll: apply::PollPolicy::default(),
        limits,
        guardrails: Some(apply::PolicyClient::new(session.orgs.clone())),
    };
    let report = execute(&session, &config, &plan, &opts).await;
    let outcome = report_outcome(args.format, &report)?;
    if subscribed.failures > 0 {
        return Err(CliError::Reported(format!(
            "{} subscription{} not accepted; nothing was subscribed for {}",
            subscribed.failures,
            if subscribed.failures == 1 {
                " was"
            } else {
                "s were"
            },
            if subscribed.failures == 1 {
                "it"
            } else {
                "them"
            }
        )));
    }
    Ok(outcome)
}

/// The saved plan of `--plan`, if any.
fn load_saved(args: &ApplyArgs) -> Result<Option<Plan>, CliError> {
    let Some(path) = &args.plan else {
        return Ok(None);
    };
    let text = super::read_text(path)?;
    render::json::parse(&text)
        .map(Some)
        .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Freshness: a saved plan runs only when live grants and the desired state are those it was made from.
fn fresh(saved: Option<Plan>, live: &Live, planned: Plan) -> Result<Plan, CliError> {
    let Some(saved) = saved else {
        return Ok(planned);
    };
    let now = plan::fingerprint(live, &saved.licenses);
    if now != saved.live_fingerprint {
        return Err(CliError::Usage(
            "the saved plan is stale: live grants changed since it was made; nothing was changed; run plan again".to_owned(),
        ));
    }
    if saved.config_digest != planned.config_digest {
        return Err(CliError::Usage(
            "the saved plan was made from another desired state (the file or the organization's structure changed); nothing was changed; run plan again".to_owned(),
        ));
    }
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

/// The report in the chosen format, and the outcome it makes.
fn report_outcome(format: Format, report: &ApplyReport) -> Result<Outcome, CliError> {
    match format {
        Format::Json => print!("{}", render::apply::json(report)),
        Format::Markdown => print!("{}", render::apply::markdown(report)),
        Format::Text => print!("{}", render::apply::text(report)),
    }
    if report.is_success() {
        Ok(Outcome::Success)
    } else {
        let failed = report.counts().failed
            + report.counts().skipped
            + report
                .policies
                .iter()
                .filter(|p| p.outcome.is_failed())
                .count();
        Err(CliError::Reported(format!(
            "{failed} action{} failed; run apply again once the cause is fixed",
            if failed == 1 { "" } else { "s" }
        )))
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

/// `90s`, `10m`, `1h`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--wait {text:?} is not a duration (for example 90s, 10m, 1h)"
        ))
    };
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(bad()),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("45").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("10d").is_err());
    }
}
