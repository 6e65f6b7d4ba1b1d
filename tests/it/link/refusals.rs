//! Everyone who must not get in is refused and logged, nothing is compiled, and the
//! server keeps serving its paired master.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;

use distsetup::link::frame::Frame;
use tokio::io::AsyncWriteExt as _;

use super::*;
use crate::support::{on_path, require};

/// A volunteer with a paired master ready to compile through a bridge.
pub(super) struct Paired {
    pub(super) vol: TlsVolunteer,
    pub(super) master: MasterRoot,
}

pub(super) fn paired(extra: &[&str]) -> Paired {
    let vol = TlsVolunteer::start(extra);
    let master = MasterRoot::new();
    assert!(master.pin(&vol.addr(), &vol.key).status.success());
    let mkey = master.identity().fingerprint();
    assert!(vol.trust_master(&mkey).status.success());
    Paired { vol, master }
}

impl Paired {
    /// The volunteer is alive and still compiles for its master.
    pub(super) fn assert_healthy(&mut self) {
        assert!(self.vol.alive(), "{}", self.vol.log_text());
        let before = self.vol.compiled();
        let bridge = Bridge::new(self.master.link_to(&self.vol.addr()));
        let dir = tempfile::tempdir().unwrap();
        assert_compiled(
            &bridge.compile(dir.path(), "ok.o"),
            dir.path(),
            "ok.o",
            &self.vol,
        );
        self.vol.wait_log("(remote, protocol");
        assert_eq!(self.vol.compiled(), before + 1);
    }
}

#[test]
fn an_unpaired_master_is_refused_and_logged_and_nothing_compiles() {
    let mut p = paired(&[]);
    let stranger = MasterRoot::new();
    // The stranger pinned the volunteer, but the volunteer never pinned it.
    assert!(stranger.pin(&p.vol.addr(), &p.vol.key).status.success());
    let skey = stranger.identity().fingerprint();
    let bridge = Bridge::new(stranger.link_to(&p.vol.addr()));
    let dir = tempfile::tempdir().unwrap();
    let o = bridge.compile(dir.path(), "x.o");
    assert!(!o.status.success(), "{}", text(&o));
    let log = p.vol.wait_log(&format!("master key {skey} is not in"));
    assert!(
        log.contains(&format!(
            "warning: link: refused 127.0.0.1: TLS handshake failed: invalid peer certificate: master key {skey} is not in /etc/distsetup/trusted-masters"
        )),
        "{log}"
    );
    assert_eq!(p.vol.compiled(), 0);
    p.assert_healthy();
}

/// A man in the middle: another `serve --tls` with its own key answers at the address
/// the master pinned a volunteer for. It even trusts the master, to no avail.
#[test]
fn a_volunteer_with_another_key_is_refused_by_the_master() {
    let real = TlsVolunteer::start(&[]);
    let impostor = TlsVolunteer::start(&[]);
    let master = MasterRoot::new();
    assert!(master.pin(&impostor.addr(), &real.key).status.success());
    assert!(
        impostor
            .trust_master(&master.identity().fingerprint())
            .status
            .success()
    );
    let link = master.link_to(&impostor.addr());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt.block_on(link.open_stream()).unwrap_err().to_string();
    assert!(
        err.contains(&format!("key {} is not the pinned one", impostor.key)),
        "{err}"
    );
    let log = impostor.wait_log("link: refused");
    assert!(
        log.contains("link: refused 127.0.0.1: TLS handshake failed: received fatal alert"),
        "{log}"
    );
    let bridge = Bridge::new(master.link_to(&impostor.addr()));
    let dir = tempfile::tempdir().unwrap();
    assert!(!bridge.compile(dir.path(), "x.o").status.success());
    assert_eq!(impostor.compiled(), 0);
}

#[test]
fn a_plain_distcc_client_at_the_tls_port_gets_nothing() {
    let mut p = paired(&[]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hello.c", "int f(void) { return 1; }\n");
    let o = distcc(
        &format!("{}/1", p.vol.addr()),
        &["gcc", "-c", "hello.c", "-o", "x.o"],
        dir.path(),
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let log = p.vol.wait_log("link: refused");
    assert!(
        log.contains("link: refused 127.0.0.1: TLS handshake failed: received corrupt message"),
        "{log}"
    );
    assert_eq!(p.vol.compiled(), 0);
    p.assert_healthy();
}

#[test]
fn a_tls_1_2_client_and_a_tls_1_3_client_without_a_key_are_refused() {
    if !require("openssl", on_path("openssl")) {
        return;
    }
    let mut p = paired(&[]);
    let s_client = |version: &str| {
        Command::new("openssl")
            .args(["s_client", version, "-connect", &p.vol.addr()])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let old = s_client("-tls1_2");
    assert!(!old.status.success(), "{}", text(&old));
    let log = p.vol.wait_log("link: refused");
    assert!(
        log.contains(
            "link: refused 127.0.0.1: TLS handshake failed: the peer does not offer TLS 1.3 (older versions are refused)"
        ),
        "{log}"
    );
    let anonymous = s_client("-tls1_3");
    let shown = String::from_utf8_lossy(&anonymous.stdout);
    assert!(!shown.contains("DONE"), "{shown}");
    let log = p.vol.wait_log("peer sent no certificates");
    assert!(
        log.contains("link: refused 127.0.0.1: TLS handshake failed: peer sent no certificates"),
        "{log}"
    );
    assert_eq!(p.vol.compiled(), 0);
    p.assert_healthy();
}

/// A paired master's TLS connection, driven byte by byte.
fn raw_link(
    p: &Paired,
    rt: &tokio::runtime::Runtime,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let pins = std::sync::Arc::new(Pins(vec![p.vol.key]));
    let config = distsetup::link::tls::client_config(&p.master.identity(), pins).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(p.vol.addr()).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("distsetup-link.invalid").unwrap();
        connector.connect(name, tcp).await.unwrap()
    })
}

#[test]
fn oversized_and_truncated_frames_close_the_link_and_compile_nothing() {
    let mut p = paired(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tls = raw_link(&p, &rt);
    let mut oversized = vec![0u8, 0, 0, 0, 1];
    oversized.extend_from_slice(&u32::MAX.to_be_bytes());
    rt.block_on(async {
        tls.write_all(&oversized).await.unwrap();
        tls.flush().await.unwrap();
    });
    let log = p.vol.wait_log("gone: protocol error");
    assert!(
        log.contains("link: master 127.0.0.1 gone: protocol error: frame of 4294967295 bytes is over the 65536-byte limit"),
        "{log}"
    );
    // A request cut off in the middle of a frame, then the connection closed.
    let mut tls = raw_link(&p, &rt);
    let request = Frame::Data {
        stream: 1,
        payload: b"DIST00000002ARGC00000004ARGV00000003gcc".to_vec(),
    }
    .to_bytes();
    rt.block_on(async {
        tls.write_all(&request[..request.len() - 5]).await.unwrap();
        tls.shutdown().await.unwrap();
    });
    let log = p.vol.wait_log("gone: closed by the peer");
    assert!(
        log.contains("link: master 127.0.0.1 gone: closed by the peer"),
        "{log}"
    );
    assert_eq!(p.vol.compiled(), 0);
    p.assert_healthy();
}

#[test]
fn a_slow_client_holding_the_handshake_is_cut_off_while_the_master_is_served() {
    let mut p = paired(&["--io-timeout", "2"]);
    let mut slow = TcpStream::connect(p.vol.addr()).unwrap();
    slow.write_all(&[0x16, 0x03, 0x01]).unwrap();
    p.assert_healthy();
    let log = p.vol.wait_log("no TLS handshake within");
    assert!(
        log.contains("link: refused 127.0.0.1: no TLS handshake within 2 s"),
        "{log}"
    );
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the slow client got {} bytes", rest.len());
}
