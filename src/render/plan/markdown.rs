//! The plan as a pull-request comment (GitHub-flavoured Markdown).
//!
//! A comment must stay under GitHub's limit of 65,536 characters however large the plan, so
//! the body is written against a byte budget ([`MAX_LEN`]; bytes are never fewer than
//! characters): the title, the counts and the per-model overview always fit; notes may take a
//! quarter of what is left; each model section then gets a fair share of the rest, its actions
//! and its access diff cut to that share. Whatever is cut is counted, and a closing warning
//! says how much was left out and where the full plan is.

use std::fmt::Write as _;

use super::common::{self, ALL_KINDS, Section, SectionKey, accept_hint, note_label, symbol};
use crate::model::Principal;
use crate::plan::{Note, NoteKind, Plan, words};
use crate::render::common::thousands;
use crate::render::escape::md as md_text;

/// The hidden first line CI looks for to update its sticky comment instead of adding one.
pub const MARKER: &str = "<!-- bedrock-entitlements:plan -->";

/// GitHub refuses comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The most bytes [`plan`] returns: under [`GITHUB_COMMENT_LIMIT`] with room for a CI job to
/// add a line or two around it.
pub const MAX_LEN: usize = 60_000;

/// Kept free for the closing warning when something is left out.
const FOOTER_RESERVE: usize = 1_000;
/// Kept free in a block for the line that says how many rows were cut.
const MORE_RESERVE: usize = 160;
/// Lists longer than this are folded in `<details>`.
const FOLD_ROWS: usize = 10;
/// Access diffs longer than this many lines are folded in `<details>`.
const FOLD_DIFF_LINES: usize = 40;

/// Renders a plan as a pull-request comment, at most [`MAX_LEN`] bytes.
pub fn plan(plan: &Plan) -> String {
    let mut doc = Doc::new(MAX_LEN - FOOTER_RESERVE);
    let sections = common::sections(plan);

    doc.out.push_str(MARKER);
    doc.out.push_str("\n## bedrock-entitlements plan\n\n");
    for line in common::heads_up(plan) {
        let _ = writeln!(doc.out, "> {}\n", md_text(&line));
    }
    if plan.actions.is_empty() {
        doc.out
            .push_str("**No changes.** Live grants match entitlements.yaml.\n\n");
    } else {
        let _ = writeln!(doc.out, "**{}**\n", common::summary_line(plan));
        write_counts(&mut doc, plan);
    }

    if !sections.is_empty() {
        let rows: Vec<String> = sections.iter().map(overview_row).collect();
        let cap = doc.share(4);
        let block = Block {
            open: "| model | actions | accounts gaining access | accounts losing access |\n\
                   | :-- | --: | --: | --: |\n"
                .to_owned(),
            rows,
            after_rows: "\n".to_owned(),
            close: String::new(),
            noun: "models",
        };
        doc.left_out.models += doc.block(block, cap);
    }

    doc.push_within(&crate::render::subscriptions::markdown(plan), doc.share(4));
    doc.push_within(&crate::render::guardrails::markdown(plan), doc.share(4));
    let notes = common::sorted_notes(plan);
    if !notes.is_empty() {
        // Notes may take a quarter of the room when actions follow, all of it otherwise.
        let cap = doc.share(if sections.is_empty() { 1 } else { 4 });
        let heading = format!("### Not changed by this plan ({})\n\n", notes.len());
        if doc.push_within(&heading, cap) {
            let rows: Vec<String> = notes.iter().map(|n| note_item(n)).collect();
            let (open, close) = fold(rows.len() > FOLD_ROWS, &format!("{} notes", notes.len()));
            let block = Block {
                open,
                rows,
                after_rows: "\n".to_owned(),
                close,
                noun: "notes",
            };
            doc.left_out.notes += doc.block(block, cap);
        } else {
            doc.left_out.notes += notes.len();
        }
    }

    for (i, section) in sections.iter().enumerate() {
        let cap = doc.share(sections.len() - i);
        write_section(&mut doc, section, cap);
    }

    doc.finish(plan)
}

fn write_counts(doc: &mut Doc, plan: &Plan) {
    let counts = plan.summary();
    doc.out.push_str("| action | count |\n| :-- | --: |\n");
    for kind in ALL_KINDS {
        let n = counts.get(&kind).copied().unwrap_or(0);
        let _ = writeln!(
            doc.out,
            "| `{}` {} | {} |",
            symbol(kind),
            kind.as_str(),
            thousands(n)
        );
    }
    let _ = writeln!(
        doc.out,
        "| **total** | **{}** |\n",
        thousands(plan.actions.len())
    );
}

fn section_title(section: &Section<'_>) -> String {
    match &section.key {
        SectionKey::Model(m) => format!("`{m}`"),
        SectionKey::Unnamed(_) => "Managed grants no model in the file names".to_owned(),
    }
}

fn overview_row(section: &Section<'_>) -> String {
    let (gained, lost) = section
        .access
        .as_ref()
        .map_or((0, 0), |a| (a.gained, a.lost));
    let unnamed_license = match &section.key {
        SectionKey::Unnamed(license) => format!(" (`{license}`)"),
        SectionKey::Model(_) => String::new(),
    };
    format!(
        "| {}{unnamed_license} | {} | {} | {} |\n",
        section_title(section),
        thousands(section.actions.len()),
        thousands(gained),
        thousands(lost)
    )
}

fn write_section(doc: &mut Doc, section: &Section<'_>, cap: usize) {
    // The `---`/`+++` file header is left out: GitHub would colour it as a removal and an
    // addition, and the sentence above the fence already says what is compared.
    let diff_lines: Vec<&str> = section
        .access
        .as_ref()
        .map(|a| a.unified.lines().skip(2).collect())
        .unwrap_or_default();

    let mut heading = format!("### {}\n\n", section_title(section));
    for license in &section.licenses {
        let _ = writeln!(heading, "License `{license}`\n");
    }
    if !doc.push_within(&heading, cap) {
        doc.left_out.actions += section.actions.len();
        doc.left_out.diff_lines += diff_lines.len();
        return;
    }

    if !section.actions.is_empty() {
        // Keep up to a third of the section's share for the access diff, which reviewers
        // read first; actions may use the rest.
        let diff_need: usize = diff_lines.iter().map(|l| l.len() + 1).sum::<usize>() + 300;
        let room = cap.saturating_sub(doc.out.len());
        let actions_cap = cap - diff_need.min(room / 3);
        let rows: Vec<String> = section.actions.iter().map(|a| action_row(a)).collect();
        let (fold_open, close) = fold(
            rows.len() > FOLD_ROWS,
            &format!("{} actions", thousands(rows.len())),
        );
        let block = Block {
            open: format!(
                "{fold_open}| | action | principal | grant | reason |\n| --- | --- | --- | --- | --- |\n"
            ),
            rows,
            after_rows: "\n".to_owned(),
            close,
            noun: "actions",
        };
        doc.left_out.actions += doc.block(block, actions_cap);
    }

    if let Some(access) = &section.access {
        let sentence = format!("**Effective access:** {}.\n\n", access.sentence());
        if !doc.push_within(&sentence, cap) {
            doc.left_out.diff_lines += diff_lines.len();
            return;
        }
        let (fold_open, close) = fold(
            diff_lines.len() > FOLD_DIFF_LINES,
            &format!("access diff ({} lines)", thousands(diff_lines.len())),
        );
        let block = Block {
            open: format!("{fold_open}```diff\n"),
            rows: diff_lines.iter().map(|l| format!("{l}\n")).collect(),
            after_rows: "```\n\n".to_owned(),
            close,
            noun: "diff lines",
        };
        doc.left_out.diff_lines += doc.block(block, cap);
    }
}

fn action_row(action: &crate::plan::Action) -> String {
    format!(
        "| `{}` | {} | {} | {} | {} |\n",
        symbol(action.kind()),
        action.kind().as_str(),
        principal_md(&action.principal),
        md_text(&action.grant_name),
        md_text(&words::reason(&action.reason)),
    )
}

fn principal_md(p: &Principal) -> String {
    format!("{} `{}`", p.kind(), p.short_id())
}

fn note_item(note: &Note) -> String {
    let mut item = format!("- **{}**:", note_label(&note.kind()));
    if let Some(m) = &note.model {
        let _ = write!(item, " model `{m}`,");
    }
    let _ = writeln!(
        item,
        " {}, grant {} (`{}`, `{}`): {}",
        principal_md(&note.principal),
        md_text(&note.grant_name),
        note.grant_arn.grant_id(),
        note.status,
        md_text(&words::note(note)),
    );
    if note.kind() == NoteKind::AwaitingAcceptance {
        let hint = accept_hint(note);
        let _ = write!(item, "  {}\n  ```sh\n", capitalize(&hint.intro));
        for cmd in hint.commands {
            let _ = writeln!(item, "  {cmd}");
        }
        item.push_str("  ```\n");
    }
    item
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `<details>` around a long list, or nothing.
fn fold(long: bool, summary: &str) -> (String, String) {
    if long {
        (
            format!("<details><summary>{summary}</summary>\n\n"),
            "</details>\n\n".to_owned(),
        )
    } else {
        (String::new(), String::new())
    }
}

/// Some rows with what opens and closes them (a table, a fenced diff, a list).
struct Block {
    open: String,
    rows: Vec<String>,
    /// Written right after the last row shown (ends the table or the fence).
    after_rows: String,
    /// Written after the "more not shown" line (closes a `<details>`).
    close: String,
    noun: &'static str,
}

#[derive(Debug, Default)]
struct LeftOut {
    actions: usize,
    notes: usize,
    diff_lines: usize,
    models: usize,
}

struct Doc {
    out: String,
    /// The body never grows past this many bytes; the footer has its own reserve.
    limit: usize,
    left_out: LeftOut,
}

impl Doc {
    fn new(limit: usize) -> Doc {
        Doc {
            out: String::new(),
            limit,
            left_out: LeftOut::default(),
        }
    }

    /// An absolute length cap giving the next part `1/parts` of what is left.
    fn share(&self, parts: usize) -> usize {
        let left = self.limit.saturating_sub(self.out.len());
        self.out.len() + left / parts.max(1)
    }

    /// Appends `s` if the document stays within `cap` (and the limit); says whether it did.
    fn push_within(&mut self, s: &str, cap: usize) -> bool {
        let fits = self.out.len() + s.len() <= cap.min(self.limit);
        if fits {
            self.out.push_str(s);
        }
        fits
    }

    /// Writes as many rows of the block as fit within `cap`; returns how many were left out.
    /// The block is left out entirely when not even its first row fits.
    fn block(&mut self, block: Block, cap: usize) -> usize {
        let cap = cap.min(self.limit);
        let fixed = block.open.len() + block.after_rows.len() + block.close.len() + MORE_RESERVE;
        let first = block.rows.first().map_or(0, String::len);
        if self.out.len() + fixed + first > cap {
            return block.rows.len();
        }
        self.out.push_str(&block.open);
        let tail = block.after_rows.len() + block.close.len() + MORE_RESERVE;
        let mut shown = 0;
        for row in &block.rows {
            if self.out.len() + row.len() + tail > cap {
                break;
            }
            self.out.push_str(row);
            shown += 1;
        }
        self.out.push_str(&block.after_rows);
        let left_out = block.rows.len() - shown;
        if left_out > 0 {
            let _ = write!(
                self.out,
                "*… and {} more {} not shown here (comment size limit)*\n\n",
                thousands(left_out),
                block.noun
            );
        }
        self.out.push_str(&block.close);
        left_out
    }

    /// Adds the warning when anything was left out.
    fn finish(mut self, plan: &Plan) -> String {
        let l = &self.left_out;
        let mut parts = Vec::new();
        if l.actions > 0 {
            parts.push(format!(
                "{} of {} actions",
                thousands(l.actions),
                thousands(plan.actions.len())
            ));
        }
        if l.notes > 0 {
            parts.push(format!(
                "{} of {} notes",
                thousands(l.notes),
                thousands(plan.notes.len())
            ));
        }
        if l.diff_lines > 0 {
            parts.push(format!("{} access-diff lines", thousands(l.diff_lines)));
        }
        if l.models > 0 {
            parts.push(format!(
                "{} rows of the model overview",
                thousands(l.models)
            ));
        }
        if let Some(last) = parts.pop() {
            let listed = if parts.is_empty() {
                last
            } else {
                format!("{} and {last}", parts.join(", "))
            };
            let _ = write!(
                self.out,
                "---\n\n> [!WARNING]\n> This comment is shortened to stay under GitHub's limit of \
                 {} characters: {listed} are not shown. The full plan is in the JSON plan \
                 (`bedrock-entitlements plan --format json`, or the file saved with \
                 `plan --out`, which CI keeps as an artifact).\n",
                thousands(GITHUB_COMMENT_LIMIT)
            );
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    /// Structural checks every rendering must pass, whatever the plan.
    fn check_well_formed(md: &str) {
        assert!(md.len() <= MAX_LEN, "{} bytes", md.len());
        assert!(md.chars().count() < GITHUB_COMMENT_LIMIT);
        assert!(md.starts_with(&format!("{MARKER}\n")));
        assert_eq!(
            md.matches(MARKER).count(),
            1,
            "a grant name must not repeat the marker"
        );
        assert_eq!(
            md.matches("<details>").count(),
            md.matches("</details>").count()
        );
        assert_eq!(md.matches("```").count() % 2, 0, "every fence is closed");
        assert!(md.ends_with('\n'));
    }

    #[test]
    fn empty_plan() {
        let md = plan(&fixtures::empty());
        check_well_formed(&md);
        insta::assert_snapshot!(md);
    }

    #[test]
    fn mixed_plan() {
        let md = plan(&fixtures::mixed());
        check_well_formed(&md);
        assert!(
            !md.contains("[!WARNING]"),
            "a small plan is never shortened"
        );
        assert!(
            !md.contains("`unchanged`"),
            "a model whose access does not change has no section"
        );
        insta::assert_snapshot!(md);
    }

    #[test]
    fn notes_alone_may_use_the_whole_comment() {
        let mut p = fixtures::huge();
        p.actions.clear();
        p.access.clear();
        p.notes.extend(p.notes.clone());
        let md = plan(&p);
        check_well_formed(&md);
        let shown = md
            .lines()
            .filter(|l| l.starts_with("- **foreign grant**"))
            .count();
        // More than the share of the room notes get beside actions: nearly all of it.
        assert!(shown > 200, "{shown} notes shown");
        assert!(md.len() > MAX_LEN * 9 / 10, "room is used: {}", md.len());
        assert!(
            md.contains(&format!("{} of 600 notes are not shown", 600 - shown)),
            "{md}"
        );
    }

    #[test]
    fn long_lists_are_folded() {
        let mut p = fixtures::mixed();
        let create = p.actions[1].clone();
        for _ in 0..FOLD_ROWS {
            p.actions.insert(1, create.clone());
        }
        let md = plan(&p);
        check_well_formed(&md);
        let section = p.actions.iter().filter(|a| a.model() == create.model());
        let folded = format!(
            "<details><summary>{} actions</summary>\n\n| | action |",
            section.count()
        );
        assert!(md.contains(&folded), "{md}");
    }

    /// Action rows shown, by counting table rows that start with an action symbol.
    fn action_rows(md: &str) -> usize {
        md.lines()
            .filter(|l| {
                ["| `+` |", "| `~` |", "| `-` |", "| `-/+` |"]
                    .iter()
                    .any(|s| l.starts_with(s))
            })
            .count()
    }

    #[test]
    fn huge_plan_stays_under_the_comment_limit() {
        let p = fixtures::huge();
        let md = plan(&p);
        check_well_formed(&md);

        // Every model gets a section and a share of the room.
        for m in 0..5 {
            assert!(md.contains(&format!("### `model-{m}`\n")), "model-{m}");
        }
        // What is shown plus what the warning says was left out is the whole plan.
        let shown = action_rows(&md);
        assert!(shown > 50, "only {shown} rows shown");
        let warning = md
            .lines()
            .find(|l| l.contains("This comment is shortened"))
            .expect("warning");
        let left_out = 5_000 - shown;
        assert!(
            warning.contains(&format!("{} of 5,000 actions", thousands(left_out))),
            "{shown} shown; {warning}"
        );
        assert!(warning.contains("of 300 notes"), "{warning}");
        assert!(
            md.len() > MAX_LEN - 2 * FOOTER_RESERVE - MORE_RESERVE * 8,
            "room is used: {}",
            md.len()
        );

        let lines: Vec<&str> = md.lines().collect();
        let digest = format!(
            "{} bytes, {shown} action rows\n{}\n...\n{}",
            md.len(),
            lines[..30].join("\n"),
            lines[lines.len() - 4..].join("\n")
        );
        insta::assert_snapshot!(digest);
    }

    mod prop {
        use super::*;
        use crate::model::{AccountId, GrantArn, GrantStatus, LicenseArn, Principal};
        use crate::plan::{Action, Note, NoteKind, TargetStatus};
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            // Markup, multi-byte characters and long runs.
            prop_oneof![
                "[a-z|<>`*_ -]{0,40}",
                "[é漢🙂|`]{0,200}",
                (0usize..5_000).prop_map(|n| "x|".repeat(n)),
            ]
        }

        fn action(i: usize, name: String, reason: String) -> Action {
            let account: AccountId = format!("{:012}", 100_000_000_000 + i).parse().unwrap();
            let kinds = super::super::ALL_KINDS;
            let kind = kinds[i % kinds.len()];
            let license: LicenseArn =
                format!("arn:aws:license-manager::294406891311:license:l-{}", i % 3)
                    .parse()
                    .unwrap();
            let model = (!i.is_multiple_of(4) || kind != crate::plan::ActionKind::Delete)
                .then(|| fixtures::key(&format!("m-{}", i % 7)));
            let grant =
                (kind != crate::plan::ActionKind::Create).then(|| crate::plan::PlannedGrant {
                    arn: format!("arn:aws:license-manager::999900001111:grant:g-a{i}")
                        .parse()
                        .unwrap(),
                    version: "1".to_owned(),
                });
            Action {
                body: crate::plan::ActionBody::new(kind, model, grant).unwrap(),
                license_arn: license,
                principal: Principal::Account(account),
                grant_name: name,
                operations: Default::default(),
                target_status: TargetStatus::Active,
                reason: crate::plan::Reason::Recorded(reason),
                client_token: format!("token-{i}"),
                waits_for: Vec::new(),
                activation_override: None,
            }
        }

        fn note(i: usize, name: String, message: String) -> Note {
            Note {
                model: None,
                license_arn: "arn:aws:license-manager::294406891311:license:l-0"
                    .parse()
                    .unwrap(),
                principal: Principal::Account(
                    format!("{:012}", 200_000_000_000 + i).parse().unwrap(),
                ),
                grant_arn: format!("arn:aws:license-manager::999900001111:grant:g-{i}")
                    .parse::<GrantArn>()
                    .unwrap(),
                grant_name: name,
                status: GrantStatus::PendingAccept,
                detail: crate::plan::NoteDetail::Recorded {
                    kind: NoteKind::AwaitingAcceptance,
                    message,
                },
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(32))]
            #[test]
            fn any_plan_fits_in_a_comment(
                actions in proptest::collection::vec((text(), text()), 0..400),
                notes in proptest::collection::vec((text(), text()), 0..60),
                access in proptest::collection::vec((0usize..7, 0usize..3_000, 0usize..3_000), 0..7),
            ) {
                let mut p = fixtures::empty();
                p.actions = actions
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, r))| action(i, n, r))
                    .collect();
                p.notes = notes
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, m))| note(i, n, m))
                    .collect();
                for (m, before, after) in access {
                    let ids = |n: usize, base: usize| -> Vec<AccountId> {
                        (0..n).map(|i| format!("{:012}", base + i).parse().unwrap()).collect()
                    };
                    p.access.insert(
                        fixtures::key(&format!("m-{m}")),
                        crate::plan::AccessChange {
                            before: ids(before, 300_000_000_000),
                            after: ids(after, 300_000_001_000),
                        },
                    );
                }
                let md = plan(&p);
                check_well_formed(&md);
                // Rows shown plus rows the warning admits to leaving out are all the actions.
                let shown = action_rows(&md);
                prop_assert!(shown <= p.actions.len());
                let left_out = p.actions.len() - shown;
                let admitted = format!(
                    "{} of {} actions",
                    thousands(left_out),
                    thousands(p.actions.len())
                );
                prop_assert_eq!(left_out > 0, md.contains(&admitted));
            }
        }
    }

    #[test]
    fn md_text_escapes_markup() {
        assert_eq!(md_text("a|b <x> *y* `z`"), r"a\|b \<x\> \*y\* \`z\`");
        assert_eq!(
            md_text("bedrock-entitlements-m-111122223333"),
            "bedrock-entitlements-m-111122223333"
        );
    }
}
