//! The real relay with `,tls` hosts: the stock distcc client, `distsetup relay`, the
//! secure link, `distsetup serve --tls` (compiling, or forwarding to a local distccd).

use super::*;
use crate::relay::support::{Distccd, Relay};
use crate::support::{on_path, require};

/// A volunteer paired with a fresh master, and a relay on the master using it.
fn relay_over_tls(vol: &TlsVolunteer) -> (MasterRoot, Relay) {
    relay_over_tls_with(vol, &[])
}

/// [`relay_over_tls`] with more relay flags.
pub(super) fn relay_over_tls_with(vol: &TlsVolunteer, extra: &[&str]) -> (MasterRoot, Relay) {
    let master = MasterRoot::new();
    assert!(master.pin(&vol.addr(), &vol.key).status.success());
    let mkey = master.identity().fingerprint();
    assert!(vol.trust_master(&mkey).status.success());
    let root = master.root.path().display().to_string();
    let hosts = format!("{}/2,tls", vol.addr());
    let mut args = vec!["--root", &root, "--local-slots", "1"];
    args.extend_from_slice(extra);
    let relay = Relay::start(&hosts, &args);
    (master, relay)
}

fn compile_through(relay: &Relay, dir: &Path) -> Output {
    write(dir, "hello.c", "int hello(void) { return 42; }\n");
    distcc(
        &relay.hosts(2),
        &["gcc", "-c", "hello.c", "-o", "hello.o"],
        dir,
        &[],
    )
}

#[test]
fn the_relay_sends_jobs_over_the_secure_link_and_top_shows_tls() {
    let vol = TlsVolunteer::start(&[]);
    let (_master, relay) = relay_over_tls(&vol);
    let dir = tempfile::tempdir().unwrap();
    let o = compile_through(&relay, dir.path());
    assert_compiled(&o, dir.path(), "hello.o", &vol);
    let state = relay.settled_state();
    let host = Relay::host(&state, &vol.addr());
    assert_eq!(host["transport"], "tls", "{state:#}");
    assert!(host["done"].as_u64().unwrap() >= 1, "{state:#}");
    assert!(
        state["local"].as_u64().unwrap_or(0) == 0,
        "compiled on the master: {state:#}"
    );
    let log = vol.wait_log("(remote, protocol");
    assert!(
        log.contains("link: master 127.0.0.1 connected with key"),
        "{log}"
    );
}

#[test]
fn a_tls_host_without_a_pinned_key_is_refused_at_start() {
    let vol = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    let o = Command::new(bin())
        .args(["relay", "--listen", "127.0.0.1:0", "--lifetime", "5"])
        .args(["--hosts", &format!("{},tls", vol.addr())])
        .arg("--root")
        .arg(master.root.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "no key is pinned for 127.0.0.1 in /etc/distsetup/trusted-volunteers; run `distsetup trust add {} FINGERPRINT`",
            vol.addr()
        )),
        "{err}"
    );
}

#[test]
fn serve_tls_forward_fronts_a_distccd_listening_on_loopback_only() {
    if !require("distccd", on_path("distccd")) {
        return;
    }
    let distccd = Distccd::start(None);
    let target = format!("127.0.0.1:{}", distccd.port);
    let vol = TlsVolunteer::start(&["--forward", &target]);
    assert!(
        vol.log_text()
            .contains(&format!("jobs forwarded to {target}"))
    );
    let (_master, relay) = relay_over_tls(&vol);
    let dir = tempfile::tempdir().unwrap();
    let o = compile_through(&relay, dir.path());
    assert_compiled(&o, dir.path(), "hello.o", &vol);
    let state = relay.settled_state();
    assert!(
        Relay::host(&state, &vol.addr())["done"].as_u64().unwrap() >= 1,
        "{state:#}"
    );
    assert_eq!(
        vol.compiled(),
        0,
        "serve compiled itself: {}",
        vol.log_text()
    );
}

#[test]
fn forwarding_to_another_machine_is_refused() {
    // Checked before anything is bound or connected: no traffic leaves the machine.
    let root = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(["serve", "--tls", "--port", "0", "--forward", "0.0.0.0:3632"])
        .args(["--lifetime", "1", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--forward"), "{err}");
    assert!(err.contains("this machine only"), "{err}");
}

/// The whole pairing as a user does it: `volunteer --secure` (key, unit with `serve
/// --tls`), `serve --tls` on that root, one `trust add` on each side, the
/// relay with the `,tls` host, the first compile; then undo keeps the key pair.
#[test]
fn volunteer_secure_then_pairing_then_the_first_compile_then_undo() {
    let tools = crate::support::Root::new();
    let tc = crate::support::XTools::aarch64().build_in(tools.path());
    let root = tempfile::tempdir().unwrap();
    let port = crate::support::free_port().to_string();
    let volunteer = |mode: &str| {
        crate::support::Cmd::new("volunteer")
            .no_home()
            .args(["--toolchain", tc.to_str().unwrap(), "--allow", "127.0.0.1"])
            .args(["--port", &port, "--secure", mode, "--profile", "debian"])
            .root(root.path())
            .run()
    };
    let dry = volunteer("--dry-run");
    let out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        out.contains("the secure link's key pair is made when the change is applied"),
        "{out}"
    );
    let key_file = root.path().join("etc/distsetup/identity.key");
    assert!(!key_file.exists(), "a dry run made a key");
    let yes = volunteer("--yes");
    assert!(yes.status.success(), "{}", text(&yes));
    let out = String::from_utf8_lossy(&yes.stdout).into_owned();
    let printed = out
        .split("this machine's fingerprint: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no fingerprint in {out}"))
        .to_owned();
    assert!(
        out.contains(&format!(
            "on the master, run: distsetup trust add THIS-HOST:{port} {printed}"
        )),
        "{out}"
    );
    assert_eq!(mode(&key_file), 0o600);
    let unit = std::fs::read_to_string(
        root.path()
            .join("etc/systemd/system/distsetup-serve-x-tools8.service"),
    )
    .unwrap();
    assert!(
        unit.contains(&format!(" serve --port {port} --tls --allow 127.0.0.1 ")),
        "{unit}"
    );
    let key = std::fs::read(&key_file).unwrap();

    // The server as the unit starts it, on this root: the key is the one printed.
    let vol = TlsVolunteer::start_in(root, &[]);
    assert_eq!(vol.key.to_string(), printed);
    let (_master, relay) = relay_over_tls(&vol);
    let dir = tempfile::tempdir().unwrap();
    assert_compiled(
        &compile_through(&relay, dir.path()),
        dir.path(),
        "hello.o",
        &vol,
    );

    // Undo the trust entry and the volunteer's files: the key pair stays.
    for _ in 0..2 {
        let undo = distsetup_cmd(vol.root.path(), &["undo", "--yes"]);
        assert!(undo.status.success(), "{}", text(&undo));
    }
    assert!(
        !vol.root
            .path()
            .join("etc/systemd/system/distsetup-serve-x-tools8.service")
            .exists()
    );
    assert!(
        !vol.root
            .path()
            .join("etc/distsetup/trusted-masters")
            .exists()
    );
    assert_eq!(std::fs::read(&key_file).unwrap(), key);
}
