//! For tests: may a principal in account X call `bedrock:InvokeModel` (or any action) on a
//! resource (`arn:aws:bedrock:REGION::foundation-model/MODEL_ID`), given the SCPs attached along
//! X's path to the root? Written from AWS's documentation of SCP evaluation (Organizations user
//! guide, "SCP evaluation"), independently of the planner:
//!
//! - SCPs do not affect the management account: it is always allowed.
//! - With SCPs not enabled on the root, nothing is restricted.
//! - Every level (the root, each OU down the path, the account) must allow the call through one of
//!   the SCPs attached to it; an explicit `Deny` matching the call at any level denies it.
//! - `Action` / `NotAction` match with `*` and `?`, case-insensitively; `Resource` / `NotResource`
//!   with `*` and `?`, case-sensitively; a statement without `Resource` or `NotResource` matches
//!   every resource.
//! - A statement with a `Condition` cannot be decided statically: when the answer depends on one,
//!   the decision is `Unknown`. An unconditional Deny still denies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::EmulatorState;
use super::admin::AdminError;
use super::org_policies::SCP;
use super::policy::wildcard;
use super::state::World;

/// The answer of the evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny,
    /// A `Condition` decides, which a static reading cannot.
    Unknown,
}

/// The effect of one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Matcher {
    /// `Action` / `Resource`: matches when one pattern matches.
    Any(Vec<String>),
    /// `NotAction` / `NotResource`: matches when no pattern matches.
    None(Vec<String>),
}

impl Matcher {
    fn matches(&self, text: &str, case_insensitive: bool) -> bool {
        match self {
            Matcher::Any(ps) => ps.iter().any(|p| wildcard(p, text, case_insensitive)),
            Matcher::None(ps) => !ps.iter().any(|p| wildcard(p, text, case_insensitive)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ScpStatement {
    effect: Effect,
    action: Matcher,
    resource: Matcher,
    conditional: bool,
}

/// A parsed service control policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpDocument {
    statements: Vec<ScpStatement>,
}

fn strings(v: &Value, member: &str) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{member} must hold strings"))
            })
            .collect(),
        _ => Err(format!(
            "{member} must be a string or a non-empty list of strings"
        )),
    }
}

fn pair(
    s: &serde_json::Map<String, Value>,
    yes: &str,
    no: &str,
) -> Result<Option<Matcher>, String> {
    match (s.get(yes), s.get(no)) {
        (Some(_), Some(_)) => Err(format!("a statement cannot hold both {yes} and {no}")),
        (Some(v), None) => Ok(Some(Matcher::Any(strings(v, yes)?))),
        (None, Some(v)) => Ok(Some(Matcher::None(strings(v, no)?))),
        (None, None) => Ok(None),
    }
}

const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn statement(v: &Value) -> Result<ScpStatement, String> {
    let Value::Object(s) = v else {
        return Err("each statement must be an object".to_owned());
    };
    if let Some(k) = s.keys().find(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(format!("SCPs do not support the statement element {k}"));
    }
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err("Effect must be Allow or Deny".to_owned()),
    };
    let action = pair(s, "Action", "NotAction")?
        .ok_or_else(|| "a statement needs Action or NotAction".to_owned())?;
    let resource = pair(s, "Resource", "NotResource")?.unwrap_or(Matcher::Any(vec!["*".into()]));
    let conditional = match s.get("Condition") {
        None => false,
        Some(Value::Object(_)) => true,
        Some(_) => return Err("Condition must be an object".to_owned()),
    };
    Ok(ScpStatement {
        effect,
        action,
        resource,
        conditional,
    })
}

impl ScpDocument {
    /// Parses an SCP's JSON text.
    pub fn from_json(text: &str) -> Result<ScpDocument, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        ScpDocument::from_value(&v)
    }

    pub(crate) fn from_value(v: &Value) -> Result<ScpDocument, String> {
        let Value::Object(doc) = v else {
            return Err("the document must be a JSON object".to_owned());
        };
        if let Some(k) = doc
            .keys()
            .find(|k| !["Version", "Id", "Statement"].contains(&k.as_str()))
        {
            return Err(format!("unknown top-level element {k}"));
        }
        match doc.get("Version") {
            None => {}
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(_) => return Err("Version must be 2012-10-17 or 2008-10-17".to_owned()),
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => {
                items.iter().map(statement).collect::<Result<Vec<_>, _>>()?
            }
            Some(one @ Value::Object(_)) => vec![statement(one)?],
            _ => return Err("Statement must be an object or a non-empty list".to_owned()),
        };
        Ok(ScpDocument { statements })
    }
}

/// What one level contributes.
#[derive(Debug, Clone, Copy, Default)]
struct LevelOutcome {
    allow: bool,
    conditional_allow: bool,
    deny: bool,
    conditional_deny: bool,
}

fn level(docs: &[ScpDocument], action: &str, resource: &str) -> LevelOutcome {
    let mut out = LevelOutcome::default();
    for s in docs.iter().flat_map(|d| &d.statements) {
        if !(s.action.matches(action, true) && s.resource.matches(resource, false)) {
            continue;
        }
        match (s.effect, s.conditional) {
            (Effect::Allow, false) => out.allow = true,
            (Effect::Allow, true) => out.conditional_allow = true,
            (Effect::Deny, false) => out.deny = true,
            (Effect::Deny, true) => out.conditional_deny = true,
        }
    }
    out
}

/// The decision for a call from `levels` (the SCPs attached to the root, each OU down the path
/// and the account, in that order; empty levels deny). Pure: the guardrail layout's tests use it
/// as their oracle.
pub fn evaluate_levels(levels: &[Vec<ScpDocument>], action: &str, resource: &str) -> Decision {
    let outcomes: Vec<LevelOutcome> = levels.iter().map(|l| level(l, action, resource)).collect();
    if outcomes.iter().any(|o| o.deny) {
        return Decision::Deny;
    }
    if outcomes.iter().any(|o| !o.allow && !o.conditional_allow) {
        return Decision::Deny;
    }
    if outcomes.iter().any(|o| o.conditional_deny || !o.allow) {
        return Decision::Unknown;
    }
    Decision::Allow
}

/// The path of `account` from the root down: root id, OU ids, the account id.
fn path(world: &World, account: &str) -> Option<Vec<String>> {
    let acc = world.org.accounts.get(account)?;
    let mut chain = vec![account.to_owned()];
    let mut cur = acc.parent.clone();
    while let Some(ou) = world.org.ous.get(&cur) {
        chain.push(ou.id.clone());
        cur = ou.parent.clone();
    }
    chain.push(world.org.root_id.clone());
    chain.reverse();
    Some(chain)
}

/// One evaluation, with what decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScpEvaluation {
    pub decision: Decision,
    /// Why, in a sentence: management account, SCPs not enabled, or the levels' policies.
    pub reason: String,
    /// Per level of the path (root first): the target id and the SCP ids attached there.
    pub levels: Vec<(String, Vec<String>)>,
}

fn evaluate_world(
    world: &World,
    account: &str,
    action: &str,
    resource: &str,
) -> Result<ScpEvaluation, AdminError> {
    let chain =
        path(world, account).ok_or_else(|| AdminError::NotFound(format!("account {account}")))?;
    let mut levels = Vec::new();
    let mut docs = Vec::new();
    for target in &chain {
        let attached = world.policies.attached_to(target, SCP);
        levels.push((
            target.clone(),
            attached.iter().map(|p| p.id.clone()).collect(),
        ));
        let parsed = attached
            .iter()
            .map(|p| {
                ScpDocument::from_json(&p.content)
                    .map_err(|e| AdminError::Invalid(format!("policy {}: {e}", p.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        docs.push(parsed);
    }
    let (decision, reason) = if account == world.org.management {
        (Decision::Allow, "SCPs do not affect the management account")
    } else if !world.policies.enabled.contains(SCP) {
        (Decision::Allow, "SCPs are not enabled on the root")
    } else {
        let d = evaluate_levels(&docs, action, resource);
        let why = match d {
            Decision::Allow => "every level allows and no statement denies",
            Decision::Deny => "a Deny statement matches, or a level allows nothing that matches",
            Decision::Unknown => "a Condition decides",
        };
        (d, why)
    };
    Ok(ScpEvaluation {
        decision,
        reason: reason.to_owned(),
        levels,
    })
}

/// A policy with its targets, for dumps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    pub policy_type: String,
    pub aws_managed: bool,
    pub content: String,
    pub targets: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

fn views(world: &World) -> Vec<PolicyView> {
    let pol = &world.policies;
    let mut all: Vec<_> = pol.policies.values().cloned().collect();
    all.extend(pol.policy(super::org_policies::FULL_AWS_ACCESS));
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let mut targets: Vec<String> = vec![world.org.root_id.clone()];
    targets.extend(world.org.ous.keys().cloned());
    targets.extend(world.org.accounts.keys().cloned());
    all.into_iter()
        .map(|p| {
            let mut on: Vec<String> = targets
                .iter()
                .filter(|t| {
                    pol.attached_to(t, &p.policy_type)
                        .iter()
                        .any(|a| a.id == p.id)
                })
                .cloned()
                .collect();
            on.sort();
            PolicyView {
                arn: super::org_policies::policy_arn(world, &p),
                tags: pol.tags.get(&p.id).cloned().unwrap_or_default(),
                id: p.id,
                name: p.name,
                description: p.description,
                policy_type: p.policy_type,
                aws_managed: p.aws_managed,
                content: p.content,
                targets: on,
            }
        })
        .collect()
}

impl EmulatorState {
    fn policy_world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// May a principal in `account` call `action` on `resource`, by the SCPs along its path?
    pub fn may_invoke(
        &self,
        account: &str,
        action: &str,
        resource: &str,
    ) -> Result<Decision, AdminError> {
        self.scp_evaluation(account, action, resource)
            .map(|e| e.decision)
    }

    /// [`EmulatorState::may_invoke`] with the levels and the reason.
    pub fn scp_evaluation(
        &self,
        account: &str,
        action: &str,
        resource: &str,
    ) -> Result<ScpEvaluation, AdminError> {
        evaluate_world(&self.policy_world(), account, action, resource)
    }

    /// Every Organizations policy (FullAWSAccess included) with its targets, by id.
    pub fn org_policies(&self) -> Vec<PolicyView> {
        views(&self.policy_world())
    }

    /// The policy types enabled on the root.
    pub fn enabled_policy_types(&self) -> Vec<String> {
        self.policy_world()
            .policies
            .enabled
            .iter()
            .cloned()
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EvalRequest {
    account_id: String,
    #[serde(default = "default_action")]
    action: String,
    resource: String,
}

fn default_action() -> String {
    "bedrock:InvokeModel".to_owned()
}

/// `POST /_emulator/scp/evaluate` and `GET /_emulator/scp/policies`; `None` for other routes.
pub(crate) fn admin_route(
    state: &EmulatorState,
    get: bool,
    route: &str,
    body: &[u8],
) -> Option<Result<Value, AdminError>> {
    match route {
        "scp/policies" if get => Some(Ok(
            serde_json::to_value(state.org_policies()).unwrap_or(Value::Null)
        )),
        "scp/evaluate" if !get => Some(
            serde_json::from_slice::<EvalRequest>(body)
                .map_err(|e| AdminError::Invalid(e.to_string()))
                .and_then(|r| state.scp_evaluation(&r.account_id, &r.action, &r.resource))
                .map(|e| serde_json::to_value(e).unwrap_or_else(|_| json!({}))),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const MODEL: &str =
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0";

    fn doc(s: &str) -> ScpDocument {
        ScpDocument::from_json(s).unwrap()
    }

    fn check(levels: &[&[&str]], action: &str, resource: &str, expect: Decision) {
        let levels: Vec<Vec<ScpDocument>> = levels
            .iter()
            .map(|l| l.iter().map(|s| doc(s)).collect())
            .collect();
        assert_eq!(
            evaluate_levels(&levels, action, resource),
            expect,
            "{action} on {resource}"
        );
    }

    #[test]
    fn every_level_must_allow_and_any_deny_wins() {
        let deny = r#"{"Statement":{"Effect":"Deny","Action":"bedrock:*","Resource":["arn:aws:bedrock:*:*:foundation-model/anthropic.claude-sonnet-4-5-*"]}}"#;
        check(
            &[&[FULL], &[FULL]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Allow,
        );
        check(
            &[&[FULL], &[FULL, deny]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
        check(
            &[&[FULL, deny], &[FULL]],
            "Bedrock:invokemodel",
            MODEL,
            Decision::Deny,
        );
        let other = MODEL.replace("sonnet", "haiku");
        check(
            &[&[FULL, deny], &[FULL]],
            "bedrock:InvokeModel",
            &other,
            Decision::Allow,
        );
        // A level with nothing that allows denies, even with FullAWSAccess above.
        let s3_only = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        check(
            &[&[FULL], &[s3_only]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
        check(
            &[&[FULL], &[]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
    }

    #[test]
    fn not_action_not_resource_and_wildcards() {
        let allow_except = r#"{"Statement":[{"Effect":"Allow","NotAction":"bedrock:Invoke?odel*","Resource":"*"}]}"#;
        check(
            &[&[allow_except]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
        check(
            &[&[allow_except]],
            "bedrock:ListFoundationModels",
            "*",
            Decision::Allow,
        );
        let only_approved = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"bedrock:InvokeModel","NotResource":"arn:aws:bedrock:*::foundation-model/amazon.*"}]}"#;
        check(
            &[&[only_approved]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
        let nova = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0";
        check(
            &[&[only_approved]],
            "bedrock:InvokeModel",
            nova,
            Decision::Allow,
        );
        // Resources match case-sensitively.
        let upper = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"arn:aws:bedrock:*::foundation-model/ANTHROPIC.*"}]}"#;
        check(&[&[upper]], "bedrock:InvokeModel", MODEL, Decision::Allow);
    }

    #[test]
    fn conditions_are_unknown_unless_an_unconditional_deny_decides() {
        let cond_deny = r#"{"Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#;
        check(
            &[&[FULL, cond_deny]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Unknown,
        );
        let deny = r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}"#;
        check(
            &[&[FULL, cond_deny, deny]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Deny,
        );
        let cond_allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        check(
            &[&[FULL], &[cond_allow]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Unknown,
        );
        // A conditional statement that does not match the call changes nothing.
        let cond_s3 = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        check(
            &[&[FULL, cond_s3]],
            "bedrock:InvokeModel",
            MODEL,
            Decision::Allow,
        );
    }

    #[test]
    fn rejects_what_scps_do_not_accept() {
        for bad in [
            "[]",
            r#"{"Statement":[]}"#,
            r#"{"Statement":[{"Effect":"Allow"}]}"#,
            r#"{"Statement":[{"Effect":"Maybe","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Principal":"*"}]}"#,
            r#"{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":[]}]}"#,
        ] {
            assert!(ScpDocument::from_json(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("a*c", "abbbc", false));
        assert!(wildcard("a?c", "abc", false));
        assert!(!wildcard("a?c", "abbc", false));
        assert!(wildcard("*", "", false));
        assert!(wildcard(
            "arn:aws:bedrock:*:*:foundation-model/x",
            "arn:aws:bedrock:us-east-1::foundation-model/x",
            false
        ));
        assert!(!wildcard("A", "a", false));
        assert!(wildcard("A", "a", true));
    }
}
