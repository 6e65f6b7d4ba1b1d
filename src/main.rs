//! `distsetup`: parse, run the command, print an error once, exit with its status.
//! Nothing else lives here.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use commands::ExitStatus;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    match commands::run(args, &matches) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("distsetup: error: {}", commands::error_text(&err));
            ExitStatus::of_error(&err).into()
        }
    }
}
