//! Issue #24 through the binary: undo is a transaction too (checked before it starts,
//! rolled back when it fails half-way, finished — and counted — when it was killed), one
//! lock per command, a history that can be read on a read-only root, and a journal whose
//! directories survive a power loss. `DISTSETUP_BIN` runs another binary (to show that
//! each test fails on the code before the fix).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::faults::{Snapshot, first_difference, snapshot};
use crate::support::{Root, is_root, on_path, require};

const PLAIN_MAKE_CONF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/master/make.conf/plain.make.conf"
);

pub fn bin() -> PathBuf {
    std::env::var_os("DISTSETUP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_distsetup")))
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn run(args: &[&str], root: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--root")
        .arg(root)
        .env("HOME", "/nonexistent-home")
        .env_remove("SUDO_USER")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `args --root root` under strace with the options `strace_opts` (`-f -qq` added).
pub fn under_strace(strace_opts: &[&str], args: &[&str], root: &Path) -> Output {
    Command::new("strace")
        .args(["-f", "-qq"])
        .args(strace_opts)
        .arg(bin())
        .args(args)
        .arg("--root")
        .arg(root)
        .env("HOME", "/nonexistent-home")
        .env_remove("SUDO_USER")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `args --root root` with the fault `inject` (`inject=...` of strace).
pub fn injected(inject: &str, args: &[&str], root: &Path) -> Output {
    under_strace(&["-o", "/dev/null", "-e", inject], args, root)
}

/// The strace log (`-y`: file descriptors with their paths) of a clean `MASTER` run on
/// `root`, tracing `calls`, of distsetup's own process only (children such as gcc left
/// out), without pids; the run must succeed.
pub fn master_trace(calls: &str, root: &Path) -> String {
    let log = tempfile::NamedTempFile::new().unwrap();
    let log_path = log.path().display().to_string();
    let trace = format!("trace=execve,{calls}");
    let o = under_strace(&["-y", "-o", &log_path, "-e", &trace], MASTER, root);
    assert!(o.status.success(), "{}", text(&o));
    let all = std::fs::read_to_string(log.path()).unwrap();
    let main = all.split_whitespace().next().unwrap_or("").to_string();
    all.lines()
        .filter_map(|l| l.strip_prefix(&main)?.strip_prefix(' '))
        .map(str::trim_start)
        .filter(|l| !l.starts_with("execve("))
        .map(|l| format!("{l}\n"))
        .collect()
}

pub const MASTER: &[&str] = &[
    "master",
    "--profile",
    "gentoo",
    "--hosts",
    "10.0.0.1/4",
    "--jobs",
    "4",
    "--yes",
];

pub fn gentoo_root() -> Root {
    Root::new().copy("etc/portage/make.conf", PLAIN_MAKE_CONF)
}

pub fn applied_id(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("applied as change set "))
        .and_then(|l| l.split(';').next())
        .unwrap_or_else(|| panic!("no change set id in {}", text(o)))
        .to_string()
}

/// The IDs `undo --list` shows, newest first (and the run, which must succeed).
pub fn listed(root: &Path) -> Vec<String> {
    let o = run(&["undo", "--list"], root);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("no change set"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// Apply `MASTER` then an edit of another file: two change sets and the snapshots
/// (original, after the first, after both).
fn two_sets(r: &Root) -> ([Snapshot; 3], [String; 2]) {
    let original = snapshot(r.path());
    let o1 = run(MASTER, r.path());
    assert!(o1.status.success(), "{}", text(&o1));
    let first = snapshot(r.path());
    let o2 = run(
        &["edit", "/etc/a.conf", "--create", "--set", "A=1", "--yes"],
        r.path(),
    );
    assert!(o2.status.success(), "{}", text(&o2));
    (
        [original, first, snapshot(r.path())],
        [applied_id(&o1), applied_id(&o2)],
    )
}

/// A read-only bind mount of a directory over itself; unmounted on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn new(dir: &Path) -> ReadOnly {
        let mount = |args: &[&str]| {
            let ok = Command::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .status()
                .unwrap()
                .success();
            assert!(ok, "mount {args:?} {}", dir.display());
        };
        mount(&["--bind"]);
        let guard = ReadOnly(dir.to_path_buf());
        mount(&["-o", "remount,ro,bind"]);
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Case 1: with /etc/portage read-only after an apply, undo refuses before it changes
/// anything (it used to restore the hosts file, then fail on make.conf, and leave every
/// later command failing), and the history stays readable.
#[test]
fn undo_checks_every_directory_it_writes_before_the_first_change() {
    if !require("root (mount)", is_root()) {
        return;
    }
    let r = gentoo_root();
    let original = snapshot(r.path());
    let o = run(MASTER, r.path());
    assert!(o.status.success(), "{}", text(&o));
    let (id, applied) = (applied_id(&o), snapshot(r.path()));
    {
        let _ro = ReadOnly::new(&r.join("etc/portage"));
        let o = run(&["undo", "--yes"], r.path());
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!(
                "cannot undo {id}: {} cannot be written (Read-only file system",
                r.join("etc/portage").display()
            )) && stderr.contains("nothing was restored"),
            "{}",
            text(&o)
        );
        assert_eq!(first_difference(&applied, &snapshot(r.path())), None);
        assert_eq!(listed(r.path()), std::slice::from_ref(&id));
    }
    let o = run(&["undo", "--yes"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
}

/// Case 1, the failure no check can foresee: an I/O error when the undo removes the
/// directory the apply created, after it removed the hosts file in it. The undo rolls
/// itself back (nothing undone, the set still listed), and a later undo restores
/// everything.
#[test]
fn an_undo_that_fails_half_way_rolls_itself_back() {
    if !require("root (strace injection)", is_root()) || !require("strace", on_path("strace")) {
        return;
    }
    let r = gentoo_root();
    let original = snapshot(r.path());
    let o = run(MASTER, r.path());
    assert!(o.status.success(), "{}", text(&o));
    let (id, applied) = (applied_id(&o), snapshot(r.path()));
    let o = injected(
        "inject=rmdir:error=EIO:when=1",
        &["undo", "--yes"],
        r.path(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(
        first_difference(&applied, &snapshot(r.path())),
        None,
        "{}",
        text(&o)
    );
    assert_eq!(listed(r.path()), [id]);
    let o = run(&["undo", "--yes"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
}

/// Case 2: an `undo --yes` killed part-way, run again: finishing the interrupted undo is
/// the undo asked for; the older change set stays (it used to be undone too).
#[test]
fn retrying_an_interrupted_undo_finishes_it_and_undoes_nothing_more() {
    if !require("root (strace injection)", is_root()) || !require("strace", on_path("strace")) {
        return;
    }
    let mut kills = 0;
    for n in 1..40 {
        let r = gentoo_root();
        let ([original, first, _], [id1, id2]) = two_sets(&r);
        let kill = format!("inject=fsync:signal=KILL:when={n}");
        let o = injected(&kill, &["undo", "--yes"], r.path());
        if o.status.success() {
            break;
        }
        let journal = r.join(&format!("var/lib/distsetup/journal/{id2}"));
        if !journal.join("undoing").exists() {
            continue;
        }
        kills += 1;
        let o = run(&["undo", "--yes"], r.path());
        let ctx = format!("killed at fsync {n}: {}", text(&o));
        assert!(o.status.success(), "{ctx}");
        assert!(
            String::from_utf8_lossy(&o.stdout).contains(&format!(
                "the interrupted undo of change set {id2} is finished now; that was the undo asked for, so nothing else was undone"
            )),
            "{ctx}"
        );
        assert_eq!(listed(r.path()), std::slice::from_ref(&id1), "{ctx}");
        assert_eq!(first_difference(&first, &snapshot(r.path())), None, "{ctx}");
        let o = run(&["undo", "--yes"], r.path());
        assert!(o.status.success(), "{ctx}\n{}", text(&o));
        assert_eq!(first_difference(&original, &snapshot(r.path())), None);
    }
    assert!(kills > 0, "no kill point left an interrupted undo");
}

/// Reads a child's output on a thread; `wait_for` blocks until it showed a text.
struct Lines(std::sync::mpsc::Receiver<String>);

impl Lines {
    fn of(out: impl std::io::Read + Send + 'static) -> Lines {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut out = out;
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = out.read(&mut buf) {
                if tx
                    .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        Lines(rx)
    }

    fn wait_for(&self, what: &str) -> String {
        let mut seen = String::new();
        while !seen.contains(what) {
            match self.0.recv_timeout(std::time::Duration::from_secs(30)) {
                Ok(s) => seen.push_str(&s),
                Err(_) => panic!("never saw {what:?} in {seen}"),
            }
        }
        seen
    }
}

/// Case 4: one lock for the whole undo command. While one undo waits for its answer,
/// another `undo --yes` must not undo the set it showed (the ID used to be chosen under
/// one lock and used under another: the first then failed with "no change set ID").
#[test]
fn the_change_set_an_undo_shows_is_the_one_it_undoes() {
    if !require("script (util-linux)", on_path("script")) {
        return;
    }
    let r = gentoo_root();
    let ([_, first, _], [id1, id2]) = two_sets(&r);
    let cmd = format!("'{}' undo --root '{}'", bin().display(), r.path().display());
    let mut a = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Lines::of(a.stdout.take().unwrap());
    let shown = lines.wait_for("Restore these files");
    assert!(shown.contains(&format!("undo {id2} (applied ")), "{shown}");
    let b = run(&["undo", "--yes"], r.path());
    a.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let status = a.wait().unwrap();
    let ctx = format!("A: {status:?} {shown}\nB: {}", text(&b));
    assert_eq!(status.code(), Some(0), "{ctx}");
    assert_eq!(b.status.code(), Some(3), "{ctx}");
    assert!(
        String::from_utf8_lossy(&b.stderr).contains("another distsetup is changing this system"),
        "{ctx}"
    );
    assert_eq!(listed(r.path()), [id1], "{ctx}");
    assert_eq!(first_difference(&first, &snapshot(r.path())), None, "{ctx}");
}

/// Case 4 without a terminal: twenty pairs of `undo --yes` at once undo the two newest
/// sets, one each.
#[test]
fn concurrent_undos_each_undo_one_set() {
    for pair in 0..20 {
        let r = gentoo_root();
        let ([_, _, _], [id1, _]) = two_sets(&r);
        let spawn = || {
            Command::new(bin())
                .args([
                    "edit",
                    "/etc/b.conf",
                    "--create",
                    "--set",
                    "B=1",
                    "--yes",
                    "--root",
                ])
                .arg(r.path())
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        // A third set, so that two undos leave the first.
        assert!(spawn().status.success());
        let undo = || {
            Command::new(bin())
                .args(["undo", "--yes", "--root"])
                .arg(r.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ca, cb) = (undo(), undo());
        let (oa, ob) = (
            ca.wait_with_output().unwrap(),
            cb.wait_with_output().unwrap(),
        );
        let ctx = format!("pair {pair}:\nA {}\nB {}", text(&oa), text(&ob));
        assert!(oa.status.success() && ob.status.success(), "{ctx}");
        assert_eq!(listed(r.path()), std::slice::from_ref(&id1), "{ctx}");
    }
}

/// Case 6: on a read-only root that has a journal, `undo --list` shows the history (it
/// used to fail, because taking the lock needs write access).
#[test]
fn undo_list_works_on_a_read_only_root() {
    if !require("root (mount)", is_root()) {
        return;
    }
    let r = gentoo_root();
    let o = run(MASTER, r.path());
    assert!(o.status.success(), "{}", text(&o));
    let id = applied_id(&o);
    let _ro = ReadOnly::new(r.path());
    let o = run(&["undo", "--list"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with(&format!("{id}  ")),
        "{}",
        text(&o)
    );
    let o = run(&["undo", "--yes"], r.path());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
}

/// Case 7: every directory the first apply creates for the journal (var, var/lib,
/// var/lib/distsetup, its journal and the change set's own) is made durable by an
/// fsync of its parent after it was made.
#[test]
fn the_directories_of_the_journal_are_fsynced_into_their_parents() {
    if !require("strace", on_path("strace")) {
        return;
    }
    let r = gentoo_root();
    let trace = master_trace("mkdir,mkdirat,fsync", r.path());
    let root = r.path().display().to_string();
    let mut made: Vec<(usize, String)> = Vec::new();
    for (i, l) in trace.lines().enumerate() {
        if l.starts_with("mkdir") && l.ends_with("= 0") {
            let path = l.split('"').nth(1).unwrap().to_string();
            made.push((i, path));
        }
    }
    let state = format!("{root}/var/lib/distsetup");
    for want in [
        "var",
        "var/lib",
        "var/lib/distsetup",
        "var/lib/distsetup/journal",
    ] {
        let p = format!("{root}/{want}");
        assert!(made.iter().any(|(_, m)| *m == p), "{p} not made:\n{trace}");
    }
    let ours = |m: &String| m.starts_with(&state) || m.ends_with("/var") || m.ends_with("/var/lib");
    for (i, dir) in made.iter().filter(|(_, m)| ours(m)) {
        let parent = Path::new(dir).parent().unwrap().display().to_string();
        let synced = trace
            .lines()
            .skip(i + 1)
            .any(|l| l.starts_with("fsync(") && l.contains(&format!("<{parent}>)")));
        assert!(
            synced,
            "{dir} made, its parent {parent} never fsynced after:\n{trace}"
        );
    }
}

/// Case 5: an EIO at any one `read` of a master apply (the n-th read of each process,
/// for every n the apply makes) is reported as an error, never a panic. std's
/// `Command::output` panicked when reading a child's output failed (exit 101).
#[test]
fn an_eio_at_any_read_is_an_error_never_a_panic() {
    if !require("root (strace injection)", is_root()) || !require("strace", on_path("strace")) {
        return;
    }
    let count = {
        let r = gentoo_root();
        master_trace("read", r.path()).lines().count()
    };
    assert!(count > 20, "{count} reads");
    let mut panics = Vec::new();
    for n in 1..=count {
        let r = gentoo_root();
        let o = injected(&format!("inject=read:error=EIO:when={n}"), MASTER, r.path());
        if o.status.code() == Some(101) || String::from_utf8_lossy(&o.stderr).contains("panicked") {
            panics.push(format!("read #{n}: {}", text(&o)));
        }
    }
    assert!(
        panics.is_empty(),
        "{} of {count}:\n{}",
        panics.len(),
        panics.join("\n")
    );
}

/// Case 5, the other end: the error line itself cannot be written (stderr on a full
/// disk). The exit status still says what happened; `eprintln!` panicked (exit 101).
/// The sweep found it as EIO at the volunteer's third write.
#[test]
fn an_error_that_cannot_be_printed_still_exits_with_its_status() {
    let r = gentoo_root();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(bin())
        .args(["undo", "--yes", "--root"])
        .arg(r.path())
        .stdin(Stdio::null())
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
