//! Pairing in one step each side, the first compile, revocation without restart, undo.

use super::*;

/// Everything the master printed.
fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", text(o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn paired_in_one_step_each_side_a_real_distcc_compile_goes_through_the_link() {
    let vol = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    // Master: pin the volunteer's key as the volunteer printed it; get ours back.
    let out = stdout(&master.pin(&vol.addr(), &vol.key));
    let mkey = master.identity().fingerprint();
    assert!(
        out.contains(&format!(
            "this machine's fingerprint: {mkey} (new key pair in /etc/distsetup/identity.key)\n\
             on the volunteer, run: distsetup trust add --master {mkey}\n"
        )),
        "{out}"
    );
    // Volunteer: pin the master; the running server needs no restart.
    stdout(&vol.trust_master(&mkey));
    let bridge = Bridge::new(master.link_to(&vol.addr()));
    let dir = tempfile::tempdir().unwrap();
    let o = bridge.compile(dir.path(), "hello.o");
    assert_compiled(&o, dir.path(), "hello.o", &vol);
    let log = vol.wait_log("(remote, protocol");
    assert!(
        log.contains(&format!("link: master 127.0.0.1 connected with key {mkey}")),
        "{log}"
    );
    assert_eq!(vol.compiled(), 1, "{log}");
    // Both keys are readable by their owners only.
    for root in [vol.root.path(), master.root.path()] {
        assert_eq!(mode(&root.join("etc/distsetup/identity.key")), 0o600);
    }
}

#[test]
fn a_revoked_master_is_refused_on_its_next_connection_without_a_restart() {
    let mut vol = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    stdout(&master.pin(&vol.addr(), &vol.key));
    let mkey = master.identity().fingerprint();
    stdout(&vol.trust_master(&mkey));
    let dir = tempfile::tempdir().unwrap();
    let first = Bridge::new(master.link_to(&vol.addr()));
    assert_compiled(&first.compile(dir.path(), "a.o"), dir.path(), "a.o", &vol);
    drop(first);
    let out = stdout(&distsetup_cmd(
        vol.root.path(),
        &["trust", "remove", &mkey.to_string(), "--yes"],
    ));
    assert!(
        out.contains("-") && out.contains(&mkey.to_string()),
        "{out}"
    );
    // A new connection (a restarted relay) is refused.
    let again = Bridge::new(master.link_to(&vol.addr()));
    let o = again.compile(dir.path(), "b.o");
    assert!(!o.status.success(), "{}", text(&o));
    let log = vol.wait_log("is not in /etc/distsetup/trusted-masters");
    assert!(
        log.contains(&format!(
            "link: refused 127.0.0.1: TLS handshake failed: invalid peer certificate: \
             master key {mkey} is not in /etc/distsetup/trusted-masters; to accept it run: \
             distsetup trust add --master {mkey}"
        )),
        "{log}"
    );
    assert_eq!(vol.compiled(), 1, "{log}");
    assert!(vol.alive());
}

#[test]
fn undo_takes_back_the_trust_entries_and_keeps_the_key_pair() {
    let vol = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    stdout(&master.pin(&vol.addr(), &vol.key));
    let root = master.root.path();
    let key = root.join("etc/distsetup/identity.key");
    let store = root.join("etc/distsetup/trusted-volunteers");
    let key_before = std::fs::read(&key).unwrap();
    assert!(std::fs::read_to_string(&store).unwrap().contains(&format!(
        "{} {}",
        vol.addr(),
        vol.key
    )));
    stdout(&distsetup_cmd(root, &["undo", "--yes"]));
    assert!(!store.exists(), "the trust store distsetup wrote is gone");
    assert_eq!(
        std::fs::read(&key).unwrap(),
        key_before,
        "the key pair is kept"
    );
    let list = stdout(&distsetup_cmd(root, &["trust", "list"]));
    assert_eq!(
        list,
        format!(
            "this machine's fingerprint: {} (key in /etc/distsetup/identity.key)\n\
             masters this volunteer serves (/etc/distsetup/trusted-masters):\n  none\n\
             volunteers this master uses (/etc/distsetup/trusted-volunteers):\n  none\n",
            master.identity().fingerprint()
        )
    );
}

/// With `+zeroconf` the volunteer advertises its key's fingerprint; what the master's
/// wizard and doctor show of a discovered volunteer carries it, to compare by eye.
#[test]
fn volunteer_secure_zeroconf_advertises_the_fingerprint_and_masters_show_it() {
    let tools = crate::support::Root::new();
    let tc = crate::support::XTools::aarch64().build_in(tools.path());
    let root = tempfile::tempdir().unwrap();
    let o = crate::support::Cmd::new("volunteer")
        .no_home()
        .args(["--toolchain", tc.to_str().unwrap(), "--allow", "127.0.0.1"])
        .args(["--secure", "--zeroconf", "--yes", "--profile", "debian"])
        .root(root.path())
        .run();
    assert!(o.status.success(), "{}", text(&o));
    let key = Identity::load(&root.path().join("etc/distsetup/identity.key"))
        .unwrap()
        .unwrap()
        .fingerprint();
    let service = std::fs::read_to_string(
        root.path()
            .join("etc/avahi/services/distsetup-x-tools8.service"),
    )
    .unwrap();
    assert!(
        service.contains("<txt-record>link=tls</txt-record>"),
        "{service}"
    );
    assert!(
        service.contains(&format!("<txt-record>link_key={key}</txt-record>")),
        "{service}"
    );
    let found = distsetup::zeroconf::Found {
        name: "distcc x-tools8 on vol".into(),
        interface: "lo".into(),
        protocol: "IPv4".into(),
        host: "vol.local".into(),
        address: "127.0.0.1".parse().unwrap(),
        port: 3632,
        txt: vec!["jobs=2".into(), format!("link_key={key}")],
    };
    let id = distsetup::zeroconf::CompilerId {
        machine: "aarch64-unknown-linux-gnu".into(),
        version: "12".into(),
    };
    let shown = distsetup::zeroconf::classify(vec![found], &[], &id)[0].describe();
    assert!(
        shown.ends_with(&format!(
            "; secure link, key {key}: compare it with what `distsetup volunteer --secure` printed there before pinning it"
        )),
        "{shown}"
    );
}

/// `master --relay --hosts 'H:P/N,tls' --trust FP`: the pin is part of the master's change
/// set, the relay's unit gets the key as a credential (its user is dynamic), the master's
/// fingerprint is printed for the volunteer, and undo takes back all but the key pair.
#[test]
fn master_relay_trust_pins_in_the_change_set_and_prints_the_masters_key() {
    let root = crate::support::Root::new()
        .file(
            "/etc/makepkg.conf",
            "BUILDENV=(!distcc color !ccache check !sign)\nMAKEFLAGS=\"-j2\"\n",
        )
        .dir("/etc/makepkg.conf.d");
    let vkey = Identity::generate().unwrap().fingerprint();
    let o = Command::new(bin())
        .args(["master", "--profile", "arch", "--root"])
        .arg(root.path())
        .args(["--hosts", "127.0.0.1:3700/4,tls", "--jobs", "8"])
        .args([
            "--relay",
            "--relay-port",
            "3640",
            "--trust",
            &vkey.to_string(),
            "--yes",
        ])
        .env("HOME", "/nonexistent")
        .env_remove("SUDO_USER")
        .output()
        .unwrap();
    let out = stdout(&o);
    let mkey = Identity::load(&root.join("/etc/distsetup/identity.key"))
        .unwrap()
        .unwrap()
        .fingerprint();
    assert!(
        out.ends_with(&format!(
            "this machine's fingerprint: {mkey} (new key pair in /etc/distsetup/identity.key)\n\
             on each volunteer, run: distsetup trust add --master {mkey}\n"
        )),
        "{out}"
    );
    let store = root.join("/etc/distsetup/trusted-volunteers");
    assert!(
        std::fs::read_to_string(&store)
            .unwrap()
            .ends_with(&format!("\n127.0.0.1:3700 {vkey}\n"))
    );
    let unit =
        std::fs::read_to_string(root.join("/etc/systemd/system/distsetup-relay.service")).unwrap();
    assert!(
        unit.contains("DynamicUser=yes\nLoadCredential=identity.key:/etc/distsetup/identity.key\n"),
        "{unit}"
    );
    assert!(unit.contains("--hosts 127.0.0.1:3700/4,tls"), "{unit}");
    stdout(&distsetup_cmd(root.path(), &["undo", "--yes"]));
    assert!(!store.exists());
    assert_eq!(mode(&root.join("/etc/distsetup/identity.key")), 0o600);
}

#[test]
fn master_trust_names_the_host_when_there_are_several() {
    let root = crate::support::Root::new().file("/etc/makepkg.conf", "MAKEFLAGS=\"-j2\"\n");
    let fp = Identity::generate().unwrap().fingerprint().to_string();
    let o = Command::new(bin())
        .args(["master", "--profile", "arch", "--root"])
        .arg(root.path())
        .args(["--hosts", "127.0.0.1:3700/4,tls 127.0.0.1:3701/4,tls"])
        .args(["--relay", "--relay-port", "3640", "--trust", &fp, "--yes"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "--trust {fp}: several ',tls' hosts; say which: HOST:PORT=FINGERPRINT"
        )),
        "{err}"
    );
    assert!(
        !root.join("/etc/distsetup").exists(),
        "a refused run made a key"
    );
}

#[test]
fn trust_add_dry_run_shows_the_diff_and_makes_no_key_and_remove_of_nothing_is_negative() {
    let root = tempfile::tempdir().unwrap();
    let fp = Identity::generate().unwrap().fingerprint();
    let o = distsetup_cmd(
        root.path(),
        &[
            "trust",
            "add",
            "127.0.0.1:3700",
            &fp.to_string(),
            "--dry-run",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("+++ b/etc/distsetup/trusted-volunteers"),
        "{out}"
    );
    assert!(out.contains(&format!("+127.0.0.1:3700 {fp}")), "{out}");
    assert!(
        out.ends_with("this machine has no key pair yet: it is made when the change is applied\n"),
        "{out}"
    );
    assert!(!root.path().join("etc").exists(), "a dry run wrote");
    let bad = distsetup_cmd(root.path(), &["trust", "add", "--master", "abcd", "--yes"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(!root.path().join("etc").exists(), "a refused run wrote");
    let none = distsetup_cmd(root.path(), &["trust", "remove", &fp.to_string(), "--yes"]);
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no pinned key matches"));
}
