//! The scheduler's state as `top` shows it.

use std::time::Instant;

use super::{Elig, Host, Probe, Scheduler, State};

impl Scheduler {
    /// The state for `top`.
    pub(crate) fn snapshot(&self, listen: String, timeline: bool) -> crate::status::Snapshot {
        let st = self.lock();
        let now = Instant::now();
        let hosts = st
            .hosts
            .iter()
            .filter(|h| !h.removed)
            .map(|h| host_state(&st, h, now))
            .collect();
        let mut running: Vec<crate::status::RunningJob> = st
            .running
            .values()
            .map(|r| crate::status::RunningJob {
                job: r.job,
                source: r.source.clone(),
                host: st
                    .hosts
                    .iter()
                    .find(|h| h.id == r.host)
                    .map(|h| h.vol.name.clone())
                    .unwrap_or_default(),
                age_s: now.duration_since(r.started).as_secs_f64(),
                duplicate: r.duplicate,
            })
            .collect();
        running.extend(
            st.local_running
                .values()
                .map(|l| crate::status::RunningJob {
                    job: l.job,
                    source: l.source.clone(),
                    host: "master".into(),
                    age_s: now.duration_since(l.started).as_secs_f64(),
                    duplicate: false,
                }),
        );
        crate::status::Snapshot {
            listen,
            uptime_s: now.duration_since(self.started).as_secs_f64(),
            hosts,
            waiting: st.pending.len(),
            running,
            counters: st.counters.clone(),
            timeline: if timeline {
                st.spans.iter().cloned().collect()
            } else {
                Vec::new()
            },
        }
    }
}

fn host_state(st: &State, h: &Host, now: Instant) -> crate::status::HostState {
    use crate::status::CompilerState;
    let compilers = h
        .compilers
        .keys()
        .map(|c| {
            let (state, detail) = match (Scheduler::elig(st, h, c), h.compilers.get(c)) {
                (Elig::Yes, Some(Probe::Facts(f))) => ("match", f.describe()),
                (Elig::No(why), Some(Probe::Facts(_))) => ("mismatch", why),
                (Elig::No(why), _) => ("failed", why),
                _ => ("probing", String::new()),
            };
            (
                c.clone(),
                CompilerState {
                    state: state.into(),
                    detail,
                },
            )
        })
        .collect();
    crate::status::HostState {
        address: h.vol.name.clone(),
        transport: h.vol.transport.kind(),
        link: h.vol.transport.detail(),
        busy: h.busy(),
        slots: h.slots.len(),
        done: h.done,
        failures: h.failures,
        speed_bps: h
            .slowness
            .map(|_| 1.0 / super::spb_of(&st.hosts, h, st.global_spb).max(1e-12)),
        probe_ms: h.probe_secs.map(|s| s * 1000.0),
        benched: h.bench.as_ref().map(|b| {
            let left = b.until.saturating_duration_since(now).as_secs_f64();
            if b.probing {
                format!("{}; probing", b.reason)
            } else {
                format!("{}; {left:.0} s left", b.reason)
            }
        }),
        compilers,
    }
}
