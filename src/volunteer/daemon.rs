//! The distro's distccd configuration (`/etc/conf.d/distccd`, `/etc/default/distcc`):
//! the allow list and jobs, in whichever form the file already uses.

use super::*;

pub(super) fn shconf_unsafe(file: &Path, e: shconf::Error) -> Error {
    let (line, column, reason) = e.into_position();
    Error::Unsafe {
        file: file.to_path_buf(),
        line,
        column,
        reason,
    }
}

/// Why a cross toolchain leaves the system distccd's configuration alone: that daemon
/// answers with this machine's native compiler on its own port, so widening its allow
/// list (or its listen address) would open the wrong compiler to the network.
pub(super) fn system_daemon_untouched(profile: &Profile, service: &Service, port: u16) -> String {
    let v = &profile.volunteer;
    format!(
        "the system distccd's configuration ({}) is left alone: it serves this machine's native \
         compiler on port {}; the toolchain has its own unit ({}) on port {port} with its own allow list",
        v.config.display(),
        v.port,
        service.name
    )
}

/// The system distccd's configuration (a native volunteer only): `--allow` and `--jobs`
/// in the profile's file; with `start` (it serves this machine's own compiler), also the
/// switch that starts it at boot (Debian's `STARTDISTCC`).
pub(super) fn plan_daemon_config(
    settings: &Settings,
    plan: &mut Plan,
    (allow, jobs): (&[String], usize),
    start: bool,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let (root, profile, listen) = (&settings.root, &settings.profile, settings.listen);
    let v = &profile.volunteer;
    let file = &v.config;
    let original = root.read_file(file)?;
    if let (Some(bytes), ConfigSyntax::Shell) = (&original, &v.config_syntax) {
        crate::plan::refuse_crlf(&root.path(file), bytes)?;
    }
    if original.is_none() {
        notes.push(format!("{} does not exist: creating it", file.display()));
        if let Some(parent) = file.parent() {
            ensure_dir(plan, parent)?;
        }
    }
    let old = original.clone().unwrap_or_default();
    let new = match v.config_syntax {
        ConfigSyntax::Lines => allow_lines(&old, allow),
        ConfigSyntax::EnvironmentFile | ConfigSyntax::Shell => {
            let dialect = if v.config_syntax == ConfigSyntax::EnvironmentFile {
                Dialect::EnvironmentFile
            } else {
                Dialect::Bash
            };
            let mut doc = Document::parse(&old, dialect).map_err(|e| shconf_unsafe(file, e))?;
            match (&v.args_variable, &v.allow_variable) {
                (Some(var), _) if cumulative(&old, var) => cumulative_opts(&old, var, allow, jobs),
                (Some(var), _) => {
                    let words = match doc.get(var).map(|a| a.value) {
                        Some(Value::Scalar(b)) => String::from_utf8_lossy(&b)
                            .split_whitespace()
                            .map(str::to_owned)
                            .collect(),
                        Some(_) => {
                            return Err(Error::Unsafe {
                                file: file.clone(),
                                line: doc.get(var).map_or(1, |a| a.line),
                                column: 1,
                                reason: format!(
                                    "{var} is not a plain string distsetup can rewrite"
                                ),
                            });
                        }
                        None => Vec::new(),
                    };
                    let value = with_allow_jobs(words, allow, jobs).join(" ");
                    doc.apply(&Edit::Set {
                        name: var.clone(),
                        value,
                    })
                    .map_err(|e| shconf_unsafe(file, e))?;
                    doc.to_bytes()
                }
                (None, Some(allow_var)) => {
                    let mut edits = vec![Edit::Set {
                        name: allow_var.clone(),
                        value: allow.join(" "),
                    }];
                    if let Some(j) = &v.jobs_variable {
                        edits.push(Edit::Set {
                            name: j.clone(),
                            value: jobs.to_string(),
                        });
                    }
                    // Debian's default listens on 127.0.0.1 only: useless for a volunteer.
                    edits.push(Edit::Set {
                        name: "LISTENER".into(),
                        value: listen.map_or_else(|| "0.0.0.0".into(), |l| l.to_string()),
                    });
                    // Debian's init script does nothing while STARTDISTCC is not "true".
                    if start && doc.get("STARTDISTCC").is_some() {
                        edits.push(Edit::Set {
                            name: "STARTDISTCC".into(),
                            value: "true".into(),
                        });
                    }
                    for e in &edits {
                        doc.apply(e).map_err(|e| shconf_unsafe(file, e))?;
                    }
                    doc.to_bytes()
                }
                (None, None) => old.clone(),
            }
        }
    };
    if original.as_deref() != Some(new.as_slice()) {
        plan.write_file_from(file, original.as_deref().unwrap_or_default(), new)?;
    }
    Ok(())
}

/// Gentoo's conf.d: `VAR="${VAR} ..."` lines that add to the value.
pub(super) fn cumulative(text: &[u8], var: &str) -> bool {
    let text = String::from_utf8_lossy(text);
    let (braced, bare) = (format!("{var}=\"${{{var}}}"), format!("{var}=\"${var}"));
    text.lines()
        .any(|l| l.starts_with(&braced) || l.starts_with(&bare))
}

/// Replace `--allow`/`--allow-private`/`--jobs`/`-j` in a word list, keeping the rest.
pub(super) fn with_allow_jobs(words: Vec<String>, allow: &[String], jobs: usize) -> Vec<String> {
    let mut out = strip_options(words, &["--allow", "--jobs", "-j"], &["--allow-private"]);
    for a in allow {
        out.push("--allow".into());
        out.push(a.clone());
    }
    out.push("--jobs".into());
    out.push(jobs.to_string());
    out
}

/// Remove the options in `with_value` (and their value) and the flags in `bare`.
pub(super) fn strip_options(words: Vec<String>, with_value: &[&str], bare: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if with_value.contains(&w.as_str()) {
            it.next();
        } else if bare.contains(&w.as_str())
            || with_value
                .iter()
                .any(|o| o.starts_with("--") && w.starts_with(&format!("{o}=")))
        {
        } else {
            out.push(w);
        }
    }
    out
}

/// Gentoo cumulative lines: rewrite the live lines that carry `--allow` or `--jobs`/`-N`-free
/// `--jobs` in place (only inside their quotes), then append what is still missing.
pub(super) fn cumulative_opts(old: &[u8], var: &str, allow: &[String], jobs: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(old);
    let prefix = format!("{var}=\"${{{var}}} ");
    let prefix_braceless = format!("{var}=\"${var} ");
    let mut out = String::new();
    let mut placed_allow = false;
    let mut placed_jobs = false;
    let allow_words: Vec<String> = allow
        .iter()
        .flat_map(|a| ["--allow".to_string(), a.clone()])
        .collect();
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = line.get(body.len()..).unwrap_or("");
        let rest = body
            .strip_prefix(&prefix)
            .or_else(|| body.strip_prefix(&prefix_braceless));
        let Some(inner) = rest.and_then(|r| r.strip_suffix('"')) else {
            out.push_str(line);
            continue;
        };
        let words: Vec<String> = inner.split_whitespace().map(str::to_owned).collect();
        let has_allow = words
            .iter()
            .any(|w| w == "--allow" || w == "--allow-private");
        let has_jobs = words.iter().any(|w| w == "--jobs" || w == "-j");
        if !has_allow && !has_jobs {
            out.push_str(line);
            continue;
        }
        let mut kept = strip_options(words, &["--allow", "--jobs", "-j"], &["--allow-private"]);
        if has_allow && !placed_allow {
            kept.extend(allow_words.iter().cloned());
            placed_allow = true;
        }
        if has_jobs && !placed_jobs {
            kept.extend(["--jobs".to_string(), jobs.to_string()]);
            placed_jobs = true;
        }
        if kept.is_empty() {
            continue;
        }
        let head = body
            .len()
            .checked_sub(inner.len() + 1)
            .and_then(|n| body.get(..n))
            .unwrap_or(&prefix);
        out.push_str(&format!("{head}{}\"{ending}", kept.join(" ")));
    }
    let mut extra = Vec::new();
    if !placed_allow {
        extra.extend(allow_words);
    }
    if !placed_jobs {
        extra.extend(["--jobs".to_string(), jobs.to_string()]);
    }
    if !extra.is_empty() {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "# Added by distsetup volunteer.\n{prefix}{}\"\n",
            extra.join(" ")
        ));
    }
    out.into_bytes()
}

/// Void's `/etc/distcc/clients.allow`: one entry per line; append the missing ones.
pub(super) fn allow_lines(old: &[u8], allow: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(old);
    let present: BTreeSet<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    let mut out = text.to_string();
    for a in allow {
        if !present.contains(a.as_str()) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(a);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Validate the allow list with the one allow-list parser ([`crate::allow`]); returns
/// the entries as written (distccd and serve take addresses and CIDRs alike), deduplicated.
pub(super) fn check_allow(allow: &[String], anyone: bool) -> Result<Vec<String>, Error> {
    crate::allow::parse_list(allow, anyone).map_err(|e| match e {
        crate::allow::Error::Empty => Error::NoAllow,
        crate::allow::Error::Everyone(a) => Error::AllowAnyone(a),
        other => Error::BadAllow(other),
    })?;
    let mut out: Vec<String> = Vec::new();
    for a in allow {
        if !out.contains(a) {
            out.push(a.clone());
        }
    }
    if out.is_empty() {
        out.push("0.0.0.0/0".into());
    }
    Ok(out)
}
