//! Hostile input and load against one `distsetup serve`: it never runs what it must not,
//! stays up, keeps serving, keeps memory bounded and leaves no temp files.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::support::server::*;
use distsetup::wire::{PumpContent, PumpEntry, encode_request_v3};

fn status_code(reply: &distsetup::wire::DecodedReply) -> u32 {
    reply.status >> 8
}

/// A refused request gets a failing reply with an explanation, and ran nothing.
fn assert_refused(server: &Server, argv: &[&str], code: u32, serr_has: &str, marker: &Path) {
    let bytes = raw_exchange(server.port, &request(2, argv, "int x;\n"));
    let reply = decode_reply(2, &bytes);
    assert_eq!(status_code(&reply), code, "{argv:?}: {reply:?}");
    let serr = String::from_utf8_lossy(&reply.stderr);
    assert!(serr.contains(serr_has), "{argv:?}: {serr}");
    assert!(reply.object.is_empty());
    assert!(!marker.exists(), "{argv:?} ran a command");
}

fn expect_no_reply(port: u16, bytes: &[u8]) {
    let got = raw_exchange_eof(port, bytes);
    assert!(got.is_empty(), "expected no reply, got {} bytes", got.len());
}

fn compile_with_client(server: &Server, dir: &Path, name: &str) {
    write(dir, "hello.c", HELLO);
    let o = distcc(
        &server.hosts(",lzo"),
        &["gcc", "-c", "hello.c", "-o", name],
        dir,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn hostile_requests_run_nothing_and_the_server_keeps_serving() {
    let mut server = Server::start(&["--jobs", "2", "--io-timeout", "5"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let marker = w.join("pwned");
    let m = marker.display().to_string();
    let rss_start = server.rss_kib();

    // CVE-2004-2687: the compiler is a shell.
    let touch = format!("touch {m}");
    assert_refused(
        &server,
        &["sh", "-c", &touch, "x.c", "-c", "-o", "x.o"],
        110,
        "not in this server's table",
        &marker,
    );
    // Absolute paths, even to a real compiler.
    // A system directory is stripped to the name, which is not a compiler.
    assert_refused(
        &server,
        &["/bin/sh", "-c", &touch],
        110,
        "not in this server's table",
        &marker,
    );
    assert_refused(
        &server,
        &["/opt/evil/gcc", "-c", "x.c", "-o", "x.o"],
        110,
        "is a path",
        &marker,
    );
    assert_refused(
        &server,
        &["../../bin/sh", "-c", "x.c"],
        110,
        "is a path",
        &marker,
    );
    // Whitelisted compiler, code execution through its options.
    let wrapper = format!("/bin/sh,-c,touch {m}; exec \"$0\" \"$@\"");
    assert_refused(
        &server,
        &["gcc", "-wrapper", &wrapper, "-c", "x.c", "-o", "x.o"],
        101,
        "'-wrapper' is refused",
        &marker,
    );
    assert_refused(
        &server,
        &["gcc", "-fplugin=/tmp/evil.so", "-c", "x.c", "-o", "x.o"],
        101,
        "loads a shared object",
        &marker,
    );
    let rsp = write(w, "args.rsp", &format!("-wrapper {wrapper}\n"));
    let at = format!("@{}", rsp.display());
    assert_refused(
        &server,
        &["gcc", &at, "-c", "x.c", "-o", "x.o"],
        101,
        "response files",
        &marker,
    );
    assert_refused(
        &server,
        &["gcc", "-specs=/tmp/evil.specs", "-c", "x.c", "-o", "x.o"],
        101,
        "spec files",
        &marker,
    );
    assert_refused(
        &server,
        &["gcc", "-B/tmp/evil/", "-c", "x.c", "-o", "x.o"],
        101,
        "which programs",
        &marker,
    );
    assert_refused(
        &server,
        &["gcc", "-c", "x.c", "-o", "x.o", "/etc/passwd"],
        101,
        "neither an option",
        &marker,
    );
    assert_refused(
        &server,
        &["gcc", "-E", "x.c"],
        101,
        "not a distributable compile",
        &marker,
    );
    // Pump mode is refused with an answer the client understands (DONE 3, STAT 109).
    let v3 = encode_request_v3(
        b"/home/u",
        &[b"gcc", b"-c", b"x.c", b"-o", b"x.o"],
        &[PumpEntry {
            name: b"/home/u/x.c".to_vec(),
            content: PumpContent::File(b"int x;\n".to_vec()),
        }],
    )
    .unwrap();
    let reply = decode_reply(3, &raw_exchange(server.port, &v3));
    assert_eq!(status_code(&reply), 109);
    assert!(String::from_utf8_lossy(&reply.stderr).contains("pump mode"));

    // Protocol violations: closed without a byte.
    expect_no_reply(server.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    expect_no_reply(server.port, &garbage);
    expect_no_reply(server.port, b"DIST00000004");
    expect_no_reply(server.port, b"DIST00000001ARGCffffffff");
    expect_no_reply(server.port, b"DIST00000001ARGC00000000");
    expect_no_reply(server.port, b"DIST00000001ARGC00000001ARGVffffffff");
    let mut doti = b"DIST00000001ARGC00000003ARGV00000003gccARGV00000002-cARGV00000003x.c".to_vec();
    doti.extend_from_slice(b"DOTIffffffff");
    doti.extend_from_slice(&[b'x'; 1000]);
    expect_no_reply(server.port, &doti);
    // Truncated: every prefix of a real request, then EOF.
    let full = request(1, &["gcc", "-c", "x.c", "-o", "x.o"], "int x;\n");
    for cut in [1, 11, 12, 30, full.len() / 2, full.len() - 1] {
        expect_no_reply(server.port, &full[..cut]);
    }
    // The same without EOF: the I/O time-out (5 s here) ends it.
    let got = raw_exchange(server.port, &full[..full.len() / 2]);
    assert!(got.is_empty());
    assert!(server.log_text().contains("no data for the I/O time-out"));
    // A DOTI that promises 100 MiB and sends 1 KiB: no 100 MiB allocation, closed at EOF.
    let mut promise =
        b"DIST00000001ARGC00000003ARGV00000003gccARGV00000002-cARGV00000003x.cDOTI06400000"
            .to_vec();
    promise.extend_from_slice(&[b' '; 1024]);
    expect_no_reply(server.port, &promise);

    // Disallowed source address: bind the client to 127.0.0.2.
    let from_127_0_0_2 = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind("127.0.0.2:0".parse().unwrap()).unwrap();
            let mut s = sock
                .connect(([127, 0, 0, 1], server.port).into())
                .await
                .unwrap();
            let _ = s
                .write_all(&request(1, &["gcc", "-c", "x.c", "-o", "x.o"], "int x;\n"))
                .await;
            let mut out = Vec::new();
            let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
            out
        })
    };
    assert!(from_127_0_0_2.is_empty());
    assert!(
        server
            .log_text()
            .contains("connection from client '127.0.0.2' denied by access list")
    );

    assert!(!marker.exists());
    assert!(server.alive());
    // The next legitimate client is served.
    compile_with_client(&server, w, "after.o");
    assert!(
        server
            .remote_jobs_at_least(1)
            .iter()
            .any(|l| l.contains("COMPILE_OK"))
    );
    assert!(
        server.tmp_leftovers().is_empty(),
        "{:?}",
        server.tmp_leftovers()
    );
    let rss_end = server.rss_kib();
    assert!(
        rss_end < rss_start + 32 * 1024,
        "RSS grew from {rss_start} KiB to {rss_end} KiB"
    );
}

/// A TCP connection from `src` (a loopback address of the test's choice) to serve.
fn connect_from(src: [u8; 4], port: u16) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind((src, 0).into()).unwrap();
        sock.connect(([127, 0, 0, 1], port).into()).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}

/// 80 stalled peers of one host: 64 hold connections (its --max-client-connections),
/// 16 are closed at once, and a real client from another address is served.
#[test]
fn slow_clients_do_not_starve_a_real_one() {
    let mut server = Server::start(&[
        "--jobs",
        "2",
        "--io-timeout",
        "120",
        "--allow",
        "127.0.0.0/24",
    ]);
    let work = tempfile::tempdir().unwrap();
    let mut slow = Vec::new();
    for i in 0..80 {
        let mut s = connect_from([127, 0, 0, 2], server.port);
        let part: &[u8] = if i % 2 == 0 {
            b"DIST000000"
        } else {
            b"DIST00000001ARGC00000005ARGV00000003gcc"
        };
        let _ = s.write_all(part);
        slow.push(s);
    }
    compile_with_client(&server, work.path(), "while-slow.o");
    assert_eq!(server.remote_jobs_at_least(1).len(), 1);
    // The slow ones got nothing: 64 are still open, the others were closed.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server
        .log_text()
        .matches("--max-client-connections")
        .count()
        < 16
    {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut open = 0;
    for s in &mut slow {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 16];
        match s.read(&mut b) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            Ok(0) | Err(_) => {}
            Ok(n) => panic!("a stalled peer got {n} bytes"),
        }
    }
    assert_eq!(open, 64);
    drop(slow);
    assert!(server.alive());
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn many_concurrent_compiles_with_two_job_slots_are_all_correct() {
    // One client address (as a relay in front of many builds is): its limits raised.
    let mut server = Server::start(&["--jobs", "2", "--max-client-connections", "256"]);
    let rss_start = server.rss_kib();
    let port = server.port;
    let threads: Vec<_> = (0..120u32)
        .map(|n| {
            std::thread::spawn(move || {
                let version = 1 + n % 2;
                let src = format!("int distsetup_unit_{n}(int x) {{ return x * {n} + 7; }}\n");
                let bytes = raw_exchange(
                    port,
                    &request(version, &["gcc", "-O2", "-c", "u.c", "-o", "u.o"], &src),
                );
                let reply = decode_reply(version, &bytes);
                assert_eq!(
                    reply.status,
                    0,
                    "unit {n}: {}",
                    String::from_utf8_lossy(&reply.stderr)
                );
                let sym = format!("distsetup_unit_{n}\0");
                assert!(reply.object.starts_with(b"\x7fELF"), "unit {n}");
                assert!(
                    reply.object.windows(sym.len()).any(|w| w == sym.as_bytes()),
                    "unit {n}: wrong object"
                );
                for other in [n + 1, n.wrapping_sub(1)] {
                    let s = format!("distsetup_unit_{other}\0");
                    assert!(!reply.object.windows(s.len()).any(|w| w == s.as_bytes()));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let jobs = server.remote_jobs_at_least(120);
    assert_eq!(jobs.len(), 120);
    assert!(jobs.iter().all(|l| l.contains("COMPILE_OK")));
    assert!(server.alive());
    assert!(server.tmp_leftovers().is_empty());
    let rss_end = server.rss_kib();
    assert!(
        rss_end < rss_start + 48 * 1024,
        "RSS grew from {rss_start} KiB to {rss_end} KiB"
    );
}

/// Issue 12: a finished compile frees its job slot before the reply goes out, and a
/// client that never reads its reply is dropped after the send time-out.
#[test]
fn clients_that_never_read_their_reply_do_not_hold_job_slots() {
    let mut server = Server::start(&["--jobs", "2", "--io-timeout", "5"]);
    let work = tempfile::tempdir().unwrap();
    // A 64 MiB object over protocol 1: far more than the socket buffers hold.
    let big = "__asm__(\".pushsection .data\\n.skip 67108864\\n.popsection\");\nint big;\n";
    let mut never_read = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.write_all(&request(1, &["gcc", "-c", "big.c", "-o", "big.o"], big))
            .unwrap();
        never_read.push(s);
    }
    // Both compiles finished (their objects complete in the job directories) and their
    // replies are stuck in the send.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read_dir(&server.tmp)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|d| {
                std::fs::metadata(d.path().join("output.o")).is_ok_and(|m| m.len() > 64 << 20)
            })
            .count();
        if done == 2 && server.log_text().matches("(remote, protocol").count() == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the two big compiles never finished: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = std::time::Instant::now();
    compile_with_client(&server, work.path(), "real.o");
    let took = t.elapsed();
    let jobs = server.remote_jobs_at_least(1);
    eprintln!("a real client's compile with two stuck readers took {took:?}");
    // The real client was served while both stuck replies were still being sent.
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(jobs[0].contains("COMPILE_OK") && jobs[0].contains("hello.c"));
    // The stuck ones are dropped after the send time-out (5 s here), not --io-timeout.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.log_text().matches("send time-out").count() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(never_read);
    assert!(server.alive());
    assert!(server.tmp_leftovers().is_empty());
}

/// Issue 12: out of file descriptors, the server pauses accepting and says so (at most
/// once per interval: the unit test `failing_accepts_pause_longer_and_log_once_per_interval`
/// drives that on its own clock), then serves again when descriptors free up.
#[test]
fn running_out_of_descriptors_backs_off_and_serves_again() {
    let mut server = Server::start_with_fd_limit(
        &[
            "--jobs",
            "1",
            "--io-timeout",
            "60",
            "--max-client-connections",
            "256",
        ],
        Some(40),
    );
    // Idle peers hold one descriptor each in the server until they go away.
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(TcpStream::connect(("127.0.0.1", server.port)).unwrap());
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !server.log_text().contains("accept failed") {
        assert!(
            std::time::Instant::now() < deadline,
            "descriptors never ran out: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log_text();
    assert!(log.contains("accept failed: Too many open files"), "{log}");
    assert!(
        log.contains("pausing accepts (next report in 10 s at most)"),
        "{log}"
    );
    drop(idle);
    let work = tempfile::tempdir().unwrap();
    compile_with_client(&server, work.path(), "after-emfile.o");
    assert!(server.alive());
}

/// Issue 12 and 21: `--max-object` is the compile's file-size limit (RLIMIT_FSIZE): the
/// object cannot even be written past it, and the reply says why.
#[test]
fn an_object_over_max_object_is_an_explained_failure() {
    let server = Server::start(&["--max-object", "1M"]);
    let big = "__asm__(\".pushsection .data\\n.skip 2097152\\n.popsection\");\nint big;\n";
    for version in [1, 2] {
        let reply = decode_reply(
            version,
            &raw_exchange(
                server.port,
                &request(version, &["gcc", "-c", "big.c", "-o", "big.o"], big),
            ),
        );
        let serr = String::from_utf8_lossy(&reply.stderr);
        assert_ne!(reply.status, 0, "{serr}");
        assert!(
            serr.contains("passed the server's size limit of 1048576 bytes (--max-object)"),
            "{serr}"
        );
        assert!(reply.object.is_empty());
        assert!(!serr.contains(&*server.tmp.to_string_lossy()), "{serr}");
    }
    let small = decode_reply(
        1,
        &raw_exchange(
            server.port,
            &request(1, &["gcc", "-c", "x.c", "-o", "x.o"], "int x;\n"),
        ),
    );
    assert_eq!(small.status, 0);
    assert!(server.tmp_leftovers().is_empty());
}
