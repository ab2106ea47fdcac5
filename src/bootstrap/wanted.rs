//! What the desired-state file asks of the setup ([`wanted`]): pure, from the file alone.

use super::{UseCaseWanted, Wanted};
use crate::config::{Config, GuardrailMode, ModelSpec};

/// The prerequisites `config` needs beyond those every file needs.
pub fn wanted(config: &Config) -> Wanted {
    Wanted {
        home_region: config.settings.home_region.clone(),
        guardrails: config.settings.guardrails.mode != GuardrailMode::Off,
        delegated_administrator: config.settings.bootstrap.delegated_administrator.clone(),
        use_case: use_case(config),
    }
}

/// Whether `id` is one of Anthropic's Bedrock model ids: provider `anthropic.`, directly
/// (`anthropic.claude-sonnet-4-5-…`) or behind a cross-region prefix (`eu.anthropic.…`,
/// `global.anthropic.…`), as Bedrock names them.
pub fn is_anthropic_model_id(id: &str) -> bool {
    id.starts_with("anthropic.")
        || id
            .split_once('.')
            .is_some_and(|(_, rest)| rest.starts_with("anthropic."))
}

/// Whether the file subscribes `m` to an Anthropic model (the model id its `subscribe`
/// section subscribes with), or names one in `bedrock_model_ids`.
fn is_anthropic(m: &ModelSpec) -> bool {
    m.subscribe_model_id()
        .is_some_and(|id| is_anthropic_model_id(&id))
        || m.bedrock_model_ids
            .iter()
            .any(|id| is_anthropic_model_id(&id.value))
}

/// Anthropic's form is needed when the file subscribes to an Anthropic model (AWS: the form
/// is submitted before a first use, once per account or at the management account), names one
/// among a model's `bedrock_model_ids`, or fills in `settings.bootstrap.anthropic_use_case`.
fn use_case(config: &Config) -> Option<UseCaseWanted> {
    let models: Vec<String> = config
        .models
        .iter()
        .filter(|m| is_anthropic(m))
        .map(|m| m.key.value.as_str().to_owned())
        .collect();
    let form = config
        .settings
        .bootstrap
        .anthropic_use_case
        .as_ref()
        .map(|f| f.to_json());
    (!models.is_empty() || form.is_some()).then_some(UseCaseWanted { models, form })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models_needing_the_form(yaml: &str) -> Option<Vec<String>> {
        let config = crate::config::parse(yaml).expect("a valid file");
        wanted(&config).use_case.map(|u| u.models)
    }

    #[test]
    fn a_subscribed_anthropic_model_needs_the_form() {
        let file = |subscribe_id: &str, ids: &str| {
            format!(
                "version: 1\nmodels:\n  claude:\n    product_sku: prod-x\n    bedrock_model_ids: [{ids}]\n    subscribe:\n      model_id: {subscribe_id}\n      offer: public\n    grant_to:\n      accounts: [\"222222222222\"]\n"
            )
        };
        // Only the subscribe section names the Anthropic model.
        assert_eq!(
            models_needing_the_form(&file(
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "\"mymodels.*\""
            )),
            Some(vec!["claude".to_owned()])
        );
        assert_eq!(
            models_needing_the_form(&file("eu.anthropic.claude-opus-4-5-v1:0", "\"x.*\"")),
            Some(vec!["claude".to_owned()])
        );
        assert_eq!(
            models_needing_the_form(&file("cohere.command-r-v1:0", "\"cohere.*\"")),
            None
        );
    }

    #[test]
    fn anthropic_model_ids() {
        for yes in [
            "anthropic.claude-3-5-sonnet-*",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-haiku-4-5",
        ] {
            assert!(is_anthropic_model_id(yes), "{yes}");
        }
        for no in [
            "meta.llama3-1-70b-*",
            "us.meta.anthropic",
            "anthropicx.model",
        ] {
            assert!(!is_anthropic_model_id(no), "{no}");
        }
    }
}
