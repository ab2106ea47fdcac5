//! The desired-state file after parsing and validation: every default filled in, every id typed,
//! every value carrying the position it was written at.

use std::collections::BTreeSet;
use std::fmt;

use crate::model::{AccountId, LicenseArn, OuId, Span, Spanned};

/// A model key: lowercase letters, digits and '-'.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ModelKey(String);

impl ModelKey {
    /// Accepts `[a-z0-9][a-z0-9-]*` of at most 64 characters.
    pub fn parse(s: &str) -> Option<ModelKey> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with('-')
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        ok.then(|| ModelKey(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parsed, validated `entitlements.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub version: u32,
    pub settings: Settings,
    /// Sorted by key.
    pub models: Vec<ModelSpec>,
}

impl Config {
    pub fn model(&self, key: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.key.value.as_str() == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActivationOverride {
    DistributedGrantsOnly,
    AllGrantsPermittedByIssuer,
}

impl ActivationOverride {
    /// The API value of `Options.ActivationOverrideBehavior`.
    pub fn api_value(self) -> &'static str {
        match self {
            ActivationOverride::DistributedGrantsOnly => "DISTRIBUTED_GRANTS_ONLY",
            ActivationOverride::AllGrantsPermittedByIssuer => "ALL_GRANTS_PERMITTED_BY_ISSUER",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub home_region: String,
    pub grant_name_prefix: String,
    pub allowed_operations: BTreeSet<String>,
    pub max_deletes: u32,
    /// Role NAME to assume in member accounts to accept/activate received grants.
    pub recipient_role: Option<String>,
    pub activation_override: Option<ActivationOverride>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            home_region: "us-east-1".to_owned(),
            grant_name_prefix: "bedrock-entitlements".to_owned(),
            allowed_operations: crate::model::DEFAULT_OPERATIONS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            max_deletes: 10,
            recipient_role: None,
            activation_override: None,
        }
    }
}

/// How a model's license is found among the received licenses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenseSelector {
    ProductSku(String),
    ProductName(String),
    LicenseArn(LicenseArn),
}

/// An OU named in the file: by id (`ou-…`) or by path from the root (`Root/Workloads/ML`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OuRef {
    Id(OuId),
    Path(String),
}

/// An account named in the file: by 12-digit id or by account name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountRef {
    Id(AccountId),
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum DesiredStatus {
    #[default]
    Active,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantTo {
    /// `Some(span of the key)` when `organization: true`.
    pub organization: Option<Span>,
    pub organizational_units: Vec<Spanned<OuRef>>,
    pub accounts: Vec<Spanned<AccountRef>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub key: Spanned<ModelKey>,
    pub license: Spanned<LicenseSelector>,
    pub grant_to: GrantTo,
    pub except_accounts: Vec<Spanned<AccountRef>>,
    pub status: DesiredStatus,
}
