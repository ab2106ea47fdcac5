//! Fault injection and rate limiting.
//!
//! Random faults are decided per request from (fault seed, operation, the operation's call index),
//! never from a clock or a global random source, so a run with the same seed and the same calls
//! fails the same way; scripted faults (`ScriptedFault`) are used, in order, before the random
//! decision. Rate limits are token buckets per operation on the emulator's clock (tokio's, which
//! tests can pause).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::EmulatorState;
use super::clock::Instant;
use super::options::{FaultRates, RateLimit};

/// A fault scripted for the next calls of one operation (`EmulatorState::script_faults`, the
/// admin route `faults/script`): each is used once, by the next call of that operation that
/// passes its rate limit, in place of the random decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptedFault {
    /// The service's throttling error, before the call is handled.
    Throttle,
    /// The service's internal error (HTTP 500), before the call is handled.
    ServerError,
    /// The call is handled, then its answer is lost.
    LostResponse,
    /// A `ValidationException` with this message, before the call is handled (License Manager
    /// reports a stale version this way: "... doesn't match the latest version ...").
    Validation(String),
}

impl EmulatorState {
    /// Queues faults for the next calls of `op`, after any already queued.
    pub fn script_faults(&self, op: &str, faults: impl IntoIterator<Item = ScriptedFault>) {
        let mut s = self
            .shared
            .scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.entry(op.to_owned()).or_default().extend(faults);
    }

    /// The scripted faults of each operation not used yet.
    pub fn scripted_faults(&self) -> std::collections::BTreeMap<String, Vec<ScriptedFault>> {
        let s = self
            .shared
            .scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.iter()
            .filter(|(_, q)| !q.is_empty())
            .map(|(op, q)| (op.clone(), q.iter().cloned().collect()))
            .collect()
    }

    pub(crate) fn next_scripted(&self, op: &str) -> Option<ScriptedFault> {
        let mut s = self
            .shared
            .scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        s.get_mut(op).and_then(VecDeque::pop_front)
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    Throttle,
    ServerError,
    LostResponse,
    /// An Organizations list answers an empty page whose NextToken continues where it was.
    EmptyPage,
}

/// SplitMix64's finaliser: a good 64-bit mix.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over the bytes of `s` (stable across platforms and releases, unlike `DefaultHasher`).
pub(crate) fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The fault for call number `index` (0-based) of `op`.
pub(crate) fn decide(seed: u64, op: &str, index: u64, rates: FaultRates) -> Fault {
    if rates.throttle <= 0.0
        && rates.server_error <= 0.0
        && rates.lost_response <= 0.0
        && rates.empty_page <= 0.0
    {
        return Fault::None;
    }
    let h = mix64(mix64(seed ^ fnv1a(op)) ^ index);
    // 53 random bits as a uniform float in [0, 1).
    let u = (h >> 11) as f64 / (1u64 << 53) as f64;
    let mut edge = rates.throttle;
    if u < edge {
        return Fault::Throttle;
    }
    edge += rates.server_error;
    if u < edge {
        return Fault::ServerError;
    }
    edge += rates.lost_response;
    if u < edge {
        return Fault::LostResponse;
    }
    edge += rates.empty_page;
    if u < edge {
        return Fault::EmptyPage;
    }
    Fault::None
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets, one per operation (or one shared by every operation under the `*` key).
#[derive(Debug, Default)]
pub(crate) struct Limiter {
    buckets: HashMap<String, Bucket>,
}

impl Limiter {
    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
    }

    /// Takes a token for `op`; false when the bucket is empty.
    pub(crate) fn try_take(&mut self, key: &str, limit: RateLimit, now: Instant) -> bool {
        let burst = f64::from(limit.burst.max(1));
        let b = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * limit.rate.max(0.0)).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn decisions_replay_from_the_seed() {
        let rates = FaultRates {
            throttle: 0.2,
            server_error: 0.2,
            lost_response: 0.2,
            empty_page: 0.0,
        };
        let run = |seed| {
            (0..200)
                .map(|i| decide(seed, "CreateGrant", i, rates))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let faults = run(7);
        for kind in [
            Fault::None,
            Fault::Throttle,
            Fault::ServerError,
            Fault::LostResponse,
        ] {
            let n = faults.iter().filter(|f| **f == kind).count();
            assert!(
                (20..=110).contains(&n),
                "{kind:?} happened {n} times in 200"
            );
        }
    }

    #[test]
    fn no_rates_no_faults() {
        assert!((0..100).all(|i| decide(1, "GetGrant", i, FaultRates::default()) == Fault::None));
    }

    #[test]
    fn bucket_refills_at_its_rate() {
        let mut l = Limiter::default();
        let limit = RateLimit {
            rate: 10.0,
            burst: 2,
        };
        let t0 = Instant::now();
        assert!(l.try_take("Op", limit, t0));
        assert!(l.try_take("Op", limit, t0));
        assert!(!l.try_take("Op", limit, t0));
        assert!(l.try_take("Op", limit, t0 + Duration::from_millis(100)));
        assert!(!l.try_take("Op", limit, t0 + Duration::from_millis(100)));
    }
}
