//! Probing the hosts of the list: one thread per host, so a host that accepts and then
//! says nothing costs one time-out in all rather than one per host; findings are handed
//! on in list order as soon as every host before them is done.

use std::collections::BTreeMap;

use super::elf::ObjectFacts;
use super::master::probe_host;
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
