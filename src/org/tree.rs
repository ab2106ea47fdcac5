//! An index over the organization tree: children of each node, accounts under each subtree,
//! paths by name, and the minimal cover of a set of targets minus excluded accounts.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{AccountId, AccountState, Organization, OuId, ParentId, Principal};

/// A node of the tree that can hold a grant: the root (the whole organization) or an OU.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Node {
    Root,
    Ou(OuId),
}

impl Node {
    fn of_parent(parent: &ParentId) -> Node {
        match parent {
            // An organization has exactly one root; any root id means that root.
            ParentId::Root(_) => Node::Root,
            ParentId::Ou(ou) => Node::Ou(ou.clone()),
        }
    }
}

/// Accounts in these states can still use a model and be granted one; suspended and closing
/// accounts cannot, so covers never name them and effective-access lists leave them out.
pub(crate) fn is_grantable(state: &AccountState) -> bool {
    !matches!(
        state,
        AccountState::Suspended | AccountState::PendingClosure | AccountState::Closed
    )
}

/// Children and subtree contents of every node, computed once.
pub(crate) struct OrgIndex<'a> {
    pub(crate) org: &'a Organization,
    child_ous: BTreeMap<Node, Vec<OuId>>,
    child_accounts: BTreeMap<Node, Vec<AccountId>>,
    /// Every account in the subtree of each node, nested OUs included.
    subtree: BTreeMap<Node, BTreeSet<AccountId>>,
}

impl<'a> OrgIndex<'a> {
    pub(crate) fn new(org: &'a Organization) -> Self {
        let mut child_ous: BTreeMap<Node, Vec<OuId>> = BTreeMap::new();
        let mut child_accounts: BTreeMap<Node, Vec<AccountId>> = BTreeMap::new();
        for ou in org.ous.values() {
            child_ous
                .entry(Node::of_parent(&ou.parent))
                .or_default()
                .push(ou.id.clone());
        }
        for account in org.accounts.values() {
            child_accounts
                .entry(Node::of_parent(&account.parent))
                .or_default()
                .push(account.id.clone());
        }
        let mut index = OrgIndex {
            org,
            child_ous,
            child_accounts,
            subtree: BTreeMap::new(),
        };
        let mut subtree = BTreeMap::new();
        let mut on_path = BTreeSet::new();
        index.fill_subtree(&Node::Root, &mut subtree, &mut on_path);
        // OUs not reachable from the root (inconsistent input) still get their own subtree.
        for ou in org.ous.keys() {
            index.fill_subtree(&Node::Ou(ou.clone()), &mut subtree, &mut on_path);
        }
        index.subtree = subtree;
        index
    }

    fn fill_subtree(
        &self,
        node: &Node,
        subtree: &mut BTreeMap<Node, BTreeSet<AccountId>>,
        on_path: &mut BTreeSet<Node>,
    ) {
        if subtree.contains_key(node) || !on_path.insert(node.clone()) {
            return; // done already, or a cycle in malformed input
        }
        let mut accounts: BTreeSet<AccountId> = self.child_accounts(node).iter().cloned().collect();
        for child in self.child_ous(node) {
            let child = Node::Ou(child.clone());
            self.fill_subtree(&child, subtree, on_path);
            if let Some(below) = subtree.get(&child) {
                accounts.extend(below.iter().cloned());
            }
        }
        on_path.remove(node);
        subtree.insert(node.clone(), accounts);
    }

    pub(crate) fn child_ous(&self, node: &Node) -> &[OuId] {
        self.child_ous.get(node).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn child_accounts(&self, node: &Node) -> &[AccountId] {
        self.child_accounts.get(node).map_or(&[], Vec::as_slice)
    }

    /// Every account under `node`, nested OUs included.
    pub(crate) fn accounts_under(&self, node: &Node) -> &BTreeSet<AccountId> {
        static EMPTY: BTreeSet<AccountId> = BTreeSet::new();
        self.subtree.get(node).unwrap_or(&EMPTY)
    }

    /// The parent of an OU, `None` for the root or an unknown OU.
    pub(crate) fn parent(&self, node: &Node) -> Option<Node> {
        match node {
            Node::Root => None,
            Node::Ou(ou) => self.org.ous.get(ou).map(|u| Node::of_parent(&u.parent)),
        }
    }

    /// True when `inner` is `outer` or lies below it.
    pub(crate) fn is_within(&self, inner: &Node, outer: &Node) -> bool {
        let mut current = Some(inner.clone());
        let mut steps = 0;
        while let Some(node) = current {
            if &node == outer {
                return true;
            }
            steps += 1;
            if steps > self.org.ous.len() + 1 {
                return false; // a cycle in malformed input
            }
            current = self.parent(&node);
        }
        false
    }

    pub(crate) fn principal(&self, node: &Node) -> Principal {
        let management = self.org.management_account.clone();
        let org = self.org.id.clone();
        match node {
            Node::Root => Principal::Organization { management, org },
            Node::Ou(ou) => Principal::Ou {
                management,
                org,
                ou: ou.clone(),
            },
        }
    }

    /// The path of an OU by names, `Root/Workloads/ML`.
    pub(crate) fn path(&self, node: &Node) -> String {
        let mut names = Vec::new();
        let mut current = Some(node.clone());
        while let Some(Node::Ou(ou)) = current {
            if names.len() > self.org.ous.len() {
                break; // a cycle in malformed input
            }
            match self.org.ous.get(&ou) {
                Some(unit) => {
                    names.push(unit.name.clone());
                    current = Some(Node::of_parent(&unit.parent));
                }
                None => {
                    names.push(ou.to_string());
                    current = None;
                }
            }
        }
        names.push(ROOT_NAME.to_owned());
        names.reverse();
        names.join("/")
    }

    /// The OUs whose path is `path` (a list, because names need not be unique in bad data).
    pub(crate) fn find_path(&self, path: &str) -> Vec<OuId> {
        let mut segments = path.split('/');
        if segments.next() != Some(ROOT_NAME) {
            return Vec::new();
        }
        let mut frontier = vec![Node::Root];
        let mut any = false;
        for name in segments {
            any = true;
            frontier = frontier
                .iter()
                .flat_map(|node| self.child_ous(node).iter())
                .filter(|ou| self.org.ous.get(*ou).is_some_and(|u| u.name == name))
                .map(|ou| Node::Ou(ou.clone()))
                .collect();
        }
        if !any {
            return Vec::new();
        }
        frontier
            .into_iter()
            .filter_map(|node| match node {
                Node::Ou(ou) => Some(ou),
                Node::Root => None,
            })
            .collect()
    }

    /// See [`covered_accounts`]; this form reuses the index across many principals.
    pub(crate) fn covered(&self, principal: &Principal) -> BTreeSet<AccountId> {
        match principal {
            Principal::Account(account) => BTreeSet::from([account.clone()]),
            Principal::Organization { org, .. } if *org == self.org.id => {
                self.org.accounts.keys().cloned().collect()
            }
            Principal::Ou { org, ou, .. }
                if *org == self.org.id && self.org.ous.contains_key(ou) =>
            {
                self.accounts_under(&Node::Ou(ou.clone())).clone()
            }
            _ => BTreeSet::new(),
        }
    }

    /// Whether a grant to `principal` reaches `account` (as `covered(principal)` holds it),
    /// without building the covered set.
    pub(crate) fn covers(&self, principal: &Principal, account: &AccountId) -> bool {
        match principal {
            Principal::Account(a) => a == account,
            Principal::Organization { org, .. } => {
                *org == self.org.id && self.org.accounts.contains_key(account)
            }
            Principal::Ou { org, ou, .. } => {
                *org == self.org.id
                    && self.org.ous.contains_key(ou)
                    && self.accounts_under(&Node::Ou(ou.clone())).contains(account)
            }
        }
    }

    /// Every principal whose grant reaches `account`: the account itself, each OU above it and
    /// the organization (only the account itself when the organization does not list it).
    pub(crate) fn principals_over(&self, account: &AccountId) -> Vec<Principal> {
        let mut principals = vec![Principal::Account(account.clone())];
        let Some(listed) = self.org.accounts.get(account) else {
            return principals;
        };
        let mut current = Some(Node::of_parent(&listed.parent));
        // Bounded by the number of OUs: malformed input with a cycle ends here too.
        for _ in 0..=self.org.ous.len() {
            let Some(node) = current else { break };
            principals.push(self.principal(&node));
            current = self.parent(&node);
        }
        principals
    }

    pub(crate) fn is_grantable(&self, account: &AccountId) -> bool {
        self.org
            .accounts
            .get(account)
            .is_none_or(|a| is_grantable(&a.state))
    }

    /// The minimal cover of `node` minus `excluded`: the node's own principal when its subtree
    /// holds no excluded account, else the covers of its child OUs plus its direct accounts
    /// (leaving out excluded, ungrantable and `skip` accounts).
    ///
    /// With `per_account`, every node is expanded down to accounts (organizations with only
    /// consolidated billing cannot hold organization or OU grants).
    pub(crate) fn cover(
        &self,
        node: &Node,
        excluded: &BTreeSet<AccountId>,
        skip: &AccountId,
        per_account: bool,
        out: &mut BTreeSet<Principal>,
    ) {
        self.cover_inner(node, excluded, skip, per_account, out, 0);
    }

    fn cover_inner(
        &self,
        node: &Node,
        excluded: &BTreeSet<AccountId>,
        skip: &AccountId,
        per_account: bool,
        out: &mut BTreeSet<Principal>,
        depth: usize,
    ) {
        let clean = self.accounts_under(node).is_disjoint(excluded);
        if clean && !per_account {
            out.insert(self.principal(node));
            return;
        }
        if depth > self.org.ous.len() {
            return; // a cycle in malformed input
        }
        for child in self.child_ous(node) {
            let child = Node::Ou(child.clone());
            self.cover_inner(&child, excluded, skip, per_account, out, depth + 1);
        }
        for account in self.child_accounts(node) {
            if !excluded.contains(account) && account != skip && self.is_grantable(account) {
                out.insert(Principal::Account(account.clone()));
            }
        }
    }
}

/// The name AWS Organizations gives the root, and the first segment of every OU path.
pub(crate) const ROOT_NAME: &str = "Root";

/// The accounts a grant to `principal` reaches, nested OUs included. An account principal
/// reaches its account even outside the organization; an OU or organization of another
/// organization reaches none of this one's accounts.
pub fn covered_accounts(org: &Organization, principal: &Principal) -> BTreeSet<AccountId> {
    match principal {
        Principal::Account(account) => BTreeSet::from([account.clone()]),
        _ => OrgIndex::new(org).covered(principal),
    }
}
