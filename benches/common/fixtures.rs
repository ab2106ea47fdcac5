#![allow(dead_code)] // each benchmark uses a part

//! What several benchmarks build the same way: a member account and its managed account grant
//! (seed items, made in bulk), and the command line's context.

use std::path::PathBuf;

use bedrock_entitlements::cli::{Context, GlobalArgs, LogFormat};
use bedrock_entitlements::emulator::{AccountSeed, GrantSeed};

/// An ACTIVE account `id` named `name`, created (not invited) at the start of 2024.
pub fn account(id: String, name: String) -> AccountSeed {
    AccountSeed {
        id,
        name,
        email: None,
        state: "ACTIVE".to_owned(),
        parent: None,
        joined_method: "CREATED".to_owned(),
        joined_timestamp: 1_704_067_200,
    }
}

/// The managed grant of `license` to account `id`, in `status` at version 2, with the
/// default operations.
pub fn account_grant(id: &str, license: &str, status: &str) -> GrantSeed {
    GrantSeed {
        arn: None,
        name: format!("bedrock-entitlements-claude-{id}"),
        license_arn: license.to_owned(),
        principal: format!("arn:aws:iam::{id}:root"),
        grantor: None,
        status: status.to_owned(),
        status_reason: None,
        version: 2,
        operations: [
            "CheckoutLicense",
            "CheckInLicense",
            "ExtendConsumptionLicense",
            "ListPurchasedLicenses",
            "CreateToken",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// The command line's context for the desired-state file `config`: no profile or role, no
/// colour, text logs.
pub fn context(config: PathBuf) -> Context {
    Context::new(GlobalArgs {
        config,
        profile: None,
        role_arn: None,
        sandbox: None,
        no_color: true,
        log_format: LogFormat::Text,
    })
}
