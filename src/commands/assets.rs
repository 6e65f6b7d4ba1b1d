//! Shell completions and man pages, generated from the clap definition in `cli.rs` and
//! checked in under `completions/` and `man/` (a test fails when they are stale).

use std::path::Path;

use clap::CommandFactory as _;

use crate::cli::Shell;

/// Print the completion script for `shell`.
pub fn write_completions(shell: Shell, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut cmd = visible_command();
    let mut script = Vec::new();
    clap_complete::generate(shell.generator(), &mut cmd, "distsetup", &mut script);
    if shell == Shell::Bash {
        script = bash_toolchain_paths(&script).into_bytes();
    }
    out.write_all(&script)
}

/// `volunteer --toolchain` takes a known name or a path: bash offers both (clap_complete
/// offers either the names or files, not the two).
fn bash_toolchain_paths(script: &[u8]) -> String {
    let names = distsetup::profile::catalog_toolchain_names().join(" ");
    let names_only = format!("COMPREPLY=($(compgen -W \"{names}\" -- \"${{cur}}\"))");
    let with_paths = format!(
        "COMPREPLY=($(compgen -W \"{names}\" -- \"${{cur}}\") $(compgen -f -- \"${{cur}}\"))"
    );
    String::from_utf8_lossy(script).replace(&names_only, &with_paths)
}

/// Write every completion script into `dir/completions` and every man page into `dir/man`.
#[allow(
    clippy::disallowed_methods,
    reason = "the hidden generate-assets writes the checked-in completions and man pages into the source tree, not into a system"
)]
pub fn generate(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let completions = dir.join("completions");
    let man = dir.join("man");
    for d in [&completions, &man] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    for shell in Shell::ALL {
        let mut buf = Vec::new();
        write_completions(shell, &mut buf)?;
        let path = completions.join(shell.file_name());
        std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
    }
    write_man_pages(&man).with_context(|| format!("writing {}", man.display()))?;
    Ok(())
}

/// The command line without its hidden subcommands (`generate-assets`), which the
/// completions must not offer: clap_complete lists every subcommand it is given.
fn visible_command() -> clap::Command {
    let full = crate::cli::Cli::command();
    let mut cmd = clap::Command::new("distsetup")
        .version(full.get_version().unwrap_or_default().to_owned())
        .about(full.get_about().cloned().unwrap_or_default())
        .subcommand_required(true);
    if let Some(long) = full.get_long_about() {
        cmd = cmd.long_about(long.clone());
    }
    cmd.subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

/// One page per visible command, `--help` rendered by clap_mangen, then the sections
/// `--help` has no room for (see [`super::manual`]).
#[allow(
    clippy::disallowed_methods,
    reason = "the hidden generate-assets writes the checked-in completions and man pages into the source tree, not into a system"
)]
fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    let mut root = crate::cli::Cli::command().disable_help_subcommand(true);
    root.build();
    let mut commands = vec![root.clone()];
    commands.extend(root.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    let names: Vec<String> = commands
        .iter()
        .map(|c| c.get_display_name().unwrap_or(c.get_name()).to_owned())
        .collect();
    for (cmd, name) in commands.into_iter().zip(&names) {
        // The man page says more than --help: a DESCRIPTION that explains, and a
        // SYNOPSIS that shows each option's value.
        let bin = name.replace('-', " ");
        let usage = super::manual::synopsis(&cmd, &bin);
        let cmd = cmd
            .long_about(super::manual::description(name))
            .override_usage(usage);
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)?;
        page.extend_from_slice(super::manual::sections(name, &names).as_bytes());
        std::fs::write(dir.join(man.get_filename()), &page)?;
    }
    Ok(())
}
