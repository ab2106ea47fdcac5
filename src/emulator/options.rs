//! The knobs of a running emulator: latency, rate limits, random faults, workflow pace, acceptance
//! rules and IAM policies. Set at start, changed later through `EmulatorState::set_options` or the
//! admin endpoint (which merges a JSON patch into these, so every field has a JSON name).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::policy::PolicyDocument;

/// How the emulator behaves beyond the state it holds. `Default`: no latency, no faults, no rate
/// limits, workflows settle after one read, account grants auto-accepted in all-features orgs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorOptions {
    /// Added to every API call before it is handled.
    #[serde(with = "millis")]
    pub latency: Duration,
    /// Per-operation latency (operation name, e.g. `CreateGrant`), replacing `latency` for it.
    #[serde(with = "millis_map")]
    pub op_latency: BTreeMap<String, Duration>,
    /// Token buckets per operation name; the key `*` applies to every operation without its own.
    /// An empty bucket answers `RateLimitExceededException` / `TooManyRequestsException`.
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// A token bucket of its own for each Organizations operation that has no entry in
    /// `rate_limits` (AWS documents no figure; it throttles with `TooManyRequestsException`).
    pub organizations_rate_limit: Option<RateLimit>,
    /// Probabilities of a random fault on any call.
    pub faults: FaultRates,
    /// Per-operation fault probabilities, replacing `faults` for that operation.
    pub op_faults: BTreeMap<String, FaultRates>,
    /// Seed of the fault decisions: the same seed and the same calls give the same faults.
    pub fault_seed: u64,
    /// How many reads (GetGrant, or a list returning the grant) see a grant in `PENDING_WORKFLOW`
    /// before its workflow completes. 0 settles it before the first read.
    pub workflow_reads: u32,
    /// In an all-features organization, whether a grant to a single account is accepted
    /// automatically (DISABLED) or waits for the recipient (PENDING_ACCEPT). AWS's pages disagree.
    pub auto_accept_account_grants: bool,
    /// `MaxResults` when a License Manager list call gives none.
    pub lm_default_page_size: u32,
    /// `MaxResults` when an Organizations list call gives none.
    pub org_default_page_size: u32,
    /// IAM policy of the callers that are not assumed-role sessions; `None` allows everything.
    pub iam_policy: Option<PolicyDocument>,
    /// IAM policy per role name, for sessions made by `AssumeRole`; a role without one may do anything.
    pub role_policies: BTreeMap<String, PolicyDocument>,
    /// When > 0, an organization or OU grant's workflows (first distribution, activation,
    /// recall) stay PENDING_WORKFLOW for this many wall-clock milliseconds after the call that
    /// started them, replacing `workflow_reads` for those grants.
    pub workflow_ms: u64,
    /// The same for an account grant's first distribution.
    pub account_workflow_ms: u64,
    /// The status an organization or OU grant ends in after a recall (deactivation).
    pub recall_ends_in: RecallEnd,
    /// One active grant per product (ProductSKU) per account, as CreateGrantVersion's
    /// `Options.ActivationOverrideBehavior` documents it.
    pub one_active_per_product: bool,
    /// A grant made less than this many milliseconds ago is missing from ListDistributedGrants,
    /// ListReceivedGrants and ListReceivedGrantsForOrganization (GetGrant sees it).
    pub list_lag_ms: u64,
    /// When > 0, DeleteGrant answers PENDING_DELETE and the grant is DELETED this many
    /// milliseconds later.
    pub delete_ms: u64,
    /// CreateGrant with a fresh client token for a (license, principal) that already holds a
    /// live grant makes a second grant (AWS documents no refusal) instead of being refused.
    pub allow_duplicate_grants: bool,
    /// New grants' first distribution ends in FAILED_WORKFLOW.
    pub fail_distributions: bool,
    /// Operations answered as unknown (`UnknownOperationException`, STS `InvalidAction`), as by
    /// an endpoint that serves fewer operations than AWS: for testing how the tool degrades.
    pub unserved_operations: BTreeSet<String>,
    /// Bedrock: milliseconds after CreateFoundationModelAgreement until the agreement is
    /// AVAILABLE and its Marketplace license appears in License Manager (AWS: 1-2 minutes).
    pub agreement_license_ms: u64,
}

/// `recall_ends_in`: WORKFLOW_COMPLETED ("the workflow to distribute or recall the grant has
/// been completed", License Manager user guide) or DISABLED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RecallEnd {
    #[default]
    #[serde(rename = "WORKFLOW_COMPLETED")]
    WorkflowCompleted,
    #[serde(rename = "DISABLED")]
    Disabled,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            latency: Duration::ZERO,
            op_latency: BTreeMap::new(),
            rate_limits: BTreeMap::new(),
            organizations_rate_limit: None,
            faults: FaultRates::default(),
            op_faults: BTreeMap::new(),
            fault_seed: 0,
            workflow_reads: 1,
            auto_accept_account_grants: true,
            lm_default_page_size: 100,
            org_default_page_size: 20,
            iam_policy: None,
            role_policies: BTreeMap::new(),
            workflow_ms: 0,
            account_workflow_ms: 0,
            recall_ends_in: RecallEnd::WorkflowCompleted,
            one_active_per_product: true,
            list_lag_ms: 0,
            delete_ms: 0,
            allow_duplicate_grants: false,
            fail_distributions: false,
            unserved_operations: BTreeSet::new(),
            agreement_license_ms: 90_000,
        }
    }
}

impl EmulatorOptions {
    pub(crate) fn latency_for(&self, op: &str) -> Duration {
        self.op_latency.get(op).copied().unwrap_or(self.latency)
    }

    /// Whether a grant made at `created` is still hidden from the lists.
    pub(crate) fn lags(&self, created: Option<super::clock::Instant>) -> bool {
        self.list_lag_ms > 0
            && created.is_some_and(|c| {
                super::clock::now().saturating_duration_since(c)
                    < Duration::from_millis(self.list_lag_ms)
            })
    }

    pub(crate) fn faults_for(&self, op: &str) -> FaultRates {
        self.op_faults.get(op).copied().unwrap_or(self.faults)
    }
}

/// A token bucket: `rate` tokens per second, holding at most `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub rate: f64,
    pub burst: u32,
}

/// Probabilities (0.0–1.0) of each random fault. Throttles and server errors happen before the
/// call is handled (nothing changes); a lost response happens after (the change is made, the
/// connection is closed without a reply); an empty page makes an Organizations list call answer
/// no items with a NextToken that continues where it was (AWS documents that this happens).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    pub throttle: f64,
    pub server_error: f64,
    pub lost_response: f64,
    pub empty_page: f64,
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

mod millis_map {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        m: &BTreeMap<String, Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        m.iter()
            .map(|(k, v)| (k.clone(), v.as_millis() as u64))
            .collect::<BTreeMap<_, _>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Duration>, D::Error> {
        let m = BTreeMap::<String, u64>::deserialize(d)?;
        Ok(m.into_iter()
            .map(|(k, v)| (k, Duration::from_millis(v)))
            .collect())
    }
}
