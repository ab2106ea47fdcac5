//! The walk from the node tree to a [`Config`]: every check of the file that needs no AWS.
//! It never stops at the first problem: every problem found becomes one [`Diagnostic`].

use std::collections::{BTreeMap, BTreeSet};

use super::types::{
    AccountRef, ActivationOverride, Config, DesiredStatus, GrantTo, LicenseSelector, ModelKey,
    ModelSpec, OuRef, Settings,
};
use super::yaml::{Kind, Node, Scalar, ScalarType};
use crate::model::{AccountId, Diagnostic, KNOWN_OPERATIONS, LicenseArn, OuId, Span, Spanned};

mod bootstrap;
mod guardrails;
mod subscribe;

/// The only version of the file this build reads.
pub const SUPPORTED_VERSION: u32 = 1;

pub(super) const TOP_KEYS: &[&str] = &["version", "settings", "models"];
pub(super) const SETTINGS_KEYS: &[&str] = &[
    "home_region",
    "grant_name_prefix",
    "allowed_operations",
    "max_deletes",
    "expiry_warning_days",
    "recipient_role",
    "activation_override",
    "guardrails",
    "bootstrap",
    "allowed_sellers",
];
pub(super) const BOOTSTRAP_KEYS: &[&str] = &["delegated_administrator", "anthropic_use_case"];
pub(super) const USE_CASE_KEYS: &[&str] = &[
    "company_name",
    "company_website",
    "intended_users",
    "industry_option",
    "other_industry_option",
    "use_cases",
];
pub(super) const GUARDRAIL_KEYS: &[&str] =
    &["mode", "policy_name_prefix", "deny_marketplace_subscribe"];
pub(super) const MODEL_KEYS: &[&str] = &[
    "product_sku",
    "product_name",
    "license_arn",
    "grant_to",
    "except_accounts",
    "status",
    "bedrock_model_ids",
    "marketplace_product_id",
    "subscribe",
];
pub(super) const GRANT_TO_KEYS: &[&str] = &["organization", "organizational_units", "accounts"];
const SELECTORS: &[&str] = &["product_sku", "product_name", "license_arn"];

/// Checks the whole document and builds the config when nothing is wrong.
pub(super) fn build(doc: Option<Node>) -> Result<Config, Vec<Diagnostic>> {
    let mut w = Walker {
        diags: Vec::new(),
        mode_line: None,
    };
    let config = w.document(doc.as_ref());
    let mut diags = w.diags;
    match config {
        Some(config) if diags.is_empty() => Ok(config),
        _ => {
            if diags.is_empty() {
                // Unreachable by construction; never hand back an invalid file without a reason.
                diags.push(Diagnostic::error(
                    first_span(),
                    "the file could not be read as a desired-state file",
                ));
            }
            diags.sort();
            diags.dedup();
            Err(diags)
        }
    }
}

fn first_span() -> Span {
    Span {
        offset: 0,
        line: 1,
        column: 1,
    }
}

/// How a node reads to a person, for "found ..." in messages.
fn found(node: &Node) -> &'static str {
    match &node.kind {
        Kind::Seq(_) => "a list",
        Kind::Map(_) => "a mapping",
        Kind::Scalar(s) => match s.resolve() {
            ScalarType::Null => "nothing",
            ScalarType::Bool(_) => "a boolean",
            ScalarType::Int | ScalarType::Float => "a number",
            ScalarType::Str => "a string",
        },
    }
}

fn scalar(node: &Node) -> Option<&Scalar> {
    match &node.kind {
        Kind::Scalar(s) => Some(s),
        _ => None,
    }
}

fn is_null(node: &Node) -> bool {
    scalar(node).is_some_and(|s| s.resolve() == ScalarType::Null)
}

/// The closest candidate to a misspelt word, if one is close enough to be a likely typo.
pub(super) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `001` → 1, `0x1f` → 31, `-3` → -3; `None` when the text is not an integer or out of range.
fn int_value(text: &str) -> Option<i128> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i128::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i128::from_str_radix(oct, 8).ok();
    }
    text.parse().ok()
}

/// The known keys of one mapping, each with its key node and value node, and the known keys
/// that an unknown key looked like a typo of (so that "missing `x`" is not said as well).
struct Fields<'n> {
    found: BTreeMap<&'static str, (&'n Node, &'n Node)>,
    suggested: BTreeSet<&'static str>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&(&'n Node, &'n Node)> {
        self.found.get(key)
    }

    /// The key is absent and no unknown key was a likely typo of it.
    fn missing(&self, key: &str) -> bool {
        !self.found.contains_key(key) && !self.suggested.contains(key)
    }
}

struct Walker {
    diags: Vec<Diagnostic>,
    /// The line `settings.guardrails.mode` is written at, when given (for hints).
    mode_line: Option<u32>,
}

impl Walker {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.diags.push(Diagnostic::error(span, message));
    }

    fn error_hint(&mut self, span: Span, message: impl Into<String>, hint: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(span, message).with_hint(hint));
    }

    /// "`path` must be ...": `path` is a key path like `settings.max_deletes`, or an item of
    /// a list when written `path[]`, which reads "an entry of `path`".
    fn type_error(&mut self, node: &Node, path: &str, expected: &str) {
        let subject = match path.strip_suffix("[]") {
            Some(list) => format!("an entry of `{list}`"),
            None => format!("`{path}`"),
        };
        self.error(
            node.span,
            format!("{subject} must be {expected}, found {}", found(node)),
        );
    }

    /// The text of a mapping key; keys that are not scalars are reported.
    fn key_text<'n>(&mut self, key: &'n Node) -> Option<&'n str> {
        match &key.kind {
            Kind::Scalar(s) => Some(s.text.as_str()),
            _ => {
                self.error(
                    key.span,
                    format!("mapping keys must be plain text, found {}", found(key)),
                );
                None
            }
        }
    }

    /// Sorts a mapping's entries into the known keys, reporting duplicates and unknown keys.
    /// `misplaced` gives a hint for a key that belongs somewhere else.
    fn fields<'n>(
        &mut self,
        entries: &'n [(Node, Node)],
        allowed: &[&'static str],
        place: &str,
        misplaced: &dyn Fn(&str) -> Option<String>,
    ) -> Fields<'n> {
        let mut out: BTreeMap<&'static str, (&'n Node, &'n Node)> = BTreeMap::new();
        let mut suggested = BTreeSet::new();
        for (k, v) in entries {
            let Some(text) = self.key_text(k) else {
                continue;
            };
            if text == "<<" {
                // A merge key could bring in any key: say nothing about missing ones.
                suggested.extend(allowed.iter().copied());
                self.error_hint(
                    k.span,
                    "YAML merge keys (`<<`) are not supported",
                    "write the keys out, or repeat a list with an alias (`*name`)",
                );
                continue;
            }
            match allowed.iter().find(|a| **a == text) {
                Some(name) => {
                    if let Some((first, _)) = out.get(name) {
                        let line = first.span.line;
                        self.error_hint(
                            k.span,
                            format!("duplicate key `{text}` {place}"),
                            format!("`{text}` is first given at line {line}; keep one of them"),
                        );
                    } else {
                        out.insert(name, (k, v));
                    }
                }
                None => {
                    let close = did_you_mean(text, allowed);
                    suggested.extend(close);
                    let hint = misplaced(text)
                        .or_else(|| close.map(|m| format!("did you mean `{m}`?")))
                        .unwrap_or_else(|| {
                            let list: Vec<String> =
                                allowed.iter().map(|a| format!("`{a}`")).collect();
                            format!("the keys allowed here are {}", list.join(", "))
                        });
                    self.error_hint(k.span, format!("unknown key `{text}` {place}"), hint);
                }
            }
        }
        Fields {
            found: out,
            suggested,
        }
    }

    /// A string value; `None` (after reporting) when it is something else.
    fn string<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n str> {
        match scalar(node) {
            Some(s) if s.resolve() == ScalarType::Str => Some(s.text.as_str()),
            _ => {
                self.type_error(node, path, "a string");
                None
            }
        }
    }

    /// A list value (null reads as an empty list).
    fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.kind {
            Kind::Seq(items) => Some(items),
            _ if is_null(node) => Some(&[]),
            _ => {
                self.type_error(node, path, "a list");
                None
            }
        }
    }

    fn document(&mut self, doc: Option<&Node>) -> Option<Config> {
        let Some(root) = doc.filter(|n| !is_null(n)) else {
            self.error_hint(
                doc.map_or(first_span(), |n| n.span),
                "the file is empty",
                "a desired-state file starts with `version: 1` and has a `models` mapping",
            );
            return None;
        };
        let Kind::Map(entries) = &root.kind else {
            self.error_hint(
                root.span,
                format!(
                    "the file must be a mapping with `version` and `models`, found {}",
                    found(root)
                ),
                "a desired-state file starts with `version: 1` and has a `models` mapping",
            );
            return None;
        };
        let fields = self.fields(entries, TOP_KEYS, "at the top level", &|k| {
            if SETTINGS_KEYS.contains(&k) {
                Some(format!("`{k}` belongs under `settings`"))
            } else if MODEL_KEYS.contains(&k) || GRANT_TO_KEYS.contains(&k) {
                Some(format!(
                    "`{k}` belongs to a model, under `models: <model key>:`"
                ))
            } else {
                None
            }
        });

        let version = match fields.get("version") {
            None if !fields.missing("version") => None,
            None => {
                self.error_hint(
                    root.span,
                    "missing required key `version`",
                    "add `version: 1` as the first line",
                );
                None
            }
            Some((_, v)) => self.version(v),
        };
        let settings = match fields.get("settings") {
            None => Some(Settings::default()),
            Some((_, v)) if is_null(v) => Some(Settings::default()),
            Some((_, v)) => self.settings(v),
        };
        let models = match fields.get("models") {
            None if !fields.missing("models") => None,
            None => {
                self.error_hint(
                    root.span,
                    "missing required key `models`",
                    "add a `models` mapping with one entry per model (`models: {}` manages none)",
                );
                None
            }
            Some((_, v)) => self.models(v),
        };
        let config = Config {
            version: version?,
            settings: settings?,
            models: models?,
        };
        self.check_guarded_models(&config);
        self.check_subscriptions(&config);
        Some(config)
    }

    fn version(&mut self, node: &Node) -> Option<u32> {
        let s = scalar(node).filter(|s| s.resolve() == ScalarType::Int);
        let Some(s) = s else {
            self.error_hint(
                node.span,
                format!("`version` must be the number 1, found {}", found(node)),
                "write `version: 1`",
            );
            return None;
        };
        match int_value(&s.text) {
            Some(v) if v == i128::from(SUPPORTED_VERSION) => Some(SUPPORTED_VERSION),
            _ => {
                self.error_hint(
                    node.span,
                    format!("unsupported version {}", s.text),
                    format!("this build of bedrock-entitlements reads version {SUPPORTED_VERSION}"),
                );
                None
            }
        }
    }

    fn settings(&mut self, node: &Node) -> Option<Settings> {
        let Kind::Map(entries) = &node.kind else {
            self.type_error(node, "settings", "a mapping");
            return None;
        };
        let fields = self.fields(entries, SETTINGS_KEYS, "in `settings`", &|k| {
            TOP_KEYS
                .contains(&k)
                .then(|| format!("`{k}` belongs at the top level, not under `settings`"))
        });
        let before = self.diags.len();
        let mut s = Settings::default();
        self.settings_names(&fields, &mut s);
        self.settings_numbers(&fields, &mut s);
        self.recipient_role(&fields, &mut s);
        self.activation_override(&fields, &mut s);
        if let Some((_, v)) = fields.get("guardrails")
            && let Some(g) = self.guardrails(v)
        {
            s.guardrails = g;
        }
        if let Some((_, v)) = fields.get("bootstrap")
            && let Some(b) = self.bootstrap(v)
        {
            s.bootstrap = b;
        }
        if let Some((_, v)) = fields.get("allowed_sellers") {
            s.allowed_sellers = self.allowed_sellers(v);
        }
        (self.diags.len() == before).then_some(s)
    }

    /// `settings.home_region` and `settings.grant_name_prefix`.
    fn settings_names(&mut self, fields: &Fields<'_>, s: &mut Settings) {
        if let Some((_, v)) = fields.get("home_region")
            && let Some(text) = self.string(v, "settings.home_region")
        {
            if is_region(text) {
                s.home_region = text.to_owned();
            } else {
                self.error_hint(
                    v.span,
                    format!("`{text}` is not an AWS region name"),
                    "use a region code such as `us-east-1`, where Bedrock model licenses live",
                );
            }
        }
        if let Some((_, v)) = fields.get("grant_name_prefix")
            && let Some(text) = self.string(v, "settings.grant_name_prefix")
        {
            if text.trim().is_empty() {
                self.error_hint(
                    v.span,
                    "`settings.grant_name_prefix` must not be empty",
                    "the prefix tells the tool's grants apart from grants made by hand",
                );
            } else {
                s.grant_name_prefix = text.to_owned();
            }
        }
    }

    /// `settings.allowed_operations`, `max_deletes` and `expiry_warning_days`.
    fn settings_numbers(&mut self, fields: &Fields<'_>, s: &mut Settings) {
        if let Some((_, v)) = fields.get("allowed_operations") {
            s.allowed_operations = self.operations(v).unwrap_or_default();
        }
        if let Some((_, v)) = fields.get("max_deletes")
            && let Some(n) = self.count(v, "settings.max_deletes", "use 0 to refuse every delete")
        {
            s.max_deletes = n;
        }
        if let Some((_, v)) = fields.get("expiry_warning_days")
            && let Some(n) = self.count(
                v,
                "settings.expiry_warning_days",
                "use 0 to warn only about expired licenses",
            )
        {
            s.expiry_warning_days = n;
        }
    }

    /// `settings.recipient_role`: a role name, not an ARN.
    fn recipient_role(&mut self, fields: &Fields<'_>, s: &mut Settings) {
        if let Some((_, v)) = fields.get("recipient_role")
            && !is_null(v)
            && let Some(text) = self.string(v, "settings.recipient_role")
        {
            if is_role_name(text) {
                s.recipient_role = Some(text.to_owned());
            } else if text.starts_with("arn:") {
                let name = text.rsplit('/').next().unwrap_or(text);
                self.error_hint(
                    v.span,
                    "`settings.recipient_role` must be a role name, not an ARN",
                    format!(
                        "write the name only, e.g. `{name}`; the tool builds the ARN for each member account"
                    ),
                );
            } else {
                self.error_hint(
                    v.span,
                    format!("`{text}` is not a valid IAM role name"),
                    "role names are 1 to 64 letters, digits and `+=,.@_-`",
                );
            }
        }
    }

    /// `settings.activation_override`.
    fn activation_override(&mut self, fields: &Fields<'_>, s: &mut Settings) {
        if let Some((_, v)) = fields.get("activation_override")
            && !is_null(v)
            && let Some(text) = self.string(v, "settings.activation_override")
        {
            match text {
                "distributed_grants_only" => {
                    s.activation_override = Some(ActivationOverride::DistributedGrantsOnly);
                }
                "all_grants_permitted_by_issuer" => {
                    s.activation_override = Some(ActivationOverride::AllGrantsPermittedByIssuer);
                }
                other => self.error_hint(
                    v.span,
                    format!("invalid `settings.activation_override` value `{other}`"),
                    "use `distributed_grants_only` or `all_grants_permitted_by_issuer`",
                ),
            }
        }
    }

    /// A whole number from 0 to `u32::MAX` at `path`; `negative` is the hint for a negative one.
    fn count(&mut self, v: &Node, path: &str, negative: &str) -> Option<u32> {
        let Some(sc) = scalar(v).filter(|sc| sc.resolve() == ScalarType::Int) else {
            self.type_error(v, path, "a whole number");
            return None;
        };
        match int_value(&sc.text) {
            Some(n) if n < 0 => {
                self.error_hint(
                    v.span,
                    format!("`{path}` must not be negative, found {n}"),
                    negative,
                );
                None
            }
            Some(n) => match u32::try_from(n) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.error(v.span, format!("`{path}` is too large, found {}", sc.text));
                    None
                }
            },
            None => {
                self.error(v.span, format!("`{path}` is too large, found {}", sc.text));
                None
            }
        }
    }

    fn operations(&mut self, node: &Node) -> Option<BTreeSet<String>> {
        let path = "settings.allowed_operations";
        let items = match &node.kind {
            Kind::Seq(items) => items,
            _ => {
                self.type_error(node, path, "a list of operation names");
                return None;
            }
        };
        if items.is_empty() {
            self.error_hint(
                node.span,
                "`settings.allowed_operations` must not be empty",
                "a grant allows at least one operation; leave the key out to use the defaults",
            );
            return None;
        }
        let mut out = BTreeSet::new();
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for item in items {
            let Some(name) = self.string(item, &format!("{path}[]")) else {
                continue;
            };
            if let Some(line) = seen.get(name) {
                self.error_hint(
                    item.span,
                    format!("operation `{name}` is listed twice"),
                    format!("it is first listed at line {line}"),
                );
                continue;
            }
            seen.insert(name, item.span.line);
            if KNOWN_OPERATIONS.contains(&name) {
                out.insert(name.to_owned());
            } else {
                let hint = match did_you_mean(name, KNOWN_OPERATIONS) {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("known operations: {}", KNOWN_OPERATIONS.join(", ")),
                };
                self.error_hint(
                    item.span,
                    format!("unknown operation `{name}` in `{path}`"),
                    hint,
                );
            }
        }
        Some(out)
    }

    fn models(&mut self, node: &Node) -> Option<Vec<ModelSpec>> {
        let Kind::Map(entries) = &node.kind else {
            let hint = if is_null(node) {
                "write `models: {}` to manage no models"
            } else {
                "each model is a key (like `claude-sonnet`) under `models`"
            };
            self.error_hint(
                node.span,
                format!(
                    "`models` must be a mapping of model keys, found {}",
                    found(node)
                ),
                hint,
            );
            return None;
        };
        let before = self.diags.len();
        let mut models: BTreeMap<ModelKey, ModelSpec> = BTreeMap::new();
        let mut first_line: BTreeMap<&str, u32> = BTreeMap::new();
        // (selector, model key, line) of every license selector seen, to find shared licenses.
        let mut licenses: BTreeMap<LicenseSelector, (String, u32)> = BTreeMap::new();
        for (k, v) in entries {
            let Some(text) = self.key_text(k) else {
                continue;
            };
            if let Some(line) = first_line.get(text) {
                self.error_hint(
                    k.span,
                    format!("duplicate model `{text}`"),
                    format!("`{text}` is first defined at line {line}; merge the two entries"),
                );
                continue;
            }
            first_line.insert(text, k.span.line);
            let key = match ModelKey::parse(text) {
                Some(key) => Some(key),
                None => {
                    let hint = match suggest_model_key(text) {
                        Some(s) => format!(
                            "model keys use lowercase letters, digits and '-' (at most 64), e.g. `{s}`"
                        ),
                        None => "model keys use lowercase letters, digits and '-' (at most 64)"
                            .to_owned(),
                    };
                    self.error_hint(k.span, format!("invalid model key `{text}`"), hint);
                    None
                }
            };
            let Some(spec) = self.model(text, k, v, key) else {
                continue;
            };
            let sel = spec.license.value.clone();
            if let Some((other, line)) = licenses.get(&sel) {
                self.error_hint(
                    spec.license.span,
                    format!("model `{text}` selects the same license as model `{other}`"),
                    format!(
                        "`{other}` (line {line}) already grants it; list all targets under one model"
                    ),
                );
                continue;
            }
            licenses.insert(sel, (text.to_owned(), k.span.line));
            models.insert(spec.key.value.clone(), spec);
        }
        (self.diags.len() == before).then(|| models.into_values().collect())
    }

    fn model(
        &mut self,
        name: &str,
        key_node: &Node,
        node: &Node,
        key: Option<ModelKey>,
    ) -> Option<ModelSpec> {
        let Kind::Map(entries) = &node.kind else {
            self.error_hint(
                node.span,
                format!("model `{name}` must be a mapping, found {}", found(node)),
                "give the model a license selector (`product_sku`, ...) and `grant_to`",
            );
            return None;
        };
        let place = format!("in model `{name}`");
        let fields = self.fields(entries, MODEL_KEYS, &place, &|k| {
            if GRANT_TO_KEYS.contains(&k) {
                Some(format!("`{k}` belongs under `grant_to`"))
            } else if SETTINGS_KEYS.contains(&k) {
                Some(format!(
                    "`{k}` is a setting for the whole file, under `settings`"
                ))
            } else {
                None
            }
        });
        let before = self.diags.len();

        let license = self.model_license(name, key_node, &fields);
        let grant_to = self.model_grant_to(name, key_node, &fields);
        let except_accounts = self.except_accounts(name, &fields, grant_to.as_ref());
        let status = self.model_status(name, &fields);

        let (bedrock_model_ids, marketplace_product_id) = self.model_guard(name, &fields);
        let subscribe = self.subscribe(name, &fields);
        if self.diags.len() != before {
            return None;
        }
        Some(ModelSpec {
            key: Spanned::new(key?, key_node.span),
            license: license?,
            grant_to: grant_to?,
            except_accounts,
            status,
            bedrock_model_ids,
            marketplace_product_id,
            subscribe,
        })
    }

    /// A model's license: exactly one selector.
    fn model_license(
        &mut self,
        name: &str,
        key_node: &Node,
        fields: &Fields<'_>,
    ) -> Option<Spanned<LicenseSelector>> {
        let path = |field: &str| format!("models.{name}.{field}");
        let given: Vec<(&'static str, &Node, &Node)> = {
            let mut g: Vec<_> = SELECTORS
                .iter()
                .filter_map(|s| fields.get(s).map(|(k, v)| (*s, *k, *v)))
                .collect();
            g.sort_by_key(|(_, k, _)| k.span);
            g
        };
        match given.as_slice() {
            [] if SELECTORS.iter().any(|s| !fields.missing(s)) => None,
            [] => {
                self.error_hint(
                    key_node.span,
                    format!("model `{name}` names no license"),
                    "give exactly one of `product_sku`, `product_name` or `license_arn`",
                );
                None
            }
            [(sel, _, v)] => self.selector(sel, v, &path(sel)),
            [(first, _, _), (second, k, _), ..] => {
                self.error_hint(
                    k.span,
                    format!(
                        "model `{name}` names its license twice, with `{first}` and `{second}`"
                    ),
                    "keep exactly one of `product_sku`, `product_name` or `license_arn`",
                );
                None
            }
        }
    }

    fn model_grant_to(
        &mut self,
        name: &str,
        key_node: &Node,
        fields: &Fields<'_>,
    ) -> Option<GrantTo> {
        match fields.get("grant_to") {
            None if !fields.missing("grant_to") => None,
            None => {
                self.error_hint(
                    key_node.span,
                    format!("model `{name}` has no `grant_to`"),
                    "add `grant_to` with `organization: true`, `organizational_units` or `accounts`",
                );
                None
            }
            Some((k, v)) => self.grant_to(name, k, v),
        }
    }

    /// `except_accounts`, none of which may also be in `grant_to.accounts`.
    fn except_accounts(
        &mut self,
        name: &str,
        fields: &Fields<'_>,
        grant_to: Option<&GrantTo>,
    ) -> Vec<Spanned<AccountRef>> {
        let path = |field: &str| format!("models.{name}.{field}");
        let except_accounts = match fields.get("except_accounts") {
            None => Vec::new(),
            Some((_, v)) => self.accounts(v, &path("except_accounts"), name),
        };
        if let Some(grant_to) = grant_to {
            let granted: BTreeMap<&AccountRef, u32> = grant_to
                .accounts
                .iter()
                .map(|a| (&a.value, a.span.line))
                .collect();
            for ex in &except_accounts {
                if let Some(line) = granted.get(&ex.value) {
                    self.error_hint(
                        ex.span,
                        format!(
                            "account {} of model `{name}` is both in `accounts` and in `except_accounts`",
                            show_account(&ex.value)
                        ),
                        format!(
                            "it is listed in `accounts` at line {line}; `except_accounts` only narrows organization and OU targets"
                        ),
                    );
                }
            }
        }
        except_accounts
    }

    fn model_status(&mut self, name: &str, fields: &Fields<'_>) -> DesiredStatus {
        let path = |field: &str| format!("models.{name}.{field}");
        match fields.get("status") {
            None => DesiredStatus::Active,
            Some((_, v)) => match self.string(v, &path("status")) {
                Some("active") => DesiredStatus::Active,
                Some("disabled") => DesiredStatus::Disabled,
                Some(other) => {
                    self.error_hint(
                        v.span,
                        format!("invalid status `{other}` for model `{name}`"),
                        "use `active` (the default) or `disabled`",
                    );
                    DesiredStatus::Active
                }
                None => DesiredStatus::Active,
            },
        }
    }

    fn selector(
        &mut self,
        which: &str,
        node: &Node,
        path: &str,
    ) -> Option<Spanned<LicenseSelector>> {
        let text = self.string(node, path)?;
        let value = match which {
            "product_sku" => {
                if text.is_empty() || text.chars().any(char::is_whitespace) {
                    self.error_hint(
                        node.span,
                        format!("`{text}` is not a product SKU"),
                        "a Marketplace product SKU looks like `prod-abcdefgh12345`, without spaces",
                    );
                    return None;
                }
                LicenseSelector::ProductSku(text.to_owned())
            }
            "product_name" => {
                if text.trim().is_empty() {
                    self.error(node.span, format!("`{path}` must not be empty"));
                    return None;
                }
                LicenseSelector::ProductName(text.to_owned())
            }
            _ => match text.parse::<LicenseArn>() {
                Ok(arn) => LicenseSelector::LicenseArn(arn),
                Err(e) => {
                    self.error_hint(
                        node.span,
                        format!("`{text}` is not a valid license ARN"),
                        format!("expected {}", e.expected),
                    );
                    return None;
                }
            },
        };
        Some(Spanned::new(value, node.span))
    }

    fn grant_to(&mut self, name: &str, key: &Node, node: &Node) -> Option<GrantTo> {
        let entries: &[(Node, Node)] = match &node.kind {
            Kind::Map(entries) => entries,
            _ if is_null(node) => &[],
            _ => {
                self.type_error(node, &format!("models.{name}.grant_to"), "a mapping");
                return None;
            }
        };
        let place = format!("in `grant_to` of model `{name}`");
        let fields = self.fields(entries, GRANT_TO_KEYS, &place, &|k| {
            (k == "except_accounts")
                .then(|| "`except_accounts` belongs to the model, next to `grant_to`".to_owned())
        });
        let before = self.diags.len();
        let mut out = GrantTo::default();
        if let Some((k, v)) = fields.get("organization") {
            match scalar(v).map(Scalar::resolve) {
                Some(ScalarType::Bool(true)) => out.organization = Some(k.span),
                Some(ScalarType::Bool(false) | ScalarType::Null) => {}
                _ => {
                    self.type_error(
                        v,
                        &format!("models.{name}.grant_to.organization"),
                        "true or false",
                    );
                    let text = scalar(v).map_or("", |s| s.text.as_str());
                    if ["yes", "no", "on", "off", "y", "n"]
                        .contains(&text.to_ascii_lowercase().as_str())
                        && let Some(d) = self.diags.last_mut()
                    {
                        d.hint = Some(format!(
                            "YAML 1.2 reads `{text}` as a string; write `true` or `false`"
                        ));
                    }
                }
            }
        }
        if let Some((_, v)) = fields.get("organizational_units") {
            out.organizational_units = self.ous(
                v,
                &format!("models.{name}.grant_to.organizational_units"),
                name,
            );
        }
        if let Some((_, v)) = fields.get("accounts") {
            out.accounts = self.accounts(v, &format!("models.{name}.grant_to.accounts"), name);
        }
        if self.diags.len() != before {
            return None;
        }
        if out.organization.is_none()
            && out.organizational_units.is_empty()
            && out.accounts.is_empty()
        {
            self.error_hint(
                key.span,
                format!("model `{name}` has no target"),
                "set `organization: true`, or list `organizational_units` or `accounts` under `grant_to`",
            );
            return None;
        }
        Some(out)
    }

    fn ous(&mut self, node: &Node, path: &str, model: &str) -> Vec<Spanned<OuRef>> {
        let Some(items) = self.list(node, path) else {
            return Vec::new();
        };
        let mut out: Vec<Spanned<OuRef>> = Vec::new();
        let mut seen: BTreeMap<OuRef, u32> = BTreeMap::new();
        for item in items {
            let Some(text) = self.string(item, &format!("{path}[]")) else {
                continue;
            };
            let Some(ou) = self.ou_ref(text, item.span) else {
                continue;
            };
            if let Some(line) = seen.get(&ou) {
                let line = *line;
                self.error_hint(
                    item.span,
                    format!("OU `{text}` is listed twice in model `{model}`"),
                    format!("it is first listed at line {line}"),
                );
                continue;
            }
            seen.insert(ou.clone(), item.span.line);
            out.push(Spanned::new(ou, item.span));
        }
        out
    }

    fn ou_ref(&mut self, text: &str, span: Span) -> Option<OuRef> {
        if text.starts_with("ou-") {
            return match text.parse::<OuId>() {
                Ok(id) => Some(OuRef::Id(id)),
                Err(e) => {
                    self.error_hint(
                        span,
                        format!("`{text}` is not a valid OU id"),
                        format!("expected {}", e.expected),
                    );
                    None
                }
            };
        }
        if text == "Root" || text.starts_with("Root/") {
            let segments: Vec<&str> = text.split('/').skip(1).collect();
            if segments.iter().any(|s| s.trim().is_empty()) {
                self.error_hint(
                    span,
                    format!("OU path `{text}` has an empty part"),
                    "write OU paths as names separated by single slashes, like `Root/Workloads/ML`",
                );
                return None;
            }
            if let Some(long) = segments.iter().find(|s| s.chars().count() > 128) {
                self.error(
                    span,
                    format!("OU name `{long}` is longer than 128 characters"),
                );
                return None;
            }
            return Some(OuRef::Path(text.to_owned()));
        }
        let hint = if text.eq_ignore_ascii_case("root")
            || text.to_ascii_lowercase().starts_with("root/")
        {
            "OU paths start with `Root` spelt with a capital R, like `Root/Workloads`".to_owned()
        } else if text.starts_with("r-") {
            "a root id is not an OU; use `organization: true` to grant to the whole organization"
                .to_owned()
        } else if text.contains('/') {
            format!(
                "OU paths start at the root: `Root/{}`",
                text.trim_start_matches('/')
            )
        } else {
            "give an OU id like `ou-ab12-cdef3456`, or a path from the root like `Root/Workloads`"
                .to_owned()
        };
        self.error_hint(span, format!("`{text}` is not an OU id or OU path"), hint);
        None
    }

    fn accounts(&mut self, node: &Node, path: &str, model: &str) -> Vec<Spanned<AccountRef>> {
        let Some(items) = self.list(node, path) else {
            return Vec::new();
        };
        let mut out: Vec<Spanned<AccountRef>> = Vec::new();
        let mut seen: BTreeMap<AccountRef, u32> = BTreeMap::new();
        for item in items {
            let Some(account) = self.account_ref(item, &format!("{path}[]")) else {
                continue;
            };
            if let Some(line) = seen.get(&account) {
                let line = *line;
                let field = path.rsplit('.').next().unwrap_or(path);
                self.error_hint(
                    item.span,
                    format!(
                        "account {} is listed twice in `{field}` of model `{model}`",
                        show_account(&account)
                    ),
                    format!("it is first listed at line {line}"),
                );
                continue;
            }
            seen.insert(account.clone(), item.span.line);
            out.push(Spanned::new(account, item.span));
        }
        out
    }

    fn account_ref(&mut self, node: &Node, path: &str) -> Option<AccountRef> {
        let Some(s) = scalar(node) else {
            self.type_error(node, path, "an account id or account name");
            return None;
        };
        let text = s.text.as_str();
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        match s.resolve() {
            ScalarType::Int if digits(text) => {
                if text.len() == 12 && !text.starts_with('0') {
                    return text.parse::<AccountId>().ok().map(AccountRef::Id);
                }
                if text.len() == 12 {
                    let lost = text.trim_start_matches('0');
                    self.error_hint(
                        node.span,
                        format!(
                            "account id {text} is written as a number with a leading zero, which YAML reads as {}",
                            if lost.is_empty() { "0" } else { lost }
                        ),
                        format!("quote it: \"{text}\""),
                    );
                } else {
                    self.wrong_length(node.span, text, false);
                }
                None
            }
            ScalarType::Int | ScalarType::Float => {
                self.error_hint(
                    node.span,
                    format!("`{text}` is not an account id"),
                    "an account id is 12 digits; write it quoted, like \"111122223333\"",
                );
                None
            }
            ScalarType::Str if digits(text) => {
                if text.len() == 12 {
                    text.parse::<AccountId>().ok().map(AccountRef::Id)
                } else {
                    self.wrong_length(node.span, text, true);
                    None
                }
            }
            ScalarType::Str if !text.bytes().any(|b| b.is_ascii_alphabetic()) => {
                let only: String = text.chars().filter(char::is_ascii_digit).collect();
                let hint = if only.len() == 12 {
                    format!("write the 12 digits alone: \"{only}\"")
                } else {
                    "an account id is 12 digits; an account name has at least one letter".to_owned()
                };
                self.error_hint(
                    node.span,
                    format!("`{text}` is not an account id or account name"),
                    hint,
                );
                None
            }
            ScalarType::Str => {
                if text.len() <= 50 && text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
                    Some(AccountRef::Name(text.to_owned()))
                } else {
                    self.error_hint(
                        node.span,
                        format!("`{text}` is not a valid account name"),
                        "account names are 1 to 50 printable ASCII characters",
                    );
                    None
                }
            }
            ScalarType::Null | ScalarType::Bool(_) => {
                self.type_error(node, path, "an account id or account name");
                None
            }
        }
    }

    fn wrong_length(&mut self, span: Span, text: &str, quoted: bool) {
        let n = text.len();
        let shown = if quoted {
            format!("\"{text}\"")
        } else {
            text.to_owned()
        };
        let digits = if n == 1 { "digit" } else { "digits" };
        let message = format!("account id {shown} has {n} {digits}, expected 12");
        if n < 12 && !quoted {
            self.error_hint(
                span,
                message,
                format!("if it lost leading zeros, write it quoted: \"{text:0>12}\""),
            );
        } else {
            self.error(span, message);
        }
    }
}

fn show_account(a: &AccountRef) -> String {
    match a {
        AccountRef::Id(id) => id.to_string(),
        AccountRef::Name(n) => format!("`{n}`"),
    }
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`, ...
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// IAM role names: 1-64 of `[A-Za-z0-9+=,.@_-]`.
fn is_role_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// A valid model key close to an invalid one: `Claude_Sonnet` → `claude-sonnet`.
fn suggest_model_key(s: &str) -> Option<String> {
    let mut out = String::new();
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(64).collect();
    let out = out.trim_end_matches('-').to_owned();
    ModelKey::parse(&out).map(|k| k.as_str().to_owned())
}

/// `(line, column, message)` of every problem of `source`, which must have some: what the
/// validation tests of each section compare.
#[cfg(test)]
pub(super) fn problems(source: &str) -> Vec<(u32, u32, String)> {
    crate::config::parse(source)
        .expect_err("the file has problems")
        .into_iter()
        .map(|d| (d.span.line, d.span.column, d.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_close_words_only() {
        assert_eq!(
            did_you_mean("home_regoin", SETTINGS_KEYS),
            Some("home_region")
        );
        assert_eq!(did_you_mean("model", TOP_KEYS), Some("models"));
        assert_eq!(did_you_mean("Version", TOP_KEYS), Some("version"));
        assert_eq!(did_you_mean("zzz", TOP_KEYS), None);
        assert_eq!(
            did_you_mean("CheckoutLicence", KNOWN_OPERATIONS),
            Some("CheckoutLicense")
        );
    }

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-2",
            "eu-central-2",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "useast1",
            "us--1",
            "us-east-x",
            "u-east-1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn role_names() {
        assert!(is_role_name("LicenseAcceptor"));
        assert!(is_role_name("a+b=c,d.e@f_g-h"));
        assert!(!is_role_name(""));
        assert!(!is_role_name("path/Role"));
        assert!(!is_role_name(&"r".repeat(65)));
    }

    #[test]
    fn model_key_suggestions() {
        assert_eq!(
            suggest_model_key("Claude_Sonnet").as_deref(),
            Some("claude-sonnet")
        );
        assert_eq!(suggest_model_key("  x  ").as_deref(), Some("x"));
        assert_eq!(suggest_model_key("__").as_deref(), None);
    }

    #[test]
    fn int_values() {
        assert_eq!(int_value("10"), Some(10));
        assert_eq!(int_value("-3"), Some(-3));
        assert_eq!(int_value("+3"), Some(3));
        assert_eq!(int_value("0x1f"), Some(31));
        assert_eq!(int_value("0o17"), Some(15));
        assert_eq!(int_value("x"), None);
    }
}
