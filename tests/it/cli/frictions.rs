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
