//! Organizations through the real `aws-sdk-organizations` client: the tree, pagination with the
//! 20-item maximum, errors, and who may call what.

use aws_sdk_organizations::types::{
    AccountState, AccountStatus, ChildType, OrganizationFeatureSet, ParentType,
};
use bedrock_entitlements::emulator::EmulatorOptions;

use crate::support::*;

#[tokio::test]
async fn describes_the_tree() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.orgs;

    let org = c.describe_organization().send().await.unwrap();
    let org = org.organization().unwrap();
    assert_eq!(org.arn(), Some(ORG_ARN));
    assert_eq!(org.feature_set(), Some(&OrganizationFeatureSet::All));
    assert_eq!(org.master_account_email(), Some("aws-root@example.com"));

    let roots = c.list_roots().send().await.unwrap();
    assert_eq!(roots.roots().len(), 1);
    assert_eq!(
        roots.roots()[0].arn(),
        Some("arn:aws:organizations::111122223333:root/o-exampleorg1/r-ab12")
    );

    let top = c
        .list_organizational_units_for_parent()
        .parent_id(ROOT_ID)
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = top
        .organizational_units()
        .iter()
        .filter_map(|o| o.name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["Infrastructure", "Sandbox", "Security", "Workloads"]
    );

    let ml = c
        .describe_organizational_unit()
        .organizational_unit_id(OU_ML)
        .send()
        .await
        .unwrap();
    let ml = ml.organizational_unit().unwrap();
    assert_eq!(ml.name(), Some("ML"));
    assert_eq!(
        ml.arn(),
        Some("arn:aws:organizations::111122223333:ou/o-exampleorg1/ou-ab12-mlplatfm")
    );
    assert_eq!(
        ml.path(),
        Some("o-exampleorg1/r-ab12/ou-ab12-workload1/ou-ab12-mlplatfm/")
    );

    let acct = c
        .describe_account()
        .account_id(ML_PROD)
        .send()
        .await
        .unwrap();
    let acct = acct.account().unwrap();
    assert_eq!(acct.name(), Some("ml-prod"));
    assert_eq!(acct.state(), Some(&AccountState::Active));
    assert_eq!(acct.status(), Some(&AccountStatus::Active));
    assert_eq!(
        acct.joined_timestamp().map(|t| t.secs()),
        Some(1_704_067_200)
    );
    assert_eq!(
        acct.paths(),
        ["o-exampleorg1/r-ab12/ou-ab12-workload1/ou-ab12-mlplatfm/222233334444/"]
    );
    let legacy = c
        .describe_account()
        .account_id("141414141414")
        .send()
        .await
        .unwrap();
    assert_eq!(
        legacy.account().unwrap().state(),
        Some(&AccountState::Suspended)
    );
    assert_eq!(
        legacy.account().unwrap().status(),
        Some(&AccountStatus::Suspended)
    );

    let children = c
        .list_children()
        .parent_id(OU_WORKLOADS)
        .child_type(ChildType::OrganizationalUnit)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = children.children().iter().filter_map(|c| c.id()).collect();
    assert_eq!(ids, [OU_ML]);
    let children = c
        .list_children()
        .parent_id(OU_WORKLOADS)
        .child_type(ChildType::Account)
        .send()
        .await
        .unwrap();
    assert_eq!(children.children().len(), 3);

    let parents = c.list_parents().child_id(ML_PROD).send().await.unwrap();
    assert_eq!(parents.parents()[0].id(), Some(OU_ML));
    assert_eq!(
        parents.parents()[0].r#type(),
        Some(&ParentType::OrganizationalUnit)
    );
    let parents = c.list_parents().child_id(OU_SANDBOX).send().await.unwrap();
    assert_eq!(parents.parents()[0].r#type(), Some(&ParentType::Root));

    let services = c
        .list_aws_service_access_for_organization()
        .send()
        .await
        .unwrap();
    let principals: Vec<_> = services
        .enabled_service_principals()
        .iter()
        .filter_map(|s| s.service_principal())
        .collect();
    assert_eq!(
        principals,
        [
            "license-management.marketplace.amazonaws.com",
            "license-manager.amazonaws.com"
        ]
    );
    assert!(
        c.list_delegated_administrators()
            .send()
            .await
            .unwrap()
            .delegated_administrators()
            .is_empty()
    );
}

#[tokio::test]
async fn lists_page_by_at_most_twenty() {
    let emu = start_emulator(seed_with_accounts(50), EmulatorOptions::default()).await;
    let c = clients(&emu).await.orgs;

    let first = c.list_accounts().send().await.unwrap();
    assert_eq!(first.accounts().len(), 20, "default page size");
    let pages: Vec<_> = c
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let sizes: Vec<_> = pages.iter().map(|p| p.accounts().len()).collect();
    assert_eq!(sizes, [20, 20, 20, 4]);
    let mut ids: Vec<_> = pages
        .iter()
        .flat_map(|p| {
            p.accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned))
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 64);

    let in_root: Vec<_> = c
        .list_accounts_for_parent()
        .parent_id(ROOT_ID)
        .max_results(7)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    let n: usize = in_root.iter().map(|p| p.accounts().len()).sum();
    assert_eq!(
        n, 52,
        "the management account, legacy-app and the 50 bulk accounts"
    );
    assert!(in_root.iter().all(|p| p.accounts().len() <= 7));

    for max in [0, 21] {
        let (code, message) = error_of(c.list_accounts().max_results(max).send().await);
        assert_eq!(code, "InvalidInputException", "MaxResults {max}: {message}");
    }
    let (code, _) = error_of(c.list_accounts().next_token("garbage").send().await);
    assert_eq!(code, "InvalidInputException");
    // A token of one operation is not valid for another.
    let token = first.next_token().unwrap();
    let (code, _) = error_of(c.list_roots().next_token(token).send().await);
    assert_eq!(code, "InvalidInputException");
}

#[tokio::test]
async fn errors_name_what_is_wrong() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await.orgs;
    let cases = [
        (
            error_of(c.list_accounts_for_parent().send().await),
            "InvalidInputException",
        ),
        (
            error_of(
                c.list_accounts_for_parent()
                    .parent_id("ou-ab12-nothere1")
                    .send()
                    .await,
            ),
            "ParentNotFoundException",
        ),
        (
            error_of(
                c.list_organizational_units_for_parent()
                    .parent_id("bogus")
                    .send()
                    .await,
            ),
            "InvalidInputException",
        ),
        (
            error_of(c.list_children().parent_id(ROOT_ID).send().await),
            "InvalidInputException",
        ),
        (
            error_of(c.describe_account().account_id("999999999999").send().await),
            "AccountNotFoundException",
        ),
        (
            error_of(c.describe_account().account_id("12").send().await),
            "InvalidInputException",
        ),
        (
            error_of(
                c.describe_organizational_unit()
                    .organizational_unit_id("ou-ab12-nothere1")
                    .send()
                    .await,
            ),
            "OrganizationalUnitNotFoundException",
        ),
        (
            error_of(c.list_parents().child_id("999999999999").send().await),
            "ChildNotFoundException",
        ),
    ];
    for (i, ((code, message), expected)) in cases.into_iter().enumerate() {
        assert_eq!(code, expected, "case {i}: {message}");
        assert!(!message.is_empty(), "case {i} has a message");
    }
    // Organizations errors use `Message` and carry `Reason`.
    let (status, _, body) = raw_json_call(
        &emu,
        "AWSOrganizationsV20161128.ListAccounts",
        "{\"MaxResults\":50}",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidInputException");
    assert_eq!(body["Reason"], "MAX_VALUE_EXCEEDED");
    assert!(body["Message"].is_string());
    let (_, _, body) = raw_json_call(&emu, "AWSOrganizationsV20161128.ListAccounts", "{}").await;
    assert!(
        body["Accounts"][0]["JoinedTimestamp"].is_number(),
        "epoch seconds as a JSON number"
    );
}

#[tokio::test]
async fn members_and_outsiders_are_refused_and_the_delegated_admin_is_not() {
    let mut seed = sandbox_seed();
    seed.organization.delegated_administrator = Some("101010101010".to_owned());
    let emu = start_emulator(seed, EmulatorOptions::default()).await;

    let member = clients_as(&emu, ML_PROD).await.orgs;
    let org = member.describe_organization().send().await.unwrap();
    assert_eq!(org.organization().unwrap().id(), Some(ORG_ID));
    for (code, message) in [
        error_of(member.list_accounts().send().await),
        error_of(member.list_roots().send().await),
        error_of(member.describe_account().account_id(ML_PROD).send().await),
        error_of(
            member
                .list_aws_service_access_for_organization()
                .send()
                .await,
        ),
    ] {
        assert_eq!(code, "AccessDeniedException", "{message}");
    }

    let outsider = clients_as(&emu, "999999999999").await.orgs;
    let (code, _) = error_of(outsider.describe_organization().send().await);
    assert_eq!(code, "AWSOrganizationsNotInUseException");

    let admin = clients_as(&emu, "101010101010").await.orgs;
    let accounts = admin.list_accounts().send().await.unwrap();
    assert_eq!(accounts.accounts().len(), 14);
    let das = admin
        .list_delegated_administrators()
        .service_principal("license-manager.amazonaws.com")
        .send()
        .await
        .unwrap();
    let da = &das.delegated_administrators()[0];
    assert_eq!(da.id(), Some("101010101010"));
    assert!(da.delegation_enabled_date().is_some());
    let none = admin
        .list_delegated_administrators()
        .service_principal("sso.amazonaws.com")
        .send()
        .await
        .unwrap();
    assert!(none.delegated_administrators().is_empty());
}
