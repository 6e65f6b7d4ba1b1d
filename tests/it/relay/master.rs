//! `master --relay`: the client's host list points at the relay with every slot, the
//! client variables reach the client the way each tool passes them (bash sourcing
//! makepkg's drop-in, Portage's own reader for make.conf, a login shell on Debian), the
//! relay's service is written, and `undo` restores every file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::server::bin;
use crate::support::{Root, sorted_files};

/// Every file under `dir` (journal and lock excluded) with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(base).unwrap().display().to_string();
            if rel.starts_with("var/lib/distsetup") {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn master(root: &Root, profile: &str) -> String {
    let o = Command::new(bin())
        .args(["master", "--profile", profile, "--root"])
        .arg(root.path())
        .args([
            "--hosts",
            "10.0.0.5/4 10.0.0.6:3633/2,lzo",
            "--jobs",
            "8",
            "--relay",
            "--relay-port",
            "3640",
            "--yes",
        ])
        .env("HOME", "/nonexistent")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    text
}

fn undo(root: &Root) {
    let o = Command::new(bin())
        .args(["undo", "--yes", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// What a program started by bash after sourcing `files` sees in its environment.
fn exported_by_bash(files: &[&Path]) -> BTreeMap<String, String> {
    let sources: String = files
        .iter()
        .map(|f| format!("source '{}'; ", f.display()))
        .collect();
    let o = Command::new("env")
        .args(["-i", "bash", "-c", &format!("{sources} env")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.starts_with("DISTCC_"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn expect_client_env(env: &BTreeMap<String, String>) {
    assert_eq!(
        env.get("DISTCC_BACKOFF_PERIOD").map(String::as_str),
        Some("0"),
        "{env:?}"
    );
    assert_eq!(
        env.get("DISTCC_SKIP_LOCAL_RETRY").map(String::as_str),
        Some("1"),
        "{env:?}"
    );
    let io: u64 = env["DISTCC_IO_TIMEOUT"].parse().unwrap();
    let relay = distsetup::relay::RelaySettings::default();
    assert!(
        io > relay.io_timeout.as_secs() * u64::from(relay.max_attempts),
        "{env:?}"
    );
}

#[test]
fn makepkg_exports_the_client_settings_and_undo_restores_every_file() {
    let root = Root::new()
        .file(
            "/etc/makepkg.conf",
            "BUILDENV=(!distcc color !ccache check !sign)\nMAKEFLAGS=\"-j2\"\n",
        )
        .dir("/etc/makepkg.conf.d");
    let before = files(root.path());
    let said = master(&root, "arch");
    let dropin = root.join("/etc/makepkg.conf.d/distcc.conf");
    let env = exported_by_bash(&[&root.join("/etc/makepkg.conf"), &dropin]);
    // makepkg exports DISTCC_HOSTS itself; the rest must be exported by the file.
    expect_client_env(&env);
    let text = std::fs::read_to_string(&dropin).unwrap();
    assert!(
        text.contains("DISTCC_HOSTS=\"127.0.0.1:3640/6\""),
        "{text}\n{said}"
    );
    let unit =
        std::fs::read_to_string(root.join("/etc/systemd/system/distsetup-relay.service")).unwrap();
    let exec = unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap();
    assert!(
        exec.ends_with(" relay --listen 127.0.0.1:3640 --hosts \"10.0.0.5/4 10.0.0.6:3633/2,lzo\""),
        "{exec}"
    );
    assert!(unit.contains("DynamicUser=yes"), "{unit}");
    // Again: nothing changes (and no change set to undo).
    let after = files(root.path());
    master(&root, "arch");
    assert_eq!(files(root.path()), after);
    undo(&root);
    assert_eq!(files(root.path()), before);
}

#[test]
fn portage_reads_the_client_settings_and_openrc_gets_a_script() {
    use crate::support::portage::{Job, getconfig, python};
    let Some(py) = python() else { return };
    let root = Root::new().file(
        "/etc/portage/make.conf",
        "COMMON_FLAGS=\"-O2 -pipe\"\nFEATURES=\"sandbox\"\nMAKEOPTS=\"-j2\"\n",
    );
    let before = files(root.path());
    let said = master(&root, "gentoo");
    let portage = getconfig(&py, &[Job::MakeConf(root.path().to_path_buf())])
        .remove(0)
        .unwrap_or_else(|e| panic!("Portage cannot read it: {e}\n{said}"));
    let env: BTreeMap<String, String> = portage
        .iter()
        .filter(|(k, _)| k.starts_with("DISTCC_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    expect_client_env(&env);
    let hosts = std::fs::read_to_string(root.join("/etc/distcc/hosts")).unwrap();
    assert!(hosts.contains("127.0.0.1:3640/6"), "{hosts}");
    let script = root.join("/etc/init.d/distsetup-relay");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#!/sbin/openrc-run"), "{text}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o111,
        0o111
    );
    undo(&root);
    assert_eq!(files(root.path()), before);
}

#[test]
fn debian_login_shells_get_the_client_settings() {
    let root = Root::new().file("/etc/distcc/hosts", "# the hosts\n+zeroconf\n");
    let before = files(root.path());
    master(&root, "debian");
    let hosts = std::fs::read_to_string(root.join("/etc/distcc/hosts")).unwrap();
    assert!(hosts.contains("127.0.0.1:3640/6"), "{hosts}");
    let env = exported_by_bash(&[&root.join("/etc/profile.d/distsetup-relay.sh")]);
    expect_client_env(&env);
    assert!(!sorted_files(&root.join("/etc/systemd/system")).is_empty());
    undo(&root);
    assert_eq!(files(root.path()), before);
}
