//! The continuity property (issue 11): for random desired-state changes over random small
//! organizations and random workflow durations, a simulated timeline of `apply`'s steps keeps
//! every account that is entitled before and meant to be entitled after entitled at every
//! instant, and planning again on the result converges within 3 rounds.
//!
//! The timeline is written here, independently of `plan::simulate` and of `plan::Holdings`:
//! creates and activations start at the run's start and take effect after their own random
//! duration under the one-active rule as `docs/emulator.md` writes it; every revoke runs at the
//! first event time at which each of its `waits_for` covers is in effect for its accounts (an
//! account cover: that grant ACTIVE; an organization or OU cover: each account's share ACTIVE)
//! and otherwise stays deferred to the next run. Revokes take access away at once (the worst
//! case: AWS's recall keeps the shares entitled until it completes).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::{Action, ActionKind, Plan, TargetStatus, plan};
use crate::config::{
    AccountRef, ActivationOverride, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey,
    ModelSpec, OuRef, Settings,
};
use crate::model::{
    AccountId, AccountState, FeatureSet, Grant, GrantArn, GrantStatus, LicenseArn, Live,
    OrgAccount, OrgUnit, Organization, OuId, ParentId, Principal, Share, Span, Spanned,
};
use crate::org::tests::{MGMT, fixture_live, license_arn};
use crate::org::{Desired, ResolveOptions, resolve};

const PREFIX: &str = "bedrock-entitlements";
const PRODUCT: &str = "prod-a";
const ORG: &str = "o-aaaaaaaaaa";

/// How the file changes, with raw random parameters reduced modulo the organization's sizes.
#[derive(Debug, Clone)]
enum Change {
    /// Account grants on the accounts of `mask` → an OU (those outside it leave the model).
    ToOu { ou: usize, mask: u64 },
    /// Account grants on the accounts of `mask` → the organization.
    ToOrg { mask: u64 },
    /// The organization → the organization except one account.
    Except { account: usize },
    /// The same targets (0: the organization, 1: an OU, 2: the accounts of `mask`) move to a
    /// renewal of the product (a license with a later end of validity).
    Renewal { kind: u8, ou: usize, mask: u64 },
    /// Like `ToOu`, but one account of the OU holds a foreign active grant of the product.
    ForeignOu {
        ou: usize,
        mask: u64,
        foreign: usize,
    },
}

#[derive(Debug, Clone)]
struct Case {
    /// Each OU's parent: `None` the root, `Some(j)` an earlier OU.
    ous: Vec<Option<usize>>,
    /// Each member account's parent: `None` the root, `Some(j)` OU `j % ous.len()`.
    accounts: Vec<Option<usize>>,
    change: Change,
    /// Workflow duration of the grant that the plan's action `i` creates or activates:
    /// `durations[i % len]` time units.
    durations: Vec<u64>,
    /// When the first run ends (its deferred revokes wait for the next run); `None`: it waits
    /// for every workflow.
    deadline: Option<u64>,
    /// The first run is killed after this many of its actions (`None`: it is not): the rest
    /// never runs, and nothing waits.
    crash_after: Option<usize>,
}

fn ou_id(i: usize) -> OuId {
    format!("ou-root-unit{i:04}").parse().unwrap()
}

fn account_id(i: usize) -> AccountId {
    format!("2000000000{i:02}").parse().unwrap()
}

fn organization(case: &Case) -> Organization {
    let root = || ParentId::Root("r-root".parse().unwrap());
    let parent = |p: Option<usize>| p.map_or_else(root, |j| ParentId::Ou(ou_id(j)));
    let ous = case.ous.iter().enumerate().map(|(i, p)| {
        let unit = OrgUnit {
            id: ou_id(i),
            name: format!("unit{i}"),
            parent: parent(*p),
        };
        (unit.id.clone(), unit)
    });
    let member = case.accounts.iter().enumerate().map(|(i, p)| {
        let account = OrgAccount {
            id: account_id(i),
            name: format!("acct{i}"),
            state: AccountState::Active,
            parent: parent(p.map(|j| j % case.ous.len())),
        };
        (account.id.clone(), account)
    });
    let management = OrgAccount {
        id: MGMT.parse().unwrap(),
        name: "management".to_owned(),
        state: AccountState::Active,
        parent: root(),
    };
    Organization {
        id: ORG.parse().unwrap(),
        management_account: MGMT.parse().unwrap(),
        feature_set: FeatureSet::All,
        root: "r-root".parse().unwrap(),
        ous: ous.collect(),
        accounts: member
            .chain([(management.id.clone(), management)])
            .collect(),
    }
}

fn org_principal() -> Principal {
    Principal::Organization {
        management: MGMT.parse().unwrap(),
        org: ORG.parse().unwrap(),
    }
}

fn ou_principal(ou: OuId) -> Principal {
    Principal::Ou {
        management: MGMT.parse().unwrap(),
        org: ORG.parse().unwrap(),
        ou,
    }
}

/// The member accounts a grant to `principal` reaches (the caller left out), by walking the
/// tree here rather than through `org::OrgIndex`.
fn reach(org: &Organization, principal: &Principal) -> BTreeSet<AccountId> {
    let under = |account: &OrgAccount, ou: &OuId| {
        let mut at = account.parent.clone();
        loop {
            match at {
                ParentId::Root(_) => return false,
                ParentId::Ou(o) if &o == ou => return true,
                ParentId::Ou(o) => at = org.ous[&o].parent.clone(),
            }
        }
    };
    org.accounts
        .values()
        .filter(|a| a.id != org.management_account && a.state == AccountState::Active)
        .filter(|a| match principal {
            Principal::Account(id) => id == &a.id,
            Principal::Organization { .. } => true,
            Principal::Ou { ou, .. } => under(a, ou),
        })
        .map(|a| a.id.clone())
        .collect()
}

fn members(org: &Organization) -> Vec<AccountId> {
    reach(org, &org_principal()).into_iter().collect()
}

fn masked(accounts: &[AccountId], mask: u64) -> Vec<AccountId> {
    accounts
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, a)| a.clone())
        .collect()
}

/// The file after the change: one model `m` of product `prod-a`, resolved by `org::resolve`.
struct Targets {
    organization: bool,
    ous: Vec<OuId>,
    accounts: Vec<AccountId>,
    except: Vec<AccountId>,
}

fn resolve_targets(live: &Live, t: &Targets) -> Desired {
    let at = Span::default;
    let grant_to = GrantTo {
        organization: t.organization.then(at),
        organizational_units: t
            .ous
            .iter()
            .map(|o| Spanned::new(OuRef::Id(o.clone()), at()))
            .collect(),
        accounts: t
            .accounts
            .iter()
            .map(|a| Spanned::new(AccountRef::Id(a.clone()), at()))
            .collect(),
    };
    let model = ModelSpec {
        key: Spanned::new(ModelKey::parse("m").unwrap(), at()),
        license: Spanned::new(LicenseSelector::ProductSku(PRODUCT.into()), at()),
        grant_to,
        except_accounts: t
            .except
            .iter()
            .map(|a| Spanned::new(AccountRef::Id(a.clone()), at()))
            .collect(),
        status: DesiredStatus::Active,
        bedrock_model_ids: Vec::new(),
        marketplace_product_id: None,
        subscribe: None,
    };
    let config = Config {
        version: 1,
        settings: Settings::default(),
        models: vec![model],
    };
    resolve(&config, live, &ResolveOptions::default()).expect("the generated file resolves")
}

/// One grant of the simulated License Manager.
#[derive(Debug, Clone)]
struct SimGrant {
    license: LicenseArn,
    principal: Principal,
    name: String,
    operations: BTreeSet<String>,
    status: GrantStatus,
    version: u32,
}

/// A workflow that takes effect at `at`: the grant ends in `target` under `behaviour`.
#[derive(Debug, Clone)]
struct Event {
    at: u64,
    grant: GrantArn,
    target: TargetStatus,
    behaviour: Option<ActivationOverride>,
}

/// The simulated world: grants, each account's share of the organization and OU grants, the
/// workflows still running, and the clock.
struct World {
    base: Live,
    grants: BTreeMap<GrantArn, SimGrant>,
    shares: BTreeMap<(GrantArn, AccountId), GrantStatus>,
    events: Vec<Event>,
    now: u64,
    next_id: usize,
    /// Entitled before and meant to be entitled after: must never go without.
    continuing: BTreeSet<AccountId>,
    /// Grants the tool does not own: must never be disabled.
    foreign: BTreeSet<GrantArn>,
    /// Every revoke that ran, in order, for the failure message.
    log: Vec<String>,
}

impl World {
    fn new(org: Organization, licenses: Vec<crate::model::License>) -> World {
        let mut base = fixture_live();
        base.organization = org;
        base.licenses = licenses;
        World {
            base,
            grants: BTreeMap::new(),
            shares: BTreeMap::new(),
            events: Vec::new(),
            now: 0,
            next_id: 1,
            continuing: BTreeSet::new(),
            foreign: BTreeSet::new(),
            log: Vec::new(),
        }
    }

    fn org(&self) -> &Organization {
        &self.base.organization
    }

    fn new_arn(&mut self) -> GrantArn {
        let arn = format!("arn:aws:license-manager::{MGMT}:grant:g-t{}", self.next_id);
        self.next_id += 1;
        arn.parse().unwrap()
    }

    /// A settled grant in effect for every account it reaches (the state before the change).
    fn seed(&mut self, license: &str, principal: Principal, managed: bool) -> GrantArn {
        let arn = self.new_arn();
        let name = if managed {
            super::grant_name(PREFIX, &ModelKey::parse("m").unwrap(), &principal)
        } else {
            format!("console-{}", principal.short_id())
        };
        let status = match principal {
            Principal::Account(_) => GrantStatus::Active,
            _ => GrantStatus::WorkflowCompleted,
        };
        if !matches!(principal, Principal::Account(_)) {
            for account in reach(self.org(), &principal) {
                self.shares
                    .insert((arn.clone(), account), GrantStatus::Active);
            }
        }
        let grant = SimGrant {
            license: license_arn(license).parse().unwrap(),
            principal,
            name,
            operations: Settings::default().allowed_operations,
            status,
            version: 1,
        };
        if !managed {
            self.foreign.insert(arn.clone());
        }
        self.grants.insert(arn.clone(), grant);
        arn
    }

    fn live(&self) -> Live {
        let mut live = self.base.clone();
        live.grants = self
            .grants
            .iter()
            .map(|(arn, g)| Grant {
                arn: arn.clone(),
                name: g.name.clone(),
                license_arn: g.license.clone(),
                principal: g.principal.clone(),
                status: g.status.clone(),
                status_reason: None,
                version: g.version.to_string(),
                operations: g.operations.clone(),
                parent_arn: String::new(),
                home_region: "us-east-1".to_owned(),
            })
            .collect();
        live.grants.sort_by(crate::model::grant_order);
        live.shares = self
            .shares
            .iter()
            .filter(|((parent, _), _)| self.gives_access(parent))
            .map(|((parent, account), status)| Share {
                parent: parent.clone(),
                arn: format!(
                    "arn:aws:license-manager::{account}:grant:g-s{}{account}",
                    &parent.grant_id()[2..]
                )
                .parse()
                .unwrap(),
                license_arn: self.grants[parent].license.clone(),
                account: account.clone(),
                status: status.clone(),
            })
            .collect();
        live.shares.sort();
        live
    }

    fn gives_access(&self, arn: &GrantArn) -> bool {
        !matches!(
            self.grants[arn].status,
            GrantStatus::Deleted | GrantStatus::PendingDelete
        )
    }

    /// The grants through which `account` holds an active entitlement to the product now.
    fn entitlements(&self, account: &AccountId) -> Vec<GrantArn> {
        self.grants
            .iter()
            .filter(|(arn, _)| self.gives_access(arn))
            .filter(|(arn, g)| match &g.principal {
                Principal::Account(a) => a == account && g.status == GrantStatus::Active,
                _ => {
                    self.shares.get(&((*arn).clone(), account.clone()))
                        == Some(&GrantStatus::Active)
                }
            })
            .map(|(arn, _)| arn.clone())
            .collect()
    }

    /// The invariant at this instant.
    fn check(&self, after: &str) -> Result<(), String> {
        for account in &self.continuing {
            if self.entitlements(account).is_empty() {
                return Err(format!(
                    "t={}: account {account} has no active entitlement after {after}\n{}",
                    self.now,
                    self.dump()
                ));
            }
        }
        for arn in &self.foreign {
            if self.grants[arn].status != GrantStatus::Active {
                return Err(format!(
                    "t={}: foreign grant {} is {} after {after}\n{}",
                    self.now,
                    arn.grant_id(),
                    self.grants[arn].status,
                    self.dump()
                ));
            }
        }
        Ok(())
    }

    fn dump(&self) -> String {
        let mut out = String::new();
        for (arn, g) in &self.grants {
            out.push_str(&format!(
                "  {} {} {} {}\n",
                arn.grant_id(),
                g.principal.short_id(),
                g.license.as_str().rsplit(':').next().unwrap_or_default(),
                g.status
            ));
        }
        for ((parent, account), status) in &self.shares {
            out.push_str(&format!(
                "  share {} {account} {status}\n",
                parent.grant_id()
            ));
        }
        out.push_str(&format!("  ran: {}\n", self.log.join("; ")));
        out
    }
}

impl World {
    /// A workflow takes effect: under the one-active rule (`docs/emulator.md`), an account that
    /// holds another entitlement to the product loses it with ALL_GRANTS_PERMITTED_BY_ISSUER,
    /// and otherwise keeps it and gets none from this grant.
    fn settle(&mut self, event: &Event) {
        let grant = self.grants[&event.grant].clone();
        let reached = reach(self.org(), &grant.principal);
        let mut active = BTreeSet::new();
        if event.target == TargetStatus::Active {
            for account in &reached {
                let others: Vec<GrantArn> = self
                    .entitlements(account)
                    .into_iter()
                    .filter(|a| a != &event.grant)
                    .collect();
                let swap = event.behaviour == Some(ActivationOverride::AllGrantsPermittedByIssuer);
                if !others.is_empty() && !swap {
                    continue;
                }
                for other in others {
                    self.disable_for(&other, account);
                }
                active.insert(account.clone());
            }
        }
        let g = self.grants.get_mut(&event.grant).unwrap();
        g.version += 1;
        match grant.principal {
            Principal::Account(ref a) => {
                g.status = if active.contains(a) {
                    GrantStatus::Active
                } else {
                    GrantStatus::Disabled
                }
            }
            _ => {
                g.status = GrantStatus::WorkflowCompleted;
                for account in reached {
                    let status = if active.contains(&account) {
                        GrantStatus::Active
                    } else {
                        GrantStatus::Disabled
                    };
                    self.shares.insert((event.grant.clone(), account), status);
                }
            }
        }
    }

    fn disable_for(&mut self, arn: &GrantArn, account: &AccountId) {
        let g = self.grants.get_mut(arn).unwrap();
        if matches!(g.principal, Principal::Account(_)) {
            g.status = GrantStatus::Disabled;
            g.version += 1;
        } else {
            self.shares
                .insert((arn.clone(), account.clone()), GrantStatus::Disabled);
        }
    }

    /// Whether every cover of a revoke is in effect for its accounts now.
    fn covered(
        &self,
        action: &Action,
        created: &BTreeMap<(LicenseArn, Principal), GrantArn>,
    ) -> bool {
        action.waits_for.iter().all(|cover| {
            let pair = (cover.license_arn.clone(), cover.principal.clone());
            let Some(arn) = cover.grant_arn.as_ref().or_else(|| created.get(&pair)) else {
                return false;
            };
            let Some(g) = self.grants.get(arn).filter(|_| self.gives_access(arn)) else {
                return false;
            };
            match &cover.principal {
                Principal::Account(_) => g.status == GrantStatus::Active,
                _ => cover.accounts.iter().all(|a| {
                    self.shares.get(&(arn.clone(), a.clone())) == Some(&GrantStatus::Active)
                }),
            }
        })
    }

    /// A revoke takes access away at once.
    fn revoke(&mut self, action: &Action) {
        let Some(arn) = action.grant_arn().filter(|a| self.grants.contains_key(*a)) else {
            return;
        };
        self.log.push(format!(
            "t={} {} {}",
            self.now,
            action.kind().as_str(),
            arn.grant_id()
        ));
        let g = self.grants.get_mut(arn).unwrap();
        g.version += 1;
        let account_grant = matches!(g.principal, Principal::Account(_));
        g.status = match action.kind() {
            ActionKind::Deactivate if account_grant => GrantStatus::Disabled,
            ActionKind::Deactivate => GrantStatus::WorkflowCompleted,
            _ => GrantStatus::Deleted,
        };
        for ((parent, _), status) in self.shares.iter_mut() {
            if parent == arn {
                *status = GrantStatus::Disabled;
            }
        }
    }

    /// Runs every revoke whose covers are in effect; the others stay pending.
    fn try_revokes(
        &mut self,
        pending: &mut Vec<Action>,
        created: &BTreeMap<(LicenseArn, Principal), GrantArn>,
    ) -> Result<(), String> {
        let (ready, waiting): (Vec<Action>, Vec<Action>) =
            pending.drain(..).partition(|a| self.covered(a, created));
        *pending = waiting;
        for action in ready {
            self.revoke(&action);
            self.check(&format!(
                "{} {}",
                action.kind().as_str(),
                action.principal.short_id()
            ))?;
        }
        Ok(())
    }

    /// Starts a grant's workflow: it takes effect `duration` later.
    fn schedule(&mut self, arn: GrantArn, action: &Action, duration: u64) {
        self.events.push(Event {
            at: self.now + duration,
            grant: arn,
            target: action.target_status,
            behaviour: action.activation_override,
        });
    }

    /// The grant and enable phases at the run's start.
    fn start(
        &mut self,
        plan: &Plan,
        durations: &[u64],
    ) -> (Vec<Action>, BTreeMap<(LicenseArn, Principal), GrantArn>) {
        let mut created = BTreeMap::new();
        let mut pending = Vec::new();
        for (i, action) in plan.actions.iter().enumerate() {
            let duration = durations[i % durations.len()];
            let existing = action
                .grant_arn()
                .cloned()
                .filter(|a| self.grants.contains_key(a));
            match action.kind() {
                ActionKind::Create | ActionKind::Recreate => {
                    if action.kind() == ActionKind::Recreate {
                        pending.push(action.clone());
                    }
                    let arn = self.new_arn();
                    let grant = SimGrant {
                        license: action.license_arn.clone(),
                        principal: action.principal.clone(),
                        name: action.grant_name.clone(),
                        operations: action.operations.clone(),
                        status: GrantStatus::PendingWorkflow,
                        version: 1,
                    };
                    self.grants.insert(arn.clone(), grant);
                    let pair = (action.license_arn.clone(), action.principal.clone());
                    created.insert(pair, arn.clone());
                    self.schedule(arn, action, duration);
                }
                ActionKind::Activate | ActionKind::Accept | ActionKind::Update => {
                    let Some(arn) = existing else { continue };
                    let g = self.grants.get_mut(&arn).unwrap();
                    g.name = action.grant_name.clone();
                    g.operations = action.operations.clone();
                    g.version += 1;
                    if action.kind() != ActionKind::Update {
                        if !matches!(g.principal, Principal::Account(_)) {
                            g.status = GrantStatus::PendingWorkflow;
                        }
                        self.schedule(arn, action, duration);
                    }
                }
                ActionKind::Deactivate | ActionKind::Delete => pending.push(action.clone()),
            }
        }
        (pending, created)
    }

    /// One `apply` of `plan` starting now: creates and activations at once, each revoke at the
    /// first event time its covers are in effect, the rest deferred when the run ends (at
    /// `deadline` time units, or once every workflow has taken effect).
    fn run(&mut self, plan: &Plan, durations: &[u64], deadline: Option<u64>) -> Result<(), String> {
        let end = deadline.map(|d| self.now + d);
        let (mut pending, created) = self.start(plan, durations);
        self.check("the grant and enable phases")?;
        self.try_revokes(&mut pending, &created)?;
        loop {
            let next = (0..self.events.len()).min_by_key(|&i| (self.events[i].at, i));
            let Some(i) = next.filter(|&i| end.is_none_or(|e| self.events[i].at <= e)) else {
                break;
            };
            let event = self.events.remove(i);
            self.now = self.now.max(event.at);
            self.settle(&event);
            self.check(&format!("the workflow of {}", event.grant.grant_id()))?;
            self.try_revokes(&mut pending, &created)?;
        }
        if let Some(e) = end {
            self.now = self.now.max(e);
        }
        Ok(())
    }
}

/// The licenses of the case: `prod-a` once, or (for a renewal) as `l-aaaa` and its renewal
/// `l-aa02`, which ends later and so is the one `org::resolve` chooses.
fn licenses(renewal: bool) -> Vec<crate::model::License> {
    let mut licenses = fixture_live().licenses;
    if renewal {
        let mut new = licenses[0].clone();
        licenses[0].validity_end = Some("2027-01-01T00:00:00Z".to_owned());
        new.arn = license_arn("aa02").parse().unwrap();
        new.validity_end = Some("2028-01-01T00:00:00Z".to_owned());
        licenses.push(new);
        licenses.sort_by(|a, b| a.arn.cmp(&b.arn));
    }
    licenses
}

/// The world before the change and the file after it.
fn setup(case: &Case) -> (World, Desired) {
    let org = organization(case);
    let renewal = matches!(case.change, Change::Renewal { .. });
    let mut world = World::new(org.clone(), licenses(renewal));
    let all = members(&org);
    let ou_of = |ou: usize| ou_id(ou % case.ous.len());
    let inside = |ou: usize| -> Vec<AccountId> {
        reach(&org, &ou_principal(ou_of(ou))).into_iter().collect()
    };
    let mut targets = Targets {
        organization: false,
        ous: Vec::new(),
        accounts: Vec::new(),
        except: Vec::new(),
    };
    match case.change {
        Change::ToOu { ou, mask } => {
            // Holders outside the OU leave the model: their grants go without waiting.
            for a in masked(&all, mask) {
                world.seed("aaaa", Principal::Account(a), true);
            }
            targets.ous.push(ou_of(ou));
        }
        Change::ToOrg { mask } => {
            for a in masked(&all, mask) {
                world.seed("aaaa", Principal::Account(a), true);
            }
            targets.organization = true;
        }
        Change::Except { account } => {
            world.seed("aaaa", org_principal(), true);
            targets.organization = true;
            targets.except.push(all[account % all.len()].clone());
        }
        Change::Renewal { kind, ou, mask } => match kind % 3 {
            0 => {
                world.seed("aaaa", org_principal(), true);
                targets.organization = true;
            }
            1 => {
                world.seed("aaaa", ou_principal(ou_of(ou)), true);
                targets.ous.push(ou_of(ou));
            }
            _ => {
                let mut holders = masked(&all, mask);
                if holders.is_empty() {
                    holders.push(all[0].clone());
                }
                for a in &holders {
                    world.seed("aaaa", Principal::Account(a.clone()), true);
                }
                targets.accounts = holders;
            }
        },
        Change::ForeignOu { ou, mask, foreign } => {
            let inside = inside(ou);
            let mut holders = masked(&all, mask);
            if !inside.is_empty() {
                let f = inside[foreign % inside.len()].clone();
                holders.retain(|a| a != &f);
                world.seed("aaaa", Principal::Account(f), false);
            }
            for a in holders {
                world.seed("aaaa", Principal::Account(a), true);
            }
            targets.ous.push(ou_of(ou));
        }
    }
    let desired = resolve_targets(&world.live(), &targets);
    world.continuing = continuing(&world, &org, &desired);
    (world, desired)
}

/// The accounts entitled before the change that the file still reaches after it.
fn continuing(world: &World, org: &Organization, desired: &Desired) -> BTreeSet<AccountId> {
    let model = desired.models.values().next().expect("one model");
    let after: BTreeSet<AccountId> = model
        .principals
        .iter()
        .flat_map(|p| reach(org, p))
        .collect();
    after
        .into_iter()
        .filter(|a| !world.entitlements(a).is_empty())
        .collect()
}

/// At most this many runs of `apply` reach a plan with no action.
const MAX_RUNS: usize = 3;

fn summary(plan: &Plan) -> String {
    let actions: Vec<String> = plan
        .actions
        .iter()
        .map(|a| format!("{} {}", a.kind().as_str(), a.principal.short_id()))
        .collect();
    actions.join(", ")
}

/// The property, with `tamper` applied to each plan before it runs (the identity in the
/// property; the failing example breaks the rule with it).
fn timeline(case: &Case, tamper: fn(&mut Plan)) -> Result<(), String> {
    let (mut world, desired) = setup(case);
    world.check("nothing")?;
    for run in 0..MAX_RUNS {
        let mut p = plan(&desired, &world.live());
        if p.actions.is_empty() && world.events.is_empty() {
            return Ok(());
        }
        tamper(&mut p);
        let mut deadline = if run == 0 { case.deadline } else { None };
        if let Some(k) = case.crash_after.filter(|_| run == 0) {
            p.actions.truncate(k);
            deadline = Some(0);
        }
        world
            .run(&p, &case.durations, deadline)
            .map_err(|e| format!("run {}: {}: {e}", run + 1, summary(&p)))?;
    }
    let p = plan(&desired, &world.live());
    if !p.actions.is_empty() {
        return Err(format!(
            "no convergence after {MAX_RUNS} runs: still planned {}\n{}",
            summary(&p),
            world.dump()
        ));
    }
    end_state(&world, &desired, case)
}

/// Once converged, every account the file means is entitled, and (unless a foreign grant made
/// the tool keep one) only the file's own grants give access.
fn end_state(world: &World, desired: &Desired, case: &Case) -> Result<(), String> {
    let model = desired.models.values().next().expect("one model");
    let wanted: BTreeSet<(&LicenseArn, &Principal)> = model
        .principals
        .iter()
        .map(|p| (&model.license, p))
        .collect();
    for principal in &model.principals {
        for account in reach(world.org(), principal) {
            if world.entitlements(&account).is_empty() {
                return Err(format!(
                    "converged, but account {account} has no entitlement\n{}",
                    world.dump()
                ));
            }
        }
    }
    if matches!(case.change, Change::ForeignOu { .. }) {
        return Ok(());
    }
    for (arn, g) in &world.grants {
        let gives = world.gives_access(arn) && g.status != GrantStatus::Disabled;
        if gives && !wanted.contains(&(&g.license, &g.principal)) {
            return Err(format!(
                "converged, but grant {} on {} is not the file's\n{}",
                arn.grant_id(),
                g.principal.short_id(),
                world.dump()
            ));
        }
    }
    Ok(())
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<usize>(), any::<u64>()).prop_map(|(ou, mask)| Change::ToOu { ou, mask }),
        any::<u64>().prop_map(|mask| Change::ToOrg { mask }),
        any::<usize>().prop_map(|account| Change::Except { account }),
        (any::<u8>(), any::<usize>(), any::<u64>()).prop_map(|(kind, ou, mask)| Change::Renewal {
            kind,
            ou,
            mask
        }),
        (any::<usize>(), any::<u64>(), any::<usize>())
            .prop_map(|(ou, mask, foreign)| Change::ForeignOu { ou, mask, foreign }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3, 2usize..=6).prop_flat_map(|(n_ous, n_accounts)| {
        let ous: Vec<BoxedStrategy<Option<usize>>> = (0..n_ous)
            .map(|i| {
                proptest::option::of(0..i.max(1))
                    .prop_map(move |p| p.filter(|_| i > 0))
                    .boxed()
            })
            .collect();
        let accounts = proptest::collection::vec(proptest::option::of(0..n_ous), n_accounts);
        (
            ous,
            accounts,
            change(),
            proptest::collection::vec(1u64..=30, 8),
            proptest::option::of(0u64..=30),
            proptest::option::weighted(0.3, 0usize..8),
        )
            .prop_map(
                |(ous, accounts, change, durations, deadline, crash_after)| Case {
                    ous,
                    accounts,
                    change,
                    durations,
                    deadline,
                    crash_after,
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn continuing_accounts_stay_entitled_at_every_instant(case in case()) {
        if let Err(e) = timeline(&case, |_| {}) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// The timeline catches a revoke that does not wait: with `waits_for` cleared, moving two
/// account grants into their OU cuts both accounts off while the OU grant's workflow runs.
#[test]
fn the_timeline_catches_a_revoke_that_does_not_wait() {
    let case = Case {
        ous: vec![None],
        accounts: vec![Some(0), Some(0)],
        change: Change::ToOu { ou: 0, mask: 0b11 },
        durations: vec![5],
        deadline: None,
        crash_after: None,
    };
    assert_eq!(timeline(&case, |_| {}), Ok(()));
    let err = timeline(&case, |p| {
        for a in &mut p.actions {
            a.waits_for.clear();
        }
    })
    .unwrap_err();
    assert!(
        err.contains("t=0: account 200000000000 has no active entitlement after delete"),
        "{err}"
    );
}
