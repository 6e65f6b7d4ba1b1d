//! What the relay knows about one volunteer: its slots, which compiler names it may
//! take (probed), the speed it showed, its failures and whether it is benched.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::elf::ObjectFacts;
use crate::transport::Transport;

/// Seconds per byte assumed before anything is known (about 0.5 MB/s of preprocessed
/// source); only the ratios between hosts matter until real jobs finish.
pub(crate) const PRIOR_SPB: f64 = 2e-6;
/// Weight of a new sample in the probe time's moving average.
const ALPHA: f64 = 0.3;
/// Weight of a new job in a host's slowness (about the last ten jobs count).
const SLOWNESS_ALPHA: f64 = 0.15;
/// How far a host's first finished job may move it from the cluster's average.
const FIRST_JOB: f64 = 4.0;
/// The longest a failing host is benched between probes.
pub(crate) const MAX_BENCH: Duration = Duration::from_secs(60);

/// One volunteer, as configured.
#[derive(Clone)]
pub struct Volunteer {
    /// Shown in `top` (`HOST:PORT`).
    pub name: String,
    /// How to reach it.
    pub transport: Arc<dyn Transport>,
    /// Parallel jobs it takes.
    pub slots: u32,
    /// Protocol 2 (LZO) rather than 1.
    pub lzo: bool,
}

/// What probing one compiler name on a host gave.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// The probe is running.
    Running,
    /// The object's facts.
    Facts(ObjectFacts),
    /// The host answered, but not with an object for that name.
    Failed(String),
}

/// A host taken out of use after a failure.
#[derive(Debug, Clone)]
pub(crate) struct Bench {
    pub(crate) until: Instant,
    pub(crate) reason: String,
    /// The probe that decides whether it comes back is running.
    pub(crate) probing: bool,
}

/// One volunteer and everything learned about it.
pub(crate) struct Host {
    pub(crate) id: u64,
    pub(crate) vol: Volunteer,
    /// Per slot: the attempt running there.
    pub(crate) slots: Vec<Option<u64>>,
    /// How much slower than the cluster's average this host compiles a byte, as a
    /// natural logarithm (moving average over its finished jobs).
    pub(crate) slowness: Option<f64>,
    /// Seconds the small probe compile took (moving average): the fixed cost of a job
    /// here, and the prior for its speed before real jobs finish.
    pub(crate) probe_secs: Option<f64>,
    pub(crate) last_probe: Option<Instant>,
    pub(crate) last_done: Option<Instant>,
    /// When an answer last came within twice its prediction: a host that keeps finishing
    /// jobs on time is not why another of its jobs runs long (that unit is dense).
    pub(crate) on_time: Option<Instant>,
    pub(crate) done: u64,
    pub(crate) failures: u64,
    pub(crate) consecutive: u32,
    pub(crate) bench: Option<Bench>,
    pub(crate) compilers: BTreeMap<String, Probe>,
    /// Gone from the zeroconf survey: finishes its jobs, takes no new ones.
    pub(crate) removed: bool,
}

impl Host {
    pub(crate) fn new(id: u64, vol: Volunteer) -> Host {
        Host {
            id,
            slots: vec![None; vol.slots.max(1) as usize],
            vol,
            slowness: None,
            probe_secs: None,
            last_probe: None,
            last_done: None,
            on_time: None,
            done: 0,
            failures: 0,
            consecutive: 0,
            bench: None,
            compilers: BTreeMap::new(),
            removed: false,
        }
    }

    /// Takes new jobs: not benched, not removed.
    pub(crate) fn usable(&self) -> bool {
        self.bench.is_none() && !self.removed
    }

    pub(crate) fn busy(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    pub(crate) fn free_slot(&self) -> Option<usize> {
        self.slots.iter().position(Option::is_none)
    }

    /// A job finished here `ratio` times slower than the cluster's per-byte average.
    /// Kept as a moving average of the logarithm: one unit's density (inlined headers,
    /// template-heavy code) varies several-fold, and a host should not look 7x slower
    /// because it drew the dense ones.
    /// The first job counts at most 4x either way: one unit says little. `weight`, from
    /// 0 to 1, scales how much this job counts: a short job says less about how fast a host
    /// compiles than a long one (a host under a CPU quota runs short jobs on its burst
    /// allowance and long ones at its quota: measured 0.5x and 3x its estimate).
    pub(crate) fn learn(&mut self, ratio: f64, weight: f64, now: Instant) {
        let sample = ratio.clamp(1.0 / 16.0, 16.0).ln();
        self.slowness = Some(match self.slowness {
            Some(old) => old + SLOWNESS_ALPHA * weight.clamp(0.0, 1.0) * (sample - old),
            None => sample.clamp(-FIRST_JOB.ln(), FIRST_JOB.ln()),
        });
        self.finished(now);
    }

    /// A job finished here (whether or not it taught anything about the host's speed).
    pub(crate) fn finished(&mut self, now: Instant) {
        self.done += 1;
        self.consecutive = 0;
        self.last_done = Some(now);
    }

    /// An attempt ran `ratio` times longer per byte than the cluster's average and ended
    /// unfinished (its duplicate won, the client left, or it was given up as too slow):
    /// the host is at least that slow. Only ever makes it look slower, by `weight` of the
    /// way at once (1: all of it, for a job given up): a host that lost a race should not
    /// draw the next big unit.
    pub(crate) fn learn_lower_bound(&mut self, ratio: f64, weight: f64) {
        let sample = ratio.clamp(1.0 / 16.0, 16.0).ln();
        self.slowness = Some(match self.slowness {
            Some(old) if sample <= old => old,
            Some(old) => old + weight.clamp(0.0, 1.0) * (sample - old),
            None => sample,
        });
    }

    /// A probe compile took `secs`. A stale estimate moves by how much the probe time
    /// moved (a host whose quota changed shows it in the probe first), but only past
    /// twice or half: one probe is one small, noisy sample, and a host judged 1.8x slower
    /// on it would sit idle while jobs wait for the other (measured: a relay idle between
    /// builds lost 10% this way). `revive`: the probe that brings a benched host back,
    /// which moves the estimate even after recent jobs (a host benched as too slow must
    /// not come back looking as fast as before).
    pub(crate) fn learn_probe(&mut self, secs: f64, now: Instant, revive: bool) {
        if let (Some(old), Some(slow)) = (self.probe_secs, self.slowness) {
            let stale = self
                .last_done
                .is_none_or(|t| now.duration_since(t) > Duration::from_secs(20));
            let moved = old > 0.0 && !(0.5 * old..=2.0 * old).contains(&secs);
            if moved && (stale || revive && secs > old) {
                self.slowness = Some(slow + (secs / old).clamp(0.25, 4.0).ln());
            }
        }
        self.probe_secs = Some(match self.probe_secs {
            Some(old) => old + ALPHA * (secs - old),
            None => secs,
        });
        self.last_probe = Some(now);
    }

    /// A failure that is the host's: bench it, twice as long as last time.
    pub(crate) fn fail(&mut self, reason: &str, now: Instant) {
        self.failures += 1;
        self.consecutive = self.consecutive.saturating_add(1);
        let exp = self.consecutive.saturating_sub(1).min(6);
        let wait = (Duration::from_secs(1) * (1u32 << exp)).min(MAX_BENCH);
        self.bench = Some(Bench {
            until: now + wait,
            reason: reason.to_owned(),
            probing: false,
        });
    }
}

/// Seconds per byte to assume for `host`, given the cluster's average `global` (the
/// prior before any job finished): the average times how much slower the host showed
/// itself; before its first job, how much slower its probe compile was than the
/// fastest host's (one noisy sample: at most 4x).
pub(crate) fn spb_of(hosts: &[Host], host: &Host, global: Option<f64>) -> f64 {
    let global = global.unwrap_or(PRIOR_SPB);
    if let Some(s) = host.slowness {
        return global * s.clamp(-3.0, 3.0).exp();
    }
    let probe = host.probe_secs.unwrap_or(1.0).max(1e-3);
    let fastest = hosts
        .iter()
        .filter_map(|h| h.probe_secs)
        .fold(f64::INFINITY, f64::min);
    let fastest = if fastest.is_finite() { fastest } else { probe };
    global * (probe / fastest.max(1e-3)).clamp(1.0, 4.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TcpTransport;

    fn host(id: u64) -> Host {
        let t = TcpTransport {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
            connect_timeout: Duration::from_secs(1),
        };
        Host::new(
            id,
            Volunteer {
                name: format!("h{id}"),
                transport: Arc::new(t),
                slots: 2,
                lzo: false,
            },
        )
    }

    #[test]
    fn slowness_is_learned_relative_to_the_cluster_and_robust_to_one_dense_unit() {
        let now = Instant::now();
        let mut a = host(1);
        let mut b = host(2);
        for _ in 0..20 {
            a.learn(1.0, 1.0, now);
            b.learn(2.5, 1.0, now);
        }
        // The first job counts at most 4x.
        let mut c = host(3);
        c.learn(100.0, 1.0, now);
        assert!((c.slowness.unwrap_or_default() - 4f64.ln()).abs() < 1e-9);
        // A short job moves a host a tenth as far as a long one.
        let mut d = host(4);
        let mut e = host(5);
        d.learn(1.0, 1.0, now);
        e.learn(1.0, 1.0, now);
        d.learn(4.0, 1.0, now);
        e.learn(4.0, 0.1, now);
        let (sd, se) = (
            d.slowness.unwrap_or_default(),
            e.slowness.unwrap_or_default(),
        );
        assert!((sd - 10.0 * se).abs() < 1e-9, "{sd} {se}");
        // One unit 10x denser than usual on the fast host.
        a.learn(10.0, 1.0, now);
        let hosts = vec![a, b];
        let fast = spb_of(&hosts, &hosts[0], Some(1e-6));
        let slow = spb_of(&hosts, &hosts[1], Some(1e-6));
        assert!(slow > 1.5 * fast, "{slow} vs {fast}");
        assert!((slow / 1e-6 - 2.5).abs() < 1e-6, "{slow}");
    }

    #[test]
    fn before_its_first_job_a_host_is_judged_by_its_probe_at_most_4x() {
        let now = Instant::now();
        let mut a = host(1);
        a.learn_probe(0.1, now, false);
        let mut b = host(2);
        b.learn_probe(0.3, now, false);
        let mut c = host(3);
        c.learn_probe(5.0, now, false);
        let hosts = vec![a, b, c];
        let f = |i: usize| spb_of(&hosts, &hosts[i], Some(1.0));
        assert!((f(0) - 1.0).abs() < 1e-9);
        assert!((f(1) - 3.0).abs() < 1e-9);
        assert!((f(2) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn an_unfinished_attempt_only_ever_makes_a_host_slower() {
        let now = Instant::now();
        let mut h = host(1);
        h.learn(1.0, 1.0, now);
        h.learn_lower_bound(0.5, 0.5);
        assert_eq!(h.slowness, Some(0.0));
        h.learn_lower_bound(16.0, 0.5);
        let s = h.slowness.map(f64::exp).unwrap_or_default();
        assert!((s - 4.0).abs() < 1e-9, "{s}");
        h.learn_lower_bound(10.0, 1.0);
        let s = h.slowness.map(f64::exp).unwrap_or_default();
        assert!((s - 10.0).abs() < 1e-9, "{s}");
        assert_eq!(h.done, 1, "a lower bound is not a finished job");
    }

    #[test]
    fn a_benched_host_comes_back_as_slow_as_its_probe_says_even_with_recent_jobs() {
        let now = Instant::now();
        let mut h = host(1);
        h.learn_probe(0.1, now, false);
        h.learn(1.0, 1.0, now);
        // A refresh right after a job leaves the estimate alone ...
        h.learn_probe(1.0, now, false);
        assert_eq!(h.slowness, Some(0.0));
        // ... the probe that revives a benched host moves it (at most 4x at once).
        h.learn_probe(3.0, now, true);
        let s = h.slowness.map(f64::exp).unwrap_or_default();
        assert!(s > 2.0, "{s}");
    }

    #[test]
    fn a_stale_host_moves_only_on_a_probe_outside_the_noise() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut h = host(1);
        h.learn_probe(0.1, now, false);
        h.learn(1.0, 1.0, now);
        // 1.8x slower, long after its last job: noise, the estimate stays.
        h.learn_probe(0.18, later, false);
        assert_eq!(h.slowness, Some(0.0));
        // 10x slower: a real change (at most 4x at once).
        let mut g = host(2);
        g.learn_probe(0.1, now, false);
        g.learn(1.0, 1.0, now);
        g.learn_probe(1.0, later, false);
        let s = g.slowness.map(f64::exp).unwrap_or_default();
        assert!((s - 4.0).abs() < 1e-9, "{s}");
    }

    #[test]
    fn benching_backs_off_exponentially_up_to_a_cap() {
        let now = Instant::now();
        let mut h = host(1);
        let mut waits = Vec::new();
        for _ in 0..10 {
            h.fail("closed", now);
            waits.push(h.bench.as_ref().map(|b| b.until - now));
        }
        assert_eq!(waits[0], Some(Duration::from_secs(1)));
        assert_eq!(waits[1], Some(Duration::from_secs(2)));
        assert_eq!(waits[9], Some(MAX_BENCH));
        h.learn(1.0, 1.0, now);
        assert_eq!(h.consecutive, 0);
    }
}
