//! The process exit codes of every `distsetup` command, in one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success; or nothing to change |
//! | 1 | a negative answer that is not an error: `--check` found pending changes, `--get` found no assignment, `doctor` found a problem; changes shown but not applied because there was no terminal to ask on and no `--yes` |
//! | 2 | input rejected: syntax error, an edit that cannot be done safely, a dynamic value, bad arguments |
//! | 3 | the system failed us: missing file, permission denied, port in use, I/O error |
//! | 4 | aborted: the user said no, or a file changed between showing the diff and applying |

/// Success, or nothing to do.
pub const OK: u8 = 0;
/// A negative answer that is not an error (`--check` pending, `--get` unassigned, doctor findings).
pub const NEGATIVE: u8 = 1;
/// Input rejected (syntax error, unsafe edit, dynamic value, bad arguments).
pub const INPUT: u8 = 2;
/// Environment or I/O failure.
pub const SYSTEM: u8 = 3;
/// Aborted by the user or by a concurrent change.
pub const ABORTED: u8 = 4;

/// Implemented by the library's error types so `main` can pick the exit code
/// without knowing every error type.
pub trait Classify {
    /// The exit code this error should produce.
    fn exit_code(&self) -> u8;
}

/// The exit code for an error chain: the first error in the chain that the library
/// classifies decides; otherwise I/O errors are [`SYSTEM`] and anything else [`INPUT`].
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(c) = classify(cause) {
            return c;
        }
    }
    SYSTEM
}

fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    use Classify as _;
    if let Some(e) = cause.downcast_ref::<crate::shconf::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::hostspec::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::profile::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::toolchain::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::cores::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::server::ServeError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::wizard::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::wire::WireError>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::edit::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::master::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::plan::Error>() {
        return Some(e.exit_code());
    }
    if let Some(e) = cause.downcast_ref::<crate::volunteer::Error>() {
        return Some(e.exit_code());
    }
    if cause.downcast_ref::<std::io::Error>().is_some() {
        return Some(SYSTEM);
    }
    None
}
