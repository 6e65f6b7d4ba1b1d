//! Helpers shared by the test modules.

pub mod builder;
pub mod cluster;
pub mod portage;
pub mod server;
pub mod shconf;
pub mod volunteer;
pub mod wire;

use std::path::PathBuf;

pub use builder::{Cmd, Root, XTools, free_port, wait_listening};

/// Whether `DISTSETUP_STRICT=1`: CI sets it so that no test can pass by not running.
pub fn strict() -> bool {
    std::env::var_os("DISTSETUP_STRICT").is_some_and(|v| v == "1")
}

/// A test cannot do its work here (`reason` says why). Under `DISTSETUP_STRICT=1` this
/// panics, so the test fails; otherwise it says so plainly and the caller returns.
#[track_caller]
pub fn skip_or_fail(reason: &str) {
    if strict() {
        panic!("DISTSETUP_STRICT=1 and this test cannot run: {reason}");
    }
    eprintln!("SKIPPED (not strict): {reason}");
}

/// `available`, after reporting `what` through [`skip_or_fail`] when it is not.
/// Use as `if !require("root", is_root()) { return; }`.
#[track_caller]
pub fn require(what: &str, available: bool) -> bool {
    if !available {
        skip_or_fail(&format!("needs {what}"));
    }
    available
}

/// The shared real-world corpus (`../shared/corpus`). Absent in a user's fresh clone:
/// then this reports it through [`skip_or_fail`] (fails under strict) and gives None.
#[track_caller]
pub fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip_or_fail(&format!("the shared corpus is not at {}", dir.display()));
        None
    }
}

/// The regular files directly in `dir`, sorted (none when it is missing).
pub fn sorted_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether `tool` is on PATH.
pub fn on_path(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs only when re-executed by the tests below: a test whose requirement is missing.
#[test]
fn skip_probe() {
    if std::env::var_os("DISTSETUP_SKIP_PROBE").is_some() {
        skip_or_fail("the probe's requirement is missing");
    }
}

fn run_skip_probe(strict: bool) -> std::process::Output {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "support::skip_probe", "--nocapture"])
        .env("DISTSETUP_SKIP_PROBE", "1");
    if strict {
        cmd.env("DISTSETUP_STRICT", "1");
    } else {
        cmd.env_remove("DISTSETUP_STRICT");
    }
    cmd.output().unwrap()
}

#[test]
fn under_strict_a_skipped_test_fails() {
    let o = run_skip_probe(true);
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{out}");
    assert!(out.contains("1 failed"), "{out}");
    assert!(out.contains("the probe's requirement is missing"), "{out}");
}

#[test]
fn without_strict_a_skipped_test_says_so_and_passes() {
    let o = run_skip_probe(false);
    let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        out.contains("SKIPPED (not strict): the probe's requirement is missing"),
        "{out}"
    );
}
