//! Command-line parsing and the commands. Reads files and the environment, sets up tracing,
//! writes every byte of stdout, and makes the single exit-code decision (in `main`).

mod apply_args;
mod args;
mod commands;
mod context;
mod error;
mod generate;
pub(crate) mod subscribe;
mod values;

pub use args::PlanArgs;
pub use args::{Cli, Command, Format, GlobalArgs, LogFormat};
pub use context::{Context, LoadError, Planned, Session, color_enabled, load_config};
pub use error::CliError;

/// The process exit status of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success, in sync, valid.
    Success,
    /// 2: `plan --detailed-exitcode` / `drift` found something `apply` would change.
    Changes,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Changes => 2,
        }
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome, CliError> {
    let ctx = Context::new(cli.global);
    // An AWS refusal met anywhere is explained once here: why, and what to do.
    let result = match cli.command {
        Command::Validate => commands::validate::run(&ctx),
        Command::Schema => commands::schema::run(),
        Command::Plan(args) => commands::plan::run(&ctx, &args).await,
        Command::Apply(args) => commands::apply::run(&ctx, &args).await,
        Command::Drift(args) => commands::drift::run(&ctx, &args).await,
        Command::Licenses(args) => commands::licenses::run(&ctx, &args).await,
        Command::Import(args) => commands::import::run(&ctx, &args).await,
        Command::Access(args) => commands::access::run(&ctx, &args).await,
        Command::Guardrail(args) => commands::guardrail::run(&ctx, &args).await,
        Command::Bootstrap(args) => commands::bootstrap::run(&ctx, &args).await,
        Command::Emulator(args) => commands::emulator::run(&args).await,
        Command::Completions(args) => generate::completions(&args),
        Command::Man => generate::man(),
    };
    result.map_err(error::explain_refusal)
}
