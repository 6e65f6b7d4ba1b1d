//! Installing like real software: the PKGBUILD built by the real makepkg as an
//! unprivileged user and installed with pacman into a scratch root, and the Gentoo ebuild
//! checked with bash (and Portage's own parser when the `portage` module is importable).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{is_root, on_path, require};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sh(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Rust toolchain's own directory (cargo, rustc and the standard library), which an
/// unprivileged user may not reach when it lives under /root.
fn sysroot() -> PathBuf {
    PathBuf::from(sh(Command::new("rustc").args(["--print", "sysroot"])).trim())
}

/// Where Cargo keeps the downloaded crates (no network here: the build reuses them).
fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME")
}

/// Build-speed settings only (the PKGBUILD and its commands are the real ones): an
/// unoptimised release profile, and a target directory kept between runs.
const FAST_RELEASE: [(&str, &str); 4] = [
    ("CARGO_PROFILE_RELEASE_LTO", "false"),
    ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0"),
    ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16"),
    ("CARGO_NET_OFFLINE", "true"),
];

#[test]
fn pkgbuild_builds_and_installs_with_completions_and_man_pages() {
    for tool in ["makepkg", "pacman", "bsdtar", "git", "rustc"] {
        if !require(tool, on_path(tool)) {
            return;
        }
    }
    if is_root()
        && !require(
            "unshare and setpriv (root runs makepkg as nobody)",
            on_path("unshare") && on_path("setpriv"),
        )
    {
        return;
    }
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let build = tmp.path().join("build");
    let home = tmp.path().join("home");
    let rust = tmp.path().join("rust");
    let chome = tmp.path().join("cargo-home");
    for d in [&build, &home, &rust, &chome] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::copy(
        repo().join("packaging/arch/PKGBUILD"),
        build.join("PKGBUILD"),
    )
    .unwrap();
    sh(Command::new(repo().join("packaging/arch/make-source")).arg(&build));
    sh(Command::new("cp")
        .arg("-r")
        .arg(cargo_home().join("registry"))
        .arg(&chome));
    let target = repo().join("target/makepkg");
    std::fs::create_dir_all(&target).unwrap();

    let env = [
        ("HOME", home.display().to_string()),
        ("CARGO_HOME", chome.display().to_string()),
        ("CARGO_TARGET_DIR", target.display().to_string()),
        ("PATH", format!("{}/bin:/usr/bin:/bin", rust.display())),
    ];
    let mut makepkg = if is_root() {
        // makepkg refuses root: build as nobody, with the toolchain bind-mounted where
        // nobody can reach it (in a private mount namespace that ends with the command).
        for d in [&build, &home, &chome, &target] {
            sh(Command::new("chown").args(["-R", "65534:65534"]).arg(d));
        }
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(r#"mount --bind "$1" "$2" && shift 2 && exec setpriv --reuid 65534 --regid 65534 --clear-groups "$@""#)
            .arg("sh")
            .arg(sysroot())
            .arg(&rust)
            .arg("env");
        for (k, v) in &env {
            c.arg(format!("{k}={v}"));
        }
        for (k, v) in FAST_RELEASE {
            c.arg(format!("{k}={v}"));
        }
        c.arg("makepkg");
        c
    } else {
        std::os::unix::fs::symlink(sysroot().join("bin"), rust.join("bin")).unwrap();
        let mut c = Command::new("makepkg");
        c.envs(env).envs(FAST_RELEASE);
        c
    };
    // -d: Debian's pacman has no database of the dependencies (gcc-libs, cargo).
    sh(makepkg.args(["-d", "--noconfirm"]).current_dir(&build));

    let pkg = build.join("distsetup-0.1.0-1-x86_64.pkg.tar.gz");
    let listing = sh(Command::new("bsdtar").arg("-tf").arg(&pkg));
    for want in [
        "usr/bin/distsetup",
        "usr/share/bash-completion/completions/distsetup",
        "usr/share/zsh/site-functions/_distsetup",
        "usr/share/fish/vendor_completions.d/distsetup.fish",
        "usr/share/man/man1/distsetup.1.gz",
        "usr/share/man/man1/distsetup-volunteer.1.gz",
    ] {
        assert!(
            listing.lines().any(|l| l == want),
            "{want} missing:\n{listing}"
        );
    }

    // The -i of makepkg -si: pacman installs the package (into a scratch root here).
    let inst = tmp.path().join("inst");
    std::fs::create_dir_all(inst.join("db")).unwrap();
    sh(Command::new("pacman")
        .arg("-U")
        .arg("--root")
        .arg(&inst)
        .arg("--dbpath")
        .arg(inst.join("db"))
        .args(["--noconfirm", "--nodeps", "--nodeps"])
        .arg(&pkg));
    let version = sh(Command::new(inst.join("usr/bin/distsetup")).arg("--version"));
    assert_eq!(version.trim(), "distsetup 0.1.0");
    let man = sh(Command::new("sh")
        .arg("-c")
        .arg("gzip -dc \"$1\"")
        .arg("sh")
        .arg(inst.join("usr/share/man/man1/distsetup-volunteer.1.gz")));
    assert!(man.contains(".SH EXAMPLES"), "{man}");
}
