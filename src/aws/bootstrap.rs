//! The calls only `bootstrap` makes: License Manager's organization settings (read and write),
//! Organizations trusted access, the SCP policy type and the delegated administrator, IAM's
//! service-linked roles. Every write is idempotent: "already enabled / registered / taken" is
//! success, so a re-run after a crash or a concurrent run does no harm.

use aws_sdk_organizations::types::PolicyType;

use super::retry::request;
use super::{AwsError, Clients, Observer, RetryPolicy};
use crate::model::{AccountId, RootId};

/// What License Manager's `GetServiceSettings` says about the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganizationSettings {
    /// `OrganizationConfiguration.EnableIntegration` ("Link AWS Organizations accounts").
    pub integration: bool,
    /// `EnableCrossAccountsDiscovery`.
    pub cross_account_discovery: bool,
}

/// The prerequisite calls of `bootstrap` (the reads it shares with preflight are in
/// [`super::OrganizationsApi`]).
pub trait PrerequisitesApi: Send + Sync {
    /// GetServiceSettings.
    fn organization_settings(
        &self,
    ) -> impl Future<Output = Result<OrganizationSettings, AwsError>> + Send;
    /// EnableAWSServiceAccess for one service principal.
    fn enable_service_access(
        &self,
        principal: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// CreateServiceLinkedRole for one service; a role that exists is success.
    fn create_service_linked_role(
        &self,
        service: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// UpdateServiceSettings with `OrganizationConfiguration.EnableIntegration` and
    /// `EnableCrossAccountsDiscovery`.
    fn update_organization_settings(
        &self,
        settings: OrganizationSettings,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// EnablePolicyType SERVICE_CONTROL_POLICY on the root; already enabled is success.
    fn enable_scp_policy_type(
        &self,
        root: &RootId,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// RegisterDelegatedAdministrator for `license-manager.amazonaws.com`; already registered is
    /// success.
    fn register_delegated_administrator(
        &self,
        account: &AccountId,
        service_principal: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// [`PrerequisitesApi`] over the SDK clients, through the one retry layer.
#[derive(Clone)]
pub struct SdkPrerequisites {
    lm: aws_sdk_licensemanager::Client,
    orgs: aws_sdk_organizations::Client,
    iam: aws_sdk_iam::Client,
    retry: RetryPolicy,
    observer: Observer,
}

impl Clients {
    /// The clients of `bootstrap`'s prerequisite calls, with the same configuration.
    pub fn prerequisites(&self) -> SdkPrerequisites {
        SdkPrerequisites {
            lm: aws_sdk_licensemanager::Client::new(&self.sdk),
            orgs: aws_sdk_organizations::Client::new(&self.sdk),
            iam: aws_sdk_iam::Client::new(&self.sdk),
            retry: self.retry,
            observer: self.observer.clone(),
        }
    }
}

impl SdkPrerequisites {}

/// `Ok` when the call failed only because its change was already made.
fn done_if(result: Result<(), AwsError>, codes: &[&str]) -> Result<(), AwsError> {
    match result {
        Err(e) if codes.contains(&e.code.as_str()) => Ok(()),
        other => other,
    }
}

impl PrerequisitesApi for SdkPrerequisites {
    async fn organization_settings(&self) -> Result<OrganizationSettings, AwsError> {
        const OP: &str = "GetServiceSettings";
        let out = request(&self.retry, &self.observer, OP, None, || {
            self.lm.get_service_settings().send()
        })
        .await?;
        Ok(OrganizationSettings {
            integration: out
                .organization_configuration()
                .is_some_and(|c| c.enable_integration()),
            cross_account_discovery: out.enable_cross_accounts_discovery().unwrap_or(false),
        })
    }

    async fn enable_service_access(&self, principal: &str) -> Result<(), AwsError> {
        const OP: &str = "EnableAWSServiceAccess";
        request(&self.retry, &self.observer, OP, None, || {
            self.orgs
                .enable_aws_service_access()
                .service_principal(principal)
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| e.on(format_args!("service principal {principal}")))
    }

    async fn create_service_linked_role(&self, service: &str) -> Result<(), AwsError> {
        const OP: &str = "CreateServiceLinkedRole";
        let result = request(&self.retry, &self.observer, OP, None, || {
            self.iam
                .create_service_linked_role()
                .aws_service_name(service)
                .send()
        })
        .await
        .map(|_| ());
        match result {
            // IAM: "Service role name … has been taken in this account": it exists.
            Err(e) if e.code == "InvalidInput" && e.message.contains("has been taken") => Ok(()),
            other => other.map_err(|e| e.on(format_args!("service {service}"))),
        }
    }

    async fn update_organization_settings(
        &self,
        settings: OrganizationSettings,
    ) -> Result<(), AwsError> {
        const OP: &str = "UpdateServiceSettings";
        let config = aws_sdk_licensemanager::types::OrganizationConfiguration::builder()
            .enable_integration(settings.integration)
            .build();
        request(&self.retry, &self.observer, OP, None, || {
            self.lm
                .update_service_settings()
                .organization_configuration(config.clone())
                .enable_cross_accounts_discovery(settings.cross_account_discovery)
                .send()
        })
        .await
        .map(|_| ())
    }

    async fn enable_scp_policy_type(&self, root: &RootId) -> Result<(), AwsError> {
        const OP: &str = "EnablePolicyType";
        let result = request(&self.retry, &self.observer, OP, None, || {
            self.orgs
                .enable_policy_type()
                .root_id(root.as_str())
                .policy_type(PolicyType::ServiceControlPolicy)
                .send()
        })
        .await
        .map(|_| ());
        done_if(result, &["PolicyTypeAlreadyEnabledException"])
            .map_err(|e| e.on(format_args!("root {root}")))
    }

    async fn register_delegated_administrator(
        &self,
        account: &AccountId,
        service_principal: &str,
    ) -> Result<(), AwsError> {
        const OP: &str = "RegisterDelegatedAdministrator";
        let result = request(&self.retry, &self.observer, OP, None, || {
            self.orgs
                .register_delegated_administrator()
                .account_id(account.as_str())
                .service_principal(service_principal)
                .send()
        })
        .await
        .map(|_| ());
        done_if(result, &["AccountAlreadyRegisteredException"])
            .map_err(|e| e.on(format_args!("account {account}")))
    }
}
