//! Every organization shape: consolidated billing with acceptance in member accounts (through
//! STS AssumeRole credentials), grants waiting on recipients in all-features organizations,
//! trusted access off, a delegated administrator, and org/OU grants reaching member accounts.

use aws_sdk_licensemanager::types::{Filter, GrantStatus};
use aws_sdk_organizations::types::OrganizationFeatureSet;
use bedrock_entitlements::emulator::{EmulatorOptions, FeatureSetSeed};

use crate::support::*;

async fn create(
    c: &aws_sdk_licensemanager::Client,
    principal: &str,
) -> Result<String, (String, String)> {
    let name = "bedrock-entitlements-claude";
    try_create_grant(c, CLAUDE_LICENSE, principal, name, &token()).await
}

async fn status(c: &aws_sdk_licensemanager::Client, arn: &str) -> (GrantStatus, String) {
    let g = c.get_grant().grant_arn(arn).send().await.unwrap();
    let g = g.grant().unwrap();
    (g.grant_status().clone(), g.version().to_owned())
}

fn cb_seed() -> bedrock_entitlements::emulator::Seed {
    let mut seed = sandbox_seed();
    seed.organization.feature_set = FeatureSetSeed::ConsolidatedBilling;
    seed.organization.trusted_access = false;
    seed
}

#[tokio::test]
async fn consolidated_billing_recipient_accepts_and_activates_through_assume_role() {
    let emu = start_emulator(cb_seed(), EmulatorOptions::default()).await;
    let grantor = clients(&emu).await;
    let org = grantor.orgs.describe_organization().send().await.unwrap();
    assert_eq!(
        org.organization().unwrap().feature_set(),
        Some(&OrganizationFeatureSet::ConsolidatedBilling)
    );

    // Org and OU grants need trusted access, which a consolidated-billing org cannot have.
    for principal in [ORG_ARN.to_owned(), ou_principal(OU_ML)] {
        let (code, message) = create(&grantor.lm, &principal).await.unwrap_err();
        assert_eq!(code, "ValidationException");
        assert_eq!(
            message,
            "Grantor has disabled Trusted Access to AWS License Manager Service in AWS Organizations"
        );
    }

    let arn = create(&grantor.lm, &account_principal(ML_PROD))
        .await
        .unwrap();
    assert_eq!(
        status(&grantor.lm, &arn).await.0,
        GrantStatus::PendingWorkflow
    );
    assert_eq!(
        status(&grantor.lm, &arn).await,
        (GrantStatus::PendingAccept, "2".to_owned())
    );

    // The grantor can neither accept nor activate on the recipient's behalf.
    let (code, message) = error_of(grantor.lm.accept_grant().grant_arn(&arn).send().await);
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        "Caller arn:aws:iam::111122223333:root is not allowed to accept this grant."
    );
    let r = grantor
        .lm
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Active)
        .send()
        .await;
    assert!(error_of(r).1.contains("accept"));

    // Another member cannot accept it either.
    let other = clients_assuming(&grantor, ML_DEV, "OrganizationAccountAccessRole").await;
    assert_eq!(
        error_of(other.lm.accept_grant().grant_arn(&arn).send().await).0,
        "ValidationException"
    );

    // The recipient, through AssumeRole credentials.
    let recipient = clients_assuming(&grantor, ML_PROD, "OrganizationAccountAccessRole").await;
    let who = recipient.sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(ML_PROD));
    assert_eq!(
        who.arn(),
        Some(
            "arn:aws:sts::222233334444:assumed-role/OrganizationAccountAccessRole/bedrock-entitlements-test"
        )
    );
    let received = recipient
        .lm
        .list_received_grants()
        .filters(
            Filter::builder()
                .name("GrantStatus")
                .values("PENDING_ACCEPT")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(received.grants().len(), 1);
    assert_eq!(received.grants()[0].grant_arn(), arn);
    let licenses = recipient.lm.list_received_licenses().send().await.unwrap();
    let lic = &licenses.licenses()[0];
    assert_eq!(lic.license_arn(), Some(CLAUDE_LICENSE));
    assert_eq!(lic.beneficiary(), Some(account_principal(ML_PROD).as_str()));

    let accepted = recipient
        .lm
        .accept_grant()
        .grant_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (accepted.status(), accepted.version()),
        (Some(&GrantStatus::Disabled), Some("3"))
    );
    let (code, _) = error_of(recipient.lm.accept_grant().grant_arn(&arn).send().await);
    assert_eq!(code, "ValidationException", "accepting twice");
    let active = recipient
        .lm
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Active)
        .source_version("3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (active.status(), active.version()),
        (Some(&GrantStatus::Active), Some("4"))
    );
    // The recipient may not rename the grant.
    let r = recipient
        .lm
        .create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .grant_name("mine")
        .send()
        .await;
    assert_eq!(error_of(r).0, "ValidationException");
    assert_eq!(
        status(&grantor.lm, &arn).await,
        (GrantStatus::Active, "4".to_owned())
    );
    assert_eq!(emu.state().call_count("AssumeRole"), 2);
}

#[tokio::test]
async fn rejected_grants_are_final_and_can_be_replaced() {
    let emu = start_emulator(cb_seed(), EmulatorOptions::default()).await;
    let grantor = clients(&emu).await;
    let arn = create(&grantor.lm, &account_principal(DATA_PROD))
        .await
        .unwrap();
    status(&grantor.lm, &arn).await;
    status(&grantor.lm, &arn).await;
    let recipient = clients_as(&emu, DATA_PROD).await;
    let rejected = recipient
        .lm
        .reject_grant()
        .grant_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), Some(&GrantStatus::Rejected));
    assert_eq!(
        error_of(recipient.lm.accept_grant().grant_arn(&arn).send().await).0,
        "ValidationException"
    );
    let again = create(&grantor.lm, &account_principal(DATA_PROD))
        .await
        .unwrap();
    assert_ne!(again, arn);
}

#[tokio::test]
async fn account_grants_wait_for_acceptance_when_auto_accept_is_off() {
    let opts = EmulatorOptions {
        auto_accept_account_grants: false,
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await.lm;
    let account = create(&c, &account_principal(ML_PROD)).await.unwrap();
    let ou = create(&c, &ou_principal(OU_SANDBOX)).await.unwrap();
    for arn in [&account, &ou] {
        status(&c, arn).await;
    }
    assert_eq!(status(&c, &account).await.0, GrantStatus::PendingAccept);
    assert_eq!(
        status(&c, &ou).await.0,
        GrantStatus::Disabled,
        "org/OU grants are accepted for the members"
    );
    // Through aws-config's own AssumeRoleProvider, as the tool's recipient_role does.
    let base = clients(&emu).await;
    let provider = aws_config::sts::AssumeRoleProvider::builder(
        "arn:aws:iam::222233334444:role/BedrockEntitlementsRecipient",
    )
    .session_name("bedrock-entitlements")
    .configure(&base.config)
    .build()
    .await;
    let cfg = aws_sdk_licensemanager::config::Builder::from(&base.config)
        .credentials_provider(provider)
        .endpoint_url(emu.endpoint_url())
        .build();
    let recipient = aws_sdk_licensemanager::Client::from_conf(cfg);
    let accepted = recipient
        .accept_grant()
        .grant_arn(&account)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), Some(&GrantStatus::Disabled));
}

#[tokio::test]
async fn trusted_access_off_refuses_org_grants_only() {
    let mut seed = sandbox_seed();
    seed.organization.trusted_access = false;
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    let c = clients(&emu).await;
    let (code, message) = create(&c.lm, ORG_ARN).await.unwrap_err();
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Trusted Access"), "{message}");
    create(&c.lm, &account_principal(ML_PROD)).await.unwrap();
    let settings = c.lm.get_service_settings().send().await.unwrap();
    assert_eq!(
        settings
            .organization_configuration()
            .map(|o| o.enable_integration()),
        Some(false)
    );
    let services = c
        .orgs
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    assert!(
        services
            .enabled_service_principals()
            .iter()
            .all(|s| s.service_principal() != Some("license-manager.amazonaws.com"))
    );
    // Turned on out of band, org grants work.
    emu.state().set_trusted_access(true).unwrap();
    create(&c.lm, ORG_ARN).await.unwrap();
    assert!(emu.state().grants().iter().any(|g| g.principal == ORG_ARN));
}

#[tokio::test]
async fn delegated_administrator_distributes_to_the_organization() {
    let mut seed = sandbox_seed();
    seed.organization.delegated_administrator = Some("101010101010".to_owned());
    let emu = start_emulator(seed, EmulatorOptions::default()).await;
    // Licenses go to the delegated administrator by default.
    let mgmt = clients(&emu).await.lm;
    assert!(
        mgmt.list_received_licenses()
            .send()
            .await
            .unwrap()
            .licenses()
            .is_empty()
    );
    let (code, _) = create(&mgmt, ORG_ARN).await.unwrap_err();
    assert_eq!(code, "ValidationException");

    let da = clients_as(&emu, "101010101010").await;
    assert_eq!(
        da.lm
            .list_received_licenses()
            .send()
            .await
            .unwrap()
            .licenses()
            .len(),
        4
    );
    let arn = create(&da.lm, ORG_ARN).await.unwrap();
    assert!(arn.starts_with("arn:aws:license-manager::101010101010:grant:g-"));
    // Its grants: the new one and the seeded foreign grant (made from its license).
    let mine = da.lm.list_distributed_grants().send().await.unwrap();
    assert_eq!(mine.grants().len(), 2);
    assert!(mine.grants().iter().any(|g| g.grant_arn() == arn));
    // The management account's ListDistributedGrants shows its own grants only.
    let theirs = mgmt.list_distributed_grants().send().await.unwrap();
    assert!(theirs.grants().iter().all(|g| g.grant_arn() != arn));
    // A member account that is not the delegated administrator cannot grant to OUs.
    let member = clients_as(&emu, ML_PROD).await;
    assert_eq!(
        create(&member.lm, &ou_principal(OU_ML))
            .await
            .unwrap_err()
            .0,
        "ValidationException"
    );
}

#[tokio::test]
async fn ou_grants_reach_nested_accounts_through_sub_grants() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.lm;
    let arn = create(&c, &ou_principal(OU_WORKLOADS)).await.unwrap();

    // Before the distribution workflow completes, members see nothing.
    let member = clients_as(&emu, ML_PROD).await.lm;
    assert!(
        member
            .list_received_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
    status(&c, &arn).await;
    let (_, version) = status(&c, &arn).await;
    let received = member.list_received_grants().send().await.unwrap();
    let sub = &received.grants()[0];
    assert_eq!(sub.parent_arn(), arn);
    assert_eq!(sub.grantee_principal_arn(), account_principal(ML_PROD));
    assert_eq!(sub.grant_status(), &GrantStatus::Disabled);
    let sub_arn = sub.grant_arn().to_owned();

    c.create_grant_version()
        .client_token(token())
        .grant_arn(&arn)
        .status(GrantStatus::Active)
        .source_version(&version)
        .send()
        .await
        .unwrap();
    status(&c, &arn).await;
    assert_eq!(status(&c, &arn).await.0, GrantStatus::WorkflowCompleted);
    let g = member.get_grant().grant_arn(&sub_arn).send().await.unwrap();
    assert_eq!(g.grant().unwrap().grant_status(), &GrantStatus::Active);
    let lic = member.list_received_licenses().send().await.unwrap();
    assert_eq!(
        lic.licenses()[0]
            .received_metadata()
            .and_then(|m| m.received_status()),
        Some(&aws_sdk_licensemanager::types::ReceivedStatus::Active)
    );

    // The management account sees every sub-grant of the license.
    let all = c
        .list_received_grants_for_organization()
        .license_arn(CLAUDE_LICENSE)
        .filters(Filter::builder().name("ParentArn").values(&arn).build())
        .send()
        .await
        .unwrap();
    let mut recipients: Vec<_> = all
        .grants()
        .iter()
        .map(|g| g.grantee_principal_arn().to_owned())
        .collect();
    recipients.sort();
    let mut expected: Vec<_> = [
        "131313131313",
        "151515151515",
        ML_PROD,
        ML_DEV,
        DATA_PROD,
        "777788889999",
    ]
    .iter()
    .map(|a| account_principal(a))
    .collect();
    expected.sort();
    assert_eq!(recipients, expected);
    let (code, _) = error_of(
        member
            .list_received_grants_for_organization()
            .license_arn(CLAUDE_LICENSE)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = error_of(c.list_received_grants_for_organization().send().await);
    assert_eq!(code, "ValidationException");

    // An account moved out of the OU loses the grant; one moved in gains it.
    emu.state().move_account(ML_PROD, OU_SANDBOX).unwrap();
    assert!(
        member
            .list_received_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .is_empty()
    );
    let alice = clients_as(&emu, SANDBOX_ALICE).await.lm;
    emu.state().move_account(SANDBOX_ALICE, OU_ML).unwrap();
    assert_eq!(
        alice
            .list_received_grants()
            .send()
            .await
            .unwrap()
            .grants()
            .len(),
        1
    );
}

#[tokio::test]
async fn assume_role_is_checked() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.sts;
    let cases = [
        (
            "arn:aws:iam::141414141414:role/OrganizationAccountAccessRole",
            "AccessDenied",
        ),
        (
            "arn:aws:iam::999999999999:role/OrganizationAccountAccessRole",
            "AccessDenied",
        ),
        ("not-an-arn", "ValidationError"),
    ];
    for (role, code) in cases {
        let r = c
            .assume_role()
            .role_arn(role)
            .role_session_name("s1")
            .send()
            .await;
        assert_eq!(error_of(r).0, code, "{role}");
    }
    let r = c
        .assume_role()
        .role_arn("arn:aws:iam::222233334444:role/R")
        .role_session_name("x")
        .send()
        .await;
    assert_eq!(
        error_of(r).0,
        "ValidationError",
        "session names have 2-64 characters"
    );
    let r = c
        .assume_role()
        .role_arn("arn:aws:iam::222233334444:role/R")
        .role_session_name("ok-session")
        .duration_seconds(60)
        .send()
        .await;
    assert_eq!(error_of(r).0, "ValidationError");
    let who = c.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(MANAGEMENT));
}

/// STS API reference: GetCallerIdentity needs no permission, even under a policy that denies it;
/// every other call is still judged by the policy.
#[tokio::test]
async fn get_caller_identity_needs_no_permission() {
    let deny_all = bedrock_entitlements::emulator::PolicyDocument::from_json(
        r#"{"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}"#,
    )
    .expect("a valid policy");
    let opts = EmulatorOptions {
        iam_policy: Some(deny_all),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(sandbox_seed(), opts).await;
    let c = clients(&emu).await;
    let who = c.sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(MANAGEMENT));
    let denied = c.lm.list_received_licenses().send().await;
    assert_eq!(error_of(denied).0, "AccessDeniedException");
}
