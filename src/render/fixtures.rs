//! Plans the renderer tests share: empty, small with every action and note kind, and huge.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ModelKey;
use crate::model::{AccountId, DEFAULT_OPERATIONS, GrantArn, GrantStatus, LicenseArn, Principal};
use crate::plan::{
    AccessChange, Action, ActionBody, ActionKind, Note, NoteDetail, NoteKind, Plan, PlannedGrant,
    Reason, TargetStatus,
};

const MANAGEMENT: &str = "999900001111";
const ORG: &str = "o-abcde12345";

pub fn key(s: &str) -> ModelKey {
    ModelKey::parse(s).unwrap()
}

pub fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn license(id: &str) -> LicenseArn {
    format!("arn:aws:license-manager::294406891311:license:l-{id}")
        .parse()
        .unwrap()
}

fn grant(id: &str) -> GrantArn {
    format!("arn:aws:license-manager::{MANAGEMENT}:grant:g-{id}")
        .parse()
        .unwrap()
}

fn acct(id: &str) -> Principal {
    Principal::Account(account(id))
}

fn ou(id: &str) -> Principal {
    Principal::Ou {
        management: account(MANAGEMENT),
        org: ORG.parse().unwrap(),
        ou: id.parse().unwrap(),
    }
}

fn org() -> Principal {
    Principal::Organization {
        management: account(MANAGEMENT),
        org: ORG.parse().unwrap(),
    }
}

fn ops() -> BTreeSet<String> {
    DEFAULT_OPERATIONS.iter().map(|s| s.to_string()).collect()
}

fn name(model: &str, p: &Principal) -> String {
    format!("bedrock-entitlements-{model}-{}", p.short_id())
}

struct A {
    kind: ActionKind,
    model: Option<&'static str>,
    license: &'static str,
    principal: Principal,
    grant: Option<&'static str>,
    status: TargetStatus,
    reason: &'static str,
}

fn action(a: A) -> Action {
    let model = a.model.map(key);
    let grant_name = name(a.model.unwrap_or("gone"), &a.principal);
    let operations = match a.kind {
        ActionKind::Create | ActionKind::Recreate | ActionKind::Update => ops(),
        _ => BTreeSet::new(),
    };
    let client_token = format!("token-{}-{}", a.kind.as_str(), a.principal.short_id());
    let planned = a.grant.map(|g| PlannedGrant {
        arn: grant(g),
        version: "3".to_owned(),
    });
    Action {
        body: ActionBody::new(a.kind, model, planned).expect("a well-formed fixture"),
        license_arn: license(a.license),
        principal: a.principal,
        grant_name,
        operations,
        target_status: a.status,
        reason: Reason::Recorded(a.reason.to_owned()),
        client_token,
        waits_for: Vec::new(),
        activation_override: None,
    }
}

/// A plan with no action, no note and no access change.
pub fn empty() -> Plan {
    Plan {
        live_fingerprint: "sha256:0000".to_owned(),
        config_digest: "sha256:1111".to_owned(),
        ..Plan::default()
    }
}

/// Every action kind, every note kind, an unnamed license, access changes on two models and
/// an unchanged one, and a foreign grant whose name tries to break out of every format.
pub fn mixed() -> Plan {
    use ActionKind::*;
    use TargetStatus::*;
    let actions = vec![
        action(A {
            kind: Create,
            model: Some("claude-sonnet"),
            license: "aaaa1111",
            principal: ou("ou-ab12-cdef3456"),
            grant: None,
            status: Active,
            reason: "the file grants this OU and no grant exists",
        }),
        action(A {
            kind: Create,
            model: Some("claude-sonnet"),
            license: "aaaa1111",
            principal: acct("111122223333"),
            grant: None,
            status: Active,
            reason: "the file grants this account and no grant exists",
        }),
        action(A {
            kind: Recreate,
            model: Some("claude-sonnet"),
            license: "aaaa1111",
            principal: acct("222233334444"),
            grant: Some("f00d0001"),
            status: Active,
            reason: "the grant is FAILED_WORKFLOW: delete it and create it again",
        }),
        action(A {
            kind: Accept,
            model: Some("claude-sonnet"),
            license: "aaaa1111",
            principal: acct("333344445555"),
            grant: Some("f00d0002"),
            status: Active,
            reason: "the grant is PENDING_ACCEPT: accept and activate it as the recipient",
        }),
        action(A {
            kind: Activate,
            model: Some("llama-3"),
            license: "cccc3333",
            principal: ou("ou-ab12-aaaa0000"),
            grant: Some("f00d0003"),
            status: Active,
            reason: "the grant is DISABLED but the file wants it active",
        }),
        action(A {
            kind: Update,
            model: Some("llama-3"),
            license: "cccc3333",
            principal: acct("444455556666"),
            grant: Some("f00d0004"),
            status: Active,
            reason: "allowed operations differ: CreateToken is missing",
        }),
        action(A {
            kind: Deactivate,
            model: Some("titan-text"),
            license: "dddd4444",
            principal: org(),
            grant: Some("f00d0005"),
            status: Disabled,
            reason: "the file sets status: disabled",
        }),
        action(A {
            kind: Delete,
            model: None,
            license: "bbbb2222",
            principal: acct("555566667777"),
            grant: Some("f00d0006"),
            status: Disabled,
            reason: "no model in the file uses this license any more",
        }),
    ];
    let note =
        |kind, model: Option<&str>, lic, principal, g, grant_name: &str, status, msg: &str| Note {
            model: model.map(key),
            license_arn: license(lic),
            principal,
            grant_arn: grant(g),
            grant_name: grant_name.to_owned(),
            status,
            detail: NoteDetail::Recorded {
                kind,
                message: msg.to_owned(),
            },
        };
    let notes = vec![
        note(
            NoteKind::Foreign,
            None,
            "aaaa1111",
            acct("121212121212"),
            "beef0001",
            "<!-- bedrock-entitlements:plan --> | *team-x* \x1b[31mgrant",
            GrantStatus::Active,
            "not managed (no bedrock-entitlements prefix): left alone",
        ),
        note(
            NoteKind::ForeignConflict,
            Some("claude-sonnet"),
            "aaaa1111",
            acct("666677778888"),
            "beef0002",
            "manual-claude-grant",
            GrantStatus::Active,
            "a foreign grant already covers this account: no managed grant is created",
        ),
        note(
            NoteKind::InProgress,
            Some("llama-3"),
            "cccc3333",
            ou("ou-ab12-bbbb1111"),
            "beef0003",
            "bedrock-entitlements-llama-3-ou-ab12-bbbb1111",
            GrantStatus::PendingWorkflow,
            "AWS is still working on this grant: plan again later",
        ),
        note(
            NoteKind::AwaitingAcceptance,
            Some("claude-sonnet"),
            "aaaa1111",
            acct("777788889999"),
            "beef0004",
            "bedrock-entitlements-claude-sonnet-777788889999",
            GrantStatus::PendingAccept,
            "the recipient account must accept this grant",
        ),
    ];
    let ids = |v: &[&str]| v.iter().map(|s| account(s)).collect::<Vec<_>>();
    let access = BTreeMap::from([
        (
            key("claude-sonnet"),
            AccessChange {
                before: ids(&["121212121212", "666677778888"]),
                after: ids(&[
                    "111122223333",
                    "121212121212",
                    "222233334444",
                    "333344445555",
                    "666677778888",
                    "888800001111",
                ]),
            },
        ),
        (
            key("llama-3"),
            AccessChange {
                before: ids(&["444455556666"]),
                after: ids(&["444455556666", "888800002222", "888800003333"]),
            },
        ),
        (
            key("titan-text"),
            AccessChange {
                before: ids(&["111122223333", "444455556666", "888800001111"]),
                after: vec![],
            },
        ),
        (
            key("unchanged"),
            AccessChange {
                before: ids(&["111122223333"]),
                after: ids(&["111122223333"]),
            },
        ),
    ]);
    Plan {
        licenses: actions
            .iter()
            .map(|a: &Action| a.license_arn.clone())
            .collect(),
        actions,
        notes,
        access,
        live_fingerprint: "sha256:5f1a".to_owned(),
        config_digest: "sha256:c0de".to_owned(),
        ..Plan::default()
    }
}

/// 5,000 actions over five models (1,000 accounts each), with large access changes, and 300
/// foreign grants.
pub fn huge() -> Plan {
    let mut actions = Vec::new();
    let mut access = BTreeMap::new();
    for m in 0..5 {
        let model = format!("model-{m}");
        let lic = format!("{m}0000000");
        let mut before = Vec::new();
        let mut after = Vec::new();
        for i in 0..1000usize {
            let id = format!("{:012}", 100_000_000_000 + m * 10_000 + i);
            let principal = acct(&id);
            let (kind, grant_arn) = match i % 10 {
                0..=5 => (ActionKind::Create, None),
                6 => (ActionKind::Activate, Some(grant(&format!("{m}{i:06}")))),
                7 => (ActionKind::Update, Some(grant(&format!("{m}{i:06}")))),
                _ => (ActionKind::Delete, Some(grant(&format!("{m}{i:06}")))),
            };
            match kind {
                ActionKind::Create | ActionKind::Activate => after.push(account(&id)),
                ActionKind::Update => {
                    before.push(account(&id));
                    after.push(account(&id));
                }
                _ => before.push(account(&id)),
            }
            let planned = grant_arn.map(|arn| PlannedGrant {
                arn,
                version: "1".to_owned(),
            });
            let body = ActionBody::new(kind, Some(key(&model)), planned);
            actions.push(Action {
                body: body.expect("a well-formed fixture"),
                license_arn: license(&lic),
                grant_name: name(&model, &principal),
                principal,
                operations: if matches!(kind, ActionKind::Create | ActionKind::Update) {
                    ops()
                } else {
                    BTreeSet::new()
                },
                target_status: if kind == ActionKind::Delete {
                    TargetStatus::Disabled
                } else {
                    TargetStatus::Active
                },
                reason: Reason::Recorded(
                    "the file grants this account and no grant exists".to_owned(),
                ),
                client_token: format!("token-{m}{i:06}"),
                waits_for: Vec::new(),
                activation_override: None,
            });
        }
        access.insert(key(&model), AccessChange { before, after });
    }
    actions.sort_by_key(|a| a.kind().phase());
    let notes = (0..300)
        .map(|i| Note {
            model: None,
            license_arn: license("00000000"),
            principal: acct(&format!("{:012}", 200_000_000_000u64 + i)),
            grant_arn: grant(&format!("ff{i:06}")),
            grant_name: format!("hand-made-grant-{i}"),
            status: GrantStatus::Active,
            detail: NoteDetail::Recorded {
                kind: NoteKind::Foreign,
                message: "not managed (no bedrock-entitlements prefix): left alone".to_owned(),
            },
        })
        .collect();
    Plan {
        licenses: actions
            .iter()
            .map(|a: &Action| a.license_arn.clone())
            .collect(),
        actions,
        notes,
        access,
        live_fingerprint: "sha256:feed".to_owned(),
        config_digest: "sha256:cafe".to_owned(),
        ..Plan::default()
    }
}
