//! One client connection: read the request (with I/O time-outs, before any job slot is
//! taken), vet it, wait for a job slot, compile, reply.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::Shared;
use super::args;
use super::config::LogLevel;
use super::job::{self, Ended};
use super::stats::Outcome;
use crate::wire::{
    Reply, RequestDecoder, RequestEvent, WireError, codes, encode_reply, wait_status_exit,
};

/// A refusal we explain to an allowed peer with a failing STAT and a SERR line.
struct Refusal {
    code: u8,
    reason: &'static str,
    message: String,
}

enum ReadError {
    Wire(WireError),
    Timeout,
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Wire(e) => write!(f, "protocol error: {e}"),
            ReadError::Timeout => write!(f, "no data for the I/O time-out"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

/// Read until the decoder yields its next event.
async fn next_event<R: AsyncRead + Unpin>(
    rd: &mut R,
    dec: &mut RequestDecoder,
    buf: &mut [u8],
    timeout: Duration,
) -> Result<RequestEvent, ReadError> {
    loop {
        if let Some(ev) = dec.next_event().map_err(ReadError::Wire)? {
            return Ok(ev);
        }
        let n = match tokio::time::timeout(timeout, rd.read(buf)).await {
            Err(_) => return Err(ReadError::Timeout),
            Ok(Err(e)) => return Err(ReadError::Io(e)),
            Ok(Ok(n)) => n,
        };
        if n == 0 {
            dec.finish().map_err(ReadError::Wire)?;
            // finish() is Ok only when done, and then next_event would have returned.
            return Err(ReadError::Wire(WireError::Truncated {
                waiting_for: "request",
                received: dec.received(),
            }));
        }
        dec.feed(&buf[..n]);
    }
}

/// Completes when the peer closes its side (EOF or error). Extra bytes are ignored.
async fn peer_gone<R: AsyncRead + Unpin>(rd: &mut R) {
    let mut b = [0u8; 256];
    loop {
        match rd.read(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// What a finished compile reports to the stats.
type JobInfo = Option<(String, String, Duration)>;

/// Serve one connection and count it. `peer` is for logs ("127.0.0.1:5000", "stdin").
pub async fn serve<R, W>(shared: &Shared, rd: R, wr: W, peer: &str) -> Outcome
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (outcome, job) = serve_inner(shared, rd, wr, peer).await;
    let job = job.as_ref().map(|(i, c, t)| (i.as_str(), c.as_str(), *t));
    shared.stats.finished(outcome, job);
    outcome
}

async fn serve_inner<R, W>(shared: &Shared, mut rd: R, mut wr: W, peer: &str) -> (Outcome, JobInfo)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let started = Instant::now();
    let timeout = shared.settings.io_timeout;
    let mut dec = RequestDecoder::new(shared.settings.limits.clone());
    let mut buf = vec![0u8; 64 * 1024];
    let log = &shared.log;

    let (version, argv) = match next_event(&mut rd, &mut dec, &mut buf, timeout).await {
        Ok(RequestEvent::Header { version, argv, .. }) => (version, argv),
        Ok(_) => return (bad_request(shared, peer, "unexpected event"), None),
        Err(e) => {
            if dec.received() == 0 && matches!(e, ReadError::Wire(WireError::Truncated { .. })) {
                log.log(
                    LogLevel::Info,
                    &format!("client: {peer} closed without a request"),
                );
            } else {
                log.log(
                    LogLevel::Warning,
                    &format!("client: {peer} {e}; closed without reply"),
                );
            }
            shared.stats.refused(match e {
                ReadError::Timeout => "timeout",
                _ => "protocol",
            });
            return (Outcome::BadRequest, None);
        }
    };
    let compiler_shown = String::from_utf8_lossy(argv.first().map_or(&b""[..], |v| v)).into_owned();

    // Vet before the source arrives (the client sends argv first, then runs cpp).
    let mut refusal: Option<Refusal> = None;
    let mut plan = None;
    if version == 3 {
        refusal = Some(Refusal {
            code: codes::PROTOCOL_ERROR,
            reason: "pump",
            message: "pump mode (protocol 3, host option ',cpp') is not supported by this server; \
                      remove ',cpp' from this host in DISTCC_HOSTS (',lzo' alone is fine)"
                .into(),
        });
    } else {
        match shared.table.resolve(argv.first().map_or(&b""[..], |v| v)) {
            Err(e) => {
                refusal = Some(Refusal {
                    code: codes::COMPILER_MISSING,
                    reason: "compiler",
                    message: e.to_string(),
                })
            }
            Ok(resolved) => match args::scan(&argv) {
                Err(e) => {
                    refusal = Some(Refusal {
                        code: codes::BAD_ARGUMENTS,
                        reason: e.key(),
                        message: e.to_string(),
                    })
                }
                Ok(scanned) => plan = Some((resolved, scanned)),
            },
        }
    }

    // Read the rest of the request either way, so a refusal can be answered.
    let source = match next_event(&mut rd, &mut dec, &mut buf, timeout).await {
        Ok(RequestEvent::Source(s)) => s,
        Ok(RequestEvent::Files(_)) => Vec::new(),
        Ok(RequestEvent::Header { .. }) => {
            return (bad_request(shared, peer, "second header"), None);
        }
        Err(e) => {
            log.log(
                LogLevel::Warning,
                &format!("client: {peer} {e} while reading the source; closed without reply"),
            );
            shared.stats.refused(match e {
                ReadError::Timeout => "timeout",
                _ => "protocol",
            });
            return (Outcome::BadRequest, None);
        }
    };
    drop(buf);

    if let Some(r) = refusal {
        log.log(
            LogLevel::Warning,
            &format!(
                "client: {peer} REFUSED ({}) {compiler_shown}: {}",
                r.reason, r.message
            ),
        );
        shared.stats.refused(r.reason);
        let serr = format!("distsetup serve: {}\n", r.message);
        send_failure(shared, &mut wr, peer, version, r.code, &serr).await;
        return (Outcome::Other, None);
    }
    let Some((resolved, scanned)) = plan else {
        return (bad_request(shared, peer, "no plan"), None);
    };

    // Wait for a job slot without dropping the client; give up if it leaves.
    let permit = tokio::select! {
        p = shared.jobs.acquire() => match p {
            Ok(p) => p,
            Err(_) => return (Outcome::Other, None),
        },
        () = peer_gone(&mut rd) => {
            log.log(LogLevel::Info, &format!("client: {peer} left while queued"));
            return (Outcome::ClientDisconnect, None);
        }
    };
    shared.stats.running_delta(true);
    let outcome = compile(
        shared,
        &mut rd,
        &mut wr,
        peer,
        version,
        &argv,
        &resolved.path,
        &scanned,
        source,
        started,
    )
    .await;
    shared.stats.running_delta(false);
    drop(permit);
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn compile<R, W>(
    shared: &Shared,
    rd: &mut R,
    wr: &mut W,
    peer: &str,
    version: u32,
    argv: &[Vec<u8>],
    compiler: &std::path::Path,
    scanned: &args::Scanned,
    source: Vec<u8>,
    started: Instant,
) -> (Outcome, JobInfo)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    use std::os::unix::ffi::OsStrExt;
    let log = &shared.log;
    let dir = match tempfile::Builder::new()
        .prefix("distsetup-job.")
        .tempdir_in(&shared.settings.tmpdir)
    {
        Ok(d) => d,
        Err(e) => {
            let msg = format!(
                "distsetup serve: cannot create a job directory in {}: {e}\n",
                shared.settings.tmpdir.display()
            );
            log.log(LogLevel::Error, msg.trim_end());
            send_failure(shared, wr, peer, version, codes::IO_ERROR, &msg).await;
            return (Outcome::Other, None);
        }
    };
    let input = format!("input{}", scanned.temp_ext);
    let output = if scanned.assembly {
        "output.s"
    } else {
        "output.o"
    };
    if let Err(e) = tokio::fs::write(dir.path().join(&input), &source).await {
        let msg = format!(
            "distsetup serve: cannot write the source into {}: {e}\n",
            dir.path().display()
        );
        log.log(LogLevel::Error, msg.trim_end());
        send_failure(shared, wr, peer, version, codes::IO_ERROR, &msg).await;
        return (Outcome::Other, None);
    }
    drop(source);
    let cmd = args::rewrite(
        argv,
        scanned,
        compiler.as_os_str().as_bytes(),
        &input,
        output,
    );
    if log.enabled(LogLevel::Debug) {
        let shown: Vec<String> = cmd
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        log.log(
            LogLevel::Debug,
            &format!("client: {peer} running {}", shown.join(" ")),
        );
    }
    let ended = job::run(shared, dir.path(), &cmd, peer_gone(rd)).await;
    let (status, extra) = ended.status(shared.settings.job_lifetime, compiler);
    let outcome = match &ended {
        Ended::Exited { status: 0, .. } => Outcome::CompileOk,
        Ended::Exited { .. } | Ended::SpawnFailed(_) => Outcome::CompileError,
        Ended::LifetimeExceeded => Outcome::CompileTimeout,
        Ended::Disconnected => Outcome::ClientDisconnect,
    };
    let (stdout, mut stderr) = match ended {
        Ended::Exited { stdout, stderr, .. } => (stdout, stderr),
        _ => (Vec::new(), Vec::new()),
    };
    if let Some(extra) = &extra {
        stderr.extend_from_slice(extra.as_bytes());
        log.log(
            LogLevel::Warning,
            &format!("client: {peer} {}", extra.trim_end()),
        );
    }
    let object = if status == 0 {
        tokio::fs::read(dir.path().join(output))
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    // Remove the job directory before replying: the client may start the next job
    // the moment it has our answer.
    drop(dir);
    if outcome != Outcome::ClientDisconnect {
        let reply = Reply {
            version,
            status,
            stderr: &stderr,
            stdout: &stdout,
            object: &object,
            deps: None,
        };
        send(shared, wr, &reply, peer).await;
    }
    let took = started.elapsed();
    log.log(
        LogLevel::Notice,
        &format!(
            "client: {peer} {} exit:{} sig:{} core:{} time:{}ms {} {} (remote, protocol {version})",
            outcome.word(),
            (status >> 8) & 0xff,
            status & 0x7f,
            u8::from(status & 0x80 != 0),
            took.as_millis(),
            String::from_utf8_lossy(argv.first().map_or(&b""[..], |v| v)),
            scanned.input_name,
        ),
    );
    let compiler_name = String::from_utf8_lossy(argv.first().map_or(&b""[..], |v| v)).into_owned();
    (
        outcome,
        Some((scanned.input_name.clone(), compiler_name, took)),
    )
}

fn bad_request(shared: &Shared, peer: &str, why: &str) -> Outcome {
    shared.log.log(
        LogLevel::Warning,
        &format!("client: {peer} {why}; closed without reply"),
    );
    shared.stats.refused("protocol");
    Outcome::BadRequest
}

/// Reply with a distcc exit code as STAT and `message` on SERR.
async fn send_failure<W: AsyncWrite + Unpin>(
    shared: &Shared,
    wr: &mut W,
    peer: &str,
    version: u32,
    code: u8,
    message: &str,
) {
    let reply = Reply {
        version,
        status: wait_status_exit(code),
        stderr: message.as_bytes(),
        stdout: b"",
        object: b"",
        deps: None,
    };
    send(shared, wr, &reply, peer).await;
}

/// Encode and write a reply; failures are logged (the client may be gone).
async fn send<W: AsyncWrite + Unpin>(shared: &Shared, wr: &mut W, reply: &Reply<'_>, peer: &str) {
    let bytes = match encode_reply(reply) {
        Ok(b) => b,
        Err(e) => {
            shared.log.log(
                LogLevel::Error,
                &format!("client: {peer} cannot encode reply: {e}"),
            );
            return;
        }
    };
    let write = async {
        wr.write_all(&bytes).await?;
        wr.flush().await?;
        wr.shutdown().await
    };
    match tokio::time::timeout(shared.settings.io_timeout, write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => shared.log.log(
            LogLevel::Info,
            &format!("client: {peer} reply not delivered: {e}"),
        ),
        Err(_) => shared
            .log
            .log(LogLevel::Info, &format!("client: {peer} reply timed out")),
    }
}
