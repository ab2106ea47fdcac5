//! `plan`: read live state and print what `apply` would change.

use crate::cli::args::PlanArgs;
use crate::cli::{CliError, Context, Format, Outcome};
use crate::{preflight, render};

pub async fn run(ctx: &Context, args: &PlanArgs) -> Result<Outcome, CliError> {
    let config = ctx.load_config()?;
    let targets = ctx.targets(&config, &args.targets)?;
    for problem in preflight::check_settings(&config.settings.home_region) {
        eprintln!("warning: {problem}");
    }
    let session = ctx.connect(&config.settings.home_region).await?;
    let planned = ctx.plan(&session, &config, targets).await?;
    let plan = &planned.plan;

    if let Some(path) = &args.out {
        super::write_private(path, render::json::to_string(plan).as_bytes())?;
        tracing::info!(path = %path.display(), "plan saved");
    }
    let out = match args.format {
        Format::Text => render::text::plan(plan, &render::text::TextOptions { color: ctx.color() }),
        Format::Markdown => render::markdown::plan(plan),
        Format::Json => render::json::to_string(plan),
    };
    print!("{out}");
    // A guardrail difference in report mode is a change too (docs/configuration.md).
    if args.detailed_exitcode && !plan.is_empty() {
        Ok(Outcome::Changes)
    } else {
        Ok(Outcome::Success)
    }
}
