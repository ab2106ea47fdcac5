//! The organization tree and target resolution: turns each model's `grant_to` and
//! `except_accounts` into the set of principals that should hold a grant. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{DesiredStatus, ModelKey};
use crate::model::{LicenseArn, Principal};

/// What one model should look like in License Manager, in terms of principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredModel {
    pub key: ModelKey,
    pub license: LicenseArn,
    /// The minimal cover of the model's targets minus its exceptions.
    pub principals: BTreeSet<Principal>,
    pub status: DesiredStatus,
}

/// The whole desired state, resolved against the live organization and licenses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub models: BTreeMap<ModelKey, DesiredModel>,
    pub grant_name_prefix: String,
    pub operations: BTreeSet<String>,
}
