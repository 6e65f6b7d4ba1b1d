//! Show a plan's diff and act on the execution mode: the one place that asks before
//! anything is written.

use distsetup::plan::{Mode, Outcome, Plan, Recovery, RecoveryAction};

use super::Ui;

/// Show `plan` and act on `mode`: dry run, check, apply, or ask (on a terminal; without
/// one, show and change nothing, saying how to apply).
pub fn execute(plan: &Plan, mode: Mode, ui: &mut Ui) -> anyhow::Result<Outcome> {
    if plan.is_empty() {
        writeln!(ui.out, "nothing to change")?;
        return Ok(Outcome::NothingToChange);
    }
    ui.out.write_all(plan.diff().as_bytes())?;
    ui.out.flush()?;
    let go = match mode {
        Mode::DryRun => return Ok(Outcome::Shown),
        Mode::Check => return Ok(Outcome::Pending),
        Mode::Yes => true,
        Mode::Ask if !ui.interactive => {
            writeln!(
                ui.err,
                "not applied: no terminal to ask on; run again with --yes to apply"
            )?;
            return Ok(Outcome::NotApplied);
        }
        Mode::Ask => ui.ask.confirm("Apply these changes?", false)?,
    };
    if !go {
        writeln!(ui.err, "not applied: declined")?;
        return Ok(Outcome::Declined);
    }
    let applied = plan.apply()?;
    print_recovered(&applied.recovered, ui)?;
    for w in &applied.warnings {
        writeln!(ui.err, "warning: {w}")?;
    }
    writeln!(
        ui.out,
        "applied as change set {}; `{}` restores the previous state",
        applied.id,
        undo_command(plan.root(), &[])
    )?;
    Ok(Outcome::Applied(applied.journal))
}

/// The exact `distsetup undo` command line for `root` (with `--root` unless it is the
/// live system), `extra` arguments first, quoted for a POSIX shell where needed.
pub fn undo_command(root: &distsetup::plan::SysRoot, extra: &[&str]) -> String {
    let mut words = vec!["distsetup".to_string(), "undo".to_string()];
    words.extend(extra.iter().map(|w| shell_word(w)));
    if root.dir() != std::path::Path::new("/") {
        words.push("--root".into());
        words.push(shell_word(&root.dir().to_string_lossy()));
    }
    words.join(" ")
}

/// `word` as a POSIX shell reads it back: bare when it has only safe characters, else
/// in single quotes.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._+-:@%,=".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Say what recovery repaired before this run did its own work.
pub fn print_recovered(recovered: &[Recovery], ui: &mut Ui) -> anyhow::Result<()> {
    for r in recovered {
        let what = match r.action {
            RecoveryAction::RolledBack => format!(
                "change set {} (`{}`) was interrupted; rolled back, {} path(s) restored",
                r.id,
                r.command,
                r.restored.len()
            ),
            RecoveryAction::UndoFinished => format!(
                "the undo of change set {} (`{}`) was interrupted; finished it, {} path(s) restored",
                r.id,
                r.command,
                r.restored.len()
            ),
            RecoveryAction::Discarded => format!(
                "removed the journal of run {}, which stopped before it changed anything",
                r.id
            ),
        };
        writeln!(ui.err, "recovered: {what}")?;
        for t in &r.temps_removed {
            writeln!(ui.err, "recovered: removed stray temp file {}", t.display())?;
        }
    }
    Ok(())
}

/// Before planning: repair what an interrupted run left, so the plan is computed
/// against a consistent system (modes that may write only).
pub fn recover_first(
    root: &distsetup::plan::SysRoot,
    mode: Mode,
    ui: &mut Ui,
) -> anyhow::Result<()> {
    if matches!(mode, Mode::Yes | Mode::Ask) {
        print_recovered(&distsetup::plan::recover(root)?, ui)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::disallowed_methods,
    reason = "tests build their fixtures on disk"
)]
mod tests {
    use super::*;
    use distsetup::plan::SysRoot;
    use distsetup::prompt::{Answer, Script};

    fn plan_in(dir: &std::path::Path) -> Plan {
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/x.conf"), "A=1\n").unwrap();
        let mut plan = Plan::new(SysRoot::new(dir).unwrap());
        plan.write_file(std::path::Path::new("/etc/x.conf"), b"A=2\n".to_vec())
            .unwrap();
        plan
    }

    fn run(mode: Mode, interactive: bool, answers: Vec<Answer>) -> (Outcome, String, Vec<u8>) {
        let t = tempfile::tempdir().unwrap();
        let plan = plan_in(t.path());
        let mut script = Script::new(answers);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut ui = Ui {
            interactive,
            ask: &mut script,
            out: &mut out,
            err: &mut err,
        };
        let o = execute(&plan, mode, &mut ui).unwrap();
        let file = std::fs::read(t.path().join("etc/x.conf")).unwrap();
        (o, String::from_utf8_lossy(&err).into_owned(), file)
    }

    #[test]
    fn every_mode_shows_and_only_yes_or_a_yes_answer_writes() {
        assert_eq!(run(Mode::DryRun, true, vec![]).2, b"A=1\n");
        assert_eq!(run(Mode::Check, true, vec![]).0, Outcome::Pending);
        let (o, err, file) = run(Mode::Ask, false, vec![]);
        assert_eq!(o, Outcome::NotApplied);
        assert!(err.contains("--yes"), "{err}");
        assert_eq!(file, b"A=1\n");
        let (o, _, file) = run(Mode::Ask, true, vec![Answer::Yes(false)]);
        assert_eq!((o, file.as_slice()), (Outcome::Declined, &b"A=1\n"[..]));
        let (o, _, file) = run(Mode::Ask, true, vec![Answer::Yes(true)]);
        assert!(matches!(o, Outcome::Applied(_)));
        assert_eq!(file, b"A=2\n");
        assert!(matches!(
            run(Mode::Yes, false, vec![]).0,
            Outcome::Applied(_)
        ));
    }
}
