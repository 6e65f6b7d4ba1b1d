//! Sending a reply without holding it: bodies are streamed from the job directory in
//! bounded chunks (protocol 1), or LZO-compressed from a read-only mapping of the file
//! (protocol 2: the page cache holds the object, the heap only its compressed form).
//! Every write must make progress within the send time-out, or the peer is dropped.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::job::Captured;
use distcc_wire::lzo;

/// One body of a reply.
pub(super) enum Body {
    /// Held in memory (server messages).
    Bytes(Vec<u8>),
    /// A file in the job directory, read through the server's own descriptor.
    File(File, u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, n) => *n,
        }
    }
}

impl From<Captured> for Body {
    fn from(c: Captured) -> Body {
        Body::File(c.file, c.len)
    }
}

/// A reply about to be sent.
pub(super) struct Outgoing {
    pub version: u32,
    pub status: u32,
    pub stderr: Body,
    pub stdout: Body,
    /// Sent only when `status` is 0.
    pub object: Body,
}

const CHUNK: usize = 64 * 1024;

fn token(name: &[u8; 4], value: u64) -> std::io::Result<Vec<u8>> {
    let v = u32::try_from(value)
        .map_err(|_| std::io::Error::other("a reply body over 4 GiB cannot be sent"))?;
    let mut t = Vec::with_capacity(12);
    t.extend_from_slice(name);
    t.extend_from_slice(format!("{v:08x}").as_bytes());
    Ok(t)
}

/// Write `bytes`, each chunk within `timeout`.
async fn put<W: AsyncWrite + Unpin>(
    wr: &mut W,
    bytes: &[u8],
    timeout: Duration,
) -> std::io::Result<()> {
    for chunk in bytes.chunks(CHUNK) {
        tokio::time::timeout(timeout, wr.write_all(chunk))
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the client did not read its reply within the send time-out",
                )
            })??;
    }
    Ok(())
}

/// The LZO stream of a file's first `len` bytes, compressed off the async threads from
/// a private read-only mapping.
async fn compress_file(file: &File, len: u64) -> std::io::Result<Vec<u8>> {
    let file = file.try_clone()?;
    let len = usize::try_from(len).map_err(std::io::Error::other)?;
    tokio::task::spawn_blocking(move || {
        // SAFETY: a fresh read-only private mapping of `len` bytes of a regular file we
        // opened; unmapped below before the slice goes out of scope. The compiler has
        // exited, so nothing shortens the file under us.
        unsafe {
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            );
            if p == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            libc::madvise(p, len, libc::MADV_SEQUENTIAL);
            let done = std::sync::atomic::AtomicBool::new(false);
            let addr = p as usize;
            let out = std::thread::scope(|scope| {
                // The compressor reads the mapping once, front to back; the pages it has
                // read would stay in our RSS until munmap. Dropping them every few ms
                // keeps RSS flat; it is always correct: the mapping is private,
                // read-only and never written, so a dropped page is read again from
                // the page cache if it is touched again.
                scope.spawn(|| {
                    while !done.load(std::sync::atomic::Ordering::Relaxed) {
                        libc::madvise(addr as *mut libc::c_void, len, libc::MADV_DONTNEED);
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                let out = lzo::compress(std::slice::from_raw_parts(p.cast::<u8>(), len));
                done.store(true, std::sync::atomic::Ordering::Relaxed);
                out
            });
            libc::munmap(p, len);
            Ok(out)
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn put_body<W: AsyncWrite + Unpin>(
    wr: &mut W,
    name: &[u8; 4],
    body: &Body,
    lzo: bool,
    timeout: Duration,
) -> std::io::Result<()> {
    if body.len() == 0 {
        return put(wr, &token(name, 0)?, timeout).await;
    }
    match (body, lzo) {
        (Body::Bytes(b), false) => {
            put(wr, &token(name, b.len() as u64)?, timeout).await?;
            put(wr, b, timeout).await
        }
        (Body::Bytes(b), true) => {
            let z = lzo::compress(b);
            put(wr, &token(name, z.len() as u64)?, timeout).await?;
            put(wr, &z, timeout).await
        }
        (Body::File(f, len), true) => {
            let z = compress_file(f, *len).await?;
            put(wr, &token(name, z.len() as u64)?, timeout).await?;
            put(wr, &z, timeout).await
        }
        (Body::File(f, len), false) => {
            put(wr, &token(name, *len)?, timeout).await?;
            let mut buf = vec![0u8; CHUNK];
            let mut at = 0u64;
            while at < *len {
                let want = usize::try_from((*len - at).min(CHUNK as u64)).unwrap_or(CHUNK);
                let n = std::os::unix::fs::FileExt::read_at(f, &mut buf[..want], at)?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the output file shrank while it was sent",
                    ));
                }
                put(wr, &buf[..n], timeout).await?;
                at += n as u64;
            }
            Ok(())
        }
    }
}

/// Send `reply` (distcc's reply layout: DONE, STAT, SERR, SOUT, DOTO) and close our side.
pub(super) async fn send<W: AsyncWrite + Unpin>(
    wr: &mut W,
    reply: &Outgoing,
    timeout: Duration,
) -> std::io::Result<()> {
    let lzo = reply.version >= 2;
    let mut head = token(b"DONE", reply.version.into())?;
    head.extend(token(b"STAT", reply.status.into())?);
    put(wr, &head, timeout).await?;
    put_body(wr, b"SERR", &reply.stderr, lzo, timeout).await?;
    put_body(wr, b"SOUT", &reply.stdout, lzo, timeout).await?;
    if reply.status == 0 {
        put_body(wr, b"DOTO", &reply.object, lzo, timeout).await?;
    } else {
        put(wr, &token(b"DOTO", 0)?, timeout).await?;
    }
    tokio::time::timeout(timeout, async {
        wr.flush().await?;
        wr.shutdown().await
    })
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "send time-out"))?
}
