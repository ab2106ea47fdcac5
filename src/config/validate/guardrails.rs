//! The guardrail keys of the file: `settings.guardrails` and each model's `bedrock_model_ids`
//! and `marketplace_product_id`, checked with positions like every other key.

use std::collections::BTreeMap;

use super::super::types::{Config, DesiredStatus, GuardrailMode, GuardrailSettings};
use super::{Fields, GUARDRAIL_KEYS, Kind, Node, Scalar, ScalarType, Walker, scalar};
use crate::model::Spanned;

/// Longest `policy_name_prefix`: `{prefix}-{model key of 64}-part10` stays within AWS's
/// 128-character policy names.
pub(crate) const MAX_POLICY_PREFIX: usize = 56;

/// The system-defined cross-Region inference profiles put a geography before the model id
/// (`us.anthropic.…`); the model id is written without it.
const PROFILE_GEOGRAPHIES: &[&str] = &["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"];

/// Characters a Bedrock model id pattern may hold in an IAM resource: letters, digits, `.`,
/// `-`, `_`, `:` and the wildcards `*` and `?`.
pub(crate) fn is_model_id_pattern(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:*?".contains(&b))
}

/// A Marketplace product id: `prod-…` or the UUID form the Bedrock guide lists.
fn is_product_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Walker {
    /// `settings.guardrails`.
    pub(super) fn guardrails(&mut self, node: &Node) -> Option<GuardrailSettings> {
        let mut out = GuardrailSettings::default();
        let entries: &[(Node, Node)] = match &node.kind {
            Kind::Map(entries) => entries,
            _ if super::is_null(node) => return Some(out),
            _ => {
                self.type_error(node, "settings.guardrails", "a mapping");
                return None;
            }
        };
        let fields = self.fields(entries, GUARDRAIL_KEYS, "in `settings.guardrails`", &|_| {
            None
        });
        let before = self.diags.len();
        if let Some((_, v)) = fields.get("mode")
            && let Some(text) = self.string(v, "settings.guardrails.mode")
        {
            self.mode_line = Some(v.span.line);
            match text {
                "off" => out.mode = GuardrailMode::Off,
                "report" => out.mode = GuardrailMode::Report,
                "enforce" => out.mode = GuardrailMode::Enforce,
                other => self.error_hint(
                    v.span,
                    format!("invalid `settings.guardrails.mode` value `{other}`"),
                    "use `off` (the default), `report` or `enforce`",
                ),
            }
        }
        if let Some((_, v)) = fields.get("policy_name_prefix")
            && let Some(text) = self.string(v, "settings.guardrails.policy_name_prefix")
        {
            self.policy_prefix(v, text, &mut out);
        }
        if let Some((_, v)) = fields.get("deny_marketplace_subscribe") {
            match scalar(v).map(Scalar::resolve) {
                Some(ScalarType::Bool(b)) => out.deny_marketplace_subscribe = b,
                Some(ScalarType::Null) => {}
                _ => self.type_error(
                    v,
                    "settings.guardrails.deny_marketplace_subscribe",
                    "true or false",
                ),
            }
        }
        (self.diags.len() == before).then_some(out)
    }

    fn policy_prefix(&mut self, v: &Node, text: &str, out: &mut GuardrailSettings) {
        let printable = text.bytes().all(|b| (0x21..=0x7e).contains(&b));
        if text.is_empty() || !printable {
            self.error_hint(
                v.span,
                format!("`{text}` is not a valid `settings.guardrails.policy_name_prefix`"),
                "the prefix tells the tool's SCPs apart from every other policy; use printable characters without spaces",
            );
        } else if text.chars().count() > MAX_POLICY_PREFIX {
            self.error_hint(
                v.span,
                format!(
                    "`settings.guardrails.policy_name_prefix` is longer than {MAX_POLICY_PREFIX} characters"
                ),
                "policy names are `{prefix}-{model key}` and AWS allows 128 characters",
            );
        } else {
            out.policy_name_prefix = text.to_owned();
        }
    }

    /// A model's `bedrock_model_ids` and `marketplace_product_id`.
    pub(super) fn model_guard(
        &mut self,
        name: &str,
        fields: &Fields<'_>,
    ) -> (Vec<Spanned<String>>, Option<Spanned<String>>) {
        let ids = match fields.get("bedrock_model_ids") {
            Some((_, v)) => self.model_ids(name, v),
            None => Vec::new(),
        };
        let product = fields.get("marketplace_product_id").and_then(|(_, v)| {
            let path = format!("models.{name}.marketplace_product_id");
            let text = self.string(v, &path)?;
            if is_product_id(text) {
                Some(Spanned::new(text.to_owned(), v.span))
            } else {
                self.error_hint(
                    v.span,
                    format!("`{text}` is not a Marketplace product id"),
                    "a product id is letters, digits and '-', like `prod-abcdefgh12345` or the id the Bedrock guide lists",
                );
                None
            }
        });
        (ids, product)
    }

    fn model_ids(&mut self, name: &str, node: &Node) -> Vec<Spanned<String>> {
        let path = format!("models.{name}.bedrock_model_ids");
        let Some(items) = self.list(node, &path) else {
            return Vec::new();
        };
        if items.is_empty() {
            self.error_hint(
                node.span,
                format!("`{path}` must not be empty"),
                "list the Bedrock model ids the model stands for, or leave the key out",
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for item in items {
            let Some(text) = self.string(item, &format!("{path}[]")) else {
                continue;
            };
            if let Some(line) = seen.get(text) {
                self.error_hint(
                    item.span,
                    format!("model id `{text}` is listed twice in model `{name}`"),
                    format!("it is first listed at line {line}"),
                );
                continue;
            }
            seen.insert(text, item.span.line);
            if self.model_id(item, text) {
                out.push(Spanned::new(text.to_owned(), item.span));
            }
        }
        out
    }

    /// Whether `text` is a model id pattern; reports why not.
    fn model_id(&mut self, item: &Node, text: &str) -> bool {
        let (message, hint) = if text.starts_with("arn:") {
            (
                format!("`{text}` is an ARN, not a Bedrock model id"),
                "write the model id alone, like `anthropic.claude-sonnet-4-5-20250929-v1:0`; the tool builds the ARNs".to_owned(),
            )
        } else if !is_model_id_pattern(text) {
            (
                format!("`{text}` is not a Bedrock model id"),
                "model ids are letters, digits, '.', '-', '_' and ':', with the IAM wildcards '*' and '?'".to_owned(),
            )
        } else if text.bytes().all(|b| b == b'*' || b == b'?') {
            (
                format!("`{text}` matches every Bedrock model"),
                "give the model's own ids, like `anthropic.claude-sonnet-4-5-*`".to_owned(),
            )
        } else if let Some(geo) = PROFILE_GEOGRAPHIES
            .iter()
            .find(|g| text.strip_prefix(**g).is_some_and(|r| r.starts_with('.')))
        {
            (
                format!("`{text}` is a cross-Region inference profile id"),
                format!(
                    "write the model id without `{geo}.`: the policies also deny the inference profiles named after it"
                ),
            )
        } else {
            return true;
        };
        self.error_hint(item.span, message, hint);
        false
    }

    /// With guardrails on, every active model must say which Bedrock model ids it stands for.
    pub(super) fn check_guarded_models(&mut self, config: &Config) {
        let mode = config.settings.guardrails.mode;
        if mode == GuardrailMode::Off {
            return;
        }
        let word = if mode == GuardrailMode::Report {
            "report"
        } else {
            "enforce"
        };
        let at = self
            .mode_line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        for m in &config.models {
            if m.status == DesiredStatus::Active && m.bedrock_model_ids.is_empty() {
                self.error_hint(
                    m.key.span,
                    format!("model `{}` has no `bedrock_model_ids`", m.key.value),
                    format!(
                        "`settings.guardrails.mode` is `{word}`{at}: list the Bedrock model ids the model stands for, like `anthropic.claude-sonnet-4-5-*`"
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::validate::problems;
    use crate::config::{GuardrailMode, GuardrailSettings, parse};

    #[test]
    fn guardrail_keys_are_read() {
        let c = parse(
            "version: 1
settings:
  guardrails:
    mode: enforce
    policy_name_prefix: acme-guard
    deny_marketplace_subscribe: true
models:
  claude-sonnet:
    product_sku: prod-x
    grant_to: {organization: true}
    bedrock_model_ids: [\"anthropic.claude-sonnet-4-5-20250929-v1:0\", anthropic.claude-sonnet-4-5-*, a?b]
    marketplace_product_id: c468b48a-84df-43a4-8c46-8870630108a7
",
        )
        .expect("valid");
        let g = &c.settings.guardrails;
        assert_eq!(g.mode, GuardrailMode::Enforce);
        assert_eq!(g.policy_name_prefix, "acme-guard");
        assert!(g.deny_marketplace_subscribe);
        let m = &c.models[0];
        let ids: Vec<&str> = m
            .bedrock_model_ids
            .iter()
            .map(|i| i.value.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-5-*",
                "a?b"
            ]
        );
        assert_eq!(
            (
                m.bedrock_model_ids[1].span.line,
                m.bedrock_model_ids[1].span.column
            ),
            (11, 70)
        );
        let p = m.marketplace_product_id.as_ref().expect("product id");
        assert_eq!(p.value, "c468b48a-84df-43a4-8c46-8870630108a7");
        assert_eq!((p.span.line, p.span.column), (12, 29));
    }

    #[test]
    fn without_the_keys_guardrails_are_off() {
        let c = parse(
            "version: 1\nsettings: {guardrails: null}\nmodels:\n  m:\n    product_sku: p\n    grant_to: {organization: true}\n",
        )
        .expect("valid");
        assert_eq!(c.settings.guardrails, GuardrailSettings::default());
        assert!(c.models[0].bedrock_model_ids.is_empty());
        let c =
            parse("version: 1\nsettings:\n  guardrails: {mode: off}\nmodels: {}\n").expect("valid");
        assert_eq!(c.settings.guardrails.mode, GuardrailMode::Off);
    }

    #[test]
    fn bad_guardrail_values_are_reported_where_written() {
        let got = problems(
            "version: 1
settings:
  guardrails:
    mode: strict
    policy_name_prefix: \"has space\"
    deny_marketplace_subscribe: yes
    extra: 1
models:
  m:
    product_sku: p
    grant_to: {organization: true}
    bedrock_model_ids:
      - arn:aws:bedrock:us-east-1::foundation-model/x
      - us.anthropic.claude-3-5-sonnet-v1:0
      - \"*\"
      - a/b
      - ok.model
      - ok.model
    marketplace_product_id: \"prod x\"
  n:
    product_sku: q
    grant_to: {organization: true}
    bedrock_model_ids: []
",
        );
        let want: Vec<(u32, u32, &str)> = vec![
            (4, 11, "invalid `settings.guardrails.mode` value `strict`"),
            (
                5,
                25,
                "`has space` is not a valid `settings.guardrails.policy_name_prefix`",
            ),
            (
                6,
                33,
                "`settings.guardrails.deny_marketplace_subscribe` must be true or false, found a string",
            ),
            (7, 5, "unknown key `extra` in `settings.guardrails`"),
            (
                13,
                9,
                "`arn:aws:bedrock:us-east-1::foundation-model/x` is an ARN, not a Bedrock model id",
            ),
            (
                14,
                9,
                "`us.anthropic.claude-3-5-sonnet-v1:0` is a cross-Region inference profile id",
            ),
            (15, 9, "`*` matches every Bedrock model"),
            (16, 9, "`a/b` is not a Bedrock model id"),
            (18, 9, "model id `ok.model` is listed twice in model `m`"),
            (19, 29, "`prod x` is not a Marketplace product id"),
            (23, 24, "`models.n.bedrock_model_ids` must not be empty"),
        ];
        let got: Vec<(u32, u32, &str)> = got.iter().map(|(l, c, m)| (*l, *c, m.as_str())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn with_guardrails_on_every_active_model_needs_ids() {
        let source = |mode: &str| {
            format!(
                "version: 1
settings:
  guardrails:
    mode: {mode}
models:
  with-ids:
    product_sku: a
    grant_to: {{organization: true}}
    bedrock_model_ids: [x.y]
  without:
    product_sku: b
    grant_to: {{organization: true}}
  parked:
    product_sku: c
    grant_to: {{organization: true}}
    status: disabled
"
            )
        };
        for mode in ["report", "enforce"] {
            let d = parse(&source(mode)).expect_err("a model without ids");
            assert_eq!(d.len(), 1, "{d:?}");
            assert_eq!((d[0].span.line, d[0].span.column), (10, 3));
            assert_eq!(d[0].message, "model `without` has no `bedrock_model_ids`");
            let hint = d[0].hint.as_deref().unwrap_or_default();
            assert!(hint.contains(&format!("`{mode}` (line 4)")), "{hint}");
        }
        parse(&source("off")).expect("off needs no ids");
    }

    #[test]
    fn a_long_prefix_is_refused() {
        let long = "p".repeat(super::MAX_POLICY_PREFIX + 1);
        let got = problems(&format!(
            "version: 1\nsettings:\n  guardrails: {{policy_name_prefix: {long}}}\nmodels: {{}}\n"
        ));
        assert_eq!(got.len(), 1);
        assert!(got[0].2.contains("longer than 56"), "{got:?}");
        let ok = "p".repeat(super::MAX_POLICY_PREFIX);
        parse(&format!(
            "version: 1\nsettings:\n  guardrails: {{policy_name_prefix: {ok}}}\nmodels: {{}}\n"
        ))
        .expect("56 characters fit");
    }
}
