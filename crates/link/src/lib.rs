//! The secure link between a master's relay and its volunteers: TLS 1.3 with pinned
//! Ed25519 keys on both sides, one long-lived connection per volunteer, jobs multiplexed
//! over it with per-job flow control and cancellation.
//!
//! Rooms: [`frame`] and [`window`] are sans-io (bytes and numbers only); [`identity`] and
//! [`trust`] parse and render (they read files, and never write them: the caller writes
//! through the plan); [`tls`] builds the rustls configurations; [`mux`], [`client`] and
//! [`server`] do the I/O; [`compress`] decides per link whether the master's bytes go
//! compressed (LZO, zstd) by measurement. Nothing about the distcc protocol changes: a
//! [`MuxStream`] carries one request and its reply, byte for byte.

pub mod client;
pub mod compress;
pub mod frame;
pub mod identity;
pub mod mux;
pub mod server;
pub mod tls;
pub mod trust;
pub mod window;

pub use client::{LinkClient, LinkTarget};
pub use identity::{Fingerprint, Identity};
pub use mux::MuxStream;
pub use server::{LinkEvent, LinkServer};
pub use trust::{StoreKind, TrustEntry, TrustStore};

use std::path::PathBuf;

/// Everything the link can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// Not a fingerprint in any spelling we read.
    #[error(
        "not a key fingerprint: '{0}' (expected 13 groups of 4 letters and digits, as `distsetup trust list` shows)"
    )]
    BadFingerprint(String),
    /// A key that cannot be made or read.
    #[error("key: {0}")]
    Key(String),
    /// A key file others may read.
    #[error(
        "{path}: key file has mode {mode:04o}; it must be readable by its owner only (chmod 600)"
    )]
    KeyPermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line of a trust store that does not parse.
    #[error("{path}:{line}: {reason}")]
    TrustFile {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A peer key that is not pinned.
    #[error("{0}")]
    NotPinned(String),
    /// The TLS library refused a setting.
    #[error("TLS: {0}")]
    Tls(String),
    /// An I/O error, with what we were doing.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}
