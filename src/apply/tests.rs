//! The executor against the emulator's own state, in process and under paused time
//! (`testkit`): phase order, conflicts, lost responses, pending grants, partial failure,
//! pacing. (The proof through the real SDK over HTTP is in tests/it/apply.rs.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::testkit::{self, GRANTOR, InProcLm, InProcRecipients, LICENSE, LICENSE_2, ops};
use super::*;
use crate::emulator::{EmulatorOptions, EmulatorState, ScriptedFault};
use crate::model::{AccountId, GrantArn, GrantStatus, Principal};
use crate::plan::{Action, ActionKind, Cover, TargetStatus};

fn account(n: u32) -> Principal {
    Principal::Account(testkit::member(n).parse().expect("valid"))
}

fn org() -> Principal {
    Principal::Organization {
        management: GRANTOR.parse().expect("valid"),
        org: testkit::ORG.parse().expect("valid"),
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
    emu: EmulatorState,
    lm: Arc<InProcLm>,
    opts: ApplyOptions,
}

/// An emulator with 10 member accounts and its default knobs.
fn env() -> Env {
    env_with(10, EmulatorOptions::default())
}

fn env_with(members: u32, knobs: EmulatorOptions) -> Env {
    let emu = testkit::emulator(members, knobs);
    let limits = Arc::new(AdaptiveLimits::new());
    let lm = Arc::new(InProcLm::new(emu.clone(), limits.clone()));
    let opts = ApplyOptions {
        parallelism: 4,
        poll: PollPolicy {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(100),
        },
        limits,
        ..ApplyOptions::default()
    };
    Env { emu, lm, opts }
}

/// Adds the managed grant of account `n` on `LICENSE` (settled, version 1).
fn managed(env: &Env, n: u32, status: GrantStatus) -> GrantArn {
    seed(env, account(n), LICENSE, &name(&account(n)), status)
}

/// Adds a settled grant (version 1) from the grantor.
fn seed(
    env: &Env,
    principal: Principal,
    license: &str,
    name: &str,
    status: GrantStatus,
) -> GrantArn {
    testkit::add_grant(&env.emu, &principal, license, name, status)
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

async fn run_one(env: &Env, action: Action) -> ApplyReport {
    run(env, &plan(vec![action])).await
}

/// Runs one `kind` action on account `n`'s grant `arn`, planned at `version`.
async fn run_on(env: &Env, kind: ActionKind, n: u32, arn: &GrantArn, version: &str) -> ApplyReport {
    run_one(env, action(kind, account(n), Some((arn, version)))).await
}

fn grant(env: &Env, arn: &GrantArn) -> crate::emulator::GrantView {
    env.emu.grant(arn.as_str()).expect("grant exists")
}

fn status(env: &Env, arn: &GrantArn) -> GrantStatus {
    GrantStatus::parse(&grant(env, arn).status)
}

/// The mutating calls the emulator handled, in order: (operation, principal or grant, caller).
fn log(env: &Env) -> Vec<(&'static str, String, AccountId)> {
    env.lm.journal.lock().expect("lock").log.clone()
}

fn ops_logged(env: &Env) -> Vec<&'static str> {
    log(env).into_iter().map(|(op, _, _)| op).collect()
}

/// Every grant's status when each revoke was handled.
fn at_revoke(env: &Env) -> Vec<BTreeMap<GrantArn, GrantStatus>> {
    env.lm.journal.lock().expect("lock").at_revoke.clone()
}

/// Live (not DELETED / REJECTED / FAILED_WORKFLOW) grants per (license, principal ARN).
fn live_per_pair(env: &Env) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for g in env.emu.grants() {
        if !GrantStatus::parse(&g.status).is_terminal() {
            *m.entry((g.license_arn, g.principal)).or_insert(0) += 1;
        }
    }
    m
}

fn calls(env: &Env, op: &str) -> u64 {
    env.emu.call_count(op)
}

fn assert_pending(outcome: &Outcome, status: GrantStatus, waiting: Waiting) {
    match outcome {
        Outcome::Pending {
            status: got,
            waiting_on,
            ..
        } => assert_eq!((got, waiting_on), (&status, &waiting)),
        other => panic!("not pending on {waiting:?} in {status}: {other:?}"),
    }
}

fn done_arn(report: &ApplyReport, i: usize) -> GrantArn {
    match &report.actions[i].outcome {
        Outcome::Done { grant, .. } => grant.clone(),
        other => panic!("action {i} not done: {other:?}"),
    }
}

/// How License Manager words a stale `SourceVersion` (a ValidationException).
const STALE_VERSION: &str = "A grant version cannot be created since the source version provided doesn't match the latest version 2 in our records";

#[tokio::test(start_paused = true)]
async fn create_waits_for_the_workflow_then_activates() {
    let env = env();
    let report = run_one(&env, action(ActionKind::Create, account(1), None)).await;
    assert!(report.is_success(), "{report:?}");
    let arn = done_arn(&report, 0);
    let g = grant(&env, &arn);
    assert_eq!(g.status, "ACTIVE");
    assert_eq!(g.name, name(&account(1)));
    assert_eq!(ops_logged(&env), ["CreateGrant", "CreateGrantVersion"]);
    // Waiting was done by batch reads, not GetGrant.
    assert_eq!(calls(&env, "GetGrant"), 0);
}

#[tokio::test(start_paused = true)]
async fn phases_run_in_order_whatever_the_plan_order() {
    let env = env();
    let old = seed(&env, account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let disabled = managed(&env, 8, GrantStatus::Disabled);
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
    let ops = ops_logged(&env);
    let first = |op: &str| ops.iter().position(|o| *o == op).expect("called");
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
        let report = run_one(&env, action(ActionKind::Create, org(), None)).await;
        match &report.actions[0].outcome {
            Outcome::Done { status, .. } => assert_eq!(*status, expect, "wait {wait:?}"),
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn workflow_outlasting_the_bound_is_reported_pending() {
    let mut env = env_with(
        10,
        EmulatorOptions {
            workflow_reads: 1_000_000,
            ..EmulatorOptions::default()
        },
    );
    env.opts.wait = Some(Duration::from_secs(5));
    let report = run_one(&env, action(ActionKind::Create, account(1), None)).await;
    assert!(report.is_success(), "pending is not failure");
    assert_pending(
        &report.actions[0].outcome,
        GrantStatus::PendingWorkflow,
        Waiting::Workflow,
    );
}

#[tokio::test(start_paused = true)]
async fn stale_version_is_reread_and_retried_once() {
    let env = env();
    let arn = managed(&env, 1, GrantStatus::Disabled);
    // The plan saw version 0; the grant is at 1.
    let report = run_on(&env, ActionKind::Activate, 1, &arn, "0").await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(status(&env, &arn), GrantStatus::Active);
    assert_eq!(calls(&env, "GetGrant"), 1);
    assert_eq!(calls(&env, "CreateGrantVersion"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_second_conflict_fails_the_action() {
    let env = env();
    let arn = managed(&env, 1, GrantStatus::Disabled);
    let stale = || ScriptedFault::Validation(STALE_VERSION.to_owned());
    env.emu
        .script_faults("CreateGrantVersion", [stale(), stale()]);
    let report = run_on(&env, ActionKind::Activate, 1, &arn, "1").await;
    assert!(!report.is_success());
    match &report.actions[0].outcome {
        Outcome::Failed { grant, error } => {
            assert_eq!(grant.as_ref(), Some(&arn));
            assert_eq!(error.operation(), "CreateGrantVersion");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&env, &arn), GrantStatus::Disabled);
}

#[tokio::test(start_paused = true)]
async fn lost_responses_never_duplicate_and_still_converge() {
    let env = env();
    let old = seed(&env, account(9), LICENSE_2, "be-m-old", GrantStatus::Active);
    for op in ["CreateGrant", "CreateGrantVersion", "DeleteGrant"] {
        env.emu.script_faults(op, [ScriptedFault::LostResponse]);
    }
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action_on(ActionKind::Delete, account(9), Some((&old, "1")), LICENSE_2),
    ]);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(env.emu.lost_counts().len(), 3, "every fault was used");
    let arn = done_arn(&report, 0);
    assert_eq!(status(&env, &arn), GrantStatus::Active);
    assert_eq!(status(&env, &old), GrantStatus::Deleted);
    let live = live_per_pair(&env);
    assert!(live.values().all(|n| *n == 1), "{live:?}");
    // The retried CreateGrant was answered from its client token: one grant was made.
    let made: Vec<String> = env
        .emu
        .grants()
        .into_iter()
        .filter(|g| g.principal == account(1).arn())
        .map(|g| g.arn)
        .collect();
    assert_eq!(made, [arn.to_string()]);
}

#[tokio::test(start_paused = true)]
async fn rerunning_a_finished_plan_changes_nothing() {
    let env = env();
    let disabled = managed(&env, 8, GrantStatus::Disabled);
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action(ActionKind::Activate, account(8), Some((&disabled, "1"))),
    ]);
    let first = run(&env, &p).await;
    assert!(first.is_success(), "{first:?}");
    let logged = log(&env).len();
    let grants = env.emu.grants();
    let second = run(&env, &p).await;
    assert!(second.is_success(), "{second:?}");
    // The create and the activation are sent again with their client tokens and answered from
    // them: no grant, version or status moved.
    assert_eq!(env.emu.grants(), grants);
    assert_eq!(
        ops_logged(&env)[logged..],
        ["CreateGrant", "CreateGrantVersion"]
    );
}

/// An emulator whose account grants wait for their recipients, with account 2's grant waiting
/// for acceptance, and the plan that creates account 1's grant and accepts account 2's.
fn create_and_accept() -> (Env, GrantArn, Plan) {
    let env = env_with(
        10,
        EmulatorOptions {
            auto_accept_account_grants: false,
            ..EmulatorOptions::default()
        },
    );
    let waiting = managed(&env, 2, GrantStatus::PendingAccept);
    let p = plan(vec![
        action(ActionKind::Create, account(1), None),
        action(ActionKind::Accept, account(2), Some((&waiting, "1"))),
    ]);
    (env, waiting, p)
}

#[tokio::test(start_paused = true)]
async fn pending_accept_without_recipients_is_waiting_not_failed() {
    let (env, _, p) = create_and_accept();
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    for a in &report.actions {
        assert_pending(&a.outcome, GrantStatus::PendingAccept, Waiting::Recipient);
    }
    // The accept action made no call at all.
    assert_eq!(calls(&env, "AcceptGrant"), 0);
}

#[tokio::test(start_paused = true)]
async fn recipients_accept_and_activate_in_their_own_account() {
    let (env, waiting, p) = create_and_accept();
    // The first AcceptGrant answer is lost: the retry is refused, the re-read shows it accepted.
    env.emu
        .script_faults("AcceptGrant", [ScriptedFault::LostResponse]);
    let recipients = InProcRecipients((*env.lm).clone());
    let report = execute(
        Arc::clone(&env.lm),
        Some(&recipients),
        &p,
        &env.opts,
        &NoProgress,
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(env.emu.lost_counts().get("AcceptGrant"), Some(&1));
    let created = done_arn(&report, 0);
    for arn in [&created, &waiting] {
        assert_eq!(status(&env, arn), GrantStatus::Active);
    }
    let mut checked = 0;
    for (op, target, caller) in log(&env) {
        if op == "AcceptGrant"
            || (op == "CreateGrantVersion"
                && (target == created.as_str() || target == waiting.as_str()))
        {
            let want = if target == created.as_str() {
                account(1)
            } else {
                account(2)
            };
            assert_eq!(Principal::Account(caller.clone()), want, "{op} on {target}");
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        4,
        "two accepts and two activations: {:?}",
        log(&env)
    );
}

#[tokio::test(start_paused = true)]
async fn failures_are_reported_others_carry_on_and_access_is_not_removed() {
    let env = env();
    let old = seed(&env, account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let other = seed(
        &env,
        account(7),
        LICENSE_2,
        "be-m-other",
        GrantStatus::Active,
    );
    env.emu.script_faults(
        "CreateGrant",
        [ScriptedFault::Validation("scripted fault".to_owned())],
    );
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
    assert_eq!(calls(&env, "CreateGrant"), 2);
}

#[tokio::test(start_paused = true)]
async fn delete_of_an_already_deleted_grant_is_done() {
    let env = env();
    let gone = seed(&env, account(9), LICENSE, "be-m-old", GrantStatus::Deleted);
    let report = run_on(&env, ActionKind::Delete, 9, &gone, "1").await;
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
    let failed_grant = managed(&env, 3, GrantStatus::FailedWorkflow);
    let report = run_on(&env, ActionKind::Recreate, 3, &failed_grant, "1").await;
    assert!(report.is_success(), "{report:?}");
    let new = done_arn(&report, 0);
    assert_ne!(new, failed_grant);
    assert_eq!(status(&env, &failed_grant), GrantStatus::Deleted);
    assert_eq!(status(&env, &new), GrantStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn update_and_deactivate_set_what_the_plan_says() {
    let env = env();
    let renamed = seed(
        &env,
        account(4),
        LICENSE,
        "be-m-old-name",
        GrantStatus::Active,
    );
    let active = managed(&env, 5, GrantStatus::Active);
    let p = plan(vec![
        action(ActionKind::Update, account(4), Some((&renamed, "1"))),
        action(ActionKind::Deactivate, account(5), Some((&active, "1"))),
    ]);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    let g = grant(&env, &renamed);
    assert_eq!(
        (g.name.as_str(), g.status.as_str()),
        (name(&account(4)).as_str(), "ACTIVE")
    );
    assert_eq!(status(&env, &active), GrantStatus::Disabled);
}

/// Creates and activates `n` account grants against an emulator limited to 10 requests per
/// second per operation; returns (seconds taken, CreateGrant attempts throttled, report).
async fn rate_limited_run(n: u32, adaptive: bool) -> (f64, u64, ApplyReport) {
    let limit = crate::emulator::RateLimit {
        rate: 10.0,
        burst: 10,
    };
    let knobs = EmulatorOptions {
        rate_limits: [
            "CreateGrant",
            "CreateGrantVersion",
            "ListDistributedGrants",
            "GetGrant",
        ]
        .map(|op| (op.to_owned(), limit))
        .into(),
        latency: Duration::from_millis(5),
        ..EmulatorOptions::default()
    };
    let mut env = env_with(n, knobs);
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
    let throttled = env
        .emu
        .error_counts()
        .get("CreateGrant")
        .and_then(|e| e.get("RateLimitExceededException"))
        .copied()
        .unwrap_or(0);
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
        throttled < 2 * u64::from(n),
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
        org: testkit::ORG.parse().expect("valid"),
        ou: testkit::OU.parse().expect("valid"),
    }
}

fn id(p: &Principal) -> AccountId {
    match p {
        Principal::Account(a) => a.clone(),
        other => panic!("{other:?} is not an account"),
    }
}

/// Accounts 1 and 2 (the seed's OU members) hold active account grants and sit in an OU whose
/// grant is `ou_status`; the plan activates the OU grant (when it is DISABLED) and deletes both
/// account grants, each waiting for the OU grant to be in effect for its account. The
/// activation overrides the accounts' own grants (ALL_GRANTS_PERMITTED_BY_ISSUER, as the
/// planner chooses here): with one active grant per product, the OU grant's shares would
/// otherwise stay DISABLED for them.
fn move_into_the_ou(env: &Env, ou_status: GrantStatus) -> (Plan, GrantArn, [GrantArn; 2]) {
    let ou_grant = seed(env, ou(), LICENSE, &name(&ou()), ou_status.clone());
    let a1 = managed(env, 1, GrantStatus::Active);
    let a2 = managed(env, 2, GrantStatus::Active);
    let mut actions = Vec::new();
    if ou_status == GrantStatus::Disabled {
        let mut activate = action(ActionKind::Activate, ou(), Some((&ou_grant, "1")));
        activate.activation_override =
            Some(crate::config::ActivationOverride::AllGrantsPermittedByIssuer);
        actions.push(activate);
    }
    for (p, g) in [(account(1), &a1), (account(2), &a2)] {
        let mut delete = action(ActionKind::Delete, p.clone(), Some((g, "1")));
        delete.waits_for = vec![cover(LICENSE, ou(), Some(&ou_grant), &[p])];
        actions.push(delete);
    }
    (plan(actions), ou_grant, [a1, a2])
}

fn slow_workflows(reads: u32) -> EmulatorOptions {
    EmulatorOptions {
        workflow_reads: reads,
        ..EmulatorOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_revoke_runs_only_once_its_ou_cover_is_in_effect_for_its_accounts() {
    let mut env = env_with(10, slow_workflows(6));
    env.opts.wait = Some(Duration::from_secs(600));
    let (p, ou_grant, _) = move_into_the_ou(&env, GrantStatus::Disabled);
    let report = run(&env, &p).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 3, "{report:?}");
    let revokes = at_revoke(&env);
    assert_eq!(revokes.len(), 2);
    for before in &revokes {
        assert_eq!(
            before[&ou_grant],
            GrantStatus::WorkflowCompleted,
            "a delete ran before the OU grant was in effect"
        );
    }
    assert!(calls(&env, "ListReceivedGrantsForOrganization") >= 1);
}

#[tokio::test(start_paused = true)]
async fn a_revoke_whose_cover_is_not_in_effect_by_the_end_of_the_run_is_deferred() {
    let env = env_with(10, slow_workflows(1_000));
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
    assert!(at_revoke(&env).is_empty(), "nothing was revoked");
    assert_eq!(status(&env, &a1), GrantStatus::Active);
    // The next run, once the OU grant is in effect, carries the deletes out.
    env.emu
        .set_grant_status(ou_grant.as_str(), "WORKFLOW_COMPLETED")
        .expect("the OU grant exists");
    let version = grant(&env, &a1).version.to_string();
    assert_eq!(version, "1", "the account grants did not move");
    let again = run(&env, &plan(p.actions[1..].to_vec())).await;
    assert_eq!(again.counts().done, 2, "{again:?}");
    assert_eq!(status(&env, &a1), GrantStatus::Deleted);
}

#[tokio::test(start_paused = true)]
async fn a_deactivation_waits_for_its_cover_too() {
    let env = env_with(10, slow_workflows(1_000));
    let (p, _, [a1, _]) = move_into_the_ou(&env, GrantStatus::Disabled);
    let mut deactivate = action(ActionKind::Deactivate, account(1), Some((&a1, "1")));
    deactivate.waits_for = p.actions[1].waits_for.clone();
    let report = run(&env, &plan(vec![p.actions[0].clone(), deactivate])).await;
    assert_eq!(report.actions[1].outcome.label(), "deferred", "{report:?}");
    assert_eq!(status(&env, &a1), GrantStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn a_cover_this_plan_creates_is_the_grant_its_create_made() {
    let mut env = env();
    env.opts.wait = Some(Duration::from_secs(600));
    let old = seed(&env, account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let mut delete = action(ActionKind::Delete, account(9), Some((&old, "1")));
    delete.waits_for = vec![cover(LICENSE, account(1), None, &[account(9)])];
    let report = run(
        &env,
        &plan(vec![action(ActionKind::Create, account(1), None), delete]),
    )
    .await;
    assert!(report.is_success(), "{report:?}");
    let created = done_arn(&report, 0);
    let revokes = at_revoke(&env);
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0][&created], GrantStatus::Active);
}

/// DeleteGrant answers PENDING_DELETE; the grant is DELETED 3 s later.
fn slow_deletes() -> EmulatorOptions {
    EmulatorOptions {
        delete_ms: 3_000,
        ..EmulatorOptions::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_delete_answered_pending_delete_is_waited_for_and_not_sent_again() {
    let mut env = env_with(10, slow_deletes());
    env.opts.wait = Some(Duration::from_secs(60));
    let old = seed(&env, account(9), LICENSE, "be-m-old", GrantStatus::Active);
    let report = run_on(&env, ActionKind::Delete, 9, &old, "1").await;
    match &report.actions[0].outcome {
        Outcome::Done { status, .. } => assert_eq!(*status, GrantStatus::Deleted),
        other => panic!("{other:?}"),
    }
    assert_eq!(calls(&env, "DeleteGrant"), 1, "DeleteGrant sent once");
}

#[tokio::test(start_paused = true)]
async fn a_recreate_creates_only_once_its_old_grant_is_deleted() {
    let env = env_with(10, slow_deletes());
    let failed = managed(&env, 1, GrantStatus::FailedWorkflow);
    let report = run_on(&env, ActionKind::Recreate, 1, &failed, "1").await;
    assert!(report.is_success(), "{report:?}");
    let ops = ops_logged(&env);
    assert_eq!(ops[..2], ["DeleteGrant", "CreateGrant"], "{ops:?}");
    assert_eq!(status(&env, &failed), GrantStatus::Deleted);
    assert_eq!(live_per_pair(&env).values().max(), Some(&1));
}

#[tokio::test(start_paused = true)]
async fn a_grant_a_batched_read_leaves_out_is_waited_for_not_failed() {
    // New grants are missing from ListDistributedGrants for 2 s (lists lag behind writes):
    // the batched reads that wait for their workflows leave them out meanwhile.
    let env = env_with(
        10,
        EmulatorOptions {
            list_lag_ms: 2_000,
            ..EmulatorOptions::default()
        },
    );
    let start = tokio::time::Instant::now();
    let a = action(ActionKind::Create, account(1), None);
    let b = action(ActionKind::Create, account(2), None);
    let report = run(&env, &plan(vec![a, b])).await;
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.counts().done, 2);
    for i in 0..2 {
        assert_eq!(status(&env, &done_arn(&report, i)), GrantStatus::Active);
    }
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "the grants were waited for while the lists left them out"
    );
    assert_eq!(calls(&env, "GetGrant"), 0, "{:?}", env.emu.call_counts());
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
