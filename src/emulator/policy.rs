//! A small IAM policy evaluator, so a test can prove that the documented least-privilege policies
//! are enough: given a policy, the emulator refuses every action it does not allow.
//!
//! Evaluated: `Effect`, `Action` / `NotAction` with `*` and `?` wildcards (case-insensitive, as IAM
//! does), and `Condition` blocks of `StringEquals` / `StringLike` over the request's context keys
//! (the emulator supplies `iam:AWSServiceName` for CreateServiceLinkedRole). A key the request
//! does not carry, or another operator, makes the condition false, so its statement does not
//! apply (IAM's rule for a missing key). Not evaluated: `Resource` (kept, ignored). An explicit
//! Deny wins; no matching Allow means deny.

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

    /// Whether `action` (`license-manager:CreateGrant`) is allowed, for a request without
    /// context keys.
    pub fn allows(&self, action: &str) -> bool {
        self.allows_in(action, &[])
    }

    /// Whether `action` is allowed for a request with `context` keys (`("iam:AWSServiceName",
    /// "license-manager.amazonaws.com")`).
    pub fn allows_in(&self, action: &str, context: &[(&str, &str)]) -> bool {
        let mut allowed = false;
        for s in &self.statement {
            let matches = if s.action.is_empty() {
                !s.not_action.is_empty() && !s.not_action.iter().any(|p| wildcard(p, action, true))
            } else {
                s.action.iter().any(|p| wildcard(p, action, true))
            };
            if matches && conditions_hold(s.condition.as_ref(), context) {
                match s.effect {
                    Effect::Deny => return false,
                    Effect::Allow => allowed = true,
                }
            }
        }
        allowed
    }
}

/// Every operator and key of a `Condition` block holds (no block: true).
fn conditions_hold(condition: Option<&serde_json::Value>, context: &[(&str, &str)]) -> bool {
    let Some(block) = condition else {
        return true;
    };
    let Some(ops) = block.as_object() else {
        return false;
    };
    ops.iter().all(|(op, keys)| {
        let like = match op.as_str() {
            "StringEquals" => false,
            "StringLike" => true,
            _ => return false,
        };
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(key, wanted)| {
            let Some((_, value)) = context.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) else {
                return false;
            };
            let wanted: Vec<&str> = match wanted {
                serde_json::Value::String(w) => vec![w.as_str()],
                serde_json::Value::Array(ws) => ws.iter().filter_map(|w| w.as_str()).collect(),
                _ => Vec::new(),
            };
            wanted.iter().any(|w| {
                if like {
                    wildcard(w, value, false)
                } else {
                    w == value
                }
            })
        })
    })
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

/// IAM's wildcard match: `*` any run of characters, `?` any one character; actions match
/// case-insensitively, `StringLike` values and SCP resources exactly. The emulator's one
/// matcher (the SCP evaluator uses it too).
pub(super) fn wildcard(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let norm = |s: &str| -> Vec<char> {
        if case_insensitive {
            s.chars().flat_map(char::to_lowercase).collect()
        } else {
            s.chars().collect()
        }
    };
    let (p, t) = (norm(pattern), norm(text));
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
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
    while pi < p.len() && p[pi] == '*' {
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
    fn evaluates_string_conditions_over_the_request_context() {
        let doc = PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Allow","Action":"iam:CreateServiceLinkedRole","Resource":"*","Condition":{"StringEquals":{"iam:AWSServiceName":["license-manager.amazonaws.com"]}}}]}"#).unwrap();
        let action = "iam:CreateServiceLinkedRole";
        assert!(doc.allows_in(
            action,
            &[("iam:AWSServiceName", "license-manager.amazonaws.com")]
        ));
        assert!(!doc.allows_in(action, &[("iam:AWSServiceName", "ec2.amazonaws.com")]));
        assert!(
            !doc.allows(action),
            "a missing key makes the condition false"
        );
        let like = PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Condition":{"StringLike":{"iam:AWSServiceName":"license-*"}}}]}"#).unwrap();
        assert!(like.allows_in(
            action,
            &[("iam:awsservicename", "license-manager.amazonaws.com")]
        ));
        let other = PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Allow","Action":"iam:*","Condition":{"NumericEquals":{"aws:x":"1"}}}]}"#).unwrap();
        assert!(!other.allows_in(action, &[("aws:x", "1")]));
    }

    #[test]
    fn rejects_malformed_documents() {
        assert!(PolicyDocument::from_json(r#"{"Statement":[{"Effect":"Maybe"}]}"#).is_err());
        assert!(PolicyDocument::from_json("[]").is_err());
    }
}
