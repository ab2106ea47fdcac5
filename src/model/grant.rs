//! License Manager grants as the tool sees them.

use std::collections::BTreeSet;
use std::fmt;

use super::ids::{GrantArn, LicenseArn};
use super::principal::Principal;

/// `GrantStatus` of the License Manager API. Unknown values (the API may grow) are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantStatus {
    PendingWorkflow,
    PendingAccept,
    Rejected,
    Active,
    FailedWorkflow,
    Deleted,
    PendingDelete,
    Disabled,
    WorkflowCompleted,
    Other(String),
}

impl GrantStatus {
    pub fn as_str(&self) -> &str {
        match self {
            GrantStatus::PendingWorkflow => "PENDING_WORKFLOW",
            GrantStatus::PendingAccept => "PENDING_ACCEPT",
            GrantStatus::Rejected => "REJECTED",
            GrantStatus::Active => "ACTIVE",
            GrantStatus::FailedWorkflow => "FAILED_WORKFLOW",
            GrantStatus::Deleted => "DELETED",
            GrantStatus::PendingDelete => "PENDING_DELETE",
            GrantStatus::Disabled => "DISABLED",
            GrantStatus::WorkflowCompleted => "WORKFLOW_COMPLETED",
            GrantStatus::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> GrantStatus {
        match s {
            "PENDING_WORKFLOW" => GrantStatus::PendingWorkflow,
            "PENDING_ACCEPT" => GrantStatus::PendingAccept,
            "REJECTED" => GrantStatus::Rejected,
            "ACTIVE" => GrantStatus::Active,
            "FAILED_WORKFLOW" => GrantStatus::FailedWorkflow,
            "DELETED" => GrantStatus::Deleted,
            "PENDING_DELETE" => GrantStatus::PendingDelete,
            "DISABLED" => GrantStatus::Disabled,
            "WORKFLOW_COMPLETED" => GrantStatus::WorkflowCompleted,
            other => GrantStatus::Other(other.to_owned()),
        }
    }

    /// DELETED and REJECTED grants are history: they grant nothing and can never change again.
    pub fn is_terminal(&self) -> bool {
        matches!(self, GrantStatus::Deleted | GrantStatus::Rejected)
    }

    /// The grant gives access now (ACTIVE, or an org/OU parent whose activation workflow finished).
    pub fn is_effective(&self) -> bool {
        matches!(self, GrantStatus::Active | GrantStatus::WorkflowCompleted)
    }
}

impl fmt::Display for GrantStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `AllowedOperation` enum of License Manager, as names. Kept as strings so a value the
/// API adds later survives a round trip; `config` checks names against [`KNOWN_OPERATIONS`].
pub type Operation = String;

/// Every `AllowedOperation` value in the License Manager service model.
pub const KNOWN_OPERATIONS: &[&str] = &[
    "CreateGrant",
    "CheckoutLicense",
    "CheckoutBorrowLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
    "CreateToken",
    "BatchCreateLicenseUsageRecords",
];

/// The operations a Bedrock model grant allows unless the file says otherwise.
pub const DEFAULT_OPERATIONS: &[&str] = &[
    "CheckoutLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
    "CreateToken",
];

/// One account's share of an organization or OU grant: a received grant whose `ParentArn` is
/// the organization or OU grant, with its own status (`ListReceivedGrantsForOrganization`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Share {
    /// The organization or OU grant the share comes from.
    pub parent: GrantArn,
    /// The share's own grant ARN, as the API reports it.
    pub arn: GrantArn,
    pub license_arn: LicenseArn,
    pub account: super::AccountId,
    pub status: GrantStatus,
}

/// One grant read from License Manager (`ListDistributedGrants` / `GetGrant`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub arn: GrantArn,
    pub name: String,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    pub status: GrantStatus,
    pub status_reason: Option<String>,
    /// The API's `Version`: a decimal string that moves with every change.
    pub version: String,
    pub operations: BTreeSet<Operation>,
    pub parent_arn: String,
    pub home_region: String,
}
