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
    /// `plan` and `drift` warn about a license in use whose validity ends within this many
    /// days (and about expired ones).
    pub expiry_warning_days: u32,
    /// `settings.guardrails`: the service control policies that decide who may invoke.
    pub guardrails: GuardrailSettings,
    /// `settings.bootstrap`: what `bootstrap` sets up beyond what every file needs.
    pub bootstrap: BootstrapSettings,
    /// `settings.allowed_sellers`: issuer names / seller ids whose licenses may be granted and
    /// whose offers accepted; None: no restriction.
    pub allowed_sellers: Option<Vec<Spanned<String>>>,
}

/// `settings.bootstrap`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootstrapSettings {
    /// License Manager's delegated administrator, registered by `bootstrap --apply`.
    pub delegated_administrator: Option<crate::model::AccountId>,
    /// Anthropic's one-time use-case form, as the user filled it in.
    pub anthropic_use_case: Option<UseCaseForm>,
}

/// `settings.bootstrap.anthropic_use_case`: the fields of the `formData` JSON that Bedrock's
/// `PutUseCaseForModelAccess` takes (`companyName`, `companyWebsite`, `intendedUsers`,
/// `industryOption`, `otherIndustryOption`, `useCases`), verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseCaseForm {
    pub company_name: String,
    pub company_website: String,
    pub intended_users: String,
    pub industry_option: String,
    pub other_industry_option: String,
    pub use_cases: String,
}

impl UseCaseForm {
    /// The `formData` document, keys in alphabetical order.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "companyName": self.company_name,
            "companyWebsite": self.company_website,
            "intendedUsers": self.intended_users,
            "industryOption": self.industry_option,
            "otherIndustryOption": self.other_industry_option,
            "useCases": self.use_cases,
        })
        .to_string()
    }
}

impl Settings {
    /// Whether `seller` may be granted from or subscribed to.
    pub fn seller_allowed(&self, seller: &str) -> bool {
        self.allowed_sellers
            .as_ref()
            .is_none_or(|l| l.iter().any(|s| s.value == seller))
    }
}

/// Which offer a model's `subscribe` section accepts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OfferChoice {
    /// The organization's negotiated offer, optionally by offer id or seller.
    Private {
        offer_id: Option<Spanned<String>>,
        seller: Option<Spanned<String>>,
    },
    Public,
    /// A private offer when there is one, else the public one.
    Any,
}

impl OfferChoice {
    pub fn word(&self) -> &'static str {
        match self {
            OfferChoice::Private { .. } => "private",
            OfferChoice::Public => "public",
            OfferChoice::Any => "any",
        }
    }
}

/// A model's `subscribe` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeSpec {
    /// The `subscribe` key.
    pub span: Span,
    /// `subscribe.model_id`; None: the one id of `bedrock_model_ids`.
    pub model_id: Option<Spanned<String>>,
    pub offer: Spanned<OfferChoice>,
}

/// `settings.guardrails.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardrailMode {
    /// No SCP is read or written (the default: files written before guardrails keep their meaning).
    #[default]
    Off,
    /// Live SCPs are read and compared with what `enforce` would write; nothing is written.
    Report,
    /// The plan creates, updates, attaches, detaches and deletes the tool's SCPs.
    Enforce,
}

/// `settings.guardrails`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailSettings {
    pub mode: GuardrailMode,
    /// Names of the tool's SCPs start with it (`{prefix}-{model}`); with the managed tag it marks
    /// the only policies the tool changes.
    pub policy_name_prefix: String,
    /// Also deny `aws-marketplace:Subscribe` to the file's products in accounts not entitled.
    pub deny_marketplace_subscribe: bool,
}

impl Default for GuardrailSettings {
    fn default() -> Self {
        GuardrailSettings {
            mode: GuardrailMode::Off,
            policy_name_prefix: "bedrock-entitlements".to_owned(),
            deny_marketplace_subscribe: false,
        }
    }
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
            expiry_warning_days: 30,
            guardrails: GuardrailSettings::default(),
            bootstrap: BootstrapSettings::default(),
            allowed_sellers: None,
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

impl LicenseSelector {
    /// The key it is written under: `product_sku`, `product_name` or `license_arn`.
    pub fn key(&self) -> &'static str {
        match self {
            LicenseSelector::ProductSku(_) => "product_sku",
            LicenseSelector::ProductName(_) => "product_name",
            LicenseSelector::LicenseArn(_) => "license_arn",
        }
    }

    /// The value as written.
    pub fn value(&self) -> &str {
        match self {
            LicenseSelector::ProductSku(s) | LicenseSelector::ProductName(s) => s,
            LicenseSelector::LicenseArn(a) => a.as_str(),
        }
    }
}

/// `product_sku prod-…`, `product_name "…"`, `license_arn arn:…`.
impl fmt::Display for LicenseSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LicenseSelector::ProductName(name) => write!(f, "product_name {name:?}"),
            other => write!(f, "{} {}", other.key(), other.value()),
        }
    }
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

/// The id or the path, as written.
impl fmt::Display for OuRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OuRef::Id(id) => write!(f, "{id}"),
            OuRef::Path(path) => f.write_str(path),
        }
    }
}

/// The id or the name, as written.
impl fmt::Display for AccountRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountRef::Id(id) => write!(f, "{id}"),
            AccountRef::Name(name) => f.write_str(name),
        }
    }
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
    /// `bedrock_model_ids`: the Bedrock model ids the model stands for (IAM wildcards allowed);
    /// what the guardrail SCPs deny. Empty when not given.
    pub bedrock_model_ids: Vec<Spanned<String>>,
    /// `marketplace_product_id`, where it differs from what the license tells.
    pub marketplace_product_id: Option<Spanned<String>>,
    /// `subscribe`: subscribe the central account to the model when it has no agreement.
    pub subscribe: Option<SubscribeSpec>,
}

impl ModelSpec {
    /// The Bedrock model id to subscribe with: `subscribe.model_id`, else the one exact id
    /// of `bedrock_model_ids`.
    pub fn subscribe_model_id(&self) -> Option<String> {
        let s = self.subscribe.as_ref()?;
        if let Some(id) = &s.model_id {
            return Some(id.value.clone());
        }
        match self.bedrock_model_ids.as_slice() {
            [one] if !one.value.contains(['*', '?']) => Some(one.value.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_keys() {
        for ok in ["claude-sonnet", "a", "ai21-jamba", "0x", "trailing-"] {
            assert_eq!(
                ModelKey::parse(ok).map(|k| k.to_string()),
                Some(ok.to_owned())
            );
        }
        let long = "a".repeat(65);
        for bad in ["", "-a", "Claude", "a_b", "a b", "é", long.as_str()] {
            assert_eq!(ModelKey::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn selectors_and_targets_display_as_written() {
        let sku = LicenseSelector::ProductSku("prod-x".into());
        assert_eq!(sku.to_string(), "product_sku prod-x");
        let name = LicenseSelector::ProductName("Jamba 1.5 (Bedrock)".into());
        assert_eq!(name.to_string(), "product_name \"Jamba 1.5 (Bedrock)\"");
        assert_eq!(name.key(), "product_name");
        let arn = LicenseSelector::LicenseArn(
            "arn:aws:license-manager::294406891311:license:l-ab"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            arn.value(),
            "arn:aws:license-manager::294406891311:license:l-ab"
        );
        assert_eq!(
            OuRef::Id("ou-ab12-mlplatfm".parse().unwrap()).to_string(),
            "ou-ab12-mlplatfm"
        );
        assert_eq!(
            OuRef::Path("Root/Workloads".into()).to_string(),
            "Root/Workloads"
        );
        assert_eq!(
            AccountRef::Id("012345678901".parse().unwrap()).to_string(),
            "012345678901"
        );
        assert_eq!(AccountRef::Name("ml-dev".into()).to_string(), "ml-dev");
    }
}
