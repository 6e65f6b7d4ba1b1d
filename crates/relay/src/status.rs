//! The relay's live state as `distsetup top` and `doctor` see it: a JSON snapshot asked
//! for on the relay's own port. A connection that starts with `DIST` is a distcc job; one
//! that starts with [`ASK_STATE`] or [`ASK_TIMELINE`] gets the snapshot and is closed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// Ask for the state (hosts, running jobs, counters).
pub const ASK_STATE: &[u8; 4] = b"JSON";
/// Ask for the state with the timeline of finished attempts.
pub const ASK_TIMELINE: &[u8; 4] = b"TIME";
/// The largest snapshot `fetch` reads.
const MAX_SNAPSHOT: u64 = 64 << 20;

/// One compiler name on one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompilerState {
    /// `match`, `mismatch`, `probing` or `failed`.
    pub state: String,
    /// What the probe found, or why the host takes no job for this name.
    pub detail: String,
}

/// One volunteer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostState {
    /// `HOST:PORT`.
    pub address: String,
    /// The transport (`tcp`, `tls`, `tls+zstd`...).
    pub transport: String,
    /// The link's compression and why (measured MB/s), on `,tls` hosts.
    #[serde(default)]
    pub link: Option<String>,
    /// Slots in use.
    pub busy: usize,
    /// Slots in all.
    pub slots: usize,
    /// Jobs finished here.
    pub done: u64,
    /// Failures (each benched the host).
    pub failures: u64,
    /// Learned speed: bytes of preprocessed source per second (per slot); `null` before
    /// the first job.
    pub speed_bps: Option<f64>,
    /// Seconds the probe compile takes here.
    pub probe_ms: Option<f64>,
    /// Why and for how long it is benched, when it is.
    pub benched: Option<String>,
    /// Per compiler name the master's clients used.
    pub compilers: BTreeMap<String, CompilerState>,
}

/// A job running now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningJob {
    /// The job (a duplicate shares its job's number).
    pub job: u64,
    /// The source file.
    pub source: String,
    /// Where it runs (`master` for a local compile).
    pub host: String,
    /// Seconds since it started there.
    pub age_s: f64,
    /// A hedged duplicate.
    pub duplicate: bool,
}

/// The counters users care about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Jobs received from clients.
    pub jobs: u64,
    /// Jobs answered with an object or a compile error from a volunteer.
    pub remote: u64,
    /// Of those, the compiler's own errors passed through.
    pub compile_errors: u64,
    /// Attempts that failed and went to another volunteer (or local).
    pub retries: u64,
    /// Failed attempts by kind (`refused`, `closed`, `timeout`...).
    pub failures: BTreeMap<String, u64>,
    /// Duplicates sent for stragglers.
    pub hedges: u64,
    /// Duplicates that answered first.
    pub hedge_wins: u64,
    /// Attempts cancelled because another copy answered first.
    pub cancelled: u64,
    /// Jobs compiled on the master.
    pub local: u64,
    /// Why, per reason.
    pub local_why: BTreeMap<String, u64>,
    /// Jobs the relay could not compile anywhere (the client got an error).
    pub failed: u64,
}

/// One finished attempt, for the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// The job.
    pub job: u64,
    /// The source file.
    pub source: String,
    /// The host (`master` for local).
    pub host: String,
    /// The slot on that host.
    pub slot: usize,
    /// Milliseconds since the relay started.
    pub start_ms: u64,
    /// Milliseconds since the relay started.
    pub end_ms: u64,
    /// `ok`, `error` (a compile error), `cancelled`, `local`, or the failure's word.
    pub outcome: String,
    /// A hedged duplicate.
    pub duplicate: bool,
    /// Milliseconds the scheduler predicted for it when it started (0 for local).
    #[serde(default)]
    pub predicted_ms: u64,
    /// Milliseconds the job waited for this slot (the relay had it, no slot was given).
    #[serde(default)]
    pub queued_ms: u64,
}

/// Everything `top` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Where the relay listens.
    pub listen: String,
    /// Seconds since it started.
    pub uptime_s: f64,
    /// The volunteers, in the order given.
    pub hosts: Vec<HostState>,
    /// Jobs waiting for a slot.
    pub waiting: usize,
    /// Jobs running now.
    pub running: Vec<RunningJob>,
    /// Counters since start.
    pub counters: Counters,
    /// Finished attempts (only when asked with [`ASK_TIMELINE`]).
    #[serde(default)]
    pub timeline: Vec<Span>,
}

/// Why `fetch` failed.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// No relay listens there.
    #[error("cannot reach the relay at {addr}: {source}")]
    Connect {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// It did not answer in time or the answer broke off.
    #[error("the relay at {addr} did not answer: {why}")]
    Answer {
        /// Where.
        addr: SocketAddr,
        /// Why.
        why: String,
    },
    /// The answer is not a snapshot (not a relay, or another version).
    #[error("{addr} did not answer like a distsetup relay: {source}")]
    Parse {
        /// Where.
        addr: SocketAddr,
        /// Why.
        source: serde_json::Error,
    },
}

/// Ask the relay at `addr` for its state (`timeline`: with finished attempts).
#[allow(
    clippy::disallowed_methods,
    reason = "the relay's door: asking a relay for its state"
)]
pub async fn fetch(
    addr: SocketAddr,
    timeline: bool,
    timeout: Duration,
) -> Result<Snapshot, StatusError> {
    let answer = |why: String| StatusError::Answer { addr, why };
    let connect = tokio::net::TcpStream::connect(addr);
    let mut s = tokio::time::timeout(timeout, connect)
        .await
        .map_err(|_| StatusError::Connect {
            addr,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        })?
        .map_err(|source| StatusError::Connect { addr, source })?;
    let ask = if timeline { ASK_TIMELINE } else { ASK_STATE };
    let mut body = Vec::new();
    let exchange = async {
        s.write_all(ask).await?;
        (&mut s).take(MAX_SNAPSHOT).read_to_end(&mut body).await
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| answer(format!("no answer within {} s", timeout.as_secs())))?
        .map_err(|e| answer(e.to_string()))?;
    serde_json::from_slice(&body).map_err(|source| StatusError::Parse { addr, source })
}
