//! Fuzz the reply decoder (the client side used by tests and `doctor`).
#![no_main]

use distcc_wire::{Limits, ReplyDecoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&v, rest)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_doti_plain: 1 << 20,
        ..Limits::default()
    };
    let mut d = ReplyDecoder::new(u32::from(v % 4), limits);
    d.feed(rest);
    if let Ok(Some(r)) = d.next_reply() {
        assert!(r.status != 0 || r.ignored_object_len == 0);
    }
    let _ = d.finish();
});
