//! Scale (issue 14): the Organizations tree walk under a rate limit, through the real binary.

use bedrock_entitlements::emulator::{AccountSeed, EmulatorOptions, OuSeed, RateLimit};

use crate::cli_support::Cli;
use crate::support::{sandbox_seed, start_emulator};

const OUS: usize = 60;
const ACCOUNTS_PER_OU: usize = 3;
const WALK: [&str; 2] = ["ListOrganizationalUnitsForParent", "ListAccountsForParent"];

fn scale_account(ou: usize, i: usize) -> String {
    format!(
        "{:012}",
        700_000_000_000u64 + (ou * ACCOUNTS_PER_OU + i) as u64
    )
}

/// The sandbox organization plus 60 OUs (half of them nested) of 3 accounts each, and a file
/// granting one model to every one of those accounts.
fn world() -> (bedrock_entitlements::emulator::Seed, String) {
    let mut seed = sandbox_seed();
    let mut file = String::from(
        "version: 1\nmodels:\n  claude-sonnet:\n    product_sku: prod-cl4ud3s0nn3t1\n    grant_to:\n      accounts:\n",
    );
    for ou in 0..OUS {
        let parent = if ou % 2 == 1 {
            format!("ou-ab12-scale{:03}", ou - 1)
        } else {
            "r-ab12".to_owned()
        };
        let id = format!("ou-ab12-scale{ou:03}");
        seed.organization.organizational_units.push(OuSeed {
            id: id.clone(),
            name: format!("scale-{ou}"),
            parent,
        });
        for i in 0..ACCOUNTS_PER_OU {
            let account = scale_account(ou, i);
            file.push_str(&format!("        - \"{account}\"\n"));
            seed.organization.accounts.push(AccountSeed {
                id: account,
                name: format!("scale-{ou}-{i}"),
                email: None,
                state: "ACTIVE".to_owned(),
                parent: Some(id.clone()),
                joined_method: "CREATED".to_owned(),
                joined_timestamp: 1_704_067_200,
            });
        }
    }
    (seed, file)
}

/// Every Organizations operation limited to 20 requests/s (burst 5) while 120 listings are
/// wanted: `plan` finishes with every account read and no failed call, and each walk operation
/// is throttled but never stormed (fewer throttled attempts than answered calls: calls held at
/// the rate AWS allows, not a crowd of 32 retrying). With a fixed 32 calls in flight the same
/// walk makes several throttled attempts per answered call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_under_an_organizations_rate_limit_reads_everything_without_a_failed_call() {
    let (seed, file) = world();
    let opts = EmulatorOptions {
        latency: std::time::Duration::from_millis(5),
        organizations_rate_limit: Some(RateLimit {
            rate: 20.0,
            burst: 5,
        }),
        ..EmulatorOptions::default()
    };
    let emu = start_emulator(seed, opts).await;
    let cli = Cli::new(emu.endpoint_url());
    cli.write("scale.yaml", &file);
    let run = cli
        .run(&["plan", "-c", "scale.yaml", "--format", "json"])
        .await
        .expect(0);
    let creates = run.json()["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] == "create")
        .count();
    assert_eq!(creates, OUS * ACCOUNTS_PER_OU, "every account was read");

    let calls = emu.state().call_counts();
    let errors = emu.state().error_counts();
    for op in WALK {
        let made = calls.get(op).copied().unwrap_or(0);
        let op_errors = errors.get(op).cloned().unwrap_or_default();
        let throttled = op_errors
            .get("TooManyRequestsException")
            .copied()
            .unwrap_or(0);
        let failed: u64 = op_errors.values().sum::<u64>() - throttled;
        let answered = made - throttled - failed;
        assert_eq!(failed, 0, "{op}: {op_errors:?}");
        assert!(answered > OUS as u64, "{op}: {answered} answered");
        assert!(throttled > 0, "{op}: the limit was reached");
        assert!(
            throttled < answered,
            "{op}: {throttled} throttled attempts for {answered} answered calls"
        );
    }
}
