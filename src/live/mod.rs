//! Reads the world through `aws` into a `Live` snapshot, in as few calls as the APIs allow and
//! concurrently where calls are independent.
//!
//! Calls: DescribeOrganization, ListRoots, then one walk of the OU tree in which every parent
//! (root or OU) gets ListOrganizationalUnitsForParent and ListAccountsForParent (one page each
//! for up to 20 children), run concurrently as parents are discovered. The alternative,
//! ListAccounts plus ListParents per account, costs one call per account and pages ListAccounts
//! sequentially; the walk costs about two calls per parent and its critical path is the tree
//! depth. Beside it, ListReceivedLicenses, then ListDistributedGrants per license (filter
//! LicenseArn, 100 per page), all licenses at once; a license with a live organization or OU
//! grant then gets one ListReceivedGrantsForOrganization stream (no filter: one stream reads
//! the shares of every such grant of the license). GetCallerIdentity says who the caller is.

mod policies;
mod subscriptions;

pub use policies::{POLICY_READ_CONCURRENCY, read_guardrails};
pub use subscriptions::{Subscriptions, read_subscriptions};

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::aws::{AccountEntry, AwsError, ErrorKind, LicenseManagerApi, OrganizationsApi};
use crate::model::{
    AccountId, Grant, GrantArn, License, LicenseArn, Live, OrgAccount, OrgUnit, Organization, OuId,
    ParentId, Principal, Share, grant_order,
};

/// How many listings of each kind (OUs of a parent, accounts of a parent) the tree walk keeps
/// started at most. How many of them are in flight at AWS is decided per operation by the
/// `aws` layer's adaptive limits (at most [`crate::aws::ORGANIZATIONS_MAX_IN_FLIGHT`] each,
/// halved under throttling): the walk only makes sure each operation has work waiting, so that
/// one operation's throttling never holds the other's calls back.
pub const ORGANIZATIONS_CONCURRENCY: usize = crate::aws::ORGANIZATIONS_MAX_IN_FLIGHT;

/// Which licenses to read grants of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LicenseScope {
    /// Every received license.
    #[default]
    All,
    /// Only these (for `--target`).
    Only(BTreeSet<LicenseArn>),
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the organization has no root (ListRoots returned none)")]
    NoRoot,
    #[error("a read task failed: {0}")]
    Task(String),
}

/// Reads the organization and the received licenses (no grants).
pub async fn read_organization_and_licenses<L, O>(
    lm: &L,
    orgs: &Arc<O>,
) -> Result<(Organization, Vec<License>), LiveError>
where
    L: LicenseManagerApi,
    O: OrganizationsApi + 'static,
{
    let (org, licenses) = tokio::join!(read_organization(orgs), lm.list_received_licenses());
    Ok((org?, licenses?))
}

/// Reads the organization, the received licenses and the grants of the licenses in `scope`.
/// Grants are read while the organization tree is walked: they depend only on the licenses.
/// `guardrails` is the SCP name prefix when `settings.guardrails.mode` is not `off`: the SCPs
/// are then read too ([`read_guardrails`]); `None` makes no policy call.
pub async fn read<L, O>(
    lm: &Arc<L>,
    orgs: &Arc<O>,
    scope: &LicenseScope,
    guardrails: Option<&str>,
) -> Result<Live, LiveError>
where
    L: LicenseManagerApi + 'static,
    O: OrganizationsApi + 'static,
{
    let (live, ()) = read_then(lm, orgs, scope, guardrails, |_| ()).await?;
    Ok(live)
}

/// [`read`], calling `ready` as soon as the organization and the licenses are known, with a
/// snapshot whose `grants` are still empty, while the grants are being read: work that needs no
/// grant (resolving the file against the organization) then costs no wall time. Returns the
/// full snapshot and what `ready` returned. `guardrails`: as for [`read`].
pub async fn read_then<L, O, T>(
    lm: &Arc<L>,
    orgs: &Arc<O>,
    scope: &LicenseScope,
    guardrails: Option<&str>,
    ready: impl FnOnce(&Live) -> T,
) -> Result<(Live, T), LiveError>
where
    L: LicenseManagerApi + 'static,
    O: OrganizationsApi + 'static,
{
    let started = std::time::Instant::now();
    let elapsed_ms = move || started.elapsed().as_millis() as u64;
    let (organization, licenses, caller, policies) = tokio::join!(
        async {
            let organization = read_organization(orgs).await;
            tracing::debug!(elapsed_ms = elapsed_ms(), "read the organization");
            organization
        },
        async {
            let licenses = lm.list_received_licenses().await?;
            let wanted: Vec<LicenseArn> = licenses
                .iter()
                .map(|l| l.arn.clone())
                .filter(|arn| match scope {
                    LicenseScope::All => true,
                    LicenseScope::Only(set) => set.contains(arn),
                })
                .collect();
            let lm = Arc::clone(lm);
            let grants = AbortOnDrop(tokio::spawn(async move {
                let grants = read_grants_and_shares(&lm, &wanted).await;
                tracing::debug!(elapsed_ms = elapsed_ms(), "read the grants and shares");
                grants
            }));
            Ok::<_, LiveError>((licenses, grants))
        },
        orgs.caller_account(),
        async {
            match guardrails {
                Some(prefix) => read_guardrails(orgs, prefix).await.map(Some),
                None => Ok(None),
            }
        }
    );
    let organization = organization?;
    let (licenses, grants) = licenses?;
    let caller = caller_or_beneficiary(caller, &licenses)?;
    let mut live = Live {
        organization,
        caller,
        licenses,
        grants: Vec::new(),
        shares: Vec::new(),
        read_at: 0,
        guardrails: policies?,
    };
    let early = ready(&live);
    (live.grants, live.shares) = grants.join().await?;
    Ok((live, early))
}

/// A spawned read that stops when its result is no longer wanted (an error elsewhere).
struct AbortOnDrop<T>(tokio::task::JoinHandle<Result<T, LiveError>>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> Result<T, LiveError> {
        (&mut self.0)
            .await
            .map_err(|e| LiveError::Task(e.to_string()))?
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The caller's account from STS GetCallerIdentity. GetCallerIdentity needs no permission and
/// cannot be denied (STS API reference), so it fails only where no STS answers (an endpoint that
/// serves License Manager and Organizations alone): then the licenses' beneficiary stands in, with
/// a warning, and the read fails only when no license names one either.
fn caller_or_beneficiary(
    caller: Result<AccountId, crate::aws::AwsError>,
    licenses: &[License],
) -> Result<AccountId, LiveError> {
    let e = match caller {
        Ok(account) => return Ok(account),
        Err(e) => e,
    };
    match caller_account(licenses) {
        Some(account) => {
            tracing::warn!(
                error = %e,
                account = %account,
                "STS GetCallerIdentity did not answer; taking the received licenses' beneficiary as the caller"
            );
            Ok(account)
        }
        None => Err(e.into()),
    }
}

/// The beneficiary account of the received licenses, `None` when no license names one. Not
/// the caller (STS `GetCallerIdentity` says who that is: [`read`] asks it); kept for commands
/// that only list licenses.
pub fn caller_account(licenses: &[License]) -> Option<AccountId> {
    licenses
        .iter()
        .filter_map(|l| l.beneficiary.as_deref())
        .filter_map(|b| {
            b.strip_prefix("arn:aws:iam::")?
                .strip_suffix(":root")?
                .parse()
                .ok()
        })
        .next()
}

/// Every grant distributed from `licenses`, in [`grant_order`] (see [`read_grants_and_shares`]).
pub async fn read_grants<L>(lm: &Arc<L>, licenses: &[LicenseArn]) -> Result<Vec<Grant>, LiveError>
where
    L: LicenseManagerApi + 'static,
{
    Ok(read_grants_and_shares(lm, licenses).await?.0)
}

/// Every grant distributed from `licenses`, in [`grant_order`], and each account's share of
/// their organization and OU grants that are not DELETED or REJECTED, sorted by (parent,
/// account). Each license's pages are one sequential stream, which also sorts its own grants
/// and then, if the license has a live organization or OU grant, reads the shares in one
/// ListReceivedGrantsForOrganization stream; the streams all run at once (an account holds a
/// handful of model licenses, and the longest stream is the critical path of the whole read),
/// and their results are joined in license order.
pub async fn read_grants_and_shares<L>(
    lm: &Arc<L>,
    licenses: &[LicenseArn],
) -> Result<(Vec<Grant>, Vec<Share>), LiveError>
where
    L: LicenseManagerApi + 'static,
{
    let mut tasks = JoinSet::new();
    for license in licenses {
        let lm = Arc::clone(lm);
        let license = license.clone();
        tasks.spawn(async move {
            let mut grants = lm.list_distributed_grants(&license).await?;
            grants.sort_unstable_by(grant_order);
            grants.dedup_by(|a, b| a.arn == b.arn);
            let shares = read_shares(lm.as_ref(), &license, &grants).await?;
            Ok::<_, AwsError>((license, grants, shares))
        });
    }
    let mut by_license = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (license, grants, shares) = done.map_err(|e| LiveError::Task(e.to_string()))??;
        by_license.insert(license, (grants, shares));
    }
    let mut grants = Vec::with_capacity(by_license.values().map(|(g, _)| g.len()).sum());
    let mut shares = Vec::new();
    for (of_license, shares_of_license) in by_license.into_values() {
        grants.extend(of_license);
        shares.extend(shares_of_license);
    }
    shares.sort_unstable_by(|a, b| (&a.parent, &a.account).cmp(&(&b.parent, &b.account)));
    Ok((grants, shares))
}

/// The shares of the live organization and OU grants among `grants` (one license's), in any
/// status; no call when there is none.
async fn read_shares<L: LicenseManagerApi>(
    lm: &L,
    license: &LicenseArn,
    grants: &[Grant],
) -> Result<Vec<Share>, AwsError> {
    let parents: BTreeSet<&GrantArn> = grants
        .iter()
        .filter(|g| !matches!(g.principal, Principal::Account(_)) && !g.status.is_terminal())
        .map(|g| &g.arn)
        .collect();
    if parents.is_empty() {
        return Ok(Vec::new());
    }
    let mut shares = match lm
        .list_received_grants_for_organization(license, None)
        .await
    {
        Ok(shares) => shares,
        // A refusal is a setup problem the caller must see; an endpoint that does not serve the
        // operation (or rejects it) leaves the parents to be judged by their own status.
        Err(e) if e.kind.is_retryable() || e.kind == ErrorKind::AccessDenied => return Err(e),
        Err(e) => {
            tracing::warn!(
                error = %e,
                license = %license,
                "cannot read the accounts' shares of organization and OU grants; judging each by its own status"
            );
            return Ok(Vec::new());
        }
    };
    shares.retain(|s| parents.contains(&s.parent));
    Ok(shares)
}

fn add_ous(ous: &mut BTreeMap<OuId, OrgUnit>, parent: &ParentId, children: Vec<(OuId, String)>) {
    for (id, name) in children {
        let parent = parent.clone();
        ous.insert(id.clone(), OrgUnit { id, name, parent });
    }
}

fn add_accounts(
    accounts: &mut BTreeMap<AccountId, OrgAccount>,
    parent: &ParentId,
    children: Vec<AccountEntry>,
) {
    for a in children {
        let account = OrgAccount {
            id: a.id.clone(),
            name: a.name,
            state: a.state,
            parent: parent.clone(),
        };
        accounts.insert(a.id, account);
    }
}

enum Listing {
    Ous(ParentId, Vec<(OuId, String)>),
    Accounts(ParentId, Vec<AccountEntry>),
}

/// DescribeOrganization, ListRoots and a concurrent walk of the OU tree.
pub async fn read_organization<O>(orgs: &Arc<O>) -> Result<Organization, LiveError>
where
    O: OrganizationsApi + 'static,
{
    let (info, roots) = tokio::join!(orgs.describe_organization(), orgs.list_roots());
    let info = info?;
    let root = roots?.into_iter().next().ok_or(LiveError::NoRoot)?;

    // Parents waiting for each listing. OU listings go first: each one can reveal more parents,
    // so the walk reaches the bottom of the tree in one round per level while account listings
    // fill the places left.
    let mut want_ous = VecDeque::from([ParentId::Root(root.clone())]);
    let mut want_accounts = VecDeque::from([ParentId::Root(root.clone())]);
    let mut tasks: JoinSet<Result<Listing, AwsError>> = JoinSet::new();
    let mut ous = BTreeMap::new();
    let mut accounts = BTreeMap::new();
    // Listings started and not finished, of OUs and of accounts.
    let (mut ou_listings, mut account_listings) = (0, 0);
    loop {
        while ou_listings < ORGANIZATIONS_CONCURRENCY
            && let Some(parent) = want_ous.pop_front()
        {
            let orgs = Arc::clone(orgs);
            ou_listings += 1;
            tasks.spawn(async move {
                let children = orgs.list_ous_for_parent(&parent).await?;
                Ok(Listing::Ous(parent, children))
            });
        }
        while account_listings < ORGANIZATIONS_CONCURRENCY
            && let Some(parent) = want_accounts.pop_front()
        {
            let orgs = Arc::clone(orgs);
            account_listings += 1;
            tasks.spawn(async move {
                let children = orgs.list_accounts_for_parent(&parent).await?;
                Ok(Listing::Accounts(parent, children))
            });
        }
        let Some(done) = tasks.join_next().await else {
            break;
        };
        match done.map_err(|e| LiveError::Task(e.to_string()))?? {
            Listing::Ous(parent, children) => {
                ou_listings -= 1;
                for (id, _) in &children {
                    want_ous.push_back(ParentId::Ou(id.clone()));
                    want_accounts.push_back(ParentId::Ou(id.clone()));
                }
                add_ous(&mut ous, &parent, children);
            }
            Listing::Accounts(parent, children) => {
                account_listings -= 1;
                add_accounts(&mut accounts, &parent, children);
            }
        }
    }
    Ok(Organization {
        id: info.id,
        management_account: info.management_account,
        feature_set: info.feature_set,
        root,
        ous,
        accounts,
    })
}
