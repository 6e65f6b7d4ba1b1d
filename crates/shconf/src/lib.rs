//! Format-preserving documents for shell-assignment files: makepkg.conf and its drop-ins,
//! Gentoo make.conf, `/etc/conf.d/distccd` (a shell file on Gentoo, a systemd
//! EnvironmentFile on Arch), Debian's `/etc/default/distcc`. Parse, read the value bash
//! would see, edit, and print back byte for byte. No I/O, no clap, no anyhow.
//!
//! systemd units and crosstool-ng `.config` files are out of scope: they are not shell.
//!
//! # Model
//! The [`lexer`] turns every byte into a token (joining them gives the input back). The
//! [`Document`] groups tokens into statements, follows `if`/`case`/loops/functions to
//! know each assignment's [`Scope`], and evaluates assignments in file order, so a value
//! that refers to a variable assigned earlier with a static value is itself static.
//! Everything it does not model — functions, `source`, `if` conditions, here-documents —
//! stays verbatim as opaque text.
//!
//! # Edits
//! - The assignment edited is the one that takes effect: the last top-level one. An edit
//!   of a variable whose effective assignment sits inside a conditional or a function is
//!   refused with its line and column, as is a word edit of a dynamic value.
//! - [`Edit::Set`] keeps the existing quoting when it can carry the new value, otherwise
//!   quotes minimally for the [`Dialect`]. With no live assignment, a commented default
//!   (`#MAKEFLAGS="-j2"`, `#DISTCC_HOSTS=""`) is replaced in place; otherwise the new line
//!   goes after the most related assignment (longest shared name prefix of at least four
//!   characters, e.g. `DISTCC_DIR` for `DISTCC_HOSTS`), else after the last assignment.
//! - Word edits ([`Edit::Enable`] …) work on arrays (`BUILDENV=(!distcc color)`) and on
//!   word-list strings (`FEATURES="ccache"`), in place, keeping order, spacing and quotes.
//!   The negated form is `!word` in arrays and bash strings, `-word` in Portage strings.
//! - Accumulating lines (`DISTCCD_OPTS="${DISTCCD_OPTS} --port 3632"`, Gentoo's style):
//!   the inherited `${NAME}` part is kept verbatim and only the literal words the file
//!   adds are edited — across the whole chain of such lines — which is what a careful
//!   user does by hand: a removed word is taken out of whichever line holds it, an added
//!   word goes to the last line.
//!
//! # Portage
//! Gentoo's make.conf is not read by bash but by Portage's `getconfig()`: [`portage`]
//! models it (tokens, expansion, `source`, errors) and [`portage_check`] compares it with
//! the bash model and an edit's intent.

mod document;
mod edit;
mod error;
pub mod lexer;
pub mod portage;
pub mod portage_check;
pub mod value;

pub use document::Document;
pub use edit::Edit;
pub use error::Error;

/// Which program evaluates the file: decides what an edit may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// bash or sh: makepkg.conf, makepkg.conf.d, Gentoo conf.d, /etc/default/distcc.
    Bash,
    /// Gentoo make.conf read by portage: no arrays, no `+=`, no `$(…)`.
    Portage,
    /// systemd `EnvironmentFile=`: no `$` expansion at all.
    EnvironmentFile,
}

/// Where an assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Runs whenever the file is sourced.
    TopLevel,
    /// Inside `if`, `case`, a loop or a subshell: may or may not run.
    Conditional,
    /// Inside a function body: runs only if the function is called.
    Function,
}

/// The value bash would see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A static string: quotes removed, escapes resolved.
    Scalar(Vec<u8>),
    /// A static array.
    Array(Vec<Vec<u8>>),
    /// Depends on something the file alone does not determine.
    Dynamic {
        /// Why, in words.
        reason: String,
    },
}

/// One assignment as the outside world sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentInfo {
    /// The variable.
    pub name: String,
    /// 1-based line of the name.
    pub line: usize,
    /// 1-based column (in bytes) of the name.
    pub column: usize,
    /// Preceded by `export`.
    pub exported: bool,
    /// Written with `+=`.
    pub append: bool,
    /// Where it stands.
    pub scope: Scope,
    /// The value right after it runs (for [`Document::get`]: at the end of the file).
    pub value: Value,
}
