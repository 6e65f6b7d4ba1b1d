//! The byte buffer both decoders read tokens from. It holds only bytes that really
//! arrived (bounded by the message limit), so no peer-announced length is ever allocated.

use super::WireError;
use super::token::{self, HEADER_LEN, Name};

pub(super) struct Input {
    buf: Vec<u8>,
    /// Read position in `buf`.
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    /// Bytes accepted by `feed` in total.
    received: u64,
    /// Most bytes the message may have.
    max_total: u64,
    /// More bytes than `max_total` were fed.
    overflow: bool,
}

impl Input {
    pub(super) fn new(max_total: u64) -> Self {
        Input {
            buf: Vec::new(),
            pos: 0,
            base: 0,
            received: 0,
            max_total,
            overflow: false,
        }
    }

    pub(super) fn feed(&mut self, bytes: &[u8]) {
        let room = self.max_total.saturating_sub(self.received);
        let take = usize::try_from(room).map_or(bytes.len(), |r| r.min(bytes.len()));
        if take < bytes.len() {
            self.overflow = true;
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            // Drop consumed bytes so a long stream does not keep them all.
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        self.buf.extend_from_slice(&bytes[..take]);
        self.received += take as u64;
    }

    pub(super) fn received(&self) -> u64 {
        self.received
    }

    /// Stream offset of the next unread byte.
    pub(super) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn available(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// "Need more bytes" – unless the peer already sent more than the message may have,
    /// in which case waiting is pointless.
    pub(super) fn need_more<T>(&self) -> Result<Option<T>, WireError> {
        if self.overflow {
            return Err(WireError::TooLarge {
                what: "message",
                len: self.received.saturating_add(1),
                limit: self.max_total,
            });
        }
        Ok(None)
    }

    /// The name of the next header, if 4 bytes are there.
    pub(super) fn peek_name(&self) -> Option<Name> {
        self.available().first_chunk::<4>().copied()
    }

    /// Parse the next header without consuming it.
    fn peek_header(&self) -> Result<Option<(Name, u32)>, WireError> {
        match self.available().first_chunk::<HEADER_LEN>() {
            Some(h) => token::parse(h, self.offset()).map(Some),
            None => Ok(None),
        }
    }

    fn expect(&self, want: Name) -> Result<Option<u32>, WireError> {
        if let Some(name) = self.peek_name() {
            if name != want {
                return Err(WireError::BadToken {
                    expected: name_str(want),
                    found: token::show(&name),
                    offset: self.offset(),
                });
            }
        }
        Ok(self.peek_header()?.map(|(_, v)| v))
    }

    /// Consume a header `want` that has no body and return its parameter.
    pub(super) fn value(&mut self, want: Name) -> Result<Option<u32>, WireError> {
        let Some(v) = self.expect(want)? else {
            return self.need_more();
        };
        self.pos += HEADER_LEN;
        Ok(Some(v))
    }

    /// Consume a header `want` and its body of at most `limit` bytes. The limit and the
    /// message total are checked as soon as the header is complete, before the body
    /// arrives. `what` names the limit in the error.
    pub(super) fn body(
        &mut self,
        want: Name,
        limit: u32,
        what: &'static str,
    ) -> Result<Option<Vec<u8>>, WireError> {
        let Some(len) = self.expect(want)? else {
            return self.need_more();
        };
        if len > limit {
            return Err(WireError::TooLarge {
                what,
                len: len.into(),
                limit: limit.into(),
            });
        }
        let end_offset = self.offset() + HEADER_LEN as u64 + u64::from(len);
        if end_offset > self.max_total {
            return Err(WireError::TooLarge {
                what: "message",
                len: end_offset,
                limit: self.max_total,
            });
        }
        let len = len as usize; // <= limit, a u32, and the bytes are in memory below
        let start = self.pos + HEADER_LEN;
        match self.buf.get(start..start + len) {
            Some(b) => {
                let body = b.to_vec();
                self.pos = start + len;
                Ok(Some(body))
            }
            None => self.need_more(),
        }
    }

    /// Take the bytes fed after the last consumed byte.
    pub(super) fn take_unread(&mut self) -> Vec<u8> {
        let rest = self.available().to_vec();
        self.buf.clear();
        self.base += self.pos as u64 + rest.len() as u64;
        self.pos = 0;
        rest
    }

    /// Bytes fed after the last consumed byte.
    pub(super) fn unread(&self) -> usize {
        self.available().len()
    }
}

/// The token name as a static string for error messages.
pub(super) fn name_str(name: Name) -> &'static str {
    use super::token::*;
    match name {
        DIST => "DIST",
        CDIR => "CDIR",
        ARGC => "ARGC",
        ARGV => "ARGV",
        DOTI => "DOTI",
        NFIL => "NFIL",
        NAME => "NAME",
        FILE => "FILE",
        LINK => "LINK",
        DONE => "DONE",
        STAT => "STAT",
        SERR => "SERR",
        SOUT => "SOUT",
        DOTO => "DOTO",
        DOTD => "DOTD",
        _ => "?",
    }
}
