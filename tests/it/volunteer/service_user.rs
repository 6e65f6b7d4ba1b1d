//! A toolchain the service's user cannot run (issue 25, point 1): unpacked in a 0700
//! home, it passes every check made as root, then every compile fails with "Permission
//! denied". `volunteer` refuses with the fix, `doctor --volunteer` reports it broken, and
//! `serve` started as root says so once at start — each checked as the real service user
//! against a real toolchain directory made 0700, and again after the fix.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::support::server::Server;
use crate::support::volunteer::{distsetup, text};
use crate::support::{Root, XTools, free_port, is_root, skip_or_fail};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `t/home/alice` (mode 0700, owned by a uid that is not the service's) holding an
/// x-tools8 tree made of Debian's aarch64 compilers; gives (home, tree).
fn toolchain_in_a_closed_home(t: &Root) -> Option<(PathBuf, PathBuf)> {
    if !is_root() {
        skip_or_fail("needs root: the check runs the compiler as the service user");
        return None;
    }
    let home = t.join("home/alice");
    std::fs::create_dir_all(&home).unwrap();
    let tc = XTools::aarch64().build_in(&home);
    std::os::unix::fs::chown(&home, Some(4242), Some(4242)).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    Some((home, tc))
}

fn open_up(home: &Path) {
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o711)).unwrap();
}

fn dry_run(tc: &Path, extra: &[&str]) -> std::process::Output {
    let port = free_port().to_string();
    let mut args = vec![
        "volunteer",
        "--toolchain",
        s(tc),
        "--allow",
        "10.0.0.0/24",
        "--port",
        &port,
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    distsetup(&args)
}

#[test]
fn volunteer_refuses_a_toolchain_its_service_user_cannot_run_and_names_the_fix() {
    let t = Root::new();
    let Some((home, tc)) = toolchain_in_a_closed_home(&t) else {
        return;
    };
    for (extra, who) in [
        (
            &[][..],
            "the service user (nobody, standing in for the service's DynamicUser) cannot run",
        ),
        (
            &["--server", "distccd"][..],
            "the service user (distccd, the user distccd-armv8 runs as) cannot run",
        ),
    ] {
        let o = dry_run(&tc, extra);
        assert_eq!(o.status.code(), Some(3), "{extra:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        for part in [
            who,
            &format!("{} is mode 0700, closed to that user", home.display()),
            &format!("sudo mv {} /opt/", tc.display()),
            &format!("sudo chmod o+x {}", home.display()),
            "Permission denied",
        ] {
            assert!(err.contains(part), "{extra:?}: {part:?} missing in\n{err}");
        }
    }
    open_up(&home);
    let o = dry_run(&tc, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn doctor_reports_the_service_user_cannot_run_the_toolchain() {
    let t = Root::new().dir("root");
    let Some((home, tc)) = toolchain_in_a_closed_home(&t) else {
        return;
    };
    let root = t.join("root");
    let port = free_port().to_string();
    let o = distsetup(&[
        "volunteer",
        "--profile",
        "debian",
        "--root",
        s(&root),
        "--toolchain",
        s(&tc),
        "--allow",
        "10.0.0.0/24",
        "--port",
        &port,
        "--yes",
    ]);
    // Under --root the service runs elsewhere: a warning, and the files are written.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cannot run"),
        "{}",
        text(&o)
    );
    let doctor = |home_open: bool| {
        if home_open {
            open_up(&home);
        }
        distsetup(&[
            "doctor",
            "--volunteer",
            "--profile",
            "debian",
            "--root",
            s(&root),
        ])
    };
    let o = doctor(false);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        out.lines().any(|l| l.contains("service-user")
            && l.contains("cannot run its gcc")
            && l.contains("mode 0700")),
        "{out}"
    );
    assert!(
        out.contains(&format!("sudo chmod o+x {}", home.display())),
        "{out}"
    );
    let o = doctor(true);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.contains("service-user") && l.contains("nobody can run its gcc")),
        "{out}"
    );
}

#[test]
fn serve_started_as_root_says_once_which_compilers_its_user_cannot_run() {
    let t = Root::new();
    let Some((home, tc)) = toolchain_in_a_closed_home(&t) else {
        return;
    };
    let bin = tc.join("aarch64-unknown-linux-gnu/bin");
    let start = || Server::start(&["--toolchain", s(&bin), "--user", "nobody"]);
    let mut closed = start();
    let log = closed.log_text();
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("user nobody cannot run"))
        .collect();
    assert_eq!(said.len(), 1, "{log}");
    assert!(
        said[0].contains(&format!(
            "{}/aarch64-unknown-linux-gnu-gcc (Permission denied",
            bin.display()
        )) && said[0].contains("move the toolchain to /opt"),
        "{log}"
    );
    closed.stop();
    open_up(&home);
    let mut open = start();
    let log = open.log_text();
    assert!(!log.contains("cannot run"), "{log}");
    open.stop();
}
