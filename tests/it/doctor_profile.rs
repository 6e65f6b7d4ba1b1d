//! Which distro a root is (issue 25, point 5): without /etc/os-release, `doctor`,
//! `volunteer` and the wizard read it from the files only one family of distros has, and
//! say so; when nothing tells, they ask for --profile instead of checking the files of
//! this machine's distro.

use std::path::Path;

use crate::support::volunteer::text;
use crate::support::{Cmd, Root, free_port};

const WIZARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wizard");

/// `master --profile archarm --root` wrote its drop-in; then `doctor --root` alone reads
/// makepkg as Arch Linux ARM does (CARCH tells), so BUILDENV is found where it was put.
#[test]
fn doctor_without_os_release_detects_arch_arm_from_makepkg_conf() {
    let t = Root::new()
        .copy("etc/makepkg.conf", Path::new(WIZARD).join("makepkg.conf"))
        .dir("etc/makepkg.conf.d");
    let hosts = format!("127.0.0.1:{}/4", free_port());
    let o = Cmd::new("master")
        .root(t.path())
        .args([
            "--profile",
            "archarm",
            "--hosts",
            &hosts,
            "--jobs",
            "3",
            "--yes",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = Cmd::new("doctor")
        .root(t.path())
        .args(["--connect-timeout", "1"])
        .run();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with(
            "distsetup doctor: master (profile archarm, detected from CARCH=\"aarch64\" in \
             /etc/makepkg.conf (no /etc/os-release); --profile NAME to choose)\n"
        ),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("[ok]")
            && l.contains("BUILDENV in /etc/makepkg.conf.d/distcc.conf: BUILDENV has distcc")),
        "{out}"
    );
}

#[test]
fn gentoo_and_debian_roots_are_told_by_their_own_files() {
    for (file, profile) in [
        ("etc/portage/make.conf", "gentoo"),
        ("etc/debian_version", "debian"),
    ] {
        let t = Root::new().file(file, "\n");
        let o = Cmd::new("doctor")
            .root(t.path())
            .args(["--volunteer"])
            .run();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.starts_with(&format!(
                "distsetup doctor: volunteer (profile {profile}, detected from /{file} (no /etc/os-release)"
            )),
            "{out}"
        );
    }
}

/// Nothing tells: refused (exit 2), asking for --profile, by doctor and volunteer alike.
#[test]
fn a_root_nothing_identifies_asks_for_profile() {
    let t = Root::new().dir("etc");
    let port = free_port().to_string();
    for args in [
        vec!["doctor", "--volunteer"],
        vec![
            "volunteer",
            "--toolchain",
            "aarch64-linux-gnu",
            "--allow",
            "10.0.0.0/24",
            "--port",
            &port,
            "--dry-run",
        ],
    ] {
        let o = Cmd::new(args[0]).args(&args[1..]).root(t.path()).run();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(&format!(
                "cannot tell which distro is under {}: no /etc/os-release",
                t.path().display()
            )) && String::from_utf8_lossy(&o.stderr).contains("pass --profile NAME"),
            "{args:?}: {}",
            text(&o)
        );
    }
}
