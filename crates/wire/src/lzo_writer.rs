//! An LZO1X-1 style compressor that writes as it goes, for bodies too large to hold: it
//! reads its input by offset (a file), compresses 48 KiB blocks with a 16 K-entry hash
//! dictionary like liblzo2's `lzo1x_1_compress`, and never holds a literal run: a run's
//! length is written first and its bytes are read again from the input. Memory: one
//! block, the dictionary and one output chunk, whatever the input's size.
//!
//! The stream is raw LZO1X as distcc uses it (ends with `11 00 00`); only M2, M3 and M4
//! matches are written, so every instruction is valid in every decoder state.

use std::io::Write;

/// Input per block (liblzo2's block size); matches stay inside a block.
const BLOCK: usize = 49_152;
const DICT_BITS: u32 = 14;
/// Output kept before it is written (all but the last two bytes: a following literal
/// run of 1-3 bytes is counted in the low bits of a match's second-to-last byte).
const OUT_CHUNK: usize = 64 * 1024;
/// Literal bytes copied at a time.
const COPY: usize = 64 * 1024;

/// Compress `len` bytes that `read_at(buf, offset)` fills exactly into `dst`; the number
/// of bytes written.
pub fn compress_stream<R, W>(mut read_at: R, len: u64, dst: &mut W) -> std::io::Result<u64>
where
    R: FnMut(&mut [u8], u64) -> std::io::Result<()>,
    W: Write,
{
    let mut e = Encoder {
        out: Vec::with_capacity(OUT_CHUNK + 1024),
        written: 0,
        started: false,
        lit_start: 0,
    };
    let mut block = vec![0u8; BLOCK];
    let mut dict = vec![0u32; 1 << DICT_BITS];
    let mut base = 0u64;
    while base < len {
        let n = usize::try_from((len - base).min(BLOCK as u64)).unwrap_or(BLOCK);
        read_at(&mut block[..n], base)?;
        dict.fill(0);
        e.block(&block[..n], base, &mut dict, &mut read_at, dst)?;
        base += n as u64;
    }
    e.literals(len, &mut read_at, dst)?;
    e.out.extend_from_slice(&[0x11, 0, 0]);
    e.flush(dst, 0)?;
    Ok(e.written)
}

struct Encoder {
    out: Vec<u8>,
    written: u64,
    /// Anything was emitted (the first literal run has its own encoding).
    started: bool,
    /// Start (absolute offset) of the literals not yet emitted.
    lit_start: u64,
}

fn hash(v: u32) -> usize {
    (v.wrapping_mul(0x1e35_a7bd) >> (32 - DICT_BITS)) as usize
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

impl Encoder {
    /// Write out all but the last `keep` bytes once a chunk has gathered.
    fn flush<W: Write>(&mut self, dst: &mut W, keep: usize) -> std::io::Result<()> {
        if self.out.len() > keep {
            let n = self.out.len() - keep;
            dst.write_all(&self.out[..n])?;
            self.written += n as u64;
            self.out.drain(..n);
        }
        Ok(())
    }

    /// An extended length: `v` (at least 1) as zero bytes of 255 and a final byte.
    fn extension(&mut self, mut v: usize) {
        while v > 255 {
            self.out.push(0);
            v -= 255;
        }
        self.out.push(u8::try_from(v).unwrap_or(255));
    }

    /// Emit the literals from `lit_start` to `end`, read again from the input.
    fn literals<R, W>(&mut self, end: u64, read_at: &mut R, dst: &mut W) -> std::io::Result<()>
    where
        R: FnMut(&mut [u8], u64) -> std::io::Result<()>,
        W: Write,
    {
        let n = usize::try_from(end - self.lit_start).map_err(std::io::Error::other)?;
        if n == 0 {
            return Ok(());
        }
        if !self.started && n <= 238 {
            self.out.push(u8::try_from(17 + n).unwrap_or(255));
        } else if n <= 3 {
            // After a match: in the low bits of its second-to-last byte (M2's first,
            // M3's and M4's low distance byte).
            let at = self.out.len().saturating_sub(2);
            if let Some(b) = self.out.get_mut(at) {
                *b |= u8::try_from(n).unwrap_or(0);
            }
        } else if n <= 18 {
            self.out.push(u8::try_from(n - 3).unwrap_or(0));
        } else {
            self.out.push(0);
            self.extension(n - 18);
        }
        self.started = true;
        let mut at = self.lit_start;
        let mut buf = vec![0u8; n.min(COPY)];
        while at < end {
            let k = usize::try_from((end - at).min(COPY as u64)).unwrap_or(COPY);
            read_at(&mut buf[..k], at)?;
            self.out.extend_from_slice(&buf[..k]);
            at += k as u64;
            self.flush(dst, 0)?;
        }
        self.lit_start = end;
        Ok(())
    }

    /// Emit a match of `len` (at least 4) bytes `dist` back (at most 0xbfff).
    fn matched(&mut self, dist: usize, len: usize) {
        if len <= 8 && dist <= 0x800 {
            let d = dist - 1;
            self.out
                .push(u8::try_from(((len - 1) << 5) | ((d & 7) << 2)).unwrap_or(0));
            self.out.push(u8::try_from(d >> 3).unwrap_or(0));
            return;
        }
        let (d, high) = if dist <= 0x4000 {
            let t = if len - 2 <= 31 { 32 | (len - 2) } else { 32 };
            self.out.push(u8::try_from(t).unwrap_or(32));
            if len - 2 > 31 {
                self.extension(len - 2 - 31);
            }
            (dist - 1, 0)
        } else {
            let dd = dist - 0x4000;
            let high = (dd >> 11) & 8;
            let t = 16 | high | if len - 2 <= 7 { len - 2 } else { 0 };
            self.out.push(u8::try_from(t).unwrap_or(16));
            if len - 2 > 7 {
                self.extension(len - 2 - 7);
            }
            (dd & 0x3fff, high)
        };
        let _ = high;
        let d = d << 2;
        self.out.push(u8::try_from(d & 0xff).unwrap_or(0));
        self.out.push(u8::try_from(d >> 8).unwrap_or(0));
        self.started = true;
    }

    /// Find matches in one block (`base` is its offset in the input).
    fn block<R, W>(
        &mut self,
        b: &[u8],
        base: u64,
        dict: &mut [u32],
        read_at: &mut R,
        dst: &mut W,
    ) -> std::io::Result<()>
    where
        R: FnMut(&mut [u8], u64) -> std::io::Result<()>,
        W: Write,
    {
        let mut ip = 0usize;
        let mut misses = 0usize;
        while ip + 4 <= b.len() {
            let v = u32_at(b, ip);
            let h = hash(v);
            let cand = dict[h] as usize;
            dict[h] = u32::try_from(ip + 1).unwrap_or(0);
            if cand == 0 || u32_at(b, cand - 1) != v || ip - (cand - 1) > 0xbfff {
                // Skip faster through data that does not compress (as liblzo2 does).
                misses += 1;
                ip += 1 + (misses >> 5);
                continue;
            }
            misses = 0;
            let m = cand - 1;
            let mut len = 4;
            while ip + len < b.len() && b[m + len] == b[ip + len] {
                len += 1;
            }
            self.literals(base + ip as u64, read_at, dst)?;
            self.matched(ip - m, len);
            ip += len;
            self.lit_start = base + ip as u64;
            if self.out.len() >= OUT_CHUNK {
                self.flush(dst, 2)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::lzo;
    use super::*;

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let n = compress_stream(
            |buf: &mut [u8], at: u64| {
                let at = at as usize;
                buf.copy_from_slice(&data[at..at + buf.len()]);
                Ok(())
            },
            data.len() as u64,
            &mut out,
        )
        .expect("in-memory compression");
        assert_eq!(n, out.len() as u64);
        out
    }

    pub(crate) fn samples() -> Vec<Vec<u8>> {
        let mut text = Vec::new();
        for i in 0..30_000u32 {
            text.extend_from_slice(
                format!("int f{}(int x) {{ return x * {}; }}\n", i % 97, i).as_bytes(),
            );
        }
        let noise: Vec<u8> = (0..400_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut mixed = noise[..70_000].to_vec();
        mixed.extend(std::iter::repeat_n(b'z', 200_000));
        mixed.extend_from_slice(&text[..90_000]);
        mixed.extend_from_slice(&noise[..3]);
        let mut out = vec![Vec::new(), b"a".to_vec(), b"abc".to_vec(), b"abcd".to_vec()];
        out.extend([
            b"abcabcabcabcabcabc".to_vec(),
            text,
            noise.clone(),
            mixed,
            vec![0; 3 << 20],
        ]);
        // Distances across the M2/M3/M4 boundaries and literal runs of every small size.
        let mut far = noise[..40_000].to_vec();
        far.extend_from_slice(&noise[..300]);
        far.extend_from_slice(&noise[20_000..20_100]);
        for k in 0..40 {
            far.extend_from_slice(&noise[100_000 + k * 7..100_000 + k * 7 + k]);
            far.extend_from_slice(&noise[5_000..5_020]);
        }
        out.push(far);
        out
    }

    #[test]
    fn what_it_writes_decodes_to_the_input() {
        for (i, data) in samples().into_iter().enumerate() {
            let z = compress(&data);
            let ours = lzo::decompress(&z, data.len());
            assert!(
                ours.as_ref().is_ok_and(|o| *o == data),
                "sample {i}: {:?}",
                ours.map(|o| o.len())
            );
            let mut via_crate = vec![0u8; data.len()];
            if !data.is_empty() {
                assert!(lzo1x::decompress(&z, &mut via_crate).is_ok(), "sample {i}");
                assert!(
                    via_crate == data,
                    "sample {i}: the lzo1x crate decodes another text"
                );
            }
        }
        let zeros = compress(&vec![0; 3 << 20]);
        assert!(zeros.len() < 40_000, "{}", zeros.len());
    }
}
