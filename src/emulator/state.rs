//! The emulated world: the organization, received licenses, grants (with their status machine and
//! workflows), idempotency tokens, tags and STS sessions. Built from a [`Seed`]; every operation
//! runs against it under one lock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::EmulatorError;
use super::clock::Instant;
use super::faults::{fnv1a, mix64};
use super::ids::{self, PrincipalArn};
use super::seed::{FeatureSetSeed, Seed};

pub(crate) const LM_SERVICE_PRINCIPAL: &str = "license-manager.amazonaws.com";
pub(crate) const MARKETPLACE_SERVICE_PRINCIPAL: &str =
    "license-management.marketplace.amazonaws.com";
pub(crate) const LM_ROLE: &str = "AWSServiceRoleForAWSLicenseManagerRole";
pub(crate) const MARKETPLACE_ROLE: &str = "AWSServiceRoleForMarketplaceLicenseManagement";
/// Grants per license (License Manager quota).
pub(crate) const GRANTS_PER_LICENSE: usize = 2_000;

/// `GrantStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Status {
    PendingWorkflow,
    PendingAccept,
    Rejected,
    Active,
    FailedWorkflow,
    Deleted,
    PendingDelete,
    Disabled,
    WorkflowCompleted,
}

impl Status {
    pub(crate) const ALL: [Status; 9] = [
        Status::PendingWorkflow,
        Status::PendingAccept,
        Status::Rejected,
        Status::Active,
        Status::FailedWorkflow,
        Status::Deleted,
        Status::PendingDelete,
        Status::Disabled,
        Status::WorkflowCompleted,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::PendingWorkflow => "PENDING_WORKFLOW",
            Status::PendingAccept => "PENDING_ACCEPT",
            Status::Rejected => "REJECTED",
            Status::Active => "ACTIVE",
            Status::FailedWorkflow => "FAILED_WORKFLOW",
            Status::Deleted => "DELETED",
            Status::PendingDelete => "PENDING_DELETE",
            Status::Disabled => "DISABLED",
            Status::WorkflowCompleted => "WORKFLOW_COMPLETED",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// DELETED, REJECTED and FAILED_WORKFLOW grants never change again and do not count as live.
    pub(crate) fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Deleted | Status::Rejected | Status::FailedWorkflow
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureSet {
    All,
    ConsolidatedBilling,
}

impl FeatureSet {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FeatureSet::All => "ALL",
            FeatureSet::ConsolidatedBilling => "CONSOLIDATED_BILLING",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OuRec {
    pub id: String,
    pub name: String,
    pub parent: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountRec {
    pub id: String,
    pub name: String,
    pub email: String,
    pub state: String,
    pub parent: String,
    pub joined_method: String,
    pub joined_timestamp: i64,
}

impl AccountRec {
    /// The retiring `Status` member, derived from `State`.
    pub(crate) fn status(&self) -> &'static str {
        match self.state.as_str() {
            "SUSPENDED" | "CLOSED" => "SUSPENDED",
            "PENDING_CLOSURE" => "PENDING_CLOSURE",
            _ => "ACTIVE",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub id: String,
    pub arn: String,
    pub feature_set: FeatureSet,
    pub management: String,
    pub root_id: String,
    pub trusted_access: bool,
    pub service_linked_role: bool,
    pub marketplace_service_linked_role: bool,
    pub enable_integration: bool,
    /// License Manager's `EnableCrossAccountsDiscovery` (GetServiceSettings), a fact of its own.
    pub cross_account_discovery: bool,
    /// Service-linked roles made with CreateServiceLinkedRole in accounts that are neither the
    /// management account nor the delegated administrator: (account, role name).
    pub member_roles: BTreeSet<(String, String)>,
    pub other_services: BTreeSet<String>,
    pub delegated_admin: Option<String>,
    pub ous: BTreeMap<String, OuRec>,
    pub accounts: BTreeMap<String, AccountRec>,
}

impl Org {
    pub(crate) fn root_arn(&self) -> String {
        format!(
            "arn:aws:organizations::{}:root/{}/{}",
            self.management, self.id, self.root_id
        )
    }

    pub(crate) fn ou_arn(&self, ou: &str) -> String {
        format!(
            "arn:aws:organizations::{}:ou/{}/{ou}",
            self.management, self.id
        )
    }

    pub(crate) fn account_arn(&self, account: &str) -> String {
        format!(
            "arn:aws:organizations::{}:account/{}/{account}",
            self.management, self.id
        )
    }

    pub(crate) fn is_parent(&self, id: &str) -> bool {
        id == self.root_id || self.ous.contains_key(id)
    }

    /// `o-…/r-…/ou-…/…/` down to and including `parent`.
    pub(crate) fn path_to(&self, parent: &str) -> String {
        let mut chain = Vec::new();
        let mut cur = parent;
        while let Some(ou) = self.ous.get(cur) {
            chain.push(ou.id.as_str());
            cur = &ou.parent;
        }
        let mut path = format!("{}/{}/", self.id, self.root_id);
        for id in chain.iter().rev() {
            path.push_str(id);
            path.push('/');
        }
        path
    }

    /// Whether `account` sits in `ou` or in an OU nested under it.
    pub(crate) fn account_under(&self, account: &str, ou: &str) -> bool {
        let Some(acc) = self.accounts.get(account) else {
            return false;
        };
        let mut cur = acc.parent.as_str();
        loop {
            if cur == ou {
                return true;
            }
            match self.ous.get(cur) {
                Some(o) => cur = &o.parent,
                None => return false,
            }
        }
    }

    /// The management account or the License Manager delegated administrator.
    pub(crate) fn is_admin(&self, account: &str) -> bool {
        account == self.management || self.delegated_admin.as_deref() == Some(account)
    }

    /// The service-linked roles that exist in the management account.
    pub(crate) fn service_linked_roles(&self) -> Vec<&'static str> {
        let mut roles = Vec::new();
        if self.service_linked_role {
            roles.push(LM_ROLE);
        }
        if self.marketplace_service_linked_role {
            roles.push(MARKETPLACE_ROLE);
        }
        roles
    }

    pub(crate) fn services(&self) -> BTreeSet<String> {
        let mut s = self.other_services.clone();
        if self.trusted_access {
            s.insert(LM_SERVICE_PRINCIPAL.to_owned());
        }
        s
    }
}

/// A grant's principal, checked against the organization when the grant was made.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Grantee {
    Account(String),
    Organization,
    Ou(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LicenseRec {
    pub arn: String,
    pub issuer_account: String,
    pub name: String,
    pub product_name: String,
    pub sku: String,
    pub issuer: String,
    pub fingerprint: String,
    pub beneficiary: String,
    pub status: String,
    pub received_status: String,
    pub allowed_operations: Vec<String>,
    pub grant_arn: Option<String>,
    pub validity_begin: String,
    pub validity_end: Option<String>,
    pub create_time: i64,
}

impl LicenseRec {
    /// The `License` / `GrantedLicense` JSON; `received` adds `ReceivedMetadata` and sets
    /// `Beneficiary` and the `grantArn` metadata for that recipient.
    pub(crate) fn to_json(&self, region: &str, received: Option<&Received>) -> Value {
        let (beneficiary, grant_arn) = match received {
            Some(r) => (r.account.as_str(), r.via_grant.as_deref()),
            None => (self.beneficiary.as_str(), self.grant_arn.as_deref()),
        };
        let mut v = json!({
            "LicenseArn": self.arn,
            "LicenseName": self.name,
            "ProductName": self.product_name,
            "ProductSKU": self.sku,
            "Issuer": {"Name": self.issuer, "KeyFingerprint": self.fingerprint},
            "HomeRegion": region,
            "Status": self.status,
            "Validity": {"Begin": self.validity_begin},
            "Beneficiary": format!("arn:aws:iam::{beneficiary}:root"),
            "Entitlements": [{"Name": "Access", "Unit": "None", "AllowCheckIn": false, "Overage": false}],
            "ConsumptionConfiguration": {"RenewType": "None"},
            "LicenseMetadata": [],
            "CreateTime": self.create_time.to_string(),
            "Version": "1",
        });
        if let Some(end) = &self.validity_end {
            v["Validity"]["End"] = Value::String(end.clone());
        }
        if let Some(g) = grant_arn {
            v["LicenseMetadata"] = json!([{"Name": "grantArn", "Value": g}]);
        }
        if let Some(r) = received {
            v["ReceivedMetadata"] = json!({
                "ReceivedStatus": r.status,
                "AllowedOperations": r.operations,
            });
        }
        v
    }
}

/// A license as one account received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Received {
    pub license: usize,
    pub account: String,
    pub status: String,
    pub operations: Vec<String>,
    pub via_grant: Option<String>,
}

/// What a workflow does to an organization or OU grant's shares when it completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WorkflowKind {
    /// The first distribution after CreateGrant: shares appear, DISABLED.
    Distribution,
    /// CreateGrantVersion Status=ACTIVE: shares become ACTIVE, under the one-active rule as it
    /// stood when the activation was asked for.
    Activation {
        override_all: bool,
        one_active: bool,
    },
    /// CreateGrantVersion Status=DISABLED: every share becomes DISABLED.
    Recall,
}

/// A workflow in progress: after `reads_left` more reads, or at `due` when it is timed, the
/// grant becomes `then`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workflow {
    pub reads_left: u32,
    /// A timed workflow completes at this instant (reads do not count).
    pub due: Option<Instant>,
    pub then: Status,
    /// The settled status before the workflow (None for the first distribution).
    pub from: Option<Status>,
    pub kind: WorkflowKind,
}

#[derive(Debug, Clone)]
pub(crate) struct GrantRec {
    pub seq: u64,
    pub arn: String,
    pub grantor: String,
    pub name: String,
    pub parent_arn: String,
    pub license_arn: String,
    pub grantee: Grantee,
    pub principal_arn: String,
    pub home_region: String,
    pub status: Status,
    pub status_reason: Option<String>,
    pub version: u64,
    pub operations: Vec<String>,
    pub activation_override: Option<String>,
    pub workflow: Option<Workflow>,
    /// When CreateGrant made it (None for seeded grants and grants added out of band): lists
    /// lag behind it by `list_lag_ms`.
    pub created: Option<Instant>,
    /// An organization or OU grant's settled share status, which every account it reaches
    /// holds unless `share_overrides` says otherwise (None before the first distribution).
    pub share_default: Option<Status>,
    /// Accounts whose share differs from `share_default` (the one-active rule).
    pub share_overrides: BTreeMap<String, Status>,
    /// A PENDING_DELETE grant becomes DELETED at this instant.
    pub delete_due: Option<Instant>,
    /// The rendered `Grant` JSON of every version, oldest first (index = version - 1 for the
    /// versions this emulator made; seeded grants start at their seeded version).
    history: Vec<(u64, Arc<str>)>,
}

impl GrantRec {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        seq: u64,
        arn: String,
        grantor: String,
        name: String,
        parent_arn: String,
        license_arn: String,
        grantee: Grantee,
        principal_arn: String,
        home_region: String,
        status: Status,
        version: u64,
        operations: Vec<String>,
    ) -> GrantRec {
        let mut g = GrantRec {
            seq,
            arn,
            grantor,
            name,
            parent_arn,
            license_arn,
            grantee,
            principal_arn,
            home_region,
            status,
            status_reason: None,
            version,
            operations,
            activation_override: None,
            workflow: None,
            created: None,
            share_default: None,
            share_overrides: BTreeMap::new(),
            delete_due: None,
            history: Vec::new(),
        };
        g.history.push((version, g.render()));
        g
    }

    fn render(&self) -> Arc<str> {
        let mut v = json!({
            "GrantArn": self.arn,
            "GrantName": self.name,
            "ParentArn": self.parent_arn,
            "LicenseArn": self.license_arn,
            "GranteePrincipalArn": self.principal_arn,
            "HomeRegion": self.home_region,
            "GrantStatus": self.status.as_str(),
            "Version": self.version.to_string(),
            "GrantedOperations": self.operations,
        });
        if let Some(r) = &self.status_reason {
            v["StatusReason"] = Value::String(r.clone());
        }
        if let Some(o) = &self.activation_override {
            v["Options"] = json!({"ActivationOverrideBehavior": o});
        }
        Arc::from(v.to_string())
    }

    /// Records a change: a new version, rendered once.
    pub(crate) fn bump(&mut self) {
        self.version += 1;
        let r = self.render();
        self.history.push((self.version, r));
    }

    /// The current `Grant` JSON.
    pub(crate) fn json(&self) -> &Arc<str> {
        &self.history.last().expect("a grant always has a version").1
    }

    pub(crate) fn json_at(&self, version: u64) -> Option<&Arc<str>> {
        self.history
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, j)| j)
    }

    pub(crate) fn is_account_grant(&self) -> bool {
        matches!(self.grantee, Grantee::Account(_))
    }

    /// The settled share status a status set from outside (the seed, the admin endpoint)
    /// stands for: ACTIVE for WORKFLOW_COMPLETED or ACTIVE, DISABLED for DISABLED.
    pub(crate) fn shares_for(status: Status) -> Option<Status> {
        match status {
            Status::WorkflowCompleted | Status::Active => Some(Status::Active),
            Status::Disabled => Some(Status::Disabled),
            _ => None,
        }
    }

    /// Whether the grant gives no entitlement at all (deleted, being deleted, failed, rejected).
    pub(crate) fn is_gone(&self) -> bool {
        self.status.is_terminal() || self.status == Status::PendingDelete
    }

    /// The share status `account` holds as an entitlement right now (its settled status, also
    /// while a workflow runs: shares change only when it completes), or None.
    pub(crate) fn effective_share(&self, account: &str) -> Option<Status> {
        if self.is_gone() {
            return None;
        }
        let default = self.share_default?;
        Some(
            self.share_overrides
                .get(account)
                .copied()
                .unwrap_or(default),
        )
    }

    /// The share status the API shows for `account`: PENDING_WORKFLOW while the parent's
    /// workflow runs, the parent's status once it is deleted, else the settled share status.
    pub(crate) fn shown_share(&self, account: &str) -> Option<Status> {
        self.share_default?;
        if self.workflow.is_some() {
            return Some(Status::PendingWorkflow);
        }
        if self.is_gone() {
            return Some(self.status);
        }
        self.effective_share(account)
    }
}

/// One per-account sub-grant of an org/OU grant (not stored: derived from the parent and the
/// organization, so accounts that join an OU later receive it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SubGrant {
    pub parent: usize,
    pub account: String,
    pub arn: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub account: String,
    pub role: String,
    pub session_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey {
    pub account: String,
    pub op: &'static str,
    pub token: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenEntry {
    pub request: Value,
    pub response: String,
}

#[derive(Debug, Clone)]
pub(crate) struct World {
    pub region: String,
    pub default_caller: String,
    pub org: Org,
    /// Sorted by ARN.
    pub licenses: Vec<LicenseRec>,
    /// In creation order (ascending `seq`).
    pub grants: Vec<GrantRec>,
    pub grant_index: HashMap<String, usize>,
    /// Positions in `grants` of each license's grants, ascending (so in `seq` order too): a
    /// `LicenseArn`-filtered page reads its own license's grants, not the whole account's.
    pub grants_by_license: HashMap<String, Vec<usize>>,
    /// Positions in `grants` of the grants to each account, ascending, and of every organization
    /// or OU grant (`None`): what reaches one account, without reading every grant.
    pub grants_by_grantee: HashMap<Option<String>, Vec<usize>>,
    pub tokens: HashMap<TokenKey, TokenEntry>,
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
    pub sessions: HashMap<String, Session>,
    pub next_seq: u64,
    pub next_session: u64,
    /// Grants with a timed workflow or a timed deletion in progress.
    pub timed: BTreeSet<usize>,
    salt: u64,
    /// Organizations policies (SCPs): `org_policies.rs`.
    pub policies: super::org_policies::OrgPolicies,
    /// Bedrock's control plane: `bedrock.rs`.
    pub bedrock: super::bedrock::Bedrock,
}

impl World {
    pub(crate) fn from_seed(seed: &Seed) -> Result<World, EmulatorError> {
        let mut problems: Vec<String> = Vec::new();
        let o = &seed.organization;
        if !ids::is_org(&o.id) {
            problems.push(format!(
                "organization id {:?} is not o- followed by 10-32 lowercase letters or digits",
                o.id
            ));
        }
        if !ids::is_root(&o.root) {
            problems.push(format!(
                "root id {:?} is not r- followed by 4-32 lowercase letters or digits",
                o.root
            ));
        }
        let feature_set = match o.feature_set {
            FeatureSetSeed::All => FeatureSet::All,
            FeatureSetSeed::ConsolidatedBilling => FeatureSet::ConsolidatedBilling,
        };
        if feature_set == FeatureSet::ConsolidatedBilling && o.trusted_access {
            problems.push(
                "trusted_access needs feature_set ALL (a consolidated-billing organization cannot enable trusted access)"
                    .to_owned(),
            );
        }
        if feature_set == FeatureSet::ConsolidatedBilling && o.enable_integration == Some(true) {
            problems.push("enable_integration needs feature_set ALL".to_owned());
        }
        if feature_set == FeatureSet::ConsolidatedBilling && o.cross_account_discovery == Some(true)
        {
            problems.push("cross_account_discovery needs feature_set ALL".to_owned());
        }
        if feature_set == FeatureSet::ConsolidatedBilling && o.delegated_administrator.is_some() {
            problems.push("delegated_administrator needs feature_set ALL".to_owned());
        }
        let mut ous = BTreeMap::new();
        for ou in &o.organizational_units {
            if !ids::is_ou(&ou.id) {
                problems.push(format!(
                    "OU id {:?} is not well formed (ou-<4-32>-<8-32>)",
                    ou.id
                ));
            }
            let rec = OuRec {
                id: ou.id.clone(),
                name: ou.name.clone(),
                parent: ou.parent.clone(),
            };
            if ous.insert(ou.id.clone(), rec).is_some() {
                problems.push(format!("OU {} is listed twice", ou.id));
            }
        }
        for ou in ous.values() {
            if ou.parent != o.root && !ous.contains_key(&ou.parent) {
                problems.push(format!("OU {} has unknown parent {}", ou.id, ou.parent));
            }
            // Nesting: walk up; a cycle or more than 5 levels is an error.
            let mut depth = 1;
            let mut cur = ou.parent.as_str();
            while let Some(p) = ous.get(cur) {
                depth += 1;
                cur = &p.parent;
                if depth > 5 {
                    problems.push(format!(
                        "OU {} is nested more than 5 levels deep (or its parents form a cycle)",
                        ou.id
                    ));
                    break;
                }
            }
        }
        let mut accounts = BTreeMap::new();
        for a in &o.accounts {
            if !ids::is_account(&a.id) {
                problems.push(format!("account id {:?} is not 12 digits", a.id));
            }
            let parent = a.parent.clone().unwrap_or_else(|| o.root.clone());
            if parent != o.root && !ous.contains_key(&parent) {
                problems.push(format!("account {} has unknown parent {parent}", a.id));
            }
            if !matches!(
                a.state.as_str(),
                "PENDING_ACTIVATION" | "ACTIVE" | "SUSPENDED" | "PENDING_CLOSURE" | "CLOSED"
            ) {
                problems.push(format!("account {} has unknown state {}", a.id, a.state));
            }
            if !matches!(a.joined_method.as_str(), "INVITED" | "CREATED") {
                problems.push(format!(
                    "account {} has unknown joined_method {}",
                    a.id, a.joined_method
                ));
            }
            let rec = AccountRec {
                id: a.id.clone(),
                name: a.name.clone(),
                email: a
                    .email
                    .clone()
                    .unwrap_or_else(|| format!("{}@example.com", a.name)),
                state: a.state.clone(),
                parent,
                joined_method: a.joined_method.clone(),
                joined_timestamp: a.joined_timestamp,
            };
            if accounts.insert(a.id.clone(), rec).is_some() {
                problems.push(format!("account {} is listed twice", a.id));
            }
        }
        if !accounts.contains_key(&o.management_account) {
            problems.push(format!(
                "management account {} is not among the accounts",
                o.management_account
            ));
        }
        if let Some(da) = &o.delegated_administrator {
            if !accounts.contains_key(da) {
                problems.push(format!(
                    "delegated administrator {da} is not among the accounts"
                ));
            }
            if da == &o.management_account {
                problems.push(
                    "the management account cannot be its own delegated administrator".to_owned(),
                );
            }
        }
        let org = Org {
            id: o.id.clone(),
            arn: format!(
                "arn:aws:organizations::{}:organization/{}",
                o.management_account, o.id
            ),
            feature_set,
            management: o.management_account.clone(),
            root_id: o.root.clone(),
            trusted_access: o.trusted_access,
            service_linked_role: o.service_linked_role,
            marketplace_service_linked_role: o.marketplace_service_linked_role,
            enable_integration: o.enable_integration.unwrap_or(o.trusted_access),
            cross_account_discovery: o
                .cross_account_discovery
                .unwrap_or(o.enable_integration.unwrap_or(o.trusted_access)),
            member_roles: BTreeSet::new(),
            other_services: o
                .enabled_services
                .iter()
                .filter(|s| s.as_str() != LM_SERVICE_PRINCIPAL)
                .cloned()
                .collect(),
            delegated_admin: o.delegated_administrator.clone(),
            ous,
            accounts,
        };
        let default_beneficiary = org
            .delegated_admin
            .clone()
            .unwrap_or_else(|| org.management.clone());
        let mut licenses: Vec<LicenseRec> = Vec::new();
        for l in &seed.licenses {
            let issuer_account = match ids::license_issuer(&l.arn) {
                Some(a) => a.to_owned(),
                None => {
                    problems.push(format!(
                        "license ARN {:?} is not arn:aws:license-manager::<12-digit account>:license:l-<id>",
                        l.arn
                    ));
                    continue;
                }
            };
            for op in &l.allowed_operations {
                if !ids::ALLOWED_OPERATIONS.contains(&op.as_str()) {
                    problems.push(format!("license {} allows unknown operation {op}", l.arn));
                }
            }
            let beneficiary = l
                .beneficiary
                .clone()
                .unwrap_or_else(|| default_beneficiary.clone());
            licenses.push(LicenseRec {
                arn: l.arn.clone(),
                name: l.name.clone().unwrap_or_else(|| l.product_name.clone()),
                product_name: l.product_name.clone(),
                sku: l.product_sku.clone(),
                fingerprint: l.fingerprint.clone().unwrap_or_else(|| {
                    format!("aws:{issuer_account}:{}:issuer-fingerprint", l.issuer)
                }),
                issuer_account,
                issuer: l.issuer.clone(),
                beneficiary,
                status: l.status.clone(),
                received_status: l.received_status.clone(),
                allowed_operations: l.allowed_operations.clone(),
                grant_arn: l.grant_arn.clone(),
                validity_begin: l.validity_begin.clone(),
                validity_end: l.validity_end.clone(),
                create_time: l.create_time,
            });
        }
        licenses.sort_by(|a, b| a.arn.cmp(&b.arn));
        for w in licenses.windows(2) {
            if w[0].arn == w[1].arn {
                problems.push(format!("license {} is listed twice", w[0].arn));
            }
        }
        let default_caller = seed
            .default_caller
            .clone()
            .unwrap_or_else(|| org.management.clone());
        if !ids::is_account(&default_caller) {
            problems.push(format!(
                "default_caller {default_caller:?} is not 12 digits"
            ));
        }
        let mut world = World {
            region: seed.region.clone(),
            default_caller,
            salt: fnv1a(&org.id),
            policies: Default::default(),
            bedrock: super::bedrock::Bedrock::from_seed(&seed.bedrock, &mut problems),
            org,
            licenses,
            grants: Vec::new(),
            grant_index: HashMap::new(),
            grants_by_license: HashMap::new(),
            grants_by_grantee: HashMap::new(),
            tokens: HashMap::new(),
            tags: BTreeMap::new(),
            sessions: HashMap::new(),
            next_seq: 1,
            next_session: 1,
            timed: BTreeSet::new(),
        };
        for g in &seed.grants {
            if let Err(p) = world.add_seed_grant(g) {
                problems.push(p);
            }
        }
        if problems.is_empty() {
            Ok(world)
        } else {
            Err(EmulatorError::SeedInvalid(problems.join("; ")))
        }
    }

    pub(crate) fn add_seed_grant(&mut self, g: &super::seed::GrantSeed) -> Result<(), String> {
        let lic = self
            .license(&g.license_arn)
            .ok_or_else(|| format!("grant {} names unknown license {}", g.name, g.license_arn))?;
        let license = &self.licenses[lic];
        let grantor = g
            .grantor
            .clone()
            .unwrap_or_else(|| license.beneficiary.clone());
        let parent_arn = license
            .grant_arn
            .clone()
            .unwrap_or_else(|| license.arn.clone());
        let grantee = self
            .grantee(&g.principal)
            .map_err(|e| format!("grant {}: {e}", g.name))?;
        let status = Status::parse(&g.status)
            .ok_or_else(|| format!("grant {} has unknown status {}", g.name, g.status))?;
        if g.version == 0 {
            return Err(format!(
                "grant {} has version 0; versions start at 1",
                g.name
            ));
        }
        let seq = self.take_seq();
        let arn = match &g.arn {
            Some(a) => {
                if !ids::is_grant_arn(a) {
                    return Err(format!(
                        "grant ARN {a:?} is not arn:aws:license-manager::<12-digit account>:grant:g-<id>"
                    ));
                }
                a.clone()
            }
            None => self.grant_arn(&grantor, seq),
        };
        if self.grant_index.contains_key(&arn) {
            return Err(format!("grant {arn} is listed twice"));
        }
        let mut rec = GrantRec::new(
            seq,
            arn,
            grantor,
            g.name.clone(),
            parent_arn,
            g.license_arn.clone(),
            grantee,
            g.principal.clone(),
            self.region.clone(),
            status,
            g.version,
            g.operations.clone(),
        );
        if !rec.is_account_grant() {
            rec.share_default = GrantRec::shares_for(status);
        }
        if g.status_reason.is_some() {
            rec.status_reason = g.status_reason.clone();
            rec.history.clear();
            rec.history.push((rec.version, rec.render()));
        }
        self.insert_grant(rec);
        Ok(())
    }

    pub(crate) fn take_seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    /// A deterministic grant ARN for the `seq`-th grant.
    pub(crate) fn grant_arn(&self, grantor: &str, seq: u64) -> String {
        let a = mix64(self.salt ^ seq);
        let b = mix64(a ^ 0x9e37_79b9_7f4a_7c15);
        format!("arn:aws:license-manager::{grantor}:grant:g-{a:016x}{b:016x}")
    }

    pub(crate) fn insert_grant(&mut self, rec: GrantRec) {
        self.grant_index.insert(rec.arn.clone(), self.grants.len());
        self.grants_by_license
            .entry(rec.license_arn.clone())
            .or_default()
            .push(self.grants.len());
        let grantee = match &rec.grantee {
            Grantee::Account(a) => Some(a.clone()),
            Grantee::Organization | Grantee::Ou(_) => None,
        };
        self.grants_by_grantee
            .entry(grantee)
            .or_default()
            .push(self.grants.len());
        self.grants.push(rec);
    }

    pub(crate) fn license(&self, arn: &str) -> Option<usize> {
        self.licenses
            .binary_search_by(|l| l.arn.as_str().cmp(arn))
            .ok()
    }

    /// Parses a principal ARN and checks it names this organization, one of its OUs or accounts.
    pub(crate) fn grantee(&self, arn: &str) -> Result<Grantee, String> {
        let p = ids::principal(arn)?;
        match p {
            PrincipalArn::Account(a) => {
                if self.org.accounts.contains_key(a) {
                    Ok(Grantee::Account(a.to_string()))
                } else {
                    Err(format!(
                        "principal {arn} is not an account of organization {}",
                        self.org.id
                    ))
                }
            }
            PrincipalArn::Organization { .. } => {
                if arn == self.org.arn {
                    Ok(Grantee::Organization)
                } else {
                    Err(format!(
                        "principal {arn} is not the organization's ARN {}",
                        self.org.arn
                    ))
                }
            }
            PrincipalArn::Ou {
                management,
                org,
                ou,
            } => {
                if management == self.org.management
                    && org == self.org.id
                    && self.org.ous.contains_key(ou)
                {
                    Ok(Grantee::Ou(ou.to_string()))
                } else {
                    Err(format!(
                        "principal {arn} is not an organizational unit of organization {}",
                        self.org.id
                    ))
                }
            }
        }
    }

    /// The accounts an org/OU grant reaches today (never the grantor itself).
    pub(crate) fn recipients(&self, g: &GrantRec) -> Vec<String> {
        match &g.grantee {
            Grantee::Account(a) => vec![a.clone()],
            Grantee::Organization => self
                .org
                .accounts
                .keys()
                .filter(|a| **a != g.grantor)
                .cloned()
                .collect(),
            Grantee::Ou(ou) => self
                .org
                .accounts
                .keys()
                .filter(|a| **a != g.grantor && self.org.account_under(a, ou))
                .cloned()
                .collect(),
        }
    }

    /// Whether the org/OU grant `g` reaches `account` today (without listing every recipient).
    pub(crate) fn reaches(&self, g: &GrantRec, account: &str) -> bool {
        if g.grantor == account || !self.org.accounts.contains_key(account) {
            return false;
        }
        match &g.grantee {
            Grantee::Account(a) => a == account,
            Grantee::Organization => true,
            Grantee::Ou(ou) => self.org.account_under(account, ou),
        }
    }

    pub(crate) fn sub_grant_arn(&self, parent: &GrantRec, account: &str) -> String {
        let a = mix64(fnv1a(&parent.arn) ^ fnv1a(account));
        let b = mix64(a ^ self.salt);
        format!(
            "arn:aws:license-manager::{}:grant:g-{a:016x}{b:016x}",
            parent.grantor
        )
    }

    /// The sub-grants of the org/OU grant at `idx` (empty before its first distribution).
    pub(crate) fn sub_grants(&self, idx: usize) -> Vec<SubGrant> {
        let g = &self.grants[idx];
        if g.is_account_grant() {
            return Vec::new();
        }
        if g.share_default.is_none() {
            return Vec::new();
        }
        self.recipients(g)
            .into_iter()
            .filter_map(|account| {
                let status = g.shown_share(&account)?;
                Some(SubGrant {
                    parent: idx,
                    arn: self.sub_grant_arn(g, &account),
                    account,
                    status,
                })
            })
            .collect()
    }

    /// The sub-grant of org/OU grant `idx` that `account` receives, if it receives one: what
    /// `sub_grants(idx)` lists for that account, without deriving the others'.
    pub(crate) fn sub_grant_of(&self, idx: usize, account: &str) -> Option<SubGrant> {
        let g = &self.grants[idx];
        if g.is_account_grant() || !self.reaches(g, account) {
            return None;
        }
        let status = g.shown_share(account)?;
        Some(SubGrant {
            parent: idx,
            arn: self.sub_grant_arn(g, account),
            account: account.to_owned(),
            status,
        })
    }

    /// Finds a sub-grant by ARN (linear in the number of org/OU grants and accounts).
    pub(crate) fn find_sub_grant(&self, arn: &str) -> Option<SubGrant> {
        (0..self.grants.len())
            .filter(|i| !self.grants[*i].is_account_grant())
            .flat_map(|i| self.sub_grants(i))
            .find(|s| s.arn == arn)
    }

    pub(crate) fn sub_grant_json(&self, s: &SubGrant) -> Value {
        let g = &self.grants[s.parent];
        json!({
            "GrantArn": s.arn,
            "GrantName": g.name,
            "ParentArn": g.arn,
            "LicenseArn": g.license_arn,
            "GranteePrincipalArn": format!("arn:aws:iam::{}:root", s.account),
            "HomeRegion": g.home_region,
            "GrantStatus": s.status.as_str(),
            "Version": g.version.to_string(),
            "GrantedOperations": g.operations,
        })
    }

    /// Every license `account` has received, with how: the licenses it was seeded with, and the
    /// ones reaching it through a live grant (the best status wins when several do).
    pub(crate) fn received_licenses(&self, account: &str) -> Vec<Received> {
        let mut out: BTreeMap<usize, Received> = BTreeMap::new();
        for (i, l) in self.licenses.iter().enumerate() {
            if l.beneficiary == account {
                out.insert(
                    i,
                    Received {
                        license: i,
                        account: account.to_owned(),
                        status: l.received_status.clone(),
                        operations: l.allowed_operations.clone(),
                        via_grant: l.grant_arn.clone(),
                    },
                );
            }
        }
        let rank = |s: &str| match s {
            "ACTIVE" => 3,
            "DISABLED" => 2,
            "PENDING_ACCEPT" => 1,
            _ => 0,
        };
        // Grants to this account, then organization and OU grants, in creation order: the
        // others cannot reach it.
        let mut reaching: Vec<usize> = [Some(account.to_owned()), None]
            .iter()
            .filter_map(|k| self.grants_by_grantee.get(k))
            .flatten()
            .copied()
            .collect();
        reaching.sort_unstable();
        for idx in reaching {
            let g = &self.grants[idx];
            let (arn, status) = match &g.grantee {
                Grantee::Account(a) if a == account => {
                    let st = match &g.workflow {
                        Some(w) => match w.from {
                            Some(from) => from,
                            None => continue,
                        },
                        None => g.status,
                    };
                    (g.arn.clone(), st)
                }
                Grantee::Account(_) => continue,
                _ => {
                    if !self.reaches(g, account) {
                        continue;
                    }
                    let Some(st) = g.effective_share(account) else {
                        continue;
                    };
                    (self.sub_grant_arn(&self.grants[idx], account), st)
                }
            };
            if status.is_terminal() || status == Status::PendingDelete {
                continue;
            }
            let Some(lic) = self.license(&g.license_arn) else {
                continue;
            };
            let r = Received {
                license: lic,
                account: account.to_owned(),
                status: status.as_str().to_owned(),
                operations: g.operations.clone(),
                via_grant: Some(arn),
            };
            match out.get(&lic) {
                Some(old) if rank(&old.status) >= rank(&r.status) => {}
                _ => {
                    out.insert(lic, r);
                }
            }
        }
        out.into_values().collect()
    }
}
