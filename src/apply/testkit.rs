//! The executor's unit tests against the emulator's own state, in process: [`InProcLm`] is a
//! `LicenseManagerApi` that sends each call's JSON (the members the SDK adapter sets) through
//! the emulator's request pipeline (`EmulatorState::call_json`: rate limits, scripted and
//! random faults, the caller's identity, the operation) and reads the JSON answer and AWS
//! errors as the SDK adapter does (`aws::classify`). Calls go through the real retry layer. The
//! rules of License Manager (statuses, versions, client tokens, workflows, one active grant per
//! product) exist once, in the emulator; the emulator's clock is tokio's, so paused-time tests
//! drive its workflows.
//!
//! What the emulator cannot tell, the adapter writes down in a [`Journal`]: the mutating calls
//! the emulator handled (answered, or handled and their answer lost) with their caller, and
//! every grant's status when a revoke was handled.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::aws::retry::with_retry;
use crate::aws::{
    AwsError, ErrorKind, GrantChange, GrantRef, LicenseManagerApi, NewGrant, Observer, RetryPolicy,
    ServiceSettings, all_pages, classify,
};
use crate::emulator::{
    AccountSeed, CallError, EmulatorOptions, EmulatorState, GrantSeed, InProcService, LicenseSeed,
    OrganizationSeed, OuSeed, Seed,
};
use crate::model::{
    AccountId, Grant, GrantArn, GrantStatus, License, LicenseArn, Principal, Share,
};

use super::recipients::Recipients;

pub const GRANTOR: &str = "111122223333";
pub const ORG: &str = "o-abcde12345";
pub const OU: &str = "ou-ab12-cdef3456";
pub const LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef";
pub const LICENSE_2: &str =
    "arn:aws:license-manager::294406891311:license:l-fedcba9876543210fedcba9876543210";
/// The accounts `seed` puts in the OU `OU` (the others sit under the root).
pub const OU_MEMBERS: [u32; 2] = [1, 2];
const PAGE_SIZE: u32 = 100;

/// The member account number `n`: 222200000000 + n.
pub fn member(n: u32) -> String {
    format!("{:012}", 222_200_000_000u64 + u64::from(n))
}

/// The operations the tests' grants allow.
pub fn ops() -> BTreeSet<String> {
    ["CheckoutLicense", "CheckInLicense"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// An organization `ORG` managed by `GRANTOR` with members 0..`members` (1 and 2 in the OU
/// `OU`, the rest under the root) and two licenses of different products, received by
/// `GRANTOR` with CreateGrant.
pub fn seed(members: u32) -> Seed {
    let account = |id: String, name: String, parent: Option<String>| AccountSeed {
        id,
        name,
        email: None,
        state: "ACTIVE".to_owned(),
        parent,
        joined_method: "CREATED".to_owned(),
        joined_timestamp: 1_704_067_200,
    };
    let mut accounts = vec![account(GRANTOR.to_owned(), "management".to_owned(), None)];
    accounts.extend((0..members).map(|n| {
        let parent = OU_MEMBERS.contains(&n).then(|| OU.to_owned());
        account(member(n), format!("member-{n}"), parent)
    }));
    let license = |arn: &str, sku: &str| LicenseSeed {
        arn: arn.to_owned(),
        name: None,
        product_name: format!("Model {sku}"),
        product_sku: sku.to_owned(),
        issuer: "AWS/Marketplace".to_owned(),
        fingerprint: None,
        beneficiary: None,
        status: "AVAILABLE".to_owned(),
        received_status: "ACTIVE".to_owned(),
        allowed_operations: ["CreateGrant", "CheckoutLicense", "CheckInLicense"]
            .map(str::to_owned)
            .to_vec(),
        grant_arn: None,
        validity_begin: "2024-01-01T00:00:00Z".to_owned(),
        validity_end: None,
        create_time: 1_704_067_200,
    };
    Seed {
        region: "us-east-1".to_owned(),
        default_caller: None,
        organization: OrganizationSeed {
            id: ORG.to_owned(),
            feature_set: Default::default(),
            management_account: GRANTOR.to_owned(),
            root: "r-ab12".to_owned(),
            trusted_access: true,
            service_linked_role: true,
            marketplace_service_linked_role: true,
            enable_integration: None,
            cross_account_discovery: None,
            enabled_services: Vec::new(),
            delegated_administrator: None,
            organizational_units: vec![OuSeed {
                id: OU.to_owned(),
                name: "moving".to_owned(),
                parent: "r-ab12".to_owned(),
            }],
            accounts,
        },
        licenses: vec![license(LICENSE, "prod-one"), license(LICENSE_2, "prod-two")],
        grants: Vec::new(),
        bedrock: Default::default(),
    }
}

/// A running emulator (not served) built from [`seed`] with `members` members.
pub fn emulator(members: u32, opts: EmulatorOptions) -> EmulatorState {
    EmulatorState::new(seed(members), opts).expect("the test seed is valid")
}

/// Adds a grant made earlier (settled, version 1) from `GRANTOR`.
pub fn add_grant(
    emu: &EmulatorState,
    principal: &Principal,
    license: &str,
    name: &str,
    status: GrantStatus,
) -> GrantArn {
    let view = emu
        .add_grant(GrantSeed {
            arn: None,
            name: name.to_owned(),
            license_arn: license.to_owned(),
            principal: principal.arn(),
            grantor: None,
            status: status.as_str().to_owned(),
            status_reason: None,
            version: 1,
            operations: ops().into_iter().collect(),
        })
        .expect("a valid grant");
    view.arn.parse().expect("the emulator makes valid ARNs")
}

/// What the adapter saw the emulator handle.
#[derive(Debug, Default)]
pub struct Journal {
    /// Mutating calls handled, in order: (operation, principal or grant, caller). A call
    /// answered from its client token counts too.
    pub log: Vec<(&'static str, String, AccountId)>,
    /// Every grant's status when each DeleteGrant or deactivating CreateGrantVersion was handled.
    pub at_revoke: Vec<BTreeMap<GrantArn, GrantStatus>>,
}

/// A License Manager caller (the grantor or a member account) of an in-process emulator.
#[derive(Clone)]
pub struct InProcLm {
    pub emu: EmulatorState,
    pub caller: AccountId,
    pub journal: Arc<Mutex<Journal>>,
    retry: RetryPolicy,
    observer: Observer,
}

impl InProcLm {
    /// The grantor's client; `observer` sees every retried error (give it the apply limits).
    pub fn new(emu: EmulatorState, observer: Observer) -> Self {
        InProcLm {
            emu,
            caller: GRANTOR.parse().expect("valid"),
            journal: Arc::default(),
            retry: RetryPolicy {
                max_attempts: 10,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(10),
            },
            observer,
        }
    }

    /// The same emulator and journal, acting as `account`.
    pub fn as_account(&self, account: &AccountId) -> InProcLm {
        InProcLm {
            caller: account.clone(),
            ..self.clone()
        }
    }

    fn statuses(&self) -> BTreeMap<GrantArn, GrantStatus> {
        self.emu
            .grants()
            .into_iter()
            .filter_map(|g| Some((g.arn.parse().ok()?, GrantStatus::parse(&g.status))))
            .collect()
    }

    /// One attempt. The statuses a revoke is judged by are read just before the call: with no
    /// latency, nothing runs between that read and the emulator handling the call.
    async fn attempt(
        &self,
        op: &'static str,
        body: &Value,
        target: Option<&str>,
    ) -> Result<Value, AwsError> {
        let revoke = op == "DeleteGrant"
            || (op == "CreateGrantVersion" && body["Status"].as_str() == Some("DISABLED"));
        let before = revoke.then(|| self.statuses());
        let caller = self.caller.to_string();
        let out = self
            .emu
            .call_json(InProcService::LicenseManager, &caller, op, body)
            .await;
        let handled = matches!(out, Ok(_) | Err(CallError::Lost));
        if handled && let Some(target) = target {
            let mut j = self.journal.lock().expect("lock");
            j.log.push((op, target.to_owned(), self.caller.clone()));
            j.at_revoke.extend(before);
        }
        let error = |e: AwsError| match target {
            Some(t) => e.on(t),
            None => e,
        };
        match out {
            Ok(v) => Ok(v),
            Err(CallError::Lost) => Err(error(AwsError::new(
                op,
                ErrorKind::Transient,
                "ResponseError",
                "the connection closed before the response",
            ))),
            Err(CallError::Api {
                status,
                code,
                message,
            }) => {
                let kind = classify(&code, &message, status);
                Err(error(AwsError::new(op, kind, code, message)))
            }
        }
    }

    /// A call with retries; `target` names a mutating call's principal or grant.
    async fn call(
        &self,
        op: &'static str,
        body: Value,
        target: Option<&str>,
    ) -> Result<Value, AwsError> {
        with_retry(
            &self.retry,
            || self.attempt(op, &body, target),
            |e| self.observer.on_retry(e),
        )
        .await
    }

    /// Every page of a list call, each page retried on its own; `key` names the items.
    async fn pages(
        &self,
        op: &'static str,
        body: Value,
        key: &str,
    ) -> Result<Vec<Value>, AwsError> {
        all_pages(&self.retry, &self.observer, |token| {
            let mut body = body.clone();
            async move {
                body["MaxResults"] = json!(PAGE_SIZE);
                if let Some(t) = token {
                    body["NextToken"] = json!(t);
                }
                let mut out = self.attempt(op, &body, None).await?;
                let next = out["NextToken"].as_str().map(str::to_owned);
                let items = match out[key].take() {
                    Value::Array(items) => items,
                    _ => Vec::new(),
                };
                Ok((items, next))
            }
        })
        .await
    }

    async fn grants(&self, op: &'static str, body: Value) -> Result<Vec<Grant>, AwsError> {
        let items = self.pages(op, body, "Grants").await?;
        Ok(items.iter().filter_map(|g| grant(op, g).ok()).collect())
    }
}

fn text<'a>(v: &'a Value, member: &str) -> &'a str {
    v[member].as_str().unwrap_or_default()
}

/// A `Grant` of the JSON answer, every id checked on the way in (as `grant_from_sdk`).
fn grant(op: &'static str, g: &Value) -> Result<Grant, AwsError> {
    let arn: GrantArn = text(g, "GrantArn")
        .parse()
        .map_err(|_| AwsError::missing(op, "GrantArn"))?;
    let license_arn = text(g, "LicenseArn")
        .parse()
        .map_err(|_| AwsError::missing(op, "LicenseArn").on(&arn))?;
    let principal = text(g, "GranteePrincipalArn")
        .parse()
        .map_err(|_| AwsError::missing(op, "GranteePrincipalArn").on(&arn))?;
    Ok(Grant {
        name: text(g, "GrantName").to_owned(),
        license_arn,
        principal,
        status: GrantStatus::parse(text(g, "GrantStatus")),
        status_reason: g["StatusReason"].as_str().map(str::to_owned),
        version: text(g, "Version").to_owned(),
        operations: g["GrantedOperations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str().map(str::to_owned))
            .collect(),
        parent_arn: text(g, "ParentArn").to_owned(),
        home_region: text(g, "HomeRegion").to_owned(),
        arn,
    })
}

/// The answer of CreateGrant, CreateGrantVersion, DeleteGrant, AcceptGrant.
fn grant_ref(op: &'static str, v: &Value) -> Result<GrantRef, AwsError> {
    let arn: GrantArn = text(v, "GrantArn")
        .parse()
        .map_err(|_| AwsError::missing(op, "GrantArn"))?;
    let status = v["Status"]
        .as_str()
        .map(GrantStatus::parse)
        .ok_or_else(|| AwsError::missing(op, "Status").on(&arn))?;
    let version = v["Version"]
        .as_str()
        .ok_or_else(|| AwsError::missing(op, "Version").on(&arn))?
        .to_owned();
    Ok(GrantRef {
        arn,
        status,
        version,
    })
}

/// An account's share of an organization or OU grant (as `share_from_sdk`), or None.
fn share(g: &Value) -> Option<Share> {
    let parent: GrantArn = text(g, "ParentArn").parse().ok()?;
    let arn: GrantArn = text(g, "GrantArn").parse().ok()?;
    let license_arn: LicenseArn = text(g, "LicenseArn").parse().ok()?;
    match text(g, "GranteePrincipalArn").parse::<Principal>() {
        Ok(Principal::Account(account)) => Some(Share {
            parent,
            arn,
            license_arn,
            account,
            status: GrantStatus::parse(text(g, "GrantStatus")),
        }),
        _ => None,
    }
}

fn license(l: &Value) -> Option<License> {
    Some(License {
        arn: text(l, "LicenseArn").parse().ok()?,
        name: text(l, "LicenseName").to_owned(),
        product_name: text(l, "ProductName").to_owned(),
        product_sku: text(l, "ProductSKU").to_owned(),
        issuer: text(&l["Issuer"], "Name").to_owned(),
        status: text(l, "Status").to_owned(),
        home_region: text(l, "HomeRegion").to_owned(),
        received_operations: l["ReceivedMetadata"]["AllowedOperations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o.as_str().map(str::to_owned))
            .collect(),
        validity_begin: l["Validity"]["Begin"].as_str().map(str::to_owned),
        validity_end: l["Validity"]["End"].as_str().map(str::to_owned),
        beneficiary: l["Beneficiary"].as_str().map(str::to_owned),
    })
}

fn filter(name: &str, value: &str) -> Value {
    json!({"Name": name, "Values": [value]})
}

impl LicenseManagerApi for InProcLm {
    async fn list_received_licenses(&self) -> Result<Vec<License>, AwsError> {
        let items = self
            .pages("ListReceivedLicenses", json!({}), "Licenses")
            .await?;
        let mut licenses: Vec<License> = items.iter().filter_map(license).collect();
        licenses.sort_by(|a, b| a.arn.cmp(&b.arn));
        Ok(licenses)
    }

    async fn list_distributed_grants(&self, license: &LicenseArn) -> Result<Vec<Grant>, AwsError> {
        let body = json!({"Filters": [filter("LicenseArn", license.as_str())]});
        self.grants("ListDistributedGrants", body)
            .await
            .map_err(|e| e.on(license))
    }

    async fn get_grant(&self, arn: &GrantArn) -> Result<Grant, AwsError> {
        const OP: &str = "GetGrant";
        let body = json!({"GrantArn": arn.as_str()});
        let out = with_retry(
            &self.retry,
            || async { self.attempt(OP, &body, None).await.map_err(|e| e.on(arn)) },
            |e| self.observer.on_retry(e),
        )
        .await?;
        grant(OP, &out["Grant"])
    }

    async fn get_grants(&self, arns: &[GrantArn]) -> Result<Vec<Grant>, AwsError> {
        let mut out = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(PAGE_SIZE as usize) {
            let arns: Vec<&str> = chunk.iter().map(GrantArn::as_str).collect();
            let body = json!({"GrantArns": arns, "Filters": []});
            out.extend(self.grants("ListDistributedGrants", body).await?);
        }
        Ok(out)
    }

    async fn create_grant(&self, req: &NewGrant) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrant";
        let body = json!({
            "ClientToken": req.client_token,
            "GrantName": req.name,
            "LicenseArn": req.license_arn.as_str(),
            "Principals": [req.principal.arn()],
            "HomeRegion": req.home_region,
            "AllowedOperations": req.operations,
        });
        let target = req.principal.to_string();
        let out = self.call(OP, body, Some(&target)).await?;
        grant_ref(OP, &out)
    }

    async fn create_grant_version(
        &self,
        arn: &GrantArn,
        change: &GrantChange,
    ) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrantVersion";
        let mut body = json!({"ClientToken": change.client_token, "GrantArn": arn.as_str()});
        let members = [
            (
                "SourceVersion",
                change.source_version.clone().map(Value::from),
            ),
            ("GrantName", change.name.clone().map(Value::from)),
            (
                "AllowedOperations",
                change.operations.as_ref().map(|o| json!(o)),
            ),
            ("Status", change.status.as_ref().map(|s| json!(s.as_str()))),
            (
                "StatusReason",
                change.status_reason.clone().map(Value::from),
            ),
            (
                "Options",
                change
                    .activation_override
                    .as_ref()
                    .map(|b| json!({"ActivationOverrideBehavior": b})),
            ),
        ];
        for (name, value) in members {
            if let Some(v) = value {
                body[name] = v;
            }
        }
        let out = self.call(OP, body, Some(arn.as_str())).await?;
        grant_ref(OP, &out)
    }

    async fn delete_grant(&self, arn: &GrantArn, version: &str) -> Result<GrantRef, AwsError> {
        const OP: &str = "DeleteGrant";
        let body = json!({"GrantArn": arn.as_str(), "Version": version});
        let out = self.call(OP, body, Some(arn.as_str())).await?;
        grant_ref(OP, &out)
    }

    async fn accept_grant(&self, arn: &GrantArn) -> Result<GrantRef, AwsError> {
        const OP: &str = "AcceptGrant";
        let body = json!({"GrantArn": arn.as_str()});
        let out = self.call(OP, body, Some(arn.as_str())).await?;
        grant_ref(OP, &out)
    }

    async fn list_received_grants(
        &self,
        license: Option<&LicenseArn>,
    ) -> Result<Vec<Grant>, AwsError> {
        let filters: Vec<Value> = license
            .map(|l| filter("LicenseArn", l.as_str()))
            .into_iter()
            .collect();
        self.grants("ListReceivedGrants", json!({"Filters": filters}))
            .await
    }

    async fn get_service_settings(&self) -> Result<ServiceSettings, AwsError> {
        let out = self.call("GetServiceSettings", json!({}), None).await?;
        Ok(ServiceSettings {
            organization_integration: out["OrganizationConfiguration"]["EnableIntegration"]
                .as_bool()
                .unwrap_or(false),
        })
    }

    async fn list_received_grants_for_organization(
        &self,
        license: &LicenseArn,
        parent: Option<&GrantArn>,
    ) -> Result<Vec<Share>, AwsError> {
        const OP: &str = "ListReceivedGrantsForOrganization";
        let mut body = json!({"LicenseArn": license.as_str()});
        if let Some(p) = parent {
            body["Filters"] = json!([filter("ParentArn", p.as_str())]);
        }
        let items = self
            .pages(OP, body, "Grants")
            .await
            .map_err(|e| e.on(license))?;
        let mut shares: Vec<Share> = items.iter().filter_map(share).collect();
        if let Some(p) = parent {
            shares.retain(|s| s.parent == *p);
        }
        shares.sort_unstable_by(|a, b| (&a.parent, &a.account).cmp(&(&b.parent, &b.account)));
        shares.dedup_by(|a, b| a.arn == b.arn);
        Ok(shares)
    }
}

/// Member accounts' clients over the same emulator and journal.
pub struct InProcRecipients(pub InProcLm);

impl Recipients for InProcRecipients {
    type Api = InProcLm;

    async fn license_manager_for(&self, account: &AccountId) -> Result<InProcLm, AwsError> {
        Ok(self.0.as_account(account))
    }
}
