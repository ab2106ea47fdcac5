//! The access matrix as JSON, written as it is produced: the accounts and their cells are
//! serialized one by one straight to the writer (10,000 accounts × 30 models would otherwise be
//! a `serde_json::Value` of over a gigabyte). Fields are declared in alphabetical order, the
//! order the document had when it was built as a `serde_json::Value`.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::{disagrees, invoke_fields, route_str, wanted_str};
use crate::audit::access::explain;
use crate::audit::{AccessMatrix, Reach, Route, Row};
use crate::model::GrantStatus;

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// `access --format json`: `{accounts: [{id, name, path, state, models: {KEY: cell}}],
/// format_version, grantor, models: [...], organization}`.
#[derive(Serialize)]
pub struct AccessDocument<'m> {
    pub accounts: Accounts<'m>,
    pub format_version: u32,
    pub grantor: &'m str,
    pub models: Vec<ModelDocument<'m>>,
    pub organization: &'m str,
}

#[derive(Serialize)]
pub struct ModelDocument<'m> {
    pub in_file: bool,
    pub key: &'m str,
    pub license_arn: &'m str,
    pub product_name: &'m str,
}

/// Every account of the matrix, serialized as they are iterated.
pub struct Accounts<'m>(&'m AccessMatrix);

#[derive(Serialize)]
struct AccountDocument<'m> {
    id: &'m str,
    models: Cells<'m>,
    name: &'m str,
    path: &'m str,
    state: &'m str,
}

/// One account's cells by model key, serialized as they are made.
struct Cells<'m> {
    matrix: &'m AccessMatrix,
    row: &'m Row,
}

#[derive(Serialize)]
struct CellDocument<'m> {
    access: bool,
    differs_from_file: bool,
    /// Present when the SCPs were read.
    #[serde(flatten)]
    invoke: Option<InvokeDocument>,
    state: &'static str,
    via: Vec<ViaDocument<'m>>,
    wanted: &'static str,
    why: Vec<String>,
}

#[derive(Serialize)]
struct InvokeDocument {
    invoke_policy: Option<String>,
    leak: Option<String>,
    may_invoke: String,
}

#[derive(Serialize)]
struct ViaDocument<'m> {
    grant_arn: &'m str,
    grant_name: &'m str,
    in_effect: bool,
    managed: bool,
    ou_path: Option<&'m str>,
    principal: String,
    route: &'static str,
    share_not_in_effect: bool,
    share_status: Option<&'m str>,
    status: &'m str,
}

impl Serialize for Accounts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.rows.len()))?;
        for row in &self.0.rows {
            seq.serialize_element(&AccountDocument {
                id: row.account.as_str(),
                models: Cells {
                    matrix: self.0,
                    row,
                },
                name: &row.name,
                path: &row.path,
                state: row.state.as_str(),
            })?;
        }
        seq.end()
    }
}

impl Serialize for Cells<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Keys sorted as a JSON object's keys always were (model keys are unique).
        let mut order: Vec<usize> = (0..self.matrix.models.len()).collect();
        order.sort_by_key(|&i| self.matrix.models[i].key.as_str());
        let mut map = serializer.serialize_map(Some(order.len()))?;
        for i in order {
            let key = self.matrix.models[i].key.as_str();
            map.serialize_entry(key, &cell_document(self.matrix, self.row, i))?;
        }
        map.end()
    }
}

fn via_document(r: &Reach) -> ViaDocument<'_> {
    ViaDocument {
        grant_arn: r.grant_arn.as_str(),
        grant_name: &r.grant_name,
        in_effect: r.is_effective(),
        managed: r.managed,
        ou_path: match &r.route {
            Route::Ou { path, .. } => Some(path.as_str()),
            _ => None,
        },
        principal: r.principal.arn(),
        route: route_str(&r.route),
        share_not_in_effect: r.share_not_in_effect(),
        share_status: r.share.as_ref().map(GrantStatus::as_str),
        status: r.status.as_str(),
    }
}

fn cell_document<'m>(m: &'m AccessMatrix, row: &'m Row, i: usize) -> CellDocument<'m> {
    let cell = &row.cells[i];
    let invoke = cell.invoke.as_ref().map(|_| {
        let [may_invoke, policy, leak] = invoke_fields(cell);
        InvokeDocument {
            invoke_policy: (!policy.is_empty()).then_some(policy),
            leak: (!leak.is_empty()).then_some(leak),
            may_invoke,
        }
    });
    CellDocument {
        access: cell.state.has_access(),
        differs_from_file: disagrees(cell),
        invoke,
        state: cell.state.as_str(),
        via: cell.via.iter().map(via_document).collect(),
        wanted: wanted_str(&cell.wanted),
        why: explain(m, row, i),
    }
}

impl<'m> AccessDocument<'m> {
    pub fn of(m: &'m AccessMatrix) -> AccessDocument<'m> {
        AccessDocument {
            accounts: Accounts(m),
            format_version: FORMAT_VERSION,
            grantor: m.grantor.as_str(),
            models: m
                .models
                .iter()
                .map(|mm| ModelDocument {
                    in_file: mm.in_file,
                    key: mm.key.as_str(),
                    license_arn: mm.license.as_str(),
                    product_name: &mm.product_name,
                })
                .collect(),
            organization: m.organization.as_str(),
        }
    }
}

/// Writes the document, pretty printed with a final newline, as it is produced.
pub fn write_json(m: &AccessMatrix, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &AccessDocument::of(m))?;
    out.write_all(b"\n")
}

/// The document as a string (tests and small matrices; the CLI streams with [`write_json`]).
pub fn json(m: &AccessMatrix) -> String {
    let mut out = Vec::new();
    write_json(m, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
