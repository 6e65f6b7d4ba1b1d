//! The distcc wire protocol (spec `distcc-protocol.md` §1), sans-io: bytes in, frames out.
//!
//! - [`RequestDecoder`] reads what a client sends (protocols 1, 2 and 3) incrementally;
//!   [`encode_request`] builds one (client side: tests, `doctor`).
//! - [`encode_reply`] builds the server's answer; [`ReplyDecoder`] reads one.
//! - [`lzo`] is LZO1X as distcc uses it.
//!
//! Every length a peer sends is checked against [`Limits`] before anything is allocated
//! for it; buffers grow only as bytes really arrive. "Need more bytes" is `Ok(None)`.

mod input;
pub mod lzo;
pub mod lzo_stream;
pub mod lzo_writer;
mod reply;
mod request;
pub mod token;

use thiserror::Error;

pub use lzo::LzoError;
pub use reply::{DecodedReply, Reply, ReplyDecoder, encode_reply};
pub use request::{
    PumpContent, PumpEntry, RequestDecoder, RequestEvent, encode_request, encode_request_v3,
};

/// Hard caps on what a peer may send. Checked before allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most argv elements (`ARGC`).
    pub max_argc: u32,
    /// Longest single argv element (`ARGV` length).
    pub max_arg_len: u32,
    /// Largest bulk body on the wire (`DOTI`, `FILE`, and reply bodies), compressed or raw.
    pub max_doti_wire: u32,
    /// Largest source after LZO decompression (v3: all `FILE`s together).
    pub max_doti_plain: usize,
    /// Most bytes in a whole request (or reply, for [`ReplyDecoder`]).
    pub max_request: u64,
    /// v3: most `NFIL` entries.
    pub max_files: u32,
    /// v3: longest `CDIR`, `NAME` or `LINK`.
    pub max_name_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_argc: 4096,
            max_arg_len: 64 * 1024,
            max_doti_wire: 256 << 20,
            max_doti_plain: 512 << 20,
            max_request: 600 << 20,
            max_files: 20_000,
            max_name_len: 4096,
        }
    }
}

/// A protocol violation or a limit hit. The connection should be closed without a reply
/// (that is what distccd does, and what the client handles best: it retries elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// A different token than the protocol requires at this point.
    #[error("expected token {expected} at byte {offset}, got {found:?}")]
    BadToken {
        /// What the protocol requires here (`FILE|LINK` for the v3 alternation).
        expected: &'static str,
        /// The 4 bytes received, escaped.
        found: String,
        /// Stream offset of the header.
        offset: u64,
    },
    /// The 8 characters after the token name are not all hex digits.
    #[error("token {token:?} at byte {offset} has a bad hex parameter {text:?}")]
    BadHex {
        /// Token name, escaped.
        token: String,
        /// The 8 characters, escaped.
        text: String,
        /// Stream offset of the header.
        offset: u64,
    },
    /// `DIST` (or `DONE`) with a version we do not speak (only 1, 2, 3 exist).
    #[error("unsupported protocol version {version}")]
    Unsupported {
        /// The version received.
        version: u32,
    },
    /// `DONE` does not echo the request's version.
    #[error("reply is for protocol {got}, request was {expected}")]
    VersionMismatch {
        /// Version of the request.
        expected: u32,
        /// Version in `DONE`.
        got: u32,
    },
    /// A length or count over the configured limit.
    #[error("{what} of {len} exceeds the limit of {limit}")]
    TooLarge {
        /// What was too large (`"ARGC"`, `"ARGV length"`, `"request"`, ...).
        what: &'static str,
        /// The size announced or reached.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// `ARGC 0`: there is not even a compiler name.
    #[error("ARGC is 0: no compiler in the request")]
    EmptyArgv,
    /// A compressed body could not be decompressed.
    #[error("bad LZO body in {what}: {source}")]
    Lzo {
        /// The token whose body failed.
        what: &'static str,
        /// Why.
        source: LzoError,
    },
    /// The peer closed the connection before the message was complete.
    #[error("stream ended after {received} bytes while waiting for {waiting_for}")]
    Truncated {
        /// The element that was being read.
        waiting_for: &'static str,
        /// Bytes received in total.
        received: u64,
    },
    /// A body too large to describe with a 32-bit token parameter (encoding side).
    #[error("{what} of {len} bytes does not fit a token parameter")]
    Unencodable {
        /// The element.
        what: &'static str,
        /// Its size.
        len: u64,
    },
}

/// distcc's own exit codes (`exitcode.h`). A server puts some of them in `STAT` as
/// `exit << 8` when it, not the compiler, failed; the client reports them as its exit code.
pub mod codes {
    /// General failure.
    pub const DISTCC_FAILED: u8 = 100;
    /// Bad arguments.
    pub const BAD_ARGUMENTS: u8 = 101;
    /// Could not bind the listening socket.
    pub const BIND_FAILED: u8 = 102;
    /// Could not connect.
    pub const CONNECT_FAILED: u8 = 103;
    /// The compiler crashed.
    pub const COMPILER_CRASHED: u8 = 104;
    /// Out of memory.
    pub const OUT_OF_MEMORY: u8 = 105;
    /// Bad host specification.
    pub const BAD_HOSTSPEC: u8 = 106;
    /// I/O error, e.g. the client disconnected during the compile.
    pub const IO_ERROR: u8 = 107;
    /// Truncated data.
    pub const TRUNCATED: u8 = 108;
    /// Protocol error.
    pub const PROTOCOL_ERROR: u8 = 109;
    /// Compiler not found / exec failed.
    pub const COMPILER_MISSING: u8 = 110;
    /// Recursive invocation of distcc.
    pub const RECURSION: u8 = 111;
    /// Could not drop privileges.
    pub const SETUID_FAILED: u8 = 112;
    /// Access denied.
    pub const ACCESS_DENIED: u8 = 113;
    /// Server busy.
    pub const BUSY: u8 = 114;
    /// No such file.
    pub const NO_SUCH_FILE: u8 = 115;
    /// No usable hosts (client side).
    pub const NO_HOSTS: u8 = 116;
    /// Gone.
    pub const GONE: u8 = 117;
    /// Job lifetime exceeded.
    pub const TIMEOUT: u8 = 118;
    /// GSS-API failure.
    pub const GSSAPI_FAILED: u8 = 119;
    /// Called for preprocessing, which must be local.
    pub const LOCAL_CPP: u8 = 120;
}

/// Wait status of a process that exited with `code` (`W_EXITCODE(code, 0)`).
pub fn wait_status_exit(code: u8) -> u32 {
    u32::from(code) << 8
}

/// Wait status of a process killed by `signal` (plus `0x80` if it dumped core).
pub fn wait_status_signal(signal: u8, core_dumped: bool) -> u32 {
    u32::from(signal & 0x7f) | if core_dumped { 0x80 } else { 0 }
}

/// Wait status for a Rust [`std::process::ExitStatus`], as Linux `waitpid` reports it.
#[cfg(unix)]
pub fn wait_status_of(status: std::process::ExitStatus) -> u32 {
    use std::os::unix::process::ExitStatusExt;
    // into_raw is exactly the waitpid int on Unix; the reinterpretation is intended.
    status.into_raw() as u32
}
