//! Ports while planning (issue 20, point 3): `volunteer` checks its ports against the
//! listening sockets of this machine's `/proc/net/tcp` and `/proc/net/tcp6`, never by
//! binding one; under `--root` it says the ports were not checked.

use std::path::Path;
use std::process::Command;

use crate::support::volunteer::{distsetup, text};
use crate::support::{Root, XTools, free_port, on_path, require};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `volunteer --dry-run` for an x-tools8 tree in `t`, on this machine or under `root`.
fn dry_run(t: &Root, root: Option<&Path>, port: u16) -> Vec<String> {
    let tc = XTools::aarch64().build_in(t.path());
    let mut args: Vec<String> = [
        "volunteer",
        "--profile",
        "debian",
        "--toolchain",
        s(&tc),
        "--allow",
        "10.0.0.0/24",
        "--port",
        &port.to_string(),
        "--dry-run",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(r) = root {
        args.extend(["--root".to_owned(), s(r).to_owned()]);
    }
    args
}

/// The acceptance check: `strace -f -e trace=bind` of `volunteer --dry-run`, on this
/// machine and under `--root`, shows no bind at all.
#[test]
fn planning_binds_no_socket() {
    if !require("strace", on_path("strace")) {
        return;
    }
    let t = Root::new().dir("root");
    let port = free_port();
    for root in [None, Some(t.join("root"))] {
        let log = t.join("strace.log");
        let args = dry_run(&t, root.as_deref(), port);
        let o = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=bind", "-o"])
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_distsetup"))
            .args(&args)
            .env("HOME", "/nonexistent-home")
            .env_remove("SUDO_USER")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{root:?}: {}", text(&o));
        let calls = std::fs::read_to_string(&log).unwrap();
        assert!(
            !calls.contains("bind("),
            "{root:?}: planning bound a socket:\n{calls}"
        );
        std::fs::remove_dir_all(t.join("x-tools8")).unwrap();
    }
}

/// A port something listens on is refused, from either socket table: an IPv6-only
/// listener on [::1] (a trial bind of 0.0.0.0 does not collide with it) and an IPv4 one.
#[test]
fn a_port_in_use_is_read_from_the_socket_tables() {
    let t = Root::new();
    let v6 = std::net::TcpListener::bind(("::1", 0)).unwrap();
    let v4 = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    for l in [&v6, &v4] {
        let port = l.local_addr().unwrap().port();
        let args = dry_run(&t, None, port);
        let o = distsetup(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(3), "port {port}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(&format!(
                "port {port} (the compile port) is already in use on this machine"
            )),
            "{}",
            text(&o)
        );
        std::fs::remove_dir_all(t.join("x-tools8")).unwrap();
    }
}

/// Under `--root` this machine's sockets say nothing about the target: not checked, and
/// said so.
#[test]
fn under_root_ports_are_not_checked_and_it_says_so() {
    let t = Root::new().dir("root");
    let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let args = dry_run(&t, Some(&t.join("root")), port);
    let o = distsetup(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "ports {port} and {} were not checked against listening sockets: under --root",
            port + 1000
        )),
        "{out}"
    );
}

#[test]
fn socket_tables_parse_listening_ports_only() {
    let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
        \x20  0: 00000000:0E30 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
        \x20  1: 0100007F:9900 0100007F:9370 06 00000000:00000000 03:000000B0 00000000     0        0 0 3\n\
        \x20  2: 0100007F:1F90 0100007F:1234 01 00000000:00000000 00:00000000 00000000     0        0 0 3\n\
        garbage\n";
    let v6 = "  sl  local_address                         remote_address                        st\n\
        \x20  0: 00000000000000000000000001000000:0E34 00000000000000000000000000000000:0000 0A 0\n";
    let ports: Vec<u16> = distsetup::volunteer::listening_ports(v4)
        .into_iter()
        .chain(distsetup::volunteer::listening_ports(v6))
        .collect();
    assert_eq!(ports, [3632, 3636]);
}
