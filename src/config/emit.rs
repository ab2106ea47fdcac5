//! Writing a [`Config`] back as a canonical desired-state file (used by `import`).
//! The output is YAML written by hand: block style, keys in a fixed order, settings only where
//! they differ from the defaults, account ids always quoted.

use std::fmt::Write;

use super::types::{
    AccountRef, ActivationOverride, Config, DesiredStatus, GuardrailMode, GuardrailSettings,
    LicenseSelector, ModelSpec, OuRef, Settings,
};
use super::yaml::{ScalarType, resolve_plain};

/// The first line of every file the tool writes: tells the YAML editor plugin where the schema is.
pub const MODELINE: &str = "# yaml-language-server: $schema=entitlements.schema.json";

/// A scalar as YAML text: plain when that reads back as the same string, else double-quoted.
fn scalar(s: &str) -> String {
    let plain_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " -_./()+@=".contains(c))
        && resolve_plain(s) == ScalarType::Str;
    if plain_ok { s.to_owned() } else { quoted(s) }
}

/// A double-quoted YAML scalar. JSON string syntax is a subset of YAML's double-quoted style.
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn account(a: &AccountRef) -> String {
    match a {
        AccountRef::Id(id) => quoted(id.as_str()),
        AccountRef::Name(name) => scalar(name),
    }
}

fn ou(o: &OuRef) -> String {
    match o {
        OuRef::Id(id) => scalar(id.as_str()),
        OuRef::Path(path) => scalar(path),
    }
}

fn settings(out: &mut String, s: &Settings) {
    let d = Settings::default();
    let mut body = String::new();
    if s.home_region != d.home_region {
        let _ = writeln!(body, "  home_region: {}", scalar(&s.home_region));
    }
    if s.grant_name_prefix != d.grant_name_prefix {
        let _ = writeln!(
            body,
            "  grant_name_prefix: {}",
            scalar(&s.grant_name_prefix)
        );
    }
    if s.allowed_operations != d.allowed_operations {
        body.push_str("  allowed_operations:\n");
        for op in &s.allowed_operations {
            let _ = writeln!(body, "    - {}", scalar(op));
        }
    }
    if s.max_deletes != d.max_deletes {
        let _ = writeln!(body, "  max_deletes: {}", s.max_deletes);
    }
    if s.expiry_warning_days != d.expiry_warning_days {
        let _ = writeln!(body, "  expiry_warning_days: {}", s.expiry_warning_days);
    }
    if let Some(role) = &s.recipient_role {
        let _ = writeln!(body, "  recipient_role: {}", scalar(role));
    }
    if let Some(o) = s.activation_override {
        let value = match o {
            ActivationOverride::DistributedGrantsOnly => "distributed_grants_only",
            ActivationOverride::AllGrantsPermittedByIssuer => "all_grants_permitted_by_issuer",
        };
        let _ = writeln!(body, "  activation_override: {value}");
    }
    guardrails(&mut body, &s.guardrails);
    bootstrap(&mut body, &s.bootstrap);
    if !body.is_empty() {
        out.push_str("settings:\n");
        out.push_str(&body);
    }
}

fn bootstrap(body: &mut String, b: &crate::config::BootstrapSettings) {
    if b.delegated_administrator.is_none() && b.anthropic_use_case.is_none() {
        return;
    }
    body.push_str("  bootstrap:\n");
    if let Some(admin) = &b.delegated_administrator {
        let _ = writeln!(body, "    delegated_administrator: \"{admin}\"");
    }
    if let Some(f) = &b.anthropic_use_case {
        body.push_str("    anthropic_use_case:\n");
        for (key, value) in [
            ("company_name", &f.company_name),
            ("company_website", &f.company_website),
            ("intended_users", &f.intended_users),
            ("industry_option", &f.industry_option),
            ("other_industry_option", &f.other_industry_option),
            ("use_cases", &f.use_cases),
        ] {
            let _ = writeln!(body, "      {key}: {}", scalar(value));
        }
    }
}

fn guardrails(body: &mut String, g: &GuardrailSettings) {
    let d = GuardrailSettings::default();
    if *g == d {
        return;
    }
    body.push_str("  guardrails:\n");
    let mode = match g.mode {
        GuardrailMode::Off => "off",
        GuardrailMode::Report => "report",
        GuardrailMode::Enforce => "enforce",
    };
    let _ = writeln!(body, "    mode: {mode}");
    if g.policy_name_prefix != d.policy_name_prefix {
        let _ = writeln!(
            body,
            "    policy_name_prefix: {}",
            scalar(&g.policy_name_prefix)
        );
    }
    if g.deny_marketplace_subscribe {
        body.push_str("    deny_marketplace_subscribe: true\n");
    }
}

/// A model's `bedrock_model_ids` and `marketplace_product_id`, when given.
fn model_guard(out: &mut String, m: &ModelSpec) {
    if !m.bedrock_model_ids.is_empty() {
        out.push_str("    bedrock_model_ids:\n");
        for id in &m.bedrock_model_ids {
            let _ = writeln!(out, "      - {}", quoted(&id.value));
        }
    }
    if let Some(p) = &m.marketplace_product_id {
        let _ = writeln!(out, "    marketplace_product_id: {}", scalar(&p.value));
    }
}

/// Writes `config` as a desired-state file that [`super::parse`] reads back to an equal config.
pub fn to_yaml(config: &Config) -> String {
    let mut out = String::new();
    out.push_str(MODELINE);
    out.push('\n');
    let _ = writeln!(out, "version: {}", config.version);
    settings(&mut out, &config.settings);
    if config.models.is_empty() {
        out.push_str("models: {}\n");
        return out;
    }
    out.push_str("models:\n");
    let mut models: Vec<_> = config.models.iter().collect();
    models.sort_by(|a, b| a.key.value.cmp(&b.key.value));
    for m in models {
        let _ = writeln!(out, "  {}:", scalar(m.key.value.as_str()));
        let _ = match &m.license.value {
            LicenseSelector::ProductSku(s) => writeln!(out, "    product_sku: {}", scalar(s)),
            LicenseSelector::ProductName(s) => writeln!(out, "    product_name: {}", scalar(s)),
            LicenseSelector::LicenseArn(a) => {
                writeln!(out, "    license_arn: {}", scalar(a.as_str()))
            }
        };
        out.push_str("    grant_to:\n");
        let g = &m.grant_to;
        if g.organization.is_some() {
            out.push_str("      organization: true\n");
        }
        if !g.organizational_units.is_empty() {
            out.push_str("      organizational_units:\n");
            for o in &g.organizational_units {
                let _ = writeln!(out, "        - {}", ou(&o.value));
            }
        }
        if !g.accounts.is_empty() {
            out.push_str("      accounts:\n");
            for a in &g.accounts {
                let _ = writeln!(out, "        - {}", account(&a.value));
            }
        }
        if !m.except_accounts.is_empty() {
            out.push_str("    except_accounts:\n");
            for a in &m.except_accounts {
                let _ = writeln!(out, "      - {}", account(&a.value));
            }
        }
        if m.status == DesiredStatus::Disabled {
            out.push_str("    status: disabled\n");
        }
        model_guard(&mut out, m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_when_safe() {
        assert_eq!(scalar("prod-cl4ud3s0nn3t1"), "prod-cl4ud3s0nn3t1");
        assert_eq!(
            scalar("Claude 3.5 Sonnet (Amazon Bedrock Edition)"),
            "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
        );
        assert_eq!(scalar("Root/Workloads/ML"), "Root/Workloads/ML");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("1.5"), "\"1.5\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("a #b"), "\"a #b\"");
        assert_eq!(scalar("-x"), "\"-x\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("tab\there"), "\"tab\\there\"");
        assert_eq!(
            scalar("arn:aws:license-manager::294406891311:license:l-abc"),
            "\"arn:aws:license-manager::294406891311:license:l-abc\""
        );
    }
}
