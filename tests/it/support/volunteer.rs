//! Helpers shared by the volunteer tests: crosstool-ng style trees built from Debian's
//! cross compilers, running the binary, free ports.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// Build `dir/NAME/PREFIX/bin/PREFIX-TOOL` → `/usr/bin/DEBIAN-TOOL` for each tool that exists.
pub fn xtools(dir: &Path, name: &str, prefix: &str, debian: &str) -> PathBuf {
    let bin = dir.join(name).join(prefix).join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["gcc", "g++", "cpp"] {
        let real = PathBuf::from(format!("/usr/bin/{debian}-{tool}"));
        if real.exists() {
            std::os::unix::fs::symlink(&real, bin.join(format!("{prefix}-{tool}"))).unwrap();
        }
    }
    dir.join(name)
}

/// A temp dir readable by every user (distccd drops to an unprivileged user).
pub fn open_tempdir() -> super::Root {
    super::Root::new()
}

/// Run distsetup with `args`, with no usable home and no sudo caller.
pub fn distsetup(args: &[&str]) -> Output {
    super::Cmd::new(args[0]).args(&args[1..]).no_home().run()
}

/// `distsetup volunteer`, with no usable home and no sudo caller.
pub fn volunteer() -> super::Cmd {
    super::Cmd::new("volunteer").no_home()
}

/// Standard output and error as one string, for messages in assertions.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub use super::free_port;

/// Every path under `dir`, relative, sorted (to prove nothing was written).
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                out.push(p.strip_prefix(base).unwrap().display().to_string());
                if e.file_type().unwrap().is_dir() {
                    walk(base, &p, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The value of `KEY=` in a unit file.
pub fn unit_value(unit: &str, key: &str) -> Option<String> {
    unit.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
}
