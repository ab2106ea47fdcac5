//! The access matrix as CSV: one record per (account, model).

use super::{has_invoke, invoke_fields, route_str, wanted_str};
use crate::audit::{AccessMatrix, Route};
use crate::render::escape::csv_record;

/// One line per (account, model), with a header line.
pub fn csv(m: &AccessMatrix) -> String {
    let invoke = has_invoke(m);
    let mut out = String::from(
        "account_id,account_name,account_path,account_state,model,in_file,license_arn,access,state,wanted,route,ou_path,principal,grant_arn,grant_name,grant_status,managed,share_status,in_effect",
    );
    out.push_str(if invoke {
        ",may_invoke,invoke_policy,leak\n"
    } else {
        "\n"
    });
    for row in &m.rows {
        for (cell, model) in row.cells.iter().zip(&m.models) {
            let r = cell
                .provider()
                .or_else(|| cell.via.iter().find(|r| r.share_not_in_effect()))
                .or_else(|| cell.via.first());
            let (route, ou_path) = match r.map(|r| &r.route) {
                Some(Route::Ou { path, .. }) => ("ou", path.clone()),
                Some(other) => (route_str(other), String::new()),
                None => ("", String::new()),
            };
            let fields = [
                row.account.to_string(),
                row.name.clone(),
                row.path.clone(),
                row.state.as_str().to_owned(),
                model.key.to_string(),
                model.in_file.to_string(),
                model.license.to_string(),
                if cell.state.has_access() { "yes" } else { "no" }.to_owned(),
                cell.state.as_str().to_owned(),
                wanted_str(&cell.wanted).to_owned(),
                route.to_owned(),
                ou_path,
                r.map(|r| r.principal.arn()).unwrap_or_default(),
                r.map(|r| r.grant_arn.to_string()).unwrap_or_default(),
                r.map(|r| r.grant_name.clone()).unwrap_or_default(),
                r.map(|r| r.status.to_string()).unwrap_or_default(),
                r.map(|r| r.managed.to_string()).unwrap_or_default(),
                r.and_then(|r| r.share.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                r.map(|r| r.in_effect.to_string()).unwrap_or_default(),
            ];
            out.push_str(&csv_record(&fields));
            if invoke {
                out.push(',');
                out.push_str(&csv_record(&invoke_fields(cell)));
            }
            out.push('\n');
        }
    }
    out
}
