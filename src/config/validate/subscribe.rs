//! The subscribe keys of the file: each model's `subscribe` section and
//! `settings.allowed_sellers`, checked with positions like every other key.

use super::super::types::{Config, OfferChoice, SubscribeSpec};
use super::{Fields, Kind, Node, Walker};
use crate::model::Spanned;

pub(super) const SUBSCRIBE_KEYS: &[&str] = &["model_id", "offer", "offer_id", "seller"];

impl Walker {
    /// `settings.allowed_sellers`: a non-empty list of issuer names / seller ids.
    pub(super) fn allowed_sellers(&mut self, node: &Node) -> Option<Vec<Spanned<String>>> {
        let path = "settings.allowed_sellers";
        let items = self.list(node, path)?;
        if items.is_empty() {
            self.error_hint(
                node.span,
                format!("`{path}` must not be empty"),
                "list the issuer names or seller ids to accept (as License Manager's `Issuer.Name` or Bedrock's provider name shows them), or leave the key out for no restriction",
            );
            return None;
        }
        let mut out: Vec<Spanned<String>> = Vec::new();
        for item in items {
            let Some(text) = self.string(item, &format!("{path}[]")) else {
                continue;
            };
            if text.trim().is_empty() {
                self.error(item.span, format!("an entry of `{path}` is empty"));
            } else if let Some(first) = out.iter().find(|s| s.value == text) {
                let line = first.span.line;
                self.error_hint(
                    item.span,
                    format!("seller `{text}` is listed twice"),
                    format!("it is first listed at line {line}"),
                );
            } else {
                out.push(Spanned::new(text.to_owned(), item.span));
            }
        }
        Some(out)
    }

    /// A model's `subscribe` section.
    pub(super) fn subscribe(&mut self, name: &str, fields: &Fields<'_>) -> Option<SubscribeSpec> {
        let (key, node) = fields.get("subscribe")?;
        let path = format!("models.{name}.subscribe");
        let Kind::Map(entries) = &node.kind else {
            self.type_error(node, &path, "a mapping");
            return None;
        };
        let place = format!("in `{path}`");
        let sub = self.fields(entries, SUBSCRIBE_KEYS, &place, &|_| None);
        let model_id = sub.get("model_id").and_then(|(_, v)| {
            let text = self.string(v, &format!("{path}.model_id"))?;
            if is_exact_model_id(text) {
                Some(Spanned::new(text.to_owned(), v.span))
            } else {
                self.error_hint(
                    v.span,
                    format!("`{text}` is not a Bedrock model id"),
                    "give the exact id to subscribe with, like `anthropic.claude-sonnet-4-5-20250929-v1:0` (no wildcards)",
                );
                None
            }
        });
        let text_of = |w: &mut Walker, k: &str| {
            sub.get(k)
                .and_then(|(_, v)| w.string(v, &format!("{path}.{k}")).map(|t| (t, v.span)))
        };
        let offer_id = text_of(self, "offer_id");
        let seller = text_of(self, "seller");
        let offer = match text_of(self, "offer") {
            None if sub.missing("offer") && sub.get("offer").is_none() => {
                self.error_hint(
                    key.span,
                    format!("`{path}` names no `offer`"),
                    "use `offer: private` (the organization's negotiated offer), `public` or `any`",
                );
                None
            }
            None => None,
            Some((text, span)) => self.offer_choice(&path, text, span, offer_id, seller),
        }?;
        Some(SubscribeSpec {
            span: key.span,
            model_id,
            offer,
        })
    }

    fn offer_choice(
        &mut self,
        path: &str,
        text: &str,
        span: crate::model::Span,
        offer_id: Option<(&str, crate::model::Span)>,
        seller: Option<(&str, crate::model::Span)>,
    ) -> Option<Spanned<OfferChoice>> {
        let choice = match text {
            "private" => OfferChoice::Private {
                offer_id: offer_id.map(|(t, s)| Spanned::new(t.to_owned(), s)),
                seller: seller.map(|(t, s)| Spanned::new(t.to_owned(), s)),
            },
            "public" | "any" => {
                for (k, given) in [("offer_id", offer_id), ("seller", seller)] {
                    if let Some((_, s)) = given {
                        self.error_hint(
                            s,
                            format!("`{path}.{k}` is given with `offer: {text}`"),
                            "`offer_id` and `seller` pick a private offer: use `offer: private`",
                        );
                    }
                }
                if text == "public" {
                    OfferChoice::Public
                } else {
                    OfferChoice::Any
                }
            }
            other => {
                self.error_hint(
                    span,
                    format!("invalid `{path}.offer` value `{other}`"),
                    "use `private`, `public` or `any`",
                );
                return None;
            }
        };
        Some(Spanned::new(choice, span))
    }

    /// A subscribed model needs one exact Bedrock model id: its own `model_id`, or the one
    /// entry of `bedrock_model_ids`; a private offer's `seller` must be an allowed seller.
    pub(super) fn check_subscriptions(&mut self, config: &Config) {
        let allowed = config.settings.allowed_sellers.as_ref();
        for m in &config.models {
            let Some(s) = &m.subscribe else { continue };
            if s.model_id.is_none() && m.subscribe_model_id().is_none() {
                self.error_hint(
                    s.span,
                    format!("model `{}` subscribes without a model id", m.key.value),
                    "add `model_id` under `subscribe`, or list exactly one exact id (no wildcards) in `bedrock_model_ids`",
                );
            }
            if let (
                Some(list),
                OfferChoice::Private {
                    seller: Some(sel), ..
                },
            ) = (allowed, &s.offer.value)
                && !list.iter().any(|a| a.value == sel.value)
            {
                let names: Vec<&str> = list.iter().map(|a| a.value.as_str()).collect();
                self.error_hint(
                    sel.span,
                    format!(
                        "seller `{}` of model `{}` is not in `settings.allowed_sellers`",
                        sel.value, m.key.value
                    ),
                    format!("the allowed sellers are {}", names.join(", ")),
                );
            }
        }
    }
}

/// An exact Bedrock model id (no wildcards).
pub(crate) fn is_exact_model_id(id: &str) -> bool {
    super::guardrails::is_model_id_pattern(id) && !id.contains(['*', '?']) && id.contains('.')
}

#[cfg(test)]
mod tests {
    use crate::config::validate::problems;
    use crate::config::{OfferChoice, parse};

    const HEAD: &str = "version: 1\nsettings:\n  allowed_sellers: [Anthropic, \"AWS/Marketplace\"]\nmodels:\n  sonnet:\n    product_sku: prod-x\n    grant_to: {organization: true}\n";

    #[test]
    fn subscribe_sections_are_read() {
        let c = parse(&format!(
            "{HEAD}    bedrock_model_ids: [\"anthropic.claude-sonnet-4-5-20250929-v1:0\"]\n    subscribe:\n      offer: private\n      seller: Anthropic\n"
        ))
        .expect("valid");
        let sellers: Vec<&str> = c
            .settings
            .allowed_sellers
            .as_ref()
            .unwrap()
            .iter()
            .map(|s| s.value.as_str())
            .collect();
        assert_eq!(sellers, ["Anthropic", "AWS/Marketplace"]);
        let m = &c.models[0];
        let s = m.subscribe.as_ref().unwrap();
        assert!(
            matches!(&s.offer.value, OfferChoice::Private { seller: Some(x), offer_id: None } if x.value == "Anthropic")
        );
        assert_eq!(
            m.subscribe_model_id().as_deref(),
            Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
        );
        let c = parse(&format!(
            "{HEAD}    subscribe: {{model_id: \"anthropic.claude-v2:1\", offer: any}}\n"
        ))
        .expect("valid");
        assert_eq!(
            c.models[0].subscribe_model_id().as_deref(),
            Some("anthropic.claude-v2:1")
        );
    }

    #[test]
    fn subscribe_problems_have_positions() {
        assert_eq!(
            problems(&format!("{HEAD}    subscribe:\n      offer: privat\n")),
            [(
                9,
                14,
                "invalid `models.sonnet.subscribe.offer` value `privat`".to_owned()
            )]
        );
        assert_eq!(
            problems(&format!("{HEAD}    subscribe:\n      offer: private\n")),
            [(
                8,
                5,
                "model `sonnet` subscribes without a model id".to_owned()
            )]
        );
        assert_eq!(
            problems(&format!(
                "{HEAD}    subscribe: {{model_id: \"anthropic.claude-*\", offer: public, seller: X}}\n"
            )),
            [
                (
                    8,
                    27,
                    "`anthropic.claude-*` is not a Bedrock model id".to_owned()
                ),
                (
                    8,
                    72,
                    "`models.sonnet.subscribe.seller` is given with `offer: public`".to_owned()
                ),
            ]
        );
        assert_eq!(
            problems(&format!(
                "{HEAD}    subscribe: {{model_id: a.b, offer: private, seller: Cohere}}\n"
            )),
            [(
                8,
                56,
                "seller `Cohere` of model `sonnet` is not in `settings.allowed_sellers`".to_owned()
            )]
        );
        assert_eq!(
            problems("version: 1\nsettings:\n  allowed_sellers: []\nmodels: {}\n"),
            [(
                3,
                20,
                "`settings.allowed_sellers` must not be empty".to_owned()
            )]
        );
    }
}
