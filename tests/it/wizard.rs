//! The wizard: scripted answers through the library (same changes as the commands, a
//! "no" changes nothing, bad hosts are re-asked with the error's column), and full runs
//! in a real pseudo-terminal (tests/fixtures/wizard/drive.py), including Ctrl-C.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Root, free_port};
use distsetup::plan::Outcome;
use distsetup::prompt::{Answer, Ask as _, Script};
use distsetup::wizard::Setup;

const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wizard")
        .join(name)
}

/// Every file and link under `root` (journal and backups excluded), with its content.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if rel.starts_with("var/lib/distsetup") || rel.ends_with(".distsetup-bak") {
                continue;
            }
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    format!("-> {}", std::fs::read_link(&p).unwrap().display()),
                );
            } else if meta.is_dir() {
                out.insert(rel.clone(), "<dir>".into());
                todo.push(p);
            } else {
                out.insert(
                    rel,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned(),
                );
            }
        }
    }
    out
}

fn arch_arm_root() -> Root {
    Root::new()
        .copy("etc/os-release", fixture("os-release.archarm"))
        .copy("etc/makepkg.conf", fixture("makepkg.conf"))
}

fn debian_root() -> Root {
    Root::new().copy("etc/os-release", fixture("os-release.debian"))
}

/// What a scripted wizard run ended with.
struct Done {
    outcome: Outcome,
    command: String,
}

/// Run the wizard's questions, then do what the command layer does with the answers:
/// plan, show, ask "Apply these changes?" (the script's last answer), apply.
fn run_script(
    root: &Path,
    answers: Vec<Answer>,
) -> (Result<Done, distsetup::wizard::Error>, Script, String) {
    let sys = distsetup::plan::SysRoot::new(root).unwrap();
    let mut script = Script::new(answers);
    let answers = match distsetup::wizard::run(&sys, Some(root), None, &mut script) {
        Ok(a) => a,
        Err(e) => {
            let said = script.said.join("\n");
            return (Err(e), script, said);
        }
    };
    let plan = match &answers.setup {
        Setup::Master { settings, facts } => distsetup::master::plan(settings, facts)
            .map(|r| r.plan)
            .map_err(distsetup::wizard::Error::from),
        Setup::Volunteer { settings, facts } => distsetup::volunteer::plan(settings, facts)
            .map(|r| r.plan)
            .map_err(distsetup::wizard::Error::from),
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            let said = script.said.join("\n");
            return (Err(e), script, said);
        }
    };
    let outcome = if script.confirm("Apply these changes?", false).unwrap() {
        plan.apply().unwrap();
        Outcome::Applied(std::path::PathBuf::new())
    } else {
        Outcome::Declined
    };
    let text = format!("{}\n{}", script.said.join("\n"), plan.diff());
    let done = Done {
        outcome,
        command: answers.command,
    };
    (Ok(done), script, text)
}

/// Run the printed command line (without a shell: the words are simple here).
fn run_command(line: &str, root: &Path, other: &Path) {
    let line = line.replace(&root.display().to_string(), &other.display().to_string());
    let words: Vec<String> = line
        .split_whitespace()
        .map(|w| w.trim_matches('\'').to_string())
        .collect();
    assert_eq!(words[0], "distsetup");
    let o = Command::new(BIN).args(&words[1..]).output().unwrap();
    assert!(
        o.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn master_flow_makes_the_same_changes_as_the_command_it_prints() {
    let t = arch_arm_root();
    let (r, script, text) = run_script(
        t.path(),
        vec![
            Answer::Default,                       // role: master
            Answer::Default,                       // profile: detected archarm
            Answer::Text("10.0.0.1:99999".into()), // refused: the port
            Answer::Text("10.0.0.1:3636/8,lzo".into()),
            Answer::Yes(false), // no probe
            Answer::Text("5".into()),
            Answer::Yes(true), // apply
        ],
    );
    let done = r.unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(matches!(done.outcome, Outcome::Applied(_)), "{text}");
    assert!(text.contains("profile archarm"), "{text}");
    assert!(text.contains("+BUILDENV=(distcc color"), "{text}");
    assert_eq!(script.refused.len(), 1);
    assert!(
        script.refused[0].contains("column 10"),
        "{:?}",
        script.refused
    );
    assert_eq!(
        done.command,
        format!(
            "distsetup master --profile archarm --hosts 10.0.0.1:3636/8,lzo --jobs 5 --root {} --yes",
            t.path().display()
        )
    );
    let other = arch_arm_root();
    run_command(&done.command, t.path(), other.path());
    assert_eq!(snapshot(t.path()), snapshot(other.path()));
    let conf = std::fs::read_to_string(t.path().join("etc/makepkg.conf")).unwrap();
    assert!(
        conf.contains("MAKEFLAGS=\"-j5\"") && conf.contains("DISTCC_HOSTS=\"10.0.0.1:3636/8,lzo\""),
        "{conf}"
    );
}

#[test]
fn saying_no_changes_nothing() {
    let t = arch_arm_root();
    let before = snapshot(t.path());
    let (r, _, text) = run_script(
        t.path(),
        vec![
            Answer::Default,
            Answer::Default,
            Answer::Text("10.0.0.1/4".into()),
            Answer::Yes(false),
            Answer::Default,
            Answer::Yes(false), // do not apply
        ],
    );
    let done = r.unwrap();
    assert_eq!(done.outcome, Outcome::Declined, "{text}");
    assert_eq!(snapshot(t.path()), before);
    assert!(!t.path().join("var").exists());
}

/// Replace this test binary's path (the unit's ExecStart) with the CLI's.
fn normalise(mut snap: BTreeMap<String, String>) -> BTreeMap<String, String> {
    let me = std::env::current_exe().unwrap().display().to_string();
    for v in snap.values_mut() {
        *v = v.replace(&me, BIN);
    }
    snap
}

#[test]
fn volunteer_flow_with_debians_cross_compiler_equals_the_command() {
    if !crate::support::require(
        "/usr/bin/aarch64-linux-gnu-gcc",
        Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists(),
    ) {
        return;
    }
    let t = debian_root();
    let port = free_port().to_string();
    let (r, script, text) = run_script(
        t.path(),
        vec![
            Answer::Pick("volunteer".into()),
            Answer::Default, // debian, detected
            Answer::Pick("aarch64-linux-gnu (".into()),
            Answer::Pick("aarch64-unknown-linux-gnu".into()),
            Answer::Yes(true), // the alias
            Answer::Text("127.0.0.1/32".into()),
            Answer::Text(port.clone()),
            Answer::Default,    // embedded
            Answer::Default,    // no zeroconf
            Answer::Yes(false), // do not enable the service
            Answer::Yes(true),
        ],
    );
    let done = r.unwrap_or_else(|e| panic!("{e}: {text}\n{:?}", script.prompts));
    assert!(matches!(done.outcome, Outcome::Applied(_)), "{text}");
    assert!(
        text.contains("proposed alias: aarch64-unknown-linux-gnu → aarch64-linux-gnu"),
        "{text}"
    );
    assert_eq!(
        done.command,
        format!(
            "distsetup volunteer --profile debian --toolchain aarch64-linux-gnu --alias aarch64-unknown-linux-gnu=aarch64-linux-gnu --allow 127.0.0.1/32 --port {port} --root {} --yes",
            t.path().display()
        )
    );
    let other = debian_root();
    run_command(&done.command, t.path(), other.path());
    assert_eq!(
        normalise(snapshot(t.path())),
        normalise(snapshot(other.path()))
    );
    assert!(
        t.path()
            .join("usr/lib/distsetup/aarch64-linux-gnu/bin/aarch64-unknown-linux-gnu-gcc")
            .exists()
    );
}

fn drive(steps: &str, root: &Path) -> (i32, String) {
    let root = root.display().to_string();
    drive_command(steps, &["wizard", "--root", &root])
}

/// Run `distsetup ARGS` in a pseudo-terminal through `steps`: (status, transcript).
fn drive_command(steps: &str, args: &[&str]) -> (i32, String) {
    let o = Command::new("timeout")
        .arg("180")
        .arg("python3")
        .arg(fixture("drive.py"))
        .arg(steps)
        .arg(BIN)
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn pty_master_run() {
    let t = arch_arm_root();
    let steps = r#"[["Role of this machine", "\r"], ["Distro profile", "\r"],
        ["Volunteers", "10.0.0.1:99999\r"],
        ["column 10", "\u007f\u007f\u007f\u007f\u007f3636/8,lzo\r"], ["Check now", "n"],
        ["make -j", "\r"], ["Apply these changes", "y"]]"#;
    let (code, out) = drive(steps, t.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("+BUILDENV=(distcc color !ccache check !sign)"),
        "{out}"
    );
    assert!(out.contains("; `distsetup undo --root "), "{out}");
    assert!(
        out.contains(
            "distsetup master --profile archarm --hosts 10.0.0.1:3636/8,lzo --jobs auto --root"
        ),
        "{out}"
    );
    let conf = std::fs::read_to_string(t.path().join("etc/makepkg.conf")).unwrap();
    assert!(
        conf.contains("BUILDENV=(distcc color")
            && conf.contains("DISTCC_HOSTS=\"10.0.0.1:3636/8,lzo\""),
        "{conf}"
    );
}

#[test]
fn pty_volunteer_run() {
    if !crate::support::require(
        "/usr/bin/aarch64-linux-gnu-gcc",
        Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists(),
    ) {
        return;
    }
    let t = debian_root();
    let port = free_port();
    // Down arrow to "volunteer"; the toolchain list starts with the system's cross
    // compilers in name order (aarch64-linux-gnu first).
    let steps = format!(
        r#"[["Role of this machine", "\u001b[B\r"], ["Distro profile", "\r"],
        ["Toolchain to serve with", "\r"], ["Which master triple", "\r"],
        ["Answer .* with", "y"], ["Masters allowed", "\u0015127.0.0.1/32\r"],
        ["Port", "\u0015{port}\r"], ["Compile server", "\r"], ["Advertise with zeroconf", "n"],
        ["Enable and start", "n"], ["Apply these changes", "y"]]"#
    );
    let (code, out) = drive(&steps, t.path());
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("distsetup-serve-aarch64-linux-gnu.service"),
        "{out}"
    );
    // Issue 25 point 13: where toolchains are looked for is said once, not twice.
    assert_eq!(
        out.matches("toolchain names are looked up on this machine")
            .count(),
        1,
        "{out}"
    );
    assert!(
        out.contains("toolchains found on this machine (not under the root): "),
        "{out}"
    );
    assert!(
        out.contains(&format!("--allow 127.0.0.1/32 --port {port} --root")),
        "{out}"
    );
    let unit = std::fs::read_to_string(
        t.path()
            .join("etc/systemd/system/distsetup-serve-aarch64-linux-gnu.service"),
    )
    .unwrap();
    assert!(
        unit.contains(&format!("--port {port}")) && unit.contains("--allow 127.0.0.1/32"),
        "{unit}"
    );
}

#[test]
fn pty_ctrl_c_changes_nothing() {
    let t = arch_arm_root();
    let before = snapshot(t.path());
    let steps = r#"[["Role of this machine", "\r"], ["Distro profile", "\r"],
        ["Volunteers", "10.0.0.1/4\r"], ["Check now", "\u0003"]]"#;
    let (code, out) = drive(steps, t.path());
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("distsetup: interrupted: nothing was changed"),
        "{out}"
    );
    assert_eq!(snapshot(t.path()), before, "{out}");
}

#[test]
fn no_terminal_is_refused_with_the_commands_to_use() {
    let t = arch_arm_root();
    let o = Command::new(BIN)
        .args(["wizard", "--root"])
        .arg(t.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("distsetup master"));
}

fn drive_raw(steps: &str, root: &Path) -> (i32, String, Vec<u8>) {
    let raw = tempfile::NamedTempFile::new().unwrap();
    let o = Command::new("timeout")
        .arg("180")
        .arg("python3")
        .arg(fixture("drive.py"))
        .arg(steps)
        .args([BIN, "wizard", "--root"])
        .arg(root)
        .env("DRIVE_RAW", raw.path())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        std::fs::read(raw.path()).unwrap(),
    )
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Ctrl-C in a menu (dialoguer hides the cursor there) leaves the cursor shown; the
/// master's profile menu offers only profiles that can configure a master.
#[test]
fn pty_ctrl_c_in_a_menu_restores_the_cursor_and_master_menu_has_no_void() {
    let t = arch_arm_root();
    let before = snapshot(t.path());
    let steps = r#"[["Role of this machine", "\r"], ["gentoo —", "\u0003"]]"#;
    let (code, out, raw) = drive_raw(steps, t.path());
    assert_ne!(code, 0, "{out}");
    assert_eq!(snapshot(t.path()), before, "{out}");
    let hidden = rfind(&raw, b"\x1b[?25l").expect("the menu hides the cursor");
    let shown = rfind(&raw, b"\x1b[?25h");
    assert!(
        shown.is_some_and(|s| s > hidden),
        "cursor still hidden at exit: {:?}",
        String::from_utf8_lossy(&raw)
    );
    let menu = &out[out.find("Distro profile").unwrap()..];
    assert!(menu.contains("archarm —"), "{out}");
    assert!(!menu.contains("void"), "void offered as a master:\n{out}");
}

/// `0.0.0.0/0` is asked about at once (no flag the wizard does not offer), the profile
/// menu describes what a volunteer gets, and enabling the service is offered.
#[test]
fn pty_volunteer_allow_anyone_is_asked_and_enable_is_offered() {
    if !crate::support::require(
        "/usr/bin/aarch64-linux-gnu-gcc",
        Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists(),
    ) {
        return;
    }
    let t = debian_root();
    let port = free_port();
    let steps = format!(
        r#"[["Role of this machine", "\u001b[B\r"], ["Distro profile", "\r"],
        ["Toolchain to serve with", "\r"], ["Which master triple", "\r"],
        ["Answer .* with", "y"], ["Masters allowed", "\u00150.0.0.0/0\r"],
        ["0.0.0.0/0 lets anyone .* Allow anyone", "n"],
        ["Masters allowed", "\u00150.0.0.0/0\r"], ["Allow anyone", "y"],
        ["Port", "\u0015{port}\r"], ["Compile server", "\r"], ["Advertise with zeroconf", "n"],
        ["Enable and start the service once written \\(systemctl enable --now\\)", "y"],
        ["Apply these changes", "y"]]"#
    );
    let (code, out) = drive(&steps, t.path());
    assert_eq!(code, 0, "{out}");
    let menu = &out[out.find("Distro profile").unwrap()..out.find("Toolchain to serve").unwrap()];
    assert!(
        menu.contains("debian — volunteer: systemd services"),
        "{menu}"
    );
    assert!(!menu.contains("Debian master"), "{menu}");
    assert!(
        out.contains("--allow 0.0.0.0/0 --allow-anyone --enable --port"),
        "{out}"
    );
    assert!(
        out.contains("on the target system run: systemctl enable --now distsetup-serve-aarch64-linux-gnu.service"),
        "{out}"
    );
    let unit = std::fs::read_to_string(
        t.path()
            .join("etc/systemd/system/distsetup-serve-aarch64-linux-gnu.service"),
    )
    .unwrap();
    assert!(unit.contains("--allow 0.0.0.0/0"), "{unit}");
}

/// Issue 25 point 7: Ctrl-C at `master`'s own "Apply these changes?" ends as the wizard's
/// does and as the man page says: exit 4, said in words, cursor shown, nothing written.
#[test]
fn pty_ctrl_c_at_the_masters_prompt_exits_4_and_says_so() {
    let t = arch_arm_root();
    let before = snapshot(t.path());
    let root = t.path().display().to_string();
    let raw = tempfile::NamedTempFile::new().unwrap();
    let o = Command::new("timeout")
        .arg("180")
        .arg("python3")
        .arg(fixture("drive.py"))
        .arg(r#"[["Apply these changes", "\u0003"]]"#)
        .args([
            BIN,
            "master",
            "--profile",
            "archarm",
            "--hosts",
            "10.0.0.1/4",
        ])
        .args(["--jobs", "3", "--root", &root])
        .env("DRIVE_RAW", raw.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(
        out.contains("distsetup: interrupted: nothing was changed"),
        "{out}"
    );
    assert_eq!(snapshot(t.path()), before, "{out}");
    let raw = std::fs::read(raw.path()).unwrap();
    if let Some(hidden) = rfind(&raw, b"\x1b[?25l") {
        assert!(
            rfind(&raw, b"\x1b[?25h").is_some_and(|s| s > hidden),
            "{out}"
        );
    }
}

/// Issue 25 point 6: an empty answer says why it is refused; after a syntax error the
/// text typed is offered again for editing (five backspaces fix the port).
#[test]
fn pty_host_prompt_explains_an_empty_answer_and_keeps_the_text() {
    let t = arch_arm_root();
    let steps = r#"[["Role of this machine", "\r"], ["Distro profile", "\r"],
        ["Volunteers", "\r"], ["name at least one host", "10.0.0.1:99999\r"],
        ["column 10", "\u007f\u007f\u007f\u007f\u007f3636/8\r"], ["Check now", "n"],
        ["make -j", "\r"], ["Apply these changes", "n"]]"#;
    let (code, out) = drive(steps, t.path());
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("distsetup master --profile archarm --hosts 10.0.0.1:3636/8 --jobs auto"),
        "{out}"
    );
}

/// Issue 25 point 6: a host that fails its check is written only when the user says so;
/// "no" offers the list again.
#[test]
fn a_host_that_fails_its_check_is_asked_about_and_can_be_corrected() {
    let t = arch_arm_root();
    let dead = format!("127.0.0.1:{}/4", free_port());
    let (r, script, text) = run_script(
        t.path(),
        vec![
            Answer::Default,
            Answer::Default,
            Answer::Text(dead.clone()),
            Answer::Yes(true),  // check: refused
            Answer::Yes(false), // not written anyway
            Answer::Text("10.0.0.1/4".into()),
            Answer::Yes(false), // no check
            Answer::Default,
            Answer::Yes(true),
        ],
    );
    let done = r.unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        script
            .prompts
            .iter()
            .any(|p| p == "1 host did not answer. Write the list anyway?"),
        "{:?}",
        script.prompts
    );
    assert!(text.contains("Connection refused"), "{text}");
    assert!(
        done.command.contains("--hosts 10.0.0.1/4 "),
        "{}",
        done.command
    );
    assert!(!done.command.contains(&dead), "{}", done.command);
}
