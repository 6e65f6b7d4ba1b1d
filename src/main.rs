//! `distsetup`: parse, run, map errors to exit codes. Nothing else lives here.

mod cli;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("distsetup: error: {err:#}");
            ExitCode::from(distsetup::exit::code_for(&err))
        }
    }
}

fn run(args: cli::Cli) -> anyhow::Result<u8> {
    use cli::Command;
    match args.command {
        Command::Completions(a) => {
            cli::write_completions(a.shell, &mut std::io::stdout().lock());
            Ok(distsetup::exit::OK)
        }
        Command::GenerateAssets(a) => {
            cli::generate_assets(&a.dir)?;
            Ok(distsetup::exit::OK)
        }
        Command::Serve(a) => {
            distsetup::server::run(a.settings()?)?;
            Ok(distsetup::exit::OK)
        }
    }
}
