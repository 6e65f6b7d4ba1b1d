//! `distsetup relay`: the relay's process. The library (`distsetup::relay`) schedules;
//! this module resolves the host list into volunteers, builds the runtime, follows
//! `+zeroconf`, and stops on SIGTERM, SIGINT or `--lifetime`.

use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use distsetup::hostspec::{self, Item, Transport as Via};
use distsetup::relay::local::LocalTransport;
use distsetup::relay::transport::tls::TlsTransport;
use distsetup::relay::{Relay, RelaySettings, TcpTransport, Transport, Volunteer};

use super::ExitStatus;
use crate::cli::RelayArgs;

/// How often `+zeroconf` is browsed again.
const ZEROCONF_EVERY: Duration = Duration::from_secs(30);

/// `distsetup relay`.
pub fn run(a: &RelayArgs) -> anyhow::Result<ExitStatus> {
    if !a.listen.ip().is_loopback() {
        anyhow::bail!(
            "--listen {}: the relay serves this machine's distcc client only, on a loopback address (127.0.0.1)",
            a.listen
        );
    }
    let list = hostspec::parse(&a.hosts).context("--hosts")?;
    let zeroconf = list
        .entries
        .iter()
        .any(|e| matches!(e.item, Item::Zeroconf));
    let settings = RelaySettings {
        io_timeout: Duration::from_secs(a.io_timeout.max(1)),
        local_timeout: Duration::from_secs(a.io_timeout.max(1)),
        max_attempts: a.attempts.max(1),
        hedge_percent: a.hedge_percent.min(100),
        hedge_after: Duration::from_millis(a.hedge_after_ms),
        hedge_warmup: a.hedge_warmup,
        ..RelaySettings::default()
    };
    let slots = a
        .local_slots
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let mut serve = distsetup::server::ServeSettings::new();
        // The master's own compilers, never distcc's masquerade links (a loop).
        serve.log_level = distsetup::server::LogLevel::Warning;
        let local: Arc<dyn Transport> = Arc::new(LocalTransport::new(serve, slots)?);
        let connect = Duration::from_secs(a.connect_timeout.max(1));
        let root = a.root.clone().unwrap_or_else(|| "/".into());
        let mode: distsetup::link::compress::Mode = a
            .link_compression
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--link-compression {e}"))?;
        let fixed = volunteers(&list, connect, &local, &root, mode)?;
        let relay = Relay::new(settings, fixed.clone(), Arc::clone(&local));
        let listener = distsetup::relay::bind(a.listen).await?;
        // The key (root's alone) was read and the port bound: root is no longer needed.
        if let Some(user) = &a.user {
            let state = distsetup::server::confine::drop_privileges(user, &[])?;
            eprintln!("distsetup relay: running as {}", state.user);
        }
        let addr = listener.local_addr().unwrap_or(a.listen);
        eprintln!(
            "distsetup relay: listening on {addr} for the distcc client; {} volunteer{}{}",
            fixed.len(),
            if fixed.len() == 1 { "" } else { "s" },
            if zeroconf { " + zeroconf" } else { "" }
        );
        if zeroconf {
            tokio::spawn(follow_zeroconf(relay.clone(), fixed, connect));
        }
        let shutdown = shutdown(a.lifetime)?;
        distsetup::relay::run(&relay, listener, shutdown).await?;
        anyhow::Ok(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(ExitStatus::Ok)
}

/// The list's hosts as volunteers: TCP hosts resolved now, `localhost/N` as N slots of
/// this machine. ssh hosts are refused (the relay speaks TCP; the secure link is its
/// way across untrusted networks).
fn volunteers(
    list: &hostspec::HostList,
    connect: Duration,
    local: &Arc<dyn Transport>,
    root: &std::path::Path,
    mode: distsetup::link::compress::Mode,
) -> anyhow::Result<Vec<Volunteer>> {
    let mut out = Vec::new();
    for h in list.hosts() {
        if h.options.down {
            continue;
        }
        let transport: Arc<dyn Transport> = match &h.transport {
            Via::Local => Arc::clone(local),
            Via::Tcp { host, .. } if h.options.tls => {
                let port = h.effective_port().unwrap_or(hostspec::DEFAULT_PORT);
                let root = distsetup::plan::SysRoot::new(root)?;
                let client = super::trust::link_client(&root, host, port)?;
                Arc::new(TlsTransport(client.with_compression(mode)))
            }
            Via::Tcp { host, .. } => {
                let port = h.effective_port().unwrap_or(hostspec::DEFAULT_PORT);
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                let addr: SocketAddr = (bare, port)
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .with_context(|| format!("--hosts: cannot resolve {host}"))?;
                Arc::new(TcpTransport {
                    addr,
                    connect_timeout: connect,
                })
            }
            Via::Ssh { .. } => anyhow::bail!(
                "--hosts: {h}: the relay reaches volunteers over TCP; ssh hosts are not relayed"
            ),
        };
        out.push(Volunteer {
            name: h
                .to_string()
                .split(['/', ','])
                .next()
                .unwrap_or_default()
                .to_owned(),
            transport,
            slots: h.effective_limit(),
            lzo: h.options.lzo,
        });
    }
    Ok(out)
}

/// `+zeroconf`: browse every distcc volunteer now and then; the relay's own probes
/// decide which of them may take which job.
async fn follow_zeroconf(relay: Relay, fixed: Vec<Volunteer>, connect: Duration) {
    loop {
        let found = tokio::task::spawn_blocking(|| {
            distsetup::zeroconf::browse::browse(distsetup::zeroconf::naming::SERVICE_TYPE)
        })
        .await;
        if let Ok(Ok(found)) = found {
            let mut all = fixed.clone();
            for f in found {
                let addr = SocketAddr::new(f.address, f.port);
                if all.iter().any(|v| v.name == addr.to_string()) {
                    continue;
                }
                all.push(Volunteer {
                    name: addr.to_string(),
                    transport: Arc::new(TcpTransport {
                        addr,
                        connect_timeout: connect,
                    }),
                    slots: u32::try_from(f.client_slots()).unwrap_or(4),
                    lzo: false,
                });
            }
            relay.set_volunteers(all);
        }
        tokio::time::sleep(ZEROCONF_EVERY).await;
    }
}

/// Completes on SIGTERM, SIGINT or after `lifetime` seconds.
fn shutdown(lifetime: Option<u64>) -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing signal handlers")?;
    let mut int = signal(SignalKind::interrupt()).context("installing signal handlers")?;
    Ok(async move {
        let lifetime = async {
            match lifetime {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            () = lifetime => {}
        }
    })
}
