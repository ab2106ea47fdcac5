//! The deny documents: which resources a model's ids stand for, and how the statements are split
//! into documents that each fit AWS's 5,120-character SCP quota.

use super::{LayoutError, ModelGuard, SCP_MAX_CHARS};

/// The resources one model id denies: the foundation model in every Region (the form of AWS's
/// "Example SCPs for Amazon Bedrock"), and the system-defined cross-Region inference profiles
/// named after it (`us.`, `eu.`, `apac.`, `global.` … followed by the model id).
///
/// Invoking through an inference profile is authorized on the profile and on the foundation
/// model in the destination Region (Bedrock user guide, "Prerequisites for inference profiles"),
/// so the foundation-model ARN alone already stops a profile (and an application inference
/// profile, whose ARN does not name the model); the profile ARN is a second, explicit lock.
pub fn resources_for(model_id: &str) -> [String; 2] {
    [
        format!("arn:aws:bedrock:*::foundation-model/{model_id}"),
        format!("arn:aws:bedrock:*:*:inference-profile/*.{model_id}"),
    ]
}

/// Characters IAM accepts in a resource pattern that a Bedrock model id can hold: letters,
/// digits, `.`, `-`, `_`, `:` and the wildcards `*` and `?`.
pub(crate) fn valid_model_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:*?".contains(&b))
}

const HEAD: &str = r#"{"Version":"2012-10-17","Statement":["#;
const TAIL: &str = "]}";
const DENY_MODELS_HEAD: &str =
    r#"{"Sid":"DenyBedrockModels","Effect":"Deny","Action":"bedrock:*","Resource":["#;
const DENY_MODELS_TAIL: &str = "]}";
const DENY_SUBSCRIBE_HEAD: &str = r#"{"Sid":"DenyMarketplaceSubscribe","Effect":"Deny","Action":"aws-marketplace:Subscribe","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws-marketplace:ProductId":["#;
const DENY_SUBSCRIBE_TAIL: &str = "]}}}";

/// A JSON string literal (ids are checked ASCII, but escape anyway).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// The items of one document being filled, with the length the document would have.
#[derive(Debug, Default, Clone)]
struct Chunk {
    resources: Vec<String>,
    products: Vec<String>,
    resources_len: usize,
    products_len: usize,
}

impl Chunk {
    fn list_len(items: usize, chars: usize) -> usize {
        chars + items.saturating_sub(1)
    }

    fn len_with(&self, resources: (usize, usize), products: (usize, usize)) -> usize {
        let (rn, rc) = resources;
        let (pn, pc) = products;
        let mut n = HEAD.len() + TAIL.len();
        if rn > 0 {
            n += DENY_MODELS_HEAD.len() + DENY_MODELS_TAIL.len() + Chunk::list_len(rn, rc);
        }
        if pn > 0 {
            n += DENY_SUBSCRIBE_HEAD.len() + DENY_SUBSCRIBE_TAIL.len() + Chunk::list_len(pn, pc);
        }
        if rn > 0 && pn > 0 {
            n += 1;
        }
        n
    }

    /// Whether `item` fits; adds it when it does.
    fn try_add(&mut self, item: &Item) -> bool {
        let q = quoted(item.text());
        let (mut r, mut p) = (
            (self.resources.len(), self.resources_len),
            (self.products.len(), self.products_len),
        );
        match item {
            Item::Resource(_) => r = (r.0 + 1, r.1 + q.len()),
            Item::Product(_) => p = (p.0 + 1, p.1 + q.len()),
        }
        if self.len_with(r, p) > SCP_MAX_CHARS {
            return false;
        }
        match item {
            Item::Resource(s) => {
                self.resources.push(s.clone());
                self.resources_len += q.len();
            }
            Item::Product(s) => {
                self.products.push(s.clone());
                self.products_len += q.len();
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.resources.is_empty() && self.products.is_empty()
    }

    fn render(&self) -> String {
        let join = |v: &[String]| v.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(",");
        let mut statements = Vec::new();
        if !self.resources.is_empty() {
            statements.push(format!(
                "{DENY_MODELS_HEAD}{}{DENY_MODELS_TAIL}",
                join(&self.resources)
            ));
        }
        if !self.products.is_empty() {
            statements.push(format!(
                "{DENY_SUBSCRIBE_HEAD}{}{DENY_SUBSCRIBE_TAIL}",
                join(&self.products)
            ));
        }
        format!("{HEAD}{}{TAIL}", statements.join(","))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Resource(String),
    Product(String),
}

impl Item {
    fn text(&self) -> &str {
        match self {
            Item::Resource(s) | Item::Product(s) => s,
        }
    }
}

/// What a set of models denies, in order: each model's resources (ids sorted), then its
/// Marketplace product when `deny_subscribe`.
fn items(models: &[&ModelGuard], deny_subscribe: bool) -> Vec<Item> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for m in models {
        let ids: std::collections::BTreeSet<&String> = m.model_ids.iter().collect();
        for id in ids {
            for r in resources_for(id) {
                if seen.insert(r.clone()) {
                    out.push(Item::Resource(r));
                }
            }
        }
        if deny_subscribe
            && let Some(p) = &m.marketplace_product_id
            && seen.insert(format!("product:{p}"))
        {
            out.push(Item::Product(p.clone()));
        }
    }
    out
}

/// The documents denying `models` (sorted by key), each within the SCP size quota, filled in
/// order: the fewest documents a first-fit of the statements' items gives.
pub(crate) fn documents(
    models: &[&ModelGuard],
    deny_subscribe: bool,
) -> Result<Vec<String>, LayoutError> {
    let mut docs = Vec::new();
    let mut chunk = Chunk::default();
    for item in items(models, deny_subscribe) {
        if chunk.try_add(&item) {
            continue;
        }
        if chunk.is_empty() {
            return Err(LayoutError::ItemTooLarge {
                item: item.text().to_owned(),
            });
        }
        docs.push(chunk.render());
        chunk = Chunk::default();
        if !chunk.try_add(&item) {
            return Err(LayoutError::ItemTooLarge {
                item: item.text().to_owned(),
            });
        }
    }
    if !chunk.is_empty() {
        docs.push(chunk.render());
    }
    Ok(docs)
}
