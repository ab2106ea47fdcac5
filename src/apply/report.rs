//! What `execute` did with each action: done, still pending, failed or skipped.

use std::collections::BTreeMap;

use crate::aws::AwsError;
use crate::model::{AccountId, GrantArn, GrantStatus, LicenseArn, Principal};
use crate::plan::Action;

/// Why a step of an action could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// An AWS call failed (after the retries the `aws` layer makes).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The grant left the path to the action's target while the action ran (deleted, rejected,
    /// failed workflow).
    #[error("grant {grant} is {status} and can no longer be brought to {target}")]
    Unreachable {
        grant: GrantArn,
        status: GrantStatus,
        target: &'static str,
    },
    /// The grant's state kept moving away from the target after every change made to it.
    #[error("grant {grant} did not reach {target} after {steps} changes; it is {status}")]
    NoProgress {
        grant: GrantArn,
        status: GrantStatus,
        target: &'static str,
        steps: u32,
    },
    /// The grant the action names cannot be read by the caller.
    #[error("grant {grant} cannot be found")]
    Vanished { grant: GrantArn },
    /// No client acting as the recipient account could be made.
    #[error("cannot act as recipient account {account}: {source}")]
    Recipient {
        account: AccountId,
        #[source]
        source: AwsError,
    },
    /// The task carrying out the action ended abnormally.
    #[error("the task applying this action failed: {0}")]
    Task(String),
}

impl StepError {
    /// The AWS operation that failed, or the step that found the problem.
    pub fn operation(&self) -> &'static str {
        match self {
            StepError::Aws(e) | StepError::Recipient { source: e, .. } => e.operation,
            StepError::Unreachable { .. }
            | StepError::NoProgress { .. }
            | StepError::Vanished { .. } => "GetGrant",
            StepError::Task(_) => "apply",
        }
    }

    /// AWS's message for an AWS error, this error's own sentence otherwise.
    pub fn message(&self) -> String {
        match self {
            StepError::Aws(e) | StepError::Recipient { source: e, .. } if !e.message.is_empty() => {
                e.message.clone()
            }
            StepError::Aws(e) | StepError::Recipient { source: e, .. } => e.code.clone(),
            other => other.to_string(),
        }
    }

    /// The AWS error code, if an AWS call failed.
    pub fn code(&self) -> Option<&str> {
        match self {
            StepError::Aws(e) | StepError::Recipient { source: e, .. } => Some(&e.code),
            _ => None,
        }
    }
}

/// What the grant waits on when an action ends pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Waiting {
    /// An AWS workflow (PENDING_WORKFLOW) did not settle within the wait bound.
    Workflow,
    /// The recipient account must accept the grant (PENDING_ACCEPT) and no recipient role was
    /// given to do it.
    Recipient,
}

impl Waiting {
    pub fn as_str(self) -> &'static str {
        match self {
            Waiting::Workflow => "workflow",
            Waiting::Recipient => "recipient",
        }
    }
}

/// One cover of a deferred revoke that is not in effect for some of its accounts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CoverWait {
    pub license_arn: LicenseArn,
    pub principal: Principal,
    /// The cover's grant; `None` when the grant this plan was to create was not made.
    pub grant: Option<GrantArn>,
    /// The accounts for which the cover is not in effect yet, sorted.
    pub accounts: Vec<AccountId>,
}

/// How one action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every call of the action succeeded. `status` is the grant's status after them: the target
    /// status, DELETED for a delete, or PENDING_WORKFLOW when AWS is still finishing an
    /// organization/OU change that `ApplyOptions::wait` did not ask to wait for.
    Done {
        grant: GrantArn,
        status: GrantStatus,
    },
    /// The grant exists but waits on something `apply` does not control.
    Pending {
        grant: GrantArn,
        status: GrantStatus,
        waiting_on: Waiting,
    },
    /// A step failed; `grant` is the grant it concerned, if one exists.
    Failed {
        grant: Option<GrantArn>,
        error: StepError,
    },
    /// Not attempted: it removes access on a license whose earlier (granting) actions failed.
    Skipped { reason: String },
    /// A revoke not carried out because a grant that must replace it is not in effect for some
    /// accounts yet (by the end of the run, or of `ApplyOptions::wait`): the grant it would
    /// revoke is untouched, and the next plan proposes the revoke again.
    Deferred {
        grant: Option<GrantArn>,
        waits_for: Vec<CoverWait>,
    },
}

impl Outcome {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Done { .. })
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. } | Outcome::Skipped { .. })
    }

    /// `done`, `pending`, `failed`, `skipped` or `deferred`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::Pending { .. } => "pending",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Deferred { .. } => "deferred",
        }
    }

    pub fn grant(&self) -> Option<&GrantArn> {
        match self {
            Outcome::Done { grant, .. } | Outcome::Pending { grant, .. } => Some(grant),
            Outcome::Failed { grant, .. } | Outcome::Deferred { grant, .. } => grant.as_ref(),
            Outcome::Skipped { .. } => None,
        }
    }
}

/// One action of the plan and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    /// Position of the action in `Plan::actions`.
    pub index: usize,
    pub action: Action,
    pub outcome: Outcome,
}

/// Counts of outcomes, for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub done: usize,
    pub pending: usize,
    pub failed: usize,
    pub skipped: usize,
    pub deferred: usize,
}

/// One subscription of the plan (`Plan::subscriptions`) and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionReport {
    pub action: crate::plan::SubscriptionAction,
    pub outcome: super::SubscriptionOutcome,
}

/// Every action of the plan, in plan order, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplyReport {
    pub actions: Vec<ActionReport>,
    /// The guardrail SCP actions of an enforcing plan, in `GuardrailPlan::actions` order (empty
    /// otherwise).
    pub policies: Vec<super::PolicyReport>,
    /// The subscriptions of apply's first phase, in `Plan::subscriptions` order (empty when the
    /// plan subscribes to nothing). `execute` leaves it empty; the CLI fills it in.
    pub subscriptions: Vec<SubscriptionReport>,
}

impl ApplyReport {
    /// No action failed or was skipped. Pending actions (grants waiting on a recipient or on an
    /// AWS workflow) and deferred revokes do not make a run unsuccessful; they are reported.
    pub fn is_success(&self) -> bool {
        self.grants_and_policies_succeeded() && self.subscriptions_failed() == 0
    }

    /// No grant action and no SCP action failed or was skipped (subscriptions aside).
    pub fn grants_and_policies_succeeded(&self) -> bool {
        !self.actions.iter().any(|a| a.outcome.is_failed())
            && !self.policies.iter().any(|p| p.outcome.is_failed())
    }

    /// The subscriptions refused, no longer offered or failed.
    pub fn subscriptions_failed(&self) -> usize {
        self.subscriptions
            .iter()
            .filter(|s| s.outcome.is_failure())
            .count()
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for a in &self.actions {
            match a.outcome {
                Outcome::Done { .. } => c.done += 1,
                Outcome::Pending { .. } => c.pending += 1,
                Outcome::Failed { .. } => c.failed += 1,
                Outcome::Skipped { .. } => c.skipped += 1,
                Outcome::Deferred { .. } => c.deferred += 1,
            }
        }
        c
    }

    pub fn done(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions.iter().filter(|a| a.outcome.is_done())
    }

    pub fn pending(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Pending { .. }))
    }

    pub fn failed(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions.iter().filter(|a| a.outcome.is_failed())
    }

    pub fn deferred(&self) -> impl Iterator<Item = &ActionReport> {
        self.actions
            .iter()
            .filter(|a| matches!(a.outcome, Outcome::Deferred { .. }))
    }

    /// The number of actions per outcome label (`done`, `pending`, `failed`, `skipped`,
    /// `deferred`).
    pub fn summary(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for a in &self.actions {
            *m.entry(a.outcome.label()).or_insert(0) += 1;
        }
        m
    }
}
