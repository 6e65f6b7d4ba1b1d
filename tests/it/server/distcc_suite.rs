//! Issue 12: distcc's own test suite (`test/testdistcc.py`, kept as a fixture with its
//! licence) against `distsetup serve` through a shim that maps distccd's command line,
//! the compiler sent as `/usr/bin/gcc` as the suite does. The whole suite is slow; this
//! runs the daemon cases Debian's distccd passes in its secure default that exercise
//! the server (compiles, options, start and stop, exit statuses). The full run is
//! `tests/fixtures/distcc-testsuite/run serve` (and `run distccd` for comparison).

use std::path::Path;
use std::process::Command;

use crate::support::require;
use crate::support::server::{bin, text};

const CASES: &[&str] = &[
    "CompileHello_Case",
    "CommaInFilename_Case",
    "BackslashInFilename_Case",
    "CPlusPlus_Case",
    "GdbOpt1_Case",
    "CompressedCompile_Case",
    "DashONoSpace_Case",
    "WriteDevNull_Case",
    "DashWpMD_Case",
    "NoDetachDaemon_Case",
    "StartStopDaemon_Case",
    "VersionOption_Case",
    "BogusOption_Case",
    "DaemonBadPort_Case",
    "AccessDenied_Case",
    "SyntaxError_Case",
    "RemoteAssemble_Case",
    "EmptySource_Case",
    "AbsSourceFilename_Case",
];

#[test]
fn distccs_own_suite_passes_against_serve() {
    let python = Command::new("python3").arg("--version").output().is_ok();
    let distcc = Command::new("distcc").arg("--version").output().is_ok();
    if !require("python3 and the distcc client", python && distcc) {
        return;
    }
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/distcc-testsuite/run");
    let o = Command::new(&run)
        .arg("serve")
        .args(CASES)
        .env("DISTSETUP", bin())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let tally = out
        .lines()
        .find(|l| l.starts_with("TALLY serve:"))
        .unwrap_or_else(|| panic!("no tally: {}", text(&o)));
    assert!(
        tally.starts_with(&format!(
            "TALLY serve: ok {}, fail 0, not run 0;",
            CASES.len()
        )),
        "{tally}\n{out}"
    );
    // Compiled on the server: the client's local fallback is off in these cases, and
    // the server logged the jobs.
    let remote: usize = tally
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(remote >= 12, "{tally}");
}
