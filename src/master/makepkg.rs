//! makepkg: BUILDENV, DISTCC_HOSTS and MAKEFLAGS in makepkg.conf or a drop-in, and the
//! masquerade directory on Debian.

use super::*;

pub(super) fn by_hand_makepkg(m: &Makepkg, hosts: &Hosts, advice: &JobsAdvice) -> String {
    format!(
        "put `{}` in {} (in place of `{}`), and set {}=\"{}\" and {}=\"{}\"",
        m.enable.word,
        m.enable.variable,
        m.enable.negated.as_deref().unwrap_or("nothing"),
        m.hosts_variable,
        hosts.spec,
        m.jobs_variable,
        advice.flags()
    )
}

/// Refuse a BUILDENV whose value bash cannot be known to have.
pub(super) fn check_static_array(
    f: &ConfFile,
    var: &str,
    by_hand: &str,
) -> Result<Option<Vec<String>>, Error> {
    let unsafe_at = |line: usize, column: usize, reason: String| Error::Unsafe {
        file: f.path.clone(),
        line,
        column,
        reason,
        by_hand: by_hand.to_string(),
    };
    for a in f.doc.assignments().iter().filter(|a| a.name == var) {
        if a.scope != Scope::TopLevel {
            return Err(unsafe_at(
                a.line,
                a.column,
                format!(
                    "{var} is assigned inside {}, so its value depends on what happens when makepkg runs",
                    if a.scope == Scope::Function {
                        "a function"
                    } else {
                        "an `if`, `case` or loop"
                    }
                ),
            ));
        }
        if a.append {
            return Err(unsafe_at(
                a.line,
                a.column,
                format!("{var}+=(…) appends to a list set in another file"),
            ));
        }
    }
    let Some(info) = f.doc.get(var) else {
        return Ok(None);
    };
    match info.value {
        Value::Array(v) => Ok(Some(
            v.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect(),
        )),
        Value::Scalar(_) => Err(unsafe_at(
            info.line,
            info.column,
            format!("{var} is a string, but makepkg wants an array"),
        )),
        Value::Dynamic { reason } => Err(unsafe_at(
            info.line,
            info.column,
            format!("{var} is dynamic: {reason}"),
        )),
    }
}

pub(super) fn enable_word(
    mut words: Vec<String>,
    word: &str,
    negated: Option<&str>,
) -> Vec<String> {
    let mut found = false;
    for w in words.iter_mut() {
        if Some(w.as_str()) == negated {
            *w = word.to_string();
        }
        found |= w == word;
    }
    if !found {
        words.insert(0, word.to_string());
    }
    words
}

pub(super) const DROPIN_HEADER: &str = "#!/hint/bash
# distcc for makepkg, written by `distsetup master`.
# makepkg reads this file after makepkg.conf and the drop-ins sorting before it, so
# BUILDENV below is their whole list with distcc switched on. Run `distsetup master`
# again after changing makepkg.conf: it recomputes this file and shows the difference.
";

#[allow(clippy::too_many_arguments)]
/// What both ways of configuring makepkg share.
struct Job<'a> {
    m: &'a Makepkg,
    hosts: &'a Hosts,
    advice: &'a JobsAdvice,
    by_hand: String,
    /// The per-user makepkg.conf files, read last.
    users: Vec<ConfFile>,
    /// `--ccache`: `ccache` goes into BUILDENV too.
    ccache: bool,
    /// `--relay`: the client's variables, exported.
    relay: bool,
}

/// makepkg's build option for ccache, and its negation.
const CCACHE_WORD: &str = "ccache";
const CCACHE_NEGATED: &str = "!ccache";

impl Job<'_> {
    fn var(&self) -> &str {
        self.m.enable.variable.as_str()
    }

    fn watched(&self) -> [&str; 3] {
        [
            self.var(),
            self.m.hosts_variable.as_str(),
            self.m.jobs_variable.as_str(),
        ]
    }

    /// DISTCC_HOSTS and MAKEFLAGS.
    fn scalar_edits(&self) -> [Edit; 2] {
        [
            Edit::Set {
                name: self.m.hosts_variable.clone(),
                value: self.hosts.spec.clone(),
            },
            Edit::Set {
                name: self.m.jobs_variable.clone(),
                value: self.advice.flags(),
            },
        ]
    }
}

pub(super) fn plan_makepkg(
    settings: &Settings,
    m: &Makepkg,
    main: ConfFile,
    hosts: &Hosts,
    advice: &JobsAdvice,
    facts: &Facts,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    let order = crate::loadorder::makepkg(root, m)?;
    let users: Vec<ConfFile> = order
        .users
        .iter()
        .map(|p| ConfFile::read(root, p, Dialect::Bash))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let job = Job {
        m,
        hosts,
        advice,
        by_hand: by_hand_makepkg(m, hosts, advice),
        users,
        ccache: settings.ccache.is_some(),
        relay: settings.relay.is_some(),
    };
    warn_native(&[&main], hosts, facts, &mut report.warnings);
    match &order.dropin_dir {
        Some(dir) => plan_dropin(root, &job, &main, dir, &order.dropins, report),
        None => plan_in_place(&job, main, report),
    }
}

/// pacman >= 6.1: a drop-in `distcc.conf` with a full static BUILDENV, makepkg.conf left
/// as it is.
fn plan_dropin(
    root: &SysRoot,
    job: &Job,
    main: &ConfFile,
    dir: &Path,
    dropin_paths: &[PathBuf],
    report: &mut Report,
) -> Result<(), Error> {
    let (m, var, by_hand) = (job.m, job.var(), job.by_hand.as_str());
    let ours = dir.join(DROPIN_NAME);
    let mut dropins = Vec::new();
    for p in dropin_paths {
        dropins.extend(ConfFile::read(root, p, Dialect::Bash)?);
    }
    let (earlier, rest): (Vec<ConfFile>, Vec<ConfFile>) = dropins
        .into_iter()
        .partition(|f| f.path.file_name() < ours.file_name());
    let (existing, later): (Vec<ConfFile>, Vec<ConfFile>) =
        rest.into_iter().partition(|f| f.path == ours);
    let mut words = check_static_array(main, var, by_hand)?.unwrap_or_default();
    for f in &earlier {
        if let Some(w) = check_static_array(f, var, by_hand)? {
            words = w;
        }
    }
    let mut words = enable_word(words, &m.enable.word, m.enable.negated.as_deref());
    if job.ccache {
        words = enable_word(words, CCACHE_WORD, Some(CCACHE_NEGATED));
    }
    let watched = job.watched();
    warn_overrides(
        &later,
        &watched,
        "makepkg reads it after distcc.conf",
        &mut report.warnings,
    );
    warn_overrides(
        &job.users,
        &watched,
        "makepkg reads it last",
        &mut report.warnings,
    );
    report.notes.push(format!(
        "makepkg: {} exists, so the settings go into the drop-in {} \
         (pacman upgrades never touch it); {} is left as it is",
        dir.display(),
        ours.display(),
        m.config.display()
    ));
    let mut file = match existing.into_iter().next() {
        Some(f) => f,
        None => ConfFile {
            path: ours.clone(),
            doc: Document::parse(DROPIN_HEADER.as_bytes(), Dialect::Bash)
                .map_err(|e| shconf_unsafe(&ours, e, by_hand))?,
            original: Vec::new(),
        },
    };
    let mut edits = vec![Edit::SetArray {
        name: var.to_string(),
        values: words,
    }];
    edits.extend(job.scalar_edits());
    apply_edits(&mut file, &edits, by_hand)?;
    if job.relay {
        super::relay::export_in_bash(&mut file, by_hand)?;
    }
    write_conf(&mut report.plan, file)
}

/// No drop-in directory: edit makepkg.conf itself.
fn plan_in_place(job: &Job, mut main: ConfFile, report: &mut Report) -> Result<(), Error> {
    let (m, var, by_hand) = (job.m, job.var(), job.by_hand.as_str());
    if m.dropin_dir.is_none() {
        report.notes.push(format!(
            "makepkg: editing {} in place (this profile's makepkg reads no drop-in directory)",
            m.config.display()
        ));
    } else {
        report.notes.push(format!(
            "makepkg: no drop-in directory under the root, so {} is edited in place",
            m.config.display()
        ));
    }
    warn_overrides(
        &job.users,
        &job.watched(),
        "makepkg reads it last",
        &mut report.warnings,
    );
    check_static_array(&main, var, by_hand)?;
    let mut edits = vec![Edit::Enable {
        name: var.to_string(),
        word: m.enable.word.clone(),
    }];
    if job.ccache {
        edits.push(Edit::Enable {
            name: var.to_string(),
            word: CCACHE_WORD.into(),
        });
    }
    edits.extend(job.scalar_edits());
    apply_edits(&mut main, &edits, by_hand)?;
    if job.relay {
        super::relay::export_in_bash(&mut main, by_hand)?;
    }
    // The word edit works on the effective assignment; make sure bash ends up seeing it.
    let negated = m.enable.negated.as_deref();
    if let Some(words) = check_static_array(&main, var, by_hand)? {
        if negated.is_some_and(|n| words.iter().any(|w| w == n)) {
            return Err(Error::Unsafe {
                file: main.path.clone(),
                line: main.assigns(var).unwrap_or(1),
                column: 1,
                reason: format!("{var} would still hold `{}`", negated.unwrap_or_default()),
                by_hand: by_hand.to_string(),
            });
        }
    }
    write_conf(&mut report.plan, main)
}

/// The masquerade links makepkg needs where the distro does not ship them.
pub(super) fn plan_masquerade(
    settings: &Settings,
    dir: &Path,
    report: &mut Report,
) -> Result<(), Error> {
    let root = &settings.root;
    let distcc = Path::new("/usr/bin/distcc");
    let mut names: Vec<String> = ["gcc", "cc", "g++", "c++"].map(String::from).to_vec();
    for t in &settings.profile.client.triples {
        for c in ["gcc", "g++"] {
            let name = format!("{}-{c}", t.triple);
            if root.path(&Path::new("/usr/bin").join(&name)).exists() && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let target = plan_links(root, dir, distcc, &names, report)?;
    report.notes.push(format!(
        "masquerade: {} gets {} → {} (makepkg puts this directory first in PATH; \
         this distro's distcc package does not create it)",
        dir.display(),
        names.join(", "),
        target.display()
    ));
    Ok(())
}

/// Links `dir/NAME` → `tool` (relative, so they stay right in a chroot or bind-mounted)
/// for each name; a name taken by something else is left alone with a warning. Returns
/// the link target.
pub(super) fn plan_links(
    root: &SysRoot,
    dir: &Path,
    tool: &Path,
    names: &[String],
    report: &mut Report,
) -> Result<PathBuf, Error> {
    let tool_name = tool.file_name().unwrap_or_default().to_string_lossy();
    if !root.path(tool).exists() {
        report.warnings.push(format!(
            "{} is missing under {}: install {tool_name}, the links in {} point to it",
            tool.display(),
            root.dir().display(),
            dir.display()
        ));
    }
    ensure_dir(&mut report.plan, dir)?;
    let target = relative_target(dir, tool);
    for name in names {
        let link = dir.join(name);
        match root.state(&link)? {
            Before::Missing => report.plan.create_symlink(&link, &target)?,
            Before::Symlink(t) if t.file_name() == tool.file_name() => {}
            _ => report.warnings.push(format!(
                "{} exists and is not a link to {tool_name}; left alone, so {name} will not \
                 go through it",
                link.display()
            )),
        }
    }
    Ok(target)
}
