//! The secure link with real processes on 127.0.0.1: `distsetup serve --tls` as the
//! volunteer, the real distcc client on the master side behind a small in-test bridge
//! (one `LinkClient`, a TCP port per test: the relay's job, done minimally), and the
//! `distsetup trust` commands for the pairing.

mod cancel;
mod compression;
mod openrc;
mod pairing;
mod plain;
mod refusals;
mod relay;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use distsetup::link::tls::Pins;
use distsetup::link::trust::{IDENTITY_KEY, StoreKind, TRUSTED_VOLUNTEERS, TrustStore};
use distsetup::link::{Fingerprint, Identity, LinkClient, LinkTarget};

use crate::support::server::{bin, distcc, open_to_all, text, wait_bounded, write};

/// `distsetup serve --tls` under its own root, killed when dropped.
pub struct TlsVolunteer {
    pub child: Child,
    pub port: u16,
    pub key: Fingerprint,
    pub log: PathBuf,
    pub root: tempfile::TempDir,
    _tmp: tempfile::TempDir,
}

impl TlsVolunteer {
    /// Start on 127.0.0.1, any port, with `extra` flags; its root is a fresh directory
    /// (the key pair is made on this first start).
    pub fn start(extra: &[&str]) -> TlsVolunteer {
        TlsVolunteer::start_in(tempfile::tempdir().unwrap(), extra)
    }

    /// [`TlsVolunteer::start`] on a root made before (by `distsetup volunteer`).
    pub fn start_in(root: tempfile::TempDir, extra: &[&str]) -> TlsVolunteer {
        let tmpdir = tempfile::tempdir().unwrap();
        let tmp = tmpdir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        open_to_all(tmpdir.path(), &tmp);
        // serve reads the trusted masters after it became its unprivileged user.
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = tmpdir.path().join("serve.log");
        let mut args: Vec<String> = [
            "serve",
            "--tls",
            "--listen",
            "127.0.0.1",
            "--port",
            "0",
            "--lifetime",
            "600",
            "--grace",
            "5",
            "--log-level",
            "info",
        ]
        .map(String::from)
        .into();
        args.extend(["--root".into(), root.path().display().to_string()]);
        args.extend(["--log-file".into(), log.display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(bin())
            .args(&args)
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let (port, key) = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(found) = started(&text) {
                break found;
            }
            assert!(
                Instant::now() < deadline,
                "serve --tls did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        TlsVolunteer {
            child,
            port,
            key,
            log,
            root,
            _tmp: tmpdir,
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Jobs that really compiled here.
    pub fn compiled(&self) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains("(remote, protocol"))
            .count()
    }

    /// The log once it has a line containing `what` (waits up to 15 s).
    pub fn wait_log(&self, what: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.log_text();
            if text.contains(what) || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Accept the master with `key` (the volunteer's half of the pairing).
    pub fn trust_master(&self, key: &Fingerprint) -> Output {
        distsetup_cmd(
            self.root.path(),
            &["trust", "add", "--master", &key.to_string(), "--yes"],
        )
    }
}

impl Drop for TlsVolunteer {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = wait_bounded(&mut self.child, Duration::from_secs(20));
    }
}

/// The port and key from "secure link on 127.0.0.1:PORT; key KEY".
fn started(log: &str) -> Option<(u16, Fingerprint)> {
    let rest = log.split("secure link on 127.0.0.1:").nth(1)?;
    let port = rest.split(';').next()?.parse().ok()?;
    let key = rest.split("key ").nth(1)?.split([' ', ';']).next()?;
    Some((port, key.parse().ok()?))
}

/// `distsetup ARGS --root ROOT`.
pub fn distsetup_cmd(root: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .arg("--root")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// A master's root: its key and trusted volunteers live here.
pub struct MasterRoot {
    pub root: tempfile::TempDir,
}

impl MasterRoot {
    pub fn new() -> MasterRoot {
        MasterRoot {
            root: tempfile::tempdir().unwrap(),
        }
    }

    /// `distsetup trust add HOST FP`: pins the volunteer, makes and prints our key.
    pub fn pin(&self, host: &str, key: &Fingerprint) -> Output {
        distsetup_cmd(
            self.root.path(),
            &["trust", "add", host, &key.to_string(), "--yes"],
        )
    }

    pub fn identity(&self) -> Identity {
        Identity::load(&self.root.path().join(IDENTITY_KEY.trim_start_matches('/')))
            .unwrap()
            .expect("the master has a key pair")
    }

    /// A link to `host` with the pins the trust store holds for it.
    pub fn link_to(&self, host: &str) -> LinkClient {
        let file = self
            .root
            .path()
            .join(TRUSTED_VOLUNTEERS.trim_start_matches('/'));
        let pins = TrustStore::read(StoreKind::Volunteers, &file)
            .unwrap()
            .pins_for(host);
        LinkClient::new(
            LinkTarget {
                addr: host.to_string(),
            },
            &self.identity(),
            Arc::new(Pins(pins)),
        )
        .unwrap()
    }
}

/// The relay's job in miniature: a TCP port on 127.0.0.1 whose every connection is piped
/// through one stream of `link`. Stopped when dropped.
pub struct Bridge {
    pub port: u16,
    _rt: tokio::runtime::Runtime,
}

impl Bridge {
    pub fn new(link: LinkClient) -> Bridge {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let link = Arc::new(link);
        rt.spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let link = link.clone();
                tokio::spawn(async move {
                    if let Ok(mut job) = link.open_stream().await {
                        let _ = tokio::io::copy_bidirectional(&mut tcp, &mut job).await;
                    }
                });
            }
        });
        Bridge { port, _rt: rt }
    }

    /// Compile hello.c with the real distcc client through the bridge.
    pub fn compile(&self, dir: &Path, object: &str) -> Output {
        write(dir, "hello.c", "int hello(void) { return 42; }\n");
        let hosts = format!("127.0.0.1:{}/2", self.port);
        distcc(&hosts, &["gcc", "-c", "hello.c", "-o", object], dir, &[])
    }
}

/// Assert the compile worked and produced an object (else show `vol`'s log).
pub fn assert_compiled(o: &Output, dir: &Path, object: &str, vol: &TlsVolunteer) {
    assert!(
        o.status.success(),
        "{}\nserver log:\n{}",
        text(o),
        vol.log_text()
    );
    let obj = std::fs::read(dir.join(object)).unwrap();
    assert!(obj.starts_with(b"\x7fELF"), "not an object");
}

/// The permission bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}
