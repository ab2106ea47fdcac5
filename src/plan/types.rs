//! The plan: an ordered list of actions that leaves the executor no choices, plus what the
//! planner saw but cannot or must not act on.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::{ActivationOverride, GuardrailMode, ModelKey};
use crate::model::{AccountId, GrantArn, GrantStatus, LicenseArn, PolicyId, Principal, Target};

/// What to do with one (license, principal) grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActionKind {
    /// CreateGrant, then (for `status: active`) activate it once its workflow settles.
    Create,
    /// CreateGrantVersion Status=ACTIVE.
    Activate,
    /// CreateGrantVersion Status=DISABLED.
    Deactivate,
    /// CreateGrantVersion with a new name and/or allowed operations.
    Update,
    /// DeleteGrant.
    Delete,
    /// DeleteGrant on a failed grant, then create a new one.
    Recreate,
    /// AcceptGrant and activate, in the recipient account through `settings.recipient_role`
    /// (planned only for account principals; with `target_status: Disabled`, AcceptGrant only).
    Accept,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Create => "create",
            ActionKind::Activate => "activate",
            ActionKind::Deactivate => "deactivate",
            ActionKind::Update => "update",
            ActionKind::Delete => "delete",
            ActionKind::Recreate => "recreate",
            ActionKind::Accept => "accept",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        Some(match s {
            "create" => ActionKind::Create,
            "activate" => ActionKind::Activate,
            "deactivate" => ActionKind::Deactivate,
            "update" => ActionKind::Update,
            "delete" => ActionKind::Delete,
            "recreate" => ActionKind::Recreate,
            "accept" => ActionKind::Accept,
            _ => return None,
        })
    }

    /// Actions are executed phase by phase: everything that adds access before anything that
    /// removes it, so retargeting never leaves an account without access in between.
    pub fn phase(self) -> Phase {
        match self {
            ActionKind::Create | ActionKind::Recreate => Phase::Grant,
            ActionKind::Activate | ActionKind::Accept | ActionKind::Update => Phase::Enable,
            ActionKind::Deactivate | ActionKind::Delete => Phase::Revoke,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    Grant,
    Enable,
    Revoke,
}

/// The status a grant should end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetStatus {
    Active,
    Disabled,
}

/// One step of the plan, fully specified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: ActionKind,
    /// `None` for a managed grant the file no longer names.
    pub model: Option<ModelKey>,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    /// The grant acted on; `None` for `create`.
    pub grant_arn: Option<GrantArn>,
    /// The grant's version when planned (for stale-state detection); `None` for `create`.
    pub planned_version: Option<String>,
    /// Name the grant has after the action: the managed name `{prefix}-{model}-{principal id}`
    /// for every kind but `delete`, which shows the grant's current name. Every
    /// CreateGrantVersion the action implies (activate, deactivate, update, accept's activation)
    /// sets this name, `operations` and `target_status` together, so one call fixes all three.
    pub grant_name: String,
    /// Allowed operations the grant has after the action; empty for `delete`.
    pub operations: BTreeSet<String>,
    /// Status the grant must end in (`Disabled` for `delete`, which ends it altogether).
    pub target_status: TargetStatus,
    /// One sentence for people: why this action is needed.
    pub reason: String,
    /// The idempotency token for the mutating call(s) of this action: derived from the action
    /// and the live state of its (license, principal) pair when planned, so a retry or a
    /// concurrent apply of the same plan makes the same call and never a second grant.
    pub client_token: String,
    /// Access continuity: for a revoking action (`delete`, `deactivate`, the delete half of
    /// `recreate`), the grants that must be in effect for the listed accounts before the revoke
    /// may run: each account had an active entitlement through the revoked grant and is meant to
    /// keep it through the cover. Empty when the revoke takes access from nobody who keeps it.
    /// `apply` checks each cover (for an organization or OU grant: each account's share, read
    /// with ListReceivedGrantsForOrganization) and defers the revoke when one is not in effect.
    pub waits_for: Vec<Cover>,
    /// `Options.ActivationOverrideBehavior` for every activation this action makes (the
    /// planner's choice, or `settings.activation_override`); `None` sends no `Options`.
    pub activation_override: Option<ActivationOverride>,
}

/// A grant that must be in effect for some accounts before a revoke runs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cover {
    pub license_arn: LicenseArn,
    pub principal: Principal,
    /// The live grant, or `None` when this plan creates it (`apply` then uses the grant its
    /// `create` action made on the same (license, principal)).
    pub grant_arn: Option<GrantArn>,
    /// The accounts for which it must be in effect, sorted.
    pub accounts: Vec<AccountId>,
}

/// Why a live grant is shown in the plan although no action touches it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A grant without the managed prefix; never touched.
    Foreign,
    /// A foreign grant already covers a desired (license, principal): no duplicate is created.
    ForeignConflict,
    /// PENDING_WORKFLOW / PENDING_DELETE: AWS is still working on it.
    InProgress,
    /// PENDING_ACCEPT and no `recipient_role`: the recipient account must accept.
    AwaitingAcceptance,
    /// A managed grant the plan would revoke stays: accounts hold it ACTIVE and the grant meant
    /// to cover them will not come into effect for them while it does (the one-active rule).
    KeptForContinuity,
    /// A grant this tool does not own stays active in some accounts: an activation of the plan
    /// sends DISTRIBUTED_GRANTS_ONLY so as not to disable it.
    KeepsOtherGrant,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Note {
    pub kind: NoteKind,
    pub model: Option<ModelKey>,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    pub grant_arn: GrantArn,
    pub grant_name: String,
    pub status: GrantStatus,
    pub message: String,
}

/// Who can use one model before and after the plan (sorted, management account left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessChange {
    pub before: Vec<AccountId>,
    pub after: Vec<AccountId>,
}

/// A model whose product has several received licenses: the one chosen and why each other lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenseChoice {
    pub model: ModelKey,
    pub chosen: LicenseArn,
    pub others: Vec<crate::org::LicenseCandidate>,
}

/// A license in use whose validity ends soon (within `settings.expiry_warning_days` of the
/// snapshot's `read_at`) or has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryWarning {
    pub license_arn: LicenseArn,
    /// The model that uses it, if the file names one.
    pub model: Option<ModelKey>,
    /// `Validity.End` as the API gives it.
    pub ends: String,
    /// Whole days from `read_at` to the end (negative once expired).
    pub days_left: i64,
    pub expired: bool,
    /// The accounts that would lose access (have it now through the license, or are meant to).
    pub accounts: Vec<AccountId>,
}

/// The planner's output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// In execution order: by phase, then model, then principal.
    pub actions: Vec<Action>,
    pub notes: Vec<Note>,
    /// Effective access per model named in the file or touched by an action.
    pub access: BTreeMap<ModelKey, AccessChange>,
    /// Identifies the live grants the plan was computed from; see `fingerprint`.
    pub live_fingerprint: String,
    /// Digest of the desired state the plan was computed from; see `config_digest`.
    pub config_digest: String,
    /// The licenses whose grants the plan looked at (and `live_fingerprint` covers): pass them
    /// to `plan::fingerprint` to check a saved plan against fresh live state.
    pub licenses: BTreeSet<LicenseArn>,
    /// Models whose product has several received licenses, by model.
    pub license_choices: Vec<LicenseChoice>,
    /// Licenses in use that expire soon or have expired, by license.
    pub expiry: Vec<ExpiryWarning>,
    /// The guardrails layer (SCPs); `None` when `settings.guardrails.mode` is `off`.
    pub guardrails: Option<GuardrailPlan>,
    /// What the guardrails layer could not plan or wants people to know (SCPs not read, no
    /// layout fits, a name taken by a policy the tool does not own, ...), in the order found.
    pub guardrail_notes: Vec<GuardrailNote>,
}

impl Plan {
    /// No grant action and no SCP write: `apply` would change nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
            && self
                .guardrails
                .as_ref()
                .is_none_or(|g| g.mode != GuardrailMode::Enforce || g.actions.is_empty())
    }

    /// Number of actions of each kind, for summaries.
    pub fn summary(&self) -> BTreeMap<ActionKind, usize> {
        let mut counts = BTreeMap::new();
        for a in &self.actions {
            *counts.entry(a.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// The guardrails layer of a plan: the SCP writes that make "may invoke" match "entitled".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailPlan {
    /// `report` plans the same actions as `enforce` but `apply` carries none of them out.
    pub mode: GuardrailMode,
    /// In execution order (see [`PolicyAction::phase`]), then by policy name, then target.
    pub actions: Vec<PolicyAction>,
    /// Per model, whose ability to invoke the actions change, in people's terms.
    pub effects: Vec<GuardrailEffect>,
}

/// One Organizations write on an SCP. Only the tool's own policies (name prefix and managed
/// tag) are ever updated, detached or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyAction {
    /// CreatePolicy (type SERVICE_CONTROL_POLICY) with the managed tag. Organizations takes no
    /// client token: the executor first looks the name up and reuses a managed policy of that name.
    Create {
        name: String,
        description: String,
        content: String,
    },
    /// UpdatePolicy of a managed policy whose document or description differs.
    Update {
        policy: PolicyId,
        name: String,
        description: String,
        content: String,
    },
    /// AttachPolicy. `policy` is `None` for a policy created by this plan (found by name).
    Attach {
        policy: Option<PolicyId>,
        name: String,
        target: Target,
    },
    /// DetachPolicy of a managed policy.
    Detach {
        policy: PolicyId,
        name: String,
        target: Target,
    },
    /// DeletePolicy of a managed policy no longer wanted (detached from everything first).
    Delete { policy: PolicyId, name: String },
}

/// When a policy action runs relative to the grant phases, so that continuity holds: denies are
/// lifted before grants are activated and attached only after grants are revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyPhase {
    /// Create, Update, Detach: before any grant action.
    BeforeGrants,
    /// Attach, then Delete: after every grant action.
    AfterGrants,
}

impl PolicyAction {
    pub fn phase(&self) -> PolicyPhase {
        match self {
            PolicyAction::Create { .. }
            | PolicyAction::Update { .. }
            | PolicyAction::Detach { .. } => PolicyPhase::BeforeGrants,
            PolicyAction::Attach { .. } | PolicyAction::Delete { .. } => PolicyPhase::AfterGrants,
        }
    }

    /// The policy's name.
    pub fn name(&self) -> &str {
        match self {
            PolicyAction::Create { name, .. }
            | PolicyAction::Update { name, .. }
            | PolicyAction::Attach { name, .. }
            | PolicyAction::Detach { name, .. }
            | PolicyAction::Delete { name, .. } => name,
        }
    }

    /// Detach and Delete count against `max_deletes`.
    pub fn is_destructive(&self) -> bool {
        matches!(
            self,
            PolicyAction::Detach { .. } | PolicyAction::Delete { .. }
        )
    }
}

/// What the guardrail actions change for one model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuardrailEffect {
    pub model: Option<ModelKey>,
    /// Active accounts that may invoke it now and no longer will.
    pub newly_denied: BTreeSet<AccountId>,
    /// Active accounts denied now that will be allowed.
    pub newly_allowed: BTreeSet<AccountId>,
    /// Accounts allowed because a grant entitles them (after the plan).
    pub allowed_through_grant: BTreeSet<AccountId>,
}

/// Why a guardrail note is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuardrailNoteKind {
    /// Guardrails are on but the live SCPs were not read: no guardrail plan.
    NotRead,
    /// No layout fits AWS's SCP quotas (or a model id is refused): no guardrail plan. `apply`
    /// in enforce mode must refuse such a plan.
    LayoutFailed,
    /// The SERVICE_CONTROL_POLICY type is not enabled on the root: SCPs have no effect.
    ScpDisabled,
    /// A policy the tool does not own has the name of a policy of the layout: it is left alone
    /// and the layout's policy is not created.
    NameTaken,
    /// Under `--target`, the tool's policies of other models are left alone.
    LeftForTarget,
}

impl GuardrailNoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailNoteKind::NotRead => "not_read",
            GuardrailNoteKind::LayoutFailed => "layout_failed",
            GuardrailNoteKind::ScpDisabled => "scp_disabled",
            GuardrailNoteKind::NameTaken => "name_taken",
            GuardrailNoteKind::LeftForTarget => "left_for_target",
        }
    }

    pub fn parse(s: &str) -> Option<GuardrailNoteKind> {
        Some(match s {
            "not_read" => GuardrailNoteKind::NotRead,
            "layout_failed" => GuardrailNoteKind::LayoutFailed,
            "scp_disabled" => GuardrailNoteKind::ScpDisabled,
            "name_taken" => GuardrailNoteKind::NameTaken,
            "left_for_target" => GuardrailNoteKind::LeftForTarget,
            _ => return None,
        })
    }
}

/// One guardrail note: its kind and one sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuardrailNote {
    pub kind: GuardrailNoteKind,
    pub message: String,
}
