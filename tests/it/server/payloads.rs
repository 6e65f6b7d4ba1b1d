//! Issue 21's attack classes against a running serve, with Landlock and without it
//! (`DISTSETUP_TEST_NO_LANDLOCK`, what a kernel without Landlock gives): the grammar
//! refuses each with a reason and nothing runs; seccomp keeps every socket, UDP
//! included, out of a compile. Raw frames: the real client would run its own
//! preprocessor with these options first, and so the payload on the client.
//! Each payload is first shown to work against a plain gcc (the positive control).

use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::server::*;

const NO_LANDLOCK: (&str, &str) = ("DISTSETUP_TEST_NO_LANDLOCK", "1");

fn open_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

/// (what, argv, the reason the reply must give). `m` is a marker file path.
fn payloads(m: &str) -> Vec<(&'static str, Vec<String>, &'static str)> {
    let touch = format!("/bin/sh,-c,touch${{IFS}}{m}");
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (
            "%(cpp) splits a -fcompare-debug= word into -wrapper",
            v(&[
                "gcc",
                "-c",
                "x.c",
                "-o",
                "x.o",
                &format!("-fcompare-debug=-fno-common%(cpp)-wrapper%(cpp){touch}"),
            ]),
            "spec syntax",
        ),
        (
            "-G makes a checker skip -wrapper inside -fcompare-debug=",
            v(&[
                "gcc",
                "-c",
                "x.c",
                "-o",
                "x.o",
                &format!("-fcompare-debug=-G -wrapper {touch}"),
            ]),
            "'-G' is not a flag of this server's grammar",
        ),
        (
            "-target takes no value in gcc",
            v(&[
                "gcc", "-target", "-wrapper", &touch, "-c", "x.c", "-o", "x.o",
            ]),
            "must be a target triple",
        ),
        (
            "-Xclang takes no value in gcc",
            v(&[
                "gcc", "-Xclang", "-wrapper", &touch, "-c", "x.c", "-o", "x.o",
            ]),
            "clang's internals",
        ),
        (
            "a system library loaded into cc1 as a plugin",
            v(&[
                "gcc",
                "-fplugin=/usr/lib/x86_64-linux-gnu/libc.so.6",
                "-c",
                "x.c",
                "-o",
                "x.o",
            ]),
            "loads a shared object",
        ),
        (
            "a plugin by short name from gcc's plugin directory",
            v(&["gcc", "--plugin=libcc1plugin", "-c", "x.c", "-o", "x.o"]),
            "loads a shared object",
        ),
        (
            "the joined -aux-info= spelling",
            v(&["gcc", "-c", "x.c", "-o", "x.o", &format!("-aux-info={m}")]),
            "path",
        ),
        (
            "the joined -xLANG spelling",
            v(&["gcc", "-xassembler-with-cpp", "-c", "x.c", "-o", "x.o"]),
            "language 'assembler-with-cpp' is not distributed",
        ),
    ]
}

/// The payloads that run a command do run it in a plain gcc, and the plugin one loads
/// its library: the refusals below are not refusals of harmless vectors.
#[test]
fn the_payloads_work_against_a_plain_gcc() {
    let dir = open_dir();
    let d = dir.path();
    write(d, "x.c", "int x;\n");
    for (i, (what, argv, _)) in payloads("").into_iter().enumerate().take(2) {
        let m = d.join(format!("ran-{i}"));
        let argv: Vec<String> = argv
            .iter()
            .map(|a| a.replace("touch${IFS}", &format!("touch${{IFS}}{}", m.display())))
            .collect();
        let _ = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(d)
            .output()
            .unwrap();
        assert!(m.exists(), "{what}: the payload did not run in a plain gcc");
    }
    let o = Command::new("gcc")
        .args([
            "-fplugin=/usr/lib/x86_64-linux-gnu/libc.so.6",
            "-c",
            "x.c",
            "-o",
            "x.o",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("plugin_is_GPL_compatible"),
        "libc was not loaded: {err}"
    );
}

#[test]
fn the_payload_classes_are_refused_and_run_nothing_with_and_without_landlock() {
    for env in [vec![], vec![NO_LANDLOCK]] {
        let bait = open_dir();
        let server = Server::start_with_env(&["--jobs", "2"], None, &env);
        let m = bait.path().join("ran").display().to_string();
        for (what, argv, reason) in payloads(&m) {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let reply = decode_reply(
                1,
                &raw_exchange(server.port, &request(1, &argv, "int x;\n")),
            );
            let serr = String::from_utf8_lossy(&reply.stderr);
            assert_eq!(reply.status >> 8, 101, "{what} {env:?}: {serr}");
            assert!(serr.contains(reason), "{what} {env:?}: {serr}");
            assert!(!serr.contains(&*server.tmp.to_string_lossy()), "{serr}");
        }
        assert!(!Path::new(&m).exists(), "a payload ran ({env:?})");
        assert_eq!(std::fs::read_dir(bait.path()).unwrap().count(), 0);
        // Nothing compiled, and a real compile (with the joined -xc) still does.
        assert!(server.remote_jobs().is_empty(), "{}", server.log_text());
        let ok = request(
            1,
            &["gcc", "-xc", "-O2", "-c", "x.c", "-o", "x.o"],
            "int x;\n",
        );
        assert_eq!(decode_reply(1, &raw_exchange(server.port, &ok)).status, 0);
        assert_eq!(server.remote_jobs_at_least(1).len(), 1);
        assert!(server.tmp_leftovers().is_empty());
    }
}

/// A probe "compiler" that reads a file Landlock keeps out (/etc/hostname: proof of
/// whether Landlock is on), then becomes python trying `family` sockets.
fn probe(dir: &Path, name: &str, python: &str) {
    let p = write(
        dir,
        name,
        &format!(
            "#!/bin/bash\ncat /etc/hostname >/dev/null 2>&1 && echo READ-ETC >&2\n\
             exec python3 -c '{python}'\n"
        ),
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_compile_cannot_open_any_socket_udp_included() {
    let tc = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    listener
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let udp = format!(
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); \
         s.sendto(b\"udp-from-probe\", (\"127.0.0.1\", {port}))"
    );
    probe(tc.path(), "udp-linux-gnu-gcc", &udp);
    probe(
        tc.path(),
        "unix-linux-gnu-gcc",
        "import socket; socket.socketpair(); print(\"SOCKETPAIR\")",
    );
    // Positive control: outside serve the probe reaches the listener.
    let o = Command::new(tc.path().join("udp-linux-gnu-gcc"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let mut buf = [0u8; 64];
    let (n, _) = listener.recv_from(&mut buf).expect("the probe's datagram");
    assert_eq!(&buf[..n], b"udp-from-probe");
    for env in [vec![], vec![NO_LANDLOCK]] {
        let server = Server::start_with_env(
            &[
                "--toolchain",
                tc.path().to_str().unwrap(),
                "--user",
                "nobody",
            ],
            None,
            &env,
        );
        for name in ["udp-linux-gnu-gcc", "unix-linux-gnu-gcc"] {
            let req = request(1, &[name, "-c", "x.c", "-o", "x.o"], "int x;\n");
            let reply = decode_reply(1, &raw_exchange(server.port, &req));
            let serr = String::from_utf8_lossy(&reply.stderr);
            if name.starts_with("udp") {
                assert_eq!(
                    reply.status & 0x7f,
                    31,
                    "{name} {env:?}: not SIGSYS: {serr}"
                );
                assert!(serr.contains("system-call filter"), "{name}: {serr}");
            } else {
                // A UNIX socket is refused, not killed: glibc asks for one on every
                // user lookup and must be able to carry on.
                assert_ne!(reply.status, 0, "{name} {env:?}: {serr}");
                assert!(serr.contains("PermissionError"), "{name}: {serr}");
            }
            assert!(!serr.contains("SOCKETPAIR"), "{serr}");
            // Landlock really is off in the second run: the probe read /etc.
            assert_eq!(
                serr.contains("READ-ETC"),
                !env.is_empty(),
                "{env:?}: {serr}"
            );
        }
        assert!(
            listener.recv_from(&mut buf).is_err(),
            "a datagram got out ({env:?})"
        );
        assert!(server.tmp_leftovers().is_empty());
    }
}
