//! A snapshot of the world as read from AWS: what the planner diffs the desired state against.

use super::grant::{Grant, Share};
use super::license::License;
use super::organization::Organization;

/// Everything `plan` needs to know about the live account, read in one go by `crate::live`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub organization: Organization,
    /// The account making the calls (management account or delegated administrator).
    /// It holds the subscriptions and never needs a grant.
    pub caller: super::AccountId,
    /// Received model licenses, sorted by ARN.
    pub licenses: Vec<License>,
    /// Every grant distributed from the licenses that matter, in any status, in
    /// [`grant_order`]: grouped by license, so that per-license work reads one slice each.
    pub grants: Vec<Grant>,
    /// Each account's share of the organization and OU grants in `grants` (what
    /// `ListReceivedGrantsForOrganization` reports), sorted by (parent grant, account). A share
    /// that is missing for an account the parent reaches is not in effect for it.
    pub shares: Vec<Share>,
    /// When the snapshot was read, in seconds since the Unix epoch (the planner's clock: it
    /// judges license validity against it). 0 when unknown.
    pub read_at: i64,
    /// The organization's SCPs; `None` when guardrails are off (no policy is read then).
    pub guardrails: Option<super::LiveGuardrails>,
}

/// The order of `Live::grants`: by license ARN, then grant ARN.
pub fn grant_order(a: &Grant, b: &Grant) -> std::cmp::Ordering {
    (&a.license_arn, &a.arn).cmp(&(&b.license_arn, &b.arn))
}
