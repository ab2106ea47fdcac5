//! Phases, admission and bookkeeping: runs each phase's actions concurrently, one phase after
//! the other, and collects what became of each.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::ApplyOptions;
use super::context::{RecipientRequest, Shared};
use super::continuity;
use super::policies;
use super::progress::Progress;
use super::recipients::Recipients;
use super::report::{ActionReport, ApplyReport, Outcome, StepError};
use super::steps::run_action;
use super::watch;
use crate::aws::LicenseManagerApi;
use crate::model::AccountId;
use crate::plan::{Phase, Plan, PolicyPhase};

/// Carries out `plan` exactly, phase by phase (grant, enable, revoke), with at most
/// `opts.parallelism` AWS calls in flight, and reports what became of every action.
///
/// Actions of one phase run concurrently and independently: a failure does not stop the others.
/// One rule links phases: a revoking action (deactivate, delete, recreate's delete half) runs
/// only once each of its covers (`Action::waits_for`) is in effect for the accounts it lists,
/// and is deferred otherwise (see `continuity`); a cover whose create failed defers it too. So a
/// failed or slow create never leaves accounts without the access the plan moves to it.
///
/// Dropping the returned future stops every call in flight; a re-run converges (every mutating
/// call is idempotent or re-checked).
pub async fn execute<L, R>(
    lm: Arc<L>,
    recipients: Option<&R>,
    plan: &Plan,
    opts: &ApplyOptions,
    progress: &dyn Progress,
) -> ApplyReport
where
    L: LicenseManagerApi + 'static,
    R: Recipients,
{
    progress.on_start(plan.actions.len());
    let (tx, requests) = mpsc::unbounded_channel::<RecipientRequest<R::Api>>();
    let shared = Arc::new(Shared::new(lm, opts, recipients.is_some().then_some(tx)));
    let mut background = JoinSet::new();
    background.spawn(watch::run(Arc::clone(&shared)));
    let mut run = Run {
        shared,
        recipients,
        plan,
        parallelism: opts.parallelism.max(1),
        progress,
        requests,
        clients: BTreeMap::new(),
        outcomes: vec![None; plan.actions.len()],
    };
    let mut guardrails = policies::PolicyRun::new(
        plan,
        opts.guardrails.as_ref(),
        &opts.limits,
        run.parallelism,
    );
    if let Some(g) = &mut guardrails {
        g.run(PolicyPhase::BeforeGrants).await;
    }
    for phase in [Phase::Grant, Phase::Enable, Phase::Revoke] {
        run.phase(phase).await;
    }
    if let Some(g) = &mut guardrails {
        g.run(PolicyPhase::AfterGrants).await;
    }
    background.abort_all();
    progress.on_finish();

    let actions = plan
        .actions
        .iter()
        .zip(run.outcomes)
        .enumerate()
        .map(|(index, (action, outcome))| ActionReport {
            index,
            action: action.clone(),
            outcome: outcome.unwrap_or_else(|| Outcome::Failed {
                grant: None,
                error: StepError::Task("the action was never run".to_owned()),
            }),
        })
        .collect();
    let policies = guardrails
        .map(policies::PolicyRun::finish)
        .unwrap_or_default();
    ApplyReport {
        actions,
        policies,
        subscriptions: Vec::new(),
    }
}

/// What every phase of one run shares.
struct Run<'a, L, R: Recipients> {
    shared: Arc<Shared<L, R::Api>>,
    recipients: Option<&'a R>,
    plan: &'a Plan,
    parallelism: usize,
    progress: &'a dyn Progress,
    requests: mpsc::UnboundedReceiver<RecipientRequest<R::Api>>,
    clients: BTreeMap<AccountId, Arc<R::Api>>,
    outcomes: Vec<Option<Outcome>>,
}

impl<L, R> Run<'_, L, R>
where
    L: LicenseManagerApi + 'static,
    R: Recipients,
{
    /// One phase: its actions run concurrently, up to `parallelism` at a time.
    async fn phase(&mut self, phase: Phase) {
        let plan = self.plan;
        self.shared.continuity.start_phase();
        let mut queue = plan
            .actions
            .iter()
            .enumerate()
            .filter(|(_, a)| a.kind().phase() == phase)
            .map(|(i, _)| i);
        let admission = Arc::new(Semaphore::new(self.parallelism));
        let mut tasks = JoinSet::new();
        let mut task_index = HashMap::new();
        let mut next = queue.next();
        loop {
            if next.is_none() && tasks.is_empty() {
                break;
            }
            if next.is_none() && tasks.len() == self.shared.continuity.waiting() {
                // Only revokes waiting for their covers are left: nothing else this run does can
                // bring a cover into effect; they look once more and end.
                self.shared.continuity.end_phase();
            }
            tokio::select! {
                _ = self.shared.continuity.changed.notified() => {}
                Some((account, reply)) = self.requests.recv(), if self.recipients.is_some() => {
                    if let Some(r) = self.recipients {
                        let _ = reply.send(client_for(r, &mut self.clients, account).await);
                    }
                }
                Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    let (i, outcome) = match joined {
                        Ok((id, outcome)) => (task_index.remove(&id), outcome),
                        Err(e) => (
                            task_index.remove(&e.id()),
                            Outcome::Failed { grant: None, error: StepError::Task(e.to_string()) },
                        ),
                    };
                    if let Some(i) = i {
                        self.progress.on_done(&plan.actions[i], &outcome);
                        self.outcomes[i] = Some(outcome);
                    }
                }
                permit = Arc::clone(&admission).acquire_owned(), if next.is_some() => {
                    if let (Ok(permit), Some(i)) = (permit, next) {
                        let action = plan.actions[i].clone();
                        let checks = continuity::resolve(plan, &self.outcomes, &action);
                        let handle =
                            tasks.spawn(run_action(Arc::clone(&self.shared), action, checks, permit));
                        task_index.insert(handle.id(), i);
                        next = queue.next();
                    }
                }
            }
        }
    }
}

/// The recipient account's client, made once per account.
async fn client_for<R: Recipients>(
    r: &R,
    clients: &mut BTreeMap<AccountId, Arc<R::Api>>,
    account: AccountId,
) -> Result<Arc<R::Api>, crate::aws::AwsError> {
    match clients.get(&account) {
        Some(c) => Ok(Arc::clone(c)),
        None => r.license_manager_for(&account).await.map(|c| {
            let c = Arc::new(c);
            clients.insert(account, Arc::clone(&c));
            c
        }),
    }
}
