//! Variables as makepkg or Portage end up with them after reading their files in order
//! (bash is asked for values that depend on expansions).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::shconf::{Dialect, Document, Value};

/// The final value of each variable over a set of files read in order, and where.
/// Files with CRLF line endings (real path, first such line) are not read: bash keeps the
/// CR in every value, so what they assign is not what they seem to say.
pub(super) struct Vars(
    BTreeMap<String, (Value, PathBuf)>,
    Vec<PathBuf>,
    pub(super) Vec<(PathBuf, usize)>,
);

impl Vars {
    /// No files read.
    pub(super) fn empty() -> Vars {
        Vars(BTreeMap::new(), Vec::new(), Vec::new())
    }

    pub(super) fn read(
        root: &crate::plan::SysRoot,
        files: &[PathBuf],
        dialect: Dialect,
        names: &[&str],
    ) -> Vars {
        let mut out = BTreeMap::new();
        let mut crlf = Vec::new();
        for f in files {
            let Some(text) = root.read_file(f).ok().flatten() else {
                continue;
            };
            if let Some(line) = crate::plan::crlf_line(&text) {
                crlf.push((root.path(f), line));
                continue;
            }
            let Ok(doc) = Document::parse(&text, dialect) else {
                continue;
            };
            for n in names {
                if let Some(a) = doc.get(n) {
                    out.insert((*n).to_string(), (a.value, f.clone()));
                }
            }
        }
        Vars(out, files.iter().map(|f| root.path(f)).collect(), crlf)
    }
    /// What Portage reads for `names` from `files` (system paths in its order, sourced
    /// files followed), each with the file it is assigned in; `Err` with Portage's
    /// message when emerge would stop at a file.
    pub(super) fn portage(
        root: &crate::plan::SysRoot,
        files: &[PathBuf],
        names: &[&str],
    ) -> Result<Vars, crate::loadorder::PortageReadError> {
        let view = crate::loadorder::portage_view(root, files, &BTreeMap::new())?;
        let mut out = BTreeMap::new();
        for n in names {
            if let Some((_, a)) = view.last(n) {
                out.insert(
                    (*n).to_string(),
                    (
                        Value::Scalar(a.value.clone().into_bytes()),
                        PathBuf::from(&a.file),
                    ),
                );
            }
        }
        // Portage reads CR LF as a line end (Python's universal newlines): no CRLF findings.
        Ok(Vars(
            out,
            files.iter().map(|f| root.path(f)).collect(),
            Vec::new(),
        ))
    }

    /// What bash sees for `name` after sourcing the files in order, in a clean
    /// environment: the oracle for values that depend on expansions
    /// (`FEATURES="${FEATURES} -distcc"` across make.conf files). The files are the
    /// user's own configuration, which makepkg and Portage source the same way.
    fn bash_words(&self, name: &str) -> Option<Vec<String>> {
        if !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return None;
        }
        let script = format!(
            "for f in \"$@\"; do source \"$f\" >/dev/null 2>&1 </dev/null; done; printf '%s\\n' \"${{{name}[@]}}\""
        );
        let o = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script, "bash"])
            .args(&self.1)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        o.status.success().then(|| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect()
        })
    }
    pub(super) fn get(&self, name: &str) -> Option<&(Value, PathBuf)> {
        self.0.get(name)
    }
    /// The words of a value (array elements, or a scalar split on blanks).
    pub(super) fn words(&self, name: &str) -> Option<Vec<String>> {
        match &self.get(name)?.0 {
            Value::Array(a) => Some(
                a.iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect(),
            ),
            Value::Scalar(v) => Some(
                String::from_utf8_lossy(v)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
            ),
            Value::Dynamic { .. } => self.bash_words(name),
        }
    }
    pub(super) fn scalar(&self, name: &str) -> Option<String> {
        match &self.get(name)?.0 {
            Value::Scalar(v) => Some(String::from_utf8_lossy(v).into_owned()),
            _ => None,
        }
    }
}

/// The number of `-jN` / `--jobs=N` / `-j N` in make flags.
pub(super) fn jobs_of(flags: &str) -> Option<u32> {
    let mut it = flags.split_whitespace();
    while let Some(w) = it.next() {
        if let Some(n) = w.strip_prefix("-j").or_else(|| w.strip_prefix("--jobs=")) {
            if n.is_empty() {
                return it.next().and_then(|n| n.parse().ok());
            }
            return n.parse().ok();
        }
    }
    None
}
