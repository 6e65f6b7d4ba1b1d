//! `distsetup`: parse, run, map errors to exit codes. Nothing else lives here.

mod cli;

use std::process::ExitCode;

use std::io::IsTerminal as _;

use clap::{CommandFactory as _, FromArgMatches as _};

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let args = match cli::Cli::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    match run(args, &matches) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("distsetup: error: {err:#}");
            ExitCode::from(distsetup::exit::code_for(&err))
        }
    }
}

fn run(args: cli::Cli, matches: &clap::ArgMatches) -> anyhow::Result<u8> {
    use cli::Command;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let (out, err) = (&mut std::io::stdout().lock(), &mut std::io::stderr());
    let prompter = &mut distsetup::plan::DialoguerPrompter;
    match args.command {
        Command::Edit(a) => {
            let sub = matches.subcommand_matches("edit").unwrap_or(matches);
            let settings = cli::resolve_edit(a, sub)?;
            distsetup::edit::edit(&settings, interactive, prompter, out, err)
        }
        Command::Hosts(a) => {
            use distsetup::edit::HostsSource;
            let source = match (a.spec, a.file) {
                (Some(s), _) => HostsSource::Spec(s),
                (None, Some(f)) => HostsSource::File(f),
                (None, None) => HostsSource::Env(std::env::var("DISTCC_HOSTS").ok()),
            };
            distsetup::edit::hosts(&source, out, err)
        }
        Command::Undo(a) => {
            let root = match &a.root {
                Some(d) => distsetup::plan::SysRoot::new(d)?,
                None => distsetup::plan::SysRoot::system(),
            };
            distsetup::edit::undo(&root, a.yes, interactive, prompter, out, err)
        }
        Command::Master(a) => match cli::resolve_master(a)? {
            cli::MasterAction::List(profiles) => {
                distsetup::master::print_profiles(&profiles, out)?;
                Ok(distsetup::exit::OK)
            }
            cli::MasterAction::Configure(settings) => {
                let facts = distsetup::master::Facts::detect();
                let outcome =
                    distsetup::master::run(&settings, &facts, interactive, prompter, out, err)?;
                Ok(outcome.exit_code())
            }
        },
        Command::Volunteer(a) => {
            let settings = cli::resolve_volunteer(a)?;
            let facts = distsetup::volunteer::Facts::detect(&settings.profile);
            let done =
                distsetup::volunteer::run(&settings, &facts, interactive, prompter, out, err)?;
            if let Some(args) = done.foreground {
                use std::io::Write as _;
                use std::os::unix::process::CommandExt as _;
                writeln!(
                    out,
                    "running in the foreground: distsetup {}",
                    args.join(" ")
                )?;
                out.flush()?;
                // exec only returns on failure.
                let e = std::process::Command::new(&facts.exe).args(&args).exec();
                return Err(
                    anyhow::Error::new(e).context(format!("running {}", facts.exe.display()))
                );
            }
            Ok(done.outcome.exit_code())
        }
        Command::Doctor(a) => {
            let json = a.json;
            let settings = cli::resolve_doctor(a, std::io::stderr().is_terminal())?;
            let report = distsetup::doctor::run(&settings);
            if json {
                use std::io::Write as _;
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)?;
            } else {
                report.write_text(out)?;
            }
            Ok(report.exit_code())
        }
        Command::Wizard(a) => {
            if !interactive {
                return Err(distsetup::wizard::Error::NoTerminal.into());
            }
            let root = match &a.root {
                Some(d) => distsetup::plan::SysRoot::new(d)?,
                None => distsetup::plan::SysRoot::system(),
            };
            let mut ask = distsetup::wizard::prompt::Terminal;
            let done = distsetup::wizard::run(&root, a.root.as_deref(), &mut ask, out, err)?;
            Ok(done.outcome.exit_code())
        }
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
