//! The link over real TCP on 127.0.0.1: who gets in and who is refused, and why.
//!
//! Test code binds its own sockets and unwraps (the doors are for the product).
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use distsetup_link::client::ClientTimeouts;
use distsetup_link::mux::KeepAlive;
use distsetup_link::tls::{PinCheck, Pins};
use distsetup_link::{Fingerprint, Identity, LinkClient, LinkEvent, LinkServer, LinkTarget};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

type Events = Arc<Mutex<Vec<LinkEvent>>>;

struct Volunteer {
    addr: SocketAddr,
    events: Events,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Volunteer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Volunteer {
    fn refusals(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                LinkEvent::Refused { why, .. } => Some(why.clone()),
                _ => None,
            })
            .collect()
    }

    async fn wait_refusals(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.refusals().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.refusals()
    }
}

/// A volunteer answering each job with its bytes reversed.
async fn volunteer(id: &Identity, pins: Arc<dyn PinCheck>, handshake: Duration) -> Volunteer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server = LinkServer::new(id, pins).unwrap();
    server.handshake_timeout = handshake;
    server.grace = Duration::from_secs(1);
    let events: Events = Arc::default();
    let log = events.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let on_event = Arc::new(move |e| log.lock().unwrap().push(e));
        let handler = |mut s: distsetup_link::MuxStream, _peer| async move {
            let mut got = Vec::new();
            if s.read_to_end(&mut got).await.is_ok() {
                got.reverse();
                let _ = s.write_all(&got).await;
                let _ = s.shutdown().await;
            }
        };
        let shutdown = async {
            let _ = stopped.await;
        };
        server
            .run(vec![listener], on_event, handler, shutdown)
            .await;
    });
    Volunteer {
        addr,
        events,
        stop: Some(stop),
    }
}

fn client(addr: SocketAddr, id: &Identity, pins: Arc<dyn PinCheck>) -> LinkClient {
    let timeouts = ClientTimeouts {
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        ..ClientTimeouts::default()
    };
    LinkClient::new(
        LinkTarget {
            addr: addr.to_string(),
        },
        id,
        pins,
    )
    .unwrap()
    .with_timeouts(timeouts, KeepAlive::default())
}

async fn job(c: &LinkClient, body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = c.open_stream().await?;
    s.write_all(body).await?;
    s.shutdown().await?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).await?;
    Ok(reply)
}

fn pins(fps: &[Fingerprint]) -> Arc<dyn PinCheck> {
    Arc::new(Pins(fps.to_vec()))
}

#[tokio::test]
async fn paired_both_ways_the_jobs_flow() {
    let (m, v) = (Identity::generate().unwrap(), Identity::generate().unwrap());
    let vol = volunteer(&v, pins(&[m.fingerprint()]), Duration::from_secs(10)).await;
    let c = client(vol.addr, &m, pins(&[v.fingerprint()]));
    for _ in 0..3 {
        assert_eq!(job(&c, b"abc").await.unwrap(), b"cba");
    }
    let connected: Vec<_> = vol
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, LinkEvent::Connected { key, .. } if *key == m.fingerprint()))
        .cloned()
        .collect();
    assert_eq!(connected.len(), 1, "one connection carries every job");
}

#[tokio::test]
async fn an_unpaired_master_is_refused_and_logged() {
    let (m, v, other) = (
        Identity::generate().unwrap(),
        Identity::generate().unwrap(),
        Identity::generate().unwrap(),
    );
    let vol = volunteer(&v, pins(&[other.fingerprint()]), Duration::from_secs(10)).await;
    let c = client(vol.addr, &m, pins(&[v.fingerprint()]));
    assert!(job(&c, b"abc").await.is_err());
    let why = vol.wait_refusals(1).await;
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(
        why[0].contains(&format!("key {} is not the pinned one", m.fingerprint())),
        "{why:?}"
    );
}

/// A man in the middle: another key where the volunteer should be.
#[tokio::test]
async fn a_volunteer_with_another_key_is_refused_by_the_master() {
    let (m, v, mitm) = (
        Identity::generate().unwrap(),
        Identity::generate().unwrap(),
        Identity::generate().unwrap(),
    );
    // The impostor would even accept the master.
    let vol = volunteer(&mitm, pins(&[m.fingerprint()]), Duration::from_secs(10)).await;
    let c = client(vol.addr, &m, pins(&[v.fingerprint()]));
    let err = job(&c, b"secret source").await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("key {} is not the pinned one", mitm.fingerprint())),
        "{err}"
    );
    let why = vol.wait_refusals(1).await;
    assert!(why[0].starts_with("TLS handshake failed"), "{why:?}");
}

#[tokio::test]
async fn a_revoked_master_is_refused_on_its_next_connection() {
    let (m, v) = (Identity::generate().unwrap(), Identity::generate().unwrap());
    let trusted = Arc::new(Mutex::new(vec![m.fingerprint()]));
    let store = trusted.clone();
    let check = move |fp: &Fingerprint| {
        if store.lock().unwrap().contains(fp) {
            Ok(())
        } else {
            Err(format!("key {fp} was revoked"))
        }
    };
    let vol = volunteer(&v, Arc::new(check), Duration::from_secs(10)).await;
    let first = client(vol.addr, &m, pins(&[v.fingerprint()]));
    assert_eq!(job(&first, b"ok").await.unwrap(), b"ko");
    trusted.lock().unwrap().clear();
    let next = client(vol.addr, &m, pins(&[v.fingerprint()]));
    assert!(job(&next, b"ok").await.is_err());
    assert!(vol.wait_refusals(1).await[0].contains("was revoked"));
}

#[tokio::test]
async fn plain_bytes_and_a_silent_client_are_refused_and_the_server_stays_healthy() {
    let (m, v) = (Identity::generate().unwrap(), Identity::generate().unwrap());
    let vol = volunteer(&v, pins(&[m.fingerprint()]), Duration::from_secs(1)).await;
    // A slow client holding a handshake open.
    let _silent = tokio::net::TcpStream::connect(vol.addr).await.unwrap();
    // A stock distcc client's request at the TLS port.
    let mut plain = tokio::net::TcpStream::connect(vol.addr).await.unwrap();
    plain
        .write_all(b"DIST00000002ARGC00000002ARGV00000003gcc")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = plain.read_to_end(&mut reply).await;
    assert!(!reply.windows(4).any(|w| w == b"DONE"), "a distcc answer");
    // Meanwhile a paired master is served.
    let c = client(vol.addr, &m, pins(&[v.fingerprint()]));
    assert_eq!(job(&c, b"xyz").await.unwrap(), b"zyx");
    let why = vol.wait_refusals(2).await;
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(
        why.iter().any(|w| w.starts_with("TLS handshake failed")),
        "{why:?}"
    );
    assert!(
        why.iter().any(|w| w == "no TLS handshake within 1 s"),
        "{why:?}"
    );
}
