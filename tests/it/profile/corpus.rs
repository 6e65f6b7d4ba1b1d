//! The profiles against the real-world corpus (../shared/corpus): the paths, variables,
//! users and ports they state are the ones the distros' own units and config files use.
//! When the corpus is absent (a fresh clone), each test says so and passes (and fails
//! under DISTSETUP_STRICT=1).

use std::path::{Path, PathBuf};

use crate::support::corpus;
use distsetup::profile::{Loader, Profile};

fn read(corpus: &Path, rel: &str) -> String {
    std::fs::read_to_string(corpus.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn profile(name: &str) -> Profile {
    Loader::with_user_dir(None).load(name).unwrap()
}

/// The value of `Key=` in a unit, first occurrence.
fn unit_value<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

#[test]
fn arch_units_read_the_profiles_config_and_variable_as_its_user() {
    let Some(c) = corpus() else { return };
    let unit = read(&c, "systemd/arch-alarm-distcc-3.4-14.distccd.service");
    for name in ["arch", "archarm"] {
        let p = profile(name);
        let v = &p.volunteer;
        assert_eq!(unit_value(&unit, "EnvironmentFile"), v.config.to_str());
        assert_eq!(unit_value(&unit, "User"), Some(v.user.as_str()));
        let var = v.args_variable.as_deref().unwrap();
        assert!(
            unit_value(&unit, "ExecStart")
                .unwrap()
                .ends_with(&format!("${var}"))
        );
    }
    let conf = read(&c, "distccd/arch-alarm-distcc-3.4-14.conf.d-distccd");
    assert!(conf.lines().any(|l| l.starts_with("DISTCC_ARGS=")));
}

#[test]
fn distccd_alarm_units_match_the_toolchain_catalog() {
    let Some(c) = corpus() else { return };
    let p = profile("archarm");
    let armv7h = p.toolchain("x-tools7h").unwrap();
    let unit = read(
        &c,
        "systemd/graysky2-distccd-arch-arm-v1.04.distccd-armv7h.service",
    );
    assert_eq!(
        unit_value(&unit, "EnvironmentFile").map(PathBuf::from),
        Some(p.toolchain_config(armv7h))
    );
    let conf = read(
        &c,
        "distccd/graysky2-distccd-arch-arm-v1.04.conf.d-distccd-armv7h",
    );
    assert!(conf.contains(&format!("--port {}", armv7h.port)), "{conf}");

    let armv6h = p.toolchain("x-tools6h").unwrap();
    let unit = read(
        &c,
        "systemd/zwang20-distccd-alarm-armv6-8.1.0-1.distccd-armv6h.service",
    );
    assert_eq!(
        unit_value(&unit, "EnvironmentFile").map(PathBuf::from),
        Some(p.toolchain_config(armv6h))
    );
}

#[test]
fn gentoo_files_use_the_profiles_variable_port_and_user() {
    let Some(c) = corpus() else { return };
    let p = profile("gentoo");
    let conf = read(
        &c,
        "distccd/user-notquitesane-x99-e52630v4-gentoo.conf.d-distccd",
    );
    let var = p.volunteer.args_variable.as_deref().unwrap();
    assert!(conf.lines().any(|l| l.starts_with(&format!("{var}="))));
    assert!(conf.contains(&format!("--port {}", p.volunteer.port)));
    let unit = read(
        &c,
        "systemd/gentoo-sys-devel-distcc-files-distccd.service-1",
    );
    assert_eq!(unit_value(&unit, "User"), Some(p.volunteer.user.as_str()));
    assert!(
        unit_value(&unit, "ExecStart")
            .unwrap()
            .contains(&format!("--port {}", p.volunteer.port))
    );
}

#[test]
fn debian_default_file_has_the_profiles_variables() {
    let Some(c) = corpus() else { return };
    let p = profile("debian");
    let text = read(
        &c,
        "distccd/debian-distcc-3.4+really3.4-3.etc-default-distcc.postinst-generated",
    );
    for var in [&p.volunteer.allow_variable, &p.volunteer.jobs_variable] {
        let var = var.as_deref().unwrap();
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{var}=\""))),
            "{var}"
        );
    }
}

#[test]
fn void_run_script_reads_the_profiles_allow_file_as_its_user() {
    let Some(c) = corpus() else { return };
    let p = profile("void");
    let run = read(&c, "runit/void-srcpkgs-distcc-files-distccd-run");
    assert!(run.contains(&format!("ALLOW_FILE={}", p.volunteer.config.display())));
    assert!(run.contains(&format!("USER=\"{}\"", p.volunteer.user)));
}

#[test]
fn makepkg_templates_carry_the_profiles_variables() {
    let Some(c) = corpus() else { return };
    let p = profile("archarm");
    let m = p.client.makepkg.as_ref().unwrap();
    let text = read(&c, "makepkg.conf/alarm-pacman-7.1.0.r7-1.makepkg.conf");
    let negated = m.enable.negated.as_deref().unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{}=(", m.enable.variable)) && l.contains(negated))
    );
    assert!(text.contains(&format!("#{}=", m.hosts_variable)));
    assert!(text.contains(&format!("#{}=", m.jobs_variable)));
}

/// The first live `NAME="value"` in a shell file.
fn live_value(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let v = l.strip_prefix(name)?.strip_prefix('=')?;
        Some(v.trim_matches('"').to_owned())
    })
}

#[test]
fn every_carch_chost_pair_in_the_corpus_is_in_a_profile() {
    let Some(c) = corpus() else { return };
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(c.join("makepkg.conf"))
        .unwrap()
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let (Some(carch), Some(chost)) = (live_value(&text, "CARCH"), live_value(&text, "CHOST"))
        else {
            continue;
        };
        // Templates keep @CARCH@/@CHOST@ placeholders for the build to fill.
        if chost.contains('@') || carch.contains('@') {
            continue;
        }
        let file = e.file_name().to_string_lossy().into_owned();
        let p = if file.starts_with("debian") {
            profile("debian")
        } else if carch == "x86_64" {
            profile("arch")
        } else {
            profile("archarm")
        };
        let arch = p.arch_for_triple(&chost);
        assert!(
            arch.is_some(),
            "{file}: {chost} is not in profile {}",
            p.name
        );
        if p.name != "debian" {
            assert_eq!(arch, Some(carch.as_str()), "{file}");
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} files with CARCH and CHOST");
}
