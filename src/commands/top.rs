//! `distsetup top`: the relay's state, refreshed about once a second; `--once [--json]`
//! for scripts; `--timeline FILE` draws the last build.

use std::time::Duration;

use anyhow::Context as _;
use distsetup::relay::status::Snapshot;

use super::{ExitStatus, Ui};
use crate::cli::TopArgs;

/// How long one question to the relay may take.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts closer than this belong to the same build.
const BUILD_GAP_MS: u64 = 5_000;

/// `distsetup top`.
pub fn run(a: &TopArgs, ui: &mut Ui<'_>) -> anyhow::Result<ExitStatus> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let fetch =
        |timeline| runtime.block_on(distsetup::relay::fetch(a.relay, timeline, ASK_TIMEOUT));
    if let Some(path) = &a.timeline {
        let snap = fetch(true)?;
        let spans = distsetup::relay::timeline::last_build(&snap.timeline, BUILD_GAP_MS);
        if spans.is_empty() {
            anyhow::bail!(
                "the relay at {} has not run a job yet: no timeline to draw",
                a.relay
            );
        }
        let svg =
            distsetup::relay::timeline::render(&spans, &format!("distsetup relay {}", snap.listen));
        write_file(path, &svg)?;
        writeln!(ui.out, "{}: {} attempts", path.display(), spans.len())?;
        return Ok(ExitStatus::Ok);
    }
    if a.once {
        let snap = fetch(false)?;
        if a.json {
            writeln!(ui.out, "{}", serde_json::to_string_pretty(&snap)?)?;
        } else {
            write!(ui.out, "{}", screen(&snap))?;
        }
        return Ok(ExitStatus::Ok);
    }
    loop {
        let text = match fetch(false) {
            Ok(snap) => screen(&snap),
            Err(e) => format!("{e}\n"),
        };
        // Home, clear, then the screen: one write, so it does not flicker.
        write!(ui.out, "\x1b[H\x1b[2J{text}")?;
        ui.out.flush()?;
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[allow(
    clippy::disallowed_methods,
    reason = "a picture the user asked for by name, not configuration to plan or undo"
)]
fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn speed(bps: Option<f64>) -> String {
    match bps {
        None => "-".into(),
        Some(b) if b >= 1e6 => format!("{:.1} MB/s", b / 1e6),
        Some(b) => format!("{:.0} kB/s", b / 1e3),
    }
}

/// The text view of one snapshot.
pub fn screen(s: &Snapshot) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let c = &s.counters;
    let _ = writeln!(
        o,
        "distsetup relay on {} — up {:.0} s — {} jobs: {} remote ({} compile errors), {} local, {} failed; {} waiting",
        s.listen, s.uptime_s, c.jobs, c.remote, c.compile_errors, c.local, c.failed, s.waiting
    );
    let fails: Vec<String> = c.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        o,
        "retries {}{}   hedges {} (won {}, cancelled {})",
        c.retries,
        if fails.is_empty() {
            String::new()
        } else {
            format!(" ({})", fails.join(", "))
        },
        c.hedges,
        c.hedge_wins,
        c.cancelled
    );
    for (why, n) in &c.local_why {
        let _ = writeln!(o, "local {n}: {why}");
    }
    let _ = writeln!(
        o,
        "\n{:<24} {:<8} {:>9} {:>6} {:>6} {:>11} {:>8}  STATE",
        "VOLUNTEER", "VIA", "SLOTS", "DONE", "FAIL", "SPEED", "PROBE"
    );
    for h in &s.hosts {
        let state = match &h.benched {
            Some(b) => format!("benched: {b}"),
            None => "ok".into(),
        };
        let _ = writeln!(
            o,
            "{:<24} {:<8} {:>4}/{:<4} {:>6} {:>6} {:>11} {:>8}  {state}",
            h.address,
            h.transport,
            h.busy,
            h.slots,
            h.done,
            h.failures,
            speed(h.speed_bps),
            h.probe_ms.map_or("-".into(), |m| format!("{m:.0} ms")),
        );
        if let Some(link) = &h.link {
            let _ = writeln!(o, "    compression {link}");
        }
        for (name, cs) in &h.compilers {
            let _ = writeln!(o, "    {name}: {} {}", cs.state, cs.detail);
        }
    }
    if !s.running.is_empty() {
        let _ = writeln!(o, "\n{:<28} {:<24} {:>7}", "RUNNING", "ON", "AGE");
        for r in &s.running {
            let _ = writeln!(
                o,
                "{:<28} {:<24} {:>6.1}s{}",
                r.source,
                r.host,
                r.age_s,
                if r.duplicate { "  (duplicate)" } else { "" }
            );
        }
    }
    o
}
