//! Digests that tie a saved plan to what it was computed from: the live grants
//! ([`fingerprint`]) and the desired state ([`config_digest`]).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::planner::{ByLicense, grants_by_license};
use crate::config::DesiredStatus;
use crate::model::{Grant, LicenseArn, Live, LiveGuardrails};
use crate::org::Desired;

/// SHA-256, hex, of the canonical JSON serialization of `value`.
fn sha256_json(value: &serde_json::Value) -> String {
    // Objects are built by `json!` with fixed keys and arrays from sorted collections, so the
    // text (sorted keys, or insertion order under `preserve_order`) depends only on the content.
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// A fingerprint of every live grant (any status) on `licenses`: for each license in order, its
/// grants sorted by ARN, each with ARN, status, version, name, principal, license and allowed
/// operations. `apply` recomputes it on fresh live state and refuses a saved plan whose
/// fingerprint moved.
///
/// When the organization's SCPs were read (guardrails on), it also covers every SCP that carries
/// the managed tag (id, name, description, document, targets) and the SCP type's state, so a
/// saved plan is refused when the tool's policies moved; without them the value is unchanged.
pub fn fingerprint(live: &Live, licenses: &BTreeSet<LicenseArn>) -> String {
    fingerprint_of(&grants_by_license(live), licenses, live.guardrails.as_ref())
}

/// [`fingerprint`] over grants already grouped by license.
pub(super) fn fingerprint_of(
    groups: &ByLicense<'_>,
    licenses: &BTreeSet<LicenseArn>,
    guardrails: Option<&LiveGuardrails>,
) -> String {
    // Fed field by field (each length-prefixed, so no two inputs share a byte stream): the
    // fingerprint of 20,000 grants costs a few milliseconds, not the time to build a JSON tree.
    let mut h = FieldHasher::default();
    h.count(licenses.len());
    for l in licenses {
        h.field(l.as_str());
    }
    let mut principal = String::new();
    for license in licenses {
        let mut grants: Cow<'_, [&Grant]> = groups
            .get(license)
            .map_or(Cow::Borrowed(&[]), |g| Cow::Borrowed(g.as_slice()));
        if !grants.is_sorted_by(|a, b| a.arn <= b.arn) {
            grants.to_mut().sort_by(|a, b| a.arn.cmp(&b.arn));
        }
        h.count(grants.len());
        for g in grants.iter() {
            h.field(g.arn.as_str());
            h.field(g.status.as_str());
            h.field(&g.version);
            h.field(&g.name);
            principal.clear();
            let _ = write!(principal, "{}", g.principal);
            h.field(&principal);
            h.field(g.license_arn.as_str());
            h.count(g.operations.len());
            for op in &g.operations {
                h.field(op);
            }
        }
    }
    if let Some(scps) = guardrails {
        hash_managed_policies(&mut h, scps);
    }
    h.finish()
}

/// The SCPs with the managed tag, in the order read (sorted by name, then id).
fn hash_managed_policies(h: &mut FieldHasher, scps: &LiveGuardrails) {
    h.field(if scps.scp_enabled {
        "\0scp-enabled"
    } else {
        "\0scp-disabled"
    });
    let managed: Vec<_> = scps
        .policies
        .iter()
        .filter(|p| p.managed_tag && !p.aws_managed)
        .collect();
    h.count(managed.len());
    for p in managed {
        h.field(p.id.as_str());
        h.field(&p.name);
        h.field(&p.description);
        h.field(&p.content);
        h.count(p.targets.len());
        for t in &p.targets {
            h.field(t.id());
        }
    }
}

/// SHA-256 over length-prefixed fields, hex. Fields are gathered in a buffer and hashed a block
/// of them at a time: hashing 20,000 grants' fields one small update each costs more than the
/// hashing itself.
#[derive(Default)]
struct FieldHasher {
    sha: Sha256,
    pending: Vec<u8>,
}

impl FieldHasher {
    const BLOCK: usize = 1 << 16;

    fn count(&mut self, n: usize) {
        self.pending.extend_from_slice(&(n as u64).to_le_bytes());
        if self.pending.len() >= Self::BLOCK {
            self.sha.update(&self.pending);
            self.pending.clear();
        }
    }

    fn field(&mut self, s: &str) {
        self.count(s.len());
        self.pending.extend_from_slice(s.as_bytes());
    }

    fn finish(mut self) -> String {
        self.sha.update(&self.pending);
        hex::encode(self.sha.finalize())
    }
}

/// A digest of the desired state: every model's license, principals and status, and the
/// settings the planner uses. Warnings are left out.
pub fn config_digest(desired: &Desired) -> String {
    let mut h = FieldHasher::default();
    h.count(desired.models.len());
    for m in desired.models.values() {
        h.field(m.key.as_str());
        h.field(m.license.as_str());
        h.count(m.principals.len());
        let mut text = String::new();
        for p in &m.principals {
            text.clear();
            let _ = write!(text, "{p}");
            h.field(&text);
        }
        h.count(m.excluded.len());
        for a in &m.excluded {
            h.field(a.as_str());
        }
        h.field(match m.status {
            DesiredStatus::Active => "active",
            DesiredStatus::Disabled => "disabled",
        });
    }
    h.field(&desired.grant_name_prefix);
    h.count(desired.operations.len());
    for op in &desired.operations {
        h.field(op);
    }
    h.field(desired.recipient_role.as_deref().unwrap_or("\0none"));
    h.field(&desired.home_region);
    h.field(
        desired
            .activation_override
            .map(|o| o.api_value())
            .unwrap_or("\0none"),
    );
    h.field(if desired.targeted_only {
        "targeted"
    } else {
        "all"
    });
    hash_guardrails(&mut h, &desired.guardrails);
    h.finish()
}

/// The guardrail settings and model ids; nothing while the mode is `off`, so the digest of a
/// file without guardrails is what it was before they existed.
fn hash_guardrails(h: &mut FieldHasher, g: &crate::org::DesiredGuardrails) {
    let mode = match g.settings.mode {
        crate::config::GuardrailMode::Off => return,
        crate::config::GuardrailMode::Report => "report",
        crate::config::GuardrailMode::Enforce => "enforce",
    };
    h.field("\0guardrails");
    h.field(mode);
    h.field(&g.settings.policy_name_prefix);
    h.field(if g.settings.deny_marketplace_subscribe {
        "deny-subscribe"
    } else {
        "allow-subscribe"
    });
    h.count(g.models.len());
    for (k, m) in &g.models {
        h.field(k.as_str());
        h.count(m.bedrock_model_ids.len());
        for id in &m.bedrock_model_ids {
            h.field(id);
        }
        h.field(m.marketplace_product_id.as_deref().unwrap_or("\0none"));
    }
}

/// The idempotency token of an action's mutating calls: a digest of the action and of every
/// live grant (any status, DELETED included) on its (license, principal) pair when planned.
/// Two applies of the same plan, or a retry after a lost response, send the same token and so
/// get the same grant; once the pair's state moves (a grant was created, deleted, ...) the next
/// plan's token differs, so a later re-create is never answered with an old, deleted grant.
/// `be-` + 64 hex characters, within the API's 2,048-character limit.
pub fn client_token(action: &crate::plan::Action, live: &Live) -> String {
    let grants: Vec<&crate::model::Grant> = live
        .grants
        .iter()
        .filter(|g| g.license_arn == action.license_arn && g.principal == action.principal)
        .collect();
    token_for(action, &grants)
}

/// `client_token` over the pair's grants, already picked out of the live state.
pub(crate) fn token_for(
    action: &crate::plan::Action,
    pair_grants: &[&crate::model::Grant],
) -> String {
    let mut history: Vec<_> = pair_grants
        .iter()
        .map(|g| serde_json::json!([g.arn.as_str(), g.version, g.status.as_str()]))
        .collect();
    history.sort_by_key(|v| v.to_string());
    let value = serde_json::json!({
        "action": action.kind().as_str(),
        "license": action.license_arn.as_str(),
        "principal": action.principal.to_string(),
        "grant": action.grant_arn().map(|g| g.as_str()),
        "version": action.planned_version(),
        "name": action.grant_name,
        "operations": action.operations,
        "target": format!("{:?}", action.target_status),
        "history": history,
    });
    format!("be-{}", sha256_json(&value))
}

/// What one subscribed model's subscription action or note was decided from.
pub(crate) struct SubscriptionBasis<'a> {
    pub key: &'a crate::config::ModelKey,
    pub model_id: &'a str,
    pub choice: &'a crate::config::OfferChoice,
    /// Bedrock's state for the model id, or None when it could not be read.
    pub state: Option<&'a crate::model::SubscriptionState>,
}

/// Separates the grants' fingerprint from the subscriptions' in `Plan::live_fingerprint`.
const SUBSCRIPTIONS_MARK: char = '+';

/// A fingerprint of what a plan's subscription actions and notes were decided from: per model
/// (in the plan's order) its key, model id and offer choice, then Bedrock's state: the
/// agreement's status and error, the provider, and each offer's id, type and terms (never its
/// token, which AWS may issue anew on each listing); and `settings.allowed_sellers`. A model
/// Bedrock could not be read for counts as "not read", without the error's words.
pub(crate) fn subscription_fingerprint(
    models: &[SubscriptionBasis<'_>],
    allowed_sellers: Option<&[crate::model::Spanned<String>]>,
) -> String {
    let mut h = FieldHasher::default();
    h.count(models.len());
    for m in models {
        h.field(m.key.as_str());
        h.field(m.model_id);
        hash_choice(&mut h, m.choice);
        match m.state {
            Some(s) => hash_subscription_state(&mut h, s),
            None => h.field("\0not-read"),
        }
    }
    match allowed_sellers {
        None => h.field("\0any-seller"),
        Some(list) => {
            let mut sellers: Vec<&str> = list.iter().map(|s| s.value.as_str()).collect();
            sellers.sort_unstable();
            h.count(sellers.len());
            for s in sellers {
                h.field(s);
            }
        }
    }
    h.finish()
}

fn hash_choice(h: &mut FieldHasher, choice: &crate::config::OfferChoice) {
    use crate::config::OfferChoice;
    h.field(choice.word());
    if let OfferChoice::Private { offer_id, seller } = choice {
        h.field(offer_id.as_ref().map_or("\0none", |o| o.value.as_str()));
        h.field(seller.as_ref().map_or("\0none", |s| s.value.as_str()));
    }
}

fn hash_subscription_state(h: &mut FieldHasher, s: &crate::model::SubscriptionState) {
    use crate::model::AgreementStatus;
    h.field(match s.availability.agreement {
        AgreementStatus::Available => "AVAILABLE",
        AgreementStatus::Pending => "PENDING",
        AgreementStatus::NotAvailable => "NOT_AVAILABLE",
        AgreementStatus::Error => "ERROR",
    });
    let none = "\0none";
    h.field(s.availability.error_message.as_deref().unwrap_or(none));
    h.field(s.provider.as_deref().unwrap_or(none));
    h.count(s.offers.len());
    for o in &s.offers {
        h.field(o.offer_id.as_deref().unwrap_or(none));
        h.field(o.offer_type.as_str());
        let t = &o.terms;
        h.count(t.rate_card.len());
        for r in &t.rate_card {
            for f in [&r.dimension, &r.price, &r.unit, &r.description] {
                h.field(f.as_deref().unwrap_or(none));
            }
        }
        for f in [&t.legal_url, &t.refund_policy, &t.agreement_duration] {
            h.field(f.as_deref().unwrap_or(none));
        }
    }
}

/// `Plan::live_fingerprint` of a plan with subscriptions: the grants' fingerprint, `+`, the
/// subscriptions' ([`subscription_fingerprint`]). A plan without a subscribed model keeps the
/// grants' fingerprint alone (what it was before subscriptions existed).
pub(crate) fn with_subscriptions(grants: &str, subscriptions: &str) -> String {
    format!("{grants}{SUBSCRIPTIONS_MARK}{subscriptions}")
}

/// The two parts of a `live_fingerprint`: the grants', and the subscriptions' if any.
pub(crate) fn split_fingerprint(live_fingerprint: &str) -> (&str, Option<&str>) {
    match live_fingerprint.split_once(SUBSCRIPTIONS_MARK) {
        Some((grants, subs)) => (grants, Some(subs)),
        None => (live_fingerprint, None),
    }
}
