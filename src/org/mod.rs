//! The organization tree and target resolution: turns each model's `grant_to` and
//! `except_accounts` into the set of principals that should hold a grant. Pure: no I/O.
//!
//! [`resolve`] returns every error it finds, not only the first. Warnings (a redundant target,
//! the grantor listed as a target, an exclusion that excludes nothing, ...) never fail resolution:
//! on success they are in [`Desired::warnings`]; on failure they come with the errors in the
//! returned list. Both lists are sorted by position.

mod lookup;
mod resolve;
mod sellers;
mod tree;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{ActivationOverride, DesiredStatus, GuardrailSettings, ModelKey};
use crate::model::{AccountId, Diagnostic, LicenseArn, Principal};

pub use lookup::{AccountLookupError, UnknownTargets, check_targets, find_account};
pub use resolve::{
    MAX_GRANT_NAME_LEN, MAX_GRANTS_PER_LICENSE, USABLE_LICENSE_STATUS, choose_license, resolve,
};
pub use tree::covered_accounts;
pub(crate) use tree::{OrgIndex, is_grantable};

/// What the caller of [`resolve`] narrows it to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolveOptions {
    /// `--target MODEL` (repeatable): only these models are resolved and planned; grants on
    /// other models' licenses are left out of the plan entirely. `None` plans everything.
    pub targets: Option<BTreeSet<ModelKey>>,
    /// The clock, in seconds since the Unix epoch, that license validity is judged at; 0 means
    /// `live.read_at`. The caller reads it (the resolver does no I/O).
    pub now: i64,
}

/// Why a received license of a model's product was not the one chosen (see
/// `docs/status-and-actions.md`, "Renewals": the rule decides in this order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LostBecause {
    /// Its `Status` is not AVAILABLE.
    NotAvailable(String),
    /// `CreateGrant` is not among its received allowed operations.
    NoCreateGrant,
    /// Its `Validity.Begin` is after the clock.
    NotYetValid,
    /// Its `Validity.End` is at or before the clock.
    Expired,
    /// The chosen license's validity ends later.
    EndsEarlier,
    /// Both end together and the chosen license's validity begins later.
    BeganEarlier,
    /// Same validity: the chosen license has the smaller ARN.
    LargerArn,
}

impl LostBecause {
    /// The JSON name.
    pub fn code(&self) -> &'static str {
        match self {
            LostBecause::NotAvailable(_) => "not_available",
            LostBecause::NoCreateGrant => "no_create_grant",
            LostBecause::NotYetValid => "not_yet_valid",
            LostBecause::Expired => "expired",
            LostBecause::EndsEarlier => "ends_earlier",
            LostBecause::BeganEarlier => "began_earlier",
            LostBecause::LargerArn => "larger_arn",
        }
    }

    /// The reason of a JSON name (`status` for `not_available`).
    pub fn from_code(code: &str, status: Option<&str>) -> Option<LostBecause> {
        Some(match code {
            "not_available" => LostBecause::NotAvailable(status.unwrap_or_default().to_owned()),
            "no_create_grant" => LostBecause::NoCreateGrant,
            "not_yet_valid" => LostBecause::NotYetValid,
            "expired" => LostBecause::Expired,
            "ends_earlier" => LostBecause::EndsEarlier,
            "began_earlier" => LostBecause::BeganEarlier,
            "larger_arn" => LostBecause::LargerArn,
            _ => return None,
        })
    }

    /// Words for people, after "lost: ".
    pub fn describe(&self) -> String {
        match self {
            LostBecause::NotAvailable(status) => format!("its status is {status}, not AVAILABLE"),
            LostBecause::NoCreateGrant => {
                "this account may not create grants from it (no CreateGrant)".to_owned()
            }
            LostBecause::NotYetValid => "its validity has not begun".to_owned(),
            LostBecause::Expired => "its validity has ended".to_owned(),
            LostBecause::EndsEarlier => "its validity ends earlier".to_owned(),
            LostBecause::BeganEarlier => "its validity began earlier".to_owned(),
            LostBecause::LargerArn => "same validity, larger ARN".to_owned(),
        }
    }
}

/// A received license of a model's product that the rule did not choose.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LicenseCandidate {
    pub arn: LicenseArn,
    pub lost: LostBecause,
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
    /// The other received licenses of the same product and why each lost to `license`, by
    /// ARN (empty when `license_arn` pins the license or the product has one license).
    pub others: Vec<LicenseCandidate>,
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
    /// `settings.expiry_warning_days`.
    pub expiry_warning_days: u32,
    /// True under `--target`: `models` holds only the targeted models, and the planner leaves
    /// grants on every other license alone (it does not delete them as unnamed).
    pub targeted_only: bool,
    /// Warnings found while resolving, sorted by position. Not part of the config digest.
    pub warnings: Vec<Diagnostic>,
    /// `settings.guardrails` and each resolved model's Bedrock model ids (issue 13).
    pub guardrails: DesiredGuardrails,
}

/// What the guardrails layer of the plan needs from the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DesiredGuardrails {
    pub settings: GuardrailSettings,
    /// Per resolved model (the keys of `Desired::models`) that gives `bedrock_model_ids`.
    pub models: BTreeMap<ModelKey, GuardedModel>,
}

/// One model's `bedrock_model_ids` and `marketplace_product_id`, as written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuardedModel {
    pub bedrock_model_ids: Vec<String>,
    pub marketplace_product_id: Option<String>,
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

/// Whether the tool owns a grant named `name`: the name starts with `prefix`
/// (`settings.grant_name_prefix`), byte for byte. The one ownership test of the crate: the
/// planner, the continuity check, drift, access and import all ask it.
///
/// At its edges: a name equal to the prefix is owned (it starts with it); case counts
/// (`Bedrock-Entitlements-x` is foreign); the prefix anywhere but the start does not count
/// (`team-bedrock-entitlements-x` is foreign); no separator is required, so `{prefix}2-x` is
/// owned (two installations must use prefixes neither of which starts the other). An empty
/// prefix owns nothing (`validate` refuses one; this is the second guard).
pub fn is_managed_name(prefix: &str, name: &str) -> bool {
    !prefix.is_empty() && name.starts_with(prefix)
}
