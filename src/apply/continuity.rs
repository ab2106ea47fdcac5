//! Access continuity: a revoking action (delete, deactivate, the delete half of a recreate)
//! runs only once each grant that must replace it (`Action::waits_for`) is in effect for the
//! accounts the cover lists. An account cover is in effect when its grant is ACTIVE; an
//! organization or OU cover when each listed account's share of it (read with
//! `ListReceivedGrantsForOrganization`, filter `ParentArn`) is ACTIVE: the parent's
//! WORKFLOW_COMPLETED says only that a distribution or a recall finished.
//!
//! The plan says which covers each revoke waits for; the executor only looks. A cover the plan
//! creates (`grant_arn: None`) is the grant the plan's create on that (license, principal)
//! made in this run; when that create failed (or the plan has none) the revoke is deferred
//! without a look.

use tokio::time::Instant;

use super::context::Shared;
use super::report::{CoverWait, Outcome};
use crate::aws::{AwsError, LicenseManagerApi};
use crate::model::{AccountId, GrantArn, GrantStatus, Principal};
use crate::plan::{Action, ActionKind, Cover, Plan};

/// One cover of a revoke, with the grant to look at (`None`: the grant was not made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub cover: Cover,
    pub grant: Option<GrantArn>,
}

impl Check {
    fn waiting(&self, accounts: Vec<AccountId>) -> CoverWait {
        CoverWait {
            license_arn: self.cover.license_arn.clone(),
            principal: self.cover.principal.clone(),
            grant: self.grant.clone(),
            accounts,
        }
    }
}

/// Pure: the covers of `action` with their grants, from the outcomes known so far (a cover the
/// plan creates takes the grant its create or recreate reported).
pub(crate) fn resolve(plan: &Plan, outcomes: &[Option<Outcome>], action: &Action) -> Vec<Check> {
    action
        .waits_for
        .iter()
        .map(|cover| {
            let grant = cover.grant_arn.clone().or_else(|| {
                plan.actions
                    .iter()
                    .zip(outcomes)
                    .find(|(a, _)| {
                        matches!(a.kind(), ActionKind::Create | ActionKind::Recreate)
                            && a.license_arn == cover.license_arn
                            && a.principal == cover.principal
                    })
                    .and_then(|(_, o)| match o {
                        Some(Outcome::Done { grant, .. } | Outcome::Pending { grant, .. }) => {
                            Some(grant.clone())
                        }
                        _ => None,
                    })
            });
            Check {
                cover: cover.clone(),
                grant,
            }
        })
        .collect()
}

/// Waits until every check is in effect: `None` then (the revoke may run), or the outcome
/// that ends the action instead: `Deferred` when a cover is not in effect by the end of the
/// wait (`ApplyOptions::wait`, or else the end of the rest of the phase), `Failed` when a look
/// failed in a way that retrying cannot mend.
pub(crate) async fn await_covers<L, RA>(
    shared: &Shared<L, RA>,
    revoked: Option<&GrantArn>,
    checks: &[Check],
) -> Option<Outcome>
where
    L: LicenseManagerApi + 'static,
    RA: Send + Sync + 'static,
{
    if checks.is_empty() {
        return None;
    }
    let unmade: Vec<CoverWait> = checks
        .iter()
        .filter(|c| c.grant.is_none())
        .map(|c| c.waiting(c.cover.accounts.clone()))
        .collect();
    if !unmade.is_empty() {
        return Some(deferred(revoked, unmade));
    }
    let _waiting = shared.continuity.wait();
    let mut over = shared.continuity.subscribe();
    let deadline = shared.wait.map(|d| Instant::now() + d);
    let mut delay = shared.poll.initial;
    loop {
        let last = match deadline {
            Some(d) => Instant::now() >= d,
            None => *over.borrow_and_update(),
        };
        let mut waits = Vec::new();
        for check in checks {
            match not_in_effect(shared, check).await {
                Ok(accounts) if accounts.is_empty() => {}
                Ok(accounts) => waits.push(check.waiting(accounts)),
                Err(e) if e.kind.is_retryable() => {
                    waits.push(check.waiting(check.cover.accounts.clone()))
                }
                Err(e) => {
                    return Some(Outcome::Failed {
                        grant: revoked.cloned(),
                        error: e.into(),
                    });
                }
            }
        }
        if waits.is_empty() {
            return None;
        }
        if last {
            return Some(deferred(revoked, waits));
        }
        let wake = deadline.map_or(Instant::now() + delay, |d| (Instant::now() + delay).min(d));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = over.changed(), if deadline.is_none() => {}
        }
        delay = (delay * 2).min(shared.poll.max.max(shared.poll.initial));
    }
}

fn deferred(revoked: Option<&GrantArn>, mut waits_for: Vec<CoverWait>) -> Outcome {
    waits_for.sort();
    Outcome::Deferred {
        grant: revoked.cloned(),
        waits_for,
    }
}

/// The accounts of `check` its grant is not in effect for, as read now (with other waiters).
async fn not_in_effect<L, RA>(
    shared: &Shared<L, RA>,
    check: &Check,
) -> Result<Vec<AccountId>, AwsError>
where
    L: LicenseManagerApi + 'static,
    RA: Send + Sync + 'static,
{
    let Some(grant) = &check.grant else {
        return Ok(check.cover.accounts.clone());
    };
    let now = Instant::now();
    if let Principal::Account(_) = check.cover.principal {
        let read = shared.watcher.read_at(grant, now).await?;
        let active = read.is_some_and(|g| g.status == GrantStatus::Active);
        return Ok(if active {
            Vec::new()
        } else {
            check.cover.accounts.clone()
        });
    }
    let shares = shared
        .watcher
        .shares_at(&check.cover.license_arn, grant, now)
        .await?;
    Ok(check
        .cover
        .accounts
        .iter()
        .filter(|account| {
            !shares.iter().any(|s| {
                &s.account == *account && s.parent == *grant && s.status == GrantStatus::Active
            })
        })
        .cloned()
        .collect())
}
