//! The connection handler driven in-process over `tokio::io::duplex`: a real `gcc` from
//! the compiler table, the reply decoded with the crate's own `ReplyDecoder`.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::serve;
use crate::shared::Shared;
use crate::stats::Outcome;
use crate::test_support::{Scratch, decode_reply, request};
use distcc_wire::{codes, wait_status_exit};

fn peer() -> Option<SocketAddr> {
    Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 40_000)))
}

/// Send `bytes` as the client; with `close`, then close our sending side (as a client
/// that gives up does). Returns how the server classed the connection and every byte
/// it sent back.
async fn exchange(shared: &Shared, bytes: &[u8], close: bool) -> (Outcome, Vec<u8>) {
    let (mut client, server_end) = tokio::io::duplex(64 * 1024);
    let client_side = async {
        client.write_all(bytes).await.expect("request written");
        if close {
            client.shutdown().await.expect("closed");
        }
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.expect("reply read");
        reply
    };
    let both = async { tokio::join!(serve(shared, server_end, peer(), None), client_side) };
    tokio::time::timeout(Duration::from_secs(60), both)
        .await
        .expect("the exchange finishes in time")
}

#[tokio::test]
async fn a_request_compiles_with_the_real_gcc_in_both_protocols() {
    let scratch = Scratch::new();
    let shared = Shared::new(scratch.settings()).expect("valid settings");
    for version in [1, 2] {
        let req = request(version, "gcc -O2 -c answer.c -o answer.o");
        let (outcome, bytes) = exchange(&shared, &req, false).await;
        assert_eq!(outcome, Outcome::CompileOk, "{}", scratch.log());
        let reply = decode_reply(version, &bytes);
        assert_eq!(
            reply.status,
            0,
            "{}",
            String::from_utf8_lossy(&reply.stderr)
        );
        assert!(reply.object.starts_with(b"\x7fELF"), "not an object file");
    }
    let log = scratch.log();
    assert!(log.contains("COMPILE_OK") && log.contains("gcc answer.c (remote, protocol 2)"));
    assert_eq!(scratch.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn a_compiler_not_in_the_table_is_refused_with_an_explanation() {
    let scratch = Scratch::new();
    let shared = Shared::new(scratch.settings()).expect("valid settings");
    for name in ["nosuchcc", "/bin/sh"] {
        let req = request(2, &format!("{name} -c answer.c -o answer.o"));
        let (outcome, bytes) = exchange(&shared, &req, false).await;
        assert_eq!(outcome, Outcome::Other);
        let reply = decode_reply(2, &bytes);
        assert_eq!(reply.status, wait_status_exit(codes::COMPILER_MISSING));
        assert!(reply.object.is_empty());
        let err = String::from_utf8_lossy(&reply.stderr);
        assert!(err.starts_with("distsetup serve: compiler '"), "{err}");
    }
    let log = scratch.log();
    assert!(log.contains("REFUSED (compiler) nosuchcc"), "{log}");
    assert!(log.contains("REFUSED (compiler) /bin/sh"), "{log}");
    assert_eq!(scratch.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn a_truncated_request_is_closed_without_a_reply() {
    let scratch = Scratch::new();
    let shared = Shared::new(scratch.settings()).expect("valid settings");
    let req = request(2, "gcc -c answer.c -o answer.o");
    let doti = req
        .windows(4)
        .rposition(|w| w == b"DOTI")
        .expect("a DOTI token");
    // In the first token, in argv, before the source, in the source.
    for cut in [1, 20, doti, doti + 14, req.len() - 1] {
        let (outcome, bytes) = exchange(&shared, &req[..cut], true).await;
        assert_eq!(outcome, Outcome::BadRequest, "cut at {cut}");
        assert!(bytes.is_empty(), "cut at {cut}: a reply was sent");
    }
    let log = scratch.log();
    assert!(
        log.contains("while reading the source; closed without reply"),
        "{log}"
    );
    assert!(log.contains("protocol error"), "{log}");
    assert!(
        !log.contains("running"),
        "a truncated request ran a compiler: {log}"
    );
    assert_eq!(scratch.leftovers(), Vec::<String>::new());
}

/// What Debian's distccd 3.4 sends for `gcc -fsyntax-only -c x.c -o x.o` (captured on
/// loopback): success and an empty object. The client backs a host off for anything else.
const DISTCCD_NO_OUTPUT_V1: &[u8] = b"DONE00000001STAT00000000SERR00000000SOUT00000000DOTO00000000";

#[tokio::test]
async fn a_compile_that_succeeds_without_output_gets_distccds_answer() {
    let scratch = Scratch::new();
    let shared = Shared::new(scratch.settings()).expect("valid settings");
    for argv in [
        "liar-linux-gnu-gcc -c answer.c -o answer.o",
        "gcc -fsyntax-only -c answer.c -o answer.o",
    ] {
        let (outcome, bytes) = exchange(&shared, &request(1, argv), false).await;
        assert_eq!(outcome, Outcome::CompileOk, "{argv}");
        assert_eq!(
            String::from_utf8_lossy(&bytes),
            String::from_utf8_lossy(DISTCCD_NO_OUTPUT_V1),
            "{argv}"
        );
        let (_, bytes) = exchange(&shared, &request(2, argv), false).await;
        assert_eq!(
            bytes,
            b"DONE00000002STAT00000000SERR00000000SOUT00000000DOTO00000000"
        );
    }
    assert_eq!(scratch.leftovers(), Vec::<String>::new());
}

#[tokio::test]
async fn an_output_that_is_not_a_regular_file_gets_an_error_reply() {
    let scratch = Scratch::new();
    let shared = Shared::new(scratch.settings()).expect("valid settings");
    let req = request(2, "link-linux-gnu-gcc -c answer.c -o answer.o");
    let (outcome, bytes) = exchange(&shared, &req, false).await;
    assert_eq!(outcome, Outcome::CompileError);
    let reply = decode_reply(2, &bytes);
    assert_eq!(reply.status, wait_status_exit(codes::IO_ERROR));
    assert!(reply.object.is_empty());
    let err = String::from_utf8_lossy(&reply.stderr);
    assert!(
        err.contains(
            "distsetup serve: the compiler exited 0 but its output output.o cannot be read"
        ),
        "{err}"
    );
    assert!(!err.contains("root:"), "{err}");
    let log = scratch.log();
    assert!(log.contains("COMPILE_ERROR exit:107"), "{log}");
    assert_eq!(scratch.leftovers(), Vec::<String>::new());
}
