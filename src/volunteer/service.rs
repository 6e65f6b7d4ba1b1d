//! One service per toolchain: the embedded server or distccd, as a systemd unit, an
//! OpenRC script or a runit service.

use super::*;

/// What both kinds of service are made from.
pub(super) struct ServiceInputs<'a> {
    pub(super) tc_name: &'a str,
    pub(super) alias_dir: &'a Path,
    pub(super) prefix: &'a str,
    pub(super) masters: &'a [String],
    pub(super) allow: &'a [String],
    pub(super) jobs: usize,
    pub(super) port: u16,
    pub(super) stats_port: u16,
    pub(super) suffix: &'a str,
    pub(super) path_env: &'a str,
}

/// systemd (and Debian's boot, which is systemd) gets a log file; the others log to
/// their supervisor.
pub(super) fn logs_to_file(profile: &Profile) -> bool {
    let manager = profile.volunteer.service_manager;
    manager == ServiceManager::Systemd || manager == ServiceManager::Sysv
}

/// `distsetup serve` for this toolchain; also the arguments `--foreground` runs.
pub(super) fn embedded_service(
    settings: &Settings,
    facts: &Facts,
    i: &ServiceInputs,
) -> (Service, Vec<String>) {
    let name = format!("distsetup-serve-{}", i.tc_name);
    let mut args = vec!["serve".to_string()];
    if let Some(l) = settings.listen {
        args.extend(["--listen".into(), l.to_string()]);
    }
    args.extend(["--port".into(), i.port.to_string()]);
    if settings.secure {
        args.push("--tls".into());
    }
    for a in i.allow {
        args.extend(["--allow".into(), a.clone()]);
    }
    args.extend(["--jobs".into(), i.jobs.to_string()]);
    args.extend(["--toolchain".into(), i.alias_dir.display().to_string()]);
    for m in i.masters {
        args.extend(["--alias".into(), format!("{m}={}", i.prefix)]);
    }
    args.extend([
        "--stats".into(),
        "--stats-port".into(),
        i.stats_port.to_string(),
    ]);
    let serve_args = args.clone();
    let mut argv = vec![facts.exe.display().to_string()];
    argv.extend(args);
    if logs_to_file(&settings.profile) {
        argv.extend([
            "--log-file".into(),
            format!("/var/log/{name}/{name}.log"),
            "--log-level".into(),
            "info".into(),
        ]);
    }
    (
        service_for(&settings.profile, &name, argv, i.path_env),
        serve_args,
    )
}

/// The distro's distccd, one unit per toolchain.
pub(super) fn distccd_service(
    settings: &Settings,
    i: &ServiceInputs,
    warnings: &mut Vec<String>,
) -> Result<(Service, Vec<String>), Error> {
    let (profile, root) = (&settings.profile, &settings.root);
    let name = profile
        .volunteer
        .toolchain_service
        .replace("{suffix}", i.suffix);
    let mut argv = vec![
        "/usr/bin/distccd".to_string(),
        "--no-detach".into(),
        "--daemon".into(),
        "--port".into(),
        i.port.to_string(),
        "--stats".into(),
        "--stats-port".into(),
        i.stats_port.to_string(),
    ];
    for a in i.allow {
        argv.extend(["--allow".into(), a.clone()]);
    }
    argv.extend(["--jobs".into(), i.jobs.to_string()]);
    if logs_to_file(profile) {
        argv.extend([
            "--log-file".into(),
            format!("/var/log/{name}/{name}.log"),
            "--log-level".into(),
            "info".into(),
        ]);
    } else {
        argv.extend(["--log-stderr".into(), "--log-level".into(), "info".into()]);
    }
    if root.state(Path::new("/usr/bin/distccd"))? == Before::Missing {
        warnings.push(format!(
            "/usr/bin/distccd is not installed under {}: install distcc before starting {name}",
            root.dir().display()
        ));
    }
    Ok((service_for(profile, &name, argv, i.path_env), Vec::new()))
}

/// The service file for `name` in the profile's service manager.
pub(super) fn service_for(
    profile: &Profile,
    name: &str,
    argv: Vec<String>,
    path_env: &str,
) -> Service {
    let v = &profile.volunteer;
    let manager = match v.service_manager {
        // Debian's distcc is a SysV script, but Debian boots systemd: our units are systemd's.
        ServiceManager::Sysv => ServiceManager::Systemd,
        m => m,
    };
    let file = match manager {
        ServiceManager::Openrc => v.service_dir.join(name),
        ServiceManager::Runit => v.service_dir.join(name).join("run"),
        _ => v.service_dir.join(format!("{name}.service")),
    };
    Service {
        name: name.to_string(),
        file,
        manager,
        argv,
        path_env: path_env.to_string(),
    }
}

/// Quote one `ExecStart=` word for systemd.
pub(super) fn systemd_word(w: &str) -> String {
    let escaped = w.replace('%', "%%").replace('$', "$$");
    if escaped.is_empty() || escaped.contains([' ', '\t', '"', '\'', '\\', ';']) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// Quote one word for sh.
pub(super) fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/-_.=:,@+%".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The text of the service file.
pub fn service_text(service: &Service, user: Option<&str>, description: &str) -> String {
    let header = "Written by `distsetup volunteer`; run it again to change this file, `distsetup undo` to remove it.";
    match service.manager {
        ServiceManager::Openrc => {
            let (cmd, args) = service
                .argv
                .split_first()
                .map_or(("", &[][..]), |(c, a)| (c.as_str(), a));
            let args: Vec<String> = args.iter().map(|a| sh_word(a)).collect();
            let mut s = format!(
                "#!/sbin/openrc-run\n# {header}\n\ndescription={}\ncommand={}\ncommand_args={}\ncommand_background=yes\npidfile=\"/run/${{RC_SVCNAME}}.pid\"\n",
                sh_word(description),
                sh_word(cmd),
                sh_word(&args.join(" "))
            );
            if let Some(u) = user {
                s.push_str(&format!("command_user={}\n", sh_word(u)));
            }
            s.push_str(&format!(
                "error_log=\"/var/log/${{RC_SVCNAME}}.log\"\n\ndepend() {{\n\tneed net\n}}\n\nstart_pre() {{\n\texport PATH={}\n}}\n",
                sh_word(&service.path_env)
            ));
            s
        }
        ServiceManager::Runit => {
            let args: Vec<String> = service.argv.iter().map(|a| sh_word(a)).collect();
            let chpst = user.map_or(String::new(), |u| format!("chpst -u {} ", sh_word(u)));
            format!(
                "#!/bin/sh\n# {header}\n# {description}\nexport PATH={}\nexec 2>&1\nexec {chpst}{}\n",
                sh_word(&service.path_env),
                args.join(" ")
            )
        }
        _ => {
            let exec: Vec<String> = service.argv.iter().map(|a| systemd_word(a)).collect();
            let mut s = format!(
                "# {header}\n[Unit]\nDescription={description}\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\n"
            );
            match user {
                Some(u) => s.push_str(&format!("User={u}\n")),
                None => s.push_str("DynamicUser=yes\n"),
            }
            s.push_str(&format!(
                "Environment=PATH={}\nLogsDirectory={}\nExecStart={}\nRestart=on-failure\n",
                service.path_env,
                service.name,
                exec.join(" ")
            ));
            // Hardening that leaves compiling alone: gcc writes only to TMPDIR (PrivateTmp)
            // and reads the toolchain (read-only is enough; toolchains live in /home too).
            s.push_str(SYSTEMD_HARDENING);
            s.push_str(&ip_allow_list(&service.argv));
            s.push_str("\n[Install]\nWantedBy=multi-user.target\n");
            s
        }
    }
}

/// Sandboxing for both servers (`systemd-analyze security` rates it "OK", about 1.2).
/// Kept: the network, AF_UNIX (user lookups), @resources (the server lowers its own
/// priority, like distccd's --nice), /proc's non-process files (the stats page reads
/// the load average). The compile server needs no capability at all: its ports are
/// above 1024 and it never changes user under systemd. Landlock's three calls are
/// allowed, so `serve` can confine each compile further. No MemoryDenyWriteExecute: a
/// toolchain of another architecture run through qemu-user (binfmt) needs its JIT.
const SYSTEMD_HARDENING: &str = "PrivateTmp=yes\nNoNewPrivileges=yes\nProtectSystem=strict\n\
    ProtectHome=read-only\nPrivateDevices=yes\nProtectKernelTunables=yes\n\
    ProtectKernelModules=yes\nProtectKernelLogs=yes\nProtectControlGroups=yes\n\
    ProtectClock=yes\nProtectHostname=yes\nProtectProc=invisible\nPrivateUsers=yes\n\
    PrivateMounts=yes\nRestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
    RestrictNamespaces=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\nRemoveIPC=yes\n\
    LockPersonality=yes\nCapabilityBoundingSet=\n\
    AmbientCapabilities=\nUMask=0077\nSystemCallArchitectures=native\n\
    SystemCallFilter=@system-service landlock_create_ruleset landlock_add_rule landlock_restrict_self\n\
    SystemCallFilter=~@privileged @mount @swap @reboot @raw-io @module @debug @cpu-emulation @obsolete @clock\n\
    SystemCallErrorNumber=EPERM\n";

/// The server's --allow list as systemd's IP firewall for the unit: nothing else can
/// even complete a handshake. Everyone (a /0) needs no list.
fn ip_allow_list(argv: &[String]) -> String {
    let nets: Vec<&str> = argv
        .windows(2)
        .filter(|w| w[0] == "--allow")
        .map(|w| w[1].as_str())
        .collect();
    if nets.is_empty() || nets.iter().any(|n| n.ends_with("/0")) {
        return String::new();
    }
    format!("IPAddressDeny=any\nIPAddressAllow={}\n", nets.join(" "))
}

pub(super) fn write_service(
    plan: &mut Plan,
    profile: &Profile,
    service: &Service,
) -> Result<(), Error> {
    let user = if service.argv.first().is_some_and(|a| a.ends_with("distccd")) {
        Some(profile.volunteer.user.as_str())
    } else if service.manager == ServiceManager::Systemd {
        None
    } else {
        // No DynamicUser outside systemd: the profile's unprivileged user.
        Some(profile.volunteer.user.as_str())
    };
    let description = format!("distcc compile server {}", service.name);
    let text = service_text(service, user, &description);
    if let Some(parent) = service.file.parent() {
        ensure_dir(plan, parent)?;
    }
    // An OpenRC or runit script must be executable; a unit must not be.
    let mode = (service.manager != ServiceManager::Systemd).then_some(0o755);
    plan.write_file_mode(&service.file, text.into_bytes(), mode)?;
    Ok(())
}

/// The `distsetup serve` arguments for `--foreground`: the service names system paths,
/// but in the foreground under `--root` the toolchain directory just written is the one
/// inside the root.
pub fn foreground_args(settings: &Settings, serve_args: &[String]) -> Vec<String> {
    let mut args = serve_args.to_vec();
    let mut i = 0;
    while i + 1 < args.len() {
        if args[i] == "--toolchain" {
            args[i + 1] = settings
                .root
                .path(Path::new(&args[i + 1]))
                .display()
                .to_string();
        }
        i += 1;
    }
    args
}
