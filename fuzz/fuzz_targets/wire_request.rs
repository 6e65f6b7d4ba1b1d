//! Fuzz the request decoder: any bytes, fed in any split, must end in events, "need more"
//! or a clean error — never a panic, never more than the limits allow.
#![no_main]

use distcc_wire::{Limits, RequestDecoder, RequestEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // First byte picks the chunk size, so splits are explored too.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let limits = Limits {
        max_doti_plain: 1 << 20,
        ..Limits::default()
    };
    let cap = limits.max_doti_plain;
    let mut d = RequestDecoder::new(limits);
    'feed: for piece in rest.chunks(chunk) {
        d.feed(piece);
        loop {
            match d.next_event() {
                Ok(Some(RequestEvent::Source(s))) => assert!(s.len() <= cap),
                Ok(Some(RequestEvent::Files(f))) => {
                    assert!(f.iter().map(|e| e.name.len()).sum::<usize>() <= rest.len())
                }
                Ok(Some(RequestEvent::Header { argv, .. })) => assert!(!argv.is_empty()),
                Ok(None) => break,
                Err(_) => break 'feed,
            }
        }
    }
    let _ = d.finish();
});
