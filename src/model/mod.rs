//! The nouns every other module shares: typed ids and ARNs, principals, grants, licenses and the
//! organization's structure. No I/O, no AWS SDK types.

mod diag;
mod grant;
mod ids;
mod license;
mod live;
mod organization;
mod principal;
mod scp;
mod subscription;

pub use diag::{Diagnostic, Severity, Span, Spanned};
pub use grant::{DEFAULT_OPERATIONS, Grant, GrantStatus, KNOWN_OPERATIONS, Operation, Share};
#[cfg(test)]
pub(crate) use ids::work;
pub use ids::{AccountId, GrantArn, IdError, LicenseArn, OrgId, OuId, PolicyId, RootId};
pub use license::{License, parse_time};
pub use live::{Live, grant_order};
pub use organization::{AccountState, FeatureSet, OrgAccount, OrgUnit, Organization, ParentId};
pub use principal::Principal;
pub use scp::{LiveGuardrails, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, ScpPolicy, Target};
pub use subscription::{
    AgreementOutcome, AgreementStatus, Availability, Offer, OfferTerms, OfferType, PriceRate,
    SubscriptionState,
};

/// The account AWS Marketplace issues model licenses from.
pub const MARKETPLACE_ACCOUNT: &str = "294406891311";
