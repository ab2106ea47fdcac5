//! `licenses`: the model licenses the account has received, so people can write the file
//! without opening the console. Sorted by product name, then license ARN.

use std::fmt::Write as _;

use serde::Serialize;

use super::common::clean;
use super::escape::md;
use crate::config::{LicenseSelector, ModelKey};
use crate::model::{License, LicenseArn};
use crate::org::{LicenseCandidate, choose_license};

/// A product with several received licenses (a renewal): the one the renewal rule
/// (`org::choose_license`) grants from, and every other with why it lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductChoice {
    pub product_sku: String,
    pub product_name: String,
    /// The file's models that name this product by SKU or name (empty without a file).
    pub models: Vec<ModelKey>,
    /// None when no license of the product is eligible.
    pub chosen: Option<LicenseArn>,
    pub others: Vec<LicenseCandidate>,
}

/// The choice for every product with more than one received license, by SKU. `models` are the
/// file's models and how each names its license; `now` is the clock (seconds, 0 = unknown).
pub fn product_choices(
    licenses: &[License],
    models: &[(ModelKey, LicenseSelector)],
    now: i64,
) -> Vec<ProductChoice> {
    let mut by_sku: std::collections::BTreeMap<&str, Vec<&License>> = Default::default();
    for l in licenses {
        by_sku.entry(l.product_sku.as_str()).or_default().push(l);
    }
    by_sku
        .into_values()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let first = group[0];
            let names = |m: &&(ModelKey, LicenseSelector)| match &m.1 {
                LicenseSelector::ProductSku(sku) => sku == &first.product_sku,
                LicenseSelector::ProductName(name) => name == &first.product_name,
                LicenseSelector::LicenseArn(_) => false,
            };
            let (chosen, others) = match choose_license(&group, now) {
                Ok((chosen, others)) => (Some(chosen.arn.clone()), others),
                Err(lost) => (None, lost),
            };
            ProductChoice {
                product_sku: first.product_sku.clone(),
                product_name: first.product_name.clone(),
                models: models.iter().filter(names).map(|m| m.0.clone()).collect(),
                chosen,
                others,
            }
        })
        .collect()
}

/// `model a, b, product P (SKU)` or `product P (SKU)`.
fn choice_subject(c: &ProductChoice, esc: fn(&str) -> String) -> String {
    let product = format!("product {} ({})", esc(&c.product_name), esc(&c.product_sku));
    if c.models.is_empty() {
        product
    } else {
        let keys: Vec<String> = c.models.iter().map(ToString::to_string).collect();
        format!("model {}, {product}", keys.join(", "))
    }
}

/// One paragraph per product with several licenses: the chosen one, then the others.
fn choices_lines(choices: &[ProductChoice], esc: fn(&str) -> String, bullet: &str) -> String {
    let mut out = String::new();
    for c in choices {
        let chosen = c
            .chosen
            .as_ref()
            .map_or("no license is eligible".to_owned(), |a| {
                format!("grants from {a}")
            });
        let _ = writeln!(out, "{}: {chosen}", choice_subject(c, esc));
        for o in &c.others {
            let _ = writeln!(out, "{bullet}not {}: {}", o.arn, esc(&o.lost.describe()));
        }
    }
    out
}

/// The licenses in the order every view lists them.
pub fn sorted(licenses: &[License]) -> Vec<&License> {
    let mut v: Vec<&License> = licenses.iter().collect();
    v.sort_by(|a, b| {
        (&a.product_name, &a.product_sku, &a.arn).cmp(&(&b.product_name, &b.product_sku, &b.arn))
    });
    v
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn validity(l: &License) -> &str {
    l.validity_end.as_deref().unwrap_or("-")
}

/// A table for a terminal, then one line on what to write in the file.
pub fn text(licenses: &[License], choices: &[ProductChoice]) -> String {
    let rows: Vec<[String; 7]> = sorted(licenses)
        .into_iter()
        .map(|l| {
            [
                clean(&l.product_name),
                clean(&l.product_sku),
                l.arn.to_string(),
                clean(&l.status),
                clean(&l.issuer),
                clean(validity(l)),
                yes_no(l.allows_create_grant()).to_owned(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "No model licenses received. Subscribe to a model in the Amazon Bedrock console \
                (us-east-1), then check again after a few minutes.\n"
            .to_owned();
    }
    let header = [
        "PRODUCT",
        "SKU",
        "LICENSE ARN",
        "STATUS",
        "ISSUER",
        "VALID UNTIL",
        "CAN GRANT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                let _ = write!(s, "{cell}{}  ", " ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&mut out, header.to_vec());
    for row in &rows {
        line(&mut out, row.iter().map(String::as_str).collect());
    }
    let _ = writeln!(
        out,
        "\n{} license(s). Name one in entitlements.yaml with product_sku (or product_name, or license_arn); \
         only licenses with CAN GRANT yes can be distributed from this account.",
        rows.len()
    );
    if !choices.is_empty() {
        out.push_str("\nProducts with several licenses (renewals):\n");
        out.push_str(&choices_lines(choices, clean, "  "));
    }
    out
}

/// A Markdown table.
pub fn markdown(licenses: &[License], choices: &[ProductChoice]) -> String {
    let mut out = String::from("## Received model licenses\n\n");
    if licenses.is_empty() {
        out.push_str("No model licenses received.\n");
        return out;
    }
    out.push_str(
        "| product | SKU | license ARN | status | issuer | valid until | can grant |\n\
         | :-- | :-- | :-- | :-- | :-- | :-- | :-- |\n",
    );
    for l in sorted(licenses) {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} | {} |",
            md(&l.product_name),
            md(&l.product_sku),
            l.arn,
            md(&l.status),
            md(&l.issuer),
            md(validity(l)),
            yes_no(l.allows_create_grant())
        );
    }
    if !choices.is_empty() {
        out.push_str("\n### Products with several licenses (renewals)\n\n");
        for line in choices_lines(choices, md, "  - ").lines() {
            let bullet = if line.starts_with("  - ") { "" } else { "- " };
            let _ = writeln!(out, "{bullet}{line}");
        }
    }
    out
}

/// The JSON document's `format_version`.
pub const FORMAT_VERSION: u32 = 1;

/// `licenses --format json`. Fields are declared in alphabetical order, the order the document
/// had when it was built as a `serde_json::Value`.
#[derive(Debug, Serialize)]
pub struct LicensesDocument<'l> {
    /// Products with several licenses: the rule's choice and why the others lost.
    pub choices: Vec<ChoiceDocument<'l>>,
    pub format_version: u32,
    pub licenses: Vec<LicenseDocument<'l>>,
}

#[derive(Debug, Serialize)]
pub struct LicenseDocument<'l> {
    pub beneficiary: Option<&'l str>,
    pub can_grant: bool,
    pub home_region: &'l str,
    pub issuer: &'l str,
    pub license_arn: &'l str,
    pub license_name: &'l str,
    pub product_name: &'l str,
    pub product_sku: &'l str,
    pub status: &'l str,
    pub validity_end: Option<&'l str>,
}

#[derive(Debug, Serialize)]
pub struct ChoiceDocument<'l> {
    pub chosen: Option<&'l str>,
    pub models: Vec<&'l str>,
    pub others: Vec<OtherDocument<'l>>,
    pub product_name: &'l str,
    pub product_sku: &'l str,
}

#[derive(Debug, Serialize)]
pub struct OtherDocument<'l> {
    pub license_arn: &'l str,
    /// `not_available`, `no_create_grant`, `not_yet_valid`, `expired`, `ends_earlier`,
    /// `began_earlier` or `larger_arn`.
    pub lost: &'static str,
    pub status: Option<&'l str>,
    pub why: String,
}

impl<'l> LicensesDocument<'l> {
    pub fn of(licenses: &'l [License], choices: &'l [ProductChoice]) -> LicensesDocument<'l> {
        LicensesDocument {
            choices: choices.iter().map(choice_document).collect(),
            format_version: FORMAT_VERSION,
            licenses: sorted(licenses)
                .into_iter()
                .map(|l| LicenseDocument {
                    beneficiary: l.beneficiary.as_deref(),
                    can_grant: l.allows_create_grant(),
                    home_region: &l.home_region,
                    issuer: &l.issuer,
                    license_arn: l.arn.as_str(),
                    license_name: &l.name,
                    product_name: &l.product_name,
                    product_sku: &l.product_sku,
                    status: &l.status,
                    validity_end: l.validity_end.as_deref(),
                })
                .collect(),
        }
    }
}

/// The document, pretty printed with a final newline.
pub fn json(licenses: &[License], choices: &[ProductChoice]) -> String {
    let doc = LicensesDocument::of(licenses, choices);
    let mut text = serde_json::to_string_pretty(&doc).expect("a licenses document serializes");
    text.push('\n');
    text
}

fn choice_document(c: &ProductChoice) -> ChoiceDocument<'_> {
    ChoiceDocument {
        chosen: c.chosen.as_ref().map(LicenseArn::as_str),
        models: c.models.iter().map(ModelKey::as_str).collect(),
        others: c
            .others
            .iter()
            .map(|o| OtherDocument {
                license_arn: o.arn.as_str(),
                lost: o.lost.code(),
                status: match &o.lost {
                    crate::org::LostBecause::NotAvailable(status) => Some(status.as_str()),
                    _ => None,
                },
                why: o.lost.describe(),
            })
            .collect(),
        product_name: &c.product_name,
        product_sku: &c.product_sku,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lic(n: u8, sku: &str, status: &str, end: &str) -> License {
        License {
            arn: format!("arn:aws:license-manager::294406891311:license:l-{n:032x}")
                .parse()
                .expect("valid"),
            name: format!("license {n}"),
            product_name: format!("Product <{sku}>"),
            product_sku: sku.to_owned(),
            issuer: "AWS/Marketplace".to_owned(),
            status: status.to_owned(),
            home_region: "us-east-1".to_owned(),
            received_operations: vec!["CreateGrant".to_owned()],
            validity_begin: Some("2025-01-01T00:00:00Z".to_owned()),
            validity_end: Some(end.to_owned()),
            beneficiary: None,
        }
    }

    #[test]
    fn every_view_shows_the_renewal_choice_and_why_the_others_lost() {
        let licenses = [
            lic(1, "prod-r", "AVAILABLE", "2026-12-01T00:00:00Z"),
            lic(2, "prod-r", "AVAILABLE", "2027-06-01T00:00:00Z"),
            lic(3, "prod-r", "EXPIRED", "2027-06-01T00:00:00Z"),
            lic(4, "prod-single", "AVAILABLE", "2027-06-01T00:00:00Z"),
        ];
        let key = ModelKey::parse("renewed").expect("valid");
        let models = [(key, LicenseSelector::ProductSku("prod-r".to_owned()))];
        let now = crate::model::parse_time("2026-07-01T00:00:00Z").expect("valid");
        let choices = product_choices(&licenses, &models, now);
        assert_eq!(
            choices.len(),
            1,
            "a product with one license needs no choice"
        );
        let arn = |n: u8| format!("arn:aws:license-manager::294406891311:license:l-{n:032x}");

        let text = text(&licenses, &choices);
        let want = format!(
            "model renewed, product Product <prod-r> (prod-r): grants from {}\n  not {}: its validity ends earlier\n  not {}: its status is EXPIRED, not AVAILABLE\n",
            arn(2),
            arn(1),
            arn(3)
        );
        assert!(text.ends_with(&want), "{text}");

        let md = markdown(&licenses, &choices);
        let want = format!(
            "- model renewed, product Product \\<prod-r\\> (prod-r): grants from {}\n  - not {}: its validity ends earlier\n",
            arn(2),
            arn(1)
        );
        assert!(md.contains(&want), "{md}");

        let doc: serde_json::Value = serde_json::from_str(&json(&licenses, &choices)).unwrap();
        let c = &doc["choices"][0];
        assert_eq!(c["models"], json!(["renewed"]));
        assert_eq!(c["chosen"], json!(arn(2)));
        assert_eq!(c["others"][0]["lost"], "ends_earlier");
        assert_eq!(c["others"][1]["lost"], "not_available");
        assert_eq!(c["others"][1]["status"], "EXPIRED");
    }
}
