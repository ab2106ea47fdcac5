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
    /// The kind, with what only some kinds have: a create names its model, every other kind
    /// the grant it acts on.
    pub body: ActionBody,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    /// Name the grant has after the action: the managed name `{prefix}-{model}-{principal id}`
    /// for every kind but `delete`, which shows the grant's current name. Every
    /// CreateGrantVersion the action implies (activate, deactivate, update, accept's activation)
    /// sets this name, `operations` and `target_status` together, so one call fixes all three.
    pub grant_name: String,
    /// Allowed operations the grant has after the action; empty for `delete`.
    pub operations: BTreeSet<String>,
    /// Status the grant must end in (`Disabled` for `delete`, which ends it altogether).
    pub target_status: TargetStatus,
    /// Why this action is needed: the decision and the data it was made from
    /// (`plan::words::reason` says it in words).
    pub reason: Reason,
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

/// What an action does, with the members its kind always has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBody {
    Create {
        model: ModelKey,
    },
    Activate {
        model: ModelKey,
        grant: PlannedGrant,
    },
    Deactivate {
        model: ModelKey,
        grant: PlannedGrant,
    },
    Update {
        model: ModelKey,
        grant: PlannedGrant,
    },
    /// `model` is `None` for a managed grant the file no longer names.
    Delete {
        model: Option<ModelKey>,
        grant: PlannedGrant,
    },
    Recreate {
        model: ModelKey,
        grant: PlannedGrant,
    },
    Accept {
        model: ModelKey,
        grant: PlannedGrant,
    },
}

/// The grant an action acts on, as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedGrant {
    pub arn: GrantArn,
    /// The grant's version when planned (for stale-state detection).
    pub version: String,
}

/// What an action of some kind lacks (see [`ActionBody::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("a create action names no existing grant")]
    CreateWithGrant,
    #[error("{} actions need the grant they act on", .0.as_str())]
    NoGrant(ActionKind),
    #[error("{} actions name their model", .0.as_str())]
    NoModel(ActionKind),
}

impl ActionBody {
    /// The body of a `kind` action, or what it lacks.
    pub fn new(
        kind: ActionKind,
        model: Option<ModelKey>,
        grant: Option<PlannedGrant>,
    ) -> Result<ActionBody, BodyError> {
        let grant = match (kind, grant) {
            (ActionKind::Create, Some(_)) => return Err(BodyError::CreateWithGrant),
            (ActionKind::Create, None) => None,
            (_, None) => return Err(BodyError::NoGrant(kind)),
            (_, Some(grant)) => Some(grant),
        };
        if kind == ActionKind::Delete {
            let grant = grant.ok_or(BodyError::NoGrant(kind))?;
            return Ok(ActionBody::Delete { model, grant });
        }
        let model = model.ok_or(BodyError::NoModel(kind))?;
        let Some(grant) = grant else {
            return Ok(ActionBody::Create { model });
        };
        Ok(match kind {
            ActionKind::Activate => ActionBody::Activate { model, grant },
            ActionKind::Deactivate => ActionBody::Deactivate { model, grant },
            ActionKind::Update => ActionBody::Update { model, grant },
            ActionKind::Recreate => ActionBody::Recreate { model, grant },
            ActionKind::Accept => ActionBody::Accept { model, grant },
            ActionKind::Create | ActionKind::Delete => unreachable!("handled above"),
        })
    }

    pub fn kind(&self) -> ActionKind {
        match self {
            ActionBody::Create { .. } => ActionKind::Create,
            ActionBody::Activate { .. } => ActionKind::Activate,
            ActionBody::Deactivate { .. } => ActionKind::Deactivate,
            ActionBody::Update { .. } => ActionKind::Update,
            ActionBody::Delete { .. } => ActionKind::Delete,
            ActionBody::Recreate { .. } => ActionKind::Recreate,
            ActionBody::Accept { .. } => ActionKind::Accept,
        }
    }

    /// The model; `None` only for a delete of a grant the file no longer names.
    pub fn model(&self) -> Option<&ModelKey> {
        match self {
            ActionBody::Delete { model, .. } => model.as_ref(),
            ActionBody::Create { model }
            | ActionBody::Activate { model, .. }
            | ActionBody::Deactivate { model, .. }
            | ActionBody::Update { model, .. }
            | ActionBody::Recreate { model, .. }
            | ActionBody::Accept { model, .. } => Some(model),
        }
    }

    /// The grant acted on; `None` only for a create.
    pub fn grant(&self) -> Option<&PlannedGrant> {
        match self {
            ActionBody::Create { .. } => None,
            ActionBody::Activate { grant, .. }
            | ActionBody::Deactivate { grant, .. }
            | ActionBody::Update { grant, .. }
            | ActionBody::Delete { grant, .. }
            | ActionBody::Recreate { grant, .. }
            | ActionBody::Accept { grant, .. } => Some(grant),
        }
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        self.body.kind()
    }

    /// The model; `None` only for a delete of a grant the file no longer names.
    pub fn model(&self) -> Option<&ModelKey> {
        self.body.model()
    }

    /// The grant acted on; `None` only for a create.
    pub fn grant_arn(&self) -> Option<&GrantArn> {
        self.body.grant().map(|g| &g.arn)
    }

    /// The grant's version when planned; `None` only for a create.
    pub fn planned_version(&self) -> Option<&str> {
        self.body.grant().map(|g| g.version.as_str())
    }
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

/// Why the planner plans an action: one variant per decision, carrying the data it was made
/// from. `plan::words::reason` turns it into the sentence every format shows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// `create`: the model wants the principal and no grant exists yet.
    Missing {
        model: ModelKey,
        principal: Principal,
        wanted: TargetStatus,
    },
    /// `activate` / `deactivate`: the grant's status is not the one the model wants (and
    /// perhaps its name or operations differ too).
    StatusDiffers {
        model: ModelKey,
        live: GrantStatus,
        wanted: TargetStatus,
        changes: Changes,
    },
    /// `update`: the grant's name or allowed operations differ from the wanted ones.
    Changed { changes: Changes },
    /// `accept`: the recipient account has not accepted; apply accepts (and activates) it there
    /// through `settings.recipient_role`.
    NotAccepted {
        account: AccountId,
        role: String,
        wanted: TargetStatus,
    },
    /// `recreate`: AWS could not distribute the grant.
    Failed { status: GrantStatus },
    /// `delete`: a failed managed grant on a pair a foreign grant already covers.
    FailedAndCovered {
        status: GrantStatus,
        foreign: GrantArn,
    },
    /// `delete`: a second managed grant on a wanted pair; the best one is kept.
    Duplicate,
    /// `delete`: the model no longer wants this principal.
    NoLongerGranted {
        model: ModelKey,
        principal: Principal,
    },
    /// `delete`: a renewal; the model now grants from `to`, another license of its product.
    Renewal { model: ModelKey, to: LicenseArn },
    /// `delete`: no model of the file uses the license.
    LicenseUnused { license: LicenseArn },
    /// A revoke (`delete`, `deactivate`, `recreate`) that runs only once its covers are in
    /// effect for the accounts that keep access: the revoke's own reason, then the covers.
    Deferred {
        reason: Box<Reason>,
        /// The kind of the revoke (`deactivate` reads "deactivated once", the rest "deleted once").
        revoke: ActionKind,
        covers: Vec<CoverWords>,
    },
    /// A reason read back from a saved plan, whose `reason` field has only the words.
    Recorded(String),
}

impl Reason {
    /// The decision itself, without the continuity clause of [`Reason::Deferred`].
    pub fn decision(&self) -> &Reason {
        match self {
            Reason::Deferred { reason, .. } => reason.decision(),
            other => other,
        }
    }
}

/// What differs between a managed grant and the wanted name and allowed operations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Changes {
    /// (current name, wanted name), when they differ.
    pub rename: Option<(String, String)>,
    /// Wanted operations the grant lacks, sorted.
    pub gained: Vec<String>,
    /// Operations the grant has that are not wanted, sorted.
    pub lost: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.rename.is_none() && self.gained.is_empty() && self.lost.is_empty()
    }
}

/// An account as the plan's words name it: `dev (222233334444)`, or the id alone when the
/// organization gives it no name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountLabel {
    pub id: AccountId,
    pub name: String,
}

/// One cover of a deferred revoke, as its words name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoverWords {
    pub principal: Principal,
    /// This plan creates the cover.
    pub created: bool,
    pub accounts: Vec<AccountLabel>,
}

/// Why a managed grant whose revoke was planned stays (see [`NoteDetail::KeptForContinuity`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeptBecause {
    /// The activation of the organization or OU cover keeps other active grants (no
    /// ALL_GRANTS_PERMITTED_BY_ISSUER), so its share never becomes ACTIVE for them.
    NoSwap { cover: Principal },
    /// The cover is in effect but the accounts' share of it is not ACTIVE (`None`: no share).
    ShareNotActive {
        cover: Principal,
        share: Option<GrantStatus>,
    },
}

/// What a note says: one variant per observation, carrying its data. `plan::words::note`
/// turns it into the sentence every format shows; [`NoteDetail::kind`] is its class.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteDetail {
    /// A grant without the managed prefix, left alone.
    Foreign { prefix: String },
    /// A foreign grant on a wanted pair: no managed grant is created next to it.
    ForeignConflict { prefix: String },
    /// A kept grant is PENDING_WORKFLOW: plan again once it settles.
    Settling,
    /// A kept grant has a status this tool does not know.
    UnknownStatus,
    /// A grant to retire is PENDING_DELETE already.
    Deleting,
    /// A grant to retire is still in a workflow: deleted once AWS settles it, for `reason`.
    DeletedOnceSettled { reason: Reason },
    /// PENDING_ACCEPT and no `recipient_role`: the commands the recipient runs.
    AwaitingAcceptance {
        region: String,
        wanted: TargetStatus,
    },
    /// A revoke was planned (`planned`, for `reason`) but `accounts` hold the grant ACTIVE and
    /// its covers will not come into effect for them while it stays.
    KeptForContinuity {
        planned: ActionKind,
        reason: Reason,
        accounts: Vec<AccountLabel>,
        because: Vec<KeptBecause>,
    },
    /// `accounts` keep active grants this tool does not own (`grants`, by name): activating
    /// the grant to `activated` sends DISTRIBUTED_GRANTS_ONLY.
    KeepsOtherGrant {
        accounts: Vec<AccountLabel>,
        grants: Vec<String>,
        activated: Principal,
    },
    /// A note read back from a saved plan: its kind and words as written.
    Recorded { kind: NoteKind, message: String },
}

impl NoteDetail {
    /// The class of the note.
    pub fn kind(&self) -> NoteKind {
        match self {
            NoteDetail::Foreign { .. } => NoteKind::Foreign,
            NoteDetail::ForeignConflict { .. } => NoteKind::ForeignConflict,
            NoteDetail::Settling
            | NoteDetail::UnknownStatus
            | NoteDetail::Deleting
            | NoteDetail::DeletedOnceSettled { .. } => NoteKind::InProgress,
            NoteDetail::AwaitingAcceptance { .. } => NoteKind::AwaitingAcceptance,
            NoteDetail::KeptForContinuity { .. } => NoteKind::KeptForContinuity,
            NoteDetail::KeepsOtherGrant { .. } => NoteKind::KeepsOtherGrant,
            NoteDetail::Recorded { kind, .. } => *kind,
        }
    }
}

/// The class of a note: why a live grant is shown in the plan although no action touches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    pub model: Option<ModelKey>,
    pub license_arn: LicenseArn,
    pub principal: Principal,
    pub grant_arn: GrantArn,
    pub grant_name: String,
    pub status: GrantStatus,
    /// What the note says, with its data.
    pub detail: NoteDetail,
}

impl Note {
    pub fn kind(&self) -> NoteKind {
        self.detail.kind()
    }
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
    /// Subscriptions to make before any grant (`plan::subscriptions`), by model.
    pub subscriptions: Vec<super::SubscriptionAction>,
    /// Why a subscribed model gets no subscription, by model.
    pub subscription_notes: Vec<super::SubscriptionNote>,
}

impl Plan {
    /// No grant action, no subscription and no SCP write: `apply` would change nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
            && self.subscriptions.is_empty()
            && self
                .guardrails
                .as_ref()
                .is_none_or(|g| g.mode != GuardrailMode::Enforce || g.actions.is_empty())
    }

    /// Number of actions of each kind, for summaries.
    pub fn summary(&self) -> BTreeMap<ActionKind, usize> {
        let mut counts = BTreeMap::new();
        for a in &self.actions {
            *counts.entry(a.kind()).or_insert(0) += 1;
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
