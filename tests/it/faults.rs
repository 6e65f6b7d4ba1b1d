//! Fault injection (issues #11, #24): strace kills `distsetup` or makes one call fail
//! with EIO, ENOSPC or EROFS at every write, rename, fsync, unlink, mkdir, symlink, chmod,
//! chown, xattr and openat call, or with EIO at every read, of a master apply, a
//! volunteer apply, an undo, and the undo of the newest of two change sets. After each
//! run:
//! - no panic (exit 101);
//! - nothing torn: every path in the union of the states before and after, and of what
//!   is there now, is exactly (kind, bytes, mode, owner, xattrs) as before or as after;
//! - the undo of the newest of two sets, retried after a failure, undoes exactly it;
//! - the next run (`undo --list`) recovers, and leaves no stray `.distsetup-XXXXXX`;
//! - `undo` (as often as there are change sets) brings back every file byte for byte
//!   with its mode, owner and xattrs, and removes the backups.
//!
//! `cargo test` runs every 37th call with a rotating fault (a few dozen runs); the full
//! sweep is `DISTSETUP_FAULTS=full` (`scripts/fault-inject`), which prints the counts.
//! `DISTSETUP_FAULTS_SCENARIO` (part of a name) and `DISTSETUP_FAULTS_CALLS` (a list)
//! narrow it.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::support::{XTools, free_port, is_root, on_path, require};

/// The binary under test; `DISTSETUP_BIN` overrides it (the sweep script runs a copy,
/// so a rebuild during a long sweep does not change what is tested).
fn bin() -> PathBuf {
    std::env::var_os("DISTSETUP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_distsetup")))
}
/// The calls faults are injected at, and the faults for each: every call that changes
/// the disk gets a kill and the errors a disk gives (EIO, ENOSPC, EROFS); `openat` too
/// (ENOSPC or EROFS when a file is created); `read` gets EIO (a failing disk).
const CALLS: &[(&str, &[&str])] = &[
    ("write", WRITE_FAULTS),
    ("rename", WRITE_FAULTS),
    ("renameat", WRITE_FAULTS),
    ("renameat2", WRITE_FAULTS),
    ("fsync", WRITE_FAULTS),
    ("unlink", WRITE_FAULTS),
    ("unlinkat", WRITE_FAULTS),
    ("mkdir", WRITE_FAULTS),
    ("mkdirat", WRITE_FAULTS),
    ("rmdir", WRITE_FAULTS),
    ("symlink", WRITE_FAULTS),
    ("fchmod", WRITE_FAULTS),
    ("fchown", WRITE_FAULTS),
    ("fsetxattr", WRITE_FAULTS),
    ("openat", WRITE_FAULTS),
    ("read", &["error=EIO"]),
];
const WRITE_FAULTS: &[&str] = &["signal=KILL", "error=EIO", "error=ENOSPC", "error=EROFS"];

fn faults_of(call: &str) -> &'static [&'static str] {
    CALLS
        .iter()
        .find(|(c, _)| *c == call)
        .map_or(&[], |(_, f)| f)
}

/// What is at one path: kind, content or target, mode, owner, xattrs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub owner: (u32, u32),
    pub xattrs: Vec<(String, Vec<u8>)>,
}

/// Every path under a root (its journal and lock excluded), relative.
pub type Snapshot = BTreeMap<String, Node>;

fn xattrs_of(p: &Path) -> Vec<(String, Vec<u8>)> {
    let o = Command::new("getfattr")
        .args(["-h", "-d", "-m", "-", "--absolute-names", "-e", "hex"])
        .arg(p)
        .output()
        .expect("getfattr (attr package)");
    let mut out: Vec<(String, Vec<u8>)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(n, v)| {
            let hex = v.trim_start_matches("0x");
            let bytes = (0..hex.len() / 2)
                .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            (n.to_string(), bytes)
        })
        .collect();
    out.sort();
    out
}

pub fn snapshot(root: &Path) -> Snapshot {
    fn walk(base: &Path, dir: &Path, out: &mut Snapshot) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            // distsetup's own state (lock, journal) and the directories holding it.
            if rel.starts_with("var/lib/distsetup") {
                continue;
            }
            if (rel == "var" || rel == "var/lib") && p.is_dir() {
                walk(base, &p, out);
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            let (kind, bytes) = if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                ("link", t.as_os_str().as_encoded_bytes().to_vec())
            } else if m.is_dir() {
                ("dir", Vec::new())
            } else {
                ("file", std::fs::read(&p).unwrap())
            };
            let xattrs = if kind == "link" {
                Vec::new()
            } else {
                xattrs_of(&p)
            };
            out.insert(
                rel,
                Node {
                    kind,
                    bytes,
                    mode: if kind == "link" { 0 } else { m.mode() & 0o7777 },
                    owner: (m.uid(), m.gid()),
                    xattrs,
                },
            );
            if kind == "dir" {
                walk(base, &p, out);
            }
        }
    }
    let mut out = Snapshot::new();
    walk(root, root, &mut out);
    out
}

/// The first difference between two snapshots, for a failure message.
pub fn first_difference(want: &Snapshot, got: &Snapshot) -> Option<String> {
    for (k, v) in want {
        match got.get(k) {
            None => return Some(format!("{k}: missing")),
            Some(g) if g != v => {
                return Some(format!(
                    "{k}: want {} {:o} {:?} {:?} {:?}, got {} {:o} {:?} {:?} {:?}",
                    v.kind,
                    v.mode,
                    v.owner,
                    v.xattrs,
                    String::from_utf8_lossy(&v.bytes),
                    g.kind,
                    g.mode,
                    g.owner,
                    g.xattrs,
                    String::from_utf8_lossy(&g.bytes)
                ));
            }
            Some(_) => {}
        }
    }
    got.keys()
        .find(|k| !want.contains_key(*k))
        .map(|k| format!("{k}: should not be there"))
}

fn run(args: &[String]) -> Output {
    Command::new(bin())
        .args(args)
        .env("HOME", "/nonexistent-home")
        .env_remove("SUDO_USER")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Run `args` under strace: count the calls of the main process (`fault` None), or
/// inject `fault` at the `nth` call of `call`.
fn traced(
    args: &[String],
    inject: Option<(&str, &str, usize)>,
) -> (Output, BTreeMap<String, usize>) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut c = Command::new("strace");
    c.args(["-f", "-qq", "-o"]).arg(log.path());
    // execve too: the first line is the traced program's own exec, whose pid is the
    // main process (children such as gcc may make the first counted call).
    let names: Vec<&str> = CALLS.iter().map(|(c, _)| *c).collect();
    c.arg("-e").arg(format!("trace=execve,{}", names.join(",")));
    if let Some((call, fault, nth)) = inject {
        c.arg("-e").arg(format!("inject={call}:{fault}:when={nth}"));
    }
    let o = c
        .arg(bin())
        .args(args)
        .env("HOME", "/nonexistent-home")
        .env_remove("SUDO_USER")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let trace = std::fs::read_to_string(log.path()).unwrap_or_default();
    let main_pid = trace
        .lines()
        .find(|l| l.contains("execve("))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("")
        .to_string();
    let mut counts = BTreeMap::new();
    for l in trace.lines() {
        let mut w = l.splitn(2, ' ');
        if w.next() != Some(main_pid.as_str()) {
            continue;
        }
        let call = w.next().unwrap_or("").trim_start();
        if let Some(name) = call.split('(').next() {
            if CALLS.iter().any(|(c, _)| *c == name) {
                *counts.entry(name.to_string()).or_insert(0) += 1;
            }
        }
    }
    (o, counts)
}

/// Which command of a scenario is faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Faulted {
    /// The apply.
    Apply,
    /// `undo --yes` after a clean apply.
    Undo,
    /// `undo --yes` after two clean applies (the scenario's, then an edit of another
    /// file): exactly the newest set must be undone, even when the undo is retried.
    UndoOfTwo,
}

/// A scenario: how to make its root, what to run (apply), and which command is faulted.
pub struct Scenario {
    pub name: &'static str,
    /// Builds the original tree in the directory; returns the command line (with
    /// `--root`).
    pub setup: fn(&Path) -> Vec<String>,
    pub faulted: Faulted,
}

/// Counts over a sweep.
#[derive(Debug, Default)]
pub struct Tally {
    pub runs: usize,
    pub recoveries: usize,
    pub panics: usize,
    pub failures: Vec<String>,
}

fn give_meta(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::os::unix::fs::chown(p, Some(1234), Some(5678)).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    let ok = Command::new("setfattr")
        .args(["-n", "user.distsetup-test", "-v", "kept"])
        .arg(p)
        .status()
        .unwrap()
        .success();
    assert!(ok, "setfattr on {}", p.display());
}

/// `master` on `dir` after copying `fixture` (under tests/fixtures/master) to `conf`
/// with `mode`, an owner and an xattr.
fn master_on(dir: &Path, (fixture, conf, mode): (&str, &str, u32), args: &[&str]) -> Vec<String> {
    let conf = dir.join(conf);
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/master")
            .join(fixture),
        &conf,
    )
    .unwrap();
    give_meta(&conf, mode);
    std::iter::once("master")
        .chain(args.iter().copied())
        .chain(["--yes", "--root"])
        .map(str::to_string)
        .chain([dir.display().to_string()])
        .collect()
}

fn master_gentoo(dir: &Path) -> Vec<String> {
    master_on(
        dir,
        ("make.conf/plain.make.conf", "etc/portage/make.conf", 0o640),
        &[
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.1/4",
            "--jobs",
            "4",
        ],
    )
}

fn master_debian(dir: &Path) -> Vec<String> {
    master_on(
        dir,
        ("makepkg/plain.makepkg.conf", "etc/makepkg.conf", 0o600),
        &[
            "--profile",
            "debian",
            "--hosts",
            "10.0.0.1/2",
            "--jobs",
            "2",
        ],
    )
}

fn volunteer_x_tools8(dir: &Path) -> Vec<String> {
    // One toolchain and one port for every run: every root must get the same links and
    // unit files.
    // (Kept under target/, so no temp directory outlives the tests.)
    static TOOLCHAIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let tc = TOOLCHAIN.get_or_init(|| {
        let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("faults");
        let _ = std::fs::remove_dir_all(&base);
        XTools::aarch64().build_in(&base)
    });
    let conf = dir.join("etc/conf.d/distccd");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    std::fs::write(
        &conf,
        "# distccd options\nDISTCC_ARGS=\"--allow 127.0.0.1\"\n",
    )
    .unwrap();
    give_meta(&conf, 0o640);
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    let port = PORT.get_or_init(free_port).to_string();
    [
        "volunteer",
        "--profile",
        "debian",
        "--toolchain",
        &tc.display().to_string(),
        "--allow",
        "10.0.0.0/24",
        "--jobs",
        "3",
        "--port",
        &port,
        "--yes",
        "--root",
        &dir.display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "master gentoo apply",
        setup: master_gentoo,
        faulted: Faulted::Apply,
    },
    Scenario {
        name: "master debian apply",
        setup: master_debian,
        faulted: Faulted::Apply,
    },
    Scenario {
        name: "volunteer apply",
        setup: volunteer_x_tools8,
        faulted: Faulted::Apply,
    },
    Scenario {
        name: "master gentoo undo",
        setup: master_gentoo,
        faulted: Faulted::Undo,
    },
    Scenario {
        name: "volunteer undo",
        setup: volunteer_x_tools8,
        faulted: Faulted::Undo,
    },
    Scenario {
        name: "master gentoo undo of the newest of two",
        setup: master_gentoo,
        faulted: Faulted::UndoOfTwo,
    },
];

fn root_arg(args: &[String]) -> String {
    let i = args.iter().position(|a| a == "--root").unwrap();
    args[i + 1].clone()
}

fn undo_args(root: &str, extra: &[&str]) -> Vec<String> {
    std::iter::once("undo".to_string())
        .chain(extra.iter().map(|s| s.to_string()))
        .chain(["--root".to_string(), root.to_string()])
        .collect()
}

fn stray_temps(root: &Path) -> Vec<String> {
    snapshot(root)
        .into_keys()
        .filter(|k| {
            let name = k.rsplit('/').next().unwrap_or("");
            name.len() == ".distsetup-".len() + 6 && name.starts_with(".distsetup-")
        })
        .collect()
}

/// The second apply of [`Faulted::UndoOfTwo`].
fn second_apply(root: &str) -> Vec<String> {
    [
        "edit",
        "/etc/extra.conf",
        "--create",
        "--set",
        "X=1",
        "--yes",
        "--root",
        root,
    ]
    .map(String::from)
    .to_vec()
}

/// The states of a scenario: before anything, after its clean apply (or applies), and
/// before and after the faulted command.
pub struct States {
    pub original: Snapshot,
    pub before: Snapshot,
    pub after: Snapshot,
}

/// Every path, in the union of the states and what is there now, is whole: exactly as
/// before the faulted command or exactly as after it (kind, bytes, mode, owner, xattrs);
/// a backup is exactly the original file, or absent.
fn whole(states: &States, now: &Snapshot, strays: &[String]) -> Result<(), String> {
    let keys: std::collections::BTreeSet<&String> = states
        .before
        .keys()
        .chain(states.after.keys())
        .chain(now.keys())
        .collect();
    for k in keys {
        if strays.contains(k) {
            continue;
        }
        let cur = now.get(k);
        if let Some(file) = k.strip_suffix(".distsetup-bak") {
            if cur.is_some() && cur != states.original.get(file) {
                return Err(format!("{k} is not the original of {file}: {cur:?}"));
            }
            continue;
        }
        if cur != states.before.get(k) && cur != states.after.get(k) {
            return Err(format!(
                "{k} is torn: {cur:?}, before {:?}, after {:?}",
                states.before.get(k),
                states.after.get(k)
            ));
        }
    }
    Ok(())
}

/// One faulted run of `sc` and the checks after it; `Err` says what broke.
fn one(
    sc: &Scenario,
    states: &States,
    (call, fault, nth): (&str, &str, usize),
    tally: &mut Tally,
) -> Result<(), String> {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("root");
    std::fs::create_dir(&dir).unwrap();
    let args = (sc.setup)(&dir);
    let root = root_arg(&args);
    let mut clean = Vec::new();
    if sc.faulted != Faulted::Apply {
        clean.push(args.clone());
    }
    if sc.faulted == Faulted::UndoOfTwo {
        clean.push(second_apply(&root));
    }
    for a in &clean {
        let o = run(a);
        if !o.status.success() {
            return Err(format!("clean apply failed: {}", text(&o)));
        }
    }
    let faulted_args = match sc.faulted {
        Faulted::Apply => args.clone(),
        Faulted::Undo | Faulted::UndoOfTwo => undo_args(&root, &["--yes"]),
    };
    let (o, _) = traced(&faulted_args, Some((call, fault, nth)));
    tally.runs += 1;
    if o.status.code() == Some(101) || String::from_utf8_lossy(&o.stderr).contains("panicked") {
        tally.panics += 1;
        return Err(format!("panic: {}", text(&o)));
    }
    whole(states, &snapshot(&dir), &stray_temps(&dir)).map_err(|e| format!("{e}\n{}", text(&o)))?;
    if sc.faulted == Faulted::UndoOfTwo {
        // The user asked for one undo: retried after a failure, exactly one set goes.
        if !o.status.success() {
            let again = run(&undo_args(&root, &["--yes"]));
            if !again.status.success() {
                return Err(format!("retried undo failed: {}", text(&again)));
            }
            if String::from_utf8_lossy(&again.stderr).contains("recovered:") {
                tally.recoveries += 1;
            }
        }
        if let Some(d) = first_difference(&states.after, &snapshot(&dir)) {
            return Err(format!("not exactly the newest set undone: {d}"));
        }
    }
    let o = run(&undo_args(&root, &["--list"]));
    if !o.status.success() {
        return Err(format!("recovery run failed: {}", text(&o)));
    }
    if String::from_utf8_lossy(&o.stderr).contains("recovered:") {
        tally.recoveries += 1;
    }
    let strays = stray_temps(&dir);
    if !strays.is_empty() {
        return Err(format!("stray temp files after recovery: {strays:?}"));
    }
    for _ in 0..4 {
        let o = run(&undo_args(&root, &["--yes"]));
        match o.status.code() {
            Some(0) => continue,
            Some(1) if String::from_utf8_lossy(&o.stderr).contains("nothing to undo") => break,
            _ => return Err(format!("undo failed: {}", text(&o))),
        }
    }
    match first_difference(&states.original, &snapshot(&dir)) {
        Some(d) => Err(format!("not restored: {d}")),
        None => Ok(()),
    }
}

/// Sweep `sc`: every call with every fault (full), or every `stride`-th call with a
/// rotating fault.
pub fn sweep(sc: &Scenario, full: bool, stride: usize, tally: &mut Tally) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("root");
    std::fs::create_dir(&dir).unwrap();
    let args = (sc.setup)(&dir);
    let root = root_arg(&args);
    // The states (the same in every fresh root of the scenario).
    let original = snapshot(&dir);
    let o = run(&args);
    assert!(o.status.success(), "{}: {}", sc.name, text(&o));
    let applied = snapshot(&dir);
    let (states, counted) = match sc.faulted {
        Faulted::Apply => {
            let o = run(&undo_args(&root, &["--yes"]));
            assert!(o.status.success(), "{}: {}", sc.name, text(&o));
            let before = original.clone();
            (
                States {
                    original,
                    before,
                    after: applied,
                },
                args,
            )
        }
        Faulted::Undo => {
            let after = original.clone();
            (
                States {
                    original,
                    before: applied,
                    after,
                },
                undo_args(&root, &["--yes"]),
            )
        }
        Faulted::UndoOfTwo => {
            let o = run(&second_apply(&root));
            assert!(o.status.success(), "{}: {}", sc.name, text(&o));
            let before = snapshot(&dir);
            (
                States {
                    original,
                    before,
                    after: applied,
                },
                undo_args(&root, &["--yes"]),
            )
        }
    };
    let (o, counts) = traced(&counted, None);
    assert!(o.status.success(), "{}: {}", sc.name, text(&o));
    eprintln!("{}: calls {counts:?}", sc.name);
    // DISTSETUP_FAULTS_CALLS=fchmod,rename: only these calls (to check a mutation, or
    // to split the sweep).
    let only = std::env::var("DISTSETUP_FAULTS_CALLS").ok();
    let mut k = 0;
    for (call, n) in &counts {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|c| c == call))
        {
            continue;
        }
        let all = faults_of(call);
        for nth in 1..=*n {
            k += 1;
            let faults: Vec<&str> = if full {
                all.to_vec()
            } else if k % stride == 0 {
                vec![all[(k / stride) % all.len()]]
            } else {
                continue;
            };
            for fault in faults {
                if let Err(e) = one(sc, &states, (call, fault, nth), tally) {
                    tally
                        .failures
                        .push(format!("{} {call}#{nth} {fault}: {e}", sc.name));
                }
            }
        }
    }
}

fn can_run() -> bool {
    require("root (chown, strace injection)", is_root())
        && require("strace", on_path("strace"))
        && require(
            "getfattr/setfattr (attr)",
            on_path("getfattr") && on_path("setfattr"),
        )
        && require("aarch64-linux-gnu-gcc", on_path("aarch64-linux-gnu-gcc"))
}

#[test]
fn a_fault_at_any_call_leaves_no_torn_file_and_recovery_plus_undo_restores_everything() {
    if !can_run() {
        return;
    }
    let full = std::env::var("DISTSETUP_FAULTS").is_ok_and(|v| v == "full");
    let mut tally = Tally::default();
    // DISTSETUP_FAULTS_SCENARIO=undo: only the scenarios whose name contains it.
    let only = std::env::var("DISTSETUP_FAULTS_SCENARIO").unwrap_or_default();
    for sc in SCENARIOS.iter().filter(|sc| sc.name.contains(&only)) {
        sweep(sc, full, 37, &mut tally);
    }
    eprintln!(
        "fault injection ({}): runs {}, recoveries {}, panics {}, failures {}",
        if full {
            "full sweep"
        } else {
            "every 37th call"
        },
        tally.runs,
        tally.recoveries,
        tally.panics,
        tally.failures.len()
    );
    assert!(tally.runs > 0);
    assert!(
        tally.failures.is_empty(),
        "{} failures:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}
