//! `distsetup master` through the binary: what it writes, what it refuses, and how.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{Cmd, Root};

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/master")
        .join(rel)
}

/// A temp root with `files` copied in: (system path, fixture).
fn root_with(files: &[(&str, &str)]) -> Root {
    files
        .iter()
        .fold(Root::new(), |root, (sys, fx)| root.copy(sys, fixture(fx)))
}

fn put(root: &Path, sys: &str, bytes: &[u8]) {
    let p = root.join(sys.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn read(root: &Path, sys: &str) -> String {
    std::fs::read_to_string(root.join(sys.trim_start_matches('/'))).unwrap()
}

fn master(root: &Path, args: &[&str]) -> Output {
    Cmd::new("master").args(args).root(root).run()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn journal_entries(root: &Path) -> usize {
    std::fs::read_dir(root.join("var/lib/distsetup/journal"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn bash_value(root: &Path, conf: &str, expr: &str) -> String {
    let script = format!(
        "source {:?}; shopt -s nullglob; for f in {:?}/*.conf; do source \"$f\"; done; printf '%s' \"{expr}\"",
        root.join(conf.trim_start_matches('/')),
        root.join(format!("{}.d", conf.trim_start_matches('/')))
    );
    let o = Command::new("env")
        .args(["-i", "bash", "--norc", "--noprofile", "-c", &script])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const MK: &str = "/etc/makepkg.conf";

/// `master --profile P --hosts H --jobs J MODE` on `root`.
fn cfg(root: &Path, profile: &str, hosts: &str, jobs: &str, mode: &str) -> Output {
    master(
        root,
        &["--profile", profile, "--hosts", hosts, "--jobs", jobs, mode],
    )
}

#[test]
fn profile_list_names_every_profile() {
    let o = Cmd::new("master").args(["--profile", "list"]).run();
    let (out, _) = text(&o);
    assert!(o.status.success());
    for p in ["arch ", "archarm ", "debian ", "gentoo "] {
        assert!(out.contains(p), "{out}");
    }
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let t = tempfile::tempdir().unwrap();
    let o = master(t.path(), &["--profile", "slackware", "--hosts", "h"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("slackware") && err.contains("archarm") && err.contains("gentoo"),
        "{err}"
    );
}

#[test]
fn host_list_syntax_error_names_the_position_and_writes_nothing() {
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    let o = master(
        t.path(),
        &[
            "--profile",
            "arch",
            "--hosts",
            "10.0.0.1/4 10.0.0.2/x",
            "--yes",
        ],
    );
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--hosts: line 1, column"), "{err}");
    assert_eq!(
        read(t.path(), MK),
        std::fs::read_to_string(fixture("makepkg/plain.makepkg.conf")).unwrap()
    );
    assert_eq!(journal_entries(t.path()), 0);
}

#[test]
fn no_hosts_anywhere_is_refused_and_empty_distcc_hosts_is_never_written() {
    let t = root_with(&[(MK, "makepkg/empty-hosts.makepkg.conf")]);
    let o = master(t.path(), &["--profile", "arch", "--jobs", "2", "--yes"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no distcc hosts") && err.contains("--hosts"),
        "{err}"
    );
    let o = master(t.path(), &["--profile", "arch", "--hosts", "  ", "--yes"]);
    assert!(
        text(&o).1.contains("--hosts names no host"),
        "{:?}",
        text(&o)
    );
    assert_eq!(journal_entries(t.path()), 0);
    // With hosts, the empty assignment is filled in place.
    let o = cfg(t.path(), "arch", "10.0.0.9/3", "2", "--yes");
    assert!(o.status.success(), "{:?}", text(&o));
    let conf = read(t.path(), MK);
    assert!(conf.contains("\nDISTCC_HOSTS=\"10.0.0.9/3\"\n"), "{conf}");
    assert!(!conf.contains("DISTCC_HOSTS=\"\""), "{conf}");
}

#[test]
fn hosts_already_configured_are_used_without_hosts_flag() {
    // makepkg.conf's own DISTCC_HOSTS.
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    assert!(
        cfg(t.path(), "arch", "10.0.0.3/5", "2", "--yes")
            .status
            .success()
    );
    let o = master(t.path(), &["--profile", "arch", "--jobs", "2", "--yes"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("already configured"), "{out}");
    // Debian: the hosts file, comments and all, feeds makepkg's DISTCC_HOSTS.
    let t = root_with(&[
        (MK, "makepkg/plain.makepkg.conf"),
        ("/etc/distcc/hosts", "hosts/commented.hosts"),
    ]);
    let before = read(t.path(), "/etc/distcc/hosts");
    let o = master(t.path(), &["--profile", "debian", "--jobs", "4", "--yes"]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        bash_value(t.path(), MK, "$DISTCC_HOSTS"),
        "10.1.0.7/4,lzo 10.1.0.8/2 localhost/2"
    );
    assert_eq!(
        read(t.path(), "/etc/distcc/hosts"),
        before,
        "same hosts: file untouched"
    );
}

fn assert_refused(t: &Path, o: &Output, needles: &[&str], original: &str) {
    let (_, err) = text(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in {err}");
    }
    assert!(
        err.contains("nothing was written; add this by hand: put `distcc` in BUILDENV"),
        "{err}"
    );
    assert!(
        err.contains("DISTCC_HOSTS=\"10.0.0.1/4\"") && err.contains("MAKEFLAGS=\"-j3\""),
        "{err}"
    );
    assert_eq!(read(t, MK), original);
    assert_eq!(journal_entries(t), 0);
}

#[test]
fn buildenv_inside_if_or_dynamic_is_explained_and_nothing_written() {
    let args = [
        "--profile",
        "arch",
        "--hosts",
        "10.0.0.1/4",
        "--jobs",
        "3",
        "--yes",
    ];
    for (fx, needles) in [
        (
            "makepkg/buildenv-in-if.makepkg.conf",
            &[":3:2:", "inside an `if`"][..],
        ),
        (
            "makepkg/buildenv-dynamic.makepkg.conf",
            &[":3:1:", "BUILDENV is dynamic", "unquoted expansion"][..],
        ),
    ] {
        let t = root_with(&[(MK, fx)]);
        let original = read(t.path(), MK);
        assert_refused(t.path(), &master(t.path(), &args), needles, &original);
    }
    // An earlier drop-in appending to BUILDENV: the effective list is not ours to compute.
    let t = root_with(&[
        (MK, "makepkg/plain.makepkg.conf"),
        (
            "/etc/makepkg.conf.d/05-append.conf",
            "dropins/append/05-append.conf",
        ),
    ]);
    let original = read(t.path(), MK);
    assert_refused(
        t.path(),
        &master(t.path(), &args),
        &["05-append.conf:1:1", "appends"],
        &original,
    );
}

#[test]
fn missing_root_and_missing_config_are_system_errors() {
    let o = Command::new(BIN)
        .args([
            "master",
            "--profile",
            "arch",
            "--hosts",
            "h",
            "--root",
            "/nonexistent/distsetup-root",
        ])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("/nonexistent/distsetup-root does not exist"),
        "{err}"
    );
    let t = tempfile::tempdir().unwrap();
    let o = master(t.path(), &["--profile", "arch", "--hosts", "h", "--yes"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("/etc/makepkg.conf: not found under") && err.contains("makepkg"),
        "{err}"
    );
    // Debian without makepkg: only the hosts file.
    let o = cfg(t.path(), "debian", "10.0.0.1", "2", "--yes");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("makepkg is not set up"), "{out}");
    assert!(read(t.path(), "/etc/distcc/hosts").ends_with("\n10.0.0.1\n"));
    assert!(!t.path().join("usr/lib/distcc/bin").exists());
}

#[test]
fn permission_denied_is_a_system_error_and_writes_nothing() {
    if !crate::support::require("root (to switch to nobody)", crate::support::is_root()) {
        return;
    }
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    std::fs::set_permissions(
        t.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let original = read(t.path(), MK);
    let o = Command::new("runuser")
        .args([
            "-u",
            "nobody",
            "--",
            BIN,
            "master",
            "--profile",
            "arch",
            "--hosts",
            "10.0.0.1",
            "--jobs",
            "2",
            "--yes",
            "--root",
        ])
        .arg(t.path())
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert_eq!(read(t.path(), MK), original);
}

#[test]
fn dry_run_check_ask_yes_and_second_run() {
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    let original = read(t.path(), MK);
    let base = [
        "--profile",
        "archarm",
        "--hosts",
        "10.0.0.1:3635/8",
        "--jobs",
        "5",
    ];
    let with = |extra: &'static str| [&base[..], &[extra]].concat();
    let o = master(t.path(), &with("--dry-run"));
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out.contains("-BUILDENV=(!distcc color !ccache check !sign)"),
        "{out}"
    );
    assert!(
        out.contains("+BUILDENV=(distcc color !ccache check !sign)"),
        "{out}"
    );
    assert!(
        out.contains("-#MAKEFLAGS=\"-j2\"\n+MAKEFLAGS=\"-j5\""),
        "{out}"
    );
    assert!(
        out.contains("-#DISTCC_HOSTS=\"\"\n+DISTCC_HOSTS=\"10.0.0.1:3635/8\""),
        "{out}"
    );
    assert_eq!(master(t.path(), &with("--check")).status.code(), Some(1));
    // No terminal, no --yes: shown, not applied.
    let o = master(t.path(), &base);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("--yes"));
    assert_eq!(read(t.path(), MK), original);
    assert_eq!(journal_entries(t.path()), 0);
    assert!(master(t.path(), &with("--yes")).status.success());
    assert_eq!(journal_entries(t.path()), 1);
    let o = master(t.path(), &with("--yes"));
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o).0.contains("already configured"));
    assert_eq!(journal_entries(t.path()), 1, "second run wrote nothing");
    assert_eq!(master(t.path(), &with("--check")).status.code(), Some(0));
}

#[test]
fn undo_restores_makepkg_conf_and_removes_what_master_created() {
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    let original = std::fs::read(t.path().join("etc/makepkg.conf")).unwrap();
    let o = cfg(t.path(), "debian", "10.0.0.1/2", "2", "--yes");
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(t.path().join("usr/lib/distcc/bin/cc").is_symlink());
    let o = Cmd::new("undo").arg("--yes").root(t.path()).run();
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        std::fs::read(t.path().join("etc/makepkg.conf")).unwrap(),
        original
    );
    assert!(!t.path().join("etc/distcc/hosts").exists());
    assert!(!t.path().join("usr/lib/distcc/bin/cc").is_symlink());
}

#[test]
fn dropin_keeps_earlier_dropins_words_warns_about_later_ones_and_follows_drift() {
    let t = root_with(&[
        (MK, "makepkg/plain.makepkg.conf"),
        (
            "/etc/makepkg.conf.d/10-ccache.conf",
            "dropins/good/10-ccache.conf",
        ),
        (
            "/etc/makepkg.conf.d/zz-local.conf",
            "dropins/override/zz-local.conf",
        ),
    ]);
    put(
        t.path(),
        "/home/alice/.config/pacman/makepkg.conf",
        b"DISTCC_HOSTS=\"elsewhere\"\n",
    );
    let original = read(t.path(), MK);
    let o = cfg(t.path(), "arch", "10.0.0.1/4", "3", "--yes");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.contains("settings go into the drop-in /etc/makepkg.conf.d/distcc.conf"),
        "{out}"
    );
    assert!(
        err.contains("/etc/makepkg.conf.d/zz-local.conf:2 assigns MAKEFLAGS"),
        "{err}"
    );
    assert!(
        err.contains("/home/alice/.config/pacman/makepkg.conf:1 assigns DISTCC_HOSTS"),
        "{err}"
    );
    assert_eq!(read(t.path(), MK), original, "makepkg.conf untouched");
    let dropin = read(t.path(), "/etc/makepkg.conf.d/distcc.conf");
    assert!(dropin.starts_with("#!/hint/bash\n"), "{dropin}");
    assert!(
        dropin.ends_with(
            "BUILDENV=(distcc color ccache check !sign)\nDISTCC_HOSTS=\"10.0.0.1/4\"\nMAKEFLAGS=\"-j3\"\n"
        ),
        "{dropin}"
    );
    // makepkg.conf drifts: the drop-in follows, and the diff shows it.
    std::fs::remove_file(t.path().join("etc/makepkg.conf.d/10-ccache.conf")).unwrap();
    let conf = original.replace(
        "BUILDENV=(!distcc color !ccache",
        "BUILDENV=(!distcc !color !ccache",
    );
    put(t.path(), MK, conf.as_bytes());
    let o = cfg(t.path(), "arch", "10.0.0.1/4", "3", "--dry-run");
    let (out, _) = text(&o);
    assert!(
        out.contains("-BUILDENV=(distcc color ccache check !sign)\n+BUILDENV=(distcc !color !ccache check !sign)"),
        "{out}"
    );
}

#[test]
fn debian_masquerade_links_are_relative_and_cover_installed_triples() {
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    put(t.path(), "/usr/bin/x86_64-linux-gnu-gcc", b"");
    put(t.path(), "/usr/bin/distcc", b"");
    let o = cfg(t.path(), "debian", "10.0.0.1", "2", "--yes");
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("missing under"), "{err}");
    let dir = t.path().join("usr/lib/distcc/bin");
    for name in ["gcc", "cc", "g++", "c++", "x86_64-linux-gnu-gcc"] {
        assert_eq!(
            std::fs::read_link(dir.join(name)).unwrap(),
            Path::new("../../../bin/distcc"),
            "{name}"
        );
        assert!(dir.join(name).exists(), "{name} resolves inside the root");
    }
    assert!(
        !dir.join("aarch64-linux-gnu-gcc").is_symlink(),
        "not installed: no link"
    );
}

#[test]
fn gentoo_hosts_file_keeps_its_comments() {
    let t = root_with(&[
        ("/etc/portage/make.conf", "make.conf/plain.make.conf"),
        ("/etc/distcc/hosts", "hosts/commented.hosts"),
    ]);
    let o = cfg(
        t.path(),
        "gentoo",
        "192.168.1.20/8 192.168.1.21/8",
        "9",
        "--yes",
    );
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        read(t.path(), "/etc/distcc/hosts"),
        "# --- /etc/distcc/hosts -----------------------\n\
         # List of hosts to use for distributed builds.\n\
         # Keep this header: distcc-config would drop it.\n\
         \n\
         192.168.1.20/8 192.168.1.21/8\n\
         # the old box, switched off for now:\n\
         #hydra/6\n\
         # second one\n"
    );
    let conf = read(t.path(), "/etc/portage/make.conf");
    assert!(conf.contains("\nFEATURES=\"distcc buildpkg\"\n"), "{conf}");
    assert!(conf.contains("USE=\"X -systemd\"   # a trailing comment with an apostrophe: don't\n"));
    let makeopts = conf.lines().find(|l| l.starts_with("MAKEOPTS=")).unwrap();
    assert!(makeopts.starts_with("MAKEOPTS=\"-j9 -l"), "{makeopts}");
}

#[test]
fn gentoo_accumulating_features_and_repeated_makeopts() {
    let t = root_with(&[("/etc/portage/make.conf", "make.conf/accumulate.make.conf")]);
    let o = cfg(t.path(), "gentoo", "10.0.0.1/4", "6", "--yes");
    assert!(o.status.success(), "{:?}", text(&o));
    let conf = read(t.path(), "/etc/portage/make.conf");
    assert!(conf.starts_with(
        "FEATURES=\"parallel-fetch userpriv\"\nFEATURES=\"${FEATURES} buildpkg distcc\"\nMAKEOPTS=\"-j4 -l4\"\nMAKEOPTS=\"-j6 -l"
    ), "{conf}");
}

#[test]
fn gentoo_make_conf_directory_edits_where_assigned_else_distcc_conf() {
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "/etc/portage/make.conf/00-base",
        b"COMMON_FLAGS=\"-O2\"\nMAKEOPTS=\"-j2\"\n",
    );
    put(t.path(), "/etc/portage/make.conf/10-use", b"USE=\"X\"\n");
    let o = cfg(t.path(), "gentoo", "10.0.0.1/4", "6", "--yes");
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("is a directory"), "{out}");
    assert!(read(t.path(), "/etc/portage/make.conf/00-base").contains("MAKEOPTS=\"-j6 -l"));
    // Portage reads every file of the directory except hidden ones and `*~`: the backup
    // must be hidden, or it would be read after 00-base and bring back MAKEOPTS="-j2".
    assert_eq!(
        read(t.path(), "/etc/portage/make.conf/.00-base.distsetup-bak"),
        "COMMON_FLAGS=\"-O2\"\nMAKEOPTS=\"-j2\"\n"
    );
    assert!(
        !t.path()
            .join("etc/portage/make.conf/00-base.distsetup-bak")
            .exists()
    );
    let portage_view = std::process::Command::new("bash")
        .args([
            "--norc",
            "-c",
            "for f in \"$1\"/*; do case ${f##*/} in .*|*~) ;; *) source \"$f\";; esac; done; \
             printf '%s' \"$MAKEOPTS|$FEATURES\"",
            "sh",
        ])
        .arg(t.path().join("etc/portage/make.conf"))
        .env_clear()
        .output()
        .unwrap();
    let seen = String::from_utf8_lossy(&portage_view.stdout);
    assert!(
        seen.starts_with("-j6 -l") && seen.ends_with("| distcc"),
        "{seen}"
    );
    assert_eq!(
        read(t.path(), "/etc/portage/make.conf/10-use"),
        "USE=\"X\"\n"
    );
    let ours = read(t.path(), "/etc/portage/make.conf/distcc.conf");
    // Accumulating: FEATURES from the profile (and any file read before) is kept.
    assert!(
        ours.ends_with("\nFEATURES=\"${FEATURES} distcc\"\n"),
        "{ours}"
    );
    let again = cfg(t.path(), "gentoo", "10.0.0.1/4", "6", "--yes");
    assert!(text(&again).0.contains("already configured"));
}

#[test]
fn march_native_warns_with_the_resolved_value_only_for_remote_hosts() {
    let t = root_with(&[("/etc/portage/make.conf", "make.conf/native.make.conf")]);
    let o = cfg(t.path(), "gentoo", "10.0.0.1/4", "6", "--dry-run");
    let (_, err) = text(&o);
    assert!(
        err.contains("/etc/portage/make.conf:1: COMMON_FLAGS contains -march=native"),
        "{err}"
    );
    let resolved = Command::new("gcc")
        .args(["-march=native", "-Q", "--help=target"])
        .output();
    if let Some(r) = resolved.ok().filter(|r| r.status.success()) {
        let listing = String::from_utf8_lossy(&r.stdout).into_owned();
        let march = distsetup::master::parse_native(&listing).unwrap().march;
        assert!(
            err.contains(&format!("use -march={march} instead")),
            "{err}"
        );
    }
    let o = cfg(t.path(), "gentoo", "localhost/2", "6", "--dry-run");
    assert!(!text(&o).1.contains("-march=native"), "{:?}", text(&o));
    // makepkg.conf's CFLAGS too.
    let t = root_with(&[(MK, "makepkg/native.makepkg.conf")]);
    let o = cfg(t.path(), "archarm", "10.0.0.1/4", "6", "--dry-run");
    assert!(
        text(&o)
            .1
            .contains("/etc/makepkg.conf:2: CFLAGS contains -march=native"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn jobs_auto_prints_the_reasoning_and_writes_its_number() {
    let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
    let o = master(
        t.path(),
        &["--profile", "archarm", "--hosts", "10.0.0.1/4", "--yes"],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let line = out.lines().find(|l| l.starts_with("jobs: ")).unwrap();
    assert!(line.contains("4 remote slots + 1 → -j5"), "{line}");
    // Issue 25 point 13: the rule and its source on lines of their own, not one long line.
    assert!(
        out.contains(
            "\n      rule: -j = remote slots + localhost slots + 1 (measured)\n      from: "
        ),
        "{out}"
    );
    assert!(line.chars().count() <= 80, "{line}");
    let j = line.rsplit("→ -j").next().unwrap();
    assert_eq!(bash_value(t.path(), MK, "$MAKEFLAGS"), format!("-j{j}"));
    let t = root_with(&[("/etc/portage/make.conf", "make.conf/plain.make.conf")]);
    let o = master(
        t.path(),
        &[
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.1/4 10.0.0.2",
            "--dry-run",
        ],
    );
    let (out, _) = text(&o);
    assert!(out.contains("2 × (8 remote slots + "), "{out}");
    assert!(out.contains("→ -l"), "{out}");
}

/// `BUILDENV+=(ccache)` in a later drop-in keeps distcc: no warning; `+=(!distcc)` does not.
#[test]
fn later_dropin_appending_to_buildenv_is_warned_only_when_it_negates_distcc() {
    for (line, warned) in [
        ("BUILDENV+=(ccache)\n", false),
        ("BUILDENV+=(!distcc)\n", true),
    ] {
        let t = root_with(&[(MK, "makepkg/plain.makepkg.conf")]);
        put(
            t.path(),
            "/etc/makepkg.conf.d/zz-local.conf",
            line.as_bytes(),
        );
        let o = cfg(t.path(), "arch", "10.0.0.1/4", "3", "--dry-run");
        let (_, err) = text(&o);
        assert!(o.status.success(), "{err}");
        assert_eq!(
            err.contains("zz-local.conf:1 assigns BUILDENV"),
            warned,
            "{line}: {err}"
        );
    }
}
