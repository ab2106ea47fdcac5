//! Adapting concurrency to throttling: one AIMD limit of calls in flight per AWS operation.
//!
//! Each operation (CreateGrant, CreateGrantVersion, ...) may have at most `limit` calls in
//! flight, from `parallelism` down to 1. A throttled attempt halves the limit (at most once per
//! round of `limit` answers, so that one burst of throttles counts once); every round of
//! `max(limit, 10)` answers without a throttle adds one back. A call holds its place while the
//! `aws` layer backs off and retries it, so when AWS throttles, the calls of that operation
//! shrink to one or a few retried ones that back off with jitter, instead of a crowd competing
//! for each request AWS lets through: a rate-limited account is used near its limit without
//! storms, and an account that is not throttled gets the full parallelism. Throttles that do
//! not depend on load (random faults) shrink the limit but not the speed of each call, and the
//! limit grows back between them.
//!
//! At a limit of one call, which is where a rate limit drives an operation, the next call also
//! waits, after the latest success, 0.8 times the interval between the two latest successes
//! (when under a second): it then reaches AWS about when the limit lets a request through,
//! rather than being throttled and backing off, and the pace still rises by a quarter per call
//! while AWS keeps up. Calls
//! that had to wait for that spacing do not count toward raising the limit: the operation is
//! bound by AWS's rate, not by how many calls are in flight.
//!
//! Signals: every retried throttle reaches [`AdaptiveLimits::on_retry`] through the `aws` layer's
//! `RetryObserver` (pass the limiter as `ConnectOptions::observer`); the executor reports each
//! call's final result.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{AwsError, ErrorKind, RetryObserver};

/// Per-operation limits of calls in flight that adapt to throttling. Share one between the
/// SDK clients (as their retry observer) and `execute` (through `ApplyOptions::limits`).
/// Clean answers that add one to the limit, at least.
const MIN_ROUND: usize = 10;
/// Intervals between successes longer than this are idle time, not pace.
const IDLE: Duration = Duration::from_secs(1);
/// At a limit of one, calls are spaced by this share of the interval between the latest
/// successes.
const SPACING: f64 = 0.8;

#[derive(Debug, Default)]
pub struct AdaptiveLimits {
    ops: Mutex<BTreeMap<&'static str, Arc<OpGate>>>,
    /// With slow start, each operation begins at this limit and doubles it after every round
    /// of clean answers until its first throttle; without, it begins at its maximum.
    slow_start: Option<usize>,
}

#[derive(Debug)]
struct OpGate {
    state: Mutex<OpState>,
    freed: Notify,
}

#[derive(Debug)]
struct OpState {
    /// Calls allowed in flight.
    limit: usize,
    /// The highest limit (the executor's parallelism).
    max: usize,
    in_flight: usize,
    /// Answers without a throttle since the limit last changed.
    clean: usize,
    /// Answers since the last cut; a throttle cuts only after a full round of them.
    since_cut: usize,
    /// When the two latest successful calls ended.
    successes: VecDeque<Instant>,
    /// Doubling after each clean round (slow start) until the first throttle.
    doubling: bool,
    /// Pace successes by when they started rather than when they ended (slow-start limits):
    /// a call's own latency is then not counted as pace, so one call in flight can reach a
    /// rate close to 1 / latency instead of 1 / (5 x latency).
    from_starts: bool,
}

impl OpState {
    fn throttled(&mut self) {
        self.clean = 0;
        self.doubling = false;
        if self.since_cut >= self.limit {
            self.limit = (self.limit / 2).max(1);
            self.since_cut = 0;
        }
    }

    /// A call was answered; `grows` is false when it had to wait for spacing.
    fn answered(&mut self, now: Instant, grows: bool) {
        self.since_cut += 1;
        if grows {
            self.clean += 1;
        }
        if self.doubling && self.clean >= self.limit && self.limit < self.max {
            self.limit = (self.limit * 2).min(self.max);
            self.clean = 0;
        } else if self.clean >= self.limit.max(MIN_ROUND) && self.limit < self.max {
            self.limit += 1;
            self.clean = 0;
        }
        if self.successes.len() == 2 {
            self.successes.pop_front();
        }
        self.successes.push_back(now);
    }

    /// At a limit of one: the earliest time the next call should start.
    fn not_before(&self) -> Option<Instant> {
        if self.limit > 1 {
            return None;
        }
        let (Some(prev), Some(last)) = (self.successes.front(), self.successes.back()) else {
            return None;
        };
        let interval = last.saturating_duration_since(*prev);
        (interval < IDLE).then(|| *last + interval.mul_f64(SPACING))
    }
}

/// A place among an operation's calls in flight, given back when dropped.
pub(crate) struct Slot {
    gate: Arc<OpGate>,
    /// The call waited for the spacing of a limit of one.
    spaced: bool,
    /// When the place was given.
    started: Instant,
}

impl Slot {
    /// Records the final result of the call.
    pub(crate) fn record<T>(&self, result: &Result<T, AwsError>) {
        let mut s = self.gate.lock();
        match result {
            Err(e) if e.kind == ErrorKind::Throttled => s.throttled(),
            // A transient failure says nothing about load.
            Err(e) if e.kind.is_retryable() => {}
            _ => {
                let at = if s.from_starts {
                    self.started
                } else {
                    Instant::now()
                };
                s.answered(at, !self.spaced);
            }
        }
        drop(s);
        self.gate.freed.notify_one();
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.gate.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.gate.freed.notify_one();
    }
}

impl OpGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, OpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl AdaptiveLimits {
    pub fn new() -> Self {
        AdaptiveLimits::default()
    }

    /// Limits that start each operation at `initial` calls in flight (at most its maximum) and
    /// double after each round of clean answers until the first throttle, then go on as
    /// [`AdaptiveLimits::new`]'s do, except that at a limit of one, calls are spaced by when
    /// the latest successful calls *started*. For reads fanned out at once (the Organizations
    /// tree walk): a throttled burst is then a few calls retrying, not the whole maximum, and
    /// one call in flight can keep up with a rate limit up to about 1 / latency.
    pub fn with_slow_start(initial: usize) -> Self {
        AdaptiveLimits {
            slow_start: Some(initial.max(1)),
            ..AdaptiveLimits::default()
        }
    }

    fn gate(&self, op: &'static str, max: usize) -> Arc<OpGate> {
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        let start = self.slow_start.map_or(max, |s| s.min(max));
        let gate = ops.entry(op).or_insert_with(|| {
            Arc::new(OpGate {
                state: Mutex::new(OpState {
                    limit: start,
                    max,
                    in_flight: 0,
                    clean: 0,
                    since_cut: start,
                    successes: VecDeque::new(),
                    doubling: start < max,
                    from_starts: self.slow_start.is_some(),
                }),
                freed: Notify::new(),
            })
        });
        Arc::clone(gate)
    }

    /// Waits for a place among `op`'s calls in flight (at most `max` of them).
    pub(crate) async fn acquire(&self, op: &'static str, max: usize) -> Slot {
        let gate = self.gate(op, max.max(1));
        let mut spaced = false;
        loop {
            let freed = gate.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let wait = {
                let mut s = gate.lock();
                let now = Instant::now();
                let due = s.not_before().filter(|t| *t > now);
                if due.is_none() && s.in_flight < s.limit {
                    s.in_flight += 1;
                    let more = s.in_flight < s.limit;
                    drop(s);
                    if more {
                        // Pass the wake-up on: a grown limit may admit several waiters.
                        gate.freed.notify_one();
                    }
                    return Slot {
                        gate: Arc::clone(&gate),
                        spaced,
                        started: now,
                    };
                }
                due
            };
            match wait {
                Some(t) => {
                    spaced = true;
                    tokio::time::sleep_until(t).await;
                }
                None => freed.await,
            }
        }
    }

    fn existing(&self, op: &str) -> Option<Arc<OpGate>> {
        let ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        ops.get(op).cloned()
    }

    /// The current limit of calls in flight for `op`; `None` before its first call.
    pub fn limit(&self, op: &str) -> Option<usize> {
        self.existing(op).map(|g| g.lock().limit)
    }
}

impl RetryObserver for AdaptiveLimits {
    fn on_retry(&self, error: &AwsError) {
        if error.kind == ErrorKind::Throttled
            && let Some(gate) = self.existing(error.operation)
        {
            gate.lock().throttled();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl AdaptiveLimits {
        /// Records a result as an unspaced call of `op` would.
        fn record<T>(&self, op: &'static str, result: &Result<T, AwsError>) {
            let gate = self.existing(op).expect("acquired before");
            // Counted in flight as `acquire` would, so that dropping the slot balances.
            gate.lock().in_flight += 1;
            Slot {
                gate,
                spaced: false,
                started: Instant::now(),
            }
            .record(result);
        }
    }

    fn throttle(op: &'static str) -> AwsError {
        AwsError::new(op, ErrorKind::Throttled, "RateLimitExceededException", "")
    }

    async fn admitted_within(
        l: &AdaptiveLimits,
        op: &'static str,
        max: usize,
        ms: u64,
    ) -> Option<Slot> {
        tokio::time::timeout(Duration::from_millis(ms), l.acquire(op, max))
            .await
            .ok()
    }

    #[tokio::test(start_paused = true)]
    async fn full_parallelism_until_throttled() {
        let l = AdaptiveLimits::new();
        let mut slots = Vec::new();
        for _ in 0..8 {
            slots.push(l.acquire("GetGrant", 8).await);
        }
        assert_eq!(l.limit("GetGrant"), Some(8));
        assert!(
            admitted_within(&l, "GetGrant", 8, 10).await.is_none(),
            "a ninth call waits"
        );
        drop(slots.pop());
        assert!(
            admitted_within(&l, "GetGrant", 8, 10).await.is_some(),
            "a freed place is taken"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_throttles_halves_once_and_clean_rounds_add_back() {
        let l = AdaptiveLimits::new();
        drop(l.acquire("CreateGrant", 16).await);
        for _ in 0..5 {
            l.on_retry(&throttle("CreateGrant"));
        }
        assert_eq!(l.limit("CreateGrant"), Some(8));
        // A round of at least ten clean answers adds one back.
        for _ in 0..9 {
            l.record::<()>("CreateGrant", &Ok(()));
        }
        assert_eq!(l.limit("CreateGrant"), Some(8));
        l.record::<()>("CreateGrant", &Ok(()));
        assert_eq!(l.limit("CreateGrant"), Some(9));
        // A throttle within a round of answers after a cut does not cut again.
        l.record::<()>("CreateGrant", &Err(throttle("CreateGrant")));
        assert_eq!(l.limit("CreateGrant"), Some(4));
        l.record::<()>("CreateGrant", &Err(throttle("CreateGrant")));
        assert_eq!(l.limit("CreateGrant"), Some(4));
        // Another operation is not affected.
        drop(l.acquire("GetGrant", 16).await);
        assert_eq!(l.limit("GetGrant"), Some(16));
    }

    #[tokio::test(start_paused = true)]
    async fn never_below_one_nor_above_the_parallelism() {
        let l = AdaptiveLimits::new();
        drop(l.acquire("DeleteGrant", 4).await);
        let mut lowest = 4;
        for i in 0..1_000 {
            if i % 3 == 0 {
                l.record::<()>("DeleteGrant", &Err(throttle("DeleteGrant")));
            } else {
                l.record::<()>("DeleteGrant", &Ok(()));
            }
            let limit = l.limit("DeleteGrant").expect("known");
            assert!((1..=4).contains(&limit), "{limit}");
            lowest = lowest.min(limit);
        }
        assert_eq!(lowest, 1);
        for _ in 0..1_000 {
            l.record::<()>("DeleteGrant", &Ok(()));
        }
        assert_eq!(l.limit("DeleteGrant"), Some(4));
    }

    #[tokio::test(start_paused = true)]
    async fn a_cut_limit_admits_no_one_until_calls_in_flight_drop_below_it() {
        let l = AdaptiveLimits::new();
        let mut slots = Vec::new();
        for _ in 0..4 {
            slots.push(l.acquire("GetGrant", 4).await);
        }
        l.on_retry(&throttle("GetGrant"));
        assert_eq!(l.limit("GetGrant"), Some(2));
        slots.truncate(2);
        assert!(admitted_within(&l, "GetGrant", 4, 10).await.is_none());
        slots.truncate(1);
        assert!(admitted_within(&l, "GetGrant", 4, 10).await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn at_a_limit_of_one_calls_are_spaced_by_what_succeeded() {
        let l = AdaptiveLimits::new();
        drop(l.acquire("CreateGrant", 1).await);
        // Successes 200 ms apart: the next call waits 160 ms after the last.
        for _ in 0..3 {
            l.record::<()>("CreateGrant", &Ok(()));
            tokio::time::advance(Duration::from_millis(200)).await;
        }
        let last_success = Instant::now() - Duration::from_millis(200);
        let slot = l.acquire("CreateGrant", 1).await;
        assert_eq!(
            Instant::now() - last_success,
            Duration::from_millis(200),
            "already due"
        );
        slot.record::<()>(&Ok(()));
        drop(slot);
        let slot = l.acquire("CreateGrant", 1).await;
        assert_eq!(Instant::now() - last_success, Duration::from_millis(360));
        assert!(slot.spaced);
        // A spaced call does not raise the limit.
        for _ in 0..20 {
            slot.record::<()>(&Ok(()));
        }
        assert_eq!(l.limit("CreateGrant"), Some(1));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_start_doubles_each_clean_round_until_the_first_throttle() {
        let l = AdaptiveLimits::with_slow_start(4);
        drop(l.acquire("ListAccountsForParent", 32).await);
        assert_eq!(l.limit("ListAccountsForParent"), Some(4));
        for _ in 0..4 {
            l.record::<()>("ListAccountsForParent", &Ok(()));
        }
        assert_eq!(l.limit("ListAccountsForParent"), Some(8));
        for _ in 0..8 {
            l.record::<()>("ListAccountsForParent", &Ok(()));
        }
        assert_eq!(l.limit("ListAccountsForParent"), Some(16));
        l.on_retry(&throttle("ListAccountsForParent"));
        assert_eq!(l.limit("ListAccountsForParent"), Some(8));
        // After a throttle: one more per round of at least ten clean answers.
        for _ in 0..10 {
            l.record::<()>("ListAccountsForParent", &Ok(()));
        }
        assert_eq!(l.limit("ListAccountsForParent"), Some(9));
        // Without slow start an operation begins at its maximum.
        let plain = AdaptiveLimits::new();
        drop(plain.acquire("ListAccountsForParent", 32).await);
        assert_eq!(plain.limit("ListAccountsForParent"), Some(32));
    }

    #[tokio::test(start_paused = true)]
    async fn slow_start_limits_space_by_when_successes_started() {
        let l = AdaptiveLimits::with_slow_start(1);
        // Calls of 20 ms each, started 100 ms apart, at a limit of one.
        for _ in 0..2 {
            let slot = l.acquire("ListRoots", 1).await;
            tokio::time::advance(Duration::from_millis(20)).await;
            slot.record::<()>(&Ok(()));
            drop(slot);
            tokio::time::advance(Duration::from_millis(80)).await;
        }
        let second_start = Instant::now() - Duration::from_millis(100);
        // The next may start 0.8 x 100 ms after the second started: already due.
        let slot = l.acquire("ListRoots", 1).await;
        assert_eq!(Instant::now() - second_start, Duration::from_millis(100));
        assert!(!slot.spaced);
        slot.record::<()>(&Ok(()));
        drop(slot);
        // Started 100 ms apart again, ended at once: the next waits until 80 ms after the last
        // start (an end-based pace would wait 80 ms after the end).
        let third_start = Instant::now();
        let slot = l.acquire("ListRoots", 1).await;
        assert_eq!(Instant::now() - third_start, Duration::from_millis(80));
        assert!(slot.spaced);
    }

    #[tokio::test(start_paused = true)]
    async fn validation_and_transient_errors_are_not_throttles() {
        let l = AdaptiveLimits::new();
        drop(l.acquire("CreateGrant", 8).await);
        let v = AwsError::new(
            "CreateGrant",
            ErrorKind::Validation,
            "ValidationException",
            "bad",
        );
        let t = AwsError::new(
            "CreateGrant",
            ErrorKind::Transient,
            "ServerInternalException",
            "",
        );
        for _ in 0..40 {
            l.record::<()>("CreateGrant", &Err(v.clone()));
            l.record::<()>("CreateGrant", &Err(t.clone()));
            l.on_retry(&t);
        }
        assert_eq!(l.limit("CreateGrant"), Some(8));
    }
}
