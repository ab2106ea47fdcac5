//! `plan` at scale: 2,000 accounts in 100 OUs, 20 models, 20,000 live grants, every call to the
//! emulator delayed by 20 ms. Counts the AWS calls against the minimum the APIs allow, compares
//! the wall time with that minimum's critical path, and reports peak memory (VmHWM of this
//! process, which also holds the emulator and its state, so it is an upper bound).
//!
//! Run: `cargo bench --bench plan`

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bedrock_entitlements::aws::{self, ConnectOptions};
use bedrock_entitlements::cli::{Context, GlobalArgs, LogFormat, Session};
use bedrock_entitlements::emulator::{self, EmulatorOptions, Seed};
use bedrock_entitlements::plan;

/// The binary's allocator (see src/main.rs), so the benchmark measures what ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOP_OUS: usize = 10;
const CHILD_OUS: usize = 9; // per top-level OU: 10 + 90 = 100 OUs
const ACCOUNTS_PER_OU: usize = 20;
const MODELS: usize = 20;
const GRANTS_PER_MODEL: usize = 1_000;
const LATENCY: Duration = Duration::from_millis(20);
const MGMT: &str = "100000000000";
/// Timed runs of each measurement; the median is reported (this VM's speed drifts).
const RUNS: usize = 5;

fn account_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000usize + i)
}

/// Real license ids are 32 random-looking hex digits; so are these (a fixed mix of `m`).
fn license_arn(m: usize) -> String {
    let id = (m as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    format!("arn:aws:license-manager::294406891311:license:l-{id:032x}")
}

/// (seed, desired-state file, number of OUs, number of accounts)
fn world() -> (String, String, usize, usize) {
    let mut seed = String::new();
    let mut ous = Vec::new();
    for t in 0..TOP_OUS {
        let top = format!("ou-root-top{t:05}");
        ous.push((top.clone(), "r-root".to_owned()));
        for c in 0..CHILD_OUS {
            ous.push((format!("ou-root-c{t:02}x{c:04}"), top.clone()));
        }
    }
    writeln!(seed, "default_caller: \"{MGMT}\"").unwrap();
    writeln!(seed, "organization:\n  id: o-benchmark01\n  feature_set: ALL\n  management_account: \"{MGMT}\"\n  root: r-root\n  trusted_access: true").unwrap();
    writeln!(seed, "  organizational_units:").unwrap();
    for (i, (id, parent)) in ous.iter().enumerate() {
        writeln!(seed, "    - {{ id: {id}, name: ou{i}, parent: {parent} }}").unwrap();
    }
    writeln!(
        seed,
        "  accounts:\n    - {{ id: \"{MGMT}\", name: management, parent: r-root }}"
    )
    .unwrap();
    let mut accounts = 0;
    for (id, _) in &ous {
        for _ in 0..ACCOUNTS_PER_OU {
            writeln!(
                seed,
                "    - {{ id: \"{}\", name: a{accounts}, parent: {id} }}",
                account_id(accounts)
            )
            .unwrap();
            accounts += 1;
        }
    }
    writeln!(seed, "licenses:").unwrap();
    for m in 0..MODELS {
        writeln!(
            seed,
            "  - arn: {}\n    product_name: Model {m}\n    product_sku: prod-bench{m:04}",
            license_arn(m)
        )
        .unwrap();
    }
    writeln!(seed, "grants:").unwrap();
    let mut config = String::from("version: 1\nmodels:\n");
    for m in 0..MODELS {
        writeln!(
            config,
            "  model-{m}:\n    product_sku: prod-bench{m:04}\n    grant_to:\n      accounts:"
        )
        .unwrap();
        for g in 0..GRANTS_PER_MODEL {
            // Each model grants a different half of the organization.
            let a = account_id((g * 2 + m % 2 + m * 7) % accounts);
            writeln!(config, "        - \"{a}\"").unwrap();
            writeln!(
                seed,
                "  - {{ name: bedrock-entitlements-model-{m}-{a}, license_arn: {}, principal: \"arn:aws:iam::{a}:root\", status: ACTIVE }}",
                license_arn(m)
            )
            .unwrap();
        }
    }
    (seed, config, ous.len(), accounts)
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let (seed_text, config_text, ous, accounts) = world();
    let dir = tempfile_dir();
    let config_path = dir.join("entitlements.yaml");
    std::fs::write(&config_path, &config_text).unwrap();

    let seed = Seed::from_yaml(&seed_text).expect("seed");
    let opts = EmulatorOptions {
        latency: LATENCY,
        ..EmulatorOptions::default()
    };
    let emu = emulator::start(seed, opts, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("emulator");
    let clients = aws::connect(ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDBENCH".to_owned(), "bench".to_owned())),
        ..ConnectOptions::default()
    })
    .await;
    let session = Session::from_clients(clients);
    let ctx = Context::new(GlobalArgs {
        config: config_path,
        profile: None,
        role_arn: None,
        sandbox: None,
        no_color: true,
        log_format: LogFormat::Text,
    });
    let config = ctx.load_config().expect("config");
    let peak_before = peak_rss_mb();

    let mut walls = Vec::new();
    let mut counts = Default::default();
    let mut last = None;
    for run in 0..RUNS {
        emu.state().reset_counts();
        let start = Instant::now();
        let planned = ctx.plan(&session, &config, None).await.expect("plan");
        walls.push(start.elapsed());
        counts = emu.state().call_counts();
        if run == 0 {
            println!(
                "plan: {} actions over {} live grants",
                planned.plan.actions.len(),
                planned.live.grants.len()
            );
        }
        if run == RUNS - 1 {
            last = Some(planned);
        }
    }
    walls.sort();
    let median = walls[walls.len() / 2];

    // The minimum the APIs allow: one DescribeOrganization, one ListRoots, for each parent
    // (root + OUs) one ListOrganizationalUnitsForParent and ceil(accounts/20) (at least one)
    // ListAccountsForParent, one ListReceivedLicenses, ceil(grants/100) ListDistributedGrants
    // per license, and one GetCallerIdentity (beside the rest). The world holds account grants
    // only, so no ListReceivedGrantsForOrganization stream is needed (one per license with a
    // live organization or OU grant, ceil(shares/100) pages, after that license's grants).
    let parents = ous + 1;
    let account_pages = ous * ACCOUNTS_PER_OU.div_ceil(20) + 1; // the root holds the management account
    let grant_pages = MODELS * GRANTS_PER_MODEL.div_ceil(100);
    let minimum = 1 + 1 + parents + account_pages + 1 + grant_pages + 1;
    let made: u64 = counts.values().sum();
    // Critical path of that minimum: ListReceivedLicenses then one license's pages, one after
    // the other (the tree walk, 4 levels deep, runs beside it).
    let critical = LATENCY * (1 + GRANTS_PER_MODEL.div_ceil(100)) as u32;

    println!(
        "organization: {accounts} accounts in {ous} OUs; {MODELS} models; {} live grants",
        MODELS * GRANTS_PER_MODEL
    );
    println!(
        "calls made: {made}  (minimum the APIs allow: {minimum}; ratio {:.3})",
        made as f64 / minimum as f64
    );
    for (op, n) in &counts {
        println!("  {op}: {n}");
    }
    println!(
        "wall time: median {:.0} ms of {RUNS} runs, fastest {:.0} ms, slowest {:.0} ms (minimum's critical path {} ms at {} ms per call; ratio {:.2})",
        median.as_secs_f64() * 1000.0,
        walls[0].as_secs_f64() * 1000.0,
        walls[RUNS - 1].as_secs_f64() * 1000.0,
        critical.as_millis(),
        LATENCY.as_millis(),
        median.as_secs_f64() / critical.as_secs_f64()
    );
    println!(
        "peak memory (whole process, emulator included): {:.0} MB; {:.0} MB before the first plan (seed parsed, emulator loaded)",
        peak_rss_mb(),
        peak_before
    );

    // The pure planner alone, on the state the last run read.
    let planned = last.expect("RUNS > 0");
    let mut planner = Vec::new();
    for _ in 0..9 {
        let start = Instant::now();
        let again = plan::plan(&planned.desired, &planned.live);
        planner.push(start.elapsed());
        assert_eq!(again, planned.plan, "the planner is deterministic");
    }
    planner.sort();
    println!(
        "of which the pure planner (plan::plan on the state read): median {:.1} ms of 9 runs",
        planner[4].as_secs_f64() * 1000.0
    );

    // The CPU floor: the same plan with no latency at all is bound by the CPU the tool and the
    // emulator (serving 20,000 grants as JSON) share on this machine.
    emu.state().update_options(|o| o.latency = Duration::ZERO);
    let mut floor = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        ctx.plan(&session, &config, None).await.expect("plan");
        floor.push(start.elapsed());
    }
    floor.sort();
    println!(
        "same plan with 0 ms latency (CPU floor, tool and emulator on the same 2 cores): median {:.0} ms",
        floor[RUNS / 2].as_secs_f64() * 1000.0
    );
    emu.shutdown().await;
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("be-bench-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
