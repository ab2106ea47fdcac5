//! What every action task shares: the clients, the call gate, the pacers, the watcher.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, Semaphore, mpsc, oneshot, watch};

use super::watch::Watcher;
use super::{ApplyOptions, DEFAULT_SETTLE_WAIT, PollPolicy};
use crate::aws::AdaptiveLimits;
use crate::aws::{AwsError, ErrorKind};
use crate::model::AccountId;

/// Makes one AWS call of `op` within the operation's adaptive limit (`limits`, with
/// `parallelism` as its ceiling) and the run's bound of calls in flight (`gate`); both places
/// are held while the `aws` layer retries the call. Grant actions and SCP actions call this
/// (their `call` methods return its future as it is: no second layer of future to hold).
pub(crate) async fn paced<T>(
    limits: &AdaptiveLimits,
    gate: &Semaphore,
    parallelism: usize,
    op: &'static str,
    call: impl Future<Output = Result<T, AwsError>>,
) -> Result<T, AwsError> {
    let slot = limits.acquire(op, parallelism).await;
    let result = match gate.acquire().await {
        Ok(_permit) => call.await,
        Err(_) => Err(AwsError::new(
            op,
            ErrorKind::Other,
            "Closed",
            "the call gate was closed",
        )),
    };
    slot.record(&result);
    result
}

/// A request for a client acting as a recipient account, served by the executor's loop (which
/// holds the borrowed `Recipients`).
pub(crate) type RecipientRequest<RA> = (AccountId, oneshot::Sender<Result<Arc<RA>, AwsError>>);

pub(crate) struct Shared<L, RA> {
    pub lm: Arc<L>,
    pub limits: Arc<AdaptiveLimits>,
    /// Bounds the AWS calls in flight (`ApplyOptions::parallelism`).
    gate: Semaphore,
    parallelism: usize,
    pub watcher: Watcher,
    /// How long to wait for a workflow the action's own last change started (`None`: not at all).
    pub wait: Option<Duration>,
    /// How long to wait for a workflow that stands between the grant and its target.
    pub settle_wait: Duration,
    pub poll: PollPolicy,
    pub home_region: String,
    /// Continuity waits: how many tasks of the phase are waiting for covers, and whether the
    /// rest of the phase is over (every other task finished), after which waiting ends.
    pub continuity: Continuity,
    recipients: Option<mpsc::UnboundedSender<RecipientRequest<RA>>>,
}

impl<L, RA> Shared<L, RA> {
    pub fn new(
        lm: Arc<L>,
        opts: &ApplyOptions,
        recipients: Option<mpsc::UnboundedSender<RecipientRequest<RA>>>,
    ) -> Self {
        Shared {
            lm,
            limits: Arc::clone(&opts.limits),
            gate: Semaphore::new(opts.parallelism.max(1)),
            parallelism: opts.parallelism.max(1),
            watcher: Watcher::new(),
            wait: opts.wait,
            settle_wait: opts.wait.unwrap_or(DEFAULT_SETTLE_WAIT),
            poll: opts.poll,
            home_region: opts.home_region.clone(),
            continuity: Continuity::default(),
            recipients,
        }
    }

    /// Makes one AWS call of `op`, within the operation's adaptive limit and the overall bound
    /// of calls in flight. Both places are held while the `aws` layer retries the call.
    pub fn call<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> impl Future<Output = Result<T, AwsError>> {
        paced(&self.limits, &self.gate, self.parallelism, op, call)
    }

    /// A client acting as `account`; `None` when `execute` got no `Recipients`.
    pub async fn recipient(&self, account: &AccountId) -> Option<Result<Arc<RA>, AwsError>> {
        let tx = self.recipients.as_ref()?;
        let (reply, answer) = oneshot::channel();
        let stopped = || {
            AwsError::new(
                "AssumeRole",
                ErrorKind::Other,
                "Stopped",
                "the executor stopped before the recipient client was made",
            )
        };
        if tx.send((account.clone(), reply)).is_err() {
            return Some(Err(stopped()));
        }
        Some(answer.await.unwrap_or_else(|_| Err(stopped())))
    }
}

/// What the executor and the revokes waiting for their covers tell each other.
pub(crate) struct Continuity {
    waiting: AtomicUsize,
    /// Told whenever `waiting` changes.
    pub changed: Notify,
    /// `true` once every task of the phase but the waiting ones has finished.
    over: watch::Sender<bool>,
}

impl Default for Continuity {
    fn default() -> Self {
        Continuity {
            waiting: AtomicUsize::new(0),
            changed: Notify::new(),
            over: watch::Sender::new(false),
        }
    }
}

impl Continuity {
    /// Tasks of the phase now waiting for covers.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Marks one more task waiting, until the guard is dropped.
    pub fn wait(&self) -> WaitGuard<'_> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.changed.notify_one();
        WaitGuard(self)
    }

    /// A new phase starts: its rest is not over.
    pub fn start_phase(&self) {
        self.over.send_replace(false);
    }

    /// Every task of the phase but the waiting ones finished.
    pub fn end_phase(&self) {
        self.over.send_replace(true);
    }

    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.over.subscribe()
    }
}

pub(crate) struct WaitGuard<'a>(&'a Continuity);

impl Drop for WaitGuard<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_one();
    }
}
