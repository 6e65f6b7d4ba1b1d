//! Hostile input: every case must end in a clean, specific error (never a panic), and
//! without a large allocation. A counting allocator records the largest single allocation
//! made on the test's thread, so a decoder that trusted a peer's length
//! (`Vec::with_capacity(len)`, `vec![0; len]`) fails the test instead of passing slowly.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::support::wire::*;
use distsetup::wire::{
    Limits, LzoError, RequestDecoder, RequestEvent, WireError, encode_request, lzo,
};

struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Run `f` and return its result with the largest allocation it made.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    let r = f();
    (r, LARGEST.with(Cell::get))
}

const SMALL: usize = 256 * 1024;

/// Feed `bytes` in one piece and return the first error, checking that no allocation
/// beyond `SMALL` happened.
fn refuse(bytes: &[u8]) -> WireError {
    refuse_with(bytes, Limits::default())
}

fn refuse_with(bytes: &[u8], limits: Limits) -> WireError {
    refuse_allowing(bytes, limits, 0)
}

/// Like `refuse_with`, where `extra` bytes may legitimately be allocated (an LZO output
/// growing up to its cap).
fn refuse_allowing(bytes: &[u8], limits: Limits, extra: usize) -> WireError {
    let (r, largest) = measured(|| decode_chunks([bytes], limits));
    assert!(
        largest <= SMALL + bytes.len() + extra,
        "allocated {largest} bytes"
    );
    r.expect_err("hostile input was accepted")
}

fn hex(name: &str, v: u32) -> Vec<u8> {
    format!("{name}{v:08x}").into_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A valid v1/v2 request up to (not including) its DOTI.
fn head_without_doti(version: u32, argv: &[&[u8]]) -> Vec<u8> {
    let mut req = encode_request(version, argv, b"").unwrap();
    req.truncate(req.len() - 12); // the empty DOTI token
    req
}

/// A valid v3 request up to (not including) its NFIL.
fn v3_head() -> Vec<u8> {
    cat(&[
        &hex("DIST", 3),
        &hex("CDIR", 1),
        b"/",
        &hex("ARGC", 1),
        &hex("ARGV", 1),
        b"c",
    ])
}

#[test]
fn garbage_is_a_bad_token_at_offset_zero() {
    let err = refuse(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        err,
        WireError::BadToken {
            expected: "DIST",
            found: "GET ".into(),
            offset: 0
        }
    );
    // Refused as soon as 4 bytes are in, without waiting for 12.
    let mut d = RequestDecoder::new(Limits::default());
    d.feed(b"\x00\xff\x16\x03");
    assert!(matches!(d.next_event(), Err(WireError::BadToken { .. })));
}

#[test]
fn wrong_token_in_sequence() {
    let err = refuse(&cat(&[&hex("DIST", 1), &hex("ARGV", 3), b"gcc"]));
    assert!(matches!(
        err,
        WireError::BadToken {
            expected: "ARGC",
            offset: 12,
            ..
        }
    ));
    let err = refuse(&cat(&[
        &v3_head(),
        &hex("NFIL", 1),
        &hex("NAME", 2),
        b"/x",
        &hex("DOTI", 0),
    ]));
    assert!(matches!(
        err,
        WireError::BadToken {
            expected: "FILE|LINK",
            ..
        }
    ));
}

#[test]
fn bad_hex_is_refused() {
    for bad in [
        &b"DIST0000000x"[..],
        b"DIST 0000001",
        b"DIST-0000001",
        b"DIST0x000001",
    ] {
        assert!(
            matches!(refuse(bad), WireError::BadHex { offset: 0, .. }),
            "{bad:?}"
        );
    }
    let err = refuse(&cat(&[&hex("DIST", 1), b"ARGC0000000\xff"]));
    assert!(matches!(err, WireError::BadHex { offset: 12, .. }));
}

#[test]
fn versions_other_than_1_to_3_are_unsupported() {
    for v in [0, 4, 0xffff_ffff] {
        assert_eq!(
            refuse(&hex("DIST", v)),
            WireError::Unsupported { version: v }
        );
    }
}

#[test]
fn huge_counts_are_refused_before_anything_is_read() {
    let err = refuse(&cat(&[&hex("DIST", 1), &hex("ARGC", 0xffff_ffff)]));
    assert_eq!(
        err,
        WireError::TooLarge {
            what: "ARGC",
            len: 0xffff_ffff,
            limit: 4096
        }
    );
    assert_eq!(
        refuse(&cat(&[&hex("DIST", 1), &hex("ARGC", 0)])),
        WireError::EmptyArgv
    );
    let err = refuse(&cat(&[
        &hex("DIST", 1),
        &hex("ARGC", 1),
        &hex("ARGV", 0xffff_ffff),
    ]));
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "ARGV length",
            ..
        }
    ));
    let v3 = v3_head();
    let err = refuse(&cat(&[&v3, &hex("NFIL", 0xffff_ffff)]));
    assert!(matches!(err, WireError::TooLarge { what: "NFIL", .. }));
    let err = refuse(&cat(&[&v3, &hex("NFIL", 1), &hex("NAME", 0x10_0000)]));
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "NAME length",
            ..
        }
    ));
    let err = refuse(&cat(&[&hex("DIST", 3), &hex("CDIR", 0xffff_ffff)]));
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "CDIR length",
            ..
        }
    ));
}

#[test]
fn four_gib_doti_is_refused_from_the_header_alone() {
    let head = &head_without_doti(1, &[b"gcc", b"-c", b"x.c"]);
    let err = refuse(&cat(&[head, &hex("DOTI", 0xffff_ffff)]));
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "DOTI length",
            ..
        }
    ));
}

#[test]
fn buffers_grow_only_with_bytes_that_arrive() {
    // Limits opened wide: a 4 GiB DOTI is now acceptable on paper, but only the bytes
    // actually received may cost memory.
    let limits = Limits {
        max_doti_wire: u32::MAX,
        max_doti_plain: usize::MAX,
        max_request: u64::MAX,
        ..Limits::default()
    };
    let head = &head_without_doti(1, &[b"gcc", b"-c", b"x.c"]);
    let chunk = vec![b'x'; 64 * 1024];
    let ((), largest) = measured(|| {
        let mut d = RequestDecoder::new(limits);
        d.feed(head);
        d.feed(&hex("DOTI", 0xffff_ffff));
        assert!(matches!(
            d.next_event(),
            Ok(Some(RequestEvent::Header { .. }))
        ));
        for _ in 0..16 {
            d.feed(&chunk);
            assert_eq!(d.next_event(), Ok(None));
        }
        assert!(matches!(
            d.finish(),
            Err(WireError::Truncated {
                waiting_for: "DOTI",
                ..
            })
        ));
    });
    assert!(
        largest < 4 << 20,
        "1 MiB received, {largest} allocated at once"
    );
}

#[test]
fn total_request_size_is_capped() {
    let limits = Limits {
        max_request: 1000,
        ..Limits::default()
    };
    let arg = vec![b'a'; 300];
    let argv: Vec<&[u8]> = vec![b"gcc", &arg, &arg, &arg, &arg];
    let req = encode_request(1, &argv, b"int x;\n").unwrap();
    let err = refuse_with(&req, limits.clone());
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "message",
            limit: 1000,
            ..
        }
    ));
    // Bytes past the limit are not even buffered; the decoder says so when it needs them.
    let mut d = RequestDecoder::new(Limits {
        max_request: 20,
        ..Limits::default()
    });
    let flood = vec![b'0'; 1 << 20];
    let dist = hex("DIST", 1);
    let (r, largest) = measured(|| {
        d.feed(&dist);
        d.feed(b"ARGC");
        d.feed(&flood);
        drain(&mut d, &mut Vec::new())
    });
    assert!(matches!(
        r,
        Err(WireError::TooLarge {
            what: "message",
            limit: 20,
            ..
        })
    ));
    assert!(largest < 4096, "{largest}");
    assert_eq!(d.received(), 20);
}

#[test]
fn errors_are_final() {
    let mut d = RequestDecoder::new(Limits::default());
    d.feed(b"DISTzzzzzzzz");
    let first = d.next_event().unwrap_err();
    d.feed(&encode_request(1, &[b"gcc"], b"").unwrap());
    assert_eq!(d.next_event().unwrap_err(), first);
    assert_eq!(d.finish().unwrap_err(), first);
}

/// A hand-made LZO1X bomb: one literal, then `rounds` matches of distance 1 whose length
/// is extended by `zeros` zero bytes (255 output bytes each), then the end marker.
fn lzo_bomb(rounds: usize, zeros: usize) -> Vec<u8> {
    let mut s = vec![17 + 1, b'a'];
    for _ in 0..rounds {
        s.push(0x20); // M3 with an extended length
        s.extend(std::iter::repeat_n(0u8, zeros));
        s.push(1);
        s.extend_from_slice(&[0, 0]); // distance 1, no trailing literals
    }
    s.extend_from_slice(&[0x11, 0, 0]);
    s
}

#[test]
fn lzo_bomb_hits_the_cap_without_allocating_past_it() {
    let bomb = lzo_bomb(64, 4000); // 256 KB in, ~65 MB out
    let (r, largest) = measured(|| lzo::decompress(&bomb, 1 << 20));
    assert_eq!(r, Err(LzoError::OutputOverrun { limit: 1 << 20 }));
    assert!(largest <= (1 << 20) + bomb.len(), "allocated {largest}");
    // Under a cap it fits, the same bomb decodes to the exact size.
    let out = lzo::decompress(&bomb, 100 << 20).unwrap();
    assert_eq!(out.len(), 1 + 64 * (4000 * 255 + 31 + 1 + 2));
    assert!(out.iter().all(|&b| b == b'a'));
}

#[test]
fn lzo_bomb_as_doti_is_too_large() {
    let bomb = lzo_bomb(64, 4000);
    let head = &head_without_doti(2, &[b"gcc", b"-c", b"x.c"]);
    let limits = Limits {
        max_doti_plain: 1 << 20,
        ..Limits::default()
    };
    let len = u32::try_from(bomb.len()).unwrap();
    let err = refuse_allowing(&cat(&[head, &hex("DOTI", len), &bomb]), limits, 1 << 20);
    assert!(matches!(
        err,
        WireError::TooLarge {
            what: "decompressed source",
            ..
        }
    ));
}

#[test]
fn corrupt_lzo_is_a_clean_error() {
    // A match before any output exists.
    assert!(matches!(
        lzo::decompress(&[0x11, 0x04, 0x00, 0x11, 0, 0], 100),
        Err(LzoError::LookbehindOverrun { .. })
    ));
    // Literal run longer than the input.
    assert!(matches!(
        lzo::decompress(&[0xff, 1, 2, 3], 100),
        Err(LzoError::InputOverrun { .. })
    ));
    // Never-ending length extension.
    assert!(matches!(
        lzo::decompress(&[0x00; 64], 100),
        Err(LzoError::InputOverrun { .. })
    ));
    // Trailing junk after the end marker, as lzo1x_decompress_safe reports it.
    assert!(matches!(
        lzo::decompress(&[0x11, 0, 0, 0], 100),
        Err(LzoError::InputNotConsumed { extra: 1 })
    ));
    // The same failure inside a v2 request names the token.
    let head = &head_without_doti(2, &[b"gcc"]);
    let err = refuse(&cat(&[head, &hex("DOTI", 4), &[0xff, 1, 2, 3]]));
    assert!(matches!(err, WireError::Lzo { what: "DOTI", .. }));
}

#[test]
fn every_truncation_of_an_lzo_stream_is_an_error() {
    let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let c = lzo::compress(&data);
    for k in 0..c.len() {
        assert!(lzo::decompress(&c[..k], 1 << 20).is_err(), "cut at {k}");
    }
    assert_eq!(lzo::decompress(&c, 1 << 20).unwrap(), data);
}

#[test]
fn random_garbage_never_panics() {
    // A cheap deterministic stand-in for the fuzzers, run on every `cargo test`.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        let mut buf = Vec::new();
        let n = (x % 64) as usize;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf.push(x as u8);
        }
        let _ = lzo::decompress(&buf, 1 << 16);
        let mut prefixed = hex("DIST", (x % 4) as u32);
        prefixed.extend_from_slice(&buf);
        let _ = decode_chunks([&prefixed[..]], Limits::default());
    }
}
