//! Finding things the user names: an account by id or name, the models `--target` names. The
//! one place either is looked up; `resolve` words a failure as a positioned diagnostic, `cli`
//! as an error of its option.

use std::collections::BTreeSet;

use crate::config::{AccountRef, Config, ModelKey};
use crate::model::{AccountId, OrgId, Organization};

/// Why an account reference names no single account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountLookupError {
    #[error("account {id} is not a member of organization {org}")]
    NotMember { id: AccountId, org: OrgId },
    /// No account has the name; `similar` holds `name (id)` of those equal but for case.
    #[error("no account of organization {org} is named {name:?}")]
    NoSuchName {
        name: String,
        org: OrgId,
        similar: Vec<String>,
    },
    #[error("account name {name:?} is ambiguous: {} accounts have it", ids.len())]
    Ambiguous { name: String, ids: Vec<AccountId> },
}

/// The account `reference` names: an id of a member, or the one account with exactly this name
/// (names are case-sensitive, as Organizations keeps them).
pub fn find_account(
    org: &Organization,
    reference: &AccountRef,
) -> Result<AccountId, AccountLookupError> {
    let name = match reference {
        AccountRef::Id(id) if org.accounts.contains_key(id) => return Ok(id.clone()),
        AccountRef::Id(id) => {
            return Err(AccountLookupError::NotMember {
                id: id.clone(),
                org: org.id.clone(),
            });
        }
        AccountRef::Name(name) => name,
    };
    let found: Vec<&AccountId> = org
        .accounts
        .values()
        .filter(|a| &a.name == name)
        .map(|a| &a.id)
        .collect();
    match found.as_slice() {
        [id] => Ok((*id).clone()),
        [] => Err(AccountLookupError::NoSuchName {
            name: name.clone(),
            org: org.id.clone(),
            similar: org
                .accounts
                .values()
                .filter(|a| a.name.eq_ignore_ascii_case(name))
                .map(|a| format!("{} ({})", a.name, a.id))
                .collect(),
        }),
        several => Err(AccountLookupError::Ambiguous {
            name: name.clone(),
            ids: several.iter().map(|id| (*id).clone()).collect(),
        }),
    }
}

/// `--target` names models the file does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--target {}: the file has no model {}; models in the file: {}",
    list(unknown), list(unknown), if known.is_empty() { "none".to_owned() } else { list(known) }
)]
pub struct UnknownTargets {
    pub unknown: Vec<ModelKey>,
    pub known: Vec<ModelKey>,
}

fn list(keys: &[ModelKey]) -> String {
    keys.iter()
        .map(ModelKey::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that every `--target` names a model of the file: the one check of `--target` (made
/// by `cli` before any AWS call; [`super::resolve`] takes the targets as checked).
pub fn check_targets(config: &Config, targets: &BTreeSet<ModelKey>) -> Result<(), UnknownTargets> {
    let unknown: Vec<ModelKey> = targets
        .iter()
        .filter(|t| config.model(t.as_str()).is_none())
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(UnknownTargets {
        unknown,
        known: config.models.iter().map(|m| m.key.value.clone()).collect(),
    })
}
