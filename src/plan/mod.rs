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
mod simulate;
pub mod subscriptions;
mod types;
pub mod words;

#[cfg(test)]
mod complexity_tests;
#[cfg(test)]
mod guardrails_tests;
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
