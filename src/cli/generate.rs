//! `completions SHELL` and `man`: generated from the clap definition, so they never disagree
//! with the parser.

use clap::CommandFactory;

use crate::cli::args::{Cli, CompletionsArgs};
use crate::cli::{CliError, Outcome};

/// Writes the completion script for `args.shell` to stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Outcome, CliError> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_owned();
    clap_complete::generate(args.shell, &mut cmd, name, &mut std::io::stdout());
    Ok(Outcome::Success)
}

/// Writes the man page (section 1, roff) to stdout.
pub fn man() -> Result<Outcome, CliError> {
    let page = man_page()?;
    use std::io::Write as _;
    std::io::stdout()
        .write_all(&page)
        .map_err(|source| CliError::Io {
            path: "stdout".to_owned(),
            source,
        })?;
    Ok(Outcome::Success)
}

/// The man page as roff bytes.
pub fn man_page() -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|source| CliError::Io {
            path: "the man page".to_owned(),
            source,
        })?;
    Ok(out)
}
