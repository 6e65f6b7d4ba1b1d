//! How the relay reaches a volunteer. The scheduler only ever sees a [`Transport`]: plain
//! distcc over TCP ([`TcpTransport`]), the secure link, or the master itself
//! ([`crate::local::LocalTransport`]).

use std::net::SocketAddr;
use std::time::Duration;

pub mod tls;

/// A byte stream that carries one job.
pub trait JobStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> JobStream for T {}
/// A boxed [`JobStream`].
pub type BoxJobStream = Box<dyn JobStream>;
/// One volunteer's way in. Opening gives a fresh byte stream that carries exactly one distcc
/// request/reply; dropping it cancels the job (hedging).
pub trait Transport: Send + Sync + 'static {
    /// A fresh stream for one job.
    fn open(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<BoxJobStream>> + Send + '_>,
    >;
    /// Short name for `top`: "tcp", "tls", "tls+zstd".
    fn kind(&self) -> String;
    /// More for `top` when there is more to say (the link's compression and why).
    fn detail(&self) -> Option<String> {
        None
    }
}

/// What [`Transport::open`] returns, for implementations to name.
pub type Opening<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<BoxJobStream>> + Send + 'a>>;

/// Plain distcc over TCP (distccd or `distsetup serve` on a trusted network).
#[derive(Debug, Clone)]
pub struct TcpTransport {
    /// The volunteer's address.
    pub addr: SocketAddr,
    /// How long a connect may take before the volunteer counts as refusing.
    pub connect_timeout: Duration,
}

impl Transport for TcpTransport {
    #[allow(
        clippy::disallowed_methods,
        reason = "the relay's door: connecting to a volunteer"
    )]
    fn open(&self) -> Opening<'_> {
        Box::pin(async move {
            let connect = tokio::net::TcpStream::connect(self.addr);
            let stream = tokio::time::timeout(self.connect_timeout, connect)
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("connect to {} timed out", self.addr),
                    )
                })??;
            // Requests and replies are written whole; no reason to wait for more.
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxJobStream)
        })
    }

    fn kind(&self) -> String {
        "tcp".into()
    }
}
