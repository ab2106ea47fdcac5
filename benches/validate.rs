//! How long `config::parse` (YAML reading plus every check of `validate`) takes on a large file:
//! 5,000 models with 50,000 account references in all.
//!
//! Run: `cargo bench --bench validate`. Prints the median of several runs; the figure goes in
//! docs/benchmarks.md. A bench binary without a harness: no timed assertions, no extra crates.

use std::fmt::Write;
use std::time::{Duration, Instant};

use bedrock_entitlements::config;

const MODELS: usize = 5_000;
const ACCOUNTS_PER_MODEL: usize = 10;
const RUNS: usize = 9;

/// A valid desired-state file: every model has its own SKU, ten accounts (quoted and unquoted
/// ids, and names), and every fifth model an OU target and an exception.
fn generate() -> String {
    let mut s = String::from(
        "# yaml-language-server: $schema=entitlements.schema.json\nversion: 1\nsettings:\n  max_deletes: 100\nmodels:\n",
    );
    for m in 0..MODELS {
        let _ = writeln!(s, "  model-{m:05}:");
        let _ = writeln!(s, "    product_sku: prod-{m:013}");
        s.push_str("    grant_to:\n");
        if m % 5 == 0 {
            let _ = writeln!(
                s,
                "      organizational_units: [ou-ab12-{m:08}, Root/Workloads/ML]"
            );
        }
        s.push_str("      accounts:\n");
        for a in 0..ACCOUNTS_PER_MODEL {
            let id = 100_000_000_000 + (m * ACCOUNTS_PER_MODEL + a) as u64;
            match a % 3 {
                0 => {
                    let _ = writeln!(s, "        - \"{id}\"");
                }
                1 => {
                    let _ = writeln!(s, "        - {id}");
                }
                _ => {
                    let _ = writeln!(s, "        - account-{id}");
                }
            }
        }
        if m % 5 == 0 {
            s.push_str("    except_accounts: [\"999999999999\"]\n");
        }
    }
    s
}

/// One model granted to 50,000 accounts: per-model checks must not be quadratic.
fn generate_one_big_model() -> String {
    let mut s = String::from(
        "version: 1\nmodels:\n  big:\n    product_sku: prod-big\n    grant_to:\n      accounts:\n",
    );
    for a in 0..MODELS * ACCOUNTS_PER_MODEL {
        let _ = writeln!(s, "        - \"{}\"", 100_000_000_000_u64 + a as u64);
    }
    s.push_str("    except_accounts:\n");
    for a in 0..1000_u64 {
        let _ = writeln!(s, "      - \"{}\"", 900_000_000_000 + a);
    }
    s
}

/// Parses `source` RUNS times; returns the sorted times and the parsed config.
fn time(source: &str) -> (Vec<Duration>, config::Config) {
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let parsed = config::parse(source);
        times.push(start.elapsed());
        match parsed {
            Ok(c) => last = Some(c),
            Err(d) => {
                for d in d.iter().take(5) {
                    eprintln!("{}", d.display("generated.yaml"));
                }
                std::process::exit(1);
            }
        }
    }
    times.sort();
    (times, last.expect("RUNS > 0"))
}

fn report(what: &str, source: &str, times: &[Duration]) {
    println!(
        "validate: {what}, {:.1} MiB: median {:.1} ms (min {:.1} ms, max {:.1} ms, {RUNS} runs)",
        source.len() as f64 / (1024.0 * 1024.0),
        times[RUNS / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[RUNS - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    let source = generate();
    let (times, config) = time(&source);
    assert_eq!(config.models.len(), MODELS);
    let references: usize = config
        .models
        .iter()
        .map(|m| m.grant_to.accounts.len())
        .sum();
    report(
        &format!("{MODELS} models, {references} account references"),
        &source,
        &times,
    );

    let source = generate_one_big_model();
    let (times, config) = time(&source);
    let references = config.models[0].grant_to.accounts.len();
    report(
        &format!("1 model, {references} account references"),
        &source,
        &times,
    );
}
