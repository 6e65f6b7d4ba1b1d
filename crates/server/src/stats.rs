//! Counters behind `--stats`, and the page in distccd's byte format (spec §3.5) followed
//! by our refusal counts by reason.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a connection ended (distccd's stats classes, spec §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Compiled, status 0.
    CompileOk,
    /// The compiler failed (or we refused an allowed peer's job with a reply).
    CompileError,
    /// Killed by `--job-lifetime`.
    CompileTimeout,
    /// The client went away.
    ClientDisconnect,
    /// Protocol violation: closed without a reply.
    BadRequest,
    /// Anything else (ACL refusal, refused compiler or option).
    Other,
}

impl Outcome {
    /// The word distccd logs for this class.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::CompileOk => "COMPILE_OK",
            Outcome::CompileError => "COMPILE_ERROR",
            Outcome::CompileTimeout => "COMPILE_TIMEOUT",
            Outcome::ClientDisconnect => "CLI_DISCONN",
            Outcome::BadRequest => "REJ_BAD_REQ",
            Outcome::Other => "OTHER",
        }
    }
}

#[derive(Default)]
struct Slow {
    longest: Option<(String, String, u128)>,
    finished: VecDeque<Instant>,
    refusals: BTreeMap<&'static str, u64>,
}

/// Shared counters.
#[derive(Default)]
pub struct Stats {
    accepted: AtomicU64,
    ok: AtomicU64,
    error: AtomicU64,
    timeout: AtomicU64,
    disconnect: AtomicU64,
    bad_req: AtomicU64,
    other: AtomicU64,
    running: AtomicU64,
    slow: Mutex<Slow>,
    confinement: Mutex<Option<super::confine::ConfineState>>,
}

impl Stats {
    /// A connection was accepted (before the access check, like distccd).
    pub fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    /// A compile started / ended (for `dcc_current_load`-style numbers).
    pub fn running_delta(&self, start: bool) {
        if start {
            self.running.fetch_add(1, Ordering::Relaxed);
        } else {
            self.running.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// A refusal, by reason (`acl`, `compiler`, `unsafe_option`, ...).
    pub fn refused(&self, reason: &'static str) {
        if let Ok(mut s) = self.slow.lock() {
            *s.refusals.entry(reason).or_default() += 1;
        }
    }

    /// Count one finished connection.
    pub fn finished(&self, outcome: Outcome, job: Option<(&str, &str, Duration)>) {
        let c = match outcome {
            Outcome::CompileOk => &self.ok,
            Outcome::CompileError => &self.error,
            Outcome::CompileTimeout => &self.timeout,
            Outcome::ClientDisconnect => &self.disconnect,
            Outcome::BadRequest => &self.bad_req,
            Outcome::Other => &self.other,
        };
        c.fetch_add(1, Ordering::Relaxed);
        let Ok(mut s) = self.slow.lock() else { return };
        if outcome != Outcome::BadRequest && outcome != Outcome::Other {
            let now = Instant::now();
            s.finished.push_back(now);
            while s
                .finished
                .front()
                .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(900))
            {
                s.finished.pop_front();
            }
        }
        if let (Outcome::CompileOk, Some((input, compiler, took))) = (outcome, job) {
            let ms = took.as_millis();
            if s.longest.as_ref().is_none_or(|l| ms > l.2) {
                s.longest = Some((input.to_owned(), compiler.to_owned(), ms));
            }
        }
    }

    /// Counts of refusals by reason (for tests and the page).
    pub fn refusals(&self) -> BTreeMap<&'static str, u64> {
        self.slow
            .lock()
            .map(|s| s.refusals.clone())
            .unwrap_or_default()
    }

    /// Record how compiles are confined (shown on the page).
    pub fn set_confinement(&self, state: super::confine::ConfineState) {
        if let Ok(mut c) = self.confinement.lock() {
            *c = Some(state);
        }
    }

    /// The stats page, byte for byte in distccd's layout (LF line ends).
    pub fn page(&self, max_kids: usize, tmpdir: &Path) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (longest, recent, refusals) = match self.slow.lock() {
            Ok(s) => {
                let now = Instant::now();
                let within = |secs| {
                    s.finished
                        .iter()
                        .filter(|t| now.duration_since(**t) <= Duration::from_secs(secs))
                        .count()
                };
                (
                    s.longest.clone(),
                    [within(60), within(300), within(900)],
                    s.refusals.clone(),
                )
            }
            Err(_) => (None, [0; 3], BTreeMap::new()),
        };
        let (l_name, l_cc, l_ms) = match longest {
            Some((n, c, ms)) => (n, c, ms as i64),
            None => ("none".into(), "none".into(), -1),
        };
        let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let mut la = loadavg.split_whitespace();
        let load: Vec<f64> = la
            .by_ref()
            .take(3)
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let current = la
            .next()
            .and_then(|x| x.split('/').next())
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0);
        let l = |i: usize| load.get(i).copied().unwrap_or(0.0);
        let running = g(&self.running);
        let mut p = String::with_capacity(1024);
        p.push_str("HTTP/1.0 200 OK\nContent-Type: text/plain\nConnection: close\n\n");
        p.push_str("argv /distsetup-serve\n<distccstats>\n");
        let mut line = |k: &str, v: String| {
            p.push_str(k);
            p.push(' ');
            p.push_str(&v);
            p.push('\n');
        };
        line("dcc_tcp_accept", g(&self.accepted).to_string());
        line("dcc_rej_bad_req", g(&self.bad_req).to_string());
        line("dcc_rej_overload", "0".into());
        line("dcc_compile_ok", g(&self.ok).to_string());
        line("dcc_compile_error", g(&self.error).to_string());
        line("dcc_compile_timeout", g(&self.timeout).to_string());
        line("dcc_cli_disconnect", g(&self.disconnect).to_string());
        line("dcc_other", g(&self.other).to_string());
        line("dcc_longest_job", l_name);
        line("dcc_longest_job_compiler", l_cc);
        line("dcc_longest_job_time_msecs", l_ms.to_string());
        line("dcc_max_kids", max_kids.to_string());
        for k in ["dcc_avg_kids1", "dcc_avg_kids2", "dcc_avg_kids3"] {
            line(k, running.to_string());
        }
        line("dcc_current_load", current.to_string());
        line("dcc_load1", format!("{:.2}", l(0)));
        line("dcc_load2", format!("{:.2}", l(1)));
        line("dcc_load3", format!("{:.2}", l(2)));
        line("dcc_num_compiles1", recent[0].to_string());
        line("dcc_num_compiles2", recent[1].to_string());
        line("dcc_num_compiles3", recent[2].to_string());
        line("dcc_num_procstate_D", "0".into());
        line("dcc_max_RSS", self_rss_kib().to_string());
        line("dcc_max_RSS_name", "(distsetup)".into());
        line("dcc_io_rate", "-1".into());
        line("dcc_free_space", format!("{} MB", free_mib(tmpdir)));
        if let Ok(Some(c)) = self.confinement.lock().as_deref() {
            line("distsetup_user", c.user.clone());
            line("distsetup_uid", c.uid.to_string());
            line("distsetup_landlock_abi", c.landlock_abi.to_string());
        }
        for (reason, n) in &refusals {
            line(&format!("distsetup_refused_{reason}"), n.to_string());
        }
        p.push_str("</distccstats>\n");
        p
    }
}

/// This process's resident set in KiB (from /proc/self/status).
pub fn self_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn free_mib(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return 0;
    };
    // SAFETY: c is a valid NUL-terminated path; st is a plain out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above: a valid C path and a plain out-parameter that outlives the call.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return 0;
    }
    (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) >> 20
}
