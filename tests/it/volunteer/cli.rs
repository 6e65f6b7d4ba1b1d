//! `distsetup volunteer` through the real binary, with crosstool-ng style trees made of
//! Debian's cross compilers: the plan, modes, idempotence, undo, every service flavour,
//! the distccd configuration files, and every refusal (nothing written).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use crate::support::volunteer::{distsetup, text, tree, unit_value, volunteer};
use crate::support::{Root, XTools, free_port};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/volunteer");

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn link(p: &Path) -> String {
    std::fs::read_link(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .display()
        .to_string()
}

#[test]
fn embedded_x_tools8_dry_run_apply_idempotent_check_undo() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port().to_string();
    let args = |mode: &'static str| {
        vec![
            "volunteer",
            "--profile",
            "debian",
            "--root",
            s(&root),
            "--toolchain",
            s(&tc),
            "--allow",
            "10.0.0.0/24",
            "--allow",
            "192.168.1.7",
            "--jobs",
            "3",
            "--port",
            &port,
            mode,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<String>>()
    };
    let run = |mode: &'static str| {
        let a = args(mode);
        distsetup(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let dry = run("--dry-run");
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry));
    assert!(tree(&root).is_empty(), "dry run wrote {:?}", tree(&root));
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.contains("+++ b/usr/lib/distsetup/x-tools8/bin/gcc (symlink)"),
        "{out}"
    );
    assert!(
        out.contains("+++ b/etc/systemd/system/distsetup-serve-x-tools8.service"),
        "{out}"
    );

    let check = run("--check");
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(tree(&root).is_empty());

    let yes = run("--yes");
    assert_eq!(yes.status.code(), Some(0), "{}", text(&yes));
    let bin = tc.join("aarch64-unknown-linux-gnu/bin");
    let alias = root.join("usr/lib/distsetup/x-tools8/bin");
    for (name, target) in [
        ("gcc", "aarch64-unknown-linux-gnu-gcc"),
        ("cc", "aarch64-unknown-linux-gnu-gcc"),
        ("g++", "aarch64-unknown-linux-gnu-g++"),
        ("c++", "aarch64-unknown-linux-gnu-g++"),
        ("cpp", "aarch64-unknown-linux-gnu-cpp"),
        // Missing in the toolchain: made in our directory.
        (
            "aarch64-unknown-linux-gnu-cc",
            "aarch64-unknown-linux-gnu-gcc",
        ),
        (
            "aarch64-unknown-linux-gnu-c++",
            "aarch64-unknown-linux-gnu-g++",
        ),
    ] {
        assert_eq!(
            link(&alias.join(name)),
            bin.join(target).display().to_string()
        );
    }
    // The plain name really compiles for aarch64.
    let obj = t.path().join("t.o");
    let src = t.path().join("t.c");
    std::fs::write(&src, "int f(void) { return 1; }\n").unwrap();
    let cc = Command::new(alias.join("cc"))
        .args(["-c", s(&src), "-o", s(&obj)])
        .output()
        .unwrap();
    assert!(cc.status.success(), "{cc:?}");
    assert_eq!(
        distsetup::toolchain::elf_machine(&std::fs::read(&obj).unwrap()).as_deref(),
        Some("aarch64")
    );

    let unit =
        std::fs::read_to_string(root.join("etc/systemd/system/distsetup-serve-x-tools8.service"))
            .unwrap();
    let exec = unit_value(&unit, "ExecStart").unwrap();
    let expected = format!(
        "{} serve --port {port} --allow 10.0.0.0/24 --allow 192.168.1.7 --jobs 3 \
         --toolchain /usr/lib/distsetup/x-tools8/bin --stats --stats-port {}",
        env!("CARGO_BIN_EXE_distsetup"),
        port.parse::<u16>().unwrap() + 1000
    );
    assert!(exec.starts_with(&expected), "{exec}\n{expected}");
    assert_eq!(
        unit_value(&unit, "Environment").unwrap(),
        format!(
            "PATH=/usr/lib/distsetup/x-tools8/bin:{}:/usr/local/bin:/usr/bin:/bin",
            bin.display()
        )
    );
    for hardening in [
        "DynamicUser=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ] {
        assert!(
            unit.lines().any(|l| l == hardening),
            "{hardening} missing:\n{unit}"
        );
    }
    assert!(!unit.contains('$'), "systemd would expand $ in:\n{unit}");

    let again = run("--yes");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to change"));
    let check = run("--check");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));

    let undo = distsetup(&["undo", "--root", s(&root), "--yes"]);
    assert_eq!(undo.status.code(), Some(0), "{}", text(&undo));
    let left: Vec<String> = tree(&root)
        .into_iter()
        .filter(|p| !p.starts_with("var"))
        .collect();
    assert!(left.is_empty(), "undo left {left:?}");
}

#[test]
fn systemd_accepts_the_written_unit() {
    let have_analyze = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok();
    if !crate::support::require("systemd-analyze", have_analyze) {
        return;
    }
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    for server in ["embedded", "distccd"] {
        let port = free_port();
        let o = volunteer()
            .root(&root)
            .toolchain(&tc)
            .port(port)
            .args([
                "--allow",
                "10.0.0.0/24",
                "--server",
                server,
                "--profile",
                "archarm",
                "--yes",
            ])
            .run();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    for unit in ["distsetup-serve-x-tools8.service", "distccd-armv8.service"] {
        let path = root.join("etc/systemd/system").join(unit);
        // ExecStart must name an existing program for verify: point distccd's at the real one.
        let v = Command::new("systemd-analyze")
            .args(["verify", s(&path)])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&v.stderr);
        let relevant: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.contains(unit) && !l.contains("not executable") && !l.contains("No such file")
            })
            .collect();
        assert!(relevant.is_empty(), "{unit}: {stderr}");
        // Issue 12: the sandboxing rates "OK" (exposure 2.0 or less) or better.
        let sec = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", s(&path)])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&sec.stdout);
        let exposure: f64 = out
            .lines()
            .find_map(|l| {
                l.split_once("Overall exposure level for ")?
                    .1
                    .split_once(": ")
            })
            .and_then(|(_, v)| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("{unit}: no exposure in {out}"));
        eprintln!("{unit}: exposure {exposure}");
        assert!(exposure <= 2.0, "{unit}: exposure {exposure}\n{out}");
    }
}

#[test]
fn master_aliases_from_flag_and_profile_with_openrc_script() {
    let t = Root::new();
    let tc = XTools::new("x-tools6h", "armv6-rpi-linux-gnueabi")
        .using_debian("arm-linux-gnueabihf")
        .build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port();
    let o = volunteer()
        .root(&root)
        .toolchain(&tc)
        .port(port)
        .args([
            "--profile",
            "gentoo",
            "--alias",
            "armv6j-hardfloat-linux-gnueabi=armv6-rpi-linux-gnueabi",
            "--allow",
            "192.168.0.0/24",
            "--yes",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let alias = root.join("usr/lib/distsetup/x-tools6h/bin");
    let bin = tc.join("armv6-rpi-linux-gnueabi/bin");
    // From --alias, and from x-tools6h's `serves` in the profile.
    for master in [
        "armv6j-hardfloat-linux-gnueabi",
        "armv6l-unknown-linux-gnueabihf",
    ] {
        assert_eq!(
            link(&alias.join(format!("{master}-gcc"))),
            bin.join("armv6-rpi-linux-gnueabi-gcc")
                .display()
                .to_string()
        );
        assert_eq!(
            link(&alias.join(format!("{master}-cc"))),
            bin.join("armv6-rpi-linux-gnueabi-gcc")
                .display()
                .to_string()
        );
    }
    let script = root.join("etc/init.d/distsetup-serve-x-tools6h");
    let text_ = std::fs::read_to_string(&script).unwrap();
    assert!(text_.starts_with("#!/sbin/openrc-run\n"), "{text_}");
    assert!(text_.contains("--alias armv6j-hardfloat-linux-gnueabi=armv6-rpi-linux-gnueabi"));
    assert!(text_.contains("command_user=distcc"), "{text_}");
    let mode = std::fs::metadata(&script).unwrap().permissions().mode();
    assert_eq!(mode & 0o755, 0o755, "{mode:o}");
    let sh = Command::new("sh")
        .args(["-n", s(&script)])
        .output()
        .unwrap();
    assert!(sh.status.success(), "{sh:?}");
    // The mapping is printed.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("armv6j-hardfloat-linux-gnueabi-*")
            && out.contains("→ armv6-rpi-linux-gnueabi-*"),
        "{out}"
    );
}

#[test]
fn void_gets_a_runit_run_script() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port();
    let o = volunteer()
        .root(&root)
        .toolchain(&tc)
        .port(port)
        .args(["--profile", "void", "--allow", "10.0.0.0/8", "--yes"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let run = root.join("etc/sv/distsetup-serve-x-tools8/run");
    let script = std::fs::read_to_string(&run).unwrap();
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(script.contains("exec chpst -u nobody "), "{script}");
    assert!(script.contains(&format!("--port {port}")), "{script}");
    assert_eq!(
        std::fs::metadata(&run).unwrap().permissions().mode() & 0o755,
        0o755
    );
    let sh = Command::new("sh").args(["-n", s(&run)]).output().unwrap();
    assert!(sh.status.success(), "{sh:?}");
}

fn distccd_run(
    profile: &str,
    conf: Option<(&str, &str)>,
    tcname: &str,
) -> (Root, std::process::Output) {
    let t = Root::new();
    let tc = match tcname {
        "x-tools8" => XTools::aarch64().build_in(t.path()),
        // This machine's own architecture: a native volunteer.
        "x-tools86" => XTools::new("x-tools86", "x86_64-pc-linux-gnu")
            .using_debian("x86_64-linux-gnu")
            .build_in(t.path()),
        _ => XTools::new("x-tools7h", "arm-unknown-linux-gnueabihf")
            .using_debian("arm-linux-gnueabihf")
            .build_in(t.path()),
    };
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    if let Some((fixture, dest)) = conf {
        let d = root.join(dest.trim_start_matches('/'));
        std::fs::create_dir_all(d.parent().unwrap()).unwrap();
        std::fs::copy(Path::new(FIXTURES).join(fixture), &d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    // The distro's own whitelist entries.
    let wl = root.join("usr/lib/distcc");
    std::fs::create_dir_all(&wl).unwrap();
    std::os::unix::fs::symlink("../../bin/distcc", wl.join("gcc")).unwrap();
    let o = volunteer_distccd(&root, &tc, profile);
    (t, o)
}

/// `volunteer --server distccd` for `profile`: allow 10.0.0.0/24, 4 jobs, a free port.
fn volunteer_distccd(root: &Path, tc: &Path, profile: &str) -> std::process::Output {
    volunteer()
        .root(root)
        .toolchain(tc)
        .port(free_port())
        .args([
            "--profile",
            profile,
            "--server",
            "distccd",
            "--allow",
            "10.0.0.0/24",
            "--jobs",
            "4",
            "--yes",
        ])
        .run()
}

#[test]
fn distccd_on_arch_arm_native_edits_distcc_args() {
    let (t, o) = distccd_run(
        "archarm",
        Some(("arch-conf.d-distccd", "/etc/conf.d/distccd")),
        "x-tools86",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conf = std::fs::read_to_string(t.path().join("root/etc/conf.d/distccd")).unwrap();
    let expected = std::fs::read_to_string(Path::new(FIXTURES).join("arch-conf.d-distccd"))
        .unwrap()
        .replace(
            "DISTCC_ARGS=\"--allow 127.0.0.1 --log-level error\"",
            "DISTCC_ARGS=\"--log-level error --allow 10.0.0.0/24 --jobs 4\"",
        );
    assert_eq!(conf, expected);
}

/// A cross toolchain gets its own unit and port: the system distccd (this machine's
/// native compiler on 3632) keeps its allow list and listen address, on every distro.
#[test]
fn distccd_with_a_cross_toolchain_leaves_the_system_daemon_config_alone() {
    for (profile, fixture, dest) in [
        ("archarm", "arch-conf.d-distccd", "/etc/conf.d/distccd"),
        ("debian", "debian-default-distcc", "/etc/default/distcc"),
        ("gentoo", "gentoo-conf.d-distccd", "/etc/conf.d/distccd"),
    ] {
        let (t, o) = distccd_run(profile, Some((fixture, dest)), "x-tools8");
        assert_eq!(o.status.code(), Some(0), "{profile}: {}", text(&o));
        let conf = std::fs::read(t.path().join("root").join(&dest[1..])).unwrap();
        let original = std::fs::read(Path::new(FIXTURES).join(fixture)).unwrap();
        assert!(
            conf == original,
            "{profile}: {dest} was changed:\n{}",
            String::from_utf8_lossy(&conf)
        );
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("configuration (") && out.contains("is left alone"),
            "{profile}: {out}"
        );
    }
    for (profile, config) in [
        ("archarm", "etc/conf.d/distccd"),
        ("void", "etc/distcc/clients.allow"),
    ] {
        let (t, o) = distccd_run(profile, None, "x-tools8");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(
            !t.path().join("root").join(config).exists(),
            "{profile}: {config} created"
        );
    }
}

#[test]
fn distccd_on_arch_arm_writes_a_unit_per_toolchain() {
    let (t, o) = distccd_run(
        "archarm",
        Some(("arch-conf.d-distccd", "/etc/conf.d/distccd")),
        "x-tools8",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let root = t.path().join("root");
    let wl = root.join("usr/lib/distcc");
    for name in [
        "aarch64-unknown-linux-gnu-gcc",
        "aarch64-unknown-linux-gnu-g++",
        "cc",
        "c++",
    ] {
        assert_eq!(link(&wl.join(name)), "../../bin/distcc", "{name}");
    }
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("already whitelisted in /usr/lib/distcc: gcc")
    );
    let unit =
        std::fs::read_to_string(root.join("etc/systemd/system/distccd-armv8.service")).unwrap();
    assert_eq!(unit_value(&unit, "User").as_deref(), Some("distcc"));
    let path = unit_value(&unit, "Environment").unwrap();
    assert!(
        path.starts_with("PATH=/usr/lib/distsetup/x-tools8/bin:/"),
        "{path}"
    );
    assert!(!unit.contains('$'), "{unit}");
    let exec = unit_value(&unit, "ExecStart").unwrap();
    assert!(
        exec.starts_with("/usr/bin/distccd --no-detach --daemon --port "),
        "{exec}"
    );
    assert!(
        exec.contains(
            "--allow 10.0.0.0/24 --jobs 4 --log-file /var/log/distccd-armv8/distccd-armv8.log"
        ),
        "{exec}"
    );
}

#[test]
fn distccd_on_gentoo_rewrites_the_cumulative_allow_line_only() {
    let (t, o) = distccd_run(
        "gentoo",
        Some(("gentoo-conf.d-distccd", "/etc/conf.d/distccd")),
        "x-tools86",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let root = t.path().join("root");
    let conf = std::fs::read_to_string(root.join("etc/conf.d/distccd")).unwrap();
    let original =
        std::fs::read_to_string(Path::new(FIXTURES).join("gentoo-conf.d-distccd")).unwrap();
    let expected = original.replace(
        "DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 10.7.0.0/24\"\n",
        "DISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 10.0.0.0/24\"\n",
    ) + "# Added by distsetup volunteer.\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --jobs 4\"\n";
    assert_eq!(conf, expected);
    // What the OpenRC script will see, according to sh itself.
    let sh = Command::new("sh")
        .args([
            "-c",
            ". \"$1\"; printf %s \"$DISTCCD_OPTS\"",
            "sh",
            s(&root.join("etc/conf.d/distccd")),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sh.stdout),
        " --port 3632 --log-level critical --allow 10.0.0.0/24 -N 15 --jobs 4"
    );
    let script = root.join("etc/init.d/distccd.x86_64");
    let text_ = std::fs::read_to_string(&script).unwrap();
    assert!(text_.contains("command=/usr/bin/distccd"), "{text_}");
    assert!(text_.contains("--log-stderr"), "{text_}");
}

#[test]
fn distccd_on_debian_keeps_the_double_quoted_form_postinst_needs() {
    let (t, o) = distccd_run(
        "debian",
        Some(("debian-default-distcc", "/etc/default/distcc")),
        "x-tools86",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let root = t.path().join("root");
    let conf = std::fs::read_to_string(root.join("etc/default/distcc")).unwrap();
    for line in [
        "ALLOWEDNETS=\"10.0.0.0/24\"",
        "JOBS=\"4\"",
        "LISTENER=\"0.0.0.0\"",
        "# ALLOWEDNETS=\"127.0.0.1\"",
    ] {
        assert!(conf.lines().any(|l| l == line), "{line} missing:\n{conf}");
    }
    // Exactly the edit postinst's sed makes on these lines still matches.
    let sed = Command::new("sed")
        .args([
            "-n",
            "s/^ALLOWEDNETS=\"\\(.*\\)\"$/\\1/p",
            s(&root.join("etc/default/distcc")),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&sed.stdout), "10.0.0.0/24\n");
    let unit =
        std::fs::read_to_string(root.join("etc/systemd/system/distccd-x86_64.service")).unwrap();
    assert_eq!(unit_value(&unit, "User").as_deref(), Some("distccd"));
}

#[test]
fn distccd_with_an_arm_toolchain_on_x86_warns_about_plain_gcc() {
    let (_t, o) = distccd_run("archarm", None, "x-tools7h");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("WRONG ARCHITECTURE TRAP"), "{err}");
    assert!(
        err.contains("gcc, g++, cc, c++, cpp → the arm-unknown-linux-gnueabihf cross compiler"),
        "{err}"
    );
}

#[test]
fn distccd_mode_creates_missing_config() {
    let (t, o) = distccd_run("archarm", None, "x-tools86");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let conf = std::fs::read_to_string(t.path().join("root/etc/conf.d/distccd")).unwrap();
    assert_eq!(conf, "DISTCC_ARGS=\"--allow 10.0.0.0/24 --jobs 4\"\n");
}

/// Run `volunteer` expecting a refusal: exit code, a message, and an untouched root.
fn refused(extra: &[&str], prepare: impl FnOnce(&Path), code: i32, message: &str) {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    prepare(&root);
    let before = tree(&root);
    let mut args = vec![
        "volunteer",
        "--profile",
        "debian",
        "--root",
        s(&root),
        "--toolchain",
        s(&tc),
        "--yes",
    ];
    args.extend_from_slice(extra);
    let o = distsetup(&args);
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(message),
        "expected {message:?} in\n{}",
        text(&o)
    );
    assert_eq!(tree(&root), before, "something was written");
}

#[test]
fn refuses_an_empty_allow_list() {
    refused(&[], |_| {}, 2, "no --allow given");
}

#[test]
fn refuses_everyone_without_allow_anyone() {
    refused(&["--allow", "0.0.0.0/0"], |_| {}, 2, "pass --allow-anyone");
    refused(&["--allow", "::/0"], |_| {}, 2, "pass --allow-anyone");
    refused(
        &["--allow", "10.0.0.0/33"],
        |_| {},
        2,
        "not an IP address or CIDR",
    );
}

#[test]
fn allow_anyone_is_accepted_when_explicit() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let port = free_port();
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.path())
        .toolchain(&tc)
        .port(port)
        .args(["--allow-anyone", "--dry-run"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--allow 0.0.0.0/0"));
}

#[test]
fn refuses_a_toolchain_that_is_not_there_listing_where_it_looked() {
    let t = Root::new();
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.path())
        .toolchain("x-tools86")
        .args(["--allow", "10.0.0.0/24", "--yes"])
        .run();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("toolchain `x-tools86` not found; looked in:"),
        "{err}"
    );
    assert!(err.contains("/opt/x-tools86"), "{err}");
    assert!(tree(t.path()).is_empty());
}

#[test]
fn refuses_a_toolchain_for_another_target_than_the_master() {
    refused(
        &[
            "--allow",
            "10.0.0.0/24",
            "--alias",
            "armv7l-unknown-linux-gnueabihf=aarch64-unknown-linux-gnu",
        ],
        |_| {},
        2,
        "the master asks for armv7l-unknown-linux-gnueabihf (arm objects) but toolchain aarch64-unknown-linux-gnu builds aarch64 objects",
    );
}

#[test]
fn refuses_an_alias_that_shadows_the_native_compiler() {
    let native = Command::new("gcc").arg("-dumpmachine").output().unwrap();
    let native = String::from_utf8_lossy(&native.stdout).trim().to_string();
    if !crate::support::require(
        &format!("an x86_64 machine (native gcc is {native})"),
        native.starts_with("x86_64"),
    ) {
        return;
    }
    let alias = format!("{native}=aarch64-unknown-linux-gnu");
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.path())
        .toolchain(&tc)
        .args(["--allow", "10.0.0.0/24", "--alias", &alias, "--yes"])
        .run();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("would shadow this machine's native compiler")
            || err.contains("the master asks for"),
        "{err}"
    );
}

#[test]
fn refuses_a_bad_alias() {
    refused(
        &["--allow", "10.0.0.0/24", "--alias", "armv7l"],
        |_| {},
        2,
        "expected MASTER=LOCAL",
    );
    refused(
        &[
            "--allow",
            "10.0.0.0/24",
            "--alias",
            "aarch64-foo-linux-gnu=aarch64-linux-gnu",
        ],
        |_| {},
        2,
        "LOCAL must be this toolchain's prefix `aarch64-unknown-linux-gnu`",
    );
}

/// A port in use on this machine: `ports.rs` (checked on this machine, not under --root).
#[test]
fn refuses_distccds_stats_port() {
    refused(
        &["--allow", "10.0.0.0/24", "--port", "3633"],
        |_| {},
        2,
        "collides with distccd's default stats port",
    );
}

#[test]
fn refuses_a_port_another_toolchain_unit_uses() {
    let port = free_port();
    let p = port.to_string();
    refused(
        &["--allow", "10.0.0.0/24", "--port", &p],
        |root| {
            let d = root.join("etc/systemd/system");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(
                d.join("distccd-armv7h.service"),
                format!(
                    "[Service]\nExecStart=/usr/bin/distccd --no-detach --daemon --port {port}\n"
                ),
            )
            .unwrap();
        },
        2,
        "distccd-armv7h.service",
    );
}

#[test]
fn refuses_a_broken_symlink_in_the_whitelist() {
    refused(
        &["--allow", "10.0.0.0/24", "--server", "distccd"],
        |root| {
            let wl = root.join("usr/lib/distcc");
            std::fs::create_dir_all(&wl).unwrap();
            std::os::unix::fs::symlink(
                "/nonexistent/distcc",
                wl.join("aarch64-unknown-linux-gnu-g++"),
            )
            .unwrap();
        },
        2,
        "is a broken symlink (→ /nonexistent/distcc)",
    );
}

#[test]
fn never_overwrites_a_real_file_in_the_alias_directory() {
    refused(
        &["--allow", "10.0.0.0/24"],
        |root| {
            let d = root.join("usr/lib/distsetup/x-tools8/bin");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("gcc"), "#!/bin/sh\necho mine\n").unwrap();
        },
        2,
        "is a real file, not a link distsetup made",
    );
}

#[test]
fn refuses_to_silently_repoint_a_stale_alias_link() {
    refused(
        &["--allow", "10.0.0.0/24"],
        |root| {
            let d = root.join("usr/lib/distsetup/x-tools8/bin");
            std::fs::create_dir_all(&d).unwrap();
            std::os::unix::fs::symlink(
                "/old/x-tools8/bin/aarch64-unknown-linux-gnu-gcc",
                d.join("gcc"),
            )
            .unwrap();
        },
        2,
        "made by distsetup for another toolchain location",
    );
}

#[test]
fn foreground_needs_the_embedded_server() {
    refused(
        &[
            "--allow",
            "10.0.0.0/24",
            "--server",
            "distccd",
            "--foreground",
        ],
        |_| {},
        2,
        "--foreground runs the embedded server",
    );
}

#[test]
fn enable_under_root_only_writes_files() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let port = free_port();
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(t.path())
        .toolchain(&tc)
        .port(port)
        .args(["--allow", "10.0.0.0/24", "--enable", "--yes"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "under --root only files are written; on the target system run: systemctl enable --now distsetup-serve-x-tools8.service"
        ),
        "{}",
        text(&o)
    );
}

/// The real distro files from the corpus: each one edited for the system distccd reads back
/// (through sh) with our --allow and --jobs.
#[test]
fn corpus_daemon_configs_take_the_allow_list() {
    let Some(corpus) = crate::support::corpus() else {
        return;
    };
    let corpus = corpus.join("distccd");
    let mut checked = 0;
    for entry in std::fs::read_dir(&corpus).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let (profile, dest, var) = if name.contains("arch") && name.contains("conf.d-distccd") {
            ("archarm", "etc/conf.d/distccd", "DISTCC_ARGS")
        } else if name.contains("gentoo") && name.contains("conf.d-distccd")
            || name == "gentoo-sys-devel-distcc-files-3.1-conf"
        {
            ("gentoo", "etc/conf.d/distccd", "DISTCCD_OPTS")
        } else if name.contains("etc-default-distcc") {
            ("debian", "etc/default/distcc", "ALLOWEDNETS")
        } else {
            continue;
        };
        let t = Root::new();
        // A native volunteer: only then is the system distccd's configuration edited.
        let tc = XTools::new("x-tools86", "x86_64-pc-linux-gnu")
            .using_debian("x86_64-linux-gnu")
            .build_in(t.path());
        let root = t.path().join("root");
        let d = root.join(dest);
        std::fs::create_dir_all(d.parent().unwrap()).unwrap();
        std::fs::copy(entry.path(), &d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = volunteer_distccd(&root, &tc, profile);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let sh = Command::new("sh")
            .args([
                "-c",
                &format!(". \"$1\"; printf %s \"${var}\""),
                "sh",
                s(&d),
            ])
            .output()
            .unwrap();
        let seen = String::from_utf8_lossy(&sh.stdout).into_owned();
        assert!(seen.contains("10.0.0.0/24"), "{name}: {var}={seen:?}");
        assert!(
            !seen.contains("127.0.0.1") || profile == "gentoo",
            "{name}: old --allow kept: {seen:?}"
        );
        if profile != "debian" {
            assert!(seen.contains("--jobs 4"), "{name}: {var}={seen:?}");
            assert_eq!(seen.matches("--allow").count(), 1, "{name}: {var}={seen:?}");
        }
        // Every line we did not need to touch is still there.
        let original = std::fs::read_to_string(entry.path()).unwrap();
        let now = std::fs::read_to_string(&d).unwrap();
        for line in original.lines().filter(|l| l.starts_with('#')) {
            assert!(
                now.lines().any(|n| n == line),
                "{name}: lost comment {line:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} corpus files checked");
}

#[test]
fn other_layouts_a_bin_directory_and_a_system_triple() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let bin = tc.join("aarch64-unknown-linux-gnu/bin");
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port();
    // A bin directory given directly: named after its prefix.
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(&root)
        .toolchain(&bin)
        .port(port)
        .args(["--allow", "10.0.0.0/24", "--yes"])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(root.join("usr/lib/distsetup/x-tools8/bin/gcc").is_symlink());
    // Debian's cross compiler in /usr/bin, answering an Arch Linux ARM master's name.
    if !crate::support::require(
        "/usr/bin/aarch64-linux-gnu-gcc for the system triple",
        Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists(),
    ) {
        return;
    }
    let port = free_port();
    let o = volunteer()
        .args(["--profile", "debian"])
        .root(&root)
        .toolchain("aarch64-linux-gnu")
        .port(port)
        .args([
            "--allow",
            "10.0.0.0/24",
            "--alias",
            "aarch64-unknown-linux-gnu=aarch64-linux-gnu",
            "--yes",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let alias = root.join("usr/lib/distsetup/aarch64-linux-gnu/bin");
    assert_eq!(
        link(&alias.join("aarch64-unknown-linux-gnu-gcc")),
        "/usr/bin/aarch64-linux-gnu-gcc"
    );
    assert_eq!(link(&alias.join("cc")), "/usr/bin/aarch64-linux-gnu-gcc");
    let unit = std::fs::read_to_string(
        root.join("etc/systemd/system/distsetup-serve-aarch64-linux-gnu.service"),
    )
    .unwrap();
    assert!(
        unit.contains("--alias aarch64-unknown-linux-gnu=aarch64-linux-gnu"),
        "{unit}"
    );
    // The compiler's own directory is /usr/bin: PATH names it once.
    let path = unit
        .lines()
        .find_map(|l| l.strip_prefix("Environment=PATH="))
        .unwrap_or_else(|| panic!("no PATH in\n{unit}"));
    let dirs: Vec<&str> = path.split(':').collect();
    let mut unique = dirs.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), dirs.len(), "a directory twice in PATH={path}");
    assert!(dirs.contains(&"/usr/bin"), "PATH={path}");
}

#[test]
fn foreground_applies_then_runs_serve_with_the_units_arguments() {
    let t = Root::new();
    let tc = XTools::aarch64().build_in(t.path());
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_distsetup"))
        .args([
            "volunteer",
            "--profile",
            "debian",
            "--root",
            s(&root),
            "--toolchain",
            s(&tc),
        ])
        .args([
            "--allow",
            "127.0.0.1/32",
            "--jobs",
            "2",
            "--listen",
            "127.0.0.1",
        ])
        .args(["--port", &port.to_string(), "--foreground", "--yes"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The server really runs: it listens on the port, with the toolchain written under
    // the root (not the system path the unit names).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let listening = loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break true;
        }
        if child.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    assert!(
        listening,
        "the foreground server never listened:\n{}",
        text(&o)
    );
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("running in the foreground: distsetup "))
        .unwrap_or_else(|| panic!("{}", text(&o)));
    let unit =
        std::fs::read_to_string(root.join("etc/systemd/system/distsetup-serve-x-tools8.service"))
            .unwrap();
    let exec = unit_value(&unit, "ExecStart").unwrap();
    // The same server as the unit, logging to the terminal instead of a file.
    let from_unit = exec
        .split_once(' ')
        .unwrap()
        .1
        .split(" --log-file")
        .next()
        .unwrap()
        .replace(
            "--toolchain /usr/lib/distsetup/",
            &format!("--toolchain {}/usr/lib/distsetup/", root.display()),
        );
    assert!(
        from_unit.starts_with("serve --listen 127.0.0.1 --port"),
        "{from_unit}"
    );
    assert_eq!(line, from_unit);
}
