//! The alias links: the names a master asks for (its triple, plain gcc/cc, the
//! `--alias` triples) pointing at the toolchain, in distsetup's own directory; and
//! distccd's whitelist.

use super::*;

/// One name the volunteer answers for and the executable it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    pub(super) name: String,
    pub(super) target: PathBuf,
}

/// The profile's entry for the toolchain: by the name given, or by an `x-tools*` component
/// of the path (`/opt/x-tools8/aarch64-unknown-linux-gnu/bin`).
pub(super) fn known_entry<'a>(
    query: &str,
    located: &Located,
    known: &'a [KnownToolchain],
) -> Option<&'a KnownToolchain> {
    if let Some(k) = known.iter().find(|k| k.name == query) {
        return Some(k);
    }
    let in_path = |p: &Path| {
        p.components().rev().find_map(|c| {
            let s = c.as_os_str().to_str()?;
            known.iter().find(|k| k.name == s)
        })
    };
    in_path(Path::new(query)).or_else(|| in_path(&located.bin_dir))
}

/// The master's triples: the profile's `serves` plus `--alias MASTER=LOCAL`, checked.
pub(super) fn master_names(
    settings: &Settings,
    entry: Option<&KnownToolchain>,
    located: &Located,
    local_machine: &str,
    facts: &Facts,
) -> Result<Vec<String>, Error> {
    let mut masters: Vec<String> = Vec::new();
    let push = |m: &str, masters: &mut Vec<String>| {
        if m != located.prefix && !masters.iter().any(|x| x == m) {
            masters.push(m.to_owned());
        }
    };
    if let Some(k) = entry {
        for s in &k.serves {
            push(s, &mut masters);
        }
    }
    for a in &settings.aliases {
        let bad = |reason: String| Error::BadAlias {
            value: a.clone(),
            reason,
        };
        let (from, to) = a
            .split_once('=')
            .ok_or_else(|| bad("expected MASTER=LOCAL, e.g. armv7l-unknown-linux-gnueabihf=arm-unknown-linux-gnueabihf".into()))?;
        for (what, t) in [("MASTER", from), ("LOCAL", to)] {
            toolchain::check_triple(t)
                .map_err(|r| bad(format!("{what} `{t}` is not a triple: {r}")))?;
        }
        if to != located.prefix && !located.aliases.iter().any(|x| x == to) {
            return Err(bad(format!(
                "LOCAL must be this toolchain's prefix `{}`{}",
                located.prefix,
                if located.aliases.is_empty() {
                    String::new()
                } else {
                    format!(" (or {})", located.aliases.join(", "))
                }
            )));
        }
        push(from, &mut masters);
    }
    for m in &masters {
        // The more specific refusal first: a native name is also a foreign architecture.
        if let Some(native) = &facts.native_triple {
            let native_machine = toolchain::elf_machine_for_triple(native).unwrap_or("unknown");
            if m == native && native_machine != local_machine {
                return Err(Error::ShadowsNative {
                    name: m.clone(),
                    local: located.prefix.clone(),
                    native_machine: native_machine.into(),
                    local_machine: local_machine.into(),
                });
            }
        }
        if let Some(mm) = toolchain::elf_machine_for_triple(m) {
            if mm != local_machine {
                return Err(Error::WrongTarget {
                    master: m.clone(),
                    master_machine: mm.into(),
                    local: located.prefix.clone(),
                    local_machine: local_machine.into(),
                });
            }
        }
    }
    Ok(masters)
}

/// The executable the toolchain uses for `tool`: `PREFIX-tool`, or `PREFIX-gcc` for `cc`
/// and `PREFIX-g++` for `c++` when those are missing.
pub(super) fn tool_target(located: &Located, tool: &str) -> Option<PathBuf> {
    if let Some(p) = located.tools.get(tool) {
        return Some(p.clone());
    }
    let fallback = match tool {
        "cc" => "gcc",
        "c++" => "g++",
        _ => return None,
    };
    located.tools.get(fallback).cloned()
}

/// Every link of the alias directory: plain names, `PREFIX-*`, `MASTER-*`.
pub(super) fn alias_links(
    located: &Located,
    masters: &[String],
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Vec<Link> {
    let mut links = Vec::new();
    for tool in TOOLS {
        let Some(target) = tool_target(located, tool) else {
            if tool == "g++" {
                warnings.push(format!(
                    "{} has no {}-g++: C++ jobs will fail",
                    located.bin_dir.display(),
                    located.prefix
                ));
            }
            continue;
        };
        if !located.tools.contains_key(tool) {
            notes.push(format!(
                "{}-{tool} is missing in the toolchain: {}-{tool} → {}",
                located.prefix,
                located.prefix,
                target.display()
            ));
        }
        links.push(Link {
            name: tool.to_string(),
            target: target.clone(),
        });
        for prefix in std::iter::once(&located.prefix).chain(masters) {
            links.push(Link {
                name: format!("{prefix}-{tool}"),
                target: target.clone(),
            });
        }
    }
    links.sort_by(|a, b| a.name.cmp(&b.name));
    links
}

pub(super) fn mapping_text(links: &[Link], located: &Located) -> String {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for l in links {
        let prefix = l.name.rsplit_once('-').map_or("", |(p, _)| p);
        if prefix.is_empty() {
            names.insert("plain gcc/g++/cc/c++/cpp".into());
        } else if prefix != located.prefix {
            names.insert(format!("{prefix}-*"));
        }
    }
    format!(
        "{} → {}-*",
        names.into_iter().collect::<Vec<_>>().join(", "),
        located.prefix
    )
}

/// A link in our own alias directory: created, kept, or refused when something else is there.
pub(super) fn plan_owned_link(plan: &mut Plan, dir: &Path, link: &Link) -> Result<(), Error> {
    let path = dir.join(&link.name);
    match plan.root().state(&path)? {
        Before::Missing => Ok(plan.create_symlink(&path, &link.target)?),
        Before::Symlink(t) if t == link.target => Ok(()),
        Before::Symlink(t) => Err(Error::StaleLink {
            path: plan.root().path(&path),
            target: t,
            wanted: link.target.clone(),
            dir: plan.root().path(dir),
        }),
        _ => Err(Error::RealFile(plan.root().path(&path))),
    }
}

/// Whether the symlink at system path `path` with target `target` resolves under the root.
pub(super) fn resolves(root: &SysRoot, path: &Path, target: &Path) -> bool {
    let full = if target.is_absolute() {
        root.path(target)
    } else {
        root.path(path.parent().unwrap_or(Path::new("/")))
            .join(target)
    };
    std::fs::metadata(full).is_ok()
}

/// Whitelist links `/usr/lib/distcc/NAME → ../../bin/distcc` for each name.
pub(super) fn plan_whitelist(
    root: &SysRoot,
    plan: &mut Plan,
    profile: &Profile,
    names: &[&str],
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let dir = &profile.volunteer.whitelist_dir;
    ensure_dir(plan, dir)?;
    let mut existing = Vec::new();
    let target = Path::new(WHITELIST_TARGET);
    for name in names {
        let path = dir.join(name);
        match root.state(&path)? {
            Before::Missing => plan.create_symlink(&path, target)?,
            Before::Symlink(t) if t == target => existing.push((*name).to_string()),
            Before::Symlink(t) if !resolves(root, &path, &t) => {
                return Err(Error::BrokenSymlink {
                    path: root.path(&path),
                    target: t,
                });
            }
            Before::Dir => return Err(Error::RealFile(root.path(&path))),
            _ => existing.push((*name).to_string()),
        }
    }
    if !existing.is_empty() {
        notes.push(format!(
            "already whitelisted in {}: {}",
            dir.display(),
            existing.join(" ")
        ));
    }
    notes.push(format!(
        "whitelist links in {dir} may be removed by update-distcc-symlinks (Debian) or distcc-config \
         (Gentoo) after a compiler upgrade; run this command again to restore them",
        dir = dir.display()
    ));
    Ok(())
}
