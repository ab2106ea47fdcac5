//! License Manager through the real `aws-sdk-licensemanager` client: every operation's happy
//! path, request validation, the grant status machine, versions, idempotency, quotas,
//! pagination and filters.

use aws_sdk_licensemanager::Client;
use aws_sdk_licensemanager::types::{
    ActivationOverrideBehavior, AllowedOperation, Filter, GrantStatus, Options, Tag,
};
use bedrock_entitlements::emulator::{EmulatorOptions, GrantSeed, RecallEnd};

use crate::support::*;

fn ops() -> Vec<AllowedOperation> {
    DEFAULT_OPS.iter().map(|o| (*o).into()).collect()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

async fn create(c: &Client, license: &str, principal: &str) -> String {
    let name = format!("bedrock-entitlements-{}", token());
    try_create_grant(c, license, principal, &name, &token())
        .await
        .expect("CreateGrant succeeds")
}

/// Reads the grant until its workflow completes (bounded); returns its status and version.
async fn settle(c: &Client, arn: &str) -> (GrantStatus, String) {
    for _ in 0..10 {
        let g = c.get_grant().grant_arn(arn).send().await.unwrap();
        let g = g.grant().unwrap();
        if g.grant_status() != &GrantStatus::PendingWorkflow {
            return (g.grant_status().clone(), g.version().to_owned());
        }
    }
    panic!("grant {arn} never left PENDING_WORKFLOW");
}

async fn activate(
    c: &Client,
    arn: &str,
    version: &str,
) -> Result<(GrantStatus, String), (String, String)> {
    let r = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(arn)
        .status(GrantStatus::Active)
        .source_version(version)
        .send()
        .await;
    match r {
        Ok(o) => Ok((o.status().unwrap().clone(), o.version().unwrap().to_owned())),
        Err(e) => Err(error_of::<(), _, _>(Err(e))),
    }
}

#[tokio::test]
async fn create_grant_validates_every_member() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let ml_prod = account_principal(ML_PROD);
    let base = || {
        c.create_grant()
            .client_token(token())
            .grant_name("bedrock-entitlements-x")
            .license_arn(CLAUDE_LICENSE)
            .home_region("us-east-1")
            .set_allowed_operations(Some(ops()))
    };
    // (what is wrong, request, expected code, a piece of the expected message)
    let cases = vec![
        (
            "no token",
            base().principals(&ml_prod).set_client_token(None),
            "ValidationException",
            "'clientToken' failed to satisfy constraint: Member must not be null",
        ),
        (
            "no name",
            base().principals(&ml_prod).set_grant_name(None),
            "ValidationException",
            "'grantName'",
        ),
        (
            "no license",
            base().principals(&ml_prod).set_license_arn(None),
            "ValidationException",
            "'licenseArn'",
        ),
        (
            "no principals",
            base(),
            "ValidationException",
            "'principals'",
        ),
        (
            "no home region",
            base().principals(&ml_prod).set_home_region(None),
            "ValidationException",
            "'homeRegion'",
        ),
        (
            "no operations",
            base().principals(&ml_prod).set_allowed_operations(None),
            "ValidationException",
            "'allowedOperations'",
        ),
        (
            "two principals",
            base()
                .principals(&ml_prod)
                .principals(account_principal(ML_DEV)),
            "ValidationException",
            "length between 1 and 1",
        ),
        (
            "empty principals",
            base().set_principals(Some(vec![])),
            "ValidationException",
            "length between 1 and 1",
        ),
        (
            "bad license ARN",
            base().principals(&ml_prod).license_arn("not-an-arn"),
            "ValidationException",
            "regular expression pattern",
        ),
        (
            "unknown operation",
            base()
                .principals(&ml_prod)
                .set_allowed_operations(Some(vec!["Teleport".into()])),
            "ValidationException",
            "enum value set",
        ),
        (
            "nine operations",
            base()
                .principals(&ml_prod)
                .set_allowed_operations(Some(vec![AllowedOperation::CheckoutLicense; 9])),
            "ValidationException",
            "between 1 and 8",
        ),
        (
            "whitespace token",
            base().principals(&ml_prod).client_token("a b"),
            "ValidationException",
            "\\S+",
        ),
        (
            "account outside the org",
            base().principals(account_principal("999999999999")),
            "ValidationException",
            "is not an account of organization o-exampleorg1",
        ),
        (
            "another org",
            base().principals("arn:aws:organizations::111122223333:organization/o-otherorg123"),
            "ValidationException",
            "is not the organization's ARN",
        ),
        (
            "unknown OU",
            base().principals(ou_principal("ou-ab12-nothere1")),
            "ValidationException",
            "is not an organizational unit",
        ),
        (
            "own account",
            base().principals(account_principal(MANAGEMENT)),
            "ValidationException",
            "grantor's own account",
        ),
        (
            "other region",
            base().principals(&ml_prod).home_region("eu-west-1"),
            "ValidationException",
            "HomeRegion eu-west-1",
        ),
        (
            "unknown license",
            base().principals(&ml_prod).license_arn(
                "arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000000",
            ),
            "ValidationException",
            "is not available",
        ),
    ];
    for (what, req, code, message) in cases {
        let (got_code, got_message) = error_of(req.send().await);
        assert_eq!(got_code, code, "{what}: {got_message}");
        assert!(
            got_message.contains(message),
            "{what}: {got_message:?} lacks {message:?}"
        );
    }
    assert!(
        emu.state().grants().len() == 1,
        "only the seeded grant exists"
    );
}

#[tokio::test]
async fn license_without_create_grant_cannot_be_granted() {
    let mut seed = sandbox_seed();
    seed.licenses[1].allowed_operations = DEFAULT_OPS.iter().map(|s| (*s).to_owned()).collect();
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    // Licenses are sorted by ARN in the emulator; find the one we changed by its SKU.
    let lic = c
        .list_received_licenses()
        .filters(filter("ProductSKU", "prod-c0h3r3cmdr01"))
        .send()
        .await
        .unwrap();
    let lic = &lic.licenses()[0];
    let received = lic.received_metadata().unwrap().allowed_operations();
    assert!(!received.contains(&AllowedOperation::CreateGrant));
    let r = c
        .create_grant()
        .client_token(token())
        .grant_name("g")
        .license_arn(lic.license_arn().unwrap())
        .principals(account_principal(ML_PROD))
        .home_region("us-east-1")
        .set_allowed_operations(Some(ops()))
        .send()
        .await;
    let (code, message) = error_of(r);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("CreateGrant"), "{message}");
}

#[tokio::test]
async fn account_grant_status_machine() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, CLAUDE_LICENSE, &account_principal(ML_PROD)).await;

    // Activation while the creation workflow runs is refused.
    let (code, message) = activate(&c, &arn, "1").await.unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(message.contains("PENDING_WORKFLOW"), "{message}");

    assert_eq!(
        settle(&c, &arn).await,
        (GrantStatus::Disabled, "2".to_owned())
    );
    assert_eq!(
        activate(&c, &arn, "2").await,
        Ok((GrantStatus::Active, "3".to_owned()))
    );

    // Only ACTIVE and DISABLED can be asked for.
    let r = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::WorkflowCompleted)
        .send()
        .await;
    assert_eq!(error_of(r).0, "ValidationException");

    let off = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Disabled)
        .status_reason("paused by the platform team")
        .source_version("3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (off.status(), off.version()),
        (Some(&GrantStatus::Disabled), Some("4"))
    );

    // Rename and change operations: a new version, status kept.
    let renamed = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .grant_name("bedrock-entitlements-renamed")
        .allowed_operations(AllowedOperation::CheckoutLicense)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (renamed.status(), renamed.version()),
        (Some(&GrantStatus::Disabled), Some("5"))
    );
    let g = c.get_grant().grant_arn(&arn).send().await.unwrap();
    let g = g.grant().unwrap();
    assert_eq!(g.grant_name(), "bedrock-entitlements-renamed");
    assert_eq!(g.granted_operations(), [AllowedOperation::CheckoutLicense]);
    assert_eq!(g.status_reason(), Some("paused by the platform team"));

    // An older version is still readable.
    let v3 = c
        .get_grant()
        .grant_arn(&arn)
        .version("3")
        .send()
        .await
        .unwrap();
    assert_eq!(v3.grant().unwrap().grant_status(), &GrantStatus::Active);
}

#[tokio::test]
async fn org_and_ou_grants_activate_through_a_workflow() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    for principal in [ORG_ARN.to_owned(), ou_principal(OU_WORKLOADS)] {
        let arn = create(&c, CLAUDE_LICENSE, &principal).await;
        assert_eq!(
            settle(&c, &arn).await,
            (GrantStatus::Disabled, "2".to_owned())
        );
        assert_eq!(
            activate(&c, &arn, "2").await,
            Ok((GrantStatus::PendingWorkflow, "3".to_owned()))
        );
        assert_eq!(
            settle(&c, &arn).await,
            (GrantStatus::WorkflowCompleted, "4".to_owned())
        );
        // Asking again for ACTIVE changes nothing but the version.
        assert_eq!(
            activate(&c, &arn, "4").await,
            Ok((GrantStatus::WorkflowCompleted, "5".to_owned()))
        );
        let off = c
            .create_grant_version()
            .client_token(token())
            .grant_arn(&arn)
            .status(GrantStatus::Disabled)
            .send()
            .await
            .unwrap();
        assert_eq!(off.status(), Some(&GrantStatus::PendingWorkflow));
        // A recall ends in WORKFLOW_COMPLETED ("the workflow to distribute or recall the grant
        // has been completed"), with every share DISABLED.
        assert_eq!(
            settle(&c, &arn).await,
            (GrantStatus::WorkflowCompleted, "7".to_owned())
        );
        assert!(
            emu.state()
                .entitlements()
                .iter()
                .all(|e| !e.grants.contains(&arn))
        );
        // Activating it again is not a no-op: a new activation workflow.
        assert_eq!(
            activate(&c, &arn, "7").await,
            Ok((GrantStatus::PendingWorkflow, "8".to_owned()))
        );
        assert_eq!(
            settle(&c, &arn).await,
            (GrantStatus::WorkflowCompleted, "9".to_owned())
        );
        assert!(
            emu.state()
                .entitlements()
                .iter()
                .any(|e| e.grants.contains(&arn))
        );
        c.delete_grant()
            .grant_arn(&arn)
            .version("9")
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn recall_ends_in_disabled_with_the_knob() {
    let opts = EmulatorOptions {
        recall_ends_in: RecallEnd::Disabled,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, CLAUDE_LICENSE, &ou_principal(OU_ML)).await;
    settle(&c, &arn).await;
    activate(&c, &arn, "2").await.unwrap();
    settle(&c, &arn).await;
    let off = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Disabled)
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), Some(&GrantStatus::PendingWorkflow));
    assert_eq!(
        settle(&c, &arn).await,
        (GrantStatus::Disabled, "6".to_owned())
    );
    assert_eq!(
        activate(&c, &arn, "6").await,
        Ok((GrantStatus::PendingWorkflow, "7".to_owned()))
    );
}

#[tokio::test]
async fn workflow_reads_knob_sets_how_long_a_workflow_takes() {
    for reads in [0u32, 3] {
        let opts = EmulatorOptions {
            workflow_reads: reads,
            ..EmulatorOptions::default()
        };
        let emu = start_emulator(sandbox_seed(), opts).await;
        let c = clients(&emu).await.lm;
        let arn = create(&c, CLAUDE_LICENSE, &account_principal(ML_PROD)).await;
        let mut seen = Vec::new();
        for _ in 0..=reads {
            let g = c.get_grant().grant_arn(&arn).send().await.unwrap();
            seen.push(g.grant().unwrap().grant_status().clone());
        }
        let mut expected = vec![GrantStatus::PendingWorkflow; reads as usize];
        expected.push(GrantStatus::Disabled);
        assert_eq!(seen, expected, "workflow_reads = {reads}");
    }
}

#[tokio::test]
async fn stale_versions_are_refused() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, CLAUDE_LICENSE, &account_principal(ML_PROD)).await;
    settle(&c, &arn).await; // version 2 now: the workflow moved it

    let (code, message) = error_of(c.delete_grant().grant_arn(&arn).version("1").send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "A grant cannot be deleted since the version provided doesn't match the latest version 2 in our records"
    );
    let (code, message) = activate(&c, &arn, "1").await.unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("doesn't match the latest version 2 in our records"),
        "{message}"
    );
    let (code, _) = error_of(c.delete_grant().grant_arn(&arn).send().await);
    assert_eq!(code, "ValidationException", "Version is required");
}

#[tokio::test]
async fn deleted_grants_stay_readable_and_free_the_principal() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let principal = account_principal(ML_PROD);
    let arn = create(&c, CLAUDE_LICENSE, &principal).await;

    // A second live grant for the same (license, principal) is refused.
    let dup = c
        .create_grant()
        .client_token(token())
        .grant_name("another")
        .license_arn(CLAUDE_LICENSE)
        .principals(&principal)
        .home_region("us-east-1")
        .set_allowed_operations(Some(ops()))
        .send()
        .await;
    let (code, message) = error_of(dup);
    assert_eq!(code, "ValidationException");
    assert!(
        message.contains("already exists") && message.contains(&arn),
        "{message}"
    );

    let (_, version) = settle(&c, &arn).await;
    let del = c
        .delete_grant()
        .grant_arn(&arn)
        .version(&version)
        .status_reason("no longer needed")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (del.status(), del.version()),
        (Some(&GrantStatus::Deleted), Some("3"))
    );
    let g = c.get_grant().grant_arn(&arn).send().await.unwrap();
    assert_eq!(g.grant().unwrap().grant_status(), &GrantStatus::Deleted);
    let listed = c
        .list_distributed_grants()
        .filters(filter("GrantStatus", "DELETED"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.grants().len(), 1);
    assert_eq!(listed.grants()[0].grant_arn(), arn);

    assert_eq!(
        error_of(c.delete_grant().grant_arn(&arn).version("3").send().await).0,
        "ValidationException"
    );
    assert_eq!(
        activate(&c, &arn, "3").await.unwrap_err().0,
        "ValidationException"
    );
    // The principal can be granted again.
    let again = create(&c, CLAUDE_LICENSE, &principal).await;
    assert_ne!(again, arn);
    // Unknown grants are not found.
    let missing = "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000";
    assert_eq!(
        error_of(c.get_grant().grant_arn(missing).send().await).0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        error_of(c.get_grant().grant_arn("nope").send().await).0,
        "ValidationException"
    );
}

#[tokio::test]
async fn client_tokens_make_calls_idempotent() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let req = |name: &str| {
        c.create_grant()
            .client_token("token-1")
            .grant_name(name)
            .license_arn(CLAUDE_LICENSE)
            .principals(account_principal(ML_PROD))
            .home_region("us-east-1")
            .set_allowed_operations(Some(ops()))
    };
    let first = req("bedrock-entitlements-a").send().await.unwrap();
    let replay = req("bedrock-entitlements-a").send().await.unwrap();
    assert_eq!(first.grant_arn(), replay.grant_arn());
    assert_eq!(first.version(), replay.version());
    assert_eq!(
        emu.state().grants().len(),
        2,
        "the seeded grant and one new grant"
    );
    let (code, message) = error_of(req("bedrock-entitlements-b").send().await);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("token-1"), "{message}");

    // CreateGrantVersion too: the replay answers the first version, no new one is made.
    let arn = first.grant_arn().unwrap();
    settle(&c, arn).await;
    let v = |status: GrantStatus| {
        c.create_grant_version()
            .client_token("token-2")
            .grant_arn(arn)
            .status(status)
            .source_version("2")
    };
    let a = v(GrantStatus::Active).send().await.unwrap();
    let b = v(GrantStatus::Active).send().await.unwrap();
    assert_eq!((a.version(), b.version()), (Some("3"), Some("3")));
    assert_eq!(emu.state().grant(arn).unwrap().version, 3);
    assert_eq!(
        error_of(v(GrantStatus::Disabled).send().await).0,
        "ValidationException"
    );
}

#[tokio::test]
async fn two_thousand_grants_per_license() {
    let mut seed = seed_with_accounts(2_001);
    for i in 0..1_999 {
        seed.grants.push(GrantSeed {
            arn: None,
            name: format!("bulk-{i}"),
            license_arn: COHERE_LICENSE.to_owned(),
            principal: account_principal(&bulk_account(i)),
            grantor: None,
            status: if i % 2 == 0 { "ACTIVE" } else { "DISABLED" }.to_owned(),
            status_reason: None,
            version: 1,
            operations: DEFAULT_OPS.iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    // A deleted grant does not count.
    seed.grants.push(GrantSeed {
        status: "DELETED".to_owned(),
        principal: account_principal(ML_PROD),
        name: "old".to_owned(),
        ..seed.grants[0].clone()
    });
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    create(&c, COHERE_LICENSE, &account_principal(&bulk_account(1_999))).await;
    let r = c
        .create_grant()
        .client_token(token())
        .grant_name("one-too-many")
        .license_arn(COHERE_LICENSE)
        .principals(account_principal(&bulk_account(2_000)))
        .home_region("us-east-1")
        .set_allowed_operations(Some(ops()))
        .send()
        .await;
    let (code, message) = error_of(r);
    assert_eq!(code, "ResourceLimitExceededException");
    assert!(message.contains("2000"), "{message}");
    // Another license is not affected.
    create(&c, CLAUDE_LICENSE, &account_principal(&bulk_account(2_000))).await;
}

#[tokio::test]
async fn distributed_grants_page_and_filter() {
    let mut seed = seed_with_accounts(250);
    for i in 0..250 {
        seed.grants.push(GrantSeed {
            arn: None,
            name: format!("bulk-{i}"),
            license_arn: if i % 5 == 0 {
                COHERE_LICENSE
            } else {
                CLAUDE_LICENSE
            }
            .to_owned(),
            principal: account_principal(&bulk_account(i)),
            grantor: None,
            status: if i % 2 == 0 { "ACTIVE" } else { "DISABLED" }.to_owned(),
            status_reason: None,
            version: 1,
            operations: DEFAULT_OPS.iter().map(|s| (*s).to_owned()).collect(),
        });
    }
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;

    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = c
            .list_distributed_grants()
            .max_results(100)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        arns.extend(page.grants().iter().map(|g| g.grant_arn().to_owned()));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        arns.len(),
        251,
        "250 bulk grants and the seeded foreign one"
    );
    let mut unique = arns.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 251);

    // Every matching grant, across pages of the default size.
    let count = |filters: Vec<Filter>| {
        let c = c.clone();
        async move {
            let (mut n, mut token) = (0, None);
            loop {
                let page = c
                    .list_distributed_grants()
                    .set_filters(Some(filters.clone()))
                    .set_next_token(token)
                    .send()
                    .await
                    .unwrap();
                n += page.grants().len();
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    return n;
                }
            }
        }
    };
    assert_eq!(count(vec![filter("LicenseArn", COHERE_LICENSE)]).await, 50);
    assert_eq!(
        count(vec![filter("ProductSKU", "prod-c0h3r3cmdr01")]).await,
        50
    );
    assert_eq!(count(vec![filter("GrantStatus", "ACTIVE")]).await, 126);
    assert_eq!(
        count(vec![
            filter("GrantStatus", "ACTIVE"),
            filter("LicenseArn", COHERE_LICENSE)
        ])
        .await,
        25
    );
    assert_eq!(
        count(vec![filter(
            "GranteePrincipalARN",
            &account_principal(&bulk_account(7))
        )])
        .await,
        1
    );
    assert_eq!(
        count(vec![filter("LicenseIssuerName", "AWS/Marketplace")]).await,
        251
    );
    let first = c.list_distributed_grants().send().await.unwrap();
    assert_eq!(first.grants().len(), 100, "default page size");
    assert_eq!(
        count(vec![filter("LicenseIssuerName", "Someone Else")]).await,
        0
    );

    let by_arn = c
        .list_distributed_grants()
        .grant_arns(&arns[3])
        .grant_arns(&arns[4])
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.grants().len(), 2);

    // Validation of the list parameters.
    let bad = |r| async move { error_of::<_, _, _>(r) };
    let (code, msg) = bad(c
        .list_distributed_grants()
        .filters(filter("granteePrincipalArn", "x"))
        .send()
        .await)
    .await;
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("GranteePrincipalARN"), "{msg}");
    let two = Filter::builder()
        .name("GrantStatus")
        .values("ACTIVE")
        .values("DISABLED")
        .build();
    let (code, msg) = bad(c.list_distributed_grants().filters(two).send().await).await;
    assert_eq!(code, "ValidationException");
    assert!(msg.contains("one value"), "{msg}");
    for max in [0, 101] {
        let (code, _) = bad(c.list_distributed_grants().max_results(max).send().await).await;
        assert_eq!(code, "ValidationException", "MaxResults {max}");
    }
    let (code, _) = bad(c
        .list_distributed_grants()
        .next_token("garbage")
        .send()
        .await)
    .await;
    assert_eq!(code, "ValidationException");
}

#[tokio::test]
async fn responses_carry_every_required_member() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, CLAUDE_LICENSE, &ou_principal(OU_ML)).await;
    let required = [
        "GrantArn",
        "GrantName",
        "ParentArn",
        "LicenseArn",
        "GranteePrincipalArn",
        "HomeRegion",
        "GrantStatus",
        "Version",
        "GrantedOperations",
    ];
    let (status, request_id, body) = raw_json_call(
        &emu,
        "AWSLicenseManager.GetGrant",
        &format!("{{\"GrantArn\":\"{arn}\"}}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(request_id.is_some_and(|r| !r.is_empty()));
    for m in required {
        assert!(!body["Grant"][m].is_null(), "GetGrant lacks {m}: {body}");
    }
    let (_, _, body) = raw_json_call(&emu, "AWSLicenseManager.ListDistributedGrants", "{}").await;
    let grants = body["Grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    for g in grants {
        for m in required {
            assert!(!g[m].is_null(), "ListDistributedGrants item lacks {m}: {g}");
        }
    }
    // The same through the SDK, parsed into its types.
    let g = c.get_grant().grant_arn(&arn).send().await.unwrap();
    let g = g.grant().unwrap();
    assert_eq!(g.grant_arn(), arn);
    assert_eq!(g.license_arn(), CLAUDE_LICENSE);
    assert_eq!(
        g.parent_arn(),
        "arn:aws:license-manager::294406891311:grant:g-5e1f0a2b3c4d4e5f8a9b0c1d2e3f4a51"
    );
    assert_eq!(g.home_region(), "us-east-1");
    assert_eq!(g.granted_operations().len(), 5);

    let lic = c
        .get_license()
        .license_arn(CLAUDE_LICENSE)
        .send()
        .await
        .unwrap();
    let lic = lic.license().unwrap();
    assert_eq!(lic.product_sku(), Some("prod-cl4ud3s0nn3t1"));
    assert_eq!(lic.issuer().and_then(|i| i.name()), Some("AWS/Marketplace"));
    assert!(
        lic.create_time().is_some_and(|t| t.parse::<i64>().is_ok()),
        "epoch-seconds string"
    );
    assert!(lic.validity().is_some_and(|v| !v.begin().is_empty()));
    assert!(lic.entitlements().iter().all(|e| !e.name().is_empty()));

    // Errors: JSON with __type and message, the request id header, HTTP 400.
    let (status, request_id, body) = raw_json_call(&emu, "AWSLicenseManager.GetGrant", "{}").await;
    assert_eq!(status, 400);
    assert!(request_id.is_some());
    assert_eq!(body["__type"], "ValidationException");
    assert!(body["message"].as_str().unwrap().contains("grantArn"));
    let (status, _, body) = raw_json_call(&emu, "AWSLicenseManager.Teleport", "{}").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (status, _, body) = raw_json_call(&emu, "AWSLicenseManager.GetGrant", "{not json").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (status, headers, _) = raw_http(
        &emu,
        "POST",
        "/",
        &[
            ("X-Amz-Target", "AWSLicenseManager.GetServiceSettings"),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        "{}",
    )
    .await;
    assert_eq!(status, 400, "unsigned requests are refused");
    assert!(headers.iter().any(|(k, _)| k == "x-amzn-requestid"));
}

#[tokio::test]
async fn licenses_tags_and_settings() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;

    let all = c.list_received_licenses().send().await.unwrap();
    assert_eq!(all.licenses().len(), 4);
    for l in all.licenses() {
        let meta = l.received_metadata().unwrap();
        assert_eq!(
            meta.received_status(),
            Some(&aws_sdk_licensemanager::types::ReceivedStatus::Active)
        );
        assert!(
            meta.allowed_operations()
                .contains(&AllowedOperation::CreateGrant)
        );
        assert_eq!(
            l.beneficiary(),
            Some(account_principal(MANAGEMENT).as_str())
        );
        assert!(
            l.license_metadata()
                .iter()
                .any(|m| m.name() == Some("grantArn"))
        );
    }
    let paged = c
        .list_received_licenses()
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(paged.licenses().len(), 3);
    let rest = c
        .list_received_licenses()
        .max_results(3)
        .next_token(paged.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!((rest.licenses().len(), rest.next_token()), (1, None));
    for (name, value, n) in [
        ("IssuerName", "AWS/Marketplace", 4),
        ("Status", "AVAILABLE", 4),
        ("Beneficiary", MANAGEMENT, 4),
        (
            "Fingerprint",
            "aws:294406891311:AWS/Marketplace:issuer-fingerprint",
            4,
        ),
        ("ProductSKU", "prod-a121jamba001", 1),
    ] {
        let r = c
            .list_received_licenses()
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        assert_eq!(r.licenses().len(), n, "{name}={value}");
    }
    let by_arn = c
        .list_received_licenses()
        .license_arns(CLAUDE_LICENSE)
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.licenses().len(), 1);
    assert_eq!(
        error_of(
            c.list_received_licenses()
                .filters(filter("LicenseArn", "x"))
                .send()
                .await
        )
        .0,
        "ValidationException"
    );
    // The management account issued no license itself.
    assert!(
        c.list_licenses()
            .send()
            .await
            .unwrap()
            .licenses()
            .is_empty()
    );
    assert_eq!(
        error_of(c.get_license().send().await).0,
        "ValidationException"
    );

    // Tags on a grant.
    let arn = c
        .create_grant()
        .client_token(token())
        .grant_name("bedrock-entitlements-tagged")
        .license_arn(CLAUDE_LICENSE)
        .principals(account_principal(ML_DEV))
        .home_region("us-east-1")
        .set_allowed_operations(Some(ops()))
        .tags(Tag::builder().key("team").value("ml").build())
        .send()
        .await
        .unwrap()
        .grant_arn()
        .unwrap()
        .to_owned();
    c.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("owner").value("platform").build())
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["owner", "team"]);
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(emu.state().grant(&arn).unwrap().tags.len(), 1);
    let missing = "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000000";
    assert_eq!(
        error_of(
            c.list_tags_for_resource()
                .resource_arn(missing)
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        error_of(c.tag_resource().resource_arn(&arn).send().await).0,
        "ValidationException"
    );
    assert_eq!(
        error_of(c.untag_resource().resource_arn(&arn).send().await).0,
        "ValidationException"
    );

    let s = c.get_service_settings().send().await.unwrap();
    assert_eq!(
        s.organization_configuration()
            .map(|o| o.enable_integration()),
        Some(true)
    );
    assert!(s.s3_bucket_arn().is_some() && s.sns_topic_arn().is_some());

    // Options on a version.
    settle(&c, &arn).await;
    let v = c
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Active)
        .options(
            Options::builder()
                .activation_override_behavior(
                    ActivationOverrideBehavior::AllGrantsPermittedByIssuer,
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(v.status(), Some(&GrantStatus::Active));
    let g = c.get_grant().grant_arn(&arn).send().await.unwrap();
    assert_eq!(
        g.grant()
            .unwrap()
            .options()
            .and_then(|o| o.activation_override_behavior()),
        Some(&ActivationOverrideBehavior::AllGrantsPermittedByIssuer)
    );
}

#[tokio::test]
async fn grants_exist_only_in_the_home_region() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await;
    let eu = aws_sdk_licensemanager::config::Builder::from(&c.config)
        .region(aws_sdk_licensemanager::config::Region::new("eu-west-1"))
        .endpoint_url(emu.endpoint_url())
        .build();
    let eu = Client::from_conf(eu);
    assert!(
        eu.list_distributed_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
    assert!(
        eu.list_received_licenses()
            .send()
            .await
            .unwrap()
            .licenses()
            .is_empty()
    );
    assert_eq!(
        c.lm.list_distributed_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .len(),
        1
    );
}

/// Every operation's request validation, straight on the wire: (target, body, code, message piece).
#[tokio::test]
async fn every_operation_validates_its_input() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let grant = emu.state().grants()[0].arn.clone();
    let long = "x".repeat(401);
    let lm = |op: &str| format!("AWSLicenseManager.{op}");
    let org = |op: &str| format!("AWSOrganizationsV20161128.{op}");
    let cases: Vec<(String, String, &str, &str)> = vec![
        (
            lm("CreateGrantVersion"),
            "{}".into(),
            "ValidationException",
            "'clientToken'",
        ),
        (
            lm("CreateGrantVersion"),
            r#"{"ClientToken":"t"}"#.into(),
            "ValidationException",
            "'grantArn'",
        ),
        (
            lm("CreateGrantVersion"),
            format!(r#"{{"ClientToken":"t","GrantArn":"{grant}","Status":"ON"}}"#),
            "ValidationException",
            "'status'",
        ),
        (
            lm("CreateGrantVersion"),
            format!(r#"{{"ClientToken":"t","GrantArn":"{grant}","GrantName":""}}"#),
            "ValidationException",
            "'grantName'",
        ),
        (
            lm("CreateGrantVersion"),
            format!(r#"{{"ClientToken":"t","GrantArn":"{grant}","StatusReason":"{long}"}}"#),
            "ValidationException",
            "'statusReason'",
        ),
        (
            lm("CreateGrantVersion"),
            format!(
                r#"{{"ClientToken":"t","GrantArn":"{grant}","Options":{{"ActivationOverrideBehavior":"ALL"}}}}"#
            ),
            "ValidationException",
            "activationOverrideBehavior",
        ),
        (
            lm("CreateGrantVersion"),
            format!(r#"{{"ClientToken":"t","GrantArn":"{grant}","AllowedOperations":[]}}"#),
            "ValidationException",
            "between 1 and 8",
        ),
        (
            lm("DeleteGrant"),
            "{}".into(),
            "ValidationException",
            "'grantArn'",
        ),
        (
            lm("DeleteGrant"),
            format!(r#"{{"GrantArn":"{grant}"}}"#),
            "ValidationException",
            "'version'",
        ),
        (
            lm("AcceptGrant"),
            "{}".into(),
            "ValidationException",
            "'grantArn'",
        ),
        (
            lm("RejectGrant"),
            "{}".into(),
            "ValidationException",
            "'grantArn'",
        ),
        (
            lm("GetGrant"),
            format!(r#"{{"GrantArn":"{grant}","Version":"99"}}"#),
            "ValidationException",
            "no version 99",
        ),
        (
            lm("GetLicense"),
            "{}".into(),
            "ValidationException",
            "'licenseArn'",
        ),
        (
            lm("GetLicense"),
            format!(r#"{{"LicenseArn":"{CLAUDE_LICENSE}","Version":"2"}}"#),
            "ValidationException",
            "no version 2",
        ),
        (
            lm("ListReceivedGrantsForOrganization"),
            "{}".into(),
            "ValidationException",
            "'licenseArn'",
        ),
        (
            lm("ListReceivedGrants"),
            r#"{"Filters":[{"Name":"GranteePrincipalARN","Values":["x"]}]}"#.into(),
            "ValidationException",
            "not supported",
        ),
        (
            lm("ListReceivedGrants"),
            r#"{"MaxResults":"ten"}"#.into(),
            "SerializationException",
            "MaxResults",
        ),
        (
            lm("ListLicenses"),
            r#"{"Filters":[{"Name":"IssuerName","Values":["x"]}]}"#.into(),
            "ValidationException",
            "not supported",
        ),
        (
            lm("ListReceivedLicenses"),
            r#"{"Filters":[{"Name":"Status","Values":[]}]}"#.into(),
            "ValidationException",
            "must have a value",
        ),
        (
            lm("ListDistributedGrants"),
            r#"{"GrantArns":["bad"]}"#.into(),
            "ValidationException",
            "'grantArns'",
        ),
        (
            lm("TagResource"),
            "{}".into(),
            "ValidationException",
            "'resourceArn'",
        ),
        (
            lm("UntagResource"),
            format!(r#"{{"ResourceArn":"{grant}"}}"#),
            "ValidationException",
            "'tagKeys'",
        ),
        (
            lm("ListTagsForResource"),
            "{}".into(),
            "ValidationException",
            "'resourceArn'",
        ),
        (
            lm("CreateGrant"),
            "[]".into(),
            "SerializationException",
            "JSON object",
        ),
        (
            org("DescribeAccount"),
            "{}".into(),
            "InvalidInputException",
            "AccountId",
        ),
        (
            org("DescribeOrganizationalUnit"),
            "{}".into(),
            "InvalidInputException",
            "OrganizationalUnitId",
        ),
        (
            org("DescribeOrganizationalUnit"),
            r#"{"OrganizationalUnitId":"ou-x"}"#.into(),
            "InvalidInputException",
            "OrganizationalUnitId",
        ),
        (
            org("ListParents"),
            "{}".into(),
            "InvalidInputException",
            "ChildId",
        ),
        (
            org("ListParents"),
            r#"{"ChildId":"r-ab12"}"#.into(),
            "InvalidInputException",
            "ChildId",
        ),
        (
            org("ListChildren"),
            r#"{"ParentId":"r-ab12","ChildType":"POLICY"}"#.into(),
            "InvalidInputException",
            "ChildType",
        ),
        (
            org("ListOrganizationalUnitsForParent"),
            "{}".into(),
            "InvalidInputException",
            "ParentId",
        ),
        (
            org("ListRoots"),
            r#"{"MaxResults":0}"#.into(),
            "InvalidInputException",
            "greater than or equal to 1",
        ),
        (
            org("CreateAccount"),
            "{}".into(),
            "UnknownOperationException",
            "CreateAccount",
        ),
        (
            "AWSNothing.Foo".into(),
            "{}".into(),
            "UnknownOperationException",
            "AWSNothing.Foo",
        ),
    ];
    for (target, body, code, piece) in cases {
        let (status, request_id, answer) = raw_json_call(&emu, &target, &body).await;
        assert_eq!(status, 400, "{target} {body}: {answer}");
        assert!(request_id.is_some(), "{target}: no request id");
        assert_eq!(answer["__type"], code, "{target} {body}: {answer}");
        let message = answer["message"]
            .as_str()
            .or(answer["Message"].as_str())
            .unwrap_or("");
        assert!(
            message.contains(piece),
            "{target} {body}: {message:?} lacks {piece:?}"
        );
    }
    assert_eq!(emu.state().grants()[0].version, 3, "nothing changed");
}

#[tokio::test]
async fn issued_licenses_and_received_grant_filters() {
    let mut seed = sandbox_seed();
    // A license the management account issued itself (not a Marketplace one).
    let own = "arn:aws:license-manager::111122223333:license:l-00000000000000000000000000000abc";
    let mut issued = seed.licenses[0].clone();
    issued.arn = own.to_owned();
    issued.issuer = "Example Corp".to_owned();
    issued.product_sku = "prod-internal01".to_owned();
    issued.beneficiary = Some(ML_PROD.to_owned());
    issued.grant_arn = None;
    seed.licenses.push(issued);
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let mine = c.list_licenses().send().await.unwrap();
    assert_eq!(mine.licenses().len(), 1);
    assert_eq!(mine.licenses()[0].license_arn(), Some(own));
    assert_eq!(
        mine.licenses()[0].beneficiary(),
        Some(account_principal(ML_PROD).as_str())
    );
    let filtered = c
        .list_licenses()
        .filters(filter("ProductSKU", "prod-other"))
        .send()
        .await
        .unwrap();
    assert!(filtered.licenses().is_empty());
    let got = c.get_license().license_arn(own).send().await.unwrap();
    assert_eq!(
        got.license().unwrap().issuer().and_then(|i| i.name()),
        Some("Example Corp")
    );
    // A license neither issued nor received is not found.
    let member = clients_as(&emu, DATA_PROD).await.lm;
    assert_eq!(
        error_of(member.get_license().license_arn(own).send().await).0,
        "ResourceNotFoundException"
    );

    // Received grants, filtered as the recipient sees them.
    let arn = create(&c, CLAUDE_LICENSE, &account_principal(DATA_PROD)).await;
    settle(&c, &arn).await;
    for (name, value, n) in [
        ("GranterAccountId", MANAGEMENT, 1),
        ("GranterAccountId", ML_PROD, 0),
        ("ProductSKU", "prod-cl4ud3s0nn3t1", 1),
        ("LicenseIssuerName", "AWS/Marketplace", 1),
        ("LicenseArn", COHERE_LICENSE, 0),
        ("GrantStatus", "DISABLED", 1),
    ] {
        let r = member
            .list_received_grants()
            .filters(filter(name, value))
            .send()
            .await
            .unwrap();
        assert_eq!(r.grants().len(), n, "{name}={value}");
    }
    let r = member
        .list_received_grants()
        .grant_arns(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(r.grants().len(), 1);
    // A member cannot see or change grants that are not its own.
    let other = clients_as(&emu, ML_DEV).await.lm;
    assert_eq!(
        error_of(other.get_grant().grant_arn(&arn).send().await).0,
        "ResourceNotFoundException"
    );
    assert_eq!(
        error_of(
            other
                .delete_grant()
                .grant_arn(&arn)
                .version("2")
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException"
    );
    let (code, _) = error_of(
        member
            .delete_grant()
            .grant_arn(&arn)
            .version("2")
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException", "the grantee cannot delete");
}
