//! `scripts/install-deps` never leaves its "refuse service starts" policy behind: a failing
//! apt-get used to leave `/usr/sbin/policy-rc.d` (exit 101), which blocks every later
//! service start on the machine.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

fn tool(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_failing_apt_get_leaves_no_policy_rc_d_behind() {
    // Without root the script goes through sudo, which this test does not fake.
    if !crate::support::require("root", crate::support::is_root()) {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let bin = t.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Every package looks missing, and the install fails (after seeing the policy).
    tool(&bin, "dpkg-query", "exit 1");
    let seen = t.path().join("policy-seen");
    tool(
        &bin,
        "apt-get",
        &format!(
            "[ \"$1\" = update ] && exit 0\n[ -x \"$DISTSETUP_POLICY_RC\" ] && touch {}\necho 'E: Unable to locate package' >&2\nexit 100",
            seen.display()
        ),
    );
    let policy = t.path().join("policy-rc.d");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-deps"))
        .env("PATH", path)
        .env("DISTSETUP_POLICY_RC", &policy)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "install-deps passed with a failing apt-get"
    );
    assert!(
        seen.exists(),
        "the policy was not in place during the install: {out:?}"
    );
    assert!(
        !policy.exists(),
        "policy-rc.d left behind after a failed install"
    );
}
