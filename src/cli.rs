//! The command-line contract: clap definitions, and the resolution of parsed arguments
//! into the library's typed settings. Completions and man pages are generated from here.

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

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
    /// Print shell completions for SHELL to standard output.
    Completions(CompletionsArgs),
    /// Write completions and man pages into DIR (what is checked in under completions/ and man/).
    #[command(hide = true)]
    GenerateAssets(GenerateAssetsArgs),
    /// Be a distcc-compatible compile server (protocols 1 and 2), secure by default.
    Serve(Box<ServeArgs>),
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
    dirs, --alias, names whitelisted in /usr/lib/distcc); options that could run code or \
    touch files outside the job (-wrapper, -fplugin, -specs, -B, @file, ...) are refused \
    with an explanation on the client's stderr. SIGTERM stops accepting, lets running jobs \
    finish (grace period) and exits 0."
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
    /// Accepted for distccd compatibility (the ssh client appends it); changes nothing.
    #[arg(long, hide = true)]
    pub enable_tcp_insecure: bool,
    /// Log level: error, warning, notice, info or debug.
    #[arg(long, default_value = "notice", value_name = "L")]
    pub log_level: String,
    /// Append the log to this file instead of stderr.
    #[arg(long, value_name = "F")]
    pub log_file: Option<std::path::PathBuf>,
    /// Kill a compile running longer than SECS (reply status 118).
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
    /// After SIGTERM, how long running jobs may take before they are killed.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub grace: u64,
    /// Stop by itself after SECS, as on SIGTERM (tests, benchmarks).
    #[arg(long, value_name = "SECS")]
    pub lifetime: Option<u64>,
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
        for a in &self.allow {
            let net = match a.parse::<ipnet::IpNet>() {
                Ok(n) => n.trunc(),
                Err(_) => a
                    .parse::<std::net::IpAddr>()
                    .map(ipnet::IpNet::from)
                    .map_err(|_| distsetup::server::ServeError::BadSetting {
                        setting: "--allow",
                        value: a.clone(),
                        reason: "expected an IPv4 or IPv6 address or CIDR (e.g. 192.168.1.0/24)"
                            .into(),
                    })?,
            };
            s.allow.push(net);
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
        s.job_lifetime = self
            .job_lifetime
            .filter(|&n| n > 0)
            .map(Duration::from_secs);
        s.pid_file.clone_from(&self.pid_file);
        s.io_timeout = Duration::from_secs(self.io_timeout.max(1));
        s.max_connections = self.max_connections;
        s.grace = Duration::from_secs(self.grace);
        s.lifetime = self.lifetime.map(Duration::from_secs);
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
    const ALL: [Shell; 5] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::Powershell,
    ];

    fn generator(self) -> clap_complete::Shell {
        match self {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
            Shell::Elvish => clap_complete::Shell::Elvish,
            Shell::Powershell => clap_complete::Shell::PowerShell,
        }
    }

    /// The file name a completion script is checked in under.
    fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "distsetup.bash",
            Shell::Zsh => "_distsetup",
            Shell::Fish => "distsetup.fish",
            Shell::Elvish => "distsetup.elv",
            Shell::Powershell => "_distsetup.ps1",
        }
    }
}

/// Print the completion script for `shell`.
pub fn write_completions(shell: Shell, out: &mut dyn std::io::Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell.generator(), &mut cmd, "distsetup", out);
}

/// Write every completion script into `dir/completions` and every man page into `dir/man`.
pub fn generate_assets(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let completions = dir.join("completions");
    let man = dir.join("man");
    for d in [&completions, &man] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    for shell in Shell::ALL {
        let mut buf = Vec::new();
        write_completions(shell, &mut buf);
        let path = completions.join(shell.file_name());
        std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
    }
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, &man).with_context(|| format!("writing {}", man.display()))?;
    Ok(())
}
