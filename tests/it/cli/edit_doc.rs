//! `distsetup edit` on real files: given this file, running these arguments produces
//! exactly this output, exit code and file content.
//!
//! End to end through the shconf document model.

use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

/// A root with the fixture copied to /etc/makepkg.conf.
fn root_with(fixture: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    let src = format!(
        "{}/tests/fixtures/edit/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(src, d.path().join("etc/makepkg.conf")).unwrap();
    d
}

fn run(d: &tempfile::TempDir, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("edit")
        .arg("/etc/makepkg.conf")
        .arg("--root")
        .arg(d.path())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn content(d: &tempfile::TempDir) -> Vec<u8> {
    std::fs::read(d.path().join("etc/makepkg.conf")).unwrap()
}

const PI: &[u8] = include_bytes!("../../fixtures/edit/pi.makepkg.conf");

const ENABLE_DIFF: &str = "--- a/etc/makepkg.conf\n+++ b/etc/makepkg.conf\n@@ -5,7 +5,7 @@\n MAKEFLAGS=\"-j2\"\n \n # distcc is off until the helpers are ready\n-BUILDENV=(!distcc color !ccache check !sign)\n+BUILDENV=(distcc color !ccache check !sign)\n #DISTCC_HOSTS=\"\"\n \n PKGEXT=\".pkg.tar.xz\"\n";

#[test]
fn get_prints_scalars_arrays_and_refuses_dynamic_values() {
    let d = root_with("pi.makepkg.conf");
    assert_eq!(
        run(&d, &["--get", "CARCH"]),
        (0, "armv7h\n".into(), String::new())
    );
    assert_eq!(
        run(&d, &["--get", "BUILDENV"]),
        (
            0,
            "!distcc\ncolor\n!ccache\ncheck\n!sign\n".into(),
            String::new()
        )
    );
    assert_eq!(run(&d, &["--get", "DISTCC_HOSTS"]).0, 1);
    let (code, out, err) = run(&d, &["--get", "CFLAGS"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with(&format!(
            "distsetup: error: {}/etc/makepkg.conf:12: CFLAGS is dynamic (",
            d.path().display()
        )),
        "{err}"
    );
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let d = root_with("pi.makepkg.conf");
    let (code, out, _) = run(&d, &["--enable", "BUILDENV=distcc", "--dry-run"]);
    assert_eq!((code, out.as_str()), (0, ENABLE_DIFF));
    assert_eq!(content(&d), PI);
}

#[test]
fn yes_applies_then_a_second_run_changes_nothing_and_undo_restores() {
    let d = root_with("pi.makepkg.conf");
    let (code, out, _) = run(
        &d,
        &[
            "--enable",
            "BUILDENV=distcc",
            "--set",
            "MAKEFLAGS=-j8",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let want = String::from_utf8_lossy(PI)
        .replace("(!distcc", "(distcc")
        .replace("-j2", "-j8");
    assert_eq!(String::from_utf8(content(&d)).unwrap(), want);
    let meta = std::fs::metadata(d.path().join("etc/makepkg.conf")).unwrap();
    let (code, out, _) = run(
        &d,
        &[
            "--enable",
            "BUILDENV=distcc",
            "--set",
            "MAKEFLAGS=-j8",
            "--yes",
        ],
    );
    assert_eq!((code, out.as_str()), (0, "nothing to change\n"));
    let again = std::fs::metadata(d.path().join("etc/makepkg.conf")).unwrap();
    assert_eq!(
        (meta.ino(), meta.mtime_nsec()),
        (again.ino(), again.mtime_nsec())
    );
    assert_eq!(
        std::fs::read(d.path().join("etc/makepkg.conf.distsetup-bak")).unwrap(),
        PI
    );
    let out = Command::new(BIN)
        .args(["undo", "--yes", "--root"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(content(&d), PI);
}

#[test]
fn check_and_no_terminal_change_nothing() {
    let d = root_with("pi.makepkg.conf");
    let (code, out, _) = run(&d, &["--enable", "BUILDENV=distcc", "--check"]);
    assert_eq!((code, out.as_str()), (1, ENABLE_DIFF));
    let (code, out, err) = run(&d, &["--enable", "BUILDENV=distcc"]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            1,
            ENABLE_DIFF,
            "not applied: no terminal to ask on; run again with --yes to apply\n"
        )
    );
    assert_eq!(content(&d), PI);
    assert_eq!(
        run(&d, &["--enable", "BUILDENV=color", "--check"]),
        (0, "nothing to change\n".into(), String::new())
    );
}

#[test]
fn non_utf8_bytes_survive_an_edit_of_another_line() {
    let d = root_with("latin1.conf");
    let (code, _, err) = run(&d, &["--set", "C=4", "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(content(&d), b"A=1\nB=\"caf\xe9 \xff\"\nC=4\n");
}

#[test]
fn create_makes_a_missing_file() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    let (code, _, err) = run(&d, &["--set", "A=1", "--create", "--yes"]);
    assert_eq!(code, 0, "{err}");
    // New assignments are double-quoted, like the distro templates.
    assert_eq!(content(&d), b"A=\"1\"\n");
}

#[test]
fn verify_lists_assignments_and_confirms_the_round_trip() {
    let d = root_with("pi.makepkg.conf");
    let (code, out, _) = run(&d, &["--verify"]);
    assert_eq!(code, 0);
    assert!(out.contains("BUILDENV static"), "{out}");
    assert!(out.contains("CFLAGS dynamic"), "{out}");
    assert!(
        out.ends_with(&format!("round trip: byte-exact ({} bytes)\n", PI.len())),
        "{out}"
    );
}

#[test]
fn the_prompt_in_a_real_terminal_applies_on_yes() {
    use std::io::Write;
    let d = root_with("pi.makepkg.conf");
    let cmd = format!(
        "{BIN} edit /etc/makepkg.conf --root '{}' --enable BUILDENV=distcc",
        d.path().display()
    );
    let mut child = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    assert!(screen.contains("Apply these changes?"), "{screen}");
    assert!(String::from_utf8_lossy(&content(&d)).contains("BUILDENV=(distcc color"));
}
