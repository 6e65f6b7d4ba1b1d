//! The eligibility probe: compile [`crate::elf::PROBE_SOURCE`] with a compiler name on a
//! volunteer (or on the master, through the local transport) and read what the object
//! says about the compiler that made it (as `doctor` does).

use std::time::Duration;

use distcc_wire::Limits;

use crate::elf::{self, ObjectFacts};
use crate::exchange::{self, Failure, Request};
use crate::transport::Transport;

/// Why a probe gave no facts.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// The host is not reachable (connect, reset, time-out): it is benched.
    #[error("{0}")]
    Host(Failure),
    /// The host answered, but not with an object for this name.
    #[error("no object for this compiler: {0}")]
    Answer(String),
}

/// The probe request for `compiler`.
pub fn request(compiler: &str) -> Request {
    let argv = [
        compiler,
        "-O2",
        "-c",
        "distsetup-probe.c",
        "-o",
        "distsetup-probe.o",
    ];
    Request {
        version: 1,
        argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
        source: elf::PROBE_SOURCE.as_bytes().to_vec(),
    }
}

/// Probe `compiler` over `transport` in protocol `version`; the facts and how long the
/// exchange took.
pub async fn facts(
    transport: &dyn Transport,
    compiler: &str,
    version: u32,
    timeout: Duration,
    limits: &Limits,
) -> Result<(ObjectFacts, Duration), ProbeError> {
    let req = request(compiler);
    let wire = req
        .encode(version)
        .map_err(|e| ProbeError::Answer(e.to_string()))?;
    let answer = exchange::attempt(transport, &wire, version, version, timeout, limits)
        .await
        .map_err(|f| match f {
            // A reset after connecting is how distccd refuses a name it does not know.
            Failure::Connect(_) | Failure::Timeout(_) => ProbeError::Host(f),
            other => ProbeError::Answer(other.to_string()),
        })?;
    let mut decoder = distcc_wire::ReplyDecoder::new(version, limits.clone());
    decoder.feed(&answer.bytes);
    let reply = decoder
        .next_reply()
        .map_err(|e| ProbeError::Answer(e.to_string()))?
        .ok_or_else(|| ProbeError::Answer("incomplete reply".into()))?;
    if reply.status != 0 || reply.object.is_empty() {
        let err = String::from_utf8_lossy(&reply.stderr);
        let first = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(ProbeError::Answer(format!(
            "exit {}: {}",
            (reply.status >> 8) & 0xff,
            first.chars().take(200).collect::<String>()
        )));
    }
    Ok((elf::inspect(&reply.object), answer.elapsed))
}
