//! License Manager through `aws-sdk-licensemanager`. Its list operations have no SDK
//! paginators, so each list method loops on `NextToken` itself.

use aws_sdk_licensemanager::Client;
use aws_sdk_licensemanager::types::{
    ActivationOverrideBehavior, AllowedOperation, Filter, GrantStatus as SdkGrantStatus, Options,
};

use super::all_pages;
use super::retry::with_retry;
use super::{
    AwsError, GrantChange, GrantRef, LicenseManagerApi, NewGrant, Observer, RetryPolicy,
    ServiceSettings,
};
use crate::model::{Grant, GrantArn, GrantStatus, License, LicenseArn};

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

    async fn retrying<T, F, Fut>(&self, call: F) -> Result<T, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, AwsError>>,
    {
        with_retry(&self.retry, call, |e| self.observer.on_retry(e)).await
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
                    .map(|g| grant_from_sdk(operation, g))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((grants, next))
            }
        })
        .await
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
                .map(license_from_sdk)
                .collect::<Result<Vec<_>, _>>()?;
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
        let out = self
            .retrying(|| async {
                self.client
                    .get_grant()
                    .grant_arn(grant.as_str())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(grant))
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
        let out = self
            .retrying(|| async {
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
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(&req.principal))
            })
            .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn create_grant_version(
        &self,
        grant: &GrantArn,
        change: &GrantChange,
    ) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrantVersion";
        let out = self
            .retrying(|| async {
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
                            .activation_override_behavior(ActivationOverrideBehavior::from(
                                b.as_str(),
                            ))
                            .build()
                    }))
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(grant))
            })
            .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn delete_grant(&self, grant: &GrantArn, version: &str) -> Result<GrantRef, AwsError> {
        const OP: &str = "DeleteGrant";
        let out = self
            .retrying(|| async {
                self.client
                    .delete_grant()
                    .grant_arn(grant.as_str())
                    .version(version)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(grant))
            })
            .await?;
        ref_from(OP, out.grant_arn, out.status, out.version)
    }

    async fn accept_grant(&self, grant: &GrantArn) -> Result<GrantRef, AwsError> {
        const OP: &str = "AcceptGrant";
        let out = self
            .retrying(|| async {
                self.client
                    .accept_grant()
                    .grant_arn(grant.as_str())
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e).on(grant))
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

    async fn get_service_settings(&self) -> Result<ServiceSettings, AwsError> {
        const OP: &str = "GetServiceSettings";
        let out = self
            .retrying(|| async {
                self.client
                    .get_service_settings()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OP, e))
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
