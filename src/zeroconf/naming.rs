//! The names the distcc client browses for: `_<machine>--<version>._sub._distcc._tcp`,
//! where `machine` and `version` are its `cc -dumpmachine` and `cc -dumpversion`, first
//! word only, lowered, every other character outside `[a-z0-9]` turned into `-`, each cut
//! to 63 bytes (distcc's `dcc_make_dnssd_subtype` in `src/gcc-id.c`).

use std::collections::BTreeSet;

/// The DNS-SD service type of distcc.
pub const SERVICE_TYPE: &str = "_distcc._tcp";

/// distcc copies each part into a 64-byte buffer before cleaning it.
const PART_MAX: usize = 63;

/// A DNS label holds at most 63 bytes; Avahi refuses a longer subtype label.
pub const LABEL_MAX: usize = 63;

/// One part of the subtype as distcc cleans it: the first word of the compiler's output,
/// cut to 63 bytes, `A-Z` lowered, everything else outside `[a-z0-9]` turned into `-`.
pub fn clean(part: &str) -> String {
    let word = part
        .split([' ', '\t', '\n', '\r'])
        .next()
        .unwrap_or_default();
    word.bytes()
        .take(PART_MAX)
        .map(|b| match b {
            b'a'..=b'z' | b'0'..=b'9' => b as char,
            b'A'..=b'Z' => b.to_ascii_lowercase() as char,
            _ => '-',
        })
        .collect()
}

/// The first label of the subtype: `_<machine>--<version>`.
pub fn subtype_label(machine: &str, version: &str) -> String {
    format!("_{}--{}", clean(machine), clean(version))
}

/// The full subtype a client with this `cc` browses for.
pub fn subtype(machine: &str, version: &str) -> String {
    format!("{}._sub.{SERVICE_TYPE}", subtype_label(machine, version))
}

/// The ways gcc prints `-dumpversion` for a compiler whose full version is `full`: the
/// full version (Arch's gcc: `14.2.1`) and the major number alone (Debian's gcc
/// configured with `--with-gcc-major-version-only`: `14`). `dumpversion` is what this
/// toolchain itself printed; it is kept too. Sorted, no duplicates.
pub fn versions(dumpversion: &str, full: Option<&str>) -> Vec<String> {
    let mut out = BTreeSet::new();
    for v in [Some(dumpversion), full].into_iter().flatten() {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        out.insert(v.to_string());
        if let Some((major, _)) = v.split_once('.') {
            out.insert(major.to_string());
        }
    }
    out.into_iter().collect()
}

/// A `--zeroconf-version` value that is not a gcc version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a gcc version (digits and dots, as `cc -dumpversion` prints: 14 or 14.2.1)")]
pub struct BadVersion(pub String);

/// Whether a `--zeroconf-version` value looks like a gcc version (`14`, `14.2.1`).
pub fn check_version(v: &str) -> Result<(), BadVersion> {
    let ok = !v.is_empty()
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(BadVersion(v.to_string()))
    }
}

/// Two compiler names mean the same subtype part (distcc compares the cleaned strings).
pub fn same(a: &str, b: &str) -> bool {
    clean(a) == clean(b)
}
