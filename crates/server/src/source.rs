//! Receiving a compile's source without holding it: the `DOTI` body goes into the job's
//! input file as it arrives (protocol 2: through the streaming LZO decoder, which keeps
//! only its 48 KiB window), so a connection waiting for a job slot holds a read buffer and
//! a decoder, never its source. What all connections have put on disk is capped as well
//! ([`Held`]), and so is each source (`max_doti_plain`).

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};

use distcc_wire::lzo_stream::{LzoStream, StreamError};
use distcc_wire::token::{self, DOTI, HEADER_LEN};
use distcc_wire::{Limits, WireError};

/// Bytes read from the socket at a time.
const READ: usize = 64 * 1024;

/// The bytes of every source the server holds on disk, against a cap.
#[derive(Debug)]
pub(crate) struct Held {
    bytes: AtomicU64,
    cap: u64,
}

impl Held {
    pub(crate) fn new(cap: u64) -> Arc<Held> {
        Arc::new(Held {
            bytes: AtomicU64::new(0),
            cap,
        })
    }

    /// Count `n` more bytes, or refuse if that passes the cap.
    fn take(&self, n: u64) -> Result<(), WireError> {
        let before = self.bytes.fetch_add(n, Ordering::Relaxed);
        if before.saturating_add(n) > self.cap {
            self.bytes.fetch_sub(n, Ordering::Relaxed);
            return Err(WireError::TooLarge {
                what: "sources held by this server",
                len: before.saturating_add(n),
                limit: self.cap,
            });
        }
        Ok(())
    }
}

/// A source counted in [`Held`]: given back when the job is done (or fails).
#[derive(Debug)]
pub(crate) struct Claim {
    held: Arc<Held>,
    bytes: u64,
}

impl Claim {
    pub(crate) fn new(held: &Arc<Held>) -> Claim {
        Claim {
            held: Arc::clone(held),
            bytes: 0,
        }
    }

    /// Count `n` more bytes against the cap.
    fn grow(&mut self, n: u64) -> Result<(), WireError> {
        self.held.take(n)?;
        self.bytes += n;
        Ok(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.held.bytes.fetch_sub(self.bytes, Ordering::Relaxed);
        if self.bytes >= 1 << 20 {
            give_memory_back();
        }
    }
}

/// Hand freed heap back to the system: the decoders ran on blocking threads, and glibc
/// keeps what each thread's arena freed (64 bombs left 25 MiB behind without this).
fn give_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Why a request (its header or its source) could not be received.
#[derive(Debug)]
pub(crate) enum SourceError {
    /// A protocol violation or a limit.
    Wire(WireError),
    /// No byte within the I/O time-out.
    Timeout,
    /// The socket or the job file failed.
    Io(std::io::Error),
}

impl SourceError {
    /// Stats key of a request that could not be read.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            SourceError::Timeout => "timeout",
            _ => "protocol",
        }
    }
}

impl From<WireError> for SourceError {
    fn from(e: WireError) -> SourceError {
        SourceError::Wire(e)
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::Wire(e) => write!(f, "protocol error: {e}"),
            SourceError::Timeout => write!(f, "no data for the I/O time-out"),
            SourceError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

/// Where the source goes.
pub(crate) struct Sink {
    /// The job's input file.
    pub(crate) file: std::fs::File,
    /// What the source counts against the server's cap.
    pub(crate) claim: Claim,
}

/// How a source is read.
pub(crate) struct Receive<'a> {
    pub(crate) version: u32,
    pub(crate) limits: &'a Limits,
    pub(crate) timeout: Duration,
    /// Bytes the request decoder had already read past the header.
    pub(crate) pending: Vec<u8>,
}

async fn read_some<R: AsyncRead + Unpin>(
    rd: &mut R,
    buf: &mut [u8],
    timeout: Duration,
) -> Result<usize, SourceError> {
    match tokio::time::timeout(timeout, rd.read(buf)).await {
        Err(_) => Err(SourceError::Timeout),
        Ok(Err(e)) => Err(SourceError::Io(e)),
        Ok(Ok(0)) => Err(SourceError::Wire(WireError::Truncated {
            waiting_for: "DOTI",
            received: 0,
        })),
        Ok(Ok(n)) => Ok(n),
    }
}

/// Read the `DOTI` of a protocol 1 or 2 request into `sink` (or skip it: a refused
/// request is still read to its end, so the refusal can be answered). Returns the
/// claim on the held-bytes count for the source written.
pub(crate) async fn receive<R: AsyncRead + Unpin>(
    rd: &mut R,
    how: Receive<'_>,
    mut sink: Option<Sink>,
) -> Result<Option<Claim>, SourceError> {
    let mut pending = how.pending;
    while pending.len() < HEADER_LEN {
        let mut b = [0u8; HEADER_LEN];
        let n = read_some(rd, &mut b[..HEADER_LEN - pending.len()], how.timeout).await?;
        pending.extend_from_slice(&b[..n]);
    }
    let header: [u8; HEADER_LEN] = pending[..HEADER_LEN]
        .try_into()
        .map_err(|_| SourceError::Timeout)?;
    let (name, len) = token::parse(&header, 0)?;
    if name != DOTI {
        return Err(SourceError::Wire(WireError::BadToken {
            expected: "DOTI",
            found: token::show(&name),
            offset: 0,
        }));
    }
    let plain_cap = u64::try_from(how.limits.max_doti_plain).unwrap_or(u64::MAX);
    let too_large = |what, len: u64, limit: u64| WireError::TooLarge { what, len, limit };
    if len > how.limits.max_doti_wire {
        return Err(too_large("DOTI length", len.into(), how.limits.max_doti_wire.into()).into());
    }
    if how.version == 1 && u64::from(len) > plain_cap {
        return Err(too_large("source", len.into(), plain_cap).into());
    }
    let mut writer = Writer {
        lzo: (how.version >= 2 && len > 0).then(|| LzoStream::new(plain_cap)),
        sink: sink.take(),
    };
    let mut left = len as usize; // a u32 fits usize on every target this builds for
    let first = pending.split_off(HEADER_LEN);
    let first = &first[..first.len().min(left)];
    left -= first.len();
    writer = writer.put(first.to_vec()).await?;
    let mut buf = vec![0u8; READ];
    while left > 0 {
        let want = left.min(READ);
        let n = read_some(rd, &mut buf[..want], how.timeout).await?;
        left -= n;
        writer = writer.put(buf[..n].to_vec()).await?;
    }
    writer.finish()
}

/// The decoder and the file, moved to a blocking thread for each piece.
struct Writer {
    lzo: Option<LzoStream>,
    sink: Option<Sink>,
}

fn write_out(sink: &mut Sink, bytes: &[u8]) -> Result<(), SourceError> {
    sink.claim.grow(bytes.len() as u64)?;
    sink.file.write_all(bytes).map_err(SourceError::Io)
}

fn lzo_error(e: StreamError<SourceError>) -> SourceError {
    match e {
        StreamError::Lzo(source) => SourceError::Wire(WireError::Lzo {
            what: "DOTI",
            source,
        }),
        StreamError::Sink(e) => e,
    }
}

impl Writer {
    /// Decode (protocol 2) and write `piece`, off the async threads. Without a sink (a
    /// refused request) the body is only skipped.
    async fn put(mut self, piece: Vec<u8>) -> Result<Writer, SourceError> {
        if piece.is_empty() || self.sink.is_none() {
            return Ok(self);
        }
        tokio::task::spawn_blocking(move || {
            let Writer { lzo, sink } = &mut self;
            if let Some(sink) = sink {
                match lzo {
                    Some(d) => d
                        .feed(&piece, &mut |b: &[u8]| write_out(sink, b))
                        .map_err(lzo_error)?,
                    None => write_out(sink, &piece)?,
                }
            }
            Ok(self)
        })
        .await
        .map_err(|e| SourceError::Io(std::io::Error::other(e)))?
    }

    /// The body is complete: the LZO stream must have ended; flush what it holds.
    fn finish(self) -> Result<Option<Claim>, SourceError> {
        let Writer { lzo, sink } = self;
        let Some(mut sink) = sink else {
            return Ok(None);
        };
        if let Some(mut d) = lzo {
            d.finish(&mut |b: &[u8]| write_out(&mut sink, b))
                .map_err(lzo_error)?;
        }
        Ok(Some(sink.claim))
    }
}
