//! Jobs multiplexed over one connection: each job is a [`MuxStream`], a byte stream both
//! ways with its own flow-control window; dropping one before both halves ended sends
//! `RESET` (cancellation). One task per connection reads frames and hands them to the
//! streams, one writes what the streams queued, and a keep-alive `PING`s an idle link
//! and closes a silent one.
//!
//! Only the client (the master) opens streams; the server learns of a new one from its
//! first frame, with ids rising.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;

use crate::compress::{self, Codec, Policy};
use crate::frame::{Frame, FrameDecoder, MAX_PAYLOAD};
use crate::window::{RecvWindow, SendWindow};

/// Which end of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opens streams (the master's relay).
    Client,
    /// Accepts streams (the volunteer).
    Server,
}

/// Timings of the keep-alive.
#[derive(Debug, Clone, Copy)]
pub struct KeepAlive {
    /// `PING` after this long without a frame from the peer.
    pub idle: Duration,
    /// Close the connection after this long without a frame from the peer.
    pub dead: Duration,
}

impl Default for KeepAlive {
    fn default() -> KeepAlive {
        KeepAlive {
            idle: Duration::from_secs(15),
            dead: Duration::from_secs(45),
        }
    }
}

/// Streams one connection may have open at once; more are refused with `RESET`.
pub const MAX_STREAMS: usize = 512;

#[derive(Default)]
struct StreamState {
    chunks: VecDeque<Vec<u8>>,
    front: usize,
    recv_end: bool,
    sent_end: bool,
    reset: bool,
    recv_win: RecvWindow,
    send_win: SendWindow,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
    /// When the peer's first bytes came, and how many came after them (the link's
    /// bandwidth, measured on the reply).
    rx_first: Option<Instant>,
    rx_after_first: u64,
}

/// Replies shorter than this say too little about the link's bandwidth.
const MEASURED_REPLY: u64 = 16 * 1024;

impl StreamState {
    fn wake(&mut self) {
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        if let Some(w) = self.write_waker.take() {
            w.wake();
        }
    }
}

#[derive(Default)]
struct ConnState {
    streams: HashMap<u32, StreamState>,
    closed: Option<String>,
    next_id: u32,
    highest_remote: u32,
    /// Ids below `highest_remote` the peer opened but whose first frame has not come
    /// yet: the peer numbers streams when it opens them, but two jobs opened one after
    /// the other may write their first bytes in the other order.
    skipped: std::collections::BTreeSet<u32>,
}

struct Conn {
    state: Mutex<ConnState>,
    out: mpsc::UnboundedSender<Frame>,
    close: Notify,
    last_heard: Mutex<Instant>,
    /// The client's compression (None: nothing is compressed).
    policy: Option<Arc<Policy>>,
}

impl Conn {
    fn lock(&self) -> MutexGuard<'_, ConnState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn send(&self, frame: Frame) {
        // A closed writer means the connection is gone; the streams learn it from
        // `closed`.
        let _ = self.out.send(frame);
    }

    /// Mark the connection closed and wake every stream.
    fn shut(&self, why: &str) {
        let mut st = self.lock();
        if st.closed.is_none() {
            st.closed = Some(why.to_owned());
        }
        for s in st.streams.values_mut() {
            s.wake();
        }
        drop(st);
        self.close.notify_waiters();
    }
}

/// A running multiplexed connection: open streams on it (client) and see whether it
/// still lives.
#[derive(Clone)]
pub struct MuxHandle {
    conn: Arc<Conn>,
}

impl MuxHandle {
    /// A new stream (client side). Fails once the connection is closed.
    pub fn open(&self) -> io::Result<MuxStream> {
        let mut st = self.conn.lock();
        if let Some(why) = &st.closed {
            return Err(io::Error::new(io::ErrorKind::NotConnected, why.clone()));
        }
        st.next_id = st.next_id.checked_add(1).ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "stream ids used up; reconnect")
        })?;
        let id = st.next_id;
        st.streams.insert(id, StreamState::default());
        Ok(MuxStream {
            conn: self.conn.clone(),
            id,
        })
    }

    /// Why the connection closed, once it has.
    pub fn closed(&self) -> Option<String> {
        self.conn.lock().closed.clone()
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.conn.lock().streams.len()
    }

    /// Close the connection; open streams fail.
    pub fn close(&self, why: &str) {
        self.conn.shut(why);
    }

    /// Wait until the connection has closed; returns why.
    pub async fn wait_closed(&self) -> String {
        loop {
            let notified = self.conn.close.notified();
            if let Some(why) = self.closed() {
                return why;
            }
            notified.await;
        }
    }
}

/// Run the multiplexer over `io` in a task of its own. The server side also gets the
/// streams the peer opens, in order; that channel ends when the connection does.
pub fn spawn<S>(
    io: S,
    role: Role,
    keepalive: KeepAlive,
) -> (MuxHandle, mpsc::UnboundedReceiver<MuxStream>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    spawn_with(io, role, keepalive, None)
}

/// [`spawn`], compressing what the streams write as `policy` decides (the client, on a
/// link whose peer reads `ZDATA`).
pub fn spawn_with<S>(
    io: S,
    role: Role,
    keepalive: KeepAlive,
    policy: Option<Arc<Policy>>,
) -> (MuxHandle, mpsc::UnboundedReceiver<MuxStream>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let conn = Arc::new(Conn {
        state: Mutex::new(ConnState::default()),
        out: out_tx,
        close: Notify::new(),
        last_heard: Mutex::new(Instant::now()),
        policy,
    });
    let handle = MuxHandle { conn: conn.clone() };
    tokio::spawn(async move {
        let (rd, wr) = tokio::io::split(io);
        let accept = (role == Role::Server).then_some(in_tx);
        let why = tokio::select! {
            r = read_loop(&conn, rd, accept) => r,
            r = write_loop(out_rx, wr) => r,
            r = keep_alive(&conn, keepalive) => r,
            () = closed(&conn) => String::new(),
        };
        if !why.is_empty() {
            conn.shut(&why);
        }
    });
    (handle, in_rx)
}

async fn closed(conn: &Conn) {
    loop {
        let notified = conn.close.notified();
        if conn.lock().closed.is_some() {
            return;
        }
        notified.await;
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    conn: &Arc<Conn>,
    mut rd: R,
    accept: Option<mpsc::UnboundedSender<MuxStream>>,
) -> String {
    let mut dec = FrameDecoder::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) => return "closed by the peer".into(),
            Ok(n) => n,
            Err(e) => return format!("read failed: {e}"),
        };
        *conn
            .last_heard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        dec.feed(&buf[..n]);
        loop {
            match dec.next_frame() {
                Ok(Some(frame)) => {
                    if let Err(why) = dispatch(conn, frame, accept.as_ref()) {
                        return format!("protocol error: {why}");
                    }
                }
                Ok(None) => break,
                Err(e) => return format!("protocol error: {e}"),
            }
        }
    }
}

/// Hand one frame to its stream. An error closes the connection.
fn dispatch(
    conn: &Arc<Conn>,
    frame: Frame,
    accept: Option<&mpsc::UnboundedSender<MuxStream>>,
) -> Result<(), String> {
    let frame = match frame {
        Frame::ZData {
            stream,
            codec,
            raw_len,
            payload,
        } => {
            let codec = Codec::from_wire(codec).ok_or_else(|| format!("unknown codec {codec}"))?;
            let payload = compress::inflate(codec, raw_len, &payload).map_err(|e| e.to_string())?;
            Frame::Data { stream, payload }
        }
        other => other,
    };
    let mut st = conn.lock();
    let id = match &frame {
        Frame::ZData { .. } => return Err("compressed frame left undecoded".into()),
        Frame::Ping { nonce } => {
            conn.send(Frame::Pong { nonce: *nonce });
            return Ok(());
        }
        Frame::Pong { .. } => return Ok(()),
        Frame::Data { stream, .. }
        | Frame::End { stream }
        | Frame::Reset { stream }
        | Frame::Window { stream, .. } => *stream,
    };
    let opens = matches!(frame, Frame::Data { .. } | Frame::End { .. });
    if !st.streams.contains_key(&id) {
        // New: above every id seen, or one skipped over. Anything else is a stream we
        // closed (frames still in flight) or never had.
        let fresh = id > st.highest_remote || st.skipped.remove(&id);
        let Some(accept) = accept.filter(|_| opens && fresh) else {
            return Ok(());
        };
        if id > st.highest_remote {
            let from = st.highest_remote.saturating_add(1);
            // Bounded: a peer jumping far ahead leaves no unbounded bookkeeping (the
            // oldest skipped ids are forgotten; their frames would then be dropped).
            st.skipped.extend((from..id).rev().take(MAX_STREAMS));
            while st.skipped.len() > MAX_STREAMS {
                st.skipped.pop_first();
            }
            st.highest_remote = id;
        }
        if st.streams.len() >= MAX_STREAMS {
            conn.send(Frame::Reset { stream: id });
            return Ok(());
        }
        st.streams.insert(id, StreamState::default());
        let stream = MuxStream {
            conn: conn.clone(),
            id,
        };
        if let Err(refused) = accept.send(stream) {
            // Its drop takes the lock: let go of it first.
            st.streams.remove(&id);
            drop(st);
            drop(refused);
            return Err("no one accepts streams".into());
        }
    }
    let Some(s) = st.streams.get_mut(&id) else {
        return Ok(());
    };
    match frame {
        Frame::Data { payload, .. } => {
            if s.recv_end {
                return Err(format!("data after the end of stream {id}"));
            }
            let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            s.recv_win.receive(len).map_err(|e| e.to_string())?;
            match s.rx_first {
                None => s.rx_first = Some(Instant::now()),
                Some(_) => s.rx_after_first += u64::from(len),
            }
            if !s.reset {
                s.chunks.push_back(payload);
            }
        }
        Frame::End { .. } => {
            s.recv_end = true;
            if let (Some(policy), Some(first)) = (&conn.policy, s.rx_first) {
                if s.rx_after_first >= MEASURED_REPLY {
                    policy.observe_bandwidth(s.rx_after_first, first.elapsed());
                }
            }
        }
        Frame::Reset { .. } => s.reset = true,
        Frame::Window { increment, .. } => {
            s.send_win.grant(increment).map_err(|e| e.to_string())?
        }
        Frame::Ping { .. } | Frame::Pong { .. } | Frame::ZData { .. } => {}
    }
    s.wake();
    Ok(())
}

async fn write_loop<W: AsyncWrite + Unpin>(
    mut rx: mpsc::UnboundedReceiver<Frame>,
    mut wr: W,
) -> String {
    let mut buf = Vec::with_capacity(128 * 1024);
    while let Some(frame) = rx.recv().await {
        buf.clear();
        frame.encode(&mut buf);
        while buf.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(f) => f.encode(&mut buf),
                Err(_) => break,
            }
        }
        if let Err(e) = async {
            wr.write_all(&buf).await?;
            wr.flush().await
        }
        .await
        {
            return format!("write failed: {e}");
        }
    }
    let _ = wr.shutdown().await;
    "closed".into()
}

async fn keep_alive(conn: &Conn, k: KeepAlive) -> String {
    let mut nonce = 0u64;
    loop {
        tokio::time::sleep(k.idle.min(k.dead) / 2).await;
        let heard = *conn
            .last_heard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let quiet = heard.elapsed();
        if quiet >= k.dead {
            return format!("no frame from the peer for {} s", quiet.as_secs());
        }
        if quiet >= k.idle {
            nonce += 1;
            conn.send(Frame::Ping { nonce });
        }
    }
}

/// One job's byte stream over the link. Reading ends at the peer's `END`; a peer's
/// `RESET` or a lost connection is an error. Dropping it before both halves ended
/// cancels the job at the other end.
pub struct MuxStream {
    conn: Arc<Conn>,
    id: u32,
}

impl std::fmt::Debug for MuxStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MuxStream({})", self.id)
    }
}

fn gone(st: &ConnState) -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        format!(
            "link closed: {}",
            st.closed.as_deref().unwrap_or("stream forgotten")
        ),
    )
}

fn cancelled() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "job cancelled by the peer")
}

impl MuxStream {
    /// The stream's id on its connection.
    pub fn id(&self) -> u32 {
        self.id
    }
}

impl AsyncRead for MuxStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let conn = self.conn.clone();
        let mut guard = conn.lock();
        let st = &mut *guard;
        let closed = st.closed.is_some();
        let Some(s) = st.streams.get_mut(&self.id) else {
            return Poll::Ready(Err(gone(st)));
        };
        if let Some(front) = s.chunks.front() {
            let n = (front.len() - s.front).min(buf.remaining());
            buf.put_slice(&front[s.front..s.front + n]);
            s.front += n;
            if s.front == front.len() {
                s.chunks.pop_front();
                s.front = 0;
            }
            let n32 = u32::try_from(n).unwrap_or(u32::MAX);
            if let Some(increment) = s.recv_win.consumed(n32).filter(|_| !s.recv_end) {
                conn.send(Frame::Window {
                    stream: self.id,
                    increment,
                });
            }
            return Poll::Ready(Ok(()));
        }
        // What arrived before an END is read to the end even if a RESET followed (the
        // peer finished, then stopped listening); a RESET without an END is a cancel.
        if s.recv_end {
            return Poll::Ready(Ok(()));
        }
        if s.reset {
            return Poll::Ready(Err(cancelled()));
        }
        if closed {
            return Poll::Ready(Err(gone(st)));
        }
        s.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for MuxStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let conn = self.conn.clone();
        let mut guard = conn.lock();
        let st = &mut *guard;
        if st.closed.is_some() {
            return Poll::Ready(Err(gone(st)));
        }
        let Some(s) = st.streams.get_mut(&self.id) else {
            return Poll::Ready(Err(gone(st)));
        };
        if s.reset {
            return Poll::Ready(Err(cancelled()));
        }
        if s.sent_end {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown",
            )));
        }
        let avail = s.send_win.available().min(MAX_PAYLOAD) as usize;
        if avail == 0 {
            s.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = avail.min(buf.len());
        let raw_len = u32::try_from(n).unwrap_or(u32::MAX);
        s.send_win.take(raw_len);
        // Compressing takes a while: the other streams and the reader go on meanwhile.
        drop(guard);
        let packed = conn.policy.as_ref().and_then(|p| p.encode(&buf[..n]));
        conn.send(match packed {
            Some((codec, payload)) => Frame::ZData {
                stream: self.id,
                codec: codec.wire_id(),
                raw_len,
                payload,
            },
            None => Frame::Data {
                stream: self.id,
                payload: buf[..n].to_vec(),
            },
        });
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection's writer flushes as soon as its queue is empty.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let conn = self.conn.clone();
        let mut st = conn.lock();
        if let Some(s) = st.streams.get_mut(&self.id) {
            if !s.sent_end && !s.reset {
                s.sent_end = true;
                conn.send(Frame::End { stream: self.id });
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for MuxStream {
    fn drop(&mut self) {
        let mut st = self.conn.lock();
        let closed = st.closed.is_some();
        if let Some(s) = st.streams.remove(&self.id) {
            let finished = closed || s.reset || (s.sent_end && s.recv_end);
            if !finished {
                self.conn.send(Frame::Reset { stream: self.id });
            }
        }
    }
}

#[cfg(test)]
#[path = "mux_tests.rs"]
mod tests;
