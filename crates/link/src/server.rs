//! The volunteer's end: accept TLS connections on bound listeners, refuse every peer
//! whose key is not pinned (and anything that is not a TLS 1.3 distsetup link), and hand
//! each job stream to a handler. The handshake has a time limit and a cap on how many
//! may be in progress, so slow or idle peers cannot crowd out the masters.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::LinkError;
use crate::identity::{Fingerprint, Identity};
use crate::mux::{self, KeepAlive, MuxStream, Role};
use crate::tls::{self, PinCheck};

/// What happened on the link, for the server's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// A pinned master connected.
    Connected {
        /// Its address.
        peer: SocketAddr,
        /// Its key.
        key: Fingerprint,
    },
    /// A connection refused before any job: not TLS 1.3, not pinned, too slow, ...
    Refused {
        /// Its address.
        peer: SocketAddr,
        /// Why.
        why: String,
    },
    /// A master's link ended.
    Closed {
        /// Its address.
        peer: SocketAddr,
        /// Why.
        why: String,
    },
}

/// What serves one job stream: called with the stream and the master's address.
pub trait JobHandler: Clone + Send + Sync + 'static {
    /// The job's future.
    type Job: Future<Output = ()> + Send + 'static;
    /// Start serving `stream`.
    fn serve(&self, stream: MuxStream, peer: SocketAddr) -> Self::Job;
}

impl<H, F> JobHandler for H
where
    H: Fn(MuxStream, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    type Job = F;
    fn serve(&self, stream: MuxStream, peer: SocketAddr) -> F {
        self(stream, peer)
    }
}

/// The accepting side's settings.
pub struct LinkServer {
    config: Arc<rustls::ServerConfig>,
    /// Longest a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// Handshakes in progress at once; more connections are closed at once.
    pub max_handshakes: usize,
    /// Keep-alive timings.
    pub keepalive: KeepAlive,
    /// After shutdown, how long running jobs may take.
    pub grace: Duration,
}

impl LinkServer {
    /// Show `identity`; accept the masters `pins` accepts (asked on every handshake).
    pub fn new(identity: &Identity, pins: Arc<dyn PinCheck>) -> Result<LinkServer, LinkError> {
        Ok(LinkServer {
            config: tls::server_config(identity, pins)?,
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 64,
            keepalive: KeepAlive::default(),
            grace: Duration::from_secs(30),
        })
    }

    /// Accept on `listeners` until `shutdown` completes, calling `handler` for every job
    /// stream (with the master's address) and `on_event` for every connection's fate;
    /// then stop accepting and give running jobs the grace period.
    pub async fn run<H: JobHandler, S: Future<Output = ()>>(
        &self,
        listeners: Vec<TcpListener>,
        on_event: Arc<dyn Fn(LinkEvent) + Send + Sync>,
        handler: H,
        shutdown: S,
    ) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let jobs = Arc::new(());
        let mut loops = Vec::new();
        for l in listeners {
            let ctx = Accepting {
                acceptor: tokio_rustls::TlsAcceptor::from(self.config.clone()),
                handshake_timeout: self.handshake_timeout,
                keepalive: self.keepalive,
                handshakes: Arc::new(AtomicUsize::new(0)),
                max_handshakes: self.max_handshakes,
                on_event: on_event.clone(),
                jobs: jobs.clone(),
            };
            loops.push(tokio::spawn(accept_loop(
                ctx,
                l,
                handler.clone(),
                stop_rx.clone(),
            )));
        }
        shutdown.await;
        let _ = stop_tx.send(true);
        for l in loops {
            let _ = l.await;
        }
        let deadline = tokio::time::Instant::now() + self.grace;
        while Arc::strong_count(&jobs) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[derive(Clone)]
struct Accepting {
    acceptor: tokio_rustls::TlsAcceptor,
    handshake_timeout: Duration,
    keepalive: KeepAlive,
    handshakes: Arc<AtomicUsize>,
    max_handshakes: usize,
    on_event: Arc<dyn Fn(LinkEvent) + Send + Sync>,
    /// One clone per running job (counted at shutdown).
    jobs: Arc<()>,
}

async fn accept_loop<H: JobHandler>(
    ctx: Accepting,
    listener: TcpListener,
    handler: H,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        if ctx.handshakes.load(Ordering::Relaxed) >= ctx.max_handshakes {
            (ctx.on_event)(LinkEvent::Refused {
                peer,
                why: format!("{} handshakes already in progress", ctx.max_handshakes),
            });
            continue;
        }
        let _ = tcp.set_nodelay(true);
        ctx.handshakes.fetch_add(1, Ordering::Relaxed);
        let (ctx, handler, stop) = (ctx.clone(), handler.clone(), stop.clone());
        tokio::spawn(async move {
            let tls = handshake(&ctx, tcp, peer).await;
            ctx.handshakes.fetch_sub(1, Ordering::Relaxed);
            if let Some(tls) = tls {
                serve_link(ctx, tls, peer, handler, stop).await;
            }
        });
    }
}

type Tls = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

async fn handshake(ctx: &Accepting, tcp: tokio::net::TcpStream, peer: SocketAddr) -> Option<Tls> {
    let refuse = |why: String| (ctx.on_event)(LinkEvent::Refused { peer, why });
    let tls = match tokio::time::timeout(ctx.handshake_timeout, ctx.acceptor.accept(tcp)).await {
        Err(_) => {
            refuse(format!(
                "no TLS handshake within {} s",
                ctx.handshake_timeout.as_secs()
            ));
            return None;
        }
        Ok(Err(e)) => {
            refuse(format!(
                "TLS handshake failed: {}",
                tls::describe_handshake_error(&e)
            ));
            return None;
        }
        Ok(Ok(tls)) => tls,
    };
    let conn = tls.get_ref().1;
    if tls::alpn_version(conn.alpn_protocol()).is_none() {
        refuse(
            "TLS client does not speak the distsetup link (no ALPN distsetup-link/1 or /2)".into(),
        );
        return None;
    }
    let key = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| tls::fingerprint_of(c).ok());
    let Some(key) = key else {
        refuse("no client key".into());
        return None;
    };
    (ctx.on_event)(LinkEvent::Connected { peer, key });
    Some(tls)
}

async fn serve_link<H: JobHandler>(
    ctx: Accepting,
    tls: Tls,
    peer: SocketAddr,
    handler: H,
    mut stop: watch::Receiver<bool>,
) {
    let (mux, mut incoming) = mux::spawn(tls, Role::Server, ctx.keepalive);
    loop {
        let stream = tokio::select! {
            s = incoming.recv() => match s { Some(s) => s, None => break },
            _ = stop.changed() => break,
        };
        let job = handler.serve(stream, peer);
        let held = ctx.jobs.clone();
        tokio::spawn(async move {
            job.await;
            drop(held);
        });
    }
    let why = if *stop.borrow() {
        "server shutting down".to_owned()
    } else {
        mux.wait_closed().await
    };
    (ctx.on_event)(LinkEvent::Closed { peer, why });
}

/// `serve --tls --forward ADDR`: pipe one job stream to a local distccd and back.
pub async fn forward(mut stream: MuxStream, to: &str) -> io::Result<(u64, u64)> {
    let mut tcp = crate::client::connect_plain(to).await?;
    tokio::io::copy_bidirectional(&mut stream, &mut tcp).await
}
