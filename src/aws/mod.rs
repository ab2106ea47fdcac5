//! SDK adapters behind small traits; pagination; one error type. The only module that names
//! `aws_sdk_*`. Every adapter call retries throttling and transient failures (see `retry`);
//! list calls follow every page.

mod bedrock;
pub mod bootstrap;
mod clients;
mod error;
mod license_manager;
mod limiter;
mod org_policies;
mod organizations;
pub mod retry;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

pub use bedrock::{BedrockApi, SdkBedrock};
pub use clients::{Clients, ConnectOptions, connect};
pub use error::{AwsError, ErrorKind, classify};
pub use license_manager::SdkLicenseManager;
pub use limiter::AdaptiveLimits;
pub use org_policies::{
    NewPolicy, PolicyChange, PolicyDetail, PolicySummary, RootPolicyTypes, SCP_TYPE,
};
pub use organizations::{MAX_IN_FLIGHT as ORGANIZATIONS_MAX_IN_FLIGHT, SdkOrganizations};
pub use retry::RetryPolicy;

use crate::model::{
    AccountId, AccountState, FeatureSet, Grant, GrantArn, GrantStatus, License, LicenseArn, OrgId,
    OuId, ParentId, PolicyId, Principal, RootId, Share, Target,
};

/// Sees every retried error: for metrics and for adaptive concurrency in `apply`.
pub trait RetryObserver: Send + Sync {
    fn on_retry(&self, error: &AwsError);
}

/// An observer that ignores everything.
pub struct NoObserver;

impl RetryObserver for NoObserver {
    fn on_retry(&self, _: &AwsError) {}
}

pub type Observer = Arc<dyn RetryObserver>;

/// The answer of CreateGrant, CreateGrantVersion, DeleteGrant, AcceptGrant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRef {
    pub arn: GrantArn,
    pub status: GrantStatus,
    pub version: String,
}

/// A CreateGrant request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub client_token: String,
    pub name: String,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    pub home_region: String,
    pub operations: BTreeSet<String>,
}

/// A CreateGrantVersion request: only the members that are `Some` change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GrantChange {
    pub client_token: String,
    pub source_version: Option<String>,
    pub name: Option<String>,
    pub operations: Option<BTreeSet<String>>,
    pub status: Option<GrantStatus>,
    pub status_reason: Option<String>,
    /// `Options.ActivationOverrideBehavior` API value, when activating.
    pub activation_override: Option<String>,
}

/// What `GetServiceSettings` says about the organization integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    pub organization_integration: bool,
}

/// The License Manager calls the tool makes.
pub trait LicenseManagerApi: Send + Sync {
    fn list_received_licenses(&self)
    -> impl Future<Output = Result<Vec<License>, AwsError>> + Send;
    /// Every grant distributed from one license, in any status (all pages).
    fn list_distributed_grants(
        &self,
        license: &LicenseArn,
    ) -> impl Future<Output = Result<Vec<Grant>, AwsError>> + Send;
    fn get_grant(&self, grant: &GrantArn) -> impl Future<Output = Result<Grant, AwsError>> + Send;
    /// The current state of grants the caller distributed, read in batches (the SDK adapter uses
    /// `ListDistributedGrants` with `GrantArns`, 100 per call). A grant the answer leaves out
    /// (unknown, or not distributed by the caller) is missing from the result. The provided
    /// method reads each grant with `GetGrant`.
    fn get_grants(
        &self,
        grants: &[GrantArn],
    ) -> impl Future<Output = Result<Vec<Grant>, AwsError>> + Send {
        async move {
            let mut out = Vec::with_capacity(grants.len());
            for arn in grants {
                match self.get_grant(arn).await {
                    Ok(g) => out.push(g),
                    Err(e) if e.kind == ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        }
    }
    fn create_grant(
        &self,
        req: &NewGrant,
    ) -> impl Future<Output = Result<GrantRef, AwsError>> + Send;
    fn create_grant_version(
        &self,
        grant: &GrantArn,
        change: &GrantChange,
    ) -> impl Future<Output = Result<GrantRef, AwsError>> + Send;
    fn delete_grant(
        &self,
        grant: &GrantArn,
        version: &str,
    ) -> impl Future<Output = Result<GrantRef, AwsError>> + Send;
    fn accept_grant(
        &self,
        grant: &GrantArn,
    ) -> impl Future<Output = Result<GrantRef, AwsError>> + Send;
    /// Grants the calling account received (all pages), optionally for one license.
    fn list_received_grants(
        &self,
        license: Option<&LicenseArn>,
    ) -> impl Future<Output = Result<Vec<Grant>, AwsError>> + Send;
    fn get_service_settings(
        &self,
    ) -> impl Future<Output = Result<ServiceSettings, AwsError>> + Send;
    /// Each account's share of the organization and OU grants of one license, in any status
    /// (`ListReceivedGrantsForOrganization`, all pages): only with `parent`, the shares of that
    /// grant (filter `ParentArn`). Items that are not an account's share of a grant (an
    /// account grant, whose parent is the license or a Marketplace grant) are left out.
    fn list_received_grants_for_organization(
        &self,
        license: &LicenseArn,
        parent: Option<&GrantArn>,
    ) -> impl Future<Output = Result<Vec<Share>, AwsError>> + Send;
}

/// `DescribeOrganization`, reduced to what the tool uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgInfo {
    pub id: OrgId,
    pub management_account: AccountId,
    pub feature_set: FeatureSet,
}

/// One account of `ListAccountsForParent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEntry {
    pub id: AccountId,
    pub name: String,
    pub state: AccountState,
}

/// The Organizations calls the tool makes.
pub trait OrganizationsApi: Send + Sync {
    fn describe_organization(&self) -> impl Future<Output = Result<OrgInfo, AwsError>> + Send;
    fn list_roots(&self) -> impl Future<Output = Result<Vec<RootId>, AwsError>> + Send;
    /// Direct child OUs of a root or OU (all pages), as (id, name).
    fn list_ous_for_parent(
        &self,
        parent: &ParentId,
    ) -> impl Future<Output = Result<Vec<(OuId, String)>, AwsError>> + Send;
    /// Accounts directly under a root or OU (all pages).
    fn list_accounts_for_parent(
        &self,
        parent: &ParentId,
    ) -> impl Future<Output = Result<Vec<AccountEntry>, AwsError>> + Send;
    /// Service principals with trusted access (all pages).
    fn list_aws_service_access(&self)
    -> impl Future<Output = Result<Vec<String>, AwsError>> + Send;
    /// Delegated administrators for one service principal (all pages).
    fn list_delegated_administrators(
        &self,
        service_principal: &str,
    ) -> impl Future<Output = Result<Vec<AccountId>, AwsError>> + Send;
    /// The account the calls are made as: STS `GetCallerIdentity` (it sits here because the
    /// organization calls are the ones that depend on who the caller is).
    fn caller_account(&self) -> impl Future<Output = Result<AccountId, AwsError>> + Send;

    // Service control policies (guardrails). The provided bodies fail with `NotImplemented`
    // for implementors that make no policy call; `SdkOrganizations` implements them all.

    /// Every SCP of the organization (ListPolicies, Filter SERVICE_CONTROL_POLICY, all pages),
    /// sorted by id.
    fn list_policies(&self) -> impl Future<Output = Result<Vec<PolicySummary>, AwsError>> + Send {
        async { Err(not_implemented("ListPolicies")) }
    }
    /// DescribePolicy: the summary and the document.
    fn describe_policy(
        &self,
        _policy: &PolicyId,
    ) -> impl Future<Output = Result<PolicyDetail, AwsError>> + Send {
        async { Err(not_implemented("DescribePolicy")) }
    }
    /// The roots, OUs and accounts a policy is attached to (ListTargetsForPolicy, all pages).
    fn list_targets_for_policy(
        &self,
        _policy: &PolicyId,
    ) -> impl Future<Output = Result<BTreeSet<Target>, AwsError>> + Send {
        async { Err(not_implemented("ListTargetsForPolicy")) }
    }
    /// The tags of a policy, root, OU or account (ListTagsForResource, all pages).
    fn list_tags_for_resource(
        &self,
        _resource: &str,
    ) -> impl Future<Output = Result<BTreeMap<String, String>, AwsError>> + Send {
        async { Err(not_implemented("ListTagsForResource")) }
    }
    /// ListRoots with each root's `PolicyTypes`.
    fn root_policy_types(
        &self,
    ) -> impl Future<Output = Result<Vec<RootPolicyTypes>, AwsError>> + Send {
        async { Err(not_implemented("ListRoots")) }
    }
    /// CreatePolicy of type SERVICE_CONTROL_POLICY, with `Tags`.
    fn create_policy(
        &self,
        _req: &NewPolicy,
    ) -> impl Future<Output = Result<PolicySummary, AwsError>> + Send {
        async { Err(not_implemented("CreatePolicy")) }
    }
    /// UpdatePolicy.
    fn update_policy(
        &self,
        _policy: &PolicyId,
        _change: &PolicyChange,
    ) -> impl Future<Output = Result<PolicySummary, AwsError>> + Send {
        async { Err(not_implemented("UpdatePolicy")) }
    }
    /// AttachPolicy.
    fn attach_policy(
        &self,
        _policy: &PolicyId,
        _target: &Target,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        async { Err(not_implemented("AttachPolicy")) }
    }
    /// DetachPolicy.
    fn detach_policy(
        &self,
        _policy: &PolicyId,
        _target: &Target,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        async { Err(not_implemented("DetachPolicy")) }
    }
    /// DeletePolicy.
    fn delete_policy(
        &self,
        _policy: &PolicyId,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        async { Err(not_implemented("DeletePolicy")) }
    }
    /// Whether the IAM role `name` exists in the caller's account (IAM `GetRole`): how the
    /// service-linked roles that License Manager and AWS Marketplace need are checked.
    fn role_exists(&self, name: &str) -> impl Future<Output = Result<bool, AwsError>> + Send {
        let name = name.to_owned();
        async move {
            Err(AwsError::new(
                "GetRole",
                ErrorKind::Other,
                "NotConfigured",
                format!("no IAM client to look up role {name}"),
            ))
        }
    }
}

fn not_implemented(operation: &'static str) -> AwsError {
    AwsError::new(
        operation,
        ErrorKind::Other,
        "NotImplemented",
        "this Organizations client makes no policy call",
    )
}

/// Follows `NextToken` until it is absent or empty, retrying each page on its own (a throttle
/// on page 7 does not restart from page 1). `page` gets the token and returns the page's items
/// and the next token.
pub(crate) async fn all_pages<T, F, Fut>(
    retry: &RetryPolicy,
    observer: &Observer,
    page: F,
) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    all_pages_paced(retry, observer, None, page).await
}

/// Adaptive pacing of one operation's calls: at most `max` in flight, fewer while AWS throttles
/// (see [`AdaptiveLimits`]).
#[derive(Clone, Copy)]
pub(crate) struct Pace<'a> {
    pub limits: &'a AdaptiveLimits,
    pub op: &'static str,
    pub max: usize,
}

/// [`all_pages`], each page (with its retries) holding a place among `pace`'s calls in flight;
/// every retried throttle also reaches `pace`'s limits.
pub(crate) async fn all_pages_paced<T, F, Fut>(
    retry: &RetryPolicy,
    observer: &Observer,
    pace: Option<Pace<'_>>,
    mut page: F,
) -> Result<Vec<T>, AwsError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
{
    // Pages are kept apart and joined once at the end: growing one vector page by page would
    // copy a license's thousands of grants over and over.
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let slot = match pace {
            Some(p) => Some(p.limits.acquire(p.op, p.max).await),
            None => None,
        };
        let result = retry::with_retry(
            retry,
            || page(token.clone()),
            |e| {
                observer.on_retry(e);
                if let Some(p) = pace {
                    p.limits.on_retry(e);
                }
            },
        )
        .await;
        if let Some(slot) = &slot {
            slot.record(&result);
        }
        drop(slot);
        let (batch, next) = result?;
        pages.push(batch);
        match next.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let mut items = Vec::with_capacity(pages.iter().map(Vec::len).sum());
    for batch in pages {
        items.extend(batch);
    }
    Ok(items)
}

pub(crate) fn parent_id_str(parent: &ParentId) -> &str {
    match parent {
        ParentId::Root(r) => r.as_str(),
        ParentId::Ou(o) => o.as_str(),
    }
}
