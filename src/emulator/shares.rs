//! Workflows completing (after reads or at an instant), organization and OU grants' per-account
//! shares, the one-active-grant-per-product rule, timed deletions, and the entitlement oracle.
//!
//! An org/OU grant keeps one settled share status (`share_default`) that every account it
//! reaches holds (so accounts that join later receive it), plus per-account exceptions
//! (`share_overrides`). Shares change only when the parent's workflow completes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::clock::{self, Instant};
use super::state::{GrantRec, Grantee, Status, Workflow, WorkflowKind, World};

/// Who holds an ACTIVE entitlement: an account grant, or one account's share of an org/OU grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Grant(usize),
    Share(usize, String),
}

/// One (product, account) that holds at least one ACTIVE entitlement right now, and the grants
/// that give it (account grants by their ARN, shares by their organization or OU grant's ARN).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntitlementView {
    pub product_sku: String,
    pub account: String,
    pub grants: Vec<String>,
}

impl World {
    /// Puts grant `idx` into a workflow ending in `then`: timed when `ms` > 0 (it completes `ms`
    /// milliseconds from now), else after `reads` reads.
    pub(crate) fn start_workflow(
        &mut self,
        idx: usize,
        then: Status,
        kind: WorkflowKind,
        ms: u64,
        reads: u32,
    ) {
        let g = &mut self.grants[idx];
        let from = match kind {
            WorkflowKind::Distribution => None,
            _ => Some(g.status),
        };
        let due = (ms > 0).then(|| clock::now() + Duration::from_millis(ms));
        g.workflow = Some(Workflow {
            reads_left: reads,
            due,
            then,
            from,
            kind,
        });
        g.status = Status::PendingWorkflow;
        if due.is_some() {
            self.timed.insert(idx);
        }
    }

    /// Starts a timed deletion: PENDING_DELETE now, DELETED `ms` milliseconds later.
    pub(crate) fn start_deletion(&mut self, idx: usize, ms: u64) {
        let g = &mut self.grants[idx];
        g.status = Status::PendingDelete;
        g.delete_due = Some(clock::now() + Duration::from_millis(ms));
        self.timed.insert(idx);
    }

    /// Completes the read-counted workflow of grant `idx` if it has no reads left.
    pub(crate) fn settle_if_due(&mut self, idx: usize) {
        let due =
            matches!(&self.grants[idx].workflow, Some(w) if w.due.is_none() && w.reads_left == 0);
        if due {
            self.complete_workflow(idx);
        }
    }

    /// Counts one read of grant `idx` toward a read-counted workflow.
    pub(crate) fn observed(&mut self, idx: usize) {
        if let Some(w) = &mut self.grants[idx].workflow
            && w.due.is_none()
        {
            w.reads_left = w.reads_left.saturating_sub(1);
        }
    }

    /// Completes every timed workflow and deletion due by `now`, earliest first, as if each had
    /// happened at its instant (nothing observes the world between two calls).
    pub(crate) fn settle_timed(&mut self, now: Instant) {
        self.settle_agreements(now);
        if self.timed.is_empty() {
            return;
        }
        let mut due: Vec<(Instant, usize)> = self
            .timed
            .iter()
            .filter_map(|&i| {
                let g = &self.grants[i];
                let at = g.workflow.as_ref().and_then(|w| w.due).or(g.delete_due)?;
                (at <= now).then_some((at, i))
            })
            .collect();
        due.sort();
        for (_, i) in due {
            self.timed.remove(&i);
            if self.grants[i].workflow.is_some() {
                self.complete_workflow(i);
            } else if self.grants[i].delete_due.take().is_some() {
                let g = &mut self.grants[i];
                g.status = Status::Deleted;
                g.bump();
            }
        }
    }

    /// Ends the workflow of grant `idx`: the parent's status moves, its shares change at once.
    pub(crate) fn complete_workflow(&mut self, idx: usize) {
        let Some(w) = self.grants[idx].workflow.take() else {
            return;
        };
        self.timed.remove(&idx);
        let g = &mut self.grants[idx];
        g.status = w.then;
        if !g.is_account_grant() {
            g.share_overrides.clear();
            g.share_default = match (w.kind, w.then) {
                (_, Status::FailedWorkflow) => None,
                (WorkflowKind::Activation { .. }, _) => Some(Status::Active),
                _ => Some(Status::Disabled),
            };
        }
        g.bump();
        if let WorkflowKind::Activation {
            override_all,
            one_active: true,
        } = w.kind
            && !self.grants[idx].is_account_grant()
        {
            self.apply_one_active(idx, override_all);
        }
    }

    /// The one-active rule at an org/OU activation: for each account it reaches that already
    /// holds another ACTIVE entitlement for the product, either the others are disabled
    /// (`ALL_GRANTS_PERMITTED_BY_ISSUER`) or this grant's share stays DISABLED.
    fn apply_one_active(&mut self, idx: usize, override_all: bool) {
        let sku = self.sku_of(idx);
        let accounts = self.recipients(&self.grants[idx]);
        for account in accounts {
            let others = self.active_holders(&account, &sku, idx);
            if others.is_empty() {
                continue;
            }
            if override_all {
                for h in others {
                    self.disable_holder(h);
                }
            } else {
                self.grants[idx]
                    .share_overrides
                    .insert(account, Status::Disabled);
            }
        }
    }

    pub(crate) fn sku_of(&self, idx: usize) -> String {
        self.license(&self.grants[idx].license_arn)
            .map(|l| self.licenses[l].sku.clone())
            .unwrap_or_default()
    }

    /// Every ACTIVE entitlement `account` holds for product `sku`, except through grant `except`.
    pub(crate) fn active_holders(&self, account: &str, sku: &str, except: usize) -> Vec<Holder> {
        let mut out = Vec::new();
        let candidates = [Some(account.to_owned()), None];
        let positions = candidates
            .iter()
            .filter_map(|k| self.grants_by_grantee.get(k))
            .flatten();
        for &i in positions {
            let g = &self.grants[i];
            if i == except || self.sku_of(i) != sku {
                continue;
            }
            match &g.grantee {
                Grantee::Account(_) if g.status == Status::Active => out.push(Holder::Grant(i)),
                Grantee::Account(_) => {}
                _ => {
                    if self.reaches(g, account)
                        && g.effective_share(account) == Some(Status::Active)
                    {
                        out.push(Holder::Share(i, account.to_owned()));
                    }
                }
            }
        }
        out
    }

    /// Disables one entitlement: an account grant gets a new version, a share becomes DISABLED.
    pub(crate) fn disable_holder(&mut self, h: Holder) {
        match h {
            Holder::Grant(i) => {
                let g = &mut self.grants[i];
                g.status = Status::Disabled;
                g.bump();
            }
            Holder::Share(i, account) => {
                self.grants[i]
                    .share_overrides
                    .insert(account, Status::Disabled);
            }
        }
    }

    /// The ARN a holder is known by (a share by its parent grant).
    pub(crate) fn holder_arn(&self, h: &Holder) -> &str {
        match h {
            Holder::Grant(i) | Holder::Share(i, _) => &self.grants[*i].arn,
        }
    }

    /// One entry per (product, account) with at least one ACTIVE entitlement right now, sorted.
    pub(crate) fn entitlements(&self) -> Vec<EntitlementView> {
        let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (i, g) in self.grants.iter().enumerate() {
            if g.is_gone() {
                continue;
            }
            let sku = self.sku_of(i);
            match &g.grantee {
                Grantee::Account(a) => {
                    if g.status == Status::Active {
                        out.entry((sku, a.clone())).or_default().push(g.arn.clone());
                    }
                }
                _ => add_shares(self, g, &sku, &mut out),
            }
        }
        out.into_iter()
            .map(|((product_sku, account), mut grants)| {
                grants.sort();
                EntitlementView {
                    product_sku,
                    account,
                    grants,
                }
            })
            .collect()
    }
}

fn add_shares(
    world: &World,
    g: &GrantRec,
    sku: &str,
    out: &mut BTreeMap<(String, String), Vec<String>>,
) {
    let Some(default) = g.share_default else {
        return;
    };
    if default != Status::Active && !g.share_overrides.values().any(|s| *s == Status::Active) {
        return;
    }
    for account in world.recipients(g) {
        if g.effective_share(&account) == Some(Status::Active) {
            out.entry((sku.to_owned(), account))
                .or_default()
                .push(g.arn.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::clock::Instant;
    use super::super::seed::{GrantSeed, Seed};
    use super::*;

    const CLAUDE: &str =
        "arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811";
    const OU_ML: &str = "arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-mlplatfm";
    const ML_PROD: &str = "222233334444";

    fn world_with(grants: &[(&str, &str)]) -> World {
        let mut w = World::from_seed(&Seed::sandbox()).unwrap();
        for (principal, status) in grants {
            w.add_seed_grant(&GrantSeed {
                arn: None,
                name: format!("g-{principal}"),
                license_arn: CLAUDE.to_owned(),
                principal: (*principal).to_owned(),
                grantor: None,
                status: (*status).to_owned(),
                status_reason: None,
                version: 1,
                operations: vec!["CheckoutLicense".to_owned()],
            })
            .unwrap();
        }
        w
    }

    fn holders(w: &World, account: &str) -> Vec<String> {
        w.entitlements()
            .into_iter()
            .find(|e| e.account == account)
            .map(|e| e.grants)
            .unwrap_or_default()
    }

    /// ML_PROD holds an ACTIVE account grant and sits in OU_ML, whose DISABLED grant is to be
    /// activated with `kind`: the world, the account grant, the OU grant.
    fn swap(override_all: bool) -> (World, usize, usize, WorkflowKind) {
        let w = world_with(&[
            ("arn:aws:iam::222233334444:root", "ACTIVE"),
            (OU_ML, "DISABLED"),
        ]);
        let n = w.grants.len();
        let kind = WorkflowKind::Activation {
            override_all,
            one_active: true,
        };
        (w, n - 2, n - 1, kind)
    }

    #[test]
    fn a_timed_swap_happens_at_its_instant_and_not_before() {
        let (mut w, account, ou, kind) = swap(true);
        w.start_workflow(ou, Status::WorkflowCompleted, kind, 1_000, 0);
        let now = Instant::now();
        w.settle_timed(now);
        // Not due: the account keeps its own grant, the OU grant gives nothing yet.
        assert_eq!(w.grants[ou].status, Status::PendingWorkflow);
        assert_eq!(holders(&w, ML_PROD), vec![w.grants[account].arn.clone()]);
        w.settle_timed(now + Duration::from_secs(2));
        assert_eq!(w.grants[ou].status, Status::WorkflowCompleted);
        assert_eq!(w.grants[account].status, Status::Disabled);
        assert_eq!(holders(&w, ML_PROD), vec![w.grants[ou].arn.clone()]);
        assert!(w.timed.is_empty());
    }

    #[test]
    fn without_the_override_a_member_keeps_its_other_grant() {
        let (mut w, account, ou, kind) = swap(false);
        w.start_workflow(ou, Status::WorkflowCompleted, kind, 0, 0);
        w.settle_if_due(ou);
        assert_eq!(w.grants[account].status, Status::Active);
        assert_eq!(
            w.grants[ou].effective_share(ML_PROD),
            Some(Status::Disabled)
        );
        assert_eq!(
            w.grants[ou].effective_share("333344445555"),
            Some(Status::Active)
        );
        assert_eq!(holders(&w, ML_PROD), vec![w.grants[account].arn.clone()]);
    }

    #[test]
    fn a_pending_delete_gives_nothing_and_ends_deleted() {
        let mut w = world_with(&[(OU_ML, "WORKFLOW_COMPLETED")]);
        let ou = w.grants.len() - 1;
        assert_eq!(holders(&w, ML_PROD), vec![w.grants[ou].arn.clone()]);
        w.start_deletion(ou, 500);
        assert_eq!(w.grants[ou].status, Status::PendingDelete);
        assert!(holders(&w, ML_PROD).is_empty());
        w.settle_timed(Instant::now() + Duration::from_secs(1));
        assert_eq!(w.grants[ou].status, Status::Deleted);
    }
}
