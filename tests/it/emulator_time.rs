//! The emulator's time and entitlements through the real SDK: timed workflows, per-account
//! shares with their own status, the one-active-grant-per-product rule, list lag,
//! PENDING_DELETE, duplicate grants, failed distributions, setup facts, licenses of one SKU and
//! the entitlement oracle.

use std::time::{Duration, Instant};

use aws_sdk_licensemanager::Client;
use aws_sdk_licensemanager::types::{
    ActivationOverrideBehavior, AllowedOperation, Filter, GrantStatus, Options,
};
use bedrock_entitlements::emulator::{EmulatorOptions, EntitlementView, LicenseSeed, SetupFacts};

use crate::support::*;

/// The account of the sandbox that holds a foreign ACTIVE Claude grant (ml-research, in OU ML).
const ML_RESEARCH: &str = "131313131313";
const CLAUDE_SKU: &str = "prod-cl4ud3s0nn3t1";

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

async fn try_create(
    c: &Client,
    license: &str,
    principal: &str,
    tok: &str,
) -> Result<String, (String, String)> {
    let name = "bedrock-entitlements-time";
    try_create_grant(c, license, principal, name, tok).await
}

async fn create(c: &Client, principal: &str) -> String {
    try_create(c, CLAUDE_LICENSE, principal, &token())
        .await
        .expect("CreateGrant succeeds")
}

async fn get(c: &Client, arn: &str) -> (GrantStatus, String) {
    let g = c.get_grant().grant_arn(arn).send().await.unwrap();
    let g = g.grant().unwrap();
    (g.grant_status().clone(), g.version().to_owned())
}

/// Reads the grant until it leaves PENDING_WORKFLOW, for at most `bound`.
async fn settle_within(c: &Client, arn: &str, bound: Duration) -> (GrantStatus, String) {
    let deadline = Instant::now() + bound;
    loop {
        let got = get(c, arn).await;
        if got.0 != GrantStatus::PendingWorkflow {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "grant {arn} still PENDING_WORKFLOW after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn settle(c: &Client, arn: &str) -> (GrantStatus, String) {
    settle_within(c, arn, Duration::from_secs(5)).await
}

async fn set_status(
    c: &Client,
    arn: &str,
    status: GrantStatus,
    behavior: Option<ActivationOverrideBehavior>,
) -> Result<(GrantStatus, String), (String, String)> {
    let version = get(c, arn).await.1;
    let options = behavior.map(|b| Options::builder().activation_override_behavior(b).build());
    let r = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(arn)
        .status(status)
        .set_options(options)
        .source_version(version)
        .send()
        .await;
    match r {
        Ok(o) => Ok((o.status().unwrap().clone(), o.version().unwrap().to_owned())),
        Err(e) => Err(error_of::<(), _, _>(Err(e))),
    }
}

/// (account, status) of every share of `parent`, sorted by account.
async fn shares(c: &Client, parent: &str) -> Vec<(String, GrantStatus)> {
    let out = c
        .list_received_grants_for_organization()
        .license_arn(CLAUDE_LICENSE)
        .filters(filter("ParentArn", parent))
        .send()
        .await
        .unwrap();
    let mut v: Vec<_> = out
        .grants()
        .iter()
        .map(|g| {
            assert_eq!(g.parent_arn(), parent);
            assert_eq!(g.license_arn(), CLAUDE_LICENSE);
            assert!(!g.grant_name().is_empty() && !g.version().is_empty());
            assert!(!g.granted_operations().is_empty());
            let account = g
                .grantee_principal_arn()
                .trim_start_matches("arn:aws:iam::")
                .trim_end_matches(":root")
                .to_owned();
            (account, g.grant_status().clone())
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// The grants giving `account` an ACTIVE Claude entitlement, per the oracle.
fn entitled(emu: &bedrock_entitlements::emulator::EmulatorHandle, account: &str) -> Vec<String> {
    emu.state()
        .entitlements()
        .into_iter()
        .find(|e| e.account == account && e.product_sku == CLAUDE_SKU)
        .map(|e| e.grants)
        .unwrap_or_default()
}

fn foreign_grant(emu: &bedrock_entitlements::emulator::EmulatorHandle) -> String {
    emu.state()
        .grants()
        .into_iter()
        .find(|g| g.name == "ml-research-claude-manual")
        .expect("the sandbox's foreign grant")
        .arn
}

#[tokio::test]
async fn org_workflows_last_workflow_ms_whatever_the_reads() {
    let opts = EmulatorOptions {
        workflow_ms: 300,
        workflow_reads: 0,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    for step in ["distribution", "activation", "recall"] {
        let started = Instant::now();
        let arn = match step {
            "distribution" => create(&c, &ou_principal(OU_ML)).await,
            _ => emu.state().grants().last().unwrap().arn.clone(),
        };
        let want = match step {
            "distribution" => None,
            "activation" => Some(GrantStatus::Active),
            _ => Some(GrantStatus::Disabled),
        };
        if let Some(s) = want {
            let started_version = set_status(&c, &arn, s, None).await.unwrap();
            assert_eq!(started_version.0, GrantStatus::PendingWorkflow);
        }
        // Many reads do not end it (workflow_reads is 0): only the clock does.
        for _ in 0..5 {
            assert_eq!(
                get(&c, &arn).await.0,
                GrantStatus::PendingWorkflow,
                "{step}"
            );
        }
        let (status, _) = settle(&c, &arn).await;
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "{step} ended early"
        );
        let expect = match step {
            "distribution" => GrantStatus::Disabled,
            _ => GrantStatus::WorkflowCompleted,
        };
        assert_eq!(status, expect, "{step}");
    }
}

#[tokio::test]
async fn account_workflow_ms_times_an_account_grants_distribution() {
    let opts = EmulatorOptions {
        account_workflow_ms: 200,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let started = Instant::now();
    let arn = create(&c, &account_principal(ML_PROD)).await;
    for _ in 0..3 {
        assert_eq!(get(&c, &arn).await.0, GrantStatus::PendingWorkflow);
    }
    assert_eq!(settle(&c, &arn).await.0, GrantStatus::Disabled);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Org grants keep settling on reads (workflow_ms is 0).
    let org = create(&c, ORG_ARN).await;
    get(&c, &org).await;
    assert_eq!(get(&c, &org).await.0, GrantStatus::Disabled);
}

#[tokio::test]
async fn shares_have_their_own_status_and_a_member_keeps_its_other_grant() {
    let opts = EmulatorOptions {
        workflow_ms: 200,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, &ou_principal(OU_ML)).await;
    settle(&c, &arn).await;
    let disabled = |s: GrantStatus| {
        vec![
            (ML_RESEARCH.to_owned(), s.clone()),
            (ML_PROD.to_owned(), s.clone()),
            (ML_DEV.to_owned(), s),
        ]
    };
    assert_eq!(shares(&c, &arn).await, disabled(GrantStatus::Disabled));
    set_status(&c, &arn, GrantStatus::Active, None)
        .await
        .unwrap();
    // While the parent's workflow runs, every share says so and nobody gained anything yet.
    assert_eq!(
        shares(&c, &arn).await,
        disabled(GrantStatus::PendingWorkflow)
    );
    assert!(entitled(&emu, ML_PROD).is_empty());
    settle(&c, &arn).await;
    // No Options: ml-research keeps its foreign grant, its share stays DISABLED.
    assert_eq!(
        shares(&c, &arn).await,
        vec![
            (ML_RESEARCH.to_owned(), GrantStatus::Disabled),
            (ML_PROD.to_owned(), GrantStatus::Active),
            (ML_DEV.to_owned(), GrantStatus::Active),
        ]
    );
    let foreign = foreign_grant(&emu);
    assert_eq!(entitled(&emu, ML_RESEARCH), vec![foreign.clone()]);
    assert_eq!(entitled(&emu, ML_PROD), vec![arn.clone()]);
    assert_eq!(emu.state().grant(&foreign).unwrap().status, "ACTIVE");
    let held = emu.state().grant(&arn).unwrap().shares;
    assert_eq!(
        held.iter()
            .map(|(a, s)| (a.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (ML_RESEARCH, "DISABLED"),
            (ML_PROD, "ACTIVE"),
            (ML_DEV, "ACTIVE")
        ]
    );

    // Filters and paging.
    let one = c
        .list_received_grants_for_organization()
        .license_arn(CLAUDE_LICENSE)
        .filters(filter("GranteePrincipalArn", &account_principal(ML_DEV)))
        .send()
        .await
        .unwrap();
    assert_eq!(one.grants().len(), 1);
    assert_eq!(one.grants()[0].grant_status(), &GrantStatus::Active);
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..10 {
        let page = c
            .list_received_grants_for_organization()
            .license_arn(CLAUDE_LICENSE)
            .filters(filter("ParentArn", &arn))
            .max_results(2)
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap();
        assert!(page.grants().len() <= 2);
        seen.extend(page.grants().iter().map(|g| g.grant_arn().to_owned()));
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 3);

    // An account joining the OU later receives the parent's settled share status.
    emu.state()
        .add_account(bedrock_entitlements::emulator::AccountSeed {
            id: "161616161616".to_owned(),
            name: "ml-new".to_owned(),
            email: None,
            state: "ACTIVE".to_owned(),
            parent: Some(OU_ML.to_owned()),
            joined_method: "CREATED".to_owned(),
            joined_timestamp: 1_704_067_200,
        })
        .unwrap();
    assert!(
        shares(&c, &arn)
            .await
            .contains(&("161616161616".to_owned(), GrantStatus::Active))
    );

    // A recall: shares stay ACTIVE until the workflow completes, then all are DISABLED.
    set_status(&c, &arn, GrantStatus::Disabled, None)
        .await
        .unwrap();
    assert_eq!(entitled(&emu, ML_PROD), vec![arn.clone()]);
    assert_eq!(settle(&c, &arn).await.0, GrantStatus::WorkflowCompleted);
    assert!(
        shares(&c, &arn)
            .await
            .iter()
            .all(|(_, s)| *s == GrantStatus::Disabled)
    );
    assert!(entitled(&emu, ML_PROD).is_empty());
}

#[tokio::test]
async fn all_grants_permitted_by_issuer_swaps_at_the_instant_the_workflow_completes() {
    let opts = EmulatorOptions {
        workflow_ms: 300,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    // ml-prod holds an account grant; the OU grant replaces it and ml-research's foreign one.
    let own = create(&c, &account_principal(ML_PROD)).await;
    settle(&c, &own).await;
    set_status(&c, &own, GrantStatus::Active, None)
        .await
        .unwrap();
    let ou = create(&c, &ou_principal(OU_ML)).await;
    settle(&c, &ou).await;
    let started = set_status(
        &c,
        &ou,
        GrantStatus::Active,
        Some(ActivationOverrideBehavior::AllGrantsPermittedByIssuer),
    )
    .await
    .unwrap();
    assert_eq!(started.0, GrantStatus::PendingWorkflow);
    let sampler = sample_entitlements(emu.state(), Duration::from_millis(20));
    // Sample the oracle until the workflow ends: ml-prod and ml-research are never without one.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        for account in [ML_PROD, ML_RESEARCH] {
            assert!(
                !entitled(&emu, account).is_empty(),
                "{account} lost its entitlement"
            );
        }
        if emu.state().grant(&ou).unwrap().status == "WORKFLOW_COMPLETED" {
            break;
        }
        assert!(Instant::now() < deadline, "the activation never completed");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let samples = sampler.stop().await;
    assert!(samples.len() >= 2);
    assert_eq!(
        entitlement_gaps(&samples, CLAUDE_SKU, &[ML_PROD, ML_RESEARCH]),
        vec![]
    );
    // The gap finder sees an account that never held one (ml-dev before the swap).
    assert!(entitlement_gaps(&samples, CLAUDE_SKU, &[ML_DEV]).contains(&(0, ML_DEV.to_owned())));
    assert_eq!(entitled(&emu, ML_PROD), vec![ou.clone()]);
    assert_eq!(entitled(&emu, ML_RESEARCH), vec![ou.clone()]);
    let own_view = emu.state().grant(&own).unwrap();
    assert_eq!(
        (own_view.status.as_str(), own_view.version),
        ("DISABLED", 4)
    );
    let foreign = emu.state().grant(&foreign_grant(&emu)).unwrap();
    assert_eq!((foreign.status.as_str(), foreign.version), ("DISABLED", 4));
    assert!(
        shares(&c, &ou)
            .await
            .iter()
            .all(|(_, s)| *s == GrantStatus::Active)
    );
}

#[tokio::test]
async fn an_account_grant_activation_follows_the_one_active_rule() {
    // A second grant for the pair of the foreign one (allowed by the knob).
    let opts = EmulatorOptions {
        allow_duplicate_grants: true,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let foreign = foreign_grant(&emu);
    let arn = create(&c, &account_principal(ML_RESEARCH)).await;
    settle(&c, &arn).await;
    // Options only with Status=ACTIVE.
    let (code, message) = set_status(
        &c,
        &arn,
        GrantStatus::Disabled,
        Some(ActivationOverrideBehavior::DistributedGrantsOnly),
    )
    .await
    .unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(message.contains("only with Status ACTIVE"), "{message}");
    // Without Options, or with DISTRIBUTED_GRANTS_ONLY: refused, naming the other grant.
    for behavior in [
        None,
        Some(ActivationOverrideBehavior::DistributedGrantsOnly),
    ] {
        let (code, message) = set_status(&c, &arn, GrantStatus::Active, behavior)
            .await
            .unwrap_err();
        assert_eq!(code, "ValidationException");
        assert!(message.contains(&foreign), "{message}");
    }
    assert_eq!(entitled(&emu, ML_RESEARCH), vec![foreign.clone()]);
    // ALL_GRANTS_PERMITTED_BY_ISSUER: the other one becomes DISABLED (a new version).
    let done = set_status(
        &c,
        &arn,
        GrantStatus::Active,
        Some(ActivationOverrideBehavior::AllGrantsPermittedByIssuer),
    )
    .await
    .unwrap();
    assert_eq!(done.0, GrantStatus::Active);
    assert_eq!(entitled(&emu, ML_RESEARCH), vec![arn.clone()]);
    let f = emu.state().grant(&foreign).unwrap();
    assert_eq!((f.status.as_str(), f.version), ("DISABLED", 4));
}

#[tokio::test]
async fn the_one_active_rule_is_a_knob() {
    let opts = EmulatorOptions {
        one_active_per_product: false,
        allow_duplicate_grants: true,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, &account_principal(ML_RESEARCH)).await;
    settle(&c, &arn).await;
    set_status(&c, &arn, GrantStatus::Active, None)
        .await
        .unwrap();
    let mut both = vec![arn, foreign_grant(&emu)];
    both.sort();
    assert_eq!(entitled(&emu, ML_RESEARCH), both);
}

#[tokio::test]
async fn lists_lag_behind_create_grant_but_get_grant_does_not() {
    let opts = EmulatorOptions {
        list_lag_ms: 1000,
        workflow_reads: 0,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let member = clients_as(&emu, ML_PROD).await.lm;
    let started = Instant::now();
    let arn = create(&c, &account_principal(ML_PROD)).await;
    let ou = create(&c, &ou_principal(OU_ML)).await;
    let listed = async |arns: Option<Vec<String>>| {
        let out = c
            .list_distributed_grants()
            .set_grant_arns(arns)
            .send()
            .await
            .unwrap();
        out.grants()
            .iter()
            .map(|g| g.grant_arn().to_owned())
            .collect::<Vec<_>>()
    };
    let received = async || {
        member
            .list_received_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .len()
    };
    // The checks below hold only inside the lag; a machine slower than that skips them.
    if started.elapsed() < Duration::from_millis(900) {
        assert!(!listed(None).await.contains(&arn));
        assert!(listed(Some(vec![arn.clone(), ou.clone()])).await.is_empty());
        assert_eq!(received().await, 0);
        assert!(shares(&c, &ou).await.is_empty());
        assert_eq!(get(&c, &arn).await.0, GrantStatus::Disabled);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while listed(Some(vec![arn.clone()])).await.is_empty() {
        assert!(Instant::now() < deadline, "the grant never showed up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(1000));
    // Each list catches up on its own read after the lag: on a loaded machine the second list
    // may be read a moment before its lag ends, so each is polled (bounded) rather than read once.
    loop {
        let seen = (
            listed(Some(vec![arn.clone(), ou.clone()])).await.len(),
            received().await,
            shares(&c, &ou).await.len(),
        );
        if seen == (2, 2, 3) {
            break;
        }
        // Three HTTP reads per round pace the loop; no sleep is needed.
        assert!(
            Instant::now() < deadline,
            "the lists never caught up: {seen:?}"
        );
    }
}

#[tokio::test]
async fn delete_ms_passes_through_pending_delete() {
    let opts = EmulatorOptions {
        delete_ms: 300,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, &account_principal(ML_PROD)).await;
    settle(&c, &arn).await;
    let (_, version) = set_status(&c, &arn, GrantStatus::Active, None)
        .await
        .unwrap();
    assert_eq!(entitled(&emu, ML_PROD), vec![arn.clone()]);
    let out = c
        .delete_grant()
        .grant_arn(&arn)
        .version(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), Some(&GrantStatus::PendingDelete));
    // A PENDING_DELETE grant gives nothing, and cannot be deleted again.
    assert!(entitled(&emu, ML_PROD).is_empty());
    let (_, version) = get(&c, &arn).await;
    let (code, message) = error_of(
        c.delete_grant()
            .grant_arn(&arn)
            .version(&version)
            .send()
            .await,
    );
    assert_eq!(code, "ValidationException");
    assert!(message.contains("PENDING_DELETE"), "{message}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while get(&c, &arn).await.0 == GrantStatus::PendingDelete {
        assert!(Instant::now() < deadline, "never DELETED");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(get(&c, &arn).await.0, GrantStatus::Deleted);
}

#[tokio::test]
async fn duplicate_grants_are_a_knob_and_tokens_still_replay() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let principal = account_principal(ML_PROD);
    let first_token = token();
    let first = try_create(&c, CLAUDE_LICENSE, &principal, &first_token)
        .await
        .unwrap();
    let (code, message) = try_create(&c, CLAUDE_LICENSE, &principal, &token())
        .await
        .unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(message.contains(&first), "{message}");
    emu.state()
        .update_options(|o| o.allow_duplicate_grants = true);
    let second = try_create(&c, CLAUDE_LICENSE, &principal, &token())
        .await
        .unwrap();
    assert_ne!(second, first);
    let again = try_create(&c, CLAUDE_LICENSE, &principal, &first_token)
        .await
        .unwrap();
    assert_eq!(again, first);
    let on_pair = emu
        .state()
        .grants()
        .into_iter()
        .filter(|g| g.principal == principal && g.license_arn == CLAUDE_LICENSE)
        .count();
    assert_eq!(on_pair, 2);
}

#[tokio::test]
async fn a_failed_distribution_is_deleted_and_made_again() {
    let opts = EmulatorOptions {
        fail_distributions: true,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let failed = create(&c, &ou_principal(OU_ML)).await;
    let (status, version) = settle(&c, &failed).await;
    assert_eq!(status, GrantStatus::FailedWorkflow);
    assert!(shares(&c, &failed).await.is_empty());
    // It cannot be activated; it can be deleted; a new grant for the pair is allowed.
    let (code, _) = set_status(&c, &failed, GrantStatus::Active, None)
        .await
        .unwrap_err();
    assert_eq!(code, "ValidationException");
    emu.state().update_options(|o| o.fail_distributions = false);
    let again = create(&c, &ou_principal(OU_ML)).await;
    assert_eq!(settle(&c, &again).await.0, GrantStatus::Disabled);
    let out = c
        .delete_grant()
        .grant_arn(&failed)
        .version(&version)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), Some(&GrantStatus::Deleted));
}

fn seed_with_renewal() -> bedrock_entitlements::emulator::Seed {
    let mut seed = sandbox_seed();
    let mut old = seed.licenses[0].clone();
    old.arn = "arn:aws:license-manager::294406891311:license:l-0ldc1a0de35a7d4f3e9b21c4d5e6f708"
        .to_owned();
    old.status = "EXPIRED".to_owned();
    old.validity_begin = "2024-01-15T00:00:00.000Z".to_owned();
    old.validity_end = Some("2025-01-15T00:00:00.000Z".to_owned());
    old.grant_arn = None;
    let mut usage: LicenseSeed = seed.licenses[1].clone();
    usage
        .allowed_operations
        .push("BatchCreateLicenseUsageRecords".to_owned());
    seed.licenses[1] = usage;
    seed.licenses.push(old);
    seed
}

#[tokio::test]
async fn licenses_of_one_sku_render_status_and_validity() {
    let emu = start_emulator(seed_with_renewal(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let out = c
        .list_received_licenses()
        .filters(filter("ProductSKU", CLAUDE_SKU))
        .send()
        .await
        .unwrap();
    let mut seen: Vec<_> = out
        .licenses()
        .iter()
        .map(|l| {
            let v = l.validity().unwrap();
            (
                l.status().map(|s| s.as_str().to_owned()),
                v.begin().to_owned(),
                v.end().map(str::to_owned),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                Some("AVAILABLE".to_owned()),
                "2025-01-15T00:00:00.000Z".to_owned(),
                None
            ),
            (
                Some("EXPIRED".to_owned()),
                "2024-01-15T00:00:00.000Z".to_owned(),
                Some("2025-01-15T00:00:00.000Z".to_owned())
            ),
        ]
    );
    // The expired one cannot be granted.
    let old = "arn:aws:license-manager::294406891311:license:l-0ldc1a0de35a7d4f3e9b21c4d5e6f708";
    let (code, message) = try_create(&c, old, &account_principal(ML_PROD), &token())
        .await
        .unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(message.contains("EXPIRED"), "{message}");
}

#[tokio::test]
async fn batch_create_license_usage_records_is_an_allowed_operation() {
    let emu = start_emulator(seed_with_renewal(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let out = c
        .create_grant()
        .client_token(token())
        .grant_name("bedrock-entitlements-usage")
        .license_arn(COHERE_LICENSE)
        .principals(account_principal(ML_PROD))
        .home_region("us-east-1")
        .allowed_operations(AllowedOperation::from("BatchCreateLicenseUsageRecords"))
        .send()
        .await
        .unwrap();
    let arn = out.grant_arn().unwrap();
    let g = c.get_grant().grant_arn(arn).send().await.unwrap();
    assert_eq!(
        g.grant().unwrap().granted_operations()[0].as_str(),
        "BatchCreateLicenseUsageRecords"
    );
}

#[tokio::test]
async fn setup_facts_are_kept_apart() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await;
    let services = async || {
        let out = c
            .orgs
            .list_aws_service_access_for_organization()
            .send()
            .await
            .unwrap();
        let mut v: Vec<String> = out
            .enabled_service_principals()
            .iter()
            .filter_map(|s| s.service_principal().map(str::to_owned))
            .collect();
        v.sort();
        v
    };
    let integration = async || {
        c.lm.get_service_settings()
            .send()
            .await
            .unwrap()
            .organization_configuration()
            .map(|o| o.enable_integration())
    };
    let lm = "license-manager.amazonaws.com".to_owned();
    let mp = "license-management.marketplace.amazonaws.com".to_owned();
    assert_eq!(services().await, vec![mp.clone(), lm.clone()]);
    let roles = |emu: &bedrock_entitlements::emulator::EmulatorHandle| {
        emu.state().dump().organization["service_linked_roles"].clone()
    };
    assert_eq!(
        roles(&emu),
        serde_json::json!([
            "AWSServiceRoleForAWSLicenseManagerRole",
            "AWSServiceRoleForMarketplaceLicenseManagement"
        ])
    );
    // Marketplace's trusted access off: License Manager's stays, org grants still work.
    let (status, _) = admin_post(
        &emu,
        "organization",
        serde_json::json!({"marketplace_trusted_access": false}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(services().await, vec![lm.clone()]);
    assert_eq!(integration().await, Some(true));
    create(&c.lm, ORG_ARN).await;
    // License Manager's off: Marketplace's back on; the integration unchanged; org grants fail.
    emu.state().set_trusted_access(false).unwrap();
    emu.state()
        .set_setup_facts(SetupFacts {
            marketplace_trusted_access: Some(true),
            marketplace_service_linked_role: Some(false),
            ..SetupFacts::default()
        })
        .unwrap();
    assert_eq!(services().await, vec![mp.clone()]);
    assert_eq!(integration().await, Some(true));
    assert_eq!(
        roles(&emu),
        serde_json::json!(["AWSServiceRoleForAWSLicenseManagerRole"])
    );
    let (code, message) = try_create(&c.lm, CLAUDE_LICENSE, &ou_principal(OU_ML), &token())
        .await
        .unwrap_err();
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Grantor has disabled Trusted Access to AWS License Manager Service in AWS Organizations"
    );
    // The integration alone.
    emu.state()
        .set_setup_facts(SetupFacts {
            enable_integration: Some(false),
            ..SetupFacts::default()
        })
        .unwrap();
    assert_eq!(integration().await, Some(false));
    assert_eq!(services().await, vec![mp]);
}

#[tokio::test]
async fn the_entitlement_oracle_over_http() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, &account_principal(ML_PROD)).await;
    settle(&c, &arn).await;
    set_status(&c, &arn, GrantStatus::Active, None)
        .await
        .unwrap();
    let (status, body) = admin_get(&emu, "entitlements").await;
    assert_eq!(status, 200);
    let got: Vec<EntitlementView> =
        serde_json::from_value(body["entitlements"].clone()).expect("the documented shape");
    assert_eq!(got, emu.state().entitlements());
    assert_eq!(
        got,
        vec![
            EntitlementView {
                product_sku: CLAUDE_SKU.to_owned(),
                account: ML_RESEARCH.to_owned(),
                grants: vec![foreign_grant(&emu)],
            },
            EntitlementView {
                product_sku: CLAUDE_SKU.to_owned(),
                account: ML_PROD.to_owned(),
                grants: vec![arn],
            },
        ]
    );
    // The knobs patch over HTTP too.
    let (status, opts) = admin_post(
        &emu,
        "options",
        serde_json::json!({"workflow_ms": 5, "recall_ends_in": "DISABLED", "list_lag_ms": 7, "delete_ms": 9, "allow_duplicate_grants": true, "fail_distributions": true, "one_active_per_product": false, "account_workflow_ms": 3}),
    )
    .await;
    assert_eq!(status, 200, "{opts}");
    let o = emu.state().options();
    assert_eq!(
        (
            o.workflow_ms,
            o.account_workflow_ms,
            o.list_lag_ms,
            o.delete_ms
        ),
        (5, 3, 7, 9)
    );
    assert!(o.allow_duplicate_grants && o.fail_distributions && !o.one_active_per_product);
    assert_eq!(
        o.recall_ends_in,
        bedrock_entitlements::emulator::RecallEnd::Disabled
    );
}
