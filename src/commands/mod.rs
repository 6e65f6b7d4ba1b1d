//! The command layer: one module per subcommand. Each resolves its arguments into the
//! library's typed settings, calls the library, prints, asks, and chooses the exit
//! status. Nothing below this layer prints, prompts or exits.

mod apply;
mod assets;
mod doctor;
mod edit;
mod exit;
mod manual;
mod message;
pub use message::error_text;
mod master;
mod prompt;
mod serve;
mod undo;
mod volunteer;
mod wizard;

use std::io::{IsTerminal as _, Write};

pub use exit::{CommandError, ExitStatus, is_broken_pipe};

use crate::cli::{Cli, Command};

/// Where a command talks to the user.
pub struct Ui<'a> {
    /// A terminal is there to ask on.
    pub interactive: bool,
    /// The questions.
    pub ask: &'a mut dyn distsetup::prompt::Ask,
    /// Results.
    pub out: &'a mut dyn Write,
    /// Warnings and hints.
    pub err: &'a mut dyn Write,
}

/// Run the command `args` names.
#[allow(
    clippy::disallowed_methods,
    reason = "the command layer owns the terminal"
)]
pub fn run(args: Cli, matches: &clap::ArgMatches) -> anyhow::Result<ExitStatus> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut terminal = prompt::Terminal;
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr());
    let mut ui = Ui {
        interactive,
        ask: &mut terminal,
        out: &mut out,
        err: &mut err,
    };
    match args.command {
        Command::Edit(a) => {
            let sub = matches.subcommand_matches("edit").unwrap_or(matches);
            edit::run(a, sub, &mut ui)
        }
        Command::Hosts(a) => edit::hosts(a, &mut ui),
        Command::Undo(a) => undo::run(a, &mut ui),
        Command::Master(a) => master::run(a, &mut ui),
        Command::Volunteer(a) => volunteer::run(a, &mut ui),
        Command::Doctor(a) => doctor::run(a, std::io::stderr().is_terminal(), &mut ui),
        Command::Wizard(a) => wizard::run(a, &mut ui),
        Command::Completions(a) => {
            assets::write_completions(a.shell, ui.out)?;
            Ok(ExitStatus::Ok)
        }
        Command::GenerateAssets(a) => {
            assets::generate(&a.dir)?;
            Ok(ExitStatus::Ok)
        }
        Command::Serve(a) => serve::run(&a),
    }
}
