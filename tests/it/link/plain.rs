//! `serve --tls --plain-port N`: plain distcc beside the secure link, only when asked,
//! and only with an access list.

use super::refusals::paired;
use super::*;
use crate::support::free_port;

fn plain_compile(port: u16, dir: &Path) -> Output {
    write(dir, "plain.c", "int plain(void) { return 7; }\n");
    distcc(
        &format!("127.0.0.1:{port}/2"),
        &["gcc", "-c", "plain.c", "-o", "plain.o"],
        dir,
        &[],
    )
}

#[test]
fn both_ports_serve_a_compile_when_a_plain_port_is_asked_for() {
    let port = free_port();
    let mut p = paired(&["--plain-port", &port.to_string(), "--allow", "127.0.0.1"]);
    let log = p.vol.wait_log("listening on");
    assert!(
        log.contains(&format!("listening on 127.0.0.1:{port}")),
        "{log}"
    );
    // The secure link compiles...
    p.assert_healthy();
    // ...and so does plain distcc on the other port, for the --allow list.
    let dir = tempfile::tempdir().unwrap();
    let o = plain_compile(port, dir.path());
    assert_compiled(&o, dir.path(), "plain.o", &p.vol);
    let deadline = Instant::now() + Duration::from_secs(15);
    while p.vol.compiled() < 2 {
        assert!(Instant::now() < deadline, "{}", p.vol.log_text());
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn without_the_flag_there_is_no_plain_port() {
    let vol = TlsVolunteer::start(&["--allow", "127.0.0.1"]);
    let log = vol.log_text();
    assert!(!log.contains("listening on"), "{log}");
    // Only the link's port is open: plain distcc anywhere else finds nothing.
    let port = free_port();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let dir = tempfile::tempdir().unwrap();
    let o = plain_compile(port, dir.path());
    assert_eq!(vol.compiled(), 0, "{}", text(&o));
}

#[test]
fn a_plain_port_without_an_allow_list_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let o = Command::new(bin())
        .args(["serve", "--tls", "--listen", "127.0.0.1", "--port", "0"])
        .args(["--plain-port", &free_port().to_string(), "--lifetime", "1"])
        .arg("--root")
        .arg(root.path())
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--plain-port")
            && err.contains("needs an access list: name its clients with --allow"),
        "{err}"
    );
}
