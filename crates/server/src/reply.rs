//! Sending a reply without holding it: bodies are streamed from the job directory in
//! bounded chunks (protocol 1), or first LZO-compressed by the streaming encoder into an
//! unnamed file in the job directory and streamed from there (protocol 2: the token
//! needs the compressed length before the body). Memory stays at the encoder's block,
//! dictionary and output chunk, whatever the object's size or compressibility.
//! Every write must make progress within the send time-out, or the peer is dropped.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::job::Captured;
use distcc_wire::{lzo, lzo_writer};

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
    /// The job directory, where a compressed body is written before it is sent.
    pub scratch: Option<std::path::PathBuf>,
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

/// The LZO stream of a file's first `len` bytes, written by the streaming encoder into
/// an unnamed file in `scratch`, off the async threads; the file and its length.
async fn compress_file(file: &File, len: u64, scratch: &Path) -> std::io::Result<(File, u64)> {
    let file = file.try_clone()?;
    let scratch = scratch.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let z = tempfile::tempfile_in(&scratch)?;
        let mut w = std::io::BufWriter::with_capacity(CHUNK, z);
        let n = lzo_writer::compress_stream(
            |buf: &mut [u8], at: u64| file.read_exact_at(buf, at),
            len,
            &mut w,
        )?;
        let z = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        Ok((z, n))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Stream the first `len` bytes of `file`.
async fn put_file<W: AsyncWrite + Unpin>(
    wr: &mut W,
    file: &File,
    len: u64,
    timeout: Duration,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut at = 0u64;
    while at < len {
        let want = usize::try_from((len - at).min(CHUNK as u64)).unwrap_or(CHUNK);
        let n = file.read_at(&mut buf[..want], at)?;
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

async fn put_body<W: AsyncWrite + Unpin>(
    wr: &mut W,
    name: &[u8; 4],
    body: &Body,
    (lzo, scratch): (bool, Option<&Path>),
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
            let scratch = scratch.ok_or_else(|| std::io::Error::other("no job directory"))?;
            let (z, zlen) = compress_file(f, *len, scratch).await?;
            put(wr, &token(name, zlen)?, timeout).await?;
            put_file(wr, &z, zlen, timeout).await
        }
        (Body::File(f, len), false) => {
            put(wr, &token(name, *len)?, timeout).await?;
            put_file(wr, f, *len, timeout).await
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
    let how = (lzo, reply.scratch.as_deref());
    put_body(wr, b"SERR", &reply.stderr, how, timeout).await?;
    put_body(wr, b"SOUT", &reply.stdout, how, timeout).await?;
    if reply.status == 0 {
        put_body(wr, b"DOTO", &reply.object, how, timeout).await?;
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
