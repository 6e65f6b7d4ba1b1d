//! `distsetup volunteer`: plan, show, apply; then enable the service or run the embedded
//! server in the foreground.

use std::collections::BTreeSet;
use std::path::Path;

use distsetup::plan::{Mode, Outcome, SysRoot};
use distsetup::profile::ServiceManager;
use distsetup::volunteer::{self, Facts, ServerKind, Service, Settings};

use super::{CommandError, ExitStatus, Ui, apply};
use crate::cli::{ServerArg, VolunteerArgs};

/// The profile `--profile` names, else the one the files under the root tell (as doctor
/// and the wizard detect it) with what told; neither: refused, asking for `--profile`.
pub fn profile_name(
    given: Option<&str>,
    root: &SysRoot,
) -> anyhow::Result<(String, Option<String>)> {
    match (given, distsetup::doctor::detect_profile(root)) {
        (Some(name), _) => Ok((name.to_owned(), None)),
        (None, Some(d)) => Ok((d.name.to_owned(), Some(d.evidence))),
        (None, None) => Err(CommandError::BadArgument(distsetup::doctor::undetected(root)).into()),
    }
}

/// Resolve `volunteer` arguments into settings, and what the profile was detected from.
pub fn resolve(a: VolunteerArgs) -> anyhow::Result<(Settings, Option<String>)> {
    let root = a.write.sys_root()?;
    let (profile, detected) = profile_name(a.profile.as_deref(), &root)?;
    let settings = Settings {
        profile: distsetup::profile::load(&profile)?,
        root,
        toolchain: a.toolchain,
        server: match a.server {
            ServerArg::Embedded => ServerKind::Embedded,
            ServerArg::Distccd => ServerKind::Distccd,
        },
        aliases: a.alias,
        allow: a.allow,
        allow_anyone: a.allow_anyone,
        jobs: a.jobs.map(usize::from),
        port: a.port,
        enable: a.enable,
        listen: a.listen,
        foreground: a.foreground,
        zeroconf: a.zeroconf,
        zeroconf_version: a.zeroconf_version,
        secure: a.secure,
        mode: a.write.mode(),
    };
    Ok((settings, detected))
}

/// `distsetup volunteer`.
pub fn run(a: VolunteerArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let (settings, detected) = resolve(a)?;
    if let Some(evidence) = detected {
        writeln!(
            ui.out,
            "profile {} (detected from {evidence}; --profile NAME to choose)",
            settings.profile.name
        )?;
    }
    let facts = Facts::detect(&settings.profile, listening_ports(&settings.root));
    let done = configure(&settings, &facts, ui)?;
    if let Some(args) = done.foreground {
        use std::os::unix::process::CommandExt as _;
        writeln!(
            ui.out,
            "running in the foreground: distsetup {}",
            args.join(" ")
        )?;
        ui.out.flush()?;
        // exec only returns on failure.
        let e = std::process::Command::new(&facts.exe).args(&args).exec();
        return Err(anyhow::Error::new(e).context(format!("running {}", facts.exe.display())));
    }
    Ok(ExitStatus::of_outcome(&done.outcome))
}

/// The TCP ports this machine listens on, from its socket tables (`/proc/net/tcp`,
/// `/proc/net/tcp6`): planning checks ports against these facts and never binds one.
/// `None` under `--root` (this machine's sockets say nothing about the target) and when
/// neither table can be read.
pub fn listening_ports(root: &SysRoot) -> Option<BTreeSet<u16>> {
    if root.dir() != Path::new("/") {
        return None;
    }
    let tables: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .into_iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .collect();
    (!tables.is_empty()).then(|| {
        tables
            .iter()
            .flat_map(|t| volunteer::listening_ports(t))
            .collect()
    })
}

/// What [`configure`] did.
#[derive(Debug)]
pub struct Finished {
    /// What happened to the plan.
    pub outcome: Outcome,
    /// `distsetup serve` arguments to run in the foreground, when asked.
    pub foreground: Option<Vec<String>>,
}

/// Plan, print notes and warnings, show the diff and act on the mode; then enable the
/// service (`--enable`) and hand back what `--foreground` should run.
pub fn configure(settings: &Settings, facts: &Facts, ui: &mut Ui) -> anyhow::Result<Finished> {
    if settings.secure && settings.server != ServerKind::Embedded {
        return Err(CommandError::BadArgument(
            "--secure runs the embedded server's secure link; with distccd, run \
             `distsetup serve --tls --forward 127.0.0.1:PORT` in front of it"
                .into(),
        )
        .into());
    }
    if settings.foreground && settings.server != ServerKind::Embedded {
        return Err(CommandError::BadArgument(
            "--foreground runs the embedded server; it does not go with --server distccd".into(),
        )
        .into());
    }
    apply::recover_first(&settings.root, settings.mode, ui)?;
    // The key pair first, outside the plan: an identity the masters pin survives undo,
    // and the directories it needs are not the plan's to create and take back.
    let made_key = settings.secure
        && matches!(settings.mode, Mode::Yes | Mode::Ask)
        && super::trust::identity(&settings.root, super::trust::KeyOwner::ServiceUser, true)?
            .is_some_and(|(_, made)| made);
    let report = match volunteer::plan(settings, facts) {
        Err(e @ volunteer::Error::Toolchain(_)) => {
            let note = volunteer::host_search_note(&settings.root, facts);
            return Err(match note {
                Some(n) => anyhow::Error::new(e).context(n),
                None => e.into(),
            });
        }
        other => other?,
    };
    for n in &report.notes {
        writeln!(ui.out, "{n}")?;
    }
    for w in &report.warnings {
        writeln!(ui.err, "warning: {w}")?;
    }
    if settings.server == ServerKind::Embedded {
        let home = distsetup::toolchain::invoking_home();
        if let Some(w) = volunteer::exe_warning(&facts.exe, home.as_deref()) {
            writeln!(ui.err, "WARNING: {w}")?;
        }
    }
    let outcome = if report.plan.is_empty() {
        writeln!(ui.out, "already configured: nothing to change")?;
        Outcome::NothingToChange
    } else {
        apply::execute(&report.plan, settings.mode, ui)?
    };
    let done = matches!(outcome, Outcome::Applied(_) | Outcome::NothingToChange);
    if settings.secure {
        secure_identity(settings, &report.serve_args, made_key, ui)?;
    }
    if done && settings.enable && settings.mode != Mode::Check && settings.mode != Mode::DryRun {
        enable(settings, &report.service, ui)?;
    }
    let foreground = (done && settings.foreground)
        .then(|| volunteer::foreground_args(settings, &report.serve_args));
    Ok(Finished {
        outcome,
        foreground,
    })
}

/// `--secure`: this volunteer's fingerprint (its key pair made on first use) and the
/// command that pins it on the master.
fn secure_identity(
    settings: &Settings,
    serve_args: &[String],
    made: bool,
    ui: &mut Ui,
) -> anyhow::Result<()> {
    use super::trust::{KeyOwner, identity, print_identity};
    let Some((id, _)) = identity(&settings.root, KeyOwner::ServiceUser, false)? else {
        writeln!(
            ui.out,
            "the secure link's key pair is made when the change is applied"
        )?;
        return Ok(());
    };
    print_identity(&id, made, ui)?;
    let port = serve_args
        .iter()
        .skip_while(|a| *a != "--port")
        .nth(1)
        .map_or("PORT", String::as_str);
    writeln!(
        ui.out,
        "on the master, run: distsetup trust add THIS-HOST:{port} {}\n\
         then here, with the fingerprint the master prints: distsetup trust add --master FINGERPRINT",
        id.fingerprint()
    )?;
    Ok(())
}

/// `--enable`: `systemctl enable --now` on a running systemd; otherwise say what to run.
fn enable(settings: &Settings, service: &Service, ui: &mut Ui) -> anyhow::Result<()> {
    let live = settings.root.dir() == Path::new("/");
    let command = match service.manager {
        ServiceManager::Openrc => format!(
            "rc-update add {0} default && rc-service {0} start",
            service.name
        ),
        ServiceManager::Runit => format!("ln -s /etc/sv/{} /var/service/", service.name),
        _ => format!("systemctl enable --now {}.service", service.name),
    };
    let systemd_running = Path::new("/run/systemd/system").is_dir();
    if live && service.manager == ServiceManager::Systemd && systemd_running {
        let status = std::process::Command::new("systemctl")
            .args(["enable", "--now", &format!("{}.service", service.name)])
            .status()?;
        if !status.success() {
            anyhow::bail!("`{command}` failed ({status})");
        }
        writeln!(ui.out, "enabled and started: {command}")?;
    } else if !live {
        writeln!(
            ui.out,
            "under --root only files are written; on the target system run: {command}"
        )?;
    } else {
        writeln!(
            ui.out,
            "not enabled here (no running service manager found); run: {command}"
        )?;
    }
    Ok(())
}
