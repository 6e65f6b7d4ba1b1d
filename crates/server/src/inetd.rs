//! `--inetd`: one job over one byte stream; and the process's stdin and stdout as such a
//! stream, with the client's address when they are an IP socket (inetd, systemd sockets)
//! rather than a pipe (ssh).

use std::net::SocketAddr;
use std::os::fd::{FromRawFd as _, OwnedFd};

use tokio::io::{AsyncRead, AsyncWrite, Join};

use super::config::LogLevel;
use super::error::ServeError;
use super::shared::Server;
use super::stats::Outcome;
use super::{conn, daemon};

/// Serve exactly one job over `stream`. `peer` is the client's address when the stream
/// is an IP socket (it must then be in `--allow`); `None` is a pipe (ssh), trusted like a
/// shell login. Compilers still running when it returns are killed.
pub async fn serve_one<S>(server: &Server, stream: S, peer: Option<SocketAddr>) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let shared = &server.shared;
    if let Some(addr) = peer {
        shared.stats.accepted();
        if !daemon::admit(shared, addr) {
            return Outcome::Other;
        }
    }
    let outcome = conn::serve(shared, stream, peer, None).await;
    shared.log.log(
        LogLevel::Debug,
        &format!("inetd job ended: {}", outcome.word()),
    );
    shared.groups.kill_all();
    outcome
}

/// Serve one job that arrived over the secure link from `peer`: the link already
/// admitted it by its pinned key, so `--allow` is not asked. Other jobs may be running
/// on the same link: nothing else is killed when this one ends.
pub async fn serve_link_stream<S>(server: &Server, mut stream: S, peer: SocketAddr) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    server.shared.stats.accepted();
    // The per-client limits hold for a master on the link as for one over TCP.
    let Some(seat) = daemon::seat(&server.shared, peer.ip(), "link stream closed") else {
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
        return Outcome::Other;
    };
    let outcome = conn::serve_as(&server.shared, &mut stream, Some(peer), Some(seat), true).await;
    // A dropped TCP socket ends with a FIN; a link stream must say END itself.
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
    outcome
}

/// The reading half: stdin.
pub type StdinHalf = Box<dyn AsyncRead + Unpin + Send>;
/// The writing half: stdout.
pub type StdoutHalf = Box<dyn AsyncWrite + Unpin + Send>;

/// stdin and stdout, opened for async use, for [`super::serve_one`].
pub struct Stdio {
    /// Reads stdin, writes stdout.
    pub stream: Join<StdinHalf, StdoutHalf>,
    /// The peer when stdin is an IP socket; `None` for a pipe, tty or file.
    pub peer: Option<SocketAddr>,
}

/// Open stdin and stdout (duplicates of them; the originals stay open). Async only
/// because pipes and sockets register with the running Tokio reactor.
pub async fn stdio() -> Result<Stdio, ServeError> {
    let io_err = |what: &str| {
        let what = what.to_owned();
        move |source| ServeError::Io { what, source }
    };
    let peer = socket_peer(0);
    let rd = reader(0).map_err(io_err("using stdin"))?;
    let wr = writer(1).map_err(io_err("using stdout"))?;
    Ok(Stdio {
        stream: tokio::io::join(rd, wr),
        peer,
    })
}

fn fd_kind(fd: i32) -> Option<libc::mode_t> {
    // SAFETY: fstat on a descriptor we own for the whole process; st is an out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is a standard descriptor this process owns; st is a valid out-parameter.
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_mode & libc::S_IFMT)
}

fn owned_dup(fd: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: dup returns a new descriptor that nothing else owns.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` was just returned by fcntl(F_DUPFD_CLOEXEC), is open and owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The peer of a socket on `fd`, if it is an IP socket.
fn socket_peer(fd: i32) -> Option<SocketAddr> {
    let owned = owned_dup(fd).ok()?;
    let s = std::net::TcpStream::from(owned);
    s.peer_addr().ok()
}

/// What a standard descriptor is, opened for async use.
enum StdFd {
    Pipe(OwnedFd),
    Socket(tokio::net::UnixStream),
    /// A tty or a file: tokio's file type uses the blocking pool.
    Other(tokio::fs::File),
}

fn open_std_fd(fd: i32) -> std::io::Result<StdFd> {
    let owned = owned_dup(fd)?;
    Ok(match fd_kind(fd) {
        Some(libc::S_IFIFO) => StdFd::Pipe(owned),
        Some(libc::S_IFSOCK) => {
            // Reads and writes on any stream socket are the same syscalls; the Unix
            // stream type is just the carrier (the peer address is checked separately).
            let s = std::os::unix::net::UnixStream::from(owned);
            s.set_nonblocking(true)?;
            StdFd::Socket(tokio::net::UnixStream::from_std(s)?)
        }
        _ => StdFd::Other(tokio::fs::File::from_std(std::fs::File::from(owned))),
    })
}

fn reader(fd: i32) -> std::io::Result<StdinHalf> {
    Ok(match open_std_fd(fd)? {
        StdFd::Pipe(o) => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(o)?),
        StdFd::Socket(s) => Box::new(s),
        StdFd::Other(f) => Box::new(f),
    })
}

fn writer(fd: i32) -> std::io::Result<StdoutHalf> {
    Ok(match open_std_fd(fd)? {
        StdFd::Pipe(o) => Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(o)?),
        StdFd::Socket(s) => Box::new(s),
        StdFd::Other(f) => Box::new(f),
    })
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::serve_one;
    use crate::Server;
    use crate::stats::Outcome;
    use crate::test_support::{Scratch, decode_reply, request};

    /// One `--inetd` job over an in-memory pipe, as if from `peer`.
    async fn one_job(server: &Server, peer: Option<SocketAddr>) -> (Outcome, Vec<u8>) {
        let (mut client, server_end) = tokio::io::duplex(64 * 1024);
        let client_side = async {
            let req = request(2, "gcc -c answer.c -o answer.o");
            // A refused peer may be closed before it finishes sending.
            let _ = client.write_all(&req).await;
            let mut reply = Vec::new();
            let _ = client.read_to_end(&mut reply).await;
            reply
        };
        let both = async { tokio::join!(serve_one(server, server_end, peer), client_side) };
        tokio::time::timeout(Duration::from_secs(60), both)
            .await
            .expect("the job finishes in time")
    }

    #[tokio::test]
    async fn a_pipe_is_trusted_and_served_one_job() {
        let scratch = Scratch::new();
        let server = Server::new(scratch.settings()).expect("valid settings");
        let (outcome, reply) = one_job(&server, None).await;
        assert_eq!(outcome, Outcome::CompileOk, "{}", scratch.log());
        assert!(decode_reply(2, &reply).object.starts_with(b"\x7fELF"));
        assert!(scratch.log().contains("client: stdin COMPILE_OK"));
    }

    #[tokio::test]
    async fn a_socket_peer_outside_allow_gets_no_reply() {
        let scratch = Scratch::new();
        let server = Server::new(scratch.settings()).expect("valid settings");
        let outsider = SocketAddr::from((Ipv4Addr::new(127, 0, 0, 2), 40_000));
        let (outcome, reply) = one_job(&server, Some(outsider)).await;
        assert_eq!(outcome, Outcome::Other);
        assert!(reply.is_empty());
        let log = scratch.log();
        assert!(
            log.contains("client '127.0.0.2' denied by access list"),
            "{log}"
        );
        assert!(!log.contains("running"), "{log}");
    }
}
