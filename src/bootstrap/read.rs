//! The live read of the prerequisites: one call per fact, all at once.

use super::{Facts, Wanted};
use crate::aws::bootstrap::PrerequisitesApi;
use crate::aws::{AwsError, BedrockApi, OrganizationsApi};
use crate::preflight::{LICENSE_MANAGER_PRINCIPAL, SERVICE_LINKED_ROLES};

/// Reads every fact [`super::check`] needs. DescribeOrganization and the caller are needed to
/// say anything and fail the read; every other failure is kept in its fact.
pub async fn read<O, P, B>(
    orgs: &O,
    prereqs: &P,
    bedrock: &B,
    wanted: &Wanted,
) -> Result<Facts, AwsError>
where
    O: OrganizationsApi,
    P: PrerequisitesApi,
    B: BedrockApi,
{
    let (org, caller) = tokio::join!(orgs.describe_organization(), orgs.caller_account());
    let (org, caller) = (org?, caller?);
    let roles = async {
        let mut out = Vec::with_capacity(SERVICE_LINKED_ROLES.len());
        for role in SERVICE_LINKED_ROLES {
            out.push(orgs.role_exists(role.name).await);
        }
        out
    };
    let scp = async {
        if !wanted.guardrails {
            return None;
        }
        Some(orgs.root_policy_types().await.and_then(|roots| {
            roots
                .into_iter()
                .next()
                .map(|r| {
                    let on = r.scp_enabled();
                    (r.root, on)
                })
                .ok_or_else(|| AwsError::missing("ListRoots", "Roots"))
        }))
    };
    let admins = async {
        match &wanted.delegated_administrator {
            None => None,
            Some(_) => Some(
                orgs.list_delegated_administrators(LICENSE_MANAGER_PRINCIPAL)
                    .await,
            ),
        }
    };
    let use_case = async {
        match &wanted.use_case {
            None => None,
            Some(_) => Some(bedrock.get_use_case().await.map(|f| f.is_some())),
        }
    };
    let (service_access, roles, settings, scp, delegated_admins, use_case) = tokio::join!(
        orgs.list_aws_service_access(),
        roles,
        prereqs.organization_settings(),
        scp,
        admins,
        use_case
    );
    Ok(Facts {
        caller,
        management_account: org.management_account,
        feature_set: org.feature_set,
        service_access,
        roles,
        settings,
        scp,
        delegated_admins,
        use_case,
    })
}
