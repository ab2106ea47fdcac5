//! An in-memory License Manager for the executor's unit tests: grants with statuses, versions,
//! workflows that settle after a number of reads, client tokens, rate limits and scripted
//! faults. Calls go through the real retry layer, as the SDK adapter's do. It follows the
//! emulator's rules where AWS documents none; the integration tests check the executor against
//! the emulator through the real SDK.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::aws::retry::with_retry;
use crate::aws::{
    AwsError, ErrorKind, GrantChange, GrantRef, LicenseManagerApi, NewGrant, Observer, RetryPolicy,
    ServiceSettings,
};
use crate::model::{
    AccountId, Grant, GrantArn, GrantStatus, License, LicenseArn, Principal, Share,
};

pub const GRANTOR: &str = "111122223333";
pub const LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef";
pub const LICENSE_2: &str =
    "arn:aws:license-manager::294406891311:license:l-fedcba9876543210fedcba9876543210";

/// A scripted failure of one attempt.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer this error without handling the request.
    Error(ErrorKind),
    /// Handle the request, then lose the answer (a transient error reaches the caller).
    Lost,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone)]
struct Rec {
    grant: Grant,
    /// Reads left before the workflow settles, and the status it settles in.
    workflow: Option<(u32, GrantStatus)>,
}

#[derive(Debug, Default)]
pub struct World {
    grants: BTreeMap<GrantArn, Rec>,
    tokens: BTreeMap<(AccountId, &'static str, String), (String, GrantRef)>,
    seq: u64,
    /// Attempts per operation (throttled ones included).
    pub attempts: BTreeMap<&'static str, u32>,
    /// Handled (not throttled, not faulted-before) requests per operation, with the time.
    pub handled: Vec<(&'static str, Instant)>,
    /// Mutating requests handled, in order: (operation, grant or principal, caller).
    pub log: Vec<(&'static str, String, AccountId)>,
    faults: BTreeMap<&'static str, VecDeque<Fault>>,
    buckets: BTreeMap<&'static str, Bucket>,
    pub workflow_reads: u32,
    /// Account grants wait for the recipient (PENDING_ACCEPT) instead of being auto-accepted.
    pub accept_needed: bool,
    pub latency: Duration,
    /// The accounts an organization or OU principal reaches: each gets a share of its grants,
    /// ACTIVE once the grant is effective, in the grant's status before.
    pub members: BTreeMap<Principal, Vec<AccountId>>,
    /// DeleteGrant answers PENDING_DELETE; the grant is DELETED after `workflow_reads` reads.
    pub pending_delete: bool,
    /// Batched status reads (`get_grants`) that leave the grant out (lists lag behind writes).
    pub hidden_reads: BTreeMap<GrantArn, u32>,
    /// Every grant's status at each DeleteGrant or deactivating CreateGrantVersion handled.
    pub at_revoke: Vec<BTreeMap<GrantArn, GrantStatus>>,
}

impl World {
    pub fn new() -> Arc<Mutex<World>> {
        Arc::new(Mutex::new(World {
            workflow_reads: 1,
            ..World::default()
        }))
    }

    pub fn script(&mut self, op: &'static str, faults: impl IntoIterator<Item = Fault>) {
        self.faults.entry(op).or_default().extend(faults);
    }

    pub fn rate_limit(&mut self, op: &'static str, rate: f64, burst: f64) {
        self.buckets.insert(
            op,
            Bucket {
                rate,
                burst,
                tokens: burst,
                at: Instant::now(),
            },
        );
    }

    /// Adds a grant as if made earlier (settled).
    pub fn seed(
        &mut self,
        principal: Principal,
        license: &str,
        name: &str,
        status: GrantStatus,
    ) -> GrantArn {
        self.seq += 1;
        let arn: GrantArn = format!(
            "arn:aws:license-manager::{GRANTOR}:grant:g-{:032x}",
            self.seq
        )
        .parse()
        .expect("valid");
        let grant = Grant {
            arn: arn.clone(),
            name: name.to_owned(),
            license_arn: license.parse().expect("valid"),
            principal,
            status,
            status_reason: None,
            version: "1".to_owned(),
            operations: ops(),
            parent_arn: license.to_owned(),
            home_region: "us-east-1".to_owned(),
        };
        self.grants.insert(
            arn.clone(),
            Rec {
                grant,
                workflow: None,
            },
        );
        arn
    }

    pub fn set_status(&mut self, arn: &GrantArn, status: GrantStatus) {
        if let Some(r) = self.grants.get_mut(arn) {
            r.grant.status = status;
            r.workflow = None;
            World::bump(&mut r.grant);
        }
    }

    /// Puts the grant in PENDING_WORKFLOW for `reads` reads, after which it is `then`.
    pub fn start_workflow(&mut self, arn: &GrantArn, reads: u32, then: GrantStatus) {
        if let Some(r) = self.grants.get_mut(arn) {
            r.grant.status = GrantStatus::PendingWorkflow;
            r.workflow = Some((reads, then));
        }
    }

    fn snapshot_revoke(&mut self) {
        let now = self
            .grants
            .iter()
            .map(|(a, r)| (a.clone(), r.grant.status.clone()))
            .collect();
        self.at_revoke.push(now);
    }

    pub fn grant(&self, arn: &GrantArn) -> Option<Grant> {
        self.grants.get(arn).map(|r| r.grant.clone())
    }

    pub fn grants(&self) -> Vec<Grant> {
        self.grants.values().map(|r| r.grant.clone()).collect()
    }

    /// Live (not DELETED / REJECTED) grants per (license, principal).
    pub fn live_per_pair(&self) -> BTreeMap<(LicenseArn, Principal), usize> {
        let mut m = BTreeMap::new();
        for r in self.grants.values() {
            if !r.grant.status.is_terminal() {
                *m.entry((r.grant.license_arn.clone(), r.grant.principal.clone()))
                    .or_insert(0) += 1;
            }
        }
        m
    }

    fn bump(g: &mut Grant) {
        let v: u64 = g.version.parse().unwrap_or(0);
        g.version = (v + 1).to_string();
    }

    fn settle_and_observe(&mut self, arn: &GrantArn) -> Option<Grant> {
        let rec = self.grants.get_mut(arn)?;
        if let Some((0, then)) = rec.workflow.clone() {
            rec.grant.status = then;
            rec.workflow = None;
            World::bump(&mut rec.grant);
        }
        let out = rec.grant.clone();
        if let Some((left, _)) = &mut rec.workflow {
            *left = left.saturating_sub(1);
        }
        Some(out)
    }

    fn take_token(&mut self, op: &'static str) -> bool {
        let Some(b) = self.buckets.get_mut(op) else {
            return true;
        };
        let now = Instant::now();
        b.tokens = (b.tokens + (now - b.at).as_secs_f64() * b.rate).min(b.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub fn ops() -> BTreeSet<String> {
    ["CheckoutLicense", "CheckInLicense"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn validation(op: &'static str, msg: impl Into<String>) -> AwsError {
    AwsError::new(op, ErrorKind::Validation, "ValidationException", msg)
}

fn not_found(op: &'static str, arn: &GrantArn) -> AwsError {
    AwsError::new(
        op,
        ErrorKind::NotFound,
        "ResourceNotFoundException",
        format!("Grant {arn} not found"),
    )
}

fn conflict(op: &'static str, latest: &str) -> AwsError {
    AwsError::new(
        op,
        ErrorKind::VersionConflict,
        "ValidationException",
        format!("the version provided doesn't match the latest version {latest} in our records"),
    )
}

/// A caller of the fake: the grantor or a recipient account.
#[derive(Clone)]
pub struct FakeLm {
    pub world: Arc<Mutex<World>>,
    pub caller: AccountId,
    retry: RetryPolicy,
    observer: Observer,
}

impl FakeLm {
    pub fn new(world: Arc<Mutex<World>>, observer: Observer) -> Self {
        FakeLm {
            world,
            caller: GRANTOR.parse().expect("valid"),
            retry: RetryPolicy {
                max_attempts: 10,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_secs(10),
            },
            observer,
        }
    }

    pub fn as_account(&self, account: &AccountId) -> FakeLm {
        FakeLm {
            caller: account.clone(),
            ..self.clone()
        }
    }

    async fn op<T>(
        &self,
        op: &'static str,
        handle: impl Fn(&mut World, &AccountId) -> Result<T, AwsError>,
    ) -> Result<T, AwsError> {
        let handle = &handle;
        with_retry(
            &self.retry,
            || async move {
                let latency = self.world.lock().expect("lock").latency;
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                let mut w = self.world.lock().expect("lock");
                *w.attempts.entry(op).or_insert(0) += 1;
                if !w.take_token(op) {
                    return Err(AwsError::new(
                        op,
                        ErrorKind::Throttled,
                        "RateLimitExceededException",
                        "slow down",
                    ));
                }
                let fault = w.faults.get_mut(op).and_then(VecDeque::pop_front);
                if let Some(Fault::Error(kind)) = fault {
                    return Err(AwsError::new(op, kind, "Scripted", "scripted fault"));
                }
                w.handled.push((op, Instant::now()));
                let out = handle(&mut w, &self.caller);
                if let Some(Fault::Lost) = fault {
                    return Err(AwsError::new(
                        op,
                        ErrorKind::Transient,
                        "ResponseError",
                        "connection closed",
                    ));
                }
                out
            },
            |e| self.observer.on_retry(e),
        )
        .await
    }
}

impl LicenseManagerApi for FakeLm {
    async fn list_received_licenses(&self) -> Result<Vec<License>, AwsError> {
        Ok(Vec::new())
    }

    async fn list_distributed_grants(&self, license: &LicenseArn) -> Result<Vec<Grant>, AwsError> {
        self.op("ListDistributedGrants", |w, caller| {
            let arns: Vec<GrantArn> = w
                .grants
                .values()
                .filter(|r| {
                    &r.grant.license_arn == license && &r.grant.arn.grantor_account() == caller
                })
                .map(|r| r.grant.arn.clone())
                .collect();
            Ok(arns
                .iter()
                .filter_map(|a| w.settle_and_observe(a))
                .collect())
        })
        .await
    }

    async fn get_grant(&self, grant: &GrantArn) -> Result<Grant, AwsError> {
        self.op("GetGrant", |w, _| {
            w.settle_and_observe(grant)
                .ok_or_else(|| not_found("GetGrant", grant))
        })
        .await
    }

    async fn get_grants(&self, grants: &[GrantArn]) -> Result<Vec<Grant>, AwsError> {
        self.op("ListDistributedGrants", |w, _| {
            let mut out = Vec::new();
            for a in grants {
                if let Some(left) = w.hidden_reads.get_mut(a)
                    && *left > 0
                {
                    *left -= 1;
                    continue;
                }
                out.extend(w.settle_and_observe(a));
            }
            Ok(out)
        })
        .await
    }

    async fn create_grant(&self, req: &NewGrant) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrant";
        self.op(OP, |w, caller| {
            let key = (caller.clone(), OP, req.client_token.clone());
            let body = format!("{req:?}");
            if let Some((seen, answer)) = w.tokens.get(&key) {
                return if *seen == body {
                    Ok(answer.clone())
                } else {
                    Err(validation(
                        OP,
                        "ClientToken was already used with a different request",
                    ))
                };
            }
            let duplicate = w.grants.values().any(|r| {
                r.grant.license_arn == req.license_arn
                    && r.grant.principal == req.principal
                    && !r.grant.status.is_terminal()
            });
            if duplicate {
                return Err(validation(
                    OP,
                    "A grant for this license and principal already exists",
                ));
            }
            w.seq += 1;
            let arn: GrantArn = format!("arn:aws:license-manager::{caller}:grant:g-{:032x}", w.seq)
                .parse()
                .expect("valid");
            let then = match (&req.principal, w.accept_needed) {
                (Principal::Account(_), true) => GrantStatus::PendingAccept,
                _ => GrantStatus::Disabled,
            };
            let grant = Grant {
                arn: arn.clone(),
                name: req.name.clone(),
                license_arn: req.license_arn.clone(),
                principal: req.principal.clone(),
                status: GrantStatus::PendingWorkflow,
                status_reason: None,
                version: "1".to_owned(),
                operations: req.operations.clone(),
                parent_arn: req.license_arn.to_string(),
                home_region: req.home_region.clone(),
            };
            let answer = GrantRef {
                arn: arn.clone(),
                status: GrantStatus::PendingWorkflow,
                version: "1".to_owned(),
            };
            let reads = w.workflow_reads;
            w.grants.insert(
                arn.clone(),
                Rec {
                    grant,
                    workflow: Some((reads, then)),
                },
            );
            w.tokens.insert(key, (body, answer.clone()));
            w.log.push((OP, req.principal.to_string(), caller.clone()));
            Ok(answer)
        })
        .await
    }

    async fn create_grant_version(
        &self,
        arn: &GrantArn,
        change: &GrantChange,
    ) -> Result<GrantRef, AwsError> {
        const OP: &str = "CreateGrantVersion";
        self.op(OP, |w, caller| {
            let key = (caller.clone(), OP, change.client_token.clone());
            let body = format!("{arn} {change:?}");
            if let Some((seen, answer)) = w.tokens.get(&key) {
                return if *seen == body {
                    Ok(answer.clone())
                } else {
                    Err(validation(
                        OP,
                        "ClientToken was already used with a different request",
                    ))
                };
            }
            if change.status == Some(GrantStatus::Disabled) {
                w.snapshot_revoke();
            }
            let reads = w.workflow_reads;
            let rec = w.grants.get_mut(arn).ok_or_else(|| not_found(OP, arn))?;
            let grantor = &rec.grant.arn.grantor_account() == caller;
            if !grantor && (change.name.is_some() || change.operations.is_some()) {
                return Err(validation(
                    OP,
                    "Only the grantor can change the name or the allowed operations",
                ));
            }
            let g = &mut rec.grant;
            if g.status.is_terminal() || g.status == GrantStatus::PendingDelete {
                return Err(validation(
                    OP,
                    format!("Grant is in status {} and cannot be changed", g.status),
                ));
            }
            if rec.workflow.is_some() {
                return Err(validation(OP, "Grant is in status PENDING_WORKFLOW"));
            }
            if let Some(sv) = &change.source_version
                && *sv != g.version
            {
                return Err(conflict(OP, &g.version));
            }
            let account = matches!(g.principal, Principal::Account(_));
            use GrantStatus as S;
            let mut workflow = None;
            if let Some(want) = &change.status {
                match (want, &g.status, account) {
                    (S::Active, S::Disabled, true) => g.status = S::Active,
                    (S::Active, S::Disabled, false) => workflow = Some((0, S::WorkflowCompleted)),
                    (S::Disabled, S::Active, true) => g.status = S::Disabled,
                    (S::Disabled, S::WorkflowCompleted, false) => workflow = Some((0, S::Disabled)),
                    (S::Active, S::Active | S::WorkflowCompleted, _)
                    | (S::Disabled, S::Disabled, _) => {}
                    _ => {
                        return Err(validation(
                            OP,
                            format!("Grant cannot change from {} to {want}", g.status),
                        ));
                    }
                }
            }
            if let Some(n) = &change.name {
                g.name = n.clone();
            }
            if let Some(o) = &change.operations {
                g.operations = o.clone();
            }
            if let Some((_, then)) = workflow {
                g.status = S::PendingWorkflow;
                rec.workflow = Some((reads, then));
            }
            World::bump(&mut rec.grant);
            let answer = GrantRef {
                arn: arn.clone(),
                status: rec.grant.status.clone(),
                version: rec.grant.version.clone(),
            };
            w.tokens.insert(key, (body, answer.clone()));
            w.log.push((OP, arn.to_string(), caller.clone()));
            Ok(answer)
        })
        .await
    }

    async fn delete_grant(&self, arn: &GrantArn, version: &str) -> Result<GrantRef, AwsError> {
        const OP: &str = "DeleteGrant";
        self.op(OP, |w, caller| {
            let rec = w.grants.get_mut(arn).ok_or_else(|| not_found(OP, arn))?;
            let g = &mut rec.grant;
            if g.status == GrantStatus::Deleted {
                return Err(validation(OP, "Grant is already deleted"));
            }
            if g.version != version {
                return Err(conflict(OP, &g.version));
            }
            if g.status == GrantStatus::PendingDelete {
                return Err(validation(OP, "Grant is being deleted"));
            }
            w.snapshot_revoke();
            let status = if w.pending_delete {
                GrantStatus::PendingDelete
            } else {
                GrantStatus::Deleted
            };
            let reads = w.workflow_reads;
            let rec = w.grants.get_mut(arn).ok_or_else(|| not_found(OP, arn))?;
            let g = &mut rec.grant;
            g.status = status.clone();
            rec.workflow =
                (status == GrantStatus::PendingDelete).then_some((reads, GrantStatus::Deleted));
            World::bump(g);
            let answer = GrantRef {
                arn: arn.clone(),
                status,
                version: g.version.clone(),
            };
            w.log.push((OP, arn.to_string(), caller.clone()));
            Ok(answer)
        })
        .await
    }

    async fn accept_grant(&self, arn: &GrantArn) -> Result<GrantRef, AwsError> {
        const OP: &str = "AcceptGrant";
        self.op(OP, |w, caller| {
            let rec = w.grants.get_mut(arn).ok_or_else(|| not_found(OP, arn))?;
            let g = &mut rec.grant;
            if g.principal != Principal::Account(caller.clone()) {
                return Err(validation(
                    OP,
                    format!(
                        "Caller arn:aws:iam::{caller}:root is not allowed to accept this grant."
                    ),
                ));
            }
            if g.status != GrantStatus::PendingAccept {
                return Err(validation(
                    OP,
                    format!(
                        "Grant is in status {}; only PENDING_ACCEPT can be accepted",
                        g.status
                    ),
                ));
            }
            g.status = GrantStatus::Disabled;
            World::bump(g);
            let answer = GrantRef {
                arn: arn.clone(),
                status: GrantStatus::Disabled,
                version: g.version.clone(),
            };
            w.log.push((OP, arn.to_string(), caller.clone()));
            Ok(answer)
        })
        .await
    }

    async fn list_received_grants(&self, _: Option<&LicenseArn>) -> Result<Vec<Grant>, AwsError> {
        Ok(Vec::new())
    }

    async fn list_received_grants_for_organization(
        &self,
        license: &LicenseArn,
        parent: Option<&GrantArn>,
    ) -> Result<Vec<Share>, AwsError> {
        self.op("ListReceivedGrantsForOrganization", |w, _| {
            let parents: Vec<GrantArn> = w
                .grants
                .values()
                .filter(|r| {
                    &r.grant.license_arn == license
                        && parent.is_none_or(|p| *p == r.grant.arn)
                        && w.members.contains_key(&r.grant.principal)
                })
                .map(|r| r.grant.arn.clone())
                .collect();
            let mut out = Vec::new();
            for arn in parents {
                let Some(g) = w.settle_and_observe(&arn) else {
                    continue;
                };
                let status = if g.status.is_effective() {
                    GrantStatus::Active
                } else {
                    g.status.clone()
                };
                for (n, account) in w.members[&g.principal].iter().enumerate() {
                    out.push(Share {
                        parent: g.arn.clone(),
                        arn: format!("{}{n:02x}", &g.arn.as_str()[..g.arn.as_str().len() - 2])
                            .parse()
                            .expect("valid"),
                        license_arn: license.clone(),
                        account: account.clone(),
                        status: status.clone(),
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    async fn get_service_settings(&self) -> Result<ServiceSettings, AwsError> {
        Ok(ServiceSettings {
            organization_integration: true,
        })
    }
}
