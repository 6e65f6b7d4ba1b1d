//! For the server's unit tests: settings with a private tmpdir and log, and a compiler
//! table holding the real `gcc` plus `liar-linux-gnu-gcc`, a compiler that exits 0
//! without writing its output, and `link-linux-gnu-gcc`, one that leaves a symlink to
//! `/etc/passwd` as its output.

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{Alias, LogLevel, ServeSettings};

/// The preprocessed source the tests compile.
pub const SOURCE: &[u8] = b"int answer(void) { return 42; }\n";

/// A directory holding the toolchain, the job tmpdir and the log.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let tc = dir.path().join("toolchain");
        std::fs::create_dir(&tc).expect("toolchain dir");
        std::fs::create_dir(dir.path().join("tmp")).expect("tmp dir");
        let liar = tc.join("liar-linux-gnu-gcc");
        std::fs::write(&liar, "#!/bin/sh\nexit 0\n").expect("liar script");
        std::fs::set_permissions(&liar, std::fs::Permissions::from_mode(0o755)).expect("liar mode");
        let link = tc.join("link-linux-gnu-gcc");
        std::fs::write(&link, "#!/bin/sh\nln -s /etc/passwd output.o\nexit 0\n")
            .expect("link script");
        std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o755)).expect("link mode");
        Scratch { dir }
    }

    pub fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// Settings for a server on 127.0.0.1, port 0, allowing only 127.0.0.1.
    pub fn settings(&self) -> ServeSettings {
        let mut s = ServeSettings::new();
        s.listen = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
        s.port = 0;
        s.allow = vec!["127.0.0.1/32".parse().expect("a network")];
        s.toolchains = vec![self.dir.path().join("toolchain")];
        s.aliases = vec![Alias::Name {
            from: "gcc".into(),
            to: "gcc".into(),
        }];
        s.masquerade_dirs = Vec::new();
        s.tmpdir = self.tmp();
        s.log_file = Some(self.log_path());
        s.log_level = LogLevel::Debug;
        s.io_timeout = Duration::from_secs(10);
        s.grace = Duration::from_secs(5);
        s.jobs = 2;
        s.max_connections = 4;
        s
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Job directories left behind (must be none once no job runs).
    pub fn leftovers(&self) -> Vec<String> {
        list(&self.tmp())
    }
}

fn list(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A protocol `version` request for `argv` (space-separated) compiling [`SOURCE`].
pub fn request(version: u32, argv: &str) -> Vec<u8> {
    let argv: Vec<&[u8]> = argv.split(' ').map(str::as_bytes).collect();
    distcc_wire::encode_request(version, &argv, SOURCE).expect("an encodable request")
}

/// Decode one complete reply.
pub fn decode_reply(version: u32, bytes: &[u8]) -> distcc_wire::DecodedReply {
    let mut dec = distcc_wire::ReplyDecoder::new(version, distcc_wire::Limits::default());
    dec.feed(bytes);
    dec.next_reply()
        .expect("a well-formed reply")
        .expect("a complete reply")
}
