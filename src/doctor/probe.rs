//! Talking to a compile server the way the distcc client does (protocol 1, or 2 with
//! `,lzo`), so the probe works against distccd and `distsetup serve` alike.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::wire::{DecodedReply, Limits, ReplyDecoder, encode_request};

/// Why a probe got no reply.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The name did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// TCP connect failed or timed out.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The connection broke during the exchange.
    #[error("no answer: {0}")]
    Io(std::io::Error),
    /// Nothing came back in time.
    #[error("no reply within {0} s")]
    Timeout(u64),
    /// The server closed without a complete reply (distccd's way of refusing).
    #[error("the server closed the connection without a reply ({0} bytes received)")]
    NoReply(usize),
    /// The reply was not distcc protocol.
    #[error("not a distcc reply: {0}")]
    Protocol(String),
}

/// Resolve `host:port` to its first address.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    (bare, port)
        .to_socket_addrs()
        .map_err(|_| ProbeError::Resolve(host.to_string()))?
        .next()
        .ok_or_else(|| ProbeError::Resolve(host.to_string()))
}

/// Connect, and how long it took.
#[allow(
    clippy::disallowed_methods,
    reason = "doctor's probe is one of the three doors to the network (with the server and the relay)"
)]
pub fn connect(addr: SocketAddr, timeout: Duration) -> Result<(TcpStream, Duration), ProbeError> {
    let t = Instant::now();
    let s = TcpStream::connect_timeout(&addr, timeout).map_err(ProbeError::Connect)?;
    Ok((s, t.elapsed()))
}

/// One remote compile of already preprocessed `source` with `compiler` (the name the
/// client would send), `-O2`. Returns the reply and the wall time of the exchange.
pub fn compile(
    addr: SocketAddr,
    compiler: &str,
    source: &[u8],
    lzo: bool,
    timeout: Duration,
) -> Result<(DecodedReply, Duration), ProbeError> {
    let version = if lzo { 2 } else { 1 };
    let argv: [&[u8]; 6] = [
        compiler.as_bytes(),
        b"-O2",
        b"-c",
        b"distsetup-probe.c",
        b"-o",
        b"distsetup-probe.o",
    ];
    let request =
        encode_request(version, &argv, source).map_err(|e| ProbeError::Protocol(e.to_string()))?;
    let started = Instant::now();
    let (mut s, _) = connect(addr, timeout)?;
    s.set_read_timeout(Some(timeout)).map_err(ProbeError::Io)?;
    s.set_write_timeout(Some(timeout)).map_err(ProbeError::Io)?;
    s.write_all(&request).map_err(ProbeError::Io)?;
    let mut dec = ReplyDecoder::new(version, Limits::default());
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0usize;
    loop {
        if let Some(r) = dec
            .next_reply()
            .map_err(|e| ProbeError::Protocol(e.to_string()))?
        {
            return Ok((r, started.elapsed()));
        }
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            // A refusing distccd resets the connection.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ProbeError::Timeout(timeout.as_secs()));
            }
            Err(e) => return Err(ProbeError::Io(e)),
        };
        if n == 0 {
            return Err(ProbeError::NoReply(received));
        }
        received += n;
        dec.feed(buf.get(..n).unwrap_or_default());
    }
}

/// A fixed unit for the speed probe: plain C, no headers, enough work at `-O2` for the
/// compile to dominate the round trip.
pub fn speed_unit() -> String {
    let mut s = String::new();
    for i in 0..60 {
        s.push_str(&format!(
            "static int t{i}(int *a, int n) {{ int s = {i}; for (int k = 0; k < n; k++) {{ \
             if (a[k] % 3 == {m}) s += a[k] * {i}; else s ^= a[k] << (k & 7); \
             for (int j = k; j < n && j < k + 4; j++) s += a[j] / (j + 1); }} return s; }}\n",
            m = i % 3
        ));
    }
    s.push_str("int speed_all(int *a, int n) { int s = 0;\n");
    for i in 0..60 {
        s.push_str(&format!("  s += t{i}(a, n);\n"));
    }
    s.push_str("  return s; }\n");
    s
}

/// The master's own time for one compile of [`speed_unit`] (`compiler -O2 -c`), median of
/// `rounds`, in milliseconds; `None` when it cannot compile it.
pub fn local_compile_ms(compiler: &str, rounds: u32) -> Option<f64> {
    let dir = crate::plan::scratch::Scratch::new().ok()?;
    let src = dir
        .write("distsetup-speed.c", speed_unit().as_bytes())
        .ok()?;
    let mut times = Vec::new();
    for _ in 0..rounds.max(1) {
        let started = std::time::Instant::now();
        let st = std::process::Command::new(compiler)
            .args(["-O2", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(dir.path().join("distsetup-speed.o"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        if !st.success() {
            return None;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied()
}
