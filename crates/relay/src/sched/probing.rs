//! Probes: the master's own compiler per name, each host's (eligibility), a benched
//! host's way back, and a refresh of hosts whose speed is stale.

use std::sync::Arc;
use std::time::Instant;

use super::{Probe, STALE, Scheduler, State, deliver};
use crate::transport::Transport;

impl Scheduler {
    /// Start the master's and every host's probe for `compiler` if not done yet.
    pub(super) fn ensure_probes(self: &Arc<Self>, st: &mut State, compiler: &str) {
        if !st.local.contains_key(compiler) {
            st.local.insert(compiler.to_owned(), Probe::Running);
            let (me, name) = (Arc::clone(self), compiler.to_owned());
            tokio::spawn(async move { me.probe_local(name).await });
        }
        for h in &mut st.hosts {
            if h.removed || h.bench.is_some() || h.compilers.contains_key(compiler) {
                continue;
            }
            h.compilers.insert(compiler.to_owned(), Probe::Running);
            h.last_probe = Some(Instant::now());
            let (me, name, id) = (Arc::clone(self), compiler.to_owned(), h.id);
            let (t, lzo) = (Arc::clone(&h.vol.transport), h.vol.lzo);
            tokio::spawn(async move { me.probe_host(id, t, lzo, name, false).await });
        }
    }

    async fn probe_local(self: Arc<Self>, compiler: String) {
        let s = &self.settings;
        let r = crate::probe::facts(&*self.local, &compiler, 1, s.probe_timeout, &s.limits).await;
        let deliveries = {
            let mut st = self.lock();
            let probe = match r {
                Ok((facts, _)) => Probe::Facts(facts),
                Err(e) => Probe::Failed(e.to_string()),
            };
            st.local.insert(compiler, probe);
            self.dispatch(&mut st)
        };
        deliver(deliveries);
    }

    /// Probe `compiler` on host `id`. `revive`: the host is benched and this probe
    /// decides whether it comes back.
    async fn probe_host(
        self: Arc<Self>,
        id: u64,
        t: Arc<dyn Transport>,
        lzo: bool,
        compiler: String,
        revive: bool,
    ) {
        let s = &self.settings;
        let version = if lzo { 2 } else { 1 };
        let r = crate::probe::facts(&*t, &compiler, version, s.probe_timeout, &s.limits).await;
        let deliveries = {
            let mut st = self.lock();
            let now = Instant::now();
            let Some(h) = st.hosts.iter_mut().find(|h| h.id == id) else {
                return;
            };
            match r {
                Ok((facts, secs)) => {
                    h.learn_probe(secs.as_secs_f64(), now, revive);
                    h.compilers.insert(compiler, Probe::Facts(facts));
                    if revive {
                        h.bench = None;
                    }
                }
                Err(crate::probe::ProbeError::Host(f)) => {
                    // Unreachable: bench it; every name is probed again when it is back.
                    h.compilers.retain(|_, p| !matches!(p, Probe::Running));
                    h.compilers.remove(&compiler);
                    h.fail(f.word(), now);
                }
                Err(e) => {
                    h.compilers.insert(compiler, Probe::Failed(e.to_string()));
                    if revive {
                        h.bench = None;
                    }
                }
            }
            self.dispatch(&mut st)
        };
        deliver(deliveries);
    }

    pub(super) fn revive_and_refresh(self: &Arc<Self>, st: &mut State, now: Instant) {
        let first_local = st.local.keys().next().cloned();
        for h in &mut st.hosts {
            let probe_name = h
                .compilers
                .iter()
                .find(|(_, p)| matches!(p, Probe::Facts(_)))
                .map(|(c, _)| c.clone())
                .or_else(|| first_local.clone());
            let revive = match &mut h.bench {
                Some(b) if !b.probing && b.until <= now => {
                    b.probing = true;
                    true
                }
                Some(_) => continue,
                None => false,
            };
            let stale = !revive
                && !h.removed
                && h.busy() == 0
                && !h.compilers.values().any(|p| matches!(p, Probe::Running))
                && h.last_done.is_none_or(|t| now.duration_since(t) > STALE)
                && h.last_probe.is_none_or(|t| now.duration_since(t) > STALE);
            if !(revive || stale) {
                continue;
            }
            let Some(name) = probe_name else {
                // Nothing to probe with yet: a revived host simply comes back.
                if revive {
                    h.bench = None;
                }
                continue;
            };
            h.last_probe = Some(now);
            let (me, id, t, lzo) = (
                Arc::clone(self),
                h.id,
                Arc::clone(&h.vol.transport),
                h.vol.lzo,
            );
            tokio::spawn(async move { me.probe_host(id, t, lzo, name, revive).await });
        }
    }
}
