//! The rules: from the desired principals and the live grants, one decision per
//! (license, principal) pair. `docs/status-and-actions.md` is the table these rules implement.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::digest::{config_digest, fingerprint_of};
use super::holdings::Holdings;
use super::simulate::simulate;
use super::types::{
    AccessChange, Action, ActionBody, ActionKind, Changes, LicenseChoice, Note, NoteDetail,
    NoteKind, Plan, PlannedGrant, Reason, TargetStatus,
};
use crate::config::{DesiredStatus, ModelKey};
use crate::model::{AccountId, Grant, GrantStatus, LicenseArn, Live, Principal};
use crate::org::{Desired, DesiredModel, grant_name, is_grantable};

/// The licenses whose grants a plan looks at: the licenses of the desired models, plus (unless
/// `--target` narrowed the run) every license that still has a managed grant, so that grants of
/// models removed from the file are deleted.
pub fn scope(desired: &Desired, live: &Live) -> BTreeSet<LicenseArn> {
    scope_of(desired, live, &grants_by_license(live))
}

/// With `--target`, the licenses of the targeted models plus the other licenses of their
/// products that hold the models' managed grants (a renewal moves them).
fn scope_of(desired: &Desired, live: &Live, grants: &ByLicense<'_>) -> BTreeSet<LicenseArn> {
    let mut licenses = desired.licenses();
    for (license, of_license) in grants {
        if licenses.contains(*license) {
            continue;
        }
        let holds = |g: &&&Grant| !g.status.is_terminal() && is_managed(desired, g);
        let wanted = if desired.targeted_only {
            moved_model(desired, live, license).is_some_and(|m| {
                let own = format!("{}-{}-", desired.grant_name_prefix, m.key);
                of_license
                    .iter()
                    .filter(holds)
                    .any(|g| g.name.starts_with(&own))
            })
        } else {
            of_license.iter().any(|g| holds(&g))
        };
        if wanted {
            licenses.insert((*license).clone());
        }
    }
    licenses
}

/// The desired model whose chosen license is another license of the product of `license`
/// (a renewal): managed grants of that model on `license` move to the chosen one.
pub(super) fn moved_model<'d>(
    desired: &'d Desired,
    live: &Live,
    license: &LicenseArn,
) -> Option<&'d DesiredModel> {
    let product = |arn: &LicenseArn| {
        live.licenses
            .iter()
            .find(|l| &l.arn == arn)
            .map(|l| l.product_sku.as_str())
    };
    let sku = product(license)?;
    desired
        .models
        .values()
        .find(|m| &m.license != license && product(&m.license) == Some(sku))
}

/// Live grants grouped by license, each group in the order of `Live::grants`.
pub(super) type ByLicense<'a> = BTreeMap<&'a LicenseArn, Vec<&'a Grant>>;

/// Groups `live.grants` by license. They come grouped already (see `model::grant_order`), so
/// this costs one map lookup per license, not per grant; any order gives the same groups.
pub(super) fn grants_by_license(live: &Live) -> ByLicense<'_> {
    let mut groups: ByLicense<'_> = BTreeMap::new();
    for run in live.grants.chunk_by(|a, b| a.license_arn == b.license_arn) {
        groups.entry(&run[0].license_arn).or_default().extend(run);
    }
    groups
}

/// Whether the tool owns a grant: [`crate::org::is_managed_name`] with
/// `settings.grant_name_prefix`.
pub(crate) fn is_managed(desired: &Desired, grant: &Grant) -> bool {
    crate::org::is_managed_name(&desired.grant_name_prefix, &grant.name)
}

fn target_status(status: DesiredStatus) -> TargetStatus {
    match status {
        DesiredStatus::Active => TargetStatus::Active,
        DesiredStatus::Disabled => TargetStatus::Disabled,
    }
}

/// Computes the plan that takes `live` to `desired`. See the module docs and
/// `docs/status-and-actions.md` for the rules.
pub fn plan(desired: &Desired, live: &Live) -> Plan {
    let groups = grants_by_license(live);
    let licenses = scope_of(desired, live, &groups);
    let model_of: BTreeMap<&LicenseArn, &DesiredModel> =
        desired.models.values().map(|m| (&m.license, m)).collect();
    let holdings = Holdings::new(live);
    // Organization and OU parents whose shares say they are not in effect are planned as
    // DISABLED (a deactivation ends in WORKFLOW_COMPLETED with every share DISABLED).
    let judged = judged_grants(&holdings, &model_of, &groups);
    let decided = with_judged(&groups, &judged);
    let (live_fingerprint, out) =
        decide_all(desired, live, &licenses, &model_of, &groups, &decided);
    let Output {
        mut actions,
        mut notes,
    } = out;
    super::continuity::apply_rules(desired, &holdings, &mut actions, &mut notes);
    actions.sort_by(|a, b| action_key(a).cmp(&action_key(b)));
    set_tokens(live, &mut actions);
    notes.sort_by(|a, b| note_key(a).cmp(&note_key(b)));

    let mut plan = Plan {
        actions,
        notes,
        access: BTreeMap::new(),
        live_fingerprint,
        config_digest: config_digest(desired),
        license_choices: license_choices(desired),
        expiry: super::expiry::warnings(desired, &holdings, &licenses),
        guardrails: None,
        guardrail_notes: Vec::new(),
        subscriptions: Vec::new(),
        subscription_notes: Vec::new(),
        licenses,
    };
    let after = (!plan.actions.is_empty()).then(|| simulate(live, &plan));
    plan.access = access(desired, &holdings, after.as_ref());
    super::guardrails::add(desired, live, &mut plan);
    plan
}

/// Every (license, principal) pair decided, with the live fingerprint hashed on a second
/// thread meanwhile (it hashes every grant in scope; on a second core it takes no wall time
/// beside the decisions).
fn decide_all<'a>(
    desired: &Desired,
    live: &Live,
    licenses: &BTreeSet<LicenseArn>,
    model_of: &BTreeMap<&LicenseArn, &DesiredModel>,
    groups: &ByLicense<'a>,
    decided: &ByLicense<'a>,
) -> (String, Output) {
    // The fingerprint hashes every grant in scope; on a second core it takes no wall time
    // beside the decisions.
    std::thread::scope(|threads| {
        let fingerprint =
            threads.spawn(|| fingerprint_of(groups, licenses, live.guardrails.as_ref()));
        let mut out = Output::default();
        let none = BTreeSet::new();
        for license in licenses {
            let of_license = decided.get(license).map(Vec::as_slice).unwrap_or_default();
            let model = model_of.get(license).copied();
            let moves_to = model
                .is_none()
                .then(|| moved_model(desired, live, license))
                .flatten();
            let wanted = model.map_or(&none, |m| &m.principals);
            for_each_pair(of_license, wanted, |principal, is_wanted, grants| {
                let pair = Pair {
                    desired,
                    license,
                    principal,
                    model,
                    moves_to,
                    wanted: is_wanted,
                };
                pair.decide(grants, &mut out);
            });
        }
        let fingerprint = fingerprint
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (fingerprint, out)
    })
}

/// Each action's client token, digested from the history of its pair (every grant, any status).
fn set_tokens(live: &Live, actions: &mut [Action]) {
    if actions.is_empty() {
        return;
    }
    // Every grant of each pair, any status: the history each action's token digests.
    let mut history: HashMap<(&LicenseArn, &Principal), Vec<&Grant>> = HashMap::new();
    for grant in &live.grants {
        history
            .entry((&grant.license_arn, &grant.principal))
            .or_default()
            .push(grant);
    }
    for action in actions.iter_mut() {
        let grants = history
            .get(&(&action.license_arn, &action.principal))
            .map(Vec::as_slice)
            .unwrap_or_default();
        action.client_token = super::digest::token_for(action, grants);
    }
}

/// Models whose product has several received licenses, with the rule's choice.
fn license_choices(desired: &Desired) -> Vec<LicenseChoice> {
    desired
        .models
        .values()
        .filter(|m| !m.others.is_empty())
        .map(|m| LicenseChoice {
            model: m.key.clone(),
            chosen: m.license.clone(),
            others: m.others.clone(),
        })
        .collect()
}

/// Copies of the organization and OU grants of wanted pairs that are to be planned as DISABLED
/// (see `Holdings::judged_disabled`).
fn judged_grants(
    holdings: &Holdings<'_>,
    model_of: &BTreeMap<&LicenseArn, &DesiredModel>,
    groups: &ByLicense<'_>,
) -> Vec<Grant> {
    let mut judged = Vec::new();
    if holdings.live().shares.is_empty() {
        return judged;
    }
    for (license, grants) in groups {
        let Some(model) = model_of.get(license) else {
            continue;
        };
        let want_active = model.status == DesiredStatus::Active;
        for grant in grants {
            if model.principals.contains(&grant.principal)
                && holdings.judged_disabled(grant, want_active)
            {
                let mut copy = (*grant).clone();
                copy.status = GrantStatus::Disabled;
                judged.push(copy);
            }
        }
    }
    judged
}

/// `groups` with each judged grant in place of the live one.
fn with_judged<'a>(groups: &ByLicense<'a>, judged: &'a [Grant]) -> ByLicense<'a> {
    if judged.is_empty() {
        return groups.clone();
    }
    let by_arn: HashMap<&crate::model::GrantArn, &Grant> =
        judged.iter().map(|g| (&g.arn, g)).collect();
    groups
        .iter()
        .map(|(license, grants)| {
            let grants = grants
                .iter()
                .map(|g| by_arn.get(&g.arn).copied().unwrap_or(g))
                .collect();
            (*license, grants)
        })
        .collect()
}

/// Calls `f` with every (principal, wanted, non-terminal grants sorted by ARN) pair of one
/// license: each principal that is wanted or holds a grant, in principal order. A merge of the
/// wanted set with the license's grants sorted by principal.
fn for_each_pair<'a>(
    grants: &[&'a Grant],
    wanted: &'a BTreeSet<Principal>,
    mut f: impl FnMut(&'a Principal, bool, &[&'a Grant]),
) {
    let mut live: Vec<&Grant> = grants
        .iter()
        .copied()
        .filter(|g| !g.status.is_terminal())
        .collect();
    live.sort_unstable_by(|a, b| (&a.principal, &a.arn).cmp(&(&b.principal, &b.arn)));
    let mut want = wanted.iter().peekable();
    let mut rest = live.as_slice();
    loop {
        let principal = match (want.peek(), rest.first()) {
            (Some(w), Some(g)) => (*w).min(&g.principal),
            (Some(w), None) => *w,
            (None, Some(g)) => &g.principal,
            (None, None) => break,
        };
        let is_wanted = want.next_if(|w| *w == principal).is_some();
        // A principal holds a grant or two: a scan beats a binary search over the license.
        let held = rest
            .iter()
            .take_while(|g| &g.principal == principal)
            .count();
        f(principal, is_wanted, &rest[..held]);
        rest = &rest[held..];
    }
}

type ActionKey<'a> = (
    super::types::Phase,
    bool,
    Option<&'a ModelKey>,
    &'a LicenseArn,
    &'a Principal,
    ActionKind,
    Option<&'a crate::model::GrantArn>,
);

/// Phase (creates and activations before deletes), then model (unnamed last), then principal.
fn action_key(a: &Action) -> ActionKey<'_> {
    (
        a.kind().phase(),
        a.model().is_none(),
        a.model(),
        &a.license_arn,
        &a.principal,
        a.kind(),
        a.grant_arn(),
    )
}

type NoteKey<'a> = (
    bool,
    Option<&'a ModelKey>,
    &'a LicenseArn,
    &'a Principal,
    &'a crate::model::GrantArn,
    NoteKind,
);

fn note_key(n: &Note) -> NoteKey<'_> {
    (
        n.model.is_none(),
        n.model.as_ref(),
        &n.license_arn,
        &n.principal,
        &n.grant_arn,
        n.kind(),
    )
}

/// Who can use each desired model: the accounts for which its license's grants (managed or
/// not) are in effect, without the grantor and accounts that can no longer use anything.
/// `after` is `None` when the plan changes nothing.
fn access(
    desired: &Desired,
    before: &Holdings<'_>,
    after: Option<&Live>,
) -> BTreeMap<ModelKey, AccessChange> {
    let org = &before.live().organization;
    let ungrantable: BTreeSet<&AccountId> = org
        .accounts
        .values()
        .filter(|a| !is_grantable(&a.state))
        .map(|a| &a.id)
        .collect();
    let reached = |holdings: &Holdings<'_>, license: &LicenseArn| {
        let live = holdings.live();
        let mut accounts: Vec<&AccountId> = Vec::new();
        for grant in holdings.grants_of(license) {
            holdings.for_each_in_effect(grant, |account| accounts.push(account));
        }
        accounts.sort_unstable();
        accounts.dedup();
        accounts
            .into_iter()
            .filter(|a| **a != live.caller && !ungrantable.contains(a))
            .cloned()
            .collect::<Vec<_>>()
    };
    let after = after.map(Holdings::new);
    desired
        .models
        .values()
        .map(|m| {
            let was = reached(before, &m.license);
            let will = match &after {
                Some(holdings) => reached(holdings, &m.license),
                None => was.clone(),
            };
            let change = AccessChange {
                before: was,
                after: will,
            };
            (m.key.clone(), change)
        })
        .collect()
}

#[derive(Default)]
struct Output {
    actions: Vec<Action>,
    notes: Vec<Note>,
}

fn planned(grant: &Grant) -> PlannedGrant {
    PlannedGrant {
        arn: grant.arn.clone(),
        version: grant.version.clone(),
    }
}

/// One (license, principal) pair and what the file says about it.
struct Pair<'a> {
    desired: &'a Desired,
    license: &'a LicenseArn,
    principal: &'a Principal,
    /// The model whose license this is, if any.
    model: Option<&'a DesiredModel>,
    /// For a license no model uses: the model whose chosen license is another license of the
    /// same product (a renewal), whose managed grants here move there.
    moves_to: Option<&'a DesiredModel>,
    /// Whether that model wants this principal.
    wanted: bool,
}

/// How well a managed grant already serves a wanted pair; lower is better. Used to pick the one
/// grant to keep when several managed grants sit on one pair.
fn rank(
    grant: &Grant,
    target: TargetStatus,
    name: &str,
    operations: &BTreeSet<String>,
) -> (u8, bool, bool) {
    let status = match (&grant.status, target) {
        (GrantStatus::Active | GrantStatus::WorkflowCompleted, TargetStatus::Active) => 0,
        (GrantStatus::Disabled, TargetStatus::Disabled) => 0,
        (GrantStatus::Active | GrantStatus::WorkflowCompleted | GrantStatus::Disabled, _) => 1,
        (GrantStatus::PendingAccept, _) => 2,
        (GrantStatus::PendingWorkflow, _) => 3,
        (GrantStatus::FailedWorkflow, _) => 5,
        _ => 4,
    };
    (status, grant.name != name, &grant.operations != operations)
}

impl Pair<'_> {
    fn wanted(&self) -> Option<&DesiredModel> {
        self.model.filter(|_| self.wanted)
    }

    fn model_key(&self) -> Option<ModelKey> {
        self.model.or(self.moves_to).map(|m| m.key.clone())
    }

    fn decide(&self, grants: &[&Grant], out: &mut Output) {
        let managed = || {
            grants
                .iter()
                .copied()
                .filter(|g| is_managed(self.desired, g))
        };
        let foreign = grants.iter().filter(|g| !is_managed(self.desired, g));
        let wanted = self.wanted();

        // Foreign grants are reported, never acted on. One that works (or may still work) on a
        // wanted pair stands in for the managed grant: no duplicate is created next to it.
        let mut blocking = None;
        for grant in foreign {
            let blocks = wanted.is_some() && grant.status != GrantStatus::FailedWorkflow;
            if blocks && blocking.is_none() {
                blocking = Some(*grant);
            }
            let prefix = self.desired.grant_name_prefix.clone();
            let detail = if blocks {
                NoteDetail::ForeignConflict { prefix }
            } else {
                NoteDetail::Foreign { prefix }
            };
            out.notes.push(self.note(grant, detail));
        }

        let Some(model) = wanted else {
            let reason = match (self.model, self.moves_to) {
                (Some(m), _) => Reason::NoLongerGranted {
                    model: m.key.clone(),
                    principal: self.principal.clone(),
                },
                (None, Some(m)) => Reason::Renewal {
                    model: m.key.clone(),
                    to: m.license.clone(),
                },
                (None, None) => Reason::LicenseUnused {
                    license: self.license.clone(),
                },
            };
            for grant in managed() {
                self.retire(grant, &reason, out);
            }
            return;
        };

        let target = target_status(model.status);
        let name = grant_name(&self.desired.grant_name_prefix, &model.key, self.principal);
        let operations = &self.desired.operations;
        let best = managed()
            .filter(|g| g.status != GrantStatus::PendingDelete)
            .min_by(|a, b| {
                (rank(a, target, &name, operations), &a.arn)
                    .cmp(&(rank(b, target, &name, operations), &b.arn))
            });
        for grant in managed() {
            if best.map(|b| &b.arn) != Some(&grant.arn) {
                self.retire(grant, &Reason::Duplicate, out);
            }
        }

        match best {
            None if blocking.is_none() => {
                let reason = Reason::Missing {
                    model: model.key.clone(),
                    principal: self.principal.clone(),
                    wanted: target,
                };
                let body = ActionBody::Create {
                    model: model.key.clone(),
                };
                out.actions.push(self.action(body, name, target, reason));
            }
            None => {}
            Some(grant) => self.decide_kept(grant, model, name, target, blocking, out),
        }
    }

    /// What the one managed grant kept on a wanted pair needs.
    fn decide_kept(
        &self,
        grant: &Grant,
        model: &DesiredModel,
        name: String,
        target: TargetStatus,
        blocking: Option<&Grant>,
        out: &mut Output,
    ) {
        let changes = self.changes(grant, &name);
        let status = &grant.status;
        // Every kind planned here acts on the kept grant, for this model.
        type Make = fn(ModelKey, PlannedGrant) -> ActionBody;
        let act = |make: Make, reason: Reason, out: &mut Output| {
            let body = make(model.key.clone(), planned(grant));
            out.actions
                .push(self.action(body, name.clone(), target, reason));
        };
        let differs = |make: Make, out: &mut Output| {
            let reason = Reason::StatusDiffers {
                model: model.key.clone(),
                live: status.clone(),
                wanted: target,
                changes: changes.clone(),
            };
            act(make, reason, out);
        };
        match (status, target) {
            (GrantStatus::Active | GrantStatus::WorkflowCompleted, TargetStatus::Disabled) => {
                differs(|model, grant| ActionBody::Deactivate { model, grant }, out);
            }
            (GrantStatus::Disabled, TargetStatus::Active) => {
                differs(|model, grant| ActionBody::Activate { model, grant }, out);
            }
            (GrantStatus::Active | GrantStatus::WorkflowCompleted | GrantStatus::Disabled, _) => {
                if !changes.is_empty() {
                    let reason = Reason::Changed {
                        changes: changes.clone(),
                    };
                    act(
                        |model, grant| ActionBody::Update { model, grant },
                        reason,
                        out,
                    );
                }
            }
            (GrantStatus::PendingAccept, _) => match self.accept_by_role(target) {
                Some(reason) => act(
                    |model, grant| ActionBody::Accept { model, grant },
                    reason,
                    out,
                ),
                None => out.notes.push(self.note(grant, self.awaiting(target))),
            },
            (GrantStatus::FailedWorkflow, _) => match blocking {
                Some(foreign) => out.actions.push(self.retire_action(
                    grant,
                    Reason::FailedAndCovered {
                        status: status.clone(),
                        foreign: foreign.arn.clone(),
                    },
                )),
                None => {
                    let reason = Reason::Failed {
                        status: status.clone(),
                    };
                    act(
                        |model, grant| ActionBody::Recreate { model, grant },
                        reason,
                        out,
                    );
                }
            },
            (GrantStatus::PendingWorkflow, _) => {
                out.notes.push(self.note(grant, NoteDetail::Settling));
            }
            _ => out.notes.push(self.note(grant, NoteDetail::UnknownStatus)),
        }
    }

    /// A grant waiting for its recipient, accepted by apply through `settings.recipient_role`
    /// (account principals only); `None` when the recipient must accept it.
    fn accept_by_role(&self, target: TargetStatus) -> Option<Reason> {
        match (self.principal, &self.desired.recipient_role) {
            (Principal::Account(account), Some(role)) => Some(Reason::NotAccepted {
                account: account.clone(),
                role: role.clone(),
                wanted: target,
            }),
            _ => None,
        }
    }

    /// The note with the commands the recipient runs.
    fn awaiting(&self, target: TargetStatus) -> NoteDetail {
        NoteDetail::AwaitingAcceptance {
            region: self.desired.home_region.clone(),
            wanted: target,
        }
    }

    /// What differs between the grant and the wanted name and operations.
    fn changes(&self, grant: &Grant, name: &str) -> Changes {
        let wanted = &self.desired.operations;
        let rename = (grant.name != name).then(|| (grant.name.clone(), name.to_owned()));
        // Most kept grants already carry the file's operations: one comparison says so.
        if grant.operations == *wanted {
            return Changes {
                rename,
                ..Changes::default()
            };
        }
        Changes {
            rename,
            gained: wanted.difference(&grant.operations).cloned().collect(),
            lost: grant.operations.difference(wanted).cloned().collect(),
        }
    }

    /// A managed grant that should go: deleted, unless AWS is still working on it.
    fn retire(&self, grant: &Grant, reason: &Reason, out: &mut Output) {
        match &grant.status {
            GrantStatus::PendingDelete => out.notes.push(self.note(grant, NoteDetail::Deleting)),
            GrantStatus::PendingWorkflow | GrantStatus::Other(_) => {
                let detail = NoteDetail::DeletedOnceSettled {
                    reason: reason.clone(),
                };
                out.notes.push(self.note(grant, detail));
            }
            _ => out.actions.push(self.retire_action(grant, reason.clone())),
        }
    }

    fn retire_action(&self, grant: &Grant, reason: Reason) -> Action {
        Action {
            body: ActionBody::Delete {
                model: self.model_key(),
                grant: planned(grant),
            },
            license_arn: self.license.clone(),
            principal: self.principal.clone(),
            grant_name: grant.name.clone(),
            operations: BTreeSet::new(),
            target_status: TargetStatus::Disabled,
            reason,
            client_token: String::new(),
            waits_for: Vec::new(),
            activation_override: None,
        }
    }

    fn action(
        &self,
        body: ActionBody,
        name: String,
        target_status: TargetStatus,
        reason: Reason,
    ) -> Action {
        Action {
            body,
            license_arn: self.license.clone(),
            principal: self.principal.clone(),
            grant_name: name,
            operations: self.desired.operations.clone(),
            target_status,
            reason,
            client_token: String::new(),
            waits_for: Vec::new(),
            activation_override: None,
        }
    }

    fn note(&self, grant: &Grant, detail: NoteDetail) -> Note {
        Note {
            model: self.model_key(),
            license_arn: self.license.clone(),
            principal: self.principal.clone(),
            grant_arn: grant.arn.clone(),
            grant_name: grant.name.clone(),
            status: grant.status.clone(),
            detail,
        }
    }
}
