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
