//! Bedrock's subscribe step as the tool sees it: a model's offers with their terms (as
//! `ListFoundationModelAgreementOffers` gives them) and the central account's agreement.

use serde::{Deserialize, Serialize};

/// Whether every account sees an offer (`PUBLIC`) or it was negotiated for this buyer
/// (`PRIVATE`: listed with `offerType=ALL` only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OfferType {
    Public,
    Private,
}

impl OfferType {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferType::Public => "public",
            OfferType::Private => "private",
        }
    }
}

/// One `rateCard` entry (`DimensionalPriceRate`), verbatim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct PriceRate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An offer's `termDetails`, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct OfferTerms {
    #[serde(default)]
    pub rate_card: Vec<PriceRate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_duration: Option<String>,
}

/// One offer of a model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offer {
    /// `offerId` (optional in the API).
    pub offer_id: Option<String>,
    /// `offerToken`: what CreateFoundationModelAgreement takes. Never printed.
    pub offer_token: String,
    pub offer_type: OfferType,
    pub terms: OfferTerms,
}

/// `agreementAvailability.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgreementStatus {
    Available,
    Pending,
    NotAvailable,
    Error,
}

impl AgreementStatus {
    pub fn parse(s: &str) -> AgreementStatus {
        match s {
            "AVAILABLE" => AgreementStatus::Available,
            "PENDING" => AgreementStatus::Pending,
            "ERROR" => AgreementStatus::Error,
            _ => AgreementStatus::NotAvailable,
        }
    }
}

/// GetFoundationModelAvailability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub agreement: AgreementStatus,
    /// `agreementAvailability.errorMessage`.
    pub error_message: Option<String>,
    /// `authorizationStatus` is AUTHORIZED.
    pub authorized: bool,
    /// `entitlementAvailability` is AVAILABLE.
    pub entitled: bool,
    /// `regionAvailability` is AVAILABLE.
    pub in_region: bool,
}

/// What CreateFoundationModelAgreement did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementOutcome {
    /// A new agreement was requested.
    Created,
    /// The account already had one (`ConflictException`): counts as done.
    AlreadyExists,
}

/// What Bedrock says about one model for the central account, as `live` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionState {
    pub availability: Availability,
    /// Sorted.
    pub offers: Vec<Offer>,
    /// GetFoundationModel's `providerName`: the seller Bedrock names for the model.
    pub provider: Option<String>,
}
