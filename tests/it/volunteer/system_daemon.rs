//! `--server distccd` for this machine's own compiler (issue 25, point 2): the system
//! distccd is the one meant. Its configuration gets the allow list, the jobs, every
//! address and the switch that starts it; no second unit, no port collision with itself.

use std::path::Path;

use crate::support::volunteer::{distsetup, text, tree};
use crate::support::{Root, require};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/volunteer");
const NATIVE: &str = "x86_64-linux-gnu";

fn native_compiler() -> bool {
    let gcc = format!("/usr/bin/{NATIVE}-gcc");
    let native = std::process::Command::new("gcc")
        .arg("-dumpmachine")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == NATIVE);
    require(
        &format!("{gcc} as this machine's own compiler"),
        native && Path::new(&gcc).exists(),
    )
}

fn run(profile: &str, fixture: &str, config: &str, extra: &[&str]) -> (Root, std::process::Output) {
    let t = Root::new()
        .dir("root")
        .copy(&format!("root{config}"), Path::new(FIXTURES).join(fixture));
    let root = t.join("root");
    let mut args = vec![
        "volunteer",
        "--profile",
        profile,
        "--root",
        root.to_str().unwrap(),
        "--toolchain",
        NATIVE,
        "--server",
        "distccd",
        "--allow",
        "10.0.0.0/24",
        "--jobs",
        "4",
        "--yes",
    ];
    args.extend_from_slice(extra);
    let o = distsetup(&args);
    (t, o)
}

#[test]
fn debian_native_volunteer_configures_and_starts_the_system_distccd() {
    if !native_compiler() {
        return;
    }
    let (t, o) = run(
        "debian",
        "debian-default-distcc",
        "/etc/default/distcc",
        &["--enable"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conf = std::fs::read_to_string(t.join("root/etc/default/distcc")).unwrap();
    for line in [
        "STARTDISTCC=\"true\"",
        "ALLOWEDNETS=\"10.0.0.0/24\"",
        "LISTENER=\"0.0.0.0\"",
        "JOBS=\"4\"",
    ] {
        assert!(conf.lines().any(|l| l == line), "{line} missing:\n{conf}");
    }
    let files = tree(&t.join("root"));
    assert!(
        !files.iter().any(|f| f.contains("systemd")),
        "a second daemon was written: {files:?}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("the system distccd (distcc, port 3632) serves it"),
        "{out}"
    );
    assert!(
        out.contains("on the target system run: systemctl enable --now distcc.service"),
        "{out}"
    );
}

#[test]
fn gentoo_native_volunteer_gets_the_allow_list_in_the_system_distccd() {
    if !native_compiler() {
        return;
    }
    let (t, o) = run(
        "gentoo",
        "gentoo-conf.d-distccd",
        "/etc/conf.d/distccd",
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conf = std::fs::read_to_string(t.join("root/etc/conf.d/distccd")).unwrap();
    assert!(
        conf.contains("--allow 10.0.0.0/24") && !conf.contains("10.7.0.0/24"),
        "{conf}"
    );
    let files = tree(&t.join("root"));
    assert!(
        !files.iter().any(|f| f.starts_with("etc/init.d")),
        "a second daemon was written: {files:?}"
    );
}

#[test]
fn another_port_for_the_system_distccd_is_refused() {
    if !native_compiler() {
        return;
    }
    let (t, o) = run(
        "debian",
        "debian-default-distcc",
        "/etc/default/distcc",
        &["--port", "3640"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("served by the system distccd (distcc) on port 3632; drop --port"),
        "{}",
        text(&o)
    );
    let conf = std::fs::read(t.join("root/etc/default/distcc")).unwrap();
    assert_eq!(
        conf,
        std::fs::read(Path::new(FIXTURES).join("debian-default-distcc")).unwrap()
    );
}
