//! `distsetup`: parse, run the command, print an error once, exit with its status.
//! Nothing else lives here.
//!
//! This binary crate (main.rs, cli.rs, commands/) is the command layer: the only code that
//! may print, prompt and choose an exit code. The library crates are denied all three
//! (`[workspace.lints]` in Cargo.toml).
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

mod cli;
mod commands;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use commands::ExitStatus;

fn main() -> ExitCode {
    let matches = match cli::Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => exit_bad_arguments(e),
    };
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    match commands::run(args, &matches) {
        Ok(status) => status.into(),
        Err(err) if commands::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("distsetup: error: {}", commands::error_text(&err));
            ExitStatus::of_error(&err).into()
        }
    }
}

/// clap's usage errors exit 2, except for `serve`, which keeps distccd's 101 so a
/// distccd unit notices the same way when the binary is swapped.
fn exit_bad_arguments(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    let serve = std::env::args().nth(1).as_deref() == Some("serve");
    let usage = !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if serve && usage {
        let _ = e.print();
        std::process::exit(101);
    }
    e.exit()
}
