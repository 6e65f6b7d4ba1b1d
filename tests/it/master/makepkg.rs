//! A real makepkg run with the configuration `distsetup master --profile debian` wrote:
//! an unprivileged user builds a small multi-file C package, and the compile server on
//! 127.0.0.1 — Debian's distccd, and `distsetup serve` — shows in its log that every
//! translation unit was compiled there.
//!
//! Needs root (to start distccd as `nobody`, bind-mount the masquerade directory in a
//! private mount namespace, and run makepkg as `nobody`, since makepkg refuses root).
//! Needs root and `unshare`; without them it says so (and fails under DISTSETUP_STRICT=1).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::{free_port, is_root, require, wait_listening};

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_distsetup");

pub(super) const PKGBUILD: &str = r#"pkgname=distsetup-hello
pkgver=1
pkgrel=1
pkgdesc="distsetup master test package: three C files built with make"
arch=('x86_64' 'aarch64' 'armv7h' 'i686' 'riscv64')
license=('GPL')
options=('!strip' '!debug')

build() {
  cd "$srcdir"
  printf '%s\n' 'int part_a(void) { return 20; }' > a.c
  printf '%s\n' 'int part_b(void) { return 22; }' > b.c
  printf '%s\n' '#include <stdio.h>' 'int part_a(void); int part_b(void);' \
    'int main(void) { printf("%d\n", part_a() + part_b()); return 0; }' > main.c
  printf 'hello: a.o b.o main.o\n\t$(CC) -o $@ $^\n%%.o: %%.c\n\t$(CC) -O2 -c $< -o $@\n' > Makefile
  make CC=cc
}

package() {
  install -Dm755 "$srcdir/hello" "$pkgdir/usr/bin/distsetup-hello"
}
"#;

/// The three translation units of the PKGBUILD.
pub(super) const UNITS: usize = 3;

pub(super) fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(super) fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(super) fn chown_nobody(path: &Path) {
    run(Command::new("chown").args(["-R", "nobody"]).arg(path));
}

/// A server, killed with its whole process group when dropped (distccd preforks
/// children that outlive a killed parent).
pub(super) struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: plain syscall on the group spawn() made for this child.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

pub(super) fn start_distccd(tmp: &Path, port: u16, log: &Path) -> Daemon {
    let dtmp = tmp.join("distccd-tmp");
    std::fs::create_dir(&dtmp).unwrap();
    run(Command::new("chmod").arg("1777").arg(&dtmp));
    std::fs::write(log, b"").unwrap();
    chown_nobody(log);
    let child = Command::new("distccd")
        .env("TMPDIR", &dtmp)
        .args(["--daemon", "--no-detach", "--listen", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(["--allow", "127.0.0.1", "--user", "nobody", "--log-file"])
        .arg(log)
        .args(["--verbose", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    wait_listening(port, "distccd");
    daemon
}

/// `distsetup serve` as the volunteer would run it, with a private TMPDIR that must be
/// empty afterwards.
fn start_serve(tmp: &Path, port: u16, log: &Path) -> Daemon {
    let stmp = tmp.join("serve-tmp");
    std::fs::create_dir(&stmp).unwrap();
    // Started as root, serve gives up root after binding: its TMPDIR must be its user's.
    crate::support::server::open_to_all(tmp, &stmp);
    let child = Command::new(BIN)
        .env("TMPDIR", &stmp)
        .args(["serve", "--listen", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args([
            "--allow",
            "127.0.0.1/32",
            "--jobs",
            "2",
            "--lifetime",
            "300",
        ])
        .args(["--log-level", "info", "--log-file"])
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    wait_listening(port, "distsetup serve");
    daemon
}

fn packages(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".pkg.tar"))
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    Distccd,
    Serve,
}

#[test]
fn makepkg_builds_through_distccd_with_the_written_configuration() {
    makepkg_builds_through(Server::Distccd);
}

#[test]
fn makepkg_builds_through_distsetup_serve_with_the_written_configuration() {
    makepkg_builds_through(Server::Serve);
}

fn makepkg_builds_through(server: Server) {
    if !require(
        "root for the real makepkg run (distccd --user, unshare and runuser)",
        is_root(),
    ) || !require(
        "unshare for the real makepkg run",
        have("unshare", "--version"),
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    run(Command::new("chmod").arg("755").arg(tmp.path()));
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy("/etc/makepkg.conf", root.join("etc/makepkg.conf")).unwrap();

    let port = free_port();
    let log = tmp.path().join("server.log");
    let daemon = match server {
        Server::Distccd => start_distccd(tmp.path(), port, &log),
        Server::Serve => start_serve(tmp.path(), port, &log),
    };

    let hosts = format!("127.0.0.1:{port}/4");
    let out = run(Command::new(BIN)
        .args(["master", "--profile", "debian", "--root"])
        .arg(&root)
        .args(["--hosts", &hosts, "--jobs", "3", "--yes"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("BUILDENV=(distcc"), "{said}");
    assert!(said.contains("/usr/lib/distcc/bin/cc (symlink)"), "{said}");

    let pkgdir = tmp.path().join("pkg");
    std::fs::create_dir_all(pkgdir.join(".distcc")).unwrap();
    std::fs::write(pkgdir.join("PKGBUILD"), PKGBUILD).unwrap();
    chown_nobody(&pkgdir);

    let script = format!(
        "mount --bind '{masq}' /usr/lib/distcc && cd '{pkg}' && \
         runuser -u nobody -- env HOME='{pkg}' DISTCC_DIR='{pkg}/.distcc' DISTCC_FALLBACK=0 \
         makepkg --config '{conf}' -d -f",
        masq = root.join("usr/lib/distcc").display(),
        pkg = pkgdir.display(),
        conf = root.join("etc/makepkg.conf").display(),
    );
    let build = Command::new("timeout")
        .args(["300", "unshare", "-m", "sh", "-c", &script])
        .output()
        .unwrap();
    drop(daemon);
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let build_out = format!(
        "{}\n{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    assert!(
        build.status.success(),
        "makepkg failed:\n{build_out}\nserver log:\n{log_text}"
    );
    let pkgs = packages(&pkgdir);
    assert_eq!(pkgs.len(), 1, "no package built: {build_out}");
    let compiled: Vec<&str> = log_text
        .lines()
        .filter(|l| l.contains("COMPILE_OK"))
        .collect();
    println!("makepkg built {}", pkgs[0].display());
    println!("server log, COMPILE_OK lines:");
    for l in &compiled {
        println!("  {l}");
    }
    assert_eq!(
        compiled.len(),
        UNITS,
        "every unit compiled on the server:\n{log_text}"
    );
    for unit in ["a.c", "b.c", "main.c"] {
        assert!(
            log_text.lines().any(|l| l.contains(unit)),
            "{unit} not in the server log:\n{log_text}"
        );
    }
    if server == Server::Serve {
        let left: Vec<_> = std::fs::read_dir(tmp.path().join("serve-tmp"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "temp files left behind: {left:?}");
    }
}
