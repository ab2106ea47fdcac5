//! An in-memory License Manager + Organizations (+ STS) speaking the real wire protocols, so the
//! real AWS SDK clients can talk to it over HTTP. Models AWS as documented; knows nothing of the
//! planner. See docs/emulator.md for the seed format, the knobs, the admin endpoint and the
//! choices made where AWS documents nothing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bedrock_entitlements::emulator::EmulatorError> {
//! use bedrock_entitlements::emulator::{EmulatorOptions, Seed, start};
//! let seed = Seed::from_yaml(&std::fs::read_to_string("examples/sandbox.yaml").unwrap())?;
//! let emu = start(seed, EmulatorOptions::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("AWS_ENDPOINT_URL={}", emu.endpoint_url());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod bedrock;
mod clock;
mod faults;
mod iam;
mod identity;
mod ids;
mod inproc;
mod license_manager;
mod options;
mod org_policies;
mod organizations;
mod policy;
mod scp_eval;
mod seed;
mod server;
mod shares;
mod state;
mod sts;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use admin::{AdminError, GrantView, SetupFacts, StateDump};
pub use bedrock::{BedrockSeed, ModelSeed, OfferKind, OfferSeed};
pub use faults::ScriptedFault;
pub use inproc::{CallError, InProcService};
pub use options::{EmulatorOptions, FaultRates, RateLimit, RecallEnd};
pub use policy::{Effect, PolicyDocument, PolicyError, Statement};
pub use scp_eval::{Decision, PolicyView, ScpDocument, ScpEvaluation, evaluate_levels};
pub use seed::{
    AccountSeed, FeatureSetSeed, GrantSeed, LicenseSeed, OrganizationSeed, OuSeed, SANDBOX_YAML,
    Seed,
};
pub use shares::EntitlementView;

/// Where `bedrock-entitlements emulator` listens by default (LocalStack's customary port).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";

/// Why the emulator could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot parse the seed: {0}")]
    SeedSyntax(String),
    #[error("invalid seed: {0}")]
    SeedInvalid(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}

/// Call statistics, per operation name.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    calls: BTreeMap<String, u64>,
    errors: BTreeMap<String, BTreeMap<String, u64>>,
    lost: BTreeMap<String, u64>,
    /// The per-operation call index the fault decisions use; reset only with a new fault seed.
    fault_index: HashMap<String, u64>,
}

pub(crate) struct Shared {
    world: Mutex<state::World>,
    options: RwLock<Arc<EmulatorOptions>>,
    stats: Mutex<Stats>,
    limiter: Mutex<faults::Limiter>,
    /// Faults queued per operation (`EmulatorState::script_faults`).
    scripted: Mutex<BTreeMap<String, std::collections::VecDeque<ScriptedFault>>>,
    seed: Seed,
    requests: AtomicU64,
    /// Bumped on every counted call: tests wait on it instead of polling the counts.
    calls: tokio::sync::watch::Sender<u64>,
}

/// In-process access to a running emulator's state: dumps, call counts, knobs and out-of-band
/// changes (the same things the admin endpoint offers over HTTP). Cheap to clone.
#[derive(Clone)]
pub struct EmulatorState {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState").finish_non_exhaustive()
    }
}

impl EmulatorState {
    /// A state built from `seed` with `opts`, not served (for benchmarks and unit tests).
    pub fn new(seed: Seed, opts: EmulatorOptions) -> Result<EmulatorState, EmulatorError> {
        let world = state::World::from_seed(&seed)?;
        Ok(EmulatorState {
            shared: Arc::new(Shared {
                world: Mutex::new(world),
                options: RwLock::new(Arc::new(opts)),
                stats: Mutex::new(Stats::default()),
                limiter: Mutex::new(faults::Limiter::default()),
                scripted: Mutex::new(BTreeMap::new()),
                seed,
                requests: AtomicU64::new(0),
                calls: tokio::sync::watch::Sender::new(0),
            }),
        })
    }
}

/// A running emulator. Dropping it stops the server; keep it alive while clients use it.
pub struct EmulatorHandle {
    addr: SocketAddr,
    state: EmulatorState,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// The address the server is bound to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for `endpoint_url` / `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// In-process access to the state: dumps, call counts, knobs, out-of-band changes.
    pub fn state(&self) -> EmulatorState {
        self.state.clone()
    }

    /// Stops accepting connections, lets open connections finish, and waits for the server.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// Binds `addr` (use `127.0.0.1:0` in tests) and serves the emulator in a tokio task.
pub async fn start(
    seed: Seed,
    opts: EmulatorOptions,
    addr: SocketAddr,
) -> Result<EmulatorHandle, EmulatorError> {
    let state = EmulatorState::new(seed, opts)?;
    let (listener, local) = server::bind(addr)
        .await
        .map_err(|source| EmulatorError::Bind { addr, source })?;
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(server::serve(listener, state.clone(), rx));
    Ok(EmulatorHandle {
        addr: local,
        state,
        shutdown: tx,
        task: Some(task),
    })
}

/// Serves the emulator until Ctrl-C, printing the bound address on stderr
/// (`bedrock-entitlements emulator --seed FILE --listen ADDR`).
pub async fn run(seed: Seed, opts: EmulatorOptions, addr: SocketAddr) -> Result<(), EmulatorError> {
    let handle = start(seed, opts, addr).await?;
    eprintln!(
        "emulator listening on {} (AWS_ENDPOINT_URL={}); admin endpoint {}{}/state; Ctrl-C to stop",
        handle.addr(),
        handle.endpoint_url(),
        handle.endpoint_url(),
        admin::PREFIX
    );
    let signal = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    signal.map_err(EmulatorError::Signal)
}
