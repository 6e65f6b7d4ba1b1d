//! `--toolchain` mistakes (issue 25, point 8): the compiler itself is taken as its
//! toolchain; an unknown name says which names exist and what this machine has; not
//! found is a usage error (exit 2).

use crate::support::volunteer::{distsetup, text};
use crate::support::{Root, XTools, free_port};

fn volunteer(t: &Root, toolchain: &str) -> std::process::Output {
    let root = t.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let port = free_port().to_string();
    distsetup(&[
        "volunteer",
        "--profile",
        "archarm",
        "--root",
        root.to_str().unwrap(),
        "--toolchain",
        toolchain,
        "--allow",
        "10.0.0.0/24",
        "--port",
        &port,
        "--dry-run",
    ])
}

#[test]
fn the_compiler_itself_is_taken_as_its_toolchain() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let gcc = tc.join("aarch64-unknown-linux-gnu/bin/aarch64-unknown-linux-gnu-gcc");
    let o = volunteer(&t, gcc.to_str().unwrap());
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "toolchain: aarch64-unknown-linux-gnu in {}",
            gcc.parent().unwrap().display()
        )),
        "{out}"
    );
}

#[test]
fn an_unknown_name_lists_the_known_names_and_what_is_here_and_exits_2() {
    let t = Root::new();
    let o = volunteer(&t, "x-tools9");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("toolchain `x-tools9` not found; looked in:\n")
            && err.contains("\n  /opt/x-tools9\n"),
        "{err}"
    );
    assert!(
        err.contains("names the profiles know: x-tools, x-tools6h, x-tools7h, x-tools8, x-tools86"),
        "{err}"
    );
    if std::path::Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists() {
        assert!(
            err.contains("found on this machine: ") && err.contains("aarch64-linux-gnu (/usr/bin)"),
            "{err}"
        );
    }
}
