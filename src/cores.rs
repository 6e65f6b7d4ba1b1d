//! How many CPU cores the master can really use, and the `-j` rule each distro advises.
//!
//! `auto` jobs start from the master's *physical* cores (SMT siblings counted once), then
//! shrink to what the process may use: its CPU affinity mask and its cgroup CPU quota
//! (v2 `cpu.max`, v1 `cpu.cfs_quota_us`). Every reading function takes a root directory so
//! tests can feed fake `/sys`, `/proc` and cgroup trees; [`detect`] reads the real ones.
//! The result carries its reasoning in words, because a wrong `-j` is only fixable when
//! the user can see where the number came from.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Reading the CPU facts failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither sysfs nor `/proc/cpuinfo` told us anything about the CPUs.
    #[error("cannot find any CPU: looked at {sysfs} and {cpuinfo}")]
    NoCpus {
        /// The sysfs CPU directory that was read.
        sysfs: PathBuf,
        /// The cpuinfo file that was read.
        cpuinfo: PathBuf,
    },
    /// `sched_getaffinity` failed.
    #[error("cannot read the CPU affinity of this process: {0}")]
    Affinity(#[source] std::io::Error),
}

/// Where the physical-core count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologySource {
    /// `/sys/devices/system/cpu/cpuN/topology/*`.
    Sysfs,
    /// `physical id` / `core id` lines of `/proc/cpuinfo`.
    Cpuinfo,
    /// No topology anywhere: every logical CPU is taken as one core.
    LogicalOnly,
}

/// A CPU quota from a cgroup.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuQuota {
    /// Quota divided by period: 1.5 means one and a half CPUs of time.
    pub cpus: f64,
    /// The file the quota was read from.
    pub file: PathBuf,
}

/// The master's usable cores, with the reasoning behind the number.
#[derive(Debug, Clone, PartialEq)]
pub struct CoreCount {
    /// Logical CPUs online.
    pub logical_online: usize,
    /// Logical CPUs this process may run on (affinity ∩ online).
    pub logical_allowed: usize,
    /// Physical cores among the allowed CPUs.
    pub physical: usize,
    /// How the cores were told apart.
    pub source: TopologySource,
    /// The tightest cgroup CPU quota on the way to the root cgroup, if any.
    pub quota: Option<CpuQuota>,
    /// The number to use: physical cores, cut to the quota (rounded down, at least 1).
    pub usable: usize,
    /// One sentence per step, in order.
    pub reasoning: Vec<String>,
}

impl CoreCount {
    /// The reasoning as one line, steps joined by "; ".
    pub fn explain(&self) -> String {
        self.reasoning.join("; ")
    }
}

/// Count the usable cores of the machine whose `/sys` and `/proc` live under `root`.
/// `affinity` is the set of CPU ids the process may use (`None`: no restriction).
pub fn count_cores(root: &Path, affinity: Option<&BTreeSet<usize>>) -> Result<CoreCount, Error> {
    let sysfs = root.join("sys/devices/system/cpu");
    let cpuinfo_path = root.join("proc/cpuinfo");
    let cpuinfo = std::fs::read_to_string(&cpuinfo_path).unwrap_or_default();
    let processors = parse_cpuinfo(&cpuinfo);

    let online = online_cpus(&sysfs)
        .or_else(|| {
            let ids: BTreeSet<usize> = processors.iter().map(|p| p.id).collect();
            (!ids.is_empty()).then_some(ids)
        })
        .ok_or_else(|| Error::NoCpus {
            sysfs: sysfs.clone(),
            cpuinfo: cpuinfo_path.clone(),
        })?;

    let mut reasoning = Vec::new();
    let allowed: BTreeSet<usize> = match affinity {
        Some(mask) => online.intersection(mask).copied().collect(),
        None => online.clone(),
    };
    // An affinity mask naming no online CPU cannot be right; trust the online list.
    let allowed = if allowed.is_empty() {
        online.clone()
    } else {
        allowed
    };

    let (cores, source) = match sysfs_cores(&sysfs, &allowed) {
        Some(n) => (n, TopologySource::Sysfs),
        None => match cpuinfo_cores(&processors, &allowed) {
            Some(n) => (n, TopologySource::Cpuinfo),
            None => (allowed.len(), TopologySource::LogicalOnly),
        },
    };
    let total_cores = match source {
        TopologySource::Sysfs => sysfs_cores(&sysfs, &online).unwrap_or(cores),
        TopologySource::Cpuinfo => cpuinfo_cores(&processors, &online).unwrap_or(cores),
        TopologySource::LogicalOnly => online.len(),
    };
    reasoning.push(match source {
        TopologySource::Sysfs | TopologySource::Cpuinfo => format!(
            "{} logical CPUs online, {} physical {} (SMT siblings counted once, from {})",
            online.len(),
            total_cores,
            plural(total_cores, "core", "cores"),
            if source == TopologySource::Sysfs {
                "sysfs topology"
            } else {
                "/proc/cpuinfo"
            }
        ),
        TopologySource::LogicalOnly => format!(
            "{} logical CPUs online, no topology information: counting each as a core",
            online.len()
        ),
    });
    if allowed.len() < online.len() {
        reasoning.push(format!(
            "CPU affinity allows {} of them ({} physical {})",
            allowed.len(),
            cores,
            plural(cores, "core", "cores")
        ));
    }

    let quota = cgroup_quota(root);
    let mut usable = cores.max(1);
    if let Some(q) = &quota {
        // Round down: a half CPU of quota cannot run another compiler at full speed.
        let whole = (q.cpus.floor() as usize).max(1);
        if whole < usable {
            reasoning.push(format!(
                "cgroup quota of {} CPUs ({}) limits this to {}",
                fmt_cpus(q.cpus),
                q.file.display(),
                whole
            ));
            usable = whole;
        } else {
            reasoning.push(format!(
                "cgroup quota of {} CPUs ({}) does not limit further",
                fmt_cpus(q.cpus),
                q.file.display()
            ));
        }
    }
    reasoning.push(format!(
        "→ {usable} usable {}",
        plural(usable, "core", "cores")
    ));
    Ok(CoreCount {
        logical_online: online.len(),
        logical_allowed: allowed.len(),
        physical: cores,
        source,
        quota,
        usable,
        reasoning,
    })
}

/// Count the usable cores of this machine and process (root `/`, real affinity).
pub fn detect() -> Result<CoreCount, Error> {
    let mask = current_affinity().map_err(Error::Affinity)?;
    count_cores(Path::new("/"), Some(&mask))
}

/// The CPU ids this process may run on (`sched_getaffinity`).
pub fn current_affinity() -> std::io::Result<BTreeSet<usize>> {
    // SAFETY: cpu_set_t is plain data; zeroed is a valid empty set, and the size passed
    // is the size of the buffer the kernel writes into.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable cpu_set_t of exactly the size passed.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let max = 8 * std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: CPU_ISSET only reads the set, with an index below its bit size.
    Ok((0..max)
        .filter(|&i| unsafe { libc::CPU_ISSET(i, &set) })
        .collect())
}

/// Parse a kernel CPU list such as `0-3,5,7-8`. Malformed parts are skipped.
pub fn parse_cpu_list(text: &str) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for part in text
        .trim()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    // Cap the range so a corrupt file cannot make us allocate forever.
                    out.extend(a..=b.min(a.saturating_add(65_536)));
                }
            }
            None => {
                if let Ok(n) = part.parse() {
                    out.insert(n);
                }
            }
        }
    }
    out
}

fn online_cpus(sysfs: &Path) -> Option<BTreeSet<usize>> {
    if let Ok(text) = std::fs::read_to_string(sysfs.join("online")) {
        let set = parse_cpu_list(&text);
        if !set.is_empty() {
            return Some(set);
        }
    }
    let set: BTreeSet<usize> = std::fs::read_dir(sysfs)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("cpu")?
                .parse::<usize>()
                .ok()
        })
        .collect();
    (!set.is_empty()).then_some(set)
}

fn read_trimmed(path: &Path) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Distinct (package, cluster, core) keys among `cpus`; `None` when any CPU lacks topology.
fn sysfs_cores(sysfs: &Path, cpus: &BTreeSet<usize>) -> Option<usize> {
    let mut keys = BTreeSet::new();
    for cpu in cpus {
        let topo = sysfs.join(format!("cpu{cpu}/topology"));
        let core = read_trimmed(&topo.join("core_id"))?;
        let package = read_trimmed(&topo.join("physical_package_id"))?;
        // core_id repeats across the clusters of big.LITTLE ARM chips; the cluster tells
        // them apart where the kernel reports it.
        let cluster = read_trimmed(&topo.join("cluster_id")).unwrap_or_default();
        keys.insert((package, cluster, core));
    }
    (!keys.is_empty()).then_some(keys.len())
}

#[derive(Debug)]
struct Processor {
    id: usize,
    physical_id: Option<String>,
    core_id: Option<String>,
}

fn parse_cpuinfo(text: &str) -> Vec<Processor> {
    let mut out: Vec<Processor> = Vec::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => {
                if let Ok(id) = value.parse() {
                    out.push(Processor {
                        id,
                        physical_id: None,
                        core_id: None,
                    });
                }
            }
            "physical id" => {
                if let Some(p) = out.last_mut() {
                    p.physical_id = Some(value.to_owned());
                }
            }
            "core id" => {
                if let Some(p) = out.last_mut() {
                    p.core_id = Some(value.to_owned());
                }
            }
            _ => {}
        }
    }
    out
}

fn cpuinfo_cores(processors: &[Processor], cpus: &BTreeSet<usize>) -> Option<usize> {
    let mut keys = BTreeSet::new();
    for p in processors.iter().filter(|p| cpus.contains(&p.id)) {
        keys.insert((p.physical_id.clone()?, p.core_id.clone()?));
    }
    (!keys.is_empty()).then_some(keys.len())
}

/// The tightest CPU quota of the process's cgroup and its ancestors, v2 first, then v1.
fn cgroup_quota(root: &Path) -> Option<CpuQuota> {
    let text = std::fs::read_to_string(root.join("proc/self/cgroup")).ok()?;
    let mut best: Option<CpuQuota> = None;
    let mut consider = |q: Option<CpuQuota>| {
        if let Some(q) = q {
            if best.as_ref().is_none_or(|b| q.cpus < b.cpus) {
                best = Some(q);
            }
        }
    };
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            let base = root.join("sys/fs/cgroup");
            for dir in ancestors(&base, path) {
                consider(read_cpu_max(&dir.join("cpu.max")));
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            let mut mounts = vec![controllers.to_owned(), "cpu".to_owned()];
            mounts.extend(["cpu,cpuacct".to_owned(), "cpuacct,cpu".to_owned()]);
            mounts.dedup();
            for mount in mounts {
                let base = root.join("sys/fs/cgroup").join(mount);
                for dir in ancestors(&base, path) {
                    consider(read_cfs_quota(&dir));
                }
            }
        }
    }
    best
}

/// `base/a/b/c`, `base/a/b`, `base/a`, `base`: a limit on any ancestor applies too.
fn ancestors(base: &Path, cgroup_path: &str) -> Vec<PathBuf> {
    let parts: Vec<&str> = cgroup_path
        .trim()
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    (0..=parts.len())
        .rev()
        .map(|n| {
            parts
                .iter()
                .take(n)
                .fold(base.to_path_buf(), |d, p| d.join(p))
        })
        .collect()
}

fn read_cpu_max(file: &Path) -> Option<CpuQuota> {
    let text = read_trimmed(file)?;
    let mut words = text.split_whitespace();
    let quota = words.next()?;
    let period: f64 = words
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(100_000.0);
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then(|| CpuQuota {
        cpus: quota / period,
        file: file.to_path_buf(),
    })
}

fn read_cfs_quota(dir: &Path) -> Option<CpuQuota> {
    let file = dir.join("cpu.cfs_quota_us");
    let quota: f64 = read_trimmed(&file)?.parse().ok()?;
    let period: f64 = read_trimmed(&dir.join("cpu.cfs_period_us"))?.parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| CpuQuota {
        cpus: quota / period,
        file,
    })
}

fn fmt_cpus(cpus: f64) -> String {
    let s = format!("{cpus:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// How a distro turns cores into make's `-j` (and maybe `-l`). Named in the profile TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobsRule {
    /// Local physical cores + 1: only compiles are distributed, preprocessing and linking
    /// stay on the master (Arch Linux ARM's guide).
    LocalCoresPlusOne,
    /// The sum of the hosts' slot limits (ArchWiki); local cores + 1 with no remote slots.
    SumOfSlots,
    /// 2 × (local cores + remote slots) + 1, with `-l` local cores (Gentoo's guide).
    TwiceAllPlusOneLoadLocal,
    /// About twice the remote server CPUs (distcc(1)); local cores + 1 with none.
    TwiceRemoteSlots,
    /// distsetup's rule, from the cluster benchmark (`scripts/bench-cluster`, README "How
    /// fast"): every slot of the host list (remote slots plus the `localhost` slots it
    /// keeps) + 1, no load limit; local cores + 1 with no remote slots. distcc holds a
    /// remote slot while the master preprocesses for it, so the "twice the CPUs" belongs in
    /// each host's limit (doctor proposes twice the parallelism a host shows); more jobs
    /// than slots only wait in distcc's lock polling. The local-cores rules (-j2 on a Pi)
    /// leave most remote slots idle, and a load limit stops make exactly when
    /// preprocessing keeps a slow master busy.
    Measured,
}

/// The advice a rule gives: the `-j` number, an optional `-l` load limit, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsAdvice {
    /// make's `-j`.
    pub jobs: usize,
    /// make's `-l`, when the rule sets one.
    pub load: Option<usize>,
    /// The reasoning in words, ending in the flags.
    pub reasoning: String,
}

impl JobsAdvice {
    /// The flags as they go into MAKEFLAGS/MAKEOPTS: `-j5` or `-j25 -l4`.
    pub fn flags(&self) -> String {
        match self.load {
            Some(l) => format!("-j{} -l{l}", self.jobs),
            None => format!("-j{}", self.jobs),
        }
    }
}

impl JobsRule {
    /// Apply the rule to the master's usable physical cores and the total remote slots
    /// of the host list (the sum of the hosts' `/LIMIT`s, localhost excluded).
    pub fn advise(self, local_cores: usize, remote_slots: usize) -> JobsAdvice {
        self.advise_slots(local_cores, remote_slots, 0)
    }

    /// [`JobsRule::advise`] for a host list that also keeps `localhost_slots` slots on the
    /// master (`localhost/N`); only [`JobsRule::Measured`] counts them. The one function
    /// `master` and `doctor` both judge `-j` with.
    pub fn advise_slots(
        self,
        local_cores: usize,
        remote_slots: usize,
        localhost_slots: usize,
    ) -> JobsAdvice {
        let local = local_cores.max(1);
        let cores = |n: usize| format!("{n} physical {}", plural(n, "core", "cores"));
        let slots = |n: usize| format!("{n} remote {}", plural(n, "slot", "slots"));
        let local_plus_one = |why: &str| {
            let jobs = local + 1;
            JobsAdvice {
                jobs,
                load: None,
                reasoning: format!("{why}{} + 1 → -j{jobs}", cores(local)),
            }
        };
        match self {
            JobsRule::LocalCoresPlusOne => local_plus_one(""),
            JobsRule::SumOfSlots if remote_slots == 0 => local_plus_one("no remote slots; "),
            JobsRule::SumOfSlots => JobsAdvice {
                jobs: remote_slots,
                load: None,
                reasoning: format!(
                    "sum of host limits: {} → -j{remote_slots}",
                    slots(remote_slots)
                ),
            },
            JobsRule::TwiceRemoteSlots | JobsRule::Measured if remote_slots == 0 => {
                local_plus_one("no remote slots; ")
            }
            JobsRule::Measured => {
                let jobs = remote_slots
                    .saturating_add(localhost_slots)
                    .saturating_add(1);
                let reasoning = if localhost_slots == 0 {
                    format!("{} + 1 → -j{jobs}", slots(remote_slots))
                } else {
                    format!(
                        "{} + {localhost_slots} localhost {} + 1 → -j{jobs}",
                        slots(remote_slots),
                        plural(localhost_slots, "slot", "slots")
                    )
                };
                JobsAdvice {
                    jobs,
                    load: None,
                    reasoning,
                }
            }
            JobsRule::TwiceRemoteSlots => {
                let jobs = remote_slots.saturating_mul(2);
                JobsAdvice {
                    jobs,
                    load: None,
                    reasoning: format!("2 × {} → -j{jobs}", slots(remote_slots)),
                }
            }
            JobsRule::TwiceAllPlusOneLoadLocal => {
                let jobs = local
                    .saturating_add(remote_slots)
                    .saturating_mul(2)
                    .saturating_add(1);
                JobsAdvice {
                    jobs,
                    load: Some(local),
                    reasoning: format!(
                        "2 × ({} + {}) + 1 → -j{jobs}; load limit = {} → -l{local}",
                        slots(remote_slots),
                        cores(local).replace("physical", "local"),
                        cores(local).replace("physical", "local"),
                    ),
                }
            }
        }
    }

    /// A one-line statement of the rule, for `--profile list`/describe.
    pub fn summary(self) -> &'static str {
        match self {
            JobsRule::LocalCoresPlusOne => "-j = local physical cores + 1",
            JobsRule::SumOfSlots => "-j = sum of the hosts' slot limits",
            JobsRule::TwiceAllPlusOneLoadLocal => {
                "-j = 2 × (local cores + remote slots) + 1, -l = local cores"
            }
            JobsRule::TwiceRemoteSlots => "-j = 2 × remote slots",
            JobsRule::Measured => "-j = remote slots + localhost slots + 1 (measured)",
        }
    }
}
