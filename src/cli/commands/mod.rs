//! One module per command.

pub mod access;
pub mod apply;
pub mod drift;
pub mod emulator;
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
