//! Accepting and activating grants in member accounts at scale: a consolidated-billing
//! organization with 500 member accounts, each holding one grant waiting for acceptance
//! (PENDING_ACCEPT), every call to the emulator delayed by 20 ms. The plan is 500 `accept`
//! actions; the real executor carries them out through `RoleRecipients`, which assumes
//! `OrganizationAccountAccessRole` in each account through STS (aws-config's
//! `AssumeRoleProvider`), then AcceptGrant and CreateGrantVersion(ACTIVE) as that account.
//!
//! Reported per parallelism: the calls made, the wall time, and the bound
//! `calls / parallelism × latency` (what `parallelism` calls in flight at all times would take);
//! the target is a wall time within 2x of the bound.
//!
//! Run: `cargo bench --bench accept` (options: `-- --accounts N --parallelism P[,P...]
//! --latency-ms L`).

#[path = "common/fixtures.rs"]
mod fixtures;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_entitlements::apply::{
    self, AdaptiveLimits, ApplyOptions, NoProgress, PollPolicy, RoleRecipients,
};
use bedrock_entitlements::aws::{self, ConnectOptions};
use bedrock_entitlements::cli::Session;
use bedrock_entitlements::config;
use bedrock_entitlements::emulator::{self, EmulatorOptions, Seed};
use bedrock_entitlements::plan::ActionKind;

const MGMT: &str = "100000000000";
const ROLE: &str = "OrganizationAccountAccessRole";
const LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-ace00000000000000000000000000001";

struct Args {
    accounts: usize,
    parallelism: Vec<usize>,
    latency: Duration,
}

fn args() -> Args {
    let mut a = Args {
        accounts: 500,
        parallelism: vec![8, 32],
        latency: Duration::from_millis(20),
    };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let value = argv.get(i + 1).map(String::as_str).unwrap_or_default();
        match argv[i].as_str() {
            "--accounts" => a.accounts = value.parse().expect("--accounts N"),
            "--parallelism" => {
                a.parallelism = value
                    .split(',')
                    .map(|p| p.parse().expect("--parallelism P[,P...]"))
                    .collect()
            }
            "--latency-ms" => {
                a.latency = Duration::from_millis(value.parse().expect("--latency-ms L"))
            }
            _ => {} // `--bench` and friends from cargo
        }
        i += 1;
    }
    a
}

fn account_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000usize + i)
}

/// A consolidated-billing organization; every member account holds a managed grant of one
/// license that waits for it to accept (the state a first `apply` without a recipient role
/// leaves).
fn seed(accounts: usize) -> Seed {
    let mut members = Vec::new();
    let mut grants = Vec::new();
    for i in 0..accounts {
        let id = account_id(i);
        grants.push(fixtures::account_grant(&id, LICENSE, "PENDING_ACCEPT"));
        members.push(fixtures::account(id, format!("member-{i}")));
    }
    let text = format!(
        "organization:\n  id: o-acceptbench1\n  feature_set: CONSOLIDATED_BILLING\n  management_account: \"{MGMT}\"\n  root: r-acc1\n  trusted_access: false\n  enabled_services: []\n  accounts:\n    - {{ id: \"{MGMT}\", name: payer }}\nlicenses:\n  - arn: {LICENSE}\n    product_name: Claude 3.5 Sonnet (Amazon Bedrock Edition)\n    product_sku: prod-claude0001\n"
    );
    let mut seed = Seed::from_yaml(&text).expect("the benchmark seed is valid");
    seed.organization.accounts.extend(members);
    seed.grants = grants;
    seed
}

const CONFIG: &str = "version: 1\nsettings:\n  recipient_role: OrganizationAccountAccessRole\nmodels:\n  claude:\n    product_sku: prod-claude0001\n    grant_to:\n      organization: true\n";

struct Figures {
    calls: u64,
    by_op: Vec<(String, u64)>,
    wall: Duration,
}

async fn run(accounts: usize, parallelism: usize, latency: Duration) -> Figures {
    let emu = emulator::start(
        seed(accounts),
        EmulatorOptions::default(),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .await
    .expect("the emulator starts");
    let limits = Arc::new(AdaptiveLimits::new());
    let clients = aws::connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDBENCH".to_owned(), "bench".to_owned())),
        observer: Some(limits.clone()),
        ..ConnectOptions::default()
    })
    .await;
    let session = Session::from_clients(clients);
    let ctx = fixtures::context("entitlements.yaml".into());
    let config = config::parse(CONFIG).expect("the benchmark file is valid");
    let planned = ctx.plan(&session, &config, None).await.expect("plan");
    let plan = planned.plan;
    assert_eq!(plan.actions.len(), accounts, "one accept per account");
    assert!(plan.actions.iter().all(|a| a.kind() == ActionKind::Accept));

    // From here on every call (STS included) takes `latency`.
    emu.state().update_options(|o| o.latency = latency);
    emu.state().reset_counts();
    let recipients = RoleRecipients::new(session.clients.clone(), ROLE);
    let opts = ApplyOptions {
        parallelism,
        poll: PollPolicy::default(),
        limits,
        ..ApplyOptions::default()
    };
    let start = Instant::now();
    let report = apply::execute(
        session.lm.clone(),
        Some(&recipients),
        &plan,
        &opts,
        &NoProgress,
    )
    .await;
    let wall = start.elapsed();
    assert!(
        report.is_success(),
        "the apply failed: {:?}",
        report.counts()
    );
    let counts = emu.state().call_counts();
    emu.state().update_options(|o| o.latency = Duration::ZERO);
    let active = emu
        .state()
        .grants()
        .iter()
        .filter(|g| g.status == "ACTIVE")
        .count();
    assert_eq!(active, accounts, "every grant ends ACTIVE");
    emu.shutdown().await;
    Figures {
        calls: counts.values().sum(),
        by_op: counts.into_iter().collect(),
        wall,
    }
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let a = args();
    println!(
        "accept: {} member accounts, one PENDING_ACCEPT grant each, {} ms per call (STS included)",
        a.accounts,
        a.latency.as_millis()
    );
    for &p in &a.parallelism {
        let f = run(a.accounts, p, a.latency).await;
        let bound = a.latency.mul_f64(f.calls as f64 / p as f64);
        let ops: Vec<String> = f.by_op.iter().map(|(op, n)| format!("{op} {n}")).collect();
        let assumed = f
            .by_op
            .iter()
            .find(|(op, _)| op == "AssumeRole")
            .map_or(0, |(_, n)| *n);
        println!(
            "parallelism {p:>3}: {} calls ({}), wall {:.2} s, bound {} / {p} x {} ms = {:.2} s, ratio {:.2}",
            f.calls,
            ops.join(", "),
            f.wall.as_secs_f64(),
            f.calls,
            a.latency.as_millis(),
            bound.as_secs_f64(),
            f.wall.as_secs_f64() / bound.as_secs_f64()
        );
        // The least the APIs allow: AssumeRole, AcceptGrant and CreateGrantVersion per account.
        println!(
            "                 {:.2} AssumeRole per account; least possible {} calls ({:.2} s at parallelism {p})",
            assumed as f64 / a.accounts as f64,
            3 * a.accounts,
            a.latency.as_secs_f64() * (3 * a.accounts) as f64 / p as f64
        );
    }
}
