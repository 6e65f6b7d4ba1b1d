//! Portage: FEATURES and MAKEOPTS in make.conf, a file or a directory, decided and checked
//! in what Portage itself reads ([`crate::shconf::portage`], `getconfig()`'s model):
//! `/etc/make.conf`, then `/etc/portage/make.conf` (a directory recursively), with the
//! files they source.
//!
//! Each variable is edited where the assignment Portage ends up with is written. When that
//! is a sourced file, a new line goes at the end of the file that sources it (after the
//! `source`); when nothing assigns it, into `make.conf/distcc.conf` (a directory) or the
//! last file read. A new word-list line is `FEATURES="${FEATURES} distcc"`, so what was
//! read before is kept. A file emerge cannot parse, or an assignment Portage and bash read
//! differently, is refused with its line; and after every edit Portage's reading is
//! compared with the intent: exactly this variable changed, to exactly this value.

use std::collections::BTreeMap;

use super::*;
use crate::loadorder::{PortageFiles, PortageReadError, PortageView};
use crate::shconf::portage_check::{disagreement, intended};

/// Where an edit goes.
enum Target {
    /// Edit the document: the assignment Portage takes is in it, or nothing assigns it.
    InPlace(usize),
    /// The assignment Portage takes is in a file this one sources: add a line at its end.
    Append(usize),
}

pub(super) fn plan_portage(
    settings: &Settings,
    p: &Portage,
    hosts: &Hosts,
    advice: &JobsAdvice,
    facts: &Facts,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    let by_hand = format!(
        "add `{}` to {} and set {}=\"{}\" in make.conf",
        p.enable.word,
        p.enable.variable,
        p.jobs_variable,
        advice.flags()
    );
    let order = crate::loadorder::portage(root, p)?;
    let mut files: Vec<ConfFile> = Vec::new();
    for path in order.all() {
        if let Some(f) = ConfFile::read(root, &path, Dialect::Portage)? {
            files.push(f);
        }
    }
    if files.is_empty() {
        return Err(Error::MissingConfig {
            path: p.config.clone(),
            root: root.dir().to_path_buf(),
            hint: "is this a Gentoo system (Portage installed)?".into(),
        });
    }
    if order.is_dir {
        report.notes.push(format!(
            "portage: {} is a directory; each variable is edited where Portage takes it \
             from, else in {}",
            p.config.display(),
            order.config.join(DROPIN_NAME).display()
        ));
    }
    warn_native(
        &files.iter().collect::<Vec<_>>(),
        hosts,
        facts,
        &mut report.warnings,
    );
    let edits = [
        Edit::Enable {
            name: p.enable.variable.clone(),
            word: p.enable.word.clone(),
        },
        Edit::Set {
            name: p.jobs_variable.clone(),
            value: advice.flags(),
        },
    ];
    for edit in &edits {
        edit_as_portage_reads(root, &order, &mut files, edit, &by_hand)?;
    }
    // Portage reads every file of the tree but hidden ones: a backup named beside the
    // file the usual way would be read after it and undo the edit.
    for dir in &order.dirs {
        report.plan.hide_backups_in(dir);
    }
    for f in files {
        write_conf(&mut report.plan, f)?;
    }
    Ok(())
}

/// What Portage reads from `files` as they are now (edited, not yet written).
pub(super) fn portage_reads(
    root: &SysRoot,
    files: &[ConfFile],
    by_hand: &str,
) -> Result<PortageView, Error> {
    let tops: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let replaced: BTreeMap<PathBuf, Vec<u8>> = files
        .iter()
        .map(|f| (f.path.clone(), f.doc.to_bytes()))
        .collect();
    crate::loadorder::portage_view(root, &tops, &replaced).map_err(|e| match e {
        PortageReadError::Io(e) => Error::Plan(e),
        PortageReadError::Parse(e) => Error::Unsafe {
            file: PathBuf::from(&e.file),
            line: e.line,
            column: 1,
            reason: format!(
                "{}: Portage will not read this file (emerge stops here)",
                e.message
            ),
            by_hand: by_hand.to_string(),
        },
    })
}

fn edit_as_portage_reads(
    root: &SysRoot,
    order: &PortageFiles,
    files: &mut Vec<ConfFile>,
    edit: &Edit,
    by_hand: &str,
) -> Result<(), Error> {
    let name = edit.name();
    let before = portage_reads(root, files, by_hand)?;
    let old = before.vars().get(name).cloned();
    if intended(edit, old.as_deref(), old.as_deref()) {
        return Ok(());
    }
    let target = match before.last(name) {
        Some((top, a)) => {
            let i = files.iter().position(|f| f.path == *top).unwrap_or(0);
            if a.file == top.display().to_string() {
                Target::InPlace(i)
            } else {
                Target::Append(i)
            }
        }
        None if order.is_dir => Target::InPlace(dropin(order, files, by_hand)?),
        None => Target::InPlace(files.len() - 1),
    };
    let unsafe_at = |f: &ConfFile, line: usize, reason: String| Error::Unsafe {
        file: f.path.clone(),
        line,
        column: 1,
        reason,
        by_hand: by_hand.to_string(),
    };
    match target {
        Target::InPlace(i) => {
            let f = &mut files[i];
            let own = before
                .assignments
                .iter()
                .filter(|(top, a)| *top == f.path && a.file == top.display().to_string())
                .map(|(_, a)| a);
            if let Some((line, why)) = disagreement(&f.doc, own, name) {
                return Err(unsafe_at(f, line, why));
            }
            apply_edits(f, std::slice::from_ref(edit), by_hand)?;
        }
        Target::Append(i) => {
            let f = &mut files[i];
            let mut line = Document::parse(b"", Dialect::Portage)
                .map_err(|e| shconf_unsafe(&f.path, e, by_hand))?;
            line.apply(edit)
                .map_err(|e| shconf_unsafe(&f.path, e, by_hand))?;
            let mut bytes = f.doc.to_bytes();
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.extend_from_slice(f.doc.line_ending());
            }
            bytes.extend(line.to_bytes());
            f.doc = Document::parse(&bytes, Dialect::Portage)
                .map_err(|e| shconf_unsafe(&f.path, e, by_hand))?;
        }
    }
    let after = portage_reads(root, files, by_hand)?;
    let (b, a) = (before.vars(), after.vars());
    let new = a.get(name).cloned();
    let at = match &target {
        Target::InPlace(i) | Target::Append(i) => &files[*i],
    };
    if !intended(edit, old.as_deref(), new.as_deref()) {
        return Err(unsafe_at(
            at,
            1,
            format!(
                "after the edit Portage would read {name} as {new:?} (before: {old:?}), \
                 which is not what was asked"
            ),
        ));
    }
    let names: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    if let Some(other) = names
        .into_iter()
        .find(|k| k.as_str() != name && b.get(*k) != a.get(*k))
    {
        return Err(unsafe_at(
            at,
            1,
            format!("the edit of {name} would change what Portage reads for {other}"),
        ));
    }
    Ok(())
}

/// The index of our `make.conf/distcc.conf`, created (in Portage's reading position) when
/// it is not there yet.
fn dropin(order: &PortageFiles, files: &mut Vec<ConfFile>, by_hand: &str) -> Result<usize, Error> {
    let path = order.config.join(DROPIN_NAME);
    if let Some(i) = files.iter().position(|f| f.path == path) {
        return Ok(i);
    }
    let file = ConfFile {
        doc: Document::parse(
            b"# Portage settings for distcc, written by `distsetup master`.\n",
            Dialect::Portage,
        )
        .map_err(|e| shconf_unsafe(&path, e, by_hand))?,
        path,
        original: Vec::new(),
    };
    // Portage walks each directory in sorted order, depth first: component-wise path
    // order, the legacy /etc/make.conf first.
    let at = files
        .iter()
        .position(|f| f.path.starts_with(&order.config) && f.path > file.path)
        .unwrap_or(files.len());
    files.insert(at, file);
    Ok(at)
}
