//! The access matrix for a terminal, or for one account the reasons per model.

use std::io::{self, Write};

use super::{AccessOptions, INVOKE_LEGEND, LEGEND, cell_short, leak_lines};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, AccessView as _, CellState, Row};
use crate::render::common::clean;

/// The matrix for a terminal, or with `explain` the reasons per account and model (tests and
/// small matrices; the CLI streams with [`write_text`]).
pub fn text(m: &AccessMatrix, opts: AccessOptions) -> String {
    let mut out = Vec::new();
    write_text(m, opts, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the text is UTF-8")
}

/// Writes the matrix (or the reasons) as it is produced.
pub fn write_text(m: &AccessMatrix, opts: AccessOptions, out: &mut impl Write) -> io::Result<()> {
    if m.models.is_empty() {
        out.write_all(b"No model has a grant or a model in the file.\n")
    } else if opts.explain {
        write_reasons(out, m)
    } else {
        write_table(out, m)?;
        write_footer(out, m)
    }
}

/// For each account, each model and the reasons it can or cannot use it.
fn write_reasons(out: &mut impl Write, m: &AccessMatrix) -> io::Result<()> {
    for row in &m.rows {
        let state = if row.state.as_str() == "ACTIVE" {
            String::new()
        } else {
            format!(", {}", row.state.as_str())
        };
        writeln!(
            out,
            "account {} ({}) in {}{state}:",
            row.account,
            clean(row.name),
            clean(&row.path),
        )?;
        for (i, model) in m.models.iter().enumerate() {
            let label = if model.in_file {
                format!("model {}", model.key)
            } else {
                format!("license {} (not in the file)", model.key)
            };
            writeln!(out, "  {label}:")?;
            for r in explain(m, row, i) {
                writeln!(out, "    {}", clean(&r))?;
            }
        }
    }
    Ok(())
}

/// The matrix: a header and one line per account, in columns as wide as their widest cell
/// (the cells are worked out twice, for the widths and for the lines, instead of held).
fn write_table(out: &mut impl Write, m: &AccessMatrix) -> io::Result<()> {
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
    let line = |r: &Row| -> Vec<String> {
        [r.account.to_string(), clean(r.name), clean(&r.path)]
            .into_iter()
            .chain(r.cells.iter().map(cell_short))
            .collect()
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &m.rows {
        for (w, c) in widths.iter_mut().zip(line(row)) {
            *w = (*w).max(c.chars().count());
        }
    }
    write_line(out, &header, &widths)?;
    for row in &m.rows {
        write_line(out, &line(row), &widths)?;
    }
    Ok(())
}

/// One line of the table: each cell padded to its column's width and two spaces.
fn write_line(out: &mut impl Write, cells: &[String], widths: &[usize]) -> io::Result<()> {
    let mut line = String::new();
    for (c, w) in cells.iter().zip(widths) {
        line.push_str(c);
        line.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
    }
    out.write_all(line.trim_end().as_bytes())?;
    out.write_all(b"\n")
}

/// `Accounts with access through a grant: …`, the leaks (when the SCPs were read), the legend.
fn write_footer(out: &mut impl Write, m: &AccessMatrix) -> io::Result<()> {
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
    writeln!(
        out,
        "\nAccounts with access through a grant: {}.",
        with_access.join(", ")
    )?;
    if m.models.iter().any(|mm| !mm.in_file) {
        out.write_all(b"Models marked * are licenses no model of the file names (keys derived from the product name).\n")?;
    }
    if m.has_invoke() {
        let leaks = leak_lines(m);
        if leaks.is_empty() {
            out.write_all(b"Leaks: none (who may invoke matches who is entitled).\n")?;
        } else {
            writeln!(out, "Leaks: {}.", leaks.join("; "))?;
        }
        writeln!(out, "Legend: {LEGEND}; {INVOKE_LEGEND}.")
    } else {
        writeln!(out, "Legend: {LEGEND}.")
    }
}
