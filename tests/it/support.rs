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

/// A raw HTTP/1.1 exchange with the emulator (no SDK): for wire-level checks and the admin
/// endpoint. Returns the status, the headers (lowercased names) and the body.
pub async fn raw_http(
    emu: &EmulatorHandle,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(emu.addr())
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
        emu.addr(),
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8(buf).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// A signed-looking AWS JSON 1.1 call (`target` = `AWSLicenseManager.GetGrant`, ...) acting as
/// the default caller; returns the status, the `x-amzn-RequestId` and the parsed JSON body.
pub async fn raw_json_call(
    emu: &EmulatorHandle,
    target: &str,
    body: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/license-manager/aws4_request, SignedHeaders=host, Signature=0";
    let (status, headers, body) = raw_http(
        emu,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target),
            ("Authorization", auth),
        ],
        body,
    )
    .await;
    let request_id = headers
        .iter()
        .find(|(k, _)| k == "x-amzn-requestid")
        .map(|(_, v)| v.clone());
    let json = serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
    (status, request_id, json)
}

/// POSTs JSON to an admin route (`/_emulator/...`); returns the status and the JSON answer.
pub async fn admin_post(
    emu: &EmulatorHandle,
    route: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let (status, _, text) = raw_http(
        emu,
        "POST",
        &format!("/_emulator/{route}"),
        &[("Content-Type", "application/json")],
        &body.to_string(),
    )
    .await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

pub async fn admin_get(emu: &EmulatorHandle, route: &str) -> (u16, serde_json::Value) {
    let (status, _, text) = raw_http(emu, "GET", &format!("/_emulator/{route}"), &[], "").await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// The error code and message of an SDK error (for modeled and unmodeled errors alike).
pub fn error_of<T: std::fmt::Debug, E, R>(
    result: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, R>>,
) -> (String, String)
where
    E: aws_sdk_licensemanager::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.as_service_error() {
            Some(se) => (
                se.code().unwrap_or("<no code>").to_owned(),
                se.message().unwrap_or("").to_owned(),
            ),
            None => (format!("<not a service error: {e:?}>"), String::new()),
        },
    }
}

/// Builds a seed programmatically: the sandbox organization plus `extra` accounts in the root
/// (ids 900000000000, 900000000001, ...).
pub fn seed_with_accounts(extra: usize) -> Seed {
    let mut seed = sandbox_seed();
    for i in 0..extra {
        seed.organization
            .accounts
            .push(bedrock_entitlements::emulator::AccountSeed {
                id: format!("{:012}", 900_000_000_000u64 + i as u64),
                name: format!("bulk-{i}"),
                email: None,
                state: "ACTIVE".to_owned(),
                parent: None,
                joined_method: "CREATED".to_owned(),
                joined_timestamp: 1_704_067_200,
            });
    }
    seed
}

pub fn bulk_account(i: usize) -> String {
    format!("{:012}", 900_000_000_000u64 + i as u64)
}

/// Reads the emulator's entitlement oracle at a fixed pace in a background task (the sampler of
/// the continuity tests): every sample is the sorted `EmulatorState::entitlements()` of one
/// instant. Stop it to get the samples.
pub struct EntitlementSampler {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<Vec<Vec<bedrock_entitlements::emulator::EntitlementView>>>,
}

/// Starts sampling `state` every `every` (the first sample at once).
pub fn sample_entitlements(
    state: bedrock_entitlements::emulator::EmulatorState,
    every: Duration,
) -> EntitlementSampler {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => samples.push(state.entitlements()),
                _ = stopped.changed() => break,
            }
        }
        samples.push(state.entitlements());
        samples
    });
    EntitlementSampler { stop, task }
}

impl EntitlementSampler {
    /// Stops sampling (taking one last sample) and returns every sample, oldest first.
    pub async fn stop(self) -> Vec<Vec<bedrock_entitlements::emulator::EntitlementView>> {
        let _ = self.stop.send(true);
        self.task.await.expect("the sampler task does not panic")
    }
}

/// The (sample index, account) pairs where one of `accounts` held no ACTIVE entitlement for
/// `product_sku`: empty when nobody ever went without.
pub fn entitlement_gaps(
    samples: &[Vec<bedrock_entitlements::emulator::EntitlementView>],
    product_sku: &str,
    accounts: &[&str],
) -> Vec<(usize, String)> {
    let mut gaps = Vec::new();
    for (i, sample) in samples.iter().enumerate() {
        for account in accounts {
            let held = sample.iter().any(|e| {
                e.product_sku == product_sku && e.account == *account && !e.grants.is_empty()
            });
            if !held {
                gaps.push((i, (*account).to_owned()));
            }
        }
    }
    gaps
}

/// Runs the boto3 check `tests/boto3/SCRIPT` against the binary's emulator and asserts that every
/// check passed. Skipped, with the reason printed, where python3 or boto3 is missing.
pub fn run_boto3_check(script: &str) {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import boto3"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(_) => {
            eprintln!("skipped: boto3 is not installed (pip install boto3)");
            return;
        }
        Err(e) => {
            eprintln!("skipped: python3 is not available ({e})");
            return;
        }
    }
    let out = std::process::Command::new("python3")
        .arg(format!(
            "{}/tests/boto3/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .env(
            "BEDROCK_ENTITLEMENTS_BIN",
            env!("CARGO_BIN_EXE_bedrock-entitlements"),
        )
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}

/// Retries fast enough for tests, as many as in production.
pub fn test_retry() -> bedrock_entitlements::aws::RetryPolicy {
    bedrock_entitlements::aws::RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(200),
    }
}

/// A session acting as the seed's default caller, with [`test_retry`], whose retries feed
/// `limits`.
pub async fn session(
    emu: &EmulatorHandle,
    limits: &std::sync::Arc<bedrock_entitlements::apply::AdaptiveLimits>,
) -> bedrock_entitlements::cli::Session {
    let clients = bedrock_entitlements::aws::connect(bedrock_entitlements::aws::ConnectOptions {
        home_region: "us-east-1".to_owned(),
        endpoint_url: Some(emu.endpoint_url()),
        static_credentials: Some(("AKIDEXAMPLE".to_owned(), "emulator-secret".to_owned())),
        retry: Some(test_retry()),
        observer: Some(limits.clone()),
        ..Default::default()
    })
    .await;
    bedrock_entitlements::cli::Session::from_clients(clients)
}

/// CreateGrant of `license` to `principal` with the default operations, named `name`, with
/// client token `tok`: the new grant's ARN, or the error's code and message.
pub async fn try_create_grant(
    c: &aws_sdk_licensemanager::Client,
    license: &str,
    principal: &str,
    name: &str,
    tok: &str,
) -> Result<String, (String, String)> {
    let ops = DEFAULT_OPS.iter().map(|o| (*o).into()).collect();
    let r = c
        .create_grant()
        .client_token(tok)
        .grant_name(name)
        .license_arn(license)
        .principals(principal)
        .home_region("us-east-1")
        .set_allowed_operations(Some(ops))
        .send()
        .await;
    match r {
        Ok(o) => Ok(o.grant_arn().unwrap().to_owned()),
        Err(e) => Err(error_of::<(), _, _>(Err(e))),
    }
}

/// An ACTIVE grant named `name` of `license` to `principal`, at version 2 with the default
/// operations, for a seed (its ARN left to the emulator).
pub fn active_grant_seed(
    name: String,
    license: &str,
    principal: String,
) -> bedrock_entitlements::emulator::GrantSeed {
    bedrock_entitlements::emulator::GrantSeed {
        arn: None,
        name,
        license_arn: license.to_owned(),
        principal,
        grantor: None,
        status: "ACTIVE".to_owned(),
        status_reason: None,
        version: 2,
        operations: DEFAULT_OPS.iter().map(|o| (*o).to_owned()).collect(),
    }
}
