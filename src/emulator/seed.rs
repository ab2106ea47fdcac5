//! The seed: the YAML file the emulator starts from (the organization, the licenses the grantor
//! received, pre-existing grants). `examples/sandbox.yaml` is the realistic one; docs/emulator.md
//! documents every field.

use serde::{Deserialize, Deserializer, Serialize};

use super::EmulatorError;

/// Everything the emulator starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// The License Manager home region: licenses and grants exist only there. Default `us-east-1`.
    #[serde(default = "default_region")]
    pub region: String,
    /// The account that unrecognised access keys act as. Default: the management account.
    #[serde(default, deserialize_with = "opt_account_id")]
    pub default_caller: Option<String>,
    pub organization: OrganizationSeed,
    #[serde(default)]
    pub licenses: Vec<LicenseSeed>,
    #[serde(default)]
    pub grants: Vec<GrantSeed>,
    /// Bedrock's control plane: models, offers, agreements, use-case forms.
    #[serde(default)]
    pub bedrock: super::bedrock::BedrockSeed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum FeatureSetSeed {
    #[default]
    #[serde(rename = "ALL")]
    All,
    #[serde(rename = "CONSOLIDATED_BILLING")]
    ConsolidatedBilling,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganizationSeed {
    /// `o-` followed by 10–32 lowercase letters or digits.
    pub id: String,
    #[serde(default)]
    pub feature_set: FeatureSetSeed,
    #[serde(deserialize_with = "account_id")]
    pub management_account: String,
    /// The root id, `r-…`.
    pub root: String,
    /// Trusted access for `license-manager.amazonaws.com` (needs `feature_set: ALL`). Default true.
    #[serde(default = "yes")]
    pub trusted_access: bool,
    /// Whether License Manager is set up in the grantor account (its service-linked role exists,
    /// GetServiceSettings returns its resources). Default true.
    #[serde(default = "yes")]
    pub service_linked_role: bool,
    /// Whether AWS Marketplace's service-linked role AWSServiceRoleForMarketplaceLicenseManagement
    /// exists (a fact of its own; nothing in the emulator derives it). Default true.
    #[serde(default = "yes")]
    pub marketplace_service_linked_role: bool,
    /// License Manager's `OrganizationConfiguration.EnableIntegration` (GetServiceSettings), a
    /// fact of its own. Default: the seed's `trusted_access` (a default of the file only: after
    /// the start, changing one does not change the other).
    #[serde(default)]
    pub enable_integration: Option<bool>,
    /// License Manager's `EnableCrossAccountsDiscovery` (GetServiceSettings), a fact of its own.
    /// Default: the organization integration's value (a default of the file only).
    #[serde(default)]
    pub cross_account_discovery: Option<bool>,
    /// Other service principals with trusted access (ListAWSServiceAccessForOrganization):
    /// Marketplace's `license-management.marketplace.amazonaws.com` by default.
    #[serde(default = "default_services")]
    pub enabled_services: Vec<String>,
    /// The delegated administrator for `license-manager.amazonaws.com`, if any.
    #[serde(default, deserialize_with = "opt_account_id")]
    pub delegated_administrator: Option<String>,
    #[serde(default)]
    pub organizational_units: Vec<OuSeed>,
    pub accounts: Vec<AccountSeed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OuSeed {
    pub id: String,
    pub name: String,
    /// The root id or the id of another OU.
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSeed {
    #[serde(deserialize_with = "account_id")]
    pub id: String,
    pub name: String,
    /// Default `<name>@example.com`.
    #[serde(default)]
    pub email: Option<String>,
    /// `State`: ACTIVE (default), PENDING_ACTIVATION, SUSPENDED, PENDING_CLOSURE, CLOSED.
    #[serde(default = "active")]
    pub state: String,
    /// The root id (default) or an OU id.
    #[serde(default)]
    pub parent: Option<String>,
    /// INVITED or CREATED (default).
    #[serde(default = "created")]
    pub joined_method: String,
    /// Epoch seconds. Default 2024-01-01T00:00:00Z.
    #[serde(default = "default_joined")]
    pub joined_timestamp: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseSeed {
    pub arn: String,
    /// `LicenseName`; default: the product name.
    #[serde(default)]
    pub name: Option<String>,
    pub product_name: String,
    pub product_sku: String,
    /// `Issuer.Name`. Default `AWS/Marketplace`.
    #[serde(default = "marketplace")]
    pub issuer: String,
    /// `Issuer.KeyFingerprint`. Default `aws:<issuer account>:<issuer>:issuer-fingerprint`.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The account that received the license. Default: the delegated administrator if there is
    /// one, else the management account.
    #[serde(default, deserialize_with = "opt_account_id")]
    pub beneficiary: Option<String>,
    /// `Status`: AVAILABLE (default), EXPIRED, DELETED, ...
    #[serde(default = "available")]
    pub status: String,
    /// `ReceivedMetadata.ReceivedStatus`. Default ACTIVE.
    #[serde(default = "active")]
    pub received_status: String,
    /// `ReceivedMetadata.AllowedOperations`: CreateGrant means the beneficiary may distribute it.
    #[serde(default = "default_received_ops")]
    pub allowed_operations: Vec<String>,
    /// The grant the beneficiary received the license through (`LicenseMetadata` `grantArn`);
    /// grants made from the license carry it as `ParentArn`. Default: none (ParentArn = license ARN).
    #[serde(default)]
    pub grant_arn: Option<String>,
    /// `Validity.Begin` / `Validity.End`, verbatim.
    #[serde(default = "default_begin")]
    pub validity_begin: String,
    #[serde(default)]
    pub validity_end: Option<String>,
    /// `CreateTime`, epoch seconds (sent as a string, as License Manager does).
    #[serde(default = "default_joined")]
    pub create_time: i64,
}

/// A grant that exists before the emulator starts (managed by the tool, or foreign).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantSeed {
    /// Default: generated.
    #[serde(default)]
    pub arn: Option<String>,
    pub name: String,
    pub license_arn: String,
    /// `arn:aws:iam::<id>:root`, the organization ARN or an OU ARN.
    pub principal: String,
    /// Default: the license's beneficiary.
    #[serde(default, deserialize_with = "opt_account_id")]
    pub grantor: Option<String>,
    /// Any GrantStatus. Default ACTIVE.
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub status_reason: Option<String>,
    /// Default 1.
    #[serde(default = "one")]
    pub version: u64,
    /// Default: the five operations a Bedrock model grant usually allows.
    #[serde(default = "default_grant_ops")]
    pub operations: Vec<String>,
}

impl Seed {
    /// Parses and checks a seed: the YAML must be well formed and the seed consistent (ids well
    /// formed, parents and licenses exist, principals in the organization).
    pub fn from_yaml(text: &str) -> Result<Seed, EmulatorError> {
        leading_zeros(text)?;
        let seed: Seed =
            serde_yaml::from_str(text).map_err(|e| EmulatorError::SeedSyntax(e.to_string()))?;
        super::state::World::from_seed(&seed)?;
        Ok(seed)
    }
}

/// Refuses an unquoted number with a leading zero (`012345678901`): YAML reads it as a number
/// (or, by some parsers, as text), so an account id written that way is ambiguous. `validate`
/// refuses the same in the desired-state file. serde_yaml does not say whether a scalar was
/// quoted, so the event parser looks first.
fn leading_zeros(text: &str) -> Result<(), EmulatorError> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::TScalarStyle;
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(e) => e,
            Err(e) => return Err(EmulatorError::SeedSyntax(e.to_string())),
        };
        match event {
            Event::StreamEnd => return Ok(()),
            Event::Scalar(s, TScalarStyle::Plain, _, _)
                if s.len() > 1 && s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()) =>
            {
                return Err(EmulatorError::SeedSyntax(format!(
                    "line {} column {}: {s} is written as a number with a leading zero, which YAML reads as {}; if it is an account id, quote it: \"{s}\"",
                    mark.line(),
                    mark.col() + 1,
                    s.trim_start_matches('0')
                )));
            }
            _ => {}
        }
    }
}

/// `examples/sandbox.yaml`, built in: the seed of `bedrock-entitlements emulator` without `--seed`.
pub const SANDBOX_YAML: &str = include_str!("../../examples/sandbox.yaml");

impl Seed {
    /// The sandbox seed (`examples/sandbox.yaml`): organization `o-exampleorg1`, management
    /// account 111122223333, nested OUs, fourteen accounts, four Bedrock model licenses and one
    /// foreign grant.
    pub fn sandbox() -> Seed {
        Seed::from_yaml(SANDBOX_YAML).expect("examples/sandbox.yaml is a valid seed (tested)")
    }
}

fn default_region() -> String {
    "us-east-1".to_owned()
}
fn yes() -> bool {
    true
}
fn one() -> u64 {
    1
}
fn active() -> String {
    "ACTIVE".to_owned()
}
fn available() -> String {
    "AVAILABLE".to_owned()
}
fn created() -> String {
    "CREATED".to_owned()
}
fn marketplace() -> String {
    "AWS/Marketplace".to_owned()
}
fn default_joined() -> i64 {
    1_704_067_200
}
fn default_begin() -> String {
    "2024-01-01T00:00:00.000Z".to_owned()
}
fn default_services() -> Vec<String> {
    vec!["license-management.marketplace.amazonaws.com".to_owned()]
}
fn default_grant_ops() -> Vec<String> {
    super::ids::SEED_GRANT_OPERATIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}
fn default_received_ops() -> Vec<String> {
    std::iter::once("CreateGrant".to_owned())
        .chain(default_grant_ops())
        .collect()
}

/// Account ids may be written quoted or not (`222233334444` is a YAML integer); a number that is
/// not 12 digits long (an unquoted id with a leading zero) is refused.
fn account_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    match Id::deserialize(d)? {
        Id::Text(s) => Ok(s),
        Id::Number(n) if (100_000_000_000..1_000_000_000_000).contains(&n) => Ok(n.to_string()),
        // As `validate` does for the desired-state file: YAML reads `012345678901` as the number
        // 12345678901, and padding it back would hide the mistake.
        Id::Number(n) => Err(serde::de::Error::custom(format!(
            "account id {n} is a YAML number with {} digits, expected 12; if it lost leading zeros, write it quoted: \"{n:012}\"",
            n.to_string().len()
        ))),
    }
}

fn opt_account_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "account_id")] String);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str =
        "organization:\n  id: o-exampleorg1\n  management_account: 111122223333\n  root: r-ab12\n";

    /// Parses `ORG` + `rest` and checks the outcome: `Ok(())` or an error containing each piece.
    fn check(rest: &str, expect: Result<(), &[&str]>) {
        let text = format!("{ORG}{rest}");
        match (Seed::from_yaml(&text), expect) {
            (Ok(_), Ok(())) => {}
            (Err(e), Err(pieces)) => {
                let msg = e.to_string();
                for p in pieces {
                    assert!(msg.contains(p), "{msg:?} lacks {p:?}");
                }
            }
            (got, want) => panic!("for {rest:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn sandbox_is_valid() {
        let s = Seed::sandbox();
        assert_eq!(s.organization.id, "o-exampleorg1");
        assert_eq!(s.organization.accounts.len(), 14);
        assert_eq!(s.licenses.len(), 4);
        assert!(
            s.grants
                .iter()
                .all(|g| !g.name.starts_with("bedrock-entitlements"))
        );
    }

    #[test]
    fn seeds_are_checked() {
        check(
            "  accounts:\n    - { id: 111122223333, name: mgmt }\n",
            Ok(()),
        );
        check(
            "  accounts:\n    - { id: \"111122223333\", name: mgmt, parent: ou-ab12-missing1 }\n",
            Err(&["unknown parent ou-ab12-missing1"]),
        );
        check(
            "  accounts: []\n",
            Err(&["management account 111122223333 is not among the accounts"]),
        );
        check(
            "  feature_set: CONSOLIDATED_BILLING\n  accounts:\n    - { id: 111122223333, name: m }\n",
            Err(&["trusted_access needs feature_set ALL"]),
        );
        check(
            "  organizational_units:\n    - { id: ou-ab12-aaaaaaaa, name: A, parent: ou-ab12-bbbbbbbb }\n    - { id: ou-ab12-bbbbbbbb, name: B, parent: ou-ab12-aaaaaaaa }\n  accounts:\n    - { id: 111122223333, name: m }\n",
            Err(&["cycle"]),
        );
        check(
            "  accounts:\n    - { id: 111122223333, name: m, state: GONE }\n    - { id: \"12\", name: short }\n",
            Err(&["unknown state GONE", "account id \"12\" is not 12 digits"]),
        );
        // An unquoted id with a leading zero is a YAML number that lost the zero.
        check(
            "  accounts:\n    - { id: 111122223333, name: m }\n    - { id: 012345678901, name: zero }\n",
            Err(&[
                "line 7 column 13: 012345678901 is written as a number with a leading zero, which YAML reads as 12345678901",
                "quote it: \"012345678901\"",
            ]),
        );
        check(
            "  accounts:\n    - { id: 111122223333, name: m }\n    - { id: 12345678901, name: short }\n",
            Err(&[
                "account id 12345678901 is a YAML number with 11 digits, expected 12",
                "write it quoted: \"012345678901\"",
            ]),
        );
        check(
            "  accounts:\n    - { id: 111122223333, name: m }\n    - { id: \"012345678901\", name: zero }\n",
            Ok(()),
        );
        check(
            "  accounts:\n    - { id: 111122223333, name: m }\ngrants:\n  - { name: g, license_arn: \"arn:aws:license-manager::294406891311:license:l-1\", principal: \"arn:aws:iam::111122223333:root\" }\n",
            Err(&["unknown license"]),
        );
        check(
            "  accounts: []\n  colour: blue\n",
            Err(&["unknown field `colour`"]),
        );
    }
}
