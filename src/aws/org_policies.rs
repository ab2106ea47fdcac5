//! Organizations service control policies through `aws-sdk-organizations`: the reads of the
//! guardrails layer (ListPolicies, DescribePolicy, ListTargetsForPolicy, ListTagsForResource,
//! the policy types of ListRoots) and its writes (CreatePolicy with tags, UpdatePolicy,
//! AttachPolicy, DetachPolicy, DeletePolicy). Names follow the service model
//! `organizations_2016-11-28`. Every call goes through `aws::retry`; lists follow every page.
//!
//! Organizations takes no client token on these writes: idempotency is the caller's (the
//! executor looks a name up before creating, and reads the errors below as "already done").
//! The errors the writes document are sorted by `aws::classify`:
//! `DuplicatePolicyException` and `DuplicatePolicyAttachmentException` are
//! [`ErrorKind::AlreadyExists`], `PolicyNotFoundException`, `PolicyNotAttachedException` and
//! `TargetNotFoundException` are [`ErrorKind::NotFound`], `PolicyInUseException` is
//! [`ErrorKind::Conflict`], `ConstraintViolationException` (a quota: size, attachments per
//! target, policies per organization) is [`ErrorKind::Quota`], `TooManyRequestsException` is
//! [`ErrorKind::Throttled`].
//!
//! [`ErrorKind::AlreadyExists`]: super::ErrorKind::AlreadyExists
//! [`ErrorKind::NotFound`]: super::ErrorKind::NotFound
//! [`ErrorKind::Conflict`]: super::ErrorKind::Conflict
//! [`ErrorKind::Quota`]: super::ErrorKind::Quota
//! [`ErrorKind::Throttled`]: super::ErrorKind::Throttled

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_organizations::types::{Policy, PolicyType, Tag};

use super::organizations::{SdkOrganizations, root_id};
use super::retry::request;
use super::{AwsError, all_pages};
use crate::model::{PolicyId, RootId, Target};

/// The SDK's page size for these lists (20 is the service maximum).
const PAGE_SIZE: i32 = 20;

/// One SCP as ListPolicies (and the summary of DescribePolicy) reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolicySummary {
    pub id: PolicyId,
    pub arn: String,
    pub name: String,
    pub description: String,
    pub aws_managed: bool,
}

/// DescribePolicy: the summary and the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDetail {
    pub summary: PolicySummary,
    pub content: String,
}

/// A root of ListRoots with the policy types its `PolicyTypes` lists, type → status
/// (`ENABLED`, `PENDING_ENABLE`, `PENDING_DISABLE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPolicyTypes {
    pub root: RootId,
    pub policy_types: BTreeMap<String, String>,
}

impl RootPolicyTypes {
    /// Whether SERVICE_CONTROL_POLICY is `ENABLED` on this root.
    pub fn scp_enabled(&self) -> bool {
        self.policy_types
            .get(SCP_TYPE)
            .is_some_and(|s| s == "ENABLED")
    }
}

/// The API value of the SCP policy type.
pub const SCP_TYPE: &str = "SERVICE_CONTROL_POLICY";

/// A CreatePolicy request (type SERVICE_CONTROL_POLICY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPolicy {
    pub name: String,
    pub description: String,
    pub content: String,
    /// Tags set atomically with the policy (CreatePolicy's `Tags`).
    pub tags: BTreeMap<String, String>,
}

/// An UpdatePolicy request: only the members that are `Some` change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub content: Option<String>,
}

fn summary(
    op: &'static str,
    p: &aws_sdk_organizations::types::PolicySummary,
) -> Result<PolicySummary, AwsError> {
    let id = p
        .id()
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| AwsError::missing(op, "PolicySummary.Id"))?;
    Ok(PolicySummary {
        id,
        arn: p.arn().unwrap_or_default().to_owned(),
        name: p.name().unwrap_or_default().to_owned(),
        description: p.description().unwrap_or_default().to_owned(),
        aws_managed: p.aws_managed(),
    })
}

fn detail(op: &'static str, p: Option<&Policy>) -> Result<PolicyDetail, AwsError> {
    let p = p.ok_or_else(|| AwsError::missing(op, "Policy"))?;
    let s = p
        .policy_summary()
        .ok_or_else(|| AwsError::missing(op, "Policy.PolicySummary"))?;
    Ok(PolicyDetail {
        summary: summary(op, s)?,
        content: p.content().unwrap_or_default().to_owned(),
    })
}

/// What an attachment's errors name: the policy and its target.
fn attachment(policy: &PolicyId, target: &Target) -> String {
    format!("{policy} → {target}")
}

impl SdkOrganizations {
    pub(super) async fn scp_list_policies(&self) -> Result<Vec<PolicySummary>, AwsError> {
        const OP: &str = "ListPolicies";
        let mut out = all_pages(&self.retry, &self.observer, |token| async move {
            let out = self
                .client
                .list_policies()
                .filter(PolicyType::ServiceControlPolicy)
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            let page = out
                .policies()
                .iter()
                .map(|p| summary(OP, p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((page, out.next_token))
        })
        .await?;
        out.sort();
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    pub(super) async fn scp_describe_policy(
        &self,
        policy: &PolicyId,
    ) -> Result<PolicyDetail, AwsError> {
        const OP: &str = "DescribePolicy";
        let out = request(&self.retry, &self.observer, OP, Some(policy), || {
            self.client
                .describe_policy()
                .policy_id(policy.as_str())
                .send()
        })
        .await?;
        detail(OP, out.policy())
    }

    pub(super) async fn scp_list_targets(
        &self,
        policy: &PolicyId,
    ) -> Result<BTreeSet<Target>, AwsError> {
        const OP: &str = "ListTargetsForPolicy";
        let targets = all_pages(&self.retry, &self.observer, |token| async move {
            let out = self
                .client
                .list_targets_for_policy()
                .policy_id(policy.as_str())
                .max_results(PAGE_SIZE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e).on(policy))?;
            let page = out
                .targets()
                .iter()
                .map(|t| {
                    t.target_id()
                        .and_then(Target::parse)
                        .ok_or_else(|| AwsError::missing(OP, "PolicyTargetSummary.TargetId"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((page, out.next_token))
        })
        .await?;
        Ok(targets.into_iter().collect())
    }

    pub(super) async fn scp_list_tags(
        &self,
        resource: &str,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        const OP: &str = "ListTagsForResource";
        let tags = all_pages(&self.retry, &self.observer, |token| async move {
            let out = self
                .client
                .list_tags_for_resource()
                .resource_id(resource)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e).on(resource))?;
            let page = out
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            Ok((page, out.next_token))
        })
        .await?;
        Ok(tags.into_iter().collect())
    }

    pub(super) async fn scp_root_policy_types(&self) -> Result<Vec<RootPolicyTypes>, AwsError> {
        let roots = self.sdk_roots().await?;
        roots
            .iter()
            .map(|r| {
                let policy_types = r
                    .policy_types()
                    .iter()
                    .filter_map(|t| {
                        let ty = t.r#type()?.as_str().to_owned();
                        let status = t.status()?.as_str().to_owned();
                        Some((ty, status))
                    })
                    .collect();
                Ok(RootPolicyTypes {
                    root: root_id(r)?,
                    policy_types,
                })
            })
            .collect()
    }

    pub(super) async fn scp_create_policy(
        &self,
        req: &NewPolicy,
    ) -> Result<PolicySummary, AwsError> {
        const OP: &str = "CreatePolicy";
        let tags = req
            .tags
            .iter()
            .map(|(k, v)| {
                Tag::builder().key(k).value(v).build().map_err(|e| {
                    AwsError::new(OP, super::ErrorKind::Other, "BuildError", e.to_string())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = request(&self.retry, &self.observer, OP, Some(&req.name), || {
            self.client
                .create_policy()
                .name(&req.name)
                .description(&req.description)
                .content(&req.content)
                .r#type(PolicyType::ServiceControlPolicy)
                .set_tags((!tags.is_empty()).then(|| tags.clone()))
                .send()
        })
        .await?;
        Ok(detail(OP, out.policy())?.summary)
    }

    pub(super) async fn scp_update_policy(
        &self,
        policy: &PolicyId,
        change: &PolicyChange,
    ) -> Result<PolicySummary, AwsError> {
        const OP: &str = "UpdatePolicy";
        let out = request(&self.retry, &self.observer, OP, Some(policy), || {
            self.client
                .update_policy()
                .policy_id(policy.as_str())
                .set_name(change.name.clone())
                .set_description(change.description.clone())
                .set_content(change.content.clone())
                .send()
        })
        .await?;
        Ok(detail(OP, out.policy())?.summary)
    }

    pub(super) async fn scp_attach(
        &self,
        policy: &PolicyId,
        target: &Target,
    ) -> Result<(), AwsError> {
        const OP: &str = "AttachPolicy";
        let on = attachment(policy, target);
        request(&self.retry, &self.observer, OP, Some(&on), || {
            self.client
                .attach_policy()
                .policy_id(policy.as_str())
                .target_id(target.id())
                .send()
        })
        .await?;
        Ok(())
    }

    pub(super) async fn scp_detach(
        &self,
        policy: &PolicyId,
        target: &Target,
    ) -> Result<(), AwsError> {
        const OP: &str = "DetachPolicy";
        let on = attachment(policy, target);
        request(&self.retry, &self.observer, OP, Some(&on), || {
            self.client
                .detach_policy()
                .policy_id(policy.as_str())
                .target_id(target.id())
                .send()
        })
        .await?;
        Ok(())
    }

    pub(super) async fn scp_delete(&self, policy: &PolicyId) -> Result<(), AwsError> {
        const OP: &str = "DeletePolicy";
        request(&self.retry, &self.observer, OP, Some(policy), || {
            self.client
                .delete_policy()
                .policy_id(policy.as_str())
                .send()
        })
        .await?;
        Ok(())
    }
}
