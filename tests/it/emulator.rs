//! Smoke test of the emulator through the real SDK clients: the calls the rest of the tool makes
//! first (licenses, the organization tree, creating, reading, listing and deleting a grant).

use aws_sdk_licensemanager::types::{Filter, GrantStatus};
use bedrock_entitlements::emulator::EmulatorOptions;

use crate::support::*;

#[tokio::test]
async fn smoke_test_through_the_real_sdk() {
    let emu = start_emulator(sandbox_seed(), EmulatorOptions::default()).await;
    let c = clients(&emu).await;

    // Organizations: the tree.
    let org = c.orgs.describe_organization().send().await.unwrap();
    let org = org.organization().unwrap();
    assert_eq!(org.id(), Some(ORG_ID));
    assert_eq!(org.master_account_id(), Some(MANAGEMENT));
    let roots = c.orgs.list_roots().send().await.unwrap();
    assert_eq!(roots.roots()[0].id(), Some(ROOT_ID));
    let ous = c
        .orgs
        .list_organizational_units_for_parent()
        .parent_id(OU_WORKLOADS)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = ous
        .organizational_units()
        .iter()
        .filter_map(|o| o.name())
        .collect();
    assert_eq!(names, ["ML"]);
    let in_ml = c
        .orgs
        .list_accounts_for_parent()
        .parent_id(OU_ML)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = in_ml.accounts().iter().filter_map(|a| a.id()).collect();
    assert_eq!(ids, ["131313131313", ML_PROD, ML_DEV]);
    let pages: Vec<_> = c
        .orgs
        .list_accounts()
        .max_results(5)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let all: Vec<_> = pages.iter().flat_map(|p| p.accounts().to_vec()).collect();
    assert_eq!(all.len(), 14);
    assert!(
        all.iter()
            .all(|a| a.joined_timestamp().is_some() && a.state().is_some())
    );

    // License Manager: received licenses, then one grant's life.
    let lic =
        c.lm.list_received_licenses()
            .filters(
                Filter::builder()
                    .name("ProductSKU")
                    .values("prod-cl4ud3s0nn3t1")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    assert_eq!(lic.licenses().len(), 1);
    assert_eq!(lic.licenses()[0].license_arn(), Some(CLAUDE_LICENSE));

    let created =
        c.lm.create_grant()
            .client_token(token())
            .grant_name("bedrock-entitlements-claude-ml-prod")
            .license_arn(CLAUDE_LICENSE)
            .principals(account_principal(ML_PROD))
            .home_region("us-east-1")
            .set_allowed_operations(Some(DEFAULT_OPS.iter().map(|o| (*o).into()).collect()))
            .send()
            .await
            .unwrap();
    assert_eq!(created.status(), Some(&GrantStatus::PendingWorkflow));
    assert_eq!(created.version(), Some("1"));
    let arn = created.grant_arn().unwrap().to_owned();

    let first = c.lm.get_grant().grant_arn(&arn).send().await.unwrap();
    assert_eq!(
        first.grant().unwrap().grant_status(),
        &GrantStatus::PendingWorkflow
    );
    let second = c.lm.get_grant().grant_arn(&arn).send().await.unwrap();
    let g = second.grant().unwrap();
    assert_eq!(g.grant_status(), &GrantStatus::Disabled);
    assert_eq!(g.version(), "2");
    assert_eq!(g.grantee_principal_arn(), account_principal(ML_PROD));

    let listed = c.lm.list_distributed_grants().send().await.unwrap();
    assert!(listed.grants().iter().any(|g| g.grant_arn() == arn));

    let deleted =
        c.lm.delete_grant()
            .grant_arn(&arn)
            .version("2")
            .send()
            .await
            .unwrap();
    assert_eq!(deleted.status(), Some(&GrantStatus::Deleted));
    assert_eq!(emu.state().call_count("CreateGrant"), 1);
    emu.shutdown().await;
}
