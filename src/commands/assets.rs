//! Shell completions and man pages, generated from the clap definition in `cli.rs` and
//! checked in under `completions/` and `man/` (a test fails when they are stale).

use std::path::Path;

use clap::CommandFactory as _;

use crate::cli::Shell;

/// Print the completion script for `shell`.
pub fn write_completions(shell: Shell, out: &mut dyn std::io::Write) {
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(shell.generator(), &mut cmd, "distsetup", out);
}

/// Write every completion script into `dir/completions` and every man page into `dir/man`.
pub fn generate(dir: &Path) -> anyhow::Result<()> {
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
    let cmd = crate::cli::Cli::command();
    clap_mangen::generate_to(cmd, &man).with_context(|| format!("writing {}", man.display()))?;
    Ok(())
}
