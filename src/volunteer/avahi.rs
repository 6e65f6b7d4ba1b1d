//! `--zeroconf`: one Avahi static service file per toolchain,
//! `/etc/avahi/services/distsetup-<toolchain>.service`, planned like every other file (diff,
//! undo). avahi-daemon notices the file by itself and publishes it; `distsetup undo`
//! removes it and avahi withdraws the service. See [`crate::zeroconf`] for what the
//! distcc client browses for.

use super::*;
use crate::zeroconf::{self, ServiceFile, naming};

/// Where the service files go.
pub const AVAHI_SERVICES: &str = "/etc/avahi/services";

/// What the advertisement is made from.
struct Advert<'a> {
    tc_name: &'a str,
    /// The toolchain's own triple.
    prefix: &'a str,
    /// The master names it also answers (aliases).
    masters: &'a [String],
    /// The toolchain's `-dumpversion` and `-dumpfullversion`.
    version: &'a str,
    full_version: Option<&'a str>,
    port: u16,
    jobs: usize,
    cpus: usize,
}

/// TXT lists are cut into `key=…`, `key.2=…` strings that fit DNS's 255 bytes.
fn txt_list(key: &str, items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for item in items {
        let next_key = |n: usize| {
            if n == 0 {
                key.to_string()
            } else {
                format!("{key}.{}", n + 1)
            }
        };
        if !cur.is_empty() && next_key(out.len()).len() + 1 + cur.len() + 1 + item.len() > 255 {
            out.push(format!("{}={cur}", next_key(out.len())));
            cur.clear();
        }
        if !cur.is_empty() {
            cur.push(',');
        }
        cur.push_str(item);
    }
    if !cur.is_empty() {
        let k = if out.is_empty() {
            key.to_string()
        } else {
            format!("{key}.{}", out.len() + 1)
        };
        out.push(format!("{k}={cur}"));
    }
    out
}

/// `--secure`: the link and the key's fingerprint, for the master's wizard to show and the
/// user to compare with what the volunteer printed (a TXT record is a hint, never a pin).
/// Before the key pair exists (a dry run on a new machine) nothing is advertised for it.
fn link_txt(settings: &Settings) -> Result<Vec<String>, Error> {
    use distsetup_link::trust::IDENTITY_KEY;
    let key = distsetup_link::Identity::load(&settings.root.path(Path::new(IDENTITY_KEY)))
        .map_err(|e| Error::Zeroconf(e.to_string()))?;
    Ok(match key {
        Some(id) => vec!["link=tls".into(), format!("link_key={}", id.fingerprint())],
        None => Vec::new(),
    })
}

/// The service file for this toolchain.
fn service_file(
    settings: &Settings,
    a: &Advert,
) -> Result<(ServiceFile, Vec<String>, Vec<String>), Error> {
    let versions = match &settings.zeroconf_version {
        Some(v) => {
            naming::check_version(v)
                .map_err(|r| Error::Zeroconf(format!("--zeroconf-version {r}")))?;
            naming::versions(v, None)
        }
        None => naming::versions(a.version, a.full_version),
    };
    let mut machines = vec![a.prefix.to_string()];
    machines.extend(a.masters.iter().cloned());
    let server = match settings.server {
        ServerKind::Embedded => "embedded",
        ServerKind::Distccd => "distccd",
    };
    let mut txt = vec![
        "txtvers=1".to_string(),
        format!("cpus={}", a.cpus.max(1)),
        format!("jobs={}", a.jobs.max(1)),
        format!("cc_machine={}", a.prefix),
        format!("cc_version={}", a.full_version.unwrap_or(a.version)),
        format!("distsetup={}", a.tc_name),
        format!("server={server}"),
    ];
    txt.extend(txt_list("masters", a.masters));
    txt.extend(txt_list("versions", &versions));
    if settings.secure {
        txt.extend(link_txt(settings)?);
    }
    let file = ServiceFile {
        name: format!("distcc {} on %h", a.tc_name),
        port: a.port,
        subtypes: zeroconf::service_file::subtypes(&machines, &versions),
        txt,
    };
    Ok((file, machines, versions))
}

/// With `--zeroconf`: plan the service file and say what it advertises; warn when
/// avahi-daemon is missing or not enabled under the root.
pub(super) fn plan_avahi(
    settings: &Settings,
    facts: &Facts,
    i: &ServiceInputs,
    versions: &GccVersions,
    (plan, notes, warnings): (&mut Plan, &mut Vec<String>, &mut Vec<String>),
) -> Result<(), Error> {
    if !settings.zeroconf {
        return Ok(());
    }
    let a = &Advert {
        tc_name: i.tc_name,
        prefix: i.prefix,
        masters: i.masters,
        version: &versions.0,
        full_version: versions.1.as_deref(),
        port: i.port,
        jobs: i.jobs,
        cpus: facts.cores.unwrap_or(i.jobs),
    };
    let (file, machines, versions) = service_file(settings, a)?;
    let text = file.render().map_err(|e| Error::Zeroconf(e.to_string()))?;
    let dir = Path::new(AVAHI_SERVICES);
    let path = dir.join(format!("distsetup-{}.service", a.tc_name));
    ensure_dir(plan, dir)?;
    plan.write_file(&path, text.into_bytes())?;
    notes.push(format!(
        "zeroconf: {} advertises port {} ({} jobs) to masters whose cc says {} × {} ({} subtypes); \
         a master finds it with DISTCC_HOSTS=+zeroconf",
        path.display(),
        a.port,
        a.jobs,
        machines.join(", "),
        versions.join(" or "),
        file.subtypes.len()
    ));
    if settings.zeroconf_version.is_none() {
        notes.push(
            "zeroconf: a master whose gcc differs in patch level needs --zeroconf-version (its cc -dumpversion)"
                .into(),
        );
    }
    check_avahi(&settings.root, &settings.profile, warnings)?;
    Ok(())
}

/// avahi-daemon installed and enabled under the root, in the profile's service manager.
fn check_avahi(root: &SysRoot, profile: &Profile, warnings: &mut Vec<String>) -> Result<(), Error> {
    let present =
        |p: &str| -> Result<bool, Error> { Ok(root.state(Path::new(p))? != Before::Missing) };
    let advice = zeroconf::avahi_advice(&profile.name);
    let installed = present("/usr/sbin/avahi-daemon")? || present("/usr/bin/avahi-daemon")?;
    if !installed {
        warnings.push(format!(
            "avahi-daemon is not installed, so nothing is advertised: {advice}"
        ));
        return Ok(());
    }
    let enabled_at: &[&str] = match profile.volunteer.service_manager {
        ServiceManager::Openrc => &[
            "/etc/runlevels/default/avahi-daemon",
            "/etc/runlevels/boot/avahi-daemon",
        ],
        ServiceManager::Runit => &[
            "/var/service/avahi-daemon",
            "/etc/runit/runsvdir/default/avahi-daemon",
        ],
        _ => &[
            "/etc/systemd/system/multi-user.target.wants/avahi-daemon.service",
            "/etc/systemd/system/sockets.target.wants/avahi-daemon.socket",
        ],
    };
    let mut enabled = false;
    for p in enabled_at {
        enabled |= present(p)?;
    }
    if !enabled {
        warnings.push(format!(
            "avahi-daemon is installed but not enabled at boot ({} missing): {advice}",
            enabled_at.first().copied().unwrap_or_default()
        ));
    }
    Ok(())
}
