//! Memory bounded by construction (issue 21): a 1 MB LZO stream that inflates to 250 MiB,
//! sent on 8 and on 64 connections that wait for the one job slot, leaves serve's peak RSS
//! under 64 MiB; the sources wait on disk, capped for all connections together, and the
//! memory is given back when they close.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::time::{Duration, Instant};

use crate::support::server::*;

const BOMB_PLAIN: usize = 250 << 20;

/// A hand-made LZO1X stream: one literal space, one match of distance 1 whose length is
/// spelled out in about a million zero bytes, the end marker.
fn bomb() -> Vec<u8> {
    let len = BOMB_PLAIN - 1;
    let k = (len - 33 - 1) / 255;
    let last = len - 33 - 255 * k;
    let mut z = vec![18, b' ', 0x20];
    z.extend(std::iter::repeat_n(0u8, k));
    z.push(u8::try_from(last).unwrap());
    z.extend_from_slice(&[0, 0, 0x11, 0, 0]);
    z
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// Job directories whose source has fully arrived.
fn sources_on_disk(server: &Server) -> usize {
    std::fs::read_dir(&server.tmp)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|d| {
            std::fs::metadata(d.path().join("input.i")).is_ok_and(|m| m.len() == BOMB_PLAIN as u64)
        })
        .count()
}

/// The slow compiler's sleep argument, unique on this machine.
const MARK: &str = "299.4217";

/// True while a process with `arg` on its command line runs.
fn sleeping_with(arg: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| c.split(|&b| b == 0).any(|a| a == arg.as_bytes()))
        })
}

fn wait_for(what: &str, server: &Server, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: {}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_lzo_bomb_on_waiting_connections_keeps_serve_small() {
    let z = bomb();
    assert!(z.len() < 1_100_000, "{}", z.len());
    assert_eq!(
        distsetup::wire::lzo::decompress(&z, BOMB_PLAIN).map(|v| v.len()),
        Ok(BOMB_PLAIN)
    );
    let tc = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let slow = write(
        tc.path(),
        "slow-linux-gnu-gcc",
        &format!("#!/bin/sh\nsleep {MARK}\n"),
    );
    std::fs::set_permissions(&slow, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Every connection comes from 127.0.0.1 here: lift the per-client limits, so the
    // server-wide bounds are what is measured (8 and 64 clients' worth of bombs).
    let server = Server::start(&[
        "--jobs",
        "1",
        "--toolchain",
        tc.path().to_str().unwrap(),
        "--max-client-connections",
        "256",
        "--max-client-queued",
        "256",
    ]);
    let pid = server.pid();
    let start = status_kib(pid, "VmRSS:");
    // The one job slot is taken by a compile that sleeps.
    let mut holder = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    holder
        .write_all(&request(
            1,
            &["slow-linux-gnu-gcc", "-c", "s.c", "-o", "s.o"],
            "int s;\n",
        ))
        .unwrap();
    wait_for("the slow compile holds the slot", &server, || {
        sleeping_with(MARK)
    });
    let argv: Vec<&[u8]> = vec![b"gcc", b"-c", b"bomb.c", b"-o", b"bomb.o"];
    let mut header = distsetup::wire::encode_request(2, &argv, b"").unwrap();
    header.truncate(header.len() - 12); // drop the empty DOTI
    header.extend_from_slice(format!("DOTI{:08x}", z.len()).as_bytes());
    // 4 GiB of held sources (the default cap) fit 16 of them: of 64, the others are
    // closed without a reply at the cap (which ones depends on who writes first).
    for (n, most) in [(8, 8), (64, 16)] {
        let mut conns = Vec::new();
        for _ in 0..n {
            let mut c = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
            c.write_all(&header).unwrap();
            conns.push(c);
        }
        let before = server
            .log_text()
            .matches("sources held by this server")
            .count();
        for c in &mut conns {
            let _ = c.write_all(&z);
        }
        let refused = || {
            server
                .log_text()
                .matches("sources held by this server")
                .count()
                - before
        };
        wait_for("the sources arrive", &server, || {
            sources_on_disk(&server) + refused() == n
        });
        let waiting = sources_on_disk(&server);
        assert!(
            waiting <= most && (n == 64 || waiting == n),
            "{waiting} of {n} waiting"
        );
        let refused = refused();
        let peak = status_kib(pid, "VmHWM:");
        let now = status_kib(pid, "VmRSS:");
        eprintln!(
            "{n} connections with a 1 MB -> 250 MiB bomb: {waiting} waiting, {refused} closed; \
             serve RSS {start} KiB at start, {now} KiB now, peak {peak} KiB"
        );
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
        drop(conns);
        wait_for("the waiting sources are removed", &server, || {
            sources_on_disk(&server) == 0
        });
        let after = status_kib(pid, "VmRSS:");
        eprintln!("after they closed: {after} KiB");
        assert!(
            after < start + 16 * 1024,
            "{start} KiB at start, {after} KiB after"
        );
    }
    drop(holder);
    assert!(server.tmp_leftovers().is_empty());
}

/// Read one reply token's header (`NAMEhhhhhhhh`).
fn token(r: &mut impl std::io::Read, want: &[u8; 4]) -> u32 {
    let mut h = [0u8; 12];
    r.read_exact(&mut h).unwrap();
    assert_eq!(&h[..4], want, "{}", String::from_utf8_lossy(&h));
    u32::from_str_radix(std::str::from_utf8(&h[4..]).unwrap(), 16).unwrap()
}

/// An object that does not compress, over protocol 2: serve compresses it with the
/// streaming encoder into the job directory and streams it; its RSS stays small. The
/// client side decodes as it reads and checks the probe's own SHA-256 of what it wrote.
/// 256 MiB here to keep the suite short; with 1024 (a 1 GiB object) serve peaked at
/// 14 MiB RSS (DOTO 1,077,952,582 bytes) in 2 minutes of a debug build.
#[test]
fn an_incompressible_object_over_protocol_2_keeps_serve_small() {
    const MIB: u64 = 256;
    use sha2::Digest as _;
    use std::io::Read as _;
    let tc = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tc.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let probe = write(
        tc.path(),
        "noise-linux-gnu-gcc",
        "#!/bin/sh\nexec python3 -c '\nimport hashlib, random, sys\n\
         r = random.Random(21); h = hashlib.sha256()\n\
         with open(\"output.o\", \"wb\") as f:\n\
         \x20   for _ in range(256):\n\
         \x20       b = r.randbytes(1 << 20); h.update(b); f.write(b)\n\
         print(h.hexdigest(), file=sys.stderr)\n'\n",
    );
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start(&["--jobs", "1", "--toolchain", tc.path().to_str().unwrap()]);
    let start = status_kib(server.pid(), "VmRSS:");
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(&request(
        2,
        &["noise-linux-gnu-gcc", "-c", "n.c", "-o", "n.o"],
        "int n;\n",
    ))
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
    let mut r = std::io::BufReader::with_capacity(1 << 20, s);
    assert_eq!(token(&mut r, b"DONE"), 2);
    assert_eq!(token(&mut r, b"STAT"), 0);
    let serr_len = token(&mut r, b"SERR");
    let mut serr = vec![0u8; serr_len as usize];
    r.read_exact(&mut serr).unwrap();
    let serr = distsetup::wire::lzo::decompress(&serr, 1 << 20).unwrap();
    let want = String::from_utf8_lossy(&serr).trim().to_owned();
    assert_eq!(token(&mut r, b"SOUT"), 0);
    let doto = token(&mut r, b"DOTO");
    assert!(
        u64::from(doto) > MIB << 20,
        "{doto}: the object compressed, so this does not test incompressible data"
    );
    let mut d = distsetup::wire::lzo_stream::LzoStream::new(2 << 30);
    let mut h = sha2::Sha256::new();
    let mut plain = 0u64;
    let mut sink = |b: &[u8]| -> Result<(), ()> {
        h.update(b);
        plain += b.len() as u64;
        Ok(())
    };
    let mut left = doto as usize;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = r.read(&mut buf[..left.min(1 << 20)]).unwrap();
        assert!(n > 0, "reply ended early");
        d.feed(&buf[..n], &mut sink).unwrap();
        left -= n;
    }
    d.finish(&mut sink).unwrap();
    assert_eq!(plain, MIB << 20);
    let got: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        got, want,
        "the object arrived different from what the compiler wrote"
    );
    let peak = status_kib(server.pid(), "VmHWM:");
    eprintln!(
        "{MIB} MiB incompressible over protocol 2: DOTO {doto} bytes; serve RSS {start} KiB at start, peak {peak} KiB"
    );
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    assert!(server.tmp_leftovers().is_empty());
}
