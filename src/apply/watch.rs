//! Waiting for workflows: every action that waits on a grant registers the time it wants its
//! next look at it; one poller reads all grants due at about the same time in batches
//! (`LicenseManagerApi::get_grants`, 100 per call) and answers each waiter. Waiting on 2,000
//! grants costs a few dozen calls per round instead of 2,000.
//!
//! If batch reads are refused (an API that rejects `GrantArns`), the poller falls back to one
//! `GetGrant` per grant for the rest of the run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::context::Shared;
use crate::aws::{AwsError, ErrorKind, LicenseManagerApi};
use crate::model::{Grant, GrantArn};

/// Grants per batch read.
const BATCH: usize = 100;

/// What a look at one grant found: its state, `None` if the caller cannot see it (yet).
pub(crate) type Read = Result<Option<Grant>, AwsError>;

struct Due {
    at: Instant,
    waiters: Vec<oneshot::Sender<Read>>,
}

#[derive(Default)]
struct State {
    due: BTreeMap<GrantArn, Due>,
    one_by_one: bool,
}

pub(crate) struct Watcher {
    state: Mutex<State>,
    wake: Notify,
}

impl Watcher {
    pub fn new() -> Self {
        Watcher {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The grant as read at `at` or soon after (reads are batched with other waiters').
    pub async fn read_at(&self, arn: &GrantArn, at: Instant) -> Read {
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.lock();
            let due = state.due.entry(arn.clone()).or_insert(Due {
                at,
                waiters: Vec::new(),
            });
            due.at = due.at.min(at);
            due.waiters.push(tx);
        }
        self.wake.notify_one();
        rx.await.unwrap_or_else(|_| {
            Err(AwsError::new(
                "ListDistributedGrants",
                ErrorKind::Other,
                "Stopped",
                "the poller stopped",
            ))
        })
    }

    fn next_due(&self) -> Option<Instant> {
        self.lock().due.values().map(|d| d.at).min()
    }

    fn take_due(&self, until: Instant) -> Vec<(GrantArn, Vec<oneshot::Sender<Read>>)> {
        let mut state = self.lock();
        let arns: Vec<GrantArn> = state
            .due
            .iter()
            .filter(|(_, d)| d.at <= until)
            .map(|(a, _)| a.clone())
            .collect();
        arns.into_iter()
            .filter_map(|a| state.due.remove(&a).map(|d| (a, d.waiters)))
            .collect()
    }

    fn one_by_one(&self) -> bool {
        self.lock().one_by_one
    }

    fn read_one_by_one_from_now_on(&self) {
        self.lock().one_by_one = true;
    }
}

/// Reads due grants until dropped. Rounds are at least half the initial poll delay apart, and
/// a round also takes grants due within that half delay, so that waiters share calls.
pub(crate) async fn run<L, RA>(shared: Arc<Shared<L, RA>>)
where
    L: LicenseManagerApi + 'static,
    RA: Send + Sync + 'static,
{
    let slack = (shared.poll.initial / 2).min(Duration::from_secs(1));
    let mut reads = JoinSet::new();
    let mut not_before = Instant::now();
    loop {
        let wake_at = shared.watcher.next_due().map(|t| t.max(not_before));
        tokio::select! {
            _ = shared.watcher.wake.notified() => continue,
            Some(_) = reads.join_next(), if !reads.is_empty() => continue,
            _ = sleep_until_opt(wake_at), if wake_at.is_some() => {}
        }
        let now = Instant::now();
        not_before = now + slack;
        let mut due = shared.watcher.take_due(now + slack);
        while !due.is_empty() {
            let rest = due.split_off(due.len().min(BATCH));
            reads.spawn(read_batch(Arc::clone(&shared), due));
            due = rest;
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn read_batch<L, RA>(
    shared: Arc<Shared<L, RA>>,
    batch: Vec<(GrantArn, Vec<oneshot::Sender<Read>>)>,
) where
    L: LicenseManagerApi + 'static,
    RA: Send + Sync + 'static,
{
    let arns: Vec<GrantArn> = batch.iter().map(|(a, _)| a.clone()).collect();
    if !shared.watcher.one_by_one() {
        let lm = Arc::clone(&shared.lm);
        match shared
            .call("ListDistributedGrants", lm.get_grants(&arns))
            .await
        {
            Ok(grants) => {
                let mut by_arn: BTreeMap<GrantArn, Grant> =
                    grants.into_iter().map(|g| (g.arn.clone(), g)).collect();
                for (arn, waiters) in batch {
                    answer(waiters, Ok(by_arn.remove(&arn)));
                }
                return;
            }
            Err(e) if matches!(e.kind, ErrorKind::Validation | ErrorKind::Other) => {
                tracing::warn!(error = %e, "batch grant reads refused; reading grants one by one");
                shared.watcher.read_one_by_one_from_now_on();
            }
            Err(e) => {
                for (_, waiters) in batch {
                    answer(waiters, Err(e.clone()));
                }
                return;
            }
        }
    }
    let mut singles = JoinSet::new();
    for (arn, waiters) in batch {
        let shared = Arc::clone(&shared);
        singles.spawn(async move {
            let lm = Arc::clone(&shared.lm);
            let read = match shared.call("GetGrant", lm.get_grant(&arn)).await {
                Ok(g) => Ok(Some(g)),
                Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            };
            answer(waiters, read);
        });
    }
    while singles.join_next().await.is_some() {}
}

fn answer(waiters: Vec<oneshot::Sender<Read>>, read: Read) {
    for w in waiters {
        let _ = w.send(read.clone());
    }
}
