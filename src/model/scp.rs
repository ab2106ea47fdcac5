//! Service control policies as read from AWS Organizations: what the guardrails layer of the
//! plan is diffed against. Only read when `settings.guardrails.mode` is not `off`.

use std::collections::BTreeSet;
use std::fmt;

use super::{AccountId, OuId, PolicyId, RootId};

/// The tag key and value that mark an SCP as the tool's own (besides its name prefix): only a
/// policy carrying both is ever updated, detached or deleted.
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "bedrock-entitlements";

/// Where an SCP is attached: a root, an OU or an account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(untagged)]
pub enum Target {
    Root(RootId),
    Ou(OuId),
    Account(AccountId),
}

impl Target {
    /// The `TargetId` Organizations takes (`r-…`, `ou-…`, 12 digits).
    pub fn id(&self) -> &str {
        match self {
            Target::Root(r) => r.as_str(),
            Target::Ou(o) => o.as_str(),
            Target::Account(a) => a.as_str(),
        }
    }

    /// Parses a `TargetId` as Organizations returns it.
    pub fn parse(id: &str) -> Option<Target> {
        if let Ok(a) = id.parse() {
            return Some(Target::Account(a));
        }
        if let Ok(o) = id.parse() {
            return Some(Target::Ou(o));
        }
        id.parse().ok().map(Target::Root)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One SCP of the organization, as ListPolicies, DescribePolicy, ListTagsForResource and
/// ListTargetsForPolicy report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpPolicy {
    pub id: PolicyId,
    pub arn: String,
    pub name: String,
    pub description: String,
    /// `AwsManaged` (FullAWSAccess): never changed.
    pub aws_managed: bool,
    /// The policy document (DescribePolicy's `Content`). Read for managed policies and for
    /// foreign ones attached along some account's path (the `access` report reads their
    /// unconditional denies); empty when not read.
    pub content: String,
    /// Whether it carries [`MANAGED_TAG_KEY`] = [`MANAGED_TAG_VALUE`].
    pub managed_tag: bool,
    pub targets: BTreeSet<Target>,
}

impl ScpPolicy {
    /// The tool's own: not AWS managed, named with `prefix` at the start, and tagged.
    pub fn is_managed(&self, prefix: &str) -> bool {
        !self.aws_managed && self.managed_tag && self.name.starts_with(prefix)
    }
}

/// The organization's SCPs, read when guardrails are on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveGuardrails {
    /// Whether the SERVICE_CONTROL_POLICY type is enabled on the root (ListRoots' PolicyTypes).
    pub scp_enabled: bool,
    /// Every SCP of the organization, sorted by name then id.
    pub policies: Vec<ScpPolicy>,
}
