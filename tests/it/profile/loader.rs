//! Distro profiles: every embedded one loads and validates, user overrides win, explicit
//! files load, and each kind of validation error says file, key and problem exactly.

use std::path::{Path, PathBuf};

use distsetup::cores::JobsRule;
use distsetup::profile::{self, Error, Loader, Origin};

fn embedded_text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("distro-profiles")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).unwrap()
}

/// Parse `text` as if it were the file `/etc/distsetup-test/NAME.toml`.
fn parse_as_file(text: &str) -> Result<profile::Profile, Error> {
    profile::parse(text, Origin::File(PathBuf::from("/p/archarm.toml")))
}

/// The archarm text with one exact substring replaced (the substring must exist).
fn archarm_with(from: &str, to: &str) -> String {
    let text = embedded_text("archarm");
    assert!(text.contains(from), "archarm.toml has no `{from}`");
    text.replacen(from, to, 1)
}

fn err(text: &str) -> String {
    parse_as_file(text).unwrap_err().to_string()
}

#[test]
fn every_embedded_profile_loads_and_validates() {
    let list = Loader::with_user_dir(None).list().unwrap();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["arch", "archarm", "debian", "gentoo", "void"]);
    let loader = Loader::with_user_dir(None);
    for s in &list {
        assert!(!s.description.is_empty());
        let p = loader.load(&s.name).unwrap();
        assert_eq!(p.name, s.name);
        assert_eq!(p.origin, Origin::Embedded);
        assert_eq!(p.volunteer.port, 3632);
        assert_eq!(p.volunteer.stats_port, 3633);
        assert_eq!(p.volunteer.whitelist_dir, Path::new("/usr/lib/distcc"));
        assert_eq!(p.known_toolchains().len(), 5, "{}", s.name);
        assert!(p.describe().starts_with(&format!("{}: ", s.name)));
    }
}

#[test]
fn every_jobs_rule_cites_its_source_in_a_comment_and_a_field() {
    for name in ["arch", "archarm", "debian", "gentoo", "void"] {
        let text = embedded_text(name);
        let jobs = &text[text.find("[jobs]").unwrap()..];
        let section = &jobs[..jobs.find("\n[").unwrap_or(jobs.len())];
        assert!(
            section
                .lines()
                .any(|l| l.starts_with("# ") && (l.contains("http") || l.contains("distcc(1)"))),
            "{name}: [jobs] has no cited source comment"
        );
        let p = Loader::with_user_dir(None).load(name).unwrap();
        assert!(p.jobs.source.contains("https://") || p.jobs.source.contains("distcc(1)"));
    }
}

#[test]
fn archarm_states_the_master_facts() {
    let p = Loader::with_user_dir(None).load("archarm").unwrap();
    let triples: Vec<(&str, &str)> = p
        .client
        .triples
        .iter()
        .map(|t| (t.arch.as_str(), t.triple.as_str()))
        .collect();
    assert_eq!(
        triples,
        [
            ("armv7h", "armv7l-unknown-linux-gnueabihf"),
            ("aarch64", "aarch64-unknown-linux-gnu"),
            ("armv6h", "armv6l-unknown-linux-gnueabihf")
        ]
    );
    let m = p.client.makepkg.as_ref().unwrap();
    assert_eq!(m.config, Path::new("/etc/makepkg.conf"));
    assert_eq!(
        m.dropin_dir.as_deref(),
        Some(Path::new("/etc/makepkg.conf.d"))
    );
    assert_eq!(
        (m.enable.variable.as_str(), m.enable.word.as_str()),
        ("BUILDENV", "distcc")
    );
    assert_eq!(m.enable.negated.as_deref(), Some("!distcc"));
    assert_eq!(
        (m.hosts_variable.as_str(), m.jobs_variable.as_str()),
        ("DISTCC_HOSTS", "MAKEFLAGS")
    );
    assert_eq!(
        p.client.masquerade_dir.as_deref(),
        Some(Path::new("/usr/lib/distcc/bin"))
    );
    assert!(p.client.masquerade_shipped);
    assert_eq!(p.jobs.rule, JobsRule::Measured);
    assert_eq!(
        p.arch_for_triple("aarch64-unknown-linux-gnu"),
        Some("aarch64")
    );
    assert_eq!(p.volunteer.args_variable.as_deref(), Some("DISTCC_ARGS"));
}

#[test]
fn toolchain_catalog_names_triples_ports_and_services() {
    let p = Loader::with_user_dir(None).load("arch").unwrap();
    let row = |n: &str| {
        let t = p.toolchain(n).unwrap();
        (
            t.triple.clone(),
            t.serves.join(","),
            t.port,
            p.toolchain_service(t),
        )
    };
    assert_eq!(
        row("x-tools"),
        (
            "arm-unknown-linux-gnueabi".into(),
            "armv5tel-unknown-linux-gnueabi".into(),
            3637,
            "distccd-armv5".into()
        )
    );
    assert_eq!(
        row("x-tools6h"),
        (
            "arm-unknown-linux-gnueabihf".into(),
            "armv6l-unknown-linux-gnueabihf".into(),
            3634,
            "distccd-armv6h".into()
        )
    );
    assert_eq!(
        row("x-tools7h"),
        (
            "arm-unknown-linux-gnueabihf".into(),
            "armv7l-unknown-linux-gnueabihf".into(),
            3635,
            "distccd-armv7h".into()
        )
    );
    assert_eq!(
        row("x-tools8"),
        (
            "aarch64-unknown-linux-gnu".into(),
            "aarch64-unknown-linux-gnu".into(),
            3636,
            "distccd-armv8".into()
        )
    );
    assert_eq!(
        row("x-tools86"),
        (
            "x86_64-pc-linux-gnu".into(),
            "x86_64-pc-linux-gnu".into(),
            3632,
            "distccd-x86_64".into()
        )
    );
    let t = p.toolchain("x-tools7h").unwrap();
    assert_eq!(
        p.toolchain_config(t),
        Path::new("/etc/conf.d/distccd-armv7h")
    );
    let g = Loader::with_user_dir(None).load("gentoo").unwrap();
    assert_eq!(
        g.toolchain_service(g.toolchain("x-tools7h").unwrap()),
        "distccd.armv7h"
    );
}

#[test]
fn gentoo_and_debian_differ_where_they_should() {
    let loader = Loader::with_user_dir(None);
    let g = loader.load("gentoo").unwrap();
    let pt = g.client.portage.as_ref().unwrap();
    assert_eq!(pt.config, Path::new("/etc/portage/make.conf"));
    assert_eq!(
        (pt.enable.variable.as_str(), pt.jobs_variable.as_str()),
        ("FEATURES", "MAKEOPTS")
    );
    assert!(g.client.makepkg.is_none());
    assert_eq!(g.jobs.rule, JobsRule::TwiceAllPlusOneLoadLocal);
    for t in [
        "armv6j-hardfloat-linux-gnueabi",
        "armv7a-unknown-linux-gnueabihf",
        "aarch64-unknown-linux-gnu",
        "x86_64-pc-linux-gnu",
    ] {
        assert!(g.arch_for_triple(t).is_some(), "gentoo lacks {t}");
    }
    assert_eq!(g.volunteer.args_variable.as_deref(), Some("DISTCCD_OPTS"));

    let d = loader.load("debian").unwrap();
    assert!(
        !d.client.masquerade_shipped,
        "Debian's distcc has no /usr/lib/distcc/bin"
    );
    assert!(d.client.makepkg.as_ref().unwrap().dropin_dir.is_none());
    assert_eq!(d.volunteer.config, Path::new("/etc/default/distcc"));
    assert_eq!(d.volunteer.allow_variable.as_deref(), Some("ALLOWEDNETS"));
    for t in [
        "x86_64-linux-gnu",
        "aarch64-linux-gnu",
        "arm-linux-gnueabihf",
    ] {
        assert!(d.arch_for_triple(t).is_some(), "debian lacks {t}");
    }
}

#[test]
fn a_user_override_wins_and_extra_user_profiles_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let text = archarm_with(
        "description = \"Arch Linux ARM master (armv7h, aarch64, armv6h) building with makepkg\"",
        "description = \"my own archarm\"",
    );
    std::fs::write(dir.path().join("archarm.toml"), text).unwrap();
    let mine = embedded_text("arch").replacen("name = \"arch\"", "name = \"mybox\"", 1);
    std::fs::write(dir.path().join("mybox.toml"), mine).unwrap();

    let loader = Loader::with_user_dir(Some(dir.path().to_path_buf()));
    let p = loader.load("archarm").unwrap();
    assert_eq!(p.description, "my own archarm");
    assert_eq!(
        p.origin,
        Origin::UserConfig(dir.path().join("archarm.toml"))
    );
    let list = loader.list().unwrap();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["arch", "archarm", "debian", "gentoo", "mybox", "void"]
    );
    // Without the user directory the embedded one is back.
    let embedded = Loader::with_user_dir(None).load("archarm").unwrap();
    assert_ne!(embedded.description, "my own archarm");
}

#[test]
fn a_user_override_must_carry_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("archarm.toml");
    std::fs::write(
        &path,
        archarm_with("name = \"archarm\"", "name = \"other\""),
    )
    .unwrap();
    let e = Loader::with_user_dir(Some(dir.path().to_path_buf()))
        .load("archarm")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: `name`: `other` does not match the file name `archarm.toml`",
            path.display()
        )
    );
}

#[test]
fn an_explicit_file_loads_and_a_missing_one_is_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("anything.toml");
    std::fs::write(&path, embedded_text("gentoo")).unwrap();
    let p = profile::load_file(&path).unwrap();
    assert_eq!(
        (p.name.as_str(), p.origin.clone()),
        ("gentoo", Origin::File(path.clone()))
    );

    let missing = dir.path().join("nope.toml");
    let e = profile::load_file(&missing).unwrap_err();
    assert!(matches!(e, Error::Read { .. }));
    assert!(
        e.to_string()
            .starts_with(&format!("{}: cannot read profile: ", missing.display()))
    );
}

#[test]
fn the_default_list_includes_the_embedded_profiles() {
    // Whatever the user's own directory holds, the embedded names are there.
    let names: Vec<String> = profile::list()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    for n in ["arch", "archarm", "debian", "gentoo", "void"] {
        assert!(names.iter().any(|x| x == n), "{names:?}");
    }
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let e = Loader::with_user_dir(None).load("slackware").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown profile `slackware`; known profiles: arch, archarm, debian, gentoo, void"
    );
}

#[test]
fn unknown_key_is_named_with_its_position() {
    let text = archarm_with(
        "user = \"distcc\"\n",
        "user = \"distcc\"\ncolour = \"red\"\n",
    );
    let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
    let e = err(&text);
    assert!(
        e.starts_with(&format!("/p/archarm.toml:{line}:1: unknown field `colour`, expected one of `whitelist-dir`, `port`")),
        "{e}"
    );
}

#[test]
fn an_unknown_key_in_an_embedded_profile_names_the_embedded_file() {
    let text = archarm_with("[jobs]\n", "[jobs]\nspeed = 1\n");
    let e = profile::parse(&text, Origin::Embedded)
        .unwrap_err()
        .to_string();
    let line = text.lines().position(|l| l.starts_with("speed")).unwrap() + 1;
    assert_eq!(
        e,
        format!(
            "distro-profiles/archarm.toml (embedded):{line}:1: unknown field `speed`, expected `rule` or `source`"
        )
    );
}

#[test]
fn bad_triple_is_rejected_with_its_key() {
    let e = err(&archarm_with(
        "triple = \"aarch64-unknown-linux-gnu\"",
        "triple = \"AArch64\"",
    ));
    assert_eq!(
        e,
        "/p/archarm.toml: `client.triples[1].triple`: `AArch64` is not a target triple: it needs 2 to 4 parts separated by `-` (expected ARCH-VENDOR-OS[-ABI], e.g. x86_64-pc-linux-gnu)"
    );
    let e = err(&archarm_with(
        "triple = \"aarch64-unknown-linux-gnu\"",
        "triple = \"aarch64-Unknown-linux-gnu\"",
    ));
    assert_eq!(
        e,
        "/p/archarm.toml: `client.triples[1].triple`: `aarch64-Unknown-linux-gnu` is not a target triple: only lowercase letters, digits, `_` and `.` are allowed (expected ARCH-VENDOR-OS[-ABI], e.g. x86_64-pc-linux-gnu)"
    );
}

#[test]
fn port_zero_is_rejected() {
    assert_eq!(
        err(&archarm_with("port = 3632", "port = 0")),
        "/p/archarm.toml: `volunteer.port`: port 0 is not allowed (use 1-65535)"
    );
}

#[test]
fn a_port_out_of_range_is_a_syntax_error_with_position() {
    let text = archarm_with("port = 3632", "port = 70000");
    let line = text.lines().position(|l| l == "port = 70000").unwrap() + 1;
    let e = err(&text);
    assert!(e.starts_with(&format!("/p/archarm.toml:{line}:8: ")), "{e}");
}

#[test]
fn stats_port_equal_to_port_is_rejected() {
    assert_eq!(
        err(&archarm_with("stats-port = 3633", "stats-port = 3632")),
        "/p/archarm.toml: `volunteer.stats-port`: port 3632 is also volunteer.port"
    );
}

#[test]
fn relative_paths_are_rejected() {
    assert_eq!(
        err(&archarm_with(
            "config = \"/etc/makepkg.conf\"",
            "config = \"etc/makepkg.conf\""
        )),
        "/p/archarm.toml: `client.makepkg.config`: `etc/makepkg.conf` is not an absolute path"
    );
}

#[test]
fn a_bad_variable_name_is_rejected() {
    assert_eq!(
        err(&archarm_with(
            "jobs-variable = \"MAKEFLAGS\"",
            "jobs-variable = \"MAKE FLAGS\""
        )),
        "/p/archarm.toml: `client.makepkg.jobs-variable`: `MAKE FLAGS` is not a shell variable name"
    );
}

#[test]
fn a_rule_that_does_not_exist_is_rejected() {
    let text = archarm_with("rule = \"measured\"", "rule = \"nproc\"");
    let e = err(&text);
    assert!(
        e.contains("unknown variant `nproc`, expected one of `local-cores-plus-one`"),
        "{e}"
    );
}

#[test]
fn profile_toolchains_extend_the_catalog_and_are_validated() {
    let extra = "\n[[toolchains]]\nname = \"x-tools-rpi\"\ntriple = \"armv6-rpi-linux-gnueabi\"\nserves = [\"armv6j-hardfloat-linux-gnueabi\"]\nunit-suffix = \"rpi\"\nport = 3640\ndescription = \"Raspberry Pi crosstool-ng sample\"\n";
    let p = parse_as_file(&(embedded_text("archarm") + extra)).unwrap();
    assert_eq!(p.known_toolchains().len(), 6);
    assert_eq!(
        p.toolchain("x-tools-rpi").unwrap().triple,
        "armv6-rpi-linux-gnueabi"
    );

    let clash = extra.replace("port = 3640", "port = 3635");
    assert_eq!(
        err(&(embedded_text("archarm") + &clash)),
        "/p/archarm.toml: `toolchains.x-tools7h.port`: port 3635 is also used by toolchain `x-tools-rpi`"
    );
    let bad = extra.replace("triple = \"armv6-rpi-linux-gnueabi\"", "triple = \"rpi\"");
    assert_eq!(
        err(&(embedded_text("archarm") + &bad)),
        "/p/archarm.toml: `toolchains[0].triple`: `rpi` is not a target triple: it needs 2 to 4 parts separated by `-` (expected ARCH-VENDOR-OS[-ABI], e.g. x86_64-pc-linux-gnu)"
    );
}

#[test]
fn toolchain_service_needs_the_suffix_placeholder() {
    assert_eq!(
        err(&archarm_with(
            "toolchain-service = \"distccd-{suffix}\"",
            "toolchain-service = \"distccd-cross\""
        )),
        "/p/archarm.toml: `volunteer.toolchain-service`: must contain `{suffix}`"
    );
}

#[test]
fn broken_toml_is_a_syntax_error_with_line_and_column() {
    let e = err("name = \"archarm\"\ndescription = \n");
    assert!(e.starts_with("/p/archarm.toml:2:"), "{e}");
}

#[test]
fn describe_mentions_the_facts_a_user_checks() {
    let d = Loader::with_user_dir(None)
        .load("debian")
        .unwrap()
        .describe();
    for needle in [
        "/etc/makepkg.conf",
        "BUILDENV gains `distcc`",
        "/usr/lib/distcc/bin (not shipped by the distro's distcc package)",
        "aarch64-linux-gnu (arm64)",
        "-j = remote slots + localhost slots + 1 (measured)",
        "/etc/default/distcc (shell)",
        "service: distcc via sysv (/etc/init.d/distcc)",
        "x-tools8: aarch64-unknown-linux-gnu",
    ] {
        assert!(d.contains(needle), "describe lacks {needle:?}:\n{d}");
    }
}
