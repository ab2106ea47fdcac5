//! The clap definition of the command line (see CONTRACT.md).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--version`: the crate version and the git revision it was built from (`build.rs`; `unknown`
/// when the build had no git).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("BEDROCK_ENTITLEMENTS_GIT_REV"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "bedrock-entitlements",
    version = VERSION,
    about = "Govern which AWS accounts may use which third-party Amazon Bedrock models, through AWS License Manager grants",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The desired-state file
    #[arg(
        short = 'c',
        long = "config",
        value_name = "FILE",
        default_value = "entitlements.yaml",
        global = true
    )]
    pub config: PathBuf,
    /// AWS profile to use (on top of the standard AWS chain)
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
    /// Assume this role before calling AWS
    #[arg(long = "role-arn", value_name = "ARN", global = true)]
    pub role_arn: Option<String>,
    /// Run against an embedded emulator started in-process from this seed file, instead of AWS
    #[arg(long, value_name = "SEED", global = true)]
    pub sandbox: Option<PathBuf>,
    /// Never colour the output (colour is also off when stdout is not a terminal or NO_COLOR is set)
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Log line format on stderr
    #[arg(long = "log-format", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check the desired-state file (no AWS calls)
    Validate,
    /// Print the JSON Schema of the desired-state file
    Schema,
    /// Read live state and print what apply would change
    Plan(PlanArgs),
    /// Execute a saved plan, or plan and apply the desired-state file
    Apply(crate::cli::apply_args::ApplyArgs),
    /// Report drift between the desired-state file and live grants (exit 2 on drift)
    Drift(DriftArgs),
    /// List the model licenses this account has received (what can be granted)
    Licenses(ReportArgs),
    /// Write a desired-state file that matches live grants
    Import(ImportArgs),
    /// Show who can use which model, and through which grant
    Access(AccessArgs),
    /// Guardrails (service control policies): `guardrail export` prints what enforce would write
    Guardrail(crate::cli::commands::guardrail::GuardrailArgs),
    /// Check the one-time setup apply and the guardrails rely on; --apply makes what is missing
    Bootstrap(crate::cli::commands::bootstrap::BootstrapArgs),
    /// Serve a local License Manager + Organizations endpoint (AWS JSON 1.1)
    Emulator(EmulatorArgs),
    /// Print a shell completion script (e.g. `completions bash > /etc/bash_completion.d/bedrock-entitlements`)
    Completions(CompletionsArgs),
    /// Print the man page (roff) of the command line
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Save the plan as JSON to this file (owner-only permissions)
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
    /// Exit 2 when the plan has changes
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Limit the plan to these models (repeatable)
    #[arg(long = "target", value_name = "MODEL", value_parser = crate::cli::values::model_key)]
    pub targets: Vec<crate::config::ModelKey>,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Compare effective access with this earlier run: a plan saved by `plan --out` (the one the
    /// last apply executed) or the output of `drift --format json`
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// Write the file here instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also import grants the tool did not create
    #[arg(long = "include-unmanaged")]
    pub include_unmanaged: bool,
    /// Rename the foreign grants the written file claims so that they become managed
    #[arg(long)]
    pub adopt: bool,
    /// With --adopt: rename without asking
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Grants whose name starts with this are managed (written as settings.grant_name_prefix)
    #[arg(
        long = "grant-name-prefix",
        value_name = "PREFIX",
        default_value = "bedrock-entitlements"
    )]
    pub grant_name_prefix: String,
    /// The home region of the licenses and grants
    #[arg(
        long = "home-region",
        value_name = "REGION",
        default_value = "us-east-1"
    )]
    pub home_region: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum AccessFormat {
    #[default]
    Text,
    Csv,
    Json,
    Markdown,
    /// One self-contained HTML page: the matrix grouped by OU path, with filters
    Html,
}

#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// Only this model
    #[arg(long, value_name = "KEY")]
    pub model: Option<String>,
    /// Only this account (id or name)
    #[arg(long, value_name = "ID|NAME")]
    pub account: Option<String>,
    #[arg(long, value_enum, default_value_t = AccessFormat::Text)]
    pub format: AccessFormat,
}

#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Seed file (organization, licenses, grants); the built-in sandbox (examples/sandbox.yaml) when absent
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Refuse every call this IAM policy (JSON) does not allow, with AccessDeniedException
    #[arg(long = "iam-policy", value_name = "FILE")]
    pub iam_policy: Option<PathBuf>,
    /// Reads of a grant before an AWS workflow (PENDING_WORKFLOW) settles
    #[arg(long = "workflow-reads", value_name = "N", default_value_t = 1)]
    pub workflow_reads: u32,
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4566")]
    pub listen: std::net::SocketAddr,
    /// Latency added to every call, in milliseconds
    #[arg(long = "latency-ms", value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Token-bucket limit per operation, requests per second (0 = none)
    #[arg(long = "rate-limit", value_name = "RPS", default_value_t = 0.0)]
    pub rate_limit: f64,
    /// Probability of a throttling error per call
    #[arg(long = "throttle-rate", value_name = "P", default_value = "0", value_parser = crate::cli::values::probability)]
    pub throttle_rate: f64,
    /// Probability of a 500 error per call
    #[arg(long = "error-rate", value_name = "P", default_value = "0", value_parser = crate::cli::values::probability)]
    pub error_rate: f64,
    /// Probability that a call's change is made but its response is lost
    #[arg(long = "lost-response-rate", value_name = "P", default_value = "0", value_parser = crate::cli::values::probability)]
    pub lost_response_rate: f64,
    /// Seed for the random faults, so a run can be replayed
    #[arg(long = "fault-seed", value_name = "N", default_value_t = 0)]
    pub fault_seed: u64,
}
