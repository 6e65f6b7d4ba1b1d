//! Issue #25 points 3, 4 and 9: the undo hint is the exact command (with `--root`);
//! without root, undo and master say that root is needed and why; an undo out of order
//! never strands a change set; re-running master says in words when it replaces a
//! hand-tuned `-j`/`-l`. `DISTSETUP_BIN` runs another binary.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::undo_tx::{MASTER, applied_id, bin, gentoo_root, listed, run, text};
use crate::faults::{first_difference, snapshot};
use crate::support::{is_root, require};

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Point 3: the hint after an apply under `--root` is a command that, run verbatim
/// (plus `--yes`), undoes that apply, whatever the root's path holds.
#[test]
fn the_undo_hint_after_a_root_apply_is_the_exact_command() {
    let r = gentoo_root();
    let inner = r.join("a root's dir");
    std::fs::create_dir_all(inner.join("etc/portage")).unwrap();
    std::fs::rename(
        r.join("etc/portage/make.conf"),
        inner.join("etc/portage/make.conf"),
    )
    .unwrap();
    let original = snapshot(&inner);
    let o = run(MASTER, &inner);
    assert!(o.status.success(), "{}", text(&o));
    let quoted = format!("'{}'", inner.display().to_string().replace('\'', "'\\''"));
    let want = format!("; `distsetup undo --root {quoted}` restores the previous state\n");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stdout.ends_with(&want), "{stdout}");
    let hint = stdout.rsplit('`').nth(1).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("{hint} --yes"))
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin().parent().unwrap().display()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{hint}: {}", text(&o));
    assert_eq!(first_difference(&original, &snapshot(&inner)), None);
}

/// Run `args --root root` as the unprivileged user `nobody`.
fn as_nobody(args: &[&str], root: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--root")
        .arg(root)
        .env("HOME", "/nonexistent-home")
        .env_remove("SUDO_USER")
        .uid(65534)
        .gid(65534)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Point 4: without root, `undo --list`, `undo` and `master` say that root is needed
/// and why, instead of "nothing to undo" or the lock file's errno.
#[test]
fn without_root_undo_and_master_say_root_is_needed_and_why() {
    if !require("root (to run as nobody)", is_root()) {
        return;
    }
    let r = gentoo_root();
    let open = |p: &Path| {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    open(r.path());
    let o = run(MASTER, r.path());
    assert!(o.status.success(), "{}", text(&o));
    let why = "Permission denied; distsetup keeps its lock and journal in /var/lib/distsetup, which only root may read (mode 0700: the journal holds copies of the files distsetup changed, which may be secret); run this command as root, e.g. with sudo";
    let journal = r.join("var/lib/distsetup/journal");
    for args in [&["undo", "--list"][..], &["undo", "--yes"], MASTER] {
        let o = as_nobody(args, r.path());
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
        assert!(
            err(&o).ends_with(&format!("{}: {why}\n", journal.display())),
            "{args:?}: {}",
            text(&o)
        );
    }
    // Before any apply: the lock cannot be taken; the same words.
    let fresh = gentoo_root();
    open(fresh.path());
    std::fs::create_dir_all(fresh.join("var/lib")).unwrap();
    let o = as_nobody(MASTER, fresh.path());
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        err(&o).ends_with(&format!(
            "{}: {why}\n",
            fresh.join("var/lib/distsetup").display()
        )),
        "{}",
        text(&o)
    );
}

/// Point 9, a directory: set 1 creates /etc/distcc, set 2 a file in it. Undoing set 1
/// first is refused up front (undo set 2 first), nothing changes and every command
/// still works; it used to remove the hosts file, fail on the directory, and leave a
/// half-undone set that made every later command fail.
#[test]
fn undoing_a_set_whose_directory_a_later_set_filled_is_refused_up_front() {
    let r = gentoo_root();
    let original = snapshot(r.path());
    let o1 = run(MASTER, r.path());
    assert!(o1.status.success(), "{}", text(&o1));
    let o2 = run(
        &[
            "edit",
            "/etc/distcc/extra.conf",
            "--create",
            "--set",
            "X=1",
            "--yes",
        ],
        r.path(),
    );
    assert!(o2.status.success(), "{}", text(&o2));
    let (id1, id2) = (applied_id(&o1), applied_id(&o2));
    let both = snapshot(r.path());
    let o = run(&["undo", "--yes", &id1], r.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        err(&o).contains(&format!(
            "cannot undo {id1}: {} was changed again by change set {id2}; undo {id2} first; nothing was restored",
            r.join("etc/distcc/extra.conf").display()
        )),
        "{}",
        text(&o)
    );
    assert_eq!(first_difference(&both, &snapshot(r.path())), None);
    assert_eq!(listed(r.path()), [id2, id1]);
    for _ in 0..2 {
        let o = run(&["undo", "--yes"], r.path());
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(first_difference(&original, &snapshot(r.path())), None);
}

/// Point 9, a hand edit: set 1 by master, a hand edit of make.conf, set 2 by master
/// again; undo set 2, then set 1 conflicts with the hand edit. It can be dropped from
/// the history (`undo --forget`), keeping every file as it is; before, it stayed in
/// the history for good.
#[test]
fn a_set_that_can_no_longer_be_undone_can_be_dropped() {
    let r = gentoo_root();
    let o1 = run(MASTER, r.path());
    assert!(o1.status.success(), "{}", text(&o1));
    let id1 = applied_id(&o1);
    let conf = r.join("etc/portage/make.conf");
    let mut text_now = std::fs::read(&conf).unwrap();
    text_now.extend_from_slice(b"# tuned by hand\n");
    std::fs::write(&conf, &text_now).unwrap();
    let mut again: Vec<&str> = MASTER.to_vec();
    let jobs = again.iter().position(|a| *a == "--jobs").unwrap();
    again[jobs + 1] = "7";
    let o2 = run(&again, r.path());
    assert!(o2.status.success(), "{}", text(&o2));
    let o = run(&["undo", "--yes"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    let o = run(&["undo", "--yes"], r.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        err(&o).contains(&format!(
            "hint: to keep the files as they are, drop change set {id1} from the history: distsetup undo --forget {id1} --root {}",
            r.path().display()
        )),
        "{}",
        text(&o)
    );
    let kept = snapshot(r.path());
    let o = run(&["undo", "--forget", &id1, "--yes"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().last(),
        Some(format!("dropped change set {id1} from the history; no file was changed").as_str()),
        "{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "kept /etc/portage/make.conf.distsetup-bak (the file as it was before distsetup"
        ),
        "{}",
        text(&o)
    );
    assert_eq!(first_difference(&kept, &snapshot(r.path())), None);
    assert_eq!(listed(r.path()), Vec::<String>::new());
}

/// Point 9, the jobs: re-running master over a hand-tuned `-j4 -l4` says in words what
/// becomes of them, and how to keep `-j4`.
#[test]
fn rerunning_master_says_in_words_when_it_replaces_hand_tuned_jobs() {
    let r = gentoo_root();
    let conf = r.join("etc/portage/make.conf");
    let mut text_now = std::fs::read(&conf).unwrap();
    text_now.extend_from_slice(b"MAKEOPTS=\"-j4 -l4\"\n");
    std::fs::write(&conf, &text_now).unwrap();
    let o = Command::new(bin())
        .args([
            "master",
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.1/4",
            "--dry-run",
            "--root",
        ])
        .arg(r.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let line = err(&o)
        .lines()
        .find(|l| l.contains("MAKEOPTS is"))
        .unwrap_or_else(|| panic!("no word about MAKEOPTS: {}", text(&o)))
        .to_string();
    let prefix = "warning: /etc/portage/make.conf:";
    assert!(
        line.starts_with(prefix)
            && line.contains(": MAKEOPTS is \"-j4 -l4\" now and becomes \"-j")
            && line.contains("\": -j4 becomes -j")
            && line.ends_with("; to keep -j4, run again with --jobs 4"),
        "{line}"
    );
    let o = Command::new(bin())
        .args([
            "master",
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.1/4",
            "--jobs",
            "4",
            "--dry-run",
            "--root",
        ])
        .arg(r.path())
        .output()
        .unwrap();
    assert!(!err(&o).contains("-j4 becomes"), "{}", text(&o));
}

/// Point 9, a directory someone else filled: the undo of the set that created it is
/// refused up front with what is in the way and how to keep everything (it used to
/// remove the hosts file, then fail on the directory, and strand the set half-undone).
#[test]
fn undoing_a_set_whose_directory_someone_else_filled_is_refused_with_a_way_out() {
    let r = gentoo_root();
    let o = run(MASTER, r.path());
    assert!(o.status.success(), "{}", text(&o));
    let id = applied_id(&o);
    std::fs::write(r.join("etc/distcc/mine.conf"), "by hand\n").unwrap();
    let before = snapshot(r.path());
    let o = run(&["undo", "--yes"], r.path());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        err(&o).contains(&format!(
            "cannot undo {id}: it created {}, which now holds {}, put there by someone else",
            r.join("etc/distcc").display(),
            r.join("etc/distcc/mine.conf").display()
        )) && err(&o).contains(&format!("distsetup undo --forget {id} --root ")),
        "{}",
        text(&o)
    );
    assert_eq!(first_difference(&before, &snapshot(r.path())), None);
    assert_eq!(listed(r.path()), std::slice::from_ref(&id));
    let o = run(&["undo", "--forget", &id, "--yes"], r.path());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(first_difference(&before, &snapshot(r.path())), None);
    assert_eq!(listed(r.path()), Vec::<String>::new());
}
