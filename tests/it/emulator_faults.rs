//! The emulator's knobs through the real SDK: random faults replay from a seed, lost responses
//! really apply the change, throttles and 500s reach the SDK's retry logic as AWS's would, rate
//! limits, latency (on paused time) and IAM policies.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_licensemanager::types::{AllowedOperation, GrantStatus};
use bedrock_entitlements::emulator::{EmulatorOptions, FaultRates, PolicyDocument, RateLimit};

use crate::support::*;

fn ops() -> Vec<AllowedOperation> {
    DEFAULT_OPS.iter().map(|o| (*o).into()).collect()
}

/// What each of a fixed sequence of calls answered: `ok`, an error code, or `lost`.
async fn outcomes(fault_seed: u64) -> Vec<String> {
    let opts = EmulatorOptions {
        faults: FaultRates {
            throttle: 0.2,
            server_error: 0.2,
            lost_response: 0.1,
            empty_page: 0.0,
        },
        fault_seed,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients_with(&emu, "AKIDEXAMPLE", RetryConfig::disabled()).await;
    let mut out = Vec::new();
    for _ in 0..30 {
        out.push(match c.lm.list_distributed_grants().send().await {
            Ok(_) => "ok".to_owned(),
            Err(e) => match e.as_service_error() {
                Some(_) => error_of::<(), _, _>(Err(e)).0,
                None => "lost".to_owned(),
            },
        });
        out.push(match c.orgs.list_accounts().send().await {
            Ok(_) => "ok".to_owned(),
            Err(e) => match e.as_service_error() {
                Some(_) => error_of::<(), _, _>(Err(e)).0,
                None => "lost".to_owned(),
            },
        });
    }
    out
}

#[tokio::test]
async fn faults_replay_from_their_seed() {
    let a = outcomes(42).await;
    assert_eq!(a, outcomes(42).await, "same seed, same calls: same faults");
    assert_ne!(a, outcomes(43).await, "another seed: other faults");
    for kind in [
        "ok",
        "lost",
        "RateLimitExceededException",
        "TooManyRequestsException",
        "ServerInternalException",
        "ServiceException",
    ] {
        assert!(
            a.iter().any(|o| o == kind),
            "{kind} never happened in {a:?}"
        );
    }
}

#[tokio::test]
async fn lost_responses_apply_the_change() {
    let opts = EmulatorOptions {
        op_faults: BTreeMap::from([(
            "CreateGrant".to_owned(),
            FaultRates {
                lost_response: 1.0,
                ..FaultRates::default()
            },
        )]),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm; // standard retries: 3 attempts, all lost
    let req = || {
        c.create_grant()
            .client_token("lost-token")
            .grant_name("bedrock-entitlements-lost")
            .license_arn(CLAUDE_LICENSE)
            .principals(account_principal(ML_PROD))
            .home_region("us-east-1")
            .set_allowed_operations(Some(ops()))
    };
    let err = req().send().await.unwrap_err();
    assert!(
        err.as_service_error().is_none(),
        "no response at all: {err:?}"
    );
    assert_eq!(emu.state().call_count("CreateGrant"), 3, "the SDK retried");
    assert_eq!(emu.state().lost_counts()["CreateGrant"], 3);
    let grants = emu.state().grants();
    assert_eq!(
        grants.len(),
        2,
        "the first attempt made the grant, the retries replayed it"
    );
    let made = &grants[1];
    assert_eq!(made.principal, account_principal(ML_PROD));

    // Once responses flow again, the same token answers the grant already made.
    emu.state().update_options(|o| o.op_faults.clear());
    let ok = req().send().await.unwrap();
    assert_eq!(ok.grant_arn(), Some(made.arn.as_str()));
    assert_eq!(emu.state().grants().len(), 2);
}

#[tokio::test]
async fn throttles_and_server_errors_meet_the_sdk_retry_rules() {
    let all = FaultRates {
        throttle: 1.0,
        ..FaultRates::default()
    };
    let opts = EmulatorOptions {
        op_faults: BTreeMap::from([
            ("ListDistributedGrants".to_owned(), all),
            ("ListAccounts".to_owned(), all),
            (
                "GetServiceSettings".to_owned(),
                FaultRates {
                    server_error: 1.0,
                    ..FaultRates::default()
                },
            ),
        ]),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await;
    // License Manager's throttle is not retried by the SDK (a 400 with a code it does not know).
    let (code, _) = error_of(c.lm.list_distributed_grants().send().await);
    assert_eq!(code, "RateLimitExceededException");
    assert_eq!(emu.state().call_count("ListDistributedGrants"), 1);
    // Organizations' is, as are 500s.
    let (code, _) = error_of(c.orgs.list_accounts().send().await);
    assert_eq!(code, "TooManyRequestsException");
    assert_eq!(emu.state().call_count("ListAccounts"), 3);
    let (code, _) = error_of(c.lm.get_service_settings().send().await);
    assert_eq!(code, "ServerInternalException");
    assert_eq!(emu.state().call_count("GetServiceSettings"), 3);
    let errors = emu.state().error_counts();
    assert_eq!(errors["ListAccounts"]["TooManyRequestsException"], 3);
    // Nothing else failed.
    c.lm.list_received_licenses().send().await.unwrap();
}

#[tokio::test]
async fn organizations_pages_can_be_empty_with_a_next_token() {
    let opts = EmulatorOptions {
        faults: FaultRates {
            empty_page: 0.5,
            ..FaultRates::default()
        },
        fault_seed: 3,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.orgs;
    let pages: Vec<_> = c
        .list_accounts()
        .max_results(4)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert!(
        pages
            .iter()
            .any(|p| p.accounts().is_empty() && p.next_token().is_some())
    );
    let ids: Vec<_> = pages
        .iter()
        .flat_map(|p| p.accounts().iter().filter_map(|a| a.id()))
        .collect();
    assert_eq!(ids.len(), 14, "every account exactly once: {ids:?}");
}

#[tokio::test]
async fn rate_limits_are_token_buckets_per_operation() {
    let opts = EmulatorOptions {
        rate_limits: BTreeMap::from([
            (
                "ListAccounts".to_owned(),
                RateLimit {
                    rate: 0.001,
                    burst: 2,
                },
            ),
            (
                "*".to_owned(),
                RateLimit {
                    rate: 0.001,
                    burst: 3,
                },
            ),
        ]),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients_with(&emu, "AKIDEXAMPLE", RetryConfig::disabled()).await;
    c.orgs.list_accounts().send().await.unwrap();
    c.orgs.list_accounts().send().await.unwrap();
    assert_eq!(
        error_of(c.orgs.list_accounts().send().await).0,
        "TooManyRequestsException"
    );
    // Every other operation shares the `*` bucket.
    c.lm.list_distributed_grants().send().await.unwrap();
    c.orgs.list_roots().send().await.unwrap();
    c.lm.get_service_settings().send().await.unwrap();
    assert_eq!(
        error_of(c.lm.list_received_licenses().send().await).0,
        "RateLimitExceededException"
    );
    // New options refill the buckets.
    emu.state().update_options(|o| o.rate_limits.clear());
    c.orgs.list_accounts().send().await.unwrap();
}

/// Only lower bounds: a server-side sleep cannot end early, so these never flake. (Paused time
/// would need tokio's `test-util` feature, which the crate does not enable.)
#[tokio::test]
async fn latency_is_added_to_each_call() {
    let opts = EmulatorOptions {
        latency: Duration::from_millis(30),
        op_latency: BTreeMap::from([("GetServiceSettings".to_owned(), Duration::from_millis(120))]),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let t0 = std::time::Instant::now();
    c.list_received_licenses().send().await.unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(30));
    let t1 = std::time::Instant::now();
    c.get_service_settings().send().await.unwrap();
    assert!(t1.elapsed() >= Duration::from_millis(120));
}

const READ_ONLY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["license-manager:List*", "license-manager:Get*", "organizations:Describe*", "organizations:List*"], "Resource": "*"}
  ]
}"#;

#[tokio::test]
async fn iam_policies_refuse_what_they_do_not_allow() {
    let opts = EmulatorOptions {
        iam_policy: Some(PolicyDocument::from_json(READ_ONLY).unwrap()),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await;
    c.lm.list_distributed_grants().send().await.unwrap();
    c.orgs.list_accounts().send().await.unwrap();
    let r =
        c.lm.create_grant()
            .client_token(token())
            .grant_name("g")
            .license_arn(CLAUDE_LICENSE)
            .principals(account_principal(ML_PROD))
            .home_region("us-east-1")
            .set_allowed_operations(Some(ops()))
            .send()
            .await;
    let (code, message) = error_of(r);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("license-manager:CreateGrant"), "{message}");
    assert_eq!(emu.state().grants().len(), 1, "nothing changed");
    let r = c
        .sts
        .assume_role()
        .role_arn("arn:aws:iam::222233334444:role/Recipient")
        .role_session_name("s1")
        .send()
        .await;
    assert_eq!(error_of(r).0, "AccessDenied");

    // Sessions of a role follow that role's policy.
    let recipient_policy = r#"{"Statement":[{"Effect":"Allow","Action":["license-manager:ListReceivedGrants","license-manager:AcceptGrant"]}]}"#;
    emu.state().update_options(|o| {
        o.iam_policy = None;
        o.role_policies.insert(
            "Recipient".to_owned(),
            PolicyDocument::from_json(recipient_policy).unwrap(),
        );
    });
    let recipient = clients_assuming(&c, ML_PROD, "Recipient").await;
    recipient.lm.list_received_grants().send().await.unwrap();
    let (code, _) = error_of(recipient.lm.list_distributed_grants().send().await);
    assert_eq!(code, "AccessDeniedException");
    let other = clients_assuming(&c, ML_PROD, "Admin").await;
    other.lm.list_distributed_grants().send().await.unwrap();
}

#[tokio::test]
async fn admin_endpoint_changes_the_world_out_of_band() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await;
    let (status, state) = admin_get(&emu, "state").await;
    assert_eq!(status, 200);
    assert_eq!(state["organization"]["id"], ORG_ID);
    let foreign = state["grants"][0]["arn"].as_str().unwrap().to_owned();
    assert_eq!(state["grants"][0]["status"], "ACTIVE");

    let (status, g) = admin_post(
        &emu,
        "grants/disable",
        serde_json::json!({"grant_arn": foreign}),
    )
    .await;
    assert_eq!(
        (status, g["status"].as_str(), g["version"].as_u64()),
        (200, Some("DISABLED"), Some(4))
    );
    let seen = c.lm.get_grant().grant_arn(&foreign).send().await.unwrap();
    assert_eq!(seen.grant().unwrap().grant_status(), &GrantStatus::Disabled);
    assert_eq!(seen.grant().unwrap().version(), "4");

    let (status, added) = admin_post(
        &emu,
        "grants",
        serde_json::json!({
            "name": "someone-elses-grant",
            "license_arn": COHERE_LICENSE,
            "principal": ou_principal(OU_SANDBOX),
            "status": "WORKFLOW_COMPLETED",
        }),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let added = added["arn"].as_str().unwrap().to_owned();
    let listed = c.lm.list_distributed_grants().send().await.unwrap();
    assert!(
        listed
            .grants()
            .iter()
            .any(|g| g.grant_arn() == added && g.grant_name() == "someone-elses-grant")
    );
    let (status, _) = admin_post(
        &emu,
        "grants/delete",
        serde_json::json!({"grant_arn": added}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = admin_post(
        &emu,
        "grants/status",
        serde_json::json!({"grant_arn": added, "status": "NOPE"}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = admin_post(
        &emu,
        "grants/disable",
        serde_json::json!({"grant_arn": "arn:aws:license-manager::1:grant:g-1"}),
    )
    .await;
    assert_eq!(status, 404);

    // Accounts move, join and leave.
    let (status, _) = admin_post(
        &emu,
        "accounts/move",
        serde_json::json!({"account_id": ML_DEV, "parent_id": OU_SANDBOX}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = admin_post(
        &emu,
        "accounts",
        serde_json::json!({"id": "161616161616", "name": "new-joiner", "parent": OU_SANDBOX}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = admin_post(
        &emu,
        "accounts/remove",
        serde_json::json!({"account_id": SANDBOX_ALICE}),
    )
    .await;
    assert_eq!(status, 200);
    let sandbox = c
        .orgs
        .list_accounts_for_parent()
        .parent_id(OU_SANDBOX)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = sandbox.accounts().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, ["161616161616", ML_DEV, "666677778888"]);
    let (status, _) = admin_post(
        &emu,
        "accounts/move",
        serde_json::json!({"account_id": ML_DEV, "parent_id": "ou-ab12-nothere1"}),
    )
    .await;
    assert_eq!(status, 404);

    // Knobs.
    let (status, opts) = admin_post(
        &emu,
        "options",
        serde_json::json!({"workflow_reads": 0, "latency": 0}),
    )
    .await;
    assert_eq!((status, opts["workflow_reads"].as_u64()), (200, Some(0)));
    assert_eq!(emu.state().options().workflow_reads, 0);
    let (status, _) = admin_post(&emu, "options", serde_json::json!({"no_such_knob": 1})).await;
    assert_eq!(status, 400);
    let (status, _) = admin_post(
        &emu,
        "organization",
        serde_json::json!({"trusted_access": false}),
    )
    .await;
    assert_eq!(status, 200);
    // The integration is a fact of its own: trusted access off leaves it on.
    let integration = async || {
        c.lm.get_service_settings()
            .send()
            .await
            .unwrap()
            .organization_configuration()
            .map(|o| o.enable_integration())
    };
    assert_eq!(integration().await, Some(true));
    let (status, _) = admin_post(
        &emu,
        "organization",
        serde_json::json!({"enable_integration": false}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(integration().await, Some(false));

    // Counts.
    let (_, calls) = admin_get(&emu, "calls").await;
    assert_eq!(calls["calls"]["GetGrant"], 1);
    assert_eq!(calls["calls"]["ListAccountsForParent"], 1);
    let (status, _) = admin_post(&emu, "calls/reset", serde_json::json!({})).await;
    assert_eq!(status, 200);
    assert!(emu.state().call_counts().is_empty());

    // Back to the seed.
    let (status, _) = admin_post(&emu, "reset", serde_json::json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(emu.state().grants().len(), 1);
    assert_eq!(emu.state().grants()[0].status, "ACTIVE");
    let (status, _) = admin_get(&emu, "nothing-here").await;
    assert_eq!(status, 404);
}
