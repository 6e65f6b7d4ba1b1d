//! `distsetup doctor`: run the checks, print the report (text or JSON) line by line as
//! it is found, exit 1 when something is broken. On a terminal, a spinner per host.

use std::io::Write;
use std::sync::Mutex;

use distsetup::doctor::{self, Event, Finding, Report, Settings, Status};
use distsetup::plan::SysRoot;

use super::{ExitStatus, Ui};
use crate::cli::DoctorArgs;

/// Resolve `doctor` arguments, and what the profile was detected from.
fn resolve(a: &DoctorArgs) -> anyhow::Result<(Settings, Option<String>)> {
    let root = match &a.root {
        Some(d) => SysRoot::new(d)?,
        None => SysRoot::system(),
    };
    let (name, detected) = super::volunteer::profile_name(a.profile.as_deref(), &root)?;
    let settings = Settings {
        profile: distsetup::profile::load(&name)?,
        root,
        hosts: a.hosts.clone(),
        volunteer: a.volunteer,
        compiler: a.compiler.clone(),
        local_cores: None,
        remote_compiler: a.remote_compiler.clone(),
        connect_timeout: std::time::Duration::from_secs(a.connect_timeout.max(1)),
        compile_timeout: std::time::Duration::from_secs(a.timeout),
        speed_rounds: a.speed_rounds,
    };
    Ok((settings, detected))
}

/// Spinners on standard error: one per host being probed, one for other stages.
struct Bars {
    multi: indicatif::MultiProgress,
    stage: indicatif::ProgressBar,
    hosts: Mutex<Vec<(String, indicatif::ProgressBar)>>,
}

impl Bars {
    fn new() -> Bars {
        let multi = indicatif::MultiProgress::new();
        let stage = multi.add(indicatif::ProgressBar::new(0));
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
        {
            stage.set_style(style.progress_chars("=> "));
        }
        Bars {
            multi,
            stage,
            hosts: Mutex::new(Vec::new()),
        }
    }
}

impl doctor::Progress for Bars {
    fn begin(&self, len: u64, what: &str) {
        self.stage.set_length(len);
        self.stage.set_position(0);
        self.stage.set_message(what.to_string());
    }
    fn message(&self, subject: &str) {
        self.stage.set_message(subject.to_string());
    }
    fn step(&self) {
        self.stage.inc(1);
    }
    fn end(&self) {
        self.stage.finish_and_clear();
    }
    fn host_started(&self, subject: &str) {
        let bar = self.multi.add(indicatif::ProgressBar::new_spinner());
        if let Ok(style) = indicatif::ProgressStyle::with_template("  {spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(format!("{subject}: probing"));
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut hosts) = self.hosts.lock() {
            hosts.push((subject.to_string(), bar));
        }
    }
    fn host_done(&self, subject: &str, _worst: Status) {
        if let Ok(mut hosts) = self.hosts.lock() {
            if let Some(i) = hosts.iter().position(|(s, _)| s == subject) {
                let (_, bar) = hosts.remove(i);
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
        }
    }
}

/// `distsetup doctor`.
pub fn run(a: DoctorArgs, progress: bool, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let (settings, detected) = resolve(&a)?;
    let report = if a.json {
        let report = doctor::run(&settings, &doctor::Quiet);
        serde_json::to_writer_pretty(&mut *ui.out, &report)?;
        writeln!(ui.out)?;
        report
    } else {
        let role = if settings.volunteer {
            "volunteer"
        } else {
            "master"
        };
        let how = detected.map_or_else(String::new, |e| {
            format!(", detected from {e}; --profile NAME to choose")
        });
        writeln!(
            ui.out,
            "distsetup doctor: {role} (profile {}{how})",
            settings.profile.name
        )?;
        ui.out.flush()?;
        let bars = progress.then(Bars::new);
        let quiet = doctor::Quiet;
        let shown: &dyn doctor::Progress = match &bars {
            Some(b) => b,
            None => &quiet,
        };
        let out = &mut *ui.out;
        let color = colored_stdout();
        let mut failed: Option<std::io::Error> = None;
        let report = doctor::run_streaming(&settings, shown, &mut |event| {
            let mut line = Vec::new();
            let _ = write_event(&event, &mut line, color);
            let written = match &bars {
                Some(b) => b
                    .multi
                    .suspend(|| out.write_all(&line).and_then(|()| out.flush())),
                None => out.write_all(&line).and_then(|()| out.flush()),
            };
            if let Err(e) = written {
                failed.get_or_insert(e);
            }
        });
        if let Some(e) = failed {
            return Err(e.into());
        }
        write_tail(&report, ui.out)?;
        report
    };
    Ok(if report.broken() {
        ExitStatus::Negative
    } else {
        ExitStatus::Ok
    })
}

/// Colour on a terminal, unless `NO_COLOR` is set to something (no-color.org).
#[allow(
    clippy::disallowed_methods,
    reason = "the command layer owns the terminal"
)]
fn colored_stdout() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn tag(status: Status, color: bool) -> String {
    let (text, sgr) = match status {
        Status::Ok => ("[ok]    ", "32"),
        Status::Warn => ("[warn]  ", "33"),
        Status::Broken => ("[BROKEN]", "1;31"),
    };
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The width of the check column: the longest check name (`service-user`).
const CHECK_WIDTH: usize = 12;

fn write_finding(f: &Finding, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "{} {:<CHECK_WIDTH$} {}: {}",
        tag(f.status, color),
        f.check,
        f.subject,
        f.message
    )?;
    if let Some(h) = &f.hint {
        writeln!(out, "{:indent$}→ {h}", "", indent = 10 + CHECK_WIDTH)?;
    }
    Ok(())
}

fn write_event(e: &Event<'_>, out: &mut dyn Write, color: bool) -> std::io::Result<()> {
    match e {
        Event::Hosts { list, origin } => writeln!(out, "hosts: {list} (from {origin})"),
        Event::Finding(f) => write_finding(f, out, color),
    }
}

/// What follows the findings: speed, the proposed host line, the summary.
fn write_tail(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
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
    )?;
    out.flush()
}
