//! The pure planner: `plan(&Desired, &Live) -> Plan`, and `simulate(&Live, &Plan) -> Live`.
//!
//! Pure: no I/O, clock, env or randomness; the same input gives the same plan, in the same
//! order. What each live grant status means and which action it leads to is written down in
//! `docs/status-and-actions.md`; the rules live in `planner.rs`.

mod continuity;
mod digest;
mod expiry;
mod guardrails;
mod holdings;
mod planner;
pub mod saved;
mod simulate;
pub mod subscriptions;
mod types;
pub mod words;

#[cfg(test)]
mod complexity_tests;
#[cfg(test)]
pub(crate) mod guardrails_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeline_tests;

pub use digest::{client_token, config_digest, fingerprint};
pub use guardrails::{
    destructive_policy_actions, entitled_accounts, guardrail_layout, guardrails_differ, path_of,
    same_document,
};
pub use holdings::Holdings;
pub use planner::{plan, scope};
pub use simulate::simulate;
pub use subscriptions::{
    SubscriptionAction, SubscriptionNote, SubscriptionNoteKind, subscription_model_ids,
};
pub use types::{
    AccessChange, AccountLabel, Action, ActionBody, ActionKind, BodyError, Changes, Cover,
    CoverWords, ExpiryWarning, GuardrailEffect, GuardrailNote, GuardrailNoteKind, GuardrailPlan,
    KeptBecause, LicenseChoice, Note, NoteDetail, NoteKind, Phase, Plan, PlannedGrant,
    PolicyAction, PolicyPhase, Reason, TargetStatus,
};

pub use crate::org::grant_name;

/// Why a saved plan may not run (`apply PLAN`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StalePlan {
    /// The live grants it was made from (its fingerprint) moved.
    #[error("the saved plan is stale: live grants changed since it was made")]
    LiveMoved,
    /// The desired state (the file, or the organization's structure it resolved against) moved.
    #[error(
        "the saved plan was made from another desired state (the file or the organization's structure changed)"
    )]
    DesiredMoved,
}

/// The stale-plan refusal: a saved plan runs only on the live grants it was made from
/// (`live_fingerprint`, recomputed over the plan's licenses) and the desired state it was made
/// from (`config_digest`, compared with the digest of a plan made now, `planned_digest`).
pub fn check_saved(
    saved: &Plan,
    live: &crate::model::Live,
    planned_digest: &str,
) -> Result<(), StalePlan> {
    if fingerprint(live, &saved.licenses) != saved.live_fingerprint {
        return Err(StalePlan::LiveMoved);
    }
    if saved.config_digest != planned_digest {
        return Err(StalePlan::DesiredMoved);
    }
    Ok(())
}
