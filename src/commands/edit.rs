//! `distsetup edit` and `hosts`.

use distsetup::edit::{self, EditAction, EditSettings, Got, HostsSource};
use distsetup::shconf::{Dialect, Edit};

use super::{ExitStatus, Ui, apply};
use crate::cli::{DialectArg, EditArgs, HostsArgs};

/// Resolve `edit` arguments into settings; `matches` gives the command-line order of the
/// edits.
pub fn resolve(a: EditArgs, matches: &clap::ArgMatches) -> anyhow::Result<EditSettings> {
    let root = a.write.sys_root()?;
    let file = edit::system_path(&root, &a.file);
    let dialect = match a.dialect {
        Some(DialectArg::Bash) => Dialect::Bash,
        Some(DialectArg::Portage) => Dialect::Portage,
        Some(DialectArg::Envfile) => Dialect::EnvironmentFile,
        None => edit::guess_dialect(&file),
    };
    let pair = |flag: &str, v: &str| -> Result<(String, String), edit::Error> {
        match v.split_once('=') {
            Some((n, w)) if !n.is_empty() => Ok((n.to_string(), w.to_string())),
            _ => Err(edit::Error::Refused {
                file: format!("--{flag}"),
                reason: format!("expected NAME=VALUE, got {v:?}"),
            }),
        }
    };
    let mut ops: Vec<(usize, Edit)> = Vec::new();
    for id in ["set", "unset", "enable", "disable", "add", "remove"] {
        let (Some(values), Some(indices)) =
            (matches.get_many::<String>(id), matches.indices_of(id))
        else {
            continue;
        };
        for (v, i) in values.zip(indices) {
            let op = if id == "unset" {
                Edit::Unset { name: v.clone() }
            } else {
                let (name, word) = pair(id, v)?;
                match id {
                    "set" => Edit::Set { name, value: word },
                    "enable" => Edit::Enable { name, word },
                    "disable" => Edit::Disable { name, word },
                    "add" => Edit::Add { name, word },
                    _ => Edit::Remove { name, word },
                }
            };
            ops.push((i, op));
        }
    }
    ops.sort_by_key(|(i, _)| *i);
    let action = match (a.get, a.verify) {
        (Some(name), _) => EditAction::Get(name),
        (None, true) => EditAction::Verify,
        (None, false) if ops.is_empty() => {
            return Err(edit::Error::Refused {
                file: a.file.display().to_string(),
                reason: "nothing to do: pass --get, --verify or an edit (--set, --enable, ...)"
                    .into(),
            }
            .into());
        }
        (None, false) => EditAction::Apply(ops.into_iter().map(|(_, op)| op).collect()),
    };
    Ok(EditSettings {
        file,
        root,
        dialect,
        create: a.create,
        mode: a.write.mode(),
        action,
    })
}

/// `distsetup edit`: get, verify, or plan and apply edits.
pub fn run(a: EditArgs, matches: &clap::ArgMatches, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let s = resolve(a, matches)?;
    if matches!(s.action, EditAction::Apply(_)) {
        apply::recover_first(&s.root, s.mode, ui)?;
    }
    let loaded = edit::load(&s)?;
    match &s.action {
        EditAction::Get(name) => match edit::get(&s, &loaded, name)? {
            None => Ok(ExitStatus::Negative),
            Some(Got::Scalar(v)) => {
                ui.out.write_all(&v)?;
                ui.out.write_all(b"\n")?;
                Ok(ExitStatus::Ok)
            }
            Some(Got::Array(items)) => {
                for v in items {
                    ui.out.write_all(&v)?;
                    ui.out.write_all(b"\n")?;
                }
                Ok(ExitStatus::Ok)
            }
        },
        EditAction::Verify => {
            for line in edit::listing(&loaded.doc) {
                writeln!(ui.out, "{line}")?;
            }
            if edit::round_trips(&loaded) {
                writeln!(
                    ui.out,
                    "round trip: byte-exact ({} bytes)",
                    loaded.original.len()
                )?;
                Ok(ExitStatus::Ok)
            } else {
                writeln!(
                    ui.err,
                    "distsetup: {}: round trip is NOT byte-exact",
                    loaded.shown
                )?;
                Ok(ExitStatus::Input)
            }
        }
        EditAction::Apply(edits) => {
            let plan = edit::plan_edits(&s, loaded, edits)?;
            let outcome = apply::execute(&plan, s.mode, ui)?;
            Ok(ExitStatus::of_outcome(&outcome))
        }
    }
}

/// `distsetup hosts`: one line per host, the total slots, and warnings (on stderr).
pub fn hosts(a: HostsArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let source = match (a.spec, a.file) {
        (Some(s), _) => HostsSource::Spec(s),
        (None, Some(f)) => HostsSource::File(f),
        (None, None) => HostsSource::Env(std::env::var("DISTCC_HOSTS").ok()),
    };
    let checked = edit::check_hosts(&source)?;
    let rows = checked.rows();
    let width = rows
        .iter()
        .map(|r| r.address.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(
        ui.out,
        "{:<width$}  {:>5}  {:>5}  OPTIONS",
        "HOST", "PORT", "LIMIT"
    )?;
    for r in rows {
        writeln!(
            ui.out,
            "{:<width$}  {:>5}  {:>5}  {}",
            r.address, r.port, r.limit, r.options
        )?;
    }
    writeln!(ui.out, "total slots: {}", checked.list.total_slots())?;
    for w in &checked.list.warnings {
        writeln!(
            ui.err,
            "distsetup: warning: {}:{}:{}: {}",
            checked.origin, w.line, w.column, w.message
        )?;
    }
    Ok(ExitStatus::Ok)
}
