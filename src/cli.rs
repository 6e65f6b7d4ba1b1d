//! The command-line contract: clap definitions only. Completions and man pages are
//! generated from here; `commands/` resolves the parsed arguments into settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod link;
pub use link::{RelayArgs, TopArgs, TrustAction, TrustAddArgs, TrustArgs, TrustRemoveArgs};

/// Turns a pile of machines into a working distcc build cluster.
#[derive(Debug, Parser)]
#[command(
    name = "distsetup",
    version,
    about = "Turns a pile of machines into a working distcc build cluster",
    long_about = "Turns a pile of machines into a working distcc build cluster: configures \
                  the master (makepkg.conf, make.conf, /etc/distcc/hosts), the volunteers \
                  (cross toolchains, aliases, whitelist, services), and can itself be the \
                  compile server.\n\nExit codes: 0 success or nothing to change; 1 a negative \
                  answer (--check found pending changes, --get found no assignment, doctor \
                  found a problem); 2 input rejected (syntax error, unsafe edit, dynamic \
                  value, bad arguments); 3 system failure (missing file, permission denied, \
                  port in use); 4 aborted (declined, or a file changed since the diff)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read or change assignments in a shell-style config file, keeping every other byte.
    Edit(EditArgs),
    /// Check a distcc host list: one line per host, total slots, warnings.
    Hosts(HostsArgs),
    /// Undo an applied change set of this root (default: the newest), or list them.
    Undo(UndoArgs),
    /// Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts).
    Master(MasterArgs),
    /// Configure this machine as a volunteer: toolchain aliases, server configuration, service.
    Volunteer(VolunteerArgs),
    /// Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer's).
    Doctor(DoctorArgs),
    /// Set up this machine as a master or a volunteer by answering questions.
    Wizard(WizardArgs),
    /// Print shell completions for SHELL to standard output.
    Completions(CompletionsArgs),
    /// Write completions and man pages into DIR (what is checked in under completions/ and man/).
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
    /// Be a distcc-compatible compile server (protocols 1 and 2), secure by default.
    Serve(Box<ServeArgs>),
    /// Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves.
    Trust(TrustArgs),
    /// The master's scheduler in front of the stock distcc client: compiler-aware host
    /// choice, retries instead of silent local builds, hedged stragglers.
    Relay(RelayArgs),
    /// Watch the relay: volunteers, running jobs, retries, hedges, local compiles.
    Top(TopArgs),
}

/// Flags shared by every command that writes.
#[derive(Debug, Args)]
pub struct WriteFlags {
    /// Resolve every system path under DIR (a chroot, a test tree); DIR must exist.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print the diff and change nothing.
    #[arg(long, conflicts_with_all = ["yes", "check"])]
    pub dry_run: bool,
    /// Apply without asking.
    #[arg(long, conflicts_with = "check")]
    pub yes: bool,
    /// Exit 1 when changes are pending, 0 when there are none; change nothing.
    #[arg(long)]
    pub check: bool,
}

impl WriteFlags {
    /// The execution mode these flags ask for.
    pub fn mode(&self) -> distsetup::plan::Mode {
        use distsetup::plan::Mode;
        match (self.dry_run, self.yes, self.check) {
            (true, _, _) => Mode::DryRun,
            (_, true, _) => Mode::Yes,
            (_, _, true) => Mode::Check,
            _ => Mode::Ask,
        }
    }

    /// The root these flags name (the live system without `--root`).
    pub fn sys_root(&self) -> Result<distsetup::plan::SysRoot, distsetup::plan::Error> {
        match &self.root {
            Some(dir) => distsetup::plan::SysRoot::new(dir),
            None => Ok(distsetup::plan::SysRoot::system()),
        }
    }
}

/// Arguments of `distsetup edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The file to read or change (a system path under --root when given).
    pub file: PathBuf,
    /// Print the value bash would see (array: one element per line); exit 1 when unassigned.
    /// For a Portage make.conf: the value Portage's own parser reads from this file (newlines
    /// become spaces, ${VAR} expands inside single quotes too, an unquoted # ends the value,
    /// sourced files are read); a file emerge cannot parse is an error.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["verify", "set", "unset", "enable", "disable", "add", "remove"])]
    pub get: Option<String>,
    /// Check the byte-exact round trip and list the assignments (static or dynamic).
    #[arg(long, conflicts_with_all = ["set", "unset", "enable", "disable", "add", "remove"])]
    pub verify: bool,
    /// Set a scalar (repeatable; all edits apply in command-line order).
    #[arg(long, value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Remove the assignment of NAME.
    #[arg(long, value_name = "NAME")]
    pub unset: Vec<String>,
    /// Enable WORD in an array or word list (`!WORD` becomes `WORD`, else it is added).
    #[arg(long, value_name = "NAME=WORD")]
    pub enable: Vec<String>,
    /// Disable WORD in an array or word list (`WORD` becomes `!WORD`, else `!WORD` is added).
    #[arg(long, value_name = "NAME=WORD")]
    pub disable: Vec<String>,
    /// Add WORD to an array or word list when absent.
    #[arg(long, value_name = "NAME=WORD")]
    pub add: Vec<String>,
    /// Remove every WORD from an array or word list.
    #[arg(long, value_name = "NAME=WORD")]
    pub remove: Vec<String>,
    /// Which shell reads the file [default: portage for make.conf, else bash; envfile only when asked].
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
    /// Create the file when it does not exist.
    #[arg(long)]
    pub create: bool,
    /// Shared write flags.
    #[command(flatten)]
    pub write: WriteFlags,
}

/// `--dialect` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DialectArg {
    /// bash: makepkg.conf, Gentoo conf.d, /etc/default/distcc.
    Bash,
    /// Portage make.conf: no arrays, no `+=`, no `$(...)`.
    Portage,
    /// systemd EnvironmentFile (Arch /etc/conf.d/distccd): no expansion.
    Envfile,
}

/// Arguments of `distsetup hosts`.
#[derive(Debug, Args)]
pub struct HostsArgs {
    /// The host list (default: $DISTCC_HOSTS).
    #[arg(conflicts_with = "file", allow_hyphen_values = true)]
    pub spec: Option<String>,
    /// Read the list from a file (e.g. /etc/distcc/hosts).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// Arguments of `distsetup undo`.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// Resolve every system path under DIR; DIR must exist.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Restore without asking.
    #[arg(long)]
    pub yes: bool,
    /// List the change sets that can be undone (ID, date, command line, paths), newest first.
    #[arg(long, conflicts_with_all = ["yes", "id", "forget"])]
    pub list: bool,
    /// Drop change set ID from the history without restoring anything: for a set that
    /// cannot be undone any more because its files were changed since (they stay as they
    /// are; its backups are kept).
    #[arg(long, requires = "id")]
    pub forget: bool,
    /// The change set to undo, as `--list` shows it [default: the newest].
    pub id: Option<String>,
}

/// A free-form string whose usual values (profile or toolchain names) are offered by
/// the shell completions and listed in `--help`, without refusing anything else (a user
/// profile, a toolchain path).
#[derive(Debug, Clone)]
struct Suggest(fn() -> Vec<String>);

impl clap::builder::TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            (self.0)()
                .into_iter()
                .map(clap::builder::PossibleValue::new),
        ))
    }
}

fn profile_names() -> Vec<String> {
    distsetup::profile::embedded_names()
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn profile_names_and_list() -> Vec<String> {
    // Only the profiles that can configure a master (not void).
    let mut v: Vec<String> = distsetup::profile::embedded_master_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    v.push("list".into());
    v
}

fn toolchain_names() -> Vec<String> {
    distsetup::profile::catalog_toolchain_names()
}

/// Arguments of `distsetup master`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("profile_source").args(["profile", "profile_file"]).required(true))]
pub struct MasterArgs {
    /// The distro profile (arch, archarm, debian, gentoo, ...); `list` shows them all.
    #[arg(
        long,
        value_name = "NAME|list",
        value_parser = Suggest(profile_names_and_list),
        hide_possible_values = true
    )]
    pub profile: Option<String>,
    /// Read the profile from this TOML file instead.
    #[arg(long, value_name = "PATH")]
    pub profile_file: Option<PathBuf>,
    /// The distcc host list (DISTCC_HOSTS syntax); default: the hosts already configured.
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    pub hosts: Option<String>,
    /// make's -j: `auto` (from the cores, the remote slots and the profile's rule) or a number.
    #[arg(long, value_name = "auto|N", default_value = "auto", value_parser = parse_jobs)]
    pub jobs: distsetup::master::JobsChoice,
    /// Put ccache in front of distcc: makepkg's `ccache` build option, Portage's
    /// FEATURES=ccache with CCACHE_DIR, ccache's prefix_command on Debian; the cache
    /// directory is created for the user who builds.
    #[arg(long)]
    pub ccache: bool,
    /// The user makepkg builds as, who owns the cache (with --ccache) [default: the user who
    /// ran sudo].
    #[arg(long, value_name = "USER", requires = "ccache")]
    pub build_user: Option<String>,
    /// Put `distsetup relay` between the distcc client and the volunteers: the client
    /// sends every job to 127.0.0.1, the relay picks the volunteer (its service is
    /// written too).
    #[arg(long)]
    pub relay: bool,
    /// The relay's port [default: 3632 when free on 127.0.0.1, else the next free one].
    #[arg(long, value_name = "PORT", requires = "relay")]
    pub relay_port: Option<u16>,
    /// With --relay: pin the key of the `,tls` volunteer in --hosts (FINGERPRINT when there is one such host, else HOST:PORT=FINGERPRINT for each; repeatable); prints this master's fingerprint for the volunteers to pin.
    #[arg(long, value_name = "[HOST:PORT=]FP", requires = "relay")]
    pub trust: Vec<String>,
    /// Shared write flags.
    #[command(flatten)]
    pub write: WriteFlags,
}

/// `--server` values of `volunteer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServerArg {
    /// `distsetup serve` as the compile server (needs nothing but the toolchain).
    Embedded,
    /// The system's distccd: whitelist links, its configuration and a unit per toolchain.
    Distccd,
}

/// Arguments of `distsetup volunteer`.
#[derive(Debug, Args)]
#[command(
    long_about = "Configure this machine as a distcc volunteer for one toolchain: alias links in \
                  /usr/lib/distsetup/TOOLCHAIN/bin (plain gcc/cc/..., TRIPLE-cc, and the master's \
                  names, all pointing to the toolchain), then either a service running the embedded \
                  server (`distsetup serve`, default) or, with --server distccd, whitelist links in \
                  /usr/lib/distcc, the distro's distccd configuration and one distccd unit per \
                  toolchain with its own port and PATH. One diff for everything; undo with \
                  `distsetup undo`."
)]
pub struct VolunteerArgs {
    /// A toolchain name the profile knows (x-tools8, x-tools7h, x-tools86, ...), a path (an x-tools tree, a bin directory) or a system triple (aarch64-linux-gnu).
    #[arg(long, value_name = "NAME|PATH", value_parser = Suggest(toolchain_names), hide_possible_values = true)]
    pub toolchain: String,
    /// The distro profile of this volunteer (archarm, arch, gentoo, debian, void, or a user profile) [default: from /etc/os-release, as doctor and wizard detect it].
    #[arg(long, value_name = "NAME", value_parser = Suggest(profile_names), hide_possible_values = true)]
    pub profile: Option<String>,
    /// Which compile server to configure.
    #[arg(long, value_enum, default_value = "embedded")]
    pub server: ServerArg,
    /// Answer the master's triple MASTER with this toolchain's LOCAL prefix (repeatable).
    #[arg(long, value_name = "MASTER=LOCAL")]
    pub alias: Vec<String>,
    /// A client address or CIDR network allowed to use this volunteer (repeatable; required).
    #[arg(long, value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Allow everyone (0.0.0.0/0, ::/0): refused unless given.
    #[arg(long)]
    pub allow_anyone: bool,
    /// Concurrent jobs [default: this machine's usable cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// The compile port [default: the toolchain's port in the profile, else 3632]; stats use PORT+1000.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// The one address the server listens on [default: every address, IPv4 and IPv6; Debian's LISTENER 0.0.0.0].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::IpAddr>,
    /// Enable and start the service (systemctl enable --now) when systemd runs; with --root only files are written.
    #[arg(long)]
    pub enable: bool,
    /// Apply, then run the embedded server in the foreground with the same settings.
    #[arg(long, conflicts_with_all = ["dry_run", "check"])]
    pub foreground: bool,
    /// Advertise this toolchain to masters with DISTCC_HOSTS=+zeroconf (an Avahi service file).
    #[arg(long)]
    pub zeroconf: bool,
    /// Advertise for masters whose `cc -dumpversion` says V (a gcc that differs in patch level).
    #[arg(long, value_name = "V", requires = "zeroconf")]
    pub zeroconf_version: Option<String>,
    /// Serve the secure link (`serve --tls`): only masters pinned with `distsetup trust add --master` get in; prints this volunteer's fingerprint for the master to pin.
    #[arg(long)]
    pub secure: bool,
    /// Shared write flags.
    #[command(flatten)]
    pub write: WriteFlags,
}

fn parse_jobs(s: &str) -> Result<distsetup::master::JobsChoice, String> {
    use distsetup::master::JobsChoice;
    match s {
        "auto" => Ok(JobsChoice::Auto),
        _ => match s.parse::<usize>() {
            Ok(n) if (1..=distsetup::master::MAX_JOBS).contains(&n) => Ok(JobsChoice::Fixed(n)),
            _ => Err(format!(
                "expected `auto` or a number from 1 to {}, got {s:?}",
                distsetup::master::MAX_JOBS
            )),
        },
    }
}

/// Arguments of `distsetup wizard`.
#[derive(Debug, Args)]
#[command(
    long_about = "Set up this machine by answering questions: the role (master or volunteer), the \
                  distro (detected from /etc/os-release), then the hosts, or the toolchain, the \
                  master's triple, the allow list, the port and the server. Shows the same diff as \
                  `distsetup master`/`volunteer`, applies on confirmation, and prints the equivalent \
                  command line. A \"no\" or Ctrl-C changes nothing."
)]
pub struct WizardArgs {
    /// Resolve every system path under DIR (a chroot, or a test root).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Arguments of `distsetup doctor`.
#[derive(Debug, Args)]
#[command(
    long_about = "Find out why a cluster builds locally or builds wrong. As a master (default): reach \
                  every host, send it a probe compile over the distcc protocol (works against distccd \
                  and distsetup serve), compare the remote compiler's target, gcc version and default \
                  PIE with the local one, check makepkg or Portage really use distcc, time each host \
                  and propose a DISTCC_HOSTS line. With --volunteer: check what `distsetup volunteer` \
                  set up. Exit status 0 when nothing is broken, 1 otherwise."
)]
pub struct DoctorArgs {
    /// Check this host list instead of the configured one (DISTCC_HOSTS syntax).
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    pub hosts: Option<String>,
    /// Check this machine as a volunteer.
    #[arg(long)]
    pub volunteer: bool,
    /// The distro profile [default: from /etc/os-release].
    #[arg(long, value_name = "NAME", value_parser = Suggest(profile_names), hide_possible_values = true)]
    pub profile: Option<String>,
    /// The local compiler the remote ones are compared with [default: the --remote-compiler name when it exists here, else cc].
    #[arg(long, value_name = "CC")]
    pub compiler: Option<String>,
    /// The compiler name sent to the hosts [default: `<cc -dumpmachine>-gcc`, as the distcc client sends].
    #[arg(long, value_name = "NAME")]
    pub remote_compiler: Option<String>,
    /// Compiles per host for the speed probe (0 skips it).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub speed_rounds: u32,
    /// Seconds to wait for a connection.
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub connect_timeout: u64,
    /// Seconds to wait for a host's answer to a probe compile (hosts are probed at once).
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Resolve every system path under DIR.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Arguments of `distsetup completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `distsetup serve`.
#[derive(Debug, Args)]
#[command(
    long_about = "Be a distcc-compatible compile server: the real distcc client on any \
    master uses it like distccd (protocol 1, and 2 with ',lzo'; pump mode is refused). Only \
    peers in --allow may connect; only compilers in the server's own table run (--toolchain \
    dirs, --alias, names whitelisted in /usr/lib/distcc); only options in the server's \
    grammar of a compile are accepted (THE GRAMMAR OF A COMPILE below), anything else is \
    refused with the reason on the client's stderr. Each compile runs as an unprivileged \
    user, confined by Landlock and a seccomp filter (no sockets), under a file-size limit \
    and a lifetime. SIGTERM stops accepting, lets running jobs finish (grace period) and \
    exits 0."
)]
pub struct ServeArgs {
    /// Address to listen on (repeatable); default: every address.
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<std::net::IpAddr>,
    /// TCP port for jobs (0: any free port, logged at startup).
    #[arg(long, short = 'p', default_value_t = distsetup::server::config::DEFAULT_PORT)]
    pub port: u16,
    /// Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required).
    #[arg(long, short = 'a', value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Most compiles at once [default: CPUs + 2].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Directory of compilers clients may ask for by name: TRIPLE-gcc, -g++, -cc, -c++, -cpp, gcc, ... (repeatable).
    #[arg(long, value_name = "DIR")]
    pub toolchain: Vec<std::path::PathBuf>,
    /// Map a requested name to a local one: triples (FROM=TO maps every FROM-tool to TO-tool) or whole names (gcc=aarch64-linux-gnu-gcc) (repeatable).
    #[arg(long, value_name = "FROM=TO")]
    pub alias: Vec<String>,
    /// Directory whose entries whitelist system compilers, distcc style (repeatable).
    #[arg(long, value_name = "DIR", default_value = distsetup::server::config::DEFAULT_MASQUERADE_DIR)]
    pub whitelist_dir: Vec<std::path::PathBuf>,
    /// Serve distccd's stats page (plus refusal counts) on the stats port.
    #[arg(long)]
    pub stats: bool,
    /// Port of the stats page.
    #[arg(long, default_value_t = distsetup::server::config::DEFAULT_STATS_PORT)]
    pub stats_port: u16,
    /// Serve one job on stdin/stdout (ssh '@host' mode, inetd); --allow then applies only to IP sockets.
    #[arg(long)]
    pub inetd: bool,
    /// distccd's switch to serve TCP without an access list: accepted only with --inetd (the ssh client appends it), refused otherwise.
    #[arg(long, hide = true)]
    pub enable_tcp_insecure: bool,
    /// Log level: error, warning, notice, info or debug.
    #[arg(long, default_value = "notice", value_name = "L")]
    pub log_level: String,
    /// Append the log to this file instead of stderr.
    #[arg(long, value_name = "F")]
    pub log_file: Option<std::path::PathBuf>,
    /// Kill a compile running longer than SECS (reply status 118); 0: never [default: 1800].
    #[arg(long, value_name = "SECS")]
    pub job_lifetime: Option<u64>,
    /// Write the server's pid to this file while it runs.
    #[arg(long, short = 'P', value_name = "F")]
    pub pid_file: Option<std::path::PathBuf>,
    /// Give up on a client that sends or reads nothing for SECS.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub io_timeout: u64,
    /// Most open client connections (reading, queued or compiling).
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_connections: usize,
    /// Most connections one client address may hold; more are closed at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub max_client_connections: usize,
    /// Most jobs one client may have queued or compiling; its other connections wait unread [default: 2 x jobs + 2].
    #[arg(long, value_name = "N")]
    pub max_client_queued: Option<usize>,
    /// Most bytes of source all waiting connections may hold on disk together (K, M, G); past it a request is closed without reply.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "4G")]
    pub max_held_sources: u64,
    /// After SIGTERM, how long running jobs may take before they are killed.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub grace: u64,
    /// Stop by itself after SECS, as on SIGTERM (tests, benchmarks).
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u64>,
    /// Lower the server's and its compilers' priority by N (0-19), like distccd's --nice.
    #[arg(long, short = 'N', value_name = "N", default_value_t = distsetup::server::config::DEFAULT_NICE)]
    pub nice: i32,
    /// Started as root: after binding, run as this user [default: the distro's distcc user, else nobody].
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Allow everyone: an --allow network with a /0 prefix is refused without it.
    #[arg(long)]
    pub allow_anyone: bool,
    /// Refuse to send back an object larger than SIZE (bytes, or with K, M, G) [default: 4G, the protocol's limit].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_object: Option<u64>,
    /// distccd's spelling: serving TCP is the default; accepted and changes nothing.
    #[arg(long)]
    pub daemon: bool,
    /// distccd's spelling: serve never detaches (run it under systemd, or start-stop-daemon --background).
    #[arg(long)]
    pub no_detach: bool,
    /// distccd's spelling of --log-level debug.
    #[arg(long, conflicts_with = "log_level")]
    pub verbose: bool,
    /// distccd's spelling: log to stderr (the default without --log-file).
    #[arg(long, conflicts_with = "log_file")]
    pub log_stderr: bool,
    /// Print the version, the protocols and the default port, distccd style, and exit.
    #[arg(long)]
    pub version: bool,
    /// Serve the secure link (TLS 1.3, pinned keys) on --port instead of plain distcc: only masters pinned in /etc/distsetup/trusted-masters (distsetup trust add --master) get in, whatever --allow says.
    #[arg(long, conflicts_with = "inetd")]
    pub tls: bool,
    /// With --tls: hand each job to the distccd listening at ADDR (a loopback address and port) instead of compiling here.
    #[arg(long, value_name = "ADDR", requires = "tls")]
    pub forward: Option<std::net::SocketAddr>,
    /// With --tls: find /etc/distsetup (the key pair, the trusted masters) under DIR.
    #[arg(long, value_name = "DIR", requires = "tls")]
    pub root: Option<PathBuf>,
    /// With --tls: also serve plain distcc on PORT, for the clients --allow names (required then); without it the secure link is the only way in.
    #[arg(
        long,
        value_name = "PORT",
        requires = "tls",
        conflicts_with = "forward"
    )]
    pub plain_port: Option<u16>,
}

/// A size in bytes, optionally with a K, M or G suffix (powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("'{s}': expected a positive size in bytes, e.g. 512M or 2G"))
}

impl ServeArgs {
    /// Resolve the flags into the server's typed settings.
    pub fn settings(&self) -> anyhow::Result<distsetup::server::ServeSettings> {
        use anyhow::Context as _;
        use distsetup::server::{Alias, LogLevel, ServeSettings};
        use std::time::Duration;
        let mut s = ServeSettings::new();
        s.listen.clone_from(&self.listen);
        s.port = self.port;
        if !self.allow.is_empty() || self.allow_anyone {
            s.allow = distsetup::allow::parse_list(&self.allow, self.allow_anyone)?;
        }
        if self.enable_tcp_insecure && !self.inetd {
            return Err(distsetup::server::ServeError::BadSetting {
                setting: "--enable-tcp-insecure",
                value: String::new(),
                reason: "this server never serves TCP without an access list; name the clients \
                         with --allow (or --allow-anyone on a trusted network)"
                    .into(),
            }
            .into());
        }
        if let Some(j) = self.jobs {
            s.jobs = j;
        }
        s.toolchains.clone_from(&self.toolchain);
        for a in &self.alias {
            s.aliases.push(Alias::parse(a)?);
        }
        s.masquerade_dirs.clone_from(&self.whitelist_dir);
        s.stats_port = self.stats.then_some(self.stats_port);
        s.inetd = self.inetd;
        s.link = self.tls;
        if let Some(port) = self.plain_port {
            if s.allow.is_empty() {
                return Err(distsetup::server::ServeError::BadSetting {
                    setting: "--plain-port",
                    value: port.to_string(),
                    reason: "plain distcc beside the secure link needs an access list: name its \
                             clients with --allow"
                        .into(),
                }
                .into());
            }
        }
        s.log_level = LogLevel::parse(&self.log_level)
            .with_context(|| {
                format!(
                    "--log-level {}: expected error, warning, notice, info or debug",
                    self.log_level
                )
            })
            .map_err(|e| {
                anyhow::Error::new(distsetup::server::ServeError::BadSetting {
                    setting: "--log-level",
                    value: self.log_level.clone(),
                    reason: e.to_string(),
                })
            })?;
        s.log_file.clone_from(&self.log_file);
        if let Some(n) = self.job_lifetime {
            s.job_lifetime = (n > 0).then(|| Duration::from_secs(n));
        }
        s.pid_file.clone_from(&self.pid_file);
        s.io_timeout = Duration::from_secs(self.io_timeout.max(1));
        s.max_connections = self.max_connections;
        s.max_client_connections = self.max_client_connections;
        s.max_client_queued = self.max_client_queued;
        s.max_held_sources = self.max_held_sources;
        s.grace = Duration::from_secs(self.grace);
        s.lifetime = self.lifetime.map(Duration::from_secs);
        s.nice = self.nice;
        if self.verbose {
            s.log_level = LogLevel::Debug;
        }
        if let Some(m) = self.max_object {
            s.max_object = m;
        }
        s.user.clone_from(&self.user);
        Ok(s)
    }
}

/// Arguments of `distsetup generate-assets`.
#[derive(Debug, Args)]
pub struct GenerateAssetsArgs {
    /// Directory that receives completions/ and man/.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Shells we generate completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// Elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

impl Shell {
    pub const ALL: [Shell; 5] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::Powershell,
    ];

    pub fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Elvish => clap_complete::Shell::Elvish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }

    /// The file name a completion script is checked in under.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "distsetup.bash",
            Shell::Zsh => "_distsetup",
            Shell::Fish => "distsetup.fish",
            Shell::Elvish => "distsetup.elv",
            Shell::Powershell => "_distsetup.ps1",
        }
    }
}
