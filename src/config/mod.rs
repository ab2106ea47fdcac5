//! The desired-state file: YAML parsing, validation and positioned diagnostics.
//! The only module that names a YAML crate (in `yaml.rs`, behind [`parse`]).
//!
//! - [`parse`] reads the text and checks everything that needs no AWS, collecting every problem.
//! - [`parse_bytes`] does the same for the bytes of a file, which `cli` reads (config does no
//!   I/O; `cli::load_config` is the file's reader).
//! - [`schema`] is the JSON Schema of the file; [`to_yaml`] writes a config back (for `import`).

mod emit;
mod schema;
mod types;
mod validate;
mod yaml;

use crate::model::{Diagnostic, Span};

pub use emit::{MODELINE, to_yaml};
pub use schema::{property_names, schema};
pub use types::{
    AccountRef, ActivationOverride, BootstrapSettings, Config, DesiredStatus, GrantTo,
    GuardrailMode, GuardrailSettings, LicenseSelector, ModelKey, ModelSpec, OfferChoice, OuRef,
    Settings, SubscribeSpec, UseCaseForm,
};
pub use validate::SUPPORTED_VERSION;

/// Reads and checks a desired-state file. On failure, every problem found, sorted by position.
/// Never panics, whatever the input.
pub fn parse(source: &str) -> Result<Config, Vec<Diagnostic>> {
    match yaml::read(source) {
        Ok(doc) => validate::build(doc),
        Err(diag) => Err(vec![diag]),
    }
}

/// [`parse`] for raw bytes: text that is not UTF-8 is one diagnostic at the first bad byte.
pub fn parse_bytes(bytes: &[u8]) -> Result<Config, Vec<Diagnostic>> {
    match std::str::from_utf8(bytes) {
        Ok(source) => parse(source),
        Err(e) => Err(vec![not_utf8(bytes, e.valid_up_to())]),
    }
}

fn not_utf8(bytes: &[u8], valid_up_to: usize) -> Diagnostic {
    let valid = String::from_utf8_lossy(&bytes[..valid_up_to]);
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Diagnostic::error(
        Span {
            offset: valid_up_to,
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        },
        "the file is not valid UTF-8",
    )
    .with_hint("save the file as UTF-8")
}
