//! Portage: FEATURES and MAKEOPTS in make.conf, a file or a directory.

use super::*;

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
    let config = order.config.clone();
    let mut files: Vec<ConfFile> = Vec::new();
    let is_dir = order.is_dir;
    if is_dir {
        for path in &order.files {
            if let Some(f) = ConfFile::read(root, path, Dialect::Portage)? {
                files.push(f);
            }
        }
        report.notes.push(format!(
            "portage: {} is a directory; each variable is edited where it is assigned, \
             else in {}",
            p.config.display(),
            config.join(DROPIN_NAME).display()
        ));
    } else {
        let legacy = p.legacy_config.as_ref().filter(|l| root.path(l).is_file());
        let file = match ConfFile::read(root, &p.config, Dialect::Portage)? {
            Some(f) => f,
            None => match legacy {
                Some(l) => ConfFile::read(root, l, Dialect::Portage)?.ok_or_else(|| {
                    Error::MissingConfig {
                        path: l.clone(),
                        root: root.dir().to_path_buf(),
                        hint: "it vanished while being read".into(),
                    }
                })?,
                None => {
                    return Err(Error::MissingConfig {
                        path: p.config.clone(),
                        root: root.dir().to_path_buf(),
                        hint: "is this a Gentoo system (Portage installed)?".into(),
                    });
                }
            },
        };
        files.push(file);
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
    for edit in &edits {
        let at = files.iter().rposition(|f| f.doc.get(edit.name()).is_some());
        let index = match at {
            Some(i) => i,
            None if is_dir => match files
                .iter()
                .position(|f| f.path.file_name() == Some(DROPIN_NAME.as_ref()))
            {
                Some(i) => i,
                None => {
                    let path = config.join(DROPIN_NAME);
                    files.push(ConfFile {
                        doc: Document::parse(
                            b"# Portage settings for distcc, written by `distsetup master`.\n",
                            Dialect::Portage,
                        )
                        .map_err(|e| shconf_unsafe(&path, e, &by_hand))?,
                        path,
                        original: Vec::new(),
                    });
                    files.len() - 1
                }
            },
            None => 0,
        };
        if let Some(f) = files.get_mut(index) {
            apply_edits(f, std::slice::from_ref(edit), &by_hand)?;
        }
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
