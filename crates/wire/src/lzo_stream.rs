//! LZO1X decompression as the bytes arrive: the decoder keeps only the window a
//! back-reference can reach (LZO1X distances stop at 48 KiB) plus one chunk of output,
//! and hands the rest to a sink as it goes. A stream that inflates 1 MB into 250 MiB
//! costs the same memory as an empty one.
//!
//! Same instruction set and the same refusals as [`super::lzo::decompress`] (the test
//! below holds them to the same answers on every split of their input).

use super::lzo::LzoError;

/// The farthest an LZO1X match reaches back (M4: 0x4000 + 0x7fff).
const WINDOW: usize = 0xc000;
/// Output handed to the sink at a time; also the step of a long match copy.
const CHUNK: usize = 64 * 1024;

/// What an extended length belongs to, and so what comes after it.
#[derive(Debug, Clone, Copy)]
enum Ext {
    /// A literal run (state 0): `len + 3` literals.
    Literals,
    /// An M3 match: `len + 2` bytes, then a 16-bit distance.
    M3,
    /// An M4 match: `len + 2` bytes, then a 16-bit distance, `high` added.
    M4 { high: usize },
}

#[derive(Debug, Clone, Copy)]
enum St {
    /// The first byte (a literal run of `b - 17` when `b > 17`).
    First,
    /// An instruction byte.
    Op,
    /// The zero bytes of an extended length, `acc` so far.
    Extend { acc: usize, ext: Ext },
    /// The one distance byte of a short match after literals (2 bytes, or 3 when far).
    Near { t: usize, far: bool },
    /// The one distance byte of an M2 match.
    M2 { t: usize },
    /// The two distance bytes of an M3/M4 match (`lo` once the first arrived).
    Far {
        len: usize,
        ext: Ext,
        lo: Option<usize>,
    },
    /// Copying a match, then `next` literals.
    Copy {
        distance: usize,
        left: usize,
        next: usize,
    },
    /// Copying literals from the input.
    Literals { left: usize },
    /// The end marker was read.
    Done,
}

/// An error of the stream or of its sink.
#[derive(Debug)]
pub enum StreamError<E> {
    /// The LZO stream is bad (or inflates past the cap).
    Lzo(LzoError),
    /// The sink refused the output.
    Sink(E),
}

/// A streaming LZO1X decoder.
#[derive(Debug)]
pub struct LzoStream {
    st: St,
    /// Trailing literals of the last instruction (0-3), or 4 after a literal run.
    lstate: usize,
    /// Output: the window behind `handed`, and what the sink has not had yet.
    hist: Vec<u8>,
    /// `hist[..handed]` went to the sink already.
    handed: usize,
    /// Bytes produced in total.
    produced: u64,
    /// Input bytes consumed in total (for error offsets).
    consumed: usize,
    max_out: u64,
}

impl LzoStream {
    /// A decoder that refuses to produce more than `max_out` bytes.
    pub fn new(max_out: u64) -> LzoStream {
        LzoStream {
            st: St::First,
            lstate: 0,
            // Never more: after a hand-over at most WINDOW + CHUNK remain, and each step
            // adds at most CHUNK before the next hand-over (at CHUNK unhanded bytes).
            hist: Vec::with_capacity(WINDOW + 3 * CHUNK),
            handed: 0,
            produced: 0,
            consumed: 0,
            max_out,
        }
    }

    /// True once the end marker has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.st, St::Done)
    }

    /// Bytes produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// The stream ended: an error unless the end marker was read. Output still held is
    /// handed to `sink`.
    pub fn finish<E>(
        &mut self,
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), StreamError<E>> {
        if !self.is_done() {
            return Err(StreamError::Lzo(LzoError::InputOverrun {
                offset: self.consumed,
            }));
        }
        self.hand(sink, 0)
    }

    /// Decode `input`, handing output to `sink` in chunks.
    pub fn feed<E>(
        &mut self,
        input: &[u8],
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), StreamError<E>> {
        let mut at = 0;
        while at < input.len() || matches!(self.st, St::Copy { .. }) {
            at += self.step(&input[at..]).map_err(StreamError::Lzo)?;
            if self.hist.len() - self.handed >= CHUNK {
                self.hand(sink, WINDOW)?;
            }
        }
        self.consumed += input.len();
        self.hand(sink, WINDOW)
    }

    /// Give the sink what it has not had; keep `keep` bytes of window.
    fn hand<E>(
        &mut self,
        sink: &mut impl FnMut(&[u8]) -> Result<(), E>,
        keep: usize,
    ) -> Result<(), StreamError<E>> {
        if self.handed < self.hist.len() {
            sink(&self.hist[self.handed..]).map_err(StreamError::Sink)?;
            self.handed = self.hist.len();
        }
        if self.hist.len() > keep + CHUNK {
            let cut = self.hist.len() - keep;
            self.hist.drain(..cut);
            self.handed -= cut;
        }
        Ok(())
    }

    fn room(&self, n: usize) -> Result<(), LzoError> {
        if self.produced.saturating_add(n as u64) > self.max_out {
            return Err(LzoError::OutputOverrun {
                limit: usize::try_from(self.max_out).unwrap_or(usize::MAX),
            });
        }
        Ok(())
    }

    /// One step on `input` (which may be empty only in `Copy`); bytes consumed.
    fn step(&mut self, input: &[u8]) -> Result<usize, LzoError> {
        let offset = self.consumed;
        match self.st {
            St::Copy {
                distance,
                left,
                next,
            } => {
                let n = left.min(CHUNK);
                self.copy_match(distance, n)?;
                self.st = if left > n {
                    St::Copy {
                        distance,
                        left: left - n,
                        next,
                    }
                } else {
                    self.after_match(next)
                };
                Ok(0)
            }
            St::Literals { left } => {
                let n = left.min(input.len()).min(CHUNK);
                self.room(n)?;
                self.hist.extend_from_slice(&input[..n]);
                self.produced += n as u64;
                self.st = if left > n {
                    St::Literals { left: left - n }
                } else {
                    St::Op
                };
                Ok(n)
            }
            St::Done => Err(LzoError::InputNotConsumed { extra: input.len() }),
            St::First => {
                let b = usize::from(input[0]);
                if b > 17 {
                    let n = b - 17;
                    self.lstate = n.min(4);
                    self.st = St::Literals { left: n };
                } else {
                    self.st = St::Op;
                    return Ok(0);
                }
                Ok(1)
            }
            St::Op => {
                self.op(usize::from(input[0]));
                Ok(1)
            }
            St::Extend { acc, ext } => {
                let b = usize::from(input[0]);
                let overflow = LzoError::LengthOverflow { offset };
                if b == 0 {
                    let acc = acc.checked_add(255).ok_or(overflow)?;
                    self.st = St::Extend { acc, ext };
                } else {
                    let len = acc.checked_add(b).ok_or(overflow)?;
                    self.extended(len, ext);
                }
                Ok(1)
            }
            St::Near { t, far } => {
                let b = usize::from(input[0]);
                let (distance, len) = if far {
                    (1 + 0x800 + (t >> 2) + (b << 2), 3)
                } else {
                    (1 + (t >> 2) + (b << 2), 2)
                };
                self.start_match(distance, len, t & 3);
                Ok(1)
            }
            St::M2 { t } => {
                let b = usize::from(input[0]);
                self.start_match(1 + ((t >> 2) & 7) + (b << 3), (t >> 5) + 1, t & 3);
                Ok(1)
            }
            St::Far { len, ext, lo } => {
                let b = usize::from(input[0]);
                let Some(lo) = lo else {
                    self.st = St::Far {
                        len,
                        ext,
                        lo: Some(b),
                    };
                    return Ok(1);
                };
                let d = lo | (b << 8);
                let next = d & 3;
                match ext {
                    Ext::M4 { high } if high == 0 && d >> 2 == 0 => {
                        self.st = St::Done;
                        // Trailing bytes in this same input are refused by the caller's
                        // next step (St::Done).
                    }
                    Ext::M4 { high } => self.start_match(high + (d >> 2) + 0x4000, len, next),
                    _ => self.start_match(1 + (d >> 2), len, next),
                }
                Ok(1)
            }
        }
    }

    /// Decode an instruction byte.
    fn op(&mut self, t: usize) {
        if t < 16 {
            match self.lstate {
                0 if t == 0 => {
                    self.st = St::Extend {
                        acc: 15,
                        ext: Ext::Literals,
                    }
                }
                0 => {
                    self.lstate = 4;
                    self.st = St::Literals { left: t + 3 };
                }
                s => self.st = St::Near { t, far: s == 4 },
            }
        } else if t >= 64 {
            self.st = St::M2 { t };
        } else if t >= 32 {
            let ext = Ext::M3;
            if t & 31 == 0 {
                self.st = St::Extend { acc: 31, ext };
            } else {
                self.extended(t & 31, ext);
            }
        } else {
            let ext = Ext::M4 {
                high: (t & 8) << 11,
            };
            if t & 7 == 0 {
                self.st = St::Extend { acc: 7, ext };
            } else {
                self.extended(t & 7, ext);
            }
        }
    }

    /// An instruction's length is known (`len` before the instruction's own offset).
    fn extended(&mut self, len: usize, ext: Ext) {
        match ext {
            Ext::Literals => {
                self.lstate = 4;
                self.st = St::Literals { left: len + 3 };
            }
            Ext::M3 | Ext::M4 { .. } => {
                self.st = St::Far {
                    len: len + 2,
                    ext,
                    lo: None,
                }
            }
        }
    }

    fn start_match(&mut self, distance: usize, len: usize, next: usize) {
        self.st = St::Copy {
            distance,
            left: len,
            next,
        };
    }

    fn after_match(&mut self, next: usize) -> St {
        self.lstate = next;
        if next > 0 {
            St::Literals { left: next }
        } else {
            St::Op
        }
    }

    /// Append `n` bytes copied from `distance` back (overlap allowed).
    fn copy_match(&mut self, distance: usize, n: usize) -> Result<(), LzoError> {
        let at = self.produced;
        if distance == 0 || distance as u64 > at || distance > self.hist.len() {
            return Err(LzoError::LookbehindOverrun {
                distance,
                at: usize::try_from(at).unwrap_or(usize::MAX),
            });
        }
        self.room(n)?;
        let start = self.hist.len() - distance;
        let mut left = n;
        while left > 0 {
            let chunk = (self.hist.len() - start).min(left);
            self.hist.extend_from_within(start..start + chunk);
            left -= chunk;
        }
        self.produced += n as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::lzo;
    use super::*;

    fn stream(input: &[u8], splits: &[usize], max: u64) -> Result<Vec<u8>, LzoError> {
        let mut d = LzoStream::new(max);
        let mut out = Vec::new();
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            out.extend_from_slice(b);
            Ok(())
        };
        let mut at = 0;
        for &s in splits.iter().chain(std::iter::once(&input.len())) {
            let s = s.clamp(at, input.len());
            match d.feed(&input[at..s], &mut sink) {
                Err(StreamError::Lzo(e)) => return Err(e),
                Err(StreamError::Sink(())) => unreachable!(),
                Ok(()) => {}
            }
            at = s;
        }
        match d.finish(&mut sink) {
            Err(StreamError::Lzo(e)) => Err(e),
            _ => Ok(out),
        }
    }

    fn corpus() -> Vec<Vec<u8>> {
        let mut text = Vec::new();
        for i in 0..20_000u32 {
            text.extend_from_slice(
                format!("int f{}(int x) {{ return x * {}; }}\n", i % 97, i).as_bytes(),
            );
        }
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut mixed = noise[..70_000].to_vec();
        mixed.extend(std::iter::repeat_n(b'z', 200_000));
        mixed.extend_from_slice(&text[..50_000]);
        vec![
            Vec::new(),
            b"a".to_vec(),
            b"abcabcabcabc".to_vec(),
            text,
            noise,
            mixed,
            vec![0; 3 << 20],
        ]
    }

    #[test]
    fn the_stream_decodes_what_the_slice_decoder_does_at_every_split() {
        for data in corpus() {
            let z = lzo::compress(&data);
            let whole = lzo::decompress(&z, data.len()).unwrap();
            assert_eq!(whole, data);
            for step in [1usize, 2, 3, 7, 1000, 65_536] {
                let splits: Vec<usize> = (step..z.len()).step_by(step).take(200_000).collect();
                assert_eq!(
                    stream(&z, &splits, data.len() as u64).unwrap(),
                    data,
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn the_stream_refuses_what_the_slice_decoder_refuses() {
        let z = lzo::compress(&vec![b'q'; 100_000]);
        assert!(matches!(
            stream(&z, &[5], 99_999),
            Err(LzoError::OutputOverrun { .. })
        ));
        assert!(matches!(
            stream(&z[..z.len() - 1], &[3], 1 << 20),
            Err(LzoError::InputOverrun { .. })
        ));
        let mut trailing = z.clone();
        trailing.push(7);
        assert!(matches!(
            stream(&trailing, &[2], 1 << 20),
            Err(LzoError::InputNotConsumed { .. })
        ));
        // A match before any output.
        assert!(matches!(
            stream(&[0x12, 0x04, 0x00, 0x11, 0, 0], &[1], 100),
            Err(LzoError::LookbehindOverrun { .. })
        ));
        // Hostile bytes: both decoders agree on success or failure, the stream never panics.
        for seed in 0..2000u32 {
            let junk: Vec<u8> = (0..64u32)
                .map(|i| ((i + 1).wrapping_mul(seed.wrapping_mul(2_654_435_761) | 1) >> 7) as u8)
                .collect();
            let a = lzo::decompress(&junk, 1 << 16);
            let b = stream(&junk, &[1, 9, 30], 1 << 16);
            assert_eq!(a.is_ok(), b.is_ok(), "seed {seed}: {a:?} {b:?}");
            if let (Ok(a), Ok(b)) = (a, b) {
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn a_bomb_never_holds_more_than_the_window_and_a_chunk() {
        let z = lzo::compress(&vec![0u8; 64 << 20]);
        let mut d = LzoStream::new(u64::MAX);
        let mut total = 0u64;
        let mut biggest = 0usize;
        let mut sink = |b: &[u8]| -> Result<(), ()> {
            total += b.len() as u64;
            biggest = biggest.max(b.len());
            Ok(())
        };
        for piece in z.chunks(4096) {
            assert!(d.feed(piece, &mut sink).is_ok());
            assert!(
                d.hist.capacity() <= WINDOW + 3 * CHUNK,
                "{}",
                d.hist.capacity()
            );
        }
        assert!(d.finish(&mut sink).is_ok());
        assert_eq!(total, 64 << 20);
        assert!(biggest <= 2 * CHUNK, "{biggest}");
    }
}
