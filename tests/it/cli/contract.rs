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
