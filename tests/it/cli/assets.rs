//! The checked-in completions and man pages are generated from the clap definition; this
//! fails when they are stale. Regenerate with `cargo run -- generate-assets .`.

use std::path::Path;
use std::process::Command;

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn completions_and_man_pages_are_fresh() {
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_distsetup"))
        .arg("generate-assets")
        .arg(out.path())
        .status()
        .expect("running distsetup generate-assets");
    assert!(status.success());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["completions", "man"] {
        let fresh = out.path().join(sub);
        let checked_in = repo.join(sub);
        assert_eq!(
            files(&fresh),
            files(&checked_in),
            "{sub}/ has other files than the generator writes; run `cargo run -- generate-assets .`"
        );
        for name in files(&fresh) {
            let a = std::fs::read(fresh.join(&name)).expect("read generated");
            let b = std::fs::read(checked_in.join(&name)).expect("read checked in");
            assert!(
                a == b,
                "{sub}/{name} is stale; run `cargo run -- generate-assets .` and commit"
            );
        }
    }
}

#[test]
fn completions_subcommand_prints_a_script_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Command::new(env!("CARGO_BIN_EXE_distsetup"))
            .args(["completions", shell])
            .output()
            .expect("running distsetup completions");
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("distsetup"), "{shell}: {text}");
    }
}

/// Profile names and the catalog's toolchain names complete in every shell.
#[test]
fn profile_and_toolchain_names_complete() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for file in ["distsetup.bash", "_distsetup", "distsetup.fish"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for name in [
            "archarm",
            "gentoo",
            "debian",
            "x-tools7h",
            "x-tools8",
            "x-tools86",
        ] {
            assert!(text.contains(name), "{file} does not offer {name}");
        }
    }
    // The bash script offers the names after --profile and --toolchain.
    let bash = std::fs::read_to_string(dir.join("distsetup.bash")).unwrap();
    assert!(
        bash.contains("arch archarm debian gentoo void"),
        "bash: profiles"
    );
    assert!(
        bash.contains("x-tools x-tools6h x-tools7h x-tools8 x-tools86"),
        "bash: toolchains"
    );
}

#[test]
fn man_pages_have_examples_files_exit_status_and_see_also() {
    let man = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    for name in files(&man) {
        let page = std::fs::read_to_string(man.join(&name)).expect("read man page");
        for section in [
            ".SH EXAMPLES",
            ".SH FILES",
            ".SH \"EXIT STATUS\"",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(page.contains(section), "{name} lacks {section}");
        }
    }
    let volunteer = std::fs::read_to_string(man.join("distsetup-volunteer.1")).unwrap();
    for path in [
        "/usr/lib/distsetup/TOOLCHAIN/bin/",
        "/etc/systemd/system/distsetup\\-serve\\-TOOLCHAIN.service",
        "/var/lib/distsetup/journal/TIME/",
    ] {
        assert!(volunteer.contains(path), "volunteer page lacks {path}");
    }
    let master = std::fs::read_to_string(man.join("distsetup-master.1")).unwrap();
    for path in [
        "/etc/makepkg.conf.d/distcc.conf",
        "/etc/distcc/hosts",
        "/etc/portage/make.conf",
    ] {
        assert!(master.contains(path), "master page lacks {path}");
    }
}

/// What bash itself completes after `distsetup ` with the checked-in script.
#[test]
fn bash_completion_does_not_offer_hidden_subcommands() {
    if !crate::support::require("bash", crate::support::on_path("bash")) {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/distsetup.bash");
    let out = Command::new("bash")
        .arg("-c")
        .arg(
            r#"source "$1"; COMP_WORDS=(distsetup ""); COMP_CWORD=1; COMP_LINE="distsetup "; COMP_POINT=10
               _distsetup distsetup "" distsetup; printf '%s\n' "${COMPREPLY[@]}""#,
        )
        .arg("bash")
        .arg(&script)
        .output()
        .expect("running bash");
    let offered = String::from_utf8_lossy(&out.stdout);
    assert!(offered.lines().any(|l| l == "master"), "{offered}");
    assert!(
        !offered.lines().any(|l| l == "generate-assets"),
        "{offered}"
    );
}
