//! `doctor` agrees with `master` and `volunteer`, and reports as it goes: -j judged by
//! master's own rule, masquerade advice per profile, the hosts line without comments, a
//! remote compiler compared with the local one of the same name, hosts probed at once
//! with `--timeout`, output line by line, progress per host on a terminal, and checks
//! that cannot run said as such.

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};

use crate::support::server::Server;
use crate::support::{Cmd, Root, free_port, is_root, on_path, require};

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

fn doctor(args: &[&str]) -> (Output, serde_json::Value) {
    let o = Cmd::new("doctor").args(args).arg("--json").run();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", crate::support::server::text(&o)));
    (o, v)
}

fn finding<'a>(v: &'a serde_json::Value, check: &str, subject: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["subject"].as_str().unwrap().contains(subject))
        .unwrap_or_else(|| panic!("no {check} finding for {subject}: {v:#}"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// After `master --profile archarm --hosts 'A/8 B/8' --yes`, doctor does not ask for more
/// jobs than `master --jobs auto` sets.
#[test]
fn jobs_are_judged_by_masters_own_rule() {
    let t = Root::new().file(
        "etc/makepkg.conf",
        "BUILDENV=(!distcc color !ccache check !sign)\n#MAKEFLAGS=\"-j2\"\n",
    );
    let hosts = format!("127.0.0.1:{}/8 127.0.0.1:{}/8", free_port(), free_port());
    let o = Cmd::new("master")
        .args(["--profile", "archarm", "--hosts", &hosts, "--yes"])
        .root(t.path())
        .run();
    assert!(o.status.success(), "{}", crate::support::server::text(&o));
    let (_, v) = doctor(&[
        "--root",
        s(t.path()),
        "--profile",
        "archarm",
        "--speed-rounds",
        "0",
    ]);
    let jobs = finding(&v, "jobs", "MAKEFLAGS");
    assert_eq!(jobs["status"], "ok", "{v:#}");
    assert!(
        jobs["message"]
            .as_str()
            .unwrap()
            .contains("for 16 remote slots"),
        "{jobs}"
    );
    // And again: master says there is nothing to change.
    let o = Cmd::new("master")
        .args(["--profile", "archarm", "--jobs", "auto", "--check"])
        .root(t.path())
        .run();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        crate::support::server::text(&o)
    );
}

/// A missing masquerade directory: on arch the distcc package ships it, on Debian
/// master creates it.
#[test]
fn masquerade_advice_follows_the_profile() {
    for (profile, advice) in [
        ("arch", "install distcc"),
        ("debian", "distsetup master --profile debian creates it"),
    ] {
        let t = Root::new().file("etc/makepkg.conf", "BUILDENV=(distcc)\nMAKEFLAGS=\"-j4\"\n");
        let (_, v) = doctor(&[
            "--root",
            s(t.path()),
            "--profile",
            profile,
            "--hosts",
            &format!("127.0.0.1:{}/2", free_port()),
            "--speed-rounds",
            "0",
        ]);
        let m = finding(&v, "masquerade", "/usr/lib/distcc/bin");
        assert_eq!(m["status"], "broken");
        assert!(
            m["hint"].as_str().unwrap().contains(advice),
            "{profile}: {m}"
        );
    }
}

/// The hosts line shows hosts, not the file's comments; an empty list says so.
#[test]
fn hosts_line_has_no_comments_and_an_empty_list_is_named() {
    let port = free_port();
    let t = Root::new().file(
        "etc/distcc/hosts",
        format!("# the build farm\n# (fast box first)\n127.0.0.1:{port}/2  # in the cellar\n"),
    );
    let (_, v) = doctor(&[
        "--root",
        s(t.path()),
        "--profile",
        "gentoo",
        "--speed-rounds",
        "0",
    ]);
    assert_eq!(v["hosts"], format!("127.0.0.1:{port}/2"), "{v:#}");
    let (_, v) = doctor(&[
        "--root",
        s(t.path()),
        "--profile",
        "gentoo",
        "--hosts",
        "",
        "--speed-rounds",
        "0",
    ]);
    let h = finding(&v, "hosts", "--hosts");
    assert!(
        h["message"].as_str().unwrap().contains("the list is empty"),
        "{h}"
    );
}

/// `--remote-compiler aarch64-linux-gnu-gcc` against a server answering with the real
/// aarch64 cross compiler: compared with this machine's aarch64-linux-gnu-gcc.
#[test]
fn remote_compiler_is_compared_with_the_local_compiler_of_that_name() {
    if !require("aarch64-linux-gnu-gcc", on_path("aarch64-linux-gnu-gcc")) {
        return;
    }
    let server = Server::start(&[]);
    let host = format!("127.0.0.1:{}/2", server.port);
    let root = Root::new();
    let (o, v) = doctor(&[
        "--root",
        s(root.path()),
        "--profile",
        "debian",
        "--hosts",
        &host,
        "--remote-compiler",
        "aarch64-linux-gnu-gcc",
        "--speed-rounds",
        "0",
    ]);
    let subject = format!("127.0.0.1:{}", server.port);
    let c = finding(&v, "compiler", &subject);
    assert_eq!(c["status"], "ok", "{v:#}");
    assert!(c["message"].as_str().unwrap().contains("aarch64"), "{c}");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "target"),
        "{v:#}"
    );
    assert_eq!(
        finding(&v, "local", "aarch64-linux-gnu-gcc")["status"],
        "ok"
    );
    assert_eq!(o.status.code(), Some(0), "{v:#}");
}

/// Servers that accept and read a request but answer only once every one of them has a
/// request: probed one after another, the first would wait out the time-out.
struct Gate {
    ports: Vec<u16>,
}

impl Gate {
    fn start(n: usize) -> Gate {
        let barrier = Arc::new(Barrier::new(n));
        let mut ports = Vec::new();
        for _ in 0..n {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            ports.push(l.local_addr().unwrap().port());
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut waited = false;
                for conn in l.incoming() {
                    let Ok(mut c) = conn else { return };
                    let mut buf = [0u8; 12];
                    // The reachability check connects and closes; the probe sends a request.
                    if c.read_exact(&mut buf).is_ok() && !waited {
                        waited = true;
                        barrier.wait();
                    }
                    drop(c);
                }
            });
        }
        Gate { ports }
    }
}

#[test]
fn hosts_are_probed_at_once_within_timeout() {
    let gate = Gate::start(2);
    let hosts = format!(
        "127.0.0.1:{}/2 127.0.0.1:{}/2",
        gate.ports[0], gate.ports[1]
    );
    let root = Root::new();
    let (_, v) = doctor(&[
        "--root",
        s(root.path()),
        "--profile",
        "debian",
        "--hosts",
        &hosts,
        "--timeout",
        "30",
        "--speed-rounds",
        "0",
    ]);
    for p in &gate.ports {
        let c = finding(&v, "compiler", &format!("127.0.0.1:{p}"));
        let m = c["message"].as_str().unwrap();
        assert!(
            !m.contains("no reply within"),
            "probed one after another: {m}"
        );
        assert!(m.contains("closed the connection without a reply"), "{m}");
    }
}

/// Not on a terminal, each line is written as soon as it is known: the configuration's
/// findings are out while a host still holds its probe.
#[test]
fn report_streams_line_by_line_while_a_host_is_silent() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    // Detached: it holds the probe's connections until released (or the test ends).
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in l.incoming().take(2) {
            held.push(conn);
        }
        let _ = release_rx.recv();
    });
    let root = Root::new();
    let mut child = Command::new(BIN)
        .args([
            "doctor",
            "--root",
            s(root.path()),
            "--profile",
            "debian",
            "--speed-rounds",
            "0",
        ])
        .args([
            "--hosts",
            &format!("127.0.0.1:{port}/2"),
            "--timeout",
            "120",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (line_tx, line_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = line_tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let found = loop {
        match line_rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(line) => {
                let hit = line.contains("local ") && line.starts_with("[ok]");
                seen.push(line);
                if hit {
                    break true;
                }
            }
            Err(_) => break false,
        }
    };
    let _ = release_tx.send(());
    let _ = child.kill();
    let _ = child.wait();
    assert!(found, "no line before the silent host answered: {seen:?}");
    assert!(
        seen.iter().any(|l| l.starts_with("hosts: 127.0.0.1:")),
        "{seen:?}"
    );
}

/// On a terminal, each host being probed has its own spinner line.
#[test]
fn progress_per_host_on_a_terminal() {
    if !require("python3", on_path("python3")) {
        return;
    }
    let gate = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = gate.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in gate.incoming() {
            held.push(c);
        }
    });
    let root = Root::new();
    let drive = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wizard/drive.py");
    let steps = format!(r#"[["127.0.0.1:{port}: probing", ""]]"#);
    let o = Command::new("timeout")
        .arg("120")
        .arg("python3")
        .arg(drive)
        .arg(steps)
        .args([
            BIN,
            "doctor",
            "--root",
            s(root.path()),
            "--profile",
            "debian",
            "--speed-rounds",
            "0",
        ])
        .args(["--hosts", &format!("127.0.0.1:{port}/2"), "--timeout", "3"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_ne!(o.status.code(), Some(99), "no spinner for the host:\n{out}");
    assert!(out.contains("summary:"), "{out}");
}

/// As a user who cannot read makepkg.conf, the three checks it feeds are reported as
/// not checked; on Gentoo (OpenRC) the volunteer's service, port and allow are checked.
#[test]
fn checks_that_cannot_run_are_reported_and_openrc_services_are_checked() {
    if is_root() && !require("setpriv", on_path("setpriv")) {
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let t = Root::new().file("etc/makepkg.conf", "BUILDENV=(distcc)\n");
    std::fs::set_permissions(
        t.join("etc/makepkg.conf"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            BIN,
        ]);
        c
    } else {
        std::fs::set_permissions(
            t.join("etc/makepkg.conf"),
            std::fs::Permissions::from_mode(0o000),
        )
        .unwrap();
        Command::new(BIN)
    };
    let o = c
        .args([
            "doctor",
            "--json",
            "--root",
            s(t.path()),
            "--profile",
            "arch",
            "--speed-rounds",
            "0",
        ])
        .args(["--hosts", &format!("127.0.0.1:{}/2", free_port())])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for check in ["switch", "jobs", "masquerade"] {
        let f = finding(&v, check, "/etc/makepkg.conf");
        assert_eq!(f["status"], "warn", "{f}");
        assert!(
            f["message"].as_str().unwrap().starts_with("not checked:"),
            "{f}"
        );
    }

    if !require("aarch64-linux-gnu-gcc", on_path("aarch64-linux-gnu-gcc")) {
        return;
    }
    let g = Root::new();
    let port = free_port();
    let o = Cmd::new("volunteer")
        .root(g.path())
        .args([
            "--toolchain",
            "aarch64-linux-gnu",
            "--profile",
            "gentoo",
            "--allow",
            "127.0.0.1/32",
        ])
        .args(["--port", &port.to_string(), "--yes"])
        .no_home()
        .run();
    assert!(o.status.success(), "{}", crate::support::server::text(&o));
    let (_, v) = doctor(&["--volunteer", "--root", s(g.path()), "--profile", "gentoo"]);
    let name = "distsetup-serve-aarch64-linux-gnu";
    assert_eq!(
        finding(&v, "allow", name)["message"],
        "127.0.0.1/32",
        "{v:#}"
    );
    assert_eq!(finding(&v, "unit", name)["status"], "warn", "{v:#}");
    assert!(
        finding(&v, "unit", name)["hint"]
            .as_str()
            .unwrap()
            .contains("rc-update add"),
        "{v:#}"
    );
    assert_eq!(finding(&v, "port", name)["status"], "broken", "{v:#}");
    let _ = std::io::stdout().flush();
}
