//! `distsetup doctor`: run the checks, print the report (text or JSON), exit 1 when
//! something is broken.

use std::io::Write;

use distsetup::doctor::{self, Report, Settings, Status};
use distsetup::plan::SysRoot;

use super::{ExitStatus, Ui};
use crate::cli::DoctorArgs;

/// Resolve `doctor` arguments.
fn resolve(a: &DoctorArgs) -> anyhow::Result<Settings> {
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    let name = a
        .profile
        .clone()
        .unwrap_or_else(|| doctor::detect_profile(&root).to_string());
    Ok(Settings {
        profile: distsetup::profile::load(&name)?,
        root,
        hosts: a.hosts.clone(),
        volunteer: a.volunteer,
        compiler: a.compiler.clone(),
        remote_compiler: a.remote_compiler.clone(),
        connect_timeout: std::time::Duration::from_secs(a.connect_timeout.max(1)),
        compile_timeout: std::time::Duration::from_secs(60),
        speed_rounds: a.speed_rounds,
    })
}

/// A progress bar on standard error.
struct Bar(indicatif::ProgressBar);

impl doctor::Progress for Bar {
    fn begin(&self, len: u64, what: &str) {
        self.0.set_length(len);
        self.0.set_position(0);
        self.0.set_message(what.to_string());
    }
    fn message(&self, subject: &str) {
        self.0.set_message(subject.to_string());
    }
    fn step(&self) {
        self.0.inc(1);
    }
    fn end(&self) {
        self.0.finish_and_clear();
    }
}

fn bar() -> Bar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    Bar(bar)
}

/// `distsetup doctor`.
pub fn run(a: DoctorArgs, progress: bool, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let settings = resolve(&a)?;
    let report = if progress && !a.json {
        doctor::run(&settings, &bar())
    } else {
        doctor::run(&settings, &doctor::Quiet)
    };
    if a.json {
        serde_json::to_writer_pretty(&mut *ui.out, &report)?;
        writeln!(ui.out)?;
    } else {
        write_text(&report, ui.out)?;
    }
    Ok(if report.broken() {
        ExitStatus::Negative
    } else {
        ExitStatus::Ok
    })
}

fn tag(status: Status) -> &'static str {
    match status {
        Status::Ok => "[ok]    ",
        Status::Warn => "[warn]  ",
        Status::Broken => "[BROKEN]",
    }
}

/// The plain-text report.
pub fn write_text(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "distsetup doctor: {} (profile {})", r.role, r.profile)?;
    if let (Some(h), Some(o)) = (&r.hosts, &r.hosts_origin) {
        writeln!(out, "hosts: {h} (from {o})")?;
    }
    for f in &r.findings {
        writeln!(
            out,
            "{} {:<10} {}: {}",
            tag(f.status),
            f.check,
            f.subject,
            f.message
        )?;
        if let Some(h) = &f.hint {
            writeln!(out, "           → {h}")?;
        }
    }
    if !r.speed.is_empty() {
        writeln!(out, "speed (fixed unit, -O2):")?;
        for s in &r.speed {
            writeln!(
                out,
                "  {:<24} {:7.1} ms per compile, {:5.1} compiles/s with {} at once → /{}",
                s.host, s.compile_ms, s.throughput, s.parallel, s.limit
            )?;
        }
    }
    if let Some(p) = &r.proposed_hosts {
        writeln!(out, "proposed host list (fastest first): {p}")?;
        writeln!(
            out,
            "  apply with: distsetup master --profile {} --hosts '{p}'",
            r.profile
        )?;
    }
    let count = |s| r.findings.iter().filter(|f| f.status == s).count();
    writeln!(
        out,
        "summary: {} ok, {} warnings, {} broken",
        count(Status::Ok),
        count(Status::Warn),
        count(Status::Broken)
    )
}
