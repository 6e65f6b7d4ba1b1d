//! doctor and `distsetup relay`: when the client's list names a loopback host that
//! answers the relay's state question, say so and what the relay knows (its volunteers,
//! their compiler match, benched hosts, local compiles); when the relay's service is
//! installed but the client does not point at it (or it does not run), say that.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::{Finding, Settings, Status};
use crate::hostspec::{self, Transport};

/// Where `master --relay` puts the relay's service, by init system.
const SERVICE_FILES: [&str; 2] = [
    "/etc/systemd/system/distsetup-relay.service",
    "/etc/init.d/distsetup-relay",
];

/// The relay's findings. True when the client points at a running relay.
pub(super) fn check(s: &Settings, remote: &[&hostspec::Host], f: &mut Vec<Finding>) -> bool {
    let installed = SERVICE_FILES
        .iter()
        .find(|p| s.root.path(Path::new(p)).exists());
    let loopback: Vec<SocketAddr> = remote
        .iter()
        .filter_map(|h| match &h.transport {
            Transport::Tcp { host, .. } => {
                let ip = match host.as_str() {
                    "localhost" => Some(std::net::IpAddr::from([127, 0, 0, 1])),
                    other => other.trim_matches(['[', ']']).parse().ok(),
                }?;
                ip.is_loopback()
                    .then(|| SocketAddr::new(ip, h.effective_port().unwrap_or(3632)))
            }
            _ => None,
        })
        .collect();
    for addr in loopback {
        let Some(snap) = fetch(addr, s.connect_timeout) else {
            continue;
        };
        report(&snap, f);
        return true;
    }
    if let Some(file) = installed {
        f.push(
            Finding::new(
                "relay",
                *file,
                Status::Warn,
                "the relay's service is installed, but the client's host list does not reach a running relay",
            )
            .hint("start the service (systemctl start distsetup-relay / rc-service distsetup-relay start), or run `distsetup master --relay` again"),
        );
    }
    false
}

fn fetch(addr: SocketAddr, timeout: Duration) -> Option<distsetup_relay::Snapshot> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    rt.block_on(distsetup_relay::fetch(
        addr,
        false,
        timeout.max(Duration::from_secs(2)),
    ))
    .ok()
}

fn report(snap: &distsetup_relay::Snapshot, f: &mut Vec<Finding>) {
    let c = &snap.counters;
    let subject = format!("relay {}", snap.listen);
    f.push(Finding::new(
        "relay",
        subject.clone(),
        Status::Ok,
        format!(
            "the client sends its jobs to the relay: {} volunteers, {} jobs so far ({} remote, {} local, {} retries, {} hedges)",
            snap.hosts.len(),
            c.jobs,
            c.remote,
            c.local,
            c.retries,
            c.hedges
        ),
    ));
    if c.local > 0 {
        let why: Vec<String> = c
            .local_why
            .iter()
            .map(|(w, n)| format!("{n}: {w}"))
            .collect();
        f.push(
            Finding::new(
                "relay",
                subject.clone(),
                Status::Warn,
                format!(
                    "{} jobs compiled on this machine ({})",
                    c.local,
                    why.join("; ")
                ),
            )
            .hint("`distsetup top` shows which volunteer failed or does not match"),
        );
    }
    if snap.hosts.is_empty() {
        f.push(Finding::new(
            "relay",
            subject.clone(),
            Status::Broken,
            "the relay has no volunteers: every job compiles on this machine",
        ));
    }
    for h in &snap.hosts {
        let subject = format!("{} (via the relay)", h.address);
        if let Some(b) = &h.benched {
            f.push(Finding::new(
                "relay",
                subject.clone(),
                Status::Warn,
                format!("benched: {b}"),
            ));
        }
        for (name, cs) in &h.compilers {
            let status = match cs.state.as_str() {
                "match" => Status::Ok,
                "probing" => continue,
                _ => Status::Warn,
            };
            let text = match status {
                Status::Ok => format!("{name}: matches this machine's ({})", cs.detail),
                _ => format!("gets no {name} jobs: {}", cs.detail),
            };
            f.push(Finding::new("relay", subject.clone(), status, text));
        }
    }
}
