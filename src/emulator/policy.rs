//! A small IAM policy evaluator, so a test can prove that the documented least-privilege policies
//! are enough: given a policy, the emulator refuses every action it does not allow.
//!
//! Evaluated: `Effect`, `Action` / `NotAction` with `*` and `?` wildcards (case-insensitive, as IAM
//! does). Not evaluated: `Resource` and `Condition` (kept, ignored). An explicit Deny wins; no
//! matching Allow means deny.

use serde::{Deserialize, Deserializer, Serialize};

/// An IAM identity policy document (`{"Version": ..., "Statement": [...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub action: Vec<String>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub not_action: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid IAM policy document: {0}")]
pub struct PolicyError(String);

impl PolicyDocument {
    /// Parses a policy document from its JSON text (the format of the files under `docs/iam/`).
    pub fn from_json(text: &str) -> Result<PolicyDocument, PolicyError> {
        serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))
    }

    /// Whether `action` (`license-manager:CreateGrant`) is allowed.
    pub fn allows(&self, action: &str) -> bool {
        let mut allowed = false;
        for s in &self.statement {
            let matches = if s.action.is_empty() {
                !s.not_action.is_empty() && !s.not_action.iter().any(|p| wildcard(p, action))
            } else {
                s.action.iter().any(|p| wildcard(p, action))
            };
            if matches {
                match s.effect {
                    Effect::Deny => return false,
                    Effect::Allow => allowed = true,
                }
            }
        }
        allowed
    }
}

fn one_or_many<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(t) => vec![t],
        OneOrMany::Many(v) => v,
    })
}

/// IAM action matching: `*` any run of characters, `?` one character, ASCII case-insensitive.
fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let t: Vec<u8> = text.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(policy: &str, action: &str, expect: bool) {
        let doc = PolicyDocument::from_json(policy).unwrap();
        assert_eq!(doc.allows(action), expect, "{action} under {policy}");
    }

    #[test]
    fn evaluates_allow_deny_and_wildcards() {
        let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["license-manager:List*","license-manager:Get*","organizations:Describe*"],"Resource":"*"}]}"#;
        check(read_only, "license-manager:ListDistributedGrants", true);
        check(read_only, "License-Manager:getgrant", true);
        check(read_only, "license-manager:CreateGrant", false);
        check(read_only, "organizations:ListAccounts", false);
        let deny = r#"{"Statement":[{"Effect":"Allow","Action":"*"},{"Effect":"Deny","Action":"license-manager:Delete?rant"}]}"#;
        check(deny, "license-manager:DeleteGrant", false);
        check(deny, "license-manager:CreateGrant", true);
        let not_action = r#"{"Statement":{"Effect":"Allow","NotAction":"sts:*"}}"#;
        check(not_action, "sts:AssumeRole", false);
        check(not_action, "organizations:ListRoots", true);
    }

    #[test]
    fn rejects_malformed_documents() {
        assert!(PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Maybe"}]}"#).is_err());
        assert!(PolicyDocument::from_json("[]").is_err());
    }
}
