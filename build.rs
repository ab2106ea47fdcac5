//! Records the git revision of the build for `--version` (`BEDROCK_ENTITLEMENTS_GIT_REV`).
//!
//! Order: the `BEDROCK_ENTITLEMENTS_GIT_REV` environment variable when set (a build from a
//! source archive or a container context without `.git`: the release workflow passes the tag's
//! commit), else `git rev-parse --short=12 HEAD`, else `unknown` (no git, or not a repository). The
//! revision is that of HEAD: uncommitted changes are not marked (the script reruns only when HEAD
//! moves, so a mark would go stale).

use std::path::PathBuf;
use std::process::Command;

const VAR: &str = "BEDROCK_ENTITLEMENTS_GIT_REV";

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// Reruns the script when HEAD moves: the HEAD file, the ref it names, and packed refs.
fn watch_head() {
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) else {
        return;
    };
    let common = git(&["rev-parse", "--git-common-dir"]).map_or(git_dir.clone(), PathBuf::from);
    println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
    println!(
        "cargo:rerun-if-changed={}",
        common.join("packed-refs").display()
    );
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        println!("cargo:rerun-if-changed={}", common.join(head_ref).display());
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed={VAR}");
    let rev = match std::env::var(VAR) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => {
            watch_head();
            match git(&["rev-parse", "--short=12", "HEAD"]) {
                Some(rev) => rev,
                None => "unknown".to_owned(),
            }
        }
    };
    println!("cargo:rustc-env={VAR}={rev}");
}
