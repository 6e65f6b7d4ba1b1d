//! Issue 12: an *allowed* client cannot reach outside its job. `serve` is started as
//! root; the compiles run as the unprivileged user (read from `/proc`), confined by
//! Landlock, and gcc's other spellings of refused options are refused too. Every case
//! goes through the real distcc client (or, where the client would preprocess the
//! payload itself, a raw request).

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crate::support::require;
use crate::support::server::*;

fn is_root() -> bool {
    // SAFETY: getuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// Files a hostile compile would like to reach: a root-only secret, a secret every user
/// may read (only Landlock keeps it out), and directories to write into (one only root
/// may write, one everyone may).
struct Bait {
    _dir: tempfile::TempDir,
    secret: PathBuf,
    public: PathBuf,
    root_only_dir: PathBuf,
    open_dir: PathBuf,
}

/// The probe compiler's sleep argument, unique on this machine.
const MARK: &str = "3.1791";

/// The pid of a process with `arg` in its command line.
fn process_with_arg(arg: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            cmdline
                .split(|&b| b == 0)
                .any(|a| a == arg.as_bytes())
                .then_some(pid)
        })
}

const SECRET: &str = "distsetup-root-only-secret-7f3a";
const PUBLIC: &str = "distsetup-landlock-only-secret-91c2";

impl Bait {
    fn new() -> Bait {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        mode(&root, 0o755);
        let private = root.join("private");
        std::fs::create_dir(&private).unwrap();
        mode(&private, 0o700);
        let secret = write(&private, "shadow", &format!("root:{SECRET}:0:0\n"));
        mode(&secret, 0o600);
        let public = write(&root, "public.txt", &format!("{PUBLIC}\n"));
        mode(&public, 0o644);
        let root_only_dir = root.join("root-only");
        std::fs::create_dir(&root_only_dir).unwrap();
        mode(&root_only_dir, 0o700);
        let open_dir = root.join("open");
        std::fs::create_dir(&open_dir).unwrap();
        mode(&open_dir, 0o777);
        Bait {
            _dir: dir,
            secret,
            public,
            root_only_dir,
            open_dir,
        }
    }

    /// Nothing was written where the compile must not write.
    fn untouched(&self, what: &str) {
        for d in [&self.root_only_dir, &self.open_dir] {
            let left: Vec<_> = std::fs::read_dir(d).unwrap().collect();
            assert!(
                left.is_empty(),
                "{what} wrote into {}: {left:?}",
                d.display()
            );
        }
    }
}

fn no_secret(what: &str, bytes: &[u8]) {
    let s = String::from_utf8_lossy(bytes);
    assert!(
        !s.contains(SECRET),
        "{what} leaked the root-only secret: {s}"
    );
    assert!(
        !s.contains(PUBLIC),
        "{what} leaked the file outside the job: {s}"
    );
}

fn uid_of(user: &str) -> Option<u32> {
    let o = std::process::Command::new("id")
        .args(["-u", user])
        .output()
        .ok()?;
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

#[test]
fn a_compile_runs_unprivileged_and_reaches_nothing_outside_its_job() {
    if !require("root (serve must be started as root)", is_root()) {
        return;
    }
    let bait = Bait::new();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    mode(w, 0o755);
    let tc = w.join("toolchain");
    std::fs::create_dir(&tc).unwrap();
    // A port the compile must not reach.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // A compiler that tries everything a hostile option or source could make gcc do.
    let probe = write(
        &tc,
        "probe-linux-gnu-gcc",
        &format!(
            "#!/bin/bash\ncase \" $* \" in *\" -E \"*) exec gcc \"$@\" ;; esac\n\
             sleep {MARK}\n\
             echo PROBE-RAN >&2\n\
             echo x 2>/dev/null > ./w && cat ./w >/dev/null && echo WROTE-JOB >&2\n\
             cat {public} >&2 2>/dev/null && echo READ-PUBLIC >&2\n\
             cat {secret} >&2 2>/dev/null && echo READ-SECRET >&2\n\
             echo x 2>/dev/null > {open}/w && echo WROTE-OPEN >&2\n\
             echo x 2>/dev/null > {closed}/w && echo WROTE-ROOT-ONLY >&2\n\
             (echo x > /dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo CONNECTED >&2\n\
             exec gcc \"$@\"\n",
            public = bait.public.display(),
            secret = bait.secret.display(),
            open = bait.open_dir.display(),
            closed = bait.root_only_dir.display(),
        ),
    );
    mode(&probe, 0o755);
    let server = Server::start(&["--toolchain", tc.to_str().unwrap(), "--user", "nobody"]);
    write(w, "hello.c", HELLO);
    let path = format!("{}:{}", tc.display(), std::env::var("PATH").unwrap());
    let client = {
        let hosts = server.hosts("");
        let w = w.to_path_buf();
        std::thread::spawn(move || {
            distcc(
                &hosts,
                &["probe-linux-gnu-gcc", "-c", "hello.c", "-o", "h.o"],
                &w,
                &[("PATH", &path)],
            )
        })
    };
    // The compile's sleep, seen from outside: its credentials in /proc.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(pid) = process_with_arg(MARK) {
            if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                break s;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the compile never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let o = client.join().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(server.remote_jobs_at_least(1).len(), 1, "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let nobody = uid_of("nobody").expect("a nobody user");
    for field in ["Uid", "Gid"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field} line: {err}"));
        let ids: Vec<u32> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap())
            .collect();
        assert_eq!(ids.len(), 4, "{line}");
        assert!(ids.iter().all(|&i| i != 0), "{line}");
        if field == "Uid" {
            assert!(ids.iter().all(|&i| i == nobody), "{line}");
        }
    }
    assert!(status.lines().any(|l| l.trim() == "Groups:"), "{status}");
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    // Positive controls: the probe's stderr reaches this check, and the same echo
    // that would report a write outside the job reports one inside it.
    assert!(
        err.contains("PROBE-RAN"),
        "the probe's stderr never arrived: {err}"
    );
    assert!(
        err.contains("WROTE-JOB"),
        "the probe cannot write in its job: {err}"
    );
    for mark in [
        "READ-PUBLIC",
        "READ-SECRET",
        "WROTE-OPEN",
        "WROTE-ROOT-ONLY",
        "CONNECTED",
    ] {
        assert!(!err.contains(mark), "{mark}: {err}");
    }
    assert!(
        listener.accept().is_err(),
        "the compile connected to 127.0.0.1:{port}"
    );
    no_secret("the probe compiler", &o.stderr);
    bait.untouched("the probe compiler");
    let log = server.log_text();
    assert!(
        log.contains("confinement: user nobody") && log.contains("landlock ABI"),
        "{log}"
    );
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn hostile_options_and_sources_reach_nothing_with_the_real_client() {
    if !require("root (serve must be started as root)", is_root()) {
        return;
    }
    let bait = Bait::new();
    let server = Server::start(&["--jobs", "2"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write(w, "x.c", "int x = 1;\n");
    let at = |name: &str| bait.root_only_dir.join(name).display().to_string();
    let open = |name: &str| bait.open_dir.join(name).display().to_string();
    let libc_so = ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/libc.so.6"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("/usr/lib/x86_64-linux-gnu/libc.so.6");
    // Issue 12's bypasses: gcc's long aliases and -fcompare-debug payloads.
    let bypasses: Vec<String> = vec![
        format!("--dump-tree-original={}", at("w.txt")),
        format!("--dump-tree-original={}", open("w.txt")),
        format!("--dump-final-insns={}", at("f.txt")),
        format!("--opt-info-all={}", open("o.txt")),
        format!("--for-assembler=-adhln={}", open("l.txt")),
        format!("-fcompare-debug=-fdump-tree-all={}", open("c.txt")),
        format!("-fcompare-debug=-aux-info {}", open("a.txt")),
        format!("-fdump-tree-all={}", open("d.txt")),
    ];
    let mut refused = 0;
    for b in &bypasses {
        let o = distcc(
            &server.hosts(""),
            &["gcc", "-c", "x.c", "-o", "x.o", b],
            w,
            &[],
        );
        assert!(!o.status.success(), "{b} compiled: {}", text(&o));
        no_secret(b, &o.stderr);
        bait.untouched(b);
        refused += 1;
        let log = server.log_text();
        assert_eq!(
            log.matches("REFUSED").count(),
            refused,
            "{b} never reached the server: {}\n{log}",
            text(&o)
        );
    }
    // The client's own cpp loads a plugin too, so these go as raw requests.
    for p in [format!("--plugin={libc_so}"), format!("-fplugin={libc_so}")] {
        let req = request(1, &["gcc", &p, "-c", "x.c", "-o", "x.o"], "int x;\n");
        let reply = decode_reply(1, &raw_exchange(server.port, &req));
        assert_eq!(reply.status >> 8, 101, "{p}");
        assert!(String::from_utf8_lossy(&reply.stderr).contains("shared object"));
    }
    // .incbin: the assembler on the server reads the file, whatever the options say.
    for (what, file) in [
        ("root-only", &bait.secret),
        ("outside the job", &bait.public),
    ] {
        write(
            w,
            "incbin.c",
            &format!(
                "__asm__(\".pushsection .data\\n.incbin \\\"{}\\\"\\n.popsection\");\n",
                file.display()
            ),
        );
        let o = distcc(
            &server.hosts(",lzo"),
            &["gcc", "-c", "incbin.c", "-o", "incbin.o"],
            w,
            &[],
        );
        assert!(
            !o.status.success(),
            ".incbin of a file {what}: {}",
            text(&o)
        );
        no_secret(".incbin", &o.stderr);
        assert!(
            !w.join("incbin.o").exists()
                || !std::fs::read(w.join("incbin.o"))
                    .unwrap()
                    .windows(8)
                    .any(|x| x == &b"distsetu"[..])
        );
    }
    // `-x c` makes the server's gcc preprocess what it is sent: an #include of the
    // secret is then read on the server (the real client would read it locally, so
    // this one is a raw request).
    for file in [&bait.secret, &bait.public] {
        let doti = format!("#include \"{}\"\nint y;\n", file.display());
        let argv: Vec<&[u8]> = vec![b"gcc", b"-x", b"c", b"-c", b"x.c", b"-o", b"x.o"];
        let req = distsetup::wire::encode_request(1, &argv, doti.as_bytes()).unwrap();
        let reply = decode_reply(1, &raw_exchange(server.port, &req));
        assert_ne!(
            reply.status,
            0,
            "{}",
            String::from_utf8_lossy(&reply.stderr)
        );
        no_secret("#include", &reply.stderr);
        no_secret("#include", &reply.object);
    }
    bait.untouched("the hostile sources");
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn a_compiler_path_in_a_system_directory_is_looked_up_by_name() {
    // As `make CC="distcc /usr/bin/gcc"` and CMake's compiler launcher send it.
    let server = Server::start(&["--alias", "/opt/cc/bin/gcc=gcc"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write(w, "hello.c", HELLO);
    let o = distcc(
        &server.hosts(",lzo"),
        &["/usr/bin/gcc", "-c", "hello.c", "-o", "h.o"],
        w,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(server.remote_jobs_at_least(1).len(), 1);
    // Another path is refused with a hint that can be followed ...
    let reply = decode_reply(
        1,
        &raw_exchange(
            server.port,
            &request(1, &["/tmp/evil/gcc", "-c", "x.c", "-o", "x.o"], "int x;\n"),
        ),
    );
    let serr = String::from_utf8_lossy(&reply.stderr);
    assert_eq!(reply.status >> 8, 110, "{serr}");
    assert!(serr.contains("--alias /tmp/evil/gcc=NAME"), "{serr}");
    // ... as this server followed it for /opt/cc/bin/gcc.
    let reply = decode_reply(
        1,
        &raw_exchange(
            server.port,
            &request(
                1,
                &["/opt/cc/bin/gcc", "-c", "x.c", "-o", "x.o"],
                "int x;\n",
            ),
        ),
    );
    assert_eq!(
        reply.status,
        0,
        "{}",
        String::from_utf8_lossy(&reply.stderr)
    );
    for bad in ["/usr/bin/../../tmp/gcc", "/usr/bin/sh"] {
        let reply = decode_reply(
            1,
            &raw_exchange(
                server.port,
                &request(1, &[bad, "-c", "x.c", "-o", "x.o"], "int x;\n"),
            ),
        );
        assert_eq!(reply.status >> 8, 110, "{bad}");
    }
}
