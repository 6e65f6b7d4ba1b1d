//! `volunteer --zeroconf` and `master --hosts +zeroconf` on a root, without a network.

use std::path::Path;

use crate::support::volunteer::text;
use crate::support::{Cmd, Root, XTools, free_port, require};

const ARMV7H: &str = "armv7l-unknown-linux-gnueabihf";

fn armhf() -> XTools {
    XTools::new("x-tools7h", "arm-unknown-linux-gnueabihf").using_debian("arm-linux-gnueabihf")
}

/// A root holding x-tools7h, when Debian's armhf cross compiler is installed.
fn armhf_root() -> Option<(Root, std::path::PathBuf)> {
    let present = Path::new("/usr/bin/arm-linux-gnueabihf-gcc").exists();
    if !require("/usr/bin/arm-linux-gnueabihf-gcc", present) {
        return None;
    }
    let root = Root::new();
    let tc = armhf().build_in(root.path());
    Some((root, tc))
}

/// `volunteer --zeroconf` for x-tools7h aliased to the armv7h name, on `profile`.
fn volunteer(root: &Root, tc: &Path, profile: &str, extra: &[&str]) -> std::process::Output {
    volunteer_on(root, tc, profile, free_port(), extra)
}

fn volunteer_on(
    root: &Root,
    tc: &Path,
    profile: &str,
    port: u16,
    extra: &[&str],
) -> std::process::Output {
    Cmd::new("volunteer")
        .no_home()
        .root(root.path())
        .toolchain(tc)
        .port(port)
        .args([
            "--profile",
            profile,
            "--allow",
            "10.77.0.0/24",
            "--jobs",
            "3",
        ])
        .args(["--alias", &format!("{ARMV7H}=arm-unknown-linux-gnueabihf")])
        .arg("--zeroconf")
        .args(extra)
        .run()
}

fn service_file(root: &Root) -> std::path::PathBuf {
    root.join("etc/avahi/services/distsetup-x-tools7h.service")
}

fn subtypes(xml: &str) -> Vec<String> {
    xml.lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<subtype>")?
                .strip_suffix("</subtype>")
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn volunteer_writes_one_service_file_with_every_name_and_version_and_undo_removes_it() {
    let Some((root, tc)) = armhf_root() else {
        return;
    };
    let port = free_port();
    let o = volunteer_on(&root, &tc, "archarm", port, &["--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(service_file(&root)).unwrap();
    // Debian's cross gcc prints 12 for -dumpversion and 12.2.0 for -dumpfullversion.
    let full = String::from_utf8(
        std::process::Command::new("arm-linux-gnueabihf-gcc")
            .arg("-dumpfullversion")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let full = full.trim();
    let major = full.split('.').next().unwrap();
    let dashed = full.replace('.', "-");
    assert_eq!(
        subtypes(&xml),
        [
            format!("_arm-unknown-linux-gnueabihf--{major}._sub._distcc._tcp"),
            format!("_arm-unknown-linux-gnueabihf--{dashed}._sub._distcc._tcp"),
            format!("_armv7l-unknown-linux-gnueabihf--{major}._sub._distcc._tcp"),
            format!("_armv7l-unknown-linux-gnueabihf--{dashed}._sub._distcc._tcp"),
        ]
    );
    for txt in [
        "jobs=3",
        &format!("masters={ARMV7H}"),
        "server=embedded",
        "distsetup=x-tools7h",
    ] {
        assert!(
            xml.contains(&format!("<txt-record>{txt}</txt-record>")),
            "{txt}: {xml}"
        );
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("DISTCC_HOSTS=+zeroconf"), "{out}");
    // Idempotent: the same command changes nothing.
    let again = volunteer_on(&root, &tc, "archarm", port, &["--check"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let undo = Cmd::new("undo").root(root.path()).arg("--yes").run();
    assert_eq!(undo.status.code(), Some(0), "{}", text(&undo));
    assert!(!service_file(&root).exists());
}

/// `volunteer --zeroconf --zeroconf-version V --yes` on a fresh root.
fn with_version(v: &str) -> Option<(Root, std::process::Output)> {
    let (root, tc) = armhf_root()?;
    let o = volunteer(&root, &tc, "archarm", &["--zeroconf-version", v, "--yes"]);
    Some((root, o))
}

#[test]
fn zeroconf_version_replaces_the_toolchains_versions() {
    let Some((root, o)) = with_version("13.1.0") else {
        return;
    };
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(service_file(&root)).unwrap();
    let st = subtypes(&xml);
    assert_eq!(st.len(), 4, "{st:?}");
    assert!(
        st.iter()
            .all(|s| s.contains("--13._") || s.contains("--13-1-0._")),
        "{st:?}"
    );
    assert!(
        xml.contains("<txt-record>versions=13,13.1.0</txt-record>"),
        "{xml}"
    );
}

#[test]
fn a_bad_zeroconf_version_is_refused_and_nothing_is_written() {
    let Some((root, o)) = with_version("14.x") else {
        return;
    };
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("--zeroconf-version `14.x` is not a gcc version"),
        "{}",
        text(&o)
    );
    assert!(!root.join("etc").exists());
    // And it needs --zeroconf.
    let o = Cmd::new("volunteer")
        .args(["--profile", "debian"])
        .args(["--toolchain", "x", "--zeroconf-version", "14"])
        .run();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn missing_or_disabled_avahi_is_explained_per_profile() {
    if armhf_root().is_none() {
        return;
    }
    let cases = [
        (
            "archarm",
            "pacman -S avahi && systemctl enable --now avahi-daemon",
        ),
        (
            "gentoo",
            "emerge net-dns/avahi && rc-update add avahi-daemon default",
        ),
        ("debian", "apt install avahi-daemon"),
    ];
    for (profile, advice) in cases {
        let (root, tc) = armhf_root().unwrap();
        let o = volunteer(&root, &tc, profile, &["--dry-run"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("avahi-daemon is not installed") && err.contains(advice),
            "{profile}: {}",
            text(&o)
        );
        // Installed, not enabled.
        let root = root.file("/usr/sbin/avahi-daemon", "");
        let o = volunteer(&root, &tc, profile, &["--dry-run"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("installed but not enabled") && err.contains(advice),
            "{profile}: {}",
            text(&o)
        );
    }
    // Enabled (systemd): no warning.
    let (root, tc) = armhf_root().unwrap();
    let root = root.file("/usr/sbin/avahi-daemon", "").file(
        "/etc/systemd/system/multi-user.target.wants/avahi-daemon.service",
        "",
    );
    let o = volunteer(&root, &tc, "archarm", &["--dry-run"]);
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("avahi"),
        "{}",
        text(&o)
    );
}

fn master(root: &Root, profile: &str, extra: &[&str]) -> std::process::Output {
    let o = Cmd::new("master")
        .no_home()
        .root(root.path())
        .args(["--profile", profile, "--yes"])
        .args(extra)
        .run();
    assert_eq!(o.status.code(), Some(0), "{profile}: {}", text(&o));
    o
}

#[test]
fn master_writes_zeroconf_with_fixed_hosts_and_calls_the_count_a_snapshot() {
    let root = Root::new().file(
        "/etc/makepkg.conf",
        "BUILDENV=(!distcc color check)\n#MAKEFLAGS=\"-j2\"\n",
    );
    let o = master(&root, "arch", &["--hosts", "+zeroconf 10.0.0.1/3"]);
    let conf = std::fs::read_to_string(root.join("/etc/makepkg.conf")).unwrap();
    assert!(
        conf.contains("DISTCC_HOSTS=\"+zeroconf 10.0.0.1/3\""),
        "{conf}"
    );
    // Whatever this machine's network holds, the master says what it counted and that
    // the count is a snapshot, or why it could not browse.
    let all = text(&o);
    assert!(
        all.contains("this is a snapshot") || all.contains("avahi-daemon"),
        "{all}"
    );
    // +zeroconf alone is a host list too.
    master(&root, "arch", &["--hosts", "+zeroconf", "--jobs", "4"]);
    let conf = std::fs::read_to_string(root.join("/etc/makepkg.conf")).unwrap();
    assert!(conf.contains("DISTCC_HOSTS=\"+zeroconf\""), "{conf}");
    // Gentoo and Debian read the hosts file.
    let gentoo = Root::new().file("/etc/portage/make.conf", "COMMON_FLAGS=\"-O2\"\n");
    let debian = Root::new();
    for (root, profile) in [(&gentoo, "gentoo"), (&debian, "debian")] {
        master(root, profile, &["--hosts", "+zeroconf", "--jobs", "4"]);
        let hosts = std::fs::read_to_string(root.join("/etc/distcc/hosts")).unwrap();
        assert!(
            hosts.lines().any(|l| l == "+zeroconf"),
            "{profile}: {hosts}"
        );
    }
}

#[test]
fn the_wizard_asks_and_its_command_says_zeroconf() {
    use distsetup::prompt::{Answer, Script};
    let gcc = "/usr/bin/aarch64-linux-gnu-gcc";
    if !require(gcc, Path::new(gcc).exists()) {
        return;
    }
    let root = Root::new().file("/etc/os-release", "ID=debian\n");
    let sys = distsetup::plan::SysRoot::new(root.path()).unwrap();
    let port = free_port().to_string();
    let mut script = Script::new([
        Answer::Pick("volunteer".into()),
        Answer::Default, // debian, detected
        Answer::Pick("aarch64-linux-gnu (".into()),
        Answer::Pick("aarch64-unknown-linux-gnu".into()),
        Answer::Yes(true), // the alias
        Answer::Text("127.0.0.1/32".into()),
        Answer::Text(port),
        Answer::Default,    // embedded
        Answer::Yes(true),  // zeroconf
        Answer::Yes(false), // do not enable the service
    ]);
    let answers = distsetup::wizard::run(&sys, Some(root.path()), None, &mut script)
        .unwrap_or_else(|e| panic!("{e}: {:?}", script.prompts));
    assert!(
        script.prompts.iter().any(|p| p.contains("zeroconf")),
        "{:?}",
        script.prompts
    );
    assert!(
        answers.command.contains(" --zeroconf "),
        "{}",
        answers.command
    );
    let distsetup::wizard::Setup::Volunteer { settings, facts } = answers.setup else {
        panic!("not a volunteer set-up");
    };
    let report = distsetup::volunteer::plan(&settings, &facts).unwrap();
    assert!(
        report
            .plan
            .diff()
            .contains("/etc/avahi/services/distsetup-aarch64-linux-gnu.service"),
        "{}",
        report.plan.diff()
    );
}

#[test]
fn many_aliases_are_split_over_txt_strings_a_master_reads_back_whole() {
    let Some((root, tc)) = armhf_root() else {
        return;
    };
    let names: Vec<String> = (0..12)
        .map(|i| format!("armv7l-vendor{i:02}-linux-gnueabihf"))
        .collect();
    let mut extra: Vec<String> = Vec::new();
    for n in &names {
        extra.extend(["--alias".into(), format!("{n}=arm-unknown-linux-gnueabihf")]);
    }
    extra.push("--yes".into());
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let o = volunteer(&root, &tc, "archarm", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let xml = std::fs::read_to_string(service_file(&root)).unwrap();
    let txt: Vec<String> = xml
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<txt-record>")?
                .strip_suffix("</txt-record>")
        })
        .map(str::to_owned)
        .collect();
    assert!(txt.iter().all(|t| t.len() <= 255), "{txt:?}");
    assert!(txt.iter().any(|t| t.starts_with("masters.2=")), "{txt:?}");
    let found = distsetup::zeroconf::Found {
        name: "v".into(),
        interface: "eth0".into(),
        protocol: "IPv4".into(),
        host: "v.local".into(),
        address: "10.77.0.2".parse().unwrap(),
        port: 1,
        txt,
    };
    let mut want = vec![ARMV7H.to_string()];
    want.extend(names);
    assert_eq!(distsetup::zeroconf::txt_list(&found, "masters"), want);
    // 13 master names + the toolchain's own, × 2 versions.
    assert_eq!(subtypes(&xml).len(), 28);
}

/// A list that is `+zeroconf` alone is neither empty nor "only localhost", and the
/// `hosts:` line shows it: when nothing is discovered,
/// the zeroconf findings say so (and why), and the hosts check does not add a second,
/// wrong, reason. (No avahi-daemon runs in this machine's own namespace: the browse fails
/// at once, without traffic.)
#[test]
fn doctor_on_zeroconf_alone_is_neither_empty_nor_only_localhost() {
    let root = Root::new().file(
        "/etc/makepkg.conf",
        "BUILDENV=(distcc color check)\nDISTCC_HOSTS=\"+zeroconf\"\nMAKEFLAGS=\"-j4\"\n",
    );
    let o = Cmd::new("doctor")
        .args(["--profile", "arch", "--json"])
        .root(root.path())
        .run();
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let findings = v["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["check"] == "zeroconf"),
        "no zeroconf finding: {v:#}"
    );
    for wrong in ["only localhost", "the list is empty"] {
        assert!(
            !findings
                .iter()
                .any(|f| f["message"].as_str().unwrap_or("").contains(wrong)),
            "{wrong}: {v:#}"
        );
    }
    assert!(
        v["hosts"].as_str().unwrap_or("").starts_with("+zeroconf"),
        "{v:#}"
    );
}
