//! Probing the hosts of the list: one thread per host, so a host that accepts and then
//! says nothing costs one time-out in all rather than one per host; findings are handed
//! on in list order as soon as every host before them is done.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use super::elf::{self, ObjectFacts};
use super::probe;
use super::{Finding, Progress, Settings, Speed, Status};
use crate::hostspec::{self, Transport};

/// One host to probe.
pub(super) struct Target<'a> {
    pub(super) subject: &'a str,
    pub(super) host: &'a str,
    pub(super) port: u16,
    pub(super) lzo: bool,
    pub(super) limit: u32,
}

/// What probing one host found.
struct Probed {
    findings: Vec<Finding>,
    speed: Option<Speed>,
}

fn probe_one(
    s: &Settings,
    h: &hostspec::Host,
    remote_name: &str,
    local: Option<&ObjectFacts>,
    bar: &dyn Progress,
) -> Probed {
    let mut f = Vec::new();
    let (host, port) = match &h.transport {
        Transport::Tcp { host, .. } => (host.clone(), h.effective_port().unwrap_or(3632)),
        Transport::Ssh { user, host, .. } => {
            f.push(Finding::new(
                "reachable",
                format!("{user}@{host}"),
                Status::Warn,
                "ssh host: not probed (the probe speaks TCP)",
            ));
            return Probed {
                findings: f,
                speed: None,
            };
        }
        Transport::Local => {
            return Probed {
                findings: f,
                speed: None,
            };
        }
    };
    let subject = format!("{host}:{port}");
    bar.host_started(&subject);
    let target = Target {
        subject: &subject,
        host: &host,
        port,
        lzo: h.options.lzo,
        limit: h.effective_limit(),
    };
    let speed = probe_host(s, &target, remote_name, local, &mut f);
    let worst = f.iter().map(|x| x.status).max().unwrap_or(Status::Ok);
    bar.host_done(&subject, worst);
    Probed { findings: f, speed }
}

/// Probe every remote host at once; `found` gets each host's findings in list order.
pub(super) fn probe_all(
    s: &Settings,
    remote: &[&hostspec::Host],
    remote_name: &str,
    local: Option<&ObjectFacts>,
    bar: &dyn Progress,
    found: &mut dyn FnMut(Vec<Finding>),
) -> Vec<Speed> {
    bar.begin(remote.len() as u64, "probing hosts");
    let mut speeds = Vec::new();
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::channel();
        for (i, h) in remote.iter().enumerate() {
            let tx = tx.clone();
            sc.spawn(move || {
                let probed = probe_one(s, h, remote_name, local, bar);
                // The receiver outlives every sender in this scope.
                let _ = tx.send((i, probed));
            });
        }
        drop(tx);
        let mut waiting: BTreeMap<usize, Probed> = BTreeMap::new();
        let mut next = 0;
        for (i, probed) in rx {
            bar.step();
            waiting.insert(i, probed);
            while let Some(p) = waiting.remove(&next) {
                found(p.findings);
                speeds.extend(p.speed);
                next += 1;
            }
        }
    });
    bar.end();
    speeds
}

pub(super) fn dumpmachine(cc: &str) -> Option<String> {
    let o = Command::new(cc)
        .arg("-dumpmachine")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let t = String::from_utf8_lossy(&o.stdout).trim().to_string();
    (o.status.success() && !t.is_empty()).then_some(t)
}

/// Compile the probe with the local compiler and read the object the same way.
pub(super) fn local_facts(cc: &str) -> Option<ObjectFacts> {
    let dir = crate::plan::scratch::Scratch::new().ok()?;
    let src = dir
        .write("distsetup-probe.c", elf::PROBE_SOURCE.as_bytes())
        .ok()?;
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

pub(super) fn describe(o: &ObjectFacts) -> String {
    o.describe()
}

#[allow(clippy::too_many_arguments)]
pub(super) fn probe_host(
    s: &Settings,
    t: &super::hosts::Target<'_>,
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
