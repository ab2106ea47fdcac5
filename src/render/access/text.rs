//! The access matrix for a terminal, or for one account the reasons per model.

use std::fmt::Write as _;

use super::{AccessOptions, INVOKE_LEGEND, LEGEND, cell_short, has_invoke, leak_lines};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, CellState};
use crate::render::common::clean;

/// The matrix for a terminal, or with `explain` the reasons per account and model.
pub fn text(m: &AccessMatrix, opts: AccessOptions) -> String {
    let mut out = String::new();
    if m.models.is_empty() {
        out.push_str("No model has a grant or a model in the file.\n");
    } else if opts.explain {
        write_reasons(&mut out, m);
    } else {
        write_table(&mut out, m);
        write_footer(&mut out, m);
    }
    out
}

/// For each account, each model and the reasons it can or cannot use it.
fn write_reasons(out: &mut String, m: &AccessMatrix) {
    for row in &m.rows {
        let state = if row.state.as_str() == "ACTIVE" {
            String::new()
        } else {
            format!(", {}", row.state.as_str())
        };
        let _ = writeln!(
            out,
            "account {} ({}) in {}{state}:",
            row.account,
            clean(row.name),
            clean(&row.path),
        );
        for (i, model) in m.models.iter().enumerate() {
            let label = if model.in_file {
                format!("model {}", model.key)
            } else {
                format!("license {} (not in the file)", model.key)
            };
            let _ = writeln!(out, "  {label}:");
            for r in explain(m, row, i) {
                let _ = writeln!(out, "    {}", clean(&r));
            }
        }
    }
}

/// The matrix: a header and one line per account, in columns as wide as their widest cell.
fn write_table(out: &mut String, m: &AccessMatrix) {
    let header: Vec<String> = ["ACCOUNT", "NAME", "OU"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(m.models.iter().map(|mm| {
            if mm.in_file {
                mm.key.to_string()
            } else {
                format!("{}*", mm.key)
            }
        }))
        .collect();
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            [r.account.to_string(), clean(r.name), clean(&r.path)]
                .into_iter()
                .chain(r.cells.iter().map(cell_short))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (c, w) in row.iter().zip(&widths) {
            let _ = write!(line, "{c}{}  ", " ".repeat(w - c.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// `Accounts with access through a grant: …`, the leaks (when the SCPs were read), the legend.
fn write_footer(out: &mut String, m: &AccessMatrix) {
    let with_access: Vec<String> = m
        .models
        .iter()
        .enumerate()
        .map(|(i, mm)| {
            let count = |state| m.rows.iter().filter(|r| r.cells[i].state == state).count();
            let n = count(CellState::Granted);
            match count(CellState::ShareNotInEffect) {
                0 => format!("{} {n}", mm.key),
                off => format!("{} {n} ({off} share not in effect)", mm.key),
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "\nAccounts with access through a grant: {}.",
        with_access.join(", ")
    );
    if m.models.iter().any(|mm| !mm.in_file) {
        out.push_str("Models marked * are licenses no model of the file names (keys derived from the product name).\n");
    }
    if has_invoke(m) {
        let leaks = leak_lines(m);
        if leaks.is_empty() {
            out.push_str("Leaks: none (who may invoke matches who is entitled).\n");
        } else {
            let _ = writeln!(out, "Leaks: {}.", leaks.join("; "));
        }
        let _ = writeln!(out, "Legend: {LEGEND}; {INVOKE_LEGEND}.");
    } else {
        let _ = writeln!(out, "Legend: {LEGEND}.");
    }
}
