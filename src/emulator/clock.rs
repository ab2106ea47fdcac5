//! The emulator's one clock for everything it times (workflows, deletions, list lag, agreements,
//! rate-limit buckets): tokio's, which is the wall clock in a normal runtime and follows paused
//! or advanced time in a `#[tokio::test(start_paused = true)]` test, so paused-time tests drive
//! workflows deterministically. Outside a runtime it reads the wall clock.
//!
//! Epoch seconds that go on the wire (Bedrock's `now_secs`, STS's `Expiration`) stay
//! `SystemTime`: a paused tokio clock has no epoch, and those values only say when something
//! expires, not when a workflow completes.

pub(crate) use tokio::time::Instant;

/// Now, on the emulator's clock.
pub(crate) fn now() -> Instant {
    Instant::now()
}
