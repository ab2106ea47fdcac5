//! Digests that tie a saved plan to what it was computed from: the live grants
//! ([`fingerprint`]) and the desired state ([`config_digest`]).

use std::collections::BTreeSet;

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
    grants.sort_by(|a, b| a.arn.cmp(&b.arn));
    let rows: Vec<serde_json::Value> = grants
        .iter()
        .map(|g| {
            serde_json::json!([
                g.arn.as_str(),
                g.status.as_str(),
                g.version,
                g.name,
                g.principal.arn(),
                g.license_arn.as_str(),
                g.operations.iter().collect::<Vec<_>>(),
            ])
        })
        .collect();
    let licenses: Vec<&str> = licenses.iter().map(LicenseArn::as_str).collect();
    sha256_json(&serde_json::json!({ "licenses": licenses, "grants": rows }))
}

/// A digest of the desired state: every model's license, principals and status, and the
/// settings the planner uses. Warnings are left out.
pub fn config_digest(desired: &Desired) -> String {
    let models: Vec<serde_json::Value> = desired
        .models
        .values()
        .map(|m| {
            serde_json::json!({
                "key": m.key.as_str(),
                "license": m.license.as_str(),
                "principals": m.principals.iter().map(|p| p.arn()).collect::<Vec<_>>(),
                "excluded": m.excluded.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "status": match m.status {
                    DesiredStatus::Active => "active",
                    DesiredStatus::Disabled => "disabled",
                },
            })
        })
        .collect();
    sha256_json(&serde_json::json!({
        "models": models,
        "grant_name_prefix": desired.grant_name_prefix,
        "operations": desired.operations.iter().collect::<Vec<_>>(),
        "recipient_role": desired.recipient_role,
        "home_region": desired.home_region,
        "activation_override": desired.activation_override.map(|o| o.api_value()),
        "targeted_only": desired.targeted_only,
    }))
}

/// The idempotency token of an action's mutating calls: a digest of the action and of every
/// live grant (any status, DELETED included) on its (license, principal) pair when planned.
/// Two applies of the same plan, or a retry after a lost response, send the same token and so
/// get the same grant; once the pair's state moves (a grant was created, deleted, ...) the next
/// plan's token differs, so a later re-create is never answered with an old, deleted grant.
/// `be-` + 64 hex characters, within the API's 2,048-character limit.
pub fn client_token(action: &crate::plan::Action, live: &Live) -> String {
    let mut history: Vec<_> = live
        .grants
        .iter()
        .filter(|g| g.license_arn == action.license_arn && g.principal == action.principal)
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
