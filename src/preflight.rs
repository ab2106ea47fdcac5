//! Checks made before the first change: is this account set up so that `apply` can work?
//! `gather` reads the facts through `aws`; `evaluate` is a pure function of them, so every check
//! and its message is tested without AWS.

use std::collections::BTreeSet;

use crate::aws::{AwsError, ErrorKind, LicenseManagerApi, OrganizationsApi, ServiceSettings};
use crate::model::{AccountId, FeatureSet, License, LicenseArn, Live, RootId};

/// The service principal License Manager uses for trusted access and delegated administration.
pub const LICENSE_MANAGER_PRINCIPAL: &str = "license-manager.amazonaws.com";

/// The service principal of AWS Marketplace's License Manager integration: organization and OU
/// grants of Marketplace licenses need its trusted access too (Bedrock's managed-entitlements
/// setup page; the AWS sample enables both).
pub const MARKETPLACE_PRINCIPAL: &str = "license-management.marketplace.amazonaws.com";

/// Where Marketplace model licenses and their grants live.
pub const HOME_REGION: &str = "us-east-1";

/// Everything the checks look at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub home_region: String,
    pub caller: AccountId,
    pub management_account: AccountId,
    pub feature_set: FeatureSet,
    /// The licenses the plan grants from.
    pub licenses: Vec<License>,
    /// Whether the plan creates organization or OU grants (those need trusted access).
    pub grants_to_org_or_ous: bool,
    pub service_access: Result<Vec<String>, AwsError>,
    pub service_settings: Result<ServiceSettings, AwsError>,
    /// `None` when the caller is the management account (no need to ask).
    pub delegated_admins: Option<Result<Vec<AccountId>, AwsError>>,
    /// What the guardrails need; `None` when `settings.guardrails.mode` is `off` (no SCP read).
    pub guardrails: Option<GuardrailFacts>,
    /// Whether each of [`SERVICE_LINKED_ROLES`] exists in the caller's account (IAM GetRole);
    /// `None` where IAM could not be asked at all (an endpoint that serves no IAM): not checked.
    pub service_linked_roles: Vec<(ServiceLinkedRole, Option<Result<bool, AwsError>>)>,
}

/// The facts of the guardrail checks (`settings.guardrails.mode` `report` or `enforce`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailFacts {
    /// SERVICE_CONTROL_POLICY is enabled on the root (ListRoots' `PolicyTypes`).
    pub scp_enabled: bool,
    pub root: RootId,
    /// The plan writes SCPs (mode `enforce` with policy actions).
    pub writes: bool,
}

/// A service-linked role that Bedrock's managed entitlements depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLinkedRole {
    pub name: &'static str,
    pub service: &'static str,
    /// What fails without it.
    pub needed_for: &'static str,
}

/// The service-linked roles AWS's setup pages list (aws-api-notes "Trusted access"; License
/// Manager user guide "Using service-linked roles"; Marketplace buyer guide "Service-linked role
/// to share entitlements"): License Manager's own, and AWS Marketplace's, which creates and
/// manages the licenses of Marketplace subscriptions in License Manager.
pub const SERVICE_LINKED_ROLES: [ServiceLinkedRole; 2] = [
    ServiceLinkedRole {
        name: "AWSServiceRoleForAWSLicenseManagerRole",
        service: LICENSE_MANAGER_PRINCIPAL,
        needed_for: "License Manager cannot manage licenses and grants in this account",
    },
    ServiceLinkedRole {
        name: "AWSServiceRoleForMarketplaceLicenseManagement",
        service: MARKETPLACE_PRINCIPAL,
        needed_for: "AWS Marketplace cannot create and distribute the licenses of its subscriptions through License Manager",
    },
];

/// One failed check: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub check: &'static str,
    pub message: String,
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "preflight {}: {}\n  fix: {}",
            self.check, self.message, self.fix
        )
    }
}

/// Reads the facts for `evaluate`. Calls that the caller may not make are kept as errors:
/// `evaluate` turns them into explanations. The guardrail facts come from `live.guardrails`
/// (read when the mode is not `off`); `scp_writes`: the plan writes SCPs.
pub async fn gather<L, O>(
    lm: &L,
    orgs: &O,
    live: &Live,
    home_region: &str,
    licenses: &BTreeSet<LicenseArn>,
    grants_to_org_or_ous: bool,
    scp_writes: bool,
) -> Facts
where
    L: LicenseManagerApi,
    O: OrganizationsApi,
{
    let is_management = live.caller == live.organization.management_account;
    let (service_access, service_settings, delegated_admins, service_linked_roles) = tokio::join!(
        orgs.list_aws_service_access(),
        lm.get_service_settings(),
        async {
            if is_management {
                None
            } else {
                Some(
                    orgs.list_delegated_administrators(LICENSE_MANAGER_PRINCIPAL)
                        .await,
                )
            }
        },
        read_service_linked_roles(orgs)
    );
    Facts {
        home_region: home_region.to_owned(),
        caller: live.caller.clone(),
        management_account: live.organization.management_account.clone(),
        feature_set: live.organization.feature_set,
        licenses: live
            .licenses
            .iter()
            .filter(|l| licenses.contains(&l.arn))
            .cloned()
            .collect(),
        grants_to_org_or_ous,
        service_access,
        service_settings,
        delegated_admins,
        guardrails: live.guardrails.as_ref().map(|g| GuardrailFacts {
            scp_enabled: g.scp_enabled,
            root: live.organization.root.clone(),
            writes: scp_writes,
        }),
        service_linked_roles,
    }
}

/// Asks IAM for each service-linked role. A refusal is kept (it is a setup problem); any other
/// failure (no IAM behind the endpoint, no network to IAM) leaves the role unchecked, with a
/// warning, since the checks AWS itself makes on the first change will still speak.
async fn read_service_linked_roles<O: OrganizationsApi>(
    orgs: &O,
) -> Vec<(ServiceLinkedRole, Option<Result<bool, AwsError>>)> {
    let mut out = Vec::with_capacity(SERVICE_LINKED_ROLES.len());
    for role in SERVICE_LINKED_ROLES {
        let found = match orgs.role_exists(role.name).await {
            Err(e) if e.kind != ErrorKind::AccessDenied => {
                tracing::warn!(role = role.name, error = %e, "cannot check the service-linked role");
                None
            }
            found => Some(found),
        };
        out.push((role, found));
    }
    out
}

/// The checks that need only the desired-state file: `apply` makes them before it reads
/// anything, `plan` warns with them (from another region License Manager shows no licenses, so
/// the plan would otherwise fail with a confusing "no received license").
pub fn check_settings(home_region: &str) -> Vec<Problem> {
    if home_region == HOME_REGION {
        return Vec::new();
    }
    vec![Problem {
        check: "home region",
        message: format!(
            "settings.home_region is {home_region}, but Bedrock model licenses and their grants live in {HOME_REGION}"
        ),
        fix: format!("remove settings.home_region or set it to {HOME_REGION}"),
    }]
}

/// The Organizations calls that read the organization's structure: only the management account
/// and delegated administrators may make them.
const ORGANIZATION_READS: [&str; 7] = [
    "DescribeOrganization",
    "ListRoots",
    "ListOrganizationalUnitsForParent",
    "ListAccountsForParent",
    "ListAccounts",
    "ListAWSServiceAccessForOrganization",
    "ListDelegatedAdministrators",
];

/// The Organizations calls that read the service control policies (guardrails on).
const POLICY_READS: [&str; 4] = [
    "ListPolicies",
    "DescribePolicy",
    "ListTargetsForPolicy",
    "ListTagsForResource",
];

/// Explains a refusal met while reading live state (so before any change): why the call was
/// refused and what to do. `None` for an error that is not a refusal.
pub fn explain_refusal(e: &AwsError) -> Option<Problem> {
    if e.code == "AWSOrganizationsNotInUseException" {
        return Some(Problem {
            check: "caller",
            message: format!(
                "AWS Organizations answered {} with {}: the caller's account is not in an organization",
                e.operation, e.code
            ),
            fix: "run the tool with credentials of the organization's management account or of License Manager's delegated administrator (--profile, --role-arn)".to_owned(),
        });
    }
    if e.kind != ErrorKind::AccessDenied {
        return None;
    }
    if matches!(
        e.code.as_str(),
        "UnrecognizedClientException" | "InvalidClientTokenId" | "ExpiredTokenException"
    ) {
        return Some(Problem {
            check: "credentials",
            message: format!(
                "AWS did not accept the credentials ({} on {}): they are unknown or expired",
                e.code, e.operation
            ),
            fix: "refresh or correct the credentials (AWS_PROFILE, aws sso login, the CI job's OIDC role), then run again".to_owned(),
        });
    }
    if e.code == "CredentialsError" {
        return Some(Problem {
            check: "credentials",
            message: "no credentials could be obtained, so no AWS call was made".to_owned(),
            fix: "check the AWS credentials chain (AWS_PROFILE, aws sso login, the CI job's OIDC role); with --role-arn, check that the role exists and trusts the calling identity, and that the caller may sts:AssumeRole it".to_owned(),
        });
    }
    if e.operation == "GetCallerIdentity" {
        return Some(Problem {
            check: "permissions",
            message: format!(
                "AWS STS refused GetCallerIdentity ({}): the tool cannot tell which account it runs as",
                e.code
            ),
            fix: "allow sts:GetCallerIdentity to the role that runs the tool (docs/iam/readonly-policy.json), and check that no service control policy denies it".to_owned(),
        });
    }
    if POLICY_READS.contains(&e.operation) {
        return Some(policy_read_refusal(e));
    }
    if ORGANIZATION_READS.contains(&e.operation) {
        return Some(Problem {
            check: "caller",
            message: format!(
                "AWS Organizations refused {} ({}): only the management account and a delegated administrator may read the organization: the caller is neither, or its role lacks organizations:{}",
                e.operation, e.code, e.operation
            ),
            fix: format!(
                "run the tool in the management account or in License Manager's delegated administrator (--profile, --role-arn); to make this account the delegated administrator, run in the management account: aws organizations register-delegated-administrator --account-id ACCOUNT_ID --service-principal {LICENSE_MANAGER_PRINCIPAL}; if it already is one, allow organizations:{} (docs/iam/readonly-policy.json)",
                e.operation
            ),
        });
    }
    Some(Problem {
        check: "permissions",
        message: format!(
            "License Manager refused {} ({}): the role that runs the tool lacks license-manager:{}",
            e.operation, e.code, e.operation
        ),
        fix: format!(
            "allow license-manager:{} to that role (docs/iam/readonly-policy.json), and check that no service control policy denies it",
            e.operation
        ),
    })
}

/// A refused read of the service control policies (guardrails on).
fn policy_read_refusal(e: &AwsError) -> Problem {
    Problem {
        check: "permissions",
        message: format!(
            "AWS Organizations refused {} ({}): reading the service control policies (settings.guardrails.mode is not off) needs organizations:{} and the management account or a delegated administrator for Organizations policies",
            e.operation, e.code, e.operation
        ),
        fix: format!(
            "allow organizations:{} to the role that runs the tool (docs/iam/readonly-policy.json), or set settings.guardrails.mode: off",
            e.operation
        ),
    }
}

/// Every check that fails, in a fixed order.
pub fn evaluate(f: &Facts) -> Vec<Problem> {
    let mut problems = check_settings(&f.home_region);
    check_caller(f, &mut problems);
    check_trusted_access(f, &mut problems);
    check_service_settings(f, &mut problems);
    if let Some(g) = &f.guardrails {
        problems.extend(check_guardrails(f, g));
    }
    problems.extend(check_service_linked_roles(f));
    check_licenses(f, &mut problems);
    problems
}

/// The caller: the management account, or the delegated administrator of License Manager.
fn check_caller(f: &Facts, problems: &mut Vec<Problem>) {
    if let Some(admins) = &f.delegated_admins {
        match admins {
            Ok(ids) if !ids.contains(&f.caller) => problems.push(Problem {
                check: "caller",
                message: format!(
                    "account {} is neither the management account ({}) nor the delegated administrator of {LICENSE_MANAGER_PRINCIPAL}",
                    f.caller, f.management_account
                ),
                fix: format!(
                    "run from the management account, or register this account in it: aws organizations register-delegated-administrator --account-id {} --service-principal {LICENSE_MANAGER_PRINCIPAL}",
                    f.caller
                ),
            }),
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::AccessDenied => problems.push(Problem {
                check: "caller",
                message: format!(
                    "account {} is not the management account, and Organizations refused to list delegated administrators ({})",
                    f.caller, e.code
                ),
                fix: format!(
                    "register this account as delegated administrator for {LICENSE_MANAGER_PRINCIPAL} from the management account, and allow organizations:ListDelegatedAdministrators"
                ),
            }),
            Err(e) => problems.push(unreadable("caller", e)),
        }
    }
}

/// Organization and OU grants need trusted access for License Manager and Marketplace, and
/// all features.
fn check_trusted_access(f: &Facts, problems: &mut Vec<Problem>) {
    if f.grants_to_org_or_ous {
        match &f.service_access {
            Ok(principals) => {
                let has = |p: &str| principals.iter().any(|x| x == p);
                if !has(LICENSE_MANAGER_PRINCIPAL) {
                    problems.push(Problem {
                        check: "trusted access",
                        message: format!(
                            "AWS Organizations has no trusted access for {LICENSE_MANAGER_PRINCIPAL}, so organization and OU grants fail"
                        ),
                        fix: format!(
                            "in the management account: aws organizations enable-aws-service-access --service-principal {LICENSE_MANAGER_PRINCIPAL}, then link AWS Organizations in License Manager's settings"
                        ),
                    });
                }
                if !has(MARKETPLACE_PRINCIPAL) {
                    problems.push(Problem {
                        check: "trusted access",
                        message: format!(
                            "AWS Organizations has no trusted access for {MARKETPLACE_PRINCIPAL} (AWS Marketplace's License Manager integration), so Marketplace licenses cannot be distributed to the organization or its OUs"
                        ),
                        fix: format!(
                            "in the management account: AWS Marketplace console, Settings → License Manager integration → enable trusted access (or aws organizations enable-aws-service-access --service-principal {MARKETPLACE_PRINCIPAL})"
                        ),
                    });
                }
            }
            Err(e) if e.kind == ErrorKind::AccessDenied => problems.push(Problem {
                check: "trusted access",
                message: format!(
                    "cannot check trusted access for {LICENSE_MANAGER_PRINCIPAL}: {} ({})",
                    e.operation, e.code
                ),
                fix: "allow organizations:ListAWSServiceAccessForOrganization to the role that runs the tool (see docs/iam/)".to_owned(),
            }),
            Err(e) => problems.push(unreadable("trusted access", e)),
        }
        if f.feature_set == FeatureSet::ConsolidatedBilling {
            problems.push(Problem {
                check: "feature set",
                message: "the organization has only consolidated billing, which cannot hold organization or OU grants".to_owned(),
                fix: "enable all features in AWS Organizations, or grant to accounts".to_owned(),
            });
        }
    }
}

/// License Manager linked to the organization (GetServiceSettings).
fn check_service_settings(f: &Facts, problems: &mut Vec<Problem>) {
    match &f.service_settings {
        // Linking License Manager to the organization is what organization and OU grants
        // need; account grants work without it.
        Ok(s)
            if !s.organization_integration
                && f.feature_set == FeatureSet::All
                && f.grants_to_org_or_ous =>
        {
            problems.push(Problem {
                check: "license manager settings",
                message: "License Manager is not linked to AWS Organizations (GetServiceSettings: EnableIntegration is false), so organization and OU grants cannot be distributed".to_owned(),
                fix: "in the License Manager console of the management account, Settings → Link AWS Organizations accounts (or aws license-manager update-service-settings --organization-configuration EnableIntegration=true)".to_owned(),
            })
        }
        Ok(_) => {}
        Err(e) if e.kind == ErrorKind::AccessDenied => problems.push(Problem {
            check: "license manager settings",
            message: format!("cannot read License Manager's settings: {} ({})", e.operation, e.code),
            fix: "allow license-manager:GetServiceSettings to the role that runs the tool (see docs/iam/)".to_owned(),
        }),
        Err(e) => problems.push(unreadable("license manager settings", e)),
    }
}

/// Each license the plan grants from allows this account to create grants.
fn check_licenses(f: &Facts, problems: &mut Vec<Problem>) {
    for license in &f.licenses {
        if !license.allows_create_grant() {
            problems.push(Problem {
                check: "license",
                message: format!(
                    "license {} ({}) does not allow this account to create grants",
                    license.arn, license.product_name
                ),
                fix: "distribute from the account that subscribed (the management account or the delegated administrator that owns the subscription)".to_owned(),
            });
        }
    }
}

/// Guardrails need SCPs enabled on the root (mode `report` compares with them, `enforce` writes
/// them), and SCP writes need the management account. The Organizations API reference says of
/// CreatePolicy, AttachPolicy, DetachPolicy, UpdatePolicy and DeletePolicy: "You can only call
/// this operation from the management account or a member account that is a delegated
/// administrator" (delegated through a resource-based delegation policy: Organizations user
/// guide, "Delegated administrator for AWS Organizations"). The tool does not read that
/// delegation policy (it would need organizations:DescribeResourcePolicy), so an enforcing plan
/// is applied from the management account only.
fn check_guardrails(f: &Facts, g: &GuardrailFacts) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !g.scp_enabled {
        problems.push(Problem {
            check: "guardrails",
            message: format!(
                "service control policies are not enabled on the root {} (ListRoots: SERVICE_CONTROL_POLICY is not in its enabled policy types), and settings.guardrails.mode needs them",
                g.root
            ),
            fix: format!(
                "in the management account: aws organizations enable-policy-type --root-id {} --policy-type SERVICE_CONTROL_POLICY (this attaches FullAWSAccess everywhere, so nothing is denied yet), or set settings.guardrails.mode: off",
                g.root
            ),
        });
    }
    if g.writes && f.caller != f.management_account {
        problems.push(Problem {
            check: "guardrails",
            message: format!(
                "account {} is not the management account ({}): the plan writes service control policies, which only the management account (or a delegated administrator for Organizations policies) may do, and the tool writes them from the management account only",
                f.caller, f.management_account
            ),
            fix: "run apply with credentials of the management account (--profile, --role-arn), or set settings.guardrails.mode: report and write the policies through your own pipeline (guardrail export)".to_owned(),
        });
    }
    problems
}

fn check_service_linked_roles(f: &Facts) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (role, found) in &f.service_linked_roles {
        match found {
            Some(Ok(false)) => problems.push(Problem {
                check: "service-linked role",
                message: format!(
                    "the service-linked role {} does not exist in account {}: {}",
                    role.name, f.caller, role.needed_for
                ),
                fix: format!(
                    "aws iam create-service-linked-role --aws-service-name {} (or enable the integration in the console, which creates it)",
                    role.service
                ),
            }),
            Some(Err(e)) => problems.push(Problem {
                check: "service-linked role",
                message: format!(
                    "cannot check the service-linked role {}: {} ({})",
                    role.name, e.operation, e.code
                ),
                fix: "allow iam:GetRole on arn:aws:iam::*:role/aws-service-role/* to the role that runs the tool (see docs/iam/)".to_owned(),
            }),
            Some(Ok(true)) | None => {}
        }
    }
    problems
}

fn unreadable(check: &'static str, e: &AwsError) -> Problem {
    Problem {
        check,
        message: format!("the check could not run: {e}"),
        fix: "retry; if it persists, see docs/troubleshooting.md".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str) -> AccountId {
        id.parse().unwrap()
    }

    fn license(can_grant: bool) -> License {
        License {
            arn: "arn:aws:license-manager::294406891311:license:l-0123456789abcdef0123456789abcdef"
                .parse()
                .unwrap(),
            name: "l".to_owned(),
            product_name: "Claude".to_owned(),
            product_sku: "prod-x".to_owned(),
            issuer: "AWS/Marketplace".to_owned(),
            status: "AVAILABLE".to_owned(),
            home_region: HOME_REGION.to_owned(),
            received_operations: if can_grant {
                vec!["CreateGrant".to_owned()]
            } else {
                vec![]
            },
            validity_begin: None,
            validity_end: None,
            beneficiary: None,
        }
    }

    fn healthy() -> Facts {
        Facts {
            home_region: HOME_REGION.to_owned(),
            caller: account("111122223333"),
            management_account: account("111122223333"),
            feature_set: FeatureSet::All,
            licenses: vec![license(true)],
            grants_to_org_or_ous: true,
            service_access: Ok(vec![
                LICENSE_MANAGER_PRINCIPAL.to_owned(),
                MARKETPLACE_PRINCIPAL.to_owned(),
            ]),
            service_settings: Ok(ServiceSettings {
                organization_integration: true,
            }),
            delegated_admins: None,
            guardrails: None,
            service_linked_roles: SERVICE_LINKED_ROLES
                .iter()
                .map(|r| (*r, Some(Ok(true))))
                .collect(),
        }
    }

    fn denied(op: &'static str) -> AwsError {
        AwsError::new(op, ErrorKind::AccessDenied, "AccessDeniedException", "no")
    }

    fn check(edit: impl FnOnce(&mut Facts), expect: &[&str]) {
        let mut f = healthy();
        edit(&mut f);
        let got: Vec<String> = evaluate(&f).iter().map(|p| p.to_string()).collect();
        assert_eq!(got.len(), expect.len(), "{got:#?}");
        for (g, e) in got.iter().zip(expect) {
            assert!(g.contains(e), "{g:?} does not contain {e:?}");
        }
    }

    #[test]
    fn a_healthy_setup_passes() {
        check(|_| {}, &[]);
    }

    fn guardrails(scp_enabled: bool, writes: bool) -> Option<GuardrailFacts> {
        Some(GuardrailFacts {
            scp_enabled,
            root: "r-ab12".parse().unwrap(),
            writes,
        })
    }

    #[test]
    fn guardrails_need_scps_enabled_on_the_root_with_the_command_that_enables_them() {
        check(|f| f.guardrails = guardrails(true, true), &[]);
        check(
            |f| f.guardrails = guardrails(false, false),
            &[
                "fix: in the management account: aws organizations enable-policy-type --root-id r-ab12 --policy-type SERVICE_CONTROL_POLICY",
            ],
        );
    }

    #[test]
    fn scp_writes_need_the_management_account() {
        let member = |f: &mut Facts| {
            f.caller = account("222233334444");
            f.delegated_admins = Some(Ok(vec![account("222233334444")]));
        };
        check(
            |f| {
                member(f);
                f.guardrails = guardrails(true, true);
            },
            &[
                "account 222233334444 is not the management account (111122223333): the plan writes service control policies",
            ],
        );
        // Report mode (no write) from License Manager's delegated administrator is fine.
        check(
            |f| {
                member(f);
                f.guardrails = guardrails(true, false);
            },
            &[],
        );
    }

    #[test]
    fn each_missing_service_linked_role_is_named_with_the_command_that_creates_it() {
        check(
            |f| f.service_linked_roles[1].1 = Some(Ok(false)),
            &[
                "AWSServiceRoleForMarketplaceLicenseManagement does not exist in account 111122223333",
            ],
        );
        check(
            |f| f.service_linked_roles[0].1 = Some(Ok(false)),
            &["--aws-service-name license-manager.amazonaws.com"],
        );
        check(
            |f| f.service_linked_roles[0].1 = Some(Err(denied("GetRole"))),
            &["allow iam:GetRole"],
        );
        // IAM not reachable at all: not checked, not a problem.
        check(|f| f.service_linked_roles[0].1 = None, &[]);
    }

    #[test]
    fn each_failing_check_gives_its_message_and_fix() {
        check(
            |f| f.home_region = "eu-west-1".to_owned(),
            &["home region: settings.home_region is eu-west-1"],
        );
        check(
            |f| f.service_access = Ok(vec![]),
            &[
                "enable-aws-service-access --service-principal license-manager.amazonaws.com",
                "enable-aws-service-access --service-principal license-management.marketplace.amazonaws.com",
            ],
        );
        check(
            |f| f.service_access = Err(denied("ListAWSServiceAccessForOrganization")),
            &["cannot check trusted access"],
        );
        check(
            |f| {
                f.service_settings = Ok(ServiceSettings {
                    organization_integration: false,
                })
            },
            &["Link AWS Organizations"],
        );
        check(
            |f| f.licenses = vec![license(false)],
            &["does not allow this account to create grants"],
        );
        check(
            |f| {
                f.caller = account("222233334444");
                f.delegated_admins = Some(Ok(vec![]));
            },
            &["register-delegated-administrator --account-id 222233334444"],
        );
        check(
            |f| {
                f.caller = account("222233334444");
                f.delegated_admins = Some(Err(denied("ListDelegatedAdministrators")));
            },
            &["refused to list delegated administrators"],
        );
        check(
            |f| f.feature_set = FeatureSet::ConsolidatedBilling,
            &["consolidated billing"],
        );
    }

    #[test]
    fn account_only_plans_need_no_trusted_access() {
        check(
            |f| {
                f.grants_to_org_or_ous = false;
                f.service_access = Ok(vec![]);
            },
            &[],
        );
    }

    #[test]
    fn organization_grants_need_marketplace_trusted_access_too() {
        check(
            |f| f.service_access = Ok(vec![LICENSE_MANAGER_PRINCIPAL.to_owned()]),
            &["no trusted access for license-management.marketplace.amazonaws.com"],
        );
        check(
            |f| f.service_access = Ok(vec![MARKETPLACE_PRINCIPAL.to_owned()]),
            &["no trusted access for license-manager.amazonaws.com"],
        );
    }

    #[test]
    fn only_organization_grants_need_the_organization_integration() {
        let unlinked = || {
            Ok(ServiceSettings {
                organization_integration: false,
            })
        };
        check(
            |f| {
                f.grants_to_org_or_ous = false;
                f.service_settings = unlinked();
            },
            &[],
        );
        check(|f| f.service_settings = unlinked(), &["EnableIntegration"]);
    }

    #[test]
    fn a_registered_delegated_administrator_passes() {
        check(
            |f| {
                f.caller = account("222233334444");
                f.delegated_admins = Some(Ok(vec![account("222233334444")]));
            },
            &[],
        );
    }

    #[test]
    fn only_a_home_region_other_than_us_east_1_is_a_settings_problem() {
        assert_eq!(check_settings(HOME_REGION), vec![]);
        let problems = check_settings("eu-west-1");
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].to_string(),
            "preflight home region: settings.home_region is eu-west-1, but Bedrock model licenses and their grants live in us-east-1\n  fix: remove settings.home_region or set it to us-east-1"
        );
    }

    #[test]
    fn refusals_met_while_reading_are_explained_with_their_fix() {
        let explain = |op, kind, code| {
            explain_refusal(&AwsError::new(op, kind, code, "no")).map(|p| p.to_string())
        };
        let roots = explain(
            "ListRoots",
            ErrorKind::AccessDenied,
            "AccessDeniedException",
        )
        .expect("explained");
        assert!(
            roots.starts_with("preflight caller: AWS Organizations refused ListRoots (AccessDeniedException): only the management account and a delegated administrator may read the organization"),
            "{roots}"
        );
        assert!(
            roots.contains("register-delegated-administrator --account-id ACCOUNT_ID --service-principal license-manager.amazonaws.com"),
            "{roots}"
        );
        assert!(roots.contains("allow organizations:ListRoots"), "{roots}");
        let policies = explain(
            "ListPolicies",
            ErrorKind::AccessDenied,
            "AccessDeniedException",
        )
        .expect("explained");
        assert!(
            policies.contains("AWS Organizations refused ListPolicies")
                && policies.contains("allow organizations:ListPolicies")
                && !policies.contains("license-manager:"),
            "{policies}"
        );
        let not_in_org = explain(
            "DescribeOrganization",
            ErrorKind::AccessDenied,
            "AWSOrganizationsNotInUseException",
        )
        .expect("explained");
        assert!(
            not_in_org.contains("the caller's account is not in an organization"),
            "{not_in_org}"
        );
        let grants = explain(
            "ListDistributedGrants",
            ErrorKind::AccessDenied,
            "AccessDeniedException",
        )
        .expect("explained");
        assert!(
            grants.contains("lacks license-manager:ListDistributedGrants")
                && grants.contains("allow license-manager:ListDistributedGrants"),
            "{grants}"
        );
        let expired = explain(
            "ListReceivedLicenses",
            ErrorKind::AccessDenied,
            "ExpiredTokenException",
        )
        .expect("explained");
        assert!(
            expired.starts_with("preflight credentials: AWS did not accept the credentials"),
            "{expired}"
        );
        assert_eq!(
            explain(
                "ListRoots",
                ErrorKind::Throttled,
                "TooManyRequestsException"
            ),
            None
        );
        assert_eq!(
            explain("ListRoots", ErrorKind::Validation, "InvalidInputException"),
            None
        );
    }
}
