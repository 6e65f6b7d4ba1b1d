//! The error of starting and running the server. A leaf: every server module may use it.

use thiserror::Error;

/// Why the server could not start (or stopped with an error).
#[derive(Debug, Error)]
pub enum ServeError {
    /// No `--allow`: distccd 3.4 then serves everyone; we refuse to start.
    #[error(
        "no --allow given: refusing to serve every host on the network. Name the clients, \
         e.g. --allow 192.168.1.0/24 (or --allow 127.0.0.1/32 for this machine only)"
    )]
    NoAllow,
    /// A setting that cannot work.
    #[error("{setting} {value}: {reason}")]
    BadSetting {
        /// The flag.
        setting: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: String,
    },
    /// Could not listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address and port.
        addr: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Any other I/O failure at startup.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}
