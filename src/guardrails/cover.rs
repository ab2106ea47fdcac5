//! The minimal cover of the accounts to deny: the fewest roots, OUs and accounts whose subtrees
//! hold every account to deny and no account to keep.
//!
//! The cover is the set of maximal "clean" subtrees (no account to keep) that hold an account to
//! deny: any cover needs one target in each of them, since targets in two disjoint subtrees never
//! coincide, so no cover is smaller.

use std::collections::{BTreeMap, BTreeSet};

use super::Target;
use crate::model::{AccountId, Organization, ParentId};

/// The organization's tree as children lists.
pub(crate) struct Tree {
    root: Target,
    ous: BTreeMap<Target, Vec<Target>>,
    accounts: BTreeMap<Target, Vec<AccountId>>,
}

/// Accounts to deny and accounts that must keep access, for one model.
pub(crate) struct Sides<'a> {
    pub deny: &'a BTreeSet<AccountId>,
    pub keep: &'a BTreeSet<AccountId>,
}

/// What one subtree holds, and its cover.
struct Sub {
    has_deny: bool,
    has_keep: bool,
    cover: Vec<Target>,
}

fn parent_target(org: &Organization, p: &ParentId) -> Target {
    match p {
        ParentId::Root(_) => Target::Root(org.root.clone()),
        ParentId::Ou(ou) => Target::Ou(ou.clone()),
    }
}

/// OU nesting is at most five levels deep in AWS; a deeper chain is a malformed tree.
const MAX_DEPTH: usize = 16;

impl Tree {
    pub(crate) fn new(org: &Organization) -> Tree {
        let mut ous: BTreeMap<Target, Vec<Target>> = BTreeMap::new();
        for ou in org.ous.values() {
            ous.entry(parent_target(org, &ou.parent))
                .or_default()
                .push(Target::Ou(ou.id.clone()));
        }
        let mut accounts: BTreeMap<Target, Vec<AccountId>> = BTreeMap::new();
        for a in org.accounts.values() {
            accounts
                .entry(parent_target(org, &a.parent))
                .or_default()
                .push(a.id.clone());
        }
        Tree {
            root: Target::Root(org.root.clone()),
            ous,
            accounts,
        }
    }

    /// The minimal cover of `sides.deny` that contains no account of `sides.keep`.
    pub(crate) fn cover(&self, sides: &Sides<'_>) -> BTreeSet<Target> {
        self.sub(&self.root, sides, 0).cover.into_iter().collect()
    }

    /// The cover of a clean `node`'s accounts to deny one level down (its child OUs holding one,
    /// and its own accounts to deny); `None` for an account.
    pub(crate) fn push_down(&self, node: &Target, sides: &Sides<'_>) -> Option<Vec<Target>> {
        if matches!(node, Target::Account(_)) {
            return None;
        }
        Some(self.children(node, sides, 0).cover)
    }

    fn children(&self, node: &Target, sides: &Sides<'_>, depth: usize) -> Sub {
        let mut out = Sub {
            has_deny: false,
            has_keep: false,
            cover: Vec::new(),
        };
        if depth > MAX_DEPTH {
            return out;
        }
        for child in self.ous.get(node).into_iter().flatten() {
            let s = self.sub(child, sides, depth + 1);
            out.has_deny |= s.has_deny;
            out.has_keep |= s.has_keep;
            out.cover.extend(s.cover);
        }
        for a in self.accounts.get(node).into_iter().flatten() {
            if sides.keep.contains(a) {
                out.has_keep = true;
            } else if sides.deny.contains(a) {
                out.has_deny = true;
                out.cover.push(Target::Account(a.clone()));
            }
        }
        out
    }

    fn sub(&self, node: &Target, sides: &Sides<'_>, depth: usize) -> Sub {
        let mut s = self.children(node, sides, depth);
        if s.has_deny && !s.has_keep {
            s.cover = vec![node.clone()];
        }
        s
    }
}
