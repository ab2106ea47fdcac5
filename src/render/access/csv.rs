//! The access matrix as CSV: one record per (account, model).

use std::io::{self, Write};

use super::{invoke_fields, route_str, wanted_str};
use crate::audit::{AccessView, Cell, MatrixModel, Route, Row};
use crate::render::escape::csv_record;

/// One line per (account, model), with a header line, written record by record (from an
/// [`crate::audit::Access`], rows are made as they are written).
pub fn write_csv(m: &impl AccessView, out: &mut impl Write) -> io::Result<()> {
    let invoke = m.has_invoke();
    out.write_all(HEADER.as_bytes())?;
    out.write_all(if invoke {
        b",may_invoke,invoke_policy,leak\n"
    } else {
        b"\n"
    })?;
    m.try_for_each_row(|row| {
        for (cell, model) in row.cells.iter().zip(m.models()) {
            let mut line = csv_record(&fields(row, cell, model));
            if invoke {
                line.push(',');
                line.push_str(&csv_record(&invoke_fields(cell)));
            }
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    })
}

/// The CSV as a string (tests and small matrices; the CLI streams with [`write_csv`]).
pub fn csv(m: &impl AccessView) -> String {
    let mut out = Vec::new();
    write_csv(m, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the CSV is UTF-8")
}

const HEADER: &str = "account_id,account_name,account_path,account_state,model,in_file,license_arn,access,state,wanted,route,ou_path,principal,grant_arn,grant_name,grant_status,managed,share_status,in_effect";

/// The fields of one (account, model) record before the invoke layer's.
fn fields(row: &Row, cell: &Cell, model: &MatrixModel) -> [String; 19] {
    let r = cell
        .provider()
        .or_else(|| cell.via.iter().find(|r| r.share_not_in_effect()))
        .or_else(|| cell.via.first());
    let (route, ou_path) = match r.map(|r| &r.route) {
        Some(Route::Ou { path, .. }) => ("ou", path.to_string()),
        Some(other) => (route_str(other), String::new()),
        None => ("", String::new()),
    };
    [
        row.account.to_string(),
        row.name.to_owned(),
        row.path.to_string(),
        row.state.as_str().to_owned(),
        model.key.to_string(),
        model.in_file.to_string(),
        model.license.to_string(),
        if cell.state.has_access() { "yes" } else { "no" }.to_owned(),
        cell.state.as_str().to_owned(),
        wanted_str(&cell.wanted).to_owned(),
        route.to_owned(),
        ou_path,
        r.map(|r| r.grant.principal.arn()).unwrap_or_default(),
        r.map(|r| r.grant.arn.to_string()).unwrap_or_default(),
        r.map(|r| r.grant.name.clone()).unwrap_or_default(),
        r.map(|r| r.grant.status.to_string()).unwrap_or_default(),
        r.map(|r| r.managed.to_string()).unwrap_or_default(),
        r.and_then(|r| r.share)
            .map(ToString::to_string)
            .unwrap_or_default(),
        r.map(|r| r.in_effect.to_string()).unwrap_or_default(),
    ]
}
