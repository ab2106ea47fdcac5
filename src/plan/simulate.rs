//! What AWS ends up with once a plan is carried out, as a pure function: the test oracle for
//! convergence, and the source of the plan's "after" effective access.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sha2::{Digest, Sha256};

use super::types::{Action, ActionKind, Plan, TargetStatus};
use crate::config::ActivationOverride;
use crate::model::{
    AccountId, Grant, GrantArn, GrantStatus, LicenseArn, Live, Principal, Share, grant_order,
};
use crate::org::OrgIndex;

/// `live` after every action of `plan`, each as AWS settles it when all goes well: creates and
/// recreates appear with a deterministic fake ARN, ACTIVE (WORKFLOW_COMPLETED for organization
/// and OU grants) or DISABLED per the target status; activations, deactivations, updates and
/// acceptances set name, operations and status; deletes leave DELETED grants. Every change moves
/// the grant's version. An action whose grant is missing from `live` changes nothing.
///
/// Organization and OU grants get one share per account they reach (the caller left out): an
/// activation makes each share ACTIVE, except where the account keeps another active grant for
/// the product because the action does not send ALL_GRANTS_PERMITTED_BY_ISSUER (its share stays
/// DISABLED); with it, the other grants in effect for those accounts are disabled (account
/// grants DISABLED, shares DISABLED). A deactivation ends, as on AWS, in WORKFLOW_COMPLETED with
/// every share DISABLED (DISABLED when it reaches nobody). A delete removes the grant's shares.
///
/// The work is linear in the plan and the accounts its grants reach: who holds what is kept up
/// to date as each action settles ([`Sim`]), never recomputed from the whole snapshot.
pub fn simulate(live: &Live, plan: &Plan) -> Live {
    let mut sim = Sim::new(live);
    let mut taken: BTreeSet<GrantArn> = live.grants.iter().map(|g| g.arn.clone()).collect();
    // Created grants are appended and never acted on again by the same plan, so the positions
    // of the live grants stay valid.
    let position: HashMap<&GrantArn, usize> = live
        .grants
        .iter()
        .enumerate()
        .map(|(i, g)| (&g.arn, i))
        .collect();
    let find = |action: &Action| -> Option<usize> { position.get(action.grant_arn()?).copied() };
    for action in &plan.actions {
        let touched = match action.kind() {
            ActionKind::Create => Some(sim.create(action, &mut taken)),
            ActionKind::Recreate => {
                if let Some(i) = find(action) {
                    sim.delete(i);
                }
                Some(sim.create(action, &mut taken))
            }
            ActionKind::Delete => {
                if let Some(i) = find(action) {
                    sim.delete(i);
                }
                None
            }
            ActionKind::Activate
            | ActionKind::Deactivate
            | ActionKind::Update
            | ActionKind::Accept => find(action).inspect(|&i| sim.set(i, action)),
        };
        if let Some(i) = touched
            && action.kind() != ActionKind::Update
        {
            sim.settle_shares(i, action);
        }
    }
    sim.finish(live)
}

/// The snapshot being changed, with who holds what kept current: each grant's accounts in
/// effect and, per (product, account), the grants in effect for it.
struct Sim<'o> {
    grants: Vec<Grant>,
    /// Shares by parent grant, then account; a parent with no share has no entry.
    shares: BTreeMap<GrantArn, BTreeMap<AccountId, Share>>,
    /// The accounts each grant (by position in `grants`) is in effect for.
    effect: Vec<BTreeSet<AccountId>>,
    /// (product, account) → the grants in effect for it, by position.
    held: HashMap<(String, AccountId), BTreeSet<usize>>,
    /// Received licenses' products; a license not received is its own product.
    products: HashMap<&'o LicenseArn, &'o str>,
    home_regions: HashMap<&'o LicenseArn, &'o str>,
    index: OrgIndex<'o>,
    caller: &'o AccountId,
}

impl<'o> Sim<'o> {
    fn new(live: &'o Live) -> Self {
        let mut shares: BTreeMap<GrantArn, BTreeMap<AccountId, Share>> = BTreeMap::new();
        for share in &live.shares {
            shares
                .entry(share.parent.clone())
                .or_default()
                .insert(share.account.clone(), share.clone());
        }
        let mut sim = Sim {
            grants: live.grants.clone(),
            shares,
            effect: vec![BTreeSet::new(); live.grants.len()],
            held: HashMap::new(),
            products: live
                .licenses
                .iter()
                .map(|l| (&l.arn, l.product_sku.as_str()))
                .collect(),
            home_regions: live
                .licenses
                .iter()
                .map(|l| (&l.arn, l.home_region.as_str()))
                .collect(),
            index: OrgIndex::new(&live.organization),
            caller: &live.caller,
        };
        for i in 0..sim.grants.len() {
            sim.refresh(i);
        }
        sim
    }

    fn product(&self, license: &LicenseArn) -> String {
        match self.products.get(license) {
            Some(sku) => (*sku).to_owned(),
            None => license.to_string(),
        }
    }

    /// The grantable accounts a grant to `principal` reaches, the caller left out.
    fn reached(&self, principal: &Principal) -> Vec<AccountId> {
        let mut accounts = self.index.covered(principal);
        accounts.retain(|a| self.index.is_grantable(a) && a != self.caller);
        accounts.into_iter().collect()
    }

    /// The accounts grant `i` is in effect for, from its status and shares.
    fn in_effect(&self, i: usize) -> BTreeSet<AccountId> {
        let grant = &self.grants[i];
        let shares = self.shares.get(&grant.arn).map(|s| s.values());
        super::holdings::in_effect(grant, shares, |parent| {
            let mut accounts = self.index.covered(parent);
            accounts.retain(|a| self.index.is_grantable(a));
            accounts
        })
    }

    /// Recomputes where grant `i` is in effect after its status or shares changed.
    fn refresh(&mut self, i: usize) {
        let now = self.in_effect(i);
        let before = std::mem::take(&mut self.effect[i]);
        let product = self.product(&self.grants[i].license_arn);
        for gone in before.difference(&now) {
            self.unhold(&product, gone, i);
        }
        for came in now.difference(&before) {
            self.hold(&product, came, i);
        }
        self.effect[i] = now;
    }

    fn hold(&mut self, product: &str, account: &AccountId, i: usize) {
        let key = (product.to_owned(), account.clone());
        self.held.entry(key).or_default().insert(i);
    }

    fn unhold(&mut self, product: &str, account: &AccountId, i: usize) {
        let key = (product.to_owned(), account.clone());
        if let Some(held) = self.held.get_mut(&key) {
            held.remove(&i);
        }
    }

    /// The grants other than `i` in effect for `account` for `product`.
    fn others(&self, product: &str, account: &AccountId, i: usize) -> Vec<usize> {
        let key = (product.to_owned(), account.clone());
        self.held
            .get(&key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&j| j != i)
            .collect()
    }

    fn set(&mut self, i: usize, action: &Action) {
        let grant = &mut self.grants[i];
        grant.name = action.grant_name.clone();
        grant.operations = action.operations.clone();
        // An update is planned only when the status is already right.
        if action.kind() != ActionKind::Update {
            grant.status = settled_status(&action.principal, action.target_status);
        }
        bump(grant);
        self.refresh(i);
    }

    fn delete(&mut self, i: usize) {
        let grant = &mut self.grants[i];
        grant.status = GrantStatus::Deleted;
        bump(grant);
        let arn = grant.arn.clone();
        self.shares.remove(&arn);
        self.refresh(i);
    }

    /// The one-active-grant rule and the shares of grant `i` after `action` settled it.
    fn settle_shares(&mut self, i: usize, action: &Action) {
        let activating = action.target_status == TargetStatus::Active;
        let swap =
            action.activation_override == Some(ActivationOverride::AllGrantsPermittedByIssuer);
        let principal = self.grants[i].principal.clone();
        let reached = self.reached(&principal);
        let is_parent = !matches!(principal, Principal::Account(_));
        if !activating {
            if action.kind() == ActionKind::Deactivate && is_parent && !reached.is_empty() {
                self.set_shares(i, &reached, |_| GrantStatus::Disabled);
                self.grants[i].status = GrantStatus::WorkflowCompleted;
                self.refresh(i);
            }
            return;
        }
        let product = self.product(&self.grants[i].license_arn);
        // Every reached account that holds another grant of the product.
        let holding: BTreeSet<AccountId> = reached
            .iter()
            .filter(|a| !self.others(&product, a, i).is_empty())
            .cloned()
            .collect();
        if swap {
            for account in &holding {
                self.disable_others(i, &product, account);
            }
        }
        if is_parent {
            self.set_shares(i, &reached, |a| {
                if !swap && holding.contains(a) {
                    GrantStatus::Disabled
                } else {
                    GrantStatus::Active
                }
            });
        }
    }

    /// Replaces the shares of grant `i` with one per account, of the status `status` gives.
    fn set_shares(
        &mut self,
        i: usize,
        accounts: &[AccountId],
        status: impl Fn(&AccountId) -> GrantStatus,
    ) {
        let parent = &self.grants[i];
        let shares: BTreeMap<AccountId, Share> = accounts
            .iter()
            .map(|account| {
                let share = Share {
                    parent: parent.arn.clone(),
                    arn: share_arn(parent, account),
                    license_arn: parent.license_arn.clone(),
                    account: account.clone(),
                    status: status(account),
                };
                (account.clone(), share)
            })
            .collect();
        let arn = parent.arn.clone();
        match shares.is_empty() {
            true => self.shares.remove(&arn),
            false => self.shares.insert(arn, shares),
        };
        self.refresh(i);
    }

    /// ALL_GRANTS_PERMITTED_BY_ISSUER: every other grant of the product in effect for `account` is
    /// disabled (an account grant) or loses its share for the account.
    fn disable_others(&mut self, i: usize, product: &str, account: &AccountId) {
        for j in self.others(product, account, i) {
            let principal = self.grants[j].principal.clone();
            if let Principal::Account(_) = principal {
                let other = &mut self.grants[j];
                other.status = GrantStatus::Disabled;
                bump(other);
                self.refresh(j);
                continue;
            }
            let arn = self.grants[j].arn.clone();
            if !self.shares.contains_key(&arn) {
                let all = self.reached(&principal);
                self.set_shares(j, &all, |_| GrantStatus::Active);
            }
            let share = self
                .shares
                .get_mut(&arn)
                .and_then(|shares| shares.get_mut(account));
            if let Some(share) = share {
                share.status = GrantStatus::Disabled;
                self.unhold(product, account, j);
                self.effect[j].remove(account);
            }
        }
    }

    fn create(&mut self, action: &Action, taken: &mut BTreeSet<GrantArn>) -> usize {
        let arn = fake_arn(self.caller, action, taken);
        let home_region = match self.home_regions.get(&action.license_arn) {
            Some(region) => (*region).to_owned(),
            None => "us-east-1".to_owned(),
        };
        taken.insert(arn.clone());
        self.grants.push(Grant {
            arn,
            name: action.grant_name.clone(),
            license_arn: action.license_arn.clone(),
            principal: action.principal.clone(),
            status: settled_status(&action.principal, action.target_status),
            status_reason: None,
            version: "1".to_owned(),
            operations: action.operations.clone(),
            parent_arn: action.license_arn.to_string(),
            home_region,
        });
        self.effect.push(BTreeSet::new());
        let i = self.grants.len() - 1;
        self.refresh(i);
        i
    }

    /// The snapshot with every change, in the order `Live` keeps.
    fn finish(self, live: &Live) -> Live {
        let mut grants = self.grants;
        grants.sort_by(grant_order);
        let mut shares: Vec<Share> = self
            .shares
            .into_values()
            .flat_map(BTreeMap::into_values)
            .collect();
        shares.sort();
        Live {
            organization: live.organization.clone(),
            caller: live.caller.clone(),
            licenses: live.licenses.clone(),
            grants,
            shares,
            read_at: live.read_at,
            guardrails: live.guardrails.clone(),
        }
    }
}

/// A share's ARN: the parent's with the account appended to its id.
fn share_arn(parent: &Grant, account: &AccountId) -> GrantArn {
    let digest = hex::encode(Sha256::digest(
        format!("{}\n{account}", parent.arn).as_bytes(),
    ));
    let text = format!(
        "arn:aws:license-manager::{account}:grant:g-{}",
        &digest[..32]
    );
    text.parse()
        .expect("a typed account id and hex digits make a valid grant ARN")
}

fn bump(grant: &mut Grant) {
    grant.version = match grant.version.parse::<u64>() {
        Ok(v) => (v + 1).to_string(),
        Err(_) => format!("{}.1", grant.version),
    };
}

/// The status a grant settles in: organization and OU grants end their activation workflow in
/// WORKFLOW_COMPLETED, account grants in ACTIVE.
fn settled_status(principal: &Principal, target: TargetStatus) -> GrantStatus {
    match (target, principal) {
        (TargetStatus::Disabled, _) => GrantStatus::Disabled,
        (TargetStatus::Active, Principal::Account(_)) => GrantStatus::Active,
        (TargetStatus::Active, _) => GrantStatus::WorkflowCompleted,
    }
}

/// `arn:aws:license-manager::<caller>:grant:g-<32 hex>`, from a hash of the pair and a counter
/// that skips ARNs already in use.
fn fake_arn(caller: &AccountId, action: &Action, taken: &BTreeSet<GrantArn>) -> GrantArn {
    let mut n = 0u64;
    loop {
        let seed = format!("{}\n{}\n{n}", action.license_arn, action.principal);
        let digest = hex::encode(Sha256::digest(seed.as_bytes()));
        let text = format!(
            "arn:aws:license-manager::{}:grant:g-{}",
            caller,
            &digest[..32]
        );
        let arn: GrantArn = text
            .parse()
            .expect("a typed account id and hex digits make a valid grant ARN");
        if !taken.contains(&arn) {
            return arn;
        }
        n += 1;
    }
}
