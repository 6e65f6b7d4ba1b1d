//! The transaction's guarantees at library level: metadata kept (mode, owner, xattrs)
//! in the file, its backup and its journal copy; hard links refused; symlinks resolved
//! like the kernel in a chroot; the lock; CRLF found where bash would keep the CR.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::Command;

use distsetup::plan::{self, Error, Plan, SysRoot};

use crate::faults::{first_difference, snapshot};
use crate::support::{is_root, on_path, require};

fn tree() -> (tempfile::TempDir, SysRoot) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/secret.conf"), "TOKEN=hunter2\n").unwrap();
    let root = SysRoot::new(dir.path()).unwrap();
    (dir, root)
}

fn setfattr(p: &Path, name: &str, value: &str) {
    assert!(
        Command::new("setfattr")
            .args(["-n", name, "-v", value])
            .arg(p)
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn a_0600_file_keeps_mode_owner_and_xattrs_in_the_file_its_backup_and_its_journal_copy() {
    if !require("root (chown)", is_root())
        || !require("setfattr", on_path("setfattr"))
        || !require("setfacl", on_path("setfacl"))
    {
        return;
    }
    let (d, root) = tree();
    let conf = d.path().join("etc/secret.conf");
    std::os::unix::fs::chown(&conf, Some(4321), Some(8765)).unwrap();
    std::fs::set_permissions(&conf, std::fs::Permissions::from_mode(0o600)).unwrap();
    setfattr(&conf, "user.origin", "ops");
    // An ACL is an xattr too.
    assert!(
        Command::new("setfacl")
            .args(["-m", "u:4242:r"])
            .arg(&conf)
            .status()
            .unwrap()
            .success()
    );
    let original = snapshot(d.path());
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/secret.conf"), b"TOKEN=changed\n".to_vec())
        .unwrap();
    let applied = p.apply().unwrap();
    let now = snapshot(d.path());
    let (file, bak) = (
        &now["etc/secret.conf"],
        &now["etc/secret.conf.distsetup-bak"],
    );
    let want = &original["etc/secret.conf"];
    assert_eq!(file.bytes, b"TOKEN=changed\n");
    for n in [file, bak] {
        assert_eq!((n.mode, n.owner), (want.mode, want.owner));
        assert_eq!(n.xattrs, want.xattrs);
    }
    assert!(want.xattrs.iter().any(|(k, _)| k == "user.origin"));
    assert_eq!(bak.bytes, b"TOKEN=hunter2\n");
    // The journal: 0700 directories; the copy has the original's mode and owner.
    let state = d.path().join("var/lib/distsetup");
    for dir in [
        state.clone(),
        state.join("journal"),
        applied.journal.clone(),
    ] {
        assert_eq!(
            std::fs::metadata(&dir).unwrap().mode() & 0o777,
            0o700,
            "{dir:?}"
        );
    }
    let copy = std::fs::metadata(applied.journal.join("0.before")).unwrap();
    // The original's mode: 0600, shown as 0640 once the ACL's mask (r) stands in the
    // group bits.
    assert_eq!(want.mode & 0o7777, 0o640);
    assert_eq!(
        (copy.mode() & 0o7777, copy.uid(), copy.gid()),
        (want.mode & 0o7777, 4321, 8765)
    );
    plan::undo(&root, None).unwrap();
    assert_eq!(first_difference(&original, &snapshot(d.path())), None);
}

#[test]
fn a_hard_linked_file_is_refused_rather_than_split() {
    let (d, root) = tree();
    std::fs::hard_link(
        d.path().join("etc/secret.conf"),
        d.path().join("etc/other-name"),
    )
    .unwrap();
    let mut p = Plan::new(root);
    let e = p
        .write_file(Path::new("/etc/secret.conf"), b"x\n".to_vec())
        .unwrap_err();
    assert!(matches!(e, Error::HardLinked { links: 2, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}/etc/secret.conf: has 2 hard links; distsetup replaces a file by renaming a new one over it, which would leave the other links with the old content, so nothing was written; make it a single file (or the others symlinks to it) and run again",
            d.path().display()
        )
    );
}

#[test]
fn relative_symlinks_with_dotdot_resolve_inside_the_root_like_a_chroot() {
    let (d, root) = tree();
    std::fs::create_dir_all(d.path().join("srv/dotfiles")).unwrap();
    std::fs::write(d.path().join("srv/dotfiles/makepkg.conf"), "A=1\n").unwrap();
    std::os::unix::fs::symlink(
        "../srv/dotfiles/makepkg.conf",
        d.path().join("etc/makepkg.conf"),
    )
    .unwrap();
    // An absolute link in a directory on the way is re-rooted too.
    std::os::unix::fs::symlink("/srv/dotfiles", d.path().join("etc/dots")).unwrap();
    assert_eq!(
        root.follow(Path::new("/etc/makepkg.conf")).unwrap(),
        Path::new("/srv/dotfiles/makepkg.conf")
    );
    assert_eq!(
        root.follow(Path::new("/etc/dots/makepkg.conf")).unwrap(),
        Path::new("/srv/dotfiles/makepkg.conf")
    );
    assert_eq!(
        root.read_file(Path::new("/etc/makepkg.conf")).unwrap(),
        Some(b"A=1\n".to_vec())
    );
    // A missing file behind a good directory link is just missing.
    assert_eq!(root.read_file(Path::new("/etc/dots/none")).unwrap(), None);
    let mut p = Plan::new(root.clone());
    p.write_file(Path::new("/etc/makepkg.conf"), b"A=2\n".to_vec())
        .unwrap();
    p.apply().unwrap();
    assert_eq!(
        std::fs::read(d.path().join("srv/dotfiles/makepkg.conf")).unwrap(),
        b"A=2\n"
    );
    assert!(d.path().join("etc/makepkg.conf").is_symlink());
}

#[test]
fn a_link_that_escapes_the_root_or_dangles_gets_its_own_message() {
    let (d, root) = tree();
    std::os::unix::fs::symlink("../../../../../etc/passwd", d.path().join("etc/escape")).unwrap();
    std::os::unix::fs::symlink("../srv/gone.conf", d.path().join("etc/dangling")).unwrap();
    let e = root.read_file(Path::new("/etc/escape")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{0}/etc/escape is a symlink to ../../../../../etc/passwd, which points outside {0}; under --root a link must stay inside the root",
            d.path().display()
        )
    );
    let e = root.read_file(Path::new("/etc/dangling")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{0}/etc/dangling is a symlink to ../srv/gone.conf, which does not exist under {0}; fix or remove the link",
            d.path().display()
        )
    );
    let mut p = Plan::new(root);
    assert!(matches!(
        p.write_file(Path::new("/etc/dangling"), b"x".to_vec()),
        Err(Error::DanglingLink { .. })
    ));
}

#[test]
fn crlf_is_found_on_the_line_bash_would_misread() {
    assert_eq!(plan::crlf_line(b"A=1\nB=(x y)\r\nC=3\n"), Some(2));
    assert_eq!(plan::crlf_line(b"A=1\nB=2\n"), None);
    assert_eq!(plan::crlf_line(b"A=\"x\ry\"\n"), None, "a lone CR is data");
}

#[test]
fn the_lock_is_exclusive_and_says_who_holds_it() {
    let (d, root) = tree();
    let held = plan::Lock::acquire(&root, plan::LOCK_WAIT).unwrap();
    let e = plan::Lock::acquire(&root, std::time::Duration::from_millis(50)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "another distsetup is changing this system (pid {}, command ",
            std::process::id()
        )),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("{}/var/lib/distsetup/lock", d.path().display())),
        "{msg}"
    );
    drop(held);
    plan::Lock::acquire(&root, std::time::Duration::from_millis(50)).unwrap();
}
