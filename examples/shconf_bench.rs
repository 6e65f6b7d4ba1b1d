//! Parse+print throughput of shconf: `cargo run --release --example shconf_bench [FILE...]`.
//! Without files it measures a synthetic document of 1 MiB and the largest corpus file.
//!
//! A developer tool: it prints its measurements.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::Instant;

use distsetup::shconf::{Dialect, Document};

fn synthetic(size: usize) -> Vec<u8> {
    let mut big = Vec::new();
    let mut i = 0;
    while big.len() < size {
        big.extend_from_slice(
            format!("# comment {i} with 'quotes\nVAR_{i}=\"value {i} $X\" # tail\nARR_{i}=(a 'b c' !d)\nif true; then\n  C_{i}=1\nfi\n")
                .as_bytes(),
        );
        i += 1;
    }
    big
}

fn measure(label: &str, bytes: &[u8]) {
    let rounds = (20_000_000 / bytes.len().max(1)).clamp(3, 2000);
    let start = Instant::now();
    for _ in 0..rounds {
        let doc = Document::parse(bytes, Dialect::Bash).expect("parse");
        assert!(doc.as_bytes() == bytes);
    }
    let secs = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "{label}: {} bytes, {:.3} ms per parse+print, {:.1} MB/s",
        bytes.len(),
        secs * 1e3,
        bytes.len() as f64 / secs / 1e6
    );
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        for size in [1 << 20, 2 << 20, 10 << 20] {
            measure(&format!("synthetic {} MiB", size >> 20), &synthetic(size));
        }
        let corpus =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/make.conf");
        if let Ok(entries) = std::fs::read_dir(&corpus) {
            let largest = entries
                .filter_map(Result::ok)
                .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0));
            if let Some(e) = largest {
                let bytes = std::fs::read(e.path()).expect("read");
                measure(
                    &format!("largest corpus file {}", e.file_name().to_string_lossy()),
                    &bytes,
                );
            }
        }
    }
    for f in files {
        let bytes = std::fs::read(&f).expect("read");
        measure(&f, &bytes);
    }
}
