//! `master --relay`: the stock client talks to `distsetup relay` on this machine, which
//! talks to the volunteers.
//!
//! - The client's host list becomes `127.0.0.1:PORT/N`, N the cluster's slots (the relay
//!   queues inside, so the client may send one job per slot); the volunteers' list goes to
//!   the relay's service (`--hosts`).
//! - The client must never ban the relay nor give up on it before the relay gives up on
//!   a volunteer: `DISTCC_BACKOFF_PERIOD=0`, `DISTCC_IO_TIMEOUT` above the relay's whole
//!   job (every attempt and the local compile), and `DISTCC_SKIP_LOCAL_RETRY=1` (a compile
//!   error from a volunteer whose compiler matches the master's is real: the client shows
//!   it instead of compiling again). Where each tool takes them from:
//!   - makepkg exports only `DISTCC_HOSTS` to the build (libmakepkg `buildenv/compiler.sh`),
//!     so the file it sources gets the assignments and an `export` line of its own;
//!   - Portage passes make.conf's variables into the ebuild environment;
//!   - Debian's plain `make` gets them from the login environment: `/etc/profile.d/`.
//! - The relay's service: a systemd unit (DynamicUser, the volunteers' hardening) or an
//!   OpenRC script on Gentoo.

use super::*;
use crate::profile::ServiceManager;
use crate::volunteer::{Service, service_text};

/// `--relay`: where the relay listens, and the program its service runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayChoice {
    /// The loopback port.
    pub port: u16,
    /// The `distsetup` binary the service runs.
    pub exe: PathBuf,
}

/// The relay's service name.
pub const SERVICE_NAME: &str = "distsetup-relay";
/// The login-environment file for clients that read no configuration (Debian's make).
pub const PROFILE_D: &str = "/etc/profile.d/distsetup-relay.sh";

/// The client variables that keep the stock client from ever working around the relay.
pub fn client_env() -> Vec<(String, String)> {
    let io = distsetup_relay::client_io_timeout(&distsetup_relay::RelaySettings::default());
    vec![
        ("DISTCC_BACKOFF_PERIOD".into(), "0".into()),
        ("DISTCC_IO_TIMEOUT".into(), io.to_string()),
        ("DISTCC_SKIP_LOCAL_RETRY".into(), "1".into()),
    ]
}

/// The client's host list: the relay, with every slot of the cluster.
pub fn client_hosts(port: u16, slots: usize) -> String {
    format!("127.0.0.1:{port}/{}", slots.max(1))
}

/// Point `hosts` at the relay and plan its service. Returns the volunteers' list.
pub(super) fn plan_relay(
    settings: &Settings,
    r: &RelayChoice,
    hosts: &mut Hosts,
    report: &mut Report,
) -> Result<String, Error> {
    let volunteers = std::mem::take(&mut hosts.spec);
    let slots = hosts.remote_slots + hosts.localhost_slots;
    hosts.spec = client_hosts(r.port, slots);
    report.notes.push(format!(
        "relay: the client sends every job to {} (the relay on this machine, {} slots); \
         the relay sends them to {volunteers}",
        hosts.spec, slots
    ));
    let profile = &settings.profile;
    let manager = match profile.volunteer.service_manager {
        // Debian boots systemd.
        ServiceManager::Sysv => ServiceManager::Systemd,
        m => m,
    };
    let file = match manager {
        ServiceManager::Openrc => profile.volunteer.service_dir.join(SERVICE_NAME),
        ServiceManager::Runit => profile.volunteer.service_dir.join(SERVICE_NAME).join("run"),
        _ => profile
            .volunteer
            .service_dir
            .join(format!("{SERVICE_NAME}.service")),
    };
    let mut argv = vec![
        r.exe.display().to_string(),
        "relay".into(),
        "--listen".into(),
        format!("127.0.0.1:{}", r.port),
        "--hosts".into(),
        volunteers.clone(),
    ];
    let tls = volunteers.contains(",tls");
    let mut user = (manager != ServiceManager::Systemd).then_some(profile.volunteer.user.as_str());
    // `,tls` hosts without systemd: the key is root's alone, so the relay starts as root,
    // reads it, and becomes the service user itself.
    if let Some(u) = user.filter(|_| tls) {
        argv.extend(["--user".into(), u.to_owned()]);
        user = None;
    }
    let service = Service {
        name: SERVICE_NAME.into(),
        file,
        manager,
        argv,
        path_env: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
    };
    let text = service_text(
        &service,
        user,
        "distsetup relay: the distcc client's scheduler",
    )
    .replace("`distsetup volunteer`", "`distsetup master --relay`");
    // `,tls` hosts: the relay shows this master's key, readable by root alone; systemd
    // hands the dynamic user a copy (the relay looks in $CREDENTIALS_DIRECTORY first).
    let text = if tls {
        text.replace(
            "DynamicUser=yes\n",
            &format!(
                "DynamicUser=yes\nLoadCredential=identity.key:{}\n",
                distsetup_link::trust::IDENTITY_KEY
            ),
        )
    } else {
        text
    };
    if let Some(parent) = service.file.parent() {
        ensure_dir(&mut report.plan, parent)?;
    }
    let mode = (manager != ServiceManager::Systemd).then_some(0o755);
    report
        .plan
        .write_file_mode(&service.file, text.into_bytes(), mode)?;
    report.notes.push(format!(
        "relay: service {} ({}); start it, then `distsetup top` shows the volunteers",
        service.file.display(),
        manager.as_str()
    ));
    Ok(volunteers)
}

/// The client variables in a file bash sources (makepkg): the assignments, then one
/// `export` line (makepkg itself exports only DISTCC_HOSTS).
pub(super) fn export_in_bash(file: &mut ConfFile, by_hand: &str) -> Result<(), Error> {
    let env = client_env();
    let edits: Vec<Edit> = env
        .iter()
        .map(|(name, value)| Edit::Set {
            name: name.clone(),
            value: value.clone(),
        })
        .collect();
    apply_edits(file, &edits, by_hand)?;
    let names: Vec<&str> = env.iter().map(|(n, _)| n.as_str()).collect();
    let line = format!("export {}\n", names.join(" "));
    let mut bytes = file.doc.to_bytes();
    if !bytes.windows(line.len()).any(|w| w == line.as_bytes()) {
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(line.as_bytes());
        file.doc = Document::parse(&bytes, Dialect::Bash)
            .map_err(|e| shconf_unsafe(&file.path, e, by_hand))?;
    }
    Ok(())
}

/// The client variables as Portage edits (make.conf's variables reach the build).
pub(super) fn portage_env_edits() -> Vec<Edit> {
    client_env()
        .into_iter()
        .map(|(name, value)| Edit::Set { name, value })
        .collect()
}

/// Debian: the login environment carries the client variables for plain `make`.
pub(super) fn plan_profile_d(report: &mut Report) -> Result<(), Error> {
    let mut text = String::from(
        "# The distcc client's settings for `distsetup relay`, written by \
         `distsetup master --relay`.\n",
    );
    for (name, value) in client_env() {
        text.push_str(&format!("export {name}={value}\n"));
    }
    let path = Path::new(PROFILE_D);
    ensure_dir(&mut report.plan, path.parent().unwrap_or(Path::new("/")))?;
    report.plan.write_file(path, text.into_bytes())?;
    report.notes.push(format!(
        "relay: {PROFILE_D} sets the client's DISTCC_BACKOFF_PERIOD, DISTCC_IO_TIMEOUT and \
         DISTCC_SKIP_LOCAL_RETRY for login shells"
    ));
    Ok(())
}
