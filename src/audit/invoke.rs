//! The second layer of access: may an account invoke a model, as far as a static reading of the
//! service control policies along its path can tell. Pure.
//!
//! SCP evaluation (Organizations user guide, "SCP evaluation"): an action is allowed for an
//! account only when every level of its path (the root, each OU, the account itself) has an SCP
//! that allows it, and no SCP anywhere on the path denies it; SCPs never restrict the management
//! account. This reader decides what it can and says "unknown" for the rest:
//! - a `Deny` statement whose actions match `bedrock:InvokeModel` and whose resources match the
//!   model's ARN denies, unless it has a `Condition` (then unknown: conditions depend on the
//!   request) or uses `NotAction` / `NotResource` (unknown);
//! - a level allows when an `Allow` statement without a condition matches action and resource
//!   (`FullAWSAccess` does); a level whose only matching allows are conditional is unknown; a level
//!   with no matching allow denies implicitly. When FullAWSAccess was read without its targets
//!   (the live read skips listing them), it is taken to be where AWS puts it: at every level.
//!
//! A model is known by its `bedrock_model_ids`, which may hold IAM wildcards: each id is read as a
//! concrete model id with every `*` and `?` standing for `x` (a pattern that denies
//! `anthropic.claude-*` denies the file's `anthropic.claude-sonnet-4-5-*`). Its ARN is
//! `arn:aws:bedrock:us-east-1::foundation-model/<id>`.

use std::borrow::Cow;

use serde_json::Value;

use crate::model::{AccountId, LiveGuardrails, Organization, ScpPolicy, Target};

/// The action the reader asks about.
pub const INVOKE_ACTION: &str = "bedrock:InvokeModel";

/// Whether an account may invoke a model. The words borrow the policy's name (or a fixed
/// sentence) where they can: the access matrix holds one per cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvokeState<'a> {
    /// SCPs do not restrict the management account.
    NotRestricted,
    /// Every level allows and nothing denies.
    Allowed,
    /// A policy denies (explicitly, or no policy at some level allows).
    Denied { policy: Cow<'a, str>, managed: bool },
    /// A policy could deny depending on conditions, or the model ids are not known.
    Unknown { why: Cow<'a, str> },
}

impl InvokeState<'_> {
    pub fn as_str(&self) -> &'static str {
        match self {
            InvokeState::NotRestricted => "not_restricted",
            InvokeState::Allowed => "allowed",
            InvokeState::Denied { .. } => "denied",
            InvokeState::Unknown { .. } => "unknown",
        }
    }

    /// Allowed or not restricted.
    pub fn may_invoke(&self) -> bool {
        matches!(self, InvokeState::NotRestricted | InvokeState::Allowed)
    }

    /// The same state, owning its words.
    pub fn into_owned(self) -> InvokeState<'static> {
        match self {
            InvokeState::NotRestricted => InvokeState::NotRestricted,
            InvokeState::Allowed => InvokeState::Allowed,
            InvokeState::Denied { policy, managed } => InvokeState::Denied {
                policy: Cow::Owned(policy.into_owned()),
                managed,
            },
            InvokeState::Unknown { why } => InvokeState::Unknown {
                why: Cow::Owned(why.into_owned()),
            },
        }
    }
}

/// Reads the SCPs of an organization for one account and model at a time.
pub struct InvokeReader<'a> {
    org: &'a Organization,
    guardrails: &'a LiveGuardrails,
    prefix: &'a str,
}

impl<'a> InvokeReader<'a> {
    pub fn new(org: &'a Organization, guardrails: &'a LiveGuardrails, prefix: &'a str) -> Self {
        InvokeReader {
            org,
            guardrails,
            prefix,
        }
    }

    /// Whether FullAWSAccess is taken to be attached at every level: the live read does not list
    /// its targets (AWS attaches it to every root, OU and account when SCPs are enabled, and
    /// listing them costs one page per 20 targets), so an AWS-managed policy read without targets
    /// stands for it. The implicit deny of a level is then not judged.
    fn full_access_assumed(&self) -> bool {
        self.guardrails
            .policies
            .iter()
            .any(|p| p.aws_managed && p.targets.is_empty())
    }

    /// May `account` invoke the model known by `model_ids`.
    pub fn state(&self, account: &AccountId, model_ids: &[String]) -> InvokeState<'a> {
        if account == &self.org.management_account {
            return InvokeState::NotRestricted;
        }
        if !self.guardrails.scp_enabled {
            return InvokeState::Allowed;
        }
        if model_ids.is_empty() {
            return InvokeState::Unknown {
                why: Cow::Borrowed("the file gives no bedrock_model_ids for this model"),
            };
        }
        let arns: Vec<String> = model_ids.iter().map(|id| model_arn(id)).collect();
        let path = crate::plan::path_of(self.org, account);
        let mut unknown: Option<String> = None;
        for level in &path {
            let attached: Vec<&'a ScpPolicy> = self
                .guardrails
                .policies
                .iter()
                .filter(|p| p.targets.contains(level))
                .collect();
            for p in &attached {
                match denies(&p.content, &arns) {
                    Verdict::Yes => {
                        return InvokeState::Denied {
                            policy: Cow::Borrowed(&p.name),
                            managed: p.is_managed(self.prefix),
                        };
                    }
                    Verdict::Maybe(why) => {
                        unknown.get_or_insert_with(|| format!("{} {why}", p.name));
                    }
                    Verdict::No => {}
                }
            }
            let allows = if self.full_access_assumed() {
                Verdict::Yes
            } else {
                level_allows(&attached, &arns)
            };
            match allows {
                Verdict::Yes => {}
                Verdict::Maybe(why) => {
                    unknown.get_or_insert(why);
                }
                Verdict::No => {
                    return InvokeState::Denied {
                        policy: Cow::Owned(format!(
                            "no SCP at {} allows {INVOKE_ACTION}",
                            target_name(level)
                        )),
                        managed: false,
                    };
                }
            }
        }
        match unknown {
            Some(why) => InvokeState::Unknown {
                why: Cow::Owned(why),
            },
            None => InvokeState::Allowed,
        }
    }
}

fn target_name(t: &Target) -> String {
    match t {
        Target::Root(r) => format!("the root {r}"),
        Target::Ou(o) => format!("OU {o}"),
        Target::Account(a) => format!("account {a}"),
    }
}

/// The foundation-model ARN a (possibly wildcarded) model id stands for.
pub fn model_arn(id: &str) -> String {
    let concrete: String = id
        .chars()
        .map(|c| if c == '*' || c == '?' { 'x' } else { c })
        .collect();
    format!("arn:aws:bedrock:us-east-1::foundation-model/{concrete}")
}

enum Verdict {
    Yes,
    No,
    Maybe(String),
}

fn statements(content: &str) -> Option<Vec<Value>> {
    let doc: Value = serde_json::from_str(content).ok()?;
    match doc.get("Statement")? {
        Value::Array(items) => Some(items.clone()),
        one @ Value::Object(_) => Some(vec![one.clone()]),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Does one statement apply to the action on any of `arns`: Yes, No, or Maybe (NotAction /
/// NotResource, which this reader does not decide).
fn matches_statement(s: &Value, arns: &[String]) -> Verdict {
    if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
        return Verdict::Maybe("uses NotAction or NotResource".to_owned());
    }
    let action = strings(s.get("Action"))
        .iter()
        .any(|a| glob(&a.to_ascii_lowercase(), &INVOKE_ACTION.to_ascii_lowercase()));
    let resources = strings(s.get("Resource"));
    let resource = resources
        .iter()
        .any(|r| arns.iter().any(|arn| glob(r, arn)));
    if action && resource {
        Verdict::Yes
    } else {
        Verdict::No
    }
}

fn denies(content: &str, arns: &[String]) -> Verdict {
    let Some(statements) = statements(content) else {
        return Verdict::No;
    };
    let mut maybe = None;
    for s in statements.iter().filter(|s| s["Effect"] == "Deny") {
        match matches_statement(s, arns) {
            Verdict::Yes if s.get("Condition").is_none() => return Verdict::Yes,
            Verdict::Yes => maybe = Some("denies it under a condition".to_owned()),
            Verdict::Maybe(why) => maybe = Some(why),
            Verdict::No => {}
        }
    }
    maybe.map_or(Verdict::No, Verdict::Maybe)
}

fn level_allows(attached: &[&ScpPolicy], arns: &[String]) -> Verdict {
    let mut maybe = None;
    for p in attached {
        let Some(statements) = statements(&p.content) else {
            continue;
        };
        for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
            match matches_statement(s, arns) {
                Verdict::Yes if s.get("Condition").is_none() => return Verdict::Yes,
                Verdict::Yes => {
                    maybe = Some(format!("{} allows it only under a condition", p.name))
                }
                Verdict::Maybe(why) => maybe = Some(format!("{} {why}", p.name)),
                Verdict::No => {}
            }
        }
    }
    maybe.map_or(Verdict::No, Verdict::Maybe)
}

/// IAM's wildcard match: `*` any run of characters, `?` any one character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::model::{
        AccountState, FeatureSet, OrgAccount, OrgUnit, OuId, ParentId, PolicyId, RootId,
    };

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn id<T: std::str::FromStr>(s: &str) -> T
    where
        T::Err: std::fmt::Debug,
    {
        s.parse().unwrap()
    }

    fn org() -> Organization {
        let root: RootId = id("r-ab12");
        let ou: OuId = id("ou-ab12-aaaaaaaa");
        let account = |a: &str, parent: ParentId| OrgAccount {
            id: id(a),
            name: a.to_owned(),
            state: AccountState::Active,
            parent,
        };
        Organization {
            id: id("o-aaaaaaaaaa"),
            management_account: id("111111111111"),
            feature_set: FeatureSet::All,
            root: root.clone(),
            ous: BTreeMap::from([(
                ou.clone(),
                OrgUnit {
                    id: ou.clone(),
                    name: "ML".to_owned(),
                    parent: ParentId::Root(root.clone()),
                },
            )]),
            accounts: [
                account("111111111111", ParentId::Root(root.clone())),
                account("222222222222", ParentId::Ou(ou.clone())),
                account("333333333333", ParentId::Root(root)),
            ]
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect(),
        }
    }

    fn policy(name: &str, content: &str, targets: &[&str], managed: bool) -> ScpPolicy {
        ScpPolicy {
            id: id::<PolicyId>(&format!("p-{:0>8}", name.len())),
            arn: String::new(),
            name: name.to_owned(),
            description: String::new(),
            aws_managed: name == "FullAWSAccess",
            content: content.to_owned(),
            managed_tag: managed,
            targets: targets
                .iter()
                .map(|t| Target::parse(t).unwrap())
                .collect::<BTreeSet<_>>(),
        }
    }

    fn deny(resource: &str, condition: bool) -> String {
        let cond = if condition {
            r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"ml"}}"#
        } else {
            ""
        };
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":["bedrock:*"],"Resource":["{resource}"]{cond}}}]}}"#
        )
    }

    fn state(policies: Vec<ScpPolicy>, account: &str, ids: &[&str]) -> InvokeState<'static> {
        let org = org();
        let g = LiveGuardrails {
            scp_enabled: true,
            policies,
        };
        let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        InvokeReader::new(&org, &g, "bedrock-entitlements")
            .state(&id(account), &ids)
            .into_owned()
    }

    fn full_everywhere() -> ScpPolicy {
        policy(
            "FullAWSAccess",
            FULL,
            &[
                "r-ab12",
                "ou-ab12-aaaaaaaa",
                "111111111111",
                "222222222222",
                "333333333333",
            ],
            false,
        )
    }

    #[test]
    fn a_managed_deny_on_the_accounts_ou_denies_and_names_the_policy() {
        let d = policy(
            "bedrock-entitlements-claude",
            &deny(
                "arn:aws:bedrock:*::foundation-model/anthropic.claude-*",
                false,
            ),
            &["ou-ab12-aaaaaaaa"],
            true,
        );
        let ids = ["anthropic.claude-sonnet-4-5-*"];
        assert_eq!(
            state(vec![full_everywhere(), d.clone()], "222222222222", &ids),
            InvokeState::Denied {
                policy: "bedrock-entitlements-claude".into(),
                managed: true
            }
        );
        // Not on the other account's path; never on the management account.
        assert_eq!(
            state(vec![full_everywhere(), d.clone()], "333333333333", &ids),
            InvokeState::Allowed
        );
        assert_eq!(
            state(vec![full_everywhere(), d], "111111111111", &ids),
            InvokeState::NotRestricted
        );
    }

    #[test]
    fn conditions_and_other_models_are_read_as_they_must_be() {
        let conditional = policy(
            "team-only",
            &deny("arn:aws:bedrock:*::foundation-model/*", true),
            &["r-ab12"],
            false,
        );
        assert!(matches!(
            state(
                vec![full_everywhere(), conditional],
                "333333333333",
                &["cohere.command-r-plus-v1:0"]
            ),
            InvokeState::Unknown { .. }
        ));
        let other_model = policy(
            "no-cohere",
            &deny("arn:aws:bedrock:*::foundation-model/cohere.*", false),
            &["r-ab12"],
            false,
        );
        assert_eq!(
            state(
                vec![full_everywhere(), other_model],
                "333333333333",
                &["anthropic.claude-3"]
            ),
            InvokeState::Allowed
        );
    }

    #[test]
    fn a_level_without_an_allow_denies_implicitly() {
        let mut full = full_everywhere();
        full.targets
            .remove(&Target::parse("ou-ab12-aaaaaaaa").unwrap());
        match state(vec![full], "222222222222", &["anthropic.claude-3"]) {
            InvokeState::Denied { policy, managed } => {
                assert!(policy.contains("OU ou-ab12-aaaaaaaa"), "{policy}");
                assert!(!managed);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn glob_is_iams() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob("*", ""));
        assert!(!glob("abc", "abcd"));
        assert!(glob(
            "arn:aws:bedrock:*::foundation-model/anthropic.*",
            &model_arn("anthropic.claude-*")
        ));
    }
}
