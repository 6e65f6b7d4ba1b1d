//! Given a file and arguments, running the real binary produces exactly this output,
//! exit code and file content.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use distsetup::plan::{Plan, SysRoot};

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

fn fixture(p: &str) -> String {
    format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = Command::new(BIN);
    c.args(args).env_remove("DISTCC_HOSTS").stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().unwrap();
    (
        status.code().unwrap(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

#[test]
fn hosts_file_lists_every_host_total_slots_and_warnings() {
    let f = fixture("hosts/garage.hosts");
    let (code, out, err) = run(&["hosts", "--file", &f], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "HOST                                    PORT  LIMIT  OPTIONS\n\
         localhost                                  -      2  -\n\
         pi4                                     3632      3  lzo\n\
         fastbox                                 4000     12  -\n\
         alice@laptop (/usr/local/bin/distccd)    ssh      6  -\n\
         [fd00::7]                               3633      4  lzo,cpp\n\
         total slots: 27\n"
    );
    assert_eq!(
        err,
        format!(
            "distsetup: warning: {f}:2:1: localhost is first: distcc fills its slots before any remote host; put it last (or drop it) so the helpers get the work\n\
             distsetup: warning: {f}:5:1: [fd00::7] asks for pump mode (,cpp): distsetup serve refuses it, and distcc-pump's include server fails on Python 3.10 and later (the build falls back to preprocessing here); drop ,cpp\n"
        )
    );
}

#[test]
fn hosts_from_argument_and_environment() {
    let (code, out, _) = run(&["hosts", "a/2 b"], &[]);
    assert_eq!((code, out.lines().last()), (0, Some("total slots: 6")));
    let (code, out, _) = run(&["hosts", "--randomize a"], &[]);
    assert_eq!((code, out.lines().last()), (0, Some("total slots: 4")));
    let (code, out, _) = run(&["hosts"], &[("DISTCC_HOSTS", "x:4000/3")]);
    assert_eq!(code, 0);
    assert!(out.contains("x      4000      3  -\n"), "{out}");
    let (code, _, err) = run(&["hosts"], &[("DISTCC_HOSTS", "")]);
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "distsetup: warning: $DISTCC_HOSTS:1:1: the list is empty: distcc finds no hosts at all and compiles everything locally\n"
    );
    let (code, _, err) = run(&["hosts"], &[]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "distsetup: error: $DISTCC_HOSTS: not set; pass a SPEC or --file\n"
        )
    );
}

#[test]
fn hosts_syntax_errors_exit_2_with_file_line_and_column() {
    let f = fixture("hosts/limit-zero.hosts");
    let (code, out, err) = run(&["hosts", "--file", &f], &[]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        format!(
            "distsetup: error: {f}:2:3: limit must be at least 1 (distcc rejects /0) in \"c/0\"\n"
        )
    );
    let (code, _, err) = run(&["hosts", "a b,cpp"], &[]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "distsetup: error: <argument>:1:4: ',cpp' (pump mode) requires ',lzo' in \"b,cpp\"\n"
        )
    );
    let f = fixture("hosts/binary.hosts");
    let (code, _, err) = run(&["hosts", "--file", &f], &[]);
    assert_eq!(
        (code, err),
        (
            2,
            format!("distsetup: error: {f}:1:4: not valid UTF-8 (distcc host names are text)\n")
        )
    );
}

#[test]
fn edit_refuses_missing_files_directories_and_missing_roots_writing_nothing() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().to_str().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    let (code, _, err) = run(
        &[
            "edit",
            "/etc/makepkg.conf",
            "--root",
            root,
            "--set",
            "A=1",
            "--yes",
        ],
        &[],
    );
    assert_eq!(
        (code, err),
        (
            3,
            format!(
                "distsetup: error: {root}/etc/makepkg.conf: no such file (pass --create to create it)\n"
            )
        )
    );
    let (code, _, err) = run(
        &["edit", "/etc", "--root", root, "--set", "A=1", "--yes"],
        &[],
    );
    assert_eq!(
        (code, err),
        (
            3,
            format!(
                "distsetup: error: {root}/etc: is a directory or special file, not a regular file\n"
            )
        )
    );
    let (code, _, err) = run(
        &["edit", "/etc/x", "--root", "/no/such/dir", "--get", "A"],
        &[],
    );
    assert_eq!(
        (code, err.as_str()),
        (
            3,
            "distsetup: error: root /no/such/dir does not exist or is not a directory\n"
        )
    );
    let (code, _, err) = run(&["edit", "/etc/x", "--root", root, "--set", "=1"], &[]);
    assert_eq!(
        (code, err.as_str()),
        (
            2,
            "distsetup: error: --set: expected NAME=VALUE, got \"=1\"\n"
        )
    );
    assert_eq!(std::fs::read_dir(d.path().join("etc")).unwrap().count(), 0);
    assert!(!d.path().join("var").exists(), "no journal");
}

fn applied_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("etc")).unwrap();
    std::fs::write(d.path().join("etc/makepkg.conf"), b"A=1\n\xff\n").unwrap();
    let mut p = Plan::new(SysRoot::new(d.path()).unwrap());
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=2\n".to_vec())
        .unwrap();
    p.write_file(Path::new("/etc/new.conf"), b"N=1\n".to_vec())
        .unwrap();
    p.apply().unwrap();
    d
}

#[test]
fn undo_without_a_terminal_shows_and_waits_for_yes() {
    let d = applied_tree();
    let root = d.path().to_str().unwrap();
    let (code, out, err) = run(&["undo", "--root", root], &[]);
    assert_eq!(code, 1);
    assert!(
        out.ends_with("restores:\n  /etc/makepkg.conf\n  /etc/new.conf\n"),
        "{out}"
    );
    assert_eq!(
        err,
        "not restored: no terminal to ask on; run again with --yes\n"
    );
    assert_eq!(
        std::fs::read(d.path().join("etc/makepkg.conf")).unwrap(),
        b"A=2\n"
    );
    let (code, out, _) = run(&["undo", "--root", root, "--yes"], &[]);
    assert_eq!(code, 0);
    assert!(out.ends_with("restored 2 path(s)\n"));
    assert_eq!(
        std::fs::read(d.path().join("etc/makepkg.conf")).unwrap(),
        b"A=1\n\xff\n"
    );
    assert!(!d.path().join("etc/new.conf").exists());
    let (code, _, err) = run(&["undo", "--root", root, "--yes"], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("nothing to undo"), "{err}");
}

/// Run `args` in a real pseudo-terminal (util-linux `script`), typing `answer`.
fn in_pty(args: &[&str], answer: &str) -> (i32, String) {
    use std::io::Write;
    let cmd = std::iter::once(BIN)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn undo_on_a_terminal_asks_and_respects_the_answer() {
    let d = applied_tree();
    let root = d.path().to_str().unwrap();
    let (code, screen) = in_pty(&["undo", "--root", root], "n\n");
    assert_eq!(code, 4, "{screen}");
    assert!(screen.contains("Restore these files?"), "{screen}");
    assert_eq!(
        std::fs::read(d.path().join("etc/makepkg.conf")).unwrap(),
        b"A=2\n"
    );
    let (code, screen) = in_pty(&["undo", "--root", root], "y\n");
    assert_eq!(code, 0, "{screen}");
    assert_eq!(
        std::fs::read(d.path().join("etc/makepkg.conf")).unwrap(),
        b"A=1\n\xff\n"
    );
}

/// `distsetup edit F --get A | head -1`: whoever reads our output went away. Like
/// ripgrep, that is a quiet exit 0, not "error: Broken pipe" and exit 3.
#[test]
fn a_closed_pipe_on_stdout_is_a_quiet_success() {
    let f = fixture("edit/pi.makepkg.conf");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // every write now fails with EPIPE, deterministically
    let out = Command::new(BIN)
        .args(["edit", &f, "--get", "BUILDENV"])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "")
    );
}
