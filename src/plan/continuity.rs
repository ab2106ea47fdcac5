//! Access continuity and the one-active-grant rule, decided over the whole plan once every
//! (license, principal) pair has its actions: which override each activation sends, which
//! grants each revoke waits for, and which revokes must not be planned at all.
//! `docs/status-and-actions.md` ("Continuity", "Override") is the rule these functions implement.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::holdings::Holdings;
use super::types::{
    AccountLabel, Action, ActionKind, Cover, CoverWords, KeptBecause, Note, NoteDetail, Reason,
    TargetStatus,
};
use crate::config::ActivationOverride;
use crate::model::{AccountId, Grant, GrantArn, GrantStatus, LicenseArn, Principal};
use crate::org::{Desired, DesiredModel};

/// Whether an action makes an activation (CreateGrantVersion Status=ACTIVE, or a create that
/// ends active).
pub(crate) fn activates(action: &Action) -> bool {
    match action.kind() {
        ActionKind::Create | ActionKind::Recreate | ActionKind::Accept => {
            action.target_status == TargetStatus::Active
        }
        ActionKind::Activate => true,
        _ => false,
    }
}

/// Whether an action takes a grant away (or its delete half does).
pub(crate) fn revokes(action: &Action) -> bool {
    matches!(
        action.kind(),
        ActionKind::Delete | ActionKind::Deactivate | ActionKind::Recreate
    )
}

/// The accounts with the names the organization gives them (empty where it gives none).
pub(crate) fn labels(holdings: &Holdings<'_>, accounts: &[AccountId]) -> Vec<AccountLabel> {
    let org = &holdings.live().organization;
    accounts
        .iter()
        .map(|id| AccountLabel {
            id: id.clone(),
            name: org
                .accounts
                .get(id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
        })
        .collect()
}

struct Pass<'h, 'a> {
    desired: &'h Desired,
    holdings: &'h Holdings<'a>,
    by_arn: HashMap<&'a GrantArn, &'a Grant>,
    /// Every non-terminal grant of each pair.
    by_pair: HashMap<(&'a LicenseArn, &'a Principal), Vec<&'a Grant>>,
    revoked: BTreeSet<GrantArn>,
    /// (product, account) → the activations of this plan that reach it, by action index.
    planned: HashMap<(&'a str, AccountId), Vec<usize>>,
}

/// Fills `activation_override` and `waits_for`, and turns revokes that would cut an account
/// off for good into `KeptForContinuity` notes.
pub(crate) fn apply_rules<'a>(
    desired: &Desired,
    holdings: &Holdings<'a>,
    actions: &mut Vec<Action>,
    notes: &mut Vec<Note>,
) {
    if actions.is_empty() {
        return;
    }
    let pass = Pass::new(desired, holdings, actions);
    set_overrides(&pass, actions, notes);
    defer_revokes(&pass, holdings, actions, notes);
}

impl<'h, 'a> Pass<'h, 'a> {
    /// The live grants by ARN and by pair, the grants this plan revokes, and the activations
    /// that reach each (product, account).
    fn new(desired: &'h Desired, holdings: &'h Holdings<'a>, actions: &[Action]) -> Self {
        let live = holdings.live();
        let mut by_pair: HashMap<(&LicenseArn, &Principal), Vec<&Grant>> = HashMap::new();
        for g in live.grants.iter().filter(|g| !g.status.is_terminal()) {
            by_pair
                .entry((&g.license_arn, &g.principal))
                .or_default()
                .push(g);
        }
        let mut planned: HashMap<(&str, AccountId), Vec<usize>> = HashMap::new();
        for (i, action) in actions.iter().enumerate().filter(|(_, a)| activates(a)) {
            let product = holdings.product(&action.license_arn);
            for account in holdings.reaches(&action.principal) {
                planned.entry((product, account)).or_default().push(i);
            }
        }
        Pass {
            desired,
            holdings,
            by_arn: live.grants.iter().map(|g| (&g.arn, g)).collect(),
            by_pair,
            revoked: actions
                .iter()
                .filter(|a| revokes(a))
                .filter_map(|a| a.grant_arn().cloned())
                .collect(),
            planned,
        }
    }
}

/// Each activation's `activation_override`, with the notes naming who keeps a foreign grant.
fn set_overrides(pass: &Pass<'_, '_>, actions: &mut [Action], notes: &mut Vec<Note>) {
    let overrides: Vec<(usize, Option<ActivationOverride>, Option<Note>)> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| activates(a))
        .map(|(i, a)| {
            let (choice, note) = pass.override_for(i, a);
            (i, choice, note)
        })
        .collect();
    for (i, choice, note) in overrides {
        actions[i].activation_override = choice;
        notes.extend(note);
    }
}

/// Each revoke's `waits_for` (deferred until its covers are in effect), or, when nothing
/// would cover its accounts, the revoke dropped for a `KeptForContinuity` note.
fn defer_revokes(
    pass: &Pass<'_, '_>,
    holdings: &Holdings<'_>,
    actions: &mut Vec<Action>,
    notes: &mut Vec<Note>,
) {
    let mut kept = Vec::new();
    let on_pair = actions_by_pair(actions);
    for (i, action) in actions.iter().enumerate() {
        if !revokes(action) {
            continue;
        }
        match pass.covers_for(action, &on_pair) {
            Ok(covers) => kept.push((i, Ok(covers))),
            Err(note) => kept.push((i, Err(note))),
        }
    }
    let mut drop = BTreeSet::new();
    for (i, outcome) in kept {
        match outcome {
            Ok(covers) => {
                if !covers.is_empty() {
                    let reason = std::mem::replace(&mut actions[i].reason, Reason::Duplicate);
                    actions[i].reason = Reason::Deferred {
                        reason: Box::new(reason),
                        revoke: actions[i].kind(),
                        covers: cover_words(holdings, &covers),
                    };
                }
                actions[i].waits_for = covers;
            }
            Err(note) => {
                notes.push(*note);
                drop.insert(i);
            }
        }
    }
    let mut i = 0;
    actions.retain(|_| {
        i += 1;
        !drop.contains(&(i - 1))
    });
}

/// The plan's actions of each (license, principal) pair, in plan order.
type ActionsByPair<'p> = HashMap<(&'p LicenseArn, &'p Principal), Vec<&'p Action>>;

fn actions_by_pair(actions: &[Action]) -> ActionsByPair<'_> {
    let mut by_pair: ActionsByPair<'_> = HashMap::new();
    for action in actions {
        by_pair
            .entry((&action.license_arn, &action.principal))
            .or_default()
            .push(action);
    }
    by_pair
}

impl<'a> Pass<'_, 'a> {
    fn is_managed(&self, grant: &Grant) -> bool {
        crate::org::is_managed_name(&self.desired.grant_name_prefix, &grant.name)
    }

    /// The override an activation sends, and the note naming the accounts that keep a grant
    /// this tool does not own.
    fn override_for(
        &self,
        index: usize,
        action: &Action,
    ) -> (Option<ActivationOverride>, Option<Note>) {
        let holdings = self.holdings;
        let product = holdings.product(&action.license_arn);
        let caller = &holdings.live().caller;
        let mut foreign: BTreeMap<&GrantArn, (&Grant, Vec<AccountId>)> = BTreeMap::new();
        let mut keepers: BTreeSet<AccountId> = BTreeSet::new();
        let mut replaces = false;
        let mut keeps_own = false;
        for account in holdings.reaches(&action.principal) {
            if &account == caller {
                continue;
            }
            // Another activation of this plan reaches the account: its grant stays too.
            if self
                .planned
                .get(&(product, account.clone()))
                .is_some_and(|others| others.iter().any(|&j| j != index))
            {
                keeps_own = true;
            }
            for other in holdings.held(product, &account) {
                if Some(&other.arn) == action.grant_arn() {
                    continue;
                }
                keepers.insert(account.clone());
                if !self.is_managed(other) {
                    let entry = foreign.entry(&other.arn).or_insert((other, Vec::new()));
                    entry.1.push(account.clone());
                } else if self.revoked.contains(&other.arn) {
                    replaces = true;
                } else {
                    keeps_own = true;
                }
            }
        }
        let choice = match self.desired.activation_override {
            Some(explicit) => Some(explicit),
            // A grant that stays (foreign, or managed and kept by this plan) must not be
            // disabled by the swap.
            None if !foreign.is_empty() || keeps_own => {
                Some(ActivationOverride::DistributedGrantsOnly)
            }
            None if replaces => Some(ActivationOverride::AllGrantsPermittedByIssuer),
            None => None,
        };
        if choice == Some(ActivationOverride::AllGrantsPermittedByIssuer) || foreign.is_empty() {
            return (choice, None);
        }
        let (first, _) = foreign.values().next().expect("checked non-empty");
        let keepers: Vec<AccountId> = keepers.into_iter().collect();
        let detail = NoteDetail::KeepsOtherGrant {
            accounts: labels(holdings, &keepers),
            grants: foreign.values().map(|(g, _)| g.name.clone()).collect(),
            activated: action.principal.clone(),
        };
        let note = Note {
            model: action.model().cloned(),
            license_arn: first.license_arn.clone(),
            principal: first.principal.clone(),
            grant_arn: first.arn.clone(),
            grant_name: first.name.clone(),
            status: first.status.clone(),
            detail,
        };
        (choice, Some(note))
    }

    /// The desired model that keeps the product of `license` (its own license, or a renewal).
    fn keeper_model(&self, license: &LicenseArn) -> Option<&DesiredModel> {
        let product = self.holdings.product(license);
        let models = &self.desired.models;
        models
            .values()
            .find(|m| &m.license == license)
            .or_else(|| {
                models
                    .values()
                    .find(|m| self.holdings.product(&m.license) == product)
            })
            .filter(|m| m.status == crate::config::DesiredStatus::Active)
    }

    /// The covers a revoke waits for, or the note that keeps its grant instead.
    fn covers_for(
        &self,
        action: &Action,
        actions: &ActionsByPair<'_>,
    ) -> Result<Vec<Cover>, Box<Note>> {
        let Some(grant) = action.grant_arn().and_then(|a| self.by_arn.get(a)) else {
            return Ok(Vec::new());
        };
        let caller = &self.holdings.live().caller;
        let mut holders = self.holdings.in_effect(grant);
        holders.remove(caller);
        let Some(model) = self.keeper_model(&grant.license_arn) else {
            return Ok(Vec::new());
        };
        let mut groups: BTreeMap<&Principal, Vec<AccountId>> = BTreeMap::new();
        for account in holders {
            // The revoked grant's own pair first (a duplicate goes, the kept grant covers),
            // then an account grant (never held back by the one-active rule), then any.
            let reaching = |p: &&Principal| self.holdings.reaches_account(p, &account);
            let same_pair =
                model.license == grant.license_arn && model.principals.contains(&grant.principal);
            // Only the account's own principal, the OUs above it and the organization can
            // reach it: the first of the model's principals (in their order) among those.
            let over = self.holdings.principals_over(&account);
            let cover = same_pair
                .then_some(&grant.principal)
                .filter(reaching)
                .or_else(|| model.principals.get(&over[0]).filter(reaching))
                .or_else(|| {
                    over.iter()
                        .filter_map(|p| model.principals.get(p))
                        .filter(reaching)
                        .min()
                });
            if let Some(p) = cover {
                groups.entry(p).or_default().push(account);
            }
        }
        let mut covers = Vec::new();
        let mut kept: Vec<(AccountId, KeptBecause)> = Vec::new();
        for (principal, accounts) in groups {
            let (cover, why) = self.cover(&model.license, principal, accounts, actions);
            kept.extend(why);
            covers.push(cover);
        }
        if kept.is_empty() {
            covers.sort();
            return Ok(covers);
        }
        Err(Box::new(self.kept_note(action, grant, &kept)))
    }

    /// The cover on (license, principal) for `accounts`, with each account for which it will not
    /// come into effect while the revoked grant stays (and why).
    fn cover(
        &self,
        license: &LicenseArn,
        principal: &Principal,
        accounts: Vec<AccountId>,
        actions: &ActionsByPair<'_>,
    ) -> (Cover, Vec<(AccountId, KeptBecause)>) {
        let on_pair = actions
            .get(&(license, principal))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let activation = on_pair.iter().copied().find(|a| activates(a));
        let acting = on_pair.iter().copied().find(|a| !revokes(a));
        let live = self
            .by_pair
            .get(&(license, principal))
            .into_iter()
            .flatten()
            .filter(|g| !self.revoked.contains(&g.arn) && g.status != GrantStatus::PendingDelete)
            .min_by_key(|g| (!self.is_managed(g), &g.arn))
            .copied();
        let grant_arn = match acting {
            Some(a) if a.kind() == ActionKind::Create || a.kind() == ActionKind::Recreate => None,
            Some(a) => a.grant_arn().cloned(),
            None => live.map(|g| g.arn.clone()),
        };
        let mut kept = Vec::new();
        if !matches!(principal, Principal::Account(_)) {
            match (activation, live) {
                (Some(a), _)
                    if a.activation_override
                        != Some(ActivationOverride::AllGrantsPermittedByIssuer) =>
                {
                    for account in &accounts {
                        let cover = principal.clone();
                        kept.push((account.clone(), KeptBecause::NoSwap { cover }));
                    }
                }
                (None, Some(cover)) if cover.status.is_effective() => {
                    for account in &accounts {
                        let share = self.holdings.share_status(&cover.arn, account);
                        let pending = matches!(
                            share,
                            Some(GrantStatus::PendingWorkflow | GrantStatus::PendingAccept)
                        );
                        if !self.holdings.in_effect_for(cover, account) && !pending {
                            let because = KeptBecause::ShareNotActive {
                                cover: principal.clone(),
                                share: share.cloned(),
                            };
                            kept.push((account.clone(), because));
                        }
                    }
                }
                _ => {}
            }
        }
        let cover = Cover {
            license_arn: license.clone(),
            principal: principal.clone(),
            grant_arn,
            accounts,
        };
        (cover, kept)
    }

    fn kept_note(&self, action: &Action, grant: &Grant, kept: &[(AccountId, KeptBecause)]) -> Note {
        let accounts: Vec<AccountId> = kept.iter().map(|(a, _)| a.clone()).collect();
        let because: BTreeSet<&KeptBecause> = kept.iter().map(|(_, w)| w).collect();
        Note {
            model: action.model().cloned(),
            license_arn: grant.license_arn.clone(),
            principal: grant.principal.clone(),
            grant_arn: grant.arn.clone(),
            grant_name: grant.name.clone(),
            status: grant.status.clone(),
            detail: NoteDetail::KeptForContinuity {
                planned: action.kind(),
                reason: action.reason.clone(),
                accounts: labels(self.holdings, &accounts),
                because: because.into_iter().cloned().collect(),
            },
        }
    }
}

/// The covers of a deferred revoke as its words name them.
fn cover_words(holdings: &Holdings<'_>, covers: &[Cover]) -> Vec<CoverWords> {
    covers
        .iter()
        .map(|c| CoverWords {
            principal: c.principal.clone(),
            created: c.grant_arn.is_none(),
            accounts: labels(holdings, &c.accounts),
        })
        .collect()
}
