//! Issue 13's numbered cases: each once reported success while Portage read something
//! else. Every expectation is checked by the real Portage (`getconfig`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::Cmd;
use crate::support::portage::{Job, getconfig, python};

const HOSTS: &str = "10.0.0.5/6";

fn put(root: &Path, sys: &str, text: &str) {
    let p = root.join(sys.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn read(root: &Path, sys: &str) -> String {
    std::fs::read_to_string(root.join(sys.trim_start_matches('/'))).unwrap()
}

fn master(root: &Path) -> Output {
    Cmd::new("master")
        .root(root)
        .args([
            "--profile",
            "gentoo",
            "--hosts",
            HOSTS,
            "--jobs",
            "7",
            "--yes",
        ])
        .run()
}

fn edit(root: &Path, file: &str, args: &[&str]) -> Output {
    Cmd::new("edit")
        .arg(file)
        .root(root)
        .args(args)
        .args(["--yes"])
        .run()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What Portage reads for make.conf under `root`.
fn portage(py: &Path, root: &Path) -> BTreeMap<String, String> {
    let job = Job::MakeConf(root.to_path_buf());
    getconfig(py, &[job]).remove(0).expect("Portage reads it")
}

fn words(v: Option<&String>) -> Vec<String> {
    v.map(|v| v.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn assert_distcc_added(py: &Path, root: &Path, features: &[&str]) {
    let seen = portage(py, root);
    let mut want: Vec<String> = features.iter().map(|w| w.to_string()).collect();
    want.push("distcc".into());
    assert_eq!(words(seen.get("FEATURES")), want, "{seen:?}");
    assert!(seen["MAKEOPTS"].starts_with("-j7 -l"), "{seen:?}");
}

#[test]
fn case1_features_from_a_sourced_file_are_kept() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "/etc/portage/make.conf",
        "MAKEOPTS=\"-j2\"\nsource /etc/portage/make.conf.features\n",
    );
    put(
        t.path(),
        "/etc/portage/make.conf.features",
        "FEATURES=\"ccache buildpkg\"\n",
    );
    let o = master(t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        read(t.path(), "/etc/portage/make.conf")
            .ends_with("source /etc/portage/make.conf.features\nFEATURES=\"${FEATURES} distcc\"\n")
    );
    assert_distcc_added(&py, t.path(), &["ccache", "buildpkg"]);
    assert_eq!(
        read(t.path(), "/etc/portage/make.conf.features"),
        "FEATURES=\"ccache buildpkg\"\n"
    );
}

#[test]
fn case2_legacy_etc_make_conf_is_read_first() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "/etc/make.conf", "FEATURES=\"ccache buildpkg\"\n");
    put(t.path(), "/etc/portage/make.conf", "MAKEOPTS=\"-j2\"\n");
    let o = master(t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_distcc_added(&py, t.path(), &["ccache", "buildpkg"]);
    // A second run finds nothing to do.
    let again = master(t.path());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already configured"));
    // An old /etc/make.conf linked to the new one: Portage reads that file once.
    let u = tempfile::tempdir().unwrap();
    put(u.path(), "/etc/portage/make.conf", "FEATURES=\"ccache\"\n");
    std::os::unix::fs::symlink("portage/make.conf", u.path().join("etc/make.conf")).unwrap();
    let o = master(u.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_distcc_added(&py, u.path(), &["ccache"]);
    assert!(u.path().join("etc/make.conf").is_symlink());
}

#[test]
fn case3_a_make_conf_directory_is_read_recursively() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "/etc/portage/make.conf/00-base.conf",
        "MAKEOPTS=\"-j2\"\n",
    );
    put(
        t.path(),
        "/etc/portage/make.conf/local/features.conf",
        "MAKEOPTS=\"-j3\"\n",
    );
    put(
        t.path(),
        "/etc/portage/make.conf/site/Base",
        "FEATURES=\"ccache\"\n",
    );
    // Portage skips version-control directories and hidden or backup files (these sort
    // after site/Base).
    for skipped in ["site/CVS/Entries", "site/Base~", "site/.x", "site/SCCS/a"] {
        let path = format!("/etc/portage/make.conf/{skipped}");
        put(t.path(), &path, "FEATURES=\"-distcc\"\n");
    }
    let o = master(t.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_distcc_added(&py, t.path(), &["ccache"]);
    assert_eq!(
        read(t.path(), "/etc/portage/make.conf/00-base.conf"),
        "MAKEOPTS=\"-j2\"\n"
    );
    assert!(
        !t.path().join("etc/portage/make.conf/distcc.conf").exists(),
        "both variables are assigned: no new file"
    );
    // Neither assigned anywhere: a new distcc.conf, wherever it sorts, is right.
    let u = tempfile::tempdir().unwrap();
    put(u.path(), "/etc/portage/make.conf/site/x", "USE=\"X\"\n");
    put(u.path(), "/etc/portage/make.conf/aa", "CFLAGS=\"-O2\"\n");
    assert!(master(u.path()).status.success());
    assert_distcc_added(&py, u.path(), &[]);
}

/// What bash sees for `name` after sourcing `file`.
fn bash_value(file: &Path, name: &str) -> String {
    let o = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c"])
        .arg(format!("source \"$1\"; printf '%s' \"${name}\""))
        .arg("bash")
        .arg(file)
        .env_clear()
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn case4_values_are_quoted_so_portage_and_bash_read_them_as_given() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "/etc/portage/make.conf", "A='old'\n");
    let values = [
        ("A", "${PACKAGE}"),
        ("B", "a\\b $c"),
        ("C", "say \"hi\""),
        ("D", "100%"),
        ("E", "x=y"),
        ("F", "-O2 -pipe"),
    ];
    let args: Vec<String> = values
        .iter()
        .map(|(n, v)| format!("--set={n}={v}"))
        .collect();
    let o = edit(
        t.path(),
        "/etc/portage/make.conf",
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = read(t.path(), "/etc/portage/make.conf");
    assert!(text.starts_with("A=\"\\${PACKAGE}\"\n"), "{text}");
    let seen = portage(&py, t.path());
    for (n, v) in values {
        assert_eq!(seen[n], v, "Portage, {n} in\n{text}");
        assert_eq!(
            bash_value(&t.path().join("etc/portage/make.conf"), n),
            v,
            "bash, {n} in\n{text}"
        );
    }
    // A value no quoting gives to both is refused, the file untouched.
    let o = edit(t.path(), "/etc/portage/make.conf", &["--set=G=it's $5"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("Portage and bash"), "{}", stderr(&o));
    assert_eq!(read(t.path(), "/etc/portage/make.conf"), text);
}

#[test]
fn case5_removing_the_last_word_leaves_an_empty_quoted_value() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "/etc/portage/make.conf",
        "FEATURES=distcc\nMAKEOPTS=\"-j2\"\n",
    );
    let o = edit(
        t.path(),
        "/etc/portage/make.conf",
        &["--remove", "FEATURES=distcc"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        read(t.path(), "/etc/portage/make.conf"),
        "FEATURES=\"\"\nMAKEOPTS=\"-j2\"\n"
    );
    let seen = portage(&py, t.path());
    assert_eq!(seen["FEATURES"], "");
    assert_eq!(seen["MAKEOPTS"], "-j2");
}

#[test]
fn case6_files_portage_reads_otherwise_are_refused_with_file_and_line() {
    let Some(py) = python() else { return };
    let cases: &[(&str, &str, &str)] = &[
        (
            "spaces",
            "MAKEOPTS=\"-j2\"\nFEATURES = \"ccache\"\n",
            "bash does not read it",
        ),
        (
            "semicolon",
            "MAKEOPTS=\"-j2\"\nFEATURES=\"ccache\";\n",
            "\"ccache;\"",
        ),
        (
            "bom",
            "\u{feff}MAKEOPTS=\"-j2\"\nFEATURES=\"ccache\"\n",
            "Portage will not read",
        ),
        (
            "array",
            "MAKEOPTS=\"-j2\"\nFEATURES=(ccache)\n",
            "Portage will not read",
        ),
        (
            "export",
            "MAKEOPTS=\"-j2\"\nexport FEATURES\nFEATURES=\"x\"\n",
            "Portage will not read",
        ),
        (
            "if",
            "MAKEOPTS=\"-j2\"\nif true; then\n  FEATURES=\"x\"\nfi\n",
            "Portage will not read",
        ),
        (
            "append",
            "MAKEOPTS=\"-j2\"\nFEATURES+=\"x\"\n",
            "Portage will not read",
        ),
    ];
    let t = tempfile::tempdir().unwrap();
    let mut jobs = Vec::new();
    for (label, text, want) in cases {
        let root = t.path().join(label);
        put(&root, "/etc/portage/make.conf", text);
        jobs.push(Job::MakeConf(root.clone()));
        for o in [
            master(&root),
            edit(
                &root,
                "/etc/portage/make.conf",
                &["--enable", "FEATURES=distcc"],
            ),
        ] {
            let err = stderr(&o);
            assert!(!o.status.success(), "{label}: accepted");
            let line = if *label == "bom" { ":1:" } else { ":2:" };
            assert!(
                err.contains(&format!("/etc/portage/make.conf{line}")),
                "{label}: {err}"
            );
            assert!(err.contains(want), "{label}: {err}");
            assert_eq!(read(&root, "/etc/portage/make.conf"), *text, "{label}");
        }
    }
    // What Portage does with them: the first two read, the rest stop emerge.
    let answers = getconfig(&py, &jobs);
    assert_eq!(answers[0].as_ref().unwrap()["FEATURES"], "ccache");
    assert_eq!(answers[1].as_ref().unwrap()["FEATURES"], "ccache;");
    for (a, (label, _, _)) in answers.iter().zip(cases).skip(2) {
        assert!(a.is_err(), "{label}: Portage read {a:?}");
    }
}

#[test]
fn case7_get_answers_what_portage_reads() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    let file = "/etc/portage/make.conf";
    put(
        t.path(),
        file,
        "A=\"x\"\nNL=\"one\ntwo\"\nSQ='${A} y'\nHASH=ab#c\nSRC=\"${DONE}\"\nsource /etc/more\n",
    );
    put(t.path(), "/etc/more", "DONE=yes\n");
    let want = getconfig(
        &py,
        &[Job::File(t.path().to_path_buf(), PathBuf::from(file))],
    )
    .remove(0)
    .unwrap();
    assert_eq!(want["NL"], "one two");
    assert_eq!(want["SQ"], "x y");
    assert_eq!(want["HASH"], "ab");
    assert_eq!(want["DONE"], "yes");
    for (name, value) in &want {
        let o = Cmd::new("edit")
            .arg(file)
            .root(t.path())
            .args(["--get", name])
            .run();
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("{value}\n"),
            "{name}"
        );
    }
    let o = Cmd::new("edit")
        .arg(file)
        .root(t.path())
        .args(["--get", "NOPE"])
        .run();
    assert_eq!(o.status.code(), Some(1));
    // `+=` stops emerge: --get says so, naming the line.
    put(t.path(), file, "FEATURES=\"a\"\nFEATURES+=\"b\"\n");
    let o = Cmd::new("edit")
        .arg(file)
        .root(t.path())
        .args(["--get", "FEATURES"])
        .run();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("make.conf:2:"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Invalid variable name 'FEATURES+'"),
        "{}",
        stderr(&o)
    );
    // bash stays the judge elsewhere: a makepkg.conf value with $ in single quotes.
    put(t.path(), "/etc/makepkg.conf", "X='${A} y'\n");
    let o = Cmd::new("edit")
        .arg("/etc/makepkg.conf")
        .root(t.path())
        .args(["--get", "X"])
        .run();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "${A} y\n");
}

/// `doctor --json`'s finding `check` whose subject contains `subject`: (status, message).
fn finding(v: &serde_json::Value, check: &str, subject: &str) -> (String, String) {
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check && f["subject"].as_str().unwrap().contains(subject))
        .unwrap_or_else(|| panic!("no {check} finding for {subject}: {v:#}"));
    (
        f["status"].as_str().unwrap().to_string(),
        f["message"].as_str().unwrap().to_string(),
    )
}

fn doctor(root: &Path) -> serde_json::Value {
    let dead = crate::support::free_port();
    let o = Cmd::new("doctor")
        .args(["--root"])
        .arg(root)
        .args(["--profile", "gentoo", "--hosts"])
        .arg(format!("127.0.0.1:{dead}/2"))
        .args(["--speed-rounds", "0", "--json"])
        .run();
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)))
}

#[test]
fn case8_doctor_reads_make_conf_as_portage_does() {
    let Some(py) = python() else { return };
    // FEATURES from a sourced file, and a value bash reads otherwise (`$` in single
    // quotes): Portage reads distcc in FEATURES, bash would not.
    let t = tempfile::tempdir().unwrap();
    put(
        t.path(),
        "/etc/portage/make.conf",
        "D=\"distcc\"\nFEATURES='${D}'\nMAKEOPTS=\"-j8\"\nsource /etc/portage/more.conf\n",
    );
    put(
        t.path(),
        "/etc/portage/more.conf",
        "FEATURES=\"${FEATURES} ccache\"\n",
    );
    assert_eq!(portage(&py, t.path())["FEATURES"], "distcc ccache");
    let v = doctor(t.path());
    let (status, message) = finding(&v, "switch", "FEATURES");
    assert_eq!(status, "ok", "{message}");
    // A file emerge cannot parse is reported as broken, with Portage's reason and line.
    put(
        t.path(),
        "/etc/portage/make.conf",
        "MAKEOPTS=\"-j8\"\nFEATURES=(distcc)\n",
    );
    assert!(getconfig(&py, &[Job::MakeConf(t.path().to_path_buf())])[0].is_err());
    let v = doctor(t.path());
    let (status, message) = finding(&v, "switch", "make.conf");
    assert_eq!(status, "broken", "{message}");
    assert!(message.contains("/etc/portage/make.conf:2:"), "{message}");
    assert!(message.contains("Portage will not read"), "{message}");
}

#[test]
fn edit_refuses_a_change_that_a_file_read_later_overrides() {
    let Some(py) = python() else { return };
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "/etc/make.conf", "MAKEOPTS=\"-j2\"\nUSE=\"X\"\n");
    put(t.path(), "/etc/portage/make.conf", "MAKEOPTS=\"-j3\"\n");
    // /etc/portage/make.conf is read after /etc/make.conf and wins.
    let o = edit(t.path(), "/etc/make.conf", &["--set", "MAKEOPTS=-j9"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("etc/portage/make.conf:1:"), "{err}");
    assert!(err.contains("Portage takes this value"), "{err}");
    assert_eq!(portage(&py, t.path())["MAKEOPTS"], "-j3");
    // Unsetting it in the later file is what was asked; the earlier value shows again.
    let o = edit(t.path(), "/etc/portage/make.conf", &["--unset", "MAKEOPTS"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(portage(&py, t.path())["MAKEOPTS"], "-j2");
    // A variable no later file sets is edited in the legacy file.
    let o = edit(t.path(), "/etc/make.conf", &["--add", "USE=wayland"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(portage(&py, t.path())["USE"], "X wayland");
}
