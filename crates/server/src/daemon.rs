//! The TCP server: binding the job and stats ports, the accept loops, and the grace
//! period once the caller's `shutdown` future completes.

use std::fmt::Display;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{Semaphore, watch};

use super::clients::Seat;
use super::config::{LogLevel, ServeSettings};
use super::conn;
use super::error::ServeError;
use super::shared::{Server, Shared};
use super::stats::Outcome;

fn allowed(shared: &Shared, ip: IpAddr) -> bool {
    // Peers on a dual-stack socket appear as ::ffff:a.b.c.d; compare them as IPv4.
    let ip = ip.to_canonical();
    shared.settings.allow.iter().any(|net| net.contains(&ip))
}

/// The access check for a job connection: a refused peer is logged, counted, and gets
/// no reply at all.
pub(super) fn admit(shared: &Shared, addr: SocketAddr) -> bool {
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

/// A seat for a connection from `ip` (TCP or the secure link), or `None` when that
/// client holds its `--max-client-connections` already: then logged and counted, and
/// the caller closes the connection. `what` names what is closed.
pub(super) fn seat(shared: &Shared, ip: IpAddr, what: &str) -> Option<Seat> {
    let seat = shared.clients.admit(ip);
    if seat.is_none() {
        shared.log.log(
            LogLevel::Warning,
            &format!(
                "client: {} already holds {} connections (--max-client-connections); {what}",
                ip.to_canonical(),
                shared.settings.max_client_connections
            ),
        );
        shared.stats.refused("client_limit");
    }
    seat
}

/// The bound sockets: job port and (with `--stats`) stats port, on every address.
pub struct Listeners {
    jobs: Vec<TcpListener>,
    stats: Vec<TcpListener>,
}

impl Listeners {
    /// Where jobs are accepted (port 0 in the settings is resolved here).
    pub fn job_addrs(&self) -> Vec<SocketAddr> {
        self.jobs
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// The job listeners, for a caller that accepts on them itself (the secure link's
    /// TLS front); the stats listeners are closed.
    pub fn into_job_listeners(self) -> Vec<TcpListener> {
        self.jobs
    }

    /// Where the stats page is served (empty without `--stats`).
    pub fn stats_addrs(&self) -> Vec<SocketAddr> {
        self.stats
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }
}

/// Bind the job port and, with `--stats`, the stats port on every `--listen` address
/// (or the wildcard). Async only because the sockets register with the running Tokio
/// reactor.
pub async fn bind(settings: &ServeSettings) -> Result<Listeners, ServeError> {
    let jobs = bind_all(settings, settings.port)?;
    let stats = match settings.stats_port {
        Some(p) => bind_all(settings, p)?,
        None => Vec::new(),
    };
    Ok(Listeners { jobs, stats })
}

#[allow(
    clippy::disallowed_methods,
    reason = "the server's own door: it listens for distcc clients"
)]
fn bind_one(addr: SocketAddr) -> Result<TcpListener, ServeError> {
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
fn bind_all(settings: &ServeSettings, port: u16) -> Result<Vec<TcpListener>, ServeError> {
    if settings.listen.is_empty() {
        return match bind_one(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)) {
            Ok(l) => Ok(vec![l]),
            Err(_) => Ok(vec![bind_one(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                port,
            ))?]),
        };
    }
    settings
        .listen
        .iter()
        .map(|ip| bind_one(SocketAddr::new(*ip, port)))
        .collect()
}

fn local(l: &TcpListener) -> String {
    l.local_addr()
        .map_or_else(|_| "?".into(), |a| a.to_string())
}

/// Serve jobs (and the stats page) on `listeners` until `shutdown` completes; then stop
/// accepting, give running jobs the grace period, kill the compilers still running and
/// return. `shutdown`'s output says why in the log ("SIGTERM", "--lifetime").
pub async fn run<F, Why>(
    server: &Server,
    listeners: Listeners,
    shutdown: F,
) -> Result<(), ServeError>
where
    F: Future<Output = Why>,
    Why: Display,
{
    let shared = &server.shared;
    log_start(shared, &listeners);
    let conns = Arc::new(Semaphore::new(shared.settings.max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for l in listeners.jobs {
        tasks.push(tokio::spawn(accept_loop(
            shared.clone(),
            l,
            conns.clone(),
            stop_rx.clone(),
        )));
    }
    for l in listeners.stats {
        tasks.push(tokio::spawn(stats_loop(shared.clone(), l, stop_rx.clone())));
    }
    let why = shutdown.await;
    shared.log.log(
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
    drain(shared, &conns).await;
    shared.groups.kill_all();
    shared.log.log(LogLevel::Notice, "stopped");
    Ok(())
}

fn log_start(shared: &Shared, listeners: &Listeners) {
    let log = &shared.log;
    log.log(
        LogLevel::Notice,
        &format!(
            "listening on {}; jobs {}; allow {}; compilers: {}",
            listeners
                .jobs
                .iter()
                .map(local)
                .collect::<Vec<_>>()
                .join(" "),
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
    for l in &listeners.stats {
        log.log(LogLevel::Notice, &format!("stats on {}", local(l)));
    }
    let (level, filter) = match &shared.seccomp {
        Some(_) => (
            LogLevel::Notice,
            "on (no sockets, ptrace, mounts, BPF, keyrings or namespaces in a compile)",
        ),
        None => (
            LogLevel::Warning,
            "unavailable on this architecture: compiles are confined by Landlock and the user",
        ),
    };
    log.log(level, &format!("system-call filter: {filter}"));
}

/// The grace period: wait for every connection to finish; when it runs out, kill the
/// compiles still running and let their jobs clean up.
async fn drain(shared: &Shared, conns: &Semaphore) {
    let max = u32::try_from(shared.settings.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(shared.settings.grace, conns.acquire_many(max)).await;
    if drained.is_err() {
        shared.log.log(
            LogLevel::Warning,
            "grace period over: killing the compiles still running",
        );
        shared.groups.kill_all();
        // Let the killed jobs clean up their directories.
        let _ = tokio::time::timeout(Duration::from_secs(5), conns.acquire_many(max)).await;
    }
}

async fn accept_loop(
    shared: Arc<Shared>,
    listener: TcpListener,
    conns: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = AcceptBackoff::default();
    loop {
        let permit = tokio::select! {
            p = conns.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = stop.changed() => return,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => { backoff.reset(); x }
                Err(e) => {
                    // EMFILE and friends: stop accepting for a while (the pending
                    // connections wait in the backlog) and say so once per interval.
                    let (pause, line) = backoff.failed(&e, std::time::Instant::now());
                    if let Some(line) = line {
                        shared.log.log(LogLevel::Warning, &line);
                    }
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return,
                    }
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
        let Some(seat) = seat(&shared, addr.ip(), "closed") else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            conn::serve(&shared, stream, Some(addr), Some(seat)).await;
            drop(permit);
        });
    }
}

/// How long to stop accepting after a failed accept, and when to log it again.
#[derive(Default)]
struct AcceptBackoff {
    pause: Duration,
    last_log: Option<std::time::Instant>,
    suppressed: u64,
}

impl AcceptBackoff {
    /// Between two log lines about failing accepts.
    const LOG_INTERVAL: Duration = Duration::from_secs(10);

    fn reset(&mut self) {
        self.pause = Duration::ZERO;
    }

    /// Record a failure at `now`; the pause before the next accept (100 ms doubling to
    /// 2 s when descriptors or memory run out, 50 ms otherwise), and the line to log, at
    /// most one per [`Self::LOG_INTERVAL`].
    fn failed(
        &mut self,
        e: &std::io::Error,
        now: std::time::Instant,
    ) -> (Duration, Option<String>) {
        let exhausted = matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
        );
        self.pause = if exhausted {
            (self.pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(2))
        } else {
            Duration::from_millis(50)
        };
        if self
            .last_log
            .is_some_and(|t| now.duration_since(t) < Self::LOG_INTERVAL)
        {
            self.suppressed += 1;
            return (self.pause, None);
        }
        let more = if self.suppressed > 0 {
            format!(" ({} more since the last report)", self.suppressed)
        } else {
            String::new()
        };
        self.last_log = Some(now);
        self.suppressed = 0;
        let line = format!(
            "accept failed: {e}{more}; pausing accepts (next report in {} s at most)",
            Self::LOG_INTERVAL.as_secs()
        );
        (self.pause, Some(line))
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

#[cfg(test)]
mod backoff_tests {
    use super::*;

    /// Issue 12's EMFILE storm, on a clock the test drives: accepts fail back to back
    /// for a minute; the log gets one line per 10 s, each saying how many it folded.
    #[test]
    fn failing_accepts_pause_longer_and_log_once_per_interval() {
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let mut b = AcceptBackoff::default();
        let start = std::time::Instant::now();
        let mut at = start;
        let mut lines = Vec::new();
        let mut pauses = Vec::new();
        while at < start + Duration::from_secs(60) {
            let (pause, line) = b.failed(&emfile, at);
            pauses.push(pause);
            lines.extend(line.map(|l| (at - start, l)));
            at += pause;
        }
        let ms: Vec<u128> = pauses.iter().take(6).map(Duration::as_millis).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000]);
        assert_eq!(lines.len(), 6, "{lines:?}");
        assert!(
            lines[0].1.starts_with("accept failed: Too many open files"),
            "{lines:?}"
        );
        assert!(!lines[0].1.contains("more since"));
        for pair in lines.windows(2) {
            assert!(
                pair[1].0 - pair[0].0 >= AcceptBackoff::LOG_INTERVAL,
                "{lines:?}"
            );
        }
        assert!(
            lines[1].1.contains("more since the last report"),
            "{lines:?}"
        );
        // After a success the pause starts small again.
        b.reset();
        assert_eq!(b.failed(&emfile, at).0, Duration::from_millis(100));
    }
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "tests build fixtures on disk and connect as clients"
)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use crate::test_support::{Scratch, decode_reply, request};
    use crate::{Server, bind, run};

    #[tokio::test]
    async fn run_serves_jobs_and_stats_until_the_shutdown_future_completes() {
        let scratch = Scratch::new();
        let mut settings = scratch.settings();
        settings.stats_port = Some(0);
        let server = Server::new(settings).expect("valid settings");
        let listeners = bind(server.settings()).await.expect("bound on 127.0.0.1");
        let jobs = *listeners.job_addrs().first().expect("a job address");
        let stats = *listeners.stats_addrs().first().expect("a stats address");
        assert!(jobs.ip().is_loopback() && stats.ip().is_loopback());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn({
            let server = server.clone();
            async move {
                let shutdown = async {
                    let _ = stopped.await;
                    "test shutdown"
                };
                run(&server, listeners, shutdown).await
            }
        });
        let exchange = async {
            let mut conn = TcpStream::connect(jobs).await.expect("connected");
            let req = request(2, "gcc -c answer.c -o answer.o");
            conn.write_all(&req).await.expect("request sent");
            let mut reply = Vec::new();
            conn.read_to_end(&mut reply).await.expect("reply read");
            let mut page = Vec::new();
            let mut conn = TcpStream::connect(stats).await.expect("connected");
            conn.read_to_end(&mut page).await.expect("page read");
            (reply, String::from_utf8_lossy(&page).into_owned())
        };
        let (reply, page) = tokio::time::timeout(Duration::from_secs(60), exchange)
            .await
            .expect("served in time");
        assert_eq!(decode_reply(2, &reply).status, 0, "{}", scratch.log());
        assert!(page.contains("\ndcc_compile_ok 1\n"), "{page}");
        stop.send(()).expect("the server is still running");
        let ended = tokio::time::timeout(Duration::from_secs(30), serving)
            .await
            .expect("run returns after shutdown");
        assert!(matches!(ended, Ok(Ok(()))));
        let log = scratch.log();
        assert!(log.contains("test shutdown: no longer accepting"), "{log}");
        assert!(log.contains("stopped"), "{log}");
        assert!(TcpStream::connect(jobs).await.is_err(), "still accepting");
    }
}
