//! The desired-state file: YAML parsing, validation and positioned diagnostics.
//! The only module that names a YAML crate.

mod types;

pub use types::{
    AccountRef, ActivationOverride, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey,
    ModelSpec, OuRef, Settings,
};
