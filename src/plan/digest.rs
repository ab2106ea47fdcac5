//! Digests that tie a saved plan to what it was computed from: the live grants
//! ([`fingerprint`]) and the desired state ([`config_digest`]).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::config::DesiredStatus;
use crate::model::{LicenseArn, Live};
use crate::org::Desired;

/// SHA-256, hex, of the canonical JSON serialization of `value`.
fn sha256_json(value: &serde_json::Value) -> String {
    // Objects are built by `json!` with fixed keys and arrays from sorted collections, so the
    // text (sorted keys, or insertion order under `preserve_order`) depends only on the content.
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// A fingerprint of every live grant (any status) on `licenses`: ARN, status, version, name,
/// principal, license and allowed operations, sorted by ARN. `apply` recomputes it on fresh
/// live state and refuses a saved plan whose fingerprint moved.
pub fn fingerprint(live: &Live, licenses: &BTreeSet<LicenseArn>) -> String {
    let mut grants: Vec<_> = live
        .grants
        .iter()
        .filter(|g| licenses.contains(&g.license_arn))
        .collect();
    if !grants.is_sorted_by(|a, b| a.arn <= b.arn) {
        grants.sort_by(|a, b| a.arn.cmp(&b.arn));
    }
    // Fed field by field (each length-prefixed, so no two inputs share a byte stream): the
    // fingerprint of 20,000 grants costs a few milliseconds, not the time to build a JSON tree.
    let mut h = FieldHasher::default();
    h.count(licenses.len());
    for l in licenses {
        h.field(l.as_str());
    }
    h.count(grants.len());
    let mut principal = String::new();
    for g in grants {
        h.field(g.arn.as_str());
        h.field(g.status.as_str());
        h.field(&g.version);
        h.field(&g.name);
        principal.clear();
        let _ = write!(principal, "{}", g.principal);
        h.field(&principal);
        h.field(g.license_arn.as_str());
        h.count(g.operations.len());
        for op in &g.operations {
            h.field(op);
        }
    }
    h.finish()
}

/// SHA-256 over length-prefixed fields, hex.
#[derive(Default)]
struct FieldHasher(Sha256);

impl FieldHasher {
    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn field(&mut self, s: &str) {
        self.count(s.len());
        self.0.update(s.as_bytes());
    }

    fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// A digest of the desired state: every model's license, principals and status, and the
/// settings the planner uses. Warnings are left out.
pub fn config_digest(desired: &Desired) -> String {
    let mut h = FieldHasher::default();
    h.count(desired.models.len());
    for m in desired.models.values() {
        h.field(m.key.as_str());
        h.field(m.license.as_str());
        h.count(m.principals.len());
        let mut text = String::new();
        for p in &m.principals {
            text.clear();
            let _ = write!(text, "{p}");
            h.field(&text);
        }
        h.count(m.excluded.len());
        for a in &m.excluded {
            h.field(a.as_str());
        }
        h.field(match m.status {
            DesiredStatus::Active => "active",
            DesiredStatus::Disabled => "disabled",
        });
    }
    h.field(&desired.grant_name_prefix);
    h.count(desired.operations.len());
    for op in &desired.operations {
        h.field(op);
    }
    h.field(desired.recipient_role.as_deref().unwrap_or("\0none"));
    h.field(&desired.home_region);
    h.field(
        desired
            .activation_override
            .map(|o| o.api_value())
            .unwrap_or("\0none"),
    );
    h.field(if desired.targeted_only {
        "targeted"
    } else {
        "all"
    });
    h.finish()
}

/// The idempotency token of an action's mutating calls: a digest of the action and of every
/// live grant (any status, DELETED included) on its (license, principal) pair when planned.
/// Two applies of the same plan, or a retry after a lost response, send the same token and so
/// get the same grant; once the pair's state moves (a grant was created, deleted, ...) the next
/// plan's token differs, so a later re-create is never answered with an old, deleted grant.
/// `be-` + 64 hex characters, within the API's 2,048-character limit.
pub fn client_token(action: &crate::plan::Action, live: &Live) -> String {
    let grants: Vec<&crate::model::Grant> = live
        .grants
        .iter()
        .filter(|g| g.license_arn == action.license_arn && g.principal == action.principal)
        .collect();
    token_for(action, &grants)
}

/// `client_token` over the pair's grants, already picked out of the live state.
pub(crate) fn token_for(
    action: &crate::plan::Action,
    pair_grants: &[&crate::model::Grant],
) -> String {
    let mut history: Vec<_> = pair_grants
        .iter()
        .map(|g| serde_json::json!([g.arn.as_str(), g.version, g.status.as_str()]))
        .collect();
    history.sort_by_key(|v| v.to_string());
    let value = serde_json::json!({
        "action": action.kind.as_str(),
        "license": action.license_arn.as_str(),
        "principal": action.principal.to_string(),
        "grant": action.grant_arn.as_ref().map(|g| g.as_str()),
        "version": action.planned_version,
        "name": action.grant_name,
        "operations": action.operations,
        "target": format!("{:?}", action.target_status),
        "history": history,
    });
    format!("be-{}", sha256_json(&value))
}
