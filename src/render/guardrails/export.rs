//! `guardrail export --format json`: what `enforce` would write, for pipelines that run SCPs
//! themselves.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ids, mode_name};
use crate::config::ModelKey;
use crate::model::Target;

/// The document of `guardrail export --format json`: what `enforce` would write, for pipelines
/// that run SCPs themselves (Terraform, Landing Zone Accelerator, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportDocument {
    pub format_version: u32,
    /// `settings.guardrails.mode` of the file (the export is the same in every mode).
    pub mode: String,
    pub policy_name_prefix: String,
    /// The tag every policy carries, so the tool recognises them as its own.
    pub tags: BTreeMap<String, String>,
    /// Sorted by name.
    pub policies: Vec<ExportPolicy>,
    /// Per model key, the active accounts its policies deny.
    pub denied: BTreeMap<String, Vec<String>>,
    /// Models of the file without `bedrock_model_ids`: not laid out.
    pub models_without_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportPolicy {
    pub name: String,
    pub description: String,
    /// Always `SERVICE_CONTROL_POLICY`.
    #[serde(rename = "type")]
    pub policy_type: String,
    /// The model keys it denies.
    pub models: Vec<String>,
    pub part: usize,
    pub parts: usize,
    /// The document as CreatePolicy's `Content` takes it.
    pub content: String,
    pub targets: Vec<ExportTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportTarget {
    pub target_id: String,
    /// `ROOT`, `ORGANIZATIONAL_UNIT` or `ACCOUNT` (Organizations' `TargetType`).
    #[serde(rename = "type")]
    pub target_type: String,
}

/// `guardrail export --format json`, pretty printed with a final newline.
pub fn export_json(
    layout: &crate::guardrails::Layout,
    settings: &crate::config::GuardrailSettings,
    models_without_ids: &[ModelKey],
) -> String {
    let target = |t: &Target| ExportTarget {
        target_id: t.id().to_owned(),
        target_type: match t {
            Target::Root(_) => "ROOT",
            Target::Ou(_) => "ORGANIZATIONAL_UNIT",
            Target::Account(_) => "ACCOUNT",
        }
        .to_owned(),
    };
    let doc = ExportDocument {
        format_version: 1,
        mode: mode_name(settings.mode).to_owned(),
        policy_name_prefix: settings.policy_name_prefix.clone(),
        tags: BTreeMap::from([(
            crate::model::MANAGED_TAG_KEY.to_owned(),
            crate::model::MANAGED_TAG_VALUE.to_owned(),
        )]),
        policies: layout
            .policies
            .iter()
            .map(|p| ExportPolicy {
                name: p.name.clone(),
                description: p.description.clone(),
                policy_type: "SERVICE_CONTROL_POLICY".to_owned(),
                models: p.kind.models().to_vec(),
                part: p.part,
                parts: p.parts,
                content: p.document.clone(),
                targets: p.targets.iter().map(target).collect(),
            })
            .collect(),
        denied: layout
            .denied
            .iter()
            .map(|(k, a)| (k.clone(), ids(a)))
            .collect(),
        models_without_ids: models_without_ids.iter().map(ToString::to_string).collect(),
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
