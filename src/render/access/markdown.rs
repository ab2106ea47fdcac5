//! The access matrix as a Markdown table, or for one account the reasons per model.

use std::fmt::Write as _;

use super::{AccessOptions, INVOKE_LEGEND, LEGEND, cell_short, leak_lines};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, AccessView as _};
use crate::render::escape::md;

/// A Markdown table (what an auditor pastes into a ticket), or with `explain` the reasons.
pub fn markdown(m: &AccessMatrix, opts: AccessOptions) -> String {
    let mut out = String::from("## Effective access to Bedrock models\n\n");
    if m.models.is_empty() {
        out.push_str("No model has a grant or a model in the file.\n");
        return out;
    }
    if opts.explain {
        for row in &m.rows {
            let _ = writeln!(
                out,
                "### Account `{}` ({}) in {}\n",
                row.account,
                md(row.name),
                md(&row.path)
            );
            for (i, model) in m.models.iter().enumerate() {
                let _ = writeln!(out, "- **{}**", model.key);
                for r in explain(m, row, i) {
                    let _ = writeln!(out, "  - {}", md(&r));
                }
            }
            out.push('\n');
        }
        return out;
    }
    out.push_str("| account | name | OU |");
    for mm in &m.models {
        let _ = write!(out, " {}{} |", mm.key, if mm.in_file { "" } else { "\\*" });
    }
    out.push_str("\n| :-- | :-- | :-- |");
    for _ in &m.models {
        out.push_str(" :-- |");
    }
    out.push('\n');
    for row in &m.rows {
        let _ = write!(
            out,
            "| `{}` | {} | {} |",
            row.account,
            md(row.name),
            md(&row.path)
        );
        for cell in &row.cells {
            let _ = write!(out, " {} |", md(&cell_short(cell)));
        }
        out.push('\n');
    }
    if m.has_invoke() {
        let leaks = leak_lines(m);
        if !leaks.is_empty() {
            let _ = writeln!(out, "\n**Leaks:** {}.", md(&leaks.join("; ")));
        }
        let _ = writeln!(out, "\n<sub>{}; {}</sub>", md(LEGEND), md(INVOKE_LEGEND));
    } else {
        let _ = writeln!(out, "\n<sub>{}</sub>", md(LEGEND));
    }
    out
}
