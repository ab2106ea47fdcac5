//! Building the SDK clients from the standard AWS chain (env, profiles, SSO, web identity),
//! with `--profile`, `--role-arn` and endpoint overrides on top.

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::Region;
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;

use super::{NoObserver, Observer, RetryPolicy, SdkBedrock, SdkLicenseManager, SdkOrganizations};
use crate::model::AccountId;

/// The session name the tool uses whenever it assumes a role, so CloudTrail shows who acted.
pub const SESSION_NAME: &str = "bedrock-entitlements";

/// How to reach AWS. Everything unset comes from the standard chain.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    /// Assume this role first.
    pub role_arn: Option<String>,
    /// License Manager's home region (us-east-1 unless the file says otherwise).
    pub home_region: String,
    /// Overrides every service endpoint (the embedded sandbox); `AWS_ENDPOINT_URL*` work without it.
    pub endpoint_url: Option<String>,
    /// Fixed credentials (the embedded sandbox), instead of the chain.
    pub static_credentials: Option<(String, String)>,
    pub retry: Option<RetryPolicy>,
    pub observer: Option<Observer>,
}

impl std::fmt::Debug for ConnectOptions {
    // Hand-written so that credentials never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .field("home_region", &self.home_region)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "static_credentials",
                &self.static_credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// The clients the tool works with.
#[derive(Clone)]
pub struct Clients {
    pub license_manager: SdkLicenseManager,
    pub organizations: SdkOrganizations,
    /// Bedrock's control plane, in the home region.
    pub bedrock: SdkBedrock,
    pub(super) sdk: SdkConfig,
    pub(super) retry: RetryPolicy,
    pub(super) observer: Observer,
}

impl Clients {
    /// A License Manager client acting as `role_name` in `account`, for accepting grants in
    /// member accounts (`settings.recipient_role`).
    pub async fn license_manager_as(
        &self,
        account: &AccountId,
        role_name: &str,
    ) -> SdkLicenseManager {
        let role_arn = format!("arn:aws:iam::{account}:role/{role_name}");
        let provider = AssumeRoleProvider::builder(role_arn)
            .session_name(SESSION_NAME)
            .configure(&self.sdk)
            .build()
            .await;
        // Each member account gets its own identity cache: a shared one holds a bounded number
        // of identities and, across hundreds of accounts, evicts some before they are used.
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .identity_cache(aws_config::identity::IdentityCache::lazy().build())
            .build();
        SdkLicenseManager::new(
            aws_sdk_licensemanager::Client::new(&sdk),
            self.retry,
            self.observer.clone(),
        )
    }
}

/// Loads the AWS configuration and builds the clients. The SDK's own retries are disabled:
/// `aws::retry` is the one retry layer.
pub async fn connect(opts: ConnectOptions) -> Clients {
    let region = if opts.home_region.is_empty() {
        "us-east-1".to_owned()
    } else {
        opts.home_region.clone()
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region))
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((key, secret)) = &opts.static_credentials {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            key, secret, None, None, "static",
        ));
    }
    let mut sdk = loader.load().await;
    if let Some(role_arn) = &opts.role_arn {
        let provider = AssumeRoleProvider::builder(role_arn.clone())
            .session_name(SESSION_NAME)
            .configure(&sdk)
            .build()
            .await;
        sdk = sdk
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(provider),
            )
            .build();
    }
    let retry = opts.retry.unwrap_or_default();
    let observer = opts.observer.unwrap_or_else(|| Arc::new(NoObserver));
    Clients {
        license_manager: SdkLicenseManager::new(
            aws_sdk_licensemanager::Client::new(&sdk),
            retry,
            observer.clone(),
        ),
        organizations: SdkOrganizations::new(
            aws_sdk_organizations::Client::new(&sdk),
            aws_sdk_sts::Client::new(&sdk),
            retry,
            observer.clone(),
        )
        .with_iam(aws_sdk_iam::Client::new(&sdk)),
        bedrock: SdkBedrock::new(aws_sdk_bedrock::Client::new(&sdk), retry, observer.clone()),
        sdk,
        retry,
        observer,
    }
}
