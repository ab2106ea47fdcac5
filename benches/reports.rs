//! `access`, `drift` and `import` at scale: by default 10,000 accounts in 500 OUs, 30 models,
//! 60,000 live grants (every 200th of them DISABLED, and the file leaves every 200th account
//! line out, so that drift has items to classify: `--drift-every N`). The live state is read once from
//! the emulator (a child process, as in the `plan` benchmark); then each command's work after
//! the read (the pure report and every output format) is timed in CPU time of this process,
//! and the tool's peak memory is reported after each.
//!
//! Run: `cargo bench --bench reports [-- --accounts N --ous N --models N --grants N]`

#[path = "common/child.rs"]
mod child;
#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/world.rs"]
mod world;

use std::time::{Duration, Instant};

use bedrock_entitlements::audit::{self, AccessView as _, DriftInput, ImportOptions};
use bedrock_entitlements::cli::{Context, Planned};
use bedrock_entitlements::config::Config;
use bedrock_entitlements::render;
use bedrock_entitlements::render::access::AccessOptions;
use clap::Parser;

use child::ChildEmulator;
use world::{Sizes, peak_rss_mb};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    #[arg(long, default_value_t = 500)]
    ous: usize,
    #[arg(long, default_value_t = 30)]
    models: usize,
    #[arg(long, default_value_t = 60_000)]
    grants: usize,
    /// Every N-th live grant DISABLED and every N-th account line left out of the file.
    #[arg(long, default_value_t = 200)]
    drift_every: usize,
    #[arg(long = "serve-emulator")]
    serve_emulator: Option<String>,
    #[arg(long, hide = true)]
    bench: bool,
}

/// User + system CPU time of this process so far (`/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Runs `work`, printing its CPU and wall time and the tool's peak memory afterwards.
/// The bytes a streamed renderer writes, counted as they go (nothing is kept), as `access`
/// writes them to stdout.
fn streamed(write: impl FnOnce(&mut Counted) -> std::io::Result<()>) -> usize {
    let mut out = Counted(0);
    write(&mut out).expect("counting never fails");
    out.0
}

struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn measure<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let (cpu, wall) = (cpu_time(), Instant::now());
    let out = work();
    println!(
        "  {label}: {:.2} s CPU, {:.2} s wall; peak memory so far {:.0} MB",
        (cpu_time() - cpu).as_secs_f64(),
        wall.elapsed().as_secs_f64(),
        peak_rss_mb("self")
    );
    out
}

/// The generated world with drift: every `every`-th grant DISABLED, every `every`-th account
/// line left out of the file.
fn drifted(w: &world::World, every: usize) -> (String, String) {
    let mut n = 0;
    let seed = w
        .seed
        .lines()
        .map(|l| {
            if l.contains("status: ACTIVE") {
                n += 1;
                if n % every == 0 {
                    return l.replace("status: ACTIVE", "status: DISABLED");
                }
            }
            l.to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut m = 0;
    let config = w
        .config
        .lines()
        .filter(|l| {
            if l.starts_with("        - \"") {
                m += 1;
                return m % every != 3 % every;
            }
            true
        })
        .collect::<Vec<_>>()
        .join("\n");
    (seed, config)
}

async fn read(args: &Args) -> (ChildEmulator, Context, Config, Planned, std::path::PathBuf) {
    let w = world::world(Sizes {
        accounts: args.accounts,
        ous: args.ous,
        models: args.models,
        grants: args.grants,
    });
    let (seed, config_text) = drifted(&w, args.drift_every.max(1));
    drop(w);
    let dir = std::env::temp_dir().join(format!("be-bench-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("seed.yaml"), seed).unwrap();
    std::fs::write(dir.join("entitlements.yaml"), config_text).unwrap();
    let emu = ChildEmulator::spawn(&dir.join("seed.yaml"));
    let session = emu.session().await;
    let ctx = fixtures::context(dir.join("entitlements.yaml"));
    let config = ctx.load_config().expect("config");
    let start = Instant::now();
    let planned = ctx.plan(&session, &config, None).await.expect("plan");
    println!(
        "live read + plan: {:.2} s wall ({} accounts, {} live grants, {} actions); tool peak memory {:.0} MB, emulator {:.0} MB",
        start.elapsed().as_secs_f64(),
        planned.live.organization.accounts.len(),
        planned.live.grants.len(),
        planned.plan.actions.len(),
        peak_rss_mb("self"),
        peak_rss_mb(&emu.pid())
    );
    (emu, ctx, config, planned, dir)
}

fn access(planned: &Planned, prefix: &str) {
    println!("access:");
    let a = measure("columns and indexes (audit::Access::new)", || {
        audit::Access::new(&planned.live, Some(&planned.desired), prefix)
    });
    println!(
        "    {} accounts x {} models",
        a.row_count(),
        a.models().len()
    );
    let opts = AccessOptions { explain: false };
    // CSV and JSON make each row as they write it, as `access` does; the other views hold
    // every row (`into_matrix`).
    let csv = measure("csv (rows made as written)", || {
        streamed(|w| render::access::write_csv(&a, w))
    });
    let json = measure("json (rows made as written)", || {
        streamed(|w| render::access::write_json(&a, w))
    });
    let m = measure("every row held (Access::into_matrix)", || a.into_matrix());
    let sizes = [
        ("csv", csv),
        ("json", json),
        (
            "text",
            measure("text", || {
                streamed(|w| render::access::write_text(&m, opts, w))
            }),
        ),
        (
            "markdown",
            measure("markdown", || render::access::markdown(&m, opts).len()),
        ),
        (
            "html",
            measure("html", || streamed(|w| render::html::write_html(&m, w))),
        ),
    ];
    print_sizes(&sizes);
}

fn drift(planned: &Planned, config: &Config) {
    println!("drift:");
    let report = measure("classify (audit::classify)", || {
        audit::classify(&DriftInput {
            config,
            desired: &planned.desired,
            live: &planned.live,
            plan: &planned.plan,
            baseline: None,
            now: Some(1_800_000_000),
        })
    });
    println!("    {} items", report.items.len());
    let sizes = [
        (
            "json",
            measure("json", || render::drift::json(&report).len()),
        ),
        (
            "text",
            measure("text", || render::drift::text(&report).len()),
        ),
        (
            "markdown",
            measure("markdown", || render::drift::markdown(&report).len()),
        ),
    ];
    print_sizes(&sizes);
}

fn import(planned: &Planned, prefix: &str) {
    println!("import:");
    let opts = ImportOptions {
        prefix: prefix.to_owned(),
        include_unmanaged: false,
        adopt: false,
    };
    let yaml = measure("audit::import + to_yaml", || {
        let imported = audit::import(&planned.live, &opts);
        bedrock_entitlements::config::to_yaml(&imported.config)
    });
    print_sizes(&[("yaml", yaml.len())]);
}

fn print_sizes(sizes: &[(&str, usize)]) {
    let parts: Vec<String> = sizes
        .iter()
        .map(|(f, n)| format!("{f} {:.1} MB", *n as f64 / 1e6))
        .collect();
    println!("    output sizes: {}", parts.join(", "));
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Some(seed) = &args.serve_emulator {
        child::serve(seed).await;
        return;
    }
    let (emu, _ctx, config, planned, dir) = read(&args).await;
    let prefix = config.settings.grant_name_prefix.clone();
    let total = cpu_time();
    access(&planned, &prefix);
    drift(&planned, &config);
    import(&planned, &prefix);
    println!(
        "all three after the read: {:.2} s CPU; tool peak memory {:.0} MB",
        (cpu_time() - total).as_secs_f64(),
        peak_rss_mb("self")
    );
    drop(emu);
    let _ = std::fs::remove_dir_all(dir);
}
