//! Where the volunteer's service runs from, and what it says about the machine it is on.

use crate::support::volunteer::{text, volunteer};
use crate::support::{Root, XTools, free_port};

/// The test binary is `target/debug/distsetup`: a unit must not run it.
#[test]
fn warns_loudly_when_the_binary_is_in_a_build_tree() {
    let t = Root::new().dir("root");
    let tc = XTools::aarch64().build_in(t.path());
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.join("root"))
        .toolchain(&tc)
        .port(free_port())
        .args(["--allow", "10.0.0.0/24", "--dry-run"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("WARNING: the unit will run"), "{err}");
    assert!(err.contains("Cargo build tree"), "{err}");
    assert!(
        err.contains("cargo install --locked --path . --root /usr/local"),
        "{err}"
    );
}

#[test]
fn exe_under_a_home_directory_or_build_tree_is_named_and_usr_bin_is_fine() {
    use distsetup::volunteer::{ExeWarning, exe_warning};
    use std::path::Path;
    let home = Root::new()
        .dir("clone/target/release")
        .file("clone/Cargo.toml", "");
    let built = home.join("clone/target/release/distsetup");
    assert_eq!(
        exe_warning(&built, None),
        Some(ExeWarning::BuildTree(built.clone()))
    );
    let bin = home.join(".cargo/bin/distsetup");
    assert_eq!(
        exe_warning(&bin, Some(home.path())),
        Some(ExeWarning::Home(bin.clone()))
    );
    assert_eq!(
        exe_warning(Path::new("/usr/bin/distsetup"), Some(home.path())),
        None
    );
    assert_eq!(
        exe_warning(Path::new("/usr/local/bin/distsetup"), None),
        None
    );
    // Issue 25 point 15: CARGO_TARGET_DIR anywhere, under any name: Cargo's tag tells.
    let elsewhere = Root::new().file(
        "build-out/CACHEDIR.TAG",
        "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n",
    );
    let built = elsewhere.join("build-out/debug/distsetup");
    assert_eq!(
        exe_warning(&built, None),
        Some(ExeWarning::BuildTree(built.clone()))
    );
}

/// Without --profile the distro comes from os-release, as doctor detects it.
#[test]
fn profile_is_detected_from_os_release() {
    for (id, expect) in [("debian", "profile debian"), ("gentoo", "profile gentoo")] {
        let t = Root::new().file("root/etc/os-release", format!("NAME=x\nID={id}\n"));
        let tc = XTools::aarch64().build_in(t.path());
        let o = volunteer()
            .root(t.join("root"))
            .toolchain(&tc)
            .port(free_port())
            .args(["--allow", "10.0.0.0/24", "--dry-run"])
            .run();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains(&format!("{expect} (detected from /etc/os-release")),
            "{out}"
        );
        if id == "gentoo" {
            assert!(
                out.contains("/etc/init.d/distsetup-serve-x-tools8"),
                "{out}"
            );
        }
    }
}

/// Under --root the toolchain is still looked for on this machine: said, with the places.
#[test]
fn toolchain_search_under_root_says_it_looks_at_this_machine() {
    let t = Root::new().dir("root").dir("home");
    let tc = XTools::aarch64().build_in(t.path());
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.join("root"))
        .toolchain(&tc)
        .port(free_port())
        .args(["--allow", "10.0.0.0/24", "--dry-run"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "toolchain names are looked up on this machine, not under {}",
            t.join("root").display()
        )),
        "{out}"
    );
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.join("root"))
        .env("HOME", t.join("home"))
        .args([
            "--toolchain",
            "x-tools7h",
            "--allow",
            "10.0.0.0/24",
            "--dry-run",
        ])
        .run();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("looked up on this machine, not under"),
        "{err}"
    );
    assert!(err.contains("/opt"), "{err}");
}
