//! liblzo2 itself as the oracle of serve's LZO: its `lzo1x_decompress_safe` must decode
//! what the streaming encoder writes, byte for byte, and our streaming decoder must
//! decode what liblzo2's reference stream format allows (the lzo1x crate's output).

use distsetup::wire::lzo;
use distsetup::wire::lzo_stream::LzoStream;
use distsetup::wire::lzo_writer::compress_stream;

use crate::support::require;

type Decompress = unsafe extern "C" fn(
    src: *const u8,
    src_len: libc::c_ulong,
    dst: *mut u8,
    dst_len: *mut libc::c_ulong,
    wrkmem: *mut libc::c_void,
) -> libc::c_int;

/// `lzo1x_decompress_safe` from the system's liblzo2, if installed.
fn liblzo2() -> Option<Decompress> {
    // SAFETY: dlopen/dlsym with NUL-terminated names; the symbol has the C signature
    // above (lzo1x.h), and the library stays loaded for the process.
    unsafe {
        let h = libc::dlopen(c"liblzo2.so.2".as_ptr(), libc::RTLD_NOW);
        if h.is_null() {
            return None;
        }
        let f = libc::dlsym(h, c"lzo1x_decompress_safe".as_ptr());
        (!f.is_null()).then(|| std::mem::transmute::<*mut libc::c_void, Decompress>(f))
    }
}

fn samples() -> Vec<Vec<u8>> {
    let mut text = Vec::new();
    for i in 0..30_000u32 {
        text.extend_from_slice(
            format!("int g{}(int x) {{ return x ^ {}; }}\n", i % 89, i).as_bytes(),
        );
    }
    let noise: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let mut mixed = noise[..60_000].to_vec();
    mixed.extend(std::iter::repeat_n(7u8, 150_000));
    mixed.extend_from_slice(&text[..80_000]);
    for k in 1..30 {
        mixed.extend_from_slice(&noise[1000..1000 + k]);
        mixed.extend_from_slice(&text[500..530]);
    }
    vec![
        b"x".to_vec(),
        b"hello hello hello".to_vec(),
        text,
        noise,
        mixed,
        vec![0; 2 << 20],
    ]
}

fn encode(data: &[u8]) -> Vec<u8> {
    let mut z = Vec::new();
    compress_stream(
        |buf: &mut [u8], at: u64| {
            let at = at as usize;
            buf.copy_from_slice(&data[at..at + buf.len()]);
            Ok(())
        },
        data.len() as u64,
        &mut z,
    )
    .unwrap();
    z
}

#[test]
fn liblzo2_decodes_what_the_streaming_encoder_writes() {
    let Some(decompress) = liblzo2() else {
        require("liblzo2 (Debian's liblzo2-2)", false);
        return;
    };
    for (i, data) in samples().into_iter().enumerate() {
        let z = encode(&data);
        let mut out = vec![0u8; data.len() + 64];
        let mut out_len = out.len() as libc::c_ulong;
        // SAFETY: src and dst are valid for the lengths given; the safe decoder needs
        // no work memory.
        let rc = unsafe {
            decompress(
                z.as_ptr(),
                z.len() as libc::c_ulong,
                out.as_mut_ptr(),
                &mut out_len,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, 0, "sample {i}: liblzo2 refused the stream");
        assert_eq!(out_len as usize, data.len(), "sample {i}");
        assert!(
            out[..data.len()] == data[..],
            "sample {i}: liblzo2 decoded another text"
        );
        // And ours, streaming, fed in odd pieces.
        let mut d = LzoStream::new(u64::MAX);
        let mut back = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            back.extend_from_slice(b);
            Ok(())
        };
        for piece in z.chunks(777) {
            assert!(d.feed(piece, &mut sink).is_ok(), "sample {i}");
        }
        assert!(d.finish(&mut sink).is_ok(), "sample {i}");
        assert!(back == data, "sample {i}");
    }
}

#[test]
fn the_streaming_encoder_compresses_like_lzo1x_1() {
    // Not byte-identical to liblzo2's lzo1x_1 (no need: any LZO1X stream decodes), but
    // of the same kind: within a few percent on text, flat on noise.
    for data in samples().into_iter().skip(2) {
        let ours = encode(&data).len() as f64;
        let reference = lzo::compress(&data).len() as f64;
        let ratio = ours / reference;
        eprintln!(
            "{} bytes: ours {ours}, lzo1x_1 {reference}, ratio {ratio:.3}",
            data.len()
        );
        assert!(ratio < 1.25, "{ratio}");
    }
}
