//! Errors of the commands, each one clear sentence for stderr. Each keeps the error it came
//! from as its `source`, so a caller (or a test) can match on what went wrong.

use crate::apply::TooManyDeletes;
use crate::aws::AwsError;
use crate::emulator::{EmulatorError, PolicyError};
use crate::live::LiveError;
use crate::org::{AccountLookupError, UnknownTargets};
use crate::plan::StalePlan;
use crate::plan::saved::SavedPlanError;
use crate::render::drift::BaselineError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Problems already printed (diagnostics); only the exit code is left to decide.
    #[error("{0}")]
    Reported(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The desired-state file could not be read.
    #[error(transparent)]
    Config(crate::cli::LoadError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Live(#[from] LiveError),
    /// A seed file (`--sandbox`, `emulator --seed`) that is not a valid seed.
    #[error("{path}: {source}")]
    Seed {
        path: String,
        #[source]
        source: EmulatorError,
    },
    #[error("cannot start the sandbox emulator: {0}")]
    Sandbox(#[source] EmulatorError),
    /// `emulator`: the endpoint could not be served.
    #[error(transparent)]
    Emulator(EmulatorError),
    #[error("{path}: {source}")]
    IamPolicy {
        path: String,
        #[source]
        source: PolicyError,
    },
    /// `apply PLAN`: a file that is not a saved plan.
    #[error("{path}: {source}")]
    SavedPlan {
        path: String,
        #[source]
        source: SavedPlanError,
    },
    /// `drift --baseline`: a file that is neither a saved plan nor drift JSON.
    #[error("{path}: {source}")]
    Baseline {
        path: String,
        #[source]
        source: BaselineError,
    },
    /// `apply PLAN`: live state or the desired state moved since the plan was made.
    #[error("{0}; nothing was changed; run plan again")]
    Stale(#[from] StalePlan),
    #[error("{0}; nothing was changed")]
    TooManyDeletes(#[from] TooManyDeletes),
    #[error(transparent)]
    UnknownTargets(#[from] UnknownTargets),
    /// `access --account`.
    #[error("{}", account_message(given, source))]
    Account {
        given: String,
        #[source]
        source: AccountLookupError,
    },
    #[error("cannot serialize the schema: {0}")]
    Schema(#[source] serde_json::Error),
    /// A refusal of the command line itself, with no error under it (e.g. apply without a
    /// terminal and without `--auto-approve`).
    #[error("{0}")]
    Usage(String),
}

/// `--account X: …`, with what to write instead.
fn account_message(given: &str, e: &AccountLookupError) -> String {
    match e {
        AccountLookupError::NotMember { id, org } => {
            format!("--account {id}: the account is not a member of organization {org}")
        }
        AccountLookupError::NoSuchName { org, similar, .. } => {
            let hint = if similar.is_empty() {
                "give the 12-digit account id, or the name exactly as Organizations shows it"
                    .to_owned()
            } else {
                format!(
                    "names are case-sensitive: did you mean {}",
                    similar.join(", ")
                )
            };
            format!("--account {given:?}: no account of organization {org} has this name; {hint}")
        }
        AccountLookupError::Ambiguous { ids, .. } => format!(
            "--account {given:?}: the name is ambiguous, {} accounts have it ({}); give the account id",
            ids.len(),
            ids.iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The one explainer of AWS refusals, for every command: a refusal met while reading live
/// state gets why and what to do (`preflight::explain_refusal`) under AWS's own message.
pub(crate) fn explain_refusal(e: CliError) -> CliError {
    let aws = match &e {
        CliError::Aws(aws) | CliError::Live(LiveError::Aws(aws)) => aws,
        _ => return e,
    };
    match crate::preflight::explain_refusal(aws) {
        Some(problem) => CliError::Reported(format!(
            "error: {aws}\n  {}\n  fix: {}",
            problem.message, problem.fix
        )),
        None => e,
    }
}
