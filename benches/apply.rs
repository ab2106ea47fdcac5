//! `apply` against the emulator through the real SDK, three scenarios:
//!
//! - `rate-limited`: 2,000 creates + activations (1,000 accounts × 2 models) with every License
//!   Manager operation limited to 10 requests/s (its own token bucket, burst 10). Reports the
//!   sustained rate of finished actions (between the 10th and the 90th percentile of completion
//!   times; each action needs one CreateGrant and one CreateGrantVersion, so 10 actions/s is the
//!   limit), the answered calls per second of each operation, throttled attempts and failures.
//! - `latency`: the same 2,000 actions with no rate limit and 20 ms added to every call; compares
//!   the wall time with calls / parallelism × 20 ms.
//! - `move`: accounts holding managed account grants move into their OU's grant (50 accounts per
//!   OU), 20 ms per call, every workflow settling on its first read: creates and activations of
//!   the OU grants, then each account grant's delete once its OU grant's share is ACTIVE for that
//!   account (the continuity check, ListReceivedGrantsForOrganization). Reports the calls the
//!   continuity checks add per delete and the wall time against calls / parallelism x 20 ms.
//! - `accept`: a consolidated-billing organization, 500 member accounts, `recipient_role`: each
//!   account's grant is created, then accepted and activated by the account itself (AssumeRole,
//!   AcceptGrant, CreateGrantVersion), 20 ms per call; compares with calls / parallelism × 20 ms.
//!
//! - `move-limited` (only when named): issue 14's apply at scale, `--accounts` (10,000) account
//!   grants into `--ous` (500) OU grants with every License Manager operation at 10 requests/s.
//!
//! Only `apply::execute` is timed (the plan is made before). Run:
//! `cargo bench --bench apply [-- --scenario NAME] [--actions N] [--parallelism P]`

#[path = "common/fixtures.rs"]
mod fixtures;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bedrock_entitlements::apply::{
    self, AdaptiveLimits, ApplyOptions, NoRecipients, Outcome, PollPolicy, Progress, RoleRecipients,
};
use bedrock_entitlements::aws::{self, ConnectOptions};
use bedrock_entitlements::cli::Session;
use bedrock_entitlements::config;
use bedrock_entitlements::emulator::{
    self, AccountSeed, EmulatorHandle, EmulatorOptions, FeatureSetSeed, GrantSeed, OuSeed,
    RateLimit, SANDBOX_YAML, Seed,
};
use bedrock_entitlements::plan::{Action, Plan};

const LATENCY: Duration = Duration::from_millis(20);
const LIMIT: f64 = 10.0;
const LM_OPERATIONS: &[&str] = &[
    "AcceptGrant",
    "CreateGrant",
    "CreateGrantVersion",
    "DeleteGrant",
    "GetGrant",
    "ListDistributedGrants",
    "ListReceivedGrants",
    "ListReceivedLicenses",
];

fn account(i: usize) -> String {
    format!("{:012}", 900_000_000_000u64 + i as u64)
}

fn seed(accounts: usize, consolidated_billing: bool) -> Seed {
    let mut seed = Seed::from_yaml(SANDBOX_YAML).expect("the sandbox seed is valid");
    if consolidated_billing {
        seed.organization.feature_set = FeatureSetSeed::ConsolidatedBilling;
        seed.organization.trusted_access = false;
    }
    for i in 0..accounts {
        seed.organization
            .accounts
            .push(fixtures::account(account(i), format!("bulk-{i}")));
    }
    seed
}

/// `models` models (from the sandbox's licenses without grants) granted to `accounts` accounts.
fn desired(accounts: usize, models: usize, recipient_role: bool) -> String {
    let skus = [
        "prod-c0h3r3cmdr01",
        "prod-stab1l1tysdx",
        "prod-a121jamba001",
    ];
    let ids: Vec<String> = (0..accounts)
        .map(|i| format!("\"{}\"", account(i)))
        .collect();
    let mut yaml = String::from("version: 1\n");
    if recipient_role {
        yaml.push_str("settings:\n  recipient_role: OrganizationAccountAccessRole\n");
    }
    yaml.push_str("models:\n");
    for (m, sku) in skus.iter().take(models).enumerate() {
        yaml.push_str(&format!(
            "  model-{m}:\n    product_sku: {sku}\n    grant_to:\n      accounts: [{}]\n",
            ids.join(", ")
        ));
    }
    yaml
}

async fn session(emu: &EmulatorHandle, limits: &Arc<AdaptiveLimits>) -> Session {
    Session::from_clients(
        aws::connect(ConnectOptions {
            home_region: "us-east-1".to_owned(),
            endpoint_url: Some(emu.endpoint_url()),
            static_credentials: Some(("AKIDBENCH".to_owned(), "bench-secret".to_owned())),
            observer: Some(limits.clone()),
            ..ConnectOptions::default()
        })
        .await,
    )
}

async fn plan(emu: &EmulatorHandle, yaml: &str) -> Plan {
    let config = config::parse(yaml).expect("a valid desired state");
    let ctx = fixtures::context("entitlements.yaml".into());
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    match ctx.plan(&s, &config, None).await {
        Ok(p) => p.plan,
        Err(e) => panic!("plan failed: {e}"),
    }
}

/// Remembers when each action finished.
#[derive(Default)]
struct Finished(Mutex<Vec<Instant>>);

/// Every minute, a progress line on stderr: actions finished and calls answered so far.
async fn tick(state: emulator::EmulatorState, start: Instant, finished: Arc<Finished>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await;
    loop {
        every.tick().await;
        let done = finished.0.lock().expect("lock").len();
        let calls: Vec<String> = state
            .call_counts()
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        eprintln!(
            "  {:.0} s: {done} actions finished; calls: {}",
            start.elapsed().as_secs_f64(),
            calls.join(", ")
        );
    }
}

impl Progress for Finished {
    fn on_start(&self, _: usize) {}
    fn on_done(&self, _: &Action, _: &Outcome) {
        self.0.lock().expect("lock").push(Instant::now());
    }
    fn on_finish(&self) {}
}

struct Run {
    elapsed: Duration,
    done: usize,
    pending: usize,
    failed: usize,
    finished: Vec<Instant>,
    start: Instant,
    calls: std::collections::BTreeMap<String, u64>,
    errors: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
}

impl Run {
    fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    fn answered(&self, op: &str) -> u64 {
        let calls = self.calls.get(op).copied().unwrap_or(0);
        let errors: u64 = self.errors.get(op).map(|e| e.values().sum()).unwrap_or(0);
        calls - errors
    }

    fn throttled(&self) -> u64 {
        self.errors
            .values()
            .flat_map(|e| e.iter())
            .filter(|(code, _)| code.contains("RateLimit") || code.contains("TooManyRequests"))
            .map(|(_, n)| n)
            .sum()
    }

    /// Actions finished per second between the 10th and the 90th percentile of completions.
    fn sustained(&self) -> f64 {
        let mut t = self.finished.clone();
        t.sort();
        if t.len() < 10 {
            return t.len() as f64 / self.elapsed.as_secs_f64();
        }
        let (a, b) = (t.len() / 10, t.len() * 9 / 10);
        (b - a) as f64 / (t[b] - t[a]).as_secs_f64()
    }
}

async fn run(
    emu: &EmulatorHandle,
    yaml: &str,
    parallelism: usize,
    poll: PollPolicy,
    recipients: bool,
) -> Run {
    run_waiting(emu, yaml, parallelism, poll, recipients, None).await
}

async fn run_waiting(
    emu: &EmulatorHandle,
    yaml: &str,
    parallelism: usize,
    poll: PollPolicy,
    recipients: bool,
    wait: Option<Duration>,
) -> Run {
    let planning = Instant::now();
    let p = plan(emu, yaml).await;
    eprintln!(
        "  planned {} actions in {:.1} s",
        p.actions.len(),
        planning.elapsed().as_secs_f64()
    );
    let limits = Arc::new(AdaptiveLimits::new());
    let s = session(emu, &limits).await;
    let opts = ApplyOptions {
        parallelism,
        poll,
        wait,
        limits: limits.clone(),
        ..ApplyOptions::default()
    };
    let finished = Arc::new(Finished::default());
    emu.state().reset_counts();
    let start = Instant::now();
    let ticker = tokio::spawn(tick(emu.state(), start, finished.clone()));
    let report = if recipients {
        let r = RoleRecipients::new(s.clients.clone(), "OrganizationAccountAccessRole");
        apply::execute(s.lm.clone(), Some(&r), &p, &opts, finished.as_ref()).await
    } else {
        apply::execute(
            s.lm.clone(),
            None::<&NoRecipients>,
            &p,
            &opts,
            finished.as_ref(),
        )
        .await
    };
    let elapsed = start.elapsed();
    ticker.abort();
    let counts = report.counts();
    for f in report.failed().take(5) {
        eprintln!("failed: {:?}", f.outcome);
    }
    Run {
        elapsed,
        done: counts.done,
        pending: counts.pending,
        failed: counts.failed + counts.skipped,
        finished: finished.0.lock().expect("lock").clone(),
        start,
        calls: emu.state().call_counts(),
        errors: emu.state().error_counts(),
    }
}

async fn rate_limited(actions: usize, parallelism: usize) {
    let accounts = actions / 2;
    let mut opts = EmulatorOptions::default();
    for op in LM_OPERATIONS {
        opts.rate_limits.insert(
            (*op).to_owned(),
            RateLimit {
                rate: LIMIT,
                burst: 10,
            },
        );
    }
    let emu = start(seed(accounts, false), opts).await;
    let poll = PollPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(5),
    };
    let r = run(&emu, &desired(accounts, 2, false), parallelism, poll, false).await;
    let secs = r.elapsed.as_secs_f64();
    println!(
        "rate-limited: {} actions (parallelism {parallelism}, {LIMIT}/s per operation): {:.1} s, {} done, {} pending, {} failed",
        r.done + r.pending + r.failed,
        secs,
        r.done,
        r.pending,
        r.failed
    );
    println!(
        "  sustained {:.2} actions/s = {:.0}% of the {LIMIT}/s limit (overall {:.2}/s)",
        r.sustained(),
        100.0 * r.sustained() / LIMIT,
        r.done as f64 / secs
    );
    for op in [
        "CreateGrant",
        "CreateGrantVersion",
        "ListDistributedGrants",
        "GetGrant",
    ] {
        println!(
            "  {op}: {} answered ({:.2}/s), {} calls",
            r.answered(op),
            r.answered(op) as f64 / secs,
            r.calls.get(op).copied().unwrap_or(0)
        );
    }
    println!(
        "  throttled attempts: {} for {} calls answered",
        r.throttled(),
        r.total_calls() - r.throttled()
    );
    let _ = r.start;
}

async fn latency(actions: usize, parallelism: usize) {
    let accounts = actions / 2;
    let opts = EmulatorOptions {
        latency: LATENCY,
        ..EmulatorOptions::default()
    };
    let emu = start(seed(accounts, false), opts).await;
    let poll = PollPolicy {
        initial: LATENCY,
        max: Duration::from_millis(200),
    };
    let r = run(&emu, &desired(accounts, 2, false), parallelism, poll, false).await;
    report_against_bound("latency", &r, parallelism, 1.5);
}

/// The sandbox plus `accounts` accounts in OUs of 50, each holding a managed, active account
/// grant of the Cohere license; and the file that grants the OUs instead.
fn move_world(accounts: usize, per_ou: usize) -> (Seed, String) {
    move_world_of(accounts, per_ou, 1)
}

/// `accounts` accounts in OUs of `per_ou`, each holding a managed account grant of one of
/// `models` licenses (model m: the m-th run of `accounts / models` accounts and their OUs),
/// and the file that moves each model's accounts into its OUs' grants. License Manager allows
/// 2,000 grants per license, account and OU grants together: several models spread them.
fn move_world_of(accounts: usize, per_ou: usize, models: usize) -> (Seed, String) {
    let mut seed = seed(0, false);
    let cohere = seed
        .licenses
        .iter()
        .find(|l| l.product_sku == "prod-c0h3r3cmdr01")
        .expect("the sandbox has the Cohere license")
        .clone();
    let licenses: Vec<(String, String)> = (0..models)
        .map(|m| match m {
            0 => (cohere.arn.clone(), cohere.product_sku.clone()),
            _ => {
                let mut license = cohere.clone();
                license.arn = format!("{}{m:04}", &cohere.arn[..cohere.arn.len() - 4]);
                license.product_sku = format!("prod-movebench{m:04}");
                license.product_name = format!("Move bench model {m}");
                license.name = None;
                seed.licenses.push(license.clone());
                (license.arn, license.product_sku)
            }
        })
        .collect();
    let per_model = accounts.div_ceil(models.max(1));
    let root = seed.organization.root.clone();
    let mut ous: Vec<Vec<String>> = vec![Vec::new(); models];
    for i in 0..accounts {
        let m = i / per_model;
        if i % per_ou == 0 || i % per_model == 0 {
            let id = format!("ou-ab12-mv{:06}", i / per_ou);
            seed.organization.organizational_units.push(OuSeed {
                id: id.clone(),
                name: format!("move-{}", i / per_ou),
                parent: root.clone(),
            });
            ous[m].push(id);
        }
        seed.organization.accounts.push(AccountSeed {
            id: account(i),
            name: format!("bulk-{i}"),
            email: None,
            state: "ACTIVE".to_owned(),
            parent: ous[m].last().cloned(),
            joined_method: "CREATED".to_owned(),
            joined_timestamp: 1_704_067_200,
        });
        seed.grants.push(GrantSeed {
            arn: None,
            name: format!("bedrock-entitlements-model-{m}-{}", account(i)),
            license_arn: licenses[m].0.clone(),
            principal: format!("arn:aws:iam::{}:root", account(i)),
            grantor: None,
            status: "ACTIVE".to_owned(),
            status_reason: None,
            version: 2,
            operations: bedrock_entitlements::model::DEFAULT_OPERATIONS
                .iter()
                .map(|o| (*o).to_owned())
                .collect(),
        });
    }
    let mut yaml = String::from("version: 1\nmodels:\n");
    for (m, (_, sku)) in licenses.iter().enumerate() {
        yaml.push_str(&format!(
            "  model-{m}:\n    product_sku: {sku}\n    grant_to:\n      organizational_units: [{}]\n",
            ous[m].join(", ")
        ));
    }
    (seed, yaml)
}

async fn move_into_ous(accounts: usize, parallelism: usize) {
    let (seed, yaml) = move_world(accounts, 50);
    let opts = EmulatorOptions {
        latency: LATENCY,
        workflow_reads: 0,
        ..EmulatorOptions::default()
    };
    let emu = start(seed, opts).await;
    let poll = PollPolicy {
        initial: LATENCY,
        max: Duration::from_millis(200),
    };
    let wait = Some(Duration::from_secs(600));
    let r = run_waiting(&emu, &yaml, parallelism, poll, false, wait).await;
    report_against_bound("move", &r, parallelism, 1.5);
    let deletes = r.answered("DeleteGrant").max(1);
    let checks = r
        .calls
        .get("ListReceivedGrantsForOrganization")
        .copied()
        .unwrap_or(0);
    println!(
        "  continuity checks: {checks} ListReceivedGrantsForOrganization calls for {deletes} deletes ({:.3} per delete, {:.1}% of all calls)",
        checks as f64 / deletes as f64,
        100.0 * checks as f64 / r.total_calls().max(1) as f64
    );
}

/// Issue 14's apply at scale: `accounts` account grants move into `ous` OU grants with every
/// License Manager operation limited to 10 requests/s, continuity in force. Each delete needs
/// one DeleteGrant, so 10 deletes/s is the limit the sustained rate is measured against.
async fn move_limited(accounts: usize, ous: usize, parallelism: usize) {
    // 1,000 accounts per license: 1,000 account grants and 50 OU grants stay under the 2,000.
    let models = accounts.div_ceil(1_000);
    let (seed, yaml) = move_world_of(accounts, accounts.div_ceil(ous.max(1)), models);
    let mut opts = EmulatorOptions {
        workflow_reads: 0,
        ..EmulatorOptions::default()
    };
    for op in LM_OPERATIONS
        .iter()
        .chain(&["ListReceivedGrantsForOrganization"])
    {
        let limit = RateLimit {
            rate: LIMIT,
            burst: 10,
        };
        opts.rate_limits.insert((*op).to_owned(), limit);
    }
    let emu = start(seed, opts).await;
    let poll = PollPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(5),
    };
    let wait = Some(Duration::from_secs(3_600));
    let r = run_waiting(&emu, &yaml, parallelism, poll, false, wait).await;
    let secs = r.elapsed.as_secs_f64();
    let actions = r.done + r.pending + r.failed;
    println!(
        "move-limited: {accounts} account grants into {ous} OU grants of {models} models, {actions} actions (parallelism {parallelism}, {LIMIT}/s per operation): {secs:.1} s, {} done, {} pending, {} failed",
        r.done, r.pending, r.failed
    );
    let deletes = r.answered("DeleteGrant");
    println!(
        "  DeleteGrant: {deletes} answered = {:.2}/s = {:.0}% of the {LIMIT}/s limit over the run; sustained {:.2} actions/s (p10-p90 of completions)",
        deletes as f64 / secs,
        100.0 * deletes as f64 / secs / LIMIT,
        r.sustained()
    );
    let per_op: Vec<String> = r.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!(
        "  {} calls = {:.2} per action: {}",
        r.total_calls(),
        r.total_calls() as f64 / actions.max(1) as f64,
        per_op.join(", ")
    );
    println!(
        "  throttled attempts: {}; errors: {:?}",
        r.throttled(),
        r.errors
    );
}

async fn accept(accounts: usize, parallelism: usize) {
    let opts = EmulatorOptions {
        latency: LATENCY,
        ..EmulatorOptions::default()
    };
    let emu = start(seed(accounts, true), opts).await;
    let poll = PollPolicy {
        initial: LATENCY,
        max: Duration::from_millis(200),
    };
    let r = run(&emu, &desired(accounts, 1, true), parallelism, poll, true).await;
    report_against_bound("accept", &r, parallelism, 2.0);
}

fn report_against_bound(name: &str, r: &Run, parallelism: usize, factor: f64) {
    let calls = r.total_calls();
    let bound = LATENCY.as_secs_f64() * calls as f64 / parallelism as f64;
    let secs = r.elapsed.as_secs_f64();
    println!(
        "{name}: {} actions, parallelism {parallelism}, {} ms per call: {:.2} s, {} done, {} pending, {} failed",
        r.done + r.pending + r.failed,
        LATENCY.as_millis(),
        secs,
        r.done,
        r.pending,
        r.failed
    );
    println!(
        "  {calls} calls; calls / parallelism x latency = {bound:.2} s; ratio {:.2} (target <= {factor})",
        secs / bound
    );
    let per_op: Vec<String> = r.calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    println!("  calls: {}", per_op.join(", "));
    if !r.errors.is_empty() {
        println!("  errors: {:?}", r.errors);
    }
}

async fn start(seed: Seed, opts: EmulatorOptions) -> EmulatorHandle {
    emulator::start(seed, opts, "127.0.0.1:0".parse().expect("an address"))
        .await
        .expect("the emulator starts")
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let scenario = arg("--scenario");
    let actions: usize = arg("--actions")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000);
    let parallelism: usize = arg("--parallelism")
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let wants = |s: &str| scenario.as_deref().is_none_or(|x| x == s);
    if wants("latency") {
        latency(actions, parallelism).await;
    }
    if wants("accept") {
        accept(500, parallelism).await;
    }
    if wants("move") {
        move_into_ous(actions / 2, parallelism).await;
    }
    // Not part of the default run: it takes over 17 minutes (10,000 deletes at 10/s).
    if scenario.as_deref() == Some("move-limited") {
        let n =
            |name: &str, default: usize| arg(name).and_then(|s| s.parse().ok()).unwrap_or(default);
        move_limited(
            n("--accounts", 10_000),
            n("--ous", 500),
            n("--parallelism", 16),
        )
        .await;
    }
    if wants("rate-limited") {
        rate_limited(
            actions,
            arg("--parallelism")
                .and_then(|s| s.parse().ok())
                .unwrap_or(8),
        )
        .await;
    }
}
