//! The guardrails layer of a plan: its SCP writes, carried out idempotently when
//! `GuardrailPlan::mode` is `enforce` (`report` writes nothing). The executor runs
//! [`PolicyPhase::BeforeGrants`] actions (create, update, detach) before the first grant phase
//! and [`PolicyPhase::AfterGrants`] ones (attach, then delete) after the last, so that a deny is
//! lifted before a grant is activated and attached only once grants are revoked.
//!
//! Organizations takes no client token, so every write is made safe to repeat here:
//! - Create first looks the name up (ListPolicies, once per run) and reuses a policy of that
//!   name that carries the managed tag, bringing its document and description to the plan's;
//!   a same-named policy without the tag is an error naming it, never adopted. CreatePolicy
//!   sets the tag atomically (`Tags`), so a lost response or a crash never leaves an untagged
//!   policy of ours; a `DuplicatePolicyException` (a lost response retried, a concurrent apply)
//!   looks the name up again and reuses what it finds.
//! - Attach treats `DuplicatePolicyAttachmentException` as done and resolves `policy: None` to
//!   the policy this run created, or else looks the name up (managed tag required).
//! - Detach treats `PolicyNotAttachedException` (and a policy or target gone) as done; Delete
//!   treats `PolicyNotFoundException` as done.
//!
//! Every call goes through the `aws` layer's retry and this run's AIMD limiter and call bound,
//! like the grant writes. Actions of one kind run concurrently; kinds run in the plan's order.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;

use crate::aws::AdaptiveLimits;
use crate::aws::{
    AwsError, ErrorKind, NewPolicy, OrganizationsApi, PolicyChange, PolicyDetail, PolicySummary,
};
use crate::config::GuardrailMode;
use crate::model::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE, PolicyId, Target};
use crate::plan::{Plan, PolicyAction, PolicyPhase};

type Call<'a, T> = Pin<Box<dyn Future<Output = Result<T, AwsError>> + Send + 'a>>;

/// The Organizations policy calls the executor makes, in a form that can sit behind an `Arc`
/// in [`ApplyOptions`](super::ApplyOptions) (every `OrganizationsApi` is one).
pub trait PolicyApi: Send + Sync {
    fn scp_list(&self) -> Call<'_, Vec<PolicySummary>>;
    fn scp_tags<'a>(&'a self, policy: &'a PolicyId) -> Call<'a, BTreeMap<String, String>>;
    fn scp_describe<'a>(&'a self, policy: &'a PolicyId) -> Call<'a, PolicyDetail>;
    fn scp_create<'a>(&'a self, req: &'a NewPolicy) -> Call<'a, PolicySummary>;
    fn scp_update<'a>(&'a self, p: &'a PolicyId, c: &'a PolicyChange) -> Call<'a, PolicySummary>;
    fn scp_attach<'a>(&'a self, p: &'a PolicyId, t: &'a Target) -> Call<'a, ()>;
    fn scp_detach<'a>(&'a self, p: &'a PolicyId, t: &'a Target) -> Call<'a, ()>;
    fn scp_delete<'a>(&'a self, p: &'a PolicyId) -> Call<'a, ()>;
}

impl<O: OrganizationsApi> PolicyApi for O {
    fn scp_list(&self) -> Call<'_, Vec<PolicySummary>> {
        Box::pin(self.list_policies())
    }
    fn scp_tags<'a>(&'a self, policy: &'a PolicyId) -> Call<'a, BTreeMap<String, String>> {
        Box::pin(self.list_tags_for_resource(policy.as_str()))
    }
    fn scp_describe<'a>(&'a self, policy: &'a PolicyId) -> Call<'a, PolicyDetail> {
        Box::pin(self.describe_policy(policy))
    }
    fn scp_create<'a>(&'a self, req: &'a NewPolicy) -> Call<'a, PolicySummary> {
        Box::pin(self.create_policy(req))
    }
    fn scp_update<'a>(&'a self, p: &'a PolicyId, c: &'a PolicyChange) -> Call<'a, PolicySummary> {
        Box::pin(self.update_policy(p, c))
    }
    fn scp_attach<'a>(&'a self, p: &'a PolicyId, t: &'a Target) -> Call<'a, ()> {
        Box::pin(self.attach_policy(p, t))
    }
    fn scp_detach<'a>(&'a self, p: &'a PolicyId, t: &'a Target) -> Call<'a, ()> {
        Box::pin(self.detach_policy(p, t))
    }
    fn scp_delete<'a>(&'a self, p: &'a PolicyId) -> Call<'a, ()> {
        Box::pin(self.delete_policy(p))
    }
}

/// The Organizations client `execute` writes SCPs with (`ApplyOptions::guardrails`).
#[derive(Clone)]
pub struct PolicyClient(Arc<dyn PolicyApi>);

impl PolicyClient {
    pub fn new<O: OrganizationsApi + 'static>(orgs: Arc<O>) -> Self {
        PolicyClient(orgs)
    }
}

impl std::fmt::Debug for PolicyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PolicyClient")
    }
}

/// Why a policy action could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A policy of the planned name exists without the managed tag: it is not the tool's and is
    /// never adopted.
    #[error(
        "an SCP named {name} ({policy}) exists without the tag {MANAGED_TAG_KEY}={MANAGED_TAG_VALUE}: \
         it is not adopted; rename it, or tag it if it is the tool's"
    )]
    Unmanaged { name: String, policy: PolicyId },
    /// The policy to attach was to be created by this plan and was not, and none of that name
    /// exists.
    #[error("no SCP named {name} exists to attach (its create did not succeed)")]
    Unresolved { name: String },
    /// `execute` was given a plan that enforces guardrails and no Organizations client.
    #[error("apply was given no Organizations client to write SCPs with")]
    NoClient,
}

impl PolicyError {
    /// The AWS operation that failed, or `apply`.
    pub fn operation(&self) -> &'static str {
        match self {
            PolicyError::Aws(e) => e.operation,
            PolicyError::Unmanaged { .. } | PolicyError::Unresolved { .. } => "ListPolicies",
            PolicyError::NoClient => "apply",
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            PolicyError::Aws(e) => Some(&e.code),
            _ => None,
        }
    }

    /// AWS's message for an AWS error, this error's own sentence otherwise.
    pub fn message(&self) -> String {
        match self {
            PolicyError::Aws(e) if !e.message.is_empty() => e.message.clone(),
            PolicyError::Aws(e) => e.code.clone(),
            other => other.to_string(),
        }
    }
}

/// How one policy action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyOutcome {
    /// The policy is as the action wants it. `already`: it was so before this run's call (a
    /// managed policy of that name reused, already attached, already detached, already deleted).
    Done { policy: PolicyId, already: bool },
    Failed {
        policy: Option<PolicyId>,
        error: PolicyError,
    },
}

impl PolicyOutcome {
    pub fn is_failed(&self) -> bool {
        matches!(self, PolicyOutcome::Failed { .. })
    }

    /// `done` or `failed`.
    pub fn label(&self) -> &'static str {
        match self {
            PolicyOutcome::Done { .. } => "done",
            PolicyOutcome::Failed { .. } => "failed",
        }
    }

    pub fn policy(&self) -> Option<&PolicyId> {
        match self {
            PolicyOutcome::Done { policy, .. } => Some(policy),
            PolicyOutcome::Failed { policy, .. } => policy.as_ref(),
        }
    }
}

/// One policy action of the plan and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyReport {
    /// Position in `GuardrailPlan::actions`.
    pub index: usize,
    pub action: PolicyAction,
    pub outcome: PolicyOutcome,
}

/// What the policy tasks of one run share.
struct Ctx {
    api: Arc<dyn PolicyApi>,
    limits: Arc<AdaptiveLimits>,
    gate: Semaphore,
    parallelism: usize,
    /// This run's ListPolicies, made once when a name must be looked up.
    listing: OnceCell<Result<Vec<PolicySummary>, AwsError>>,
    /// Policies this run created or reused, by name (for `Attach { policy: None }`).
    created: Mutex<BTreeMap<String, PolicyId>>,
}

impl Ctx {
    /// One call within the operation's adaptive limit and the run's bound of calls in flight.
    fn call<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> impl Future<Output = Result<T, AwsError>> {
        super::context::paced(&self.limits, &self.gate, self.parallelism, op, call)
    }

    /// The policy named `name`, from this run's listing (`fresh`: a new ListPolicies).
    async fn find(&self, name: &str, fresh: bool) -> Result<Option<PolicySummary>, AwsError> {
        let found = |all: &[PolicySummary]| all.iter().find(|p| p.name == name).cloned();
        if fresh {
            let all = self.call("ListPolicies", self.api.scp_list()).await?;
            return Ok(found(&all));
        }
        let all = self
            .listing
            .get_or_init(|| self.call("ListPolicies", self.api.scp_list()))
            .await;
        match all {
            Ok(all) => Ok(found(all)),
            Err(e) => Err(e.clone()),
        }
    }

    /// `summary` if it carries the managed tag, else the error that refuses to adopt it.
    async fn managed(&self, summary: &PolicySummary) -> Result<PolicyId, PolicyError> {
        let tags = self
            .call("ListTagsForResource", self.api.scp_tags(&summary.id))
            .await?;
        if !summary.aws_managed
            && tags.get(MANAGED_TAG_KEY).map(String::as_str) == Some(MANAGED_TAG_VALUE)
        {
            Ok(summary.id.clone())
        } else {
            Err(PolicyError::Unmanaged {
                name: summary.name.clone(),
                policy: summary.id.clone(),
            })
        }
    }
}

/// The plan's guardrail actions and what became of them, phase by phase.
pub(crate) struct PolicyRun {
    /// `None` when `execute` got no Organizations client: every action fails with `NoClient`.
    ctx: Option<Arc<Ctx>>,
    actions: Vec<PolicyAction>,
    reports: Vec<Option<PolicyReport>>,
}

impl PolicyRun {
    /// `None` when the plan has no guardrail writes to make (mode `off` or `report`, or none).
    pub(crate) fn new(
        plan: &Plan,
        client: Option<&PolicyClient>,
        limits: &Arc<AdaptiveLimits>,
        parallelism: usize,
    ) -> Option<PolicyRun> {
        let g = plan.guardrails.as_ref()?;
        if g.mode != GuardrailMode::Enforce || g.actions.is_empty() {
            return None;
        }
        let ctx = client.map(|c| {
            Arc::new(Ctx {
                api: Arc::clone(&c.0),
                limits: Arc::clone(limits),
                gate: Semaphore::new(parallelism.max(1)),
                parallelism: parallelism.max(1),
                listing: OnceCell::new(),
                created: Mutex::new(BTreeMap::new()),
            })
        });
        Some(PolicyRun {
            ctx,
            actions: g.actions.clone(),
            reports: vec![None; g.actions.len()],
        })
    }

    /// Runs the actions of `phase`: one kind after the other (create, update, detach; attach,
    /// delete), the actions of a kind concurrently.
    pub(crate) async fn run(&mut self, phase: PolicyPhase) {
        for kind in Kind::ALL {
            let mut tasks = JoinSet::new();
            for (i, a) in self.actions.iter().enumerate() {
                if a.phase() != phase || Kind::of(a) != kind {
                    continue;
                }
                let Some(ctx) = &self.ctx else {
                    self.reports[i] = Some(report(i, a, failed(None, PolicyError::NoClient)));
                    continue;
                };
                let (ctx, a) = (Arc::clone(ctx), a.clone());
                tasks.spawn(async move { (i, run_one(&ctx, &a).await) });
            }
            while let Some(done) = tasks.join_next().await {
                if let Ok((i, outcome)) = done {
                    log(&self.actions[i], &outcome);
                    self.reports[i] = Some(report(i, &self.actions[i], outcome));
                }
            }
        }
    }

    /// Every action's report, in plan order (an action whose task died is failed).
    pub(crate) fn finish(self) -> Vec<PolicyReport> {
        self.reports
            .into_iter()
            .zip(self.actions)
            .enumerate()
            .map(|(i, (r, a))| {
                r.unwrap_or_else(|| {
                    let e = AwsError::new(
                        "apply",
                        ErrorKind::Other,
                        "Task",
                        "the action was never run",
                    );
                    report(i, &a, failed(None, e.into()))
                })
            })
            .collect()
    }
}

fn report(index: usize, action: &PolicyAction, outcome: PolicyOutcome) -> PolicyReport {
    PolicyReport {
        index,
        action: action.clone(),
        outcome,
    }
}

fn failed(policy: Option<PolicyId>, error: PolicyError) -> PolicyOutcome {
    PolicyOutcome::Failed { policy, error }
}

fn log(action: &PolicyAction, outcome: &PolicyOutcome) {
    let policy = outcome
        .policy()
        .map(ToString::to_string)
        .unwrap_or_default();
    match outcome {
        PolicyOutcome::Done { already, .. } => {
            tracing::info!(name = action.name(), %policy, already, "policy action done")
        }
        PolicyOutcome::Failed { error, .. } => {
            tracing::warn!(name = action.name(), %policy, %error, "policy action failed")
        }
    }
}

/// The order kinds run in within their phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Update,
    Detach,
    Attach,
    Delete,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Create,
        Kind::Update,
        Kind::Detach,
        Kind::Attach,
        Kind::Delete,
    ];

    fn of(a: &PolicyAction) -> Kind {
        match a {
            PolicyAction::Create { .. } => Kind::Create,
            PolicyAction::Update { .. } => Kind::Update,
            PolicyAction::Detach { .. } => Kind::Detach,
            PolicyAction::Attach { .. } => Kind::Attach,
            PolicyAction::Delete { .. } => Kind::Delete,
        }
    }
}

async fn run_one(ctx: &Ctx, action: &PolicyAction) -> PolicyOutcome {
    match action {
        PolicyAction::Create {
            name,
            description,
            content,
        } => create(ctx, name, description, content).await,
        PolicyAction::Update {
            policy,
            description,
            content,
            ..
        } => {
            let change = PolicyChange {
                name: None,
                description: Some(description.clone()),
                content: Some(content.clone()),
            };
            match ctx
                .call("UpdatePolicy", ctx.api.scp_update(policy, &change))
                .await
            {
                Ok(_) => done(policy, false),
                Err(e) => failed(Some(policy.clone()), e.into()),
            }
        }
        PolicyAction::Attach {
            policy,
            name,
            target,
        } => attach(ctx, policy.as_ref(), name, target).await,
        PolicyAction::Detach { policy, target, .. } => {
            let r = ctx
                .call("DetachPolicy", ctx.api.scp_detach(policy, target))
                .await;
            settle(policy, r, ErrorKind::NotFound)
        }
        PolicyAction::Delete { policy, .. } => {
            let r = ctx.call("DeletePolicy", ctx.api.scp_delete(policy)).await;
            settle(policy, r, ErrorKind::NotFound)
        }
    }
}

fn done(policy: &PolicyId, already: bool) -> PolicyOutcome {
    PolicyOutcome::Done {
        policy: policy.clone(),
        already,
    }
}

/// Done, or done already when the error is of the kind that says the goal holds.
fn settle(policy: &PolicyId, result: Result<(), AwsError>, already: ErrorKind) -> PolicyOutcome {
    match result {
        Ok(()) => done(policy, false),
        Err(e) if e.kind == already => done(policy, true),
        Err(e) => failed(Some(policy.clone()), e.into()),
    }
}

/// Reuses a managed policy of that name (its document and description brought to the plan's),
/// or creates one with the managed tag.
async fn create(ctx: &Ctx, name: &str, description: &str, content: &str) -> PolicyOutcome {
    let mut fresh = false;
    loop {
        let existing = match ctx.find(name, fresh).await {
            Ok(e) => e,
            Err(e) => return failed(None, e.into()),
        };
        let outcome = match existing {
            Some(summary) => reuse(ctx, &summary, description, content).await,
            None => {
                let req = NewPolicy {
                    name: name.to_owned(),
                    description: description.to_owned(),
                    content: content.to_owned(),
                    tags: [(MANAGED_TAG_KEY.to_owned(), MANAGED_TAG_VALUE.to_owned())].into(),
                };
                match ctx.call("CreatePolicy", ctx.api.scp_create(&req)).await {
                    Ok(s) => done(&s.id, false),
                    // Made meanwhile (a retried call whose first answer was lost, another
                    // apply): look again, once.
                    Err(e) if e.kind == ErrorKind::AlreadyExists && !fresh => {
                        fresh = true;
                        continue;
                    }
                    Err(e) => failed(None, e.into()),
                }
            }
        };
        if let PolicyOutcome::Done { policy, .. } = &outcome {
            let mut created = ctx.created.lock().unwrap_or_else(|e| e.into_inner());
            created.insert(name.to_owned(), policy.clone());
        }
        return outcome;
    }
}

async fn reuse(
    ctx: &Ctx,
    summary: &PolicySummary,
    description: &str,
    content: &str,
) -> PolicyOutcome {
    let id = match ctx.managed(summary).await {
        Ok(id) => id,
        Err(e) => return failed(Some(summary.id.clone()), e),
    };
    let detail = match ctx.call("DescribePolicy", ctx.api.scp_describe(&id)).await {
        Ok(d) => d,
        Err(e) => return failed(Some(id), e.into()),
    };
    if detail.content == content && detail.summary.description == description {
        return done(&id, true);
    }
    let change = PolicyChange {
        name: None,
        description: Some(description.to_owned()),
        content: Some(content.to_owned()),
    };
    match ctx
        .call("UpdatePolicy", ctx.api.scp_update(&id, &change))
        .await
    {
        Ok(_) => done(&id, true),
        Err(e) => failed(Some(id), e.into()),
    }
}

async fn attach(
    ctx: &Ctx,
    policy: Option<&PolicyId>,
    name: &str,
    target: &Target,
) -> PolicyOutcome {
    let id = match policy {
        Some(p) => p.clone(),
        None => match resolve(ctx, name).await {
            Ok(id) => id,
            Err(e) => return failed(None, e),
        },
    };
    // DuplicatePolicyAttachmentException (AlreadyExists): attached already.
    let r = ctx
        .call("AttachPolicy", ctx.api.scp_attach(&id, target))
        .await;
    settle(&id, r, ErrorKind::AlreadyExists)
}

/// The id of the managed policy named `name`: made by this run, or found by name.
async fn resolve(ctx: &Ctx, name: &str) -> Result<PolicyId, PolicyError> {
    let made = ctx
        .created
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(name)
        .cloned();
    if let Some(id) = made {
        return Ok(id);
    }
    match ctx.find(name, false).await? {
        Some(summary) => ctx.managed(&summary).await,
        None => Err(PolicyError::Unresolved {
            name: name.to_owned(),
        }),
    }
}
