//! Shared helpers for integration tests: start the emulator and build real SDK clients that talk
//! to it. Any test module may use these (`use crate::support::*`).

#![allow(dead_code)]

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_sdk_licensemanager::config::Region;
use bedrock_entitlements::emulator::{EmulatorHandle, EmulatorOptions, Seed, start};

/// The seed in `examples/sandbox.yaml` (org `o-exampleorg1`, management account 111122223333).
pub fn sandbox_seed() -> Seed {
    Seed::from_yaml(include_str!("../../examples/sandbox.yaml"))
        .expect("examples/sandbox.yaml is a valid seed")
}

/// The sandbox organization's ids, for assertions.
pub const MANAGEMENT: &str = "111122223333";
pub const ORG_ID: &str = "o-exampleorg1";
pub const ORG_ARN: &str = "arn:aws:organizations::111122223333:organization/o-exampleorg1";
pub const ROOT_ID: &str = "r-ab12";
pub const ML_PROD: &str = "222233334444";
pub const ML_DEV: &str = "333344445555";
pub const DATA_PROD: &str = "444455556666";
pub const SANDBOX_ALICE: &str = "555566667777";
pub const OU_WORKLOADS: &str = "ou-ab12-workload1";
pub const OU_ML: &str = "ou-ab12-mlplatfm";
pub const OU_SANDBOX: &str = "ou-ab12-sandbox1";
pub const CLAUDE_LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-0c1a0de35a7d4f3e9b21c4d5e6f70811";
pub const COHERE_LICENSE: &str =
    "arn:aws:license-manager::294406891311:license:l-2c0be3ec0add4e1f8c2b7a9d6e5f4c32";
pub const DEFAULT_OPS: [&str; 5] = [
    "CheckoutLicense",
    "CheckInLicense",
    "ExtendConsumptionLicense",
    "ListPurchasedLicenses",
    "CreateToken",
];

pub fn account_principal(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

pub fn ou_principal(ou: &str) -> String {
    format!("arn:aws:organizations::{MANAGEMENT}:ou/{ORG_ID}/{ou}")
}

/// Starts the emulator on 127.0.0.1 with an ephemeral port.
pub async fn start_emulator(seed: Seed, opts: EmulatorOptions) -> EmulatorHandle {
    start(seed, opts, "127.0.0.1:0".parse().expect("a socket address"))
        .await
        .expect("the emulator starts")
}

/// Retries fast enough for tests (standard mode, 3 attempts, 1 ms initial back-off).
pub fn fast_retries() -> RetryConfig {
    RetryConfig::standard().with_initial_backoff(Duration::from_millis(1))
}

/// An SDK config for `endpoint` with static credentials whose access key id picks the caller:
/// `ACCT<12 digits>` acts as that account, any other key as the seed's default caller.
pub async fn sdk_config(
    endpoint: &str,
    access_key: &str,
    session_token: Option<&str>,
    retry: RetryConfig,
) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            access_key,
            "emulator-secret",
            session_token.map(str::to_owned),
            None,
            "static",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry)
        .load()
        .await
}

/// Real SDK clients of the three services the emulator serves.
#[derive(Clone, Debug)]
pub struct Clients {
    pub lm: aws_sdk_licensemanager::Client,
    pub orgs: aws_sdk_organizations::Client,
    pub sts: aws_sdk_sts::Client,
    pub config: aws_config::SdkConfig,
}

impl Clients {
    pub fn from_config(config: aws_config::SdkConfig) -> Clients {
        let endpoint = config.endpoint_url().unwrap_or_default().to_owned();
        let lm = aws_sdk_licensemanager::config::Builder::from(&config)
            .endpoint_url(&endpoint)
            .build();
        let orgs = aws_sdk_organizations::config::Builder::from(&config)
            .endpoint_url(&endpoint)
            .build();
        let sts = aws_sdk_sts::config::Builder::from(&config)
            .endpoint_url(&endpoint)
            .build();
        Clients {
            lm: aws_sdk_licensemanager::Client::from_conf(lm),
            orgs: aws_sdk_organizations::Client::from_conf(orgs),
            sts: aws_sdk_sts::Client::from_conf(sts),
            config,
        }
    }
}

/// Clients acting as the seed's default caller (the management account in the sandbox).
pub async fn clients(emu: &EmulatorHandle) -> Clients {
    clients_with(emu, "AKIDEXAMPLE", fast_retries()).await
}

/// Clients acting as `account` directly (the `ACCT<id>` access key).
pub async fn clients_as(emu: &EmulatorHandle, account: &str) -> Clients {
    clients_with(emu, &format!("ACCT{account}"), fast_retries()).await
}

pub async fn clients_with(emu: &EmulatorHandle, access_key: &str, retry: RetryConfig) -> Clients {
    Clients::from_config(sdk_config(&emu.endpoint_url(), access_key, None, retry).await)
}

/// Clients acting through `AssumeRole` credentials (`arn:aws:iam::<account>:role/<role>`).
pub async fn clients_assuming(from: &Clients, account: &str, role: &str) -> Clients {
    let out = from
        .sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account}:role/{role}"))
        .role_session_name("bedrock-entitlements-test")
        .send()
        .await
        .expect("AssumeRole succeeds");
    let creds = out.credentials().expect("AssumeRole returns credentials");
    let endpoint = from.config.endpoint_url().unwrap_or_default().to_owned();
    Clients::from_config(
        sdk_config(
            &endpoint,
            creds.access_key_id(),
            Some(creds.session_token()),
            fast_retries(),
        )
        .await,
    )
}

/// A fresh idempotency token.
pub fn token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("test-token-{}", N.fetch_add(1, Ordering::Relaxed))
}
