//! What the plan's text and Markdown views share: symbols, the summary sentence, grouping actions by
//! model, the effective-access diff and the commands a recipient runs by hand.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

use crate::config::ModelKey;
use crate::model::{AccountId, GrantArn, LicenseArn, Principal};
use crate::plan::{AccessChange, Action, ActionKind, Note, NoteKind, Plan};

/// Every action kind, in the order summaries list them.
pub(crate) use crate::plan::saved::ACTION_KINDS as ALL_KINDS;

/// The home region used in hand-run commands when the grant ARN does not name one.
const DEFAULT_HOME_REGION: &str = "us-east-1";

/// The sentence printed when a plan has no action.
pub(crate) const NO_CHANGES: &str = "No changes. Live grants match entitlements.yaml.";

/// Terraform's symbols: `+` adds, `~` changes in place, `-` removes, `-/+` replaces.
pub(crate) fn symbol(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "+",
        ActionKind::Activate | ActionKind::Deactivate | ActionKind::Update | ActionKind::Accept => {
            "~"
        }
        ActionKind::Delete => "-",
        ActionKind::Recreate => "-/+",
    }
}

/// `Plan: 3 to create, 1 to activate, 0 to update, 2 to delete.` Create, activate, update and
/// delete are always named; the rarer kinds only when the plan has some. An empty plan gives
/// [`NO_CHANGES`].
pub(crate) fn summary_line(plan: &Plan) -> String {
    if plan.actions.is_empty() {
        return NO_CHANGES.to_owned();
    }
    let counts = plan.summary();
    let parts: Vec<String> = ALL_KINDS
        .iter()
        .filter_map(|&kind| {
            let n = counts.get(&kind).copied().unwrap_or(0);
            let always = matches!(
                kind,
                ActionKind::Create | ActionKind::Activate | ActionKind::Update | ActionKind::Delete
            );
            (always || n > 0).then(|| format!("{n} to {}", kind.as_str()))
        })
        .collect();
    format!("Plan: {}.", parts.join(", "))
}

/// `account 111122223333`, `ou ou-ab12-cdef3456`, `organization o-abcde12345`.
pub(crate) fn principal_short(p: &Principal) -> String {
    format!("{} {}", p.kind(), p.short_id())
}

/// Which part of the plan a group of actions belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SectionKey {
    /// A model the file names.
    Model(ModelKey),
    /// Managed grants of a license no model in the file names any more.
    Unnamed(LicenseArn),
}

/// The actions and access change of one model (or one unnamed license).
#[derive(Debug)]
pub(crate) struct Section<'p> {
    pub key: SectionKey,
    /// The licenses the actions concern (one, unless the file switched a model's license).
    pub licenses: BTreeSet<&'p LicenseArn>,
    /// In the plan's (execution) order.
    pub actions: Vec<&'p Action>,
    /// Present only when the set of accounts with access changes.
    pub access: Option<AccessDiff>,
}

impl Section<'_> {
    /// `model claude-sonnet` or `grants of a model no longer in the file`.
    pub fn title(&self) -> String {
        match &self.key {
            SectionKey::Model(m) => format!("model {m}"),
            SectionKey::Unnamed(_) => "managed grants no model in the file names".to_owned(),
        }
    }
}

/// Groups the plan by model: models the file names in key order, then licenses no model
/// names. A model appears when it has an action or its effective access changes.
pub(crate) fn sections(plan: &Plan) -> Vec<Section<'_>> {
    let mut map: BTreeMap<SectionKey, Section<'_>> = BTreeMap::new();
    for action in &plan.actions {
        let key = match action.model() {
            Some(m) => SectionKey::Model(m.clone()),
            None => SectionKey::Unnamed(action.license_arn.clone()),
        };
        let section = map.entry(key.clone()).or_insert_with(|| Section {
            key,
            licenses: BTreeSet::new(),
            actions: Vec::new(),
            access: None,
        });
        section.licenses.insert(&action.license_arn);
        section.actions.push(action);
    }
    for (model, change) in &plan.access {
        let Some(diff) = access_diff(model.as_str(), change) else {
            continue;
        };
        let key = SectionKey::Model(model.clone());
        map.entry(key.clone())
            .or_insert_with(|| Section {
                key,
                licenses: BTreeSet::new(),
                actions: Vec::new(),
                access: None,
            })
            .access = Some(diff);
    }
    map.into_values().collect()
}

/// The change in who can use one model, as a unified diff of the sorted account lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccessDiff {
    pub gained: usize,
    pub lost: usize,
    /// `--- MODEL: accounts before` / `+++ MODEL: accounts after` and the hunks, one line
    /// per account, every line ending in `\n`.
    pub unified: String,
}

impl AccessDiff {
    /// `2 accounts gain access, 1 loses it`.
    pub fn sentence(&self) -> String {
        let gain = match self.gained {
            0 => "no account gains access".to_owned(),
            1 => "1 account gains access".to_owned(),
            n => format!("{n} accounts gain access"),
        };
        let lose = match self.lost {
            0 => "none loses it".to_owned(),
            1 => "1 loses it".to_owned(),
            n => format!("{n} lose it"),
        };
        format!("{gain}, {lose}")
    }
}

/// `None` when the same accounts have access before and after.
pub(crate) fn access_diff(model: &str, change: &AccessChange) -> Option<AccessDiff> {
    let before: BTreeSet<&AccountId> = change.before.iter().collect();
    let after: BTreeSet<&AccountId> = change.after.iter().collect();
    if before == after {
        return None;
    }
    let lines = |set: &BTreeSet<&AccountId>| -> String {
        set.iter().map(|a| format!("{a}\n")).collect::<String>()
    };
    let (old, new) = (lines(&before), lines(&after));
    let diff = TextDiff::from_lines(old.as_str(), new.as_str());
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{model}: accounts with access before"),
            &format!("{model}: accounts with access after"),
        )
        .to_string();
    Some(AccessDiff {
        gained: after.difference(&before).count(),
        lost: before.difference(&after).count(),
        unified,
    })
}

/// What a note is, in a few words.
pub(crate) fn note_label(kind: &NoteKind) -> &'static str {
    match kind {
        NoteKind::ForeignConflict => "conflict",
        NoteKind::AwaitingAcceptance => "awaiting acceptance",
        NoteKind::InProgress => "in progress",
        NoteKind::Foreign => "foreign grant",
        NoteKind::KeptForContinuity => "kept for continuity",
        NoteKind::KeepsOtherGrant => "keeps other grant",
    }
}

/// Notes sorted so that what needs a person comes first; the plan's order is kept within a kind.
pub(crate) fn sorted_notes(plan: &Plan) -> Vec<&Note> {
    let rank = |k: &NoteKind| match k {
        NoteKind::ForeignConflict => 0,
        NoteKind::AwaitingAcceptance => 1,
        NoteKind::KeptForContinuity => 2,
        NoteKind::KeepsOtherGrant => 3,
        NoteKind::InProgress => 4,
        NoteKind::Foreign => 5,
    };
    let mut notes: Vec<&Note> = plan.notes.iter().collect();
    notes.sort_by_key(|n| rank(&n.kind()));
    notes
}

/// The region part of a grant ARN (`arn:aws:license-manager:REGION:ACCOUNT:grant:g-…`), when
/// the ARN has one.
fn grant_region(arn: &GrantArn) -> Option<&str> {
    arn.as_str().split(':').nth(3).filter(|r| !r.is_empty())
}

/// How a recipient accepts a grant by hand: where to run what.
pub(crate) struct AcceptHint {
    /// `to accept it, run in account 111122223333:` and the like.
    pub intro: String,
    /// AWS CLI commands, one per line.
    pub commands: Vec<String>,
}

/// The AWS CLI commands that accept and activate a grant waiting on its recipient. An account
/// grant is accepted under its own ARN; under an OU or organization grant each account has
/// received a grant of its own, found by license and grantor.
pub(crate) fn accept_hint(note: &Note) -> AcceptHint {
    let arn = &note.grant_arn;
    let region = grant_region(arn).unwrap_or(DEFAULT_HOME_REGION);
    let accept = |target: &str, token: &str| {
        vec![
            format!("aws license-manager accept-grant --region {region} --grant-arn {target}"),
            format!(
                "aws license-manager create-grant-version --region {region} --grant-arn {target} \
                 --status ACTIVE --client-token activate-{token}"
            ),
        ]
    };
    match &note.principal {
        Principal::Account(a) => AcceptHint {
            intro: format!("to accept it, run in account {a}:"),
            commands: accept(arn.as_str(), arn.grant_id()),
        },
        other => {
            let mut commands = vec![format!(
                "aws license-manager list-received-grants --region {region} \
                 --filters Name=LicenseArn,Values={} Name=GranterAccountId,Values={}",
                note.license_arn,
                arn.grantor_account()
            )];
            commands.extend(accept("RECEIVED_GRANT_ARN", "RECEIVED_GRANT_ID"));
            AcceptHint {
                intro: format!(
                    "to accept it, run in each account of {} with the ARN of the grant it received:",
                    other.short_id()
                ),
                commands,
            }
        }
    }
}

/// Plain-text lines, one per fact, for what the plan says before its actions: expiring and
/// expired licenses (first), then each model's license choice among several.
pub(crate) fn heads_up(plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    for w in &plan.expiry {
        let model = w
            .model
            .as_ref()
            .map_or_else(String::new, |m| format!(" (model {m})"));
        let accounts: Vec<&str> = w.accounts.iter().map(|a| a.as_str()).collect();
        let who = if accounts.is_empty() {
            "no account".to_owned()
        } else {
            accounts.join(", ")
        };
        let when = if w.expired {
            format!("expired on {} ({} days ago)", w.ends, -w.days_left)
        } else {
            format!("expires on {} (in {} days)", w.ends, w.days_left)
        };
        lines.push(format!(
            "warning: license {}{model} {when}; would lose access: {who}",
            w.license_arn
        ));
    }
    for c in &plan.license_choices {
        let others: Vec<String> = c
            .others
            .iter()
            .map(|o| format!("{} ({})", o.arn, o.lost.describe()))
            .collect();
        lines.push(format!(
            "model {} grants from license {}; not chosen: {}",
            c.model,
            c.chosen,
            others.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_region_reads_the_arn() {
        let with: GrantArn = "arn:aws:license-manager:eu-west-1:111122223333:grant:g-abc"
            .parse()
            .unwrap();
        let without: GrantArn = "arn:aws:license-manager::111122223333:grant:g-abc"
            .parse()
            .unwrap();
        assert_eq!(grant_region(&with), Some("eu-west-1"));
        assert_eq!(grant_region(&without), None);
    }

    fn awaiting(principal: &str) -> Note {
        Note {
            model: None,
            license_arn: "arn:aws:license-manager::294406891311:license:l-abc"
                .parse()
                .unwrap(),
            principal: principal.parse().unwrap(),
            grant_arn: "arn:aws:license-manager::999900001111:grant:g-123"
                .parse()
                .unwrap(),
            grant_name: "n".to_owned(),
            status: crate::model::GrantStatus::PendingAccept,
            detail: crate::plan::NoteDetail::Recorded {
                kind: NoteKind::AwaitingAcceptance,
                message: "m".to_owned(),
            },
        }
    }

    #[test]
    fn accept_hint_for_an_account_names_its_grant() {
        let hint = accept_hint(&awaiting("arn:aws:iam::111122223333:root"));
        assert_eq!(hint.intro, "to accept it, run in account 111122223333:");
        assert_eq!(
            hint.commands,
            [
                "aws license-manager accept-grant --region us-east-1 \
                 --grant-arn arn:aws:license-manager::999900001111:grant:g-123",
                "aws license-manager create-grant-version --region us-east-1 \
                 --grant-arn arn:aws:license-manager::999900001111:grant:g-123 \
                 --status ACTIVE --client-token activate-g-123",
            ]
        );
    }

    #[test]
    fn accept_hint_for_an_ou_finds_each_received_grant() {
        let hint = accept_hint(&awaiting(
            "arn:aws:organizations::999900001111:ou/o-abcde12345/ou-ab12-cdef3456",
        ));
        assert_eq!(
            hint.intro,
            "to accept it, run in each account of ou-ab12-cdef3456 with the ARN of the grant it received:"
        );
        assert_eq!(
            hint.commands[0],
            "aws license-manager list-received-grants --region us-east-1 --filters \
             Name=LicenseArn,Values=arn:aws:license-manager::294406891311:license:l-abc \
             Name=GranterAccountId,Values=999900001111"
        );
        assert!(hint.commands[1].ends_with("--grant-arn RECEIVED_GRANT_ARN"));
    }

    #[test]
    fn access_diff_counts_and_skips_unchanged() {
        let acct = |s: &str| -> AccountId { s.parse().unwrap() };
        let same = AccessChange {
            before: vec![acct("111111111111")],
            after: vec![acct("111111111111")],
        };
        assert_eq!(access_diff("m", &same), None);
        let change = AccessChange {
            before: vec![acct("111111111111"), acct("222222222222")],
            after: vec![
                acct("222222222222"),
                acct("333333333333"),
                acct("444444444444"),
            ],
        };
        let diff = access_diff("m", &change).unwrap();
        assert_eq!((diff.gained, diff.lost), (2, 1));
        assert_eq!(
            diff.unified,
            "--- m: accounts with access before\n\
             +++ m: accounts with access after\n\
             @@ -1,2 +1,3 @@\n\
             -111111111111\n \
             222222222222\n\
             +333333333333\n\
             +444444444444\n"
        );
        assert_eq!(diff.sentence(), "2 accounts gain access, 1 loses it");
    }
}
