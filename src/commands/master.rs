//! `distsetup master`: resolve the profile, plan, print the reasoning, show the diff and
//! act on the mode.

use distsetup::master::{self, Facts, Settings};
use distsetup::plan::Outcome;

use super::{ExitStatus, Ui, apply};
use crate::cli::MasterArgs;

/// What `distsetup master` was asked to do.
enum Action {
    /// `--profile list`.
    List(Vec<distsetup::profile::Summary>),
    /// Configure the master (and pin the `--trust` keys of its `,tls` volunteers).
    Configure(Box<Settings>, Vec<String>),
}

/// Resolve `master` arguments: load the profile, check the root.
fn resolve(a: MasterArgs) -> anyhow::Result<Action> {
    let profile = match (&a.profile, &a.profile_file) {
        (Some(name), _) if name == "list" => {
            return Ok(Action::List(distsetup::profile::list()?));
        }
        (_, Some(path)) => distsetup::profile::load_file(path)?,
        (Some(name), None) => distsetup::profile::load(name)?,
        (None, None) => {
            return Err(super::CommandError::BadArgument(
                "pass --profile NAME (or --profile list)".into(),
            )
            .into());
        }
    };
    let relay = if a.relay {
        let port = match a.relay_port {
            Some(p) => p,
            None => (3632..3700)
                .find(|&p| distsetup::relay::port_free(p))
                .ok_or_else(|| {
                    anyhow::anyhow!("no free port for the relay in 3632-3699; pass --relay-port")
                })?,
        };
        let exe = std::env::current_exe().unwrap_or_else(|_| "/usr/bin/distsetup".into());
        Some(master::RelayChoice { port, exe })
    } else {
        None
    };
    let trust = a.trust;
    Ok(Action::Configure(
        Box::new(Settings {
            profile,
            root: a.write.sys_root()?,
            hosts: a.hosts,
            jobs: a.jobs,
            mode: a.write.mode(),
            ccache: a.ccache.then(|| master::Ccache {
                // makepkg refuses to run as root: the user who ran sudo is the one who builds.
                build_user: a
                    .build_user
                    .or_else(|| std::env::var("SUDO_USER").ok().filter(|u| u != "root")),
            }),
            relay,
        }),
        trust,
    ))
}

/// `distsetup master`.
pub fn run(a: MasterArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    match resolve(a)? {
        Action::List(profiles) => {
            // Only what can configure a master (void's profile is for volunteers).
            for s in profiles {
                let p = distsetup::profile::load(&s.name)?;
                if p.configures_master() {
                    writeln!(ui.out, "{:<10} {}", s.name, s.description)?;
                }
            }
            Ok(ExitStatus::Ok)
        }
        Action::Configure(settings, trust) => {
            let outcome = if trust.is_empty() {
                configure(&settings, &Facts::detect(), ui)?
            } else {
                super::trust::configure_pinned(&settings, &Facts::detect(), &trust, ui)?
            };
            Ok(ExitStatus::of_outcome(&outcome))
        }
    }
}

/// Plan, print the reasoning and warnings, then show the diff and act on the mode. A
/// system that already matches prints "already configured" and writes nothing.
pub fn configure(settings: &Settings, facts: &Facts, ui: &mut Ui) -> anyhow::Result<Outcome> {
    apply::recover_first(&settings.root, settings.mode, ui)?;
    configure_with(settings, master::plan(settings, facts)?, ui)
}

/// Print `report`'s reasoning, then show its diff and act on the mode.
pub fn configure_with(
    settings: &Settings,
    report: master::Report,
    ui: &mut Ui,
) -> anyhow::Result<Outcome> {
    for n in &report.notes {
        writeln!(ui.out, "{n}")?;
    }
    for w in &report.warnings {
        writeln!(ui.err, "warning: {w}")?;
    }
    if report.plan.is_empty() {
        writeln!(
            ui.out,
            "already configured: nothing to change for profile {}",
            settings.profile.name
        )?;
        return Ok(Outcome::NothingToChange);
    }
    apply::execute(&report.plan, settings.mode, ui)
}
