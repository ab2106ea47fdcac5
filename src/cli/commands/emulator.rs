//! `emulator`: serve a local License Manager + Organizations + STS endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::cli::args::EmulatorArgs;
use crate::cli::{CliError, Outcome};
use crate::emulator::{EmulatorOptions, FaultRates, PolicyDocument, RateLimit, Seed};

pub async fn run(args: &EmulatorArgs) -> Result<Outcome, CliError> {
    let seed = match &args.seed {
        Some(path) => {
            let text = super::read_text(path)?;
            Seed::from_yaml(&text).map_err(|source| CliError::Seed {
                path: path.display().to_string(),
                source,
            })?
        }
        None => Seed::sandbox(),
    };
    let iam_policy = match &args.iam_policy {
        Some(path) => {
            let text = super::read_text(path)?;
            Some(
                PolicyDocument::from_json(&text).map_err(|source| CliError::IamPolicy {
                    path: path.display().to_string(),
                    source,
                })?,
            )
        }
        None => None,
    };
    let mut rate_limits = BTreeMap::new();
    if args.rate_limit > 0.0 {
        let burst = args.rate_limit.ceil().max(1.0) as u32;
        rate_limits.insert(
            "*".to_owned(),
            RateLimit {
                rate: args.rate_limit,
                burst,
            },
        );
    }
    let opts = EmulatorOptions {
        latency: Duration::from_millis(args.latency_ms),
        rate_limits,
        faults: FaultRates {
            throttle: args.throttle_rate,
            server_error: args.error_rate,
            lost_response: args.lost_response_rate,
            ..FaultRates::default()
        },
        iam_policy,
        workflow_reads: args.workflow_reads,
        fault_seed: args.fault_seed,
        ..EmulatorOptions::default()
    };
    crate::emulator::run(seed, opts, args.listen)
        .await
        .map_err(CliError::Emulator)?;
    Ok(Outcome::Success)
}
