//! One distcc request/reply over one [`Transport`] stream, and what became of it: an
//! answer for the client (a success *or* a real compile error), or a [`Failure`] that the
//! scheduler retries elsewhere.

use std::time::{Duration, Instant};

use distcc_wire::{Limits, ReplyDecoder, WireError, encode_reply, encode_request};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::transport::Transport;

/// A client's request, decoded (protocols 1 and 2).
#[derive(Debug, Clone)]
pub struct Request {
    /// The protocol the client spoke; the answer goes back in it.
    pub version: u32,
    /// The compiler command line (`argv[0]` is the compiler name).
    pub argv: Vec<Vec<u8>>,
    /// The preprocessed source.
    pub source: Vec<u8>,
}

impl Request {
    /// The compiler name as the client sent it (`gcc`, `/usr/bin/cc`, `aarch64-…-gcc`).
    pub fn compiler(&self) -> String {
        self.argv
            .first()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default()
    }

    /// The source file the client named (for `top`), or `?`.
    pub fn source_name(&self) -> String {
        const EXT: [&str; 9] = [".c", ".cc", ".cpp", ".cxx", ".C", ".i", ".ii", ".m", ".c++"];
        self.argv
            .iter()
            .skip(1)
            .map(|a| String::from_utf8_lossy(a))
            .find(|a| !a.starts_with('-') && EXT.iter().any(|e| a.ends_with(e)))
            .map(|a| a.rsplit('/').next().unwrap_or(&a).to_owned())
            .unwrap_or_else(|| "?".into())
    }

    /// The request on the wire in protocol `version` (1 plain, 2 LZO).
    pub fn encode(&self, version: u32) -> Result<Vec<u8>, WireError> {
        let argv: Vec<&[u8]> = self.argv.iter().map(Vec::as_slice).collect();
        encode_request(version, &argv, &self.source)
    }
}

/// What goes back to the client.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The wait status in the reply (0: compiled).
    pub status: u32,
    /// The reply, in the client's protocol.
    pub bytes: Vec<u8>,
    /// How long the exchange took.
    pub elapsed: Duration,
}

/// Why an attempt gave no answer the client should see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// Connect refused or timed out.
    #[error("connect failed: {0}")]
    Connect(String),
    /// The connection broke (reset, write error).
    #[error("connection broke: {0}")]
    Io(String),
    /// The volunteer said nothing for the I/O time-out.
    #[error("no reply within {0} s")]
    Timeout(u64),
    /// The connection closed before a whole reply (distccd's refusal; a killed server).
    #[error("closed after {0} bytes without a complete reply")]
    Closed(u64),
    /// Bytes that are not a distcc reply.
    #[error("garbage reply: {0}")]
    Garbage(String),
    /// The server, not the compiler, failed (a signal, distcc's own exit codes).
    #[error("server failure: {0}")]
    Server(String),
    /// The server refused this job's arguments or compiler (not the host's fault).
    #[error("refused the job: {0}")]
    Refused(String),
    /// Given up by the relay: the job ran far past what the host itself predicted while
    /// another host would finish it sooner (a host that slowed down mid-build).
    #[error("too slow: {0}")]
    TooSlow(String),
}

impl Failure {
    /// Whether the host is benched for it: everything but a refusal of this one job.
    pub fn benches_host(&self) -> bool {
        !matches!(self, Failure::Refused(_))
    }

    /// One word for counters and the timeline.
    pub fn word(&self) -> &'static str {
        match self {
            Failure::Connect(_) => "refused",
            Failure::Io(_) => "reset",
            Failure::Timeout(_) => "timeout",
            Failure::Closed(_) => "closed",
            Failure::Garbage(_) => "garbage",
            Failure::Server(_) => "server",
            Failure::Refused(_) => "job-refused",
            Failure::TooSlow(_) => "too-slow",
        }
    }
}

/// The first non-empty line of a server's stderr, for messages.
fn first_line(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A reply's status read as the client reads it: a compile result (success or the
/// compiler's own error, passed through) or a failure of the server.
pub fn classify(status: u32, stderr: &[u8]) -> Result<(), Failure> {
    let signal = status & 0x7f;
    if signal != 0 {
        return Err(Failure::Server(format!(
            "the compiler was killed by signal {signal}"
        )));
    }
    let code = (status >> 8) & 0xff;
    match u8::try_from(code) {
        Ok(distcc_wire::codes::BAD_ARGUMENTS | distcc_wire::codes::COMPILER_MISSING) => Err(
            Failure::Refused(format!("exit {code}: {}", first_line(stderr))),
        ),
        Ok(c)
            if (distcc_wire::codes::DISTCC_FAILED..=distcc_wire::codes::LOCAL_CPP).contains(&c) =>
        {
            Err(Failure::Server(format!(
                "exit {code}: {}",
                first_line(stderr)
            )))
        }
        _ => Ok(()),
    }
}

/// Send `wire` (the request in protocol `version`) over a fresh stream of `transport`
/// and read the reply; the answer is re-encoded for a client that spoke `client_version`
/// when the two differ, else passed on byte for byte.
pub async fn attempt(
    transport: &dyn Transport,
    wire: &[u8],
    version: u32,
    client_version: u32,
    io_timeout: Duration,
    limits: &Limits,
) -> Result<Answer, Failure> {
    let started = Instant::now();
    let secs = io_timeout.as_secs();
    let mut stream = transport
        .open()
        .await
        .map_err(|e| Failure::Connect(e.to_string()))?;
    match tokio::time::timeout(io_timeout, stream.write_all(wire)).await {
        Err(_) => return Err(Failure::Timeout(secs)),
        Ok(Err(e)) => return Err(Failure::Io(e.to_string())),
        Ok(Ok(())) => {}
    }
    let _ = tokio::time::timeout(io_timeout, stream.flush()).await;
    let mut decoder = ReplyDecoder::new(version, limits.clone());
    let mut raw: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let reply = loop {
        if let Some(r) = decoder
            .next_reply()
            .map_err(|e| Failure::Garbage(e.to_string()))?
        {
            break r;
        }
        let n = match tokio::time::timeout(io_timeout, stream.read(&mut buf)).await {
            Err(_) => return Err(Failure::Timeout(secs)),
            Ok(Err(e)) => return Err(Failure::Io(e.to_string())),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            return Err(Failure::Closed(raw.len() as u64));
        }
        let chunk = buf.get(..n).unwrap_or_default();
        decoder.feed(chunk);
        raw.extend_from_slice(chunk);
    };
    classify(reply.status, &reply.stderr)?;
    let bytes = if version == client_version {
        raw
    } else {
        let mut r = reply.as_reply();
        r.version = client_version;
        encode_reply(&r).map_err(|e| Failure::Garbage(e.to_string()))?
    };
    Ok(Answer {
        status: reply.status,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// A reply that says the relay could not compile the job at all (the client shows
/// `message` and fails the compile).
pub fn failure_reply(client_version: u32, message: &str) -> Vec<u8> {
    let status = distcc_wire::wait_status_exit(distcc_wire::codes::DISTCC_FAILED);
    let reply = distcc_wire::Reply {
        version: client_version,
        status,
        stderr: message.as_bytes(),
        stdout: b"",
        object: b"",
        deps: None,
    };
    encode_reply(&reply).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compile_error_is_an_answer_and_server_codes_are_failures() {
        assert_eq!(classify(1 << 8, b"x.c:1: error"), Ok(()));
        assert_eq!(classify(0, b""), Ok(()));
        assert!(matches!(classify(9, b""), Err(Failure::Server(_))));
        assert!(matches!(classify(107 << 8, b""), Err(Failure::Server(_))));
        let refused = classify(101 << 8, b"\nbad option -fplugin=x\n");
        assert_eq!(
            refused,
            Err(Failure::Refused("exit 101: bad option -fplugin=x".into()))
        );
        assert!(!Failure::Refused(String::new()).benches_host());
        assert!(Failure::Closed(0).benches_host());
    }

    #[test]
    fn the_source_name_is_the_input_file() {
        let r = Request {
            version: 1,
            argv: ["gcc", "-c", "-o", "x.o", "src/lua/lapi.c"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            source: Vec::new(),
        };
        assert_eq!(r.source_name(), "lapi.c");
        assert_eq!(r.compiler(), "gcc");
    }
}
