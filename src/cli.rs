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
}

/// Arguments of `distsetup completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
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
