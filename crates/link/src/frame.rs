//! The link's frame codec, sans-io: bytes in, frames out, and frames to bytes.
//!
//! Every frame is a 9-byte header — kind (1 byte), stream id (u32, big-endian), payload
//! length (u32, big-endian) — and the payload. The header is checked before the payload
//! is waited for: an unknown kind, a length over [`MAX_PAYLOAD`] or a length the kind does
//! not allow is an error at once, so a hostile peer never makes us allocate or wait for
//! more than one capped frame. Incomplete input is `Ok(None)` ("need more bytes").

use thiserror::Error;

/// Header bytes before each payload.
pub const HEADER_LEN: usize = 9;
/// The largest payload a frame may carry (a `DATA` frame; control frames are smaller).
pub const MAX_PAYLOAD: u32 = 64 * 1024;
/// Stream id 0 is the connection itself (`PING`, `PONG`); jobs use 1 and up.
pub const CONNECTION: u32 = 0;

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Bytes of one job's stream; never empty.
    Data {
        /// The job.
        stream: u32,
        /// The bytes.
        payload: Vec<u8>,
    },
    /// Bytes of one job's stream, compressed (only on a link that negotiated it): they
    /// count as `raw_len` bytes for the window.
    ZData {
        /// The job.
        stream: u32,
        /// The codec's wire byte ([`crate::compress::Codec::wire_id`]).
        codec: u8,
        /// The length once decoded, 1 to [`MAX_PAYLOAD`].
        raw_len: u32,
        /// The compressed bytes.
        payload: Vec<u8>,
    },
    /// The sender will send no more bytes on this stream (a half close).
    End {
        /// The job.
        stream: u32,
    },
    /// The sender abandons the stream both ways (cancellation): drop what is buffered.
    Reset {
        /// The job.
        stream: u32,
    },
    /// Keep-alive probe on the connection; the peer answers with the same nonce.
    Ping {
        /// Echoed in the `PONG`.
        nonce: u64,
    },
    /// Answer to a `PING`.
    Pong {
        /// The nonce of the `PING`.
        nonce: u64,
    },
    /// The sender has consumed `increment` more bytes of the stream: the peer may send
    /// that many more (per-job flow control).
    Window {
        /// The job.
        stream: u32,
        /// Bytes of credit granted, at least 1.
        increment: u32,
    },
}

/// A frame that breaks the format. The connection it came on cannot be trusted any
/// further and is closed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    /// A kind byte we do not know.
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    /// A payload length over the cap, refused before reading it.
    #[error("frame of {len} bytes is over the {max}-byte limit")]
    Oversized {
        /// The length in the header.
        len: u32,
        /// The cap.
        max: u32,
    },
    /// A length this kind of frame cannot have.
    #[error("{kind} frame with a payload of {len} bytes")]
    BadLength {
        /// The kind, by name.
        kind: &'static str,
        /// The length in the header.
        len: u32,
    },
    /// A job frame on stream 0, or a connection frame on a job's stream.
    #[error("{kind} frame on stream {stream}")]
    WrongStream {
        /// The kind, by name.
        kind: &'static str,
        /// The stream id in the header.
        stream: u32,
    },
}

const DATA: u8 = 0;
const END: u8 = 1;
const RESET: u8 = 2;
const PING: u8 = 3;
const PONG: u8 = 4;
const WINDOW: u8 = 5;
const ZDATA: u8 = 6;
/// Bytes of a `ZDATA` payload before the compressed bytes: codec (1), raw length (4).
pub const ZDATA_HEADER: usize = 5;

/// What each kind allows: its name, whether it belongs to the connection (stream 0),
/// and the payload lengths it may have.
fn rules(kind: u8) -> Result<(&'static str, bool, std::ops::RangeInclusive<u32>), FrameError> {
    Ok(match kind {
        DATA => ("DATA", false, 1..=MAX_PAYLOAD),
        END => ("END", false, 0..=0),
        RESET => ("RESET", false, 0..=0),
        PING => ("PING", true, 8..=8),
        PONG => ("PONG", true, 8..=8),
        WINDOW => ("WINDOW", false, 4..=4),
        ZDATA => ("ZDATA", false, ZDATA_HEADER as u32 + 1..=MAX_PAYLOAD),
        other => return Err(FrameError::UnknownKind(other)),
    })
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Decode one frame from the front of `buf`: `Ok(None)` when more bytes are needed,
/// else the frame and how many bytes it used. The header is vetted as soon as it is
/// complete, before the payload has arrived.
pub fn decode(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
    let Some(header) = buf.get(..HEADER_LEN) else {
        // Even a partial header can be refused by its kind.
        if let Some(&kind) = buf.first() {
            rules(kind)?;
        }
        return Ok(None);
    };
    let (kind, stream, len) = (header[0], be_u32(&header[1..5]), be_u32(&header[5..9]));
    let (name, on_connection, lengths) = rules(kind)?;
    if len > MAX_PAYLOAD {
        return Err(FrameError::Oversized {
            len,
            max: MAX_PAYLOAD,
        });
    }
    if !lengths.contains(&len) {
        return Err(FrameError::BadLength { kind: name, len });
    }
    if on_connection != (stream == CONNECTION) {
        return Err(FrameError::WrongStream { kind: name, stream });
    }
    let total = HEADER_LEN + len as usize;
    let Some(payload) = buf.get(HEADER_LEN..total) else {
        return Ok(None);
    };
    let frame = match kind {
        DATA => Frame::Data {
            stream,
            payload: payload.to_vec(),
        },
        END => Frame::End { stream },
        RESET => Frame::Reset { stream },
        ZDATA => {
            let raw_len = be_u32(&payload[1..5]);
            if raw_len == 0 || raw_len > MAX_PAYLOAD {
                return Err(FrameError::Oversized {
                    len: raw_len,
                    max: MAX_PAYLOAD,
                });
            }
            Frame::ZData {
                stream,
                codec: payload[0],
                raw_len,
                payload: payload[ZDATA_HEADER..].to_vec(),
            }
        }
        PING => Frame::Ping {
            nonce: be_u64(payload),
        },
        PONG => Frame::Pong {
            nonce: be_u64(payload),
        },
        _ => {
            let increment = be_u32(payload);
            if increment == 0 {
                return Err(FrameError::BadLength {
                    kind: "WINDOW (zero increment)",
                    len,
                });
            }
            Frame::Window { stream, increment }
        }
    };
    Ok(Some((frame, total)))
}

impl Frame {
    /// Append the frame's bytes to `out`. A `Data` payload must be 1 to [`MAX_PAYLOAD`]
    /// bytes (the writer splits larger writes); the encoder does not check it again.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let (kind, stream, payload): (u8, u32, &[u8]) = match self {
            Frame::Data { stream, payload } => (DATA, *stream, payload),
            Frame::ZData {
                stream,
                codec,
                raw_len,
                payload,
            } => {
                let mut body = Vec::with_capacity(ZDATA_HEADER + payload.len());
                body.push(*codec);
                body.extend_from_slice(&raw_len.to_be_bytes());
                body.extend_from_slice(payload);
                return header_and(out, ZDATA, *stream, &body);
            }
            Frame::End { stream } => (END, *stream, &[]),
            Frame::Reset { stream } => (RESET, *stream, &[]),
            Frame::Ping { nonce } => {
                return header_and(out, PING, CONNECTION, &nonce.to_be_bytes());
            }
            Frame::Pong { nonce } => {
                return header_and(out, PONG, CONNECTION, &nonce.to_be_bytes());
            }
            Frame::Window { stream, increment } => {
                return header_and(out, WINDOW, *stream, &increment.to_be_bytes());
            }
        };
        header_and(out, kind, stream, payload);
    }

    /// The frame as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

fn header_and(out: &mut Vec<u8>, kind: u8, stream: u32, payload: &[u8]) {
    out.push(kind);
    out.extend_from_slice(&stream.to_be_bytes());
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A byte buffer in front of [`decode`]: feed what the socket gave, take frames out.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Add received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, `Ok(None)` until one is complete. After an error the
    /// decoder must not be used again (the stream is out of step).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        match decode(&self.buf[self.start..])? {
            Some((frame, used)) => {
                self.start += used;
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }

    /// Bytes received and not yet decoded (at most one frame's worth is ever waited for).
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Frame> {
        vec![
            Frame::Data {
                stream: 1,
                payload: b"DIST00000002ARGC00000002".to_vec(),
            },
            Frame::Window {
                stream: 1,
                increment: 65_536,
            },
            Frame::Ping { nonce: u64::MAX },
            Frame::Data {
                stream: u32::MAX,
                payload: vec![0xA5; MAX_PAYLOAD as usize],
            },
            Frame::End { stream: 7 },
            Frame::Pong { nonce: 3 },
            Frame::Reset { stream: 2 },
        ]
    }

    fn all_bytes(frames: &[Frame]) -> Vec<u8> {
        let mut v = Vec::new();
        for f in frames {
            f.encode(&mut v);
        }
        v
    }

    #[test]
    fn a_data_frame_is_kind_stream_length_payload() {
        let bytes = Frame::Data {
            stream: 0x0102_0304,
            payload: b"ab".to_vec(),
        }
        .to_bytes();
        assert_eq!(bytes, b"\x00\x01\x02\x03\x04\x00\x00\x00\x02ab");
        assert_eq!(
            Frame::Window {
                stream: 1,
                increment: 2
            }
            .to_bytes(),
            b"\x05\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x02"
        );
    }

    #[test]
    fn every_frame_round_trips_whole() {
        let frames = samples();
        let bytes = all_bytes(&frames);
        let mut dec = FrameDecoder::new();
        dec.feed(&bytes);
        let mut got = Vec::new();
        while let Some(f) = dec.next_frame().expect("valid frames") {
            got.push(f);
        }
        assert_eq!(got, frames);
        assert_eq!(dec.pending(), 0);
    }

    /// Split the byte stream at every position (the tokio-util length_delimited way):
    /// the same frames come out, none early, none twice.
    #[test]
    fn input_split_at_every_byte_gives_the_same_frames() {
        let frames: Vec<Frame> = samples()
            .into_iter()
            .filter(|f| !matches!(f, Frame::Data { payload, .. } if payload.len() > 100))
            .collect();
        let bytes = all_bytes(&frames);
        for cut in 0..=bytes.len() {
            let mut dec = FrameDecoder::new();
            let mut got = Vec::new();
            for part in [&bytes[..cut], &bytes[cut..]] {
                dec.feed(part);
                while let Some(f) = dec.next_frame().expect("valid frames") {
                    got.push(f);
                }
            }
            assert_eq!(got, frames, "split at {cut}");
        }
        // And one byte at a time.
        let mut dec = FrameDecoder::new();
        let mut got = Vec::new();
        for b in &bytes {
            dec.feed(std::slice::from_ref(b));
            while let Some(f) = dec.next_frame().expect("valid frames") {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn a_truncated_frame_is_need_more_bytes_never_a_frame() {
        let bytes = Frame::Data {
            stream: 3,
            payload: vec![1; 300],
        }
        .to_bytes();
        for end in 0..bytes.len() {
            assert_eq!(decode(&bytes[..end]), Ok(None), "cut at {end}");
        }
    }

    #[test]
    fn an_oversized_length_is_refused_from_the_header_alone() {
        let mut header = vec![DATA, 0, 0, 0, 1];
        header.extend_from_slice(&(MAX_PAYLOAD + 1).to_be_bytes());
        assert_eq!(
            decode(&header),
            Err(FrameError::Oversized {
                len: MAX_PAYLOAD + 1,
                max: MAX_PAYLOAD
            })
        );
        let mut huge = vec![DATA, 0, 0, 0, 1];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&huge), Err(FrameError::Oversized { .. })));
    }

    #[test]
    fn hostile_headers_are_refused() {
        let cases: &[(&[u8], FrameError)] = &[
            (b"\x09", FrameError::UnknownKind(9)),
            (b"\xff\x00\x00", FrameError::UnknownKind(0xff)),
            (
                b"\x00\x00\x00\x00\x01\x00\x00\x00\x00",
                FrameError::BadLength {
                    kind: "DATA",
                    len: 0,
                },
            ),
            (
                b"\x01\x00\x00\x00\x01\x00\x00\x00\x01",
                FrameError::BadLength {
                    kind: "END",
                    len: 1,
                },
            ),
            (
                b"\x00\x00\x00\x00\x00\x00\x00\x00\x01",
                FrameError::WrongStream {
                    kind: "DATA",
                    stream: 0,
                },
            ),
            (
                b"\x03\x00\x00\x00\x05\x00\x00\x00\x08",
                FrameError::WrongStream {
                    kind: "PING",
                    stream: 5,
                },
            ),
            (
                b"\x05\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x00",
                FrameError::BadLength {
                    kind: "WINDOW (zero increment)",
                    len: 4,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(decode(bytes).as_ref(), Err(want), "{bytes:?}");
        }
    }

    /// Any byte soup: the decoder answers (frame, need more, or error) without panicking,
    /// and never holds more than one capped frame's worth waiting.
    #[test]
    fn random_input_never_panics_or_overreads() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2_000 {
            let mut soup = Vec::new();
            for _ in 0..(seed % 64) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                soup.push((seed % 7) as u8 * u8::from(seed % 3 != 0) + (seed >> 56) as u8 % 2);
            }
            let mut dec = FrameDecoder::new();
            dec.feed(&soup);
            loop {
                match dec.next_frame() {
                    Ok(Some(_)) => continue,
                    Ok(None) => {
                        assert!(dec.pending() < HEADER_LEN + MAX_PAYLOAD as usize);
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
    }
}
