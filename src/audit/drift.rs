//! Drift: every difference between the desired-state file and live grants, sorted into kinds
//! a person can act on. Built on the plan (what `apply` would change) and its notes (what it
//! cannot or must not change), plus, when a baseline is given, who gained or lost access since.
//!
//! "Since the last apply" without a state file. License Manager keeps no timestamps on grants
//! and the tool keeps no state, so a change in membership is read from two places:
//! - the grants themselves: where a model is granted account by account (an OU expanded around
//!   an excluded account), an account that joined the OU has no grant and one that left still
//!   has one; an OU grant that now holds an excluded account must be split. These show up as
//!   plan actions and are classified [`DriftKind::Membership`].
//! - a baseline (`drift --baseline FILE`): the saved plan the last apply executed
//!   (`plan --out`), or the JSON of an earlier `drift` run. Its `access.<model>.after` lists who
//!   was meant to have access then; anyone who gained or lost access since, through an OU or
//!   organization grant that itself did not change, joined or left that OU or the organization.
//!   Without a baseline such changes are invisible: the grant is unchanged and correct.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{account_path, describe_account, describe_principal, principal_within, usable};
use crate::config::{AccountRef, Config, ModelKey, OuRef};
use crate::model::{AccountId, Grant, GrantArn, GrantStatus, LicenseArn, Live, OuId, Principal};
use crate::org::{Desired, DesiredModel, covered_accounts};
use crate::plan::{
    AccessChange, Action, ActionKind, Note, NoteKind, Plan, Reason, TargetStatus, words,
};

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DriftKind {
    /// A target of the file has no grant (never created, or deleted or rejected since).
    Missing,
    /// A managed grant the file wants active is DISABLED.
    DisabledOutOfBand,
    /// A managed grant the file wants disabled is in effect.
    EnabledOutOfBand,
    /// A managed grant's name or allowed operations were changed.
    Changed,
    /// A managed grant that the file no longer names.
    NotInFile,
    /// A second managed grant on the same (license, principal).
    Duplicate,
    /// A managed grant AWS failed to distribute (FAILED_WORKFLOW).
    Failed,
    /// An account joined or left an OU (or the organization), changing effective access.
    Membership,
    /// A grant still in an AWS workflow (PENDING_WORKFLOW, PENDING_DELETE, or unknown).
    Stuck,
    /// A grant waiting for its recipient to accept it.
    AwaitingAcceptance,
    /// A foreign grant on a (license, principal) the file wants, or reaching accounts it grants.
    ForeignOverlap,
    /// A foreign grant elsewhere: access the file does not describe.
    Foreign,
    /// An organization or OU grant is in effect, but an account meant to have the model has
    /// no ACTIVE share of it.
    ShareNotInEffect,
}

impl DriftKind {
    pub const ALL: [DriftKind; 13] = [
        DriftKind::Missing,
        DriftKind::DisabledOutOfBand,
        DriftKind::EnabledOutOfBand,
        DriftKind::Changed,
        DriftKind::NotInFile,
        DriftKind::Duplicate,
        DriftKind::Failed,
        DriftKind::Membership,
        DriftKind::Stuck,
        DriftKind::AwaitingAcceptance,
        DriftKind::ForeignOverlap,
        DriftKind::Foreign,
        DriftKind::ShareNotInEffect,
    ];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Missing => "missing",
            DriftKind::DisabledOutOfBand => "disabled_out_of_band",
            DriftKind::EnabledOutOfBand => "enabled_out_of_band",
            DriftKind::Changed => "changed",
            DriftKind::NotInFile => "not_in_file",
            DriftKind::Duplicate => "duplicate",
            DriftKind::Failed => "failed",
            DriftKind::Membership => "membership",
            DriftKind::Stuck => "stuck",
            DriftKind::AwaitingAcceptance => "awaiting_acceptance",
            DriftKind::ForeignOverlap => "foreign_overlap",
            DriftKind::Foreign => "foreign",
            DriftKind::ShareNotInEffect => "share_not_in_effect",
        }
    }

    /// A heading for people.
    pub fn title(self) -> &'static str {
        match self {
            DriftKind::Missing => "Missing grants",
            DriftKind::DisabledOutOfBand => "Grants disabled out of band",
            DriftKind::EnabledOutOfBand => "Grants enabled out of band",
            DriftKind::Changed => "Grants renamed or with other operations",
            DriftKind::NotInFile => "Managed grants no longer in the file",
            DriftKind::Duplicate => "Duplicate managed grants",
            DriftKind::Failed => "Grants AWS failed to distribute",
            DriftKind::Membership => "Accounts that joined or left an OU",
            DriftKind::Stuck => "Grants stuck in an AWS workflow",
            DriftKind::AwaitingAcceptance => "Grants awaiting acceptance",
            DriftKind::ForeignOverlap => "Foreign grants overlapping the file",
            DriftKind::Foreign => "Other foreign grants",
            DriftKind::ShareNotInEffect => "Organization or OU grants not in effect for an account",
        }
    }
}

/// A grant as a drift item shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantFacts {
    pub arn: GrantArn,
    pub name: String,
    pub status: GrantStatus,
    pub version: String,
    pub status_reason: Option<String>,
}

impl GrantFacts {
    fn of(g: &Grant) -> GrantFacts {
        GrantFacts {
            arn: g.arn.clone(),
            name: g.name.clone(),
            status: g.status.clone(),
            version: g.version.clone(),
            status_reason: g.status_reason.clone(),
        }
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftItem {
    pub kind: DriftKind,
    /// The file's model key; `None` for a license no model names.
    pub model: Option<ModelKey>,
    pub license_arn: LicenseArn,
    /// The grant's principal; `None` for a membership change read from the baseline.
    pub principal: Option<Principal>,
    pub grant: Option<GrantFacts>,
    /// The accounts whose access this concerns (sorted; the grantor and unusable accounts left out).
    pub accounts: Vec<AccountId>,
    /// What `apply` does about it; `None`: reported only, apply cannot act on it.
    pub action: Option<ActionKind>,
    pub message: String,
}

/// Who was meant to have access at the last apply (or earlier drift run), and what was stuck.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Baseline {
    /// Per model key: the accounts meant to have access (a plan's `access.<model>.after`).
    pub access: BTreeMap<String, BTreeSet<AccountId>>,
    /// When the baseline was written (epoch seconds), if it says.
    pub generated_at: Option<u64>,
    /// Grants reported stuck in the baseline: ARN → (status, version).
    pub stuck: BTreeMap<GrantArn, (String, String)>,
}

/// The classified drift of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftReport {
    /// By kind, then model, principal, grant and accounts.
    pub items: Vec<DriftItem>,
    /// Number of plan actions: drift (exit 2) when not zero.
    pub actions: usize,
    /// Effective access per model now (`before`) and once applied (`after`): a later run's
    /// baseline.
    pub access: BTreeMap<ModelKey, AccessChange>,
    pub live_fingerprint: String,
    pub config_digest: String,
    /// When the report was made (epoch seconds), as the caller passed it.
    pub generated_at: Option<u64>,
    /// When the baseline used was made, if one was given.
    pub baseline: Option<BaselineInfo>,
    /// Licenses in use that expire within `settings.expiry_warning_days`, or have expired.
    pub expiry: Vec<crate::plan::ExpiryWarning>,
    /// Guardrail differences (SCPs); see `audit::guardrail_drift`.
    pub guardrails: Vec<super::guardrail_drift::GuardrailDrift>,
}

/// What was compared against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineInfo {
    pub generated_at: Option<u64>,
    pub models: usize,
}

impl DriftReport {
    /// Something `apply` would change: exit code 2.
    pub fn has_drift(&self) -> bool {
        self.actions > 0 || super::guardrail_drift::has_drift(&self.guardrails)
    }

    pub fn count(&self, kind: DriftKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }
}

/// The targets a model of the file names, resolved against the organization (what the
/// resolver accepted: unknown ones are left out).
#[derive(Default)]
struct Targets {
    organization: bool,
    ous: BTreeSet<OuId>,
    accounts: BTreeSet<AccountId>,
}

fn targets(config: &Config, key: &ModelKey, live: &Live) -> Targets {
    let org = &live.organization;
    let mut t = Targets::default();
    let Some(spec) = config.model(key.as_str()) else {
        return t;
    };
    t.organization = spec.grant_to.organization.is_some();
    for ou in &spec.grant_to.organizational_units {
        match &ou.value {
            OuRef::Id(id) => {
                t.ous.insert(id.clone());
            }
            OuRef::Path(path) => {
                let found: Vec<&OuId> = org
                    .ous
                    .keys()
                    .filter(|id| &super::ou_path(org, id) == path)
                    .collect();
                if let [id] = found.as_slice() {
                    t.ous.insert((*id).clone());
                }
            }
        }
    }
    for a in &spec.grant_to.accounts {
        match &a.value {
            AccountRef::Id(id) => {
                t.accounts.insert(id.clone());
            }
            AccountRef::Name(name) => {
                let found: Vec<&AccountId> = org
                    .accounts
                    .values()
                    .filter(|acct| &acct.name == name)
                    .map(|acct| &acct.id)
                    .collect();
                if let [id] = found.as_slice() {
                    t.accounts.insert((*id).clone());
                }
            }
        }
    }
    t
}

impl Targets {
    /// The OU or organization target of the file that contains `p`, if any.
    fn container(&self, live: &Live, p: &Principal) -> Option<Principal> {
        let org = &live.organization;
        let management = org.management_account.clone();
        let mut nodes: Vec<Principal> = Vec::new();
        if self.organization {
            nodes.push(Principal::Organization {
                management: management.clone(),
                org: org.id.clone(),
            });
        }
        nodes.extend(self.ous.iter().map(|ou| Principal::Ou {
            management: management.clone(),
            org: org.id.clone(),
            ou: ou.clone(),
        }));
        nodes
            .into_iter()
            .find(|n| n != p && principal_within(org, p, n))
    }
}

/// Everything [`classify`] reads.
pub struct DriftInput<'a> {
    pub config: &'a Config,
    pub desired: &'a Desired,
    pub live: &'a Live,
    pub plan: &'a Plan,
    pub baseline: Option<&'a Baseline>,
    /// The time of the run (epoch seconds), to say how long a grant has been stuck when the
    /// baseline saw it stuck too. The caller reads the clock; this module does not.
    pub now: Option<u64>,
}

/// Sorts every action and note of the plan, and every change of access since the baseline,
/// into drift items.
pub fn classify(input: &DriftInput<'_>) -> DriftReport {
    let c = Classifier {
        input,
        grants: input.live.grants.iter().map(|g| (&g.arn, g)).collect(),
        targets: input
            .config
            .models
            .iter()
            .map(|m| {
                let key = &m.key.value;
                (key.clone(), targets(input.config, key, input.live))
            })
            .collect(),
    };
    let mut items = Vec::new();
    for action in &input.plan.actions {
        items.push(c.action(action));
    }
    for note in &input.plan.notes {
        items.push(c.note(note));
    }
    if let Some(baseline) = input.baseline {
        // An account a plan action or note already speaks for is not repeated.
        let explained: BTreeSet<(Option<ModelKey>, AccountId)> = items
            .iter()
            .filter(|i| {
                !matches!(
                    i.kind,
                    DriftKind::Changed
                        | DriftKind::Duplicate
                        | DriftKind::ForeignOverlap
                        | DriftKind::Foreign
                )
            })
            .flat_map(|i| i.accounts.iter().map(|a| (i.model.clone(), a.clone())))
            .collect();
        items.extend(
            c.since_baseline(baseline)
                .into_iter()
                .filter(|i| !explained.contains(&(i.model.clone(), i.accounts[0].clone()))),
        );
    }
    items.sort_by(|a, b| {
        (
            a.kind,
            a.model.is_none(),
            &a.model,
            &a.license_arn,
            &a.principal,
            &a.grant,
            &a.accounts,
        )
            .cmp(&(
                b.kind,
                b.model.is_none(),
                &b.model,
                &b.license_arn,
                &b.principal,
                &b.grant,
                &b.accounts,
            ))
    });
    DriftReport {
        guardrails: super::guardrail_drift::classify(input.desired, input.live, input.plan),
        expiry: input.plan.expiry.clone(),
        items,
        actions: input.plan.actions.len(),
        access: input.plan.access.clone(),
        live_fingerprint: input.plan.live_fingerprint.clone(),
        config_digest: input.plan.config_digest.clone(),
        generated_at: input.now,
        baseline: input.baseline.map(|b| BaselineInfo {
            generated_at: b.generated_at,
            models: b.access.len(),
        }),
    }
}

/// What a drift item is about.
struct Subject<'s> {
    model: Option<&'s ModelKey>,
    license: &'s LicenseArn,
    principal: &'s Principal,
    grant: Option<&'s Grant>,
    action: Option<ActionKind>,
}

struct Classifier<'a> {
    input: &'a DriftInput<'a>,
    /// The live grants by ARN (a plan of thousands of actions over tens of thousands of
    /// grants looks one up per action).
    grants: HashMap<&'a GrantArn, &'a Grant>,
    /// Each model's resolved targets, worked out once.
    targets: BTreeMap<ModelKey, Targets>,
}

impl Classifier<'_> {
    fn live(&self) -> &Live {
        self.input.live
    }

    fn grant(&self, arn: Option<&GrantArn>) -> Option<&Grant> {
        self.grants.get(arn?).copied()
    }

    /// The file's targets of model `key` (none for a model the file does not name).
    fn targets(&self, key: &ModelKey) -> &Targets {
        static NONE: Targets = Targets {
            organization: false,
            ous: BTreeSet::new(),
            accounts: BTreeSet::new(),
        };
        self.targets.get(key).unwrap_or(&NONE)
    }

    /// The accounts a grant to `p` reaches that can use a model and need a grant.
    fn accounts(&self, p: &Principal) -> Vec<AccountId> {
        let live = self.live();
        covered_accounts(&live.organization, p)
            .into_iter()
            .filter(|a| *a != live.caller)
            .filter(|a| {
                live.organization
                    .accounts
                    .get(a)
                    .is_none_or(|acct| usable(&acct.state))
            })
            .collect()
    }

    fn describe(&self, p: &Principal) -> String {
        describe_principal(&self.live().organization, p)
    }

    fn item(&self, kind: DriftKind, s: Subject<'_>, message: String) -> DriftItem {
        DriftItem {
            kind,
            model: s.model.cloned(),
            license_arn: s.license.clone(),
            principal: Some(s.principal.clone()),
            grant: s.grant.map(GrantFacts::of),
            accounts: self.accounts(s.principal),
            action: s.action,
            message,
        }
    }

    /// Another principal the model wants that reaches everything a grant to `p` reaches.
    fn covering(&self, key: &ModelKey, p: &Principal) -> Option<Principal> {
        let org = &self.live().organization;
        self.input
            .desired
            .models
            .get(key)?
            .principals
            .iter()
            .filter(|q| !matches!(q, Principal::Account(_)))
            .find(|q| *q != p && principal_within(org, p, q))
            .cloned()
    }

    fn is_managed(&self, g: &Grant) -> bool {
        crate::org::is_managed_name(&self.input.desired.grant_name_prefix, &g.name)
    }

    /// The drift item of a plan action: the class is the planner's decision
    /// ([`Reason`]); what happened since the last apply (a deletion out of band, an account
    /// that moved) is read from live state and the file's targets.
    fn action(&self, a: &Action) -> DriftItem {
        let grant = self.grant(a.grant_arn());
        let who = self.describe(&a.principal);
        let item = |kind, message| self.action_item(a, grant, kind, message);
        match a.reason.decision() {
            Reason::Missing { model, .. } => self.missing(a, model),
            Reason::StatusDiffers {
                wanted: TargetStatus::Active,
                ..
            } => item(
                DriftKind::DisabledOutOfBand,
                format!(
                    "grant to {who} is DISABLED but the file wants it active (it was deactivated \
                     out of band, or an apply stopped before activating it): apply activates it"
                ),
            ),
            Reason::StatusDiffers { live, .. } => item(
                DriftKind::EnabledOutOfBand,
                format!(
                    "grant to {who} is {live} but the file wants it disabled: apply deactivates it"
                ),
            ),
            reason @ Reason::Changed { .. } => item(
                DriftKind::Changed,
                format!(
                    "grant to {who}: {}; apply changes it back",
                    words::reason(reason)
                ),
            ),
            reason @ Reason::NotAccepted { .. } => item(
                DriftKind::AwaitingAcceptance,
                format!(
                    "grant to {who} waits for its recipient to accept it: {}",
                    words::reason(reason)
                ),
            ),
            Reason::Failed { .. } => item(
                DriftKind::Failed,
                format!(
                    "grant to {who} is FAILED_WORKFLOW{}: apply deletes it and creates it again",
                    grant
                        .and_then(|g| g.status_reason.as_deref())
                        .map(|r| format!(" ({})", r.trim_end_matches('.')))
                        .unwrap_or_default()
                ),
            ),
            // A failed grant a foreign grant covers goes as a duplicate of that grant.
            Reason::Duplicate | Reason::FailedAndCovered { .. } => self.duplicate(a, grant),
            Reason::LicenseUnused { license } => item(
                DriftKind::NotInFile,
                format!(
                    "managed grant {:?} to {who} is on license {license}, which no model in the file uses: apply deletes it",
                    a.grant_name
                ),
            ),
            Reason::NoLongerGranted { model, .. } => self.no_longer(a, grant, model),
            // A renewal: the grant moves to the model's chosen license, where the model
            // grants the same principal again.
            Reason::Renewal { model, .. } if self.wants(model, &a.principal) => {
                self.duplicate(a, grant)
            }
            Reason::Renewal { model, .. } => self.no_longer(a, grant, model),
            reason @ (Reason::Recorded(_) | Reason::Deferred { .. }) => {
                item(recorded_class(a.kind()), words::reason(reason))
            }
        }
    }

    fn action_item(
        &self,
        a: &Action,
        grant: Option<&Grant>,
        kind: DriftKind,
        message: String,
    ) -> DriftItem {
        let subject = Subject {
            model: a.model(),
            license: &a.license_arn,
            principal: &a.principal,
            grant,
            action: Some(a.kind()),
        };
        self.item(kind, subject, message)
    }

    fn wants(&self, key: &ModelKey, p: &Principal) -> bool {
        self.input
            .desired
            .models
            .get(key)
            .is_some_and(|m| m.principals.contains(p))
    }

    fn duplicate(&self, a: &Action, grant: Option<&Grant>) -> DriftItem {
        let who = self.describe(&a.principal);
        let key = a.model().map(ModelKey::as_str).unwrap_or_default();
        let message = format!(
            "grant {:?} to {who} is a second managed grant of model {key} on the same target: apply deletes it",
            a.grant_name
        );
        self.action_item(a, grant, DriftKind::Duplicate, message)
    }

    /// A create ([`Reason::Missing`]): missing, or an account that joined since the last apply.
    fn missing(&self, a: &Action, key: &ModelKey) -> DriftItem {
        let live = self.live();
        let org = &live.organization;
        let who = self.describe(&a.principal);
        let item = |kind, message| self.action_item(a, None, kind, message);
        let history: Vec<&Grant> = live
            .grants
            .iter()
            .filter(|g| {
                g.license_arn == a.license_arn
                    && g.principal == a.principal
                    && g.status.is_terminal()
            })
            .collect();
        if let Some(old) = history.iter().find(|g| self.is_managed(g)) {
            let how = if old.status == GrantStatus::Rejected {
                "was rejected by its recipient"
            } else {
                "was deleted out of band"
            };
            return item(
                DriftKind::Missing,
                format!(
                    "{who} has no grant of model {key}: grant {:?} ({}) {how}; apply creates a new one",
                    old.name, old.arn
                ),
            );
        }
        let targets = self.targets(key);
        // Only a model applied before (it has managed grants) can have been joined since.
        let applied_before = live.grants.iter().any(|g| {
            g.license_arn == a.license_arn && !g.status.is_terminal() && self.is_managed(g)
        });
        if let Principal::Account(account) = &a.principal
            && applied_before
            && !targets.accounts.contains(account)
            && let Some(container) = targets.container(live, &a.principal)
        {
            let path = account_path(org, account).unwrap_or_default();
            return item(
                DriftKind::Membership,
                format!(
                    "{who} is now in {path}, which model {key} reaches account by account \
                     through {} (its except_accounts split it), and has no grant: it joined \
                     since the last apply; apply grants it",
                    self.describe(&container)
                ),
            );
        }
        let replaced = self
            .input
            .plan
            .actions
            .iter()
            .filter(|d| {
                d.kind() == ActionKind::Delete
                    && d.model() == Some(key)
                    && d.principal != a.principal
                    && principal_within(org, &d.principal, &a.principal)
            })
            .count();
        if replaced > 0 && !matches!(a.principal, Principal::Account(_)) {
            return item(
                DriftKind::Membership,
                format!(
                    "{who} no longer holds an account model {key} excludes, so one grant to it \
                     replaces {replaced} grant(s) to its parts: an excluded account left it since the \
                     last apply"
                ),
            );
        }
        item(
            DriftKind::Missing,
            format!("model {key} gives {who} access and no grant exists: apply creates it"),
        )
    }

    /// A delete of a grant the model no longer wants: an account or OU that moved since the
    /// last apply, or a target the file dropped.
    fn no_longer(&self, a: &Action, grant: Option<&Grant>, key: &ModelKey) -> DriftItem {
        let who = self.describe(&a.principal);
        let (kind, message) = match self.moved(a, key) {
            Some(why) => (
                DriftKind::Membership,
                format!("{why}; apply deletes grant {:?}", a.grant_name),
            ),
            None => (
                DriftKind::NotInFile,
                format!(
                    "model {key} no longer grants {who}: apply deletes grant {:?}",
                    a.grant_name
                ),
            ),
        };
        self.action_item(a, grant, kind, message)
    }

    /// Why the principal of a delete is no longer granted because of a change in membership,
    /// if it is one.
    fn moved(&self, a: &Action, key: &ModelKey) -> Option<String> {
        let live = self.live();
        let org = &live.organization;
        let who = self.describe(&a.principal);
        let targets = self.targets(key);
        match &a.principal {
            Principal::Account(account) => match org.accounts.get(account) {
                None => Some(format!("{who} left the organization since the last apply")),
                Some(acct) if !usable(&acct.state) => Some(format!(
                    "{who} is {} and cannot use the model any more",
                    acct.state.as_str()
                )),
                Some(_) if targets.accounts.contains(account) => None,
                Some(_) => {
                    let path = account_path(org, account).unwrap_or_default();
                    match (
                        self.covering(key, &a.principal),
                        targets.container(live, &a.principal),
                    ) {
                        (Some(cover), _) => Some(format!(
                            "{who} is now in {path}, reached through the grant to {}, which replaces its \
                             own grant: it moved since the last apply (or an exclusion left the file)",
                            self.describe(&cover)
                        )),
                        (None, Some(container)) => Some(format!(
                            "{who} is now in {path}, which model {key} reaches through {} but not with a \
                             grant of its own any more",
                            self.describe(&container)
                        )),
                        (None, None) if targets.organization || !targets.ous.is_empty() => {
                            Some(format!(
                                "{who} is now in {path}, outside every OU model {key} targets: it left them \
                         since the last apply"
                            ))
                        }
                        (None, None) => None,
                    }
                }
            },
            Principal::Ou { ou, .. } if !org.ous.contains_key(ou) => {
                Some(format!("OU {ou} no longer exists in the organization"))
            }
            Principal::Ou { ou, .. }
                if targets.ous.contains(ou) || targets.container(live, &a.principal).is_some() =>
            {
                self.split_for(a, key)
            }
            _ => None,
        }
    }

    /// An OU the model targets that now holds an account it excludes: granted by its parts.
    fn split_for(&self, a: &Action, key: &ModelKey) -> Option<String> {
        let org = &self.live().organization;
        let who = self.describe(&a.principal);
        let excluded: Vec<String> = self
            .input
            .desired
            .models
            .get(key)
            .map(|m| {
                m.excluded
                    .iter()
                    .filter(|x| {
                        principal_within(org, &Principal::Account((*x).clone()), &a.principal)
                    })
                    .map(|x| describe_account(org, x))
                    .collect()
            })
            .unwrap_or_default();
        (!excluded.is_empty()).then(|| {
            format!(
                "{who} now holds {}, which model {key} excludes, so it is granted by its parts \
                 instead: the account joined it since the last apply",
                excluded.join(", ")
            )
        })
    }

    fn note(&self, n: &Note) -> DriftItem {
        let grant = self.grant(Some(&n.grant_arn));
        let who = self.describe(&n.principal);
        let item = |kind, message| {
            let subject = Subject {
                model: n.model.as_ref(),
                license: &n.license_arn,
                principal: &n.principal,
                grant,
                action: None,
            };
            let mut i = self.item(kind, subject, message);
            if i.grant.is_none() {
                i.grant = Some(GrantFacts {
                    arn: n.grant_arn.clone(),
                    name: n.grant_name.clone(),
                    status: n.status.clone(),
                    version: String::new(),
                    status_reason: None,
                });
            }
            i
        };
        match n.kind() {
            NoteKind::ForeignConflict => item(
                DriftKind::ForeignOverlap,
                format!(
                    "foreign grant {:?} already gives {who} this model, so no managed grant is created \
                     next to it; adopt it (import --adopt) or delete it",
                    n.grant_name
                ),
            ),
            NoteKind::Foreign => self.foreign(n, grant, item),
            NoteKind::AwaitingAcceptance => item(DriftKind::AwaitingAcceptance, words::note(n)),
            NoteKind::InProgress => item(DriftKind::Stuck, self.stuck_message(n, grant)),
            NoteKind::KeptForContinuity => item(DriftKind::ShareNotInEffect, words::note(n)),
            NoteKind::KeepsOtherGrant => item(DriftKind::ForeignOverlap, words::note(n)),
        }
    }

    fn foreign(
        &self,
        n: &Note,
        grant: Option<&Grant>,
        item: impl Fn(DriftKind, String) -> DriftItem,
    ) -> DriftItem {
        let live = self.live();
        let reached: BTreeSet<AccountId> = self.accounts(&n.principal).into_iter().collect();
        let effective = grant.is_some_and(|g| g.status.is_effective());
        let model = n
            .model
            .as_ref()
            .and_then(|k| self.input.desired.models.get(k));
        let granted: BTreeSet<AccountId> = model
            .map(|m| m.principals.iter().flat_map(|p| self.accounts(p)).collect())
            .unwrap_or_default();
        let overlap: Vec<&AccountId> = reached.intersection(&granted).collect();
        let beyond: Vec<&AccountId> = reached.difference(&granted).collect();
        let list = |v: &[&AccountId]| {
            v.iter()
                .map(|a| describe_account(&live.organization, a))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let status = n.status.as_str();
        if !overlap.is_empty() {
            let mut msg = format!(
                "foreign grant {:?} to {} ({status}) reaches {} that model {} already grants",
                n.grant_name,
                self.describe(&n.principal),
                list(&overlap),
                n.model.as_ref().map(ModelKey::as_str).unwrap_or_default()
            );
            if effective && !beyond.is_empty() {
                msg.push_str(&format!(", and {} that the file does not", list(&beyond)));
            }
            msg.push_str("; it is left alone");
            return item(DriftKind::ForeignOverlap, msg);
        }
        let msg = if effective && !beyond.is_empty() {
            format!(
                "foreign grant {:?} to {} gives {} access the file does not describe; it is left alone",
                n.grant_name,
                self.describe(&n.principal),
                list(&beyond)
            )
        } else {
            format!(
                "foreign grant {:?} to {} ({status}) is not managed and is left alone",
                n.grant_name,
                self.describe(&n.principal)
            )
        };
        item(DriftKind::Foreign, msg)
    }

    fn stuck_message(&self, n: &Note, grant: Option<&Grant>) -> String {
        let status = &n.status;
        let mut msg = format!(
            "grant {:?} to {} is {status}",
            n.grant_name,
            self.describe(&n.principal)
        );
        if let Some(g) = grant {
            msg.push_str(&format!(" at version {}", g.version));
            if let Some(r) = &g.status_reason {
                msg.push_str(&format!(" ({})", r.trim_end_matches('.')));
            }
        }
        msg.push_str(". ");
        let seen = self
            .input
            .baseline
            .and_then(|b| b.stuck.get(&n.grant_arn).map(|s| (b, s)));
        match seen {
            Some((b, (was, version))) if was == status.as_str() => {
                let since = match (b.generated_at, self.input.now) {
                    (Some(then), Some(now)) if now >= then => {
                        format!(", so for at least {}", duration(now - then))
                    }
                    _ => String::new(),
                };
                msg.push_str(&format!(
                    "The baseline already saw it {was} (version {version}){since}. "
                ));
            }
            _ => {}
        }
        msg.push_str(
            "License Manager records no time on grants or grant versions, so the API does not show \
             how long it has been in this status",
        );
        if status == &GrantStatus::PendingWorkflow {
            msg.push_str(
                "; org-wide workflows take 15-30 minutes or longer; if it stays, see \
                 docs/troubleshooting.md",
            );
        }
        msg
    }

    /// Who gained or lost access since the baseline, through grants that did not change.
    fn since_baseline(&self, baseline: &Baseline) -> Vec<DriftItem> {
        let live = self.live();
        let org = &live.organization;
        let mut out = Vec::new();
        for (key, change) in &self.input.plan.access {
            let Some(then) = baseline.access.get(key.as_str()) else {
                continue;
            };
            let Some(model) = self.input.desired.models.get(key) else {
                continue;
            };
            let now: BTreeSet<AccountId> = change.before.iter().cloned().collect();
            let grants: Vec<&Grant> = live
                .grants
                .iter()
                .filter(|g| g.license_arn == model.license && !g.status.is_terminal())
                .collect();
            let reaching = |a: &AccountId| -> Vec<&Grant> {
                grants
                    .iter()
                    .copied()
                    .filter(|g| covered_accounts(org, &g.principal).contains(a))
                    .collect()
            };
            for a in now.difference(then) {
                out.extend(self.gained(key, model, a, &reaching(a)));
            }
            for a in then.difference(&now) {
                // A grant that is not in effect is reported as its own item.
                if reaching(a).is_empty() {
                    out.push(self.lost(key, model, a));
                }
            }
        }
        out
    }

    /// An account with access now and not at the baseline, through an organization or OU grant
    /// (a grant of its own is not membership).
    fn gained(
        &self,
        key: &ModelKey,
        model: &DesiredModel,
        a: &AccountId,
        via: &[&Grant],
    ) -> Option<DriftItem> {
        let org = &self.live().organization;
        let g = via.iter().find(|g| g.status.is_effective())?;
        if matches!(g.principal, Principal::Account(_)) {
            return None;
        }
        Some(DriftItem {
            kind: DriftKind::Membership,
            model: Some(key.clone()),
            license_arn: model.license.clone(),
            principal: None,
            grant: Some(GrantFacts::of(g)),
            accounts: vec![a.clone()],
            action: None,
            message: format!(
                "{} gained access since the baseline through the grant to {}: it joined {} \
                 since (or the file changed)",
                describe_account(org, a),
                self.describe(&g.principal),
                match &g.principal {
                    Principal::Organization { .. } => "the organization".to_owned(),
                    _ => account_path(org, a).unwrap_or_default(),
                }
            ),
        })
    }

    /// An account with access at the baseline that no grant reaches now, and why.
    fn lost(&self, key: &ModelKey, model: &DesiredModel, a: &AccountId) -> DriftItem {
        let org = &self.live().organization;
        let why = match org.accounts.get(a) {
            None => "it left the organization".to_owned(),
            Some(acct) if !usable(&acct.state) => {
                format!("it is {}", acct.state.as_str())
            }
            Some(_) => format!(
                "it is now in {}, which no grant of the model reaches: it left an OU the \
                 model's grants reach (or the file changed)",
                account_path(org, a).unwrap_or_default()
            ),
        };
        DriftItem {
            kind: DriftKind::Membership,
            model: Some(key.clone()),
            license_arn: model.license.clone(),
            principal: None,
            grant: None,
            accounts: vec![a.clone()],
            action: None,
            message: format!(
                "{} lost access since the baseline: {why}",
                describe_account(org, a)
            ),
        }
    }
}

/// The class of an action known only by its words (a plan read back from a file): by its kind.
fn recorded_class(kind: ActionKind) -> DriftKind {
    match kind {
        ActionKind::Create => DriftKind::Missing,
        ActionKind::Activate => DriftKind::DisabledOutOfBand,
        ActionKind::Deactivate => DriftKind::EnabledOutOfBand,
        ActionKind::Update => DriftKind::Changed,
        ActionKind::Delete => DriftKind::NotInFile,
        ActionKind::Recreate => DriftKind::Failed,
        ActionKind::Accept => DriftKind::AwaitingAcceptance,
    }
}

/// `3d 4h`, `2h 5m`, `42m`, `15s`.
pub fn duration(seconds: u64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{seconds}s")
    }
}
