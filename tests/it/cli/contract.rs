//! What `--help`, `--profile list` and the completions promise agrees with what the
//! commands accept.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// void has no build tool configuration: it is not offered as a master anywhere.
#[test]
fn void_is_not_offered_as_a_master() {
    let (code, out, _) = run(&["master", "--profile", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.lines().any(|l| l.starts_with("gentoo ")), "{out}");
    assert!(!out.contains("void"), "{out}");
    let (_, bash, _) = run(&["completions", "bash"]);
    let master = bash
        .lines()
        .skip_while(|l| !l.contains("distsetup__subcmd__master)"))
        .take_while(|l| !l.trim().starts_with(";;") || !l.contains("return 0"))
        .find(|l| l.contains("compgen -W \"arch "))
        .unwrap_or_else(|| panic!("no profile list in master's completion:\n{bash}"))
        .to_owned();
    assert!(!master.contains("void"), "{master}");
    assert!(
        master.contains("gentoo") && master.contains("list"),
        "{master}"
    );
    // volunteer still knows void.
    let volunteer = bash
        .lines()
        .skip_while(|l| !l.contains("distsetup__subcmd__volunteer)"))
        .find(|l| l.contains("compgen -W \"arch "))
        .unwrap()
        .to_owned();
    assert!(volunteer.contains("void"), "{volunteer}");
}

#[test]
fn master_help_shows_that_a_profile_is_required() {
    let (code, out, _) = run(&["master", "--help"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains(
            "Usage: distsetup master [OPTIONS] <--profile <NAME|list>|--profile-file <PATH>>"
        ),
        "{out}"
    );
    let (code, _, err) = run(&["master"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("<--profile <NAME|list>|--profile-file <PATH>>"),
        "{err}"
    );
}

#[test]
fn master_jobs_is_bounded() {
    let (code, _, err) = run(&[
        "master",
        "--profile",
        "arch",
        "--jobs",
        "9999999999",
        "--dry-run",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("a number from 1 to 1024"), "{err}");
}

/// Permission denied as a non-root user: the OS error once, no temporary file's name,
/// and the hint to use sudo.
#[test]
fn permission_errors_are_said_once_without_temp_names_and_suggest_sudo() {
    use crate::support::{Root, is_root, on_path, require};
    use std::os::unix::fs::PermissionsExt as _;
    if is_root() && !require("setpriv (to run as nobody)", on_path("setpriv")) {
        return;
    }
    let t = Root::new().file(
        "etc/makepkg.conf",
        "BUILDENV=(!distcc color !ccache check !sign)\n",
    );
    // The journal can be written; the directory of makepkg.conf cannot.
    std::fs::create_dir_all(t.join("var/lib/distsetup")).unwrap();
    std::fs::set_permissions(t.join("var"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(t.join("var/lib"), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(
        t.join("var/lib/distsetup"),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    std::fs::set_permissions(t.join("etc"), std::fs::Permissions::from_mode(0o555)).unwrap();
    if is_root() {
        // The state directory is the running user's own, as after a first run by that
        // user (distsetup keeps it 0700 and would not be allowed to tighten root's).
        std::os::unix::fs::chown(t.join("var/lib/distsetup"), Some(65534), Some(65534)).unwrap();
    }
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            BIN,
        ]);
        c
    } else {
        Command::new(BIN)
    };
    let o = c
        .args([
            "master",
            "--profile",
            "arch",
            "--hosts",
            "10.0.0.1/4",
            "--jobs",
            "3",
            "--yes",
            "--root",
        ])
        .arg(t.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(
        err.matches("Permission denied (os error 13)").count(),
        1,
        "{err}"
    );
    assert!(
        !err.contains("/.distsetup-") && !err.contains("at path"),
        "{err}"
    );
    assert!(err.contains("with sudo"), "{err}");
    assert!(err.contains("/etc/makepkg.conf"), "{err}");
}
