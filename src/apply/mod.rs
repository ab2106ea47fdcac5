//! Carries out a `Plan` exactly: retries, back-off, idempotency. Makes no decisions.
//!
//! Code map:
//! - `executor`: phases in order (grant, enable, revoke), actions of a phase concurrently, the
//!   report. Entry point [`execute`].
//! - `steps`: one action, from its first call to its goal; the pure `next_step` that says what a
//!   grant's state still needs.
//! - `watch`: waiting for AWS workflows, with every waiting grant read in shared batches.
//! - `continuity`: a revoke runs only once the grants that replace it are in effect for the
//!   accounts they must keep (`Action::waits_for`); otherwise it is deferred.
//! - pacing: per-operation AIMD driven by throttles ([`AdaptiveLimits`], in `aws::limiter`,
//!   shared with the Organizations reads).
//! - `context`: what the tasks share (clients, call gate, pacers, watcher).
//! - `recipients`: clients acting in member accounts to accept grants ([`Recipients`]).
//! - `policies`: the guardrail SCP writes of an enforcing plan, before the first grant phase
//!   (create, update, detach) and after the last (attach, delete), idempotent by name and tag.
//! - `report`, `progress`: what happened, and telling people while it happens.
//!
//! Invariants:
//! - Every mutating call is safe to repeat: CreateGrant carries the plan's client token, each
//!   CreateGrantVersion a token derived from the action, the step and the grant version it
//!   starts from (same request, same token), and DeleteGrant / AcceptGrant failures are checked
//!   against a fresh read ("already deleted / accepted" is done). A retried call after a lost
//!   response, a re-run after a crash and a concurrent apply of the same plan never make a
//!   second grant.
//! - Nothing is chosen here: the plan says what each grant must become; the executor only
//!   reads where the grant stands now and makes the calls that remain.
//! - No call is made to a grant the plan does not name, except the one `create` makes.

mod context;
mod continuity;
mod executor;
mod policies;
mod progress;
mod recipients;
mod report;
mod steps;
mod subscriptions;
mod watch;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

pub use crate::aws::AdaptiveLimits;
pub use executor::execute;
pub use policies::{PolicyApi, PolicyClient, PolicyError, PolicyOutcome, PolicyReport};
pub use progress::{BarProgress, LogProgress, NoProgress, Progress};
pub use recipients::{NoRecipients, Recipients, RoleRecipients};
pub use report::{
    ActionReport, ApplyReport, Counts, CoverWait, Outcome, StepError, SubscriptionReport, Waiting,
};
pub use subscriptions::{Licensed, SubscriptionOutcome, subscribe};

use crate::plan::{ActionKind, Plan};

/// How long `apply` waits, when `ApplyOptions::wait` is `None`, for a workflow that stands
/// between a grant and its target (a new grant must leave PENDING_WORKFLOW before it can be
/// activated). AWS documents 2–3 minutes for an account grant and 15–30 for an organization.
pub const DEFAULT_SETTLE_WAIT: Duration = Duration::from_secs(15 * 60);

/// How often to look at a grant whose workflow has not settled: `initial` after the call that
/// started it, then twice as long each time, up to `max`. Looks are cheap (one batched read per
/// 100 waiting grants), so the default starts early: 0.5 s, 1.5 s, 3.5 s, ... then every 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

/// How to carry out a plan.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// AWS calls in flight at most (also: actions starting at once).
    pub parallelism: usize,
    /// How long to wait for the workflows the plan's own changes start (organization and OU
    /// activations: PENDING_WORKFLOW to WORKFLOW_COMPLETED), and the bound of every other wait.
    /// `None`: do not wait for them (such grants are reported done with status
    /// PENDING_WORKFLOW), and wait up to [`DEFAULT_SETTLE_WAIT`] only where a step needs it
    /// (a new grant's workflow before activating it). Grants still in a workflow when a bound
    /// passes are reported pending. Also the bound of a revoke's wait for its covers
    /// (`Action::waits_for`); `None`: they are checked while the rest of the run lasts (at least
    /// once, after the enable phase), and a revoke whose covers are not in effect by then is
    /// deferred.
    pub wait: Option<Duration>,
    /// License Manager's home region, sent as CreateGrant's `HomeRegion`.
    pub home_region: String,
    pub poll: PollPolicy,
    /// The per-operation pacers. To let them see every throttle, give the same value to the
    /// clients as their retry observer: `ConnectOptions { observer: Some(limits.clone()), .. }`.
    pub limits: Arc<AdaptiveLimits>,
    /// The Organizations client the guardrail SCPs are written with (plans with
    /// `settings.guardrails.mode: enforce`). `None`: each policy action fails, naming it.
    pub guardrails: Option<PolicyClient>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 8,
            wait: None,
            home_region: "us-east-1".to_owned(),
            poll: PollPolicy::default(),
            limits: Arc::new(AdaptiveLimits::new()),
            guardrails: None,
        }
    }
}

/// A plan that deletes more than `--max-deletes` (or `settings.max_deletes`) allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the plan deletes {deletes} grants, more than the {max} allowed; \
     raise --max-deletes (or settings.max_deletes) if that is intended"
)]
pub struct TooManyDeletes {
    pub deletes: usize,
    pub max: u32,
}

/// Refuses a plan that deletes more grants than `max` (deletes and recreates count, and in
/// guardrail enforce mode each SCP detach and delete).
pub fn check_max_deletes(plan: &Plan, max: u32) -> Result<(), TooManyDeletes> {
    let deletes = plan
        .actions
        .iter()
        .filter(|a| matches!(a.kind(), ActionKind::Delete | ActionKind::Recreate))
        .count()
        + crate::plan::destructive_policy_actions(plan);
    if deletes as u64 > u64::from(max) {
        Err(TooManyDeletes { deletes, max })
    } else {
        Ok(())
    }
}
