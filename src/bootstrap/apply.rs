//! Making the missing prerequisites, one real operation each, in the report's order. Each call
//! is idempotent (`aws::bootstrap` treats "already enabled / registered / taken" as done); the
//! first failure stops the run, since later changes may depend on it (the organization
//! integration needs License Manager's trusted access).

use super::Change;
use crate::aws::bootstrap::{OrganizationSettings, PrerequisitesApi};
use crate::aws::{AwsError, BedrockApi};
use crate::preflight::LICENSE_MANAGER_PRINCIPAL;

/// One change and how it went; `None`: not attempted (an earlier change failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub change: Change,
    pub result: Option<Result<(), AwsError>>,
}

/// Makes `changes` in order, stopping at the first failure.
pub async fn apply<P: PrerequisitesApi, B: BedrockApi>(
    api: &P,
    bedrock: &B,
    changes: &[Change],
) -> Vec<Applied> {
    let mut out = Vec::with_capacity(changes.len());
    let mut failed = false;
    for change in changes {
        let result = if failed {
            None
        } else {
            let r = make(api, bedrock, change).await;
            failed = r.is_err();
            Some(r)
        };
        out.push(Applied {
            change: change.clone(),
            result,
        });
    }
    out
}

async fn make<P: PrerequisitesApi, B: BedrockApi>(
    api: &P,
    bedrock: &B,
    change: &Change,
) -> Result<(), AwsError> {
    // The form's content is the user's: it is not logged.
    tracing::info!(operation = change.operation(), "bootstrap change");
    match change {
        Change::EnableServiceAccess(principal) => api.enable_service_access(principal).await,
        Change::CreateServiceLinkedRole(service) => api.create_service_linked_role(service).await,
        Change::LinkOrganization => {
            api.update_organization_settings(OrganizationSettings {
                integration: true,
                cross_account_discovery: true,
            })
            .await
        }
        Change::EnableScpPolicyType(root) => api.enable_scp_policy_type(root).await,
        Change::RegisterDelegatedAdministrator(account) => {
            api.register_delegated_administrator(account, LICENSE_MANAGER_PRINCIPAL)
                .await
        }
        Change::SubmitUseCase(form) => bedrock.put_use_case(form.as_bytes()).await,
    }
}
