//! The plan for a terminal: terraform-like, one line per action, optional ANSI colour.
//!
//! Colour only underlines what the text already says (symbols, words): with `color: false`
//! nothing is lost.

use std::fmt::Write as _;

use super::common::{self, Section, accept_hint, note_label, principal_short, symbol};
use crate::plan::{ActionKind, NoteKind, Plan, words};
use crate::render::common::clean;

/// How to render text. The CLI sets `color` when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextOptions {
    pub color: bool,
}

const BOLD: &str = "1";
const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";
const MAGENTA: &str = "35";
const CYAN: &str = "36";

struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, sgr: &str, s: &str) -> String {
        if self.on && !s.is_empty() {
            format!("\x1b[{sgr}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

fn kind_color(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => GREEN,
        ActionKind::Activate | ActionKind::Deactivate | ActionKind::Update | ActionKind::Accept => {
            YELLOW
        }
        ActionKind::Delete => RED,
        ActionKind::Recreate => MAGENTA,
    }
}

/// Renders a plan for people: sections per model (actions, then the change in effective
/// access as a unified diff), what the plan leaves alone, and the summary line.
pub fn plan(plan: &Plan, opts: &TextOptions) -> String {
    let paint = Paint { on: opts.color };
    let mut out = String::new();
    let sections = common::sections(plan);

    let heads_up = common::heads_up(plan);
    for line in &heads_up {
        let _ = writeln!(out, "{}", clean(line));
    }
    if !heads_up.is_empty() {
        out.push('\n');
    }
    if !plan.actions.is_empty() {
        out.push_str(
            "Symbols: + create, ~ change in place, - delete, -/+ delete and create again\n",
        );
    }
    for section in &sections {
        out.push('\n');
        write_section(&mut out, section, &paint);
    }

    out.push_str(&crate::render::subscriptions::text(plan));
    out.push_str(&crate::render::guardrails::text(plan));
    write_notes(&mut out, plan, &paint);

    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&paint.paint(BOLD, &common::summary_line(plan)));
    out.push('\n');
    out
}

/// The "Not changed by this plan" list: one line per note, with the commands an acceptance needs.
fn write_notes(out: &mut String, plan: &Plan, paint: &Paint) {
    let notes = common::sorted_notes(plan);
    if notes.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let title = format!("Not changed by this plan ({}):", notes.len());
    out.push_str(&paint.paint(BOLD, &title));
    out.push('\n');
    let label_w = notes
        .iter()
        .map(|n| note_label(&n.kind()).len())
        .max()
        .unwrap_or(0);
    let principal_w = notes
        .iter()
        .map(|n| principal_short(&n.principal).len())
        .max()
        .unwrap_or(0);
    for note in notes {
        let label = format!("{:<label_w$}", note_label(&note.kind()));
        let label = match note.kind() {
            NoteKind::ForeignConflict
            | NoteKind::AwaitingAcceptance
            | NoteKind::KeptForContinuity => paint.paint(YELLOW, &label),
            NoteKind::InProgress | NoteKind::Foreign | NoteKind::KeepsOtherGrant => label,
        };
        let model = match &note.model {
            Some(m) => format!("model {m}"),
            None => "no model".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {label}  {:<principal_w$}  ({})  {model}  grant \"{}\" ({}, {}): {}",
            principal_short(&note.principal),
            note.principal,
            clean(&note.grant_name),
            note.grant_arn.grant_id(),
            note.status,
            clean(&words::note(note)),
        );
        if note.kind() == NoteKind::AwaitingAcceptance {
            let hint = accept_hint(note);
            let _ = writeln!(out, "      {}", hint.intro);
            for cmd in hint.commands {
                let _ = writeln!(out, "        {cmd}");
            }
        }
    }
}

fn write_section(out: &mut String, section: &Section<'_>, paint: &Paint) {
    let mut header = paint.paint(BOLD, &section.title());
    for license in &section.licenses {
        let _ = write!(header, "  license {license}");
    }
    out.push_str(&header);
    out.push('\n');

    let principal_w = section
        .actions
        .iter()
        .map(|a| principal_short(&a.principal).len())
        .max()
        .unwrap_or(0);
    for action in &section.actions {
        let head = format!(
            "{:>3} {:<10}",
            symbol(action.kind()),
            action.kind().as_str()
        );
        let _ = writeln!(
            out,
            "  {}  {:<principal_w$}  ({})  grant {}  # {}",
            paint.paint(kind_color(action.kind()), &head),
            principal_short(&action.principal),
            action.principal.arn(),
            clean(&action.grant_name),
            clean(&words::reason(&action.reason)),
        );
    }

    if let Some(access) = &section.access {
        if !section.actions.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "  effective access: {}", access.sentence());
        for line in access.unified.lines() {
            let painted = if line.starts_with("---") || line.starts_with("+++") {
                paint.paint(BOLD, line)
            } else if line.starts_with("@@") {
                paint.paint(CYAN, line)
            } else if line.starts_with('+') {
                paint.paint(GREEN, line)
            } else if line.starts_with('-') {
                paint.paint(RED, line)
            } else {
                line.to_owned()
            };
            let _ = writeln!(out, "    {painted}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures;

    fn plain(p: &Plan) -> String {
        plan(p, &TextOptions { color: false })
    }

    fn coloured(p: &Plan) -> String {
        plan(p, &TextOptions { color: true })
    }

    /// Removes the SGR sequences this module writes (`ESC [ digits m`).
    fn strip_sgr(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("\x1b[") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after.find('m').expect("an SGR sequence ends with m");
            assert!(after[..end].bytes().all(|b| b.is_ascii_digit()));
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn empty_plan() {
        let text = plain(&fixtures::empty());
        assert_eq!(text, "No changes. Live grants match entitlements.yaml.\n");
        assert_eq!(
            coloured(&fixtures::empty()),
            "\x1b[1mNo changes. Live grants match entitlements.yaml.\x1b[0m\n"
        );
    }

    #[test]
    fn mixed_plan() {
        let text = plain(&fixtures::mixed());
        assert!(
            !text.contains('\x1b'),
            "no escape without colour, not even from a grant name"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn mixed_plan_in_colour_says_the_same_as_without() {
        let p = fixtures::mixed();
        let text = coloured(&p);
        assert!(text.contains("\x1b[32m  + create    \x1b[0m"));
        assert!(text.contains("\x1b[31m-111122223333\x1b[0m"));
        assert_eq!(strip_sgr(&text), plain(&p));
        insta::assert_snapshot!(text.replace('\x1b', "␛"));
    }

    #[test]
    fn notes_without_actions_still_end_in_no_changes() {
        let mut p = fixtures::mixed();
        p.actions.clear();
        p.access.clear();
        p.expiry.clear();
        p.license_choices.clear();
        let text = plain(&p);
        assert!(
            text.starts_with("Not changed by this plan (9):\n"),
            "{text}"
        );
        assert!(text.ends_with("\nNo changes. Live grants match entitlements.yaml.\n"));
        assert!(!text.contains("Symbols:"));
    }

    #[test]
    fn huge_plan() {
        let text = plain(&fixtures::huge());
        let lines: Vec<&str> = text.lines().collect();
        // 5,000 actions, 5 section headers, every access diff line, 300 notes.
        assert_eq!(lines.iter().filter(|l| l.contains("  # ")).count(), 5_000);
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("model model-"))
                .count(),
            5
        );
        assert_eq!(
            lines.last(),
            Some(&"Plan: 3000 to create, 500 to activate, 500 to update, 1000 to delete.")
        );
        let digest = format!(
            "{} lines\n{}\n...\n{}",
            lines.len(),
            lines[..12].join("\n"),
            lines[lines.len() - 4..].join("\n")
        );
        insta::assert_snapshot!(digest);
    }
}
