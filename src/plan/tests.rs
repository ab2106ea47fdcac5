//! Data-driven tests of the planner: one rule of `docs/status-and-actions.md` per case.
//!
//! Desired notation: `active|disabled [role] PRINCIPAL...` for one model `m` on license `l-aaaa`,
//! where a principal is `org`, an OU id or an account id. Live grants, one per line:
//! `OWNERSHIP STATUS PRINCIPAL [license=ID]`, where OWNERSHIP is `managed` (the expected name
//! and operations), `renamed` (managed prefix, other name), `ops` (expected name, other
//! operations) or `foreign`. Grants are numbered `g-1`, `g-2`, ... in order.

use std::collections::{BTreeMap, BTreeSet};

use super::{ActionKind, NoteKind, Plan, fingerprint, plan, simulate};
use crate::config::{DesiredStatus, ModelKey};
use crate::model::{Grant, GrantStatus, LicenseArn, Live, Principal};
use crate::org::tests::{MGMT, fixture_live, license_arn};
use crate::org::{Desired, DesiredModel, grant_name};

const PREFIX: &str = "bedrock-entitlements";

fn principal(short: &str) -> Principal {
    let management = MGMT.parse().unwrap();
    let org = "o-aaaaaaaaaa".parse().unwrap();
    if short == "org" {
        Principal::Organization { management, org }
    } else if short.starts_with("ou-") {
        Principal::Ou {
            management,
            org,
            ou: short.parse().unwrap(),
        }
    } else {
        Principal::Account(short.parse().unwrap())
    }
}

fn operations() -> BTreeSet<String> {
    crate::model::DEFAULT_OPERATIONS
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

fn model_key() -> ModelKey {
    ModelKey::parse("m").unwrap()
}

fn desired(spec: &str) -> Desired {
    let mut tokens = spec.split_whitespace().peekable();
    let status = match tokens.next() {
        Some("active") => DesiredStatus::Active,
        Some("disabled") => DesiredStatus::Disabled,
        other => panic!("desired spec starts with active or disabled, not {other:?}"),
    };
    let recipient_role = (tokens.peek() == Some(&"role")).then(|| {
        tokens.next();
        "EntitlementsAcceptor".to_owned()
    });
    let model = DesiredModel {
        key: model_key(),
        license: license_arn("aaaa").parse().unwrap(),
        principals: tokens.map(principal).collect(),
        status,
        excluded: BTreeSet::new(),
        others: Vec::new(),
    };
    Desired {
        models: BTreeMap::from([(model.key.clone(), model)]),
        grant_name_prefix: PREFIX.to_owned(),
        operations: operations(),
        recipient_role,
        home_region: "us-east-1".to_owned(),
        activation_override: None,
        expiry_warning_days: 30,
        targeted_only: false,
        warnings: Vec::new(),
        guardrails: Default::default(),
    }
}

fn live(grants: &str) -> Live {
    let mut live = fixture_live();
    for (i, line) in grants
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let [ownership, status, who, rest @ ..] = tokens.as_slice() else {
            panic!("bad grant line {line:?}");
        };
        let license: LicenseArn = match rest {
            [] => license_arn("aaaa"),
            [l] => license_arn(l.strip_prefix("license=").unwrap()),
            _ => panic!("bad grant line {line:?}"),
        }
        .parse()
        .unwrap();
        let principal = principal(who);
        let mut name = grant_name(PREFIX, &model_key(), &principal);
        let mut ops = operations();
        match *ownership {
            "managed" => {}
            "renamed" => name = format!("{PREFIX}-old-name"),
            "ops" => {
                ops.remove("CreateToken");
                ops.insert("CreateGrant".to_owned());
            }
            "foreign" => name = format!("console-{who}"),
            other => panic!("unknown ownership {other}"),
        }
        live.grants.push(Grant {
            arn: format!("arn:aws:license-manager::{MGMT}:grant:g-{}", i + 1)
                .parse()
                .unwrap(),
            name,
            license_arn: license,
            principal,
            status: GrantStatus::parse(status),
            status_reason: None,
            version: "3".to_owned(),
            operations: ops,
            parent_arn: String::new(),
            home_region: "us-east-1".to_owned(),
        });
    }
    live.grants.sort_by(crate::model::grant_order);
    live
}

fn short_grant(arn: &crate::model::GrantArn) -> &str {
    arn.grant_id()
}

fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for a in &plan.actions {
        let grant = a.grant_arn().map_or("-", short_grant);
        let model = a.model().map_or("-", ModelKey::as_str);
        out.push_str(&format!(
            "{} {model} {} {grant}: {}\n",
            a.kind().as_str(),
            a.principal.short_id(),
            super::words::reason(&a.reason)
        ));
    }
    for n in &plan.notes {
        out.push_str(&format!(
            "note {:?} {} {}: {}\n",
            n.kind(),
            n.principal.short_id(),
            short_grant(&n.grant_arn),
            super::words::note(n)
        ));
    }
    out
}

#[track_caller]
fn check(desired_spec: &str, grants: &str, expect: &str) {
    let got = render(&plan(&desired(desired_spec), &live(grants)));
    let expect: String = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        got, expect,
        "desired: {desired_spec}\ngrants:\n{grants}\ngot:\n{got}"
    );
}

#[test]
fn missing_grants_are_created() {
    check(
        "active 222222222222 ou-root-mlmlmlml org",
        "",
        "create m o-aaaaaaaaaa -: model m gives the organization o-aaaaaaaaaa access to the model and no grant exists yet
         create m ou-root-mlmlmlml -: model m gives OU ou-root-mlmlmlml access to the model and no grant exists yet
         create m 222222222222 -: model m gives account 222222222222 access to the model and no grant exists yet",
    );
    check(
        "disabled 222222222222",
        "",
        "create m 222222222222 -: model m gives account 222222222222 a disabled grant of the model and no grant exists yet",
    );
}

#[test]
fn settled_grants_in_the_wanted_status_need_nothing() {
    check("active 222222222222", "managed ACTIVE 222222222222", "");
    check("active org", "managed WORKFLOW_COMPLETED org", "");
    check(
        "disabled ou-root-mlmlmlml",
        "managed DISABLED ou-root-mlmlmlml",
        "",
    );
}

#[test]
fn status_changes_activate_or_deactivate() {
    check(
        "active 222222222222",
        "managed DISABLED 222222222222",
        "activate m 222222222222 g-1: grant is DISABLED and model m wants it active",
    );
    check(
        "disabled org",
        "managed WORKFLOW_COMPLETED org",
        "deactivate m o-aaaaaaaaaa g-1: grant is WORKFLOW_COMPLETED and model m wants it disabled",
    );
    check(
        "disabled 222222222222",
        "managed ACTIVE 222222222222",
        "deactivate m 222222222222 g-1: grant is ACTIVE and model m wants it disabled",
    );
}

#[test]
fn wrong_name_or_operations_are_updated() {
    check(
        "active 222222222222",
        "renamed ACTIVE 222222222222",
        r#"update m 222222222222 g-1: the grant's name "bedrock-entitlements-old-name" becomes "bedrock-entitlements-m-222222222222""#,
    );
    check(
        "disabled 222222222222",
        "ops DISABLED 222222222222",
        "update m 222222222222 g-1: the grant's allowed operations gain CreateToken and lose CreateGrant",
    );
    // One CreateGrantVersion fixes status and name together.
    check(
        "active 222222222222",
        "renamed DISABLED 222222222222",
        r#"activate m 222222222222 g-1: grant is DISABLED and model m wants it active, and its name "bedrock-entitlements-old-name" becomes "bedrock-entitlements-m-222222222222""#,
    );
}

#[test]
fn workflows_in_progress_are_reported_not_touched() {
    check(
        "active 222222222222",
        "managed PENDING_WORKFLOW 222222222222",
        "note InProgress 222222222222 g-1: AWS is still distributing or changing this grant; plan again once it settles",
    );
    check(
        "active 222222222222",
        "managed SOMETHING_NEW 222222222222",
        "note InProgress 222222222222 g-1: status SOMETHING_NEW is unknown to this tool, so the grant is left alone",
    );
    // A grant being deleted does not serve the pair: a new one is created next to it.
    check(
        "active 222222222222",
        "managed PENDING_DELETE 222222222222",
        "create m 222222222222 -: model m gives account 222222222222 access to the model and no grant exists yet
         note InProgress 222222222222 g-1: AWS is deleting this grant",
    );
    check(
        "active",
        "managed PENDING_WORKFLOW 222222222222",
        "note InProgress 222222222222 g-1: grant is PENDING_WORKFLOW and will be deleted once AWS settles it (model m no longer grants account 222222222222)",
    );
}

#[test]
fn pending_acceptance_is_accepted_through_the_role_or_reported() {
    check(
        "active 222222222222",
        "managed PENDING_ACCEPT 222222222222",
        "note AwaitingAcceptance 222222222222 g-1: account 222222222222 must accept the grant: run \
         `aws license-manager accept-grant --grant-arn arn:aws:license-manager::111111111111:grant:g-1 --region us-east-1` \
         then `aws license-manager create-grant-version --grant-arn arn:aws:license-manager::111111111111:grant:g-1 --status ACTIVE --client-token activate-g-1 --region us-east-1` \
         in account 222222222222 (or set settings.recipient_role to let apply do it)",
    );
    check(
        "disabled 222222222222",
        "managed PENDING_ACCEPT 222222222222",
        "note AwaitingAcceptance 222222222222 g-1: account 222222222222 must accept the grant: run \
         `aws license-manager accept-grant --grant-arn arn:aws:license-manager::111111111111:grant:g-1 --region us-east-1` \
         in account 222222222222 (or set settings.recipient_role to let apply do it)",
    );
    check(
        "active role 222222222222",
        "managed PENDING_ACCEPT 222222222222",
        "accept m 222222222222 g-1: account 222222222222 has not accepted the grant yet, so apply accepts and activates it in that account through role EntitlementsAcceptor",
    );
    check(
        "active role ou-root-mlmlmlml",
        "managed PENDING_ACCEPT ou-root-mlmlmlml",
        "note AwaitingAcceptance ou-root-mlmlmlml g-1: the member accounts of OU ou-root-mlmlmlml must accept the grant: each runs \
         `aws license-manager accept-grant --grant-arn arn:aws:license-manager::111111111111:grant:g-1 --region us-east-1` \
         then `aws license-manager create-grant-version --grant-arn arn:aws:license-manager::111111111111:grant:g-1 --status ACTIVE --client-token activate-g-1 --region us-east-1`",
    );
}

#[test]
fn failed_grants_are_recreated() {
    check(
        "active 222222222222",
        "managed FAILED_WORKFLOW 222222222222",
        "recreate m 222222222222 g-1: grant is FAILED_WORKFLOW (AWS could not distribute it), so it is deleted and created again",
    );
    // A working duplicate makes the failed one plain garbage.
    check(
        "active 222222222222",
        "managed FAILED_WORKFLOW 222222222222
         managed DISABLED 222222222222",
        "activate m 222222222222 g-2: grant is DISABLED and model m wants it active
         delete m 222222222222 g-1: another managed grant on this pair is kept, so this duplicate goes",
    );
}

#[test]
fn history_is_ignored() {
    check(
        "active 222222222222",
        "managed DELETED 222222222222
         managed REJECTED 222222222222
         foreign DELETED 222222222222",
        "create m 222222222222 -: model m gives account 222222222222 access to the model and no grant exists yet",
    );
}

#[test]
fn grants_no_longer_wanted_are_deleted() {
    check(
        "active 222222222222",
        "managed ACTIVE 222222222222
         managed DISABLED 333333333333
         managed PENDING_ACCEPT org
         managed ACTIVE 444444444444 license=bbbb",
        "delete m o-aaaaaaaaaa g-3: model m no longer grants the organization o-aaaaaaaaaa
         delete m 333333333333 g-2: model m no longer grants account 333333333333
         delete - 444444444444 g-4: no model in the file uses license arn:aws:license-manager::294406891311:license:l-bbbb",
    );
    // Under --target, other licenses are out of scope.
    let mut d = desired("active 222222222222");
    d.targeted_only = true;
    let l = live("managed ACTIVE 222222222222\nmanaged ACTIVE 444444444444 license=bbbb");
    let p = plan(&d, &l);
    assert_eq!(render(&p), "");
    assert_eq!(
        p.licenses,
        BTreeSet::from([license_arn("aaaa").parse().unwrap()])
    );
}

#[test]
fn duplicates_keep_the_best_grant() {
    check(
        "active 222222222222",
        "managed ACTIVE 222222222222
         managed ACTIVE 222222222222",
        "delete m 222222222222 g-2: another managed grant on this pair is kept, so this duplicate goes; \
         deleted once the account grant 222222222222 is in effect for ml-dev (222222222222)",
    );
    // Status first, then name, then ARN.
    check(
        "active 222222222222",
        "managed DISABLED 222222222222
         renamed ACTIVE 222222222222
         managed PENDING_WORKFLOW 222222222222",
        r#"update m 222222222222 g-2: the grant's name "bedrock-entitlements-old-name" becomes "bedrock-entitlements-m-222222222222"
           delete m 222222222222 g-1: another managed grant on this pair is kept, so this duplicate goes
           note InProgress 222222222222 g-3: grant is PENDING_WORKFLOW and will be deleted once AWS settles it (another managed grant on this pair is kept, so this duplicate goes)"#,
    );
    check(
        "disabled 222222222222",
        "managed ACTIVE 222222222222
         managed DISABLED 222222222222",
        "delete m 222222222222 g-1: another managed grant on this pair is kept, so this duplicate goes",
    );
}

#[test]
fn foreign_grants_are_never_touched() {
    check(
        "active 222222222222",
        "foreign DISABLED 222222222222
         foreign ACTIVE 333333333333",
        r#"note ForeignConflict 222222222222 g-1: grant "console-222222222222" already gives account 222222222222 this license but its name lacks the prefix "bedrock-entitlements", so no managed grant is created next to it; delete it, or rename it to adopt it
           note Foreign 333333333333 g-2: grant "console-333333333333" is not managed (its name lacks the prefix "bedrock-entitlements") and is left alone"#,
    );
    // A failed foreign grant gives nothing and does not stand in for the managed one.
    check(
        "active 222222222222",
        "foreign FAILED_WORKFLOW 222222222222",
        r#"create m 222222222222 -: model m gives account 222222222222 access to the model and no grant exists yet
           note Foreign 222222222222 g-1: grant "console-222222222222" is not managed (its name lacks the prefix "bedrock-entitlements") and is left alone"#,
    );
    // A failed managed grant next to a foreign one is not recreated: that would duplicate it.
    check(
        "active 222222222222",
        "foreign ACTIVE 222222222222
         managed FAILED_WORKFLOW 222222222222",
        r#"delete m 222222222222 g-2: grant is FAILED_WORKFLOW and the unmanaged grant arn:aws:license-manager::111111111111:grant:g-1 already covers this pair
           note ForeignConflict 222222222222 g-1: grant "console-222222222222" already gives account 222222222222 this license but its name lacks the prefix "bedrock-entitlements", so no managed grant is created next to it; delete it, or rename it to adopt it"#,
    );
}

#[test]
fn actions_are_ordered_by_phase_then_model_then_principal() {
    let p = plan(
        &desired("active ou-root-webwebwe 222222222222"),
        &live(
            "managed ACTIVE 333333333333
             managed DISABLED 222222222222
             managed ACTIVE 444444444444 license=bbbb",
        ),
    );
    let order: Vec<(ActionKind, &str)> = p
        .actions
        .iter()
        .map(|a| (a.kind(), a.principal.short_id()))
        .collect();
    assert_eq!(
        order,
        [
            (ActionKind::Create, "ou-root-webwebwe"),
            (ActionKind::Activate, "222222222222"),
            (ActionKind::Delete, "333333333333"),
            (ActionKind::Delete, "444444444444"),
        ]
    );
}

#[test]
fn access_lists_who_can_use_the_model_before_and_after() {
    // Before: an effective OU grant on Workloads and a disabled grant to 777777777777.
    // After: the organization (all but the grantor and the suspended sandbox account).
    let p = plan(
        &desired("active org"),
        &live(
            "managed ACTIVE ou-root-workload
             managed DISABLED 777777777777
             foreign ACTIVE 111111111111",
        ),
    );
    let access = &p.access[&model_key()];
    let ids = |v: &[crate::model::AccountId]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        ids(&access.before),
        [
            "222222222222",
            "333333333333",
            "444444444444",
            "888888888888"
        ]
    );
    assert_eq!(
        ids(&access.after),
        [
            "222222222222",
            "333333333333",
            "444444444444",
            "666666666666",
            "777777777777",
            "888888888888"
        ]
    );
}

#[test]
fn fingerprint_moves_with_any_relevant_grant_change() {
    let l = live("managed ACTIVE 222222222222\nmanaged ACTIVE 333333333333 license=bbbb");
    let licenses = BTreeSet::from([license_arn("aaaa").parse().unwrap()]);
    let base = fingerprint(&l, &licenses);
    assert_eq!(base.len(), 64);
    assert_eq!(base, fingerprint(&l.clone(), &licenses));

    let mut moved = l.clone();
    moved.grants[0].version = "4".to_owned();
    assert_ne!(fingerprint(&moved, &licenses), base);
    let mut moved = l.clone();
    moved.grants[0].status = GrantStatus::Disabled;
    assert_ne!(fingerprint(&moved, &licenses), base);
    // A grant on another license is not part of it.
    let mut other = l.clone();
    other.grants[1].version = "9".to_owned();
    assert_eq!(fingerprint(&other, &licenses), base);

    let p = plan(&desired("active 222222222222"), &l);
    assert_eq!(p.live_fingerprint, fingerprint(&l, &p.licenses));
}

/// The stale-plan refusal (`apply PLAN`): the live grants or the desired state moved.
#[test]
fn a_saved_plan_runs_only_on_what_it_was_made_from() {
    use super::{StalePlan, check_saved};
    let l = live("managed ACTIVE 222222222222");
    let d = desired("active 222222222222 333333333333");
    let saved = plan(&d, &l);
    assert_eq!(check_saved(&saved, &l, &saved), Ok(()));
    let mut moved = l.clone();
    moved.grants[0].version = "4".to_owned();
    assert_eq!(
        check_saved(&saved, &moved, &saved),
        Err(StalePlan::LiveMoved)
    );
    let now = plan(&desired("active 222222222222"), &l);
    assert_ne!(now.config_digest, saved.config_digest);
    assert_eq!(check_saved(&saved, &l, &now), Err(StalePlan::DesiredMoved));
}

const SUBSCRIBING: &str = "version: 1
models:
  claude:
    product_sku: prod-claude0001
    bedrock_model_ids: [\"anthropic.claude-x-v1:0\"]
    subscribe:
      offer: private
      offer_id: offer-1
    grant_to:
      accounts: [\"222222222222\"]
";

/// Bedrock's state of the subscribed model: no agreement, one private offer.
fn offered() -> crate::model::SubscriptionState {
    use crate::model::{AgreementStatus, Availability, Offer, OfferTerms, OfferType, PriceRate};
    crate::model::SubscriptionState {
        availability: Availability {
            agreement: AgreementStatus::NotAvailable,
            error_message: None,
            authorized: true,
            entitled: false,
            in_region: true,
        },
        offers: vec![Offer {
            offer_id: Some("offer-1".to_owned()),
            offer_token: "tok-1".to_owned(),
            offer_type: OfferType::Private,
            terms: OfferTerms {
                rate_card: vec![PriceRate {
                    price: Some("0.0024".to_owned()),
                    ..PriceRate::default()
                }],
                ..OfferTerms::default()
            },
        }],
        provider: Some("Anthropic".to_owned()),
    }
}

/// A saved plan with a subscription runs only on the Bedrock state its subscriptions were
/// decided from: an agreement made meanwhile, the chosen offer gone or its terms changed
/// refuse it; a new offer token (AWS issues them per listing) does not.
#[test]
fn a_saved_subscription_runs_only_on_the_bedrock_state_it_was_planned_from() {
    use super::{StalePlan, check_saved};
    use crate::model::AgreementStatus;
    let config = crate::config::parse(SUBSCRIBING).expect("a valid file");
    let l = live("managed ACTIVE 222222222222");
    let d = desired("active 222222222222");
    let planned = |state: crate::model::SubscriptionState| {
        let mut p = plan(&d, &l);
        let states = BTreeMap::from([("anthropic.claude-x-v1:0".to_owned(), Ok(state))]);
        super::subscriptions::add(&config, &d, &states, &mut p);
        p
    };
    let saved = planned(offered());
    assert_eq!(saved.subscriptions.len(), 1, "{saved:?}");
    let grants = fingerprint(&l, &saved.licenses);
    assert!(saved.live_fingerprint.starts_with(&format!("{grants}+")));
    assert_eq!(check_saved(&saved, &l, &planned(offered())), Ok(()));
    let mut token = offered();
    token.offers[0].offer_token = "tok-2".to_owned();
    assert_eq!(check_saved(&saved, &l, &planned(token)), Ok(()));

    let mut agreed = offered();
    agreed.availability.agreement = AgreementStatus::Pending;
    let mut gone = offered();
    gone.offers.clear();
    let mut repriced = offered();
    repriced.offers[0].terms.rate_card[0].price = Some("0.0030".to_owned());
    for moved in [agreed, gone, repriced] {
        assert_eq!(
            check_saved(&saved, &l, &planned(moved)),
            Err(StalePlan::SubscriptionsMoved)
        );
    }
    // Nothing subscribed any more (the license arrived): moved too.
    assert_eq!(
        check_saved(&saved, &l, &plan(&d, &l)),
        Err(StalePlan::SubscriptionsMoved)
    );
    // The grants still come first.
    let mut regranted = l.clone();
    regranted.grants[0].version = "4".to_owned();
    assert_eq!(
        check_saved(&saved, &regranted, &planned(offered())),
        Err(StalePlan::LiveMoved)
    );
}

#[test]
fn config_digest_follows_the_desired_state_only() {
    let l = live("");
    let a = plan(&desired("active 222222222222"), &l).config_digest;
    assert_eq!(
        a,
        plan(
            &desired("active 222222222222"),
            &live("managed ACTIVE 222222222222")
        )
        .config_digest
    );
    assert_ne!(a, plan(&desired("disabled 222222222222"), &l).config_digest);
    assert_ne!(a, plan(&desired("active 333333333333"), &l).config_digest);
    let mut with_warning = desired("active 222222222222");
    with_warning
        .warnings
        .push(crate::model::Diagnostic::warning(
            Default::default(),
            "ignored",
        ));
    assert_eq!(a, plan(&with_warning, &l).config_digest);
}

#[test]
fn simulate_settles_each_action() {
    let d = desired("active role org ou-root-mlmlmlml 222222222222 333333333333 444444444444");
    let l = live(
        "managed DISABLED ou-root-mlmlmlml
         managed PENDING_ACCEPT 333333333333
         managed FAILED_WORKFLOW 444444444444
         managed ACTIVE 777777777777",
    );
    let p = plan(&d, &l);
    let after = simulate(&l, &p);
    let status = |who: &str| -> Vec<(String, String, String)> {
        after
            .grants
            .iter()
            .filter(|g| g.principal == principal(who))
            .map(|g| {
                (
                    g.arn.grant_id().to_owned(),
                    g.status.to_string(),
                    g.version.clone(),
                )
            })
            .collect()
    };
    let org = status("org");
    assert_eq!(org.len(), 1);
    assert_eq!(
        (org[0].1.as_str(), org[0].2.as_str()),
        ("WORKFLOW_COMPLETED", "1")
    );
    assert_eq!(
        status("ou-root-mlmlmlml"),
        [("g-1".into(), "WORKFLOW_COMPLETED".into(), "4".into())]
    );
    assert_eq!(
        status("333333333333"),
        [("g-2".into(), "ACTIVE".into(), "4".into())]
    );
    let failed = status("444444444444");
    assert_eq!(failed.len(), 2);
    assert!(failed.contains(&("g-3".into(), "DELETED".into(), "4".into())));
    // The file names both the organization and accounts inside it, so the organization grant
    // keeps their grants (DISTRIBUTED_GRANTS_ONLY), and 777…'s share never becomes ACTIVE: its
    // managed grant stays for continuity.
    assert_eq!(
        status("777777777777"),
        [("g-4".into(), "ACTIVE".into(), "3".into())]
    );
    assert!(
        p.notes
            .iter()
            .any(|n| n.kind() == NoteKind::KeptForContinuity)
    );
    // Fake ARNs are deterministic, and new ones never reuse an ARN in use.
    assert_eq!(simulate(&l, &p), after);
    let again = simulate(&after, &plan(&desired("active"), &after));
    let again = simulate(&again, &plan(&d, &again));
    let arns: BTreeSet<_> = again.grants.iter().map(|g| &g.arn).collect();
    assert_eq!(arns.len(), again.grants.len());
    assert!(plan(&d, &again).is_empty());
}

#[test]
fn an_action_cut_short_resumes_where_it_stopped() {
    let d = desired("active 222222222222 333333333333");
    let l = live("managed FAILED_WORKFLOW 333333333333");
    let p = plan(&d, &l);
    assert_eq!(render(&p).lines().count(), 2, "{}", render(&p));

    // Apply created the grant for 222222222222 but died before activating it, and deleted the
    // failed grant of 333333333333 but died before creating its replacement.
    let mut crashed = simulate(&l, &p);
    crashed
        .grants
        .retain(|g| g.principal != principal("333333333333") || g.status == GrantStatus::Deleted);
    for g in &mut crashed.grants {
        if g.principal == principal("222222222222") {
            g.status = GrantStatus::Disabled;
        }
    }
    let resumed = plan(&d, &crashed);
    let kinds: Vec<(ActionKind, &str)> = resumed
        .actions
        .iter()
        .map(|a| (a.kind(), a.principal.short_id()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ActionKind::Create, "333333333333"),
            (ActionKind::Activate, "222222222222")
        ]
    );
}

/// Each action with its override and covers: `kind principal [override] [<- cover principal
/// grant accounts]`, then each continuity note.
fn continuity(plan: &Plan) -> String {
    let mut out = String::new();
    for a in &plan.actions {
        out.push_str(&format!("{} {}", a.kind().as_str(), a.principal.short_id()));
        if let Some(o) = a.activation_override {
            out.push_str(&format!(" {}", o.api_value()));
        }
        for c in &a.waits_for {
            let grant = c.grant_arn.as_ref().map_or("new", short_grant);
            let accounts: Vec<&str> = c.accounts.iter().map(|a| a.as_str()).collect();
            out.push_str(&format!(
                " <- {} {grant} {}",
                c.principal.short_id(),
                accounts.join(",")
            ));
        }
        out.push('\n');
    }
    for n in &plan.notes {
        if matches!(
            n.kind(),
            NoteKind::KeptForContinuity | NoteKind::KeepsOtherGrant
        ) {
            out.push_str(&format!("{:?} {}\n", n.kind(), short_grant(&n.grant_arn)));
        }
    }
    out
}

#[track_caller]
fn check_continuity(d: &Desired, l: &Live, expect: &str) {
    let got = continuity(&plan(d, l));
    let expect: String = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(got, expect, "got:\n{got}");
}

fn share(l: &mut Live, parent: &str, account: &str, status: &str) {
    let parent: crate::model::GrantArn = format!("arn:aws:license-manager::{MGMT}:grant:{parent}")
        .parse()
        .unwrap();
    l.shares.push(crate::model::Share {
        arn: format!("arn:aws:license-manager::{account}:grant:g-s{account}")
            .parse()
            .unwrap(),
        parent,
        license_arn: license_arn("aaaa").parse().unwrap(),
        account: account.parse().unwrap(),
        status: GrantStatus::parse(status),
    });
    l.shares.sort();
}

#[test]
fn revokes_wait_for_the_grant_that_covers_their_accounts() {
    // Accounts → their OU: the OU grant swaps the tool's own grants, each delete waits for it.
    check_continuity(
        &desired("active ou-root-mlmlmlml"),
        &live(
            "managed ACTIVE 222222222222
             managed ACTIVE 333333333333",
        ),
        "create ou-root-mlmlmlml ALL_GRANTS_PERMITTED_BY_ISSUER
         delete 222222222222 <- ou-root-mlmlmlml new 222222222222
         delete 333333333333 <- ou-root-mlmlmlml new 333333333333",
    );
    // The OU → its accounts: one delete waits for both account grants.
    check_continuity(
        &desired("active 222222222222 333333333333"),
        &live("managed WORKFLOW_COMPLETED ou-root-mlmlmlml"),
        "create 222222222222 ALL_GRANTS_PERMITTED_BY_ISSUER
         create 333333333333 ALL_GRANTS_PERMITTED_BY_ISSUER
         delete ou-root-mlmlmlml <- 222222222222 new 222222222222 <- 333333333333 new 333333333333",
    );
    // A disabled grant, a failed one (gives nothing) and accounts that leave the model wait for
    // nothing; only accounts with an ACTIVE share count.
    let mut l = live(
        "managed DISABLED 222222222222
         managed ACTIVE 444444444444
         managed WORKFLOW_COMPLETED ou-root-mlmlmlml",
    );
    share(&mut l, "g-3", "222222222222", "ACTIVE");
    share(&mut l, "g-3", "333333333333", "DISABLED");
    check_continuity(
        &desired("active org"),
        &l,
        "create o-aaaaaaaaaa ALL_GRANTS_PERMITTED_BY_ISSUER
         delete ou-root-mlmlmlml <- o-aaaaaaaaaa new 222222222222
         delete 222222222222
         delete 444444444444 <- o-aaaaaaaaaa new 444444444444",
    );
    check_continuity(
        &desired("active 888888888888"),
        &live("managed ACTIVE 444444444444"),
        "create 888888888888
         delete 444444444444",
    );
}

#[test]
fn grants_the_one_active_rule_keeps_are_not_revoked() {
    // An account with a foreign active grant of the product: the OU grant sends
    // DISTRIBUTED_GRANTS_ONLY, names it, and the managed grant of the other account stays.
    check_continuity(
        &desired("active ou-root-mlmlmlml"),
        &live(
            "managed ACTIVE 222222222222
             foreign ACTIVE 333333333333",
        ),
        "create ou-root-mlmlmlml DISTRIBUTED_GRANTS_ONLY
         KeptForContinuity g-1
         KeepsOtherGrant g-2",
    );
    // Next run: the OU grant is in effect but 222…'s share stayed DISABLED: still kept.
    let mut l = live(
        "managed ACTIVE 222222222222
         foreign ACTIVE 333333333333
         managed WORKFLOW_COMPLETED ou-root-mlmlmlml",
    );
    share(&mut l, "g-3", "222222222222", "DISABLED");
    share(&mut l, "g-3", "333333333333", "DISABLED");
    check_continuity(
        &desired("active ou-root-mlmlmlml"),
        &l,
        "KeptForContinuity g-1",
    );
    // Once the share is ACTIVE the delete waits for the live OU grant; while it is pending too.
    for status in ["ACTIVE", "PENDING_WORKFLOW"] {
        let mut l = live(
            "managed ACTIVE 222222222222
             managed WORKFLOW_COMPLETED ou-root-mlmlmlml",
        );
        share(&mut l, "g-2", "222222222222", status);
        check_continuity(
            &desired("active ou-root-mlmlmlml"),
            &l,
            "delete 222222222222 <- ou-root-mlmlmlml g-2 222222222222",
        );
    }
    // settings.activation_override wins.
    let mut d = desired("active ou-root-mlmlmlml");
    d.activation_override = Some(crate::config::ActivationOverride::AllGrantsPermittedByIssuer);
    check_continuity(
        &d,
        &live("foreign ACTIVE 333333333333"),
        "create ou-root-mlmlmlml ALL_GRANTS_PERMITTED_BY_ISSUER",
    );
}

#[test]
fn organization_grants_are_judged_by_their_shares() {
    // A deactivation ends in WORKFLOW_COMPLETED with every share DISABLED: not deactivated
    // again, and activated when the file wants it active.
    let mut l = live("managed WORKFLOW_COMPLETED ou-root-mlmlmlml");
    share(&mut l, "g-1", "222222222222", "DISABLED");
    share(&mut l, "g-1", "333333333333", "DISABLED");
    assert!(plan(&desired("disabled ou-root-mlmlmlml"), &l).is_empty());
    check(
        "active ou-root-mlmlmlml",
        "",
        "create m ou-root-mlmlmlml -: model m gives OU ou-root-mlmlmlml access to the model and no grant exists yet",
    );
    let p = plan(&desired("active ou-root-mlmlmlml"), &l);
    assert_eq!(continuity(&p), "activate ou-root-mlmlmlml\n");
    // Access counts only accounts whose share is ACTIVE.
    let mut one = l.clone();
    share(&mut one, "g-1", "888888888888", "ACTIVE");
    let p = plan(&desired("disabled ou-root-mlmlmlml"), &one);
    assert_eq!(
        p.access[&model_key()].before,
        ["888888888888".parse().unwrap()]
    );
    // Simulating the activation yields shares that plan nothing more.
    let d = desired("active ou-root-mlmlmlml");
    let p = plan(&d, &l);
    let after = simulate(&l, &p);
    assert!(after.shares.iter().all(|s| s.status == GrantStatus::Active));
    assert!(plan(&d, &after).is_empty());
    let off = desired("disabled ou-root-mlmlmlml");
    let after = simulate(&after, &plan(&off, &after));
    assert!(
        after
            .shares
            .iter()
            .all(|s| s.status == GrantStatus::Disabled)
    );
    assert!(plan(&off, &after).is_empty());
}

#[test]
fn renewals_move_managed_grants_to_the_chosen_license() {
    let mut l = live("managed ACTIVE 222222222222 license=aa02");
    let mut renewal = l.licenses[0].clone();
    renewal.arn = license_arn("aa02").parse().unwrap();
    l.licenses.push(renewal);
    l.licenses.sort_by(|a, b| a.arn.cmp(&b.arn));
    let p = plan(&desired("active 222222222222"), &l);
    assert_eq!(
        continuity(&p),
        "create 222222222222 ALL_GRANTS_PERMITTED_BY_ISSUER\n\
         delete 222222222222 <- 222222222222 new 222222222222\n"
    );
    let delete = &p.actions[1];
    assert_eq!(delete.model(), Some(&model_key()));
    assert_eq!(delete.license_arn.as_str(), license_arn("aa02"));
    assert!(
        matches!(delete.reason.decision(), super::Reason::Renewal { model, .. } if *model == model_key()),
        "{:?}",
        delete.reason
    );
    assert_eq!(
        p.actions[1].waits_for[0].license_arn.as_str(),
        license_arn("aaaa")
    );
}

#[test]
fn expiring_licenses_name_the_accounts_that_would_lose_access() {
    let mut l = live("managed ACTIVE 222222222222");
    l.read_at = crate::model::parse_time("2026-05-01T00:00:00Z").unwrap();
    l.licenses[0].validity_end = Some("2026-05-21T00:00:00Z".to_owned());
    let d = desired("active 222222222222 333333333333");
    let p = plan(&d, &l);
    assert_eq!(p.expiry.len(), 1);
    let w = &p.expiry[0];
    assert_eq!((w.days_left, w.expired), (20, false));
    let ids: Vec<&str> = w.accounts.iter().map(|a| a.as_str()).collect();
    assert_eq!(ids, ["222222222222", "333333333333"]);
    let mut near = d.clone();
    near.expiry_warning_days = 19;
    assert!(plan(&near, &l).expiry.is_empty());
    l.read_at = crate::model::parse_time("2026-06-01T00:00:00Z").unwrap();
    let w = &plan(&d, &l).expiry[0];
    assert_eq!((w.days_left, w.expired), (-11, true));
    l.read_at = 0;
    assert!(plan(&d, &l).expiry.is_empty(), "no clock, no warning");
}

/// Ownership at its edges: only a name that starts with the prefix, in the same case
/// ([`crate::org::is_managed_name`], the one test every module asks).
#[test]
fn ownership_is_the_prefix_at_the_start_of_the_name() {
    use crate::org::is_managed_name;
    for (name, managed) in [
        // Equal to the prefix: it starts with it.
        (PREFIX, true),
        ("bedrock-entitlements", true),
        // Prefix + separator, as the tool names its grants.
        ("bedrock-entitlements-m-111111111111", true),
        ("bedrock-entitlements-", true),
        // No separator is required (docs/configuration.md: prefixes must not start each other).
        ("bedrock-entitlements2-m", true),
        // The prefix elsewhere in the name.
        ("team-bedrock-entitlements-x", false),
        ("x-bedrock-entitlements", false),
        ("-bedrock-entitlements", false),
        (" bedrock-entitlements-m", false),
        ("xbedrock-entitlements-m", false),
        // Case counts.
        ("Bedrock-Entitlements-m-111111111111", false),
        ("BEDROCK-ENTITLEMENTS-m", false),
        ("bedrock-entitlementS-m", false),
        // Shorter than the prefix.
        ("bedrock-entitlement", false),
        ("", false),
    ] {
        assert_eq!(is_managed_name(PREFIX, name), managed, "{name:?}");
    }
    // An empty prefix owns nothing (validate refuses it; this is the second guard).
    assert!(!is_managed_name("", "bedrock-entitlements-m"));
    assert!(!is_managed_name("", ""));
    // And through the planner: a foreign grant whose name holds the prefix elsewhere is never
    // deleted.
    let mut l = live("foreign ACTIVE 444444444444");
    l.grants[0].name = "team-bedrock-entitlements-x".to_owned();
    assert!(
        plan(&desired("active 222222222222"), &l)
            .actions
            .iter()
            .all(|a| a.kind() != ActionKind::Delete)
    );
}

proptest::proptest! {
    /// For any prefix and names around it: owned exactly when the name starts with the prefix.
    #[test]
    fn ownership_is_a_prefix_match_in_any_case(
        prefix in "[a-zA-Z0-9-]{1,12}",
        head in "[a-zA-Z0-9 -]{1,6}",
        tail in "[a-zA-Z0-9-]{0,8}",
    ) {
        use crate::org::is_managed_name;
        let own = format!("{prefix}{tail}");
        proptest::prop_assert!(is_managed_name(&prefix, &own));
        let inside = format!("{head}{prefix}{tail}");
        proptest::prop_assert_eq!(is_managed_name(&prefix, &inside), inside.starts_with(&prefix));
        let flipped: String = prefix
            .chars()
            .map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
            .collect();
        let other_case = format!("{flipped}{tail}");
        proptest::prop_assert_eq!(
            is_managed_name(&prefix, &other_case),
            flipped == prefix,
            "case counts: {:?}", other_case
        );
    }
}
