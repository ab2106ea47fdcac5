//! The executor against the in-memory fake: phase order, conflicts, lost responses, pending
//! grants, partial failure, pacing. (The proof through the real SDK is in tests/it/apply.rs.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::fake::{FakeLm, Fault, GRANTOR, LICENSE, LICENSE_2, World, ops};
use super::*;
use crate::aws::{AwsError, ErrorKind};
use crate::model::{AccountId, GrantArn, GrantStatus, Principal};
use crate::plan::{Action, ActionKind, Cover, TargetStatus};

fn account(n: u32) -> Principal {
    Principal::Account(
        format!("{:012}", 222_200_000_000u64 + u64::from(n))
            .parse()
            .expect("valid"),
    )
}

fn org() -> Principal {
    Principal::Organization {
        management: GRANTOR.parse().expect("valid"),
        org: "o-abcde12345".parse().expect("valid"),
    }
}

fn name(p: &Principal) -> String {
    format!("be-m-{}", p.short_id())
}

fn action(kind: ActionKind, principal: Principal, grant: Option<(&GrantArn, &str)>) -> Action {
    action_on(kind, principal, grant, LICENSE)
}

fn action_on(
    kind: ActionKind,
    principal: Principal,
    grant: Option<(&GrantArn, &str)>,
    license: &str,
) -> Action {
    let grant = grant.map(|(arn, version)| crate::plan::PlannedGrant {
        arn: arn.clone(),
        version: version.to_owned(),
    });
    let model = crate::config::ModelKey::parse("m");
    let body = crate::plan::ActionBody::new(kind, model, grant).expect("a well-formed test action");
    Action {
        body,
        license_arn: license.parse().expect("valid"),
        grant_name: name(&principal),
        operations: ops(),
        target_status: match kind {
            ActionKind::Deactivate | ActionKind::Delete => TargetStatus::Disabled,
            _ => TargetStatus::Active,
        },
        reason: crate::plan::Reason::Recorded(String::new()),
        client_token: format!("tok-{}-{}", kind.as_str(), principal.short_id()),
        waits_for: Vec::new(),
        activation_override: None,
        principal,
    }
}

fn cover(
    license: &str,
    principal: Principal,
    grant: Option<&GrantArn>,
    accounts: &[Principal],
) -> Cover {
    Cover {
        license_arn: license.parse().expect("valid"),
        principal,
        grant_arn: grant.cloned(),
        accounts: accounts
            .iter()
            .map(|p| match p {
                Principal::Account(a) => a.clone(),
                other => panic!("{other:?} is not an account"),
            })
            .collect(),
    }
}

fn plan(actions: Vec<Action>) -> Plan {
    Plan {
        actions,
        ..Plan::default()
    }
}

struct Env {
    world: Arc<Mutex<World>>,
    lm: Arc<FakeLm>,
    opts: ApplyOptions,
}

fn env() -> Env {
    let world = World::new();
    let limits = Arc::new(AdaptiveLimits::new());
    let lm = Arc::new(FakeLm::new(Arc::clone(&world), limits.clone()));
    let opts = ApplyOptions {
        parallelism: 4,
        poll: PollPolicy {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        },
        limits,
        ..ApplyOptions::default()
    };
    Env { world, lm, opts }
}

/// Recipient clients over the same fake world.
struct FakeRecipients(FakeLm);

impl Recipients for FakeRecipients {
    type Api = FakeLm;
    async fn license_manager_for(&self, account: &AccountId) -> Result<FakeLm, AwsError> {
        Ok(self.0.as_account(account))
    }
}

/// Remembers what it heard.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn on_start(&self, total: usize) {
        self.0.lock().expect("lock").push(format!("start {total}"));
    }
    fn on_done(&self, action: &Action, outcome: &Outcome) {
        self.0.lock().expect("lock").push(format!(
            "{} {} {}",
            action.kind().as_str(),
            action.principal.short_id(),
            outcome.label()
        ));
    }
    fn on_finish(&self) {
        self.0.lock().expect("lock").push("finish".to_owned());
    }
}

async fn run(env: &Env, plan: &Plan) -> ApplyReport {
    execute(
        Arc::clone(&env.lm),
        None::<&NoRecipients>,
        plan,
        &env.opts,
        &NoProgress,
    )
    .await
}

fn grant(env: &Env, arn: &GrantArn) -> crate::model::Grant {
    env.world
        .lock()
        .expect("lock")
        .grant(arn)
        .expect("grant exists")
}

fn done_arn(report: &ApplyReport, i: usize) -> GrantArn {
    match &report.actions[i].outcome {
        Outcome::Done { grant, .. } => grant.clone(),
        other => panic!("action {i} not done: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn create_waits_for_the_workflow_then_activates() {
    let env = env();
    let report = run(
        &env,
        &plan(vec![action(ActionKind::Create, account(1), None)]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let arn = done_arn(&report, 0);
    let g = grant(&env, &arn);
    assert_eq!(g.status, GrantStatus::Active);
    assert_eq!(g.name, name(&account(1)));
    let w = env.world.lock().expect("lock");
    let mutations: Vec<&str> = w.log.iter().map(|(op, _, _)| *op).collect();
    assert_eq!(mutations, ["CreateGrant", "CreateGrantVersion"]);
    // Waiting was done by batch reads, not GetGrant.
    assert_eq!(w.attempts.get("GetGrant"), None);
}

#[tokio::test(start_paused = true)]
async fn phases_run_in_order_whatever_the_plan_order() {
    let env = env();
    let old =
        env.world
            .lock()
            .expect("lock")
            .seed(account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let disabled = env.world.lock().expect("lock").seed(
        account(8),
        LICENSE,
        &name(&account(8)),
        GrantStatus::Disabled,
    );
    let p = plan(vec![
        action(ActionKind::Delete, account(9), Some((&old, "1"))),
        action(ActionKind::Activate, account(8), Some((&disabled, "1"))),
        action(ActionKind::Create, account(1), None),
    ]);
    let progress = Recorder::default();
    let report = execute(
        Arc::clone(&env.lm),
        None::<&NoRecipients>,
        &p,
        &env.opts,
        &progress,
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let w = env.world.lock().expect("lock");
    let first = |op: &str| w.log.iter().position(|(o, _, _)| *o == op).expect("called");
    assert!(first("CreateGrant") < first("CreateGrantVersion"));
    assert!(first("CreateGrantVersion") < first("DeleteGrant"));
    let heard = progress.0.lock().expect("lock").clone();
    assert_eq!(
        heard,
        [
            "start 3",
            "create 222200000001 done",
            "activate 222200000008 done",
            "delete 222200000009 done",
            "finish"
        ]
    );
    // The report keeps plan order.
    let kinds: Vec<ActionKind> = report.actions.iter().map(|a| a.action.kind()).collect();
    assert_eq!(
        kinds,
        [ActionKind::Delete, ActionKind::Activate, ActionKind::Create]
    );
}

#[tokio::test(start_paused = true)]
async fn organization_activation_waits_only_when_asked() {
    for (wait, expect) in [
        (None, GrantStatus::PendingWorkflow),
        (
            Some(Duration::from_secs(60)),
            GrantStatus::WorkflowCompleted,
        ),
    ] {
        let mut env = env();
        env.opts.wait = wait;
        let report = run(&env, &plan(vec![action(ActionKind::Create, org(), None)])).await;
        match &report.actions[0].outcome {
            Outcome::Done { status, .. } => assert_eq!(*status, expect, "wait {wait:?}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn workflow_outlasting_the_bound_is_reported_pending() {
    let mut env = env();
    env.world.lock().expect("lock").workflow_reads = 1_000_000;
    env.opts.wait = Some(Duration::from_secs(5));
    let report = run(
        &env,
        &plan(vec![action(ActionKind::Create, account(1), None)]),
    )
    .await;
    assert!(report.is_success(), "pending is not failure");
    match &report.actions[0].outcome {
        Outcome::Pending {
            status, waiting_on, ..
        } => {
            assert_eq!(*status, GrantStatus::PendingWorkflow);
            assert_eq!(*waiting_on, Waiting::Workflow);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn stale_version_is_reread_and_retried_once() {
    let env = env();
    let arn = env.world.lock().expect("lock").seed(
        account(1),
        LICENSE,
        &name(&account(1)),
        GrantStatus::Disabled,
    );
    // The plan saw version 0; the grant is at 1.
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Activate,
            account(1),
            Some((&arn, "0")),
        )]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(grant(&env, &arn).status, GrantStatus::Active);
    let w = env.world.lock().expect("lock");
    assert_eq!(w.attempts.get("GetGrant"), Some(&1));
    assert_eq!(w.attempts.get("CreateGrantVersion"), Some(&2));
}

#[tokio::test(start_paused = true)]
async fn a_second_conflict_fails_the_action() {
    let env = env();
    let arn = env.world.lock().expect("lock").seed(
        account(1),
        LICENSE,
        &name(&account(1)),
        GrantStatus::Disabled,
    );
    env.world.lock().expect("lock").script(
        "CreateGrantVersion",
        [
            Fault::Error(ErrorKind::VersionConflict),
            Fault::Error(ErrorKind::VersionConflict),
        ],
    );
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Activate,
            account(1),
            Some((&arn, "1")),
        )]),
    )
    .await;
    assert!(!report.is_success());
    match &report.actions[0].outcome {
        Outcome::Failed { grant, error } => {
            assert_eq!(grant.as_ref(), Some(&arn));
            assert_eq!(error.operation(), "CreateGrantVersion");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(grant(&env, &arn).status, GrantStatus::Disabled);
}

#[tokio::test(start_paused = true)]
async fn lost_responses_never_duplicate_and_still_converge() {
    let env = env();
    let old = env.world.lock().expect("lock").seed(
        account(9),
        LICENSE_2,
        "be-m-old",
        GrantStatus::Active,
    );
    {
        let mut w = env.world.lock().expect("lock");
        w.script("CreateGrant", [Fault::Lost]);
        w.script("CreateGrantVersion", [Fault::Lost]);
        w.script("DeleteGrant", [Fault::Lost]);
    }
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action_on(ActionKind::Delete, account(9), Some((&old, "1")), LICENSE_2),
    ]);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    let arn = done_arn(&report, 0);
    assert_eq!(grant(&env, &arn).status, GrantStatus::Active);
    assert_eq!(grant(&env, &old).status, GrantStatus::Deleted);
    let w = env.world.lock().expect("lock");
    assert!(
        w.live_per_pair().values().all(|n| *n == 1),
        "{:?}",
        w.live_per_pair()
    );
    let creates = w
        .log
        .iter()
        .filter(|(op, _, _)| *op == "CreateGrant")
        .count();
    assert_eq!(creates, 1);
}

#[tokio::test(start_paused = true)]
async fn rerunning_a_finished_plan_changes_nothing() {
    let env = env();
    let disabled = env.world.lock().expect("lock").seed(
        account(8),
        LICENSE,
        &name(&account(8)),
        GrantStatus::Disabled,
    );
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action(ActionKind::Activate, account(8), Some((&disabled, "1"))),
    ]);
    let first = run(&env, &p).await;
    assert!(first.is_success(), "{first:?}");
    let log_len = env.world.lock().expect("lock").log.len();
    let grants = env.world.lock().expect("lock").grants();
    let second = run(&env, &p).await;
    assert!(second.is_success(), "{second:?}");
    // The create is answered from its client token; the activation finds the grant active.
    assert_eq!(env.world.lock().expect("lock").grants(), grants);
    assert_eq!(env.world.lock().expect("lock").log.len(), log_len);
}

#[tokio::test(start_paused = true)]
async fn pending_accept_without_recipients_is_waiting_not_failed() {
    let env = env();
    env.world.lock().expect("lock").accept_needed = true;
    let waiting = env.world.lock().expect("lock").seed(
        account(2),
        LICENSE,
        &name(&account(2)),
        GrantStatus::PendingAccept,
    );
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action(ActionKind::Accept, account(2), Some((&waiting, "1"))),
    ]);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    for a in &report.actions {
        match &a.outcome {
            Outcome::Pending {
                status, waiting_on, ..
            } => {
                assert_eq!(*status, GrantStatus::PendingAccept);
                assert_eq!(*waiting_on, Waiting::Recipient);
            }
            other => panic!("{other:?}"),
        }
    }
    // The accept action made no call at all.
    assert_eq!(
        env.world.lock().expect("lock").attempts.get("AcceptGrant"),
        None
    );
}

#[tokio::test(start_paused = true)]
async fn recipients_accept_and_activate_in_their_own_account() {
    let env = env();
    env.world.lock().expect("lock").accept_needed = true;
    let waiting = env.world.lock().expect("lock").seed(
        account(2),
        LICENSE,
        &name(&account(2)),
        GrantStatus::PendingAccept,
    );
    // The first AcceptGrant answer is lost: the retry is refused, the re-read shows it accepted.
    env.world
        .lock()
        .expect("lock")
        .script("AcceptGrant", [Fault::Lost]);
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action(ActionKind::Accept, account(2), Some((&waiting, "1"))),
    ]);
    let recipients = FakeRecipients(FakeLm::new(Arc::clone(&env.world), env.opts.limits.clone()));
    let report = execute(
        Arc::clone(&env.lm),
        Some(&recipients),
        &p,
        &env.opts,
        &NoProgress,
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let created = done_arn(&report, 0);
    for arn in [&created, &waiting] {
        assert_eq!(grant(&env, arn).status, GrantStatus::Active);
    }
    let w = env.world.lock().expect("lock");
    for (op, target, caller) in &w.log {
        if *op == "AcceptGrant"
            || (*op == "CreateGrantVersion"
                && (target == created.as_str() || target == waiting.as_str()))
        {
            let want = if target == created.as_str() {
                account(1)
            } else {
                account(2)
            };
            assert_eq!(Principal::Account(caller.clone()), want, "{op} on {target}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn failures_are_reported_others_carry_on_and_access_is_not_removed() {
    let env = env();
    let old =
        env.world
            .lock()
            .expect("lock")
            .seed(account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let other = env.world.lock().expect("lock").seed(
        account(7),
        LICENSE_2,
        "be-m-other",
        GrantStatus::Active,
    );
    env.world
        .lock()
        .expect("lock")
        .script("CreateGrant", [Fault::Error(ErrorKind::Validation)]);
    // Each delete waits for the create on its license (the planner's covers: account 9 moves
    // to account 1's grant, account 7 to account 2's, for this test's sake).
    let mut delete_old = action(ActionKind::Delete, account(9), Some((&old, "1")));
    delete_old.waits_for = vec![cover(LICENSE, account(1), None, &[account(9)])];
    let mut delete_other = action_on(
        ActionKind::Delete,
        account(7),
        Some((&other, "1")),
        LICENSE_2,
    );
    delete_other.waits_for = vec![cover(LICENSE_2, account(2), None, &[account(7)])];
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action_on(ActionKind::Create, account(2), None, LICENSE_2),
        delete_old,
        delete_other,
    ]);
    let report = run(&env, &p).await;
    assert!(!report.is_success());
    let labels: Vec<&str> = report.actions.iter().map(|a| a.outcome.label()).collect();
    // Which create fails depends on which starts first; exactly one does, and the delete that
    // waits for it is deferred while the other goes ahead.
    let failed = labels
        .iter()
        .position(|l| *l == "failed")
        .expect("one create failed");
    assert!(failed < 2, "{labels:?}");
    assert_eq!(
        labels.iter().filter(|l| **l == "failed").count(),
        1,
        "{labels:?}"
    );
    assert_eq!(labels[2 + failed], "deferred", "{labels:?}");
    assert_eq!(labels[3 - failed], "done", "{labels:?}");
    match &report.actions[failed].outcome {
        Outcome::Failed { error, .. } => {
            assert_eq!(error.operation(), "CreateGrant");
            assert_eq!(error.message(), "scripted fault");
        }
        other => panic!("{other:?}"),
    }
    // Validation errors are never retried.
    assert_eq!(
        env.world.lock().expect("lock").attempts.get("CreateGrant"),
        Some(&2)
    );
}

#[tokio::test(start_paused = true)]
async fn delete_of_an_already_deleted_grant_is_done() {
    let env = env();
    let gone =
        env.world
            .lock()
            .expect("lock")
            .seed(account(9), LICENSE, "be-m-old", GrantStatus::Deleted);
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Delete,
            account(9),
            Some((&gone, "1")),
        )]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(
        report.actions[0].outcome,
        Outcome::Done {
            grant: gone,
            status: GrantStatus::Deleted
        }
    );
}

#[tokio::test(start_paused = true)]
async fn recreate_deletes_the_failed_grant_then_creates() {
    let env = env();
    let failed_grant = env.world.lock().expect("lock").seed(
        account(3),
        LICENSE,
        &name(&account(3)),
        GrantStatus::FailedWorkflow,
    );
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Recreate,
            account(3),
            Some((&failed_grant, "1")),
        )]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let new = done_arn(&report, 0);
    assert_ne!(new, failed_grant);
    assert_eq!(grant(&env, &failed_grant).status, GrantStatus::Deleted);
    assert_eq!(grant(&env, &new).status, GrantStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn update_and_deactivate_set_what_the_plan_says() {
    let env = env();
    let renamed = env.world.lock().expect("lock").seed(
        account(4),
        LICENSE,
        "be-m-old-name",
        GrantStatus::Active,
    );
    let active = env.world.lock().expect("lock").seed(
        account(5),
        LICENSE,
        &name(&account(5)),
        GrantStatus::Active,
    );
    let p = plan(vec![
        action(ActionKind::Update, account(4), Some((&renamed, "1"))),
        action(ActionKind::Deactivate, account(5), Some((&active, "1"))),
    ]);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    let g = grant(&env, &renamed);
    assert_eq!(
        (g.name.as_str(), g.status),
        (name(&account(4)).as_str(), GrantStatus::Active)
    );
    assert_eq!(grant(&env, &active).status, GrantStatus::Disabled);
}

/// Creates and activates `n` account grants against a fake limited to 10 requests per second
/// per operation; returns (seconds taken, CreateGrant attempts throttled, report).
async fn rate_limited_run(n: u32, adaptive: bool) -> (f64, u32, ApplyReport) {
    let mut env = env();
    {
        let mut w = env.world.lock().expect("lock");
        for op in [
            "CreateGrant",
            "CreateGrantVersion",
            "ListDistributedGrants",
            "GetGrant",
        ] {
            w.rate_limit(op, 10.0, 10.0);
        }
        w.latency = Duration::from_millis(5);
    }
    env.opts.parallelism = 16;
    env.opts.poll = PollPolicy {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(2),
    };
    if !adaptive {
        // Limits that never hear of a throttle: fixed concurrency.
        env.opts.limits = Arc::new(AdaptiveLimits::new());
    }
    let actions = (0..n)
        .map(|i| action(ActionKind::Create, account(i), None))
        .collect();
    let start = tokio::time::Instant::now();
    let report = run(&env, &plan(actions)).await;
    let took = start.elapsed().as_secs_f64();
    let w = env.world.lock().expect("lock");
    let handled = w
        .handled
        .iter()
        .filter(|(op, _)| *op == "CreateGrant")
        .count() as u32;
    let throttled = w.attempts.get("CreateGrant").copied().unwrap_or(0) - handled;
    (took, throttled, report)
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_account_is_used_near_its_limit_without_failures_or_storms() {
    let n = 300;
    let (took, throttled, report) = rate_limited_run(n, true).await;
    let failures: Vec<_> = report
        .failed()
        .map(|a| format!("{:?}", a.outcome))
        .collect();
    assert_eq!(report.counts().done, n as usize, "{failures:?}");
    // One CreateGrant and one CreateGrantVersion per action, each limited to 10/s.
    let ideal = f64::from(n) / 10.0;
    assert!(
        took < ideal / 0.85,
        "took {took:.1}s for an ideal {ideal:.1}s"
    );
    // Throttled attempts stay bounded by the few calls left in flight...
    assert!(
        throttled < 2 * n,
        "{throttled} throttled CreateGrant attempts for {n}"
    );
    // ...where fixed concurrency keeps every place retrying.
    let (_, fixed, _) = rate_limited_run(n, false).await;
    assert!(
        throttled * 4 < fixed * 3,
        "adaptive {throttled} vs fixed {fixed} throttled attempts"
    );
}

#[test]
fn max_deletes_counts_deletes_and_recreates() {
    let g: GrantArn = format!("arn:aws:license-manager::{GRANTOR}:grant:g-{:032x}", 1)
        .parse()
        .expect("valid");
    let p = plan(vec![
        action(ActionKind::Delete, account(1), Some((&g, "1"))),
        action(ActionKind::Recreate, account(2), Some((&g, "1"))),
        action(ActionKind::Create, account(3), None),
    ]);
    assert_eq!(check_max_deletes(&p, 2), Ok(()));
    let err = check_max_deletes(&p, 1).expect_err("too many");
    assert_eq!(err, crate::apply::TooManyDeletes { deletes: 2, max: 1 });
    assert_eq!(
        err.to_string(),
        "the plan deletes 2 grants, more than the 1 allowed; raise --max-deletes (or settings.max_deletes) if that is intended"
    );
}

// ---------------------------------------------------------------------------------------------
// Access continuity: revokes wait for their covers.

fn ou() -> Principal {
    Principal::Ou {
        management: GRANTOR.parse().expect("valid"),
        org: "o-abcde12345".parse().expect("valid"),
        ou: "ou-ab12-cdef3456".parse().expect("valid"),
    }
}

fn id(p: &Principal) -> AccountId {
    match p {
        Principal::Account(a) => a.clone(),
        other => panic!("{other:?} is not an account"),
    }
}

/// Accounts 1 and 2 hold active account grants and sit in an OU whose grant is `ou_status`;
/// the plan activates the OU grant (when it is DISABLED) and deletes both account grants,
/// each waiting for the OU grant to be in effect for its account.
fn move_into_the_ou(env: &Env, ou_status: GrantStatus) -> (Plan, GrantArn, [GrantArn; 2]) {
    let mut w = env.world.lock().expect("lock");
    w.members
        .insert(ou(), vec![id(&account(1)), id(&account(2))]);
    let ou_grant = w.seed(ou(), LICENSE, &name(&ou()), ou_status.clone());
    let a1 = w.seed(account(1), LICENSE, &name(&account(1)), GrantStatus::Active);
    let a2 = w.seed(account(2), LICENSE, &name(&account(2)), GrantStatus::Active);
    drop(w);
    let mut actions = Vec::new();
    if ou_status == GrantStatus::Disabled {
        actions.push(action(ActionKind::Activate, ou(), Some((&ou_grant, "1"))));
    }
    for (p, g) in [(account(1), &a1), (account(2), &a2)] {
        let mut delete = action(ActionKind::Delete, p.clone(), Some((g, "1")));
        delete.waits_for = vec![cover(LICENSE, ou(), Some(&ou_grant), &[p])];
        actions.push(delete);
    }
    (plan(actions), ou_grant, [a1, a2])
}

#[tokio::test(start_paused = true)]
async fn a_revoke_runs_only_once_its_ou_cover_is_in_effect_for_its_accounts() {
    let mut env = env();
    env.opts.wait = Some(Duration::from_secs(600));
    env.world.lock().expect("lock").workflow_reads = 6;
    let (p, ou_grant, _) = move_into_the_ou(&env, GrantStatus::Disabled);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 3, "{report:?}");
    let w = env.world.lock().expect("lock");
    assert_eq!(w.at_revoke.len(), 2);
    for before in &w.at_revoke {
        assert_eq!(
            before[&ou_grant],
            GrantStatus::WorkflowCompleted,
            "a delete ran before the OU grant was in effect"
        );
    }
    assert!(w.attempts["ListReceivedGrantsForOrganization"] >= 1);
}

#[tokio::test(start_paused = true)]
async fn a_revoke_whose_cover_is_not_in_effect_by_the_end_of_the_run_is_deferred() {
    let env = env();
    env.world.lock().expect("lock").workflow_reads = 1_000;
    let (p, ou_grant, [a1, a2]) = move_into_the_ou(&env, GrantStatus::Disabled);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "deferred is not a failure: {report:?}");
    assert_eq!(report.counts().deferred, 2, "{report:?}");
    for (i, account) in [(1, account(1)), (2, account(2))] {
        match &report.actions[i].outcome {
            Outcome::Deferred { grant, waits_for } => {
                assert_eq!(grant.as_ref(), Some([&a1, &a2][i - 1]));
                assert_eq!(waits_for.len(), 1);
                assert_eq!(waits_for[0].principal, ou());
                assert_eq!(waits_for[0].grant.as_ref(), Some(&ou_grant));
                assert_eq!(waits_for[0].accounts, vec![id(&account)]);
            }
            other => panic!("{other:?}"),
        }
    }
    {
        let w = env.world.lock().expect("lock");
        assert!(w.at_revoke.is_empty(), "nothing was revoked");
        assert_eq!(w.grant(&a1).expect("kept").status, GrantStatus::Active);
    }
    // The next run, once the OU grant is in effect, carries the deletes out.
    env.world
        .lock()
        .expect("lock")
        .set_status(&ou_grant, GrantStatus::WorkflowCompleted);
    let again = run(&env, &plan(p.actions[1..].to_vec())).await;
    assert_eq!(again.counts().done, 2, "{again:?}");
    assert_eq!(grant(&env, &a1).status, GrantStatus::Deleted);
}

#[tokio::test(start_paused = true)]
async fn a_deactivation_waits_for_its_cover_too() {
    let env = env();
    env.world.lock().expect("lock").workflow_reads = 1_000;
    let (p, _, [a1, _]) = move_into_the_ou(&env, GrantStatus::Disabled);
    let mut deactivate = action(ActionKind::Deactivate, account(1), Some((&a1, "1")));
    deactivate.waits_for = p.actions[1].waits_for.clone();
    let report = run(&env, &plan(vec![p.actions[0].clone(), deactivate])).await;
    assert_eq!(report.actions[1].outcome.label(), "deferred", "{report:?}");
    assert_eq!(grant(&env, &a1).status, GrantStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn a_cover_this_plan_creates_is_the_grant_its_create_made() {
    let mut env = env();
    env.opts.wait = Some(Duration::from_secs(600));
    let old =
        env.world
            .lock()
            .expect("lock")
            .seed(account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let mut delete = action(ActionKind::Delete, account(9), Some((&old, "1")));
    delete.waits_for = vec![cover(LICENSE, account(1), None, &[account(9)])];
    let report = run(
        &env,
        &plan(vec![action(ActionKind::Create, account(1), None), delete]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let created = done_arn(&report, 0);
    let w = env.world.lock().expect("lock");
    assert_eq!(w.at_revoke.len(), 1);
    assert_eq!(w.at_revoke[0][&created], GrantStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn a_delete_answered_pending_delete_is_waited_for_and_not_sent_again() {
    let mut env = env();
    env.opts.wait = Some(Duration::from_secs(60));
    let old = {
        let mut w = env.world.lock().expect("lock");
        w.pending_delete = true;
        w.workflow_reads = 3;
        w.seed(account(9), LICENSE, "be-m-old", GrantStatus::Active)
    };
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Delete,
            account(9),
            Some((&old, "1")),
        )]),
    )
    .await;
    match &report.actions[0].outcome {
        Outcome::Done { status, .. } => assert_eq!(*status, GrantStatus::Deleted),
        other => panic!("{other:?}"),
    }
    let w = env.world.lock().expect("lock");
    let deletes = w
        .log
        .iter()
        .filter(|(op, _, _)| *op == "DeleteGrant")
        .count();
    assert_eq!(deletes, 1, "DeleteGrant sent once");
}

#[tokio::test(start_paused = true)]
async fn a_recreate_creates_only_once_its_old_grant_is_deleted() {
    let env = env();
    let failed = {
        let mut w = env.world.lock().expect("lock");
        w.pending_delete = true;
        w.workflow_reads = 3;
        w.seed(
            account(1),
            LICENSE,
            &name(&account(1)),
            GrantStatus::FailedWorkflow,
        )
    };
    let report = run(
        &env,
        &plan(vec![action(
            ActionKind::Recreate,
            account(1),
            Some((&failed, "1")),
        )]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let w = env.world.lock().expect("lock");
    let ops: Vec<&str> = w.log.iter().map(|(op, _, _)| *op).collect();
    assert_eq!(ops[..2], ["DeleteGrant", "CreateGrant"], "{ops:?}");
    assert_eq!(w.grant(&failed).expect("kept").status, GrantStatus::Deleted);
    assert_eq!(w.live_per_pair().values().max(), Some(&1));
}

#[tokio::test(start_paused = true)]
async fn a_grant_a_batched_read_leaves_out_is_waited_for_not_failed() {
    let env = env();
    let (g1, g2) = {
        let mut w = env.world.lock().expect("lock");
        let g1 = w.seed(
            account(1),
            LICENSE,
            &name(&account(1)),
            GrantStatus::Disabled,
        );
        let g2 = w.seed(
            account(2),
            LICENSE,
            &name(&account(2)),
            GrantStatus::Disabled,
        );
        // Both are in a workflow; the batched reads that wait for them leave the first out of
        // their first three answers (not yet visible to the list).
        w.start_workflow(&g1, 4, GrantStatus::Disabled);
        w.start_workflow(&g2, 4, GrantStatus::Disabled);
        w.hidden_reads.insert(g1.clone(), 3);
        (g1, g2)
    };
    let (v1, v2) = (grant(&env, &g1).version, grant(&env, &g2).version);
    let a = action(ActionKind::Activate, account(1), Some((&g1, &v1)));
    let b = action(ActionKind::Activate, account(2), Some((&g2, &v2)));
    let report = run(&env, &plan(vec![a, b])).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 2);
    assert_eq!(grant(&env, &g1).status, GrantStatus::Active);
    assert_eq!(env.world.lock().expect("lock").hidden_reads[&g1], 0);
}

#[test]
fn a_cover_the_plan_creates_takes_the_grant_its_create_reported() {
    let made: GrantArn =
        "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000abc"
            .parse()
            .expect("valid");
    let old: GrantArn =
        "arn:aws:license-manager::111122223333:grant:g-00000000000000000000000000000def"
            .parse()
            .expect("valid");
    let mut delete = action(ActionKind::Delete, account(9), Some((&old, "1")));
    delete.waits_for = vec![
        cover(LICENSE, account(1), None, &[account(9)]),
        cover(LICENSE, ou(), Some(&old), &[account(9)]),
    ];
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        delete.clone(),
    ]);
    let done = Outcome::Done {
        grant: made.clone(),
        status: GrantStatus::Active,
    };
    let checks = continuity::resolve(&p, &[Some(done), None], &delete);
    assert_eq!(checks[0].grant, Some(made));
    assert_eq!(checks[1].grant, Some(old), "a live cover keeps its grant");
    let failed = Outcome::Failed {
        grant: None,
        error: StepError::Task("x".to_owned()),
    };
    let checks = continuity::resolve(&p, &[Some(failed), None], &delete);
    assert_eq!(
        checks[0].grant, None,
        "a failed create leaves its cover unmade"
    );
}
