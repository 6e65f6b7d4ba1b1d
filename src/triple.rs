//! The GNU target-triple grammar (`ARCH-VENDOR-OS[-ABI]`), pure and dependency-free.
//!
//! Both [`crate::profile`] (validating the triples a profile states) and
//! [`crate::toolchain`] (recognising `PREFIX-gcc` executables) use it; keeping it here
//! lets `toolchain` depend on `profile` for its catalog type without `profile` depending
//! back on `toolchain`.

/// Check that `s` looks like a GNU target triple: 2 to 4 dash-separated parts of lowercase
/// letters, digits, `_` and `.`, the first starting with a letter.
pub fn check_triple(s: &str) -> Result<(), &'static str> {
    let parts: Vec<&str> = s.split('-').collect();
    if !(2..=4).contains(&parts.len()) {
        return Err("it needs 2 to 4 parts separated by `-`");
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err("it has an empty part");
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.';
    if !parts.iter().all(|p| p.chars().all(ok_char)) {
        return Err("only lowercase letters, digits, `_` and `.` are allowed");
    }
    if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("the architecture must start with a letter");
    }
    Ok(())
}
