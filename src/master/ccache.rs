//! `master --ccache`: ccache in front of distcc, the way each tool supports it, and the
//! cache directory owned by the user who builds.
//!
//! - makepkg: `ccache` beside `distcc` in BUILDENV. libmakepkg's `buildenv/compiler.sh`
//!   then puts `/usr/lib/ccache/bin` first in PATH and, because distcc is on too, exports
//!   `CCACHE_PREFIX=distcc` (and `CCACHE_BASEDIR=$srcdir`) itself, skipping distcc's own
//!   masquerade directory: ccache hashes, and on a miss hands the compile to distcc. It
//!   does so only when `/usr/lib/ccache/bin` exists; Debian's ccache puts its links in
//!   `/usr/lib/ccache` alone, so on such profiles we create `bin/` with relative links to
//!   `/usr/bin/ccache` (like distcc's masquerade directory). The cache is ccache's default
//!   for the build user (`~/.cache/ccache`), created owned by that user.
//! - Portage: `ccache` in FEATURES beside `distcc`, `CCACHE_DIR="/var/cache/ccache"` and
//!   `CCACHE_SIZE` (unless make.conf already sets them), the directory owned by
//!   `portage:portage` with mode 2775 (Portage builds as `portage`).
//! - Debian: `prefix_command = distcc` in `/etc/ccache.conf`, ccache's system-wide
//!   configuration and the spelling of `CCACHE_PREFIX=distcc` every ccache reads, whoever
//!   calls it (a `debuild` with `/usr/lib/ccache` in PATH, a CMake launcher).
//!
//! Users are looked up in the root's own `/etc/passwd`: in a chroot, its `portage` user.

use super::*;
use crate::plan::DirOwner;

/// `--ccache`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ccache {
    /// makepkg's build user (`--build-user`, else the user who ran sudo); without one the
    /// cache directory is left to ccache, which creates it on the first build.
    pub build_user: Option<String>,
}

/// Portage's cache directory, as the Gentoo handbook and wiki set it.
pub const PORTAGE_CCACHE_DIR: &str = "/var/cache/ccache";
/// Portage's cache size when make.conf names none.
pub const PORTAGE_CCACHE_SIZE: &str = "5G";
/// ccache's system configuration.
const CCACHE_CONF: &str = "/etc/ccache.conf";
/// Where makepkg looks for ccache's compiler links.
const CCACHE_BIN: &str = "/usr/lib/ccache/bin";

use crate::passwd::lookup_user;

/// makepkg: the BUILDENV word, the links makepkg needs, the build user's cache directory.
pub(super) fn plan_makepkg_ccache(
    settings: &Settings,
    cc: &Ccache,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    if !settings.profile.client.masquerade_shipped {
        plan_ccache_links(root, report)?;
    }
    let Some(user) = &cc.build_user else {
        report.notes.push(
            "ccache: no build user given (--build-user): ccache creates ~/.cache/ccache \
             itself on the first build"
                .into(),
        );
        return Ok(());
    };
    let entry = lookup_user(root, user)?;
    let legacy = entry.home.join(".ccache");
    if root.state(&legacy)? == Before::Dir {
        report.notes.push(format!(
            "ccache: {} exists, so ccache keeps using it",
            legacy.display()
        ));
        return Ok(());
    }
    if root.state(&entry.home)? != Before::Dir {
        report.warnings.push(format!(
            "ccache: {user}'s home {} is missing under {}; ccache creates its cache when it \
             exists",
            entry.home.display(),
            root.dir().display()
        ));
        return Ok(());
    }
    let dir = entry.home.join(".cache/ccache");
    let owner = DirOwner {
        uid: entry.uid,
        gid: entry.gid,
        mode: 0o755,
    };
    owned_dir(root, &entry.home.join(".cache"), owner, report)?;
    owned_dir(root, &dir, owner, report)?;
    report.notes.push(format!(
        "ccache: makepkg builds as {user}, whose cache is {} (ccache's default), owned by \
         uid {}",
        dir.display(),
        entry.uid
    ));
    Ok(())
}

/// Create `dir` for `owner`; an existing one owned by someone else gets a warning.
fn owned_dir(
    root: &SysRoot,
    dir: &Path,
    owner: DirOwner,
    report: &mut Report,
) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt as _;
    if let Ok(meta) = std::fs::metadata(root.path(dir)) {
        if meta.is_dir() && meta.uid() != owner.uid {
            report.warnings.push(format!(
                "{} is owned by uid {}, not {}: the build cannot write its cache there \
                 (chown -R {}:{} it)",
                dir.display(),
                meta.uid(),
                owner.uid,
                owner.uid,
                owner.gid
            ));
        }
    }
    Ok(report.plan.create_dir_owned(dir, Some(owner))?)
}

/// `/usr/lib/ccache/bin/{gcc,cc,g++,c++}` → `/usr/bin/ccache`, where the distro does not
/// ship them.
fn plan_ccache_links(root: &SysRoot, report: &mut Report) -> Result<(), Error> {
    let dir = Path::new(CCACHE_BIN);
    let names = ["gcc", "cc", "g++", "c++"].map(String::from);
    let target = plan_links(root, dir, Path::new("/usr/bin/ccache"), &names, report)?;
    report.notes.push(format!(
        "ccache: {} gets {} → {} (makepkg uses ccache only when this directory exists; \
         this distro's ccache does not create it)",
        dir.display(),
        names.join(", "),
        target.display()
    ));
    Ok(())
}

/// Portage: the edits for make.conf (FEATURES, and CCACHE_DIR/CCACHE_SIZE when none of
/// `files` sets them) and the cache directory owned by `portage`.
pub(super) fn portage_edits(
    settings: &Settings,
    enable_var: &str,
    files: &[ConfFile],
    report: &mut Report,
) -> Result<Vec<Edit>, Error> {
    // What Portage ends up with: the last file that assigns the variable.
    let value = |name: &str| {
        files
            .iter()
            .rev()
            .find_map(|f| match f.doc.get(name)?.value {
                Value::Scalar(v) => Some(String::from_utf8_lossy(&v).into_owned()),
                _ => Some(String::new()),
            })
    };
    let mut edits = vec![Edit::Enable {
        name: enable_var.to_string(),
        word: "ccache".into(),
    }];
    let dir = match value("CCACHE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => {
            edits.push(Edit::Set {
                name: "CCACHE_DIR".into(),
                value: PORTAGE_CCACHE_DIR.into(),
            });
            PathBuf::from(PORTAGE_CCACHE_DIR)
        }
    };
    if value("CCACHE_SIZE").is_none() {
        edits.push(Edit::Set {
            name: "CCACHE_SIZE".into(),
            value: PORTAGE_CCACHE_SIZE.into(),
        });
    }
    let portage = lookup_user(&settings.root, "portage")?;
    if let Some(parent) = dir.parent() {
        ensure_dir(&mut report.plan, parent)?;
    }
    let owner = DirOwner {
        uid: portage.uid,
        gid: portage.gid,
        mode: 0o2775,
    };
    owned_dir(&settings.root, &dir, owner, report)?;
    report.notes.push(format!(
        "ccache: FEATURES gains ccache beside distcc; the cache {} belongs to portage \
         (uid {}), mode 2775",
        dir.display(),
        portage.uid
    ));
    Ok(edits)
}

/// Debian: `prefix_command = distcc` in /etc/ccache.conf, the rest of the file kept.
pub(super) fn plan_debian_ccache(root: &SysRoot, report: &mut Report) -> Result<(), Error> {
    let path = Path::new(CCACHE_CONF);
    let old = root.read_file(path)?.unwrap_or_default();
    let bytes = with_prefix_command(&String::from_utf8_lossy(&old), "distcc");
    if bytes.as_bytes() != old.as_slice() {
        ensure_dir(&mut report.plan, Path::new("/etc"))?;
        report.plan.write_file(path, bytes.into_bytes())?;
    }
    report.notes.push(format!(
        "ccache: {} sets prefix_command = distcc (CCACHE_PREFIX=distcc for every ccache \
         run): put /usr/lib/ccache first in PATH to build through ccache and distcc",
        path.display()
    ));
    Ok(())
}

/// ccache.conf text with its `prefix_command` set to `value`: the last such line is
/// replaced (ccache takes the last), or one is appended.
pub fn with_prefix_command(text: &str, value: &str) -> String {
    let key_of = |line: &str| line.split('=').next().map(str::trim).map(str::to_string);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = format!("prefix_command = {value}");
    match lines.iter().rposition(|l| {
        !l.trim_start().starts_with('#') && key_of(l).as_deref() == Some("prefix_command")
    }) {
        Some(i) => lines[i] = line,
        None => {
            if lines.is_empty() {
                lines.push("# ccache's system configuration; distsetup set prefix_command.".into());
            }
            lines.push(line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}
