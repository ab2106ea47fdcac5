//! Waiting for workflows: every action that waits on a grant registers the time it wants its
//! next look at it; one poller reads all grants due at about the same time in batches
//! (`LicenseManagerApi::get_grants`, 100 per call) and answers each waiter. Waiting on 2,000
//! grants costs a few dozen calls per round instead of 2,000.
//!
//! If batch reads are refused (an API that rejects `GrantArns`), the poller falls back to one
//! `GetGrant` per grant for the rest of the run.
//!
//! Revokes waiting for an organization or OU grant to be in effect read its shares the same
//! way: every waiter on one grant shares one `ListReceivedGrantsForOrganization` (filter
//! `ParentArn`) per round.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::context::Shared;
use crate::aws::{AwsError, ErrorKind, LicenseManagerApi};
use crate::model::{Grant, GrantArn, LicenseArn, Share};

/// Grants per batch read.
const BATCH: usize = 100;

/// What a look at one grant found: its state, `None` if the caller cannot see it (yet).
pub(crate) type Read = Result<Option<Grant>, AwsError>;

/// What a look at the shares of one organization or OU grant found.
pub(crate) type SharesRead = Result<Vec<Share>, AwsError>;

struct Due<R> {
    at: Instant,
    waiters: Vec<oneshot::Sender<R>>,
}

type SharesKey = (LicenseArn, GrantArn);

#[derive(Default)]
struct State {
    due: BTreeMap<GrantArn, Due<Read>>,
    shares_due: BTreeMap<SharesKey, Due<SharesRead>>,
    one_by_one: bool,
}

fn stopped(op: &'static str) -> AwsError {
    AwsError::new(op, ErrorKind::Other, "Stopped", "the poller stopped")
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
        let rx = enlist(&mut self.lock().due, arn.clone(), at);
        self.wake.notify_one();
        rx.await
            .unwrap_or_else(|_| Err(stopped("ListDistributedGrants")))
    }

    /// The shares of organization or OU grant `parent` as read at `at` or soon after (one read
    /// for every waiter on the same grant).
    pub async fn shares_at(
        &self,
        license: &LicenseArn,
        parent: &GrantArn,
        at: Instant,
    ) -> SharesRead {
        let key = (license.clone(), parent.clone());
        let rx = enlist(&mut self.lock().shares_due, key, at);
        self.wake.notify_one();
        rx.await
            .unwrap_or_else(|_| Err(stopped("ListReceivedGrantsForOrganization")))
    }

    fn next_due(&self) -> Option<Instant> {
        let state = self.lock();
        let grants = state.due.values().map(|d| d.at);
        grants.chain(state.shares_due.values().map(|d| d.at)).min()
    }

    fn take_due(&self, until: Instant) -> Vec<(GrantArn, Vec<oneshot::Sender<Read>>)> {
        let mut state = self.lock();
        take(&mut state.due, until)
    }

    fn take_shares_due(
        &self,
        until: Instant,
    ) -> Vec<(SharesKey, Vec<oneshot::Sender<SharesRead>>)> {
        let mut state = self.lock();
        take(&mut state.shares_due, until)
    }

    fn one_by_one(&self) -> bool {
        self.lock().one_by_one
    }

    fn read_one_by_one_from_now_on(&self) {
        self.lock().one_by_one = true;
    }
}

/// Adds a waiter for `key`, due at `at` or at its earlier due time; the answer comes on the
/// receiver.
fn enlist<K: Ord, R>(due: &mut BTreeMap<K, Due<R>>, key: K, at: Instant) -> oneshot::Receiver<R> {
    let (tx, rx) = oneshot::channel();
    let entry = due.entry(key).or_insert(Due {
        at,
        waiters: Vec::new(),
    });
    entry.at = entry.at.min(at);
    entry.waiters.push(tx);
    rx
}

fn take<K: Ord + Clone, R>(
    due: &mut BTreeMap<K, Due<R>>,
    until: Instant,
) -> Vec<(K, Vec<oneshot::Sender<R>>)> {
    let keys: Vec<K> = due
        .iter()
        .filter(|(_, d)| d.at <= until)
        .map(|(k, _)| k.clone())
        .collect();
    keys.into_iter()
        .filter_map(|k| due.remove(&k).map(|d| (k, d.waiters)))
        .collect()
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
        for ((license, parent), waiters) in shared.watcher.take_shares_due(now + slack) {
            let shared = Arc::clone(&shared);
            reads.spawn(async move {
                let lm = Arc::clone(&shared.lm);
                let read = shared
                    .call(
                        "ListReceivedGrantsForOrganization",
                        lm.list_received_grants_for_organization(&license, Some(&parent)),
                    )
                    .await;
                answer(waiters, read);
            });
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

fn answer<R: Clone>(waiters: Vec<oneshot::Sender<R>>, read: R) {
    for w in waiters {
        let _ = w.send(read.clone());
    }
}
