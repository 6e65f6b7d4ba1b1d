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
/// Weight of a new sample in the moving averages.
const ALPHA: f64 = 0.3;
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
    /// Learned seconds per byte of preprocessed source (moving average of real jobs).
    pub(crate) spb: Option<f64>,
    /// Seconds the small probe compile took (moving average): the fixed cost of a job
    /// here, and the prior for its speed before real jobs finish.
    pub(crate) probe_secs: Option<f64>,
    pub(crate) last_probe: Option<Instant>,
    pub(crate) last_done: Option<Instant>,
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
            spb: None,
            probe_secs: None,
            last_probe: None,
            last_done: None,
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

    /// A job finished here in `secs` for `bytes` of source.
    pub(crate) fn learn(&mut self, bytes: u64, secs: f64, now: Instant) {
        let sample = secs / (bytes.max(1) as f64);
        self.spb = Some(match self.spb {
            Some(old) => old + ALPHA * (sample - old),
            None => sample,
        });
        self.done += 1;
        self.consecutive = 0;
        self.last_done = Some(now);
    }

    /// A probe compile took `secs`. A stale speed is scaled by how much the probe time
    /// moved (a host whose quota changed shows it in the probe first).
    pub(crate) fn learn_probe(&mut self, secs: f64, now: Instant) {
        if let (Some(old), Some(spb)) = (self.probe_secs, self.spb) {
            let stale = self
                .last_done
                .is_none_or(|t| now.duration_since(t) > Duration::from_secs(20));
            if stale && old > 0.0 {
                self.spb = Some(spb * (secs / old).clamp(0.25, 4.0));
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

/// Seconds per byte to assume for `host`: learned, or derived from how its probe time
/// compares with hosts that have learned one, or the prior.
pub(crate) fn spb_of(hosts: &[Host], host: &Host) -> f64 {
    if let Some(s) = host.spb {
        return s;
    }
    let probe = host.probe_secs.unwrap_or(1.0).max(1e-3);
    let refs: Vec<f64> = hosts
        .iter()
        .filter_map(|h| Some(h.spb? / h.probe_secs?.max(1e-3)))
        .collect();
    if refs.is_empty() {
        let fastest = hosts
            .iter()
            .filter_map(|h| h.probe_secs)
            .fold(f64::INFINITY, f64::min);
        let fastest = if fastest.is_finite() { fastest } else { probe };
        return PRIOR_SPB * (probe / fastest.max(1e-3)).min(4.0);
    }
    // One probe is a noisy sample: it may say "slower", never more than 4x.
    let mean = refs.iter().sum::<f64>() / refs.len() as f64;
    let learned = hosts
        .iter()
        .filter_map(|h| h.spb)
        .fold(f64::INFINITY, f64::min);
    (mean * probe).clamp(learned / 4.0, learned * 4.0)
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
    fn an_unlearned_host_is_judged_by_its_probe_against_learned_ones() {
        let now = Instant::now();
        let mut a = host(1);
        a.learn_probe(0.1, now);
        a.learn(100_000, 1.0, now);
        let mut b = host(2);
        b.learn_probe(0.3, now);
        let mut c = host(3);
        c.learn_probe(5.0, now);
        let hosts = vec![a, b, c];
        let fast = spb_of(&hosts, &hosts[0]);
        let slow = spb_of(&hosts, &hosts[1]);
        assert!((slow / fast - 3.0).abs() < 1e-9, "{slow} vs {fast}");
        // One noisy probe says "slower", never more than 4x.
        let noisy = spb_of(&hosts, &hosts[2]);
        assert!((noisy / fast - 4.0).abs() < 1e-9, "{noisy} vs {fast}");
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
        h.learn(10, 0.1, now);
        assert_eq!(h.consecutive, 0);
    }
}
