//! IAM in the AWS Query protocol, as far as the tool needs it: `GetRole`, to learn whether the
//! service-linked roles that License Manager and AWS Marketplace need exist in the caller's
//! account, and `CreateServiceLinkedRole` (`bootstrap --apply`), which makes one. The roles that exist are facts of the seed (`service_linked_role`,
//! `marketplace_service_linked_role` for the management account and the delegated administrator;
//! in member accounts Marketplace's role exists once its trusted access is enabled, which AWS
//! documents as creating it there), plus the roles `role_policies` names for `AssumeRole`.

use super::identity::Caller;
use super::state::{
    LM_ROLE, LM_SERVICE_PRINCIPAL, MARKETPLACE_ROLE, MARKETPLACE_SERVICE_PRINCIPAL, World,
};
use super::sts::escape;
use super::wire::ApiError;

pub(crate) const OPERATIONS: &[&str] = &["CreateServiceLinkedRole", "GetRole"];
pub(crate) const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The service each service-linked role belongs to (its path is `/aws-service-role/<service>/`).
fn service_of(role: &str) -> Option<&'static str> {
    match role {
        LM_ROLE => Some(LM_SERVICE_PRINCIPAL),
        MARKETPLACE_ROLE => Some(MARKETPLACE_SERVICE_PRINCIPAL),
        _ => None,
    }
}

/// The service-linked role a service principal's `CreateServiceLinkedRole` makes.
fn role_of(service: &str) -> Option<&'static str> {
    match service {
        LM_SERVICE_PRINCIPAL => Some(LM_ROLE),
        MARKETPLACE_SERVICE_PRINCIPAL => Some(MARKETPLACE_ROLE),
        _ => None,
    }
}

fn role_exists(world: &World, account: &str, role: &str, assumable: bool) -> bool {
    let org = &world.org;
    if org
        .member_roles
        .contains(&(account.to_owned(), role.to_owned()))
    {
        return true;
    }
    match role {
        LM_ROLE => org.is_admin(account) && org.service_linked_role,
        MARKETPLACE_ROLE if org.is_admin(account) => org.marketplace_service_linked_role,
        MARKETPLACE_ROLE => org.services().contains(MARKETPLACE_SERVICE_PRINCIPAL),
        _ => assumable,
    }
}

pub(crate) fn handle(
    world: &mut World,
    caller: &Caller,
    op: &str,
    form: &std::collections::BTreeMap<String, String>,
    assumable: &dyn Fn(&str) -> bool,
    request_id: &str,
) -> Result<String, ApiError> {
    let (name, result) = match op {
        "GetRole" => (get_role(world, caller, form, assumable)?, "GetRole"),
        "CreateServiceLinkedRole" => (
            create_service_linked_role(world, caller, form, assumable)?,
            "CreateServiceLinkedRole",
        ),
        _ => {
            return Err(ApiError::client(
                "InvalidAction",
                format!("Could not find operation {op} for version 2010-05-08"),
            ));
        }
    };
    let role = role_xml(&caller.account, name);
    Ok(format!(
        "<{result}Response xmlns=\"{XMLNS}\"><{result}Result><Role>{role}</Role></{result}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{result}Response>"
    ))
}

fn get_role<'f>(
    world: &World,
    caller: &Caller,
    form: &'f std::collections::BTreeMap<String, String>,
    assumable: &dyn Fn(&str) -> bool,
) -> Result<&'f str, ApiError> {
    let name = form.get("RoleName").filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::client(
            "ValidationError",
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if !role_exists(world, &caller.account, name, assumable(name)) {
        return Err(ApiError::new(
            404,
            "NoSuchEntity",
            format!("The role with name {name} cannot be found."),
        ));
    }
    Ok(name)
}

/// CreateServiceLinkedRole for License Manager's or Marketplace's principal: the role becomes a
/// fact of the caller's account (in the management account and the delegated administrator the
/// seed's `service_linked_role` / `marketplace_service_linked_role`). A role that exists is
/// refused with IAM's `InvalidInput` ("has been taken"); another service's principal too (GUESS:
/// the emulator knows no other service's role; docs/emulator.md).
fn create_service_linked_role(
    world: &mut World,
    caller: &Caller,
    form: &std::collections::BTreeMap<String, String>,
    assumable: &dyn Fn(&str) -> bool,
) -> Result<&'static str, ApiError> {
    let service = form
        .get("AWSServiceName")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::client(
                "ValidationError",
                "1 validation error detected: Value null at 'aWSServiceName' failed to satisfy constraint: Member must not be null",
            )
        })?;
    let Some(role) = role_of(service) else {
        return Err(ApiError::client(
            "InvalidInput",
            format!("Invalid ServiceName provided: {service}"),
        ));
    };
    let account = caller.account.as_str();
    if role_exists(world, account, role, assumable(role)) {
        return Err(ApiError::client(
            "InvalidInput",
            format!(
                "Service role name {role} has been taken in this account, please try a different suffix."
            ),
        ));
    }
    let org = &mut world.org;
    match role {
        LM_ROLE if org.is_admin(account) => org.service_linked_role = true,
        MARKETPLACE_ROLE if org.is_admin(account) => org.marketplace_service_linked_role = true,
        _ => {
            org.member_roles
                .insert((account.to_owned(), role.to_owned()));
        }
    }
    Ok(role)
}

/// The `Role` element of GetRole and CreateServiceLinkedRole.
fn role_xml(account: &str, name: &str) -> String {
    let path =
        service_of(name).map_or_else(|| "/".to_owned(), |s| format!("/aws-service-role/{s}/"));
    let arn = format!("arn:aws:iam::{account}:role{path}{name}");
    let id = format!(
        "AROA{:017X}",
        super::faults::mix64(arn.len() as u64 ^ 0x1a3)
    );
    format!(
        "<Path>{}</Path><RoleName>{}</RoleName><RoleId>{id}</RoleId><Arn>{}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate>",
        escape(&path),
        escape(name),
        escape(&arn)
    )
}
