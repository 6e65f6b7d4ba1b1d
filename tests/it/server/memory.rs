//! Memory bounded by construction (issue 21): a 1 MB LZO stream that inflates to 250 MiB,
//! sent on 8 and on 64 connections that wait for the one job slot, leaves serve's peak RSS
//! under 64 MiB; the sources wait on disk, capped for all connections together, and the
//! memory is given back when they close.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use crate::support::server::*;

const BOMB_PLAIN: usize = 250 << 20;

/// A hand-made LZO1X stream: one literal space, one match of distance 1 whose length is
/// spelled out in about a million zero bytes, the end marker.
fn bomb() -> Vec<u8> {
    let len = BOMB_PLAIN - 1;
    let k = (len - 33 - 1) / 255;
    let last = len - 33 - 255 * k;
    let mut z = vec![18, b' ', 0x20];
    z.extend(std::iter::repeat_n(0u8, k));
    z.push(u8::try_from(last).unwrap());
    z.extend_from_slice(&[0, 0, 0x11, 0, 0]);
    z
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// Job directories whose source has fully arrived.
fn sources_on_disk(server: &Server) -> usize {
    std::fs::read_dir(&server.tmp)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|d| {
            std::fs::metadata(d.path().join("input.i")).is_ok_and(|m| m.len() == BOMB_PLAIN as u64)
        })
        .count()
}

fn wait_for(what: &str, server: &Server, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: {}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_lzo_bomb_on_waiting_connections_keeps_serve_small() {
    let z = bomb();
    assert!(z.len() < 1_100_000, "{}", z.len());
    assert_eq!(
        distsetup::wire::lzo::decompress(&z, BOMB_PLAIN).map(|v| v.len()),
        Ok(BOMB_PLAIN)
    );
    let tc = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let slow = write(tc.path(), "slow-linux-gnu-gcc", "#!/bin/sh\nsleep 300\n");
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start(&["--jobs", "1", "--toolchain", tc.path().to_str().unwrap()]);
    let pid = server.pid();
    let start = status_kib(pid, "VmRSS:");
    // The one job slot is taken by a compile that sleeps.
    let mut holder = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    holder
        .write_all(&request(
            1,
            &["slow-linux-gnu-gcc", "-c", "s.c", "-o", "s.o"],
            "int s;\n",
        ))
        .unwrap();
    let argv: Vec<&[u8]> = vec![b"gcc", b"-c", b"bomb.c", b"-o", b"bomb.o"];
    let mut header = distsetup::wire::encode_request(2, &argv, b"").unwrap();
    header.truncate(header.len() - 12); // drop the empty DOTI
    header.extend_from_slice(format!("DOTI{:08x}", z.len()).as_bytes());
    // 4 GiB of held sources (the default cap) fit 16 of them: of 64, the others are
    // closed without a reply at the cap (which ones depends on who writes first).
    for (n, most) in [(8, 8), (64, 16)] {
        let mut conns = Vec::new();
        for _ in 0..n {
            let mut c = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            c.write_all(&header).unwrap();
            conns.push(c);
        }
        let before = server
            .log_text()
            .matches("sources held by this server")
            .count();
        for c in &mut conns {
            let _ = c.write_all(&z);
        }
        let refused = || {
            server
                .log_text()
                .matches("sources held by this server")
                .count()
                - before
        };
        wait_for("the sources arrive", &server, || {
            sources_on_disk(&server) + refused() == n
        });
        let waiting = sources_on_disk(&server);
        assert!(
            waiting <= most && (n == 64 || waiting == n),
            "{waiting} of {n} waiting"
        );
        let refused = refused();
        let peak = status_kib(pid, "VmHWM:");
        let now = status_kib(pid, "VmRSS:");
        eprintln!(
            "{n} connections with a 1 MB -> 250 MiB bomb: {waiting} waiting, {refused} closed; \
             serve RSS {start} KiB at start, {now} KiB now, peak {peak} KiB"
        );
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
        drop(conns);
        wait_for("the waiting sources are removed", &server, || {
            sources_on_disk(&server) == 0
        });
        let after = status_kib(pid, "VmRSS:");
        eprintln!("after they closed: {after} KiB");
        assert!(
            after < start + 16 * 1024,
            "{start} KiB at start, {after} KiB after"
        );
    }
    drop(holder);
    assert!(server.tmp_leftovers().is_empty());
}
