//! Where the volunteer's service runs from, and what it says about the machine it is on.

use crate::support::volunteer::{text, volunteer};
use crate::support::{Root, XTools, free_port};

/// The test binary is `target/debug/distsetup`: a unit must not run it.
#[test]
fn warns_loudly_when_the_binary_is_in_a_build_tree() {
    let t = Root::new().dir("root");
    let tc = XTools::aarch64().build_in(t.path());
    let o = volunteer()
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
}
