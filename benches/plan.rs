//! `plan` at scale: by default 2,000 accounts in 100 OUs, 20 models, 20,000 live grants, every
//! call to the emulator delayed by 20 ms. Counts the AWS calls against the minimum the APIs
//! allow, compares the wall time with that minimum's critical path, reports peak memory of the
//! tool (this process) and of the emulator (a child process: this binary started with
//! `--serve-emulator`, so that the figures are apart), and the cost of the per-grant refresh a
//! Terraform user gets (one GetGrant per grant at parallelism 10) from the same emulator.
//!
//! Run: `cargo bench --bench plan [-- --accounts N --ous N --models N --grants N]
//! [--runs N] [--latency-ms L] [--org-rate-limit R]`. With `--org-rate-limit R`, one more plan
//! runs with every Organizations operation limited to R requests/s (a token bucket of its own,
//! burst R) and reports how much of the limit the tree walk used and whether any call failed.

#[path = "common/child.rs"]
mod child;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/world.rs"]
mod world;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bedrock_entitlements::aws::LicenseManagerApi;
use bedrock_entitlements::cli::{Context, Planned, Session};
use bedrock_entitlements::emulator::{EmulatorOptions, RateLimit};
use bedrock_entitlements::model::GrantArn;
use bedrock_entitlements::plan;
use clap::Parser;

use child::ChildEmulator;
use world::{Sizes, World, peak_rss_mb};

/// The binary's allocator (see src/main.rs), so the benchmark measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Terraform refreshes each `aws_licensemanager_grant` with one GetGrant, 10 at a time
/// (`terraform plan -parallelism=10`, its default).
const TERRAFORM_PARALLELISM: usize = 10;
/// GetGrant calls measured to check the computed Terraform figure.
const TERRAFORM_SAMPLE: usize = 1_000;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 2_000)]
    accounts: usize,
    #[arg(long, default_value_t = 100)]
    ous: usize,
    #[arg(long, default_value_t = 20)]
    models: usize,
    #[arg(long, default_value_t = 20_000)]
    grants: usize,
    /// Timed runs (median reported); default 5, 1 above 5,000 accounts.
    #[arg(long)]
    runs: Option<usize>,
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
    /// Requests per second allowed to each Organizations operation in an extra run.
    #[arg(long)]
    org_rate_limit: Option<f64>,
    /// Run the emulator for the parent process (internal).
    #[arg(long = "serve-emulator")]
    serve_emulator: Option<String>,
    /// Passed by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The minimum the APIs allow and its critical path, in calls.
struct Minimum {
    calls: usize,
    critical_calls: usize,
}

/// One DescribeOrganization, one ListRoots, for each parent (root + OUs) ceil(child OUs/20)
/// (at least one) ListOrganizationalUnitsForParent and ceil(accounts/20) (at least one) ListAccountsForParent,
/// one ListReceivedLicenses, ceil(grants/100) (at least one) ListDistributedGrants per license,
/// and one GetCallerIdentity. The world holds account grants only, so no
/// ListReceivedGrantsForOrganization stream is needed. Critical path: ListReceivedLicenses then
/// the longest license's pages one after the other, or the tree walk (ListRoots, then one OU
/// listing per level, then the deepest OU's account listing: 4 calls), whichever is longer.
fn minimum(w: &World) -> Minimum {
    let account_pages: usize = w
        .per_ou
        .iter()
        .map(|n| n.div_ceil(20).max(1))
        .sum::<usize>()
        + 1;
    let pages = |n: &usize| n.div_ceil(100).max(1);
    let grant_pages: usize = w.per_model.iter().map(pages).sum();
    let longest = w.per_model.iter().map(pages).max().unwrap_or(1);
    Minimum {
        calls: 2 + w.ou_pages + account_pages + 1 + grant_pages + 1,
        critical_calls: (1 + longest).max(4),
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(seed) = &args.serve_emulator {
        child::serve(seed).await;
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let sizes = Sizes {
        accounts: args.accounts,
        ous: args.ous,
        models: args.models,
        grants: args.grants,
    };
    let runs = args
        .runs
        .unwrap_or(if args.accounts > 5_000 { 1 } else { 5 })
        .max(1);
    let latency = Duration::from_millis(args.latency_ms);
    let mut bench = Bench::start(sizes, latency).await;
    let planned = bench.timed_runs(runs).await;
    bench.terraform(&planned).await;
    bench.pure_planner(&planned, if runs == 1 { 3 } else { 9 });
    bench.cpu_floor(runs).await;
    if let Some(rate) = args.org_rate_limit {
        bench.rate_limited(rate).await;
    }
}

struct Bench {
    world: World,
    emu: ChildEmulator,
    latency: Duration,
    ctx: Context,
    session: Session,
    config: bedrock_entitlements::config::Config,
    dir: std::path::PathBuf,
    /// Calls the last timed plan made.
    tool_calls: u64,
}

impl Bench {
    async fn start(sizes: Sizes, latency: Duration) -> Bench {
        let mut world = world::world(sizes);
        let dir = std::env::temp_dir().join(format!("be-bench-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config_path = dir.join("entitlements.yaml");
        std::fs::write(&config_path, &world.config).unwrap();
        std::fs::write(dir.join("seed.yaml"), &world.seed).unwrap();
        // The texts live in files now; the tool's memory is what it reads back.
        world.seed = String::new();
        world.config = String::new();
        let mut emu = ChildEmulator::spawn(&dir.join("seed.yaml"));
        emu.set_options(&EmulatorOptions {
            latency,
            ..EmulatorOptions::default()
        });
        let session = emu.session().await;
        let ctx = fixtures::context(config_path);
        let config = ctx.load_config().expect("config");
        Bench {
            world,
            emu,
            latency,
            ctx,
            session,
            config,
            dir,
            tool_calls: 0,
        }
    }

    async fn plan(&self) -> Planned {
        self.ctx
            .plan(&self.session, &self.config, None)
            .await
            .expect("plan")
    }

    async fn timed_runs(&mut self, runs: usize) -> Planned {
        let peak_before = peak_rss_mb("self");
        let mut walls = Vec::new();
        let mut last = None;
        let mut counts = child::Counts::default();
        let mut cpu = [0.0; 2];
        for _ in 0..runs {
            // The previous run's state goes before the next is read: the peak is one plan's.
            drop(last.take());
            self.emu.reset_counts();
            let before = [cpu_seconds("self"), cpu_seconds(&self.emu.pid())];
            let start = Instant::now();
            let planned = self.plan().await;
            walls.push(start.elapsed());
            cpu[0] += cpu_seconds("self") - before[0];
            cpu[1] += cpu_seconds(&self.emu.pid()) - before[1];
            counts = self.emu.counts();
            last = Some(planned);
        }
        let planned = last.expect("runs > 0");
        self.tool_calls = counts.calls.values().sum();
        walls.sort();
        self.report_run(&planned, &counts, &walls);
        let total: f64 = walls.iter().map(Duration::as_secs_f64).sum();
        println!(
            "CPU per run (mean): tool {:.0} ms, emulator {:.0} ms; the 2 cores offer {:.0} ms in a run's mean wall time",
            1000.0 * cpu[0] / runs as f64,
            1000.0 * cpu[1] / runs as f64,
            2000.0 * total / runs as f64
        );
        println!(
            "peak memory: tool (this process) {:.0} MB, {:.0} MB before the first plan (file parsed, clients made); emulator (child process, {} grants held) {:.0} MB",
            peak_rss_mb("self"),
            peak_before,
            planned.live.grants.len(),
            peak_rss_mb(&self.emu.pid())
        );
        planned
    }

    fn report_run(&self, planned: &Planned, counts: &child::Counts, walls: &[Duration]) {
        let min = minimum(&self.world);
        let made: u64 = counts.calls.values().sum();
        let runs = walls.len();
        println!(
            "plan: {} actions over {} live grants",
            planned.plan.actions.len(),
            planned.live.grants.len()
        );
        println!(
            "organization: {} accounts in {} OUs; {} models; {} live grants",
            self.world.per_ou.iter().sum::<usize>(),
            self.world.per_ou.len(),
            self.world.per_model.len(),
            self.world.per_model.iter().sum::<usize>()
        );
        println!(
            "calls made: {made}  (minimum the APIs allow: {}; ratio {:.3})",
            min.calls,
            made as f64 / min.calls as f64
        );
        for (op, n) in &counts.calls {
            println!("  {op}: {n}");
        }
        let critical = self.latency * min.critical_calls as u32;
        let median = walls[runs / 2];
        println!(
            "wall time: median {:.0} ms of {runs} runs, fastest {:.0} ms, slowest {:.0} ms (minimum's critical path {} ms at {} ms per call; ratio {:.2})",
            ms(median),
            ms(walls[0]),
            ms(walls[runs - 1]),
            critical.as_millis(),
            self.latency.as_millis(),
            median.as_secs_f64() / critical.as_secs_f64()
        );
    }

    /// The per-grant refresh: one GetGrant per live grant at parallelism 10. Computed as
    /// ceil(grants / 10) x latency, and checked by timing the first 1,000 grants' GetGrants.
    async fn terraform(&mut self, planned: &Planned) {
        let grants = planned.live.grants.len();
        let tool_calls = self.tool_calls;
        let computed = self.latency * grants.div_ceil(TERRAFORM_PARALLELISM) as u32;
        let sample: Vec<GrantArn> = planned
            .live
            .grants
            .iter()
            .take(TERRAFORM_SAMPLE)
            .map(|g| g.arn.clone())
            .collect();
        self.emu.reset_counts();
        let start = Instant::now();
        get_grants(&self.session, sample.clone()).await;
        let took = start.elapsed();
        let sample_calls: u64 = self.emu.counts().calls.values().sum();
        assert_eq!(sample_calls, sample.len() as u64, "one GetGrant per grant");
        let measured = took.mul_f64(grants as f64 / sample.len().max(1) as f64);
        println!(
            "Terraform-style refresh (one GetGrant per grant, parallelism {TERRAFORM_PARALLELISM}): {grants} calls, {:.1} s computed (ceil({grants}/{TERRAFORM_PARALLELISM}) x {} ms), {:.1} s measured ({} GetGrants in {:.2} s, scaled); plan makes {:.1}x fewer calls ({tool_calls})",
            computed.as_secs_f64(),
            self.latency.as_millis(),
            measured.as_secs_f64(),
            sample.len(),
            took.as_secs_f64(),
            grants as f64 / tool_calls as f64
        );
    }

    /// The pure planner alone, on the state the last run read.
    fn pure_planner(&self, planned: &Planned, runs: usize) {
        let mut planner = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let again = plan::plan(&planned.desired, &planned.live);
            planner.push(start.elapsed());
            assert_eq!(again, planned.plan, "the planner is deterministic");
        }
        planner.sort();
        println!(
            "of which the pure planner (plan::plan on the state read): median {:.1} ms of {runs} runs",
            ms(planner[runs / 2])
        );
    }

    /// The CPU floor: the same plan with no latency at all is bound by the CPU the tool and the
    /// emulator (serving every grant as JSON) share on this machine.
    async fn cpu_floor(&mut self, runs: usize) {
        self.emu.set_options(&EmulatorOptions::default());
        let mut floor = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            self.plan().await;
            floor.push(start.elapsed());
        }
        floor.sort();
        println!(
            "same plan with 0 ms latency (CPU floor, tool and emulator on the same 2 cores): median {:.0} ms",
            ms(floor[runs / 2])
        );
    }

    /// One plan with every Organizations operation limited to `rate` requests/s.
    async fn rate_limited(&mut self, rate: f64) {
        let burst = rate.ceil().max(1.0) as u32;
        self.emu.set_options(&EmulatorOptions {
            latency: self.latency,
            organizations_rate_limit: Some(RateLimit { rate, burst }),
            ..EmulatorOptions::default()
        });
        self.emu.reset_counts();
        let start = Instant::now();
        let result = self.ctx.plan(&self.session, &self.config, None).await;
        let wall = start.elapsed();
        let counts = self.emu.counts();
        let failed = match &result {
            Ok(_) => "0 failed calls (plan succeeded)".to_owned(),
            Err(e) => format!("plan FAILED: {e}"),
        };
        println!(
            "with Organizations limited to {rate}/s per operation (burst {burst}): wall {:.1} s, {failed}",
            wall.as_secs_f64()
        );
        for op in ["ListOrganizationalUnitsForParent", "ListAccountsForParent"] {
            report_limited_op(&counts, op, rate, burst, wall);
        }
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Answered calls of `op` against what the limit allows over the plan's wall time.
fn report_limited_op(counts: &child::Counts, op: &str, rate: f64, burst: u32, wall: Duration) {
    let calls = counts.calls.get(op).copied().unwrap_or(0);
    let errors: BTreeMap<&str, u64> = counts
        .errors
        .get(op)
        .map(|e| e.iter().map(|(k, v)| (k.as_str(), *v)).collect())
        .unwrap_or_default();
    let throttled = errors.get("TooManyRequestsException").copied().unwrap_or(0);
    let answered = calls - errors.values().sum::<u64>();
    let allowed = f64::from(burst) + rate * wall.as_secs_f64();
    println!(
        "  {op}: {answered} answered, {throttled} throttled attempts, {:.2}/s answered = {:.0}% of what the limit allows in that time (burst + rate x wall = {allowed:.0})",
        answered as f64 / wall.as_secs_f64(),
        100.0 * answered as f64 / allowed
    );
}

/// One GetGrant per ARN, `TERRAFORM_PARALLELISM` at a time.
async fn get_grants(session: &Session, arns: Vec<GrantArn>) {
    let queue = Arc::new(std::sync::Mutex::new(arns));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..TERRAFORM_PARALLELISM {
        let queue = Arc::clone(&queue);
        let lm = Arc::clone(&session.lm);
        workers.spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(arn) = next else { break };
                lm.get_grant(&arn).await.expect("GetGrant");
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("worker");
    }
}

/// The CPU time (user + system) process `pid` (or `self`) has used: /proc/PID/stat's utime and
/// stime, in the kernel's USER_HZ ticks of 10 ms.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name in parentheses: state is the first, utime the 12th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let ticks: f64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
