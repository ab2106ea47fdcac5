//! Telling people how far `apply` got: a progress bar on a terminal, one log line per finished
//! action in CI. Both write to stderr; stdout is for the report only.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::report::Outcome;
use crate::plan::Action;

/// Hears about every action as it finishes. Called from the executor's loop, never
/// concurrently.
pub trait Progress: Send + Sync {
    fn on_start(&self, total: usize);
    fn on_done(&self, action: &Action, outcome: &Outcome);
    fn on_finish(&self);
}

/// Says nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn on_start(&self, _: usize) {}
    fn on_done(&self, _: &Action, _: &Outcome) {}
    fn on_finish(&self) {}
}

/// One `tracing` line per finished action (for CI logs).
pub struct LogProgress;

impl Progress for LogProgress {
    fn on_start(&self, total: usize) {
        tracing::info!(total, "applying plan");
    }

    fn on_done(&self, action: &Action, outcome: &Outcome) {
        let grant = outcome.grant().map(ToString::to_string).unwrap_or_default();
        let detail = detail(outcome);
        tracing::info!(
            action = action.kind().as_str(),
            model = action.model().map(|m| m.as_str()).unwrap_or("-"),
            principal = %action.principal,
            grant = %grant,
            outcome = outcome.label(),
            detail = %detail,
            "action finished"
        );
    }

    fn on_finish(&self) {}
}

/// An indicatif bar on stderr; failures are printed above it as they happen.
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl BarProgress {
    pub fn new() -> Self {
        BarProgress {
            bar: Mutex::new(None),
        }
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        BarProgress::new()
    }
}

impl Progress for BarProgress {
    fn on_start(&self, total: usize) {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        *self.bar.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
    }

    fn on_done(&self, action: &Action, outcome: &Outcome) {
        let guard = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bar) = guard.as_ref() else { return };
        if outcome.is_failed() {
            bar.println(format!(
                "{} {} {}: {}",
                outcome.label(),
                action.kind().as_str(),
                action.principal.short_id(),
                detail(outcome)
            ));
        }
        bar.set_message(format!(
            "{} {}",
            action.kind().as_str(),
            action.principal.short_id()
        ));
        bar.inc(1);
    }

    fn on_finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// The status, what a pending grant waits on, or the error.
fn detail(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done { status, .. } => status.to_string(),
        Outcome::Pending {
            status, waiting_on, ..
        } => format!("{status}, waiting on {}", waiting_on.as_str()),
        Outcome::Failed { error, .. } => format!("{}: {}", error.operation(), error.message()),
        Outcome::Skipped { reason } => reason.clone(),
        Outcome::Deferred { waits_for, .. } => {
            let n: usize = waits_for.iter().map(|w| w.accounts.len()).sum();
            format!("deferred: its replacement is not in effect yet for {n} accounts")
        }
    }
}
