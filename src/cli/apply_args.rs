//! Arguments of `apply`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::values;
use crate::config::ModelKey;

#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out`; without it, plan the desired-state file and apply that
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Do not ask for confirmation
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Refuse a plan with more deletes than this (default: settings.max_deletes)
    #[arg(long = "max-deletes", value_name = "N", value_parser = clap::value_parser!(u32))]
    pub max_deletes: Option<u32>,
    /// Concurrent AWS calls at most
    #[arg(long, value_name = "N", default_value = "8", value_parser = values::at_least_one)]
    pub parallelism: usize,
    /// Wait for AWS workflows to settle, up to this long (e.g. 10m, 90s); `--wait` alone = 15m
    #[arg(
        long,
        value_name = "DURATION",
        num_args = 0..=1,
        default_missing_value = "15m",
        value_parser = values::duration
    )]
    pub wait: Option<Duration>,
    #[arg(long, value_enum, default_value_t = crate::cli::Format::Text)]
    pub format: crate::cli::Format,
    /// Limit the run to these models (repeatable)
    #[arg(long = "target", value_name = "MODEL", value_parser = values::model_key)]
    pub targets: Vec<ModelKey>,
}
