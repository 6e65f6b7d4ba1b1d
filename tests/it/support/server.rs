//! Shared by the `server_*` tests: start `distsetup serve` on 127.0.0.1 with a random
//! port, a private TMPDIR and a bounded lifetime; run the real distcc client against it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A running server, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub stats_port: Option<u16>,
    pub log: PathBuf,
    /// The server's private TMPDIR (must be empty when no job runs).
    pub tmp: PathBuf,
    pub dir: tempfile::TempDir,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_distsetup")
}

impl Server {
    /// Start with `--listen 127.0.0.1 --port 0 --lifetime 600` plus `extra`.
    pub fn start(extra: &[&str]) -> Server {
        Server::start_with_fd_limit(extra, None)
    }

    /// [`Server::start`] with RLIMIT_NOFILE set to `nofile` in the server process.
    pub fn start_with_fd_limit(extra: &[&str], nofile: Option<u64>) -> Server {
        Server::start_with_env(extra, nofile, &[])
    }

    /// [`Server::start_with_fd_limit`] with extra environment variables for the server.
    pub fn start_with_env(extra: &[&str], nofile: Option<u64>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        open_to_all(dir.path(), &tmp);
        let log = dir.path().join("serve.log");
        let mut args: Vec<String> = vec![
            "serve".into(),
            "--listen".into(),
            "127.0.0.1".into(),
            "--port".into(),
            "0".into(),
            "--lifetime".into(),
            "600".into(),
            "--grace".into(),
            "10".into(),
            "--log-level".into(),
            "info".into(),
            "--log-file".into(),
            log.to_str().unwrap().into(),
        ];
        if !extra.contains(&"--allow") {
            args.push("--allow".into());
            args.push("127.0.0.1/32".into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut cmd = Command::new(bin());
        cmd.args(&args).env("TMPDIR", &tmp).stdin(Stdio::null());
        // As under systemd (and CI): no SHELL, so a bash compiler wrapper looks its user
        // up at start, which asks glibc for a UNIX socket inside the compile's filter.
        cmd.env_remove("SHELL");
        cmd.envs(env.iter().copied());
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt as _;
            let lim = libc::rlimit {
                rlim_cur: n,
                rlim_max: n,
            };
            // SAFETY: setrlimit is async-signal-safe; `lim` is copied into the closure.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        let child = cmd.spawn().unwrap();
        let mut s = Server {
            child,
            port: 0,
            stats_port: None,
            log,
            tmp,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = s.log_text();
            if let Some(p) = find_port(&text, "listening on 127.0.0.1:") {
                s.port = p;
                s.stats_port = find_port(&text, "stats on 127.0.0.1:");
                return s;
            }
            if let Ok(Some(st)) = s.child.try_wait() {
                panic!("server exited early with {st}: {text}");
            }
            assert!(Instant::now() < deadline, "server did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of jobs that really compiled here.
    pub fn remote_jobs(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter(|l| l.contains("(remote, protocol"))
            .map(str::to_owned)
            .collect()
    }

    /// The job lines once there are at least `n`: the server logs a job after its reply
    /// is sent, so the client can finish first. Waits at most 10 s.
    pub fn remote_jobs_at_least(&self, n: usize) -> Vec<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let jobs = self.remote_jobs();
            if jobs.len() >= n || std::time::Instant::now() > deadline {
                return jobs;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn hosts(&self, opts: &str) -> String {
        format!("127.0.0.1:{}{opts}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS of the server process in KiB.
    pub fn rss_kib(&self) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap()
    }

    /// Entries left in the private TMPDIR, waiting up to 5 s for running cleanups.
    pub fn tmp_leftovers(&self) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<String> = std::fs::read_dir(&self.tmp)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM and wait (bounded).
    pub fn stop(&mut self) -> ExitStatus {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        wait_bounded(&mut self.child, Duration::from_secs(30))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Started as root, the server becomes an unprivileged user after binding: its TMPDIR
/// must be writable by that user, like /tmp (and `parent` traversable).
pub fn open_to_all(parent: &Path, tmp: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
}

pub fn wait_bounded(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn find_port(text: &str, marker: &str) -> Option<u16> {
    let at = text.find(marker)? + marker.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Run the real distcc client in `cwd`: no local fallback, no local retry, private state.
pub fn distcc(hosts: &str, args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let state = cwd.join(".distcc-state");
    std::fs::create_dir_all(&state).unwrap();
    let mut cmd = Command::new("distcc");
    cmd.args(args)
        .current_dir(cwd)
        .env("DISTCC_HOSTS", hosts)
        .env("DISTCC_DIR", &state)
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_SKIP_LOCAL_RETRY", "1")
        .env("DISTCC_IO_TIMEOUT", "60")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// Send raw bytes, half-close nothing, read the reply until EOF (bounded).
pub fn raw_exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Send raw bytes, then half-close (EOF for the server), and read what comes back.
pub fn raw_exchange_eof(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// Decode a reply (protocol `version`) with the wire codec's client side.
pub fn decode_reply(version: u32, bytes: &[u8]) -> distsetup::wire::DecodedReply {
    let mut d = distsetup::wire::ReplyDecoder::new(version, distsetup::wire::Limits::default());
    d.feed(bytes);
    d.next_reply()
        .unwrap()
        .unwrap_or_else(|| panic!("incomplete reply: {} bytes", bytes.len()))
}

/// The preprocessed form of `src` (what a client sends as DOTI).
pub fn preprocess(src: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.c", src);
    let o = Command::new("gcc").arg("-E").arg(&p).output().unwrap();
    assert!(o.status.success());
    o.stdout
}

/// A full v1/v2 request for `argv` with `src` preprocessed.
pub fn request(version: u32, argv: &[&str], src: &str) -> Vec<u8> {
    let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    distsetup::wire::encode_request(version, &argv, &preprocess(src)).unwrap()
}

pub const HELLO: &str =
    "#include <stdio.h>\nint main(void) { puts(\"hello from distsetup\"); return 0; }\n";

/// The Lua 5.4 sources shipped in the `lua-src` dev-dependency: its version from
/// Cargo.lock, its sources in cargo's registry (`$CARGO_HOME`, default `~/.cargo`).
pub fn lua_sources() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = std::fs::read_to_string(manifest.join("Cargo.lock")).unwrap();
    let re = regex::Regex::new(r#"name = "lua-src"\nversion = "([^"]+)""#).unwrap();
    let version = re.captures(&lock).expect("lua-src in Cargo.lock")[1].to_owned();
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let crate_dir = std::fs::read_dir(home.join("registry/src"))
        .unwrap()
        .map(|e| e.unwrap().path().join(format!("lua-src-{version}")))
        .find(|p| p.is_dir())
        .expect("lua-src sources in the cargo registry (cargo fetch)");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&crate_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("lua-5.4")
        })
        .collect();
    dirs.sort();
    dirs.pop().expect("a lua-5.4 directory in lua-src")
}

/// Whether a process has `arg` among its arguments (read from /proc).
pub fn process_with_arg(arg: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .map(|c| c.split(|&b| b == 0).any(|a| a == arg.as_bytes()))
                .unwrap_or(false)
        })
}

/// Poll `f` every 20 ms until it holds; fail after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
