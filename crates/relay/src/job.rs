//! One client connection: read the stock client's request, get it compiled (a volunteer,
//! another one after a failure, a duplicate for a straggler, the master as the last
//! resort), send the answer back.

use std::sync::Arc;
use std::time::Duration;

use distcc_wire::{RequestDecoder, RequestEvent};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;

use crate::exchange::{self, Answer, Failure, Request};
use crate::sched::{Grant, Lease, Outcome, Scheduler};

/// Why a client's request was not read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("client sent nothing for {0} s")]
    Timeout(u64),
    #[error("client connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("client request: {0}")]
    Wire(#[from] distcc_wire::WireError),
    #[error("protocol 3 (pump mode) is not relayed")]
    Pump,
}

/// Read a whole request; `first` holds bytes already read (the `DIST` token).
pub(crate) async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    first: &[u8],
    limits: &distcc_wire::Limits,
    timeout: Duration,
) -> Result<Request, ReadError> {
    let mut dec = RequestDecoder::new(limits.clone());
    dec.feed(first);
    let mut buf = vec![0u8; 64 * 1024];
    let mut header: Option<(u32, Vec<Vec<u8>>)> = None;
    loop {
        while let Some(ev) = dec.next_event()? {
            match ev {
                RequestEvent::Header { version: 3, .. } => return Err(ReadError::Pump),
                RequestEvent::Header { version, argv, .. } => header = Some((version, argv)),
                RequestEvent::Source(source) => {
                    let (version, argv) = header.take().unwrap_or_default();
                    return Ok(Request {
                        version,
                        argv,
                        source,
                    });
                }
                RequestEvent::Files(_) => return Err(ReadError::Pump),
            }
        }
        let n = tokio::time::timeout(timeout, stream.read(&mut buf))
            .await
            .map_err(|_| ReadError::Timeout(timeout.as_secs()))??;
        if n == 0 {
            dec.finish()?;
        }
        dec.feed(buf.get(..n).unwrap_or_default());
    }
}

/// Serve one job on `stream` whose first four bytes (`DIST`) were read into `first`.
pub(crate) async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    sched: &Arc<Scheduler>,
    mut stream: S,
    first: &[u8],
) -> Result<(), ReadError> {
    let s = &sched.settings;
    let req = read_request(&mut stream, first, &s.limits, s.io_timeout).await?;
    let bytes = run(sched, &req).await;
    tokio::time::timeout(s.io_timeout, async {
        stream.write_all(&bytes).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await
    .map_err(|_| ReadError::Timeout(s.io_timeout.as_secs()))??;
    Ok(())
}

/// Get `req` compiled; the reply bytes for the client.
pub(crate) async fn run(sched: &Arc<Scheduler>, req: &Request) -> Vec<u8> {
    let job = sched.new_job();
    let (compiler, source) = (req.compiler(), req.source_name());
    let bytes = req.source.len() as u64;
    let mut exclude: Vec<u64> = Vec::new();
    let mut reason = "retries exhausted".to_owned();
    for _ in 0..sched.settings.max_attempts.max(1) {
        let (htx, hrx) = mpsc::unbounded_channel();
        match sched
            .acquire(job, &compiler, &source, bytes, &exclude, htx)
            .await
        {
            Grant::NoHost(why) => {
                reason = why;
                break;
            }
            Grant::Host(lease) => match race(sched, req, lease, hrx).await {
                Ok(answer) => {
                    sched.remote_done(answer.status);
                    return answer.bytes;
                }
                Err(failed) => exclude.extend(failed),
            },
        }
    }
    local(sched, req, job, &source, &reason).await
}

/// An attempt's future.
type AttemptFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Answer, Failure>> + Send>>;

/// One attempt of `req` on `lease`'s host, as a future that owns what it needs; it ends
/// early, as [`Failure::TooSlow`], when the scheduler gives it up.
fn attempt(sched: &Arc<Scheduler>, req: &Request, lease: &mut Lease) -> AttemptFuture {
    let version = if lease.lzo { 2 } else { 1 };
    let wire = req.encode(version);
    let (t, s, client) = (Arc::clone(&lease.transport), Arc::clone(sched), req.version);
    let give_up = lease.give_up.take();
    Box::pin(async move {
        let wire = wire.map_err(|e| Failure::Refused(e.to_string()))?;
        let st = &s.settings;
        let run = exchange::attempt(&*t, &wire, version, client, st.io_timeout, &st.limits);
        let Some(give_up) = give_up else {
            return run.await;
        };
        tokio::select! {
            r = run => r,
            Ok(why) = give_up => Err(Failure::TooSlow(why)),
        }
    })
}

/// Run the job on `first`; when the scheduler sends a duplicate lease (hedging), run it
/// too and take the first answer; the other attempt is dropped, which closes its stream.
/// On failure: the hosts that failed.
async fn race(
    sched: &Arc<Scheduler>,
    req: &Request,
    first: Lease,
    mut hedges: mpsc::UnboundedReceiver<Lease>,
) -> Result<Answer, Vec<u64>> {
    let mut failed = Vec::new();
    let mut first = first;
    let mut fa = attempt(sched, req, &mut first);
    let mut a = Some(first);
    let mut fb: AttemptFuture = Box::pin(std::future::pending());
    let mut b: Option<Lease> = None;
    loop {
        tokio::select! {
            r = &mut fa, if a.is_some() => {
                let Some(lease) = a.take() else { continue };
                if let Some(ans) = settle(lease, r, &mut failed) {
                    return Ok(ans);
                }
                if b.is_none() {
                    return Err(failed);
                }
            }
            r = &mut fb, if b.is_some() => {
                let Some(lease) = b.take() else { continue };
                if let Some(ans) = settle(lease, r, &mut failed) {
                    return Ok(ans);
                }
                if a.is_none() {
                    return Err(failed);
                }
            }
            Some(mut dup) = hedges.recv(), if b.is_none() && a.is_some() => {
                fb = attempt(sched, req, &mut dup);
                b = Some(dup);
            }
        }
    }
}

/// Record how an attempt ended; the answer when it is one.
fn settle(lease: Lease, r: Result<Answer, Failure>, failed: &mut Vec<u64>) -> Option<Answer> {
    match r {
        Ok(ans) => {
            let secs = ans.elapsed.as_secs_f64();
            lease.finish(Outcome::Answer {
                status: ans.status,
                secs,
            });
            Some(ans)
        }
        Err(f) => {
            // A job given up as too slow may come back to its host (benched meanwhile,
            // probed before it takes jobs again) if no other is left; any other failure
            // rules the host out for this job.
            if !matches!(f, Failure::TooSlow(_)) {
                failed.push(lease.host);
            }
            lease.finish(Outcome::Failed(f));
            None
        }
    }
}

/// Compile on the master (counted, with `reason`).
async fn local(
    sched: &Arc<Scheduler>,
    req: &Request,
    job: u64,
    source: &str,
    reason: &str,
) -> Vec<u8> {
    sched.local_begin(job, source, reason);
    let s = &sched.settings;
    let result = match req.encode(req.version) {
        Ok(wire) => {
            exchange::attempt(
                &*sched.local,
                &wire,
                req.version,
                req.version,
                s.local_timeout,
                &s.limits,
            )
            .await
        }
        Err(e) => Err(Failure::Refused(e.to_string())),
    };
    sched.local_end(job, result.is_ok());
    match result {
        Ok(ans) => ans.bytes,
        Err(f) => exchange::failure_reply(
            req.version,
            &format!(
                "distsetup relay: {source}: no volunteer could compile it ({reason}), and the master failed too: {f}\n"
            ),
        ),
    }
}
