//! The organization tree and target resolution: turns each model's `grant_to` and
//! `except_accounts` into the set of principals that should hold a grant. Pure: no I/O.
//!
//! [`resolve`] returns every error it finds, not only the first. Warnings (a redundant target,
//! the grantor listed as a target, an exclusion that excludes nothing, ...) never fail resolution:
//! on success they are in [`Desired::warnings`]; on failure they come with the errors in the
//! returned list. Both lists are sorted by position.

mod resolve;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{ActivationOverride, DesiredStatus, ModelKey};
use crate::model::{AccountId, Diagnostic, LicenseArn, Principal};

pub use resolve::{MAX_GRANT_NAME_LEN, MAX_GRANTS_PER_LICENSE, USABLE_LICENSE_STATUS, resolve};
pub use tree::covered_accounts;
pub(crate) use tree::{OrgIndex, is_grantable};

/// What the caller of [`resolve`] narrows it to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolveOptions {
    /// `--target MODEL` (repeatable): only these models are resolved and planned; grants on
    /// other models' licenses are left out of the plan entirely. `None` plans everything.
    pub targets: Option<BTreeSet<ModelKey>>,
}

/// What one model should look like in License Manager, in terms of principals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredModel {
    pub key: ModelKey,
    pub license: LicenseArn,
    /// The minimal cover of the model's targets minus its exceptions.
    pub principals: BTreeSet<Principal>,
    pub status: DesiredStatus,
    /// The accounts `except_accounts` leaves out (the grantor never appears here).
    pub excluded: BTreeSet<AccountId>,
}

/// The whole desired state, resolved against the live organization and licenses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub models: BTreeMap<ModelKey, DesiredModel>,
    pub grant_name_prefix: String,
    pub operations: BTreeSet<String>,
    /// `settings.recipient_role`: when set, grants waiting on a recipient get an `accept` action.
    pub recipient_role: Option<String>,
    /// `settings.home_region`, where every License Manager call goes.
    pub home_region: String,
    /// `settings.activation_override`, passed by `apply` when it activates.
    pub activation_override: Option<ActivationOverride>,
    /// True under `--target`: `models` holds only the targeted models, and the planner leaves
    /// grants on every other license alone (it does not delete them as unnamed).
    pub targeted_only: bool,
    /// Warnings found while resolving, sorted by position. Not part of the config digest.
    pub warnings: Vec<Diagnostic>,
}

impl Desired {
    /// The licenses of the models in `models`.
    pub fn licenses(&self) -> BTreeSet<LicenseArn> {
        self.models.values().map(|m| m.license.clone()).collect()
    }

    /// The model whose license is `license` (resolution makes licenses unique per model).
    pub fn model_of_license(&self, license: &LicenseArn) -> Option<&DesiredModel> {
        self.models.values().find(|m| &m.license == license)
    }
}

#[cfg(test)]
pub(crate) mod tests;

/// The deterministic name of a managed grant: `{prefix}-{model}-{principal short id}`,
/// for example `bedrock-entitlements-claude-sonnet-111122223333`.
pub fn grant_name(prefix: &str, model: &ModelKey, principal: &Principal) -> String {
    format!("{prefix}-{model}-{}", principal.short_id())
}
