//! Interop with the real distcc 3.4 client: a tiny loopback server built on the codec
//! receives the client's request (protocol 1 and `,lzo`), compiles it with gcc and answers
//! with `encode_reply`. The client must accept our LZO streams (it decodes them with
//! `lzo1x_decompress_safe`) and write exactly the object we sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use distsetup::wire::{Limits, Reply, RequestDecoder, RequestEvent, encode_reply, wait_status_of};

/// What the test server saw and sent.
struct Served {
    version: u32,
    argv: Vec<Vec<u8>>,
    source: Vec<u8>,
    object: Vec<u8>,
}

fn have(tool: &str) -> bool {
    crate::support::require(&format!("{tool} on PATH"), crate::support::on_path(tool))
}

fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(start.elapsed() < limit, "the client never connected");
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Serve one job: decode, compile the source with gcc (or fail on purpose), reply.
fn serve_one(listener: TcpListener, dir: &Path, extra_stderr: &'static [u8]) -> Served {
    let mut conn = accept_within(&listener, Duration::from_secs(60));
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut dec = RequestDecoder::new(Limits::default());
    let (mut version, mut argv, mut source) = (0, Vec::new(), None);
    let mut buf = vec![0u8; 4096];
    while source.is_none() {
        let n = conn.read(&mut buf).unwrap();
        assert!(n > 0, "client closed before the request was complete");
        dec.feed(&buf[..n]);
        while let Some(ev) = dec.next_event().unwrap() {
            match ev {
                RequestEvent::Header {
                    version: v,
                    argv: a,
                    ..
                } => (version, argv) = (v, a),
                RequestEvent::Source(s) => source = Some(s),
                RequestEvent::Files(_) => panic!("no pump in this test"),
            }
        }
    }
    let source = source.unwrap();
    let input = dir.join("job.i");
    let output = dir.join("job.o");
    std::fs::write(&input, &source).unwrap();
    let out = Command::new("gcc")
        .args(["-c", "-x", "cpp-output"])
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    let status = wait_status_of(out.status);
    let object = if status == 0 {
        std::fs::read(&output).unwrap()
    } else {
        Vec::new()
    };
    let mut stderr = out.stderr.clone();
    stderr.extend_from_slice(extra_stderr);
    let reply = encode_reply(&Reply {
        version,
        status,
        stderr: &stderr,
        stdout: b"",
        object: &object,
        deps: None,
    })
    .unwrap();
    conn.write_all(&reply).unwrap();
    Served {
        version,
        argv,
        source,
        object,
    }
}

/// Run `distcc gcc -c FILE -o OUT` against a one-job server on loopback.
fn distcc_compile(
    dir: &Path,
    file: &str,
    host_opts: &str,
    extra_stderr: &'static [u8],
) -> (Output, Served) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server_dir = dir.join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    std::fs::create_dir_all(dir.join("distcc-dir")).unwrap();
    let server = thread::spawn(move || serve_one(listener, &server_dir, extra_stderr));
    let out = Command::new("distcc")
        .args(["gcc", "-c", file, "-o", "remote.o"])
        .current_dir(dir)
        .env("DISTCC_HOSTS", format!("127.0.0.1:{port}{host_opts}"))
        .env("DISTCC_DIR", dir.join("distcc-dir"))
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_SKIP_LOCAL_RETRY", "1")
        .env("DISTCC_BACKOFF_PERIOD", "0")
        .env("DISTCC_IO_TIMEOUT", "60")
        .env_remove("DISTCC_VERBOSE")
        .output()
        .unwrap();
    let served = server.join().unwrap();
    (out, served)
}

/// A C file whose object is big enough (~100 KB) for real LZO matches and long runs.
fn write_big_source(dir: &Path) {
    let mut c = String::from("#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n");
    for i in 0..400 {
        c.push_str(&format!(
            "int f{i}(const char *s) {{ char b[64]; snprintf(b, sizeof b, \"%s-{i}\", s); \
             return (int)strlen(b) * {i} + atoi(s); }}\n"
        ));
    }
    c.push_str(
        "static const char table[4096] = { 1, 2, 3 };\nconst char *t(void) { return table; }\n",
    );
    std::fs::write(dir.join("big.c"), c).unwrap();
}

fn local_preprocess(dir: &Path, file: &str) -> Vec<u8> {
    let out = Command::new("gcc")
        .args(["-E", file])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

fn check_success(host_opts: &str, version: u32) {
    if !have("distcc") || !have("gcc") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_big_source(tmp.path());
    let (out, served) = distcc_compile(
        tmp.path(),
        "big.c",
        host_opts,
        b"note: from the test server\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "distcc failed: {stderr}");
    assert_eq!(served.version, version);
    assert_eq!(served.argv.get(1).map(Vec::as_slice), Some(&b"-c"[..]));
    // The decoded DOTI (LZO-decompressed for ,lzo) is exactly what gcc -E makes here.
    assert_eq!(served.source, local_preprocess(tmp.path(), "big.c"));
    // The client decoded our reply body into exactly the object we compiled.
    let written = std::fs::read(tmp.path().join("remote.o")).unwrap();
    assert!(served.object.len() > 10_000, "object big enough to matter");
    assert_eq!(written, served.object);
    // Our (compressed, for v2) SERR reached the user.
    assert!(stderr.contains("note: from the test server"), "{stderr}");
}

#[test]
fn real_client_accepts_our_protocol_1_reply() {
    check_success("", 1);
}

#[test]
fn real_client_decodes_our_lzo_reply() {
    check_success(",lzo", 2);
}

#[test]
fn real_client_reports_a_remote_compile_error() {
    if !have("distcc") || !have("gcc") {
        return;
    }
    for opts in ["", ",lzo"] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("bad.c"),
            "int main(void) { return undeclared_thing; }\n",
        )
        .unwrap();
        let (out, served) = distcc_compile(tmp.path(), "bad.c", opts, b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("undeclared_thing"),
            "gcc's message passes through: {stderr}"
        );
        assert!(served.object.is_empty());
        assert!(!tmp.path().join("remote.o").exists());
    }
}
