//! Errors of the shell-assignment model.

/// A refused edit or an invalid request. Positions are 1-based; columns count bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The edit cannot be done safely at this place.
    #[error("line {line}, column {column}: {reason}")]
    Refused {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what to do instead.
        reason: String,
    },
    /// The requested name or value cannot be written in this dialect at all.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Line, column and reason; an [`Error::Invalid`] request is placed at 1:1.
    pub fn into_position(self) -> (usize, usize, String) {
        match self {
            Error::Refused {
                line,
                column,
                reason,
            } => (line, column, reason),
            Error::Invalid(reason) => (1, 1, reason),
        }
    }
}
