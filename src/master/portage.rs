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

use super::*;
use crate::loadorder::{PortageEditError, PortageFiles};

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
    let mut edits = vec![
        Edit::Enable {
            name: p.enable.variable.clone(),
            word: p.enable.word.clone(),
        },
        Edit::Set {
            name: p.jobs_variable.clone(),
            value: advice.flags(),
        },
    ];
    if settings.ccache.is_some() {
        edits.extend(portage_edits(settings, &p.enable.variable, &files, report)?);
    }
    if settings.relay.is_some() {
        edits.extend(super::relay::portage_env_edits());
    }
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

fn edit_as_portage_reads(
    root: &SysRoot,
    order: &PortageFiles,
    files: &mut Vec<ConfFile>,
    edit: &Edit,
    by_hand: &str,
) -> Result<(), Error> {
    let refused = |e: PortageEditError| match e {
        PortageEditError::Io(e) => Error::Plan(e),
        PortageEditError::At {
            file,
            line,
            column,
            reason,
        } => Error::Unsafe {
            file,
            line,
            column,
            reason,
            by_hand: by_hand.to_string(),
        },
    };
    let docs: Vec<(PathBuf, Document)> = files
        .iter()
        .map(|f| (f.path.clone(), f.doc.clone()))
        .collect();
    let nobody = crate::loadorder::portage_reads(root, &docs)
        .map_err(refused)?
        .last(edit.name())
        .is_none();
    let unassigned = if nobody && order.is_dir {
        dropin(order, files, by_hand)?
    } else {
        files.len() - 1
    };
    let mut docs: Vec<(PathBuf, Document)> = files
        .iter()
        .map(|f| (f.path.clone(), f.doc.clone()))
        .collect();
    crate::loadorder::edit_as_portage_reads(root, &mut docs, edit, unassigned).map_err(refused)?;
    for (f, (_, doc)) in files.iter_mut().zip(docs) {
        f.doc = doc;
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
