//! Reads the organization's service control policies into [`LiveGuardrails`]: only when
//! `settings.guardrails.mode` is not `off` (the caller passes the policy name prefix then), so
//! that with guardrails off not one Organizations policy call is made.
//!
//! Calls: ListRoots (its `PolicyTypes` say whether SCPs are enabled) and ListPolicies (Filter
//! SERVICE_CONTROL_POLICY) at once; then per customer-managed policy, concurrently and at most
//! [`POLICY_READ_CONCURRENCY`] calls in flight: ListTargetsForPolicy, DescribePolicy (the
//! document: the planner diffs the managed ones and the `access` report reads the denies of the
//! foreign ones) and, for a policy whose name starts with the prefix, ListTagsForResource (the
//! managed tag). The AWS-managed FullAWSAccess gets no call: it allows everything and is never
//! changed, so neither its document nor its targets (every root, OU and account, 20 per page)
//! change any answer; its `targets` are left empty and its `content` empty.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::LiveError;
use crate::aws::{AwsError, ErrorKind, OrganizationsApi, PolicySummary};
use crate::model::{LiveGuardrails, MANAGED_TAG_KEY, MANAGED_TAG_VALUE, ScpPolicy, Target};

/// Organizations policy calls in flight at most while the policies are read (beside the tree
/// walk's own bound). Organizations documents no rate for them; throttling is retried.
pub const POLICY_READ_CONCURRENCY: usize = 16;

/// Every SCP of the organization, sorted by name then id, and whether SCPs are enabled on the
/// root. `prefix` is `settings.guardrails.policy_name_prefix`: only policies named with it have
/// their tags read.
pub async fn read_guardrails<O>(orgs: &Arc<O>, prefix: &str) -> Result<LiveGuardrails, LiveError>
where
    O: OrganizationsApi + 'static,
{
    let (roots, summaries) = tokio::join!(orgs.root_policy_types(), orgs.list_policies());
    let scp_enabled = roots?.iter().any(|r| r.scp_enabled());
    let gate = Arc::new(Semaphore::new(POLICY_READ_CONCURRENCY));
    let mut tasks = JoinSet::new();
    let mut policies = Vec::new();
    for summary in summaries? {
        if summary.aws_managed {
            policies.push(bare(summary));
            continue;
        }
        let read_tags = summary.name.starts_with(prefix);
        tasks.spawn(read_one(
            Arc::clone(orgs),
            Arc::clone(&gate),
            summary,
            read_tags,
        ));
    }
    while let Some(done) = tasks.join_next().await {
        policies.extend(done.map_err(|e| LiveError::Task(e.to_string()))??);
    }
    policies.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    Ok(LiveGuardrails {
        scp_enabled,
        policies,
    })
}

/// A policy as ListPolicies shows it, nothing else read.
fn bare(s: PolicySummary) -> ScpPolicy {
    ScpPolicy {
        id: s.id,
        arn: s.arn,
        name: s.name,
        description: s.description,
        aws_managed: s.aws_managed,
        content: String::new(),
        managed_tag: false,
        targets: BTreeSet::new(),
    }
}

/// Targets, document and (when `read_tags`) tags of one customer-managed policy; `None` when
/// it was deleted since ListPolicies listed it (a policy that no longer exists is not live).
async fn read_one<O: OrganizationsApi>(
    orgs: Arc<O>,
    gate: Arc<Semaphore>,
    summary: PolicySummary,
    read_tags: bool,
) -> Result<Option<ScpPolicy>, AwsError> {
    let id = summary.id.clone();
    let targets = async {
        let _permit = gate.acquire().await;
        orgs.list_targets_for_policy(&id).await
    };
    let content = async {
        let _permit = gate.acquire().await;
        orgs.describe_policy(&id).await.map(|d| d.content)
    };
    let tags = async {
        if !read_tags {
            return Ok(false);
        }
        let _permit = gate.acquire().await;
        let tags = orgs.list_tags_for_resource(id.as_str()).await?;
        Ok(tags.get(MANAGED_TAG_KEY).map(String::as_str) == Some(MANAGED_TAG_VALUE))
    };
    let (targets, content, managed_tag): (Result<BTreeSet<Target>, _>, _, _) =
        tokio::join!(targets, content, tags);
    let vanished = |e: Option<&AwsError>| e.is_some_and(|e| e.kind == ErrorKind::NotFound);
    if vanished(targets.as_ref().err()) || vanished(content.as_ref().err()) {
        return Ok(None);
    }
    Ok(Some(ScpPolicy {
        content: content?,
        managed_tag: managed_tag?,
        targets: targets?,
        ..bare(summary)
    }))
}
