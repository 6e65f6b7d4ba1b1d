//! `distsetup wizard`: the questions come from the library's flow; the plan is shown,
//! confirmed and applied here, exactly as `master` and `volunteer` do.

use distsetup::plan::{Outcome, SysRoot};
use distsetup::wizard::{self, Setup};

use super::{CommandError, ExitStatus, Ui};
use crate::cli::WizardArgs;

/// `distsetup wizard`.
pub fn run(a: WizardArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    if !ui.interactive {
        return Err(CommandError::NoTerminal.into());
    }
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    // Ctrl-C between the questions too (a host check, a toolchain probe): exit 4, said.
    let ctrl_c = super::prompt::Interrupted::catch();
    let listening = super::volunteer::listening_ports(&root);
    let answers = wizard::run(&root, a.root.as_deref(), listening, ui.ask)?;
    drop(ctrl_c);
    let outcome = match &answers.setup {
        Setup::Master { settings, facts } => super::master::configure(settings, facts, ui)?,
        Setup::Volunteer { settings, facts } => {
            super::volunteer::configure(settings, facts, ui)?.outcome
        }
    };
    if outcome == Outcome::Declined {
        writeln!(ui.out, "nothing changed.")?;
    }
    writeln!(ui.out, "the same without questions:\n  {}", answers.command)?;
    Ok(ExitStatus::of_outcome(&outcome))
}
