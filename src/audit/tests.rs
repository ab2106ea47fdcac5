//! Unit tests of the audits on the resolver's fixture organization (see `org::tests`):
//! import round trips through the planner, the access matrix's reasons, drift kinds.

use std::collections::BTreeSet;

use super::*;
use crate::model::{Grant, GrantStatus, Live, Principal};
use crate::org::tests::{MGMT, fixture_live, license_arn};
use crate::org::{ResolveOptions, resolve};
use crate::plan;

fn grant(n: u32, name: &str, license: &str, principal: &str, status: GrantStatus) -> Grant {
    Grant {
        arn: format!("arn:aws:license-manager::{MGMT}:grant:g-{n:08x}")
            .parse()
            .unwrap(),
        name: name.to_owned(),
        license_arn: license_arn(license).parse().unwrap(),
        principal: principal.parse().unwrap(),
        status,
        status_reason: None,
        version: "1".to_owned(),
        operations: crate::config::Settings::default().allowed_operations,
        parent_arn: license_arn(license),
        home_region: "us-east-1".to_owned(),
    }
}

fn ou(id: &str) -> String {
    format!("arn:aws:organizations::{MGMT}:ou/o-aaaaaaaaaa/{id}")
}

fn acct(id: &str) -> String {
    format!("arn:aws:iam::{id}:root")
}

/// Live grants on the fixture: managed OU and account grants, a redundant managed account grant
/// inside a granted OU, foreign grants (one on an ambiguous OU path, one on a license no
/// managed grant uses).
fn live() -> Live {
    let mut live = fixture_live();
    live.grants = vec![
        grant(
            1,
            "bedrock-entitlements-sonnet-ou-root-workload",
            "aaaa",
            &ou("ou-root-workload"),
            GrantStatus::WorkflowCompleted,
        ),
        grant(
            2,
            "bedrock-entitlements-sonnet-777777777777",
            "aaaa",
            &acct("777777777777"),
            GrantStatus::Active,
        ),
        grant(
            3,
            "bedrock-entitlements-sonnet-222222222222",
            "aaaa",
            &acct("222222222222"),
            GrantStatus::Active,
        ),
        grant(
            4,
            "hand-made-twin",
            "bbbb",
            &ou("ou-root-twintwi1"),
            GrantStatus::Active,
        ),
        grant(
            5,
            "hand-made-gone",
            "bbbb",
            &acct("666666666666"),
            GrantStatus::Deleted,
        ),
    ];
    live
}

fn plan_of(config: &crate::config::Config, live: &Live) -> plan::Plan {
    let desired = resolve(config, live, &ResolveOptions::default()).expect("the file resolves");
    plan::plan(&desired, live)
}

#[test]
fn import_round_trips_through_the_planner() {
    let live = live();
    let managed = import(&live, &ImportOptions::default());
    let keys: Vec<&str> = managed
        .config
        .models
        .iter()
        .map(|m| m.key.value.as_str())
        .collect();
    assert_eq!(
        keys,
        ["sonnet"],
        "the key comes from the managed grant names"
    );
    // The account grant inside the granted OU cannot be written: it is named in a warning.
    assert!(
        managed
            .warnings
            .iter()
            .any(|w| w.contains("bedrock-entitlements-sonnet-222222222222")
                && w.contains("redundant")),
        "{:?}",
        managed.warnings
    );
    let p = plan_of(&managed.config, &live);
    let kinds: Vec<_> = p
        .actions
        .iter()
        .map(|a| (a.kind(), a.principal.short_id().to_owned()))
        .collect();
    assert_eq!(
        kinds,
        [(plan::ActionKind::Delete, "222222222222".to_owned())]
    );

    let mut tidy = live.clone();
    tidy.grants
        .retain(|g| g.name != "bedrock-entitlements-sonnet-222222222222");
    for opts in [
        ImportOptions::default(),
        ImportOptions {
            include_unmanaged: true,
            ..ImportOptions::default()
        },
    ] {
        let imported = import(&tidy, &opts);
        assert!(
            plan_of(&imported.config, &tidy).is_empty(),
            "{opts:?}: {:?}",
            imported.config
        );
        // What to_yaml writes reads back to the same file.
        let text = crate::config::to_yaml(&imported.config);
        let back = crate::config::parse(&text).expect("the written file parses");
        assert!(plan_of(&back, &tidy).is_empty(), "{text}");
    }
    let all = import(
        &tidy,
        &ImportOptions {
            include_unmanaged: true,
            adopt: true,
            ..ImportOptions::default()
        },
    );
    let text = crate::config::to_yaml(&all.config);
    assert!(text.contains("  llama:\n    product_sku: prod-b\n    grant_to:\n      organizational_units:\n        - ou-root-twintwi1\n"), "an ambiguous path is written as the id:\n{text}");
    let renames: Vec<(&str, &str)> = all
        .adoptions
        .iter()
        .map(|a| (a.old_name.as_str(), a.new_name.as_str()))
        .collect();
    assert_eq!(
        renames,
        [(
            "hand-made-twin",
            "bedrock-entitlements-llama-ou-root-twintwi1"
        )]
    );
}

#[test]
fn access_cells_say_why() {
    let live = live();
    let config = crate::config::parse(
        "version: 1\nmodels:\n  sonnet:\n    product_sku: prod-a\n    grant_to:\n      organizational_units: [Root/Workloads]\n    except_accounts: [\"444444444444\"]\n",
    )
    .unwrap();
    let desired = resolve(&config, &live, &ResolveOptions::default()).unwrap();
    let m = matrix(&live, Some(&desired), "bedrock-entitlements");
    let col = m
        .models
        .iter()
        .position(|x| x.key.as_str() == "sonnet")
        .unwrap();
    let row = |id: &str| m.rows.iter().find(|r| r.account.as_str() == id).unwrap();
    let state = |id: &str| row(id).cells[col].state;
    assert_eq!(state(MGMT), CellState::Grantor);
    assert_eq!(state("333333333333"), CellState::Granted);
    assert_eq!(state("555555555555"), CellState::Unusable);
    // 444… is excluded by the file but the live OU grant still reaches it.
    let web = &row("444444444444").cells[col];
    assert_eq!(
        (web.state, &web.wanted),
        (CellState::Granted, &Wanted::Excluded)
    );
    let why = explain(&m, row("444444444444"), col);
    assert!(
        why.iter()
            .any(|l| l.starts_with("drift: model sonnet excludes the account")),
        "{why:?}"
    );
    let why = explain(&m, row("666666666666"), col);
    assert_eq!(
        why,
        [
            "no: no grant covers it: model sonnet targets neither the account, nor an OU that contains it, nor the organization"
        ]
    );
    // The llama license has only a foreign grant: its column has a derived key, not in the file.
    let llama = m
        .models
        .iter()
        .find(|x| x.license.as_str() == license_arn("bbbb"))
        .unwrap();
    assert!(!llama.in_file);
    assert_eq!(llama.key.as_str(), "llama");
}

#[test]
fn drift_sorts_plan_actions_and_notes_into_kinds() {
    let mut live = live();
    live.grants[0].status = GrantStatus::Disabled;
    live.grants[1].status = GrantStatus::PendingWorkflow;
    let config = crate::config::parse(
        "version: 1\nmodels:\n  sonnet:\n    product_sku: prod-a\n    grant_to:\n      organizational_units: [Root/Workloads]\n      accounts: [\"777777777777\", \"666666666666\"]\n  llama:\n    product_sku: prod-b\n    grant_to:\n      organizational_units: [ou-root-twintwi1]\n",
    )
    .unwrap();
    let desired = resolve(&config, &live, &ResolveOptions::default()).unwrap();
    let plan = plan::plan(&desired, &live);
    let report = classify(&DriftInput {
        config: &config,
        desired: &desired,
        live: &live,
        plan: &plan,
        baseline: None,
        now: None,
    });
    let got: BTreeSet<(DriftKind, String)> = report
        .items
        .iter()
        .map(|i| {
            (
                i.kind,
                i.principal
                    .as_ref()
                    .map(Principal::short_id)
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(DriftKind, String)> = [
        (DriftKind::DisabledOutOfBand, "ou-root-workload"),
        (DriftKind::Stuck, "777777777777"),
        (DriftKind::Missing, "666666666666"),
        // Its own grant is redundant next to the Workloads grant: it moved into Workloads since
        // the last apply, or an exclusion left the file; the grants cannot tell which.
        (DriftKind::Membership, "222222222222"),
        (DriftKind::ForeignOverlap, "ou-root-twintwi1"),
    ]
    .into_iter()
    .map(|(k, s)| (k, s.to_owned()))
    .collect();
    assert_eq!(got, want);
    assert!(report.has_drift());
    assert_eq!(
        report.items.iter().filter(|i| i.action.is_none()).count(),
        2
    );
}

/// The drift class of an action is its planner decision: the same delete of the same grant
/// is a duplicate, a license no model uses, or a membership change, as its reason says.
#[test]
fn drift_classes_follow_the_planners_reason() {
    use crate::plan::Reason;
    let live = live();
    let config = crate::config::parse(
        "version: 1\nmodels:\n  sonnet:\n    product_sku: prod-a\n    grant_to:\n      organizational_units: [Root/Workloads]\n",
    )
    .unwrap();
    let desired = resolve(&config, &live, &ResolveOptions::default()).unwrap();
    let planned = plan::plan(&desired, &live);
    let index = planned
        .actions
        .iter()
        .position(|a| a.principal.short_id() == "222222222222")
        .expect("the redundant account grant is deleted");
    let sonnet = crate::config::ModelKey::parse("sonnet").unwrap();
    let check = |reason: Reason, want: DriftKind| {
        let mut plan = planned.clone();
        plan.actions[index].reason = reason.clone();
        let report = classify(&DriftInput {
            config: &config,
            desired: &desired,
            live: &live,
            plan: &plan,
            baseline: None,
            now: None,
        });
        let item = report
            .items
            .iter()
            .find(|i| i.principal.as_ref().map(Principal::short_id) == Some("222222222222"))
            .unwrap();
        assert_eq!(item.kind, want, "{reason:?}: {}", item.message);
    };
    let principal = planned.actions[index].principal.clone();
    check(
        Reason::NoLongerGranted {
            model: sonnet.clone(),
            principal,
        },
        DriftKind::Membership,
    );
    check(Reason::Duplicate, DriftKind::Duplicate);
    let license = planned.actions[index].license_arn.clone();
    check(Reason::LicenseUnused { license }, DriftKind::NotInFile);
    let deferred = Reason::Deferred {
        reason: Box::new(Reason::Duplicate),
        revoke: plan::ActionKind::Delete,
        covers: Vec::new(),
    };
    check(deferred, DriftKind::Duplicate);
    check(Reason::Recorded("words".to_owned()), DriftKind::NotInFile);
}

#[test]
fn durations_read_like_people_write_them() {
    let cases = [(5, "5s"), (60, "1m"), (3_725, "1h 2m"), (90_061, "1d 1h")];
    for (s, want) in cases {
        assert_eq!(drift::duration(s), want);
    }
}

/// An organization or OU grant counts per account: only where the account's share is ACTIVE.
#[test]
fn access_judges_an_ou_grant_by_each_accounts_share() {
    let mut live = live();
    let share = |account: &str, status: GrantStatus| crate::model::Share {
        parent: live.grants[0].arn.clone(),
        arn: format!("arn:aws:license-manager::{account}:grant:g-{account}")
            .parse()
            .unwrap(),
        license_arn: live.grants[0].license_arn.clone(),
        account: account.parse().unwrap(),
        status,
    };
    live.shares = vec![
        share("333333333333", GrantStatus::Active),
        share("444444444444", GrantStatus::Disabled),
        share("888888888888", GrantStatus::Active),
    ];
    let m = matrix(&live, None, "bedrock-entitlements");
    let col = m
        .models
        .iter()
        .position(|x| x.license.as_str() == license_arn("aaaa"))
        .unwrap();
    let row = |id: &str| m.rows.iter().find(|r| r.account.as_str() == id).unwrap();
    let state = |id: &str| row(id).cells[col].state;
    assert_eq!(state("333333333333"), CellState::Granted);
    assert_eq!(state("444444444444"), CellState::ShareNotInEffect);
    let web = &row("444444444444").cells[col];
    assert_eq!(
        (web.via[0].share, web.via[0].in_effect),
        (Some(&GrantStatus::Disabled), false)
    );
    let why = explain(&m, row("444444444444"), col);
    assert!(why[0].contains("share not in effect"), "{why:?}");
    // A parent that is itself DISABLED is not in effect: its accounts are inactive, not "share".
    live.grants[0].status = GrantStatus::Disabled;
    let m = matrix(&live, None, "bedrock-entitlements");
    let web = &m
        .rows
        .iter()
        .find(|r| r.account.as_str() == "444444444444")
        .unwrap()
        .cells[col];
    assert_eq!(web.state, CellState::Inactive);
}

#[test]
fn access_shows_both_layers_and_flags_the_two_leaks() {
    use crate::model::{LiveGuardrails, PolicyId, ScpPolicy, Target};
    let mut live = live();
    let org = &live.organization;
    let everywhere: std::collections::BTreeSet<Target> =
        std::iter::once(Target::Root(org.root.clone()))
            .chain(org.ous.keys().cloned().map(Target::Ou))
            .chain(org.accounts.keys().cloned().map(Target::Account))
            .collect();
    let scp = |id: &str, name: &str, content: &str, targets| ScpPolicy {
        id: id.parse::<PolicyId>().unwrap(),
        arn: String::new(),
        name: name.to_owned(),
        description: String::new(),
        aws_managed: name == "FullAWSAccess",
        content: content.to_owned(),
        managed_tag: name.starts_with("bedrock-entitlements"),
        targets,
    };
    live.guardrails = Some(LiveGuardrails {
        scp_enabled: true,
        policies: vec![
            scp(
                "p-FullAWSAccess",
                "FullAWSAccess",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                everywhere,
            ),
            scp(
                "p-aaaaaaaa",
                "bedrock-entitlements-sonnet",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.*"}]}"#,
                [Target::Account("333333333333".parse().unwrap())].into(),
            ),
        ],
    });
    let config = crate::config::parse(
        "version: 1\nsettings:\n  guardrails:\n    mode: report\nmodels:\n  sonnet:\n    product_sku: prod-a\n    bedrock_model_ids: [anthropic.claude-sonnet-4-5-*]\n    grant_to:\n      organizational_units: [Root/Workloads]\n",
    )
    .unwrap();
    let desired = resolve(&config, &live, &ResolveOptions::default()).unwrap();
    let m = matrix(&live, Some(&desired), "bedrock-entitlements");
    let col = m
        .models
        .iter()
        .position(|x| x.key.as_str() == "sonnet")
        .unwrap();
    let cell = |id: &str| {
        &m.rows
            .iter()
            .find(|r| r.account.as_str() == id)
            .unwrap()
            .cells[col]
    };
    // Granted through the OU, denied by the tool's own SCP: entitled but denied.
    assert_eq!(cell("333333333333").leak(), Some(Leak::EntitledButDenied));
    // No grant reaches it and nothing denies it: it can invoke without the negotiated terms.
    assert_eq!(cell("666666666666").leak(), Some(Leak::WithoutTerms));
    assert_eq!(cell(MGMT).invoke, Some(InvokeState::NotRestricted));
    let text = crate::render::access::text(&m, Default::default());
    assert!(
        text.contains("sonnet: 1 entitled but denied (333333333333)"),
        "{text}"
    );
    assert!(
        text.contains("can invoke without the negotiated terms"),
        "{text}"
    );
    let csv = crate::render::access::csv(&m);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",may_invoke,invoke_policy,leak")
    );
    // Without the SCPs read, the outputs keep their shape.
    live.guardrails = None;
    let plain = matrix(&live, Some(&desired), "bedrock-entitlements");
    assert!(!crate::render::access::csv(&plain).contains("may_invoke"));
}
