//! Listening: the job port, the stats port, signals, the grace period; and `--inetd`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};

use super::config::LogLevel;
use super::stats::Outcome;
use super::{ServeError, Shared, conn};

fn allowed(shared: &Shared, ip: IpAddr) -> bool {
    // Peers on a dual-stack socket appear as ::ffff:a.b.c.d; compare them as IPv4.
    let ip = ip.to_canonical();
    shared.settings.allow.iter().any(|net| net.contains(&ip))
}

/// The access check for a job connection: a refused peer is logged, counted, and gets
/// no reply at all.
fn admit(shared: &Shared, addr: SocketAddr) -> bool {
    if allowed(shared, addr.ip()) {
        return true;
    }
    shared.log.log(
        LogLevel::Warning,
        &format!(
            "connection from client '{}' denied by access list; closed without reply",
            addr.ip().to_canonical()
        ),
    );
    shared.stats.refused("access_list");
    shared.stats.finished(Outcome::Other, None);
    false
}

fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    let err = |source| ServeError::Bind {
        addr: addr.to_string(),
        source,
    };
    let sock = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(err)?;
    sock.set_reuseaddr(true).map_err(err)?;
    sock.bind(addr).map_err(err)?;
    sock.listen(1024).map_err(err)
}

/// Bind every `--listen` address (or the wildcard: `::` dual-stack, else `0.0.0.0`).
fn bind_all(shared: &Shared, port: u16) -> Result<Vec<TcpListener>, ServeError> {
    if shared.settings.listen.is_empty() {
        return match bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)) {
            Ok(l) => Ok(vec![l]),
            Err(_) => Ok(vec![bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port,
            ))?]),
        };
    }
    shared
        .settings
        .listen
        .iter()
        .map(|ip| bind(SocketAddr::new(*ip, port)))
        .collect()
}

fn local(l: &TcpListener) -> String {
    l.local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string())
}

/// The TCP server: runs until SIGTERM/SIGINT/SIGHUP or `--lifetime`.
pub(super) async fn daemon(shared: Arc<Shared>) -> Result<(), ServeError> {
    let listeners = bind_all(&shared, shared.settings.port)?;
    let stats_listeners = match shared.settings.stats_port {
        Some(p) => bind_all(&shared, p)?,
        None => Vec::new(),
    };
    let sig = |kind| {
        tokio::signal::unix::signal(kind).map_err(|source| ServeError::Io {
            what: "installing signal handlers".into(),
            source,
        })
    };
    use tokio::signal::unix::SignalKind;
    let mut term = sig(SignalKind::terminate())?;
    let mut int = sig(SignalKind::interrupt())?;
    let mut hup = sig(SignalKind::hangup())?;

    if let Some(pid_file) = &shared.settings.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id())).map_err(|source| {
            ServeError::Io {
                what: format!("writing pid file {}", pid_file.display()),
                source,
            }
        })?;
    }
    let log = &shared.log;
    log.log(
        LogLevel::Notice,
        &format!(
            "listening on {}; jobs {}; allow {}; compilers: {}",
            listeners.iter().map(local).collect::<Vec<_>>().join(" "),
            shared.settings.jobs,
            shared
                .settings
                .allow
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            shared.table.describe()
        ),
    );
    for l in &stats_listeners {
        log.log(LogLevel::Notice, &format!("stats on {}", local(l)));
    }

    let conns = Arc::new(Semaphore::new(shared.settings.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(accept_loop(
            shared.clone(),
            l,
            conns.clone(),
            stop_rx.clone(),
        )));
    }
    for l in stats_listeners {
        tasks.push(tokio::spawn(stats_loop(shared.clone(), l, stop_rx.clone())));
    }
    let lifetime = async {
        match shared.settings.lifetime {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let why = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
        _ = hup.recv() => "SIGHUP",
        () = lifetime => "--lifetime",
    };
    log.log(
        LogLevel::Notice,
        &format!(
            "{why}: no longer accepting; waiting up to {} s for running jobs",
            shared.settings.grace.as_secs()
        ),
    );
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let max = u32::try_from(shared.settings.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(shared.settings.grace, conns.acquire_many(max)).await;
    if drained.is_err() {
        log.log(
            LogLevel::Warning,
            "grace period over: killing the compiles still running",
        );
        shared.kill_all_groups();
        // Let the killed jobs clean up their directories.
        let _ = tokio::time::timeout(Duration::from_secs(5), conns.acquire_many(max)).await;
    }
    if let Some(pid_file) = &shared.settings.pid_file {
        let _ = std::fs::remove_file(pid_file);
    }
    log.log(LogLevel::Notice, "stopped");
    Ok(())
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    conns: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let permit = tokio::select! {
            p = conns.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    shared.log.log(LogLevel::Warning, &format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        shared.stats.accepted();
        if !admit(&shared, addr) {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let peer = SocketAddr::new(addr.ip().to_canonical(), addr.port()).to_string();
            let (rd, wr) = stream.into_split();
            conn::serve(&shared, rd, wr, &peer).await;
            drop(permit);
        });
    }
}

async fn stats_loop(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        let (mut stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = stop.changed() => return,
        };
        if !allowed(&shared, addr.ip()) {
            shared.log.log(
                LogLevel::Warning,
                &format!(
                    "stats request from '{}' denied by access list",
                    addr.ip().to_canonical()
                ),
            );
            shared.stats.refused("access_list");
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            // Like distccd: whatever the peer sends (even nothing) gets the page.
            let mut junk = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut junk)).await;
            let page = shared
                .stats
                .page(shared.settings.jobs, &shared.settings.tmpdir);
            let _ = tokio::time::timeout(Duration::from_secs(10), async {
                stream.write_all(page.as_bytes()).await?;
                stream.shutdown().await
            })
            .await;
        });
    }
}

type BoxRead = Box<dyn AsyncRead + Unpin + Send>;
type BoxWrite = Box<dyn AsyncWrite + Unpin + Send>;

fn fd_kind(fd: i32) -> Option<libc::mode_t> {
    // SAFETY: fstat on a descriptor we own for the whole process; st is an out-parameter.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    (unsafe { libc::fstat(fd, &mut st) } == 0).then_some(st.st_mode & libc::S_IFMT)
}

fn owned_dup(fd: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: dup returns a new descriptor that nothing else owns.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
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
            // stream type is just the carrier (the peer address was checked before).
            let s = std::os::unix::net::UnixStream::from(owned);
            s.set_nonblocking(true)?;
            StdFd::Socket(tokio::net::UnixStream::from_std(s)?)
        }
        _ => StdFd::Other(tokio::fs::File::from_std(std::fs::File::from(owned))),
    })
}

fn reader(fd: i32) -> std::io::Result<BoxRead> {
    Ok(match open_std_fd(fd)? {
        StdFd::Pipe(o) => Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(o)?),
        StdFd::Socket(s) => Box::new(s),
        StdFd::Other(f) => Box::new(f),
    })
}

fn writer(fd: i32) -> std::io::Result<BoxWrite> {
    Ok(match open_std_fd(fd)? {
        StdFd::Pipe(o) => Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(o)?),
        StdFd::Socket(s) => Box::new(s),
        StdFd::Other(f) => Box::new(f),
    })
}

/// `--inetd`: one job over stdin/stdout (ssh `@host` mode, inetd, systemd sockets).
/// A pipe (ssh) has no address and is trusted like a shell login; an IP socket (inetd)
/// must come from an allowed address.
pub(super) async fn inetd(shared: Arc<Shared>) -> Result<(), ServeError> {
    let io_err = |what: &str| {
        let what = what.to_owned();
        move |source| ServeError::Io { what, source }
    };
    let peer = match socket_peer(0) {
        Some(addr) => {
            shared.stats.accepted();
            if !admit(&shared, addr) {
                return Ok(());
            }
            SocketAddr::new(addr.ip().to_canonical(), addr.port()).to_string()
        }
        None => "stdin".to_owned(),
    };
    let rd = reader(0).map_err(io_err("using stdin"))?;
    let wr = writer(1).map_err(io_err("using stdout"))?;
    let outcome = conn::serve(&shared, rd, wr, &peer).await;
    shared.log.log(
        LogLevel::Debug,
        &format!("inetd job ended: {}", outcome.word()),
    );
    Ok(())
}
