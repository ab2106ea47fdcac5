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

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::filter::{EnvFilter, filter_fn};
    use tracing_subscriber::prelude::*;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let ansi = cli::color_enabled(false) && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let no_secrets = filter_fn(|meta| !is_sdk_detail(meta));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(layer.with_filter(filter).with_filter(no_secrets))
            .init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(layer.json().with_filter(filter).with_filter(no_secrets))
            .init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
