//! Requests: what a distcc client sends (spec §1.5).

use super::input::Input;
use super::token::{self, ARGC, ARGV, CDIR, DIST, DOTI, FILE, LINK, NAME, NFIL};
use super::{Limits, WireError, lzo};

/// Progress while decoding a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestEvent {
    /// `DIST`, (v3: `CDIR`), `ARGC` and every `ARGV` have arrived. The client sends these
    /// before running its preprocessor, so this comes well before the source: the server
    /// can vet the compiler and options first.
    Header {
        /// Protocol version, 1, 2 or 3.
        version: u32,
        /// v3 only: the client's working directory (`CDIR`).
        cwd: Option<Vec<u8>>,
        /// The command, compiler first. Arbitrary bytes, no NULs added.
        argv: Vec<Vec<u8>>,
    },
    /// v1/v2: the `DOTI` body, already LZO-decompressed for v2. Ends the request.
    Source(Vec<u8>),
    /// v3: all `NFIL` entries, `FILE` bodies decompressed. Ends the request.
    Files(Vec<PumpEntry>),
}

/// One v3 (pump) file: its absolute client path and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PumpEntry {
    /// Absolute path on the client (`NAME`), unvalidated: a server must confine it.
    pub name: Vec<u8>,
    /// Contents or link target.
    pub content: PumpContent,
}

/// What a v3 entry carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PumpContent {
    /// `FILE`: the decompressed contents.
    File(Vec<u8>),
    /// `LINK`: the symlink target text.
    Link(Vec<u8>),
}

#[derive(Debug)]
enum State {
    Dist,
    Cdir,
    Argc,
    Argv,
    Doti,
    Nfil,
    Name,
    FileOrLink(Vec<u8>),
    Done,
    Failed(WireError),
}

/// Incremental request decoder for protocols 1, 2 and 3.
///
/// Feed bytes as they arrive, in any split, then call [`next_event`](Self::next_event)
/// until it returns `Ok(None)` (need more bytes). After `Source`/`Files` the request is
/// complete ([`is_done`](Self::is_done)). An error is final: later calls repeat it.
pub struct RequestDecoder {
    limits: Limits,
    input: Input,
    state: State,
    version: u32,
    argc: u32,
    cwd: Option<Vec<u8>>,
    argv: Vec<Vec<u8>>,
    nfil: u32,
    files: Vec<PumpEntry>,
    plain_total: usize,
}

impl RequestDecoder {
    /// A decoder enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        RequestDecoder {
            input: Input::new(limits.max_request),
            limits,
            state: State::Dist,
            version: 0,
            argc: 0,
            cwd: None,
            argv: Vec::new(),
            nfil: 0,
            files: Vec::new(),
            plain_total: 0,
        }
    }

    /// Append bytes received from the peer. Bytes beyond the request size limit are
    /// dropped and reported by the next [`next_event`](Self::next_event) that needs them.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.feed(bytes);
    }

    /// True once the whole request has been decoded.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Bytes received in total.
    pub fn received(&self) -> u64 {
        self.input.received()
    }

    /// Bytes received after the end of the request (a well-behaved client sends none).
    pub fn trailing(&self) -> usize {
        if self.is_done() {
            self.input.unread()
        } else {
            0
        }
    }

    /// The bytes fed but not decoded yet, taken out of the decoder: after the `Header`
    /// event, the start of the body for a caller that reads the source itself (a
    /// server streaming it to disk). The decoder is done with this request then.
    pub fn take_unread(&mut self) -> Vec<u8> {
        self.state = State::Done;
        self.input.take_unread()
    }

    /// The peer closed its side: an error if the request is incomplete.
    pub fn finish(&self) -> Result<(), WireError> {
        match &self.state {
            State::Done => Ok(()),
            State::Failed(e) => Err(e.clone()),
            other => Err(WireError::Truncated {
                waiting_for: waiting_for(other),
                received: self.input.received(),
            }),
        }
    }

    /// Decode as far as the bytes allow. `Ok(None)`: need more bytes (or done).
    pub fn next_event(&mut self) -> Result<Option<RequestEvent>, WireError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        let r = self.step();
        if let Err(e) = &r {
            self.state = State::Failed(e.clone());
        }
        r
    }

    fn step(&mut self) -> Result<Option<RequestEvent>, WireError> {
        loop {
            match &mut self.state {
                State::Dist => {
                    let Some(v) = self.input.value(DIST)? else {
                        return Ok(None);
                    };
                    if !(1..=3).contains(&v) {
                        return Err(WireError::Unsupported { version: v });
                    }
                    self.version = v;
                    self.state = if v == 3 { State::Cdir } else { State::Argc };
                }
                State::Cdir => {
                    let max = self.limits.max_name_len;
                    let Some(cwd) = self.input.body(CDIR, max, "CDIR length")? else {
                        return Ok(None);
                    };
                    self.cwd = Some(cwd);
                    self.state = State::Argc;
                }
                State::Argc => {
                    let Some(n) = self.input.value(ARGC)? else {
                        return Ok(None);
                    };
                    if n == 0 {
                        return Err(WireError::EmptyArgv);
                    }
                    check(n, self.limits.max_argc, "ARGC")?;
                    self.argc = n;
                    self.state = State::Argv;
                }
                State::Argv => {
                    let max = self.limits.max_arg_len;
                    let Some(arg) = self.input.body(ARGV, max, "ARGV length")? else {
                        return Ok(None);
                    };
                    self.argv.push(arg);
                    if self.argv.len() as u64 == u64::from(self.argc) {
                        self.state = if self.version == 3 {
                            State::Nfil
                        } else {
                            State::Doti
                        };
                        return Ok(Some(RequestEvent::Header {
                            version: self.version,
                            cwd: self.cwd.take(),
                            argv: std::mem::take(&mut self.argv),
                        }));
                    }
                }
                State::Doti => {
                    let max = self.limits.max_doti_wire;
                    let Some(body) = self.input.body(DOTI, max, "DOTI length")? else {
                        return Ok(None);
                    };
                    let source = if self.version == 2 {
                        self.inflate(&body, "DOTI")?
                    } else {
                        check_plain(body.len(), self.limits.max_doti_plain)?;
                        body
                    };
                    self.state = State::Done;
                    return Ok(Some(RequestEvent::Source(source)));
                }
                State::Nfil => {
                    let Some(n) = self.input.value(NFIL)? else {
                        return Ok(None);
                    };
                    check(n, self.limits.max_files, "NFIL")?;
                    self.nfil = n;
                    self.state = State::Name;
                }
                State::Name => {
                    if self.files.len() as u64 == u64::from(self.nfil) {
                        self.state = State::Done;
                        return Ok(Some(RequestEvent::Files(std::mem::take(&mut self.files))));
                    }
                    let max = self.limits.max_name_len;
                    let Some(name) = self.input.body(NAME, max, "NAME length")? else {
                        return Ok(None);
                    };
                    self.state = State::FileOrLink(name);
                }
                State::FileOrLink(_) => {
                    let content = match self.input.peek_name() {
                        None => return self.input.need_more(),
                        Some(FILE) => {
                            let max = self.limits.max_doti_wire;
                            let Some(body) = self.input.body(FILE, max, "FILE length")? else {
                                return Ok(None);
                            };
                            PumpContent::File(self.inflate(&body, "FILE")?)
                        }
                        Some(LINK) => {
                            let max = self.limits.max_name_len;
                            let Some(target) = self.input.body(LINK, max, "LINK length")? else {
                                return Ok(None);
                            };
                            PumpContent::Link(target)
                        }
                        Some(other) => {
                            return Err(WireError::BadToken {
                                expected: "FILE|LINK",
                                found: token::show(&other),
                                offset: self.input.offset(),
                            });
                        }
                    };
                    if let State::FileOrLink(name) = std::mem::replace(&mut self.state, State::Name)
                    {
                        self.files.push(PumpEntry { name, content });
                    }
                }
                State::Done | State::Failed(_) => return Ok(None),
            }
        }
    }

    /// Decompress a body; length 0 means empty. The cap is what is left of the
    /// decompressed budget (v3 files share one budget).
    fn inflate(&mut self, body: &[u8], what: &'static str) -> Result<Vec<u8>, WireError> {
        let room = self.limits.max_doti_plain.saturating_sub(self.plain_total);
        let plain = if body.is_empty() {
            Vec::new()
        } else {
            lzo::decompress(body, room).map_err(|source| match source {
                lzo::LzoError::OutputOverrun { .. } => WireError::TooLarge {
                    what: "decompressed source",
                    len: (self.limits.max_doti_plain as u64).saturating_add(1),
                    limit: self.limits.max_doti_plain as u64,
                },
                source => WireError::Lzo { what, source },
            })?
        };
        self.plain_total += plain.len();
        Ok(plain)
    }
}

fn check(n: u32, limit: u32, what: &'static str) -> Result<(), WireError> {
    if n > limit {
        return Err(WireError::TooLarge {
            what,
            len: n.into(),
            limit: limit.into(),
        });
    }
    Ok(())
}

fn check_plain(n: usize, limit: usize) -> Result<(), WireError> {
    if n > limit {
        return Err(WireError::TooLarge {
            what: "decompressed source",
            len: n as u64,
            limit: limit as u64,
        });
    }
    Ok(())
}

fn waiting_for(state: &State) -> &'static str {
    match state {
        State::Dist => "DIST",
        State::Cdir => "CDIR",
        State::Argc => "ARGC",
        State::Argv => "ARGV",
        State::Doti => "DOTI",
        State::Nfil => "NFIL",
        State::Name => "NAME",
        State::FileOrLink(_) => "FILE|LINK",
        State::Done | State::Failed(_) => "nothing",
    }
}

/// Token parameter for a length we are about to send.
pub(super) fn wire_len(len: usize, what: &'static str) -> Result<u32, WireError> {
    u32::try_from(len).map_err(|_| WireError::Unencodable {
        what,
        len: len as u64,
    })
}

/// Append a token with a body.
pub(super) fn put_body(
    out: &mut Vec<u8>,
    name: token::Name,
    body: &[u8],
    what: &'static str,
) -> Result<(), WireError> {
    token::put(out, name, wire_len(body.len(), what)?);
    out.extend_from_slice(body);
    Ok(())
}

/// Append a bulk body, LZO-compressed when `compressed` and not empty (distcc never
/// compresses an empty body).
pub(super) fn put_bulk(
    out: &mut Vec<u8>,
    name: token::Name,
    body: &[u8],
    compressed: bool,
    what: &'static str,
) -> Result<(), WireError> {
    if compressed && !body.is_empty() {
        put_body(out, name, &lzo::compress(body), what)
    } else {
        put_body(out, name, body, what)
    }
}

fn put_argv(out: &mut Vec<u8>, argv: &[&[u8]]) -> Result<(), WireError> {
    token::put(out, ARGC, wire_len(argv.len(), "ARGC")?);
    for a in argv {
        put_body(out, ARGV, a, "ARGV")?;
    }
    Ok(())
}

/// Build a protocol 1 or 2 request (client side). The source is LZO-compressed for v2.
pub fn encode_request(version: u32, argv: &[&[u8]], source: &[u8]) -> Result<Vec<u8>, WireError> {
    if !(1..=2).contains(&version) {
        return Err(WireError::Unsupported { version });
    }
    let mut out = Vec::new();
    token::put(&mut out, DIST, version);
    put_argv(&mut out, argv)?;
    put_bulk(&mut out, DOTI, source, version == 2, "DOTI")?;
    Ok(out)
}

/// Build a protocol 3 (pump) request (client side, for tests). `FILE` bodies are always
/// compressed, even empty ones (as the include server does: `11 00 00`).
pub fn encode_request_v3(
    cwd: &[u8],
    argv: &[&[u8]],
    files: &[PumpEntry],
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    token::put(&mut out, DIST, 3);
    put_body(&mut out, CDIR, cwd, "CDIR")?;
    put_argv(&mut out, argv)?;
    token::put(&mut out, NFIL, wire_len(files.len(), "NFIL")?);
    for f in files {
        put_body(&mut out, NAME, &f.name, "NAME")?;
        match &f.content {
            PumpContent::File(data) => put_body(&mut out, FILE, &lzo::compress(data), "FILE")?,
            PumpContent::Link(target) => put_body(&mut out, LINK, target, "LINK")?,
        }
    }
    Ok(out)
}
