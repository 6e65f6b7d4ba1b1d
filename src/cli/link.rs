//! The relay, its live view and the secure link's keys: `distsetup relay`, `top`, `trust`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::WriteFlags;

/// `distsetup relay`.
#[derive(Debug, Args)]
#[command(
    long_about = "Listen on a loopback address for the stock distcc client \
                  (DISTCC_HOSTS=127.0.0.1:PORT/N, as `distsetup master --relay` writes) and \
                  send each job to the volunteer expected to finish it first, among those whose \
                  compiler of the same name matches this machine's (target, gcc version, PIE \
                  default). A volunteer that fails is benched and the job goes elsewhere; only \
                  when none is left does this machine compile it, and `distsetup top` counts \
                  it. A compile error is passed through unchanged."
)]
pub struct RelayArgs {
    /// Loopback address and port to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3632")]
    pub listen: std::net::SocketAddr,
    /// The volunteers, in distcc's host-list syntax (`HOST[:PORT][/LIMIT][,lzo]`, `+zeroconf`); `,tls`: over the secure link (pinned with `distsetup trust add`).
    #[arg(long, value_name = "SPEC")]
    pub hosts: String,
    /// Seconds of silence from a volunteer (a compile included) before the attempt fails.
    #[arg(long, value_name = "SECS", default_value_t = distsetup::relay::DEFAULT_IO_TIMEOUT_SECS)]
    pub io_timeout: u64,
    /// Seconds a connect to a volunteer may take.
    #[arg(long, value_name = "SECS", default_value_t = 4)]
    pub connect_timeout: u64,
    /// Attempts on volunteers per job before this machine compiles it.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub attempts: u32,
    /// Duplicates for stragglers, at most this percentage of the jobs (0: never).
    #[arg(long, value_name = "PCT", default_value_t = 5)]
    pub hedge_percent: u32,
    /// No duplicate for a job younger than this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub hedge_after_ms: u64,
    /// No duplicate before this many jobs finished (the predictions need a track record).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub hedge_warmup: usize,
    /// Parallel compiles on this machine when no volunteer is left (default: its CPUs).
    #[arg(long, value_name = "N")]
    pub local_slots: Option<usize>,
    /// Stop by itself after SECS (tests, benchmarks).
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u64>,
    /// Find /etc/distsetup (this master's key pair, the pinned volunteers of `,tls` hosts) under DIR.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Compression on `,tls` links: auto (by the measured compression speed of this machine and bandwidth of each link), none, lzo or zstd.
    #[arg(long, value_name = "CODEC", default_value = "auto", value_parser = ["auto", "none", "lzo", "zstd"])]
    pub link_compression: String,
    /// Started as root: after reading this machine's key (`,tls` hosts) and binding, run as USER (OpenRC and runit start the relay this way; systemd hands the key to a dynamic user instead).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
}

/// `distsetup top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// The relay's address (where the client sends jobs).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3632")]
    pub relay: std::net::SocketAddr,
    /// Print one snapshot and exit.
    #[arg(long)]
    pub once: bool,
    /// With --once: the snapshot as JSON (for scripts).
    #[arg(long, requires = "once")]
    pub json: bool,
    /// Draw the last build's timeline (one row per host slot) into FILE as SVG, and exit.
    #[arg(long, value_name = "FILE")]
    pub timeline: Option<PathBuf>,
}

/// Arguments of `distsetup trust`.
#[derive(Debug, Args)]
#[command(
    long_about = "Pin the keys of the secure link, like ssh's known_hosts but both ways. Each \
    machine has an Ed25519 key pair under /etc/distsetup/ (made on first use, mode 0600); its \
    fingerprint is the SHA-256 of the public key in 13 groups of four. A master pins its \
    volunteers in /etc/distsetup/trusted-volunteers, a volunteer its masters in \
    /etc/distsetup/trusted-masters. Changes go through the usual diff and `distsetup undo`; \
    a removal takes effect on the next connection, without restarting anything. Undo keeps \
    the key pair."
)]
pub struct TrustArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: TrustAction,
}

/// `distsetup trust` subcommands.
#[derive(Debug, Subcommand)]
pub enum TrustAction {
    /// On a master: pin volunteer HOST's key (and print this master's fingerprint); with --master FINGERPRINT on a volunteer: accept that master.
    Add(TrustAddArgs),
    /// Print this machine's fingerprint and every pinned key.
    List(TrustListArgs),
    /// Unpin a host, a master's note or a fingerprint (from both lists).
    Remove(TrustRemoveArgs),
}

/// Arguments of `distsetup trust add`.
#[derive(Debug, Args)]
pub struct TrustAddArgs {
    /// The volunteer as written in --hosts: HOST or HOST:PORT.
    #[arg(required_unless_present = "master", conflicts_with = "master")]
    pub host: Option<String>,
    /// The volunteer's fingerprint, as `distsetup volunteer --secure` printed it.
    #[arg(required_unless_present = "master", conflicts_with = "master")]
    pub fingerprint: Option<String>,
    /// On a volunteer: accept the master with this fingerprint (as the master printed it).
    #[arg(long, value_name = "FINGERPRINT")]
    pub master: Option<String>,
    /// With --master: a note kept beside the key (which machine it is).
    #[arg(long, value_name = "TEXT", requires = "master")]
    pub note: Option<String>,
    /// Shared flags.
    #[command(flatten)]
    pub write: WriteFlags,
}

/// Arguments of `distsetup trust list`.
#[derive(Debug, Args)]
pub struct TrustListArgs {
    /// Resolve every system path under DIR.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Arguments of `distsetup trust remove`.
#[derive(Debug, Args)]
pub struct TrustRemoveArgs {
    /// A volunteer's HOST, a master's note, or a fingerprint.
    pub what: String,
    /// Shared flags.
    #[command(flatten)]
    pub write: WriteFlags,
}
