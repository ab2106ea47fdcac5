//! `drift`: the plan as a drift report. Exit 0 in sync, 2 when apply would change something.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::audit::{DriftInput, classify};
use crate::cli::args::DriftArgs;
use crate::cli::{CliError, Context, Format, Outcome};
use crate::render;

pub async fn run(ctx: &Context, args: &DriftArgs) -> Result<Outcome, CliError> {
    let config = ctx.load_config()?;
    let baseline = match &args.baseline {
        Some(path) => {
            let text = super::read_text(path)?;
            Some(
                render::drift::parse_baseline(&text).map_err(|source| CliError::Baseline {
                    path: path.display().to_string(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let session = ctx.connect(&config.settings.home_region).await?;
    let planned = ctx.plan(&session, &config, None).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs());
    let report = classify(&DriftInput {
        config: &config,
        desired: &planned.desired,
        live: &planned.live,
        plan: &planned.plan,
        baseline: baseline.as_ref(),
        now,
    });
    tracing::debug!(
        items = report.items.len(),
        actions = report.actions,
        baseline = args.baseline.is_some(),
        "drift classified"
    );
    let out = match args.report.format {
        Format::Text => render::drift::text(&report),
        Format::Markdown => render::drift::markdown(&report),
        Format::Json => render::drift::json(&report),
    };
    print!("{out}");
    if report.has_drift() {
        Ok(Outcome::Changes)
    } else {
        Ok(Outcome::Success)
    }
}
