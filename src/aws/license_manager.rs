//! License Manager through `aws-sdk-licensemanager`. Its list operations have no SDK
//! paginators, so each list method loops on `NextToken` itself.

use aws_sdk_licensemanager::Client;
use aws_sdk_licensemanager::types::{
    ActivationOverrideBehavior, AllowedOperation, Filter, GrantStatus as SdkGrantStatus, Options,
};

use super::all_pages;
use super::retry::request;
use super::{
    AwsError, GrantChange, GrantRef, LicenseManagerApi, NewGrant, Observer, RetryPolicy,
    ServiceSettings,
};
use crate::model::{Grant, GrantArn, GrantStatus, License, LicenseArn, Principal, Share};

const PAGE_SIZE: i32 = 100;

#[derive(Clone)]
pub struct SdkLicenseManager {
    client: Client,
    retry: RetryPolicy,
    observer: Observer,
}

impl SdkLicenseManager {
    pub fn new(client: Client, retry: RetryPolicy, observer: Observer) -> Self {
        SdkLicenseManager {
            client,
            retry,
            observer,
        }
    }

    async fn list_grants_paged(
        &self,
        operation: &'static str,
        filters: Vec<Filter>,
    ) -> Result<Vec<Grant>, AwsError> {
        self.list_grants_paged_arns(operation, filters, None).await
    }

    async fn list_grants_paged_arns(
        &self,
        operation: &'static str,
        filters: Vec<Filter>,
        grant_arns: Option<Vec<String>>,
    ) -> Result<Vec<Grant>, AwsError> {
        all_pages(&self.retry, &self.observer, |token| {
            let filters = filters.clone();
            let grant_arns = grant_arns.clone();
            async move {
                let (items, next) = if operation == "ListDistributedGrants" {
                    let out = self
                        .client
                        .list_distributed_grants()
                        .set_grant_arns(grant_arns)
                        .set_filters(Some(filters))
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk(operation, e))?;
                    (out.grants, out.next_token)
                } else {
                    let out = self
                        .client
                        .list_received_grants()
                        .set_filters(Some(filters))
                        .max_results(PAGE_SIZE)
                        .set_next_token(token)
                        .send()
                        .await
                        .map_err(|e| AwsError::from_sdk(operation, e))?;
                    (out.grants, out.next_token)
                };
                let grants = items
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|g| skip_unreadable(grant_from_sdk(operation, g)))
                    .collect();
                Ok((grants, next))
            }
        })
        .await
    }
}

/// One item of a list that cannot be read (an ARN that does not parse) is left out with a
/// warning instead of failing the whole list: a stray item must not stop a plan or fail the
/// other grants of a batched status read.
fn skip_unreadable<T>(item: Result<T, AwsError>) -> Option<T> {
    match item {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(error = %e, "skipping an item of a list that cannot be read");
            None
        }
    }
}

/// An account's share of an organization or OU grant, from an item of
/// `ListReceivedGrantsForOrganization`; `None` for anything else (an account grant, whose
/// parent is the license or the grant it was received through, or an item that does not parse).
fn share_from_sdk(g: &aws_sdk_licensemanager::types::Grant) -> Option<Share> {
    let parent: GrantArn = g.parent_arn.parse().ok()?;
    let arn: GrantArn = match g.grant_arn.parse() {
        Ok(a) => a,
        Err(_) => {
            tracing::warn!(grant = %g.grant_arn, "skipping a share whose grant ARN cannot be read");
            return None;
        }
    };
    let license_arn: LicenseArn = g.license_arn.parse().ok()?;
    match g.grantee_principal_arn.parse::<Principal>() {
        Ok(Principal::Account(account)) => Some(Share {
            parent,
            arn,
            license_arn,
            account,
            status: GrantStatus::parse(g.grant_status.as_str()),
        }),
        _ => None,
    }
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

fn status_to_sdk(status: &GrantStatus) -> SdkGrantStatus {
    SdkGrantStatus::from(status.as_str())
}

fn ref_from(
    operation: &'static str,
    arn: Option<String>,
    status: Option<SdkGrantStatus>,
    version: Option<String>,
) -> Result<GrantRef, AwsError> {
    let arn = arn
        .and_then(|a| a.parse::<GrantArn>().ok())
        .ok_or_else(|| AwsError::missing(operation, "GrantArn"))?;
    let status = status
        .map(|s| GrantStatus::parse(s.as_str()))
        .ok_or_else(|| AwsError::missing(operation, "Status").on(&arn))?;
    let version = version.ok_or_else(|| AwsError::missing(operation, "Version").on(&arn))?;
    Ok(GrantRef {
        arn,
        status,
        version,
    })
}

/// Converts an SDK grant, checking every id on the way in.
pub(crate) fn grant_from_sdk(
    operation: &'static str,
    g: aws_sdk_licensemanager::types::Grant,
) -> Result<Grant, AwsError> {
    let arn: GrantArn = g
        .grant_arn
        .parse()
        .map_err(|_| AwsError::missing(operation, "GrantArn"))?;
    let license_arn: LicenseArn = g
        .license_arn
        .parse()
        .map_err(|_| AwsError::missing(operation, "LicenseArn").on(&arn))?;
    let principal = g
        .grantee_principal_arn
        .parse()
        .map_err(|_| AwsError::missing(operation, "GranteePrincipalArn").on(&arn))?;
    // The plain strings move over; a page of 100 grants is converted without copying them.
    Ok(Grant {
        name: g.grant_name,
        license_arn,
        principal,
        status: GrantStatus::parse(g.grant_status.as_str()),
        status_reason: g.status_reason,
        version: g.version,
        operations: g
            .granted_operations
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
        parent_arn: g.parent_arn,
        home_region: g.home_region,
        arn,
    })
}

fn license_from_sdk(
    l: &aws_sdk_licensemanager::types::GrantedLicense,
) -> Result<License, AwsError> {
    const OP: &str = "ListReceivedLicenses";
    let arn: LicenseArn = l
        .license_arn()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| AwsError::missing(OP, "LicenseArn"))?;
    Ok(License {
        name: l.license_name().unwrap_or_default().to_owned(),
        product_name: l.product_name().unwrap_or_default().to_owned(),
        product_sku: l.product_sku().unwrap_or_default().to_owned(),
        issuer: l
            .issuer()
            .and_then(|i| i.name())
            .unwrap_or_default()
            .to_owned(),
        status: l
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        home_region: l.home_region().unwrap_or_default().to_owned(),
        received_operations: l
            .received_metadata()
            .map(|m| {
                m.allowed_operations()
                    .iter()
                    .map(|o| o.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
        validity_begin: l
            .validity()
            .map(|v| v.begin().to_owned())
            .filter(|b| !b.is_empty()),
        validity_end: l.validity().and_then(|v| v.end()).map(str::to_owned),
        beneficiary: l.beneficiary().map(str::to_owned),
        arn,
    })
}

impl LicenseManagerApi for SdkLicenseManager {
    async fn list_received_licenses(&self) -> Result<Vec<License>, AwsError> {
        const OP: &str = "ListReceivedLicenses";
        let mut licenses = all_pages(&self.retry, &self.observer, |token| async move {
            let out = self
                .client
                .list_received_licenses()
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            let page = out
                .licenses()
                .iter()
                .filter_map(|l| skip_unreadable(license_from_sdk(l)))
                .collect();
            Ok((page, out.next_token))
        })
        .await?;
        licenses.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(licenses)
    }

    async fn list_distributed_grants(&self, license: &LicenseArn) -> Result<Vec<Grant>, AwsError> {
        self.list_grants_paged(
            "ListDistributedGrants",
            vec![filter("LicenseArn", license.as_str())],
        )
        .await
        .map_err(|e| e.on(license))
    }

    async fn get_grant(&self, grant: &GrantArn) -> Result<Grant, AwsError> {
        const OP: &str = "GetGrant";
        let out = request(&self.retry, &self.observer, OP, Some(grant), || {
            self.client.get_grant().grant_arn(grant.as_str()).send()
        })
        .await?;
        let g = out
            .grant
            .ok_or_else(|| AwsError::missing(OP, "Grant").on(grant))?;
        grant_from_sdk(OP, g)
    }

    async fn get_grants(&self, grants: &[GrantArn]) -> Result<Vec<Grant>, AwsError> {
        let mut out = Vec::with_capacity(grants.len());
        for chunk in grants.chunks(PAGE_SIZE as usize) {
            let arns = chunk.iter().map(|g| g.as_str().to_owned()).collect();
            let page = self
                .list_grants_paged_arns("ListDistributedGrants", Vec::new(), Some(arns))
                .await?;
            out.extend(page);
        }
        Ok(out)
    }

    async fn create_grant(&self, req: &NewGrant) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrant";
        let out = request(
            &self.retry,
            &self.observer,
            OP,
            Some(&req.principal),
            || {
                self.client
                    .create_grant()
                    .client_token(&req.client_token)
                    .grant_name(&req.name)
                    .license_arn(req.license_arn.as_str())
                    .principals(req.principal.arn())
                    .home_region(&req.home_region)
                    .set_allowed_operations(Some(
                        req.operations
                            .iter()
                            .map(|o| AllowedOperation::from(o.as_str()))
                            .collect(),
                    ))
                    .send()
            },
        )
        .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn create_grant_version(
        &self,
        grant: &GrantArn,
        change: &GrantChange,
    ) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrantVersion";
        let out = request(&self.retry, &self.observer, OP, Some(grant), || {
            self.client
                .create_grant_version()
                .client_token(&change.client_token)
                .grant_arn(grant.as_str())
                .set_source_version(change.source_version.clone())
                .set_grant_name(change.name.clone())
                .set_allowed_operations(change.operations.as_ref().map(|ops| {
                    ops.iter()
                        .map(|o| AllowedOperation::from(o.as_str()))
                        .collect()
                }))
                .set_status(change.status.as_ref().map(status_to_sdk))
                .set_status_reason(change.status_reason.clone())
                .set_options(change.activation_override.as_ref().map(|b| {
                    Options::builder()
                        .activation_override_behavior(ActivationOverrideBehavior::from(b.as_str()))
                        .build()
                }))
                .send()
        })
        .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn delete_grant(&self, grant: &GrantArn, version: &str) -> Result<GrantRef, AwsError> {
        const OP: &str = "DeleteGrant";
        let out = request(&self.retry, &self.observer, OP, Some(grant), || {
            self.client
                .delete_grant()
                .grant_arn(grant.as_str())
                .version(version)
                .send()
        })
        .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn accept_grant(&self, grant: &GrantArn) -> Result<GrantRef, AwsError> {
        const OP: &str = "AcceptGrant";
        let out = request(&self.retry, &self.observer, OP, Some(grant), || {
            self.client.accept_grant().grant_arn(grant.as_str()).send()
        })
        .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn list_received_grants(
        &self,
        license: Option<&LicenseArn>,
    ) -> Result<Vec<Grant>, AwsError> {
        let filters = license
            .map(|l| vec![filter("LicenseArn", l.as_str())])
            .unwrap_or_default();
        self.list_grants_paged("ListReceivedGrants", filters).await
    }

    async fn list_received_grants_for_organization(
        &self,
        license: &LicenseArn,
        parent: Option<&GrantArn>,
    ) -> Result<Vec<Share>, AwsError> {
        const OP: &str = "ListReceivedGrantsForOrganization";
        // The filter is `ParentArn` here (and `GranteePrincipalArn`, where ListDistributedGrants
        // spells it `GranteePrincipalARN`).
        let filters: Vec<Filter> = parent
            .map(|p| vec![filter("ParentArn", p.as_str())])
            .unwrap_or_default();
        let mut shares = all_pages(&self.retry, &self.observer, |token| {
            let filters = filters.clone();
            async move {
                let out = self
                    .client
                    .list_received_grants_for_organization()
                    .license_arn(license.as_str())
                    .set_filters((!filters.is_empty()).then_some(filters))
                    .max_results(PAGE_SIZE)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(license))?;
                let page: Vec<Share> = out.grants().iter().filter_map(share_from_sdk).collect();
                Ok((page, out.next_token))
            }
        })
        .await?;
        if let Some(p) = parent {
            shares.retain(|s| s.parent == *p);
        }
        shares.sort_unstable_by(|a, b| (&a.parent, &a.account).cmp(&(&b.parent, &b.account)));
        shares.dedup_by(|a, b| a.arn == b.arn);
        Ok(shares)
    }

    async fn get_service_settings(&self) -> Result<ServiceSettings, AwsError> {
        const OP: &str = "GetServiceSettings";
        let out = request(&self.retry, &self.observer, OP, None, || {
            self.client.get_service_settings().send()
        })
        .await?;
        Ok(ServiceSettings {
            organization_integration: out
                .organization_configuration()
                .map(|c| c.enable_integration())
                .unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_licensemanager::types::Grant as SdkGrant;

    const LICENSE: &str =
        "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef";
    const PARENT: &str =
        "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000001";

    fn sdk_grant(arn: &str, parent: &str, principal: &str) -> SdkGrant {
        SdkGrant::builder()
            .grant_arn(arn)
            .grant_name("n")
            .parent_arn(parent)
            .license_arn(LICENSE)
            .grantee_principal_arn(principal)
            .home_region("us-east-1")
            .grant_status(SdkGrantStatus::Active)
            .version("1")
            .granted_operations(AllowedOperation::CheckoutLicense)
            .build()
            .expect("every required member")
    }

    #[test]
    fn an_unreadable_item_is_left_out_not_fatal() {
        let good = sdk_grant(
            "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000002",
            LICENSE,
            "arn:aws:iam::222233334444:root",
        );
        let bad = sdk_grant("not-an-arn", LICENSE, "arn:aws:iam::222233334444:root");
        let read: Vec<Grant> = [good, bad]
            .into_iter()
            .filter_map(|g| skip_unreadable(grant_from_sdk("ListDistributedGrants", g)))
            .collect();
        assert_eq!(read.len(), 1);
    }

    #[test]
    fn a_received_license_that_cannot_be_read_is_left_out_not_fatal() {
        use aws_sdk_licensemanager::types::GrantedLicense;
        let license = |arn: &str| {
            GrantedLicense::builder()
                .license_arn(arn)
                .product_sku("prod-x")
                .build()
        };
        let read: Vec<License> = [
            license(LICENSE),
            license("arn:aws:s3:::not-a-license"),
            GrantedLicense::builder().product_sku("prod-y").build(),
        ]
        .iter()
        .filter_map(|l| skip_unreadable(license_from_sdk(l)))
        .collect();
        assert_eq!(
            read.iter().map(|l| l.arn.as_str()).collect::<Vec<_>>(),
            [LICENSE]
        );
    }

    #[test]
    fn only_an_accounts_share_of_a_grant_is_a_share() {
        let share = sdk_grant(
            "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000003",
            PARENT,
            "arn:aws:iam::222233334444:root",
        );
        let got = share_from_sdk(&share).expect("a share");
        assert_eq!(got.parent.as_str(), PARENT);
        assert_eq!(got.account.as_str(), "222233334444");
        assert_eq!(got.status, GrantStatus::Active);
        // An account grant: its parent is the license.
        let account_grant = sdk_grant(
            "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000004",
            LICENSE,
            "arn:aws:iam::222233334444:root",
        );
        assert_eq!(share_from_sdk(&account_grant), None);
        // The parent grant itself, listed to its OU.
        let ou = sdk_grant(
            PARENT,
            LICENSE,
            "arn:aws:organizations::111122223333:ou/o-abcde12345/ou-ab12-cdef3456",
        );
        assert_eq!(share_from_sdk(&ou), None);
    }
}
