use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

use super::*;
use crate::window::INITIAL_WINDOW;

fn pair() -> (MuxHandle, MuxHandle, mpsc::UnboundedReceiver<MuxStream>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let (client, _) = spawn(a, Role::Client, KeepAlive::default());
    let (server, incoming) = spawn(b, Role::Server, KeepAlive::default());
    (client, server, incoming)
}

/// A server that answers each stream with its bytes reversed, after reading to the end.
fn reverse_server(mut incoming: mpsc::UnboundedReceiver<MuxStream>) {
    tokio::spawn(async move {
        while let Some(mut s) = incoming.recv().await {
            tokio::spawn(async move {
                let mut got = Vec::new();
                s.read_to_end(&mut got).await.expect("request read");
                got.reverse();
                s.write_all(&got).await.expect("reply written");
                s.shutdown().await.expect("ended");
            });
        }
    });
}

async fn exchange(client: &MuxHandle, body: Vec<u8>) -> Vec<u8> {
    let mut s = client.open().expect("a stream");
    let (mut rd, mut wr) = tokio::io::split(&mut s);
    let send = async {
        wr.write_all(&body).await.expect("request written");
        wr.shutdown().await.expect("ended");
    };
    let mut reply = Vec::new();
    let recv = rd.read_to_end(&mut reply);
    let ((), read) = tokio::join!(send, recv);
    read.expect("reply read");
    reply
}

#[tokio::test]
async fn many_jobs_of_several_windows_each_share_one_connection() {
    let (client, _server, incoming) = pair();
    reverse_server(incoming);
    let jobs = (0..16u8).map(|i| {
        let client = client.clone();
        async move {
            let body: Vec<u8> = (0..(INITIAL_WINDOW as usize * 3 + usize::from(i)))
                .map(|n| (n % 251) as u8 ^ i)
                .collect();
            let mut want = body.clone();
            want.reverse();
            assert_eq!(exchange(&client, body).await, want, "job {i}");
        }
    });
    tokio::time::timeout(Duration::from_secs(60), futures_join_all(jobs))
        .await
        .expect("all jobs finish");
    assert_eq!(client.open_streams(), 0);
}

#[tokio::test]
async fn a_stream_whose_first_bytes_come_after_a_later_streams_is_still_served() {
    let (client, _server, incoming) = pair();
    reverse_server(incoming);
    // Opened as 1, 2, 3; written 3, 1, 2 (two jobs' tasks race to their first write).
    let mut a = client.open().expect("a stream");
    let mut b = client.open().expect("a stream");
    let mut c = client.open().expect("a stream");
    let mut replies = Vec::new();
    for (s, body) in [
        (&mut c, b"ccc".to_vec()),
        (&mut a, b"ab".to_vec()),
        (&mut b, b"xyz".to_vec()),
    ] {
        s.write_all(&body).await.expect("request written");
        s.shutdown().await.expect("ended");
    }
    for s in [&mut a, &mut b, &mut c] {
        let mut reply = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut reply))
            .await
            .expect("every stream is answered")
            .expect("reply read");
        replies.push(reply);
    }
    assert_eq!(
        replies,
        vec![b"ba".to_vec(), b"zyx".to_vec(), b"ccc".to_vec()]
    );
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futs: impl Iterator<Item = F>) {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    for f in set {
        f.await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_stops_holds_back_only_its_own_stream() {
    let (client, _server, mut incoming) = pair();
    let mut stuck = client.open().expect("a stream");
    let big = vec![7u8; INITIAL_WINDOW as usize * 2];
    // Nobody reads the server side of this stream: the write stops at the window.
    let blocked = tokio::time::timeout(Duration::from_secs(30), stuck.write_all(&big)).await;
    assert!(blocked.is_err(), "wrote past the window");
    let _held = incoming.recv().await.expect("the stuck stream arrived");
    reverse_server(incoming);
    let reply = exchange(&client, b"abc".to_vec()).await;
    assert_eq!(reply, b"cba");
}

#[tokio::test]
async fn dropping_a_stream_cancels_the_job_at_the_other_end() {
    let (client, _server, mut incoming) = pair();
    let mut s = client.open().expect("a stream");
    s.write_all(b"half a request").await.expect("written");
    let mut far = incoming.recv().await.expect("arrived");
    drop(s);
    let mut buf = vec![0u8; 64];
    let mut got = Vec::new();
    let err = loop {
        match far.read(&mut buf).await {
            Ok(0) => panic!("a cancel must not look like a finished request"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert!(far.write_all(b"reply").await.is_err());
    // The connection itself lives on.
    reverse_server(incoming);
    assert_eq!(exchange(&client, b"xy".to_vec()).await, b"yx");
}

/// A server side fed raw bytes: what the peer sends is all it controls.
async fn raw_peer(bytes: &[u8]) -> (MuxHandle, DuplexStream) {
    let (mut a, b) = tokio::io::duplex(1024 * 1024);
    let (server, incoming) = spawn(b, Role::Server, KeepAlive::default());
    reverse_server(incoming);
    a.write_all(bytes).await.expect("written");
    (server, a)
}

#[tokio::test]
async fn an_oversized_frame_closes_the_connection() {
    let mut hostile = vec![0u8, 0, 0, 0, 1];
    hostile.extend_from_slice(&u32::MAX.to_be_bytes());
    let (server, _peer) = raw_peer(&hostile).await;
    let why = tokio::time::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("closed");
    assert_eq!(
        why,
        "protocol error: frame of 4294967295 bytes is over the 65536-byte limit"
    );
}

#[tokio::test]
async fn a_peer_overrunning_its_window_is_cut_off() {
    let mut bytes = Vec::new();
    for _ in 0..=(INITIAL_WINDOW / MAX_PAYLOAD) {
        Frame::Data {
            stream: 1,
            payload: vec![1; MAX_PAYLOAD as usize],
        }
        .encode(&mut bytes);
    }
    let (server, _peer) = raw_peer(&bytes).await;
    let why = tokio::time::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("closed");
    assert!(
        why.starts_with("protocol error: peer sent 65536 bytes on a stream with 0 bytes"),
        "{why}"
    );
}

#[tokio::test]
async fn a_truncated_frame_then_eof_closes_without_a_job() {
    let bytes = Frame::Data {
        stream: 1,
        payload: b"DIST00000002".to_vec(),
    }
    .to_bytes();
    let (mut a, b) = tokio::io::duplex(1024);
    let (server, mut incoming) = spawn(b, Role::Server, KeepAlive::default());
    a.write_all(&bytes[..bytes.len() - 3])
        .await
        .expect("written");
    drop(a);
    let why = tokio::time::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("closed");
    assert_eq!(why, "closed by the peer");
    assert!(incoming.recv().await.is_none(), "no stream was handed out");
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_is_pinged_then_dropped_and_a_live_one_kept() {
    let (a, b) = tokio::io::duplex(1024);
    let (client, _) = spawn(a, Role::Client, KeepAlive::default());
    let (server, _incoming) = spawn(b, Role::Server, KeepAlive::default());
    // Both answer pings: an idle link stays up.
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(client.closed(), None);
    assert_eq!(server.closed(), None);

    let (a, _silent) = tokio::io::duplex(1024);
    let (lonely, _) = spawn(a, Role::Client, KeepAlive::default());
    tokio::time::sleep(Duration::from_secs(60)).await;
    let why = lonely.closed().expect("closed after the dead interval");
    assert!(why.starts_with("no frame from the peer for"), "{why}");
    assert!(lonely.open().is_err());
}

/// The volunteer's side ends a job by writing the reply, END, and dropping the stream
/// (which RESETs the request half the client never closed): the reply still arrives whole.
#[tokio::test]
async fn a_reply_ended_then_dropped_is_read_whole() {
    let (client, _server, mut incoming) = pair();
    let mut s = client.open().expect("a stream");
    s.write_all(b"request, never half-closed")
        .await
        .expect("written");
    let mut far = incoming.recv().await.expect("arrived");
    let reply = vec![9u8; INITIAL_WINDOW as usize / 2];
    far.write_all(&reply).await.expect("reply written");
    far.shutdown().await.expect("ended");
    drop(far);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut got = Vec::new();
    s.read_to_end(&mut got)
        .await
        .expect("the whole reply, then EOF");
    assert_eq!(got, reply);
}

fn compressing_pair(mode: compress::Mode) -> (MuxHandle, mpsc::UnboundedReceiver<MuxStream>) {
    let (a, b) = tokio::io::duplex(64 * 1024);
    let policy = Arc::new(Policy::new(mode));
    policy.set_negotiated(true);
    let (client, _) = spawn_with(a, Role::Client, KeepAlive::default(), Some(policy));
    let (_server, incoming) = spawn(b, Role::Server, KeepAlive::default());
    (client, incoming)
}

#[tokio::test]
async fn each_codec_carries_a_job_byte_for_byte() {
    for codec in [Codec::None, Codec::Lzo, Codec::Zstd] {
        let (client, incoming) = compressing_pair(compress::Mode::Forced(codec));
        reverse_server(incoming);
        let body: Vec<u8> = b"int f(void) { return 42; }\n"
            .iter()
            .copied()
            .cycle()
            .take(INITIAL_WINDOW as usize * 2 + 7)
            .collect();
        let mut want = body.clone();
        want.reverse();
        assert_eq!(exchange(&client, body).await, want, "{codec:?}");
    }
}

#[tokio::test]
async fn a_decompression_bomb_closes_the_connection() {
    // 16 MiB of zeros in a few hundred bytes, claiming a full frame.
    let bomb = zstd::bulk::compress(&vec![0u8; 16 << 20], 1).expect("compressed");
    let bytes = Frame::ZData {
        stream: 1,
        codec: Codec::Zstd.wire_id(),
        raw_len: MAX_PAYLOAD,
        payload: bomb,
    }
    .to_bytes();
    let (server, mut peer) = raw_peer(&bytes).await;
    let why = tokio::time::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("closed");
    assert!(
        why.starts_with("protocol error: compressed frame does not decode to its 65536 bytes"),
        "{why}"
    );
    let mut rest = Vec::new();
    let _ = peer.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "nothing answered");
    // A claim over the frame limit is refused from the frame's first bytes.
    let mut claim = Frame::ZData {
        stream: 1,
        codec: Codec::Zstd.wire_id(),
        raw_len: 1,
        payload: vec![0; 8],
    }
    .to_bytes();
    claim[10..14].copy_from_slice(&(64u32 << 20).to_be_bytes());
    let (server, _peer) = raw_peer(&claim).await;
    let why = tokio::time::timeout(Duration::from_secs(10), server.wait_closed())
        .await
        .expect("closed");
    assert_eq!(
        why,
        "protocol error: frame of 67108864 bytes is over the 65536-byte limit"
    );
}
