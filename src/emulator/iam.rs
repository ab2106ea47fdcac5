//! IAM in the AWS Query protocol, as far as the tool needs it: `GetRole`, to learn whether the
//! service-linked roles that License Manager and AWS Marketplace need exist in the caller's
//! account. The roles that exist are facts of the seed (`service_linked_role`,
//! `marketplace_service_linked_role` for the management account and the delegated administrator;
//! in member accounts Marketplace's role exists once its trusted access is enabled, which AWS
//! documents as creating it there), plus the roles `role_policies` names for `AssumeRole`.

use super::identity::Caller;
use super::state::{
    LM_ROLE, LM_SERVICE_PRINCIPAL, MARKETPLACE_ROLE, MARKETPLACE_SERVICE_PRINCIPAL, World,
};
use super::sts::escape;
use super::wire::ApiError;

pub(crate) const OPERATIONS: &[&str] = &["GetRole"];
pub(crate) const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The service each service-linked role belongs to (its path is `/aws-service-role/<service>/`).
fn service_of(role: &str) -> Option<&'static str> {
    match role {
        LM_ROLE => Some(LM_SERVICE_PRINCIPAL),
        MARKETPLACE_ROLE => Some(MARKETPLACE_SERVICE_PRINCIPAL),
        _ => None,
    }
}

fn role_exists(world: &World, account: &str, role: &str, assumable: bool) -> bool {
    let org = &world.org;
    match role {
        LM_ROLE => org.is_admin(account) && org.service_linked_role,
        MARKETPLACE_ROLE if org.is_admin(account) => org.marketplace_service_linked_role,
        MARKETPLACE_ROLE => org.services().contains(MARKETPLACE_SERVICE_PRINCIPAL),
        _ => assumable,
    }
}

pub(crate) fn handle(
    world: &World,
    caller: &Caller,
    op: &str,
    form: &std::collections::BTreeMap<String, String>,
    assumable: &dyn Fn(&str) -> bool,
    request_id: &str,
) -> Result<String, ApiError> {
    if op != "GetRole" {
        return Err(ApiError::client(
            "InvalidAction",
            format!("Could not find operation {op} for version 2010-05-08"),
        ));
    }
    let name = form.get("RoleName").filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::client(
            "ValidationError",
            "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null",
        )
    })?;
    let account = caller.account.as_str();
    if !role_exists(world, account, name, assumable(name)) {
        return Err(ApiError::new(
            404,
            "NoSuchEntity",
            format!("The role with name {name} cannot be found."),
        ));
    }
    let path =
        service_of(name).map_or_else(|| "/".to_owned(), |s| format!("/aws-service-role/{s}/"));
    let arn = format!("arn:aws:iam::{account}:role{path}{name}");
    let id = format!(
        "AROA{:017X}",
        super::faults::mix64(arn.len() as u64 ^ 0x1a3)
    );
    let role = format!(
        "<Path>{}</Path><RoleName>{}</RoleName><RoleId>{id}</RoleId><Arn>{}</Arn><CreateDate>2024-01-01T00:00:00Z</CreateDate>",
        escape(&path),
        escape(name),
        escape(&arn)
    );
    Ok(format!(
        "<GetRoleResponse xmlns=\"{XMLNS}\"><GetRoleResult><Role>{role}</Role></GetRoleResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetRoleResponse>"
    ))
}
