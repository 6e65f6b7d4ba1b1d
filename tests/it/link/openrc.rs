//! The relay without systemd (OpenRC, runit): with `,tls` hosts it must read the
//! master's key, root's alone, so it starts as root and becomes the service user itself.

use super::*;
use crate::relay::support::Relay;
use crate::support::{is_root, skip_or_fail};

#[test]
fn master_relay_on_gentoo_with_a_tls_host_starts_the_relay_as_root_with_user() {
    let root = crate::support::Root::new().file(
        "/etc/portage/make.conf",
        "COMMON_FLAGS=\"-O2 -pipe\"\nMAKEOPTS=\"-j2\"\n",
    );
    let vkey = Identity::generate().unwrap().fingerprint();
    let master = |hosts: &str, trust: &[&str]| {
        let o = Command::new(bin())
            .args(["master", "--profile", "gentoo", "--root"])
            .arg(root.path())
            .args(["--hosts", hosts, "--jobs", "8", "--relay", "--relay-port"])
            .args(["3640", "--yes"])
            .args(trust)
            .env("HOME", "/nonexistent")
            .env_remove("SUDO_USER")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read_to_string(root.join("/etc/init.d/distsetup-relay")).unwrap()
    };
    let script = master("127.0.0.1:3700/4,tls", &["--trust", &vkey.to_string()]);
    assert!(!script.contains("command_user"), "{script}");
    assert!(
        script.contains("--hosts 127.0.0.1:3700/4,tls --user distcc"),
        "{script}"
    );
    // Plain hosts: the script itself runs the relay as the user, as before.
    let undone = distsetup_cmd(root.path(), &["undo", "--yes"]);
    assert!(undone.status.success(), "{}", text(&undone));
    let script = master("127.0.0.1:3700/4", &[]);
    assert!(script.contains("command_user=distcc"), "{script}");
    assert!(!script.contains("--user"), "{script}");
}

/// `Uid:` of /proc/PID/status: real, effective, saved, filesystem.
fn uids(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn the_relay_started_as_root_reads_the_key_then_runs_as_the_user() {
    if !is_root() {
        skip_or_fail("needs root (the relay gives root up)");
        return;
    }
    let vol = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    assert!(master.pin(&vol.addr(), &vol.key).status.success());
    assert!(
        vol.trust_master(&master.identity().fingerprint())
            .status
            .success()
    );
    let key = master.root.path().join("etc/distsetup/identity.key");
    assert_eq!(mode(&key), 0o600);
    use std::os::unix::fs::MetadataExt as _;
    assert_eq!(std::fs::metadata(&key).unwrap().uid(), 0);
    let root = master.root.path().display().to_string();
    let hosts = format!("{}/2,tls", vol.addr());
    let relay = Relay::start(&hosts, &["--root", &root, "--user", "nobody"]);
    let log = relay.log_text();
    assert!(log.contains("distsetup relay: running as nobody"), "{log}");
    let nobody = distsetup::server::confine::lookup_user("nobody").unwrap().0;
    assert_eq!(uids(relay.child.id()), vec![nobody; 4]);
    // The link works: the key was read before root was given up.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hello.c", "int hello(void) { return 42; }\n");
    let o = distcc(
        &relay.hosts(2),
        &["gcc", "-c", "hello.c", "-o", "hello.o"],
        dir.path(),
        &[],
    );
    assert_compiled(&o, dir.path(), "hello.o", &vol);
    let state = relay.settled_state();
    assert_eq!(
        Relay::host(&state, &vol.addr())["done"].as_u64(),
        Some(1),
        "{state:#}"
    );
}
