//! Per-client limits (issue 21): one allowed host cannot hold every connection, and
//! its jobs beyond its queue wait unread in its own socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use crate::support::server::*;

fn job_dirs(server: &Server) -> usize {
    std::fs::read_dir(&server.tmp).unwrap().count()
}

#[test]
fn a_client_over_its_connection_limit_is_closed_at_once() {
    let server = Server::start(&["--max-client-connections", "2", "--io-timeout", "60"]);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", server.port)).unwrap())
        .collect();
    let mut third = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut b = [0u8; 8];
    assert_eq!(
        third.read(&mut b).unwrap(),
        0,
        "the third connection was not closed"
    );
    assert!(
        server.log_text().contains(
            "client: 127.0.0.1 already holds 2 connections (--max-client-connections); closed"
        ),
        "{}",
        server.log_text()
    );
    // Once one of them goes, the client is served again.
    drop(held);
    let work = tempfile::tempdir().unwrap();
    write(work.path(), "hello.c", HELLO);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = distcc(
            &server.hosts(""),
            &["gcc", "-c", "hello.c", "-o", "h.o"],
            work.path(),
            &[],
        );
        if o.status.success() {
            break;
        }
        assert!(Instant::now() < deadline, "{}", text(&o));
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_over_its_queue_waits_with_its_source_unread() {
    let tc = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // Compiles until its marker file goes away (the test says when).
    let gate = tempfile::tempdir().unwrap();
    std::fs::set_permissions(gate.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let open = gate.path().join("hold");
    std::fs::write(&open, "").unwrap();
    let slow = write(
        tc.path(),
        "gate-linux-gnu-gcc",
        &format!(
            "#!/bin/sh\nwhile [ -e {} ]; do sleep 0.05; done\nexec gcc \"$@\"\n",
            open.display()
        ),
    );
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start(&[
        "--jobs",
        "4",
        "--max-client-queued",
        "1",
        "--toolchain",
        tc.path().to_str().unwrap(),
    ]);
    let req = request(
        1,
        &["gate-linux-gnu-gcc", "-c", "x.c", "-o", "x.o"],
        "int x;\n",
    );
    let mut first = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    first.write_all(&req).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while job_dirs(&server) < 1 {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    // The second job of the same client: accepted, but no job directory until the
    // first is done, though three compile slots are free.
    let mut second = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    second.write_all(&req).unwrap();
    let stuck = Instant::now() + Duration::from_millis(500);
    while Instant::now() < stuck {
        assert_eq!(job_dirs(&server), 1, "the second source was taken");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_file(&open).unwrap();
    for s in [&mut first, &mut second] {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        assert_eq!(decode_reply(1, &out).status, 0);
    }
    assert_eq!(server.remote_jobs_at_least(2).len(), 2);
}
