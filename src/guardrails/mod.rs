//! Guardrails: the service control policies that keep accounts not entitled to a model from
//! invoking it. Pure: no I/O, no clock; the same input gives the same layout in the same order.
//!
//! [`layout`] takes the organization, per model its key, its Bedrock model ids (IAM wildcards
//! allowed) and the accounts entitled to it, and returns the policy documents, their names and the
//! targets each is attached to, within AWS's documented SCP quotas (Organizations user guide,
//! "Quotas and service limits"): a document holds at most [`SCP_MAX_CHARS`] characters, a root,
//! OU or account holds at most [`SCPS_PER_TARGET`] SCPs (FullAWSAccess and every foreign SCP
//! count), an organization at most [`SCPS_PER_ORGANIZATION`].
//!
//! The layout:
//! - Each model denies `bedrock:*` on `arn:aws:bedrock:*::foundation-model/<id>` and on the
//!   cross-Region inference profiles `arn:aws:bedrock:*:*:inference-profile/*.<id>` (the form of
//!   AWS's "Example SCPs for Amazon Bedrock"); with `deny_marketplace_subscribe`, also
//!   `aws-marketplace:Subscribe` conditioned on `aws-marketplace:ProductId`.
//! - The accounts denied a model are its *active* accounts not entitled to it (the grantor is
//!   always entitled). SCPs do not affect the management account, so it is neither denied nor
//!   protected: a root attachment is fine when it is the only account entitled. Suspended or
//!   closed accounts not entitled are left out of the cover (they cannot invoke), never denied on
//!   their own.
//! - The targets of a model are the minimal cover of its denied accounts by the root, OUs and
//!   accounts (an OU whose every account is denied gets one attachment).
//! - One policy per model, `{prefix}-{model}` (`{prefix}-{model}-part2`, … when its statements
//!   need more than one document). Where a target would hold more SCPs than the quota allows, the
//!   models denied there share one policy instead, `{prefix}-set-{hash}` (split likewise); where
//!   even that does not fit, an OU's or the root's attachments move one level down; an account that
//!   cannot hold them is a [`LayoutError::TargetFull`].

mod cover;
mod document;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use crate::model::Target;
use crate::model::{AccountId, AccountState, Organization};

pub use document::resources_for as model_resources;

/// AWS's maximum size of an SCP document, in characters.
pub const SCP_MAX_CHARS: usize = 5_120;
/// AWS's maximum number of SCPs attached to one root, OU or account (FullAWSAccess included).
pub const SCPS_PER_TARGET: u32 = 5;
/// AWS's maximum number of SCPs in an organization (FullAWSAccess included).
pub const SCPS_PER_ORGANIZATION: usize = 10_000;
/// AWS's maximum policy name length.
pub const POLICY_NAME_MAX: usize = 128;
/// AWS's maximum policy description length.
pub const POLICY_DESCRIPTION_MAX: usize = 512;
/// The Bedrock action each policy denies on the model's resources.
pub const DENIED_ACTION: &str = "bedrock:*";

/// One model of the file, as the layout needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelGuard {
    /// The file's model key (`claude-sonnet`).
    pub key: String,
    /// Its Bedrock model ids, IAM wildcards allowed (`anthropic.claude-sonnet-4-5-*`).
    pub model_ids: Vec<String>,
    /// The accounts entitled to it (the resolved grants' accounts); the grantor is added.
    pub entitled: BTreeSet<AccountId>,
    /// Its Marketplace product id, denied to `aws-marketplace:Subscribe` with
    /// `deny_marketplace_subscribe`.
    pub marketplace_product_id: Option<String>,
}

/// Everything the layout depends on.
#[derive(Debug, Clone)]
pub struct LayoutInput<'a> {
    pub organization: &'a Organization,
    /// The account that grants (the caller): entitled to every model.
    pub grantor: AccountId,
    /// `settings.guardrails.policy_name_prefix`.
    pub policy_name_prefix: String,
    pub models: Vec<ModelGuard>,
    /// `settings.guardrails.deny_marketplace_subscribe`.
    pub deny_marketplace_subscribe: bool,
    /// SCPs attached to each target that the layout does not own (FullAWSAccess and foreign
    /// SCPs). A target absent from the map counts 1: FullAWSAccess, AWS's default.
    pub foreign_attachments: BTreeMap<Target, u32>,
    /// SCPs in the organization that the layout does not own, FullAWSAccess included.
    pub foreign_policies: usize,
}

impl LayoutInput<'_> {
    /// SCPs at `t` that the layout does not own.
    pub fn foreign_at(&self, t: &Target) -> u32 {
        self.foreign_attachments.get(t).copied().unwrap_or(1)
    }
}

/// What a policy denies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyKind {
    /// One model's policy.
    Model(String),
    /// Models sharing a policy where a target could not hold one per model (keys sorted).
    Set(Vec<String>),
}

impl PolicyKind {
    pub fn models(&self) -> &[String] {
        match self {
            PolicyKind::Model(k) => std::slice::from_ref(k),
            PolicyKind::Set(ks) => ks,
        }
    }
}

/// One SCP of the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardPolicy {
    /// `{prefix}-{model}`, `{prefix}-{model}-part2`, `{prefix}-set-{hash}`…; at most 128 chars.
    pub name: String,
    /// At most 512 characters.
    pub description: String,
    pub kind: PolicyKind,
    /// 1-based part number, of `parts`.
    pub part: usize,
    pub parts: usize,
    /// Compact JSON, at most [`SCP_MAX_CHARS`] characters.
    pub document: String,
    pub targets: BTreeSet<Target>,
}

/// The layout: the policies (sorted by name) and, per model key, the active accounts it denies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub policies: Vec<GuardPolicy>,
    pub denied: BTreeMap<String, BTreeSet<AccountId>>,
}

impl Layout {
    /// Policy names attached to each target.
    pub fn attachments(&self) -> BTreeMap<Target, BTreeSet<String>> {
        let mut out: BTreeMap<Target, BTreeSet<String>> = BTreeMap::new();
        for p in &self.policies {
            for t in &p.targets {
                out.entry(t.clone()).or_default().insert(p.name.clone());
            }
        }
        out
    }
}

/// Why no layout fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("model {model} is listed twice")]
    DuplicateModel { model: String },
    #[error("model {model} has no bedrock_model_ids")]
    NoModelIds { model: String },
    #[error(
        "model {model}: {id:?} is not a Bedrock model id (letters, digits, '.', '-', '_', ':', '*', '?')"
    )]
    InvalidModelId { model: String, id: String },
    #[error("{item:?} alone does not fit in an SCP of {SCP_MAX_CHARS} characters")]
    ItemTooLarge { item: String },
    #[error("policy name {name:?} is longer than {POLICY_NAME_MAX} characters")]
    NameTooLong { name: String },
    #[error("two policies of the layout would both be named {name:?}")]
    NameClash { name: String },
    #[error(
        "{target} would hold {needed} guardrail SCPs besides {foreign} others, more than AWS's {SCPS_PER_TARGET} per target"
    )]
    TargetFull {
        target: Target,
        needed: usize,
        foreign: u32,
    },
    #[error(
        "the layout needs {needed} SCPs and the organization holds {foreign} others, more than AWS's {SCPS_PER_ORGANIZATION}"
    )]
    TooManyPolicies { needed: usize, foreign: usize },
}

fn validate(models: &[ModelGuard]) -> Result<(), LayoutError> {
    let mut keys = BTreeSet::new();
    for m in models {
        if !keys.insert(m.key.as_str()) {
            return Err(LayoutError::DuplicateModel {
                model: m.key.clone(),
            });
        }
        if m.model_ids.is_empty() {
            return Err(LayoutError::NoModelIds {
                model: m.key.clone(),
            });
        }
        if let Some(id) = m.model_ids.iter().find(|i| !document::valid_model_id(i)) {
            return Err(LayoutError::InvalidModelId {
                model: m.key.clone(),
                id: id.clone(),
            });
        }
    }
    Ok(())
}

/// Per model key: the accounts to deny and the accounts to keep.
type Sides = BTreeMap<String, (BTreeSet<AccountId>, BTreeSet<AccountId>)>;

fn sides(input: &LayoutInput<'_>) -> Sides {
    let org = input.organization;
    let mgmt = &org.management_account;
    input
        .models
        .iter()
        .map(|m| {
            let mut keep: BTreeSet<AccountId> = m.entitled.clone();
            keep.insert(input.grantor.clone());
            keep.remove(mgmt);
            let deny = org
                .accounts
                .values()
                .filter(|a| a.state == AccountState::Active && &a.id != mgmt)
                .filter(|a| !keep.contains(&a.id))
                .map(|a| a.id.clone())
                .collect();
            (m.key.clone(), (deny, keep))
        })
        .collect()
}

/// How the models denied at one target are attached there.
enum Placement {
    /// Each model's own policy (keys sorted).
    PerModel(Vec<String>),
    /// One shared policy for these models (keys sorted).
    Set(Vec<String>),
}

struct Fitting<'a> {
    input: &'a LayoutInput<'a>,
    models: BTreeMap<&'a str, &'a ModelGuard>,
    per_model: BTreeMap<String, Vec<String>>,
    sets: BTreeMap<Vec<String>, Vec<String>>,
}

impl<'a> Fitting<'a> {
    fn set_documents(&mut self, keys: &[String]) -> Result<usize, LayoutError> {
        if let Some(d) = self.sets.get(keys) {
            return Ok(d.len());
        }
        let ms: Vec<&ModelGuard> = keys.iter().map(|k| self.models[k.as_str()]).collect();
        let docs = document::documents(&ms, self.input.deny_marketplace_subscribe)?;
        let n = docs.len();
        self.sets.insert(keys.to_vec(), docs);
        Ok(n)
    }

    /// How `keys` fit at `t`, or `None` when they do not.
    fn place(&mut self, t: &Target, keys: &[String]) -> Result<Option<Placement>, LayoutError> {
        let cap = SCPS_PER_TARGET.saturating_sub(self.input.foreign_at(t)) as usize;
        let need: usize = keys.iter().map(|k| self.per_model[k].len()).sum();
        if need <= cap {
            return Ok(Some(Placement::PerModel(keys.to_vec())));
        }
        if keys.len() > 1 && self.set_documents(keys)? <= cap {
            return Ok(Some(Placement::Set(keys.to_vec())));
        }
        Ok(None)
    }
}

fn by_target(covers: &BTreeMap<String, BTreeSet<Target>>) -> BTreeMap<Target, Vec<String>> {
    let mut out: BTreeMap<Target, Vec<String>> = BTreeMap::new();
    for (k, ts) in covers {
        for t in ts {
            out.entry(t.clone()).or_default().push(k.clone());
        }
    }
    out
}

/// The guardrail layout for `input`; see the module documentation.
pub fn layout(input: &LayoutInput<'_>) -> Result<Layout, LayoutError> {
    validate(&input.models)?;
    let tree = cover::Tree::new(input.organization);
    let sides = sides(input);
    let mut covers: BTreeMap<String, BTreeSet<Target>> = sides
        .iter()
        .map(|(k, (deny, keep))| (k.clone(), tree.cover(&cover::Sides { deny, keep })))
        .collect();
    let mut fit = Fitting {
        input,
        models: input.models.iter().map(|m| (m.key.as_str(), m)).collect(),
        per_model: BTreeMap::new(),
        sets: BTreeMap::new(),
    };
    for m in &input.models {
        let docs = document::documents(&[m], input.deny_marketplace_subscribe)?;
        fit.per_model.insert(m.key.clone(), docs);
    }
    let placements = loop {
        let mut placed = BTreeMap::new();
        let mut overflow = None;
        for (t, keys) in by_target(&covers) {
            match fit.place(&t, &keys)? {
                Some(p) => {
                    placed.insert(t, p);
                }
                None => {
                    overflow = Some((t, keys));
                    break;
                }
            }
        }
        let Some((t, keys)) = overflow else {
            break placed;
        };
        for k in &keys {
            let (deny, keep) = &sides[k];
            let Some(below) = tree.push_down(&t, &cover::Sides { deny, keep }) else {
                let needed = keys.iter().map(|k| fit.per_model[k].len()).sum();
                return Err(LayoutError::TargetFull {
                    foreign: input.foreign_at(&t),
                    target: t,
                    needed,
                });
            };
            let c = covers.get_mut(k).expect("every model has a cover");
            c.remove(&t);
            c.extend(below);
        }
    };
    let policies = policies(input, &fit, &placements)?;
    let denied = sides.into_iter().map(|(k, (deny, _))| (k, deny)).collect();
    Ok(Layout { policies, denied })
}

fn description(keys: &[String]) -> String {
    let what = match keys {
        [one] => format!("Bedrock model {one}"),
        many => format!("Bedrock models {}", many.join(", ")),
    };
    let d = format!("bedrock-entitlements guardrail: denies {what} to accounts not entitled to it");
    if d.chars().count() <= POLICY_DESCRIPTION_MAX {
        d
    } else {
        let cut: String = d.chars().take(POLICY_DESCRIPTION_MAX - 1).collect();
        format!("{cut}…")
    }
}

/// FNV-1a, so a set's name is the same on every run.
fn set_hash(keys: &[String]) -> String {
    let h = keys
        .join("\n")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{h:016x}")
}

fn push_parts(
    out: &mut Vec<GuardPolicy>,
    base: &str,
    kind: PolicyKind,
    docs: &[String],
    targets: &BTreeSet<Target>,
) {
    for (i, doc) in docs.iter().enumerate() {
        let name = if i == 0 {
            base.to_owned()
        } else {
            format!("{base}-part{}", i + 1)
        };
        out.push(GuardPolicy {
            name,
            description: description(kind.models()),
            kind: kind.clone(),
            part: i + 1,
            parts: docs.len(),
            document: doc.clone(),
            targets: targets.clone(),
        });
    }
}

fn policies(
    input: &LayoutInput<'_>,
    fit: &Fitting<'_>,
    placements: &BTreeMap<Target, Placement>,
) -> Result<Vec<GuardPolicy>, LayoutError> {
    let mut model_targets: BTreeMap<&str, BTreeSet<Target>> = BTreeMap::new();
    let mut set_targets: BTreeMap<&[String], BTreeSet<Target>> = BTreeMap::new();
    for (t, p) in placements {
        match p {
            Placement::PerModel(keys) => {
                for k in keys {
                    model_targets.entry(k).or_default().insert(t.clone());
                }
            }
            Placement::Set(keys) => {
                set_targets.entry(keys).or_default().insert(t.clone());
            }
        }
    }
    let prefix = &input.policy_name_prefix;
    let mut out = Vec::new();
    for (k, targets) in model_targets {
        let base = format!("{prefix}-{k}");
        let kind = PolicyKind::Model(k.to_owned());
        push_parts(&mut out, &base, kind, &fit.per_model[k], &targets);
    }
    for (keys, targets) in set_targets {
        let base = format!("{prefix}-set-{}", set_hash(keys));
        let kind = PolicyKind::Set(keys.to_vec());
        push_parts(&mut out, &base, kind, &fit.sets[keys], &targets);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    check_names_and_count(input, &out)?;
    Ok(out)
}

fn check_names_and_count(input: &LayoutInput<'_>, out: &[GuardPolicy]) -> Result<(), LayoutError> {
    for w in out.windows(2) {
        if w[0].name == w[1].name {
            return Err(LayoutError::NameClash {
                name: w[0].name.clone(),
            });
        }
    }
    if let Some(p) = out
        .iter()
        .find(|p| p.name.chars().count() > POLICY_NAME_MAX)
    {
        return Err(LayoutError::NameTooLong {
            name: p.name.clone(),
        });
    }
    if out.len() + input.foreign_policies > SCPS_PER_ORGANIZATION {
        return Err(LayoutError::TooManyPolicies {
            needed: out.len(),
            foreign: input.foreign_policies,
        });
    }
    Ok(())
}
