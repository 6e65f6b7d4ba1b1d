//! Through the binary: the undo history (`undo --list`, `undo ID`, pruning, backups
//! removed), the README's main job, the lock under 50 concurrent pairs, the ENOSPC and
//! stale-journal regressions, and CRLF refused (master) and reported (doctor).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::faults::{Snapshot, first_difference, snapshot};
use crate::support::{Cmd, Root, is_root, on_path, require};

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");
const PLAIN_MAKE_CONF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/master/make.conf/plain.make.conf"
);

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn gentoo_root() -> Root {
    Root::new().copy("etc/portage/make.conf", PLAIN_MAKE_CONF)
}

fn master_gentoo(root: &Path, hosts: &str) -> Output {
    let a = master_args(hosts);
    Cmd::new(&a[0]).args(&a[1..]).root(root).run()
}

fn edit(root: &Path, file: &str, set: &str) -> Output {
    Cmd::new("edit")
        .args([file, "--create", "--set", set, "--yes"])
        .root(root)
        .run()
}

fn undo(root: &Path, args: &[&str]) -> Output {
    Cmd::new("undo").args(args).root(root).run()
}

/// The IDs `undo --list` shows, newest first.
fn listed(root: &Path) -> Vec<String> {
    let o = undo(root, &["--list"]);
    assert!(o.status.success(), "{}", text(&o));
    out(&o)
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("no change set"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

fn applied_id(o: &Output) -> String {
    out(o)
        .lines()
        .find_map(|l| l.strip_prefix("applied as change set "))
        .and_then(|l| l.split(';').next())
        .unwrap_or_else(|| panic!("no change set id in {}", text(o)))
        .to_string()
}

#[test]
fn undo_list_shows_id_date_command_and_paths_and_undo_id_undoes_that_one() {
    let r = gentoo_root().file("etc/a.conf", "A=0\n");
    let original = snapshot(r.path());
    let o1 = master_gentoo(r.path(), "10.0.0.1/4");
    assert!(o1.status.success(), "{}", text(&o1));
    let o2 = edit(r.path(), "/etc/a.conf", "A=1");
    assert!(o2.status.success(), "{}", text(&o2));
    let o3 = edit(r.path(), "/etc/portage/make.conf", "EXTRA=1");
    assert!(o3.status.success(), "{}", text(&o3));
    let (id1, id2, id3) = (applied_id(&o1), applied_id(&o2), applied_id(&o3));
    assert_eq!(listed(r.path()), [id3.clone(), id2.clone(), id1.clone()]);
    let list = out(&undo(r.path(), &["--list"]));
    let entry2 = list
        .split(&format!("{id2}  "))
        .nth(1)
        .unwrap()
        .lines()
        .take(2)
        .collect::<Vec<_>>();
    assert!(entry2[0].ends_with(&format!(
        "UTC  distsetup edit /etc/a.conf --create --set A=1 --yes --root {}",
        r.path().display()
    )));
    assert_eq!(entry2[1], "    /etc/a.conf");

    // Unknown ID; an older set whose file a later one changed again.
    let o = undo(r.path(), &["--yes", "20000101-000000-001"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err(&o).contains("no change set 20000101-000000-001 under"),
        "{}",
        text(&o)
    );
    let o = undo(r.path(), &["--yes", &id1]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        err(&o).contains(&format!(
            "/etc/portage/make.conf was changed again by change set {id3}; undo {id3} first; nothing was restored"
        )),
        "{}",
        text(&o)
    );
    // The middle one, by ID: only a.conf goes back.
    let o = undo(r.path(), &["--yes", &id2]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out(&o).starts_with(&format!("undo {id2} (applied ")),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(r.join("etc/a.conf")).unwrap(), b"A=0\n");
    assert!(
        std::fs::read_to_string(r.join("etc/portage/make.conf"))
            .unwrap()
            .contains("EXTRA=\"1\"")
    );
    assert!(
        !r.join("etc/a.conf.distsetup-bak").exists(),
        "its backup went with it"
    );
    // Newest first: make.conf's backup stays until the last set needing it is undone.
    let o = undo(r.path(), &["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(r.join("etc/portage/make.conf.distsetup-bak").exists());
    let o = undo(r.path(), &["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(out(&o).contains("make.conf.distsetup-bak (no change set needs it any more)"));
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
    assert_eq!(listed(r.path()), Vec::<String>::new());
}

#[test]
fn the_journal_keeps_the_last_20_change_sets() {
    let r = Root::new().file("etc/n.conf", "N=0\n");
    for i in 1..=22 {
        let o = edit(r.path(), "/etc/n.conf", &format!("N={i}"));
        assert!(o.status.success(), "{}", text(&o));
    }
    let ids = listed(r.path());
    assert_eq!(ids.len(), 20);
    let journal = std::fs::read_dir(r.join("var/lib/distsetup/journal"))
        .unwrap()
        .count();
    assert_eq!(journal, 20, "pruned sets are deleted");
    for _ in 0..20 {
        assert!(undo(r.path(), &["--yes"]).status.success());
    }
    assert_eq!(std::fs::read(r.join("etc/n.conf")).unwrap(), b"N=2\n");
    // The backup still holds the pre-distsetup file (its first set was pruned).
    assert_eq!(
        std::fs::read(r.join("etc/n.conf.distsetup-bak")).unwrap(),
        b"N=0\n"
    );
}

#[test]
fn readme_main_job_then_someone_elses_edit_elsewhere_then_undo_yes_undoes_only_ours() {
    let ours = gentoo_root().file("etc/unrelated.conf", "U=1\n");
    let theirs = Root::new().file("tmp/notes.conf", "X=1\n");
    let original = snapshot(ours.path());
    let o = master_gentoo(ours.path(), "10.0.0.1/4 10.0.0.2/4");
    assert!(o.status.success(), "{}", text(&o));
    let id = applied_id(&o);
    // Someone else: distsetup on another root, and a hand edit in ours.
    assert!(
        edit(theirs.path(), "/tmp/notes.conf", "X=2")
            .status
            .success()
    );
    std::fs::write(ours.join("etc/unrelated.conf"), "U=2\n").unwrap();
    let o = undo(ours.path(), &["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out(&o).starts_with(&format!("undo {id} (applied "))
            && out(&o).contains("distsetup master --profile gentoo"),
        "shown before acting: {}",
        text(&o)
    );
    let mut want = original.clone();
    want.get_mut("etc/unrelated.conf").unwrap().bytes = b"U=2\n".to_vec();
    assert_eq!(first_difference(&want, &snapshot(ours.path())), None);
    assert_eq!(
        std::fs::read(theirs.join("tmp/notes.conf")).unwrap(),
        b"X=2\n"
    );
    assert_eq!(
        listed(theirs.path()).len(),
        1,
        "their change set is untouched"
    );
}

/// The arguments of a `master` apply with `hosts`.
fn master_args(hosts: &str) -> Vec<String> {
    [
        "master",
        "--profile",
        "gentoo",
        "--hosts",
        hosts,
        "--jobs",
        "4",
        "--yes",
    ]
    .map(String::from)
    .to_vec()
}

/// The arguments of an `edit` apply setting `sets` in make.conf.
fn edit_args(sets: &[&str]) -> Vec<String> {
    let mut a = vec![
        "edit".to_string(),
        "/etc/portage/make.conf".into(),
        "--yes".into(),
    ];
    for s in sets {
        a.extend(["--set".to_string(), s.to_string()]);
    }
    a
}

fn spawn(args: &[String], root: &Path) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .arg("--root")
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A root holding the result of `args` alone.
fn alone(args: &[String]) -> Snapshot {
    let r = gentoo_root();
    let o = spawn(args, r.path()).wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    snapshot(r.path())
}

/// `pairs` times: run `a` and `b` at once on a fresh root. The end state is exactly the
/// newest applied change set's; a run that exits 0 is in the history, one that exits 4
/// says its diff was stale; undo brings back the original. Returns (both applied, one
/// refused).
fn concurrent_pairs(a: &[String], b: &[String], pairs: usize) -> (usize, usize) {
    let (want_a, want_b) = (alone(a), alone(b));
    assert_ne!(want_a, want_b);
    let original = snapshot(gentoo_root().path());
    let (mut both, mut one_refused) = (0, 0);
    for pair in 0..pairs {
        let r = gentoo_root();
        let (ca, cb) = (spawn(a, r.path()), spawn(b, r.path()));
        let (oa, ob) = (
            ca.wait_with_output().unwrap(),
            cb.wait_with_output().unwrap(),
        );
        let end = snapshot(r.path());
        let ids = listed(r.path());
        let ctx = format!("pair {pair}:\nA {}\nB {}", text(&oa), text(&ob));
        for o in [&oa, &ob] {
            match o.status.code() {
                Some(0) => assert!(ids.contains(&applied_id(o)), "{ctx}"),
                Some(4) => assert!(
                    err(o).contains("changed since the diff was computed; nothing was written"),
                    "{ctx}"
                ),
                _ => panic!("{ctx}"),
            }
        }
        let newest = ids
            .first()
            .unwrap_or_else(|| panic!("nothing applied: {ctx}"));
        let want = if oa.status.success() && &applied_id(&oa) == newest {
            &want_a
        } else {
            assert!(ob.status.success() && &applied_id(&ob) == newest, "{ctx}");
            &want_b
        };
        assert_eq!(first_difference(want, &end), None, "{ctx}");
        let applied = [&oa, &ob].iter().filter(|o| o.status.success()).count();
        assert_eq!(ids.len(), applied, "{ctx}");
        if applied == 2 {
            both += 1;
        } else {
            one_refused += 1;
        }
        while undo(r.path(), &["--yes"]).status.success() {}
        assert_eq!(
            first_difference(&original, &snapshot(r.path())),
            None,
            "{ctx}"
        );
    }
    (both, one_refused)
}

#[test]
fn fifty_concurrent_pairs_end_in_exactly_one_change_set_each_reported_correctly() {
    let m = concurrent_pairs(
        &master_args("10.0.0.1/4"),
        &master_args("10.0.0.2/6 10.0.0.3/2"),
        50,
    );
    // edit plans faster than master (no compiler probe), so its pairs overlap more often.
    // Both set the same variables: one after the other ends as the later one alone.
    let e = concurrent_pairs(
        &edit_args(&["MAKEOPTS=-j2", "EXTRA=a"]),
        &edit_args(&["MAKEOPTS=-j8", "EXTRA=b"]),
        50,
    );
    eprintln!(
        "50 master pairs: {} applied one after the other, {} second refused; 50 edit pairs: {} and {}",
        m.0, m.1, e.0, e.1
    );
}

#[test]
fn a_second_run_waits_for_the_lock_then_names_the_holder() {
    if !require("flock (util-linux)", on_path("flock")) {
        return;
    }
    let r = gentoo_root();
    let lock = r.join("var/lib/distsetup/lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "pid 4242\ncommand distsetup volunteer --yes\n").unwrap();
    let holder = hold(&lock);
    let pid = holder.0.id();
    let o = master_gentoo(r.path(), "10.0.0.1/4");
    drop(holder);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // The holder is the process that has the lock now (the kernel's table), not the
    // finished run the file still names (issue 25 point 15).
    let said = format!(
        "another distsetup is changing this system (pid {pid}, command flock {} sleep 30); waited 5 s for",
        lock.display()
    );
    assert!(err(&o).contains(&said), "{}", text(&o));
    assert!(!err(&o).contains("4242"), "{}", text(&o));
    assert_eq!(
        std::fs::read(r.join("etc/portage/make.conf")).unwrap(),
        std::fs::read(PLAIN_MAKE_CONF).unwrap()
    );
}

/// `flock LOCK sleep 30` in a process group of its own, killed on drop.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: kill the process group we created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// Hold `lock` from another process until the holder is dropped; returns once held.
fn hold(lock: &Path) -> Holder {
    let holder = Command::new("flock")
        .arg(lock)
        .args(["sleep", "30"])
        .process_group(0)
        .spawn()
        .unwrap();
    let holder = Holder(holder);
    wait_until_held(lock);
    holder
}

/// Poll (every 5 ms, up to 10 s) until someone holds `lock`: `flock -n` fails then.
fn wait_until_held(lock: &Path) {
    for _ in 0..2000 {
        let free = Command::new("flock")
            .args(["-n", "-s"])
            .arg(lock)
            .arg("true")
            .status()
            .unwrap()
            .success();
        if !free {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("nobody took {}", lock.display());
}

/// Whether process `pid` has `path` open.
fn has_open(pid: u32, path: &Path) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == path))
        })
        .unwrap_or(false)
}

/// Both runs of a pair computed their diff against the same state before either
/// applied: the test holds the root's lock until both wait for it, then lets go. The
/// first to get the lock applies (exit 0); the other finds its diff stale (exit 4,
/// nothing written). Run one after the other, both apply. Both outcomes must occur.
#[test]
fn a_forced_overlap_refuses_the_stale_diff_and_serial_runs_both_apply() {
    if !require("flock (util-linux)", on_path("flock")) {
        return;
    }
    let (a, b) = (
        edit_args(&["MAKEOPTS=-j2", "EXTRA=a"]),
        edit_args(&["MAKEOPTS=-j8", "EXTRA=b"]),
    );
    let r = gentoo_root();
    let original = snapshot(r.path());
    let lock = r.join("var/lib/distsetup/lock");
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    std::fs::write(&lock, "").unwrap();
    let holder = hold(&lock);
    let (ca, cb) = (spawn(&a, r.path()), spawn(&b, r.path()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(has_open(ca.id(), &lock) && has_open(cb.id(), &lock)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the runs never reached the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(holder);
    let (oa, ob) = (
        ca.wait_with_output().unwrap(),
        cb.wait_with_output().unwrap(),
    );
    let ctx = format!("A {}\nB {}", text(&oa), text(&ob));
    let mut codes = [oa.status.code(), ob.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(4)], "{ctx}");
    let refused = if oa.status.success() { &ob } else { &oa };
    assert!(
        err(refused).contains("changed since the diff was computed; nothing was written"),
        "{ctx}"
    );
    assert_eq!(listed(r.path()).len(), 1, "{ctx}");
    assert!(undo(r.path(), &["--yes"]).status.success());
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
    // One after the other: the second plans against the first's result and applies.
    for args in [&a, &b] {
        let o = spawn(args, r.path()).wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(listed(r.path()).len(), 2);
}

/// A tmpfs mounted on a temp dir for one test; unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn new(size: &str) -> Tmpfs {
        let t = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(t.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "mount tmpfs");
        Tmpfs(t)
    }

    fn free_pages(&self) -> u64 {
        let c = std::ffi::CString::new(self.0.path().as_os_str().as_encoded_bytes()).unwrap();
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: valid path and out pointer.
        assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
        s.f_bavail as u64 * s.f_frsize as u64 / 4096
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[test]
fn enospc_on_a_nearly_full_tmpfs_never_leaves_a_change_without_its_journal() {
    if !require("root (mount)", is_root()) {
        return;
    }
    for free in 1..=10 {
        let fs = Tmpfs::new("64k");
        let root = fs.0.path().join("root");
        std::fs::create_dir_all(root.join("etc/portage")).unwrap();
        std::fs::copy(PLAIN_MAKE_CONF, root.join("etc/portage/make.conf")).unwrap();
        let original = snapshot(&root);
        let filler = fs.0.path().join("filler");
        let pages = fs.free_pages().saturating_sub(free);
        std::fs::write(&filler, vec![0u8; (pages * 4096) as usize]).unwrap();
        assert_eq!(fs.free_pages(), free, "set-up");
        let o = master_gentoo(&root, "10.0.0.1/4");
        let ctx = format!("{free} pages free: {}", text(&o));
        let changed = first_difference(&original, &snapshot(&root)).is_some();
        let journal_sets = std::fs::read_dir(root.join("var/lib/distsetup/journal"))
            .map(|d| d.count())
            .unwrap_or(0);
        if o.status.success() {
            assert_eq!(listed(&root).len(), 1, "{ctx}");
        } else {
            assert_eq!(o.status.code(), Some(3), "{ctx}");
            assert!(err(&o).contains("No space left on device"), "{ctx}");
            assert!(
                !changed || journal_sets > 0,
                "changed without a journal: {ctx}"
            );
        }
        // Space back: the next run recovers, undo brings back the original.
        std::fs::remove_file(&filler).unwrap();
        let o = undo(&root, &["--list"]);
        assert!(o.status.success(), "{ctx}\n{}", text(&o));
        while undo(&root, &["--yes"]).status.success() {}
        assert_eq!(first_difference(&original, &snapshot(&root)), None, "{ctx}");
    }
}

#[test]
fn a_journal_left_by_a_killed_run_is_recovered_and_older_sets_still_undo() {
    if !require("root (strace injection)", is_root()) || !require("strace", on_path("strace")) {
        return;
    }
    let r = gentoo_root();
    let original = snapshot(r.path());
    let o = master_gentoo(r.path(), "10.0.0.1/4");
    assert!(o.status.success(), "{}", text(&o));
    // A second apply killed after it replaced the hosts file, before it committed: the
    // first fsync at which a kill leaves the new hosts file behind.
    let hosts = r.join("etc/distcc/hosts");
    for n in 1.. {
        assert!(n < 30, "no kill left the new hosts file behind");
        let o = Command::new("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e"])
            .arg(format!("inject=fsync:signal=KILL:when={n}"))
            .arg(BIN)
            .args([
                "master",
                "--profile",
                "gentoo",
                "--hosts",
                "10.9.9.9/8",
                "--jobs",
                "4",
                "--yes",
                "--root",
            ])
            .arg(r.path())
            .output()
            .unwrap();
        assert_ne!(o.status.code(), Some(0), "{}", text(&o));
        if std::fs::read_to_string(&hosts)
            .unwrap()
            .contains("10.9.9.9/8")
        {
            break;
        }
        assert!(undo(r.path(), &["--list"]).status.success());
    }
    // And a run killed before its intent was written.
    let stale: PathBuf = r.join("var/lib/distsetup/journal/20000101-000000-001");
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("0.before"), "half").unwrap();
    let o = undo(r.path(), &["--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        err(&o).contains("was interrupted; rolled back, 1 path(s) restored"),
        "{}",
        text(&o)
    );
    assert!(
        err(&o).contains("removed the journal of run 20000101-000000-001"),
        "{}",
        text(&o)
    );
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
}

#[test]
fn crlf_makepkg_conf_is_refused_by_master_and_reported_by_doctor() {
    let conf = "BUILDENV=(!distcc color !ccache check !sign)\r\nMAKEFLAGS=\"-j2\"\r\n";
    let r = Root::new().file("etc/makepkg.conf", conf);
    // bash is the judge: the CR stays in the value, BUILDENV is no array.
    let o = Command::new("bash")
        .args(["--norc", "-c", "source \"$1\"; declare -p BUILDENV", "bash"])
        .arg(r.join("etc/makepkg.conf"))
        .output()
        .unwrap();
    assert!(out(&o).contains("\\r'"), "{}", text(&o));
    assert!(!out(&o).starts_with("declare -a"), "{}", text(&o));
    let o = Cmd::new("master")
        .args(["--profile", "arch", "--hosts", "10.0.0.1/4", "--yes"])
        .root(r.path())
        .run();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let file = r.join("etc/makepkg.conf").display().to_string();
    assert!(
        err(&o).contains(&format!(
            "{file}:1: the file has CRLF (Windows) line endings"
        )) && err(&o).contains(&format!("sed -i 's/\\r$//' {file}")),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read(r.join("etc/makepkg.conf")).unwrap(),
        conf.as_bytes()
    );
    // A configured file, converted to CRLF by an editor: it looks right, bash disagrees.
    let r = Root::new().file(
        "etc/makepkg.conf",
        "BUILDENV=(distcc color !ccache)\r\nDISTCC_HOSTS=\"127.0.0.1:1/1\"\r\nMAKEFLAGS=\"-j2\"\r\n",
    );
    let file = r.join("etc/makepkg.conf").display().to_string();
    let o = Cmd::new("doctor")
        .args([
            "--profile",
            "arch",
            "--hosts",
            "127.0.0.1:1/1",
            "--speed-rounds",
            "0",
            "--json",
        ])
        .root(r.path())
        .run();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let crlf = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "crlf")
        .unwrap_or_else(|| panic!("no crlf finding: {v:#}"));
    assert_eq!(crlf["status"], "broken");
    assert_eq!(crlf["subject"], format!("{file}:1"));
    assert_eq!(crlf["hint"], format!("sed -i 's/\\r$//' {file}"), "{v:#}");
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "switch" && f["status"] == "ok"),
        "doctor must not say makepkg uses distcc: {v:#}"
    );
    assert_eq!(o.status.code(), Some(1));
}
