//! Audits of live state against the desired state, for the GitOps commands: drift
//! classification (`drift`), the effective-access matrix (`access`), and a desired-state file
//! derived from live grants (`import`). Pure, like `plan`: no I/O, no clock, no env; the same
//! input gives the same output, in the same order.
//!
//! - [`drift::classify`] sorts every difference a plan found into a [`DriftKind`].
//! - [`access::matrix`] says, for every account and model, which grant gives access (or why none).
//! - [`import::import`] derives a [`crate::config::Config`] whose plan against the same live
//!   state is empty, and the renames `import --adopt` would make.

pub mod access;
pub mod drift;
pub mod guardrail_drift;
#[cfg(test)]
mod guardrail_drift_tests;
pub mod import;
pub mod invoke;
pub mod names;

#[cfg(test)]
mod tests;

pub use access::{
    Access, AccessMatrix, AccessView, Cell, CellState, Leak, MatrixModel, Reach, Route, Row,
    Wanted, explain, matrix,
};
pub use drift::{
    Baseline, BaselineInfo, DriftInput, DriftItem, DriftKind, DriftReport, GrantFacts, classify,
};
pub use import::{Adoption, ImportOptions, Imported, import};
pub use invoke::InvokeState;
pub use names::{key_from_product_name, unique_key};

use std::collections::BTreeMap;

use crate::config::ModelKey;
use crate::model::{AccountId, LicenseArn, Live, Organization, OuId, ParentId, Principal};
use crate::org::Desired;

/// The first segment of every OU path (the name Organizations gives the root).
const ROOT_NAME: &str = "Root";

/// `Root/Workloads/ML` for an OU (its id in place of a missing name).
pub(crate) fn ou_path(org: &Organization, ou: &OuId) -> String {
    let mut names = Vec::new();
    let mut current = Some(ou.clone());
    while let Some(id) = current {
        if names.len() > org.ous.len() {
            break; // a cycle in malformed input
        }
        match org.ous.get(&id) {
            Some(unit) => {
                names.push(unit.name.clone());
                current = match &unit.parent {
                    ParentId::Ou(p) => Some(p.clone()),
                    ParentId::Root(_) => None,
                };
            }
            None => {
                names.push(id.to_string());
                current = None;
            }
        }
    }
    names.push(ROOT_NAME.to_owned());
    names.reverse();
    names.join("/")
}

/// Where an account sits: `Root` or the path of its OU.
pub(crate) fn account_path(org: &Organization, account: &AccountId) -> Option<String> {
    org.accounts.get(account).map(|a| match &a.parent {
        ParentId::Root(_) => ROOT_NAME.to_owned(),
        ParentId::Ou(ou) => ou_path(org, ou),
    })
}

/// The OUs that contain `parent`, innermost first (the parent itself when it is an OU).
fn ancestors(org: &Organization, parent: &ParentId) -> Vec<OuId> {
    let mut out = Vec::new();
    let mut current = parent.clone();
    while let ParentId::Ou(ou) = current {
        if out.len() > org.ous.len() || out.contains(&ou) {
            break;
        }
        out.push(ou.clone());
        current = match org.ous.get(&ou) {
            Some(unit) => unit.parent.clone(),
            None => break,
        };
    }
    out
}

/// True when a grant to `outer` reaches everything a grant to `inner` reaches, because `inner`
/// lies inside `outer` in this organization (or they are equal).
pub(crate) fn principal_within(org: &Organization, inner: &Principal, outer: &Principal) -> bool {
    if inner == outer {
        return true;
    }
    if let Principal::Account(_) = outer {
        // Nothing but the account itself is within an account.
        return false;
    }
    let in_this_org = |p: &Principal| match p {
        Principal::Organization { org: id, .. } | Principal::Ou { org: id, .. } => *id == org.id,
        Principal::Account(_) => true,
    };
    if !in_this_org(outer) || !in_this_org(inner) {
        return false;
    }
    let chain = match inner {
        Principal::Organization { .. } => return false,
        Principal::Ou { ou, .. } => match org.ous.get(ou) {
            Some(unit) => {
                let mut c = vec![ou.clone()];
                c.extend(ancestors(org, &unit.parent));
                c
            }
            None => return false,
        },
        Principal::Account(a) => match org.accounts.get(a) {
            Some(acct) => ancestors(org, &acct.parent),
            None => return false,
        },
    };
    match outer {
        Principal::Organization { .. } => true,
        Principal::Ou { ou, .. } => chain.contains(ou),
        Principal::Account(_) => false,
    }
}

/// How people name a principal: `the organization o-…`, `OU Root/Workloads/ML (ou-…)`,
/// `account 111122223333 (ml-prod)`.
pub(crate) fn describe_principal(org: &Organization, p: &Principal) -> String {
    match p {
        Principal::Organization { org: id, .. } => format!("the organization {id}"),
        Principal::Ou { ou, .. } if org.ous.contains_key(ou) => {
            format!("OU {} ({ou})", ou_path(org, ou))
        }
        Principal::Ou { ou, .. } => format!("OU {ou}"),
        Principal::Account(a) => describe_account(org, a),
    }
}

/// `the organization o-…`, `OU ou-…`, `account 111122223333`: without the tree.
pub(crate) fn describe_principal_short(p: &Principal) -> String {
    match p {
        Principal::Organization { org, .. } => format!("the organization {org}"),
        Principal::Ou { ou, .. } => format!("OU {ou}"),
        Principal::Account(a) => format!("account {a}"),
    }
}

/// Suspended and closing accounts cannot use a model (nor be granted one).
pub(crate) fn usable(state: &crate::model::AccountState) -> bool {
    use crate::model::AccountState;
    !matches!(
        state,
        AccountState::Suspended | AccountState::PendingClosure | AccountState::Closed
    )
}

/// `account 111122223333 (ml-prod)`, or without the name outside the organization.
pub(crate) fn describe_account(org: &Organization, a: &AccountId) -> String {
    match org.accounts.get(a) {
        Some(acct) if !acct.name.is_empty() => format!("account {a} ({})", acct.name),
        _ => format!("account {a}"),
    }
}

/// The key each license goes by in reports: the key of the model that names it in the file,
/// else one derived from its product name (unique, never a key of the file), else `license-…`.
/// Covers the licenses `desired` names and every received license.
pub fn model_keys(desired: Option<&Desired>, live: &Live) -> BTreeMap<LicenseArn, ModelKey> {
    let mut keys = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    if let Some(d) = desired {
        for m in d.models.values() {
            keys.insert(m.license.clone(), m.key.clone());
            taken.insert(m.key.clone());
        }
    }
    for license in &live.licenses {
        if keys.contains_key(&license.arn) {
            continue;
        }
        let base = key_from_product_name(&license.product_name).unwrap_or_else(|| {
            let id = license.arn.as_str().rsplit(':').next().unwrap_or("l");
            ModelKey::parse(&format!(
                "license-{}",
                id.trim_start_matches("l-").to_ascii_lowercase()
            ))
            .or_else(|| ModelKey::parse("license"))
            .expect("a literal key")
        });
        keys.insert(license.arn.clone(), unique_key(&base, &mut taken));
    }
    keys
}
