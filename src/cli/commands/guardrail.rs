//! `guardrail export`: the SCPs `enforce` would write, for organizations that run SCPs through
//! another pipeline. Reads the organization, the licenses and the grants like `plan` (and the
//! live SCPs when guardrails are on, to count the other policies at each target); writes nothing.

use clap::{Args, Subcommand, ValueEnum};

use crate::cli::{CliError, Context, Outcome};
use crate::render;

#[derive(Debug, Clone, Args)]
pub struct GuardrailArgs {
    #[command(subcommand)]
    pub command: GuardrailCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum GuardrailCommand {
    /// Print the policy documents and their targets that `mode: enforce` would write (any mode)
    Export(ExportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
}

pub async fn run(ctx: &Context, args: &GuardrailArgs) -> Result<Outcome, CliError> {
    match &args.command {
        GuardrailCommand::Export(export) => run_export(ctx, export).await,
    }
}

async fn run_export(ctx: &Context, args: &ExportArgs) -> Result<Outcome, CliError> {
    let config = ctx.load_config()?;
    let session = ctx.connect(&config.settings.home_region).await?;
    let planned = ctx.plan(&session, &config, None).await?;
    let without: Vec<_> = planned
        .desired
        .models
        .keys()
        .filter(|k| !planned.desired.guardrails.models.contains_key(*k))
        .cloned()
        .collect();
    for k in &without {
        eprintln!("warning: model {k} has no bedrock_model_ids: no guardrail is laid out for it");
    }
    let layout = crate::plan::guardrail_layout(&planned.desired, &planned.live)
        .map_err(|e| CliError::Reported(format!("error: no guardrail layout fits: {e}")))?;
    let out = match args.format {
        ExportFormat::Json => {
            render::guardrails::export_json(&layout, &config.settings.guardrails, &without)
        }
    };
    print!("{out}");
    Ok(Outcome::Success)
}
