//! Toolchain discovery with the real Debian cross compilers, arranged as crosstool-ng
//! style trees of prefixed symlinks in a temp dir, as system triples in /usr/bin, by name
//! under a fake home and /opt, and the not-found error listing every place.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use distsetup::profile::Loader;
use distsetup::toolchain::{
    Error, Layout, SearchPaths, check_triple, invoking_home_from, locate, probe,
};

/// Create `dir/PREFIX-TOOL -> /usr/bin/REAL-TOOL` for each tool the real compiler has.
fn link_tools(dir: &Path, prefix: &str, real: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for tool in ["gcc", "g++", "cpp"] {
        let target = PathBuf::from(format!("/usr/bin/{real}-{tool}"));
        if target.exists() {
            symlink(&target, dir.join(format!("{prefix}-{tool}"))).unwrap();
        }
    }
}

/// `ROOT/x-tools8/aarch64-unknown-linux-gnu/bin/aarch64-unknown-linux-gnu-*` → Debian's aarch64 compilers.
fn xtools8(root: &Path) -> PathBuf {
    let top = root.join("x-tools8");
    link_tools(
        &top.join("aarch64-unknown-linux-gnu/bin"),
        "aarch64-unknown-linux-gnu",
        "aarch64-linux-gnu",
    );
    top
}

fn known() -> Vec<distsetup::profile::KnownToolchain> {
    Loader::with_user_dir(None)
        .load("archarm")
        .unwrap()
        .known_toolchains()
        .to_vec()
}

fn only_paths(home: Option<&Path>, dirs: &[&Path]) -> SearchPaths {
    SearchPaths {
        home: home.map(Path::to_path_buf),
        dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
        system_bin: vec![PathBuf::from("/usr/bin")],
    }
}

#[test]
fn an_x_tools_tree_by_path_is_found_probed_and_compiles_for_aarch64() {
    let tmp = tempfile::tempdir().unwrap();
    let top = xtools8(tmp.path());
    let found = locate(top.to_str().unwrap(), &known(), &only_paths(None, &[])).unwrap();
    assert_eq!(found.len(), 1);
    let l = &found[0];
    assert_eq!(l.layout, Layout::XToolsTree);
    assert_eq!(l.bin_dir, top.join("aarch64-unknown-linux-gnu/bin"));
    assert_eq!(l.prefix, "aarch64-unknown-linux-gnu");
    assert!(l.aliases.is_empty());
    let tools: Vec<&str> = l.tools.keys().map(String::as_str).collect();
    assert_eq!(tools, ["cpp", "g++", "gcc"]);

    let r = probe(l).unwrap();
    // Debian's compiler says its own triple whatever the link is called.
    assert_eq!(r.machine, "aarch64-linux-gnu");
    assert!(!r.names_match_machine());
    assert_eq!(r.version, "12");
    assert!(
        r.full_version.as_deref().unwrap().starts_with("12."),
        "{:?}",
        r.full_version
    );
    assert!(
        r.pie.default_pie,
        "Debian's gcc defaults to PIE: {}",
        r.pie.evidence
    );
    assert!(
        r.pie.evidence.contains("--enable-default-pie"),
        "{}",
        r.pie.evidence
    );
    assert!(r.compile.ok, "{}", r.compile.stderr);
    assert_eq!(r.compile.object_machine.as_deref(), Some("aarch64"));
    assert!(r.object_matches_machine());
    let d = r.describe();
    assert!(
        d.contains("target (-dumpmachine): aarch64-linux-gnu (differs from its file names)"),
        "{d}"
    );
    assert!(d.contains("tools: cpp g++ gcc (missing: cc c++)"), "{d}");
    assert!(d.contains("test compile: ok, object for aarch64"), "{d}");
}

#[test]
fn a_toolchain_dir_and_its_aliases_are_one_toolchain() {
    // The R-Pi crosstool-ng sample name, plus the Gentoo master's name linked to it.
    let tmp = tempfile::tempdir().unwrap();
    let tc = tmp.path().join("x-tools6h/armv6-rpi-linux-gnueabi");
    let bin = tc.join("bin");
    link_tools(&bin, "armv6-rpi-linux-gnueabi", "arm-linux-gnueabihf");
    symlink(
        "armv6-rpi-linux-gnueabi-gcc",
        bin.join("armv6j-hardfloat-linux-gnueabi-gcc"),
    )
    .unwrap();

    // Given the TRIPLE directory itself (the one holding bin/).
    let found = locate(tc.to_str().unwrap(), &known(), &only_paths(None, &[])).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].prefix, "armv6-rpi-linux-gnueabi");
    assert_eq!(found[0].aliases, ["armv6j-hardfloat-linux-gnueabi"]);

    // Given the bin directory: the same toolchain, laid out as a bin dir.
    let found = locate(bin.to_str().unwrap(), &known(), &only_paths(None, &[])).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].layout, Layout::BinDir);

    let r = probe(&found[0]).unwrap();
    assert_eq!(r.machine, "arm-linux-gnueabihf");
    assert!(r.compile.ok, "{}", r.compile.stderr);
    assert_eq!(r.compile.object_machine.as_deref(), Some("arm"));
    assert!(r.object_matches_machine());
}

#[test]
fn a_name_is_searched_in_home_then_the_other_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home/alice");
    let opt = tmp.path().join("opt");
    std::fs::create_dir_all(&home).unwrap();
    xtools8(&opt);
    let paths = only_paths(Some(&home), &[&opt]);
    let found = locate("x-tools8", &known(), &paths).unwrap();
    assert_eq!(
        found[0].bin_dir,
        opt.join("x-tools8/aarch64-unknown-linux-gnu/bin")
    );

    // A copy in the home wins.
    xtools8(&home);
    let found = locate("x-tools8", &known(), &paths).unwrap();
    assert_eq!(
        found[0].bin_dir,
        home.join("x-tools8/aarch64-unknown-linux-gnu/bin")
    );

    // ~ in a path means the same home.
    let found = locate("~/x-tools8", &known(), &paths).unwrap();
    assert_eq!(
        found[0].bin_dir,
        home.join("x-tools8/aarch64-unknown-linux-gnu/bin")
    );
}

#[test]
fn a_known_name_puts_the_catalog_prefix_first() {
    // x-tools7h holds arm-unknown-linux-gnueabihf plus, here, an unrelated second compiler.
    let tmp = tempfile::tempdir().unwrap();
    let top = tmp.path().join("x-tools7h");
    link_tools(
        &top.join("aarch64-other-linux-gnu/bin"),
        "aarch64-other-linux-gnu",
        "aarch64-linux-gnu",
    );
    link_tools(
        &top.join("arm-unknown-linux-gnueabihf/bin"),
        "arm-unknown-linux-gnueabihf",
        "arm-linux-gnueabihf",
    );
    let found = locate("x-tools7h", &known(), &only_paths(Some(tmp.path()), &[])).unwrap();
    let prefixes: Vec<&str> = found.iter().map(|l| l.prefix.as_str()).collect();
    assert_eq!(
        prefixes,
        ["arm-unknown-linux-gnueabihf", "aarch64-other-linux-gnu"]
    );
}

#[test]
fn a_system_triple_is_found_in_usr_bin() {
    let found = locate("aarch64-linux-gnu", &known(), &only_paths(None, &[])).unwrap();
    assert_eq!(found.len(), 1);
    let l = &found[0];
    assert_eq!(
        (l.layout, l.bin_dir.as_path(), l.prefix.as_str()),
        (Layout::System, Path::new("/usr/bin"), "aarch64-linux-gnu")
    );
    assert!(l.tools.contains_key("gcc") && l.tools.contains_key("g++"));
    let r = probe(l).unwrap();
    assert!(r.names_match_machine());
    assert!(r.object_matches_machine());
}

#[test]
fn a_bin_dir_with_several_triples_reports_each() {
    let found = locate("/usr/bin", &known(), &only_paths(None, &[])).unwrap();
    let prefixes: Vec<&str> = found.iter().map(|l| l.prefix.as_str()).collect();
    for p in [
        "aarch64-linux-gnu",
        "arm-linux-gnueabihf",
        "x86_64-linux-gnu",
    ] {
        assert!(prefixes.contains(&p), "{prefixes:?}");
    }
}

#[test]
fn not_found_lists_every_place_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home/bob");
    let (opt, local) = (tmp.path().join("opt"), tmp.path().join("usr/local"));
    let e = locate(
        "x-tools7h",
        &known(),
        &only_paths(Some(&home), &[&opt, &local]),
    )
    .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }));
    assert_eq!(
        e.to_string()
            .split("\nnames the profiles know")
            .next()
            .unwrap(),
        format!(
            "toolchain `x-tools7h` not found; looked in:\n  {}\n  {}\n  {}",
            home.join("x-tools7h").display(),
            opt.join("x-tools7h").display(),
            local.join("x-tools7h").display()
        )
    );

    let e = locate("riscv64-linux-gnu", &known(), &only_paths(None, &[])).unwrap_err();
    assert_eq!(
        e.to_string()
            .split("\nnames the profiles know")
            .next()
            .unwrap(),
        "toolchain `riscv64-linux-gnu` not found; looked in:\n  /usr/bin/riscv64-linux-gnu-gcc"
    );

    let missing = tmp.path().join("nowhere/x-tools86");
    let e = locate(missing.to_str().unwrap(), &known(), &only_paths(None, &[])).unwrap_err();
    assert_eq!(
        e.to_string()
            .split("\nnames the profiles know")
            .next()
            .unwrap(),
        format!(
            "toolchain `{0}` not found; looked in:\n  {0}",
            missing.display()
        )
    );
}

#[test]
fn a_compiler_that_cannot_answer_is_a_probe_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    symlink("/bin/false", bin.join("broken-linux-gnu-gcc")).unwrap();
    let found = locate(bin.to_str().unwrap(), &known(), &only_paths(None, &[])).unwrap();
    let e = probe(&found[0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{} -dumpmachine failed: ",
            bin.join("broken-linux-gnu-gcc").display()
        )
    );
}

#[test]
fn triples_are_checked_for_shape() {
    for ok in [
        "x86_64-pc-linux-gnu",
        "arm-linux-gnueabihf",
        "armv6j-hardfloat-linux-gnueabi",
        "aarch64-linux-gnu",
    ] {
        assert_eq!(check_triple(ok), Ok(()), "{ok}");
    }
    assert_eq!(
        check_triple("x86_64"),
        Err("it needs 2 to 4 parts separated by `-`")
    );
    assert_eq!(
        check_triple("a-b-c-d-e"),
        Err("it needs 2 to 4 parts separated by `-`")
    );
    assert_eq!(check_triple("aarch64--linux"), Err("it has an empty part"));
    assert_eq!(
        check_triple("x86 64-linux"),
        Err("only lowercase letters, digits, `_` and `.` are allowed")
    );
    assert_eq!(
        check_triple("9x-linux"),
        Err("the architecture must start with a letter")
    );
}

#[test]
fn under_sudo_the_invoking_users_home_is_searched() {
    // `daemon` exists on every Debian system, with home /usr/sbin.
    let root_home = Some(PathBuf::from("/root"));
    assert_eq!(
        invoking_home_from(Some("daemon"), root_home.clone()),
        Some(PathBuf::from("/usr/sbin"))
    );
    assert_eq!(
        invoking_home_from(Some("root"), root_home.clone()),
        root_home
    );
    assert_eq!(
        invoking_home_from(Some("no-such-user-here"), root_home.clone()),
        root_home
    );
    assert_eq!(invoking_home_from(None, Some(PathBuf::new())), None);
}
