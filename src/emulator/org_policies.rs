//! Organizations policies (`CreatePolicy` … `DisablePolicyType`, tags on policies), as the
//! botocore model `organizations_2016-11-28` describes them, with AWS's documented quotas
//! (Organizations user guide, "Quotas and service limits"): an SCP document holds at most 5,120
//! characters, at most 5 SCPs are attached to one root, OU or account (FullAWSAccess counts), an
//! organization holds at most 10,000 SCPs (1,000 of each other type), names are 1–128 characters.
//! Every root, OU and account keeps at least one SCP while SCPs are enabled; enabling the type
//! attaches the AWS-managed `FullAWSAccess` (`p-FullAWSAccess`) everywhere (AWS's default).
//!
//! The state lives in [`OrgPolicies`], one field of the emulator's `World`. Choices where AWS is
//! silent are in docs/emulator.md, "Organizations policies".

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::faults::mix64;
use super::identity::Caller;
use super::state::World;
use super::wire::{ApiError, Input, Service, encode_token, page};

/// The policy operations this file answers (the caller checks the caller's rights first).
pub(crate) const OPERATIONS: &[&str] = &[
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

pub(crate) const SCP: &str = "SERVICE_CONTROL_POLICY";
/// The AWS-managed SCP attached everywhere when SCPs are enabled.
pub(crate) const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";
const FULL_AWS_ACCESS_CONTENT: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const MAX_RESULTS: u32 = 20;
const MAX_TAGS: usize = 50;

/// Every `PolicyType` of the service model.
const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
    "SECURITYHUB_POLICY",
    "INSPECTOR_POLICY",
    "UPGRADE_ROLLOUT_POLICY",
    "BEDROCK_POLICY",
    "S3_POLICY",
    "NETWORK_SECURITY_DIRECTOR_POLICY",
];

/// AWS's quotas for one policy type: document size, attachments per target, policies per
/// organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_chars: usize,
    pub per_target: usize,
    pub per_org: usize,
}

pub(crate) fn limits(policy_type: &str) -> Limits {
    match policy_type {
        SCP => Limits {
            max_chars: 5_120,
            per_target: 5,
            per_org: 10_000,
        },
        "RESOURCE_CONTROL_POLICY" => Limits {
            max_chars: 5_120,
            per_target: 5,
            per_org: 1_000,
        },
        "AISERVICES_OPT_OUT_POLICY" => Limits {
            max_chars: 2_500,
            per_target: 5,
            per_org: 1_000,
        },
        _ => Limits {
            max_chars: 10_000,
            per_target: 10,
            per_org: 1_000,
        },
    }
}

/// One policy as Organizations holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyRec {
    pub id: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub content: String,
    pub aws_managed: bool,
}

/// The organization's policies, which types are enabled on the root, and what is attached where.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgPolicies {
    /// Policy types enabled on the root.
    pub enabled: BTreeSet<String>,
    /// Customer-managed policies, by id (FullAWSAccess is implicit: see `policy`).
    pub policies: BTreeMap<String, PolicyRec>,
    /// Explicit attachments: target id → policy ids (FullAWSAccess not included).
    pub attached: BTreeMap<String, BTreeSet<String>>,
    /// Targets FullAWSAccess was detached from since SCPs were last enabled. FullAWSAccess is
    /// attached to every other root, OU and account, including ones that join later (AWS attaches
    /// it to new accounts and OUs).
    pub full_access_detached: BTreeSet<String>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    next_seq: u64,
}

fn full_aws_access() -> PolicyRec {
    PolicyRec {
        id: FULL_AWS_ACCESS.to_owned(),
        name: "FullAWSAccess".to_owned(),
        description: "Allows access to every operation".to_owned(),
        policy_type: SCP.to_owned(),
        content: FULL_AWS_ACCESS_CONTENT.to_owned(),
        aws_managed: true,
    }
}

impl OrgPolicies {
    /// A policy by id, FullAWSAccess included.
    pub(crate) fn policy(&self, id: &str) -> Option<PolicyRec> {
        if id == FULL_AWS_ACCESS {
            return Some(full_aws_access());
        }
        self.policies.get(id).cloned()
    }

    /// The policies of `policy_type` attached to `target` (sorted by id).
    pub(crate) fn attached_to(&self, target: &str, policy_type: &str) -> Vec<PolicyRec> {
        if !self.enabled.contains(policy_type) {
            return Vec::new();
        }
        let mut out = Vec::new();
        if policy_type == SCP && !self.full_access_detached.contains(target) {
            out.push(full_aws_access());
        }
        for id in self.attached.get(target).into_iter().flatten() {
            if let Some(p) = self.policies.get(id)
                && p.policy_type == policy_type
            {
                out.push(p.clone());
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// `PolicyTypes` of the root in ListRoots / EnablePolicyType.
    pub(crate) fn root_policy_types(&self) -> Value {
        Value::Array(
            self.enabled
                .iter()
                .map(|t| json!({"Type": t, "Status": "ENABLED"}))
                .collect(),
        )
    }

    fn new_id(&mut self) -> String {
        loop {
            self.next_seq += 1;
            let id = format!("p-{:012x}", mix64(self.next_seq) & 0xffff_ffff_ffff);
            if !self.policies.contains_key(&id) {
                return id;
            }
        }
    }
}

/// One policy operation. Only the management account may call them: the emulator models no
/// delegation policy for Organizations policy management.
pub(crate) fn handle(
    world: &mut World,
    caller: &Caller,
    input: &Input<'_>,
    op: &str,
    limit: (u32, bool),
) -> Result<Value, ApiError> {
    if caller.account != world.org.management {
        return Err(ApiError::access_denied(
            Service::Organizations,
            format!(
                "You don't have permissions to access this resource: only the management account may call {op}."
            ),
        ));
    }
    match op {
        "CreatePolicy" => create_policy(world, input),
        "UpdatePolicy" => update_policy(world, input),
        "DescribePolicy" => {
            let p = existing_policy(world, input.str("PolicyId")?)?;
            Ok(json!({"Policy": policy_json(world, &p)}))
        }
        "DeletePolicy" => delete_policy(world, input),
        "AttachPolicy" => attach_policy(world, input),
        "DetachPolicy" => detach_policy(world, input),
        "ListPolicies" => list_policies(world, input, op, limit),
        "ListPoliciesForTarget" => list_policies_for_target(world, input, op, limit),
        "ListTargetsForPolicy" => list_targets_for_policy(world, input, op, limit),
        "EnablePolicyType" | "DisablePolicyType" => policy_type_switch(world, input, op),
        "ListTagsForResource" => list_tags(world, input, op, limit),
        "TagResource" => tag_resource(world, input),
        "UntagResource" => untag_resource(world, input),
        _ => unreachable!("checked against OPERATIONS"),
    }
}

// ---- input checks ----

fn invalid(reason: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::org_input(reason, message)
}

fn constraint(reason: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::client("ConstraintViolationException", message).with("Reason", reason)
}

fn is_policy_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("p-") else {
        return false;
    };
    s.len() <= 130
        && (8..=128).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn policy_type(input: &Input<'_>, member: &str) -> Result<String, ApiError> {
    let t = input.str(member)?;
    if !POLICY_TYPES.contains(&t) {
        return Err(invalid(
            "INVALID_ENUM_POLICY_TYPE",
            format!("You specified an invalid value for {member}: {t}."),
        ));
    }
    Ok(t.to_owned())
}

fn existing_policy(world: &World, id: &str) -> Result<PolicyRec, ApiError> {
    if !is_policy_id(id) {
        return Err(invalid(
            "INVALID_SYNTAX_POLICY_ID",
            format!("You specified an invalid value for PolicyId: {id}."),
        ));
    }
    world.policies.policy(id).ok_or_else(|| {
        ApiError::client(
            "PolicyNotFoundException",
            "We can't find a policy with the PolicyId that you specified.",
        )
    })
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 {
        return Err(invalid(
            "MIN_LENGTH_EXCEEDED",
            "You provided a value that does not match the required pattern: Name must have length greater than or equal to 1.",
        ));
    }
    if n > 128 {
        return Err(invalid(
            "MAX_LENGTH_EXCEEDED",
            "You provided a value that exceeds the maximum length: Name must have length less than or equal to 128.",
        ));
    }
    Ok(())
}

fn check_description(d: &str) -> Result<(), ApiError> {
    if d.chars().count() > 512 {
        return Err(invalid(
            "MAX_LENGTH_EXCEEDED",
            "You provided a value that exceeds the maximum length: Description must have length less than or equal to 512.",
        ));
    }
    Ok(())
}

fn check_unique_name(
    world: &World,
    name: &str,
    policy_type: &str,
    except: Option<&str>,
) -> Result<(), ApiError> {
    let clash = name == "FullAWSAccess" && policy_type == SCP
        || world.policies.policies.values().any(|p| {
            p.name == name && p.policy_type == policy_type && Some(p.id.as_str()) != except
        });
    if clash {
        return Err(ApiError::client(
            "DuplicatePolicyException",
            "A policy with the same name already exists.",
        ));
    }
    Ok(())
}

/// Size, then syntax: a document over the size quota is a `ConstraintViolationException`
/// (`POLICY_CONTENT_LIMIT_EXCEEDED`); a document that is not a valid policy of its type a
/// `MalformedPolicyDocumentException`.
fn check_content(content: &str, policy_type: &str) -> Result<(), ApiError> {
    let max = limits(policy_type).max_chars;
    if content.chars().count() > max {
        return Err(constraint(
            "POLICY_CONTENT_LIMIT_EXCEEDED",
            format!(
                "You have exceeded the maximum policy size. The policy content is limited to {max} characters."
            ),
        ));
    }
    let problem = match serde_json::from_str::<Value>(content) {
        Err(e) => Some(format!("the document is not valid JSON: {e}")),
        Ok(v) if policy_type == SCP => super::scp_eval::ScpDocument::from_value(&v).err(),
        Ok(Value::Object(_)) => None,
        Ok(_) => Some("the document is not a JSON object".to_owned()),
    };
    match problem {
        Some(p) => Err(ApiError::client(
            "MalformedPolicyDocumentException",
            format!(
                "The provided policy document does not meet the requirements of the specified policy type: {p}"
            ),
        )),
        None => Ok(()),
    }
}

fn read_tags(input: &Input<'_>) -> Result<BTreeMap<String, String>, ApiError> {
    let mut tags = BTreeMap::new();
    for t in input.opt_list("Tags")?.into_iter().flatten() {
        let tag = Input::new(input.service, t)?;
        let key = tag.str("Key")?;
        let value = tag.str("Value")?;
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            return Err(invalid(
                "INVALID_LIST_MEMBER",
                "You provided a list that contains an invalid tag: keys are 1-128 characters, values 0-256.",
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(
                "INVALID_SYSTEM_TAGS_PARAMETER",
                "You specified a tag key that starts with aws:, which is reserved for AWS use.",
            ));
        }
        if tags.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(invalid(
                "DUPLICATE_TAG_KEY",
                "You specified the same tag key more than once.",
            ));
        }
    }
    Ok(tags)
}

fn check_tag_count(n: usize) -> Result<(), ApiError> {
    if n > MAX_TAGS {
        return Err(constraint(
            "MAX_TAG_LIMIT_EXCEEDED",
            format!("You have exceeded the maximum number of tags ({MAX_TAGS}) for this resource."),
        ));
    }
    Ok(())
}

// ---- targets ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TargetKind {
    Root,
    Ou,
    Account,
}

impl TargetKind {
    fn as_str(self) -> &'static str {
        match self {
            TargetKind::Root => "ROOT",
            TargetKind::Ou => "ORGANIZATIONAL_UNIT",
            TargetKind::Account => "ACCOUNT",
        }
    }
}

fn target_syntax(id: &str) -> Option<TargetKind> {
    let lower_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Some(TargetKind::Account);
    }
    if let Some(r) = id.strip_prefix("r-") {
        return ((4..=32).contains(&r.len()) && lower_alnum(r)).then_some(TargetKind::Root);
    }
    let ou = id.strip_prefix("ou-")?;
    let (a, b) = ou.split_once('-')?;
    ((4..=32).contains(&a.len()) && lower_alnum(a) && (8..=32).contains(&b.len()) && lower_alnum(b))
        .then_some(TargetKind::Ou)
}

/// A well-formed, existing root, OU or account.
fn target(world: &World, id: &str) -> Result<TargetKind, ApiError> {
    let kind = target_syntax(id).ok_or_else(|| {
        invalid(
            "INVALID_PATTERN_TARGET_ID",
            format!("You specified a value for TargetId that is not valid: {id}."),
        )
    })?;
    if !target_exists(world, id, kind) {
        return Err(ApiError::client(
            "TargetNotFoundException",
            "We can't find a root, OU, account, or policy with the TargetId that you specified.",
        ));
    }
    Ok(kind)
}

fn target_exists(world: &World, id: &str, kind: TargetKind) -> bool {
    match kind {
        TargetKind::Root => id == world.org.root_id,
        TargetKind::Ou => world.org.ous.contains_key(id),
        TargetKind::Account => world.org.accounts.contains_key(id),
    }
}

fn target_json(world: &World, id: &str, kind: TargetKind) -> Value {
    let (arn, name) = match kind {
        TargetKind::Root => (world.org.root_arn(), "Root".to_owned()),
        TargetKind::Ou => (
            world.org.ou_arn(id),
            world
                .org
                .ous
                .get(id)
                .map(|o| o.name.clone())
                .unwrap_or_default(),
        ),
        TargetKind::Account => (
            world.org.account_arn(id),
            world
                .org
                .accounts
                .get(id)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
        ),
    };
    json!({"TargetId": id, "Arn": arn, "Name": name, "Type": kind.as_str()})
}

/// Every existing root, OU and account id.
fn all_targets(world: &World) -> Vec<(String, TargetKind)> {
    let mut out = vec![(world.org.root_id.clone(), TargetKind::Root)];
    out.extend(world.org.ous.keys().map(|k| (k.clone(), TargetKind::Ou)));
    out.extend(
        world
            .org
            .accounts
            .keys()
            .map(|k| (k.clone(), TargetKind::Account)),
    );
    out
}

// ---- JSON shapes ----

pub(crate) fn policy_arn(world: &World, p: &PolicyRec) -> String {
    let type_part = p.policy_type.to_ascii_lowercase();
    if p.aws_managed {
        format!("arn:aws:organizations::aws:policy/{type_part}/{}", p.id)
    } else {
        format!(
            "arn:aws:organizations::{}:policy/{}/{type_part}/{}",
            world.org.management, world.org.id, p.id
        )
    }
}

fn summary_json(world: &World, p: &PolicyRec) -> Value {
    json!({
        "Id": p.id,
        "Arn": policy_arn(world, p),
        "Name": p.name,
        "Description": p.description,
        "Type": p.policy_type,
        "AwsManaged": p.aws_managed,
    })
}

fn policy_json(world: &World, p: &PolicyRec) -> Value {
    json!({"PolicySummary": summary_json(world, p), "Content": p.content})
}

fn paged(
    key: &str,
    op: &str,
    items: Vec<Value>,
    sort_key: impl Fn(&Value) -> String,
    after: Option<String>,
    (limit, empty_page): (u32, bool),
) -> Value {
    let (items, token) = if empty_page {
        let here = after.as_deref().unwrap_or("");
        (Vec::new(), Some(encode_token(op, here)))
    } else {
        page(op, items, sort_key, after.as_deref(), limit)
    };
    let mut v = json!({ key: items });
    if let Some(t) = token {
        v["NextToken"] = Value::String(t);
    }
    v
}

fn page_limit(input: &Input<'_>, (default, empty): (u32, bool)) -> Result<(u32, bool), ApiError> {
    Ok((input.max_results(MAX_RESULTS, default)?, empty))
}

// ---- operations ----

fn create_policy(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let content = input.str("Content")?;
    let description = input.str("Description")?;
    let name = input.str("Name")?;
    let policy_type = policy_type(input, "Type")?;
    check_name(name)?;
    check_description(description)?;
    if content.is_empty() {
        return Err(invalid(
            "MIN_LENGTH_EXCEEDED",
            "You provided a value that does not match the required pattern: Content must have length greater than or equal to 1.",
        ));
    }
    let tags = read_tags(input)?;
    check_tag_count(tags.len())?;
    check_content(content, &policy_type)?;
    check_unique_name(world, name, &policy_type, None)?;
    let max = limits(&policy_type).per_org;
    let aws_managed = usize::from(policy_type == SCP);
    let count = world
        .policies
        .policies
        .values()
        .filter(|p| p.policy_type == policy_type)
        .count();
    if count + aws_managed >= max {
        return Err(constraint(
            "POLICY_NUMBER_LIMIT_EXCEEDED",
            format!(
                "You have reached the maximum number of policies of this type ({max}) in the organization."
            ),
        ));
    }
    let id = world.policies.new_id();
    let rec = PolicyRec {
        id: id.clone(),
        name: name.to_owned(),
        description: description.to_owned(),
        policy_type,
        content: content.to_owned(),
        aws_managed: false,
    };
    world.policies.policies.insert(id.clone(), rec.clone());
    if !tags.is_empty() {
        world.policies.tags.insert(id, tags);
    }
    Ok(json!({"Policy": policy_json(world, &rec)}))
}

fn immutable() -> ApiError {
    invalid(
        "IMMUTABLE_POLICY",
        "You specified a policy that is managed by AWS and cannot be modified.",
    )
}

fn update_policy(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let mut p = existing_policy(world, input.str("PolicyId")?)?;
    if p.aws_managed {
        return Err(immutable());
    }
    if let Some(name) = input.opt_str("Name")? {
        check_name(name)?;
        check_unique_name(world, name, &p.policy_type, Some(&p.id))?;
        p.name = name.to_owned();
    }
    if let Some(d) = input.opt_str("Description")? {
        check_description(d)?;
        p.description = d.to_owned();
    }
    if let Some(c) = input.opt_str("Content")? {
        check_content(c, &p.policy_type)?;
        p.content = c.to_owned();
    }
    world.policies.policies.insert(p.id.clone(), p.clone());
    Ok(json!({"Policy": policy_json(world, &p)}))
}

fn delete_policy(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let p = existing_policy(world, input.str("PolicyId")?)?;
    if p.aws_managed {
        return Err(immutable());
    }
    let in_use = all_targets(world).iter().any(|(t, _)| {
        world
            .policies
            .attached
            .get(t)
            .is_some_and(|s| s.contains(&p.id))
    });
    if in_use {
        return Err(ApiError::client(
            "PolicyInUseException",
            "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
        ));
    }
    world.policies.policies.remove(&p.id);
    world.policies.tags.remove(&p.id);
    for set in world.policies.attached.values_mut() {
        set.remove(&p.id);
    }
    Ok(json!({}))
}

fn type_not_enabled() -> ApiError {
    ApiError::client(
        "PolicyTypeNotEnabledException",
        "This operation can be performed only for enabled policy types.",
    )
}

fn attach_policy(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let p = existing_policy(world, input.str("PolicyId")?)?;
    let target_id = input.str("TargetId")?;
    target(world, target_id)?;
    if !world.policies.enabled.contains(&p.policy_type) {
        return Err(type_not_enabled());
    }
    let attached = world.policies.attached_to(target_id, &p.policy_type);
    if attached.iter().any(|a| a.id == p.id) {
        return Err(ApiError::client(
            "DuplicatePolicyAttachmentException",
            "The selected policy is already attached to the specified target.",
        ));
    }
    let max = limits(&p.policy_type).per_target;
    if attached.len() >= max {
        return Err(constraint(
            "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            format!(
                "You have attached the maximum number of policies of this type ({max}) to the specified target."
            ),
        ));
    }
    if p.id == FULL_AWS_ACCESS {
        world.policies.full_access_detached.remove(target_id);
    } else {
        world
            .policies
            .attached
            .entry(target_id.to_owned())
            .or_default()
            .insert(p.id);
    }
    Ok(json!({}))
}

fn detach_policy(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let p = existing_policy(world, input.str("PolicyId")?)?;
    let target_id = input.str("TargetId")?;
    target(world, target_id)?;
    let attached = world.policies.attached_to(target_id, &p.policy_type);
    if !attached.iter().any(|a| a.id == p.id) {
        return Err(ApiError::client(
            "PolicyNotAttachedException",
            "The policy isn't attached to the specified target in the specified root.",
        ));
    }
    if p.policy_type == SCP && attached.len() == 1 {
        return Err(constraint(
            "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
            "You cannot remove the last service control policy from a root, OU, or account: attach another SCP first.",
        ));
    }
    if p.id == FULL_AWS_ACCESS {
        world
            .policies
            .full_access_detached
            .insert(target_id.to_owned());
    } else if let Some(set) = world.policies.attached.get_mut(target_id) {
        set.remove(&p.id);
    }
    Ok(json!({}))
}

fn list_policies(
    world: &World,
    input: &Input<'_>,
    op: &str,
    limit: (u32, bool),
) -> Result<Value, ApiError> {
    let filter = policy_type(input, "Filter")?;
    let limit = page_limit(input, limit)?;
    let after = input.next_token(op)?;
    let mut items: Vec<PolicyRec> = world
        .policies
        .policies
        .values()
        .filter(|p| p.policy_type == filter)
        .cloned()
        .collect();
    if filter == SCP {
        items.push(full_aws_access());
    }
    items.sort_by(|a, b| a.id.cmp(&b.id));
    let items = items.iter().map(|p| summary_json(world, p)).collect();
    Ok(paged("Policies", op, items, id_of, after, limit))
}

fn id_of(v: &Value) -> String {
    v["Id"].as_str().unwrap_or("").to_owned()
}

fn list_policies_for_target(
    world: &World,
    input: &Input<'_>,
    op: &str,
    limit: (u32, bool),
) -> Result<Value, ApiError> {
    let target_id = input.str("TargetId")?;
    let filter = policy_type(input, "Filter")?;
    target(world, target_id)?;
    let limit = page_limit(input, limit)?;
    let after = input.next_token(op)?;
    let items = world
        .policies
        .attached_to(target_id, &filter)
        .iter()
        .map(|p| summary_json(world, p))
        .collect();
    Ok(paged("Policies", op, items, id_of, after, limit))
}

fn list_targets_for_policy(
    world: &World,
    input: &Input<'_>,
    op: &str,
    limit: (u32, bool),
) -> Result<Value, ApiError> {
    let p = existing_policy(world, input.str("PolicyId")?)?;
    let limit = page_limit(input, limit)?;
    let after = input.next_token(op)?;
    let items: Vec<Value> = all_targets(world)
        .into_iter()
        .filter(|(t, _)| {
            world
                .policies
                .attached_to(t, &p.policy_type)
                .iter()
                .any(|a| a.id == p.id)
        })
        .map(|(t, kind)| target_json(world, &t, kind))
        .collect();
    let mut items = items;
    items.sort_by_key(target_id_of);
    Ok(paged("Targets", op, items, target_id_of, after, limit))
}

fn target_id_of(v: &Value) -> String {
    v["TargetId"].as_str().unwrap_or("").to_owned()
}

fn policy_type_switch(world: &mut World, input: &Input<'_>, op: &str) -> Result<Value, ApiError> {
    let root = input.str("RootId")?;
    let t = policy_type(input, "PolicyType")?;
    if target_syntax(root) != Some(TargetKind::Root) {
        return Err(invalid(
            "INVALID_PATTERN",
            format!("You specified an invalid value for RootId: {root}."),
        ));
    }
    if root != world.org.root_id {
        return Err(ApiError::client(
            "RootNotFoundException",
            "We can't find a root with the RootId that you specified.",
        ));
    }
    if world.org.feature_set != super::state::FeatureSet::All {
        return Err(ApiError::client(
            "PolicyTypeNotAvailableForOrganizationException",
            "You can't use the specified policy type with the feature set currently enabled for this organization.",
        ));
    }
    let pol = &mut world.policies;
    if op == "EnablePolicyType" {
        if pol.enabled.contains(&t) {
            return Err(ApiError::client(
                "PolicyTypeAlreadyEnabledException",
                "The specified policy type is already enabled in the specified root.",
            ));
        }
        pol.enabled.insert(t.clone());
        if t == SCP {
            pol.full_access_detached.clear();
        }
    } else {
        if !pol.enabled.remove(&t) {
            return Err(type_not_enabled());
        }
        let of_type: BTreeSet<String> = pol
            .policies
            .values()
            .filter(|p| p.policy_type == t)
            .map(|p| p.id.clone())
            .collect();
        for set in pol.attached.values_mut() {
            set.retain(|id| !of_type.contains(id));
        }
    }
    let root = json!({
        "Id": world.org.root_id,
        "Arn": world.org.root_arn(),
        "Name": "Root",
        "PolicyTypes": world.policies.root_policy_types(),
    });
    Ok(json!({ "Root": root }))
}

/// A taggable resource: a policy, or an existing root, OU or account.
fn taggable(world: &World, id: &str) -> Result<(), ApiError> {
    if id.starts_with("p-") {
        return existing_policy(world, id).map(|_| ()).map_err(|e| {
            if e.code == "PolicyNotFoundException" {
                ApiError::client(
                    "TargetNotFoundException",
                    "We can't find a root, OU, account, or policy with the TargetId that you specified.",
                )
            } else {
                e
            }
        });
    }
    target(world, id).map(|_| ())
}

fn list_tags(
    world: &World,
    input: &Input<'_>,
    op: &str,
    _limit: (u32, bool),
) -> Result<Value, ApiError> {
    let id = input.str("ResourceId")?;
    taggable(world, id)?;
    let after = input.next_token(op)?;
    let items: Vec<Value> = world
        .policies
        .tags
        .get(id)
        .into_iter()
        .flatten()
        .map(|(k, v)| json!({"Key": k, "Value": v}))
        .collect();
    let key = |v: &Value| v["Key"].as_str().unwrap_or("").to_owned();
    Ok(paged(
        "Tags",
        op,
        items,
        key,
        after,
        (MAX_TAGS as u32, false),
    ))
}

fn tag_resource(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let id = input.str("ResourceId")?;
    taggable(world, id)?;
    if input.opt_list("Tags")?.is_none() {
        input.str_list("Tags")?;
    }
    if id == FULL_AWS_ACCESS {
        return Err(immutable());
    }
    let new = read_tags(input)?;
    let mut merged = world.policies.tags.get(id).cloned().unwrap_or_default();
    merged.extend(new);
    check_tag_count(merged.len())?;
    world.policies.tags.insert(id.to_owned(), merged);
    Ok(json!({}))
}

fn untag_resource(world: &mut World, input: &Input<'_>) -> Result<Value, ApiError> {
    let id = input.str("ResourceId")?;
    taggable(world, id)?;
    let keys = input.str_list("TagKeys")?;
    if let Some(tags) = world.policies.tags.get_mut(id) {
        for k in keys {
            tags.remove(k);
        }
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::Seed;

    fn call(world: &mut World, op: &str, body: Value) -> Result<Value, ApiError> {
        let caller = Caller {
            account: world.org.management.clone(),
            role: None,
            session_name: None,
            access_key: "test".to_owned(),
        };
        let input = Input::new(Service::Organizations, &body)?;
        handle(world, &caller, &input, op, (20, false))
    }

    fn create(world: &mut World, name: &str, policy_type: &str) -> Result<Value, ApiError> {
        let content = r#"{"Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#;
        let body =
            json!({"Name": name, "Description": "", "Type": policy_type, "Content": content});
        call(world, "CreatePolicy", body)
    }

    #[test]
    fn an_organization_holds_10000_scps_with_full_aws_access_and_1000_of_other_types() {
        let mut world = World::from_seed(&Seed::sandbox()).unwrap();
        let filler = |i: usize, t: &str| PolicyRec {
            id: format!("p-filler{i:06}"),
            name: format!("{t}-{i}"),
            description: String::new(),
            policy_type: t.to_owned(),
            content: "{}".to_owned(),
            aws_managed: false,
        };
        for i in 0..9_998 {
            let p = filler(i, SCP);
            world.policies.policies.insert(p.id.clone(), p);
        }
        // 9,998 + FullAWSAccess + this one = 10,000.
        create(&mut world, "scp-last", SCP).unwrap();
        let e = create(&mut world, "scp-one-too-many", SCP).unwrap_err();
        assert_eq!(e.code, "ConstraintViolationException");
        assert_eq!(
            e.extra,
            [("Reason", "POLICY_NUMBER_LIMIT_EXCEEDED".to_owned())]
        );
        for i in 0..999 {
            let p = filler(10_000 + i, "RESOURCE_CONTROL_POLICY");
            world.policies.policies.insert(p.id.clone(), p);
        }
        create(&mut world, "rcp-last", "RESOURCE_CONTROL_POLICY").unwrap();
        let e = create(&mut world, "rcp-too-many", "RESOURCE_CONTROL_POLICY").unwrap_err();
        assert_eq!(e.extra[0].1, "POLICY_NUMBER_LIMIT_EXCEEDED");
    }

    #[test]
    fn names_are_unique_per_type_and_full_aws_access_is_taken() {
        let mut world = World::from_seed(&Seed::sandbox()).unwrap();
        create(&mut world, "guard", SCP).unwrap();
        assert_eq!(
            create(&mut world, "guard", SCP).unwrap_err().code,
            "DuplicatePolicyException"
        );
        create(&mut world, "guard", "TAG_POLICY").unwrap();
        let e = create(&mut world, "FullAWSAccess", SCP).unwrap_err();
        assert_eq!(e.code, "DuplicatePolicyException");
        let e = create(&mut world, "x", "NOT_A_TYPE").unwrap_err();
        assert_eq!(e.extra[0].1, "INVALID_ENUM_POLICY_TYPE");
    }
}
