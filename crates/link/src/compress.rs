//! Compression on the link, chosen per link by measurement.
//!
//! Both ends are ours, so the master may compress what the stock client sent
//! uncompressed. Each `DATA` payload the master sends (at most 64 KiB) goes either as is
//! or as a `ZDATA` frame: codec, uncompressed length, compressed bytes. Which codec is
//! decided from two measurements: the master's compression speed and ratio for each codec
//! (timed once per process on the first [`SAMPLE_BYTES`] of the jobs' own bytes, every
//! codec on the same chunks, shared by all links) and the link's bandwidth (bytes per second of the volunteer's replies as they
//! arrive). The codec that minimises *compress time + transfer time of what it produces*
//! wins, and the choice is made again for every payload as the numbers move.
//!
//! The receiving side never trusts a `ZDATA` frame: the uncompressed length is capped at
//! the frame limit before anything is decoded, and the decoder may produce no more than
//! that length (a decompression bomb ends the connection).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::frame::MAX_PAYLOAD;

/// A codec of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Sent as is.
    None,
    /// LZO1X-1, distcc's own compressor: fast, modest ratio.
    Lzo,
    /// zstd level 1: slower than LZO, smaller output.
    Zstd,
}

/// The codecs that compress, with their wire ids.
pub const CODECS: [Codec; 2] = [Codec::Lzo, Codec::Zstd];

/// How many of the first jobs' bytes are compressed with every codec to time them.
pub const SAMPLE_BYTES: u64 = 1024 * 1024;

impl Codec {
    /// Its name in `top` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Lzo => "lzo",
            Codec::Zstd => "zstd",
        }
    }

    /// Its byte in a `ZDATA` frame (`None` is never sent as one).
    pub fn wire_id(self) -> u8 {
        match self {
            Codec::None => 0,
            Codec::Lzo => 1,
            Codec::Zstd => 2,
        }
    }

    /// The codec of a `ZDATA` frame's byte.
    pub fn from_wire(id: u8) -> Option<Codec> {
        CODECS.into_iter().find(|c| c.wire_id() == id)
    }

    /// `data` compressed with this codec.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Codec::None => data.to_vec(),
            Codec::Lzo => distcc_wire::lzo::compress(data),
            // Level 1: the point is to be quicker than the wire, not smallest.
            Codec::Zstd => zstd::bulk::compress(data, 1).unwrap_or_else(|_| data.to_vec()),
        }
    }
}

/// How the link compresses (`relay --link-compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// By measurement.
    #[default]
    Auto,
    /// Always this codec (when the peer knows it).
    Forced(Codec),
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        Ok(match s {
            "auto" => Mode::Auto,
            "none" => Mode::Forced(Codec::None),
            "lzo" => Mode::Forced(Codec::Lzo),
            "zstd" => Mode::Forced(Codec::Zstd),
            other => return Err(format!("'{other}': expected auto, none, lzo or zstd")),
        })
    }
}

/// Why a `ZDATA` payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    /// Says it is bigger than a frame may carry.
    #[error("compressed frame claims {0} bytes, over the {MAX_PAYLOAD}-byte frame limit")]
    TooLong(u32),
    /// Decodes to another length than it says (a bomb stops at the claimed length).
    #[error("compressed frame does not decode to its {claimed} bytes: {why}")]
    Corrupt {
        /// The length it claimed.
        claimed: u32,
        /// What the decoder said.
        why: String,
    },
}

/// Decode a `ZDATA` payload of `codec` that claims `raw_len` bytes, producing at most
/// that many (and never more than a frame).
pub fn inflate(codec: Codec, raw_len: u32, data: &[u8]) -> Result<Vec<u8>, InflateError> {
    if raw_len == 0 || raw_len > MAX_PAYLOAD {
        return Err(InflateError::TooLong(raw_len));
    }
    let cap = raw_len as usize;
    let out = match codec {
        Codec::None => Ok(data.to_vec()),
        Codec::Lzo => distcc_wire::lzo::decompress(data, cap).map_err(|e| e.to_string()),
        Codec::Zstd => zstd::bulk::decompress(data, cap).map_err(|e| e.to_string()),
    };
    match out {
        Ok(v) if v.len() == cap => Ok(v),
        Ok(v) => Err(InflateError::Corrupt {
            claimed: raw_len,
            why: format!("it gave {} bytes", v.len()),
        }),
        Err(why) => Err(InflateError::Corrupt {
            claimed: raw_len,
            why,
        }),
    }
}

/// One codec's measured speed and ratio on this master.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CodecSample {
    /// Input bytes compressed.
    pub bytes_in: u64,
    /// Output bytes.
    pub bytes_out: u64,
    /// Time spent compressing.
    pub time: Duration,
}

impl CodecSample {
    /// Input bytes per second.
    pub fn speed(&self) -> Option<f64> {
        let secs = self.time.as_secs_f64();
        (self.bytes_in > 0 && secs > 0.0).then(|| self.bytes_in as f64 / secs)
    }

    /// Output size over input size.
    pub fn ratio(&self) -> Option<f64> {
        (self.bytes_in > 0).then(|| self.bytes_out as f64 / self.bytes_in as f64)
    }
}

/// The choice and the numbers behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The codec.
    pub codec: Codec,
    /// Why, with the measured MB/s.
    pub reason: String,
}

fn mbps(bytes_per_sec: f64) -> String {
    format!("{:.1} MB/s", bytes_per_sec / 1e6)
}

/// The codec that sends a byte soonest: for each, seconds per input byte = 1/speed (to
/// compress) + ratio/bandwidth (to transfer what it made); `none` costs 1/bandwidth.
/// `bandwidth` is the link's bytes per second, `None` before it was measured (then
/// nothing is compressed: there is nothing to weigh the CPU time against).
pub fn choose(samples: &[(Codec, CodecSample)], bandwidth: Option<f64>) -> Choice {
    let measured: Vec<String> = samples
        .iter()
        .filter_map(|(c, s)| {
            Some(format!(
                "{} {} ×{:.2}",
                c.name(),
                mbps(s.speed()?),
                1.0 / s.ratio()?.max(1e-9)
            ))
        })
        .collect();
    let Some(bw) = bandwidth.filter(|b| *b > 0.0) else {
        let mut reason = "link speed not measured yet".to_owned();
        for m in &measured {
            reason.push_str(", ");
            reason.push_str(m);
        }
        return Choice {
            codec: Codec::None,
            reason,
        };
    };
    let mut best = (Codec::None, 1.0 / bw);
    for (c, s) in samples {
        if let (Some(speed), Some(ratio)) = (s.speed(), s.ratio()) {
            let cost = 1.0 / speed + ratio / bw;
            if cost < best.1 {
                best = (*c, cost);
            }
        }
    }
    let mut reason = format!("link {}", mbps(bw));
    for m in &measured {
        reason.push_str(", ");
        reason.push_str(m);
    }
    Choice {
        codec: best.0,
        reason,
    }
}

/// This master's compression speed per codec: measured once per process, on the first
/// [`SAMPLE_BYTES`] of job bytes that any link sends, and shared by every link.
#[derive(Debug)]
pub struct Speeds {
    inner: Mutex<(Vec<(Codec, CodecSample)>, u64)>,
}

impl Speeds {
    /// Nothing measured yet.
    pub fn new() -> Speeds {
        let samples = CODECS
            .into_iter()
            .map(|c| (c, CodecSample::default()))
            .collect();
        Speeds {
            inner: Mutex::new((samples, 0)),
        }
    }

    /// The process's measurements (what [`Policy::new`] uses).
    pub fn process() -> Arc<Speeds> {
        static SPEEDS: OnceLock<Arc<Speeds>> = OnceLock::new();
        SPEEDS.get_or_init(|| Arc::new(Speeds::new())).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<(Codec, CodecSample)>, u64)> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn complete(&self) -> bool {
        self.lock().1 >= SAMPLE_BYTES
    }

    /// Time every codec on `data`; their outputs.
    fn sample(&self, data: &[u8]) -> Vec<(Codec, Vec<u8>)> {
        let mut made = Vec::new();
        for codec in CODECS {
            let started = Instant::now();
            let out = codec.compress(data);
            let time = started.elapsed();
            let mut m = self.lock();
            if let Some((_, s)) = m.0.iter_mut().find(|(c, _)| *c == codec) {
                s.bytes_in += data.len() as u64;
                s.bytes_out += out.len() as u64;
                s.time += time;
            }
            made.push((codec, out));
        }
        self.lock().1 += data.len() as u64;
        made
    }

    /// Set the measurements (tests).
    pub fn set(&self, samples: Vec<(Codec, CodecSample)>) {
        *self.lock() = (samples, SAMPLE_BYTES);
    }

    fn samples(&self) -> Vec<(Codec, CodecSample)> {
        self.lock().0.clone()
    }
}

impl Default for Speeds {
    fn default() -> Speeds {
        Speeds::new()
    }
}

#[derive(Debug, Default)]
struct Measures {
    bandwidth: Option<f64>,
    negotiated: Option<bool>,
    /// Payload bytes sent compressed, before and after.
    packed: (u64, u64),
}

/// One link's compression: its mode, the master's speeds, the link's bandwidth, and
/// what it sent.
#[derive(Debug)]
pub struct Policy {
    mode: Mode,
    speeds: Arc<Speeds>,
    measures: Mutex<Measures>,
}

impl Policy {
    /// A policy in `mode` with the process's speed measurements.
    pub fn new(mode: Mode) -> Policy {
        Policy::with_speeds(mode, Speeds::process())
    }

    /// A policy in `mode` with these speed measurements.
    pub fn with_speeds(mode: Mode, speeds: Arc<Speeds>) -> Policy {
        Policy {
            mode,
            speeds,
            measures: Mutex::new(Measures::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Measures> {
        self.measures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the connected peer reads compressed frames (from the handshake).
    pub fn set_negotiated(&self, yes: bool) {
        self.lock().negotiated = Some(yes);
    }

    /// `bytes` arrived from the peer in `time` (one reply, back to back): fold it into
    /// the link's bandwidth (a moving average, so a changing link is followed).
    pub fn observe_bandwidth(&self, bytes: u64, time: Duration) {
        let secs = time.as_secs_f64();
        if secs <= 0.0 || bytes == 0 {
            return;
        }
        let now = bytes as f64 / secs;
        let mut m = self.lock();
        m.bandwidth = Some(m.bandwidth.map_or(now, |old| 0.7 * old + 0.3 * now));
    }

    /// The codec for the next payload and why (with what it saved so far).
    pub fn choice(&self) -> Choice {
        let mut c = self.decide();
        let (raw, wire) = self.lock().packed;
        if raw > 0 {
            c.reason
                .push_str(&format!("; sent {raw} bytes compressed as {wire}"));
        }
        c
    }

    fn decide(&self) -> Choice {
        let m = self.lock();
        if m.negotiated == Some(false) {
            return Choice {
                codec: Codec::None,
                reason: "the volunteer's link has no compression".into(),
            };
        }
        match self.mode {
            Mode::Forced(codec) => Choice {
                codec,
                reason: "forced by --link-compression".into(),
            },
            Mode::Auto => choose(&self.speeds.samples(), m.bandwidth),
        }
    }

    /// `data` (one payload) as the link sends it: `None` to send it as is, else the codec
    /// and the compressed bytes. While the sample is not complete every codec is timed
    /// on it.
    pub fn encode(&self, data: &[u8]) -> Option<(Codec, Vec<u8>)> {
        if self.lock().negotiated != Some(true) {
            return None;
        }
        let made = if self.mode == Mode::Auto && !self.speeds.complete() {
            self.speeds.sample(data)
        } else {
            Vec::new()
        };
        let codec = self.decide().codec;
        if codec == Codec::None {
            return None;
        }
        let out = match made.into_iter().find(|(c, _)| *c == codec) {
            Some((_, out)) => out,
            None => codec.compress(data),
        };
        // What does not shrink goes as is (and always fits a frame).
        if out.len() + crate::frame::ZDATA_HEADER >= data.len() {
            return None;
        }
        let mut m = self.lock();
        m.packed.0 += data.len() as u64;
        m.packed.1 += out.len() as u64;
        Some((codec, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(mb_per_s: f64, ratio: f64) -> CodecSample {
        CodecSample {
            bytes_in: 100_000_000,
            bytes_out: (100_000_000.0 * ratio) as u64,
            time: Duration::from_secs_f64(100.0 / mb_per_s),
        }
    }

    /// Numbers of the order measured here on preprocessed C.
    fn measured() -> Vec<(Codec, CodecSample)> {
        vec![
            (Codec::Lzo, sample(300.0, 0.35)),
            (Codec::Zstd, sample(120.0, 0.2)),
        ]
    }

    #[test]
    fn a_fast_lan_sends_as_is() {
        // 10 Gbit/s: any compression costs more CPU time than it saves on the wire.
        let c = choose(&measured(), Some(1.25e9));
        assert_eq!(c.codec, Codec::None, "{}", c.reason);
        assert!(c.reason.contains("link 1250.0 MB/s"), "{}", c.reason);
    }

    #[test]
    fn a_slow_master_on_a_gigabit_lan_sends_as_is() {
        let slow = vec![
            (Codec::Lzo, sample(60.0, 0.35)),
            (Codec::Zstd, sample(25.0, 0.2)),
        ];
        assert_eq!(choose(&slow, Some(125e6)).codec, Codec::None);
    }

    #[test]
    fn a_middling_link_takes_lzo_and_a_slow_one_zstd() {
        // 1 Gbit/s: LZO's 3 ms per MB plus 2.8 ms on the wire beats 8 ms for none.
        assert_eq!(choose(&measured(), Some(125e6)).codec, Codec::Lzo);
        // 10 Mbit/s: the wire dominates, the smallest output wins.
        let c = choose(&measured(), Some(1.25e6));
        assert_eq!(c.codec, Codec::Zstd);
        assert!(c.reason.contains("zstd 120.0 MB/s ×5.00"), "{}", c.reason);
    }

    #[test]
    fn nothing_is_compressed_before_the_link_is_measured() {
        let c = choose(&measured(), None);
        assert_eq!(c.codec, Codec::None);
        assert_eq!(
            c.reason,
            "link speed not measured yet, lzo 300.0 MB/s ×2.86, zstd 120.0 MB/s ×5.00"
        );
    }

    #[test]
    fn the_choice_follows_the_bandwidth_as_it_changes() {
        let speeds = Arc::new(Speeds::new());
        speeds.set(measured());
        let p = Policy::with_speeds(Mode::Auto, speeds);
        p.set_negotiated(true);
        p.observe_bandwidth(1_250_000_000, Duration::from_secs(1));
        assert_eq!(p.choice().codec, Codec::None);
        for _ in 0..20 {
            p.observe_bandwidth(1_250_000, Duration::from_secs(1));
        }
        assert_eq!(p.choice().codec, Codec::Zstd);
    }

    #[test]
    fn a_peer_without_compression_never_gets_it() {
        let p = Policy::new(Mode::Forced(Codec::Zstd));
        p.set_negotiated(false);
        assert_eq!(p.encode(&[b'a'; 4096]), None);
        p.set_negotiated(true);
        assert_eq!(p.encode(&[b'a'; 4096]).map(|(c, _)| c), Some(Codec::Zstd));
    }

    #[test]
    fn every_codec_round_trips_and_a_bomb_is_refused() {
        let data: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
        for codec in CODECS {
            let z = codec.compress(&data);
            assert_eq!(inflate(codec, data.len() as u32, &z).unwrap(), data);
            // Claims fewer bytes than it decodes to: stopped at the claim.
            assert!(inflate(codec, 1000, &z).is_err(), "{codec:?}");
        }
        let bomb = zstd::bulk::compress(&vec![0u8; 16 << 20], 1).unwrap();
        assert!(matches!(
            inflate(Codec::Zstd, MAX_PAYLOAD, &bomb),
            Err(InflateError::Corrupt { .. })
        ));
        assert_eq!(
            inflate(Codec::Zstd, 16 << 20, &bomb),
            Err(InflateError::TooLong(16 << 20))
        );
    }
}
