//! Format-preserving documents for shell-assignment files (makepkg.conf, make.conf,
//! conf.d/distccd, /etc/default/distcc): parse, read the value bash would see, edit,
//! and print back byte for byte. No I/O, no clap, no anyhow.

/// Errors of the shell-assignment model. Parse and edit errors carry line and column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text cannot be modelled at all.
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
