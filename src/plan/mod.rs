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
    /// What its subscription actions and notes were decided from moved: Bedrock's agreements,
    /// availability or offers for a subscribed model, or the file's `subscribe` sections.
    #[error(
        "the saved plan is stale: the subscriptions it was planned from changed since it was made (Bedrock's agreements, availability or offers, or the file's subscribe sections)"
    )]
    SubscriptionsMoved,
    /// The desired state (the file, or the organization's structure it resolved against) moved.
    #[error(
        "the saved plan was made from another desired state (the file or the organization's structure changed)"
    )]
    DesiredMoved,
}

/// The stale-plan refusal: a saved plan runs only on the live grants it was made from
/// (`live_fingerprint`'s grants part, recomputed over the plan's licenses), on the Bedrock
/// state its subscriptions were decided from (`live_fingerprint`'s subscriptions part,
/// compared with that of `planned`, a plan made now) and on the desired state it was made from
/// (`config_digest`, compared with `planned`'s).
pub fn check_saved(
    saved: &Plan,
    live: &crate::model::Live,
    planned: &Plan,
) -> Result<(), StalePlan> {
    let (saved_grants, saved_subscriptions) = digest::split_fingerprint(&saved.live_fingerprint);
    if fingerprint(live, &saved.licenses) != saved_grants {
        return Err(StalePlan::LiveMoved);
    }
    let (_, planned_subscriptions) = digest::split_fingerprint(&planned.live_fingerprint);
    if saved_subscriptions != planned_subscriptions {
        return Err(StalePlan::SubscriptionsMoved);
    }
    if saved.config_digest != planned.config_digest {
        return Err(StalePlan::DesiredMoved);
    }
    Ok(())
}
