//! `distsetup serve`: an embedded distcc-compatible compile server (protocols 1 and 2).
//!
//! Design:
//! - one task per connection; the request is read with an I/O time-out *before* a job
//!   slot is taken, so slow or idle peers cost a connection slot (capped separately) but
//!   never a compile slot;
//! - compilers run from the server's own [`compilers::CompilerTable`], spawned directly
//!   (no shell, no PATH search of a peer string) in their own process group, in a private
//!   job directory that is removed on every path;
//! - refusals for allowed peers are answered with a failing `STAT` and an explanation on
//!   `SERR`; disallowed peers and protocol violations get a closed connection.
//!
//! The library part stops at the process boundary, in the mini-redis manner: the caller
//! (`src/commands/serve.rs`) builds the runtime, sets process tunables, installs signal
//! handlers and writes the pid file; it hands [`run`] the [`Listeners`] from [`bind`] and
//! a `shutdown` future. [`serve_one`] is the `--inetd` path over any byte stream.
//!
//! Only this module opens sockets.

pub mod args;
pub mod compilers;
pub mod config;
pub mod confine;
mod conn;
mod daemon;
mod error;
pub mod inetd;
mod job;
pub mod log;
pub mod names;
mod options;
pub mod preflight;
mod reply;
mod shared;
pub mod stats;

pub use config::{Alias, LogLevel, ServeSettings};
pub use daemon::{Listeners, bind, run};
pub use error::ServeError;
pub use inetd::serve_one;
pub use shared::Server;

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "tests build fixtures on disk and connect as clients"
)]
mod test_support;
