//! Reading and writing the configuration files the master edits: parsed documents
//! with their original bytes, edits refused with the file, line and what to do by hand,
//! and the warnings about assignments that override ours.

use super::*;

/// A parsed file with where it lives and its original bytes.
pub(super) struct ConfFile {
    pub(super) path: PathBuf,
    pub(super) doc: Document,
    pub(super) original: Vec<u8>,
}

impl ConfFile {
    pub(super) fn read(
        root: &SysRoot,
        path: &Path,
        dialect: Dialect,
    ) -> Result<Option<ConfFile>, Error> {
        let Some(original) = root.read_file(path)? else {
            return Ok(None);
        };
        crate::plan::refuse_crlf(&root.path(path), &original)?;
        let doc = Document::parse(&original, dialect).map_err(|e| shconf_unsafe(path, e, ""))?;
        Ok(Some(ConfFile {
            path: path.to_path_buf(),
            doc,
            original,
        }))
    }

    pub(super) fn assigns(&self, name: &str) -> Option<usize> {
        self.doc
            .assignments()
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.line)
    }
}

pub(super) fn shconf_unsafe(file: &Path, e: shconf::Error, by_hand: &str) -> Error {
    let (line, column, reason) = e.into_position();
    Error::Unsafe {
        file: file.to_path_buf(),
        line,
        column,
        reason,
        by_hand: by_hand.to_string(),
    }
}

pub(super) fn apply_edits(file: &mut ConfFile, edits: &[Edit], by_hand: &str) -> Result<(), Error> {
    for e in edits {
        if let Err(err) = file.doc.apply(e) {
            // shconf's reason is about the edit; when the value itself is dynamic, that
            // is the explanation the user needs.
            return Err(match file.doc.get(e.name()) {
                Some(info) if matches!(info.value, Value::Dynamic { .. }) => {
                    let why = match info.value {
                        Value::Dynamic { reason } => reason,
                        _ => String::new(),
                    };
                    Error::Unsafe {
                        file: file.path.clone(),
                        line: info.line,
                        column: info.column,
                        reason: format!("{} cannot be edited safely: {why} ({err})", e.name()),
                        by_hand: by_hand.to_string(),
                    }
                }
                _ => shconf_unsafe(&file.path, err, by_hand),
            });
        }
    }
    Ok(())
}

pub(super) fn write_conf(plan: &mut Plan, file: ConfFile) -> Result<(), Error> {
    let bytes = file.doc.to_bytes();
    if bytes != file.original {
        ensure_dir(plan, file.path.parent().unwrap_or(Path::new("/")))?;
    }
    // write_file adds nothing when the file already holds these bytes.
    plan.write_file_from(&file.path, &file.original, bytes)?;
    Ok(())
}

/// Plan creating `dir` and every missing ancestor, outermost first.
pub(super) fn ensure_dir(plan: &mut Plan, dir: &Path) -> Result<(), Error> {
    Ok(plan.create_dir_all(dir)?)
}

/// Whether every assignment of `var` in `f` appends to an array (`BUILDENV+=(ccache)`)
/// without negating distcc: such a line keeps what distsetup wrote.
fn keeps_distcc(f: &ConfFile, var: &str) -> bool {
    let text = String::from_utf8_lossy(&f.original);
    let lines: Vec<&str> = text.lines().collect();
    let mut all = f
        .doc
        .assignments()
        .into_iter()
        .filter(|a| a.name == var)
        .peekable();
    all.peek().is_some()
        && all.all(|a| {
            let line = lines.get(a.line.saturating_sub(1)).copied().unwrap_or("");
            a.append && line.contains("+=(") && !line.contains("!distcc")
        })
}

pub(super) fn warn_overrides(
    files: &[ConfFile],
    vars: &[&str],
    why: &str,
    warnings: &mut Vec<String>,
) {
    for f in files {
        for v in vars {
            if let Some(line) = f.assigns(v) {
                if keeps_distcc(f, v) {
                    continue;
                }
                warnings.push(format!(
                    "{}:{line} assigns {v}; {why}, so it overrides what distsetup writes",
                    f.path.display()
                ));
            }
        }
    }
}

/// Warn about `-march=native`/`-mtune=native` when compiles go to other machines.
pub(super) fn warn_native(
    files: &[&ConfFile],
    hosts: &Hosts,
    facts: &Facts,
    warnings: &mut Vec<String>,
) {
    if !hosts.any_remote {
        return;
    }
    for f in files {
        for var in FLAG_VARS {
            let Some(info) = f.doc.get(var) else { continue };
            let Value::Scalar(v) = &info.value else {
                continue;
            };
            let v = String::from_utf8_lossy(v);
            for (flag, what) in [("-march=native", "march"), ("-mtune=native", "mtune")] {
                if !v.split_whitespace().any(|w| w == flag) {
                    continue;
                }
                let instead = match &facts.native {
                    Some(n) if what == "march" => format!(
                        "use -march={} instead (what `gcc -march=native -Q --help=target` resolves to here)",
                        n.march
                    ),
                    Some(n) => format!(
                        "use -mtune={} instead (what `gcc -march=native -Q --help=target` resolves to here)",
                        n.mtune
                    ),
                    None => format!(
                        "run `gcc -march=native -Q --help=target` on this machine and use the -{what}= value it shows"
                    ),
                };
                warnings.push(format!(
                    "{}:{}: {var} contains {flag}: distcc then compiles locally, or the volunteers \
                     tune for their own CPU; {instead}",
                    f.path.display(),
                    info.line
                ));
            }
        }
    }
}

/// `to` relative to the directory `from` (both absolute system paths).
pub fn relative_target(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in b.iter().skip(common) {
        out.push(c.as_os_str());
    }
    out
}

/// Say in words when the jobs variable (`MAKEOPTS`, `MAKEFLAGS`) set by hand is replaced:
/// the diff shows it, but a hand-tuned `-j4` silently becoming `-j25` or a `-l4` going
/// away is easy to miss there. `files` in the order they are read (the last assignment
/// counts).
pub(super) fn warn_jobs_reset(
    files: &[&ConfFile],
    var: &str,
    new: &str,
    warnings: &mut Vec<String>,
) {
    let Some((f, info)) = files
        .iter()
        .rev()
        .find_map(|f| f.doc.get(var).map(|i| (f, i)))
    else {
        return;
    };
    let Value::Scalar(old) = &info.value else {
        return;
    };
    let old = String::from_utf8_lossy(old).into_owned();
    let (old_words, new_words): (Vec<&str>, Vec<&str>) = (
        old.split_whitespace().collect(),
        new.split_whitespace().collect(),
    );
    let gone: Vec<&str> = old_words
        .iter()
        .copied()
        .filter(|w| !new_words.contains(w))
        .collect();
    if gone.is_empty() {
        return;
    }
    let kind = |w: &str| {
        if w.starts_with("-j") || w.starts_with("--jobs") {
            "jobs"
        } else if w.starts_with("-l") || w.starts_with("--load-average") {
            "load"
        } else {
            "other"
        }
    };
    let changes: Vec<String> = gone
        .iter()
        .map(|w| {
            let replaced = new_words
                .iter()
                .find(|n| kind(n) == kind(w) && kind(w) != "other" && !old_words.contains(n));
            match replaced {
                Some(n) => format!("{w} becomes {n}"),
                None => format!("{w} is dropped"),
            }
        })
        .collect();
    let keep = gone
        .iter()
        .find_map(|w| w.strip_prefix("-j").filter(|n| n.parse::<u32>().is_ok()))
        .map(|n| format!("; to keep -j{n}, run again with --jobs {n}"))
        .unwrap_or_default();
    warnings.push(format!(
        "{}:{}: {var} is \"{old}\" now and becomes \"{new}\": {}{keep}",
        f.path.display(),
        info.line,
        changes.join(", ")
    ));
}
