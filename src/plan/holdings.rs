//! Per-account truth: for which accounts each grant is in effect now, and which grants each
//! account holds active for each product. An organization or OU grant is in effect for an
//! account only where that account's share (`Live::shares`) is ACTIVE; a parent with no share
//! listed at all is judged by its own status and the accounts it reaches.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};

use crate::model::{AccountId, Grant, GrantArn, GrantStatus, LicenseArn, Live, Principal, Share};
use crate::org::OrgIndex;

/// Hash maps keyed by the snapshot's ids: foldhash's fast hasher, seeded with a fixed seed.
/// The keys come from AWS, not from an adversary, and SipHash was a third of the planner's
/// time at 10,000 accounts (docs/benchmarks.md); nothing iterates these maps into output.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// Who holds what, computed once per live snapshot.
pub struct Holdings<'a> {
    live: &'a Live,
    index: OnceCell<OrgIndex<'a>>,
    shares: FastMap<&'a GrantArn, Vec<&'a Share>>,
    product: FastMap<&'a LicenseArn, &'a str>,
    /// Each license's grants not DELETED or REJECTED, in snapshot order.
    by_license: FastMap<&'a LicenseArn, Vec<&'a Grant>>,
    /// product → account → the grants in effect for that account, by ARN (nested, so that an
    /// account is looked up by `&AccountId` of any lifetime: `&'a AccountId: Borrow<AccountId>`).
    held: FastMap<&'a str, FastMap<&'a AccountId, Vec<&'a Grant>>>,
}

impl<'a> Holdings<'a> {
    pub fn new(live: &'a Live) -> Self {
        let mut shares: FastMap<&GrantArn, Vec<&Share>> = FastMap::default();
        for share in &live.shares {
            shares.entry(&share.parent).or_default().push(share);
        }
        // By account, so that one account's share is found by binary search.
        for of_parent in shares.values_mut() {
            of_parent.sort_by(|a, b| a.account.cmp(&b.account));
        }
        // Grants come license by license (`grant_order`): one map entry per run of a license.
        let mut by_license: FastMap<&LicenseArn, Vec<&Grant>> = FastMap::default();
        let mut product: FastMap<&LicenseArn, &str> = FastMap::default();
        for run in live.grants.chunk_by(|a, b| a.license_arn == b.license_arn) {
            let license = &run[0].license_arn;
            let live_grants = run.iter().filter(|g| !g.status.is_terminal());
            by_license.entry(license).or_default().extend(live_grants);
            product.insert(license, license.as_str());
        }
        by_license.retain(|_, grants| !grants.is_empty());
        for license in &live.licenses {
            product.insert(&license.arn, license.product_sku.as_str());
        }
        let mut holdings = Holdings {
            live,
            index: OnceCell::new(),
            shares,
            product,
            by_license,
            held: FastMap::default(),
        };
        let mut held: FastMap<&str, FastMap<&AccountId, Vec<&Grant>>> = FastMap::default();
        for (license, grants) in &holdings.by_license {
            let of_product = held.entry(holdings.product(license)).or_default();
            for grant in grants {
                holdings.for_each_in_effect(grant, |account| {
                    of_product.entry(account).or_default().push(grant);
                });
            }
        }
        for grants in held
            .values_mut()
            .flat_map(|of_product| of_product.values_mut())
        {
            grants.sort_by(|a, b| a.arn.cmp(&b.arn));
        }
        holdings.held = held;
        holdings
    }

    pub fn live(&self) -> &'a Live {
        self.live
    }

    /// The product of a license: its `product_sku`, or the license ARN itself when the license
    /// is not among the received ones (empty for a license nothing in the snapshot names).
    pub fn product(&self, license: &LicenseArn) -> &'a str {
        self.product.get(license).copied().unwrap_or("")
    }

    /// The grantable accounts a grant to `principal` reaches in this organization.
    pub fn reaches(&self, principal: &Principal) -> BTreeSet<AccountId> {
        let index = self.index();
        let mut accounts = index.covered(principal);
        accounts.retain(|a| index.is_grantable(a));
        accounts
    }

    /// Whether a grant to `principal` reaches `account` and the account is grantable: one
    /// account's answer of [`Holdings::reaches`], without building the set.
    pub fn reaches_account(&self, principal: &Principal, account: &AccountId) -> bool {
        let index = self.index();
        index.is_grantable(account) && index.covers(principal, account)
    }

    /// The principals whose grant would reach `account` (see `OrgIndex::principals_over`).
    pub fn principals_over(&self, account: &AccountId) -> Vec<Principal> {
        self.index().principals_over(account)
    }

    fn index(&self) -> &OrgIndex<'a> {
        self.index
            .get_or_init(|| OrgIndex::new(&self.live.organization))
    }

    /// The shares listed for an organization or OU grant (empty for none or an account grant).
    pub fn shares_of(&self, parent: &GrantArn) -> &[&'a Share] {
        self.shares.get(parent).map_or(&[], Vec::as_slice)
    }

    /// The status of `account`'s share of `parent`, if one is listed.
    pub fn share_status(&self, parent: &GrantArn, account: &AccountId) -> Option<&'a GrantStatus> {
        let shares = self.shares_of(parent);
        shares
            .binary_search_by(|s| s.account.cmp(account))
            .ok()
            .map(|i| &shares[i].status)
    }

    /// The accounts for which `grant` is in effect now.
    pub fn in_effect(&self, grant: &Grant) -> BTreeSet<AccountId> {
        let shares = self.shares.get(&grant.arn).map(|s| s.iter().copied());
        in_effect(grant, shares, |parent| self.reaches(parent))
    }

    /// Calls `f` with each account for which `grant` is in effect now: [`Holdings::in_effect`]
    /// without copying an id (each borrowed from the snapshot).
    pub fn for_each_in_effect(&self, grant: &'a Grant, mut f: impl FnMut(&'a AccountId)) {
        match effect_rule(grant, self.shares.contains_key(&grant.arn)) {
            EffectRule::Nobody => {}
            EffectRule::Account(account) => f(account),
            EffectRule::ActiveShares => self
                .shares_of(&grant.arn)
                .iter()
                .filter(|s| s.status == GrantStatus::Active)
                .for_each(|s| f(&s.account)),
            EffectRule::Reached(parent) => {
                let accounts = &self.live.organization.accounts;
                for account in self.reaches(parent) {
                    if let Some((id, _)) = accounts.get_key_value(&account) {
                        f(id);
                    }
                }
            }
        }
    }

    /// The grants of `license` that are not DELETED or REJECTED, in snapshot order.
    pub fn grants_of(&self, license: &LicenseArn) -> &[&'a Grant] {
        self.by_license.get(license).map_or(&[], Vec::as_slice)
    }

    /// Whether `grant` is in effect for `account` now: one account's answer of
    /// [`Holdings::in_effect`], without building the set.
    pub fn in_effect_for(&self, grant: &Grant, account: &AccountId) -> bool {
        match effect_rule(grant, self.shares.contains_key(&grant.arn)) {
            EffectRule::Nobody => false,
            EffectRule::Account(a) => a == account,
            EffectRule::ActiveShares => {
                self.share_status(&grant.arn, account) == Some(&GrantStatus::Active)
            }
            EffectRule::Reached(parent) => self.reaches_account(parent, account),
        }
    }

    /// The grants in effect for `account` for `product`, by ARN.
    pub fn held(&self, product: &'a str, account: &AccountId) -> &[&'a Grant] {
        self.held
            .get(product)
            .and_then(|of_product| of_product.get(account))
            .map_or(&[], Vec::as_slice)
    }

    /// An organization or OU parent that says it settled (ACTIVE / WORKFLOW_COMPLETED) but whose
    /// listed shares are none ACTIVE: `Some(DISABLED)` when it should be judged disabled for a
    /// pair that wants `active` (`want_active`) or not. Wanted disabled: nobody has access through
    /// it, so it is disabled (a deactivation ends in WORKFLOW_COMPLETED with every share
    /// DISABLED). Wanted active: disabled unless every account with a listed share keeps another
    /// active grant of the product (the one-active rule kept it; activating again changes
    /// nothing).
    pub fn judged_disabled(&self, grant: &Grant, want_active: bool) -> bool {
        if matches!(grant.principal, Principal::Account(_)) || !grant.status.is_effective() {
            return false;
        }
        let shares = self.shares_of(&grant.arn);
        if shares.is_empty() || shares.iter().any(|s| s.status == GrantStatus::Active) {
            return false;
        }
        if !want_active {
            return true;
        }
        let product = self.product(&grant.license_arn);
        !shares.iter().all(|s| {
            self.held(product, &s.account)
                .iter()
                .any(|g| g.arn != grant.arn)
        })
    }
}

/// How the accounts a grant is in effect for are found, from its status and principal and
/// whether shares of it are listed: the one rule [`Holdings`] and `plan::simulate` both read.
enum EffectRule<'g> {
    /// DELETED, REJECTED, PENDING_DELETE, or an account grant not in effect.
    Nobody,
    /// An account grant in effect: that account.
    Account(&'g AccountId),
    /// An organization or OU grant with shares listed: the accounts whose share is ACTIVE.
    ActiveShares,
    /// An organization or OU grant in effect with no share listed: every account it reaches.
    Reached(&'g Principal),
}

fn effect_rule(grant: &Grant, shares_listed: bool) -> EffectRule<'_> {
    if grant.status.is_terminal() || grant.status == GrantStatus::PendingDelete {
        return EffectRule::Nobody;
    }
    match &grant.principal {
        Principal::Account(account) if grant.status.is_effective() => EffectRule::Account(account),
        Principal::Account(_) => EffectRule::Nobody,
        _ if shares_listed => EffectRule::ActiveShares,
        parent if grant.status.is_effective() => EffectRule::Reached(parent),
        _ => EffectRule::Nobody,
    }
}

/// The accounts for which `grant` is in effect, from its status and, for an organization or
/// OU grant, its listed `shares` (those ACTIVE), or where none are listed every account
/// `reaches` names (see [`EffectRule`]).
pub(crate) fn in_effect<'s>(
    grant: &Grant,
    shares: Option<impl Iterator<Item = &'s Share>>,
    reaches: impl FnOnce(&Principal) -> BTreeSet<AccountId>,
) -> BTreeSet<AccountId> {
    let listed = shares.is_some();
    match effect_rule(grant, listed) {
        EffectRule::Nobody => BTreeSet::new(),
        EffectRule::Account(account) => BTreeSet::from([account.clone()]),
        EffectRule::ActiveShares => shares
            .into_iter()
            .flatten()
            .filter(|s| s.status == GrantStatus::Active)
            .map(|s| s.account.clone())
            .collect(),
        EffectRule::Reached(parent) => reaches(parent),
    }
}
