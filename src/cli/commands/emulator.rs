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
            Seed::from_yaml(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?
        }
        None => Seed::sandbox(),
    };
    let iam_policy = match &args.iam_policy {
        Some(path) => {
            let text = super::read_text(path)?;
            Some(
                PolicyDocument::from_json(&text)
                    .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?,
            )
        }
        None => None,
    };
    for (name, p) in [
        ("--throttle-rate", args.throttle_rate),
        ("--error-rate", args.error_rate),
        ("--lost-response-rate", args.lost_response_rate),
    ] {
        if !(0.0..=1.0).contains(&p) {
            return Err(CliError::Usage(format!(
                "{name} must be between 0 and 1, not {p}"
            )));
        }
    }
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
        .map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(Outcome::Success)
}
