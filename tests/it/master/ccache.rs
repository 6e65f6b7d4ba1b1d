//! `master --ccache`: what bash (makepkg.conf, make.conf) and ccache itself read after the
//! set-up, the cache directory's owner, and a real makepkg build twice: the first sends its
//! compiles to distccd on 127.0.0.1 through ccache, the second is served by the cache
//! (ccache's own statistics).
//!
//! make.conf is read by bash here: PyPI's `portage` parser is not among the test peers yet.

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;

use super::makepkg::{BIN, PKGBUILD, UNITS, chown_nobody, have, run, start_distccd};
use crate::support::{Root, free_port, is_root, require};

/// The build user's (or `portage`'s) uid and gid in the test root's passwd: neither the
/// test runner's own ids nor equal to each other, so "owned by that user" cannot be told
/// apart from "never chowned" or from uid and gid swapped. Needs root to chown to them.
fn ids() -> Option<(u32, u32)> {
    require("root (chown to another user)", is_root()).then_some((54321, 54322))
}

fn bash_reads(file: &Path, expr: &str) -> String {
    let out = run(Command::new("bash").args([
        "-c",
        &format!("source \"$1\" >/dev/null 2>&1; {expr}"),
        "bash",
        &file.to_string_lossy(),
    ]));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn master(root: &Root, profile: &str, extra: &[&str]) -> String {
    let out = run(Command::new(BIN)
        .args(["master", "--profile", profile, "--root"])
        .arg(root.path())
        .args([
            "--hosts",
            "127.0.0.1:3632/4",
            "--jobs",
            "3",
            "--ccache",
            "--yes",
        ])
        .args(extra));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn makepkg_gets_ccache_beside_distcc_and_a_cache_owned_by_the_build_user() {
    let Some((uid, gid)) = ids() else {
        return;
    };
    let root = Root::new()
        .copy("/etc/makepkg.conf", "/etc/makepkg.conf")
        .file(
            "/etc/passwd",
            format!("root:x:0:0::/root:/bin/sh\nbuilder:x:{uid}:{gid}::/home/builder:/bin/sh\n"),
        )
        .dir("/home/builder");
    let said = master(&root, "debian", &["--build-user", "builder"]);
    let conf = root.join("/etc/makepkg.conf");
    let words = bash_reads(&conf, r#"printf '%s\n' "${BUILDENV[@]}""#);
    let words: Vec<&str> = words.lines().collect();
    for w in ["ccache", "distcc"] {
        assert!(words.contains(&w), "{w} not in BUILDENV {words:?}\n{said}");
    }
    for w in ["!ccache", "!distcc"] {
        assert!(!words.contains(&w), "{w} still in BUILDENV {words:?}");
    }
    let cache = root.join("/home/builder/.cache/ccache");
    let meta = std::fs::metadata(&cache).unwrap();
    assert!(meta.is_dir());
    assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{said}");
    // Debian's ccache has no /usr/lib/ccache/bin, where makepkg looks: distsetup makes it.
    let link = std::fs::read_link(root.join("/usr/lib/ccache/bin/cc")).unwrap();
    assert_eq!(link, Path::new("../../../bin/ccache"));
    // A second run changes nothing.
    let again = master(&root, "debian", &["--build-user", "builder"]);
    assert!(again.contains("already configured"), "{again}");
}

#[test]
fn an_unknown_build_user_is_refused_naming_the_passwd_file() {
    let root = Root::new()
        .copy("/etc/makepkg.conf", "/etc/makepkg.conf")
        .file("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    let out = Command::new(BIN)
        .args(["master", "--profile", "debian", "--root"])
        .arg(root.path())
        .args([
            "--hosts",
            "127.0.0.1/4",
            "--ccache",
            "--build-user",
            "nosuch",
        ])
        .args(["--yes"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("etc/passwd: user nosuch: no such user"),
        "{err}"
    );
    assert!(!root.join("/usr/lib/ccache").exists(), "nothing is written");
}

#[test]
fn debian_ccache_conf_gets_distcc_as_prefix_command_that_ccache_reads() {
    if !require("ccache (scripts/install-deps)", have("ccache", "--version")) {
        return;
    }
    let root = Root::new().file(
        "/etc/ccache.conf",
        "# local settings\nmax_size = 2G\nprefix_command = icecc\n",
    );
    master(&root, "debian", &[]);
    let conf = root.join("/etc/ccache.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.starts_with("# local settings\nmax_size = 2G\n"),
        "{text}"
    );
    for (key, want) in [("prefix_command", "distcc"), ("max_size", "2.0G")] {
        let out = run(Command::new("ccache")
            .env("CCACHE_CONFIGPATH", &conf)
            .args(["--get-config", key]));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{key}");
    }
}

/// What Portage (its own getconfig, the oracle) and bash read agree, and the cache
/// directory is made with `portage` as owner under a root that has no `/var` at all
/// (distsetup's own state directory is made there first); undo takes it away again.
#[test]
fn portage_gets_ccache_features_dir_and_size_and_a_cache_owned_by_portage() {
    use crate::support::portage::{Job, getconfig, python};
    let Some(py) = python() else { return };
    let Some((uid, gid)) = ids() else {
        return;
    };
    let root = Root::new()
        .file(
            "/etc/portage/make.conf",
            "COMMON_FLAGS=\"-O2 -pipe\"\nFEATURES=\"sandbox\"\nMAKEOPTS=\"-j2\"\n",
        )
        .file(
            "/etc/passwd",
            format!("root:x:0:0::/root:/bin/sh\nportage:x:{uid}:{gid}::/var/lib/portage/home:/bin/false\n"),
        );
    assert!(!root.join("/var").exists());
    let said = master(&root, "gentoo", &[]);
    let conf = root.join("/etc/portage/make.conf");
    let got = bash_reads(&conf, r#"echo "$FEATURES|$CCACHE_DIR|$CCACHE_SIZE""#);
    let portage = getconfig(&py, &[Job::MakeConf(root.path().to_path_buf())])
        .remove(0)
        .unwrap_or_else(|e| panic!("Portage cannot read it: {e}\n{said}"));
    let var = |n: &str| portage.get(n).cloned().unwrap_or_default();
    let by_portage = format!(
        "{}|{}|{}",
        var("FEATURES"),
        var("CCACHE_DIR"),
        var("CCACHE_SIZE")
    );
    for read in [&got, &by_portage] {
        let parts: Vec<&str> = read.split('|').collect();
        let features: Vec<&str> = parts[0].split_whitespace().collect();
        for w in ["sandbox", "distcc", "ccache"] {
            assert!(features.contains(&w), "{w} not in FEATURES {read}\n{said}");
        }
        assert_eq!(parts[1..], ["/var/cache/ccache", "5G"], "{read}");
    }
    let meta = std::fs::metadata(root.join("/var/cache/ccache")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid, gid));
    assert_eq!(meta.mode() & 0o7777, 0o2775);
    let undo = run(Command::new(BIN)
        .args(["undo", "--yes", "--root"])
        .arg(root.path()));
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert!(!root.join("/var/cache/ccache").exists());
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "COMMON_FLAGS=\"-O2 -pipe\"\nFEATURES=\"sandbox\"\nMAKEOPTS=\"-j2\"\n"
    );
}

#[test]
fn portage_keeps_the_users_cache_dir_and_size() {
    let Some((uid, gid)) = ids() else {
        return;
    };
    let root = Root::new()
        .file(
            "/etc/portage/make.conf",
            "FEATURES=\"distcc\"\nCCACHE_DIR=\"/srv/ccache\"\nCCACHE_SIZE=\"20G\"\n",
        )
        .file(
            "/etc/passwd",
            format!("portage:x:{uid}:{gid}::/var/lib/portage/home:/bin/false\n"),
        );
    master(&root, "gentoo", &[]);
    let conf = root.join("/etc/portage/make.conf");
    let got = bash_reads(&conf, r#"echo "$FEATURES|$CCACHE_DIR|$CCACHE_SIZE""#);
    assert_eq!(got, "distcc ccache|/srv/ccache|20G");
    assert!(root.join("/srv/ccache").is_dir());
}

/// ccache's counters, from `ccache --print-stats` (tab-separated name and value).
fn ccache_stats(dir: &Path) -> std::collections::HashMap<String, u64> {
    let out = run(Command::new("ccache")
        .env("CCACHE_DIR", dir)
        .arg("--print-stats"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once('\t')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

#[test]
fn makepkg_with_ccache_compiles_on_the_volunteer_first_and_hits_the_cache_second() {
    if !require(
        "root for the real makepkg run (distccd --user, unshare, runuser)",
        is_root(),
    ) || !require("unshare", have("unshare", "--version"))
        || !require("ccache (scripts/install-deps)", have("ccache", "--version"))
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    run(Command::new("chmod").arg("755").arg(tmp.path()));
    let root = tmp.path().join("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("home/builder")).unwrap();
    std::fs::copy("/etc/makepkg.conf", root.join("etc/makepkg.conf")).unwrap();
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/home/builder:/bin/sh\n",
    )
    .unwrap();
    let port = free_port();
    let log = tmp.path().join("distccd.log");
    let daemon = start_distccd(tmp.path(), port, &log);
    let hosts = format!("127.0.0.1:{port}/4");
    run(Command::new(BIN)
        .args(["master", "--profile", "debian", "--root"])
        .arg(&root)
        .args([
            "--hosts",
            &hosts,
            "--jobs",
            "3",
            "--ccache",
            "--build-user",
            "nobody",
        ])
        .arg("--yes"));
    let cache = root.join("home/builder/.cache/ccache");
    assert_eq!(std::fs::metadata(&cache).unwrap().uid(), 65534);

    let pkgdir = tmp.path().join("pkg");
    std::fs::create_dir_all(pkgdir.join(".distcc")).unwrap();
    std::fs::write(pkgdir.join("PKGBUILD"), PKGBUILD).unwrap();
    chown_nobody(&pkgdir);
    // makepkg sees the tree's ccache and distcc directories and the build user's home.
    let script = format!(
        "mount --bind '{r}/usr/lib/distcc' /usr/lib/distcc && \
         mount --bind '{r}/usr/lib/ccache' /usr/lib/ccache && \
         mount --bind '{r}/home' /home && cd '{pkg}' && \
         runuser -u nobody -- env HOME=/home/builder DISTCC_DIR='{pkg}/.distcc' \
         DISTCC_FALLBACK=0 makepkg --config '{r}/etc/makepkg.conf' -d -f",
        r = root.display(),
        pkg = pkgdir.display(),
    );
    let build = || {
        let out = Command::new("timeout")
            .args(["300", "unshare", "-m", "sh", "-c", &script])
            .output()
            .unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "makepkg failed:\n{text}");
        text
    };
    let compiled = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("COMPILE_OK"))
            .count()
    };
    build();
    let first = ccache_stats(&cache);
    assert_eq!(
        compiled(),
        UNITS,
        "the first build compiles every unit on distccd"
    );
    assert_eq!(
        first.get("cache_miss").copied(),
        Some(UNITS as u64),
        "{first:?}"
    );
    build();
    drop(daemon);
    let second = ccache_stats(&cache);
    let hits = second.get("direct_cache_hit").copied().unwrap_or(0)
        + second.get("preprocessed_cache_hit").copied().unwrap_or(0);
    println!("ccache after two builds: {second:?}");
    assert_eq!(
        hits, UNITS as u64,
        "the second build is served by the cache: {second:?}"
    );
    assert_eq!(compiled(), UNITS, "and sends nothing to distccd");
}
