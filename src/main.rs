use std::process::ExitCode;

use clap::Parser;

use bedrock_entitlements::cli::{self, Cli, LogFormat};

/// mimalloc instead of the system allocator: reading 20,000 grants allocates a few hundred
/// thousand small strings across the runtime's threads (the SDK's JSON parsing, the conversion,
/// the planner's maps), and glibc's malloc made that about a third of the CPU of a plan.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Crates of the AWS SDK (and the HTTP stack under it) whose debug and trace lines print the
/// resolved identity, the request being signed or the config bag, and with them the access key
/// id. Whatever `RUST_LOG` says, nothing below INFO is logged from them.
const SDK_TARGETS: &[&str] = &[
    "aws_smithy_",
    "aws_sigv4",
    "aws_runtime",
    "aws_config",
    "aws_credential_types",
    "aws_sdk_",
    "aws_types",
    "hyper",
    "h2",
    "rustls",
];

fn is_sdk_detail(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() > tracing::Level::INFO && SDK_TARGETS.iter().any(|t| meta.target().starts_with(t))
}

fn is_sdk_target(target: &str) -> bool {
    SDK_TARGETS.iter().any(|t| target.starts_with(t))
}

/// Whether `RUST_LOG` names one of the SDK's crates in a directive (`aws_config=warn`,
/// `hyper=info`): only then are the SDK's own lines wanted. A bare level (`RUST_LOG=warn`) or
/// a directive for this tool does not ask for them.
fn asks_for_sdk(rust_log: &str) -> bool {
    rust_log.split(',').any(|directive| {
        let target = directive.split(['=', '[']).next().unwrap_or("").trim();
        directive.contains('=') && is_sdk_target(target)
    })
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::filter::{EnvFilter, filter_fn};
    use tracing_subscriber::prelude::*;
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    let filter = EnvFilter::try_new(&rust_log).unwrap_or_else(|_| EnvFilter::new("warn"));
    let filter = if rust_log.trim().is_empty() {
        EnvFilter::new("warn")
    } else {
        filter
    };
    // Unless RUST_LOG names one of its crates, the SDK is silent: its credential chain warns
    // once per provider it tries (a full debug dump of an IMDS response among them) before the
    // tool's own error, which already says what failed and how to fix it.
    let sdk_wanted = asks_for_sdk(&rust_log);
    let quiet_sdk = filter_fn(move |meta| sdk_wanted || !is_sdk_target(meta.target()));
    let ansi = cli::color_enabled(false) && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let no_secrets = filter_fn(|meta| !is_sdk_detail(meta));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(
                layer
                    .with_filter(filter)
                    .with_filter(no_secrets)
                    .with_filter(quiet_sdk),
            )
            .init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(
                layer
                    .json()
                    .with_filter(filter)
                    .with_filter(no_secrets)
                    .with_filter(quiet_sdk),
            )
            .init(),
    }
}

fn main() -> ExitCode {
    // A malformed command line exits 1, as every error does (CONTRACT.md: 2 means changes;
    // clap's own default would be 2); help and version exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    init_tracing(cli.global.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(cli::CliError::Reported(summary)) => {
            if !summary.is_empty() {
                eprintln!("{summary}");
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
