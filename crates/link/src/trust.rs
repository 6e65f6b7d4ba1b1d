//! Trust stores: the pinned fingerprints, like ssh's known_hosts but both ways.
//!
//! - a master pins its volunteers in `/etc/distsetup/trusted-volunteers`, one
//!   `HOST FINGERPRINT` per line (`HOST` as in `--hosts`, with or without `:PORT`);
//! - a volunteer pins its masters in `/etc/distsetup/trusted-masters`, one
//!   `FINGERPRINT [NOTE]` per line.
//!
//! `#` starts a comment line. Parsing and rendering are pure; the files are written
//! through the plan (so `diff` and `undo` cover them) and re-read on every handshake, so
//! a removal takes effect on the next connection without restarting anything.

use std::path::{Path, PathBuf};

use crate::LinkError;
use crate::identity::Fingerprint;

/// Where a node's key pair is kept (mode 0600, owned by the service user).
pub const IDENTITY_KEY: &str = "/etc/distsetup/identity.key";
/// The masters a volunteer accepts.
pub const TRUSTED_MASTERS: &str = "/etc/distsetup/trusted-masters";
/// The volunteers a master talks to, by host.
pub const TRUSTED_VOLUNTEERS: &str = "/etc/distsetup/trusted-volunteers";

/// Which of the two files, and so which line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `FINGERPRINT [NOTE]` lines.
    Masters,
    /// `HOST FINGERPRINT` lines.
    Volunteers,
}

impl StoreKind {
    /// The system path of this store.
    pub fn path(self) -> &'static Path {
        Path::new(match self {
            StoreKind::Masters => TRUSTED_MASTERS,
            StoreKind::Volunteers => TRUSTED_VOLUNTEERS,
        })
    }
}

/// One pinned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    /// The volunteer's host; for a master, a free-form note (may be empty).
    pub name: String,
    /// The pinned key.
    pub fingerprint: Fingerprint,
}

/// A parsed trust store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    kind: StoreKind,
    entries: Vec<TrustEntry>,
}

impl TrustStore {
    /// An empty store.
    pub fn new(kind: StoreKind) -> TrustStore {
        TrustStore {
            kind,
            entries: Vec::new(),
        }
    }

    /// Parse the file's text; `file` only names it in errors.
    pub fn parse(kind: StoreKind, text: &str, file: &Path) -> Result<TrustStore, LinkError> {
        let mut store = TrustStore::new(kind);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| LinkError::TrustFile {
                path: file.to_path_buf(),
                line: i + 1,
                reason: reason.to_owned(),
            };
            let mut words = line.split_whitespace();
            let (first, rest) = (words.next().unwrap_or_default(), words.collect::<Vec<_>>());
            let entry = match kind {
                StoreKind::Masters => TrustEntry {
                    fingerprint: first
                        .parse()
                        .map_err(|_| bad("expected FINGERPRINT [NOTE]"))?,
                    name: rest.join(" "),
                },
                StoreKind::Volunteers => {
                    let [fp] = rest.as_slice() else {
                        return Err(bad("expected HOST FINGERPRINT"));
                    };
                    TrustEntry {
                        name: first.to_owned(),
                        fingerprint: fp.parse().map_err(|_| bad("not a fingerprint"))?,
                    }
                }
            };
            store.entries.push(entry);
        }
        Ok(store)
    }

    /// Read the store at real path `path`; a missing file is an empty store.
    pub fn read(kind: StoreKind, path: &Path) -> Result<TrustStore, LinkError> {
        match std::fs::read_to_string(path) {
            Ok(text) => TrustStore::parse(kind, &text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TrustStore::new(kind)),
            Err(source) => Err(LinkError::Io {
                what: format!("reading {}", path.display()),
                source,
            }),
        }
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = String::from(match self.kind {
            StoreKind::Masters => {
                "# Masters whose relay may use this volunteer over the secure link.\n\
                 # FINGERPRINT [NOTE]; managed by `distsetup trust`.\n"
            }
            StoreKind::Volunteers => {
                "# Volunteers this master reaches over the secure link.\n\
                 # HOST FINGERPRINT; managed by `distsetup trust`.\n"
            }
        });
        for e in &self.entries {
            let line = match (self.kind, e.name.is_empty()) {
                (StoreKind::Masters, true) => e.fingerprint.to_string(),
                (StoreKind::Masters, false) => format!("{} {}", e.fingerprint, e.name),
                (StoreKind::Volunteers, _) => format!("{} {}", e.name, e.fingerprint),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[TrustEntry] {
        &self.entries
    }

    /// Pin `fingerprint` (for a volunteer: for `name`, replacing that host's old pin).
    /// False when it was already there.
    pub fn add(&mut self, name: &str, fingerprint: Fingerprint) -> bool {
        let same_host = |e: &TrustEntry| self.kind == StoreKind::Volunteers && e.name == name;
        if self.entries.iter().any(|e| {
            e.fingerprint == fingerprint && (same_host(e) || self.kind == StoreKind::Masters)
        }) {
            return false;
        }
        self.entries.retain(|e| !same_host(e));
        self.entries.push(TrustEntry {
            name: name.to_owned(),
            fingerprint,
        });
        true
    }

    /// Remove every entry whose host (or note) or fingerprint is `what`. Returns how many.
    pub fn remove(&mut self, what: &str) -> usize {
        let fp = what.parse::<Fingerprint>().ok();
        let before = self.entries.len();
        self.entries
            .retain(|e| e.name != what && Some(e.fingerprint) != fp);
        before - self.entries.len()
    }

    /// Is this key pinned (in a masters store)?
    pub fn trusts(&self, fp: &Fingerprint) -> bool {
        self.entries.iter().any(|e| e.fingerprint == *fp)
    }

    /// The keys pinned for `host` (`HOST` or `HOST:PORT`; an entry without a port
    /// matches every port of that host).
    pub fn pins_for(&self, host: &str) -> Vec<Fingerprint> {
        let bare = host_part(host);
        self.entries
            .iter()
            .filter(|e| e.name == host || e.name == bare)
            .map(|e| e.fingerprint)
            .collect()
    }
}

/// `HOST` of `HOST:PORT` (and of `[v6]:PORT`).
fn host_part(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => host,
    }
}

/// Where a store lives under a root directory (`--root`).
pub fn under_root(root: &Path, system_path: &Path) -> PathBuf {
    root.join(system_path.strip_prefix("/").unwrap_or(system_path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Identity;

    fn fp() -> Fingerprint {
        Identity::generate().expect("a key").fingerprint()
    }

    #[test]
    fn a_volunteers_store_round_trips_and_keeps_one_pin_per_host() {
        let (a, b) = (fp(), fp());
        let mut s = TrustStore::new(StoreKind::Volunteers);
        assert!(s.add("build1", a));
        assert!(!s.add("build1", a), "the same pin twice");
        assert!(s.add("build2:3632", b));
        assert!(s.add("build1", b), "a new key replaces the host's old pin");
        let text = s.render();
        let back = TrustStore::parse(StoreKind::Volunteers, &text, Path::new("t")).expect("parses");
        assert_eq!(back, s);
        assert_eq!(back.pins_for("build1:3700"), vec![b]);
        assert_eq!(back.pins_for("build2:3632"), vec![b]);
        assert!(back.pins_for("build2:3633").is_empty());
        assert!(back.pins_for("build3").is_empty());
    }

    #[test]
    fn a_masters_store_trusts_what_it_lists_and_forgets_what_is_removed() {
        let (a, b) = (fp(), fp());
        let mut s = TrustStore::new(StoreKind::Masters);
        s.add("laptop", a);
        s.add("", b);
        assert!(s.trusts(&a) && s.trusts(&b));
        assert_eq!(s.remove(&a.to_string()), 1);
        assert!(!s.trusts(&a));
        assert_eq!(s.remove("nothing"), 0);
        let back =
            TrustStore::parse(StoreKind::Masters, &s.render(), Path::new("t")).expect("parses");
        assert_eq!(back, s);
    }

    #[test]
    fn a_bad_line_names_the_file_and_line() {
        let text = format!(
            "# pins\n{}\nbuild1 not-a-key\n",
            "h1 ".to_owned() + &fp().to_string()
        );
        let err = TrustStore::parse(
            StoreKind::Volunteers,
            &text,
            Path::new("/etc/distsetup/trusted-volunteers"),
        )
        .expect_err("line 3 is bad");
        assert_eq!(
            err.to_string(),
            "/etc/distsetup/trusted-volunteers:3: not a fingerprint"
        );
    }
}
