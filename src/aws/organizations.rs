//! AWS Organizations through `aws-sdk-organizations`. Pages hold at most 20 items and may be
//! empty while more remain, so every list loops until `NextToken` is absent.

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::OrganizationFeatureSet;

use super::retry::with_retry;
use super::{
    AccountEntry, AwsError, Observer, OrgInfo, OrganizationsApi, RetryPolicy, parent_id_str,
};
use crate::model::{AccountId, AccountState, FeatureSet, OuId, ParentId, RootId};

const PAGE_SIZE: i32 = 20;

#[derive(Clone)]
pub struct SdkOrganizations {
    client: Client,
    retry: RetryPolicy,
    observer: Observer,
}

impl SdkOrganizations {
    pub fn new(client: Client, retry: RetryPolicy, observer: Observer) -> Self {
        SdkOrganizations {
            client,
            retry,
            observer,
        }
    }

    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        with_retry(&self.retry, call, |e| self.observer.on_retry(e)).await
    }
}

fn next(token: Option<String>) -> Option<String> {
    token.filter(|t| !t.is_empty())
}

impl OrganizationsApi for SdkOrganizations {
    async fn describe_organization(&self) -> Result<OrgInfo, AwsError> {
        const OP: &str = "DescribeOrganization";
        let out = self
            .retrying(|| async {
                self.client
                    .describe_organization()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e))
            })
            .await?;
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
        const OP: &str = "ListRoots";
        let mut roots = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .retrying(|| {
                    let token = token.clone();
                    async move {
                        self.client
                            .list_roots()
                            .max_results(PAGE_SIZE)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk(OP, e))
                    }
                })
                .await?;
            for r in out.roots() {
                let id = r
                    .id()
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| AwsError::missing(OP, "Root.Id"))?;
                roots.push(id);
            }
            match next(out.next_token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(roots)
    }

    async fn list_ous_for_parent(
        &self,
        parent: &ParentId,
    ) -> Result<Vec<(OuId, String)>, AwsError> {
        const OP: &str = "ListOrganizationalUnitsForParent";
        let parent_id = parent_id_str(parent);
        let mut ous = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .retrying(|| {
                    let token = token.clone();
                    async move {
                        self.client
                            .list_organizational_units_for_parent()
                            .parent_id(parent_id)
                            .max_results(PAGE_SIZE)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk(OP, e).on(parent_id))
                    }
                })
                .await?;
            for ou in out.organizational_units() {
                let id = ou
                    .id()
                    .and_then(|i| i.parse().ok())
                    .ok_or_else(|| AwsError::missing(OP, "OrganizationalUnit.Id").on(parent_id))?;
                ous.push((id, ou.name().unwrap_or_default().to_owned()));
            }
            match next(out.next_token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(ous)
    }

    async fn list_accounts_for_parent(
        &self,
        parent: &ParentId,
    ) -> Result<Vec<AccountEntry>, AwsError> {
        const OP: &str = "ListAccountsForParent";
        let parent_id = parent_id_str(parent);
        let mut accounts = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .retrying(|| {
                    let token = token.clone();
                    async move {
                        self.client
                            .list_accounts_for_parent()
                            .parent_id(parent_id)
                            .max_results(PAGE_SIZE)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk(OP, e).on(parent_id))
                    }
                })
                .await?;
            for a in out.accounts() {
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
                accounts.push(AccountEntry {
                    id,
                    name: a.name().unwrap_or_default().to_owned(),
                    state,
                });
            }
            match next(out.next_token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(accounts)
    }

    async fn list_aws_service_access(&self) -> Result<Vec<String>, AwsError> {
        const OP: &str = "ListAWSServiceAccessForOrganization";
        let mut principals = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .retrying(|| {
                    let token = token.clone();
                    async move {
                        self.client
                            .list_aws_service_access_for_organization()
                            .max_results(PAGE_SIZE)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk(OP, e))
                    }
                })
                .await?;
            principals.extend(
                out.enabled_service_principals()
                    .iter()
                    .filter_map(|p| p.service_principal().map(str::to_owned)),
            );
            match next(out.next_token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        principals.sort();
        Ok(principals)
    }

    async fn list_delegated_administrators(
        &self,
        service_principal: &str,
    ) -> Result<Vec<AccountId>, AwsError> {
        const OP: &str = "ListDelegatedAdministrators";
        let mut admins = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .retrying(|| {
                    let token = token.clone();
                    async move {
                        self.client
                            .list_delegated_administrators()
                            .service_principal(service_principal)
                            .max_results(PAGE_SIZE)
                            .set_next_token(token)
                            .send()
                            .await
                            .map_err(|e| AwsError::from_sdk(OP, e))
                    }
                })
                .await?;
            admins.extend(
                out.delegated_administrators()
                    .iter()
                    .filter_map(|a| a.id().and_then(|i| i.parse().ok())),
            );
            match next(out.next_token) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        admins.sort();
        Ok(admins)
    }
}
