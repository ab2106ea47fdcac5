//! Acting in recipient accounts: `accept` actions (and grants that settle in PENDING_ACCEPT)
//! are accepted and activated by the recipient account itself, through a role assumed there
//! (`settings.recipient_role`).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;

use crate::aws::{AwsError, Clients, ErrorKind, LicenseManagerApi, SdkLicenseManager};
use crate::model::AccountId;

/// Makes License Manager clients that act as a member account.
///
/// `license_manager_for` is called from the executor's loop, one account at a time; it should
/// not do network I/O itself (credentials are best fetched on the client's first call, as
/// aws-config's `AssumeRoleProvider` does). Each account is asked for at most once per run.
pub trait Recipients: Send + Sync {
    type Api: LicenseManagerApi + 'static;

    fn license_manager_for(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Self::Api, AwsError>> + Send;
}

/// No recipient role: grants waiting for acceptance are reported as pending. Use as
/// `None::<&NoRecipients>`.
pub struct NoRecipients;

impl Recipients for NoRecipients {
    type Api = SdkLicenseManager;

    async fn license_manager_for(
        &self,
        account: &AccountId,
    ) -> Result<SdkLicenseManager, AwsError> {
        Err(AwsError::new(
            "AssumeRole",
            ErrorKind::AccessDenied,
            "NoRecipientRole",
            format!("no recipient role is set to act in account {account}"),
        ))
    }
}

/// Assumes `role_name` in each recipient account (`arn:aws:iam::ACCOUNT:role/ROLE`, session
/// name `bedrock-entitlements`), through the same configuration, retry layer and observer as
/// the grantor's clients.
pub struct RoleRecipients {
    clients: Clients,
    role_name: String,
    made: Mutex<BTreeMap<AccountId, SdkLicenseManager>>,
}

impl RoleRecipients {
    pub fn new(clients: Clients, role_name: impl Into<String>) -> Self {
        RoleRecipients {
            clients,
            role_name: role_name.into(),
            made: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Recipients for RoleRecipients {
    type Api = SdkLicenseManager;

    async fn license_manager_for(
        &self,
        account: &AccountId,
    ) -> Result<SdkLicenseManager, AwsError> {
        if let Some(c) = self
            .made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(account)
        {
            return Ok(c.clone());
        }
        let client = self
            .clients
            .license_manager_as(account, &self.role_name)
            .await;
        self.made
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(account.clone(), client.clone());
        Ok(client)
    }
}
