#![allow(dead_code)] // each benchmark uses a part

//! The generated organization the `plan` and `reports` benchmarks read: OUs two levels deep
//! under the root (a tenth of them top-level, each with up to nine children), accounts spread
//! evenly over the OUs, one model license per model and account grants spread over the
//! organization (each model a different half of it when there are enough accounts).

use std::fmt::Write as _;

/// The size of the world.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub accounts: usize,
    pub ous: usize,
    pub models: usize,
    pub grants: usize,
}

/// A generated world: the emulator's seed, the desired-state file granting exactly the live
/// grants, and what the minimum of calls to read it depends on.
pub struct World {
    pub seed: String,
    pub config: String,
    /// Accounts per OU, in OU order.
    pub per_ou: Vec<usize>,
    /// Grants per model.
    pub per_model: Vec<usize>,
    /// ListOrganizationalUnitsForParent pages the walk needs: one per 20 child OUs of each
    /// parent (root and OUs), at least one per parent.
    pub ou_pages: usize,
}

pub const MGMT: &str = "100000000000";

pub fn account_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000usize + i)
}

/// Real license ids are 32 random-looking hex digits; so are these (a fixed mix of `m`).
pub fn license_arn(m: usize) -> String {
    let id = (m as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    format!("arn:aws:license-manager::294406891311:license:l-{id:032x}")
}

/// `n` split into `parts` as evenly as possible, the larger shares first.
fn spread(n: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|k| n / parts + usize::from(k < n % parts))
        .collect()
}

/// (OU id, parent id), tops first, each followed by its children.
fn ou_tree(ous: usize) -> Vec<(String, String)> {
    let tops = ous.div_ceil(10);
    let mut children = spread(ous - tops, tops).into_iter();
    let mut out = Vec::with_capacity(ous);
    for t in 0..tops {
        let top = format!("ou-root-top{t:05}");
        out.push((top.clone(), "r-root".to_owned()));
        for c in 0..children.next().unwrap_or(0) {
            out.push((format!("ou-root-c{t:02}x{c:04}"), top.clone()));
        }
    }
    out
}

fn organization(seed: &mut String, ous: &[(String, String)], per_ou: &[usize]) {
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
    let mut a = 0;
    for ((id, _), n) in ous.iter().zip(per_ou) {
        for _ in 0..*n {
            let account = account_id(a);
            writeln!(
                seed,
                "    - {{ id: \"{account}\", name: a{a}, parent: {id} }}"
            )
            .unwrap();
            a += 1;
        }
    }
}

fn grants(seed: &mut String, config: &mut String, accounts: usize, per_model: &[usize]) {
    writeln!(seed, "grants:").unwrap();
    for (m, n) in per_model.iter().enumerate() {
        assert!(*n <= accounts, "at most one grant per account and model");
        // Each model grants a different half of the organization when it fits.
        let stride = if n * 2 <= accounts { 2 } else { 1 };
        writeln!(
            config,
            "  model-{m}:\n    product_sku: prod-bench{m:04}\n    grant_to:\n      accounts:"
        )
        .unwrap();
        for g in 0..*n {
            let a = account_id((g * stride + m % 2 + m * 7) % accounts);
            writeln!(config, "        - \"{a}\"").unwrap();
            writeln!(
                seed,
                "  - {{ name: bedrock-entitlements-model-{m}-{a}, license_arn: {}, principal: \"arn:aws:iam::{a}:root\", status: ACTIVE }}",
                license_arn(m)
            )
            .unwrap();
        }
    }
}

pub fn world(sizes: Sizes) -> World {
    assert!(sizes.ous >= 1 && sizes.models >= 1 && sizes.accounts >= 1);
    let ous = ou_tree(sizes.ous);
    let per_ou = spread(sizes.accounts, ous.len());
    let per_model = spread(sizes.grants, sizes.models);
    let mut children = std::collections::BTreeMap::<&str, usize>::new();
    for (_, parent) in &ous {
        *children.entry(parent.as_str()).or_default() += 1;
    }
    let ou_pages =
        children.values().map(|n| n.div_ceil(20)).sum::<usize>() + (ous.len() + 1 - children.len());
    let mut seed = String::new();
    organization(&mut seed, &ous, &per_ou);
    writeln!(seed, "licenses:").unwrap();
    for m in 0..sizes.models {
        writeln!(
            seed,
            "  - arn: {}\n    product_name: Model {m}\n    product_sku: prod-bench{m:04}",
            license_arn(m)
        )
        .unwrap();
    }
    let mut config = String::from("version: 1\nmodels:\n");
    grants(&mut seed, &mut config, sizes.accounts, &per_model);
    World {
        seed,
        config,
        per_ou,
        per_model,
        ou_pages,
    }
}

/// VmHWM of a process (`self` or a pid) in MB.
pub fn peak_rss_mb(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}
