//! The master role as a library: plans from given facts, the -j reasoning, the hosts
//! file rewrite, and a file changed between showing the diff and applying it.

use std::path::Path;

use distsetup::master::{self, Facts, JobsChoice, Settings};
use distsetup::plan::{Mode, SysRoot};

fn settings(profile: &str, root: &Path, hosts: &str, jobs: JobsChoice, mode: Mode) -> Settings {
    Settings {
        profile: distsetup::profile::Loader::with_user_dir(None)
            .load(profile)
            .unwrap(),
        root: SysRoot::new(root).unwrap(),
        hosts: Some(hosts.to_string()),
        jobs,
        mode,
        ccache: None,
        relay: None,
    }
}

fn facts(cores: usize) -> Facts {
    Facts {
        local_cores: Some((cores, format!("{cores} physical cores (test)"))),
        cores_error: None,
        native: None,
    }
}

fn makepkg_root() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::write(
        t.path().join("etc/makepkg.conf"),
        "BUILDENV=(!distcc color check)\n#MAKEFLAGS=\"-j2\"\n",
    )
    .unwrap();
    t
}

#[test]
fn archarm_rule_is_every_slot_plus_one_in_words() {
    let t = makepkg_root();
    let s = settings(
        "archarm",
        t.path(),
        "10.0.0.1/8 10.0.0.2",
        JobsChoice::Auto,
        Mode::DryRun,
    );
    let r = master::plan(&s, &facts(4)).unwrap();
    // 8 + distcc's default 4 remote slots, + 1: the master's cores do not count.
    assert!(
        r.notes
            .iter()
            .any(|n| n.ends_with("12 remote slots + 1 → -j13")),
        "{:?}",
        r.notes
    );
    assert!(
        r.plan.diff().contains("+MAKEFLAGS=\"-j13\""),
        "{}",
        r.plan.diff()
    );
    // A localhost entry keeps that many jobs on the master too.
    let s = settings(
        "archarm",
        t.path(),
        "10.0.0.1/8 localhost/2",
        JobsChoice::Auto,
        Mode::DryRun,
    );
    let r = master::plan(&s, &facts(1)).unwrap();
    assert!(
        r.notes
            .iter()
            .any(|n| n.ends_with("8 remote slots + 2 localhost slots + 1 → -j11")),
        "{:?}",
        r.notes
    );
    // No remote slots at all: the master's cores + 1.
    let s = settings(
        "archarm",
        t.path(),
        "localhost/2",
        JobsChoice::Auto,
        Mode::DryRun,
    );
    let r = master::plan(&s, &facts(4)).unwrap();
    assert!(
        r.notes
            .iter()
            .any(|n| n.ends_with("no remote slots; 4 physical cores + 1 → -j5")),
        "{:?}",
        r.notes
    );
    // Remote slots: 8 + distcc's default 4; localhost does not count.
    let s = settings(
        "gentoo",
        t.path(),
        "10.0.0.1/8 10.0.0.2 localhost/3",
        JobsChoice::Auto,
        Mode::DryRun,
    );
    std::fs::create_dir_all(t.path().join("etc/portage")).unwrap();
    std::fs::write(
        t.path().join("etc/portage/make.conf"),
        "FEATURES=\"sandbox\"\n",
    )
    .unwrap();
    let r = master::plan(&s, &facts(4)).unwrap();
    assert!(
        r.plan.diff().contains("+MAKEOPTS=\"-j33 -l4\""),
        "{}",
        r.plan.diff()
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("2 × (12 remote slots + 4 local cores) + 1 → -j33")),
        "{:?}",
        r.notes
    );
    // --jobs N overrides -j, the load limit stays.
    let s = settings(
        "gentoo",
        t.path(),
        "10.0.0.1/8",
        JobsChoice::Fixed(3),
        Mode::DryRun,
    );
    let r = master::plan(&s, &facts(4)).unwrap();
    assert!(
        r.plan.diff().contains("+MAKEOPTS=\"-j3 -l4\""),
        "{}",
        r.plan.diff()
    );
}

#[test]
fn auto_jobs_without_a_core_count_asks_for_jobs() {
    let t = makepkg_root();
    let s = settings("arch", t.path(), "10.0.0.1", JobsChoice::Auto, Mode::DryRun);
    let no = Facts {
        cores_error: Some("no /sys".into()),
        ..Facts::default()
    };
    let e = master::plan(&s, &no).unwrap_err();
    assert!(e.to_string().contains("pass --jobs N"), "{e}");
}

#[test]
fn a_file_changed_between_diff_and_apply_aborts_with_nothing_written() {
    let t = makepkg_root();
    let conf = t.path().join("etc/makepkg.conf");
    let s = settings(
        "debian",
        t.path(),
        "10.0.0.1",
        JobsChoice::Fixed(2),
        Mode::Ask,
    );
    let report = master::plan(&s, &facts(2)).unwrap();
    assert!(
        report
            .plan
            .diff()
            .contains("+BUILDENV=(distcc color check)")
    );
    // Another program edits the file while the user reads the diff.
    std::fs::write(&conf, "BUILDENV=(!distcc)\n# edited meanwhile\n").unwrap();
    let e = report.plan.apply().unwrap_err();
    assert!(
        e.to_string()
            .contains("changed since the diff was computed"),
        "{e}"
    );
    assert!(matches!(e, distsetup::plan::Error::Changed(_)), "{e:?}");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "BUILDENV=(!distcc)\n# edited meanwhile\n"
    );
    assert!(!t.path().join("etc/distcc/hosts").exists());
    assert!(!t.path().join("usr/lib/distcc").exists());
}

#[test]
fn an_applied_plan_reports_its_journal() {
    let t = makepkg_root();
    let s = settings(
        "arch",
        t.path(),
        "10.0.0.1",
        JobsChoice::Fixed(2),
        Mode::Yes,
    );
    let journal = master::plan(&s, &facts(2))
        .unwrap()
        .plan
        .apply()
        .unwrap()
        .journal;
    assert!(journal.join("intent").is_file() && journal.join("committed").is_file());
}

#[test]
fn hosts_file_rewrite_keeps_comments_and_leaves_equal_lists_alone() {
    let old = "# header\n\n10.0.0.1/4 # first\n# middle\n10.0.0.2\n";
    assert_eq!(
        String::from_utf8(master::hosts_file_bytes(Some(old), "h1/2 h2").unwrap()).unwrap(),
        "# header\n\nh1/2 h2\n# middle\n"
    );
    assert_eq!(
        master::hosts_file_bytes(Some(old), "10.0.0.1/4 10.0.0.2"),
        None
    );
    // Only comments: the list goes at the end.
    assert_eq!(
        String::from_utf8(master::hosts_file_bytes(Some("# none yet"), "h").unwrap()).unwrap(),
        "# none yet\nh\n"
    );
    let fresh = String::from_utf8(master::hosts_file_bytes(None, "h/3").unwrap()).unwrap();
    assert!(
        fresh.starts_with('#') && fresh.ends_with("\nh/3\n"),
        "{fresh}"
    );
}

#[test]
fn relative_link_targets_and_native_flags() {
    assert_eq!(
        master::relative_target(
            Path::new("/usr/lib/distcc/bin"),
            Path::new("/usr/bin/distcc")
        ),
        Path::new("../../../bin/distcc")
    );
    let listing = "The following options are target specific:\n  -m128bit-long-double        \t\t[disabled]\n  -march=                     \t\tznver3\n  -mtune=                     \t\tznver3\n";
    let n = master::parse_native(listing).unwrap();
    assert_eq!((n.march.as_str(), n.mtune.as_str()), ("znver3", "znver3"));
    assert_eq!(master::parse_native("nothing here"), None);
}
