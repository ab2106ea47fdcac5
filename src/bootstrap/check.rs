//! The pure check: facts and the file's wishes in, every prerequisite with its state and fix out.

use super::{Change, Facts, Fix, Prerequisite, Report, State, Wanted};
use crate::aws::AwsError;
use crate::model::FeatureSet;
use crate::preflight::{LICENSE_MANAGER_PRINCIPAL, MARKETPLACE_PRINCIPAL, SERVICE_LINKED_ROLES};

/// Every prerequisite `apply` and the guardrails rely on, for this file, in the order
/// `bootstrap --apply` makes them (trusted access before the settings that need it).
pub fn check(facts: &Facts, wanted: &Wanted) -> Report {
    let mut out = vec![management_account(facts), all_features(facts)];
    for principal in [LICENSE_MANAGER_PRINCIPAL, MARKETPLACE_PRINCIPAL] {
        out.push(trusted_access(facts, principal));
    }
    for (i, role) in SERVICE_LINKED_ROLES.iter().enumerate() {
        let found = facts.roles.get(i).cloned().unwrap_or(Ok(false));
        out.push(service_linked_role(role.name, role.service, found));
    }
    out.extend(organization_settings(facts, wanted));
    if wanted.guardrails {
        out.push(scp_policy_type(facts));
    }
    if let Some(admin) = &wanted.delegated_administrator {
        out.push(delegated_administrator(facts, admin));
    }
    if let Some(use_case) = &wanted.use_case {
        out.push(anthropic_use_case(facts, use_case));
    }
    Report {
        caller: facts.caller.clone(),
        management_account: facts.management_account.clone(),
        prerequisites: out,
    }
}

/// Organizations and License Manager's organization settings take writes from the management
/// account of an all-features organization only; elsewhere `--apply` leaves them to the fix.
fn can_write(facts: &Facts) -> bool {
    facts.feature_set == FeatureSet::All && facts.caller == facts.management_account
}

fn done(name: impl Into<String>, detail: impl Into<String>) -> Prerequisite {
    Prerequisite {
        name: name.into(),
        state: State::Done,
        detail: detail.into(),
        fix: None,
    }
}

fn missing(
    name: impl Into<String>,
    detail: impl Into<String>,
    how: impl Into<String>,
    change: Option<Change>,
) -> Prerequisite {
    Prerequisite {
        name: name.into(),
        state: State::Missing,
        detail: detail.into(),
        fix: Some(Fix {
            how: how.into(),
            change,
        }),
    }
}

/// A fact that could not be read: the error, and the permission to add when it was refused.
fn unknown(name: impl Into<String>, e: &AwsError) -> Prerequisite {
    let how = if e.kind == crate::aws::ErrorKind::AccessDenied {
        format!(
            "allow the caller {} (docs/iam/bootstrap-policy.json) and run bootstrap again",
            iam_action(e.operation)
        )
    } else {
        "run bootstrap again once the call succeeds".to_owned()
    };
    Prerequisite {
        name: name.into(),
        state: State::Unknown,
        detail: format!("cannot be read: {e}"),
        fix: Some(Fix { how, change: None }),
    }
}

/// The IAM action of an operation the read makes.
fn iam_action(operation: &str) -> String {
    let service = match operation {
        "GetRole" => "iam",
        "GetServiceSettings" => "license-manager",
        "GetUseCaseForModelAccess" => "bedrock",
        _ => "organizations",
    };
    format!("{service}:{operation}")
}

fn management_account(facts: &Facts) -> Prerequisite {
    let name = "management-account";
    if facts.caller == facts.management_account {
        return done(
            name,
            format!(
                "the caller {} is the organization's management account",
                facts.caller
            ),
        );
    }
    missing(
        name,
        format!(
            "the caller {} is not the management account {}: trusted access, the delegated administrator and License Manager's organization settings can only be changed from it",
            facts.caller, facts.management_account
        ),
        format!(
            "run bootstrap with credentials of the management account {}",
            facts.management_account
        ),
        None,
    )
}

fn all_features(facts: &Facts) -> Prerequisite {
    let name = "all-features";
    if facts.feature_set == FeatureSet::All {
        return done(name, "the organization has all features enabled");
    }
    missing(
        name,
        "the organization has consolidated billing only: trusted access and organization or OU grants need all features",
        "aws organizations enable-all-features (every member account must accept the handshake; bootstrap does not start it)",
        None,
    )
}

fn trusted_access(facts: &Facts, principal: &'static str) -> Prerequisite {
    let name = format!("trusted-access:{principal}");
    match &facts.service_access {
        Err(e) => unknown(name, e),
        Ok(list) if list.iter().any(|p| p == principal) => {
            done(name, format!("trusted access for {principal} is enabled"))
        }
        Ok(_) => missing(
            name,
            format!("trusted access for {principal} is not enabled in AWS Organizations"),
            format!("aws organizations enable-aws-service-access --service-principal {principal}"),
            can_write(facts).then_some(Change::EnableServiceAccess(principal)),
        ),
    }
}

fn service_linked_role(
    role: &'static str,
    service: &'static str,
    found: Result<bool, AwsError>,
) -> Prerequisite {
    let name = format!("service-linked-role:{role}");
    match found {
        Err(e) => unknown(name, &e),
        Ok(true) => done(name, format!("the service-linked role {role} exists")),
        Ok(false) => missing(
            name,
            format!("the service-linked role {role} does not exist in this account"),
            format!("aws iam create-service-linked-role --aws-service-name {service}"),
            Some(Change::CreateServiceLinkedRole(service)),
        ),
    }
}

/// The organization integration and cross-account discovery: two prerequisites, one
/// UpdateServiceSettings call.
fn organization_settings(facts: &Facts, wanted: &Wanted) -> Vec<Prerequisite> {
    let (integration, discovery) = ("organization-integration", "cross-account-discovery");
    let settings = match &facts.settings {
        Err(e) => return vec![unknown(integration, e), unknown(discovery, e)],
        Ok(s) => s,
    };
    let how = format!(
        "aws license-manager update-service-settings --organization-configuration EnableIntegration=true --enable-cross-accounts-discovery --region {}",
        wanted.home_region
    );
    let change = can_write(facts).then_some(Change::LinkOrganization);
    let first = if settings.integration {
        done(
            integration,
            "License Manager is linked to AWS Organizations (EnableIntegration)",
        )
    } else {
        missing(
            integration,
            "License Manager is not linked to AWS Organizations (OrganizationConfiguration.EnableIntegration is false)",
            how.clone(),
            change.clone(),
        )
    };
    let second = if settings.cross_account_discovery {
        done(discovery, "License Manager's cross-account discovery is on")
    } else {
        missing(
            discovery,
            "License Manager's cross-account discovery is off (EnableCrossAccountsDiscovery is false)",
            how,
            change,
        )
    };
    vec![first, second]
}

fn scp_policy_type(facts: &Facts) -> Prerequisite {
    let name = "scp-policy-type";
    match &facts.scp {
        None => done(name, "not read"),
        Some(Err(e)) => unknown(name, e),
        Some(Ok((root, true))) => done(
            name,
            format!("service control policies are enabled on the root {root}"),
        ),
        Some(Ok((root, false))) => missing(
            name,
            format!(
                "service control policies are not enabled on the root {root}; settings.guardrails needs them"
            ),
            format!(
                "aws organizations enable-policy-type --root-id {root} --policy-type SERVICE_CONTROL_POLICY"
            ),
            can_write(facts).then(|| Change::EnableScpPolicyType(root.clone())),
        ),
    }
}

fn delegated_administrator(facts: &Facts, admin: &crate::model::AccountId) -> Prerequisite {
    let name = "delegated-administrator";
    let admins = match &facts.delegated_admins {
        None => return done(name, "not read"),
        Some(Err(e)) => return unknown(name, e),
        Some(Ok(a)) => a,
    };
    if admins.contains(admin) {
        return done(
            name,
            format!("{admin} is License Manager's delegated administrator"),
        );
    }
    if let Some(other) = admins.first() {
        return missing(
            name,
            format!(
                "{other} is License Manager's delegated administrator, not {admin} (settings.bootstrap.delegated_administrator); an organization has only one"
            ),
            format!(
                "aws organizations deregister-delegated-administrator --account-id {other} --service-principal {LICENSE_MANAGER_PRINCIPAL}, then run bootstrap --apply (bootstrap never deregisters one)"
            ),
            None,
        );
    }
    missing(
        name,
        format!("{admin} is not registered as License Manager's delegated administrator"),
        format!(
            "aws organizations register-delegated-administrator --account-id {admin} --service-principal {LICENSE_MANAGER_PRINCIPAL}"
        ),
        can_write(facts).then(|| Change::RegisterDelegatedAdministrator(admin.clone())),
    )
}

/// Anthropic's one-time use-case form (Bedrock GetUseCaseForModelAccess /
/// PutUseCaseForModelAccess): its content comes from the file, never from the tool.
fn anthropic_use_case(facts: &Facts, wanted: &super::UseCaseWanted) -> Prerequisite {
    let name = "anthropic-use-case";
    let found = match &facts.use_case {
        None => return done(name, "not read"),
        Some(Err(e)) => return unknown(name, e),
        Some(Ok(found)) => *found,
    };
    if found {
        return done(name, "Anthropic's use-case form has been submitted");
    }
    let who = if wanted.models.is_empty() {
        "settings.bootstrap.anthropic_use_case is set".to_owned()
    } else {
        format!("the Anthropic models {} need it", wanted.models.join(", "))
    };
    let detail = format!("Anthropic's use-case form has not been submitted ({who})");
    match &wanted.form {
        Some(form) => missing(
            name,
            detail,
            "bootstrap --apply submits settings.bootstrap.anthropic_use_case (aws bedrock put-use-case-for-model-access --form-data fileb://FORM.json)",
            Some(Change::SubmitUseCase(form.clone())),
        ),
        None => missing(
            name,
            detail,
            "fill in settings.bootstrap.anthropic_use_case (company_name, company_website, intended_users, industry_option, other_industry_option, use_cases: what Anthropic's form asks), then run bootstrap --apply",
            None,
        ),
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
