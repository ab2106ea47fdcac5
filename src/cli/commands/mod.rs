//! One module per command.

pub mod access;
pub mod apply;
pub mod bootstrap;
pub mod drift;
pub mod emulator;
pub mod guardrail;
pub mod import;
pub mod licenses;
pub mod plan;
pub mod schema;
pub mod validate;

use std::io::Write;
use std::path::Path;

use crate::cli::CliError;

/// Writes a file only its owner can read (plans name accounts and grants).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let io = |source| CliError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads a text file named on the command line.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Asks on the terminal; only `yes` confirms. Refuses (with `no_terminal`) when stdin is not a
/// terminal. The question goes to stderr so that stdout stays the command's result.
pub fn confirm(question: &str, no_terminal: &str, cancelled: &str) -> Result<(), CliError> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(no_terminal.to_owned()));
    }
    eprint!("{question} Only 'yes' is accepted: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|source| CliError::Io {
            path: "stdin".to_owned(),
            source,
        })?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(CliError::Reported(cancelled.to_owned()))
    }
}
