//! `scripts/cluster` from the tests: a cluster of network namespaces that is taken down
//! (every process by PID, every namespace) when the guard drops, however the test ends.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The script.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster")
}

/// Whether this machine can run a cluster (root, iproute2, util-linux, avahi, dbus);
/// reports what is missing through [`super::require`].
pub fn available() -> bool {
    if !super::require("root (network and mount namespaces)", super::is_root()) {
        return false;
    }
    let missing: Vec<&str> = [
        "ip",
        "nsenter",
        "unshare",
        "avahi-daemon",
        "avahi-browse",
        "dbus-daemon",
    ]
    .into_iter()
    .filter(|t| !super::on_path(t))
    .collect();
    super::require(
        &format!("{missing:?} on PATH (scripts/install-deps)"),
        missing.is_empty(),
    )
}

/// A running cluster; `down` on drop.
pub struct Cluster {
    name: String,
}

static COUNT: AtomicUsize = AtomicUsize::new(0);

fn run(args: &[&OsStr]) -> Output {
    Command::new(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running scripts/cluster: {e}"))
}

fn check(what: &str, o: Output) -> Output {
    assert!(
        o.status.success(),
        "scripts/cluster {what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

impl Cluster {
    /// `up` with `nodes` as `NAME=IP[/CPUS]`; the name is unique to this process and call.
    pub fn up(nodes: &[&str]) -> Cluster {
        let n = COUNT.fetch_add(1, Ordering::SeqCst);
        let name = format!("z{}{n}", std::process::id() % 10000);
        // The guard exists before `up` runs, so a half-made cluster is removed too.
        let c = Cluster { name };
        let mut args: Vec<&OsStr> = vec!["up".as_ref(), c.name.as_ref()];
        args.extend(nodes.iter().map(|n| OsStr::new(*n)));
        check("up", run(&args));
        c
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Start dbus-daemon and avahi-daemon in `node`; returns when avahi answers.
    pub fn avahi(&self, node: &str) {
        check(
            "avahi",
            run(&["avahi".as_ref(), self.name.as_ref(), node.as_ref()]),
        );
    }

    /// Run `cmd` in `node` to completion.
    pub fn exec<S: AsRef<OsStr>>(&self, node: &str, cmd: &[S]) -> Output {
        let mut args: Vec<&OsStr> = vec!["exec".as_ref(), self.name.as_ref(), node.as_ref()];
        args.extend(cmd.iter().map(AsRef::as_ref));
        run(&args)
    }

    /// Start `cmd` in `node` in the background, output to `log`; its PID (stopped by `down`).
    pub fn spawn<S: AsRef<OsStr>>(&self, node: &str, log: &Path, cmd: &[S]) -> u32 {
        let mut args: Vec<&OsStr> = vec![
            "spawn".as_ref(),
            self.name.as_ref(),
            node.as_ref(),
            log.as_os_str(),
        ];
        args.extend(cmd.iter().map(AsRef::as_ref));
        let o = check("spawn", run(&args));
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("spawn printed no PID: {e}"))
    }

    /// Bind-mount the host directory `src` on `dst` in `node` only.
    pub fn bind(&self, node: &str, src: &Path, dst: &str) {
        check(
            "bind",
            run(&[
                "bind".as_ref(),
                self.name.as_ref(),
                node.as_ref(),
                src.as_os_str(),
                dst.as_ref(),
            ]),
        );
    }

    /// The host directory shown as `node`'s `/etc/avahi/services`.
    pub fn services(&self, node: &str) -> PathBuf {
        let o = check(
            "services",
            run(&["services".as_ref(), self.name.as_ref(), node.as_ref()]),
        );
        PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let o = run(&["down".as_ref(), self.name.as_ref()]);
        if !o.status.success() {
            eprintln!(
                "scripts/cluster down {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}
