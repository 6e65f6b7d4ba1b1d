//! Helpers shared by the wire tests.
#![allow(dead_code)]

use std::path::PathBuf;

use distsetup::wire::{
    DecodedReply, Limits, ReplyDecoder, RequestDecoder, RequestEvent, WireError,
};

/// Read one capture of real distcc 3.4 traffic (tests/fixtures/captures, copied from the
/// shared spec so these tests always run).
pub fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/captures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Drain every event the decoder can produce now.
pub fn drain(d: &mut RequestDecoder, out: &mut Vec<RequestEvent>) -> Result<(), WireError> {
    while let Some(ev) = d.next_event()? {
        out.push(ev);
    }
    Ok(())
}

/// Decode a whole request fed in the given chunks; EOF at the end.
pub fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    limits: Limits,
) -> Result<Vec<RequestEvent>, WireError> {
    let mut d = RequestDecoder::new(limits);
    let mut out = Vec::new();
    for c in chunks {
        d.feed(c);
        drain(&mut d, &mut out)?;
    }
    d.finish()?;
    Ok(out)
}

/// Decode a request fed in one piece.
pub fn decode_whole(bytes: &[u8]) -> Result<Vec<RequestEvent>, WireError> {
    decode_chunks([bytes], Limits::default())
}

/// Decode a reply fed in the given chunks.
pub fn decode_reply_chunks<'a>(
    version: u32,
    chunks: impl IntoIterator<Item = &'a [u8]>,
    limits: Limits,
) -> Result<DecodedReply, WireError> {
    let mut d = ReplyDecoder::new(version, limits);
    let mut got = None;
    for c in chunks {
        d.feed(c);
        while let Some(r) = d.next_reply()? {
            assert!(got.is_none(), "two replies");
            got = Some(r);
        }
    }
    d.finish()?;
    Ok(got.expect("finish() said complete"))
}

/// Decode a reply fed in one piece.
pub fn decode_reply(version: u32, bytes: &[u8]) -> Result<DecodedReply, WireError> {
    decode_reply_chunks(version, [bytes], Limits::default())
}
