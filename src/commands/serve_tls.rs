//! `distsetup serve --tls`: the volunteer's end of the secure link. The server is the
//! same (`serve_link_stream` runs each job like a TCP one); in front of it sits the TLS
//! listener that admits only the masters pinned in /etc/distsetup/trusted-masters, re-read
//! on every handshake so `distsetup trust remove` takes effect on the next connection.
//! With `--forward ADDR` each job goes to a local distccd instead. With `--plain-port N`
//! plain distcc is served beside it on N, for the clients `--allow` names.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use distsetup::link::trust::{StoreKind, TRUSTED_MASTERS, TrustStore};
use distsetup::link::{Fingerprint, LinkEvent, LinkServer, MuxStream};
use distsetup::plan::SysRoot;
use distsetup::server::{self, LogLevel, ServeError, Server};

use super::trust::{KeyOwner, identity};
use crate::cli::ServeArgs;

/// The check a handshake asks: is this master's key in the trusted-masters file now?
fn pinned_masters(file: PathBuf) -> impl Fn(&Fingerprint) -> Result<(), String> + Send + Sync {
    move |fp| match TrustStore::read(StoreKind::Masters, &file) {
        Ok(store) if store.trusts(fp) => Ok(()),
        Ok(_) => Err(format!(
            "master key {fp} is not in {TRUSTED_MASTERS}; to accept it run: distsetup trust add --master {fp}"
        )),
        Err(e) => Err(format!("cannot read the trusted masters: {e}")),
    }
}

fn log_event(server: &Server, e: LinkEvent) {
    let (level, msg) = match e {
        LinkEvent::Connected { peer, key } => (
            LogLevel::Notice,
            format!(
                "link: master {} connected with key {key}",
                peer.ip().to_canonical()
            ),
        ),
        LinkEvent::Refused { peer, why } => (
            LogLevel::Warning,
            format!("link: refused {}: {why}", peer.ip().to_canonical()),
        ),
        LinkEvent::Closed { peer, why } => (
            LogLevel::Info,
            format!("link: master {} gone: {why}", peer.ip().to_canonical()),
        ),
    };
    server.log(level, &msg);
}

/// `--forward`: only to this machine (distccd then listens on loopback alone).
fn forward_target(a: &ServeArgs) -> Result<Option<SocketAddr>, ServeError> {
    match a.forward {
        Some(addr) if !addr.ip().is_loopback() => Err(ServeError::BadSetting {
            setting: "--forward",
            value: addr.to_string(),
            reason: "the link hands jobs to a distccd on this machine only: use 127.0.0.1:PORT \
                     and let distccd listen on loopback alone"
                .into(),
        }),
        other => Ok(other),
    }
}

/// Serve the secure link until SIGTERM, SIGINT, SIGHUP or `--lifetime`.
pub async fn run(server: &Server, a: &ServeArgs) -> anyhow::Result<()> {
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    let forward = forward_target(a)?;
    let Some((id, made)) = identity(&root, KeyOwner::ServiceUser, true)? else {
        anyhow::bail!("no key pair could be made");
    };
    let pins = Arc::new(pinned_masters(
        root.path(std::path::Path::new(TRUSTED_MASTERS)),
    ));
    let mut link = LinkServer::new(&id, pins)?;
    link.grace = server.settings().grace;
    // A peer gets the I/O time-out to finish its handshake, and never more than 10 s.
    link.handshake_timeout = server
        .settings()
        .io_timeout
        .min(std::time::Duration::from_secs(10));
    // Bound before root is given up, like the link's port.
    let plain = match a.plain_port {
        Some(port) => {
            let mut s = server.settings().clone();
            s.port = port;
            s.stats_port = None;
            Some(server::bind(&s).await?)
        }
        None => None,
    };
    let (listeners, shutdown, pid_file) = super::serve::start(server).await?;
    let addrs = listeners.job_addrs();
    let where_to = match forward {
        Some(f) => format!("jobs forwarded to {f}"),
        None => "jobs compiled here".into(),
    };
    server.log(
        LogLevel::Notice,
        &format!(
            "secure link on {}; key {}{}; {where_to}",
            addrs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" "),
            id.fingerprint(),
            if made { " (new)" } else { "" },
        ),
    );
    let logger = server.clone();
    let on_event = Arc::new(move |e| log_event(&logger, e));
    let jobs = server.clone();
    let handler = move |stream: MuxStream, peer: SocketAddr| {
        let server = jobs.clone();
        async move {
            match forward {
                Some(to) => {
                    if let Err(e) = distsetup::link::server::forward(stream, &to.to_string()).await
                    {
                        server.log(
                            LogLevel::Warning,
                            &format!("link: forwarding a job to {to}: {e}"),
                        );
                    }
                }
                None => {
                    server::serve_link_stream(&server, stream, peer).await;
                }
            }
        }
    };
    // One shutdown stops both. The plain port stops once the link has given its jobs
    // their grace period: its server kills every compile still running when it stops.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(None);
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let server_log = server.clone();
    tokio::spawn(async move {
        let why = shutdown.await;
        server_log.log(LogLevel::Notice, &format!("{why}: no longer accepting"));
        let _ = stop_tx.send(Some(why));
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<Option<&'static str>>| async move {
        let why = rx.wait_for(Option::is_some).await.ok().and_then(|w| *w);
        why.unwrap_or("stopped")
    };
    let link_stop = stopped(stop_rx.clone());
    let link_run = async {
        link.run(listeners.into_job_listeners(), on_event, handler, async {
            link_stop.await;
        })
        .await;
        let _ = done_tx.send(true);
    };
    let plain_stop = async {
        let mut done = done_rx.clone();
        let _ = done.wait_for(|d| *d).await;
        stopped(stop_rx.clone()).await
    };
    let plain_run = async {
        match plain {
            Some(l) => server::run(server, l, plain_stop).await,
            None => Ok(()),
        }
    };
    let has_plain = a.plain_port.is_some();
    let ((), plain_result) = tokio::join!(link_run, plain_run);
    plain_result?;
    // The plain port's server says it itself.
    if !has_plain {
        server.log(LogLevel::Notice, "stopped");
    }
    drop(pid_file);
    Ok(())
}
