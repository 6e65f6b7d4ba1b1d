//! A small fluent builder for the set-ups the tests repeat: a temp root with files in it,
//! a crosstool-ng style x-tools tree, a free loopback port, and a `distsetup` run.
//!
//! ```ignore
//! let root = Root::new().file("etc/os-release", "ID=debian\n");
//! let tc = XTools::aarch64().build_in(root.path());
//! let o = Cmd::new("volunteer").root(root.path()).toolchain(&tc).port(free_port()).arg("--dry-run").run();
//! ```

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temp directory (removed on drop), readable by every user: distccd and the embedded
/// server drop to an unprivileged user and must still read what the tests put there.
pub struct Root {
    dir: tempfile::TempDir,
}

impl Root {
    pub fn new() -> Root {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Root { dir }
    }

    /// Write `contents` at `rel` (a system path such as `/etc/makepkg.conf` or a relative
    /// one), creating the directories on the way.
    pub fn file(self, rel: &str, contents: impl AsRef<[u8]>) -> Root {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        self
    }

    /// Copy the file at `from` (e.g. a fixture) to `rel`.
    pub fn copy(self, rel: &str, from: impl AsRef<Path>) -> Root {
        let from = from.as_ref();
        let bytes = std::fs::read(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        self.file(rel, bytes)
    }

    /// Create the (empty) directory `rel`.
    pub fn dir(self, rel: &str) -> Root {
        std::fs::create_dir_all(self.join(rel)).unwrap();
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` (leading `/` allowed) inside the root.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.path().join(rel.trim_start_matches('/'))
    }
}

impl AsRef<Path> for Root {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

/// A crosstool-ng style tree `DIR/NAME/PREFIX/bin/PREFIX-{gcc,g++,cpp}`, linked to
/// Debian's cross compilers `/usr/bin/DEBIAN-TOOL` (each tool that exists).
pub struct XTools {
    name: String,
    prefix: String,
    debian: String,
}

impl XTools {
    pub fn new(name: &str, prefix: &str) -> XTools {
        XTools {
            name: name.into(),
            prefix: prefix.into(),
            debian: prefix.into(),
        }
    }

    /// Arch Linux ARM's aarch64 toolchain, `x-tools8/aarch64-unknown-linux-gnu`, from
    /// Debian's `aarch64-linux-gnu-*`.
    pub fn aarch64() -> XTools {
        XTools::new("x-tools8", "aarch64-unknown-linux-gnu").using_debian("aarch64-linux-gnu")
    }

    /// Link to `/usr/bin/DEBIAN-TOOL` instead of `/usr/bin/PREFIX-TOOL`.
    pub fn using_debian(mut self, debian: &str) -> XTools {
        self.debian = debian.into();
        self
    }

    /// Build the tree under `dir`; gives `dir/NAME` (what `--toolchain` takes).
    pub fn build_in(&self, dir: impl AsRef<Path>) -> PathBuf {
        super::volunteer::xtools(dir.as_ref(), &self.name, &self.prefix, &self.debian)
    }
}

/// A TCP port free on 127.0.0.1 whose +1000 (the default stats port) is free too.
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let p = l.local_addr().unwrap().port();
        if p < 60000 && std::net::TcpListener::bind(("127.0.0.1", p + 1000)).is_ok() {
            return p;
        }
    }
}

/// Wait (at most 20 s) until something accepts connections on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not listen on {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// One run of the `distsetup` binary: `Cmd::new("volunteer").root(..).args([..]).run()`.
pub struct Cmd {
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
}

impl Cmd {
    /// `distsetup SUBCOMMAND`.
    pub fn new(subcommand: &str) -> Cmd {
        Cmd {
            args: vec![subcommand.into()],
            envs: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// `--root DIR`.
    pub fn root(self, dir: impl AsRef<Path>) -> Cmd {
        self.arg("--root").arg(dir.as_ref())
    }

    /// `--toolchain DIR`.
    pub fn toolchain(self, dir: impl AsRef<OsStr>) -> Cmd {
        self.arg("--toolchain").arg(dir)
    }

    /// `--port PORT`.
    pub fn port(self, port: u16) -> Cmd {
        self.arg("--port").arg(port.to_string())
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.envs
            .push((key.into(), Some(value.as_ref().to_owned())));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.envs.push((key.into(), None));
        self
    }

    /// No usable home and no sudo caller: nothing outside the root is read or written.
    pub fn no_home(self) -> Cmd {
        self.env("HOME", "/nonexistent-home")
            .env_remove("SUDO_USER")
    }

    /// Run to completion, stdin closed; status, stdout and stderr.
    pub fn run(self) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_distsetup"));
        c.args(&self.args);
        for (k, v) in &self.envs {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.output().unwrap()
    }
}
