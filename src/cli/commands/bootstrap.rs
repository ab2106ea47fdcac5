//! `bootstrap`: check the one-time setup (exit 0 all set, 2 something missing, 1 error), and
//! with `--apply` make what is missing after a typed confirmation.

use clap::Args;

use crate::bootstrap::{self, Applied, Report, State, Wanted, render};
use crate::cli::{CliError, Context, Format, Outcome, Session};

#[derive(Debug, Clone, Args)]
pub struct BootstrapArgs {
    /// Make the missing prerequisites that have an automatic fix (asks first)
    #[arg(long)]
    pub apply: bool,
    /// With --apply: do not ask for confirmation
    #[arg(long = "auto-approve", requires = "apply")]
    pub auto_approve: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn run(ctx: &Context, args: &BootstrapArgs) -> Result<Outcome, CliError> {
    let config = ctx.load_config()?;
    let wanted = bootstrap::wanted(&config);
    let session = ctx.connect(&config.settings.home_region).await?;
    let report = check(&session, &wanted).await?;
    let changes = report.changes();
    if !args.apply || changes.is_empty() {
        print!("{}", view(args.format, &report, None));
        return outcome(&report, false);
    }
    confirm(args, &changes)?;
    let prereqs = session.clients.prerequisites();
    let applied = bootstrap::apply(&prereqs, &session.clients.bedrock, &changes).await;
    let failed = applied.iter().any(|a| matches!(a.result, Some(Err(_))));
    let after = check(&session, &wanted).await?;
    print!("{}", view(args.format, &after, Some(&applied)));
    outcome(&after, failed)
}

async fn check(session: &Session, wanted: &Wanted) -> Result<Report, CliError> {
    let prereqs = session.clients.prerequisites();
    let facts = bootstrap::read(&*session.orgs, &prereqs, &session.clients.bedrock, wanted).await?;
    Ok(bootstrap::check(&facts, wanted))
}

fn view(format: Format, report: &Report, applied: Option<&[Applied]>) -> String {
    match format {
        Format::Text => render::text(report, applied),
        Format::Markdown => render::markdown(report, applied),
        Format::Json => render::json(report, applied),
    }
}

/// 1 when a change failed or a prerequisite could not be read, else 2 when one is missing.
fn outcome(report: &Report, failed: bool) -> Result<Outcome, CliError> {
    if failed {
        return Err(CliError::Reported(
            "bootstrap: a change failed; the report above shows which and why".to_owned(),
        ));
    }
    let unknown = report.count(State::Unknown);
    if unknown > 0 {
        return Err(CliError::Reported(format!(
            "bootstrap: {unknown} prerequisite{} could not be read",
            if unknown == 1 { "" } else { "s" }
        )));
    }
    Ok(if report.all_done() {
        Outcome::Success
    } else {
        Outcome::Changes
    })
}

/// The changes go to stderr; without `--auto-approve` only a typed `yes` on a terminal goes on.
fn confirm(args: &BootstrapArgs, changes: &[bootstrap::Change]) -> Result<(), CliError> {
    eprint!("{}", render::changes_text(changes));
    if args.auto_approve {
        return Ok(());
    }
    super::confirm(
        &format!("Make these {} changes?", changes.len()),
        "bootstrap --apply needs --auto-approve when stdin is not a terminal; nothing was changed",
        "bootstrap cancelled; nothing was changed",
    )
}
