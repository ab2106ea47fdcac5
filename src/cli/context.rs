//! What every command shares: global options, loading the desired-state file, connecting to
//! AWS (or to the embedded sandbox emulator), and the plan pipeline.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CliError, GlobalArgs};
use crate::aws::{self, Clients, ConnectOptions, SdkLicenseManager, SdkOrganizations};
use crate::config::{self, Config, ModelKey};
use crate::live::{self, LicenseScope};
use crate::model::{Diagnostic, Live, Severity};
use crate::org::{self, Desired, ResolveOptions};
use crate::plan::{self, Plan};

/// The access key the sandbox signs with: the emulator maps any key it did not mint to the
/// seed's default caller (the management account unless the seed says otherwise).
const SANDBOX_ACCESS_KEY: &str = "AKIASANDBOX";

pub struct Context {
    pub global: GlobalArgs,
}

/// A connection to AWS, or to the sandbox emulator running in this process.
pub struct Session {
    pub clients: Clients,
    pub lm: Arc<SdkLicenseManager>,
    pub orgs: Arc<SdkOrganizations>,
    /// Kept alive for the life of the session.
    _sandbox: Option<crate::emulator::EmulatorHandle>,
}

impl Session {
    /// A session over clients built elsewhere (benchmarks, tests).
    pub fn from_clients(clients: Clients) -> Session {
        Session {
            lm: Arc::new(clients.license_manager.clone()),
            orgs: Arc::new(clients.organizations.clone()),
            clients,
            _sandbox: None,
        }
    }
}

impl Context {
    pub fn new(global: GlobalArgs) -> Self {
        Context { global }
    }

    /// The config path as shown in messages.
    pub fn config_display(&self) -> String {
        self.global.config.display().to_string()
    }

    pub fn color(&self) -> bool {
        color_enabled(self.global.no_color)
    }

    /// Prints diagnostics (errors and warnings) for the desired-state file on stderr.
    pub fn report(&self, diagnostics: &[Diagnostic]) {
        let file = self.config_display();
        for d in diagnostics {
            eprintln!("{}", d.display(&file));
        }
    }

    /// Prints `diagnostics` and the error that stops the command: "FILE: N errors WHERE".
    fn refuse(&self, diagnostics: &[Diagnostic], context: &str) -> CliError {
        self.report(diagnostics);
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        CliError::Reported(format!(
            "{}: {errors} error{} {context}",
            self.config_display(),
            if errors == 1 { "" } else { "s" }
        ))
    }

    /// Loads and validates the desired-state file; on failure every problem is printed.
    pub fn load_config(&self) -> Result<Config, CliError> {
        match load_config(&self.global.config) {
            Ok((config, _source)) => Ok(config),
            Err(LoadError::Invalid(diagnostics)) => Err(self.refuse(&diagnostics, "found")),
            Err(e @ LoadError::Io { .. }) => Err(CliError::Config(e)),
        }
    }

    /// Connects to AWS through the standard chain, or starts the sandbox emulator.
    pub async fn connect(&self, home_region: &str) -> Result<Session, CliError> {
        self.connect_with(home_region, None).await
    }

    /// `connect`, with an observer that sees every retried error (apply's adaptive limits).
    pub async fn connect_with(
        &self,
        home_region: &str,
        observer: Option<aws::Observer>,
    ) -> Result<Session, CliError> {
        let mut opts = ConnectOptions {
            profile: self.global.profile.clone(),
            role_arn: self.global.role_arn.clone(),
            home_region: home_region.to_owned(),
            observer,
            ..ConnectOptions::default()
        };
        let mut sandbox = None;
        if let Some(seed_path) = &self.global.sandbox {
            let text = super::commands::read_text(seed_path)?;
            let seed =
                crate::emulator::Seed::from_yaml(&text).map_err(|source| CliError::Seed {
                    path: seed_path.display().to_string(),
                    source,
                })?;
            let handle = crate::emulator::start(
                seed,
                crate::emulator::EmulatorOptions::default(),
                "127.0.0.1:0".parse().expect("literal address"),
            )
            .await
            .map_err(CliError::Sandbox)?;
            opts.endpoint_url = Some(handle.endpoint_url());
            opts.static_credentials =
                Some((SANDBOX_ACCESS_KEY.to_owned(), "sandbox-secret".to_owned()));
            opts.profile = None;
            opts.role_arn = None;
            tracing::info!(endpoint = %handle.endpoint_url(), "sandbox emulator started");
            sandbox = Some(handle);
        }
        let clients = aws::connect(opts).await;
        Ok(Session {
            lm: Arc::new(clients.license_manager.clone()),
            orgs: Arc::new(clients.organizations.clone()),
            clients,
            _sandbox: sandbox,
        })
    }
}

/// Why [`load_config`] failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid desired-state file; render each diagnostic with
    /// [`Diagnostic::display`].
    #[error("the desired-state file has {} problem(s)", .0.len())]
    Invalid(Vec<Diagnostic>),
}

/// Reads the desired-state file at `path` and parses it ([`config::parse_bytes`]: config does
/// no I/O). Returns the config and the source text (for later diagnostics).
pub fn load_config(path: &Path) -> Result<(Config, String), LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_owned(),
        source,
    })?;
    let config = config::parse_bytes(&bytes).map_err(LoadError::Invalid)?;
    // parse_bytes succeeded, so the bytes are UTF-8.
    let source = String::from_utf8(bytes).unwrap_or_default();
    Ok((config, source))
}

/// Colour only on a terminal, never with `--no-color` or `NO_COLOR` set (any value).
pub fn color_enabled(no_color_flag: bool) -> bool {
    !no_color_flag
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal()
}

/// Everything one planning run computed.
pub struct Planned {
    pub live: Live,
    pub desired: Desired,
    pub plan: Plan,
}

impl Context {
    /// `--target` values as the set the planner takes, checked once against the file
    /// ([`org::check_targets`]) before any AWS call.
    pub fn targets(
        &self,
        config: &Config,
        targets: &[ModelKey],
    ) -> Result<Option<BTreeSet<ModelKey>>, CliError> {
        if targets.is_empty() {
            return Ok(None);
        }
        let targets: BTreeSet<ModelKey> = targets.iter().cloned().collect();
        org::check_targets(config, &targets)?;
        Ok(Some(targets))
    }

    /// Reads live state, resolves the file against it and plans. Warnings go to stderr; errors
    /// (positioned where the file allows) are printed and returned as `Reported`.
    pub async fn plan(
        &self,
        session: &Session,
        config: &Config,
        targets: Option<BTreeSet<ModelKey>>,
    ) -> Result<Planned, CliError> {
        // Without --target every received license's grants are read (a managed grant on a
        // license the file no longer names must be seen to be deleted), while the organization
        // tree is walked, and the file is resolved against the organization while the last
        // grants arrive. With --target only the targeted licenses' grants are read, once
        // resolution has named them.
        let read_all_grants = targets.is_none();
        let started = std::time::Instant::now();
        let scope = if read_all_grants {
            LicenseScope::All
        } else {
            LicenseScope::Only(BTreeSet::new())
        };
        let guardrails = guardrail_prefix(&config.settings);
        let (mut live, desired) =
            live::read_then(&session.lm, &session.orgs, &scope, guardrails, |live| {
                let desired = self.resolve(config, live, targets);
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "resolved the desired state"
                );
                desired
            })
            .await?;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            grants = live.grants.len(),
            "read live state"
        );
        let desired = desired?;
        // The planner's clock (it judges license validity and expiry against it).
        live.read_at = now_secs();
        if !read_all_grants {
            let wanted: Vec<_> = plan::scope(&desired, &live).into_iter().collect();
            (live.grants, live.shares) = live::read_grants_and_shares(&session.lm, &wanted).await?;
        }
        let mut plan = plan::plan(&desired, &live);
        super::subscribe::plan_subscriptions(session, config, &desired, &mut plan).await;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            actions = plan.actions.len(),
            "planned"
        );
        Ok(Planned {
            live,
            desired,
            plan,
        })
    }

    /// `org::resolve`, with its diagnostics printed.
    pub fn resolve(
        &self,
        config: &Config,
        live: &Live,
        targets: Option<BTreeSet<ModelKey>>,
    ) -> Result<Desired, CliError> {
        let opts = ResolveOptions {
            targets,
            now: if live.read_at != 0 {
                live.read_at
            } else {
                now_secs()
            },
        };
        match org::resolve(config, live, &opts) {
            Ok(desired) => {
                self.report(&desired.warnings);
                Ok(desired)
            }
            Err(diagnostics) => Err(self.refuse(
                &diagnostics,
                "resolving the file against the organization and its licenses",
            )),
        }
    }
}

/// The SCP name prefix to read policies with, `None` when `settings.guardrails.mode` is `off`
/// (then no Organizations policy call is made).
pub fn guardrail_prefix(settings: &config::Settings) -> Option<&str> {
    (settings.guardrails.mode != config::GuardrailMode::Off)
        .then_some(settings.guardrails.policy_name_prefix.as_str())
}

/// The clock the pure core is given: seconds since the Unix epoch (0 if the clock is before it).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
