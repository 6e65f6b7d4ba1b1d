//! The volunteer side of `doctor`: what `distsetup volunteer` set up is still there and
//! works — toolchains run, aliases answer with the right target, distccd's whitelist has
//! every name, units are present and enabled, ports listen, allow lists are sane.

use crate::child::CheckedOutput as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Event, Finding, Progress, Report, Settings, Status, flush, read_text, real};
use crate::toolchain::elf_machine_for_triple;

const ALIAS_ROOT: &str = "/usr/lib/distsetup";
const UNIT_DIR: &str = "/etc/systemd/system";

fn run_line(exe: &Path, arg: &str) -> Option<String> {
    let o = Command::new(exe)
        .arg(arg)
        .stdin(Stdio::null())
        .checked_output()
        .ok()?;
    let t = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !t.is_empty()).then_some(t)
}

/// `TRIPLE-gcc` → `TRIPLE` (names with at least two dashes before the tool).
fn triple_of(name: &str) -> Option<&str> {
    let t = name.strip_suffix("-gcc")?;
    (t.matches('-').count() >= 1).then_some(t)
}

pub(super) fn check(s: &Settings, bar: &dyn Progress, emit: &mut dyn FnMut(Event<'_>)) -> Report {
    let mut f = Vec::new();
    let mut emitted = 0;
    let root = &s.root;
    let alias_root = real(root, ALIAS_ROOT);
    let mut toolchains: Vec<String> = std::fs::read_dir(&alias_root)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    toolchains.sort();
    let services = services(root);
    if toolchains.is_empty() && services.is_empty() {
        f.push(
            Finding::new("setup", "this machine", Status::Broken, format!("no alias directory under {ALIAS_ROOT} and no distsetup-serve-*/distccd-* service: not set up as a volunteer"))
                .hint("distsetup volunteer --toolchain NAME --allow CIDR"),
        );
    } else if services.is_empty() {
        f.push(
            Finding::new(
                "service",
                "this machine",
                Status::Warn,
                format!(
                    "not checked: no distsetup-serve-* or distccd* service in {}, /etc/init.d or /etc/sv, so service, port and allow cannot be checked",
                    UNIT_DIR
                ),
            )
            .hint("rerun the `distsetup volunteer` command that made the alias directory"),
        );
    }
    flush(&f, &mut emitted, emit);
    bar.begin((toolchains.len() + services.len()) as u64, "checking");
    for tc in &toolchains {
        check_toolchain(s, tc, &mut f);
        flush(&f, &mut emitted, emit);
        bar.step();
    }
    for svc in &services {
        check_unit(s, svc, &mut f);
        flush(&f, &mut emitted, emit);
        bar.step();
    }
    if !toolchains.is_empty() || !services.is_empty() {
        f.push(confinement());
        flush(&f, &mut emitted, emit);
    }
    bar.end();
    Report {
        role: "volunteer",
        profile: s.profile.name.clone(),
        hosts: None,
        hosts_origin: None,
        findings: f,
        speed: Vec::new(),
        proposed_hosts: None,
    }
}

/// Whether `distsetup serve` can confine its compiles with Landlock on this kernel.
fn confinement() -> Finding {
    let abi = crate::server::confine::landlock_abi();
    if abi > 0 {
        Finding::new(
            "confinement",
            "this kernel",
            Status::Ok,
            format!(
                "Landlock ABI {abi}: each compile of distsetup serve reads only the system and \
                 toolchain directories and writes only its job directory"
            ),
        )
    } else {
        Finding::new(
            "confinement",
            "this kernel",
            Status::Warn,
            "no Landlock: distsetup serve confines compiles by its unprivileged user alone",
        )
        .hint("Linux 5.13 or later with Landlock enabled (CONFIG_SECURITY_LANDLOCK, lsm=...,landlock)")
    }
}

fn check_toolchain(s: &Settings, tc: &str, f: &mut Vec<Finding>) {
    let dir = real(&s.root, ALIAS_ROOT).join(tc).join("bin");
    let subject = format!("{ALIAS_ROOT}/{tc}/bin");
    let gcc = dir.join("gcc");
    let Some(machine) = run_line(&gcc, "-dumpmachine") else {
        f.push(
            Finding::new("toolchain", subject, Status::Broken, "its gcc does not run (a link pointing to a moved or removed toolchain?)")
                .hint(format!("run the same `distsetup volunteer --toolchain {tc} ...` again after restoring the toolchain")),
        );
        return;
    };
    let version = run_line(&gcc, "-dumpversion").unwrap_or_default();
    f.push(Finding::new(
        "toolchain",
        subject.clone(),
        Status::Ok,
        format!("gcc {version} for {machine}"),
    ));
    f.push(service_user_finding(s, &gcc, &subject));
    let want = elf_machine_for_triple(&machine);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    for n in &names {
        let path = dir.join(n);
        if std::fs::metadata(&path).is_err() {
            f.push(
                Finding::new(
                    "alias",
                    format!("{subject}/{n}"),
                    Status::Broken,
                    "dangling link: the compiler it points to is gone",
                )
                .hint(format!("rerun `distsetup volunteer --toolchain {tc} ...`")),
            );
            continue;
        }
        let Some(triple) = triple_of(n) else { continue };
        let asked = elf_machine_for_triple(triple);
        if asked.is_some() && asked != want {
            f.push(Finding::new(
                "alias",
                format!("{subject}/{n}"),
                Status::Broken,
                format!("a master asking for {n} wants {} objects but gets {machine} ones", asked.unwrap_or("?")),
            ).hint("remove that alias (distsetup undo) and map the name to a toolchain for its target"));
        }
    }
    f.push(Finding::new(
        "alias",
        subject,
        Status::Ok,
        format!("{} names answer with {machine}", names.len()),
    ));
}

/// Whether the service's user can run the toolchain as root could: checked as `nobody`
/// (what systemd's DynamicUser and an unrelated distcc user have in common: the
/// permissions for others), by running it when doctor runs as root.
fn service_user_finding(s: &Settings, gcc: &Path, subject: &str) -> Finding {
    let Some(user) = crate::volunteer::checking_user(&s.profile, None) else {
        return Finding::new(
            "service-user",
            subject,
            Status::Warn,
            "not checked: no user nobody on this machine",
        );
    };
    match crate::volunteer::check_runnable(gcc, None, &user) {
        Ok(()) => Finding::new(
            "service-user",
            subject,
            Status::Ok,
            format!("{} can run its gcc", user.name),
        ),
        Err(d) => Finding::new(
            "service-user",
            subject,
            Status::Broken,
            format!(
                "the service's user ({}) cannot run its gcc: {}; every compile fails with                  \"Permission denied\" (exit 110) and the master builds by itself",
                d.user.role, d.why
            ),
        )
        .hint(d.fix),
    }
}

/// A service `distsetup volunteer` writes, whichever the service manager.
struct Svc {
    /// Its name (`distsetup-serve-x-tools8.service`, `distsetup-serve-x-tools8`).
    name: String,
    /// Its file's text.
    text: String,
    /// The command line it runs.
    exec: String,
    /// Whether it starts at boot.
    enabled: bool,
    /// How to enable and start it.
    enable: String,
    /// How to start it and read its log.
    start: String,
}

fn ours(name: &str) -> bool {
    name.starts_with("distsetup-serve-") || name.starts_with("distccd")
}

fn names_in(root: &crate::plan::SysRoot, dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(real(root, dir))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| ours(n))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// distsetup-serve-* and distccd* services: systemd units, OpenRC scripts, runit services.
fn services(root: &crate::plan::SysRoot) -> Vec<Svc> {
    let exists = |p: &str| std::fs::symlink_metadata(real(root, p)).is_ok();
    let mut out = Vec::new();
    for n in names_in(root, UNIT_DIR)
        .into_iter()
        .filter(|n| n.ends_with(".service"))
    {
        let Some(text) = read_text(root, &Path::new(UNIT_DIR).join(&n)) else {
            continue;
        };
        out.push(Svc {
            exec: value_of(&text, "ExecStart").unwrap_or_default().to_string(),
            enabled: exists(&format!("{UNIT_DIR}/multi-user.target.wants/{n}")),
            enable: format!("systemctl enable --now {n}"),
            start: format!("systemctl start {n}; journalctl -u {n}"),
            name: n,
            text,
        });
    }
    for n in names_in(root, "/etc/init.d") {
        let Some(text) = read_text(root, &Path::new("/etc/init.d").join(&n)) else {
            continue;
        };
        out.push(Svc {
            exec: text.clone(),
            enabled: exists(&format!("/etc/runlevels/default/{n}")),
            enable: format!("rc-update add {n} default && rc-service {n} start"),
            start: format!("rc-service {n} start"),
            name: n,
            text,
        });
    }
    for n in names_in(root, "/etc/sv") {
        let Some(text) = read_text(root, &Path::new("/etc/sv").join(&n).join("run")) else {
            continue;
        };
        out.push(Svc {
            exec: text
                .lines()
                .rfind(|l| l.starts_with("exec "))
                .unwrap_or("")
                .to_string(),
            enabled: exists(&format!("/var/service/{n}")),
            enable: format!("ln -s /etc/sv/{n} /var/service/"),
            start: format!("sv up {n}"),
            name: n,
            text,
        });
    }
    out
}

fn value_of<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix('='))
}

/// Values of `--flag V` / `--flag=V` in a command line.
fn flag_values(cmd: &str, flag: &str) -> Vec<String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if *w == flag {
            if let Some(v) = words.get(i + 1) {
                out.push(v.trim_matches(['"', '\'']).to_string());
            }
        } else if let Some(v) = w.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            out.push(v.trim_matches(['"', '\'']).to_string());
        }
    }
    out
}

/// distccd's whitelist: every name of the PATH's alias directory must be in
/// /usr/lib/distcc.
fn check_whitelist(s: &Settings, name: &str, text: &str, f: &mut Vec<Finding>) {
    let path = value_of(text, "Environment")
        .and_then(|e| e.strip_prefix("PATH="))
        .unwrap_or_default();
    let Some(alias_dir) = path.split(':').find(|d| d.starts_with(ALIAS_ROOT)) else {
        return;
    };
    let names: Vec<String> = std::fs::read_dir(real(&s.root, alias_dir))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    let wl: PathBuf = real(&s.root, "/usr/lib/distcc");
    let mut missing: Vec<&String> = names
        .iter()
        .filter(|n| std::fs::symlink_metadata(wl.join(n)).is_err())
        .collect();
    missing.sort();
    if missing.is_empty() {
        f.push(Finding::new(
            "whitelist",
            name,
            Status::Ok,
            format!("{} names whitelisted in /usr/lib/distcc", names.len()),
        ));
    } else {
        f.push(Finding::new(
            "whitelist",
            name,
            Status::Broken,
            format!("distccd refuses {} (not in /usr/lib/distcc; update-distcc-symlinks or distcc-config may have removed them)", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        ).hint("rerun the same `distsetup volunteer --server distccd ...` command (idempotent)"));
    }
}

fn check_unit(s: &Settings, svc: &Svc, f: &mut Vec<Finding>) {
    let (name, text, exec) = (svc.name.as_str(), svc.text.as_str(), svc.exec.as_str());
    if svc.enabled {
        f.push(Finding::new(
            "unit",
            name,
            Status::Ok,
            "present and enabled",
        ));
    } else {
        f.push(
            Finding::new(
                "unit",
                name,
                Status::Warn,
                "present but not enabled: it will not start at boot",
            )
            .hint(svc.enable.clone()),
        );
    }
    // Allow list.
    let allows = flag_values(exec, "--allow");
    if allows.is_empty() && !exec.contains("--inetd") {
        f.push(
            Finding::new(
                "allow",
                name,
                Status::Broken,
                "no --allow: distccd 3.4 then serves everyone, distsetup serve refuses to start",
            )
            .hint("distsetup volunteer ... --allow 192.168.1.0/24"),
        );
    } else if allows.iter().any(|a| a == "0.0.0.0/0" || a == "::/0") {
        f.push(
            Finding::new(
                "allow",
                name,
                Status::Warn,
                format!("allows anyone ({})", allows.join(" ")),
            )
            .hint("narrow --allow to your LAN"),
        );
    } else {
        f.push(Finding::new("allow", name, Status::Ok, allows.join(" ")));
    }
    // Port.
    let port: u16 = flag_values(exec, "--port")
        .first()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3632);
    let listen = flag_values(exec, "--listen")
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1".into());
    let host = if listen == "0.0.0.0" || listen == "::" {
        "127.0.0.1".to_string()
    } else {
        listen
    };
    let listening = super::probe::resolve(&host, port)
        .and_then(|a| super::probe::connect(a, s.connect_timeout))
        .is_ok();
    if listening {
        f.push(Finding::new(
            "port",
            format!("{name} :{port}"),
            Status::Ok,
            "listening",
        ));
    } else {
        f.push(
            Finding::new(
                "port",
                format!("{name} :{port}"),
                Status::Broken,
                format!("nothing listens on {host}:{port}"),
            )
            .hint(svc.start.clone()),
        );
    }
    if exec.contains("distccd") && !exec.contains("distsetup") {
        check_whitelist(s, name, text, f);
    }
}
