//! Errors of the commands, each one clear sentence for stderr.

use crate::aws::AwsError;
use crate::live::LiveError;

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
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Live(#[from] LiveError),
    #[error("{0}")]
    Usage(String),
}
