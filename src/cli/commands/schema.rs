//! `schema`: print the JSON Schema of the desired-state file.

use crate::cli::{CliError, Outcome};

pub fn run() -> Result<Outcome, CliError> {
    let schema = crate::config::schema();
    let text = serde_json::to_string_pretty(&schema).map_err(CliError::Schema)?;
    println!("{text}");
    Ok(Outcome::Success)
}
