//! The host list: from `--hosts` or what is configured, checked with the DISTCC_HOSTS
//! grammar, and the `/etc/distcc/hosts` file.

use super::*;

/// The host list chosen, with its origin.
pub(super) struct Hosts {
    /// The list as written into files (one line, tokens separated by single spaces).
    pub(super) spec: String,
    /// Sum of the remote hosts' limits.
    pub(super) remote_slots: usize,
    /// Any host that is not localhost.
    pub(super) any_remote: bool,
    /// `+zeroconf` is in the list.
    pub(super) zeroconf: bool,
    /// The `localhost` entry's slots (0 when the list has none).
    pub(super) localhost_slots: usize,
    /// What distcc accepts but is probably not meant (`,cpp`, localhost first, ...).
    pub(super) warnings: Vec<String>,
}

/// The DISTCC_HOSTS already configured for makepkg (main file, then drop-ins), when
/// static and not empty: `(value, file)`.
pub(super) fn makepkg_hosts(
    root: &SysRoot,
    m: &Makepkg,
    main: &ConfFile,
) -> Result<Option<(String, PathBuf)>, Error> {
    let mut found = scalar_of(main, &m.hosts_variable);
    for p in crate::loadorder::makepkg(root, m)?.dropins {
        if let Some(f) = ConfFile::read(root, &p, Dialect::Bash)? {
            if let Some(v) = scalar_of(&f, &m.hosts_variable) {
                found = Some(v);
            }
        }
    }
    Ok(found.filter(|(v, _)| !v.trim().is_empty()))
}

pub(super) fn scalar_of(f: &ConfFile, name: &str) -> Option<(String, PathBuf)> {
    match f.doc.get(name)?.value {
        Value::Scalar(v) => Some((String::from_utf8_lossy(&v).into_owned(), f.path.clone())),
        _ => None,
    }
}

pub(super) fn parse_hosts(text: &str, origin: &str) -> Result<HostList, Error> {
    hostspec::parse(text).map_err(
        |hostspec::Error::Syntax {
             line,
             column,
             reason,
         }| Error::Hosts {
            origin: origin.to_string(),
            line,
            column,
            reason,
        },
    )
}

/// The host tokens of a list, in order, as written (comments dropped).
pub(super) fn tokens(list: &HostList) -> Vec<String> {
    list.entries
        .iter()
        .filter_map(|e| list.as_str().get(e.span.clone()).map(str::to_string))
        .collect()
}

pub(super) fn resolve_hosts(
    settings: &Settings,
    existing: Option<(String, PathBuf)>,
    hosts_file: &Path,
) -> Result<Hosts, Error> {
    let (list, origin) = match (&settings.hosts, existing) {
        (Some(spec), _) => (parse_hosts(spec, "--hosts")?, "--hosts".to_string()),
        (None, Some((value, file))) => {
            let origin = format!("{} in {}", "DISTCC_HOSTS", file.display());
            (parse_hosts(&value, &origin)?, origin)
        }
        (None, None) => {
            let text = settings
                .root
                .read_file(hosts_file)?
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let origin = hosts_file.display().to_string();
            (parse_hosts(&text, &origin)?, origin)
        }
    };
    let zeroconf = list
        .entries
        .iter()
        .any(|e| matches!(e.item, hostspec::Item::Zeroconf));
    if list.hosts().next().is_none() && !zeroconf {
        let why = if settings.hosts.is_some() {
            "--hosts names no host".to_string()
        } else {
            format!(
                "none configured yet ({origin} lists none); pass --hosts, e.g. \
                 --hosts '192.168.1.10/8 192.168.1.11:3632/4'"
            )
        };
        return Err(Error::NoHosts(why));
    }
    let remote: Vec<_> = list
        .hosts()
        .filter(|h| !matches!(h.transport, Transport::Local))
        .collect();
    Ok(Hosts {
        spec: tokens(&list).join(" "),
        remote_slots: remote.iter().map(|h| h.effective_limit() as usize).sum(),
        any_remote: !remote.is_empty() || zeroconf,
        zeroconf,
        localhost_slots: list
            .hosts()
            .filter(|h| matches!(h.transport, Transport::Local))
            .map(|h| h.effective_limit() as usize)
            .sum(),
        warnings: list
            .warnings
            .iter()
            .map(|w| format!("{origin}: {w}"))
            .collect(),
    })
}

/// The new bytes of a hosts file holding `spec`, comments kept; `None` when unchanged.
pub fn hosts_file_bytes(existing: Option<&str>, spec: &str) -> Option<Vec<u8>> {
    let Some(text) = existing else {
        return Some(
            format!(
                "# distcc host list (see distcc(1), HOST SPECIFICATIONS), written by distsetup master\n{spec}\n"
            )
            .into_bytes(),
        );
    };
    let new_items = hostspec::parse(spec)
        .ok()
        .map(|l| l.entries.into_iter().map(|e| e.item).collect::<Vec<_>>());
    let old_items = hostspec::parse(text)
        .ok()
        .map(|l| l.entries.into_iter().map(|e| e.item).collect::<Vec<_>>());
    if new_items.is_some() && new_items == old_items {
        return None;
    }
    let mut out = String::new();
    let mut placed = false;
    for line in text.split_inclusive('\n') {
        let (content, comment) = match line.find('#') {
            Some(i) => line.split_at(i),
            None => (line, ""),
        };
        if content.trim().is_empty() {
            out.push_str(line);
            continue;
        }
        let ending = if line.ends_with("\r\n") {
            "\r\n"
        } else if line.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        // A comment after the hosts stays: on the new list's line, or on its own.
        let comment = comment.trim_end_matches(['\r', '\n']);
        let gap = &content[content.trim_end().len()..];
        if !placed {
            out.push_str(spec);
            if !comment.is_empty() {
                out.push_str(if gap.is_empty() { " " } else { gap });
                out.push_str(comment);
            }
            out.push_str(ending);
            placed = true;
        } else if !comment.is_empty() {
            out.push_str(comment);
            out.push_str(ending);
        }
    }
    if !placed {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(spec);
        out.push('\n');
    }
    Some(out.into_bytes())
}

pub(super) fn plan_hosts_file(
    root: &SysRoot,
    path: &Path,
    hosts: &Hosts,
    report: &mut Report,
) -> Result<(), Error> {
    let read = root.read_file(path)?;
    let existing = read
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    if let Some(bytes) = hosts_file_bytes(existing.as_deref(), &hosts.spec) {
        ensure_dir(&mut report.plan, path.parent().unwrap_or(Path::new("/")))?;
        let read = read.as_deref().unwrap_or_default();
        report.plan.write_file_from(path, read, bytes)?;
        report.notes.push(format!(
            "hosts file: {} gets the host list (its comments are kept)",
            path.display()
        ));
    }
    Ok(())
}
