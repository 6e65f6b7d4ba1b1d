//! The scheduler: which volunteer takes a job, and when.
//!
//! - **Eligibility**: a job for compiler name X goes only to hosts whose probe object for
//!   X matches the master's own X (machine, gcc major, default PIE); while a probe runs
//!   the job waits for it.
//! - **Placement by estimated finish time**: every waiting job, oldest first, is placed
//!   where it is expected to *finish* first: the earliest a slot frees (now, or when the
//!   job running there is predicted to end) plus its predicted time there (the host's
//!   fixed cost + bytes × learned seconds per byte). When that best place is busy the job
//!   waits for it ("wait for the fast host") and later jobs plan around it.
//! - **Hedging** (in [`Scheduler::tick`], see `hedge`): a job past its predicted time ×
//!   the 95th percentile of how far predictions overshot, or one that an idle eligible
//!   slot is expected to finish in under half the time it still needs where it runs,
//!   gets a duplicate there, only while nothing waits and at most `hedge_percent` of the
//!   jobs. An attempt that loses such a race teaches its host that it is slow.
//!
//! - **No host now**: a job whose eligible hosts are all benched waits when one is due
//!   back soon (`WAIT_FOR_BENCH`) and compiles on the master only when none is.
//! - **Unit memory**: how dense each unit was (its seconds per byte over the cluster's,
//!   the host's slowness taken out) is kept per compiler and source name, so the next
//!   build of the same package predicts its big units as big: a dense unit is neither
//!   hedged nor given up for being a dense unit, and a host is not judged by it.
//!
//! All state is behind one mutex, held briefly; grants are handed out after it is
//! released (a dropped grant re-enters the scheduler).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::RelaySettings;
use crate::exchange::Failure;
use crate::host::{Host, Probe, Volunteer, spb_of};
use crate::status::{Counters, Span};
use crate::transport::Transport;

mod hedge;
mod probing;
mod units;
mod view;

use units::{UnitMemo, remember_unit, unit_density, work};

/// Finished attempts kept for the timeline.
const MAX_SPANS: usize = 50_000;
/// Overshoot ratios kept for the hedging percentile.
const MAX_RATIOS: usize = 200;
/// Weight of a new job in the cluster's seconds per byte.
const GLOBAL_ALPHA: f64 = 0.1;
/// A job takes the best idle slot unless it is expected to finish there later than on
/// the best busy one (its wait included) by more than this share of that time plus
/// [`IDLE_SLACK_SECS`]: the estimates are noisy, so an idle slot wins a near tie (equal
/// volunteers sharing a machine's cores look a third apart now and then), but a big unit
/// does not go to a host known to take seconds longer (measured: the biggest unit on the
/// 0.2-CPU volunteer, 19 s where a fast one, busy for 2 s more, took 5.6). A margin on
/// the ratio alone (wait only when twice as fast) let exactly that happen.
const IDLE_SLACK: f64 = 0.25;
/// See [`IDLE_SLACK`].
const IDLE_SLACK_SECS: f64 = 0.5;
/// A host with no finished job for this long gets a probe compile when idle.
const STALE: Duration = Duration::from_secs(30);
/// A job with no usable host waits for a benched one due back (its probe running, or
/// its back-off ending) within this long, rather than compiling on the master: a unit
/// takes the master's whole share of CPU for many times what a volunteer needs, and a
/// host benched for one failure or one job given up as too slow is back in a second.
/// Longer back-offs (a host that keeps failing) are not waited for.
const WAIT_FOR_BENCH: Duration = Duration::from_secs(10);
/// Units smaller than this (preprocessed) teach nothing about speed: a compiler's start
/// and the round trip outweigh their compile (measured: a 500-byte unit took 134 ms where
/// bytes x the prior said 1 ms, and its host looked 16x slower than it was).
const MIN_LEARN_BYTES: u64 = 8 * 1024;
/// An answer within this many times its prediction shows its host on time.
const ON_TIME: f64 = 2.0;

/// What a waiting job is given.
pub(crate) enum Grant {
    /// A slot on a volunteer.
    Host(Lease),
    /// No volunteer can take it: compile locally, for this reason.
    NoHost(String),
}

/// A slot held for one attempt. Dropped without [`Lease::finish`], it counts as cancelled.
pub(crate) struct Lease {
    sched: Arc<Scheduler>,
    pub(crate) attempt: u64,
    pub(crate) host: u64,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) lzo: bool,
    /// Fires when the scheduler gives the attempt up as too slow.
    pub(crate) give_up: Option<oneshot::Receiver<String>>,
    done: bool,
}

/// How an attempt ended.
pub(crate) enum Outcome {
    /// An answer for the client (`status` 0 or a compile error) after `secs`.
    Answer { status: u32, secs: f64 },
    /// A failure: retried elsewhere.
    Failed(Failure),
}

impl Lease {
    /// Record how the attempt ended and free the slot.
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.done = true;
        self.sched.finish(self.attempt, Some(outcome));
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.done {
            self.sched.finish(self.attempt, None);
        }
    }
}

/// A job waiting for a slot.
struct Pending {
    job: u64,
    compiler: String,
    source: String,
    bytes: u64,
    /// The remembered density, if this unit was seen before.
    density: Option<f64>,
    /// When it began to wait.
    since: Instant,
    exclude: Vec<u64>,
    tx: oneshot::Sender<Grant>,
    hedge: mpsc::UnboundedSender<Lease>,
}

/// An attempt running on a volunteer.
struct Running {
    job: u64,
    host: u64,
    slot: usize,
    source: String,
    compiler: String,
    bytes: u64,
    density: Option<f64>,
    started: Instant,
    /// Seconds it waited for this slot.
    queued: f64,
    predicted: f64,
    duplicate: bool,
    hedged: bool,
    hedge: Option<mpsc::UnboundedSender<Lease>>,
    give_up: Option<oneshot::Sender<String>>,
}

/// A job compiling on the master.
struct LocalRun {
    job: u64,
    source: String,
    started: Instant,
}

/// Whether a host may take a job for a compiler name.
enum Elig {
    Yes,
    /// A probe is still running (here or on the master).
    Unknown,
    No(String),
}

#[derive(Default)]
struct State {
    hosts: Vec<Host>,
    next_host: u64,
    next_id: u64,
    pending: VecDeque<Pending>,
    running: BTreeMap<u64, Running>,
    local_running: BTreeMap<u64, LocalRun>,
    /// The master's own probe per compiler name.
    local: BTreeMap<String, Probe>,
    counters: Counters,
    /// The cluster's seconds per byte of preprocessed source (moving average).
    global_spb: Option<f64>,
    ratios: VecDeque<f64>,
    spans: VecDeque<Span>,
    /// Per compiler and source name: the unit's size and density (see `UnitMemo`).
    units: std::collections::HashMap<(String, String), UnitMemo>,
}

/// The scheduler and everything it knows.
pub(crate) struct Scheduler {
    st: Mutex<State>,
    pub(crate) settings: RelaySettings,
    pub(crate) local: Arc<dyn Transport>,
    pub(crate) started: Instant,
}

/// What a send after the lock is released delivers.
type Deliveries = Vec<(oneshot::Sender<Grant>, Grant)>;

impl Scheduler {
    pub(crate) fn new(
        settings: RelaySettings,
        volunteers: Vec<Volunteer>,
        local: Arc<dyn Transport>,
    ) -> Arc<Scheduler> {
        let sched = Arc::new(Scheduler {
            st: Mutex::new(State::default()),
            settings,
            local,
            started: Instant::now(),
        });
        sched.set_volunteers(volunteers);
        sched
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough counters; keep serving.
        self.st
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replace the volunteer list (zeroconf): new names join, missing ones finish their
    /// jobs and take no more, known ones keep what was learned.
    pub(crate) fn set_volunteers(self: &Arc<Self>, volunteers: Vec<Volunteer>) {
        let deliveries = {
            let mut st = self.lock();
            for h in &mut st.hosts {
                h.removed = !volunteers.iter().any(|v| v.name == h.vol.name);
            }
            for v in volunteers {
                if let Some(h) = st.hosts.iter_mut().find(|h| h.vol.name == v.name) {
                    h.removed = false;
                    continue;
                }
                let id = st.next_host;
                st.next_host += 1;
                st.hosts.push(Host::new(id, v));
            }
            st.hosts.retain(|h| !h.removed || h.busy() > 0);
            let names: Vec<String> = st.local.keys().cloned().collect();
            for c in names {
                self.ensure_probes(&mut st, &c);
            }
            self.dispatch(&mut st)
        };
        deliver(deliveries);
    }

    /// A new job from a client.
    pub(crate) fn new_job(&self) -> u64 {
        let mut st = self.lock();
        st.counters.jobs += 1;
        st.next_id += 1;
        st.next_id
    }

    /// Wait for a slot for `job` (or learn that none will come).
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        job: u64,
        compiler: &str,
        source: &str,
        bytes: u64,
        exclude: &[u64],
        hedge: mpsc::UnboundedSender<Lease>,
    ) -> Grant {
        let (tx, rx) = oneshot::channel();
        let deliveries = {
            let mut st = self.lock();
            self.ensure_probes(&mut st, compiler);
            let density = unit_density(&st, compiler, source, bytes);
            // In arrival order: a job retried after a failure keeps its place ahead of
            // the jobs that came after it.
            let at = st.pending.iter().position(|p| p.job > job);
            let p = Pending {
                job,
                compiler: compiler.to_owned(),
                source: source.to_owned(),
                bytes,
                density,
                since: Instant::now(),
                exclude: exclude.to_vec(),
                tx,
                hedge,
            };
            match at {
                Some(i) => st.pending.insert(i, p),
                None => st.pending.push_back(p),
            }
            self.dispatch(&mut st)
        };
        deliver(deliveries);
        rx.await
            .unwrap_or_else(|_| Grant::NoHost("the relay is shutting down".into()))
    }

    fn elig(st: &State, h: &Host, compiler: &str) -> Elig {
        let Some(Probe::Facts(got)) = h.compilers.get(compiler) else {
            return match h.compilers.get(compiler) {
                Some(Probe::Failed(why)) => Elig::No(why.clone()),
                _ => Elig::Unknown,
            };
        };
        match st.local.get(compiler) {
            Some(Probe::Facts(mine)) => match got.mismatch(mine) {
                Some(why) => Elig::No(why),
                None => Elig::Yes,
            },
            // The master cannot compile it itself: nothing to compare with.
            Some(Probe::Failed(_)) => Elig::Yes,
            _ => Elig::Unknown,
        }
    }

    /// Seconds a job of `work` (see [`work`]) is expected to take on `h`, counting what
    /// its running jobs already show (a host that slowed down is slow before its jobs
    /// finish).
    fn predict(st: &State, h: &Host, work: f64, now: Instant) -> f64 {
        let mut spb = spb_of(&st.hosts, h, st.global_spb);
        for r in st.running.values().filter(|r| r.host == h.id) {
            let age = now.duration_since(r.started).as_secs_f64();
            if age > r.predicted {
                spb = spb.max(age / r.work());
            }
        }
        spb * work
    }

    /// Place waiting jobs (see the module comment). Returns the grants to deliver.
    fn dispatch(self: &Arc<Self>, st: &mut State) -> Deliveries {
        let now = Instant::now();
        let mut out = Vec::new();
        // When each slot is expected to be free, in seconds from now.
        let mut free: Vec<Vec<f64>> = st
            .hosts
            .iter()
            .map(|h| {
                h.slots
                    .iter()
                    .map(|s| {
                        s.and_then(|a| st.running.get(&a)).map_or(0.0, |r| {
                            let age = now.duration_since(r.started).as_secs_f64();
                            (r.predicted - age).max(0.05 * r.predicted + 0.05)
                        })
                    })
                    .collect()
            })
            .collect();
        let mut i = 0;
        while let Some(p) = st.pending.get(i) {
            let mut best: Option<(usize, usize, f64)> = None;
            let mut best_idle: Option<(usize, usize, f64)> = None;
            let mut unknown = false;
            let mut back_soon = false;
            let mut why: Vec<String> = Vec::new();
            for (hi, h) in st.hosts.iter().enumerate() {
                if h.removed {
                    continue;
                }
                if p.exclude.contains(&h.id) {
                    why.push(format!("{} failed this job", h.vol.name));
                    continue;
                }
                match Self::elig(st, h, &p.compiler) {
                    Elig::No(w) => {
                        why.push(format!("{}: {w}", h.vol.name));
                        continue;
                    }
                    Elig::Unknown => {
                        unknown |= h.bench.is_none();
                        continue;
                    }
                    Elig::Yes => {}
                }
                if let Some(b) = &h.bench {
                    back_soon |= b.probing || b.until <= now + WAIT_FOR_BENCH;
                    why.push(format!("{} benched ({})", h.vol.name, b.reason));
                    continue;
                }
                let Some(slot_free) = free.get(hi) else {
                    continue;
                };
                let Some((si, at)) = slot_free
                    .iter()
                    .copied()
                    .enumerate()
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                else {
                    continue;
                };
                let finish = at + Self::predict(st, h, work(p.bytes, p.density), now);
                let better = |b: Option<(usize, usize, f64)>| b.is_none_or(|b| finish < b.2);
                if at <= 0.0 && better(best_idle) {
                    best_idle = Some((hi, si, finish));
                }
                if better(best) {
                    best = Some((hi, si, finish));
                }
            }
            // Waiting for a busy host must win clearly: the estimates are noisy, and an
            // idle slot left idle is lost for sure.
            if let (Some(b), Some(i)) = (best, best_idle) {
                if takes_idle(i.2, b.2) {
                    best = Some(i);
                }
            }
            match best {
                None if unknown || back_soon => i += 1,
                None => {
                    if let Some(p) = st.pending.remove(i) {
                        let reason = no_host_reason(&p.compiler, &why);
                        out.push((p.tx, Grant::NoHost(reason)));
                    }
                }
                Some((hi, si, finish)) => {
                    let idle = free
                        .get(hi)
                        .and_then(|f| f.get(si))
                        .is_some_and(|&t| t <= 0.0);
                    if idle {
                        if let Some(p) = st.pending.remove(i) {
                            let lease = self.start(st, hi, si, &p, false, now);
                            if let (Some(l), Some(f)) = (&lease, free.get_mut(hi)) {
                                if let Some(slot) = f.get_mut(si) {
                                    *slot = st.running.get(&l.attempt).map_or(1.0, |r| r.predicted);
                                }
                            }
                            match lease {
                                Some(l) => out.push((p.tx, Grant::Host(l))),
                                None => out.push((p.tx, Grant::NoHost("internal: no slot".into()))),
                            }
                        }
                    } else {
                        if let Some(slot) = free.get_mut(hi).and_then(|f| f.get_mut(si)) {
                            *slot = finish;
                        }
                        i += 1;
                    }
                }
            }
        }
        out
    }

    /// Take slot `si` of host index `hi` for `p`.
    fn start(
        self: &Arc<Self>,
        st: &mut State,
        hi: usize,
        si: usize,
        p: &Pending,
        duplicate: bool,
        now: Instant,
    ) -> Option<Lease> {
        let predicted = Self::predict(st, st.hosts.get(hi)?, work(p.bytes, p.density), now);
        st.next_id += 1;
        let attempt = st.next_id;
        let h = st.hosts.get_mut(hi)?;
        *h.slots.get_mut(si)? = Some(attempt);
        let (give_up, give_up_rx) = oneshot::channel();
        let lease = Lease {
            sched: Arc::clone(self),
            attempt,
            host: h.id,
            transport: Arc::clone(&h.vol.transport),
            lzo: h.vol.lzo,
            give_up: Some(give_up_rx),
            done: false,
        };
        st.running.insert(
            attempt,
            Running {
                job: p.job,
                host: h.id,
                slot: si,
                source: p.source.clone(),
                compiler: p.compiler.clone(),
                bytes: p.bytes,
                density: p.density,
                started: now,
                queued: now.saturating_duration_since(p.since).as_secs_f64(),
                predicted: predicted.max(1e-3),
                duplicate,
                hedged: false,
                hedge: (!duplicate).then(|| p.hedge.clone()),
                give_up: Some(give_up),
            },
        );
        Some(lease)
    }

    /// An attempt ended (`None`: cancelled).
    fn finish(self: &Arc<Self>, attempt: u64, outcome: Option<Outcome>) {
        let deliveries = {
            let mut st = self.lock();
            let now = Instant::now();
            let Some(r) = st.running.remove(&attempt) else {
                return;
            };
            let secs = now.duration_since(r.started).as_secs_f64();
            let word = match &outcome {
                Some(Outcome::Answer { status, .. }) if *status == 0 => "ok".to_owned(),
                Some(Outcome::Answer { .. }) => "error".to_owned(),
                Some(Outcome::Failed(f)) => f.word().to_owned(),
                None => "cancelled".to_owned(),
            };
            let mut name = String::new();
            let mut density_sample = None;
            let mut global = st.global_spb;
            let st_global = &mut global;
            if let Some(h) = st.hosts.iter_mut().find(|h| h.id == r.host) {
                name.clone_from(&h.vol.name);
                if let Some(s) = h.slots.get_mut(r.slot) {
                    *s = None;
                }
                match &outcome {
                    Some(Outcome::Answer { secs, .. }) if r.bytes < MIN_LEARN_BYTES => {
                        h.finished(now);
                        if *secs <= ON_TIME * r.predicted.max(0.1) {
                            h.on_time = Some(now);
                        }
                    }
                    Some(Outcome::Answer { secs, .. }) => {
                        let sample = secs / r.bytes.max(1) as f64;
                        let global = *st_global.get_or_insert(sample);
                        // The unit's density with the host's slowness taken out, and the
                        // host's slowness with the unit's known density taken out.
                        let host_factor = h.slowness.map_or(1.0, f64::exp);
                        density_sample = Some(sample / global / host_factor);
                        // Weighed by how long the job should take on an average host
                        // (a second or more: full weight).
                        let weight = (r.work() * global).clamp(0.1, 1.0);
                        h.learn(secs / r.work() / global, weight, now);
                        if *secs <= ON_TIME * r.predicted {
                            h.on_time = Some(now);
                        }
                        *st_global = Some(global + GLOBAL_ALPHA * (sample - global));
                    }
                    Some(Outcome::Failed(f)) if f.benches_host() => {
                        if matches!(f, Failure::TooSlow(_)) && r.bytes >= MIN_LEARN_BYTES {
                            let global = st_global.unwrap_or(crate::host::PRIOR_SPB);
                            h.learn_lower_bound(secs / r.work() / global, 1.0);
                        }
                        h.fail(f.word(), now);
                    }
                    None if secs > r.predicted && r.bytes >= MIN_LEARN_BYTES => {
                        let global = st_global.unwrap_or(crate::host::PRIOR_SPB);
                        h.learn_lower_bound(secs / r.work() / global, 0.5);
                    }
                    _ => {}
                }
            }
            st.global_spb = global;
            if let Some(d) = density_sample {
                remember_unit(&mut st, &r, d);
            }
            match &outcome {
                Some(Outcome::Answer { .. }) => {
                    if r.bytes >= MIN_LEARN_BYTES {
                        st.ratios.push_back(secs / r.predicted);
                        if st.ratios.len() > MAX_RATIOS {
                            st.ratios.pop_front();
                        }
                    }
                    if r.duplicate {
                        st.counters.hedge_wins += 1;
                    }
                }
                Some(Outcome::Failed(f)) => {
                    st.counters.retries += 1;
                    *st.counters.failures.entry(f.word().to_owned()).or_default() += 1;
                }
                None => st.counters.cancelled += 1,
            }
            let span = self.span(
                r.job,
                &r.source,
                name,
                r.slot,
                r.started,
                now,
                word,
                r.duplicate,
                r.predicted,
                r.queued,
            );
            push_span(&mut st, span);
            self.dispatch(&mut st)
        };
        deliver(deliveries);
    }

    #[allow(clippy::too_many_arguments)]
    fn span(
        &self,
        job: u64,
        source: &str,
        host: String,
        slot: usize,
        start: Instant,
        end: Instant,
        outcome: String,
        duplicate: bool,
        predicted: f64,
        queued: f64,
    ) -> Span {
        let ms = |t: Instant| t.duration_since(self.started).as_millis() as u64;
        Span {
            job,
            source: source.to_owned(),
            host,
            slot,
            start_ms: ms(start),
            end_ms: ms(end),
            outcome,
            duplicate,
            predicted_ms: (predicted * 1000.0) as u64,
            queued_ms: (queued * 1000.0) as u64,
        }
    }

    /// A job answered by a volunteer (`status` 0 or a compile error).
    pub(crate) fn remote_done(&self, status: u32) {
        let mut st = self.lock();
        st.counters.remote += 1;
        if status != 0 {
            st.counters.compile_errors += 1;
        }
    }

    /// A job starts on the master, for `reason`.
    pub(crate) fn local_begin(&self, job: u64, source: &str, reason: &str) {
        let mut st = self.lock();
        st.counters.local += 1;
        *st.counters.local_why.entry(reason.to_owned()).or_default() += 1;
        st.local_running.insert(
            job,
            LocalRun {
                job,
                source: source.to_owned(),
                started: Instant::now(),
            },
        );
    }

    /// The local compile of `job` ended (`ok`: it produced an answer).
    pub(crate) fn local_end(&self, job: u64, ok: bool) {
        let mut st = self.lock();
        if let Some(l) = st.local_running.remove(&job) {
            let slot = st.local_running.len();
            let word = if ok { "local" } else { "failed" }.to_owned();
            let span = self.span(
                l.job,
                &l.source,
                "master".into(),
                slot,
                l.started,
                Instant::now(),
                word,
                false,
                0.0,
                0.0,
            );
            push_span(&mut st, span);
        }
        if !ok {
            st.counters.failed += 1;
        }
    }

    /// Periodic work: revive benched hosts through a probe, refresh stale ones, hedge
    /// stragglers.
    pub(crate) fn tick(self: &Arc<Self>) {
        let (hedges, give_ups, waiting) = {
            let mut st = self.lock();
            let now = Instant::now();
            self.revive_and_refresh(&mut st, now);
            let give_ups = self.too_slow(&mut st, now);
            // Jobs waiting for a benched host: one whose back-off grew past the wait
            // compiles on the master now.
            let waiting = if st.pending.is_empty() {
                Vec::new()
            } else {
                self.dispatch(&mut st)
            };
            (self.hedge(&mut st, now), give_ups, waiting)
        };
        deliver(waiting);
        for (tx, why) in give_ups {
            drop(tx.send(why));
        }
        // Sent outside the lock: a job that already ended drops its duplicate's lease,
        // which re-enters the scheduler.
        for (tx, lease) in hedges {
            drop(tx.send(lease));
        }
    }
}

/// Whether a job expected to finish in `idle` seconds on the best idle slot takes it
/// rather than wait for a busy host expected to finish it in `busy` (see [`IDLE_SLACK`]).
fn takes_idle(idle: f64, busy: f64) -> bool {
    idle - busy <= IDLE_SLACK * busy + IDLE_SLACK_SECS
}

fn push_span(st: &mut State, span: Span) {
    st.spans.push_back(span);
    if st.spans.len() > MAX_SPANS {
        st.spans.pop_front();
    }
}

fn deliver(deliveries: Deliveries) {
    for (tx, grant) in deliveries {
        // A job whose client went away: its grant (and lease) is dropped here, outside
        // the lock, which frees the slot again.
        drop(tx.send(grant));
    }
}

/// Why no volunteer takes a job for `compiler`, in a few words (the counter's key).
fn no_host_reason(compiler: &str, why: &[String]) -> String {
    if why.is_empty() {
        return "no volunteers".into();
    }
    if why.iter().all(|w| w.ends_with("failed this job")) {
        return "every eligible volunteer failed this job".into();
    }
    if why.iter().any(|w| w.contains(" benched (")) && !why.iter().any(|w| w.contains(": ")) {
        return "every eligible volunteer is benched".into();
    }
    if why.iter().any(|w| w.contains(": "))
        && !why
            .iter()
            .any(|w| w.contains(" benched (") || w.ends_with("failed this job"))
    {
        return format!("no volunteer's {compiler} matches the master's");
    }
    "no eligible volunteer left".into()
}

#[cfg(test)]
#[path = "sched/tests.rs"]
mod tests;
