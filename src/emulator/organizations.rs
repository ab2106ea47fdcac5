//! Organizations operations (`X-Amz-Target: AWSOrganizationsV20161128.<Op>`): the read-only
//! calls that describe the organization's tree. Timestamps are JSON numbers (epoch seconds).
//!
//! Who may call: DescribeOrganization any account of the organization; everything else the
//! management account or a delegated administrator (AccessDeniedException otherwise). An account
//! outside the organization gets AWSOrganizationsNotInUseException.

use serde_json::{Value, json};

use super::identity::Caller;
use super::options::EmulatorOptions;
use super::state::{AccountRec, LM_SERVICE_PRINCIPAL, OuRec, World};
use super::wire::{ApiError, Input, Service, encode_token, page};

pub(crate) const OPERATIONS: &[&str] = &[
    "DescribeAccount",
    "DescribeOrganization",
    "DescribeOrganizationalUnit",
    "ListAWSServiceAccessForOrganization",
    "ListAccounts",
    "ListAccountsForParent",
    "ListChildren",
    "ListDelegatedAdministrators",
    "ListOrganizationalUnitsForParent",
    "ListParents",
    "ListRoots",
    // Prerequisites: the management account's writes (below).
    "DisableAWSServiceAccess",
    "EnableAWSServiceAccess",
    "RegisterDelegatedAdministrator",
    // Policies: org_policies.rs.
    "AttachPolicy",
    "CreatePolicy",
    "DeletePolicy",
    "DescribePolicy",
    "DetachPolicy",
    "DisablePolicyType",
    "EnablePolicyType",
    "ListPolicies",
    "ListPoliciesForTarget",
    "ListTagsForResource",
    "ListTargetsForPolicy",
    "TagResource",
    "UntagResource",
    "UpdatePolicy",
];

/// The operations that only the management account may call ("You can only call this operation
/// from the management account", Organizations API reference).
const MANAGEMENT_WRITES: &[&str] = &[
    "DisableAWSServiceAccess",
    "EnableAWSServiceAccess",
    "RegisterDelegatedAdministrator",
];

const MAX_RESULTS: u32 = 20;
/// When trusted access and delegation were set up (the seed does not say; a fixed instant).
const ENABLED_AT: i64 = 1_704_067_200;

pub(crate) fn handle(
    world: &mut World,
    caller: &Caller,
    opts: &EmulatorOptions,
    op: &str,
    body: &Value,
    empty_page: bool,
) -> Result<String, ApiError> {
    let input = Input::new(Service::Organizations, body)?;
    if !OPERATIONS.contains(&op) {
        return Err(ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation AWSOrganizationsV20161128.{op}"),
        ));
    }
    if !world.org.accounts.contains_key(&caller.account) {
        return Err(ApiError::client(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        ));
    }
    if op != "DescribeOrganization" && !world.org.is_admin(&caller.account) {
        return Err(ApiError::access_denied(
            Service::Organizations,
            "You don't have permissions to access this resource.",
        ));
    }
    let limit = || {
        input
            .max_results(
                MAX_RESULTS,
                opts.org_default_page_size.clamp(1, MAX_RESULTS),
            )
            .map(|l| (l, empty_page))
    };
    if MANAGEMENT_WRITES.contains(&op) {
        return prerequisite_write(world, caller, &input, op).map(|v| v.to_string());
    }
    if super::org_policies::OPERATIONS.contains(&op) {
        let page = (opts.org_default_page_size.clamp(1, MAX_RESULTS), empty_page);
        return super::org_policies::handle(world, caller, &input, op, page).map(|v| v.to_string());
    }
    let v = match op {
        "DescribeOrganization" => describe_organization(world),
        "ListRoots" => {
            let limit = limit()?;
            let after = input.next_token(op)?;
            let roots = vec![json!({
                "Id": world.org.root_id,
                "Arn": world.org.root_arn(),
                "Name": "Root",
                "PolicyTypes": world.policies.root_policy_types(),
            })];
            paged(
                "Roots",
                op,
                roots,
                |r| r["Id"].as_str().unwrap_or("").to_owned(),
                after,
                limit,
            )
        }
        "ListOrganizationalUnitsForParent" => {
            let parent = parent_id(world, &input, "ParentId")?;
            let limit = limit()?;
            let after = input.next_token(op)?;
            let ous: Vec<Value> = world
                .org
                .ous
                .values()
                .filter(|o| o.parent == parent)
                .map(|o| ou_json(world, o))
                .collect();
            paged("OrganizationalUnits", op, ous, id_of, after, limit)
        }
        "ListAccountsForParent" => {
            let parent = parent_id(world, &input, "ParentId")?;
            let limit = limit()?;
            let after = input.next_token(op)?;
            let accounts: Vec<Value> = world
                .org
                .accounts
                .values()
                .filter(|a| a.parent == parent)
                .map(|a| account_json(world, a))
                .collect();
            paged("Accounts", op, accounts, id_of, after, limit)
        }
        "ListAccounts" => {
            let limit = limit()?;
            let after = input.next_token(op)?;
            let accounts: Vec<Value> = world
                .org
                .accounts
                .values()
                .map(|a| account_json(world, a))
                .collect();
            paged("Accounts", op, accounts, id_of, after, limit)
        }
        "ListChildren" => {
            let parent = parent_id(world, &input, "ParentId")?;
            let child_type = input.str("ChildType")?;
            let limit = limit()?;
            let after = input.next_token(op)?;
            let children: Vec<Value> = match child_type {
                "ACCOUNT" => world
                    .org
                    .accounts
                    .values()
                    .filter(|a| a.parent == parent)
                    .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
                    .collect(),
                "ORGANIZATIONAL_UNIT" => world
                    .org
                    .ous
                    .values()
                    .filter(|o| o.parent == parent)
                    .map(|o| json!({"Id": o.id, "Type": "ORGANIZATIONAL_UNIT"}))
                    .collect(),
                other => {
                    return Err(ApiError::org_input(
                        "INVALID_ENUM",
                        format!(
                            "You specified an invalid value for ChildType: {other}. Valid values are ACCOUNT and ORGANIZATIONAL_UNIT."
                        ),
                    ));
                }
            };
            paged("Children", op, children, id_of, after, limit)
        }
        "ListParents" => {
            let child = input.str("ChildId")?;
            if !is_account_id(child) && !is_ou_id(child) {
                return Err(invalid_pattern("ChildId", child));
            }
            let limit = limit()?;
            let after = input.next_token(op)?;
            let parent = world
                .org
                .accounts
                .get(child)
                .map(|a| a.parent.clone())
                .or_else(|| world.org.ous.get(child).map(|o| o.parent.clone()))
                .ok_or_else(|| {
                    ApiError::client(
                        "ChildNotFoundException",
                        "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.",
                    )
                })?;
            let kind = if parent == world.org.root_id {
                "ROOT"
            } else {
                "ORGANIZATIONAL_UNIT"
            };
            paged(
                "Parents",
                op,
                vec![json!({"Id": parent, "Type": kind})],
                id_of,
                after,
                limit,
            )
        }
        "DescribeOrganizationalUnit" => {
            let id = input.str("OrganizationalUnitId")?;
            if !is_ou_id(id) {
                return Err(invalid_pattern("OrganizationalUnitId", id));
            }
            let ou = world.org.ous.get(id).ok_or_else(|| {
                ApiError::client(
                    "OrganizationalUnitNotFoundException",
                    "We can't find an organizational unit (OU) with the OrganizationalUnitId that you specified.",
                )
            })?;
            json!({"OrganizationalUnit": ou_json(world, ou)})
        }
        "DescribeAccount" => {
            let id = input.str("AccountId")?;
            if !is_account_id(id) {
                return Err(invalid_pattern("AccountId", id));
            }
            let a = world.org.accounts.get(id).ok_or_else(|| {
                ApiError::client(
                    "AccountNotFoundException",
                    "You specified an account that doesn't exist.",
                )
            })?;
            json!({"Account": account_json(world, a)})
        }
        "ListAWSServiceAccessForOrganization" => {
            let limit = limit()?;
            let after = input.next_token(op)?;
            let services: Vec<Value> = world
                .org
                .services()
                .into_iter()
                .map(|s| json!({"ServicePrincipal": s, "DateEnabled": ENABLED_AT}))
                .collect();
            paged(
                "EnabledServicePrincipals",
                op,
                services,
                |v| v["ServicePrincipal"].as_str().unwrap_or("").to_owned(),
                after,
                limit,
            )
        }
        "ListDelegatedAdministrators" => {
            let service = input.opt_str("ServicePrincipal")?;
            let limit = limit()?;
            let after = input.next_token(op)?;
            let admins: Vec<Value> = match (&world.org.delegated_admin, service) {
                (Some(da), None | Some(LM_SERVICE_PRINCIPAL)) => world
                    .org
                    .accounts
                    .get(da)
                    .map(|a| {
                        let mut v = account_json(world, a);
                        if let Value::Object(m) = &mut v {
                            m.remove("Paths");
                            m.insert("DelegationEnabledDate".into(), json!(ENABLED_AT));
                        }
                        v
                    })
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            };
            paged("DelegatedAdministrators", op, admins, id_of, after, limit)
        }
        _ => unreachable!("checked against OPERATIONS"),
    };
    Ok(v.to_string())
}

fn id_of(v: &Value) -> String {
    v["Id"].as_str().unwrap_or("").to_owned()
}

/// One page of `items`, or (the `empty_page` fault) no items and a token to the same place.
fn paged(
    key: &str,
    op: &str,
    items: Vec<Value>,
    sort_key: impl Fn(&Value) -> String,
    after: Option<String>,
    (limit, empty_page): (u32, bool),
) -> Value {
    let (items, token) = if empty_page {
        (
            Vec::new(),
            Some(encode_token(op, after.as_deref().unwrap_or(""))),
        )
    } else {
        page(op, items, sort_key, after.as_deref(), limit)
    };
    let mut v = json!({ key: items });
    if let Some(t) = token {
        v["NextToken"] = Value::String(t);
    }
    v
}

fn describe_organization(world: &World) -> Value {
    let org = &world.org;
    let mgmt_email = org
        .accounts
        .get(&org.management)
        .map(|a| a.email.clone())
        .unwrap_or_default();
    json!({"Organization": {
        "Id": org.id,
        "Arn": org.arn,
        "FeatureSet": org.feature_set.as_str(),
        "MasterAccountArn": org.account_arn(&org.management),
        "MasterAccountId": org.management,
        "MasterAccountEmail": mgmt_email,
        "AvailablePolicyTypes": [],
    }})
}

fn ou_json(world: &World, ou: &OuRec) -> Value {
    json!({
        "Id": ou.id,
        "Arn": world.org.ou_arn(&ou.id),
        "Name": ou.name,
        "Path": world.org.path_to(&ou.id),
    })
}

fn account_json(world: &World, a: &AccountRec) -> Value {
    json!({
        "Id": a.id,
        "Arn": world.org.account_arn(&a.id),
        "Email": a.email,
        "Name": a.name,
        "Status": a.status(),
        "State": a.state,
        "Paths": [format!("{}{}/", world.org.path_to(&a.parent), a.id)],
        "JoinedMethod": a.joined_method,
        "JoinedTimestamp": a.joined_timestamp,
    })
}

use super::ids::{is_account as is_account_id, is_ou as is_ou_id, is_root as is_root_id};

fn invalid_pattern(member: &str, value: &str) -> ApiError {
    ApiError::org_input(
        "INVALID_PATTERN",
        format!(
            "You specified an invalid value for {member}: {value}. The value does not match the required pattern."
        ),
    )
}

/// A `ParentId` member: well formed, and the root or an existing OU.
fn parent_id(world: &World, input: &Input<'_>, member: &str) -> Result<String, ApiError> {
    let id = input.str(member)?;
    if !is_root_id(id) && !is_ou_id(id) {
        return Err(invalid_pattern(member, id));
    }
    if !world.org.is_parent(id) {
        return Err(ApiError::client(
            "ParentNotFoundException",
            "We can't find a root or OU with the ParentId that you specified.",
        ));
    }
    Ok(id.to_owned())
}

/// EnableAWSServiceAccess, DisableAWSServiceAccess and RegisterDelegatedAdministrator: trusted
/// access per service principal and License Manager's delegated administrator, each a fact of
/// its own. Enabling what is enabled (or disabling what is not) succeeds and changes nothing
/// (GUESS: AWS documents no error for either; docs/emulator.md).
fn prerequisite_write(
    world: &mut World,
    caller: &Caller,
    input: &Input<'_>,
    op: &str,
) -> Result<Value, ApiError> {
    if caller.account != world.org.management {
        return Err(ApiError::access_denied(
            Service::Organizations,
            "You don't have permissions to access this resource.",
        ));
    }
    if world.org.feature_set != super::state::FeatureSet::All {
        return Err(ApiError::client(
            "ConstraintViolationException",
            "You attempted to perform an operation that requires the organization to be configured to support all features. An organization that supports only consolidated billing features can't perform this operation.",
        )
        .with("Reason", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE"));
    }
    let principal = input.str("ServicePrincipal")?;
    if principal.is_empty()
        || principal.len() > 128
        || !principal
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
    {
        return Err(invalid_pattern("ServicePrincipal", principal));
    }
    match op {
        "EnableAWSServiceAccess" => set_service_access(world, principal, true),
        "DisableAWSServiceAccess" => set_service_access(world, principal, false),
        _ => register_delegated_admin(world, input, principal)?,
    }
    Ok(json!({}))
}

fn set_service_access(world: &mut World, principal: &str, on: bool) {
    let org = &mut world.org;
    if principal == LM_SERVICE_PRINCIPAL {
        org.trusted_access = on;
    } else if on {
        org.other_services.insert(principal.to_owned());
    } else {
        org.other_services.remove(principal);
    }
}

/// RegisterDelegatedAdministrator, with the ConstraintViolationException reasons the API
/// reference lists. The emulator keeps License Manager's delegated administrator only: another
/// service principal is refused (GUESS, docs/emulator.md).
fn register_delegated_admin(
    world: &mut World,
    input: &Input<'_>,
    principal: &str,
) -> Result<(), ApiError> {
    let account = input.str("AccountId")?;
    if !is_account_id(account) {
        return Err(invalid_pattern("AccountId", account));
    }
    let violation = |reason: &'static str, message: &str| {
        ApiError::client("ConstraintViolationException", message).with("Reason", reason)
    };
    let org = &mut world.org;
    let Some(rec) = org.accounts.get(account) else {
        return Err(ApiError::client(
            "AccountNotFoundException",
            "You specified an account that doesn't exist.",
        ));
    };
    if account == org.management {
        return Err(violation(
            "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR",
            "You can designate only a member account as a delegated administrator.",
        ));
    }
    if rec.status() == "SUSPENDED" {
        return Err(violation(
            "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR",
            "You cannot register a suspended account as a delegated administrator.",
        ));
    }
    if principal != LM_SERVICE_PRINCIPAL {
        return Err(ApiError::org_input(
            "UNRECOGNIZED_SERVICE_PRINCIPAL",
            format!(
                "The emulator keeps delegated administrators for {LM_SERVICE_PRINCIPAL} only, not {principal}."
            ),
        ));
    }
    if !org.trusted_access {
        return Err(violation(
            "SERVICE_ACCESS_NOT_ENABLED",
            "You attempted to register a delegated administrator before you enabled service access. Call the EnableAWSServiceAccess API first.",
        ));
    }
    match &org.delegated_admin {
        Some(da) if da == account => Err(ApiError::client(
            "AccountAlreadyRegisteredException",
            "The specified account is already a delegated administrator for this AWS service.",
        )),
        Some(_) => Err(violation(
            "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE",
            "You attempted to register an AWS account as a delegated administrator for an AWS service that already has a delegated administrator.",
        )),
        None => {
            org.delegated_admin = Some(account.to_owned());
            Ok(())
        }
    }
}
