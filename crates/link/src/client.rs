//! The master's end: one long-lived link per volunteer, opened on first use, kept alive,
//! and re-opened after a failure with an exponential back-off (a link that is down
//! fails fast, so the relay can place the job elsewhere instead of waiting).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::time::Instant;

use crate::LinkError;
use crate::compress::{Choice, Mode, Policy};
use crate::identity::Identity;
use crate::mux::{self, KeepAlive, MuxHandle, MuxStream, Role};
use crate::tls::{self, PinCheck};

/// Where a link goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    /// `HOST:PORT` to connect to (names are resolved on each connect).
    pub addr: String,
}

/// Time limits of the client.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// TCP connect.
    pub connect: Duration,
    /// The TLS handshake after it.
    pub handshake: Duration,
    /// First pause after a failed connect; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause between attempts.
    pub max_backoff: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> ClientTimeouts {
        ClientTimeouts {
            connect: Duration::from_secs(5),
            handshake: Duration::from_secs(10),
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
        }
    }
}

#[derive(Default)]
struct State {
    mux: Option<MuxHandle>,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: String,
}

/// A link to one volunteer.
pub struct LinkClient {
    target: LinkTarget,
    config: Arc<rustls::ClientConfig>,
    timeouts: ClientTimeouts,
    keepalive: KeepAlive,
    state: tokio::sync::Mutex<State>,
    policy: Arc<Policy>,
}

impl LinkClient {
    /// A link to `target` showing `identity`, accepting the volunteer keys `pins` accepts
    /// (asked on every handshake). Nothing is connected yet.
    pub fn new(
        target: LinkTarget,
        identity: &Identity,
        pins: Arc<dyn PinCheck>,
    ) -> Result<LinkClient, LinkError> {
        Ok(LinkClient {
            target,
            config: tls::client_config(identity, pins)?,
            timeouts: ClientTimeouts::default(),
            keepalive: KeepAlive::default(),
            state: tokio::sync::Mutex::new(State::default()),
            policy: Arc::new(Policy::new(Mode::Auto)),
        })
    }

    /// How the link compresses (default: by measurement).
    pub fn with_compression(mut self, mode: Mode) -> LinkClient {
        self.policy = Arc::new(Policy::new(mode));
        self
    }

    /// The compression chosen now, and why.
    pub fn compression(&self) -> Choice {
        self.policy.choice()
    }

    /// Other time limits (tests, slow links).
    pub fn with_timeouts(mut self, timeouts: ClientTimeouts, keepalive: KeepAlive) -> LinkClient {
        self.timeouts = timeouts;
        self.keepalive = keepalive;
        self
    }

    /// Where it goes.
    pub fn target(&self) -> &LinkTarget {
        &self.target
    }

    /// What the relay shows for this transport.
    pub fn kind(&self) -> String {
        match self.policy.choice().codec {
            crate::compress::Codec::None => "tls".into(),
            codec => format!("tls+{}", codec.name()),
        }
    }

    /// A new job stream, connecting (or reconnecting) first when needed. While the link
    /// is backing off after a failure this fails at once, saying when it retries.
    pub async fn open_stream(&self) -> io::Result<MuxStream> {
        let mut st = self.state.lock().await;
        if let Some(mux) = &st.mux {
            match mux.open() {
                Ok(s) => return Ok(s),
                Err(_) => st.mux = None,
            }
        }
        if let Some(at) = st.retry_at {
            let now = Instant::now();
            if now < at {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    format!(
                        "link to {} is down ({}); next attempt in {} ms",
                        self.target.addr,
                        st.last_error,
                        (at - now).as_millis()
                    ),
                ));
            }
        }
        match self.connect().await {
            Ok(mux) => {
                st.failures = 0;
                st.retry_at = None;
                let stream = mux.open();
                st.mux = Some(mux);
                stream
            }
            Err(e) => {
                let pause = self
                    .timeouts
                    .backoff
                    .saturating_mul(1 << st.failures.min(16))
                    .min(self.timeouts.max_backoff);
                st.failures += 1;
                st.retry_at = Some(Instant::now() + pause);
                st.last_error = e.to_string();
                Err(e)
            }
        }
    }

    async fn connect(&self) -> io::Result<MuxHandle> {
        let addr = &self.target.addr;
        let tcp = tokio::time::timeout(self.timeouts.connect, connect_tcp(addr))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connecting to {addr} timed out"),
                )
            })??;
        let _ = tcp.set_nodelay(true);
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        // The name is not checked (the pin is); it only fills the handshake's field.
        let name = ServerName::try_from("distsetup-link.invalid")
            .map_err(|e| io::Error::other(e.to_string()))?;
        let tls = tokio::time::timeout(self.timeouts.handshake, connector.connect(name, tcp))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("TLS handshake with {addr} timed out"),
                )
            })?
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "TLS handshake with {addr}: {}",
                        tls::describe_handshake_error(&e)
                    ),
                )
            })?;
        let Some(compressed) = tls::alpn_version(tls.get_ref().1.alpn_protocol()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{addr} does not speak the distsetup link"),
            ));
        };
        self.policy.set_negotiated(compressed);
        let policy = Some(self.policy.clone());
        let (mux, _) = mux::spawn_with(tls, Role::Client, self.keepalive, policy);
        Ok(mux)
    }
}

// The link is the relay's transport: opening its connections is its job, like the
// relay's plain-TCP transport.
#[allow(clippy::disallowed_methods)]
async fn connect_tcp(addr: &str) -> io::Result<tokio::net::TcpStream> {
    tokio::net::TcpStream::connect(addr).await
}

#[allow(clippy::disallowed_methods)]
pub(crate) async fn connect_plain(addr: &str) -> io::Result<tokio::net::TcpStream> {
    connect_tcp(addr).await
}
