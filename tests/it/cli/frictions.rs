//! Small frictions a new user met (issue 25): what the output says and where.

use crate::support::volunteer::text;
use crate::support::{Cmd, Root};

/// Point 12: a Debian master without makepkg computed -jN and wrote it nowhere; it now
/// says so and how to pass it to make.
#[test]
fn debian_master_without_makepkg_says_how_to_pass_j() {
    let t = Root::new().dir("etc");
    let o = Cmd::new("master")
        .root(t.path())
        .args([
            "--profile",
            "debian",
            "--hosts",
            "10.0.0.2/4",
            "--jobs",
            "3",
        ])
        .arg("--dry-run")
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().any(|l| l
            == "make: -j3 is written nowhere (no makepkg.conf here, and make reads no \
                configuration file); pass it yourself: make -j3 CC=\"distcc gcc\" \
                CXX=\"distcc g++\", or export MAKEFLAGS=\"-j3\" in the shell that builds \
                (dpkg-buildpackage -j3 for Debian packages)"),
        "{out}"
    );
}

/// Point 15: bash completes `volunteer --toolchain` with the known names and with paths
/// (an x-tools tree is usually given by its path).
#[test]
fn bash_completes_toolchain_names_and_paths() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/completions/distsetup.bash");
    let t = Root::new().dir("x-tools-mine");
    let word = t.join("x-tools-m").display().to_string();
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {script}; COMP_WORDS=(distsetup volunteer --toolchain \"$1\"); COMP_CWORD=3; \
             _distsetup distsetup \"$1\" --toolchain; printf '%s\\n' \"${{COMPREPLY[@]}}\""
        ))
        .arg("bash")
        .arg(&word)
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        offered,
        format!("{}\n", t.join("x-tools-mine").display()),
        "{}",
        text(&o)
    );
}

/// `doctor` in a pseudo-terminal (tests/fixtures/wizard/drive.py, no keys typed): the raw
/// bytes and the exit status.
fn doctor_on_a_terminal(root: &std::path::Path, no_color: Option<&str>) -> (i32, Vec<u8>) {
    let raw = tempfile::NamedTempFile::new().unwrap();
    let drive = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/wizard/drive.py"
    );
    let mut c = std::process::Command::new("timeout");
    c.args([
        "120",
        "python3",
        drive,
        "[]",
        env!("CARGO_BIN_EXE_distsetup"),
    ])
    .args(["doctor", "--volunteer", "--profile", "debian", "--root"])
    .arg(root)
    .env("DRIVE_RAW", raw.path())
    .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        c.env("NO_COLOR", v);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        std::fs::read(raw.path()).unwrap(),
    )
}

/// Point 13: on a terminal BROKEN stands out (bold red), NO_COLOR turns colour off, and
/// the longest check name (`service-user`, `confinement`) stays inside its column.
#[test]
fn doctor_colours_broken_on_a_terminal_and_honours_no_color() {
    let t = Root::new().dir("etc");
    let (code, raw) = doctor_on_a_terminal(t.path(), None);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("\x1b[1;31m[BROKEN]\x1b[0m setup        this machine: "),
        "{text:?}"
    );
    let (_, raw) = doctor_on_a_terminal(t.path(), Some("1"));
    let text = String::from_utf8_lossy(&raw);
    assert!(!text.contains("\x1b[1;31m"), "{text:?}");
    assert!(
        text.contains("[BROKEN] setup        this machine: "),
        "{text:?}"
    );
}
