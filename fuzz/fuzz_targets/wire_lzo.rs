//! Fuzz the LZO1X decoder: never panic, never pass the cap, agree with an independent
//! decoder (the `lzo` crate) whenever both accept; and compress -> decompress is identity.
#![no_main]

use distcc_wire::lzo;
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let ours = lzo::decompress(data, CAP);
    if let Ok(out) = &ours {
        assert!(out.len() <= CAP);
        let mut buf = vec![0u8; CAP];
        if let Ok(n) = ::lzo::decompress_into(data, &mut buf) {
            assert_eq!(&buf[..n], &out[..], "decoders disagree");
        }
    }
    let packed = lzo::compress(data);
    assert_eq!(lzo::decompress(&packed, data.len()).as_deref(), Ok(data));
});
