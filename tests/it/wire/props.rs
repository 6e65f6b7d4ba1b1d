//! Property tests: encode -> decode gives back what went in, for random requests, replies
//! and data, fed in random pieces; LZO round-trips and never exceeds its cap.

use crate::support::wire::*;
use distsetup::wire::{
    Limits, PumpContent, PumpEntry, Reply, RequestEvent, encode_reply, encode_request,
    encode_request_v3, lzo,
};
use proptest::prelude::*;

/// Bytes that are partly random, partly repetitive, so LZO takes both literal and
/// match paths (including overlapping matches).
fn data(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            (any::<u8>(), 1..600usize).prop_map(|(b, n)| vec![b; n]),
            (prop::collection::vec(any::<u8>(), 1..8), 1..80usize).prop_map(|(p, n)| p.repeat(n)),
            Just(b"int main(void) { return 0; }\n".to_vec()),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..8)
}

/// Split `bytes` at the given (unsorted, possibly out of range) points.
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn request_round_trips(
        version in 1u32..=2,
        argv in argv(),
        source in data(20),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let bytes = encode_request(version, &refs, &source).unwrap();
        let events = decode_chunks(pieces(&bytes, &cuts), Limits::default()).unwrap();
        prop_assert_eq!(events, vec![
            RequestEvent::Header { version, cwd: None, argv },
            RequestEvent::Source(source),
        ]);
    }

    #[test]
    fn pump_request_round_trips(
        cwd in prop::collection::vec(any::<u8>(), 0..30),
        argv in argv(),
        files in prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..30), any::<bool>(), data(6)), 0..5),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let files: Vec<PumpEntry> = files
            .into_iter()
            .map(|(name, link, body)| PumpEntry {
                name,
                content: if link { PumpContent::Link(body) } else { PumpContent::File(body) },
            })
            .collect();
        let refs: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        let bytes = encode_request_v3(&cwd, &refs, &files).unwrap();
        let events = decode_chunks(pieces(&bytes, &cuts), Limits::default()).unwrap();
        prop_assert_eq!(events, vec![
            RequestEvent::Header { version: 3, cwd: Some(cwd), argv },
            RequestEvent::Files(files),
        ]);
    }

    #[test]
    fn reply_round_trips(
        version in 1u32..=3,
        status in prop_oneof![Just(0u32), any::<u32>()],
        stderr in data(6),
        stdout in data(3),
        object in data(20),
        deps in data(3),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let reply = Reply { version, status, stderr: &stderr, stdout: &stdout, object: &object, deps: Some(&deps) };
        let bytes = encode_reply(&reply).unwrap();
        let back = decode_reply_chunks(version, pieces(&bytes, &cuts), Limits::default()).unwrap();
        prop_assert_eq!(back.status, status);
        prop_assert_eq!(&back.stderr, &stderr);
        prop_assert_eq!(&back.stdout, &stdout);
        if status == 0 {
            prop_assert_eq!(&back.object, &object);
            prop_assert_eq!(back.deps, (version == 3).then_some(deps));
        } else {
            prop_assert!(back.object.is_empty());
            prop_assert_eq!(back.deps, None);
        }
    }

    #[test]
    fn lzo_round_trips(input in data(40)) {
        let c = lzo::compress(&input);
        prop_assert_eq!(lzo::decompress(&c, input.len()).unwrap(), input.clone());
        if !input.is_empty() {
            let short = lzo::decompress(&c, input.len() - 1);
            prop_assert!(matches!(short, Err(lzo::LzoError::OutputOverrun { .. })), "cap {}", input.len() - 1);
        }
    }

    #[test]
    fn lzo_never_panics_and_respects_the_cap(
        input in prop::collection::vec(any::<u8>(), 0..300),
        cap in 0usize..5000,
    ) {
        if let Ok(out) = lzo::decompress(&input, cap) {
            prop_assert!(out.len() <= cap);
        }
    }
}
