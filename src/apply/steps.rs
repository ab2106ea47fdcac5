//! One action, step by step.
//!
//! Every action has a goal (the status, name and operations its grant must end with). After
//! each call or read, the pure [`next_step`] says what the grant's state still needs: nothing, a
//! new version, acceptance by the recipient, or waiting for a workflow. A failed call is
//! followed by one re-read: if the new state explains the error (the change was already made by
//! a lost response or a concurrent apply, or the grant entered a workflow) the action carries on
//! from it; a version conflict is retried once with the fresh version; anything else fails the
//! action with AWS's message.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::context::Shared;
use super::continuity::{self, Check};
use super::report::{Outcome, StepError, Waiting};
use crate::aws::{AwsError, ErrorKind, GrantChange, GrantRef, LicenseManagerApi, NewGrant};
use crate::model::{Grant, GrantArn, GrantStatus, Principal};
use crate::plan::{Action, ActionBody, ActionKind, PlannedGrant, TargetStatus};

/// Mutating calls one action may make before it is declared stuck.
const MAX_CHANGES: u32 = 4;

/// What the grant must end with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Goal {
    pub status: Option<TargetStatus>,
    pub name: Option<String>,
    pub operations: Option<BTreeSet<String>>,
}

impl Goal {
    pub fn of(action: &Action) -> Goal {
        let status = match action.kind() {
            ActionKind::Update => None,
            _ => Some(action.target_status),
        };
        Goal {
            status,
            name: Some(action.grant_name.clone()),
            operations: Some(action.operations.clone()),
        }
    }

    fn describe(&self) -> &'static str {
        match self.status {
            Some(TargetStatus::Active) => "ACTIVE",
            Some(TargetStatus::Disabled) => "DISABLED",
            None => "its planned name and operations",
        }
    }

    fn status_ok(&self, status: &GrantStatus) -> bool {
        match self.status {
            None => true,
            Some(TargetStatus::Active) => status.is_effective(),
            Some(TargetStatus::Disabled) => *status == GrantStatus::Disabled,
        }
    }
}

/// What the executor knows of a grant. `None` members are unknown (and count as different).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    pub status: GrantStatus,
    pub version: String,
    pub name: Option<String>,
    pub operations: Option<BTreeSet<String>>,
}

impl From<Grant> for View {
    fn from(g: Grant) -> Self {
        View {
            status: g.status,
            version: g.version,
            name: Some(g.name),
            operations: Some(g.operations),
        }
    }
}

/// The next thing the grant needs to reach the goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Done,
    /// CreateGrantVersion.
    Change,
    /// AcceptGrant in the recipient account.
    Accept,
    /// AWS is working on the grant (PENDING_WORKFLOW).
    Wait,
    /// The status is right but the name or operations are unknown: read the grant.
    Read,
    /// The grant can no longer reach the goal (deleted, rejected, failed, being deleted).
    Unreachable,
}

/// Pure: what `view` still needs to reach `goal`.
pub(crate) fn next_step(goal: &Goal, view: &View) -> Step {
    match &view.status {
        GrantStatus::PendingWorkflow => Step::Wait,
        GrantStatus::PendingAccept => Step::Accept,
        GrantStatus::Active | GrantStatus::WorkflowCompleted | GrantStatus::Disabled => {
            let name_ok = goal.name.is_none() || goal.name == view.name;
            let ops_ok = goal.operations.is_none() || goal.operations == view.operations;
            let known = view.name.is_some() && view.operations.is_some();
            match (goal.status_ok(&view.status), name_ok && ops_ok) {
                (true, true) => Step::Done,
                (true, false) if !known => Step::Read,
                _ => Step::Change,
            }
        }
        _ => Step::Unreachable,
    }
}

/// The idempotency token of one step of an action at one grant version: the same action, step
/// and version always give the same token (and the same request), a new version a new token.
pub(crate) fn step_token(action_token: &str, step: &str, version: &str) -> String {
    let digest = Sha256::digest(format!("{action_token}\n{step}\n{version}").as_bytes());
    hex::encode(digest)
}

fn api_status(t: TargetStatus) -> GrantStatus {
    match t {
        TargetStatus::Active => GrantStatus::Active,
        TargetStatus::Disabled => GrantStatus::Disabled,
    }
}

/// How a wait for a workflow ended.
enum Settle {
    Settled(View),
    TimedOut(GrantStatus),
    Failed(AwsError),
}

/// What to do after a failed call and the re-read that followed it.
enum After {
    Continue(View),
    Stop(Outcome),
}

/// What `converge` counts across its steps.
#[derive(Default)]
struct Tally {
    /// Changes sent (CreateGrantVersion, AcceptGrant), at most [`MAX_CHANGES`].
    changes: u32,
    /// Version conflicts met.
    conflicts: u32,
    /// Whether the last change was ours and started a workflow.
    ours: bool,
}

/// One action being carried out.
pub(crate) struct Run<'a, L, RA> {
    shared: &'a Shared<L, RA>,
    action: &'a Action,
    /// Held until the action's first call is answered: bounds the actions starting at once.
    admission: Option<OwnedSemaphorePermit>,
    /// The recipient's client, once the grant was accepted through it.
    recipient: Option<Arc<RA>>,
    /// The action waited for its covers: its grant's planned version is likely stale.
    waited: bool,
}

/// Carries out one action. A revoking action (delete, deactivate, recreate's delete half) first
/// waits for its covers (`checks`, see `continuity`).
pub(crate) async fn run_action<L, RA>(
    shared: Arc<Shared<L, RA>>,
    action: Action,
    checks: Vec<Check>,
    admission: OwnedSemaphorePermit,
) -> Outcome
where
    L: LicenseManagerApi + 'static,
    RA: LicenseManagerApi + 'static,
{
    let mut run = Run {
        shared: &shared,
        action: &action,
        admission: Some(admission),
        recipient: None,
        waited: false,
    };
    if matches!(
        action.kind(),
        ActionKind::Delete | ActionKind::Deactivate | ActionKind::Recreate
    ) && !checks.is_empty()
    {
        // Waiting holds no admission place: other actions start meanwhile.
        run.admission = None;
        if let Some(outcome) = continuity::await_covers(&shared, action.grant_arn(), &checks).await
        {
            return outcome;
        }
        run.waited = true;
    }
    match &action.body {
        ActionBody::Create { .. } => run.create().await,
        ActionBody::Recreate { grant, .. } => match run.delete(grant, shared.settle_wait).await {
            // A grant still PENDING_DELETE keeps its pair: the create waits until it is gone.
            Outcome::Done { status, .. } if status != GrantStatus::PendingDelete => {
                run.create().await
            }
            other => other,
        },
        ActionBody::Delete { grant, .. } => run.delete_bounded(grant).await,
        ActionBody::Activate { grant, .. }
        | ActionBody::Deactivate { grant, .. }
        | ActionBody::Update { grant, .. }
        | ActionBody::Accept { grant, .. } => run.change(grant).await,
    }
}

fn failed(grant: Option<&GrantArn>, error: impl Into<StepError>) -> Outcome {
    Outcome::Failed {
        grant: grant.cloned(),
        error: error.into(),
    }
}

impl<L, RA> Run<'_, L, RA>
where
    L: LicenseManagerApi + 'static,
    RA: LicenseManagerApi + 'static,
{
    async fn call<T>(
        &mut self,
        op: &'static str,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, AwsError> {
        let result = self.shared.call(op, call).await;
        self.admission = None;
        result
    }

    async fn get_grant(&mut self, arn: &GrantArn) -> Result<Grant, AwsError> {
        let lm = Arc::clone(&self.shared.lm);
        self.call("GetGrant", lm.get_grant(arn)).await
    }

    /// CreateGrant with the plan's token, then on to the goal.
    async fn create(&mut self) -> Outcome {
        let a = self.action;
        let req = NewGrant {
            client_token: a.client_token.clone(),
            name: a.grant_name.clone(),
            license_arn: a.license_arn.clone(),
            principal: a.principal.clone(),
            home_region: self.shared.home_region.clone(),
            operations: a.operations.clone(),
        };
        let lm = Arc::clone(&self.shared.lm);
        let created: GrantRef = match self.call("CreateGrant", lm.create_grant(&req)).await {
            Ok(r) => r,
            Err(e) => return failed(None, e),
        };
        let view = View {
            status: created.status,
            version: created.version,
            name: Some(a.grant_name.clone()),
            operations: Some(a.operations.clone()),
        };
        self.converge(&created.arn, view).await
    }

    /// Activate, deactivate, update, accept: start from the planned version (one call when the
    /// plan is fresh), re-read when it is not.
    async fn change(&mut self, grant: &PlannedGrant) -> Outcome {
        let view = View {
            status: match self.action.kind() {
                ActionKind::Activate => GrantStatus::Disabled,
                ActionKind::Accept => GrantStatus::PendingAccept,
                _ => GrantStatus::Active,
            },
            version: grant.version.clone(),
            name: None,
            operations: None,
        };
        self.converge(&grant.arn, view).await
    }

    /// A plain delete: a grant left PENDING_DELETE is waited for up to `ApplyOptions::wait`;
    /// without it, the delete is reported done in PENDING_DELETE (AWS finishes it).
    async fn delete_bounded(&mut self, grant: &PlannedGrant) -> Outcome {
        match self.shared.wait {
            Some(bound) => self.delete(grant, bound).await,
            None => self.delete(grant, Duration::ZERO).await,
        }
    }

    /// DeleteGrant with the current version; a grant already deleted (or gone) is done. A grant
    /// in PENDING_DELETE (the answer, or what a read finds) is waited for up to `bound`, and
    /// DeleteGrant is not sent again: done (DELETED) once deleted, pending when `bound` passes.
    async fn delete(&mut self, grant: &PlannedGrant, bound: Duration) -> Outcome {
        let arn = grant.arn.clone();
        let mut version = grant.version.clone();
        if self.waited {
            // A revoke that waited for its covers runs long after the plan was read, and a
            // cover's activation with ALL_GRANTS_PERMITTED_BY_ISSUER disables this grant, which
            // moves its version: read it now rather than send a DeleteGrant bound to be refused.
            match self.get_grant(&arn).await {
                Ok(g) if g.status == GrantStatus::Deleted => return deleted(arn),
                Ok(g) if g.status == GrantStatus::PendingDelete => {
                    return self.until_deleted(&arn, bound).await;
                }
                Ok(g) => version = g.version,
                Err(e) if e.kind == ErrorKind::NotFound => return deleted(arn),
                // The planned version is tried; a conflict is read again below.
                Err(_) => {}
            }
        }
        let mut conflicts = 0;
        loop {
            let lm = Arc::clone(&self.shared.lm);
            let error = match self
                .call("DeleteGrant", lm.delete_grant(&arn, &version))
                .await
            {
                Ok(r) if r.status == GrantStatus::PendingDelete => {
                    return self.until_deleted(&arn, bound).await;
                }
                Ok(r) => {
                    return Outcome::Done {
                        grant: arn,
                        status: r.status,
                    };
                }
                Err(e) if e.kind == ErrorKind::NotFound => return deleted(arn),
                Err(e) => e,
            };
            if !worth_rereading(&error) {
                return failed(Some(&arn), error);
            }
            match self.get_grant(&arn).await {
                Ok(g) if g.status == GrantStatus::Deleted => return deleted(arn),
                Ok(g) if g.status == GrantStatus::PendingDelete => {
                    return self.until_deleted(&arn, bound).await;
                }
                Err(e) if e.kind == ErrorKind::NotFound => return deleted(arn),
                Ok(g) if error.kind == ErrorKind::VersionConflict && conflicts == 0 => {
                    conflicts += 1;
                    version = g.version;
                }
                _ => return failed(Some(&arn), error),
            }
        }
    }

    /// Waits (up to `bound`) for a grant in PENDING_DELETE to be DELETED, without asking again.
    async fn until_deleted(&mut self, arn: &GrantArn, bound: Duration) -> Outcome {
        if bound.is_zero() {
            return Outcome::Done {
                grant: arn.clone(),
                status: GrantStatus::PendingDelete,
            };
        }
        match self.settle(arn, bound, &GrantStatus::PendingDelete).await {
            Settle::Settled(v) if v.status == GrantStatus::Deleted => deleted(arn.clone()),
            Settle::Settled(v) => failed(
                Some(arn),
                StepError::Unreachable {
                    grant: arn.clone(),
                    status: v.status,
                    target: "DELETED",
                },
            ),
            Settle::TimedOut(status) => Outcome::Pending {
                grant: arn.clone(),
                status,
                waiting_on: Waiting::Workflow,
            },
            Settle::Failed(e) => failed(Some(arn), e),
        }
    }

    /// Brings the grant from `view` to the action's goal.
    async fn converge(&mut self, arn: &GrantArn, mut view: View) -> Outcome {
        let goal = Goal::of(self.action);
        let mut tally = Tally::default();
        loop {
            let step = next_step(&goal, &view);
            let next = match step {
                Step::Done => After::Stop(Outcome::Done {
                    grant: arn.clone(),
                    status: view.status,
                }),
                Step::Unreachable => After::Stop(failed(
                    Some(arn),
                    StepError::Unreachable {
                        grant: arn.clone(),
                        status: view.status,
                        target: goal.describe(),
                    },
                )),
                Step::Wait => self.wait_step(arn, view, tally.ours).await,
                Step::Read => match self.get_grant(arn).await {
                    Ok(g) => After::Continue(View::from(g)),
                    Err(e) => After::Stop(failed(Some(arn), e)),
                },
                Step::Accept => self.accept_step(arn, &goal, view, &mut tally).await,
                Step::Change => self.change_step(arn, &goal, view, &mut tally).await,
            };
            match next {
                After::Continue(v) => view = v,
                After::Stop(o) => return o,
            }
        }
    }

    /// A workflow is running: wait for it (up to `--wait` when the change was ours, else the
    /// short settle wait); a workflow of ours without `--wait` is done for this run.
    async fn wait_step(&mut self, arn: &GrantArn, view: View, ours: bool) -> After {
        let bound = match (ours, self.shared.wait) {
            (true, None) => {
                return After::Stop(Outcome::Done {
                    grant: arn.clone(),
                    status: view.status,
                });
            }
            (true, Some(d)) => d,
            (false, _) => self.shared.settle_wait,
        };
        match self.settle(arn, bound, &GrantStatus::PendingWorkflow).await {
            Settle::Settled(v) => After::Continue(v),
            Settle::TimedOut(status) => After::Stop(Outcome::Pending {
                grant: arn.clone(),
                status,
                waiting_on: Waiting::Workflow,
            }),
            Settle::Failed(e) => After::Stop(failed(Some(arn), e)),
        }
    }

    /// AcceptGrant in the recipient account, through the recipient role.
    async fn accept_step(
        &mut self,
        arn: &GrantArn,
        goal: &Goal,
        mut view: View,
        tally: &mut Tally,
    ) -> After {
        let client = match self.recipient_client().await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return After::Stop(Outcome::Pending {
                    grant: arn.clone(),
                    status: view.status,
                    waiting_on: Waiting::Recipient,
                });
            }
            Err(e) => return After::Stop(failed(Some(arn), e)),
        };
        if tally.changes >= MAX_CHANGES {
            return After::Stop(self.stuck(arn, goal, view, tally.changes));
        }
        tally.changes += 1;
        match self.call("AcceptGrant", client.accept_grant(arn)).await {
            Ok(r) => {
                tally.ours = r.status == GrantStatus::PendingWorkflow;
                view.status = r.status;
                view.version = r.version;
            }
            Err(e) => match self
                .reread(arn, goal, e, Step::Accept, &mut tally.conflicts)
                .await
            {
                After::Continue(v) => view = v,
                stop @ After::Stop(_) => return stop,
            },
        }
        self.recipient = Some(client);
        After::Continue(view)
    }

    /// One CreateGrantVersion towards the goal, and what it left.
    async fn change_step(
        &mut self,
        arn: &GrantArn,
        goal: &Goal,
        mut view: View,
        tally: &mut Tally,
    ) -> After {
        if tally.changes >= MAX_CHANGES {
            return After::Stop(self.stuck(arn, goal, view, tally.changes));
        }
        tally.changes += 1;
        match self.change_version(arn, goal, &view).await {
            Ok((r, sent)) => {
                tally.ours = r.status == GrantStatus::PendingWorkflow;
                view.status = r.status;
                view.version = r.version;
                if let Some(name) = sent.name {
                    view.name = Some(name);
                }
                if let Some(ops) = sent.operations {
                    view.operations = Some(ops);
                }
                After::Continue(view)
            }
            Err(e) => {
                self.reread(arn, goal, e, Step::Change, &mut tally.conflicts)
                    .await
            }
        }
    }

    /// One CreateGrantVersion towards the goal. A status change of a grant accepted through
    /// the recipient is made by the recipient (status only); everything else by the grantor,
    /// with the goal's name and operations.
    async fn change_version(
        &mut self,
        arn: &GrantArn,
        goal: &Goal,
        view: &View,
    ) -> Result<(GrantRef, GrantChange), AwsError> {
        let status = goal
            .status
            .filter(|_| !goal.status_ok(&view.status))
            .map(api_status);
        let activation_override = match status {
            Some(GrantStatus::Active) => self
                .action
                .activation_override
                .map(|o| o.api_value().to_owned()),
            _ => None,
        };
        let token = &self.action.client_token;
        if let (Some(client), Some(_)) = (self.recipient.clone(), &status) {
            let change = GrantChange {
                client_token: step_token(token, "recipient-version", &view.version),
                source_version: Some(view.version.clone()),
                status,
                activation_override,
                ..GrantChange::default()
            };
            let r = self
                .call(
                    "CreateGrantVersion",
                    client.create_grant_version(arn, &change),
                )
                .await?;
            return Ok((r, change));
        }
        let change = GrantChange {
            client_token: step_token(token, "version", &view.version),
            source_version: Some(view.version.clone()),
            name: goal.name.clone(),
            operations: goal.operations.clone(),
            status,
            status_reason: None,
            activation_override,
        };
        let lm = Arc::clone(&self.shared.lm);
        let r = self
            .call("CreateGrantVersion", lm.create_grant_version(arn, &change))
            .await?;
        Ok((r, change))
    }

    /// After a failed call: re-read the grant and decide whether the action carries on.
    async fn reread(
        &mut self,
        arn: &GrantArn,
        goal: &Goal,
        error: AwsError,
        failed_step: Step,
        conflicts: &mut u32,
    ) -> After {
        if !worth_rereading(&error) {
            return After::Stop(failed(Some(arn), error));
        }
        let fresh = match self.get_grant(arn).await {
            Ok(g) => View::from(g),
            Err(_) => return After::Stop(failed(Some(arn), error)),
        };
        let step = next_step(goal, &fresh);
        if step != failed_step {
            // The state moved: the error is explained (our change already landed, or the grant
            // entered a workflow); carry on from the new state.
            return After::Continue(fresh);
        }
        if error.kind == ErrorKind::VersionConflict && *conflicts == 0 {
            *conflicts += 1;
            return After::Continue(fresh);
        }
        After::Stop(failed(Some(arn), error))
    }

    fn stuck(&self, arn: &GrantArn, goal: &Goal, view: View, changes: u32) -> Outcome {
        failed(
            Some(arn),
            StepError::NoProgress {
                grant: arn.clone(),
                status: view.status,
                target: goal.describe(),
                steps: changes,
            },
        )
    }

    /// A client acting as the grant's recipient account: `Ok(None)` when none can be had (no
    /// `Recipients`, or a principal that is not one account).
    async fn recipient_client(&mut self) -> Result<Option<Arc<RA>>, StepError> {
        if let Some(c) = &self.recipient {
            return Ok(Some(Arc::clone(c)));
        }
        let Principal::Account(account) = &self.action.principal else {
            return Ok(None);
        };
        match self.shared.recipient(account).await {
            None => Ok(None),
            Some(Ok(c)) => Ok(Some(c)),
            Some(Err(source)) => Err(StepError::Recipient {
                account: account.clone(),
                source,
            }),
        }
    }

    /// Polls the grant (through the shared watcher, with back-off) until it leaves `status`
    /// (PENDING_WORKFLOW, PENDING_DELETE) or `bound` passes. A read that does not return the
    /// grant (lists lag behind writes) is a look that found nothing yet, never a failure.
    async fn settle(&mut self, arn: &GrantArn, bound: Duration, status: &GrantStatus) -> Settle {
        let deadline = Instant::now() + bound;
        let poll = self.shared.poll;
        let mut delay = poll.initial;
        let mut last = status.clone();
        loop {
            let at = (Instant::now() + delay).min(deadline);
            match self.shared.watcher.read_at(arn, at).await {
                Ok(Some(g)) if g.status != *status => {
                    return Settle::Settled(View::from(g));
                }
                Ok(Some(g)) => last = g.status,
                Ok(None) => {}
                // A read that failed even after the aws layer's retries: look again later.
                Err(e) if e.kind.is_retryable() => {}
                Err(e) => return Settle::Failed(e),
            }
            if Instant::now() >= deadline {
                return Settle::TimedOut(last);
            }
            delay = (delay * 2).min(poll.max.max(poll.initial));
        }
    }
}

fn deleted(grant: GrantArn) -> Outcome {
    Outcome::Done {
        grant,
        status: GrantStatus::Deleted,
    }
}

/// Whether a failed mutating call may have been explained by a state change. Access and quota
/// errors, and throttles that outlasted every retry, cannot be.
fn worth_rereading(e: &AwsError) -> bool {
    !matches!(
        e.kind,
        ErrorKind::AccessDenied | ErrorKind::Quota | ErrorKind::Throttled
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(status: Option<TargetStatus>) -> Goal {
        Goal {
            status,
            name: Some("be-m-1".into()),
            operations: Some(["CheckoutLicense".to_owned()].into()),
        }
    }

    fn view(status: GrantStatus, name: &str) -> View {
        View {
            status,
            version: "3".into(),
            name: Some(name.into()),
            operations: Some(["CheckoutLicense".to_owned()].into()),
        }
    }

    #[test]
    fn next_steps() {
        use GrantStatus as S;
        use TargetStatus as T;
        let cases = [
            (Some(T::Active), S::Active, "be-m-1", Step::Done),
            (Some(T::Active), S::WorkflowCompleted, "be-m-1", Step::Done),
            (Some(T::Active), S::Disabled, "be-m-1", Step::Change),
            (Some(T::Active), S::Active, "old-name", Step::Change),
            (Some(T::Disabled), S::Disabled, "be-m-1", Step::Done),
            (
                Some(T::Disabled),
                S::WorkflowCompleted,
                "be-m-1",
                Step::Change,
            ),
            (None, S::Disabled, "be-m-1", Step::Done),
            (None, S::Active, "old-name", Step::Change),
            (Some(T::Active), S::PendingWorkflow, "be-m-1", Step::Wait),
            (Some(T::Disabled), S::PendingAccept, "be-m-1", Step::Accept),
            (Some(T::Active), S::Deleted, "be-m-1", Step::Unreachable),
            (Some(T::Active), S::Rejected, "be-m-1", Step::Unreachable),
            (
                Some(T::Active),
                S::FailedWorkflow,
                "be-m-1",
                Step::Unreachable,
            ),
            (
                Some(T::Active),
                S::PendingDelete,
                "be-m-1",
                Step::Unreachable,
            ),
        ];
        for (target, status, name, expect) in cases {
            let got = next_step(&goal(target), &view(status.clone(), name));
            assert_eq!(got, expect, "{target:?} from {status} named {name}");
        }
    }

    #[test]
    fn unknown_members_are_read_once_the_status_is_right() {
        let mut v = view(GrantStatus::Active, "be-m-1");
        v.name = None;
        assert_eq!(next_step(&goal(Some(TargetStatus::Active)), &v), Step::Read);
        v.status = GrantStatus::Disabled;
        assert_eq!(
            next_step(&goal(Some(TargetStatus::Active)), &v),
            Step::Change
        );
    }

    #[test]
    fn step_tokens_depend_on_action_step_and_version_only() {
        let a = step_token("tok", "version", "2");
        assert_eq!(a, step_token("tok", "version", "2"));
        assert_ne!(a, step_token("tok", "version", "3"));
        assert_ne!(a, step_token("tok", "recipient-version", "2"));
        assert_ne!(a, step_token("other", "version", "2"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
