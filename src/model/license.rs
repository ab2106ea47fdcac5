//! Licenses the grantor account has received (`ListReceivedLicenses`).

use super::ids::LicenseArn;

/// One received model license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct License {
    pub arn: LicenseArn,
    pub name: String,
    pub product_name: String,
    pub product_sku: String,
    pub issuer: String,
    /// `AVAILABLE`, `EXPIRED`, ...
    pub status: String,
    pub home_region: String,
    /// `ReceivedMetadata.AllowedOperations`: what this account may do with the license
    /// (it can distribute it only if `CreateGrant` is among them).
    pub received_operations: Vec<String>,
    /// `Validity.End` as the API gives it, if any.
    pub validity_end: Option<String>,
    /// `Beneficiary`: the account that received the license (`arn:aws:iam::ID:root`).
    pub beneficiary: Option<String>,
}

impl License {
    pub fn allows_create_grant(&self) -> bool {
        self.received_operations
            .iter()
            .any(|op| op == "CreateGrant")
    }
}
