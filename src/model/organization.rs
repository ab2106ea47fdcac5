//! The structure of an AWS Organization, as read from the Organizations API.
//! Pure data: resolution of targets against it lives in `crate::org`.

use std::collections::BTreeMap;

use super::ids::{AccountId, OrgId, OuId, RootId};

/// `FeatureSet` of `DescribeOrganization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeatureSet {
    All,
    ConsolidatedBilling,
}

/// `State` of an account (`Status` is retired by AWS; `State` replaces it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountState {
    PendingActivation,
    Active,
    Suspended,
    PendingClosure,
    Closed,
    Other(String),
}

impl AccountState {
    pub fn parse(s: &str) -> AccountState {
        match s {
            "PENDING_ACTIVATION" => AccountState::PendingActivation,
            "ACTIVE" => AccountState::Active,
            "SUSPENDED" => AccountState::Suspended,
            "PENDING_CLOSURE" => AccountState::PendingClosure,
            "CLOSED" => AccountState::Closed,
            other => AccountState::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AccountState::PendingActivation => "PENDING_ACTIVATION",
            AccountState::Active => "ACTIVE",
            AccountState::Suspended => "SUSPENDED",
            AccountState::PendingClosure => "PENDING_CLOSURE",
            AccountState::Closed => "CLOSED",
            AccountState::Other(s) => s,
        }
    }
}

/// Where an OU or account hangs in the tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ParentId {
    Root(RootId),
    Ou(OuId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: AccountId,
    pub name: String,
    pub state: AccountState,
    pub parent: ParentId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub id: OuId,
    pub name: String,
    pub parent: ParentId,
}

/// The whole organization: one root, OUs nested under it, accounts in the root or in OUs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub management_account: AccountId,
    pub feature_set: FeatureSet,
    pub root: RootId,
    pub ous: BTreeMap<OuId, OrgUnit>,
    pub accounts: BTreeMap<AccountId, OrgAccount>,
}
