//! `bootstrap`: the one-time setup that `apply` and the guardrails rely on, as separate
//! prerequisites. `read` gathers the facts through `aws`; [`check`] is a pure function of the
//! facts and of what the file asks for, giving each prerequisite its state and its fix (the
//! exact aws CLI command, or the file section to fill in); `apply` makes the missing ones that
//! have an automatic fix through the real operations, idempotently. `plan` and `apply` never
//! change a prerequisite: their preflight only reads.

mod apply;
mod check;
mod read;
pub mod render;
mod wanted;

pub use apply::{Applied, apply};
pub use check::check;
pub use read::read;
pub use wanted::{is_anthropic_model_id, wanted};

use crate::aws::AwsError;
use crate::aws::bootstrap::OrganizationSettings;
use crate::model::{AccountId, FeatureSet, RootId};

/// What the desired-state file asks of the setup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Wanted {
    /// `settings.home_region` (the region of License Manager's settings).
    pub home_region: String,
    /// `settings.guardrails.mode` is not `off`: the SCP policy type must be enabled on the root.
    pub guardrails: bool,
    /// `settings.bootstrap.delegated_administrator`: License Manager's delegated administrator.
    pub delegated_administrator: Option<AccountId>,
    /// Anthropic's use-case form, when the file needs it.
    pub use_case: Option<UseCaseWanted>,
}

/// Why the file needs Anthropic's use-case form, and its content if the file has it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UseCaseWanted {
    /// The models of the file that are Anthropic's (empty: the form section alone asks for it).
    pub models: Vec<String>,
    /// `settings.bootstrap.anthropic_use_case` as the `formData` JSON; `None`: not filled in.
    pub form: Option<String>,
}

/// What the live read found. A read that failed is kept as its error: that prerequisite's
/// state is then unknown, and the report says why.
#[derive(Debug, Clone)]
pub struct Facts {
    pub caller: AccountId,
    pub management_account: AccountId,
    pub feature_set: FeatureSet,
    /// ListAWSServiceAccessForOrganization.
    pub service_access: Result<Vec<String>, AwsError>,
    /// IAM GetRole for each of `preflight::SERVICE_LINKED_ROLES`, in that order.
    pub roles: Vec<Result<bool, AwsError>>,
    /// License Manager GetServiceSettings.
    pub settings: Result<OrganizationSettings, AwsError>,
    /// ListRoots' policy types: the root and whether SERVICE_CONTROL_POLICY is enabled; read
    /// only when the guardrails are on.
    pub scp: Option<Result<(RootId, bool), AwsError>>,
    /// ListDelegatedAdministrators for License Manager; read only when the file names one.
    pub delegated_admins: Option<Result<Vec<AccountId>, AwsError>>,
    /// Bedrock GetUseCaseForModelAccess: whether the form was submitted; read only when needed.
    pub use_case: Option<Result<bool, AwsError>>,
}

/// A prerequisite's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Set up.
    Done,
    /// Not set up: the fix says how.
    Missing,
    /// Could not be read (the detail says why).
    Unknown,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Done => "done",
            State::Missing => "missing",
            State::Unknown => "unknown",
        }
    }
}

/// A change `bootstrap --apply` can make, through one real operation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Organizations EnableAWSServiceAccess.
    EnableServiceAccess(&'static str),
    /// IAM CreateServiceLinkedRole (the service principal).
    CreateServiceLinkedRole(&'static str),
    /// License Manager UpdateServiceSettings: the organization integration and cross-account
    /// discovery, both on.
    LinkOrganization,
    /// Organizations EnablePolicyType SERVICE_CONTROL_POLICY.
    EnableScpPolicyType(RootId),
    /// Organizations RegisterDelegatedAdministrator for License Manager.
    RegisterDelegatedAdministrator(AccountId),
    /// Bedrock PutUseCaseForModelAccess with the file's form (the `formData` JSON).
    SubmitUseCase(String),
}

impl Change {
    /// The AWS operation that makes the change.
    pub fn operation(&self) -> &'static str {
        match self {
            Change::EnableServiceAccess(_) => "organizations:EnableAWSServiceAccess",
            Change::CreateServiceLinkedRole(_) => "iam:CreateServiceLinkedRole",
            Change::LinkOrganization => "license-manager:UpdateServiceSettings",
            Change::EnableScpPolicyType(_) => "organizations:EnablePolicyType",
            Change::RegisterDelegatedAdministrator(_) => {
                "organizations:RegisterDelegatedAdministrator"
            }
            Change::SubmitUseCase(_) => "bedrock:PutUseCaseForModelAccess",
        }
    }
}

/// How a missing prerequisite is fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// The exact aws CLI command, or what to write in the file, or what to do by hand.
    pub how: String,
    /// What `--apply` does about it; `None`: only a person can fix it.
    pub change: Option<Change>,
}

/// One prerequisite, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prerequisite {
    /// A stable key (`trusted-access:license-manager.amazonaws.com`, `scp-policy-type`).
    pub name: String,
    pub state: State,
    /// What was found, in a sentence.
    pub detail: String,
    /// For a missing (or unknown) prerequisite.
    pub fix: Option<Fix>,
}

/// Every prerequisite of the file, in the order `--apply` makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub caller: AccountId,
    pub management_account: AccountId,
    pub prerequisites: Vec<Prerequisite>,
}

impl Report {
    pub fn count(&self, state: State) -> usize {
        self.prerequisites
            .iter()
            .filter(|p| p.state == state)
            .count()
    }

    /// Everything is set up.
    pub fn all_done(&self) -> bool {
        self.prerequisites.iter().all(|p| p.state == State::Done)
    }

    /// The changes `--apply` would make, once each, in order.
    pub fn changes(&self) -> Vec<Change> {
        let mut out: Vec<Change> = Vec::new();
        for p in &self.prerequisites {
            if p.state != State::Missing {
                continue;
            }
            if let Some(c) = p.fix.as_ref().and_then(|f| f.change.clone())
                && !out.contains(&c)
            {
                out.push(c);
            }
        }
        out
    }
}
