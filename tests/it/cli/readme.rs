//! The README's own commands, taken from the README of a clean clone and run in scratch
//! places: install with Cargo into a scratch prefix, the main job with `--root`, undo;
//! the completion install lines with a scratch HOME; the Gentoo volunteer example.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Root, XTools, free_port, on_path, require, wait_listening};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The command lines of the first ```sh block after `marker` (continuations joined,
/// comments dropped, one command per `&&`).
fn sh_block_after(readme: &str, marker: &str) -> Vec<String> {
    let at = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README has no {marker:?}"));
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let block = &rest[start..start + rest[start..].find("```").expect("closing ```")];
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| l.split(" # ").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .flat_map(|l| l.split(" && ").map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn run_ok(c: &mut Command) -> String {
    let o = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{c:?} failed ({}):\n{text}", o.status);
    text
}

#[test]
fn readme_install_main_job_and_undo_from_a_clean_clone() {
    for tool in ["git", "cargo", "aarch64-linux-gnu-gcc"] {
        if !require(tool, on_path(tool)) {
            return;
        }
    }
    let tmp = Root::new();
    let clone = tmp.join("clone");
    run_ok(
        Command::new("git")
            .arg("clone")
            .arg("-q")
            .arg(repo())
            .arg(&clone),
    );
    let readme = std::fs::read_to_string(clone.join("README.md")).unwrap();
    let lines = sh_block_after(&readme, "2. **Install it, then run the main job**");
    assert_eq!(lines.len(), 4, "{lines:?}");
    // scripts/install-deps installs with apt-get what the tests need; the suite's
    // machine already has it (the test needs the cross compiler, checked above).
    assert_eq!(lines[0], "scripts/install-deps");

    // Install, into a scratch prefix instead of /usr/local (build settings for speed only).
    let prefix = tmp.join("prefix");
    let install = words(&lines[1].replace("/usr/local", &prefix.display().to_string()));
    assert_eq!(install[..4], ["cargo", "install", "--locked", "--path"]);
    run_ok(
        Command::new(&install[0])
            .args(&install[1..])
            .current_dir(&clone)
            .env("CARGO_TARGET_DIR", repo().join("target/readme"))
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .env("CARGO_NET_OFFLINE", "true"),
    );
    let exe = prefix.join("bin/distsetup");
    assert!(exe.is_file(), "cargo install put no {}", exe.display());

    // The main job, with the installed binary, under --root, on a free loopback port.
    let sysroot = Root::new().dir("etc");
    let port = free_port();
    let mut job = words(&lines[2]);
    assert_eq!(job[0], "distsetup");
    assert!(job.iter().any(|w| w == "--foreground"), "{job:?}");
    let p = job.iter().position(|w| w == "--port").expect("--port") + 1;
    job[p] = port.to_string();
    let child = Command::new(&exe)
        .args(&job[1..])
        .args(["--listen", "127.0.0.1", "--root"])
        .arg(sysroot.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let listening = std::panic::catch_unwind(|| wait_listening(port, "the README's main job"));
    // SAFETY: kill has no memory preconditions; pid is our own child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(listening.is_ok(), "{text}");
    assert!(!text.contains("build tree"), "{text}");
    let unit = sysroot.join("etc/systemd/system/distsetup-serve-aarch64-linux-gnu.service");
    let unit_text = std::fs::read_to_string(&unit)
        .unwrap_or_else(|e| panic!("{}: {e}\n{text}", unit.display()));
    assert!(
        unit_text.contains(&format!("ExecStart={} serve", exe.display())),
        "the unit must run the installed binary:\n{unit_text}"
    );

    // Undo, as the README says.
    let undo = words(&lines[3]);
    assert_eq!(undo[..2], ["distsetup", "undo"]);
    run_ok(
        Command::new(&exe)
            .args(&undo[1..])
            .arg("--root")
            .arg(sysroot.path()),
    );
    assert!(!unit.exists(), "undo left {}", unit.display());
    assert!(!sysroot.join("usr/lib/distsetup").exists());
}

#[test]
fn readme_completion_install_lines_work_on_a_fresh_home() {
    if !require("bash", on_path("bash")) {
        return;
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = sh_block_after(&readme, "For your user only, after `cargo install`");
    let home = Root::new();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_distsetup"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // One shell, as a user types them: mkdir, then the redirection.
    let script: Vec<String> = lines.chunks(2).map(|c| c.join(" && ")).collect();
    assert_eq!(script.len(), 3, "{lines:?}");
    for line in &script {
        run_ok(
            Command::new("bash")
                .arg("-ec")
                .arg(line)
                .env("HOME", home.path())
                .env("PATH", &path),
        );
    }
    for f in [
        ".local/share/bash-completion/completions/distsetup",
        ".zfunc/_distsetup",
        ".config/fish/completions/distsetup.fish",
    ] {
        let text = std::fs::read_to_string(home.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.contains("distsetup"), "{f}");
    }
}

#[test]
fn readme_gentoo_volunteer_example_works_with_the_tree_it_names() {
    if !require(
        "arm-linux-gnueabihf-gcc",
        on_path("arm-linux-gnueabihf-gcc"),
    ) {
        return;
    }
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = sh_block_after(
        &readme,
        "### Configuring a helper machine: `distsetup volunteer`",
    );
    let example = lines
        .iter()
        .find(|l| l.contains("x-tools6h"))
        .expect("the x-tools6h example");
    let home = Root::new();
    XTools::new("x-tools6h", "arm-unknown-linux-gnueabihf")
        .using_debian("arm-linux-gnueabihf")
        .build_in(home.path());
    let root = Root::new().dir("etc");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_distsetup"));
    let line = example.replacen("sudo distsetup", &bin.display().to_string(), 1);
    let out = run_ok(
        Command::new("bash")
            .arg("-ec")
            .arg(format!(
                "{line} --port {} --root \"$1\" --dry-run",
                free_port()
            ))
            .arg("bash")
            .arg(root.path())
            .env("HOME", home.path())
            .env_remove("SUDO_USER"),
    );
    assert!(out.contains("armv6j-hardfloat-linux-gnueabi-gcc"), "{out}");
}
