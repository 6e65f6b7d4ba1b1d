//! The master side of `doctor`: configuration, hosts, probe compiles, speed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::elf::{self, ObjectFacts};
use super::probe;
use super::vars::{Vars, jobs_of};
use super::{Finding, Progress, Report, Settings, Speed, Status, read_text};
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

pub(super) fn check(s: &Settings, bar: &dyn Progress) -> Report {
    let mut f: Vec<Finding> = Vec::new();
    let config = check_config(s, &mut f);
    let Some((text, origin)) = host_list(s, config.makepkg_hosts.clone(), &mut f) else {
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
            return report(s, Some(text), Some(origin), f, Vec::new());
        }
    };
    let remote: Vec<&hostspec::Host> = list
        .hosts()
        .filter(|h| !matches!(h.transport, Transport::Local))
        .collect();
    check_slots(s, &config, &remote, &origin, &mut f);
    let local = local_facts(&s.compiler);
    let Some(remote_name) = local_compiler(s, local.as_ref(), &mut f) else {
        return report(s, Some(text), Some(origin), f, Vec::new());
    };
    let speeds = probe_all(s, &remote, &remote_name, local.as_ref(), bar, &mut f);
    report(s, Some(text), Some(origin), f, speeds)
}

/// makepkg's and Portage's settings, read from the files they read.
fn check_config(s: &Settings, f: &mut Vec<Finding>) -> Config {
    let client = &s.profile.client;
    let root = &s.root;
    let mut makepkg_hosts: Option<(String, PathBuf)> = None;
    let mut jobs: Option<(u32, String)> = None;
    let mut flags = Vars::empty();
    if let Some(m) = &client.makepkg {
        if root.read_file(&m.config).ok().flatten().is_some() {
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
            let vars = Vars::read(root, &files, Dialect::Portage, &names);
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
    } else if let Some(t) = read_text(&s.root, &client.hosts_file)
        .filter(|t| hostspec::parse(t).is_ok_and(|l| l.hosts().next().is_some()))
    {
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
    remote: &[&hostspec::Host],
    origin: &str,
    f: &mut Vec<Finding>,
) {
    let flags = &config.flags;
    let slots: u32 = remote.iter().map(|h| h.effective_limit()).sum();
    if remote.is_empty() {
        f.push(Finding::new(
            "hosts",
            origin,
            Status::Broken,
            "only localhost is listed: nothing is distributed",
        ));
    }
    if let Some((n, var)) = &config.jobs {
        let status = if *n <= 1 || (*n as u64) * 2 < u64::from(slots) {
            Status::Warn
        } else {
            Status::Ok
        };
        let mut finding = Finding::new(
            "jobs",
            var.clone(),
            status,
            format!("-j{n} for {slots} remote slots"),
        );
        if status == Status::Warn {
            finding = finding.hint(format!(
                "distsetup master --profile {} --jobs auto",
                s.profile.name
            ));
        }
        f.push(finding);
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

/// The local compiler's facts as a finding; the name to send to the hosts, or `None`
/// (with a finding) when the local compiler cannot say its triple.
fn local_compiler(
    s: &Settings,
    local: Option<&ObjectFacts>,
    f: &mut Vec<Finding>,
) -> Option<String> {
    let remote_name = s
        .remote_compiler
        .clone()
        .or_else(|| dumpmachine(&s.compiler).map(|t| format!("{t}-gcc")));
    match local {
        Some(l) => f.push(Finding::new(
            "local",
            s.compiler.clone(),
            Status::Ok,
            describe(l),
        )),
        None => f.push(Finding::new(
            "local",
            s.compiler.clone(),
            Status::Warn,
            "could not compile the probe locally: remote compilers are not compared",
        )),
    }
    if remote_name.is_none() {
        f.push(
            Finding::new(
                "local",
                s.compiler.clone(),
                Status::Broken,
                "cannot run the local compiler (-dumpmachine)",
            )
            .hint("pass --compiler CC or --remote-compiler NAME"),
        );
    }
    remote_name
}

/// Probe every TCP host; ssh hosts get a warning.
fn probe_all(
    s: &Settings,
    remote: &[&hostspec::Host],
    remote_name: &str,
    local: Option<&ObjectFacts>,
    bar: &dyn Progress,
    f: &mut Vec<Finding>,
) -> Vec<Speed> {
    bar.begin(remote.len() as u64, "probing hosts");
    let mut speeds = Vec::new();
    for h in remote {
        let (host, port) = match &h.transport {
            Transport::Tcp { host, .. } => (host.clone(), h.effective_port().unwrap_or(3632)),
            Transport::Ssh { user, host, .. } => {
                f.push(Finding::new(
                    "reachable",
                    format!("{user}@{host}"),
                    Status::Warn,
                    "ssh host: not probed (the probe speaks TCP)",
                ));
                bar.step();
                continue;
            }
            Transport::Local => continue,
        };
        let subject = format!("{host}:{port}");
        bar.message(&subject);
        let target = Target {
            subject: &subject,
            host: &host,
            port,
            lzo: h.options.lzo,
            limit: h.effective_limit(),
        };
        if let Some(sp) = probe_host(s, &target, remote_name, local, f) {
            speeds.push(sp);
        }
        bar.step();
    }
    bar.end();
    speeds
}

/// One host to probe.
struct Target<'a> {
    subject: &'a str,
    host: &'a str,
    port: u16,
    lzo: bool,
    limit: u32,
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
        if probe::local_compile_ms(&s.compiler, s.speed_rounds)
            .is_some_and(|ms| ms <= KEEP_LOCALHOST_WITHIN * slowest)
        {
            line.push("localhost/1".into());
        }
        line.join(" ")
    });
    Report {
        role: "master",
        profile: s.profile.name.clone(),
        hosts: hosts.map(|h| h.split_whitespace().collect::<Vec<_>>().join(" ")),
        hosts_origin: origin,
        findings,
        speed,
        proposed_hosts: proposed,
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
            .hint(format!("distsetup master --profile {} creates it", s.profile.name)),
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

fn dumpmachine(cc: &str) -> Option<String> {
    let o = Command::new(cc)
        .arg("-dumpmachine")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let t = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !t.is_empty()).then_some(t)
}

/// Compile the probe with the local compiler and read the object the same way.
fn local_facts(cc: &str) -> Option<ObjectFacts> {
    let dir = tempfile::tempdir().ok()?;
    let src = dir.path().join("distsetup-probe.c");
    std::fs::write(&src, elf::PROBE_SOURCE).ok()?;
    let obj = dir.path().join("distsetup-probe.o");
    let st = Command::new(cc)
        .args(["-O2", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !st.success() {
        return None;
    }
    Some(elf::inspect(&std::fs::read(&obj).ok()?))
}

fn describe(o: &ObjectFacts) -> String {
    format!(
        "{} objects ({}-bit), {}, {}",
        o.machine.as_deref().unwrap_or("unknown"),
        o.bits.unwrap_or(0),
        o.ident.as_deref().unwrap_or("no compiler ident"),
        match o.pic {
            Some(true) => "PIE by default",
            Some(false) => "no PIE by default",
            None => "PIE default unknown",
        }
    )
}

#[allow(clippy::too_many_arguments)]
fn probe_host(
    s: &Settings,
    t: &Target,
    compiler: &str,
    local: Option<&ObjectFacts>,
    f: &mut Vec<Finding>,
) -> Option<Speed> {
    let (subject, lzo) = (t.subject, t.lzo);
    let addr = match probe::resolve(t.host, t.port) {
        Ok(a) => a,
        Err(e) => {
            f.push(Finding::new(
                "reachable",
                subject,
                Status::Broken,
                e.to_string(),
            ));
            return None;
        }
    };
    match probe::connect(addr, s.connect_timeout) {
        Ok((_, t)) => f.push(Finding::new(
            "reachable",
            subject,
            Status::Ok,
            format!("connect {:.1} ms", t.as_secs_f64() * 1000.0),
        )),
        Err(e) => {
            f.push(
                Finding::new("reachable", subject, Status::Broken, e.to_string())
                    .hint("is the server running and listening on that address? run `distsetup doctor --volunteer` there"),
            );
            return None;
        }
    }
    let reply = match probe::compile(
        addr,
        compiler,
        elf::PROBE_SOURCE.as_bytes(),
        lzo,
        s.compile_timeout,
    ) {
        Ok((r, _)) => r,
        Err(e) => {
            f.push(
                Finding::new("compiler", subject, Status::Broken, format!("probe compile with {compiler}: {e}"))
                    .hint(format!("distccd closes without a word when {compiler} is not whitelisted in /usr/lib/distcc or this address is not in --allow; `distsetup volunteer` writes both")),
            );
            return None;
        }
    };
    let status = reply.status;
    if status != 0 || reply.object.is_empty() {
        let err = String::from_utf8_lossy(&reply.stderr);
        let first: Vec<&str> = err
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        f.push(
            Finding::new(
                "compiler",
                subject,
                Status::Broken,
                format!("probe compile with {compiler} failed (exit {}): {}", (status >> 8) & 0xff, first.join(" / ")),
            )
            .hint(format!("the volunteer must answer for {compiler}: `distsetup volunteer --alias` maps it to its toolchain")),
        );
        return None;
    }
    let got = elf::inspect(&reply.object);
    let ok = local.is_none_or(|l| compare_objects(subject, compiler, &got, l, f));
    if ok {
        f.push(Finding::new(
            "compiler",
            subject,
            Status::Ok,
            format!("{compiler}: {}", describe(&got)),
        ));
    }
    if !ok || s.speed_rounds == 0 {
        return None;
    }
    speed(s, subject, addr, lzo, t.limit, compiler)
}

/// The remote object against the local one: machine, gcc major version, default PIE.
/// False when linking them together cannot work.
fn compare_objects(
    subject: &str,
    compiler: &str,
    got: &ObjectFacts,
    l: &ObjectFacts,
    f: &mut Vec<Finding>,
) -> bool {
    let mut ok = true;
    if got.machine != l.machine || got.bits != l.bits {
        ok = false;
        f.push(
            Finding::new(
                "target",
                subject,
                Status::Broken,
                format!(
                    "{compiler} there produces {} ({}-bit) objects, this machine {} ({}-bit): link errors or wrong code",
                    got.machine.as_deref().unwrap_or("unknown"),
                    got.bits.unwrap_or(0),
                    l.machine.as_deref().unwrap_or("unknown"),
                    l.bits.unwrap_or(0)
                ),
            )
            .hint(format!("on the volunteer, answer {compiler} with a compiler for {}: distsetup volunteer --toolchain ... --alias", l.machine.as_deref().unwrap_or("this target"))),
        );
    }
    if let (Some(a), Some(b)) = (got.gcc_major, l.gcc_major) {
        if a != b {
            f.push(Finding::new(
                "version",
                subject,
                Status::Warn,
                format!("gcc {a} there, gcc {b} here: distcc does not protect against mixed major versions (C++ ABI, LTO, warnings differ)"),
            ).hint("install the same major gcc on both, or a toolchain built for it"));
        }
    }
    if let (Some(a), Some(b)) = (got.pic, l.pic) {
        if a != b {
            ok = false;
            f.push(Finding::new(
                "pie",
                subject,
                Status::Broken,
                format!(
                    "default PIE differs: {} there, {} here — linking fails with relocation errors",
                    if a { "PIE" } else { "no PIE" },
                    if b { "PIE" } else { "no PIE" }
                ),
            ).hint("use a volunteer toolchain configured like the master's gcc (--enable-default-pie), or pass -fPIE/-fno-PIE explicitly in CFLAGS"));
        }
    }
    ok
}

/// Time the fixed unit: `rounds` compiles one after another (median), then `limit`
/// (at most 8) at once for the throughput; the proposed /LIMIT is twice the parallelism
/// the host showed (distcc's advice: twice the CPUs), at least 1.
fn speed(
    s: &Settings,
    subject: &str,
    addr: std::net::SocketAddr,
    lzo: bool,
    limit: u32,
    compiler: &str,
) -> Option<Speed> {
    let unit = probe::speed_unit();
    let mut times = Vec::new();
    for _ in 0..s.speed_rounds {
        let (r, t) =
            probe::compile(addr, compiler, unit.as_bytes(), lzo, s.compile_timeout).ok()?;
        if r.status != 0 {
            return None;
        }
        times.push(t.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = *times.get(times.len() / 2)?;
    let parallel = limit.clamp(1, 8);
    let started = std::time::Instant::now();
    let ok = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..parallel)
            .map(|_| {
                sc.spawn(|| {
                    probe::compile(addr, compiler, unit.as_bytes(), lzo, s.compile_timeout)
                        .is_ok_and(|(r, _)| r.status == 0)
                })
            })
            .collect();
        handles.into_iter().all(|h| h.join().unwrap_or(false))
    });
    if !ok {
        return None;
    }
    let wall = started.elapsed().as_secs_f64().max(1e-6);
    let throughput = f64::from(parallel) / wall;
    let shown = (throughput * median).max(1.0);
    Some(Speed {
        host: subject.to_string(),
        compile_ms: median * 1000.0,
        throughput,
        parallel,
        limit: ((2.0 * shown).round() as u32).clamp(1, 2 * parallel),
        lzo,
    })
}
