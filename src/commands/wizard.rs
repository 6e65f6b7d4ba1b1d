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
    let _cursor = CursorGuard::install();
    let listening = super::volunteer::listening_ports(&root);
    let answers = wizard::run(&root, a.root.as_deref(), listening, ui.ask)?;
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

/// Shows the cursor again (dialoguer hides it in menus) when the wizard ends, whichever
/// way: an answer, an error, Ctrl-C read as a key (the menus' raw mode) or SIGINT.
struct CursorGuard;

const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

fn show_cursor() {
    // SAFETY: write(2) on stderr with a static buffer; async-signal-safe.
    unsafe { libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len()) };
}

extern "C" fn on_sigint(_: libc::c_int) {
    show_cursor();
    // SAFETY: _exit is async-signal-safe; 130 is the shell's status for SIGINT.
    unsafe { libc::_exit(130) };
}

impl CursorGuard {
    fn install() -> CursorGuard {
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe { libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t) };
        CursorGuard
    }
}

impl Drop for CursorGuard {
    fn drop(&mut self) {
        // SAFETY: isatty has no preconditions.
        if unsafe { libc::isatty(2) } == 1 {
            show_cursor();
        }
    }
}
