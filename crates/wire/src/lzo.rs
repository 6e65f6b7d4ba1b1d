//! LZO1X as distcc uses it: raw streams (no lzop header, no length, no checksum) that end
//! with the marker `11 00 00`.
//!
//! Decompression is our own: the uncompressed size is not on the wire, so the decoder
//! appends to a `Vec` that grows only as output is produced and never past `max_out`
//! (distccd instead retries with a doubled buffer and has no cap). It follows the
//! instruction set of `lzo1x_decompress_safe`, so it accepts every LZO1X encoder's output
//! (lzo1x_1, lzo1x_999, hand-made literal-only streams), not only what our compressor emits.
//!
//! Compression wraps the `lzo1x` crate (GPL-2.0, safe Rust port of liblzo2), at the level
//! that corresponds to `lzo1x_1_compress` (the compressor distcc itself uses). The choice
//! was made by measurement, see `scripts/bench-lzo`.

use thiserror::Error;

/// Why an LZO1X stream was refused. Every variant is a clean refusal: the decoder never
/// panics and never allocates more than the caller's cap.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LzoError {
    /// The stream ended in the middle of an instruction or before the end marker.
    #[error("LZO stream truncated at input offset {offset}")]
    InputOverrun {
        /// Input offset where more bytes were needed.
        offset: usize,
    },
    /// Decoding would produce more than the allowed number of bytes.
    #[error("LZO output exceeds the limit of {limit} bytes")]
    OutputOverrun {
        /// The cap that was hit.
        limit: usize,
    },
    /// A back-reference points before the start of the output.
    #[error(
        "LZO back-reference of distance {distance} at output offset {at} points before the start"
    )]
    LookbehindOverrun {
        /// Distance of the match.
        distance: usize,
        /// Output length when the match was met.
        at: usize,
    },
    /// Bytes follow the end-of-stream marker (`lzo1x_decompress_safe` refuses these too).
    #[error("{extra} bytes follow the LZO end-of-stream marker")]
    InputNotConsumed {
        /// Number of trailing bytes.
        extra: usize,
    },
    /// A run-length extension overflowed (only a hostile stream does this).
    #[error("LZO length field overflows at input offset {offset}")]
    LengthOverflow {
        /// Input offset of the length field.
        offset: usize,
    },
}

/// Decompress a raw LZO1X stream, producing at most `max_out` bytes.
///
/// An empty input is an error (a distcc body of length 0 means "empty file" and must not be
/// passed here); the stream `11 00 00` decodes to an empty vector.
pub fn decompress(input: &[u8], max_out: usize) -> Result<Vec<u8>, LzoError> {
    let mut d = Decoder {
        src: input,
        ip: 0,
        out: Output::new(input.len(), max_out),
    };
    d.run()?;
    Ok(d.out.buf)
}

/// Compress `input` into a raw LZO1X stream that `lzo1x_decompress_safe` accepts.
///
/// Callers on the wire must not compress empty bodies (distcc sends them as length 0);
/// for an empty input this still returns the valid empty stream `11 00 00`.
pub fn compress(input: &[u8]) -> Vec<u8> {
    // Level 3 is lzo1x_1 with a 14-bit dictionary: the same algorithm as distcc's
    // `lzo1x_1_compress`, so the client sees the same kind of stream as from distccd.
    lzo1x::compress(input, lzo1x::CompressLevel::new(3))
}

/// Output buffer that grows with the data, never beyond `max`.
struct Output {
    buf: Vec<u8>,
    max: usize,
}

impl Output {
    fn new(input_len: usize, max: usize) -> Self {
        // Text compresses ~3-4x with lzo1x_1; start there but never above the cap, so a
        // hostile length costs nothing until the output really exists.
        let first = input_len.saturating_mul(4).clamp(64, 1 << 20).min(max);
        Output {
            buf: Vec::with_capacity(first),
            max,
        }
    }

    /// Make room for `n` more bytes or refuse if that would pass the cap.
    #[inline]
    fn reserve(&mut self, n: usize) -> Result<(), LzoError> {
        let need = self.buf.len().saturating_add(n);
        if need > self.max {
            return Err(LzoError::OutputOverrun { limit: self.max });
        }
        if need > self.buf.capacity() {
            // Double, but stop at the cap (Vec's own doubling could pass it).
            let target = need.max(self.buf.len().saturating_mul(2)).min(self.max);
            self.buf.reserve_exact(target - self.buf.len());
        }
        Ok(())
    }
}

struct Decoder<'a> {
    src: &'a [u8],
    ip: usize,
    out: Output,
}

impl Decoder<'_> {
    #[inline]
    fn byte(&mut self) -> Result<usize, LzoError> {
        let b = *self
            .src
            .get(self.ip)
            .ok_or(LzoError::InputOverrun { offset: self.ip })?;
        self.ip += 1;
        Ok(usize::from(b))
    }

    #[inline]
    fn le16(&mut self) -> Result<usize, LzoError> {
        let lo = self.byte()?;
        let hi = self.byte()?;
        Ok(lo | (hi << 8))
    }

    /// A length whose instruction bits were zero: a run of zero bytes (255 each) and a
    /// final non-zero byte, added to `base`.
    fn extended(&mut self, base: usize) -> Result<usize, LzoError> {
        let start = self.ip;
        let mut len = base;
        loop {
            let b = self.byte()?;
            if b != 0 {
                return len
                    .checked_add(b)
                    .ok_or(LzoError::LengthOverflow { offset: start });
            }
            len = len
                .checked_add(255)
                .ok_or(LzoError::LengthOverflow { offset: start })?;
        }
    }

    #[inline]
    fn literals(&mut self, n: usize) -> Result<(), LzoError> {
        let end = self
            .ip
            .checked_add(n)
            .filter(|&e| e <= self.src.len())
            .ok_or(LzoError::InputOverrun {
                offset: self.src.len(),
            })?;
        self.out.reserve(n)?;
        self.out.buf.extend_from_slice(&self.src[self.ip..end]);
        self.ip = end;
        Ok(())
    }

    #[inline]
    fn copy_match(&mut self, distance: usize, len: usize) -> Result<(), LzoError> {
        let at = self.out.buf.len();
        if distance == 0 || distance > at {
            return Err(LzoError::LookbehindOverrun { distance, at });
        }
        self.out.reserve(len)?;
        let start = at - distance;
        if distance >= len {
            self.out.buf.extend_from_within(start..start + len);
            return Ok(());
        }
        // Overlapping match: the result is periodic from `start`; copy what exists so far,
        // doubling each round, instead of byte by byte.
        let mut left = len;
        while left > 0 {
            let chunk = (self.out.buf.len() - start).min(left);
            self.out.buf.extend_from_within(start..start + chunk);
            left -= chunk;
        }
        Ok(())
    }

    /// The LZO1X instruction loop. `state` is what the previous instruction left behind:
    /// 0 = a match with no trailing literals (next `0..16` is a literal run), 1..=3 = that
    /// many trailing literals (next `0..16` is a 2-byte near match), 4 = a literal run of
    /// 4+ bytes (next `0..16` is a 3-byte match 2049+ back).
    fn run(&mut self) -> Result<(), LzoError> {
        let mut state = 0usize;
        let first = *self
            .src
            .first()
            .ok_or(LzoError::InputOverrun { offset: 0 })?;
        if first > 17 {
            self.ip = 1;
            let n = usize::from(first) - 17;
            self.literals(n)?;
            state = if n < 4 { n } else { 4 };
        }
        loop {
            let t = self.byte()?;
            let (distance, len, next);
            if t < 16 {
                if state == 0 {
                    let n = if t == 0 {
                        self.extended(15)? + 3
                    } else {
                        t + 3
                    };
                    self.literals(n)?;
                    state = 4;
                    continue;
                }
                let b = self.byte()?;
                if state == 4 {
                    distance = 1 + 0x800 + (t >> 2) + (b << 2);
                    len = 3;
                } else {
                    distance = 1 + (t >> 2) + (b << 2);
                    len = 2;
                }
                next = t & 3;
            } else if t >= 64 {
                let b = self.byte()?;
                distance = 1 + ((t >> 2) & 7) + (b << 3);
                len = (t >> 5) + 1;
                next = t & 3;
            } else if t >= 32 {
                len = if t & 31 == 0 {
                    self.extended(31)? + 2
                } else {
                    (t & 31) + 2
                };
                let d = self.le16()?;
                distance = 1 + (d >> 2);
                next = d & 3;
            } else {
                let high = (t & 8) << 11;
                len = if t & 7 == 0 {
                    self.extended(7)? + 2
                } else {
                    (t & 7) + 2
                };
                let d = self.le16()?;
                if high == 0 && d >> 2 == 0 {
                    // End marker; like lzo1x_decompress_safe, refuse trailing bytes.
                    let extra = self.src.len() - self.ip;
                    if extra != 0 {
                        return Err(LzoError::InputNotConsumed { extra });
                    }
                    return Ok(());
                }
                distance = high + (d >> 2) + 0x4000;
                next = d & 3;
            }
            self.copy_match(distance, len)?;
            self.literals(next)?;
            state = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_marker_alone_is_empty() {
        assert_eq!(decompress(&[0x11, 0, 0], 0), Ok(Vec::new()));
    }

    #[test]
    fn literal_only_stream_decodes() {
        let mut s = vec![17 + 5];
        s.extend_from_slice(b"hello");
        s.extend_from_slice(&[0x11, 0, 0]);
        assert_eq!(decompress(&s, 100).as_deref(), Ok(&b"hello"[..]));
    }

    #[test]
    fn cap_is_enforced_exactly() {
        let data = vec![b'a'; 1000];
        let c = compress(&data);
        assert_eq!(decompress(&c, 1000).map(|v| v.len()), Ok(1000));
        assert_eq!(
            decompress(&c, 999),
            Err(LzoError::OutputOverrun { limit: 999 })
        );
    }

    #[test]
    fn trailing_bytes_are_refused() {
        assert_eq!(
            decompress(&[0x11, 0, 0, 7], 10),
            Err(LzoError::InputNotConsumed { extra: 1 })
        );
    }

    #[test]
    fn empty_and_truncated_input_are_errors() {
        assert!(decompress(&[], 10).is_err());
        assert!(decompress(&[0x11, 0], 10).is_err());
        assert!(decompress(&[17 + 5, b'a'], 10).is_err());
    }
}
