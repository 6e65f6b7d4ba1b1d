//! The master side of `doctor`: configuration, hosts, probe compiles, speed.

use std::path::PathBuf;

use super::elf::ObjectFacts;
use super::hosts::{describe, dumpmachine, local_facts};
use super::vars::{Vars, jobs_of};
use super::{Event, Finding, Progress, Report, Settings, Speed, Status, flush, read_text};
use crate::hostspec::{self, Transport};
use crate::shconf::{Dialect, Value};

/// What the master's configuration says, as far as the later checks need it.
struct Config {
    /// DISTCC_HOSTS from makepkg's files, and the file.
    makepkg_hosts: Option<(String, PathBuf)>,
    /// `-jN` and the variable it came from.
    jobs: Option<(u32, String)>,
    /// The compiler flags variables.
    flags: Vars,
}

pub(super) fn check(s: &Settings, bar: &dyn Progress, emit: &mut dyn FnMut(Event<'_>)) -> Report {
    let mut f: Vec<Finding> = Vec::new();
    let mut emitted = 0;
    let config = check_config(s, &mut f);
    flush(&f, &mut emitted, emit);
    let Some((text, origin)) = host_list(s, config.makepkg_hosts.clone(), &mut f) else {
        flush(&f, &mut emitted, emit);
        return report(s, None, None, f, Vec::new());
    };
    let list = match hostspec::parse(&text) {
        Ok(l) => l,
        Err(e) => {
            f.push(Finding::new(
                "hosts",
                origin.clone(),
                Status::Broken,
                e.to_string(),
            ));
            let shown = without_comments(&text);
            emit(Event::Hosts {
                list: &shown,
                origin: &origin,
            });
            flush(&f, &mut emitted, emit);
            return report(s, Some(shown), Some(origin), f, Vec::new());
        }
    };
    // +zeroconf: what is discovered now joins the probes as fixed hosts.
    let zeroconf = list
        .entries
        .iter()
        .any(|e| matches!(e.item, hostspec::Item::Zeroconf));
    let probed = super::zeroconf::expand(s, &list, &text, &mut f);
    let list = hostspec::parse(&probed).unwrap_or(list);
    let shown = zeroconf
        .then(|| "+zeroconf".to_string())
        .into_iter()
        .chain(list.hosts().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join(" ");
    emit(Event::Hosts {
        list: &shown,
        origin: &origin,
    });
    let remote: Vec<&hostspec::Host> = list
        .hosts()
        .filter(|h| !matches!(h.transport, Transport::Local))
        .collect();
    let listed = list.hosts().next().is_some();
    let localhost_slots: usize = list
        .hosts()
        .filter(|h| matches!(h.transport, Transport::Local))
        .map(|h| h.effective_limit() as usize)
        .sum();
    check_slots(
        s,
        &config,
        (&remote, localhost_slots),
        (listed, zeroconf),
        &origin,
        &mut f,
    );
    let local_cc = local_reference(s);
    let local = local_facts(&local_cc);
    let remote_name = local_compiler(s, &local_cc, local.as_ref(), &mut f);
    flush(&f, &mut emitted, emit);
    let Some(remote_name) = remote_name else {
        return report(s, Some(shown), Some(origin), f, Vec::new());
    };
    let speeds = super::hosts::probe_all(
        s,
        &remote,
        &remote_name,
        local.as_ref(),
        bar,
        &mut |mut found| {
            f.append(&mut found);
            flush(&f, &mut emitted, emit);
        },
    );
    report(s, Some(shown), Some(origin), f, speeds)
}

/// A host list as written, comments and line breaks dropped.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The compiler the remote ones are compared with: `--compiler`, else the compiler of
/// the name sent to the hosts when it exists here (`--remote-compiler
/// aarch64-linux-gnu-gcc` is compared with this machine's aarch64-linux-gnu-gcc, not
/// with its native cc), else `cc`.
fn local_reference(s: &Settings) -> String {
    if let Some(cc) = &s.compiler {
        return cc.clone();
    }
    s.remote_compiler
        .clone()
        .filter(|name| dumpmachine(name).is_some())
        .unwrap_or_else(|| "cc".to_string())
}

/// makepkg's and Portage's settings, read from the files they read.
fn check_config(s: &Settings, f: &mut Vec<Finding>) -> Config {
    let client = &s.profile.client;
    let root = &s.root;
    let mut makepkg_hosts: Option<(String, PathBuf)> = None;
    let mut jobs: Option<(u32, String)> = None;
    let mut flags = Vars::empty();
    if let Some(m) = &client.makepkg {
        let readable = match root.read_file(&m.config) {
            Ok(found) => found.is_some(),
            Err(e) => {
                cannot_check(
                    &m.config,
                    &e.to_string(),
                    &["switch", "jobs", "masquerade"],
                    f,
                );
                false
            }
        };
        if readable {
            // What makepkg sources, in its order (drop-ins and the user's file included).
            let files = crate::loadorder::makepkg(root, m)
                .map(|o| o.all(root))
                .unwrap_or_else(|_| vec![m.config.clone()]);
            let names = [
                m.enable.variable.as_str(),
                m.hosts_variable.as_str(),
                m.jobs_variable.as_str(),
                "CFLAGS",
                "CXXFLAGS",
            ];
            let vars = Vars::read(root, &files, Dialect::Bash, &names);
            crlf_findings(&vars, f);
            check_switch(&vars, &m.enable, "makepkg", &s.profile.name, f);
            if let Some((Value::Scalar(v), file)) = vars.get(&m.hosts_variable) {
                if v.iter().all(u8::is_ascii_whitespace) {
                    f.push(
                        Finding::new(
                            "hosts-var",
                            file.display().to_string(),
                            Status::Broken,
                            format!("{}=\"\" is empty: distcc takes it as \"no hosts\" and ignores the hosts file", m.hosts_variable),
                        )
                        .hint(format!("distsetup master --profile {} --hosts '...'", s.profile.name)),
                    );
                } else {
                    makepkg_hosts = Some((String::from_utf8_lossy(v).into_owned(), file.clone()));
                }
            }
            jobs = vars
                .scalar(&m.jobs_variable)
                .and_then(|v| jobs_of(&v))
                .map(|n| (n, m.jobs_variable.clone()));
            if jobs.is_none() {
                f.push(Finding::new(
                    "jobs",
                    m.jobs_variable.clone(),
                    Status::Warn,
                    format!("no -j in {}: make runs one job at a time and distcc has nothing to spread", m.jobs_variable),
                ).hint(format!("distsetup master --profile {}", s.profile.name)));
            }
            check_masquerade(s, f);
            flags = vars;
        }
    }
    if let Some(p) = &client.portage {
        // What Portage reads: /etc/make.conf, then make.conf (a directory recursively).
        let files = crate::loadorder::portage(root, p)
            .map(|o| o.all())
            .unwrap_or_default();
        if !files.is_empty() {
            let names = [
                p.enable.variable.as_str(),
                p.jobs_variable.as_str(),
                "CFLAGS",
                "CXXFLAGS",
                "COMMON_FLAGS",
            ];
            // Portage's own reading (getconfig's model), the one `master` edits by.
            let vars = match Vars::portage(root, &files, &names) {
                Ok(v) => v,
                Err(why) => {
                    f.push(
                        Finding::new(
                            "switch",
                            p.config.display().to_string(),
                            Status::Broken,
                            why.to_string(),
                        )
                        .hint("fix the file at that line (emerge stops there)"),
                    );
                    Vars::empty()
                }
            };
            check_switch(&vars, &p.enable, "portage", &s.profile.name, f);
            jobs = vars
                .scalar(&p.jobs_variable)
                .and_then(|v| jobs_of(&v))
                .map(|n| (n, p.jobs_variable.clone()));
            flags = vars;
        }
    }
    Config {
        makepkg_hosts,
        jobs,
        flags,
    }
}

/// Checks that could not run, each said as such (a warning), with why.
pub(super) fn cannot_check(
    file: &std::path::Path,
    why: &str,
    checks: &[&'static str],
    f: &mut Vec<Finding>,
) {
    for check in checks {
        f.push(
            Finding::new(
                check,
                file.display().to_string(),
                Status::Warn,
                format!("not checked: {why}"),
            )
            .hint("run doctor as root (sudo distsetup doctor) to read it"),
        );
    }
}

/// The host list to check and where it came from; `None` (with a finding) when there is
/// none.
fn host_list(
    s: &Settings,
    makepkg_hosts: Option<(String, PathBuf)>,
    f: &mut Vec<Finding>,
) -> Option<(String, String)> {
    let client = &s.profile.client;
    let env_hosts = std::env::var("DISTCC_HOSTS")
        .ok()
        .filter(|v| !v.trim().is_empty());
    if let Some(h) = &s.hosts {
        Some((h.clone(), "--hosts".to_string()))
    } else if let Some((v, file)) = makepkg_hosts {
        Some((v, format!("DISTCC_HOSTS in {}", file.display())))
    } else if let Some(t) = read_text(&s.root, &client.hosts_file).filter(|t| {
        hostspec::parse(t).is_ok_and(|l| {
            l.hosts().next().is_some()
                || l.entries.iter().any(|e| e.item == hostspec::Item::Zeroconf)
        })
    }) {
        Some((t, client.hosts_file.display().to_string()))
    } else if let Some(e) = env_hosts {
        Some((e, "the DISTCC_HOSTS environment variable".to_string()))
    } else {
        f.push(
            Finding::new(
                "hosts",
                "host list",
                Status::Broken,
                "no hosts configured: distcc compiles everything locally",
            )
            .hint(format!(
                "distsetup master --profile {} --hosts 'HOST/LIMIT ...'",
                s.profile.name
            )),
        );
        None
    }
}

/// Remote slots against -j, and -march=native in the flags.
fn check_slots(
    s: &Settings,
    config: &Config,
    (remote, localhost_slots): (&[&hostspec::Host], usize),
    (listed, zeroconf): (bool, bool),
    origin: &str,
    f: &mut Vec<Finding>,
) {
    let flags = &config.flags;
    let slots: u32 = remote.iter().map(|h| h.effective_limit()).sum();
    if !listed && !zeroconf {
        f.push(Finding::new(
            "hosts",
            origin,
            Status::Broken,
            "the list is empty (no hosts, or only comments): distcc compiles everything locally",
        ));
    } else if remote.is_empty() && !zeroconf {
        // With +zeroconf, the zeroconf findings say what was (not) discovered and why.
        f.push(Finding::new(
            "hosts",
            origin,
            Status::Broken,
            "only localhost is listed: nothing is distributed",
        ));
    }
    if let Some((n, var)) = &config.jobs {
        f.push(judge_jobs(s, *n, (slots as usize, localhost_slots), var));
    }
    if !remote.is_empty() {
        for name in ["CFLAGS", "CXXFLAGS", "COMMON_FLAGS"] {
            if let Some(v) = flags.scalar(name) {
                if v.contains("-march=native") || v.contains("-mtune=native") {
                    f.push(Finding::new(
                        "native",
                        name,
                        Status::Warn,
                        format!("{name} has -march=native/-mtune=native: the volunteers do not know this CPU; distcc compiles such units locally or the volunteers tune for their own CPU"),
                    ).hint("distsetup master prints the explicit flags to use instead"));
                }
            }
        }
    }
}

/// `-jN` judged by the rule `master --jobs auto` applies (the profile's, on this
/// machine's cores): below it is a warning whose fix, `master --jobs auto`, changes it.
fn judge_jobs(
    s: &Settings,
    n: u32,
    (slots, localhost_slots): (usize, usize),
    var: &str,
) -> Finding {
    let rule = s.profile.jobs.rule;
    let cores = s
        .local_cores
        .or_else(|| crate::cores::detect().ok().map(|c| c.usable));
    let Some(cores) = cores else {
        return Finding::new(
            "jobs",
            var,
            Status::Warn,
            format!(
                "-j{n} for {slots} remote slots; not judged: cannot count this machine's cores"
            ),
        );
    };
    let advice = rule.advise_slots(cores, slots, localhost_slots);
    let text = format!(
        "-j{n} for {slots} remote slots ({}: {})",
        rule.summary(),
        advice.reasoning
    );
    if (n as usize) < advice.jobs {
        Finding::new("jobs", var, Status::Warn, text).hint(format!(
            "distsetup master --profile {} --jobs auto (sets -j{})",
            s.profile.name, advice.jobs
        ))
    } else {
        Finding::new("jobs", var, Status::Ok, text)
    }
}

/// The local compiler's facts as a finding; the name to send to the hosts, or `None`
/// (with a finding) when the local compiler cannot say its triple.
fn local_compiler(
    s: &Settings,
    cc: &str,
    local: Option<&ObjectFacts>,
    f: &mut Vec<Finding>,
) -> Option<String> {
    let remote_name = s
        .remote_compiler
        .clone()
        .or_else(|| dumpmachine(cc).map(|t| format!("{t}-gcc")));
    match local {
        Some(l) => f.push(Finding::new(
            "local",
            cc.to_string(),
            Status::Ok,
            describe(l),
        )),
        None => f.push(Finding::new(
            "local",
            cc.to_string(),
            Status::Warn,
            "could not compile the probe locally: remote compilers are not compared",
        )),
    }
    if remote_name.is_none() {
        f.push(
            Finding::new(
                "local",
                cc.to_string(),
                Status::Broken,
                "cannot run the local compiler (-dumpmachine)",
            )
            .hint("pass --compiler CC or --remote-compiler NAME"),
        );
    }
    remote_name
}

/// The cluster benchmark (README, How fast): one `localhost` slot paid when the master
/// compiled as fast as its slowest volunteer, and cost when it was twice as slow.
const KEEP_LOCALHOST_WITHIN: f64 = 1.5;

fn report(
    s: &Settings,
    hosts: Option<String>,
    origin: Option<String>,
    findings: Vec<Finding>,
    mut speed: Vec<Speed>,
) -> Report {
    speed.sort_by(|a, b| b.throughput.total_cmp(&a.throughput));
    let proposed = (!speed.is_empty()).then(|| {
        let mut line: Vec<String> = speed
            .iter()
            .map(|sp| {
                format!(
                    "{}/{}{}",
                    sp.host,
                    sp.limit,
                    if sp.lzo { ",lzo" } else { "" }
                )
            })
            .collect();
        // Fastest first; the master keeps a slot only when it is not the slow machine.
        let slowest = speed.iter().map(|sp| sp.compile_ms).fold(0.0, f64::max);
        if super::probe::local_compile_ms(&local_reference(s), s.speed_rounds)
            .is_some_and(|ms| ms <= KEEP_LOCALHOST_WITHIN * slowest)
        {
            line.push("localhost/1".into());
        }
        line.join(" ")
    });
    Report {
        role: "master",
        profile: s.profile.name.clone(),
        hosts,
        hosts_origin: origin,
        findings,
        speed,
        proposed_hosts: proposed,
    }
}

/// A config with CRLF line endings: bash keeps the CR, so `BUILDENV=(...)` becomes a
/// string and nothing in the file means what it says.
fn crlf_findings(vars: &Vars, f: &mut Vec<Finding>) {
    for (file, line) in &vars.2 {
        f.push(
            Finding::new(
                "crlf",
                format!("{}:{line}", file.display()),
                Status::Broken,
                "CRLF (Windows) line endings: bash keeps the \\r in every value, so this file's settings do not work (BUILDENV=(...)\\r is a string, not an array)".to_string(),
            )
            .hint(format!("sed -i 's/\\r$//' {}", file.display())),
        );
    }
}

fn check_switch(
    vars: &Vars,
    sw: &crate::profile::Switch,
    tool: &str,
    profile: &str,
    f: &mut Vec<Finding>,
) {
    let subject = vars.get(&sw.variable).map_or_else(
        || sw.variable.clone(),
        |(_, file)| format!("{} in {}", sw.variable, file.display()),
    );
    let fix = format!("distsetup master --profile {profile}");
    match vars.words(&sw.variable) {
        None if vars.get(&sw.variable).is_some() => f.push(Finding::new(
            "switch",
            subject,
            Status::Warn,
            format!(
                "{} is computed at run time; cannot tell whether {tool} uses distcc",
                sw.variable
            ),
        )),
        None => f.push(
            Finding::new(
                "switch",
                subject,
                Status::Broken,
                format!("{} is not set: {tool} does not use distcc", sw.variable),
            )
            .hint(fix),
        ),
        Some(words) => {
            // The last mention decides (`FEATURES="distcc -distcc"` is off).
            let last = words
                .iter()
                .rev()
                .find(|w| **w == sw.word || Some(*w) == sw.negated.as_ref());
            match last {
                Some(w) if *w == sw.word => f.push(Finding::new(
                    "switch",
                    subject,
                    Status::Ok,
                    format!("{} has {}: {tool} uses distcc", sw.variable, sw.word),
                )),
                Some(w) => f.push(
                    Finding::new(
                        "switch",
                        subject,
                        Status::Broken,
                        format!("{} has {w}: {tool} builds everything locally", sw.variable),
                    )
                    .hint(fix),
                ),
                None => f.push(
                    Finding::new(
                        "switch",
                        subject,
                        Status::Broken,
                        format!(
                            "{} lacks {}: {tool} builds everything locally",
                            sw.variable, sw.word
                        ),
                    )
                    .hint(fix),
                ),
            }
        }
    }
}

/// makepkg puts the masquerade directory first in PATH; without `cc`/`gcc` in it the
/// compiler is the real one and nothing is distributed (Debian ships no such directory).
fn check_masquerade(s: &Settings, f: &mut Vec<Finding>) {
    let Some(dir) = &s.profile.client.masquerade_dir else {
        return;
    };
    let real = s.root.path(dir);
    let present: Vec<&str> = ["cc", "gcc", "c++", "g++"]
        .into_iter()
        .filter(|n| std::fs::symlink_metadata(real.join(n)).is_ok())
        .collect();
    if !(present.contains(&"cc") || present.contains(&"gcc")) {
        f.push(
            Finding::new(
                "masquerade",
                dir.display().to_string(),
                Status::Broken,
                "missing or without cc/gcc: makepkg puts it first in PATH, so with BUILDENV=(distcc) the real compiler still runs locally",
            )
            .hint(if s.profile.client.masquerade_shipped {
                "install distcc: its package ships this directory".to_string()
            } else {
                format!("distsetup master --profile {} creates it", s.profile.name)
            }),
        );
        return;
    }
    // The links must reach distcc (inside the root: an absolute target is a system path).
    let dangling: Vec<&str> = present
        .iter()
        .copied()
        .filter(|n| {
            let link = real.join(n);
            match std::fs::read_link(&link) {
                Ok(t) if t.is_absolute() => std::fs::metadata(s.root.path(&t)).is_err(),
                Ok(_) => std::fs::metadata(&link).is_err(),
                Err(_) => false,
            }
        })
        .collect();
    if dangling.is_empty() {
        f.push(Finding::new(
            "masquerade",
            dir.display().to_string(),
            Status::Ok,
            format!(
                "present ({}): makepkg's PATH reaches distcc",
                present.join(" ")
            ),
        ));
    } else {
        f.push(
            Finding::new(
                "masquerade",
                dir.display().to_string(),
                Status::Broken,
                format!(
                    "{} point to nothing: is distcc installed?",
                    dangling.join(" ")
                ),
            )
            .hint("install distcc, then rerun distsetup master"),
        );
    }
}
