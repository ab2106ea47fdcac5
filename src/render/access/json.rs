//! The access matrix as JSON, written as it is produced: the accounts and their cells are
//! serialized one by one straight to the writer (10,000 accounts × 30 models would otherwise be
//! a `serde_json::Value` of over a gigabyte). Fields are declared in alphabetical order, the
//! order the document had when it was built as a `serde_json::Value`.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::{disagrees, invoke_fields, route_str, wanted_str};
use crate::audit::access::explain;
use crate::audit::{AccessView, Reach, Route, Row};
use crate::model::GrantStatus;

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// `access --format json`: `{accounts: [{id, name, path, state, models: {KEY: cell}}],
/// format_version, grantor, models: [...], organization}`.
#[derive(Serialize)]
#[serde(bound = "")]
pub struct AccessDocument<'m, V: AccessView> {
    pub accounts: Accounts<'m, V>,
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

/// Every account of the matrix, serialized as its rows are read (from an
/// [`crate::audit::Access`], made one at a time).
pub struct Accounts<'m, V>(&'m V);

#[derive(Serialize)]
#[serde(bound = "")]
struct AccountDocument<'m, V: AccessView> {
    id: &'m str,
    models: Cells<'m, V>,
    name: &'m str,
    path: &'m str,
    state: &'m str,
}

/// One account's cells by model key, serialized as they are made.
struct Cells<'m, V> {
    matrix: &'m V,
    row: &'m Row<'m>,
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

impl<V: AccessView> Serialize for Accounts<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // No length: the rows are counted as they come (serde_json writes the same either way).
        let mut seq = serializer.serialize_seq(None)?;
        self.0.try_for_each_row(|row| {
            seq.serialize_element(&AccountDocument {
                id: row.account.as_str(),
                models: Cells {
                    matrix: self.0,
                    row,
                },
                name: row.name,
                path: &row.path,
                state: row.state.as_str(),
            })
        })?;
        seq.end()
    }
}

impl<V: AccessView> Serialize for Cells<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Keys sorted as a JSON object's keys always were (model keys are unique).
        let models = self.matrix.models();
        let mut order: Vec<usize> = (0..models.len()).collect();
        order.sort_by_key(|&i| models[i].key.as_str());
        let mut map = serializer.serialize_map(Some(order.len()))?;
        for i in order {
            let key = models[i].key.as_str();
            map.serialize_entry(key, &cell_document(self.matrix, self.row, i))?;
        }
        map.end()
    }
}

fn via_document<'m>(r: &'m Reach<'_>) -> ViaDocument<'m> {
    ViaDocument {
        grant_arn: r.grant.arn.as_str(),
        grant_name: &r.grant.name,
        in_effect: r.is_effective(),
        managed: r.managed,
        ou_path: match &r.route {
            Route::Ou { path, .. } => Some(path),
            _ => None,
        },
        principal: r.grant.principal.arn(),
        route: route_str(&r.route),
        share_not_in_effect: r.share_not_in_effect(),
        share_status: r.share.map(GrantStatus::as_str),
        status: r.grant.status.as_str(),
    }
}

fn cell_document<'m>(m: &'m impl AccessView, row: &'m Row<'m>, i: usize) -> CellDocument<'m> {
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

impl<'m, V: AccessView> AccessDocument<'m, V> {
    pub fn of(m: &'m V) -> AccessDocument<'m, V> {
        AccessDocument {
            accounts: Accounts(m),
            format_version: FORMAT_VERSION,
            grantor: m.grantor().as_str(),
            models: m
                .models()
                .iter()
                .map(|mm| ModelDocument {
                    in_file: mm.in_file,
                    key: mm.key.as_str(),
                    license_arn: mm.license.as_str(),
                    product_name: &mm.product_name,
                })
                .collect(),
            organization: m.organization().as_str(),
        }
    }
}

/// Writes the document, pretty printed with a final newline, as it is produced (from an
/// [`crate::audit::Access`], rows are made as they are written).
pub fn write_json(m: &impl AccessView, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &AccessDocument::of(m))?;
    out.write_all(b"\n")
}

/// The document as a string (tests and small matrices; the CLI streams with [`write_json`]).
pub fn json(m: &impl AccessView) -> String {
    let mut out = Vec::new();
    write_json(m, &mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}
