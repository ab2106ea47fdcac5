//! License Manager operations (`X-Amz-Target: AWSLicenseManager.<Op>`): grants, their status
//! machine and versions, received licenses, tags and service settings.
//!
//! Choices where AWS documents nothing are marked GUESS and listed in docs/emulator.md.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::clock;
use super::identity::Caller;
use super::ids::ALLOWED_OPERATIONS as KNOWN_OPERATIONS;
use super::options::{EmulatorOptions, RecallEnd};
use super::state::{
    FeatureSet, GRANTS_PER_LICENSE, GrantRec, Grantee, Status, SubGrant, TokenEntry, TokenKey,
    WorkflowKind, World,
};
use super::wire::{ApiError, Input, Service, page};

/// Every License Manager operation the emulator serves.
pub(crate) const OPERATIONS: &[&str] = &[
    "AcceptGrant",
    "CreateGrant",
    "CreateGrantVersion",
    "DeleteGrant",
    "GetGrant",
    "GetLicense",
    "GetServiceSettings",
    "ListDistributedGrants",
    "ListLicenses",
    "ListReceivedGrants",
    "ListReceivedGrantsForOrganization",
    "ListReceivedLicenses",
    "ListTagsForResource",
    "RejectGrant",
    "TagResource",
    "UntagResource",
    "UpdateServiceSettings",
];

/// What an operation needs besides the world and its input.
pub(crate) struct Ctx<'a> {
    pub caller: &'a Caller,
    /// The region the request was signed for (None: the home region).
    pub region: Option<&'a str>,
    pub opts: &'a EmulatorOptions,
}

impl Ctx<'_> {
    fn in_home_region(&self, world: &World) -> bool {
        self.region.is_none_or(|r| r == world.region)
    }
}

pub(crate) fn handle(
    world: &mut World,
    ctx: &Ctx<'_>,
    op: &str,
    body: &Value,
) -> Result<String, ApiError> {
    let input = Input::new(Service::LicenseManager, body)?;
    world.settle_timed(clock::now());
    match op {
        "CreateGrant" => create_grant(world, ctx, &input, body),
        "CreateGrantVersion" => create_grant_version(world, ctx, &input, body),
        "GetGrant" => get_grant(world, ctx, &input),
        "DeleteGrant" => delete_grant(world, ctx, &input),
        "AcceptGrant" => accept_or_reject(world, ctx, &input, true),
        "RejectGrant" => accept_or_reject(world, ctx, &input, false),
        "ListDistributedGrants" => list_distributed_grants(world, ctx, &input),
        "ListReceivedGrants" => list_received_grants(world, ctx, &input),
        "ListReceivedGrantsForOrganization" => list_received_grants_for_org(world, ctx, &input),
        "ListReceivedLicenses" => list_received_licenses(world, ctx, &input),
        "ListLicenses" => list_licenses(world, ctx, &input),
        "GetLicense" => get_license(world, ctx, &input),
        "TagResource" => tag_resource(world, ctx, &input),
        "UntagResource" => untag_resource(world, ctx, &input),
        "ListTagsForResource" => list_tags(world, ctx, &input),
        "GetServiceSettings" => get_service_settings(world, ctx),
        "UpdateServiceSettings" => update_service_settings(world, ctx, &input),
        _ => Err(ApiError::client(
            "UnknownOperationException",
            format!("Unknown operation AWSLicenseManager.{op}"),
        )),
    }
}

fn not_found(what: &str, arn: &str) -> ApiError {
    // GUESS: License Manager's own ResourceNotFoundException (not modeled for these operations;
    // the SDK surfaces it as Unhandled with this code), as Terraform's provider expects.
    ApiError::client(
        "ResourceNotFoundException",
        format!("{what} {arn} not found"),
    )
}

fn pattern(member: &str, value: &str, regex: &str) -> ApiError {
    let mut m = member.chars();
    let member: String = m
        .next()
        .map(|c| c.to_lowercase().chain(m).collect())
        .unwrap_or_default();
    ApiError::validation(format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {regex}"
    ))
}

const ARN_PATTERN: &str = "^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$";

/// The service model's `Arn` pattern, checked loosely (shape and allowed characters).
fn check_arn(member: &str, value: &str) -> Result<(), ApiError> {
    let ok = value.len() <= 2048
        && value.starts_with("arn:aws")
        && value.splitn(6, ':').count() == 6
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":_/+=,@.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(pattern(member, value, ARN_PATTERN))
    }
}

fn arn_member<'a>(input: &Input<'a>, member: &str) -> Result<&'a str, ApiError> {
    let v = input.str(member)?;
    check_arn(member, v)?;
    Ok(v)
}

fn client_token<'a>(input: &Input<'a>) -> Result<&'a str, ApiError> {
    let t = input.non_empty("ClientToken")?;
    if t.len() > 2048 || t.chars().any(char::is_whitespace) {
        return Err(pattern("ClientToken", t, "\\S+"));
    }
    Ok(t)
}

fn operations(input: &Input<'_>, required: bool) -> Result<Option<Vec<String>>, ApiError> {
    let ops = if required {
        Some(input.str_list("AllowedOperations")?)
    } else {
        input.opt_str_list("AllowedOperations")?
    };
    let Some(ops) = ops else { return Ok(None) };
    if ops.is_empty() || ops.len() > 8 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'allowedOperations' failed to satisfy constraint: Member must have length between 1 and 8, got {}",
            ops.len()
        )));
    }
    for op in &ops {
        if !KNOWN_OPERATIONS.contains(op) {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '[{op}]' at 'allowedOperations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                KNOWN_OPERATIONS.join(", ")
            )));
        }
    }
    Ok(Some(ops.into_iter().map(str::to_owned).collect()))
}

fn status_reason<'a>(input: &Input<'a>) -> Result<Option<&'a str>, ApiError> {
    let r = input.opt_str("StatusReason")?;
    if let Some(r) = r
        && r.chars().count() > 400
    {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'statusReason' failed to satisfy constraint: Member must have length less than or equal to 400",
        ));
    }
    Ok(r)
}

/// ClientToken idempotency: the same token and the same request answer the first response; the
/// same token with a different request is refused (GUESS: ValidationException). Scope: the
/// calling account and the operation.
fn replayed(
    world: &World,
    ctx: &Ctx<'_>,
    op: &'static str,
    token: &str,
    body: &Value,
) -> Result<Option<String>, ApiError> {
    let key = TokenKey {
        account: ctx.caller.account.clone(),
        op,
        token: token.to_owned(),
    };
    match world.tokens.get(&key) {
        None => Ok(None),
        Some(entry) if entry.request == *body => Ok(Some(entry.response.clone())),
        Some(_) => Err(ApiError::validation(format!(
            "ClientToken {token} was already used with a different request; use a new ClientToken for a different request"
        ))),
    }
}

fn remember(
    world: &mut World,
    ctx: &Ctx<'_>,
    op: &'static str,
    token: &str,
    body: &Value,
    response: &str,
) {
    world.tokens.insert(
        TokenKey {
            account: ctx.caller.account.clone(),
            op,
            token: token.to_owned(),
        },
        TokenEntry {
            request: body.clone(),
            response: response.to_owned(),
        },
    );
}

fn change_response(g: &GrantRec) -> String {
    json!({"GrantArn": g.arn, "Status": g.status.as_str(), "Version": g.version.to_string()})
        .to_string()
}

fn create_grant(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
    body: &Value,
) -> Result<String, ApiError> {
    let token = client_token(input)?;
    let name = input.non_empty("GrantName")?;
    let license_arn = arn_member(input, "LicenseArn")?;
    let principals = input.str_list("Principals")?;
    let home_region = input.non_empty("HomeRegion")?;
    let ops = operations(input, true)?.unwrap_or_default();
    let tags = read_tags(input, false)?;
    if principals.len() != 1 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'principals' failed to satisfy constraint: Member must have length between 1 and 1, got {}",
            principals.len()
        )));
    }
    let principal = principals[0];
    check_arn("Principals", principal)?;
    if let Some(resp) = replayed(world, ctx, "CreateGrant", token, body)? {
        return Ok(resp);
    }
    let caller = &ctx.caller.account;
    let lic = world
        .license(license_arn)
        .filter(|_| ctx.in_home_region(world))
        .and_then(|i| {
            world
                .received_licenses(caller)
                .into_iter()
                .find(|r| r.license == i)
        })
        .ok_or_else(|| {
            ApiError::validation(format!(
                "License {license_arn} is not available to {}; only a license the caller received can be granted",
                ctx.caller.root_arn()
            ))
        })?;
    if !lic.operations.iter().any(|o| o == "CreateGrant") {
        return Err(ApiError::access_denied(
            Service::LicenseManager,
            format!(
                "{} is not allowed to create grants for license {license_arn}: the license was received without the CreateGrant operation",
                ctx.caller.root_arn()
            ),
        ));
    }
    let license_status = &world.licenses[lic.license].status;
    if license_status != "AVAILABLE" {
        // GUESS: AWS documents no error for granting an expired or deactivated license.
        return Err(ApiError::validation(format!(
            "License {license_arn} is {license_status}; only an AVAILABLE license can be granted"
        )));
    }
    if let Some(op) = ops.iter().find(|o| !lic.operations.contains(o)) {
        return Err(ApiError::validation(format!(
            "Allowed operation {op} is not permitted by the license {license_arn}"
        )));
    }
    if home_region != world.region {
        return Err(ApiError::validation(format!(
            "HomeRegion {home_region} does not match the license's home region {}",
            world.region
        )));
    }
    let grantee = world.grantee(principal).map_err(ApiError::validation)?;
    if let Grantee::Account(a) = &grantee
        && a == caller
    {
        return Err(ApiError::validation(format!(
            "A grant cannot be created for the grantor's own account {principal}"
        )));
    }
    if !matches!(grantee, Grantee::Account(_)) {
        if world.org.feature_set != FeatureSet::All || !world.org.trusted_access {
            return Err(ApiError::validation(
                "Grantor has disabled Trusted Access to AWS License Manager Service in AWS Organizations",
            ));
        }
        if !world.org.is_admin(caller) {
            return Err(ApiError::validation(format!(
                "Only the management account or the delegated administrator can grant to {principal}"
            )));
        }
    }
    if !world.org.service_linked_role {
        return Err(ApiError::access_denied(
            Service::LicenseManager,
            "License Manager is not set up in this account: the service-linked role AWSServiceRoleForAWSLicenseManagerRole does not exist",
        ));
    }
    let live = world
        .grants
        .iter()
        .filter(|g| g.license_arn == license_arn && !g.status.is_terminal());
    let mut count = 0;
    for g in live {
        if g.principal_arn == principal && !ctx.opts.allow_duplicate_grants {
            // GUESS: AWS documents no error for a duplicate; ValidationException naming the grant.
            return Err(ApiError::validation(format!(
                "A grant for license {license_arn} to principal {principal} already exists: {}",
                g.arn
            )));
        }
        count += 1;
    }
    if count >= GRANTS_PER_LICENSE {
        return Err(ApiError::client(
            "ResourceLimitExceededException",
            format!(
                "License {license_arn} already has {GRANTS_PER_LICENSE} grants, the maximum per license"
            ),
        ));
    }
    let then = match grantee {
        Grantee::Account(_)
            if world.org.feature_set == FeatureSet::ConsolidatedBilling
                || !ctx.opts.auto_accept_account_grants =>
        {
            Status::PendingAccept
        }
        _ => Status::Disabled,
    };
    let then = if ctx.opts.fail_distributions {
        Status::FailedWorkflow
    } else {
        then
    };
    let license = &world.licenses[lic.license];
    let parent_arn = lic.via_grant.clone().unwrap_or_else(|| license.arn.clone());
    let seq = world.take_seq();
    let arn = world.grant_arn(caller, seq);
    let mut rec = GrantRec::new(
        seq,
        arn.clone(),
        caller.clone(),
        name.to_owned(),
        parent_arn,
        license_arn.to_owned(),
        grantee,
        principal.to_owned(),
        world.region.clone(),
        Status::PendingWorkflow,
        1,
        ops,
    );
    rec.created = Some(clock::now());
    let ms = if rec.is_account_grant() {
        ctx.opts.account_workflow_ms
    } else {
        ctx.opts.workflow_ms
    };
    let resp = change_response(&rec);
    world.insert_grant(rec);
    let idx = world.grants.len() - 1;
    world.start_workflow(
        idx,
        then,
        WorkflowKind::Distribution,
        ms,
        ctx.opts.workflow_reads,
    );
    if !tags.is_empty() {
        world.tags.entry(arn).or_default().extend(tags);
    }
    remember(world, ctx, "CreateGrant", token, body, &resp);
    Ok(resp)
}

/// A grant named by ARN: a stored grant, or a sub-grant of an org/OU grant.
enum Found {
    Grant(usize),
    Sub(SubGrant),
}

fn find(world: &World, ctx: &Ctx<'_>, arn: &str) -> Option<Found> {
    if !ctx.in_home_region(world) {
        return None;
    }
    if let Some(i) = world.grant_index.get(arn) {
        return Some(Found::Grant(*i));
    }
    world.find_sub_grant(arn).map(Found::Sub)
}

/// Whether the caller may see grant `idx`: its grantor, its grantee account, or the management
/// account / delegated administrator.
fn visible(world: &World, caller: &str, idx: usize) -> bool {
    let g = &world.grants[idx];
    g.grantor == caller
        || matches!(&g.grantee, Grantee::Account(a) if a == caller)
        || world.org.is_admin(caller)
}

fn create_grant_version(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
    body: &Value,
) -> Result<String, ApiError> {
    let token = client_token(input)?;
    let arn = arn_member(input, "GrantArn")?;
    let name = input.opt_str("GrantName")?;
    if name == Some("") {
        return Err(ApiError::validation(
            "1 validation error detected: Value '' at 'grantName' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let ops = operations(input, false)?;
    let status = match input.opt_str("Status")? {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '{s}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                Status::ALL.map(Status::as_str).join(", ")
            ))
        })?),
    };
    let reason = status_reason(input)?;
    let source_version = input.opt_str("SourceVersion")?;
    let override_behavior = match input.opt_object("Options")? {
        None => None,
        Some(o) => match o.opt_str("ActivationOverrideBehavior")? {
            None => None,
            Some(b @ ("DISTRIBUTED_GRANTS_ONLY" | "ALL_GRANTS_PERMITTED_BY_ISSUER")) => {
                Some(b.to_owned())
            }
            Some(b) => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{b}' at 'options.activationOverrideBehavior' failed to satisfy constraint: Member must satisfy enum value set: [DISTRIBUTED_GRANTS_ONLY, ALL_GRANTS_PERMITTED_BY_ISSUER]"
                )));
            }
        },
    };
    if input.opt_object("Options")?.is_some() && status != Some(Status::Active) {
        return Err(ApiError::validation(
            "Options (ActivationOverrideBehavior) can be given only with Status ACTIVE",
        ));
    }
    if let Some(resp) = replayed(world, ctx, "CreateGrantVersion", token, body)? {
        return Ok(resp);
    }
    let caller = ctx.caller.account.as_str();
    let idx = match find(world, ctx, arn) {
        Some(Found::Grant(i)) if visible(world, caller, i) => i,
        Some(Found::Sub(_)) => {
            // GUESS: sub-grants follow their parent here; change the org/OU grant instead.
            return Err(ApiError::validation(format!(
                "Grant {arn} is distributed through an organization or organizational unit grant; create a version of that grant instead"
            )));
        }
        _ => return Err(not_found("Grant", arn)),
    };
    let g = &world.grants[idx];
    let is_grantor = g.grantor == caller;
    if !is_grantor {
        let is_recipient = matches!(&g.grantee, Grantee::Account(a) if a == caller);
        if !is_recipient {
            return Err(ApiError::access_denied(
                Service::LicenseManager,
                format!(
                    "{} is not allowed to change grant {arn}",
                    ctx.caller.root_arn()
                ),
            ));
        }
        if name.is_some() || ops.is_some() {
            return Err(ApiError::validation(
                "Only the grantor can change the name or the allowed operations of a grant",
            ));
        }
    }
    if g.status.is_terminal() || g.status == Status::PendingDelete {
        return Err(ApiError::validation(format!(
            "Grant {arn} is in status {} and cannot be changed",
            g.status.as_str()
        )));
    }
    if g.workflow.is_some() {
        return Err(ApiError::validation(format!(
            "Grant {arn} is in status PENDING_WORKFLOW; wait for the workflow to complete before creating a new version"
        )));
    }
    if let Some(sv) = source_version
        && sv != g.version.to_string()
    {
        return Err(ApiError::validation(format!(
            "A grant version cannot be created since the source version provided doesn't match the latest version {} in our records",
            g.version
        )));
    }
    if let Some(ops) = &ops
        && let Some(lic) = world.license(&g.license_arn)
        && let Some(bad) = ops
            .iter()
            .find(|o| !world.licenses[lic].allowed_operations.contains(o))
    {
        return Err(ApiError::validation(format!(
            "Allowed operation {bad} is not permitted by the license {}",
            g.license_arn
        )));
    }
    let account_grant = g.is_account_grant();
    let transition = match status {
        None => Transition::Keep,
        Some(want) => transition(settled_status(g), want, account_grant).map_err(|why| {
            ApiError::validation(format!(
                "Grant {arn} cannot change from {} to {}: {why}",
                g.status.as_str(),
                want.as_str()
            ))
        })?,
    };
    let override_all = override_behavior.as_deref() == Some("ALL_GRANTS_PERMITTED_BY_ISSUER");
    let displaced = if transition == Transition::To(Status::Active) {
        account_conflicts(world, ctx, idx, override_all)?
    } else {
        Vec::new()
    };
    let g = &mut world.grants[idx];
    if let Some(n) = name {
        g.name = n.to_owned();
    }
    if let Some(ops) = ops {
        g.operations = ops;
    }
    if override_behavior.is_some() {
        g.activation_override = override_behavior;
    }
    if status.is_some() || reason.is_some() {
        g.status_reason = reason.map(str::to_owned);
    }
    apply_transition(world, ctx, idx, transition, override_all);
    for h in displaced {
        world.disable_holder(h);
    }
    let g = &mut world.grants[idx];
    g.bump();
    let resp = change_response(g);
    remember(world, ctx, "CreateGrantVersion", token, body, &resp);
    Ok(resp)
}

/// Carries out a CreateGrantVersion status transition: at once, or as an activation or recall
/// workflow of an org/OU grant.
fn apply_transition(
    world: &mut World,
    ctx: &Ctx<'_>,
    idx: usize,
    transition: Transition,
    override_all: bool,
) {
    match transition {
        Transition::Keep => {}
        Transition::To(s) => world.grants[idx].status = s,
        Transition::Workflow(then) => {
            let (then, kind) = if then == Status::WorkflowCompleted {
                let kind = WorkflowKind::Activation {
                    override_all,
                    one_active: ctx.opts.one_active_per_product,
                };
                (then, kind)
            } else {
                let then = match ctx.opts.recall_ends_in {
                    RecallEnd::WorkflowCompleted => Status::WorkflowCompleted,
                    RecallEnd::Disabled => Status::Disabled,
                };
                (then, WorkflowKind::Recall)
            };
            let (ms, reads) = (ctx.opts.workflow_ms, ctx.opts.workflow_reads);
            world.start_workflow(idx, then, kind, ms, reads);
        }
    }
}

/// The status CreateGrantVersion's transitions start from: an org/OU grant that is
/// WORKFLOW_COMPLETED after a recall counts as DISABLED (activating it starts a workflow again),
/// one set ACTIVE from outside as WORKFLOW_COMPLETED.
fn settled_status(g: &GrantRec) -> Status {
    if g.is_account_grant() {
        return g.status;
    }
    match g.status {
        Status::WorkflowCompleted | Status::Active if g.share_default == Some(Status::Active) => {
            Status::WorkflowCompleted
        }
        Status::WorkflowCompleted => Status::Disabled,
        other => other,
    }
}

/// The one-active rule when an account grant is activated: the other ACTIVE entitlements of
/// its account for the same product, to disable (`ALL_GRANTS_PERMITTED_BY_ISSUER`), or a
/// ValidationException naming one (GUESS: AWS says activation "fails", not with which error).
fn account_conflicts(
    world: &World,
    ctx: &Ctx<'_>,
    idx: usize,
    override_all: bool,
) -> Result<Vec<super::shares::Holder>, ApiError> {
    let Grantee::Account(account) = &world.grants[idx].grantee else {
        return Ok(Vec::new());
    };
    if !ctx.opts.one_active_per_product {
        return Ok(Vec::new());
    }
    let sku = world.sku_of(idx);
    let others = world.active_holders(account, &sku, idx);
    match others.first() {
        Some(h) if !override_all => Err(ApiError::validation(format!(
            "Account {account} already has an active grant for product {sku}: {}; deactivate it first, or activate with Options.ActivationOverrideBehavior ALL_GRANTS_PERMITTED_BY_ISSUER",
            world.holder_arn(h)
        ))),
        _ => Ok(others),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Keep,
    To(Status),
    /// Through PENDING_WORKFLOW to this status.
    Workflow(Status),
}

/// The status machine of CreateGrantVersion's `Status`, for a grant not in a workflow.
fn transition(from: Status, want: Status, account_grant: bool) -> Result<Transition, &'static str> {
    use Status::*;
    match (want, from, account_grant) {
        (Active, Disabled, true) => Ok(Transition::To(Active)),
        (Active, Active, true) => Ok(Transition::Keep),
        (Active, Disabled, false) => Ok(Transition::Workflow(WorkflowCompleted)),
        (Active, WorkflowCompleted, false) => Ok(Transition::Keep),
        (Active, PendingAccept, _) => Err("the recipient must accept the grant first"),
        (Disabled, Active, true) => Ok(Transition::To(Disabled)),
        (Disabled, WorkflowCompleted, false) => Ok(Transition::Workflow(Disabled)),
        (Disabled, Disabled, _) => Ok(Transition::Keep),
        (Disabled, PendingAccept, _) => Err("the recipient must accept the grant first"),
        (Active | Disabled, _, _) => Err("illegal status transition"),
        _ => Err("only ACTIVE and DISABLED can be requested"),
    }
}

fn get_grant(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = arn_member(input, "GrantArn")?;
    let version = input.opt_str("Version")?;
    let caller = ctx.caller.account.as_str();
    match find(world, ctx, arn) {
        Some(Found::Grant(i)) if visible(world, caller, i) => {
            if let Some(v) = version {
                let json = v
                    .parse::<u64>()
                    .ok()
                    .and_then(|v| world.grants[i].json_at(v))
                    .ok_or_else(|| {
                        ApiError::validation(format!("Grant {arn} has no version {v}"))
                    })?;
                return Ok(format!("{{\"Grant\":{json}}}"));
            }
            world.settle_if_due(i);
            let out = format!("{{\"Grant\":{}}}", world.grants[i].json());
            world.observed(i);
            Ok(out)
        }
        Some(Found::Sub(s))
            if s.account == caller
                || world.grants[s.parent].grantor == caller
                || world.org.is_admin(caller) =>
        {
            Ok(json!({"Grant": world.sub_grant_json(&s)}).to_string())
        }
        _ => Err(not_found("Grant", arn)),
    }
}

fn delete_grant(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = arn_member(input, "GrantArn")?;
    let version = input.non_empty("Version")?;
    let reason = status_reason(input)?;
    let caller = ctx.caller.account.as_str();
    let idx = match find(world, ctx, arn) {
        Some(Found::Grant(i)) if visible(world, caller, i) => i,
        Some(Found::Sub(_)) => {
            return Err(ApiError::validation(format!(
                "Grant {arn} is distributed through an organization or organizational unit grant; delete that grant instead"
            )));
        }
        _ => return Err(not_found("Grant", arn)),
    };
    let g = &mut world.grants[idx];
    if g.grantor != caller {
        return Err(ApiError::access_denied(
            Service::LicenseManager,
            format!(
                "{} is not allowed to delete grant {arn}",
                ctx.caller.root_arn()
            ),
        ));
    }
    if g.status == Status::Deleted {
        return Err(ApiError::validation(format!(
            "Grant {arn} is already deleted"
        )));
    }
    if g.status == Status::PendingDelete {
        return Err(ApiError::validation(format!(
            "Grant {arn} is already being deleted (PENDING_DELETE)"
        )));
    }
    if version != g.version.to_string() {
        return Err(ApiError::validation(format!(
            "A grant cannot be deleted since the version provided doesn't match the latest version {} in our records",
            g.version
        )));
    }
    g.status = Status::Deleted;
    g.workflow = None;
    g.status_reason = reason.map(str::to_owned);
    world.timed.remove(&idx);
    if ctx.opts.delete_ms > 0 {
        world.start_deletion(idx, ctx.opts.delete_ms);
    }
    let g = &mut world.grants[idx];
    g.bump();
    Ok(change_response(g))
}

fn accept_or_reject(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
    accept: bool,
) -> Result<String, ApiError> {
    let arn = arn_member(input, "GrantArn")?;
    let caller = ctx.caller.account.as_str();
    let verb = if accept { "accept" } else { "reject" };
    let idx = match find(world, ctx, arn) {
        Some(Found::Grant(i)) => i,
        Some(Found::Sub(_)) => {
            return Err(ApiError::validation(format!(
                "Caller {} is not allowed to {verb} this grant.",
                ctx.caller.root_arn()
            )));
        }
        None => return Err(not_found("Grant", arn)),
    };
    let g = &mut world.grants[idx];
    if !matches!(&g.grantee, Grantee::Account(a) if a == caller) {
        return Err(ApiError::validation(format!(
            "Caller {} is not allowed to {verb} this grant.",
            ctx.caller.root_arn()
        )));
    }
    if g.status != Status::PendingAccept {
        return Err(ApiError::validation(format!(
            "Grant {arn} is in status {}; only a grant in PENDING_ACCEPT can be {verb}ed",
            g.status.as_str()
        )));
    }
    g.status = if accept {
        Status::Disabled
    } else {
        Status::Rejected
    };
    g.bump();
    Ok(change_response(g))
}

/// The filters ListDistributedGrants accepts.
const LIST_DISTRIBUTED_GRANTS_FILTERS: &[&str] = &[
    "LicenseArn",
    "GrantStatus",
    "GranteePrincipalARN",
    "ProductSKU",
    "LicenseIssuerName",
];

/// The filters ListReceivedGrants accepts.
const LIST_RECEIVED_GRANTS_FILTERS: &[&str] = &[
    "ProductSKU",
    "LicenseIssuerName",
    "LicenseArn",
    "GrantStatus",
    "GranterAccountId",
];

/// The filters ListReceivedLicenses accepts.
const LIST_RECEIVED_LICENSES_FILTERS: &[&str] = &[
    "ProductSKU",
    "Status",
    "Fingerprint",
    "IssuerName",
    "Beneficiary",
];

/// The filters ListLicenses accepts.
const LIST_LICENSES_FILTERS: &[&str] = &["Beneficiary", "ProductSKU", "Fingerprint", "Status"];

/// A list call's filters: (name, value) pairs.
type Filters = Vec<(String, String)>;

/// What every License Manager list call reads besides its own members: its filters (of the
/// names `allowed`), the page size and where to continue (`NextToken`), in that order.
fn list_input(
    input: &Input<'_>,
    ctx: &Ctx<'_>,
    op: &str,
    allowed: &[&str],
) -> Result<(Filters, u32, Option<String>), ApiError> {
    let filters = input.filters(allowed)?;
    let limit = input.max_results(100, ctx.opts.lm_default_page_size)?;
    let after = input.next_token(op)?;
    Ok((filters, limit, after))
}

/// An empty list answer (outside the home region, the lists are empty).
fn empty_list(key: &str) -> String {
    list_body::<&str>(key, &[], None)
}

/// A License Manager list body: `{"<key>":[items...],"NextToken":...}` from pre-rendered items.
fn list_body<S: AsRef<str>>(key: &str, items: &[S], token: Option<String>) -> String {
    let len: usize = items.iter().map(|s| s.as_ref().len() + 1).sum();
    let mut out = String::with_capacity(len + key.len() + 64);
    out.push_str("{\"");
    out.push_str(key);
    out.push_str("\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item.as_ref());
    }
    out.push(']');
    if let Some(t) = token {
        out.push_str(",\"NextToken\":\"");
        out.push_str(&t);
        out.push('"');
    }
    out.push('}');
    out
}

fn grant_arns_filter(input: &Input<'_>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(arns) = input.opt_str_list("GrantArns")? else {
        return Ok(None);
    };
    for a in &arns {
        check_arn("GrantArns", a)?;
    }
    Ok(Some(arns.into_iter().map(str::to_owned).collect()))
}

/// What a grant filter compares against.
struct GrantFacts<'a> {
    license_arn: &'a str,
    status: Status,
    principal: &'a str,
    grantor: &'a str,
    parent: &'a str,
    sku: &'a str,
    issuer: &'a str,
}

fn grant_matches(filters: &[(String, String)], f: &GrantFacts<'_>) -> bool {
    filters.iter().all(|(name, value)| match name.as_str() {
        "LicenseArn" => f.license_arn == value,
        "GrantStatus" => f.status.as_str() == value,
        "GranteePrincipalARN" | "GranteePrincipalArn" => f.principal == value,
        "GranterAccountId" => f.grantor == value,
        "ParentArn" => f.parent == value,
        "ProductSKU" => f.sku == value,
        "LicenseIssuerName" => f.issuer == value,
        _ => false,
    })
}

fn facts<'a>(world: &'a World, g: &'a GrantRec) -> (&'a str, &'a str) {
    match world.license(&g.license_arn) {
        Some(i) => (&world.licenses[i].sku, &world.licenses[i].issuer),
        None => ("", ""),
    }
}

fn list_distributed_grants(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<String, ApiError> {
    let arns = grant_arns_filter(input)?;
    let (filters, limit, after) = list_input(
        input,
        ctx,
        "ListDistributedGrants",
        LIST_DISTRIBUTED_GRANTS_FILTERS,
    )?;
    if !ctx.in_home_region(world) {
        return Ok(empty_list("Grants"));
    }
    let caller = ctx.caller.account.as_str();
    let after_seq = after
        .as_deref()
        .and_then(|a| a.parse::<u64>().ok())
        .unwrap_or(0);
    let mut picked: Vec<usize> = Vec::with_capacity(limit as usize);
    let mut more = false;
    // Cheap checks first: most grants of a big account fail the LicenseArn filter, and the
    // license lookup behind ProductSKU / LicenseIssuerName is only needed when those are asked.
    let license_filter = filters
        .iter()
        .find(|(name, _)| name == "LicenseArn")
        .map(|(_, value)| value.clone());
    let needs_facts = filters
        .iter()
        .any(|(name, _)| name == "ProductSKU" || name == "LicenseIssuerName");
    // With a LicenseArn filter only that license's grants are candidates (its index, from the
    // token on); without one, every grant after the token.
    let positions: Box<dyn Iterator<Item = usize>> = match &license_filter {
        Some(license) => {
            let of_license = world
                .grants_by_license
                .get(license)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let from = of_license.partition_point(|&i| world.grants[i].seq <= after_seq);
            // Owned: the loop below changes the world while it walks them.
            let owned: Vec<usize> = of_license[from..].to_vec();
            Box::new(owned.into_iter())
        }
        // Grants are in ascending seq order: start after the token's grant.
        None => Box::new(world.grants.partition_point(|g| g.seq <= after_seq)..world.grants.len()),
    };
    for i in positions {
        let g = &world.grants[i];
        if g.grantor != caller || ctx.opts.lags(g.created) {
            continue;
        }
        if let Some(license) = &license_filter
            && &g.license_arn != license
        {
            continue;
        }
        if let Some(arns) = &arns
            && !arns.contains(&g.arn)
        {
            continue;
        }
        world.settle_if_due(i);
        let g = &world.grants[i];
        let (sku, issuer) = if needs_facts {
            facts(world, g)
        } else {
            ("", "")
        };
        let f = GrantFacts {
            license_arn: &g.license_arn,
            status: g.status,
            principal: &g.principal_arn,
            grantor: &g.grantor,
            parent: &g.parent_arn,
            sku,
            issuer,
        };
        if !grant_matches(&filters, &f) {
            continue;
        }
        if picked.len() == limit as usize {
            more = true;
            break;
        }
        picked.push(i);
    }
    let token = if more {
        picked.last().map(|i| {
            super::wire::encode_token("ListDistributedGrants", &world.grants[*i].seq.to_string())
        })
    } else {
        None
    };
    let items: Vec<&str> = picked
        .iter()
        .map(|i| world.grants[*i].json().as_ref())
        .collect();
    let body = list_body("Grants", &items, token);
    for i in picked {
        world.observed(i);
    }
    Ok(body)
}

/// A received grant: a stored account grant or a sub-grant, with its sort key.
struct ReceivedItem {
    key: String,
    parent_idx: usize,
    sub: Option<SubGrant>,
}

/// Which received grants a listing can show: `parents` is asked first about each stored grant
/// (an account grant, or the org/OU grant behind its per-account sub-grants), so the sub-grants
/// of a parent it refuses are never derived; `account` limits the sub-grants derived to that
/// recipient's. Both only narrow what `pick` would keep anyway, and keep a listing's cost in
/// proportion to the grants it can show rather than to grants x accounts.
struct ReceivedScope<'a, P> {
    parents: P,
    account: Option<&'a str>,
}

fn received_items<P>(
    world: &mut World,
    opts: &EmulatorOptions,
    scope: ReceivedScope<'_, P>,
    pick: impl Fn(&World, &GrantRec, Option<&SubGrant>) -> bool,
) -> Vec<ReceivedItem>
where
    P: Fn(&World, &GrantRec) -> bool,
{
    let mut out = Vec::new();
    for i in 0..world.grants.len() {
        world.settle_if_due(i);
        let g = &world.grants[i];
        if opts.lags(g.created) || !(scope.parents)(world, g) {
            continue;
        }
        if g.is_account_grant() {
            if pick(world, g, None) {
                out.push(ReceivedItem {
                    key: format!("{:020}:", g.seq),
                    parent_idx: i,
                    sub: None,
                });
            }
        } else {
            let subs = match scope.account {
                Some(account) => world.sub_grant_of(i, account).into_iter().collect(),
                None => world.sub_grants(i),
            };
            for s in subs {
                if pick(world, g, Some(&s)) {
                    out.push(ReceivedItem {
                        key: format!("{:020}:{}", g.seq, s.account),
                        parent_idx: i,
                        sub: Some(s),
                    });
                }
            }
        }
    }
    out
}

fn received_facts<'a>(
    world: &'a World,
    g: &'a GrantRec,
    sub: Option<&'a SubGrant>,
    principal: &'a str,
) -> GrantFacts<'a> {
    let (sku, issuer) = facts(world, g);
    match sub {
        None => GrantFacts {
            license_arn: &g.license_arn,
            status: g.status,
            principal: &g.principal_arn,
            grantor: &g.grantor,
            parent: &g.parent_arn,
            sku,
            issuer,
        },
        Some(s) => GrantFacts {
            license_arn: &g.license_arn,
            status: s.status,
            principal,
            grantor: &g.grantor,
            parent: &g.arn,
            sku,
            issuer,
        },
    }
}

fn render_received(world: &mut World, items: Vec<ReceivedItem>, token: Option<String>) -> String {
    let rendered: Vec<String> = items
        .iter()
        .map(|it| match &it.sub {
            None => world.grants[it.parent_idx].json().to_string(),
            Some(s) => world.sub_grant_json(s).to_string(),
        })
        .collect();
    let body = list_body("Grants", &rendered, token);
    for it in items {
        world.observed(it.parent_idx);
    }
    body
}

fn list_received_grants(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<String, ApiError> {
    let arns = grant_arns_filter(input)?;
    let (filters, limit, after) = list_input(
        input,
        ctx,
        "ListReceivedGrants",
        LIST_RECEIVED_GRANTS_FILTERS,
    )?;
    if !ctx.in_home_region(world) {
        return Ok(empty_list("Grants"));
    }
    let caller = ctx.caller.account.clone();
    let root = ctx.caller.root_arn();
    let scope = ReceivedScope {
        parents: |w: &World, g: &GrantRec| match &g.grantee {
            Grantee::Account(a) => *a == caller,
            _ => w.reaches(g, &caller),
        },
        account: Some(caller.as_str()),
    };
    let items = received_items(world, ctx.opts, scope, |w, g, sub| {
        let (arn, to_caller) = match sub {
            None => (
                &g.arn,
                matches!(&g.grantee, Grantee::Account(a) if *a == caller),
            ),
            Some(s) => (&s.arn, s.account == caller),
        };
        to_caller
            && arns.as_ref().is_none_or(|a| a.contains(arn))
            && grant_matches(&filters, &received_facts(w, g, sub, &root))
    });
    let (items, token) = page(
        "ListReceivedGrants",
        items,
        |i| i.key.clone(),
        after.as_deref(),
        limit,
    );
    Ok(render_received(world, items, token))
}

fn list_received_grants_for_org(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<String, ApiError> {
    let license_arn = arn_member(input, "LicenseArn")?.to_owned();
    let (filters, limit, after) = list_input(
        input,
        ctx,
        "ListReceivedGrantsForOrganization",
        &["ParentArn", "GranteePrincipalArn"],
    )?;
    if !world.org.is_admin(&ctx.caller.account) {
        return Err(ApiError::access_denied(
            Service::LicenseManager,
            format!(
                "{} is not the management account or the delegated administrator of the organization",
                ctx.caller.root_arn()
            ),
        ));
    }
    if !ctx.in_home_region(world) {
        return Ok(empty_list("Grants"));
    }
    let parents: Vec<String> = filters
        .iter()
        .filter(|(name, _)| name == "ParentArn")
        .map(|(_, value)| value.clone())
        .collect();
    let scope = ReceivedScope {
        // A sub-grant's parent is its org/OU grant; an account grant's is its license.
        parents: |_: &World, g: &GrantRec| {
            let parent = if g.is_account_grant() {
                &g.parent_arn
            } else {
                &g.arn
            };
            g.license_arn == license_arn && parents.iter().all(|p| p == parent)
        },
        account: None,
    };
    let items = received_items(world, ctx.opts, scope, |w, g, sub| {
        if g.license_arn != license_arn {
            return false;
        }
        let principal = match sub {
            Some(s) => format!("arn:aws:iam::{}:root", s.account),
            None => g.principal_arn.clone(),
        };
        grant_matches(&filters, &received_facts(w, g, sub, &principal))
    });
    let (items, token) = page(
        "ListReceivedGrantsForOrganization",
        items,
        |i| i.key.clone(),
        after.as_deref(),
        limit,
    );
    Ok(render_received(world, items, token))
}

fn license_arns(input: &Input<'_>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(arns) = input.opt_str_list("LicenseArns")? else {
        return Ok(None);
    };
    for a in &arns {
        check_arn("LicenseArns", a)?;
    }
    Ok(Some(arns.into_iter().map(str::to_owned).collect()))
}

fn license_matches(
    filters: &[(String, String)],
    l: &super::state::LicenseRec,
    beneficiary: &str,
) -> bool {
    filters.iter().all(|(name, value)| match name.as_str() {
        "ProductSKU" => l.sku == *value,
        "Status" => l.status == *value,
        "Fingerprint" => l.fingerprint == *value,
        "IssuerName" => l.issuer == *value,
        "Beneficiary" => {
            beneficiary == value || format!("arn:aws:iam::{beneficiary}:root") == *value
        }
        _ => false,
    })
}

fn list_received_licenses(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<String, ApiError> {
    let arns = license_arns(input)?;
    let (filters, limit, after) = list_input(
        input,
        ctx,
        "ListReceivedLicenses",
        LIST_RECEIVED_LICENSES_FILTERS,
    )?;
    if !ctx.in_home_region(world) {
        return Ok(empty_list("Licenses"));
    }
    let caller = &ctx.caller.account;
    let received: Vec<_> = world
        .received_licenses(caller)
        .into_iter()
        .filter(|r| {
            let l = &world.licenses[r.license];
            arns.as_ref().is_none_or(|a| a.contains(&l.arn)) && license_matches(&filters, l, caller)
        })
        .collect();
    let (items, token) = page(
        "ListReceivedLicenses",
        received,
        |r| world.licenses[r.license].arn.clone(),
        after.as_deref(),
        limit,
    );
    let rendered: Vec<String> = items
        .iter()
        .map(|r| {
            world.licenses[r.license]
                .to_json(&world.region, Some(r))
                .to_string()
        })
        .collect();
    Ok(list_body("Licenses", &rendered, token))
}

fn list_licenses(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arns = license_arns(input)?;
    let (filters, limit, after) = list_input(input, ctx, "ListLicenses", LIST_LICENSES_FILTERS)?;
    if !ctx.in_home_region(world) {
        return Ok(empty_list("Licenses"));
    }
    let caller = &ctx.caller.account;
    let issued: Vec<usize> = (0..world.licenses.len())
        .filter(|i| {
            let l = &world.licenses[*i];
            l.issuer_account == *caller
                && arns.as_ref().is_none_or(|a| a.contains(&l.arn))
                && license_matches(&filters, l, &l.beneficiary)
        })
        .collect();
    let (items, token) = page(
        "ListLicenses",
        issued,
        |i| world.licenses[*i].arn.clone(),
        after.as_deref(),
        limit,
    );
    let rendered: Vec<String> = items
        .iter()
        .map(|i| world.licenses[*i].to_json(&world.region, None).to_string())
        .collect();
    Ok(list_body("Licenses", &rendered, token))
}

fn get_license(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = arn_member(input, "LicenseArn")?;
    let version = input.opt_str("Version")?;
    let caller = &ctx.caller.account;
    let idx = world
        .license(arn)
        .filter(|_| ctx.in_home_region(world))
        .filter(|i| {
            world.licenses[*i].issuer_account == *caller
                || world
                    .received_licenses(caller)
                    .iter()
                    .any(|r| r.license == *i)
        })
        .ok_or_else(|| not_found("License", arn))?;
    if let Some(v) = version
        && v != "1"
    {
        return Err(ApiError::validation(format!(
            "License {arn} has no version {v}"
        )));
    }
    Ok(json!({"License": world.licenses[idx].to_json(&world.region, None)}).to_string())
}

/// A resource the caller may tag: a grant it made, or a license it issued.
fn taggable(world: &World, ctx: &Ctx<'_>, arn: &str) -> Result<(), ApiError> {
    let caller = &ctx.caller.account;
    let ok = ctx.in_home_region(world)
        && (world
            .grant_index
            .get(arn)
            .is_some_and(|i| world.grants[*i].grantor == *caller)
            || world
                .license(arn)
                .is_some_and(|i| world.licenses[i].issuer_account == *caller));
    if ok {
        Ok(())
    } else {
        Err(not_found("Resource", arn))
    }
}

fn read_tags(input: &Input<'_>, required: bool) -> Result<BTreeMap<String, String>, ApiError> {
    let list = match input.opt_list("Tags")? {
        Some(l) => l,
        None if required => {
            return Err(ApiError::validation(
                "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
            ));
        }
        None => return Ok(BTreeMap::new()),
    };
    let mut tags = BTreeMap::new();
    for t in list {
        let key = t.get("Key").and_then(Value::as_str).unwrap_or("");
        if key.is_empty() {
            return Err(ApiError::validation("Each tag must have a non-empty Key"));
        }
        let value = t.get("Value").and_then(Value::as_str).unwrap_or("");
        tags.insert(key.to_owned(), value.to_owned());
    }
    Ok(tags)
}

fn tag_resource(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = input.non_empty("ResourceArn")?;
    let tags = read_tags(input, true)?;
    taggable(world, ctx, arn)?;
    world.tags.entry(arn.to_owned()).or_default().extend(tags);
    Ok("{}".to_owned())
}

fn untag_resource(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = input.non_empty("ResourceArn")?;
    let keys = input.str_list("TagKeys")?;
    taggable(world, ctx, arn)?;
    if let Some(tags) = world.tags.get_mut(arn) {
        for k in keys {
            tags.remove(k);
        }
    }
    Ok("{}".to_owned())
}

fn list_tags(world: &mut World, ctx: &Ctx<'_>, input: &Input<'_>) -> Result<String, ApiError> {
    let arn = input.non_empty("ResourceArn")?;
    taggable(world, ctx, arn)?;
    let tags: Vec<Value> = world
        .tags
        .get(arn)
        .into_iter()
        .flatten()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    Ok(json!({"Tags": tags}).to_string())
}

fn get_service_settings(world: &mut World, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let caller = &ctx.caller.account;
    // Its own fact (the seed's `enable_integration`), not derived from trusted access.
    let integration = world.org.enable_integration && world.org.is_admin(caller);
    let mut v = json!({
        "OrganizationConfiguration": {"EnableIntegration": integration},
        "EnableCrossAccountsDiscovery": world.org.cross_account_discovery && world.org.is_admin(caller),
    });
    if world.org.service_linked_role {
        let region = &world.region;
        v["S3BucketArn"] = json!(format!("arn:aws:s3:::aws-license-manager-service-{caller}"));
        v["SnsTopicArn"] = json!(format!(
            "arn:aws:sns:{region}:{caller}:aws-license-manager-service-{caller}"
        ));
        if integration {
            v["LicenseManagerResourceShareArn"] = json!(format!(
                "arn:aws:ram:{region}:{caller}:resource-share/{}",
                world.org.id
            ));
        }
    }
    Ok(v.to_string())
}

/// UpdateServiceSettings: the organization integration and cross-account discovery, each a
/// fact of its own. GUESS (AWS documents no error for these; docs/emulator.md): only the
/// management account may change them (AuthorizationException otherwise); turning the
/// integration on needs an all-features organization and License Manager's trusted access
/// (ValidationException naming it); cross-account discovery needs the integration (on before or
/// in the same call). S3BucketArn, SnsTopicArn and the discovery regions are accepted and kept
/// nowhere.
fn update_service_settings(
    world: &mut World,
    ctx: &Ctx<'_>,
    input: &Input<'_>,
) -> Result<String, ApiError> {
    let integration = match input.opt_object("OrganizationConfiguration")? {
        Some(c) => Some(c.bool("EnableIntegration")?),
        None => None,
    };
    let discovery = input.opt_bool("EnableCrossAccountsDiscovery")?;
    let org = &world.org;
    if ctx.caller.account != org.management {
        return Err(ApiError::client(
            "AuthorizationException",
            "Only the management account of the organization can change License Manager's organization settings",
        ));
    }
    if integration == Some(true) {
        if org.feature_set != FeatureSet::All {
            return Err(ApiError::validation(
                "Linking AWS Organizations accounts needs an organization with all features enabled",
            ));
        }
        if !org.trusted_access {
            return Err(ApiError::validation(
                "Trusted access for license-manager.amazonaws.com is not enabled in AWS Organizations: enable it first (organizations:EnableAWSServiceAccess)",
            ));
        }
    }
    let linked = integration.unwrap_or(org.enable_integration);
    if discovery == Some(true) && !linked {
        return Err(ApiError::validation(
            "Cross-account discovery needs the AWS Organizations integration (OrganizationConfiguration.EnableIntegration)",
        ));
    }
    let org = &mut world.org;
    org.enable_integration = linked;
    if let Some(d) = discovery {
        org.cross_account_discovery = d;
    }
    if !linked {
        org.cross_account_discovery = false;
    }
    Ok("{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_machine() {
        use Status::*;
        let cases = [
            (Disabled, Active, true, Ok(Transition::To(Active))),
            (
                Disabled,
                Active,
                false,
                Ok(Transition::Workflow(WorkflowCompleted)),
            ),
            (
                WorkflowCompleted,
                Disabled,
                false,
                Ok(Transition::Workflow(Disabled)),
            ),
            (Active, Disabled, true, Ok(Transition::To(Disabled))),
            (PendingAccept, Active, true, Err(())),
            (Active, WorkflowCompleted, true, Err(())),
            (Disabled, Deleted, true, Err(())),
            (Active, Active, true, Ok(Transition::Keep)),
        ];
        for (from, want, account, expect) in cases {
            let got = transition(from, want, account).map_err(|_| ());
            assert_eq!(
                got, expect,
                "{from:?} -> {want:?} (account grant: {account})"
            );
        }
    }
}
