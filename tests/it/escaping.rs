//! Untrusted names are inert in every Markdown and CSV output (issue 12, must show): an account,
//! an OU, a foreign grant, a managed grant and a license product carry Markdown and CSV
//! metacharacters (`|`, `` ` ``, `*`, `[`, `](`, `<`, a newline, and `=` at the start), are
//! seeded into the emulator, and the real binary's `plan`, `drift`, `access`, `licenses` and
//! `apply` print them. Each Markdown output must keep every table row whole (no raw `|`, no
//! newline inside a cell), show each name only escaped and outside code spans; the CSV must
//! parse back (RFC 4180) to the original names, formula-guarded with a leading `'`.

use bedrock_entitlements::emulator::{EmulatorOptions, GrantSeed, Seed};

use crate::cli_support::Cli;
use crate::support::start_emulator;

/// What follows each marker in every name: one of each metacharacter.
const TAIL: &str = "|p`t*s[b](u)<i>\nn";
/// The same, as the one Markdown escaper writes it.
const TAIL_MD: &str = "\\|p\\`t\\*s\\[b\\](u)\\<i\\>\u{fffd}n";
/// The same quoted in a sentence of the planner (`{:?}`: the newline is `\n`), then escaped.
const TAIL_MD_QUOTED: &str = "\\|p\\`t\\*s\\[b\\](u)\\<i\\>\\\\nn";

const ACCOUNT: &str = "EVILA";
const OU: &str = "EVILO";
const FOREIGN: &str = "EVILG";
const MANAGED: &str = "EVILM";
const PRODUCT: &str = "EVILP";

/// The name a marker stands for (every one but the managed grant starts with `=`).
fn evil(marker: &str) -> String {
    if marker == MANAGED {
        format!("bedrock-entitlements-{marker}{TAIL}")
    } else {
        format!("={marker}{TAIL}")
    }
}

fn license(n: u32) -> String {
    format!("arn:aws:license-manager::294406891311:license:l-{n:032x}")
}

fn grant(n: u32, name: String, lic: u32, account: &str) -> GrantSeed {
    let principal = format!("arn:aws:iam::{account}:root");
    GrantSeed {
        arn: Some(format!(
            "arn:aws:license-manager::111111111111:grant:g-{n:032x}"
        )),
        ..crate::support::active_grant_seed(name, &license(lic), principal)
    }
}

/// The GitOps organization with the evil names: account `shared` (222…) and OU Web renamed, a
/// foreign llama grant to `shared`, a managed claude grant to ml-dev (333…) that the file's
/// organization grant makes redundant, and Mistral's product renamed.
fn seed() -> Seed {
    let mut seed = Seed::from_yaml(include_str!("../data/gitops-seed.yaml")).expect("valid seed");
    let org = &mut seed.organization;
    org.accounts
        .iter_mut()
        .find(|a| a.id == "222222222222")
        .expect("shared")
        .name = evil(ACCOUNT);
    org.organizational_units
        .iter_mut()
        .find(|o| o.id == "ou-gt01-webwebwe")
        .expect("Web")
        .name = evil(OU);
    seed.licenses
        .iter_mut()
        .find(|l| l.product_sku == "prod-mistral001")
        .expect("mistral")
        .product_name = evil(PRODUCT);
    seed.grants = vec![
        grant(0xf1, evil(FOREIGN), 2, "222222222222"),
        grant(0xe1, evil(MANAGED), 1, "333333333333"),
        grant(0xe2, evil(FOREIGN), 3, "555555555555"),
    ];
    seed
}

const ENTITLEMENTS: &str = r#"version: 1
models:
  claude:
    product_sku: prod-claude0001
    grant_to:
      organization: true
  llama:
    product_sku: prod-llama00001
    grant_to:
      accounts: ["222222222222", "555555555555"]
  mistral:
    product_sku: prod-mistral001
    grant_to:
      accounts: ["555555555555"]
"#;

/// Whether the character at byte `i` of `line` is preceded by an odd number of backslashes.
fn escaped(line: &str, i: usize) -> bool {
    line[..i].chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// The unescaped `|` of a line.
fn pipes(line: &str) -> usize {
    line.match_indices('|')
        .filter(|(i, _)| !escaped(line, *i))
        .count()
}

/// Checks one Markdown output; `want` are the markers it must show.
fn check_markdown(what: &str, out: &str, want: &[&str]) {
    for marker in want {
        assert!(out.contains(marker), "{what}: {marker} is not shown\n{out}");
    }
    let mut header_pipes: Option<usize> = None;
    for line in out.lines() {
        // Table rows: as many cell separators as the table's header.
        if line.starts_with('|') {
            let n = pipes(line);
            let want = *header_pipes.get_or_insert(n);
            assert_eq!(n, want, "{what}: a table row is broken: {line:?}");
        } else {
            header_pipes = None;
        }
        for marker in [ACCOUNT, OU, FOREIGN, MANAGED, PRODUCT] {
            for (i, _) in line.match_indices(marker) {
                let after = &line[i + marker.len()..];
                assert!(
                    after.starts_with(TAIL_MD) || after.starts_with(TAIL_MD_QUOTED),
                    "{what}: {marker} is not escaped: {line:?}"
                );
                let ticks = line[..i]
                    .match_indices('`')
                    .filter(|(j, _)| !escaped(line, *j))
                    .count();
                assert!(
                    ticks % 2 == 0,
                    "{what}: {marker} is inside a code span, where escapes do not work: {line:?}"
                );
            }
        }
    }
    for raw in ["<i>", "*s[", "[b](u)"] {
        assert!(!out.contains(raw), "{what}: raw {raw:?} in\n{out}");
    }
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        !quoted && field.is_empty() && record.is_empty(),
        "CSV ends mid-record"
    );
    records
}

fn check_csv(out: &str) {
    let records = parse_csv(out);
    let width = records[0].len();
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        assert_eq!(r.len(), width, "a CSV record is broken: {r:?}");
        for f in r {
            for marker in [ACCOUNT, FOREIGN, MANAGED] {
                if f.contains(marker) {
                    let name = evil(marker);
                    let guarded = if name.starts_with('=') {
                        format!("'{name}")
                    } else {
                        name
                    };
                    assert_eq!(f, &guarded, "a CSV field does not read back");
                    seen.insert(marker);
                }
            }
            if f.contains(OU) {
                assert_eq!(f, &format!("Root/Workloads/{}", evil(OU)));
                seen.insert(OU);
            }
            assert!(
                !f.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a CSV field a spreadsheet evaluates: {f:?}"
            );
        }
    }
    assert_eq!(seen.len(), 4, "every name is in the CSV: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_names_are_inert_in_every_markdown_and_csv_output() {
    let emu = start_emulator(seed(), EmulatorOptions::default()).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("entitlements.yaml", ENTITLEMENTS);
    let run = |args: &'static [&'static str], code: i32| {
        let cli = &cli;
        async move { cli.run(args).await.expect(code).stdout }
    };

    let plan = run(&["plan", "--format", "markdown"], 0).await;
    check_markdown("plan", &plan, &[FOREIGN, MANAGED]);
    let drift = run(&["drift", "--format", "markdown"], 2).await;
    check_markdown("drift", &drift, &[FOREIGN, MANAGED]);
    let access = run(&["access", "--format", "markdown"], 0).await;
    check_markdown("access", &access, &[ACCOUNT, OU]);
    let why = run(
        &[
            "access",
            "--format",
            "markdown",
            "--account",
            "222222222222",
        ],
        0,
    )
    .await;
    check_markdown("access --account", &why, &[ACCOUNT]);
    let licenses = run(&["licenses", "--format", "markdown"], 0).await;
    check_markdown("licenses", &licenses, &[PRODUCT]);
    check_csv(&run(&["access", "--format", "csv"], 0).await);
    let html = run(&["access", "--format", "html"], 0).await;
    assert!(html.contains(ACCOUNT) && !html.contains("<i>"), "{html}");

    let apply = run(&["apply", "--auto-approve", "--format", "markdown"], 0).await;
    check_markdown("apply", &apply, &[]);
    let after = run(&["plan", "--format", "markdown"], 0).await;
    check_markdown("plan after apply", &after, &[]);
}
