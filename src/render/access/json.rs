//! The access matrix as JSON.

use serde_json::{Value, json};

use super::{disagrees, invoke_fields, route_str, wanted_str};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, Route, Row};
use crate::model::GrantStatus;

fn cell_json(m: &AccessMatrix, row: &Row, i: usize) -> Value {
    let cell = &row.cells[i];
    let via: Vec<Value> = cell
        .via
        .iter()
        .map(|r| {
            json!({
                "route": route_str(&r.route),
                "ou_path": match &r.route { Route::Ou { path, .. } => Some(path.as_str()), _ => None },
                "principal": r.principal.arn(),
                "grant_arn": r.grant_arn.as_str(),
                "grant_name": r.grant_name,
                "status": r.status.as_str(),
                "managed": r.managed,
                "share_status": r.share.as_ref().map(GrantStatus::as_str),
                "share_not_in_effect": r.share_not_in_effect(),
                "in_effect": r.is_effective(),
            })
        })
        .collect();
    let mut doc = json!({
        "access": cell.state.has_access(),
        "state": cell.state.as_str(),
        "wanted": wanted_str(&cell.wanted),
        "differs_from_file": disagrees(cell),
        "via": via,
        "why": explain(m, row, i),
    });
    if cell.invoke.is_some() {
        let [may_invoke, policy, leak] = invoke_fields(cell);
        doc["may_invoke"] = json!(may_invoke);
        doc["invoke_policy"] = json!((!policy.is_empty()).then_some(policy));
        doc["leak"] = json!((!leak.is_empty()).then_some(leak));
    }
    doc
}

/// `{organization, grantor, models: [...], accounts: [{id, name, path, state, models: {KEY: cell}}]}`.
pub fn json(m: &AccessMatrix) -> String {
    let models: Vec<Value> = m
        .models
        .iter()
        .map(|mm| {
            json!({
                "key": mm.key.as_str(),
                "license_arn": mm.license.as_str(),
                "product_name": mm.product_name,
                "in_file": mm.in_file,
            })
        })
        .collect();
    let accounts: Vec<Value> = m
        .rows
        .iter()
        .map(|row| {
            let cells: serde_json::Map<String, Value> = m
                .models
                .iter()
                .enumerate()
                .map(|(i, mm)| (mm.key.to_string(), cell_json(m, row, i)))
                .collect();
            json!({
                "id": row.account.as_str(),
                "name": row.name,
                "path": row.path,
                "state": row.state.as_str(),
                "models": cells,
            })
        })
        .collect();
    let doc = json!({
        "organization": m.organization.as_str(),
        "grantor": m.grantor.as_str(),
        "models": models,
        "accounts": accounts,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
