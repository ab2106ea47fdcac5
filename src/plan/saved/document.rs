//! The saved plan's wire types: the document `plan --out` writes, `plan --format json` prints
//! and `apply PLAN` reads back (the contract, `/work/shared/CONTRACT.md`).
//!
//! These are the only serde types of a plan: internal types never derive `Serialize`, so the
//! document changes only when this file does. `render` fills them from a `Plan`;
//! [`super::read`] checks them and builds the plan back. Identifiers travel as strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{Action, ActionKind, NoteKind, TargetStatus};

/// The only `format_version` this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Every action kind, in the order summaries list them.
pub const ACTION_KINDS: [ActionKind; 7] = [
    ActionKind::Create,
    ActionKind::Activate,
    ActionKind::Deactivate,
    ActionKind::Update,
    ActionKind::Delete,
    ActionKind::Recreate,
    ActionKind::Accept,
];

/// The whole plan document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: u32,
    /// Identifies the live grants the plan was computed from; `apply` refuses the plan when
    /// a fresh read gives another value.
    pub live_fingerprint: String,
    /// Digest of the desired state the plan was computed from.
    pub config_digest: String,
    /// The licenses whose grants `live_fingerprint` covers.
    pub licenses: Vec<String>,
    pub summary: SummaryDocument,
    pub actions: Vec<ActionDocument>,
    pub notes: Vec<NoteDocument>,
    /// Accounts that can use each model before and after the plan.
    pub access: BTreeMap<String, AccessDocument>,
    /// Models whose product has several received licenses: the rule's choice and the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_choices: Vec<LicenseChoiceDocument>,
    /// Licenses in use that expire soon or have expired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expiry: Vec<ExpiryDocument>,
    /// The guardrails layer (SCP actions and their effects); absent when guardrails are off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<GuardrailsDocument>,
    /// What the guardrails layer could not plan; absent when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrail_notes: Vec<GuardrailNoteDocument>,
    /// The guardrail changes `apply` will make (`settings.guardrails.mode: enforce` only; the
    /// contract's list). Derived from `guardrails` and not read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_actions: Option<Vec<PolicyActionEntry>>,
    /// Subscriptions `apply` makes before any grant (`action: "subscribe"`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscription_actions: Vec<super::SubscriptionActionEntry>,
    /// Why a subscribed model gets no subscription; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscription_notes: Vec<super::SubscriptionNoteEntry>,
}

/// Number of actions of each kind; every kind is present, zero included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SummaryDocument {
    pub create: usize,
    pub activate: usize,
    pub deactivate: usize,
    pub update: usize,
    pub delete: usize,
    pub recreate: usize,
    pub accept: usize,
    /// `policy_create` … `policy_delete`, in enforce mode only.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<PolicySummary>,
    /// Subscriptions (`subscription_actions`); left out when there is none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub subscribe: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl SummaryDocument {
    fn count_mut(&mut self, kind: ActionKind) -> &mut usize {
        match kind {
            ActionKind::Create => &mut self.create,
            ActionKind::Activate => &mut self.activate,
            ActionKind::Deactivate => &mut self.deactivate,
            ActionKind::Update => &mut self.update,
            ActionKind::Delete => &mut self.delete,
            ActionKind::Recreate => &mut self.recreate,
            ActionKind::Accept => &mut self.accept,
        }
    }

    pub fn count(&self, kind: ActionKind) -> usize {
        match kind {
            ActionKind::Create => self.create,
            ActionKind::Activate => self.activate,
            ActionKind::Deactivate => self.deactivate,
            ActionKind::Update => self.update,
            ActionKind::Delete => self.delete,
            ActionKind::Recreate => self.recreate,
            ActionKind::Accept => self.accept,
        }
    }

    pub fn of(actions: &[Action]) -> SummaryDocument {
        let mut summary = SummaryDocument::default();
        for a in actions {
            *summary.count_mut(a.kind()) += 1;
        }
        summary
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDocument {
    /// `create`, `activate`, `deactivate`, `update`, `delete`, `recreate` or `accept`.
    pub action: String,
    /// The model key; `null` for a managed grant the file no longer names.
    pub model: Option<String>,
    pub license_arn: String,
    /// The principal ARN (account root, OU or organization).
    pub principal: String,
    /// The grant acted on; absent for `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_arn: Option<String>,
    /// The grant's version when planned; absent for `create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_version: Option<String>,
    pub grant_name: String,
    /// Allowed operations the grant gets (create, recreate, update); empty otherwise.
    pub operations: Vec<String>,
    /// `active` or `disabled`.
    pub target_status: String,
    pub reason: String,
    /// The idempotency token `apply` sends with this action's mutating calls.
    pub client_token: String,
    /// Access continuity (revoking actions): the grants that must be in effect for the listed
    /// accounts before the revoke runs; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waits_for: Vec<CoverDocument>,
    /// `Options.ActivationOverrideBehavior` API value sent with every activation of the
    /// action (`DISTRIBUTED_GRANTS_ONLY` / `ALL_GRANTS_PERMITTED_BY_ISSUER`); absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_override: Option<String>,
}

/// A grant that must be in effect for some accounts before a revoke runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverDocument {
    pub license_arn: String,
    pub principal: String,
    /// The live grant; absent when the plan's `create` on this pair makes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_arn: Option<String>,
    pub accounts: Vec<String>,
}

/// A model whose product has several received licenses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseChoiceDocument {
    pub model: String,
    pub chosen: String,
    pub others: Vec<LicenseCandidateDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseCandidateDocument {
    pub license_arn: String,
    /// `not_available`, `no_create_grant`, `not_yet_valid`, `expired`, `ends_earlier`,
    /// `began_earlier` or `larger_arn`.
    pub lost: String,
    /// The license status, for `not_available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why, in words.
    pub why: String,
}

/// A license in use that expires within `settings.expiry_warning_days`, or has expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryDocument {
    pub license_arn: String,
    pub model: Option<String>,
    pub ends: String,
    pub days_left: i64,
    pub expired: bool,
    /// The accounts that would lose access.
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteDocument {
    /// `foreign`, `foreign_conflict`, `in_progress`, `awaiting_acceptance`,
    /// `kept_for_continuity` or `keeps_other_grant`.
    pub kind: String,
    pub model: Option<String>,
    pub license_arn: String,
    pub principal: String,
    pub grant_arn: String,
    pub grant_name: String,
    /// The grant's License Manager status, e.g. `PENDING_ACCEPT`.
    pub status: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDocument {
    pub before: Vec<String>,
    pub after: Vec<String>,
}

/// `guardrails` of the plan document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailsDocument {
    /// `report` or `enforce`.
    pub mode: String,
    /// In execution order.
    pub actions: Vec<PolicyActionDocument>,
    pub effects: Vec<EffectDocument>,
}

/// One SCP write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyActionDocument {
    /// `create`, `update`, `attach`, `detach` or `delete`.
    pub kind: String,
    /// `before_grants` (create, update, detach) or `after_grants` (attach, delete).
    pub phase: String,
    /// The live policy; absent for `create` and for an `attach` of a policy this plan creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    pub name: String,
    /// `attach` and `detach`: the root, OU or account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `create` and `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `create` and `update`: the policy document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// What the guardrail actions change for one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectDocument {
    pub model: Option<String>,
    pub newly_denied: Vec<String>,
    pub newly_allowed: Vec<String>,
    pub allowed_through_grant: Vec<String>,
    /// The same in words.
    pub sentence: String,
}

/// One entry of `guardrail_notes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardrailNoteDocument {
    /// `not_read`, `layout_failed`, `scp_disabled`, `name_taken` or `left_for_target`.
    pub kind: String,
    pub message: String,
}

/// One entry of the plan's top-level `policy_actions` (the contract's list of guardrail changes,
/// written in enforce mode only: they are what `apply` will do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyActionEntry {
    /// `create`, `update`, `attach`, `detach` or `delete`.
    pub action: String,
    pub policy_name: String,
    /// Root, OU or account id, for `attach` and `detach`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The live policy, when it exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
}

/// The plan's `summary` counts of guardrail changes (`policy_<action>`), enforce mode only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PolicySummary {
    pub policy_create: usize,
    pub policy_update: usize,
    pub policy_attach: usize,
    pub policy_detach: usize,
    pub policy_delete: usize,
}

/// The document's name of a note kind.
pub fn note_kind_name(kind: &NoteKind) -> &'static str {
    match kind {
        NoteKind::Foreign => "foreign",
        NoteKind::ForeignConflict => "foreign_conflict",
        NoteKind::InProgress => "in_progress",
        NoteKind::AwaitingAcceptance => "awaiting_acceptance",
        NoteKind::KeptForContinuity => "kept_for_continuity",
        NoteKind::KeepsOtherGrant => "keeps_other_grant",
    }
}

/// Every note kind, in the order the reader names them.
pub const NOTE_KINDS: [NoteKind; 6] = [
    NoteKind::Foreign,
    NoteKind::ForeignConflict,
    NoteKind::InProgress,
    NoteKind::AwaitingAcceptance,
    NoteKind::KeptForContinuity,
    NoteKind::KeepsOtherGrant,
];

/// The document's name of a target status.
pub fn target_status_name(s: TargetStatus) -> &'static str {
    match s {
        TargetStatus::Active => "active",
        TargetStatus::Disabled => "disabled",
    }
}
