//! The distcc host-list grammar (`DISTCC_HOSTS`, `/etc/distcc/hosts`): parse to a typed
//! list, format back byte-exact, validate with positions. Pure: no I/O.

/// A host-list syntax error, with its byte offset, line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The list does not parse.
    #[error("line {line}, column {column}: {reason}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

impl crate::exit::Classify for Error {
    fn exit_code(&self) -> u8 {
        crate::exit::INPUT
    }
}
