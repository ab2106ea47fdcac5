//! In-process and HTTP access to a running emulator: state dumps, call counts, knobs and
//! out-of-band changes (what happens in AWS behind the tool's back). The HTTP form lives under
//! `/_emulator/` on the same port and speaks JSON; docs/emulator.md lists the routes.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::options::EmulatorOptions;
use super::seed::{AccountSeed, GrantSeed};
use super::shares::EntitlementView;
use super::state::{AccountRec, GrantRec, Status, World};
use super::{EmulatorState, Stats};

pub(crate) const PREFIX: &str = "/_emulator/";

/// Why an admin request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// Setup facts for [`EmulatorState::set_setup_facts`]; `None` leaves a fact unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetupFacts {
    /// Trusted access for `license-management.marketplace.amazonaws.com`.
    pub marketplace_trusted_access: Option<bool>,
    /// License Manager's `OrganizationConfiguration.EnableIntegration`.
    pub enable_integration: Option<bool>,
    /// License Manager's `EnableCrossAccountsDiscovery`.
    pub cross_account_discovery: Option<bool>,
    /// AWSServiceRoleForAWSLicenseManagerRole exists.
    pub service_linked_role: Option<bool>,
    /// AWSServiceRoleForMarketplaceLicenseManagement exists.
    pub marketplace_service_linked_role: Option<bool>,
}

/// A grant as the emulator holds it (for tests and dumps).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    pub arn: String,
    pub name: String,
    pub grantor: String,
    pub license_arn: String,
    pub principal: String,
    pub parent_arn: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub version: u64,
    pub operations: Vec<String>,
    /// Reads left before a workflow in progress completes, and the status it ends in.
    pub workflow: Option<(u32, String)>,
    pub tags: BTreeMap<String, String>,
    /// An organization or OU grant's shares: account → the status it holds as an entitlement
    /// now (its settled share status, also while a workflow runs). Empty for account grants,
    /// before the first distribution, and once the grant is deleted.
    #[serde(default)]
    pub shares: BTreeMap<String, String>,
}

/// The whole state: organization, licenses, grants, in stable order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDump {
    pub region: String,
    pub organization: Value,
    pub licenses: Vec<Value>,
    pub grants: Vec<GrantView>,
}

fn view(world: &World, g: &GrantRec) -> GrantView {
    GrantView {
        arn: g.arn.clone(),
        name: g.name.clone(),
        grantor: g.grantor.clone(),
        license_arn: g.license_arn.clone(),
        principal: g.principal_arn.clone(),
        parent_arn: g.parent_arn.clone(),
        status: g.status.as_str().to_owned(),
        status_reason: g.status_reason.clone(),
        version: g.version,
        operations: g.operations.clone(),
        workflow: g
            .workflow
            .as_ref()
            .map(|w| (w.reads_left, w.then.as_str().to_owned())),
        tags: world.tags.get(&g.arn).cloned().unwrap_or_default(),
        shares: if g.is_account_grant() || g.share_default.is_none() {
            BTreeMap::new()
        } else {
            world
                .recipients(g)
                .into_iter()
                .filter_map(|a| {
                    let s = g.effective_share(&a)?;
                    Some((a, s.as_str().to_owned()))
                })
                .collect()
        },
    }
}

impl EmulatorState {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        let mut w = self.shared.world.lock().unwrap_or_else(|e| e.into_inner());
        w.settle_timed(super::clock::now());
        w
    }

    /// Who holds an ACTIVE entitlement right now: one entry per (product, account), sorted
    /// (ACTIVE account grants and ACTIVE shares of organization or OU grants; a share is named
    /// by its organization or OU grant's ARN). Cheap: no rendering, one short lock.
    pub fn entitlements(&self) -> Vec<EntitlementView> {
        self.world().entitlements()
    }

    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.shared.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn options_arc(&self) -> Arc<EmulatorOptions> {
        self.shared
            .options
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts a call of `op` and returns its 0-based index for the fault decisions.
    pub(crate) fn count_call(&self, op: &str) -> u64 {
        let index = {
            let mut s = self.stats();
            *s.calls.entry(op.to_owned()).or_default() += 1;
            let i = s.fault_index.entry(op.to_owned()).or_default();
            let index = *i;
            *i += 1;
            index
        };
        self.shared.calls.send_modify(|n| *n += 1);
        index
    }

    /// A receiver that changes on every call the emulator counts: `changed().await` wakes a
    /// test as soon as a call arrives, with no polling.
    pub fn watch_calls(&self) -> tokio::sync::watch::Receiver<u64> {
        self.shared.calls.subscribe()
    }

    pub(crate) fn record_error(&self, op: &str, code: &str) {
        let mut s = self.stats();
        *s.errors
            .entry(op.to_owned())
            .or_default()
            .entry(code.to_owned())
            .or_default() += 1;
    }

    pub(crate) fn record_lost(&self, op: &str) {
        *self.stats().lost.entry(op.to_owned()).or_default() += 1;
    }

    /// Takes a rate-limit token for `op`; false when throttled. An operation's own entry in
    /// `rate_limits` first, then `organizations_rate_limit` (a bucket per Organizations
    /// operation), then the shared `*` bucket.
    pub(crate) fn take_token(&self, op: &str, opts: &EmulatorOptions) -> bool {
        let org_limit = opts
            .organizations_rate_limit
            .filter(|_| super::organizations::OPERATIONS.contains(&op));
        let (key, limit) = match opts.rate_limits.get(op).copied().or(org_limit) {
            Some(l) => (op, l),
            None => match opts.rate_limits.get("*") {
                Some(l) => ("*", *l),
                None => return true,
            },
        };
        let mut l = self
            .shared
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        l.try_take(key, limit, super::clock::now())
    }

    /// The current knobs.
    pub fn options(&self) -> EmulatorOptions {
        (*self.options_arc()).clone()
    }

    /// Replaces the knobs. Rate-limit buckets start full again; a new fault seed restarts the
    /// per-operation call indices, so the faults replay from the start.
    pub fn set_options(&self, opts: EmulatorOptions) {
        let old_seed = self.options_arc().fault_seed;
        if opts.fault_seed != old_seed {
            self.stats().fault_index.clear();
        }
        self.shared
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self
            .shared
            .options
            .write()
            .unwrap_or_else(|e| e.into_inner()) = Arc::new(opts);
    }

    /// Changes some knobs.
    pub fn update_options(&self, f: impl FnOnce(&mut EmulatorOptions)) {
        let mut opts = self.options();
        f(&mut opts);
        self.set_options(opts);
    }

    /// Calls per operation name (`CreateGrant`, `ListAccounts`, `AssumeRole`, ...), including
    /// calls that failed or were throttled.
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        self.stats().calls.clone()
    }

    pub fn call_count(&self, op: &str) -> u64 {
        self.stats().calls.get(op).copied().unwrap_or(0)
    }

    /// Error responses per operation and error code (injected faults included).
    pub fn error_counts(&self) -> BTreeMap<String, BTreeMap<String, u64>> {
        self.stats().errors.clone()
    }

    /// Responses deliberately lost, per operation.
    pub fn lost_counts(&self) -> BTreeMap<String, u64> {
        self.stats().lost.clone()
    }

    /// Zeroes the call, error and lost counts (not the fault indices: a run keeps replaying).
    pub fn reset_counts(&self) {
        let mut s = self.stats();
        s.calls.clear();
        s.errors.clear();
        s.lost.clear();
    }

    /// Puts the world back to the seed (grants, organization, sessions, tokens) and zeroes counts.
    pub fn reset(&self) {
        let world = World::from_seed(&self.shared.seed).expect("the seed was valid at start");
        *self.world() = world;
        *self.stats() = Stats::default();
        self.shared
            .scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Every grant (not the derived per-account sub-grants), in creation order.
    pub fn grants(&self) -> Vec<GrantView> {
        let w = self.world();
        w.grants.iter().map(|g| view(&w, g)).collect()
    }

    pub fn grant(&self, arn: &str) -> Option<GrantView> {
        let w = self.world();
        w.grant_index.get(arn).map(|i| view(&w, &w.grants[*i]))
    }

    /// The whole state, in stable order.
    pub fn dump(&self) -> StateDump {
        let w = self.world();
        let org = &w.org;
        let organization = json!({
            "id": org.id,
            "arn": org.arn,
            "feature_set": org.feature_set.as_str(),
            "management_account": org.management,
            "root": org.root_id,
            "trusted_access": org.trusted_access,
            "service_linked_role": org.service_linked_role,
            "marketplace_service_linked_role": org.marketplace_service_linked_role,
            "service_linked_roles": org.service_linked_roles(),
            "enable_integration": org.enable_integration,
            "cross_account_discovery": org.cross_account_discovery,
            "enabled_services": org.services(),
            "delegated_administrator": org.delegated_admin,
            "organizational_units": org.ous.values().map(|o| json!({"id": o.id, "name": o.name, "parent": o.parent})).collect::<Vec<_>>(),
            "accounts": org.accounts.values().map(|a| json!({"id": a.id, "name": a.name, "email": a.email, "state": a.state, "parent": a.parent})).collect::<Vec<_>>(),
        });
        let licenses = w
            .licenses
            .iter()
            .map(|l| {
                json!({
                    "arn": l.arn,
                    "name": l.name,
                    "product_name": l.product_name,
                    "product_sku": l.sku,
                    "issuer": l.issuer,
                    "beneficiary": l.beneficiary,
                    "status": l.status,
                    "allowed_operations": l.allowed_operations,
                })
            })
            .collect();
        StateDump {
            region: w.region.clone(),
            organization,
            licenses,
            grants: w.grants.iter().map(|g| view(&w, g)).collect(),
        }
    }

    fn with_grant(
        &self,
        arn: &str,
        f: impl FnOnce(&mut GrantRec) -> Result<(), AdminError>,
    ) -> Result<GrantView, AdminError> {
        let mut w = self.world();
        let i = *w
            .grant_index
            .get(arn)
            .ok_or_else(|| AdminError::NotFound(format!("grant {arn}")))?;
        f(&mut w.grants[i])?;
        Ok(view(&w, &w.grants[i]))
    }

    /// Sets a grant's status out of band (as the console, another tool or AWS itself would),
    /// ending any workflow; the version moves.
    pub fn set_grant_status(&self, arn: &str, status: &str) -> Result<GrantView, AdminError> {
        let st = Status::parse(status)
            .ok_or_else(|| AdminError::Invalid(format!("unknown grant status {status}")))?;
        let mut w = self.world();
        let i = *w
            .grant_index
            .get(arn)
            .ok_or_else(|| AdminError::NotFound(format!("grant {arn}")))?;
        w.timed.remove(&i);
        let g = &mut w.grants[i];
        g.status = st;
        g.workflow = None;
        g.delete_due = None;
        if !g.is_account_grant()
            && let Some(shares) = GrantRec::shares_for(st)
        {
            g.share_default = Some(shares);
            g.share_overrides.clear();
        }
        g.bump();
        Ok(view(&w, &w.grants[i]))
    }

    /// Disables a grant out of band.
    pub fn disable_grant(&self, arn: &str) -> Result<GrantView, AdminError> {
        self.set_grant_status(arn, "DISABLED")
    }

    /// Deletes a grant out of band.
    pub fn delete_grant(&self, arn: &str) -> Result<GrantView, AdminError> {
        self.set_grant_status(arn, "DELETED")
    }

    /// Renames a grant out of band (a new version).
    pub fn rename_grant(&self, arn: &str, name: &str) -> Result<GrantView, AdminError> {
        self.with_grant(arn, |g| {
            g.name = name.to_owned();
            g.bump();
            Ok(())
        })
    }

    /// Adds a grant made outside the tool (any name, any status), as in the seed's `grants`.
    pub fn add_grant(&self, grant: GrantSeed) -> Result<GrantView, AdminError> {
        let mut w = self.world();
        w.add_seed_grant(&grant).map_err(AdminError::Invalid)?;
        let g = w.grants.last().expect("the grant was just added");
        Ok(view(&w, g))
    }

    /// Moves an account to another parent (the root or an OU).
    pub fn move_account(&self, account: &str, parent: &str) -> Result<(), AdminError> {
        let mut w = self.world();
        if !w.org.is_parent(parent) {
            return Err(AdminError::NotFound(format!("parent {parent}")));
        }
        let a = w
            .org
            .accounts
            .get_mut(account)
            .ok_or_else(|| AdminError::NotFound(format!("account {account}")))?;
        a.parent = parent.to_owned();
        Ok(())
    }

    /// Adds an account to the organization (it receives the org/OU grants that reach its parent).
    pub fn add_account(&self, account: AccountSeed) -> Result<(), AdminError> {
        let mut w = self.world();
        if !super::ids::is_account(&account.id) {
            return Err(AdminError::Invalid(format!(
                "account id {:?} is not 12 digits",
                account.id
            )));
        }
        if w.org.accounts.contains_key(&account.id) {
            return Err(AdminError::Invalid(format!(
                "account {} is already in the organization",
                account.id
            )));
        }
        let parent = account
            .parent
            .clone()
            .unwrap_or_else(|| w.org.root_id.clone());
        if !w.org.is_parent(&parent) {
            return Err(AdminError::NotFound(format!("parent {parent}")));
        }
        let rec = AccountRec {
            email: account
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@example.com", account.name)),
            id: account.id.clone(),
            name: account.name,
            state: account.state,
            parent,
            joined_method: account.joined_method,
            joined_timestamp: account.joined_timestamp,
        };
        w.org.accounts.insert(account.id, rec);
        Ok(())
    }

    /// Removes an account from the organization (not the management account).
    pub fn remove_account(&self, account: &str) -> Result<(), AdminError> {
        let mut w = self.world();
        if account == w.org.management {
            return Err(AdminError::Invalid(
                "the management account cannot leave the organization".to_owned(),
            ));
        }
        w.org
            .accounts
            .remove(account)
            .map(|_| ())
            .ok_or_else(|| AdminError::NotFound(format!("account {account}")))
    }

    /// Turns trusted access for License Manager on or off.
    pub fn set_trusted_access(&self, on: bool) -> Result<(), AdminError> {
        let mut w = self.world();
        if on && w.org.feature_set != super::state::FeatureSet::All {
            return Err(AdminError::Invalid(
                "trusted access needs an organization with all features".to_owned(),
            ));
        }
        w.org.trusted_access = on;
        Ok(())
    }

    /// Changes the setup facts that are kept apart from License Manager's trusted access
    /// (`None` leaves one as it is); none changes another.
    pub fn set_setup_facts(&self, facts: SetupFacts) -> Result<(), AdminError> {
        let mut w = self.world();
        let all = w.org.feature_set == super::state::FeatureSet::All;
        if !all
            && (facts.marketplace_trusted_access == Some(true)
                || facts.enable_integration == Some(true)
                || facts.cross_account_discovery == Some(true))
        {
            return Err(AdminError::Invalid(
                "trusted access and the organization integration need an organization with all features".to_owned(),
            ));
        }
        if let Some(on) = facts.marketplace_trusted_access {
            let p = super::state::MARKETPLACE_SERVICE_PRINCIPAL.to_owned();
            if on {
                w.org.other_services.insert(p);
            } else {
                w.org.other_services.remove(&p);
            }
        }
        if let Some(on) = facts.enable_integration {
            w.org.enable_integration = on;
        }
        if let Some(on) = facts.cross_account_discovery {
            w.org.cross_account_discovery = on;
        }
        if let Some(on) = facts.service_linked_role {
            w.org.service_linked_role = on;
        }
        if let Some(on) = facts.marketplace_service_linked_role {
            w.org.marketplace_service_linked_role = on;
        }
        Ok(())
    }

    /// Registers (or, with None, deregisters) the License Manager delegated administrator.
    pub fn set_delegated_administrator(&self, account: Option<&str>) -> Result<(), AdminError> {
        let mut w = self.world();
        if let Some(a) = account {
            if !w.org.accounts.contains_key(a) {
                return Err(AdminError::NotFound(format!("account {a}")));
            }
            if a == w.org.management {
                return Err(AdminError::Invalid(
                    "the management account cannot be a delegated administrator".to_owned(),
                ));
            }
        }
        w.org.delegated_admin = account.map(str::to_owned);
        Ok(())
    }
}

fn reply(status: u16, body: Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn admin_error(e: AdminError) -> Response<Full<Bytes>> {
    let status = match e {
        AdminError::NotFound(_) => 404,
        AdminError::Invalid(_) => 400,
    };
    reply(status, json!({"error": e.to_string()}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantRef {
    grant_arn: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultScript {
    operation: String,
    faults: Vec<super::ScriptedFault>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountMove {
    account_id: String,
    parent_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountRef {
    account_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgChange {
    #[serde(default)]
    trusted_access: Option<bool>,
    #[serde(default)]
    marketplace_trusted_access: Option<bool>,
    #[serde(default)]
    enable_integration: Option<bool>,
    #[serde(default)]
    cross_account_discovery: Option<bool>,
    #[serde(default)]
    service_linked_role: Option<bool>,
    #[serde(default)]
    marketplace_service_linked_role: Option<bool>,
    /// `null` deregisters; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    delegated_administrator: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminError> {
    serde_json::from_slice(body).map_err(|e| AdminError::Invalid(e.to_string()))
}

/// Merges a JSON object into the current options (keys absent from the patch are kept).
fn patch_options(current: &EmulatorOptions, patch: &[u8]) -> Result<EmulatorOptions, AdminError> {
    let patch: Value = parse(patch)?;
    let Value::Object(patch) = patch else {
        return Err(AdminError::Invalid(
            "the options patch must be a JSON object".to_owned(),
        ));
    };
    let mut v = serde_json::to_value(current).map_err(|e| AdminError::Invalid(e.to_string()))?;
    if let Value::Object(m) = &mut v {
        for (k, val) in patch {
            m.insert(k, val);
        }
    }
    serde_json::from_value(v).map_err(|e| AdminError::Invalid(e.to_string()))
}

pub(crate) fn handle_http(
    state: &EmulatorState,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Response<Full<Bytes>> {
    let route = path.trim_start_matches(PREFIX).trim_end_matches('/');
    let get = method == Method::GET;
    let post = method == Method::POST;
    let done = |r: Result<Value, AdminError>| match r {
        Ok(v) => reply(200, v),
        Err(e) => admin_error(e),
    };
    if let Some(v) = super::scp_eval::admin_route(state, get, route, body) {
        return done(v);
    }
    match route {
        "state" if get => reply(200, to_json(&state.dump())),
        "calls" if get => reply(
            200,
            json!({"calls": state.call_counts(), "errors": state.error_counts(), "lost": state.lost_counts()}),
        ),
        "calls/reset" if post => {
            state.reset_counts();
            reply(200, json!({}))
        }
        "reset" if post => {
            state.reset();
            reply(200, json!({}))
        }
        "options" if get => reply(200, to_json(&state.options())),
        "faults/script" if get => reply(200, to_json(&state.scripted_faults())),
        "faults/script" if post => done(parse::<FaultScript>(body).map(|f| {
            state.script_faults(&f.operation, f.faults);
            json!({})
        })),
        "entitlements" if get => reply(200, json!({"entitlements": state.entitlements()})),
        "options" if post => done(patch_options(&state.options(), body).map(|o| {
            let v = to_json(&o);
            state.set_options(o);
            v
        })),
        "grants" if get => reply(200, to_json(&state.grants())),
        "grants" if post => done(
            parse::<GrantSeed>(body)
                .and_then(|g| state.add_grant(g))
                .map(|g| to_json(&g)),
        ),
        "grants/disable" | "grants/delete" | "grants/status" | "grants/rename" if post => {
            done(parse::<GrantRef>(body).and_then(|r| {
                let v = match route {
                    "grants/disable" => state.disable_grant(&r.grant_arn),
                    "grants/delete" => state.delete_grant(&r.grant_arn),
                    "grants/rename" => match &r.name {
                        Some(n) => state.rename_grant(&r.grant_arn, n),
                        None => Err(AdminError::Invalid("name is required".to_owned())),
                    },
                    _ => match &r.status {
                        Some(s) => state.set_grant_status(&r.grant_arn, s),
                        None => Err(AdminError::Invalid("status is required".to_owned())),
                    },
                }?;
                Ok(to_json(&v))
            }))
        }
        "accounts" if post => done(
            parse::<AccountSeed>(body)
                .and_then(|a| state.add_account(a))
                .map(|()| json!({})),
        ),
        "accounts/move" if post => done(
            parse::<AccountMove>(body)
                .and_then(|m| state.move_account(&m.account_id, &m.parent_id))
                .map(|()| json!({})),
        ),
        "accounts/remove" if post => done(
            parse::<AccountRef>(body)
                .and_then(|a| state.remove_account(&a.account_id))
                .map(|()| json!({})),
        ),
        "organization" if post => done(parse::<OrgChange>(body).and_then(|c| {
            if let Some(on) = c.trusted_access {
                state.set_trusted_access(on)?;
            }
            state.set_setup_facts(SetupFacts {
                marketplace_trusted_access: c.marketplace_trusted_access,
                enable_integration: c.enable_integration,
                cross_account_discovery: c.cross_account_discovery,
                service_linked_role: c.service_linked_role,
                marketplace_service_linked_role: c.marketplace_service_linked_role,
            })?;
            if let Some(da) = c.delegated_administrator {
                state.set_delegated_administrator(da.as_deref())?;
            }
            Ok(json!({}))
        })),
        _ => reply(
            404,
            json!({"error": format!("no admin route {method} {path}; see docs/emulator.md")}),
        ),
    }
}

fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
