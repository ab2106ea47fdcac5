use super::*;
use crate::aws::ErrorKind;
use crate::aws::bootstrap::OrganizationSettings;
use crate::bootstrap::{Facts, UseCaseWanted};
use crate::model::{AccountId, RootId};

fn id(s: &str) -> AccountId {
    s.parse().expect("an account id")
}

/// An organization with everything set up, as the management account sees it.
fn all_set() -> Facts {
    Facts {
        caller: id("111111111111"),
        management_account: id("111111111111"),
        feature_set: FeatureSet::All,
        service_access: Ok(vec![
            LICENSE_MANAGER_PRINCIPAL.to_owned(),
            MARKETPLACE_PRINCIPAL.to_owned(),
        ]),
        roles: vec![Ok(true), Ok(true)],
        settings: Ok(OrganizationSettings {
            integration: true,
            cross_account_discovery: true,
        }),
        scp: Some(Ok(("r-ab12".parse().expect("a root"), true))),
        delegated_admins: Some(Ok(vec![id("222222222222")])),
        use_case: Some(Ok(true)),
    }
}

const FORM: &str = r#"{"companyName":"Example"}"#;

fn wanted() -> Wanted {
    Wanted {
        home_region: "us-east-1".to_owned(),
        guardrails: true,
        delegated_administrator: Some(id("222222222222")),
        use_case: Some(UseCaseWanted {
            models: vec!["claude".to_owned()],
            form: Some(FORM.to_owned()),
        }),
    }
}

/// `(name, state, the fix's text contains, change)` for each prerequisite not done.
fn check_missing(facts: &Facts, wanted: &Wanted, expect: &[(&str, State, &str, Option<Change>)]) {
    let report = check(facts, wanted);
    let got: Vec<(String, State, String, Option<Change>)> = report
        .prerequisites
        .iter()
        .filter(|p| p.state != State::Done)
        .map(|p| {
            let fix = p.fix.clone().expect("a fix for what is not done");
            (p.name.clone(), p.state, fix.how, fix.change)
        })
        .collect();
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for ((name, state, how, change), (wname, wstate, whow, wchange)) in got.iter().zip(expect) {
        assert_eq!((name.as_str(), *state), (*wname, *wstate));
        assert!(how.contains(whow), "{name}: {how:?} lacks {whow:?}");
        assert_eq!(change, wchange, "{name}");
    }
}

#[test]
fn everything_set_up_is_all_done() {
    let report = check(&all_set(), &wanted());
    assert!(report.all_done(), "{report:#?}");
    assert!(report.changes().is_empty());
    assert_eq!(report.prerequisites.len(), 11);
}

#[test]
fn nothing_set_up_lists_every_prerequisite_with_its_command() {
    let mut f = all_set();
    f.service_access = Ok(vec![]);
    f.roles = vec![Ok(false), Ok(false)];
    f.settings = Ok(OrganizationSettings {
        integration: false,
        cross_account_discovery: false,
    });
    f.scp = Some(Ok(("r-ab12".parse().unwrap(), false)));
    f.delegated_admins = Some(Ok(vec![]));
    f.use_case = Some(Ok(false));
    let root: RootId = "r-ab12".parse().unwrap();
    check_missing(
        &f,
        &wanted(),
        &[
            (
                "trusted-access:license-manager.amazonaws.com",
                State::Missing,
                "aws organizations enable-aws-service-access --service-principal license-manager.amazonaws.com",
                Some(Change::EnableServiceAccess(LICENSE_MANAGER_PRINCIPAL)),
            ),
            (
                "trusted-access:license-management.marketplace.amazonaws.com",
                State::Missing,
                "--service-principal license-management.marketplace.amazonaws.com",
                Some(Change::EnableServiceAccess(MARKETPLACE_PRINCIPAL)),
            ),
            (
                "service-linked-role:AWSServiceRoleForAWSLicenseManagerRole",
                State::Missing,
                "aws iam create-service-linked-role --aws-service-name license-manager.amazonaws.com",
                Some(Change::CreateServiceLinkedRole(LICENSE_MANAGER_PRINCIPAL)),
            ),
            (
                "service-linked-role:AWSServiceRoleForMarketplaceLicenseManagement",
                State::Missing,
                "--aws-service-name license-management.marketplace.amazonaws.com",
                Some(Change::CreateServiceLinkedRole(MARKETPLACE_PRINCIPAL)),
            ),
            (
                "organization-integration",
                State::Missing,
                "aws license-manager update-service-settings --organization-configuration EnableIntegration=true --enable-cross-accounts-discovery --region us-east-1",
                Some(Change::LinkOrganization),
            ),
            (
                "cross-account-discovery",
                State::Missing,
                "--enable-cross-accounts-discovery",
                Some(Change::LinkOrganization),
            ),
            (
                "scp-policy-type",
                State::Missing,
                "aws organizations enable-policy-type --root-id r-ab12 --policy-type SERVICE_CONTROL_POLICY",
                Some(Change::EnableScpPolicyType(root.clone())),
            ),
            (
                "delegated-administrator",
                State::Missing,
                "aws organizations register-delegated-administrator --account-id 222222222222 --service-principal license-manager.amazonaws.com",
                Some(Change::RegisterDelegatedAdministrator(id("222222222222"))),
            ),
            (
                "anthropic-use-case",
                State::Missing,
                "bootstrap --apply submits settings.bootstrap.anthropic_use_case",
                Some(Change::SubmitUseCase(FORM.to_owned())),
            ),
        ],
    );
    // One UpdateServiceSettings for both settings, in the order of the report.
    let changes = check(&f, &wanted()).changes();
    assert_eq!(changes.len(), 8);
    assert_eq!(changes[4], Change::LinkOrganization);
}

#[test]
fn only_what_the_file_asks_for_is_checked() {
    let mut f = all_set();
    f.scp = None;
    f.delegated_admins = None;
    f.use_case = None;
    let w = Wanted {
        guardrails: false,
        delegated_administrator: None,
        use_case: None,
        ..wanted()
    };
    let names: Vec<String> = check(&f, &w)
        .prerequisites
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert!(!names.iter().any(|n| n == "scp-policy-type"
        || n == "delegated-administrator"
        || n == "anthropic-use-case"));
    assert_eq!(names.len(), 8);
}

#[test]
fn what_a_person_must_fix_has_no_automatic_change() {
    let mut f = all_set();
    f.caller = id("333333333333");
    f.delegated_admins = Some(Ok(vec![id("444444444444")]));
    check_missing(
        &f,
        &wanted(),
        &[
            (
                "management-account",
                State::Missing,
                "credentials of the management account 111111111111",
                None,
            ),
            (
                "delegated-administrator",
                State::Missing,
                "deregister-delegated-administrator --account-id 444444444444",
                None,
            ),
        ],
    );
    // From another account, only the caller's own service-linked roles are made.
    let mut member = all_set();
    member.caller = id("333333333333");
    member.service_access = Ok(vec![]);
    member.roles = vec![Ok(false), Ok(true)];
    assert_eq!(
        check(&member, &wanted()).changes(),
        [Change::CreateServiceLinkedRole(LICENSE_MANAGER_PRINCIPAL)]
    );
    let mut cb = all_set();
    cb.feature_set = FeatureSet::ConsolidatedBilling;
    cb.service_access = Ok(vec![]);
    let report = check(&cb, &wanted());
    let all = report
        .prerequisites
        .iter()
        .find(|p| p.name == "all-features")
        .unwrap();
    assert_eq!(all.state, State::Missing);
    assert!(
        all.fix
            .as_ref()
            .unwrap()
            .how
            .contains("enable-all-features")
    );
    // Trusted access cannot be enabled before all features: no automatic change.
    assert!(report.changes().is_empty(), "{:?}", report.changes());
}

#[test]
fn a_fact_that_cannot_be_read_is_unknown_and_names_the_permission() {
    let mut f = all_set();
    f.service_access = Err(AwsError::new(
        "ListAWSServiceAccessForOrganization",
        ErrorKind::AccessDenied,
        "AccessDeniedException",
        "not authorized",
    ));
    f.roles[1] = Err(AwsError::new(
        "GetRole",
        ErrorKind::Transient,
        "Timeout",
        "timed out",
    ));
    let how = "organizations:ListAWSServiceAccessForOrganization";
    check_missing(
        &f,
        &wanted(),
        &[
            (
                "trusted-access:license-manager.amazonaws.com",
                State::Unknown,
                how,
                None,
            ),
            (
                "trusted-access:license-management.marketplace.amazonaws.com",
                State::Unknown,
                how,
                None,
            ),
            (
                "service-linked-role:AWSServiceRoleForMarketplaceLicenseManagement",
                State::Unknown,
                "run bootstrap again",
                None,
            ),
        ],
    );
}

#[test]
fn the_use_case_form_comes_from_the_file_only() {
    let mut f = all_set();
    f.use_case = Some(Ok(false));
    let w = Wanted {
        use_case: Some(UseCaseWanted {
            models: vec!["claude".to_owned(), "haiku".to_owned()],
            form: None,
        }),
        ..wanted()
    };
    check_missing(
        &f,
        &w,
        &[(
            "anthropic-use-case",
            State::Missing,
            "fill in settings.bootstrap.anthropic_use_case (company_name, company_website, intended_users, industry_option, other_industry_option, use_cases",
            None,
        )],
    );
    let report = check(&f, &w);
    assert!(report.prerequisites[10].detail.contains("claude, haiku"));
}
