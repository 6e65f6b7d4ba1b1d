//! IPv6 access lists: `--allow` takes IPv6 networks, a peer inside one is served, a peer
//! outside every network is closed without a byte and logged.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::server::{decode_reply, request, wait_bounded};

fn v6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

fn free_v6_port() -> u16 {
    let l = std::net::TcpListener::bind("[::1]:0").unwrap();
    l.local_addr().unwrap().port()
}

fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("::1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Run a server on [::1] with `allow`, send one compile, return (reply bytes, log).
fn one_job(allow: &[&str]) -> (Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    crate::support::server::open_to_all(dir.path(), &tmp);
    let log = dir.path().join("serve.log");
    let port = free_v6_port();
    let mut args = vec![
        "serve".to_string(),
        "--listen".into(),
        "::1".into(),
        "--port".into(),
        port.to_string(),
        "--lifetime".into(),
        "120".into(),
        "--log-level".into(),
        "info".into(),
        "--log-file".into(),
        log.display().to_string(),
    ];
    for a in allow {
        args.push("--allow".into());
        args.push((*a).into());
    }
    let mut child = Command::new(crate::support::server::bin())
        .args(&args)
        .env("TMPDIR", &tmp)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("::1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The probe connection above is itself a peer; the job is the next one.
    let reply = exchange(
        port,
        &request(1, &["gcc", "-c", "x.c", "-o", "x.o"], "int x = 6;\n"),
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(wait_bounded(&mut child, Duration::from_secs(30)).success());
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temp files left"
    );
    (reply, std::fs::read_to_string(&log).unwrap_or_default())
}

#[test]
fn ipv6_peer_inside_an_ipv6_network_is_served() {
    if !crate::support::require("an IPv6 loopback (::1)", v6_loopback()) {
        return;
    }
    let (reply, log) = one_job(&["fd00::/8", "::1/128"]);
    let r = decode_reply(1, &reply);
    assert_eq!(r.status, 0, "{r:?}\n{log}");
    assert!(r.object.starts_with(b"\x7fELF"), "{log}");
    assert!(log.contains("COMPILE_OK"), "{log}");
}

#[test]
fn ipv6_peer_outside_the_networks_gets_nothing() {
    if !crate::support::require("an IPv6 loopback (::1)", v6_loopback()) {
        return;
    }
    // IPv4 loopback and another IPv6 network: ::1 is in neither.
    let (reply, log) = one_job(&["127.0.0.0/8", "fd00::/8"]);
    assert!(reply.is_empty(), "{} bytes of reply", reply.len());
    assert!(log.contains("'::1' denied by access list"), "{log}");
    assert!(!log.contains("COMPILE_OK"), "{log}");
}
