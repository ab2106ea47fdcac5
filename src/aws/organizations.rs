//! AWS Organizations through `aws-sdk-organizations`. Pages hold at most 20 items and may be
//! empty while more remain, so every list follows `NextToken` until it is absent.

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::{OrganizationFeatureSet, Root};

use super::retry::{request, with_retry};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use super::{
    AccountEntry, AdaptiveLimits, AwsError, ErrorKind, NewPolicy, Observer, OrgInfo,
    OrganizationsApi, Pace, PolicyChange, PolicyDetail, PolicySummary, RetryObserver, RetryPolicy,
    RootPolicyTypes, all_pages_paced, parent_id_str,
};
use crate::model::{AccountId, AccountState, FeatureSet, OuId, ParentId, PolicyId, RootId, Target};

const PAGE_SIZE: i32 = 20;

/// The most calls of one Organizations operation in flight. Organizations documents no rate
/// limit but throttles (`TooManyRequestsException`); each operation's calls adapt between 1 and
/// this many ([`AdaptiveLimits`]: halved under throttling, one added back per round of clean
/// answers, spaced at a limit of one), so a walk of hundreds of OUs keeps 32 listings in flight
/// when AWS keeps up and settles near the rate AWS allows when it does not.
pub const MAX_IN_FLIGHT: usize = 32;
/// Where each operation's limit starts; it doubles per clean round up to [`MAX_IN_FLIGHT`].
const SLOW_START: usize = 4;

#[derive(Clone)]
pub struct SdkOrganizations {
    pub(super) client: Client,
    /// For `GetCallerIdentity` only.
    sts: aws_sdk_sts::Client,
    /// For `GetRole` only (the service-linked roles).
    iam: Option<aws_sdk_iam::Client>,
    pub(super) retry: RetryPolicy,
    pub(super) observer: Observer,
    /// Per-operation limits of calls in flight, shared by the clones of this client.
    limits: Arc<AdaptiveLimits>,
}

impl SdkOrganizations {
    pub fn new(
        client: Client,
        sts: aws_sdk_sts::Client,
        retry: RetryPolicy,
        observer: Observer,
    ) -> Self {
        SdkOrganizations {
            client,
            sts,
            iam: None,
            retry,
            observer,
            limits: Arc::new(AdaptiveLimits::with_slow_start(SLOW_START)),
        }
    }

    /// Adds the IAM client `role_exists` uses.
    pub fn with_iam(mut self, iam: aws_sdk_iam::Client) -> Self {
        self.iam = Some(iam);
        self
    }

    /// The current limit of `op`'s calls in flight; `None` before its first call.
    pub fn limit(&self, op: &str) -> Option<usize> {
        self.limits.limit(op)
    }

    /// Every page of `op`, paced by this client's adaptive limits.
    async fn pages<T, F, Fut>(&self, op: &'static str, page: F) -> Result<Vec<T>, AwsError>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsError>>,
    {
        let pace = Pace {
            limits: &self.limits,
            op,
            max: MAX_IN_FLIGHT,
        };
        all_pages_paced(&self.retry, &self.observer, Some(pace), page).await
    }

    /// Every root ListRoots lists, as the SDK reads it: `list_roots` takes their ids,
    /// `org_policies` their policy types too.
    pub(super) async fn sdk_roots(&self) -> Result<Vec<Root>, AwsError> {
        const OP: &str = "ListRoots";
        self.pages(OP, |token| async move {
            let out = self
                .client
                .list_roots()
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            Ok((out.roots.unwrap_or_default(), out.next_token))
        })
        .await
    }
}

/// A ListRoots root's id, checked.
pub(super) fn root_id(root: &Root) -> Result<RootId, AwsError> {
    root.id()
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| AwsError::missing("ListRoots", "Root.Id"))
}

impl OrganizationsApi for SdkOrganizations {
    // The policy calls live in `org_policies`.
    async fn list_policies(&self) -> Result<Vec<PolicySummary>, AwsError> {
        self.scp_list_policies().await
    }
    async fn describe_policy(&self, policy: &PolicyId) -> Result<PolicyDetail, AwsError> {
        self.scp_describe_policy(policy).await
    }
    async fn list_targets_for_policy(
        &self,
        policy: &PolicyId,
    ) -> Result<BTreeSet<Target>, AwsError> {
        self.scp_list_targets(policy).await
    }
    async fn list_tags_for_resource(
        &self,
        resource: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        self.scp_list_tags(resource).await
    }
    async fn root_policy_types(&self) -> Result<Vec<RootPolicyTypes>, AwsError> {
        self.scp_root_policy_types().await
    }
    async fn create_policy(&self, req: &NewPolicy) -> Result<PolicySummary, AwsError> {
        self.scp_create_policy(req).await
    }
    async fn update_policy(
        &self,
        policy: &PolicyId,
        change: &PolicyChange,
    ) -> Result<PolicySummary, AwsError> {
        self.scp_update_policy(policy, change).await
    }
    async fn attach_policy(&self, policy: &PolicyId, target: &Target) -> Result<(), AwsError> {
        self.scp_attach(policy, target).await
    }
    async fn detach_policy(&self, policy: &PolicyId, target: &Target) -> Result<(), AwsError> {
        self.scp_detach(policy, target).await
    }
    async fn delete_policy(&self, policy: &PolicyId) -> Result<(), AwsError> {
        self.scp_delete(policy).await
    }

    async fn caller_account(&self) -> Result<AccountId, AwsError> {
        const OP: &str = "GetCallerIdentity";
        let out = request(&self.retry, &self.observer, OP, None, || {
            self.sts.get_caller_identity().send()
        })
        .await?;
        out.account()
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| AwsError::missing(OP, "Account"))
    }

    async fn role_exists(&self, name: &str) -> Result<bool, AwsError> {
        const OP: &str = "GetRole";
        let Some(iam) = &self.iam else {
            return Err(AwsError::new(
                OP,
                ErrorKind::Other,
                "NotConfigured",
                format!("no IAM client to look up role {name}"),
            ));
        };
        let found = request(&self.retry, &self.observer, OP, None, || {
            iam.get_role().role_name(name).send()
        })
        .await;
        match found {
            Ok(_) => Ok(true),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.on(format_args!("role {name}"))),
        }
    }

    async fn describe_organization(&self) -> Result<OrgInfo, AwsError> {
        const OP: &str = "DescribeOrganization";
        let slot = self.limits.acquire(OP, MAX_IN_FLIGHT).await;
        let out = with_retry(
            &self.retry,
            || async {
                self.client
                    .describe_organization()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e))
            },
            |e| {
                self.observer.on_retry(e);
                self.limits.on_retry(e);
            },
        )
        .await;
        slot.record(&out);
        drop(slot);
        let out = out?;
        let org = out
            .organization()
            .ok_or_else(|| AwsError::missing(OP, "Organization"))?;
        let id = org
            .id()
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| AwsError::missing(OP, "Organization.Id"))?;
        let management_account = org
            .master_account_id()
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| AwsError::missing(OP, "Organization.MasterAccountId"))?;
        let feature_set = match org.feature_set() {
            Some(OrganizationFeatureSet::ConsolidatedBilling) => FeatureSet::ConsolidatedBilling,
            _ => FeatureSet::All,
        };
        Ok(OrgInfo {
            id,
            management_account,
            feature_set,
        })
    }

    async fn list_roots(&self) -> Result<Vec<RootId>, AwsError> {
        self.sdk_roots().await?.iter().map(root_id).collect()
    }

    async fn list_ous_for_parent(
        &self,
        parent: &ParentId,
    ) -> Result<Vec<(OuId, String)>, AwsError> {
        const OP: &str = "ListOrganizationalUnitsForParent";
        let parent_id = parent_id_str(parent);
        self.pages(OP, |token| async move {
            let out = self
                .client
                .list_organizational_units_for_parent()
                .parent_id(parent_id)
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e).on(parent_id))?;
            let ous = out
                .organizational_units()
                .iter()
                .map(|ou| {
                    let id = ou.id().and_then(|i| i.parse().ok()).ok_or_else(|| {
                        AwsError::missing(OP, "OrganizationalUnit.Id").on(parent_id)
                    })?;
                    Ok((id, ou.name().unwrap_or_default().to_owned()))
                })
                .collect::<Result<Vec<_>, AwsError>>()?;
            Ok((ous, out.next_token))
        })
        .await
    }

    async fn list_accounts_for_parent(
        &self,
        parent: &ParentId,
    ) -> Result<Vec<AccountEntry>, AwsError> {
        const OP: &str = "ListAccountsForParent";
        let parent_id = parent_id_str(parent);
        self.pages(OP, |token| async move {
            let out = self
                .client
                .list_accounts_for_parent()
                .parent_id(parent_id)
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e).on(parent_id))?;
            let accounts = out
                .accounts()
                .iter()
                .map(|a| {
                    let id: AccountId = a
                        .id()
                        .and_then(|i| i.parse().ok())
                        .ok_or_else(|| AwsError::missing(OP, "Account.Id").on(parent_id))?;
                    // `State` replaces the retired `Status`; fall back to `Status` for old answers.
                    let state = a
                        .state()
                        .map(|s| AccountState::parse(s.as_str()))
                        .or_else(|| a.status().map(|s| AccountState::parse(s.as_str())))
                        .unwrap_or(AccountState::Active);
                    Ok(AccountEntry {
                        id,
                        name: a.name().unwrap_or_default().to_owned(),
                        state,
                    })
                })
                .collect::<Result<Vec<_>, AwsError>>()?;
            Ok((accounts, out.next_token))
        })
        .await
    }

    async fn list_aws_service_access(&self) -> Result<Vec<String>, AwsError> {
        const OP: &str = "ListAWSServiceAccessForOrganization";
        let mut principals = self
            .pages(OP, |token| async move {
                let out = self
                    .client
                    .list_aws_service_access_for_organization()
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e))?;
                let page = out
                    .enabled_service_principals()
                    .iter()
                    .filter_map(|p| p.service_principal().map(str::to_owned))
                    .collect();
                Ok((page, out.next_token))
            })
            .await?;
        principals.sort();
        Ok(principals)
    }

    async fn list_delegated_administrators(
        &self,
        service_principal: &str,
    ) -> Result<Vec<AccountId>, AwsError> {
        const OP: &str = "ListDelegatedAdministrators";
        let mut admins = self
            .pages(OP, |token| async move {
                let out = self
                    .client
                    .list_delegated_administrators()
                    .service_principal(service_principal)
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e))?;
                let page = out
                    .delegated_administrators()
                    .iter()
                    .filter_map(|a| a.id().and_then(|i| i.parse().ok()))
                    .collect();
                Ok((page, out.next_token))
            })
            .await?;
        admins.sort();
        Ok(admins)
    }
}
