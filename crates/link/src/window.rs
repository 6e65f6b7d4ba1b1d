//! Per-job flow control, sans-io: each side may have at most a window of unread bytes
//! in flight on a stream. The receiver grants more (`WINDOW` frames) as its reader
//! consumes; a sender that exceeds what was granted breaks the protocol. A slow job so
//! holds back only its own stream, never the connection it shares.

use thiserror::Error;

/// Bytes a peer may send on a new stream before the first `WINDOW` frame.
pub const INITIAL_WINDOW: u32 = 256 * 1024;
/// The most credit a sender may hold (grants past it are a protocol error).
pub const MAX_WINDOW: u32 = 16 * 1024 * 1024;

/// A flow-control rule broken by the peer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlowError {
    /// More bytes than were granted.
    #[error("peer sent {got} bytes on a stream with {allowed} bytes of window left")]
    Overrun {
        /// Bytes in the frame.
        got: u32,
        /// Window left before it.
        allowed: u32,
    },
    /// A grant that would take the window past [`MAX_WINDOW`].
    #[error("peer granted a window past {MAX_WINDOW} bytes")]
    TooLarge,
}

/// What we may still send on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendWindow {
    credit: u32,
}

impl Default for SendWindow {
    fn default() -> SendWindow {
        SendWindow {
            credit: INITIAL_WINDOW,
        }
    }
}

impl SendWindow {
    /// Bytes that may be sent now.
    pub fn available(&self) -> u32 {
        self.credit
    }

    /// Record `n` bytes sent (at most [`SendWindow::available`]).
    pub fn take(&mut self, n: u32) {
        self.credit = self.credit.saturating_sub(n);
    }

    /// The peer granted `increment` more bytes.
    pub fn grant(&mut self, increment: u32) -> Result<(), FlowError> {
        match self.credit.checked_add(increment) {
            Some(c) if c <= MAX_WINDOW => {
                self.credit = c;
                Ok(())
            }
            _ => Err(FlowError::TooLarge),
        }
    }
}

/// What the peer may still send on one stream, and what our reader consumed since the
/// last grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecvWindow {
    allowed: u32,
    unreported: u32,
}

impl Default for RecvWindow {
    fn default() -> RecvWindow {
        RecvWindow {
            allowed: INITIAL_WINDOW,
            unreported: 0,
        }
    }
}

impl RecvWindow {
    /// The peer sent `n` bytes: an error when it had no such credit.
    pub fn receive(&mut self, n: u32) -> Result<(), FlowError> {
        if n > self.allowed {
            return Err(FlowError::Overrun {
                got: n,
                allowed: self.allowed,
            });
        }
        self.allowed -= n;
        Ok(())
    }

    /// Our reader consumed `n` bytes. Returns the increment to grant once half a window
    /// has been consumed (batching grants: one `WINDOW` frame per 128 KiB, not per read).
    pub fn consumed(&mut self, n: u32) -> Option<u32> {
        self.unreported = self.unreported.saturating_add(n);
        if self.unreported < INITIAL_WINDOW / 2 {
            return None;
        }
        let grant = std::mem::take(&mut self.unreported);
        self.allowed = self.allowed.saturating_add(grant);
        Some(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_stops_at_the_window_until_granted_more() {
        let mut w = SendWindow::default();
        w.take(INITIAL_WINDOW);
        assert_eq!(w.available(), 0);
        w.grant(10).expect("a small grant");
        assert_eq!(w.available(), 10);
        assert_eq!(w.grant(MAX_WINDOW), Err(FlowError::TooLarge));
        assert_eq!(w.grant(u32::MAX), Err(FlowError::TooLarge));
    }

    #[test]
    fn a_peer_overrunning_the_window_is_caught() {
        let mut r = RecvWindow::default();
        r.receive(INITIAL_WINDOW - 1).expect("within the window");
        assert_eq!(r.receive(2), Err(FlowError::Overrun { got: 2, allowed: 1 }));
    }

    #[test]
    fn grants_are_batched_per_half_window_and_reopen_the_window() {
        let mut r = RecvWindow::default();
        r.receive(INITIAL_WINDOW).expect("the whole window");
        assert_eq!(r.consumed(1000), None);
        assert_eq!(
            r.consumed(INITIAL_WINDOW / 2 - 1000),
            Some(INITIAL_WINDOW / 2)
        );
        r.receive(INITIAL_WINDOW / 2).expect("the granted half");
        assert!(r.receive(1).is_err());
    }
}
