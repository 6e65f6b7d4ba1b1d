//! Replies: what a distcc server sends back (spec §1.5, §1.6).

use super::input::Input;
use super::request::{put_bulk, wire_len};
use super::token::{self, DONE, DOTD, DOTO, SERR, SOUT, STAT};
use super::{Limits, WireError, lzo};

/// A reply to encode. Bodies are plain; they are compressed here for protocol 2 and 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The request's protocol version (echoed in `DONE`).
    pub version: u32,
    /// Wait status of the compile (see [`super::wait_status_exit`]).
    pub status: u32,
    /// Compiler stderr plus the server's own messages.
    pub stderr: &'a [u8],
    /// Compiler stdout.
    pub stdout: &'a [u8],
    /// The output file; ignored (sent as length 0) when `status != 0`.
    pub object: &'a [u8],
    /// v3 only: the `.d` file, sent only on success (empty if `None`).
    pub deps: Option<&'a [u8]>,
}

/// Encode a reply exactly as distccd does: `DONE`, `STAT`, `SERR`, `SOUT`, `DOTO`
/// (body only when status is 0) and, for a successful v3 job, `DOTD`. Non-empty bodies
/// are LZO-compressed for version 2 and 3. Fails only for a version other than 1..=3 or
/// a body over 4 GiB.
pub fn encode_reply(reply: &Reply) -> Result<Vec<u8>, WireError> {
    let v = reply.version;
    if !(1..=3).contains(&v) {
        return Err(WireError::Unsupported { version: v });
    }
    let lzo = v >= 2;
    let ok = reply.status == 0;
    let mut out = Vec::with_capacity(60 + reply.stderr.len() + reply.object.len());
    token::put(&mut out, DONE, v);
    token::put(&mut out, STAT, reply.status);
    put_bulk(&mut out, SERR, reply.stderr, lzo, "SERR")?;
    put_bulk(&mut out, SOUT, reply.stdout, lzo, "SOUT")?;
    if ok {
        put_bulk(&mut out, DOTO, reply.object, lzo, "DOTO")?;
        if v == 3 {
            put_bulk(&mut out, DOTD, reply.deps.unwrap_or_default(), lzo, "DOTD")?;
        }
    } else {
        // The client never reads a DOTO body after a failure.
        token::put(&mut out, DOTO, wire_len(0, "DOTO")?);
    }
    Ok(out)
}

/// A reply as decoded by [`ReplyDecoder`], bodies decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedReply {
    /// Protocol version from `DONE`.
    pub version: u32,
    /// Wait status from `STAT`.
    pub status: u32,
    /// `SERR` body.
    pub stderr: Vec<u8>,
    /// `SOUT` body.
    pub stdout: Vec<u8>,
    /// `DOTO` body (empty when status != 0).
    pub object: Vec<u8>,
    /// `DOTO` parameter when status != 0 and the server (wrongly) announced output; the
    /// client ignores such a body, and so do we.
    pub ignored_object_len: u32,
    /// `DOTD` body (v3 success only).
    pub deps: Option<Vec<u8>>,
}

impl DecodedReply {
    /// Borrow as a [`Reply`], e.g. to re-encode it.
    pub fn as_reply(&self) -> Reply<'_> {
        Reply {
            version: self.version,
            status: self.status,
            stderr: &self.stderr,
            stdout: &self.stdout,
            object: &self.object,
            deps: self.deps.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Done,
    Stat,
    Serr,
    Sout,
    Doto,
    Dotd,
    Finished,
}

/// Incremental reply decoder (client side), with the same limits as requests: bulk
/// bodies by `max_doti_wire` / `max_doti_plain`, the whole reply by `max_request`.
pub struct ReplyDecoder {
    limits: Limits,
    input: Input,
    step: Step,
    failed: Option<WireError>,
    reply: DecodedReply,
}

impl ReplyDecoder {
    /// A decoder for the reply to a request of protocol `version`.
    pub fn new(version: u32, limits: Limits) -> Self {
        ReplyDecoder {
            input: Input::new(limits.max_request),
            limits,
            step: Step::Done,
            failed: None,
            reply: empty_reply(version),
        }
    }

    /// Append bytes received from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.feed(bytes);
    }

    /// The server closed the connection: an error unless the reply is complete.
    pub fn finish(&self) -> Result<(), WireError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.step == Step::Finished {
            return Ok(());
        }
        Err(WireError::Truncated {
            waiting_for: match self.step {
                Step::Done => "DONE",
                Step::Stat => "STAT",
                Step::Serr => "SERR",
                Step::Sout => "SOUT",
                Step::Doto => "DOTO",
                Step::Dotd | Step::Finished => "DOTD",
            },
            received: self.input.received(),
        })
    }

    /// `Ok(Some(reply))` once complete (returned once), `Ok(None)` while more bytes are
    /// needed. An error is final.
    pub fn next_reply(&mut self) -> Result<Option<DecodedReply>, WireError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.step();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn bulk(
        &mut self,
        name: token::Name,
        what: &'static str,
    ) -> Result<Option<Vec<u8>>, WireError> {
        let Some(body) = self.input.body(name, self.limits.max_doti_wire, what)? else {
            return Ok(None);
        };
        if self.reply.version < 2 || body.is_empty() {
            return Ok(Some(body));
        }
        lzo::decompress(&body, self.limits.max_doti_plain)
            .map(Some)
            .map_err(|source| WireError::Lzo { what, source })
    }

    fn step(&mut self) -> Result<Option<DecodedReply>, WireError> {
        loop {
            match self.step {
                Step::Done => {
                    let Some(v) = self.input.value(DONE)? else {
                        return Ok(None);
                    };
                    if v != self.reply.version {
                        return Err(WireError::VersionMismatch {
                            expected: self.reply.version,
                            got: v,
                        });
                    }
                    self.step = Step::Stat;
                }
                Step::Stat => {
                    let Some(s) = self.input.value(STAT)? else {
                        return Ok(None);
                    };
                    self.reply.status = s;
                    self.step = Step::Serr;
                }
                Step::Serr => {
                    let Some(b) = self.bulk(SERR, "SERR")? else {
                        return Ok(None);
                    };
                    self.reply.stderr = b;
                    self.step = Step::Sout;
                }
                Step::Sout => {
                    let Some(b) = self.bulk(SOUT, "SOUT")? else {
                        return Ok(None);
                    };
                    self.reply.stdout = b;
                    self.step = Step::Doto;
                }
                Step::Doto if self.reply.status != 0 => {
                    let Some(len) = self.input.value(DOTO)? else {
                        return Ok(None);
                    };
                    self.reply.ignored_object_len = len;
                    return self.complete();
                }
                Step::Doto => {
                    let Some(b) = self.bulk(DOTO, "DOTO")? else {
                        return Ok(None);
                    };
                    self.reply.object = b;
                    if self.reply.version != 3 {
                        return self.complete();
                    }
                    self.step = Step::Dotd;
                }
                Step::Dotd => {
                    let Some(b) = self.bulk(DOTD, "DOTD")? else {
                        return Ok(None);
                    };
                    self.reply.deps = Some(b);
                    return self.complete();
                }
                Step::Finished => return Ok(None),
            }
        }
    }

    fn complete(&mut self) -> Result<Option<DecodedReply>, WireError> {
        self.step = Step::Finished;
        let empty = empty_reply(self.reply.version);
        Ok(Some(std::mem::replace(&mut self.reply, empty)))
    }
}

fn empty_reply(version: u32) -> DecodedReply {
    DecodedReply {
        version,
        status: 0,
        stderr: Vec::new(),
        stdout: Vec::new(),
        object: Vec::new(),
        ignored_object_len: 0,
        deps: None,
    }
}
