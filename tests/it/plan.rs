//! Given a tree, a plan of changes produces this diff, applies all-or-nothing, refuses
//! stale diffs, and undo restores every byte.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use distsetup::plan::{self, Before, Error, Plan, SysRoot};

mod foreign;
mod frictions;
mod history;
mod tx;
mod undo_tx;

fn tree() -> (tempfile::TempDir, SysRoot) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/distcc")).unwrap();
    std::fs::write(dir.path().join("etc/makepkg.conf"), "A=1\nB=2\nC=3\n").unwrap();
    std::fs::write(dir.path().join("etc/distcc/hosts"), "a b\n").unwrap();
    let root = SysRoot::new(dir.path()).unwrap();
    (dir, root)
}

fn read(dir: &tempfile::TempDir, p: &str) -> Vec<u8> {
    std::fs::read(dir.path().join(p)).unwrap()
}

#[test]
fn a_root_that_does_not_exist_is_refused() {
    let e = SysRoot::new(Path::new("/no/such/root")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "root /no/such/root does not exist or is not a directory"
    );
}

#[test]
fn one_diff_for_files_symlinks_and_directories() {
    let (_d, root) = tree();
    let mut p = Plan::new(root);
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=1\nB=9\nC=3\n".to_vec())
        .unwrap();
    p.write_file(Path::new("/etc/new.conf"), b"X=1\n".to_vec())
        .unwrap();
    p.create_dir(Path::new("/usr/lib/distcc")).unwrap();
    p.create_symlink(Path::new("/etc/gcc"), Path::new("/usr/bin/distcc"))
        .unwrap();
    assert_eq!(
        p.diff(),
        "--- a/etc/makepkg.conf\n+++ b/etc/makepkg.conf\n@@ -1,3 +1,3 @@\n A=1\n-B=2\n+B=9\n C=3\n\
         --- /dev/null\n+++ b/etc/new.conf\n@@ -0,0 +1 @@\n+X=1\n\
         --- /dev/null\n+++ b/usr/lib/distcc/ (directory)\n\
         --- /dev/null\n+++ b/etc/gcc (symlink)\n+-> /usr/bin/distcc\n"
    );
}

/// Issue 25 point 13: a volunteer's new alias directory used to be one `(directory)` hunk
/// per level. A chain of new directories is one hunk, named by the deepest.
#[test]
fn a_chain_of_new_directories_is_one_hunk() {
    let (_d, root) = tree();
    let mut p = Plan::new(root);
    p.create_dir(Path::new("/usr/lib/distsetup")).unwrap();
    p.create_dir(Path::new("/usr/lib/distsetup/x-tools8"))
        .unwrap();
    p.create_dir(Path::new("/usr/lib/distsetup/x-tools8/bin"))
        .unwrap();
    p.create_dir(Path::new("/etc/conf.d")).unwrap();
    assert_eq!(
        p.diff(),
        "--- /dev/null\n+++ b/usr/lib/distsetup/x-tools8/bin/ (directory, and its parents \
         /usr/lib/distsetup/ /usr/lib/distsetup/x-tools8/)\n\
         --- /dev/null\n+++ b/etc/conf.d/ (directory)\n"
    );
}

#[test]
fn same_bytes_make_an_empty_plan() {
    let (_d, root) = tree();
    let mut p = Plan::new(root);
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=1\nB=2\nC=3\n".to_vec())
        .unwrap();
    assert!(p.is_empty());
    assert_eq!(p.diff(), "");
}

#[test]
fn a_planned_mode_is_a_change_shown_in_the_diff_and_applied_with_the_bytes() {
    let (d, root) = tree();
    let script = d.path().join("etc/init.d-distccd");
    std::fs::write(&script, "#!/sbin/openrc-run\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut p = Plan::new(root.clone());
    p.write_file_mode(
        Path::new("/etc/init.d-distccd"),
        b"#!/sbin/openrc-run\n".to_vec(),
        Some(0o755),
    )
    .unwrap();
    assert!(!p.is_empty(), "same bytes, other mode: still a change");
    assert!(p.diff().contains("mode 0755"), "{}", p.diff());
    p.apply().unwrap();
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    let mut again = Plan::new(root.clone());
    again
        .write_file_mode(
            Path::new("/etc/init.d-distccd"),
            b"#!/sbin/openrc-run\n".to_vec(),
            Some(0o755),
        )
        .unwrap();
    assert!(again.is_empty(), "a second run changes nothing");
    let mut fresh = Plan::new(root);
    fresh
        .write_file_mode(Path::new("/etc/new-script"), b"x\n".to_vec(), Some(0o755))
        .unwrap();
    fresh.apply().unwrap();
    let mode = std::fs::metadata(d.path().join("etc/new-script"))
        .unwrap()
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o755, "a new file is created with the planned mode");
}

#[test]
fn apply_keeps_mode_writes_a_first_backup_and_undo_restores_byte_for_byte() {
    let (d, root) = tree();
    let conf = d.path().join("etc/makepkg.conf");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o640)).unwrap();
    let orig = b"A=1\r\nB=\xff\xfe\n".to_vec();
    std::fs::write(&conf, &orig).unwrap();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=2\n".to_vec())
        .unwrap();
    p.create_dir(Path::new("/usr")).unwrap();
    p.create_symlink(Path::new("/usr/cc"), Path::new("/usr/bin/distcc"))
        .unwrap();
    p.apply().unwrap();
    assert_eq!(std::fs::metadata(&conf).unwrap().mode() & 0o777, 0o640);
    assert_eq!(read(&d, "etc/makepkg.conf.distsetup-bak"), orig);
    assert_eq!(
        std::fs::read_link(d.path().join("usr/cc")).unwrap(),
        Path::new("/usr/bin/distcc")
    );

    // A second change does not overwrite the first backup.
    let mut p2 = Plan::new(root.clone());
    p2.write_file(Path::new("/etc/makepkg.conf"), b"A=3\n".to_vec())
        .unwrap();
    p2.apply().unwrap();
    assert_eq!(read(&d, "etc/makepkg.conf.distsetup-bak"), orig);

    // Undo goes back one change set at a time.
    let r = plan::undo(&root, None).unwrap();
    assert_eq!(r.restored, [Path::new("/etc/makepkg.conf")]);
    assert_eq!(read(&d, "etc/makepkg.conf"), b"A=2\n");
    plan::undo(&root, None).unwrap();
    assert_eq!(read(&d, "etc/makepkg.conf"), orig);
    assert_eq!(std::fs::metadata(&conf).unwrap().mode() & 0o777, 0o640);
    assert!(
        !d.path().join("usr").exists(),
        "created directory and link removed"
    );
    assert!(matches!(
        plan::undo(&root, None),
        Err(Error::NothingToUndo(_))
    ));
}

#[test]
fn a_failing_second_write_rolls_back_the_first() {
    let (d, root) = tree();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/makepkg.conf"), b"changed\n".to_vec())
        .unwrap();
    // The parent directory of the second file does not exist, so its write fails.
    p.write_file(Path::new("/etc/missing-dir/x.conf"), b"x\n".to_vec())
        .unwrap();
    let e = p.apply().unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("{}/etc/missing-dir/x.conf: ", d.path().display())),
        "{e}"
    );
    assert_eq!(read(&d, "etc/makepkg.conf"), b"A=1\nB=2\nC=3\n");
    assert!(
        !d.path().join("etc/makepkg.conf.distsetup-bak").exists(),
        "backup removed too"
    );
    assert!(
        matches!(plan::undo(&root, None), Err(Error::NothingToUndo(_))),
        "no journal left behind"
    );
}

#[test]
fn a_file_changed_after_the_diff_aborts_and_writes_nothing() {
    let (d, root) = tree();
    let mut p = Plan::new(root);
    p.write_file(Path::new("/etc/distcc/hosts"), b"a b c\n".to_vec())
        .unwrap();
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=5\n".to_vec())
        .unwrap();
    std::fs::write(d.path().join("etc/makepkg.conf"), "someone else\n").unwrap();
    let e = p.apply().unwrap_err();
    assert!(matches!(e, Error::Changed(_)));
    assert_eq!(read(&d, "etc/distcc/hosts"), b"a b\n");
}

#[test]
fn undo_refuses_when_a_file_changed_since_and_restores_nothing() {
    let (d, root) = tree();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/distcc/hosts"), b"x\n".to_vec())
        .unwrap();
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=5\n".to_vec())
        .unwrap();
    p.apply().unwrap();
    std::fs::write(d.path().join("etc/makepkg.conf"), "edited by hand\n").unwrap();
    let e = plan::undo(&root, None).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot undo: {}/etc/makepkg.conf changed since distsetup wrote it; nothing was restored",
            d.path().display()
        )
    );
    assert_eq!(read(&d, "etc/distcc/hosts"), b"x\n");
}

#[test]
fn a_symlinked_config_is_edited_at_its_target_and_the_diff_says_so() {
    let (d, root) = tree();
    std::os::unix::fs::symlink("distcc/hosts", d.path().join("etc/hosts-link")).unwrap();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/hosts-link"), b"a b c\n".to_vec())
        .unwrap();
    assert!(p.diff().starts_with(
        "# /etc/hosts-link is a symlink; editing its target /etc/distcc/hosts\n--- a/etc/distcc/hosts\n"
    ), "{}", p.diff());
    assert_eq!(p.steps()[0].before, Before::File(b"a b\n".to_vec()));
    p.apply().unwrap();
    assert!(
        std::fs::symlink_metadata(d.path().join("etc/hosts-link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(&d, "etc/distcc/hosts"), b"a b c\n");
    plan::undo(&root, None).unwrap();
    assert_eq!(read(&d, "etc/distcc/hosts"), b"a b\n");
}

#[test]
fn removing_a_symlink_and_undoing_it() {
    let (d, root) = tree();
    std::os::unix::fs::symlink("/usr/bin/distcc", d.path().join("etc/cc")).unwrap();
    let mut p = Plan::new(root.clone());
    p.remove_symlink(Path::new("/etc/cc")).unwrap();
    assert_eq!(
        p.diff(),
        "--- a/etc/cc (symlink)\n+++ /dev/null\n--> /usr/bin/distcc\n"
    );
    p.apply().unwrap();
    assert!(std::fs::symlink_metadata(d.path().join("etc/cc")).is_err());
    plan::undo(&root, None).unwrap();
    assert_eq!(
        std::fs::read_link(d.path().join("etc/cc")).unwrap(),
        Path::new("/usr/bin/distcc")
    );
}

#[test]
fn a_directory_where_a_file_is_expected_is_an_error_naming_it() {
    let (d, root) = tree();
    let mut p = Plan::new(root);
    let e = p
        .write_file(Path::new("/etc/distcc"), b"x".to_vec())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}/etc/distcc: is a directory or special file, not a regular file",
            d.path().display()
        )
    );
}

#[test]
fn a_second_identical_run_writes_nothing() {
    let (d, root) = tree();
    let conf = d.path().join("etc/makepkg.conf");
    let new = b"A=1\nB=2\nC=4\n".to_vec();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/makepkg.conf"), new.clone())
        .unwrap();
    p.apply().unwrap();
    let before = std::fs::metadata(&conf).unwrap();
    let mut again = Plan::new(root);
    again
        .write_file(Path::new("/etc/makepkg.conf"), new)
        .unwrap();
    assert!(again.is_empty());
    let after = std::fs::metadata(&conf).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec(), before.mtime()),
        (after.ino(), after.mtime_nsec(), after.mtime())
    );
    let journals = std::fs::read_dir(d.path().join("var/lib/distsetup/journal"))
        .unwrap()
        .count();
    assert_eq!(journals, 1, "no second journal entry");
}

#[test]
fn a_ten_megabyte_file_with_binary_bytes_round_trips_through_apply_and_undo() {
    let (d, root) = tree();
    let big: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(d.path().join("etc/big.conf"), &big).unwrap();
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/big.conf"), b"small\n".to_vec())
        .unwrap();
    p.apply().unwrap();
    plan::undo(&root, None).unwrap();
    assert!(read(&d, "etc/big.conf") == big);
}

#[test]
fn a_read_only_file_is_refused_at_plan_time() {
    let (d, root) = tree();
    let conf = d.path().join("etc/makepkg.conf");
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut p = Plan::new(root);
    let e = p
        .write_file(Path::new("/etc/makepkg.conf"), b"x".to_vec())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: is read-only (no write permission); make it writable first if it should change",
            conf.display()
        )
    );
    assert!(matches!(e, Error::ReadOnly(_)));
}

#[test]
fn a_file_changed_between_reading_it_and_planning_its_new_content_is_refused() {
    let (d, root) = tree();
    let read = read(&d, "etc/makepkg.conf");
    // Another program appends while the caller computes the new content from `read`.
    std::fs::write(d.path().join("etc/makepkg.conf"), "A=1\nB=2\nC=3\nD=4\n").unwrap();
    let mut p = Plan::new(root);
    let e = p
        .write_file_from(
            Path::new("/etc/makepkg.conf"),
            &read,
            b"A=9\nB=2\nC=3\n".to_vec(),
        )
        .unwrap_err();
    assert!(matches!(e, Error::Changed(_)), "{e}");
    p.write_file_from(Path::new("/etc/new.conf"), b"", b"N=1\n".to_vec())
        .unwrap();
    assert_eq!(
        p.steps().len(),
        1,
        "a missing file read as empty is unchanged"
    );
}
