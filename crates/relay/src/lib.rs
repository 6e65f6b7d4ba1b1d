//! `distsetup relay`: the master's own scheduler in front of the stock distcc client.
//!
//! The client keeps doing what only it can (preprocess, write the object) and sends every
//! job to `127.0.0.1:PORT`; the relay owns the decisions the client makes badly:
//! which volunteer may compile a job (its compiler must match the master's: [`probe`]),
//! where it finishes first ([`sched`]), what happens when a volunteer fails (another one,
//! and only when none is left the master itself, counted: [`job`]), and duplicates for
//! stragglers. A compile error is an answer, passed through byte for byte.
//!
//! Volunteers are reached through a [`Transport`]; the scheduler never knows which one.
//! The live state is served on the same port ([`status`]); [`timeline`] draws it.
//!
//! Only this crate, the server and doctor's probe open sockets.

pub mod elf;
pub mod exchange;
mod host;
mod job;
pub mod local;
pub mod probe;
mod sched;
pub mod status;
pub mod timeline;
pub mod transport;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use distcc_wire::Limits;
pub use host::Volunteer;
pub use status::{Snapshot, StatusError, fetch};
pub use transport::{BoxJobStream, JobStream, TcpTransport, Transport};

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// Per read or write with a client or a volunteer: silence this long fails the
    /// attempt (a compile's time is silence too).
    pub io_timeout: Duration,
    /// Bound on a local compile.
    pub local_timeout: Duration,
    /// Bound on an eligibility or speed probe.
    pub probe_timeout: Duration,
    /// Attempts on volunteers per job before the master compiles it.
    pub max_attempts: u32,
    /// Connections handled at once (more are closed at once).
    pub max_connections: usize,
    /// Duplicates at most this percentage of the jobs (0: no hedging).
    pub hedge_percent: u32,
    /// No duplicate for a job younger than this.
    pub hedge_after: Duration,
    /// No duplicate before this many jobs finished: "late" means late against the
    /// predictions' track record, and a cold relay has none.
    pub hedge_warmup: usize,
    /// Caps on what a client or volunteer may send.
    pub limits: Limits,
}

impl Default for RelaySettings {
    fn default() -> Self {
        RelaySettings {
            io_timeout: Duration::from_secs(DEFAULT_IO_TIMEOUT_SECS),
            local_timeout: Duration::from_secs(DEFAULT_IO_TIMEOUT_SECS),
            probe_timeout: Duration::from_secs(20),
            max_attempts: 3,
            max_connections: 1024,
            hedge_percent: 5,
            hedge_after: Duration::from_secs(1),
            hedge_warmup: 20,
            limits: Limits::default(),
        }
    }
}

/// The relay's default I/O time-out in seconds (the client's must be above the relay's
/// whole job: every attempt plus the local compile).
pub const DEFAULT_IO_TIMEOUT_SECS: u64 = 120;

/// The client's `DISTCC_IO_TIMEOUT` that covers a relay with `settings`: every attempt,
/// the local compile and a margin.
pub fn client_io_timeout(settings: &RelaySettings) -> u64 {
    let attempts = u64::from(settings.max_attempts.max(1));
    settings.io_timeout.as_secs() * attempts + settings.local_timeout.as_secs() + 60
}

/// Why the relay could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The listening socket.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Accepting failed for good.
    #[error("accepting connections: {0}")]
    Accept(std::io::Error),
    /// The local compiler could not be set up.
    #[error("the master's own compiler (for local compiles): {0}")]
    Local(String),
}

/// A running relay's handle.
#[derive(Clone)]
pub struct Relay {
    sched: Arc<sched::Scheduler>,
}

impl Relay {
    /// A relay over `volunteers`, compiling on the master through `local` when no
    /// volunteer is left. Must be made inside a Tokio runtime (probes start at once).
    pub fn new(
        settings: RelaySettings,
        volunteers: Vec<Volunteer>,
        local: Arc<dyn Transport>,
    ) -> Relay {
        Relay {
            sched: sched::Scheduler::new(settings, volunteers, local),
        }
    }

    /// Replace the volunteers (a new zeroconf survey): what was learned about the ones
    /// that stay is kept.
    pub fn set_volunteers(&self, volunteers: Vec<Volunteer>) {
        self.sched.set_volunteers(volunteers);
    }

    /// The state as `top` shows it.
    pub fn snapshot(&self, listen: String, timeline: bool) -> Snapshot {
        self.sched.snapshot(listen, timeline)
    }
}

/// Listen on `addr` (the relay is for this machine's client: a loopback address).
#[allow(
    clippy::disallowed_methods,
    reason = "the relay's door: its listening socket"
)]
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, RelayError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| RelayError::Bind { addr, source })
}

/// Whether `port` is free on 127.0.0.1 now (for choosing the relay's port).
#[allow(
    clippy::disallowed_methods,
    reason = "the relay's door: trying its own listening port"
)]
pub fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// Serve jobs and state requests on `listener` until `shutdown` completes.
pub async fn run(
    relay: &Relay,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RelayError> {
    let listen = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let conns = Arc::new(tokio::sync::Semaphore::new(
        relay.sched.settings.max_connections.max(1),
    ));
    let ticker = {
        let sched = Arc::clone(&relay.sched);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_millis(200));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                every.tick().await;
                sched.tick();
            }
        })
    };
    tokio::pin!(shutdown);
    let result = loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => break Ok(()),
            r = listener.accept() => match r {
                Ok(c) => c,
                // Out of descriptors and the like: wait a little, keep serving.
                Err(e) if is_transient(&e) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => break Err(RelayError::Accept(e)),
            },
        };
        let Ok(permit) = Arc::clone(&conns).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let relay = relay.clone();
        let listen = listen.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection(&relay, stream, &listen).await;
        });
    };
    ticker.abort();
    result
}

fn is_transient(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) || e.kind() == std::io::ErrorKind::ConnectionAborted
}

/// One connection: a job (`DIST…`) or a state request.
async fn connection(relay: &Relay, mut stream: tokio::net::TcpStream, listen: &str) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let timeout = relay.sched.settings.io_timeout;
    let mut first = [0u8; 4];
    match tokio::time::timeout(timeout, stream.read_exact(&mut first)).await {
        Ok(Ok(_)) => {}
        _ => return,
    }
    if &first == status::ASK_STATE || &first == status::ASK_TIMELINE {
        let snap = relay.snapshot(listen.to_owned(), &first == status::ASK_TIMELINE);
        let body = serde_json::to_vec(&snap).unwrap_or_default();
        let _ = tokio::time::timeout(timeout, stream.write_all(&body)).await;
        let _ = stream.shutdown().await;
        return;
    }
    // Anything else is a distcc request (or garbage, which the decoder refuses): on
    // error the connection is closed without a reply, as distccd does.
    let _ = job::serve(&relay.sched, stream, &first).await;
}
