//! Real processes for the relay tests: the relay itself, distccd, and a volunteer that
//! misbehaves on purpose (a proxy in front of a real `distsetup serve` that answers the
//! relay's probes honestly and then fails real jobs the way a broken host does).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::server::bin;
use crate::support::{free_port, is_root, wait_listening};

/// A running `distsetup relay`, stopped when dropped.
pub struct Relay {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Relay {
    /// `distsetup relay --listen 127.0.0.1:0 --hosts HOSTS --lifetime 300 EXTRA...`.
    pub fn start(hosts: &str, extra: &[&str]) -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("relay.log");
        let err = std::fs::File::create(&log).unwrap();
        let child = Command::new(bin())
            .args([
                "relay",
                "--listen",
                "127.0.0.1:0",
                "--hosts",
                hosts,
                "--lifetime",
                "300",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        let mut r = Relay {
            child,
            port: 0,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&r.log).unwrap_or_default();
            if let Some(at) = text.find("listening on 127.0.0.1:") {
                let digits: String = text[at + 23..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                r.port = digits.parse().unwrap();
                return r;
            }
            if let Ok(Some(st)) = r.child.try_wait() {
                panic!("relay exited early with {st}: {text}");
            }
            assert!(Instant::now() < deadline, "relay did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `DISTCC_HOSTS` for the client: the relay with `slots` slots.
    pub fn hosts(&self, slots: u32) -> String {
        format!("127.0.0.1:{}/{slots}", self.port)
    }

    /// `distsetup top --once --json`, parsed.
    pub fn state(&self) -> serde_json::Value {
        let o = Command::new(bin())
            .args([
                "top",
                "--relay",
                &format!("127.0.0.1:{}", self.port),
                "--once",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }

    /// The state once no job runs (the relay records an attempt just after answering).
    pub fn settled_state(&self) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let s = self.state();
            if s["running"].as_array().is_some_and(Vec::is_empty) || Instant::now() > deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The volunteer `addr` in `state`.
    pub fn host<'a>(state: &'a serde_json::Value, addr: &str) -> &'a serde_json::Value {
        state["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["address"] == addr)
            .unwrap_or_else(|| panic!("no host {addr} in {state:#}"))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A distccd on 127.0.0.1 with `path_first` (if any) ahead of /usr/bin in its PATH and
/// `--enable-tcp-insecure` (no whitelist: its PATH decides what a name means). The
/// process group is killed when dropped.
pub struct Distccd {
    pub child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Distccd {
    pub fn start(path_first: Option<&Path>) -> Distccd {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let _ = Command::new("chmod").arg("1777").arg(&tmp).status();
        let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
        let port = free_port();
        // Every job's summary line (COMPILE_OK ... FILE), written as nobody.
        let log = dir.path().join("distccd.log");
        std::fs::write(&log, "").unwrap();
        let _ = Command::new("chmod").arg("666").arg(&log).status();
        let path = match path_first {
            Some(p) => format!("{}:/usr/bin:/bin", p.display()),
            None => "/usr/bin:/bin".into(),
        };
        let mut cmd = Command::new("distccd");
        cmd.env("TMPDIR", &tmp)
            .env("PATH", path)
            .args([
                "--daemon",
                "--no-detach",
                "--listen",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args([
                "--allow",
                "127.0.0.1",
                "--jobs",
                "2",
                "--enable-tcp-insecure",
                "--log-level",
                "info",
                "--log-file",
            ])
            .arg(&log);
        if is_root() {
            cmd.args(["--user", "nobody"]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        wait_listening(port, "distccd");
        Distccd { child, port, dir }
    }

    /// What distccd logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("distccd.log")).unwrap_or_default()
    }
}

impl Drop for Distccd {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: plain syscall on the group spawn() made for this child.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.child.wait();
    }
}

/// How the faulty volunteer treats a real job (probes are always forwarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Read the request, close.
    Close,
    /// Read the request, reset the connection (RST).
    Reset,
    /// Read the request, answer nothing until the relay gives up.
    Hang,
    /// Answer bytes that are not distcc.
    Garbage,
    /// Start a valid reply, then die (a server killed mid-job).
    KilledMidReply,
    /// Stop listening once the probes are answered: jobs find the port refused.
    RefuseAfterProbe,
    /// Forward after this many seconds (a straggler); notice when the relay hangs up.
    Slow(u64),
    /// Close the first job's connection (a volunteer that failed once), forward the rest.
    CloseFirst,
}

/// A proxy in front of a real compile server that applies a [`Fault`] to jobs.
pub struct Faulty {
    pub port: u16,
    /// What happened, one word per connection: `probe`, `job`, `cancelled`, `answered`.
    pub events: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Faulty {
    pub fn start(upstream: u16, fault: Fault) -> Faulty {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let events = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (ev, st) = (Arc::clone(&events), Arc::clone(&stop));
        std::thread::spawn(move || {
            listener.set_nonblocking(true).unwrap();
            let mut listener = Some(listener);
            while !st.load(Ordering::Relaxed) {
                let Some(l) = &listener else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                match l.accept() {
                    Ok((mut s, _)) if fault == Fault::RefuseAfterProbe => {
                        s.set_nonblocking(false).unwrap();
                        if let Some((raw, _)) = read_request(&mut s) {
                            // Closed before the probe is answered: no job can connect.
                            listener = None;
                            ev.lock().unwrap().push("probe".into());
                            let _ = s.write_all(&forward(&raw, upstream));
                        }
                    }
                    Ok((s, _)) => {
                        s.set_nonblocking(false).unwrap();
                        let ev = Arc::clone(&ev);
                        std::thread::spawn(move || handle(s, upstream, fault, &ev));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Faulty { port, events, stop }
    }

    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }

    /// Wait (at most 20 s) until `word` happened.
    pub fn wait_for(&self, word: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let e = self.events();
            if e.iter().any(|w| w == word) || Instant::now() > deadline {
                return e;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Faulty {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Read one whole request with the wire crate's decoder.
fn read_request(s: &mut TcpStream) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut dec = distsetup::wire::RequestDecoder::new(distsetup::wire::Limits::default());
    let mut raw = Vec::new();
    let mut argv = Vec::new();
    let mut buf = [0u8; 65536];
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    loop {
        while let Some(ev) = dec.next_event().ok()? {
            match ev {
                distsetup::wire::RequestEvent::Header { argv: a, .. } => argv = a,
                _ => return Some((raw, argv)),
            }
        }
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        dec.feed(&buf[..n]);
        raw.extend_from_slice(&buf[..n]);
    }
}

fn forward(raw: &[u8], upstream: u16) -> Vec<u8> {
    let mut u = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
    u.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    u.write_all(raw).unwrap();
    let mut reply = Vec::new();
    let _ = u.read_to_end(&mut reply);
    reply
}

/// Whether the peer closed the connection (checked without consuming data).
fn peer_closed(s: &TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut b = [0u8; 1];
    matches!(s.peek(&mut b), Ok(0))
        || matches!(s.peek(&mut b), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

/// One connection; true when it was a probe.
fn handle(mut s: TcpStream, upstream: u16, fault: Fault, ev: &Mutex<Vec<String>>) -> bool {
    let Some((raw, argv)) = read_request(&mut s) else {
        return false;
    };
    let probe = argv.iter().any(|a| a == b"distsetup-probe.c");
    let note = |w: &str| ev.lock().unwrap().push(w.to_owned());
    if probe {
        note("probe");
        let _ = s.write_all(&forward(&raw, upstream));
        return true;
    }
    note("job");
    let jobs = ev.lock().unwrap().iter().filter(|w| *w == "job").count();
    match fault {
        Fault::CloseFirst if jobs == 1 => drop(s),
        Fault::CloseFirst => {
            let _ = s.write_all(&forward(&raw, upstream));
            note("answered");
        }
        Fault::Close | Fault::RefuseAfterProbe => drop(s),
        Fault::Reset => {
            let _ = socket_linger_zero(&s);
            drop(s);
        }
        Fault::Hang => {
            if peer_closed(&s, Duration::from_secs(120)) {
                note("cancelled");
            }
        }
        Fault::Garbage => {
            let _ = s.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nno distcc here\n");
        }
        Fault::KilledMidReply => {
            let _ =
                s.write_all(b"DONE00000001STAT00000000SERR00000000SOUT00000000DOTO00001000\x7fELF");
        }
        Fault::Slow(secs) => {
            if peer_closed(&s, Duration::from_secs(secs)) {
                note("cancelled");
                return false;
            }
            let _ = s.write_all(&forward(&raw, upstream));
            note("answered");
        }
    }
    false
}

fn socket_linger_zero(s: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized option value.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The real distcc client through the relay: no local fallback (a failure fails the
/// compile), the default backoff period (a failure would leave a backoff file).
pub fn distcc(hosts: &str, args: &[&str], cwd: &Path) -> Output {
    let state = cwd.join(".distcc-state");
    std::fs::create_dir_all(&state).unwrap();
    Command::new("distcc")
        .args(args)
        .current_dir(cwd)
        .env("DISTCC_HOSTS", hosts)
        .env("DISTCC_DIR", &state)
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_SKIP_LOCAL_RETRY", "1")
        .env("DISTCC_IO_TIMEOUT", "600")
        .env_remove("DISTCC_BACKOFF_PERIOD")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Files in the client's lock directory that mark a backed-off host.
pub fn backoff_files(cwd: &Path) -> Vec<String> {
    std::fs::read_dir(cwd.join(".distcc-state/lock"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("backoff"))
                .collect()
        })
        .unwrap_or_default()
}

/// `n` small C files in `dir`: `u0.c`..; each with enough code to take a moment.
pub fn units(dir: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("u{i}.c");
            let mut body = String::from("#include <stdio.h>\n");
            for k in 0..20 {
                body.push_str(&format!(
                    "int f{i}_{k}(int x) {{ int s = 0; for (int j = 0; j < x; j++) s += j * {k} ^ (s >> 3); return s; }}\n"
                ));
            }
            body.push_str(&format!("int main{i}(void) {{ printf(\"%d\\n\", f{i}_1(3)); return 0; }}\n"));
            std::fs::write(dir.join(&name), body).unwrap();
            name
        })
        .collect()
}

/// Compile every unit at once through `hosts`; each client's output.
pub fn build(hosts: &str, dir: &Path, names: &[String]) -> Vec<(String, Output)> {
    std::thread::scope(|sc| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                sc.spawn(move || {
                    let obj = n.replace(".c", ".o");
                    (
                        n.clone(),
                        distcc(hosts, &["gcc", "-O2", "-c", n, "-o", &obj], dir),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// The ELF machine of `dir/name.o`.
pub fn machine_of(dir: &Path, unit: &str) -> Option<String> {
    let bytes = std::fs::read(dir.join(unit.replace(".c", ".o"))).ok()?;
    distsetup::toolchain::elf_machine(&bytes)
}
