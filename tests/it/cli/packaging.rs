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

/// `name@version` of every registry package in Cargo.lock.
fn locked_crates() -> Vec<String> {
    let lock = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    let mut out = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                .map(|v| v.trim_end_matches('"').to_owned())
        };
        if field("source").is_some_and(|s| s.starts_with("registry+")) {
            out.push(format!(
                "{}@{}",
                field("name").unwrap(),
                field("version").unwrap()
            ));
        }
    }
    out.sort();
    out
}

#[test]
fn gentoo_ebuild_parses_and_lists_the_locked_crates() {
    if !require("bash", on_path("bash")) {
        return;
    }
    let dir = repo().join("packaging/gentoo/dev-util/distsetup");
    let ebuild = dir.join("distsetup-0.1.0.ebuild");
    sh(Command::new("bash").arg("-n").arg(&ebuild));
    // Sourced the way Portage sources it (eclasses stubbed: only the ebuild's own
    // variables and phases are looked at).
    let vars = sh(Command::new("bash").arg("-c").arg(
        r#"set -eu; inherit() { :; }; PV=0.1.0; P=distsetup-0.1.0; PN=distsetup; CARGO_CRATE_URIS=
           source "$1"
           for v in EAPI DESCRIPTION HOMEPAGE SRC_URI LICENSE SLOT KEYWORDS RUST_MIN_VER; do
             [ -n "${!v}" ] || { echo "$v is empty" >&2; exit 1; }
           done
           declare -F src_install >/dev/null
           echo "EAPI=$EAPI"; for c in $CRATES; do echo "crate=$c"; done
           echo "LICENSE=$(echo $LICENSE)"; echo "RDEPEND=$(echo $RDEPEND)"; echo "SRC_URI=$(echo $SRC_URI)""#,
    ).arg("bash").arg(&ebuild));
    assert!(vars.lines().any(|l| l == "EAPI=8"), "{vars}");
    let crates: Vec<String> = vars
        .lines()
        .filter_map(|l| l.strip_prefix("crate="))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        crates,
        locked_crates(),
        "CRATES in the ebuild differs from Cargo.lock"
    );
    let text = std::fs::read_to_string(&ebuild).unwrap();
    for line in [
        "doman man/*.1",
        "newbashcomp completions/distsetup.bash distsetup",
        "dozshcomp completions/_distsetup",
        "dofishcomp completions/distsetup.fish",
    ] {
        assert!(text.contains(line), "the ebuild does not install: {line}");
    }

    // metadata.xml: well-formed (Python's XML parser), and Portage's own checks when the
    // portage module is importable (scripts/install-deps installs it).
    let check = r#"
import sys, xml.dom.minidom
xml.dom.minidom.parse(sys.argv[1] + "/metadata.xml")
try:
    import portage
except ImportError:
    print("no portage"); sys.exit(0)
from portage.xml.metadata import MetaDataXML
from portage.versions import catpkgsplit
from portage.dep import Atom, use_reduce
md = MetaDataXML(sys.argv[1] + "/metadata.xml", None)
assert md.maintainers(), "no maintainer"
assert catpkgsplit("dev-util/distsetup-0.1.0") is not None
use_reduce(sys.argv[2], eapi="8", flat=True)                  # LICENSE syntax
use_reduce(sys.argv[4], eapi="8", flat=True, is_src_uri=True)  # SRC_URI syntax
for dep in use_reduce(sys.argv[3], eapi="8", flat=True):
    Atom(dep, eapi="8")                                        # RDEPEND atoms
print("portage ok")
"#;
    let field = |k: &str| {
        vars.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_default()
            .to_owned()
    };
    let py = sh(Command::new("python3")
        .arg("-c")
        .arg(check)
        .arg(&dir)
        .arg(field("LICENSE"))
        .arg(field("RDEPEND"))
        .arg(field("SRC_URI")));
    if py.trim() == "no portage" {
        eprintln!("portage is not importable: metadata.xml checked as XML only");
    }
}
