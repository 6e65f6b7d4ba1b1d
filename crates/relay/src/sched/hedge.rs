//! Stragglers. Hedging ("The Tail at Scale"): a duplicate of a running job on an idle
//! eligible slot, the first good answer wins and the other attempt is cancelled. And
//! giving up: a job far past its prediction on a host that slowed down, while another
//! host would finish it sooner, is failed as too slow and retried there (ahead of the
//! jobs that came after it), and its host benched until a probe brings it back.
//!
//! A job is worth a duplicate when either
//! - it has run past its predicted time × the 95th percentile of how far finished jobs
//!   overshot their predictions (a straggler: the host slowed down, or the job is stuck)
//!   and its host has not answered another job on time since it started (a host that
//!   keeps doing so is fine: the unit is dense, and a copy on an equal host would only
//!   finish later),
//! - or an idle slot elsewhere is expected to finish it in under half the time it still
//!   needs where it runs (a slow host drew a big unit while a fast one sits idle at the
//!   end of the build). A job past its prediction is assumed to need as long again as it
//!   has run: nothing tells how far along it is.
//!
//! Only while no job waits for a slot (duplicates never take a slot a waiting job could
//! use), after `hedge_warmup` finished jobs, for jobs older than `hedge_after`, and at
//! most `hedge_percent` of the jobs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::{Elig, Lease, Pending, Scheduler, State};

/// The share of the time a job still needs where it runs that an idle slot must beat.
const CLEAR_WIN: f64 = 0.5;
/// A job is given up past this many times its prediction × the overshoot percentile…
const TOO_SLOW: f64 = 3.0;
/// … and never before it ran this long (seconds) …
const TOO_SLOW_MIN_SECS: f64 = 2.0;
/// … nor before this many jobs finished (predictions mean something).
const TOO_SLOW_MIN_SAMPLES: usize = 5;
/// A host whose every running job (two at least) is past this many times its prediction
/// has stalled (its CPU was taken away): one dense unit overshoots alone, a slowed host
/// overshoots on every slot at once. Its jobs are given up from this point on.
const STALLED: f64 = 2.5;
/// The same for jobs whose unit was never seen (predicted from their size alone: two
/// dense units can share a host, measured 3-4x their prediction on a healthy one).
const STALLED_UNSEEN: f64 = 5.0;

/// Whether a job of `age` seconds, predicted at `predicted`, is past its prediction far
/// enough to count as stalled; `seen`: its unit's density is remembered.
pub(super) fn stalled(age: f64, predicted: f64, seen: bool) -> bool {
    let factor = if seen { STALLED } else { STALLED_UNSEEN };
    age > TOO_SLOW_MIN_SECS && age > factor * predicted
}

/// Whether a job of `age` seconds, predicted at `predicted`, is given up as too slow when
/// another host is expected to finish it in `elsewhere` seconds (its wait included);
/// `host`: what its host shows.
pub(super) fn too_slow_to_wait_for(
    age: f64,
    predicted: f64,
    factor: f64,
    elsewhere: f64,
    host: HostSign,
) -> bool {
    let limit = match host {
        // Every job on it stalled (the factor was applied there).
        HostSign::Stalled => 0.0,
        HostSign::OnTime => return false,
        HostSign::Unknown => TOO_SLOW * factor * predicted,
    };
    age > TOO_SLOW_MIN_SECS && age > limit && elsewhere < CLEAR_WIN * remaining(age, predicted)
}

/// What a running job's host has shown since the job started.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum HostSign {
    /// Every running job on it (two at least) has stalled.
    Stalled,
    /// It answered another job on time.
    OnTime,
    /// Neither.
    Unknown,
}

/// Seconds a running job is expected to still need: what is left of its prediction, or,
/// past it, as long again as it has run.
pub(super) fn remaining(age: f64, predicted: f64) -> f64 {
    if age < predicted {
        predicted - age
    } else {
        age
    }
}

/// Whether a job of `age` seconds, predicted at `predicted`, deserves a duplicate on a
/// slot expected to take `elsewhere` seconds; `factor` is the overshoot percentile;
/// `on_time`: its host answered another job on time since it started.
pub(super) fn worth_a_duplicate(
    age: f64,
    predicted: f64,
    factor: f64,
    min_age: f64,
    elsewhere: f64,
    on_time: bool,
) -> bool {
    if age <= min_age {
        return false;
    }
    let straggler = !on_time && age > predicted * factor;
    straggler || elsewhere < CLEAR_WIN * remaining(age, predicted)
}

/// The 95th percentile of how far finished jobs overshot their prediction (2 before
/// there are 20 of them).
pub(super) fn percentile95(ratios: &VecDeque<f64>) -> f64 {
    if ratios.len() < 20 {
        return 2.0;
    }
    let mut v: Vec<f64> = ratios.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    let at = (v.len() * 95 / 100).min(v.len() - 1);
    v.get(at).copied().unwrap_or(2.0)
}

/// Leases for duplicates, each with the channel of the job it belongs to.
pub(super) type Duplicates = Vec<(mpsc::UnboundedSender<Lease>, Lease)>;

impl Scheduler {
    /// The hosts but `not_on` that may take a job for `compiler` now (with their index).
    fn others<'a>(
        st: &'a State,
        not_on: u64,
        compiler: &'a str,
    ) -> impl Iterator<Item = (usize, &'a crate::host::Host)> + 'a {
        st.hosts.iter().enumerate().filter(move |(_, h)| {
            h.id != not_on && h.usable() && matches!(Self::elig(st, h, compiler), Elig::Yes)
        })
    }

    /// The idle eligible slot (host index, slot, predicted seconds) that would finish a
    /// job of `work` for `compiler` first, on any host but `not_on`.
    fn best_idle(
        st: &State,
        not_on: u64,
        compiler: &str,
        work: f64,
        now: Instant,
    ) -> Option<(usize, usize, f64)> {
        let mut best: Option<(usize, usize, f64)> = None;
        for (hi, h) in Self::others(st, not_on, compiler) {
            let Some(si) = h.free_slot() else { continue };
            let t = Self::predict(st, h, work, now);
            if best.is_none_or(|b| t < b.2) {
                best = Some((hi, si, t));
            }
        }
        best
    }

    /// Expected seconds until another host than `not_on` finishes a job of `work` for
    /// `compiler`: its earliest slot (now, or when its soonest job is expected to end)
    /// plus the job's predicted time there.
    fn soonest_elsewhere(st: &State, not_on: u64, compiler: &str, work: f64, now: Instant) -> f64 {
        let mut best = f64::INFINITY;
        for (_, h) in Self::others(st, not_on, compiler) {
            let wait = if h.free_slot().is_some() {
                0.0
            } else {
                st.running
                    .values()
                    .filter(|r| r.host == h.id)
                    .map(|r| remaining(now.duration_since(r.started).as_secs_f64(), r.predicted))
                    .fold(f64::INFINITY, f64::min)
            };
            best = best.min(wait + Self::predict(st, h, work, now));
        }
        best
    }

    /// Whether `r`'s host answered another job on time since `r` started.
    fn on_time_since(st: &State, r: &super::Running) -> bool {
        st.hosts
            .iter()
            .find(|h| h.id == r.host)
            .and_then(|h| h.on_time)
            .is_some_and(|t| t > r.started)
    }

    /// Attempts to give up as too slow (see the module comment): the channels that tell
    /// their jobs, and why.
    pub(super) fn too_slow(
        &self,
        st: &mut State,
        now: Instant,
    ) -> Vec<(oneshot::Sender<String>, String)> {
        if st.ratios.len() < TOO_SLOW_MIN_SAMPLES {
            return Vec::new();
        }
        let factor = percentile95(&st.ratios).max(1.5);
        // Hosts whose every running job (two at least) has stalled.
        let mut per_host: std::collections::BTreeMap<u64, (usize, usize)> = Default::default();
        for r in st.running.values().filter(|r| !r.duplicate) {
            let e = per_host.entry(r.host).or_default();
            e.0 += 1;
            let age = now.duration_since(r.started).as_secs_f64();
            if stalled(age, r.predicted, r.density.is_some()) {
                e.1 += 1;
            }
        }
        let stalled_hosts: Vec<u64> = per_host
            .into_iter()
            .filter(|(_, (all, late))| *all >= 2 && late == all)
            .map(|(h, _)| h)
            .collect();
        let slow: Vec<(u64, String)> = st
            .running
            .iter()
            .filter(|(_, r)| !r.duplicate && !r.hedged && r.give_up.is_some())
            .filter_map(|(a, r)| {
                let age = now.duration_since(r.started).as_secs_f64();
                let there = Self::soonest_elsewhere(st, r.host, &r.compiler, r.work(), now);
                let sign = if stalled_hosts.contains(&r.host) {
                    HostSign::Stalled
                } else if Self::on_time_since(st, r) {
                    HostSign::OnTime
                } else {
                    HostSign::Unknown
                };
                too_slow_to_wait_for(age, r.predicted, factor, there, sign).then(|| {
                    let why = format!(
                        "{age:.1} s for a job predicted at {:.1} s; another volunteer is \
                         expected to finish it in {there:.1} s",
                        r.predicted
                    );
                    (*a, why)
                })
            })
            .collect();
        slow.into_iter()
            .filter_map(|(a, why)| {
                let tx = st.running.get_mut(&a)?.give_up.take()?;
                Some((tx, why))
            })
            .collect()
    }

    /// Send duplicates for stragglers. Returns the leases to hand to their jobs.
    pub(super) fn hedge(self: &Arc<Self>, st: &mut State, now: Instant) -> Duplicates {
        let mut out = Vec::new();
        let pct = u64::from(self.settings.hedge_percent);
        if !st.pending.is_empty() || pct == 0 || st.ratios.len() < self.settings.hedge_warmup {
            return out;
        }
        let factor = percentile95(&st.ratios).max(1.5);
        let min_age = self.settings.hedge_after.as_secs_f64();
        // Oldest first: the job that has waited longest is the build's tail.
        let mut candidates: Vec<(f64, u64)> = st
            .running
            .iter()
            .filter(|(_, r)| !r.duplicate && !r.hedged && r.hedge.is_some())
            .map(|(a, r)| (now.duration_since(r.started).as_secs_f64(), *a))
            .filter(|(age, _)| *age > min_age)
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (age, attempt) in candidates {
            if (st.counters.hedges + 1) * 100 > st.counters.jobs * pct {
                break;
            }
            let Some(r) = st.running.get(&attempt) else {
                continue;
            };
            let (host, compiler, bytes, density, predicted) =
                (r.host, r.compiler.clone(), r.bytes, r.density, r.predicted);
            let on_time = Self::on_time_since(st, r);
            let Some((hi, si, t)) = Self::best_idle(st, host, &compiler, r.work(), now) else {
                continue;
            };
            if !worth_a_duplicate(age, predicted, factor, min_age, t, on_time) {
                continue;
            }
            let Some(r) = st.running.get_mut(&attempt) else {
                continue;
            };
            r.hedged = true;
            let (Some(tx), job, source) = (r.hedge.clone(), r.job, r.source.clone()) else {
                continue;
            };
            // A stand-in for the job's waiting entry, to reuse `start`.
            let (otx, _orx) = oneshot::channel();
            let p = Pending {
                job,
                compiler,
                source,
                bytes,
                density,
                since: now,
                exclude: Vec::new(),
                tx: otx,
                hedge: tx.clone(),
            };
            if let Some(lease) = self.start(st, hi, si, &p, true, now) {
                st.counters.hedges += 1;
                out.push((tx, lease));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_past_its_overshoot_percentile_is_a_straggler() {
        // Predicted 2 s, the 95th percentile overshoot 1.5: late after 3 s, even when the
        // idle slot is no faster.
        assert!(!worth_a_duplicate(2.9, 2.0, 1.5, 1.0, 2.0, false));
        assert!(worth_a_duplicate(3.1, 2.0, 1.5, 1.0, 2.0, false));
        // Not when its host answered another job on time meanwhile: a dense unit.
        assert!(!worth_a_duplicate(3.1, 2.0, 1.5, 1.0, 2.0, true));
    }

    #[test]
    fn a_slow_host_holding_a_big_unit_loses_it_to_an_idle_fast_one() {
        // 10 s predicted on the slow host, 1.5 s in; the idle fast host needs 4 s: a
        // clear win (4 < 0.5 × 8.5), though the job is well within its prediction.
        assert!(worth_a_duplicate(1.5, 10.0, 1.5, 1.0, 4.0, false));
        assert!(worth_a_duplicate(1.5, 10.0, 1.5, 1.0, 4.0, true));
        // Not when the idle slot is only a bit faster.
        assert!(!worth_a_duplicate(1.5, 10.0, 1.5, 1.0, 6.0, false));
        // Nor for a job younger than the minimum age.
        assert!(!worth_a_duplicate(0.5, 10.0, 1.5, 1.0, 0.1, false));
    }

    #[test]
    fn past_its_prediction_a_job_is_assumed_to_need_as_long_again() {
        assert!((remaining(1.0, 3.0) - 2.0).abs() < 1e-9);
        assert!((remaining(5.0, 3.0) - 5.0).abs() < 1e-9);
        // A homogeneous cluster's tail: a job 0.5 s from its end on an equal host is
        // left alone.
        assert!(!worth_a_duplicate(1.5, 2.0, 1.5, 1.0, 2.0, false));
    }

    #[test]
    fn a_job_far_past_its_prediction_is_given_up_only_for_a_clearly_faster_host() {
        let u = HostSign::Unknown;
        // Predicted 1 s, overshoot percentile 2: given up past 6 s ...
        assert!(!too_slow_to_wait_for(5.9, 1.0, 2.0, 0.5, u));
        assert!(too_slow_to_wait_for(6.1, 1.0, 2.0, 0.5, u));
        // ... when another host is expected to finish it in under half its age ...
        assert!(!too_slow_to_wait_for(6.1, 1.0, 2.0, 3.1, u));
        // ... never before 2 s, however small the prediction ...
        assert!(!too_slow_to_wait_for(
            1.9,
            0.01,
            2.0,
            0.0,
            HostSign::Stalled
        ));
        // ... and never while its host answers other jobs on time (a dense unit).
        assert!(!too_slow_to_wait_for(60.0, 1.0, 2.0, 0.5, HostSign::OnTime));
    }

    #[test]
    fn on_a_host_whose_every_job_stalled_a_job_is_given_up_sooner() {
        // Predicted 1 s: 2.6 s is not enough for one dense unit, but it is when every
        // job of its host is that late.
        assert!(!too_slow_to_wait_for(2.6, 1.0, 2.0, 0.5, HostSign::Unknown));
        assert!(too_slow_to_wait_for(2.6, 1.0, 2.0, 0.5, HostSign::Stalled));
        assert!(stalled(2.6, 1.0, true));
        assert!(!stalled(2.4, 1.0, true));
        assert!(!stalled(1.9, 0.1, true));
        // Units never seen are predicted from their size alone: two dense ones on one
        // host are not a stall until 5x.
        assert!(!stalled(4.9, 1.0, false));
        assert!(stalled(5.1, 1.0, false));
    }

    #[test]
    fn the_percentile_needs_twenty_samples() {
        let few: VecDeque<f64> = (0..19).map(f64::from).collect();
        assert!((percentile95(&few) - 2.0).abs() < 1e-9);
        let many: VecDeque<f64> = (1..=100).map(|i| f64::from(i) / 10.0).collect();
        assert!((percentile95(&many) - 9.6).abs() < 1e-9);
    }
}
