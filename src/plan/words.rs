//! The words of the planner's decisions: the one place where a [`Reason`] or a [`Note`]
//! becomes a sentence. Every format of `render` and `audit::drift` say reasons and notes
//! through these functions, so a decision reads the same everywhere.
//!
//! Here rather than in `render` because `audit` (which `render` imports) needs the same words
//! inside its drift messages; like the rest of `plan`, pure.

use super::types::{
    AccountLabel, ActionKind, Changes, CoverWords, KeptBecause, Note, NoteDetail, Reason,
    TargetStatus,
};
use crate::model::Principal;

/// "account 111122223333", "OU ou-ab12-cdef3456" or "the organization o-abcde12345".
pub fn principal(principal: &Principal) -> String {
    match principal {
        Principal::Organization { org, .. } => format!("the organization {org}"),
        Principal::Ou { ou, .. } => format!("OU {ou}"),
        Principal::Account(account) => format!("account {account}"),
    }
}

/// "the OU grant ou-…", "the organization grant o-…", "the account grant 1111…".
pub fn cover(principal: &Principal) -> String {
    match principal {
        Principal::Organization { org, .. } => format!("the organization grant {org}"),
        Principal::Ou { ou, .. } => format!("the OU grant {ou}"),
        Principal::Account(a) => format!("the account grant {a}"),
    }
}

/// "dev (222233334444)" where the organization names the account, else the id.
pub fn account(account: &AccountLabel) -> String {
    if account.name.is_empty() {
        account.id.to_string()
    } else {
        format!("{} ({})", account.name, account.id)
    }
}

/// "dev (…)", "dev (…) and test (…)", "a, b and c"; "nobody" for none.
pub fn accounts(accounts: &[AccountLabel]) -> String {
    let labels: Vec<String> = accounts.iter().map(account).collect();
    match labels.as_slice() {
        [] => "nobody".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Each difference as a phrase: `name "a" becomes "b"`, `allowed operations gain X and lose Y`.
pub fn changes(changes: &Changes) -> Vec<String> {
    let mut phrases = Vec::new();
    if let Some((from, to)) = &changes.rename {
        phrases.push(format!("name {from:?} becomes {to:?}"));
    }
    if !changes.gained.is_empty() || !changes.lost.is_empty() {
        let mut parts = Vec::new();
        if !changes.gained.is_empty() {
            parts.push(format!("gain {}", changes.gained.join(", ")));
        }
        if !changes.lost.is_empty() {
            parts.push(format!("lose {}", changes.lost.join(", ")));
        }
        phrases.push(format!("allowed operations {}", parts.join(" and ")));
    }
    phrases
}

fn wanted_word(wanted: TargetStatus) -> &'static str {
    match wanted {
        TargetStatus::Active => "active",
        TargetStatus::Disabled => "disabled",
    }
}

/// One sentence for people: why an action is needed.
pub fn reason(reason: &Reason) -> String {
    match reason {
        Reason::Missing {
            model,
            principal: p,
            wanted,
        } => {
            let what = match wanted {
                TargetStatus::Active => "access to",
                TargetStatus::Disabled => "a disabled grant of",
            };
            format!(
                "model {model} gives {} {what} the model and no grant exists yet",
                principal(p)
            )
        }
        Reason::StatusDiffers {
            model,
            live,
            wanted,
            changes: c,
        } => {
            let fixes = changes(c);
            let also = if fixes.is_empty() {
                String::new()
            } else {
                format!(", and its {}", fixes.join(" and its "))
            };
            let wanted = wanted_word(*wanted);
            format!("grant is {live} and model {model} wants it {wanted}{also}")
        }
        Reason::Changed { changes: c } => format!("the grant's {}", changes(c).join(" and its ")),
        Reason::NotAccepted {
            account,
            role,
            wanted,
        } => {
            let then = match wanted {
                TargetStatus::Active => "accepts and activates it",
                TargetStatus::Disabled => "accepts it",
            };
            format!(
                "account {account} has not accepted the grant yet, so apply {then} \
                 in that account through role {role}"
            )
        }
        Reason::Failed { status } => format!(
            "grant is {status} (AWS could not distribute it), so it is deleted and created again"
        ),
        Reason::FailedAndCovered { status, foreign } => {
            format!("grant is {status} and the unmanaged grant {foreign} already covers this pair")
        }
        // The words name no kept grant: they must read the same whether the kept grant is the
        // one planned against or, after a partial apply, the one that replaced it.
        Reason::Duplicate => {
            "another managed grant on this pair is kept, so this duplicate goes".to_owned()
        }
        Reason::NoLongerGranted {
            model,
            principal: p,
        } => format!("model {model} no longer grants {}", principal(p)),
        Reason::Renewal { model, to } => format!(
            "model {model} now grants from license {to}, the chosen license of its product, \
             so this grant moves there"
        ),
        Reason::LicenseUnused { license } => {
            format!("no model in the file uses license {license}")
        }
        Reason::Deferred {
            reason: first,
            revoke,
            covers,
        } => format!("{}; {}", self::reason(first), once(*revoke, covers)),
        Reason::Recorded(words) => words.clone(),
    }
}

/// "deleted once the OU grant ou-… is in effect for dev (222…) and test (333…)", one clause per
/// cover.
fn once(revoke: ActionKind, covers: &[CoverWords]) -> String {
    let verb = match revoke {
        ActionKind::Deactivate => "deactivated",
        _ => "deleted",
    };
    let clauses: Vec<String> = covers
        .iter()
        .map(|c| {
            let new = if c.created { " this plan creates" } else { "" };
            format!(
                "{}{new} is in effect for {}",
                cover(&c.principal),
                accounts(&c.accounts)
            )
        })
        .collect();
    format!("{verb} once {}", clauses.join(", and "))
}

/// One sentence for people: what a note says.
pub fn note(note: &Note) -> String {
    match &note.detail {
        NoteDetail::ForeignConflict { prefix } => format!(
            "grant {:?} already gives {} this license but its name lacks the prefix {prefix:?}, \
             so no managed grant is created next to it; delete it, or rename it to adopt it",
            note.grant_name,
            principal(&note.principal)
        ),
        NoteDetail::Foreign { prefix } => format!(
            "grant {:?} is not managed (its name lacks the prefix {prefix:?}) and is left alone",
            note.grant_name
        ),
        NoteDetail::Settling => {
            "AWS is still distributing or changing this grant; plan again once it settles"
                .to_owned()
        }
        NoteDetail::UnknownStatus => format!(
            "status {} is unknown to this tool, so the grant is left alone",
            note.status
        ),
        NoteDetail::Deleting => "AWS is deleting this grant".to_owned(),
        NoteDetail::DeletedOnceSettled { reason: why } => format!(
            "grant is {} and will be deleted once AWS settles it ({})",
            note.status,
            reason(why)
        ),
        NoteDetail::AwaitingAcceptance { region, wanted } => acceptance(note, region, *wanted),
        NoteDetail::KeptForContinuity {
            planned,
            reason: why,
            accounts: holders,
            because,
        } => {
            let because: std::collections::BTreeSet<String> =
                because.iter().map(kept_because).collect();
            let because: Vec<String> = because.into_iter().collect();
            format!(
                "managed grant {:?} stays ({} was planned: {}): {} hold it ACTIVE and {}; \
                 it is planned again once they are covered",
                note.grant_name,
                planned.as_str(),
                reason(why),
                accounts(holders),
                because.join("; ")
            )
        }
        NoteDetail::KeepsOtherGrant {
            accounts: keepers,
            grants,
            activated,
        } => {
            let names: Vec<String> = grants.iter().map(|g| format!("{g:?}")).collect();
            format!(
                "{} keep their active grant for this product ({}), which this tool does not own: \
                 activating {} uses DISTRIBUTED_GRANTS_ONLY, so those accounts get no active share \
                 of it and any managed grant they hold stays",
                accounts(keepers),
                names.join(", "),
                cover(activated)
            )
        }
        NoteDetail::Recorded { message, .. } => message.clone(),
    }
}

fn kept_because(because: &KeptBecause) -> String {
    match because {
        KeptBecause::NoSwap { cover: c } => format!(
            "the activation of {} keeps other active grants for \
             the product (no ALL_GRANTS_PERMITTED_BY_ISSUER), so its \
             share would never become ACTIVE for them",
            cover(c)
        ),
        KeptBecause::ShareNotActive { cover: c, share } => format!(
            "{} is in effect but their share of it is {}: \
             the one-active-grant rule kept this grant",
            cover(c),
            share
                .as_ref()
                .map_or("missing", crate::model::GrantStatus::as_str)
        ),
    }
}

/// The exact commands the recipient must run when no `recipient_role` lets apply do it.
fn acceptance(note: &Note, region: &str, wanted: TargetStatus) -> String {
    let arn = &note.grant_arn;
    let accept = format!("aws license-manager accept-grant --grant-arn {arn} --region {region}");
    let activate = format!(
        "aws license-manager create-grant-version --grant-arn {arn} --status ACTIVE \
         --client-token activate-{} --region {region}",
        arn.grant_id()
    );
    let commands = match wanted {
        TargetStatus::Active => format!("`{accept}` then `{activate}`"),
        TargetStatus::Disabled => format!("`{accept}`"),
    };
    match &note.principal {
        Principal::Account(account) => format!(
            "account {account} must accept the grant: run {commands} in account {account} \
             (or set settings.recipient_role to let apply do it)"
        ),
        other => format!(
            "the member accounts of {} must accept the grant: each runs {commands}",
            principal(other)
        ),
    }
}
