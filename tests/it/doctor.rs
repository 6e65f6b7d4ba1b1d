//! `distsetup doctor` against real servers on 127.0.0.1: a healthy `distsetup serve`, one
//! whose compiler is for another target, a dead port, Debian's distccd answering and
//! refusing; the local configuration traps; and the volunteer side on a root written by
//! `distsetup volunteer`.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::server::Server;
use crate::support::{Cmd, Root, free_port, wait_listening};

fn doctor(args: &[&str]) -> (Output, serde_json::Value) {
    let o = Cmd::new("doctor").args(args).arg("--json").run();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", crate::support::server::text(&o)));
    (o, v)
}

/// The status of the finding `check` about `subject` (substring).
fn status(v: &serde_json::Value, check: &str, subject: &str) -> String {
    let all = v["findings"].as_array().unwrap();
    all.iter()
        .filter(|f| f["check"] == check && f["subject"].as_str().unwrap().contains(subject))
        .map(|f| f["status"].as_str().unwrap().to_string())
        .next()
        .unwrap_or_else(|| panic!("no {check} finding for {subject}: {v:#}"))
}

fn message(v: &serde_json::Value, check: &str, subject: &str) -> String {
    let all = v["findings"].as_array().unwrap();
    all.iter()
        .find(|f| f["check"] == check && f["subject"].as_str().unwrap().contains(subject))
        .map(|f| f["message"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A root whose makepkg.conf `distsetup master --profile debian` configured for `hosts`.
fn configured_root(hosts: &str) -> Root {
    let t = Root::new().dir("usr/bin").file(
        "etc/makepkg.conf",
        "BUILDENV=(!distcc color !ccache check !sign)\n#DISTCC_HOSTS=\"\"\n#MAKEFLAGS=\"-j2\"\nCFLAGS=\"-O2 -pipe\"\n",
    );
    // distcc is installed in this root (the masquerade links must reach it).
    std::os::unix::fs::symlink("/usr/bin/distcc", t.join("usr/bin/distcc")).unwrap();
    let o = Cmd::new("master")
        .args(["--profile", "debian"])
        .root(t.path())
        .args(["--hosts", hosts, "--jobs", "auto", "--yes"])
        .run();
    assert!(o.status.success(), "{}", crate::support::server::text(&o));
    t
}

fn root_arg(t: &impl AsRef<Path>) -> &str {
    t.as_ref().to_str().unwrap()
}

#[test]
fn healthy_wrong_target_and_dead_hosts_against_the_configured_master() {
    let healthy = Server::start(&[]);
    let wrong = Server::start(&[
        "--alias",
        "x86_64-linux-gnu-gcc=aarch64-linux-gnu-gcc",
        "--whitelist-dir",
        "/nonexistent",
    ]);
    let dead = free_port();
    let hosts = format!(
        "127.0.0.1:{}/2,lzo 127.0.0.1:{}/2 127.0.0.1:{dead}/2",
        healthy.port, wrong.port
    );
    let root = configured_root(&hosts);
    // No --hosts: the list comes from the makepkg.conf that master wrote.
    let (o, v) = doctor(&[
        "--root",
        root_arg(&root),
        "--profile",
        "debian",
        "--speed-rounds",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    assert!(
        v["hosts_origin"].as_str().unwrap().contains("makepkg.conf"),
        "{v:#}"
    );
    assert_eq!(status(&v, "switch", "BUILDENV"), "ok");
    assert_eq!(status(&v, "masquerade", "/usr/lib/distcc/bin"), "ok");
    assert_eq!(status(&v, "jobs", "MAKEFLAGS"), "ok");
    let h = format!("127.0.0.1:{}", healthy.port);
    assert_eq!(status(&v, "reachable", &h), "ok");
    assert_eq!(status(&v, "compiler", &h), "ok");
    // The object came from the server's gcc: its ident is in the message.
    assert!(message(&v, "compiler", &h).contains("GCC: ("), "{v:#}");
    let w = format!("127.0.0.1:{}", wrong.port);
    assert_eq!(status(&v, "reachable", &w), "ok");
    assert_eq!(status(&v, "target", &w), "broken");
    assert!(message(&v, "target", &w).contains("aarch64"), "{v:#}");
    assert_eq!(
        status(&v, "reachable", &format!("127.0.0.1:{dead}")),
        "broken"
    );
    // Only the healthy host is timed and proposed; the master (this machine, as fast as the
    // volunteer on it) may keep one localhost slot after it.
    let proposed = v["proposed_hosts"].as_str().unwrap();
    let remote = proposed.strip_suffix(" localhost/1").unwrap_or(proposed);
    assert!(
        remote.starts_with(&format!("{h}/")) && remote.ends_with(",lzo"),
        "{proposed}"
    );
    assert!(!proposed.contains(&w));
    assert!(
        healthy
            .remote_jobs()
            .iter()
            .all(|l| l.contains("COMPILE_OK"))
    );
}

#[test]
fn only_healthy_hosts_exit_zero_and_the_text_report_says_so() {
    let healthy = Server::start(&[]);
    let hosts = format!("127.0.0.1:{}/2", healthy.port);
    let root = configured_root(&hosts);
    let (o, v) = doctor(&[
        "--root",
        root_arg(&root),
        "--profile",
        "debian",
        "--speed-rounds",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(0), "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] != "broken")
    );
    let text = Command::new(crate::support::server::bin())
        .args([
            "doctor",
            "--root",
            root_arg(&root),
            "--profile",
            "debian",
            "--speed-rounds",
            "1",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{out}");
    assert!(
        out.contains("summary: ") && out.contains(" 0 broken"),
        "{out}"
    );
    assert!(
        out.contains("proposed host list (fastest first): 127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("apply with: distsetup master --profile debian --hosts"),
        "{out}"
    );
}

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn distccd_answers_and_refuses_an_unknown_compiler() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let log = dir.path().join("distccd.log");
    std::fs::write(&log, b"").unwrap();
    let _ = Command::new("chmod").arg("1777").arg(&tmp).status();
    let _ = Command::new("chmod").arg("666").arg(&log).status();
    let _ = Command::new("chmod").arg("755").arg(dir.path()).status();
    let port = free_port();
    let mut cmd = Command::new("distccd");
    cmd.env("TMPDIR", &tmp)
        .args([
            "--daemon",
            "--no-detach",
            "--listen",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .args(["--allow", "127.0.0.1", "--jobs", "2", "--log-file"])
        .arg(&log);
    if is_root() {
        cmd.args(["--user", "nobody"]);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    wait_listening(port, "distccd");
    let hosts = format!("127.0.0.1:{port}/2");
    let empty = tempfile::tempdir().unwrap();
    // The name Debian's client sends for a plain gcc: whitelisted, compiled, read back.
    let (_, ok) = doctor(&[
        "--profile",
        "debian",
        "--root",
        root_arg(&empty),
        "--hosts",
        &hosts,
        "--speed-rounds",
        "0",
    ]);
    // A master whose compiler name distccd has not whitelisted: closed without a word.
    let (o, refused) = doctor(&[
        "--profile",
        "debian",
        "--root",
        root_arg(&empty),
        "--hosts",
        &hosts,
        "--speed-rounds",
        "0",
        "--remote-compiler",
        "armv7a-unknown-linux-gnueabihf-gcc",
    ]);
    // distccd's preforked children outlive a killed parent: kill the group.
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: plain syscall on the group spawn() made for this child.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.wait();
    let h = format!("127.0.0.1:{port}");
    assert_eq!(status(&ok, "compiler", &h), "ok", "{ok:#}");
    assert_eq!(status(&refused, "reachable", &h), "ok");
    assert_eq!(status(&refused, "compiler", &h), "broken");
    assert!(message(&refused, "compiler", &h).contains("closed the connection without a reply"));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn configuration_traps_are_reported() {
    // makepkg: !distcc, an empty DISTCC_HOSTS, no -j, no masquerade directory.
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("etc")).unwrap();
    std::fs::write(
        t.path().join("etc/makepkg.conf"),
        "BUILDENV=(!distcc color)\nDISTCC_HOSTS=\"\"\nCFLAGS=\"-march=native -O2\"\n",
    )
    .unwrap();
    let (o, v) = doctor(&[
        "--root",
        root_arg(&t),
        "--profile",
        "arch",
        "--speed-rounds",
        "0",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(status(&v, "switch", "BUILDENV"), "broken");
    assert!(message(&v, "switch", "BUILDENV").contains("!distcc"));
    assert_eq!(status(&v, "hosts-var", "makepkg.conf"), "broken");
    assert_eq!(status(&v, "jobs", "MAKEFLAGS"), "warn");
    assert_eq!(status(&v, "hosts", "host list"), "broken");
    // With hosts given, -march=native is flagged.
    let dead = format!("127.0.0.1:{}/4", free_port());
    let (_, v) = doctor(&[
        "--root",
        root_arg(&t),
        "--profile",
        "arch",
        "--hosts",
        &dead,
        "--speed-rounds",
        "0",
    ]);
    assert_eq!(status(&v, "native", "CFLAGS"), "warn");

    // Gentoo: a make.conf directory, FEATURES without distcc.
    let g = tempfile::tempdir().unwrap();
    let dir = g.path().join("etc/portage/make.conf");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("00-base"),
        "COMMON_FLAGS=\"-O2 -mtune=native\"\nFEATURES=\"distcc\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("10-more"),
        "FEATURES=\"${FEATURES} -distcc\"\nMAKEOPTS=\"-j1\"\n",
    )
    .unwrap();
    let (_, v) = doctor(&[
        "--root",
        root_arg(&g),
        "--profile",
        "gentoo",
        "--hosts",
        &dead,
        "--speed-rounds",
        "0",
    ]);
    assert_eq!(status(&v, "switch", "FEATURES"), "broken", "{v:#}");
    assert!(message(&v, "switch", "FEATURES").contains("-distcc"));
    assert_eq!(status(&v, "jobs", "MAKEOPTS"), "warn");
    assert_eq!(status(&v, "native", "COMMON_FLAGS"), "warn");
}

fn volunteer(root: &Path, server: &str, port: u16) {
    let o = Cmd::new("volunteer")
        .root(root)
        .args([
            "--toolchain",
            "aarch64-linux-gnu",
            "--profile",
            "debian",
            "--server",
            server,
        ])
        .args([
            "--allow",
            "127.0.0.1/32",
            "--listen",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--yes",
        ])
        .run();
    assert!(o.status.success(), "{}", crate::support::server::text(&o));
}

#[test]
fn volunteer_side_reads_back_what_volunteer_wrote() {
    let t = tempfile::tempdir().unwrap();
    let port = free_port();
    volunteer(t.path(), "embedded", port);
    let (o, v) = doctor(&["--volunteer", "--root", root_arg(&t), "--profile", "debian"]);
    assert_eq!(status(&v, "toolchain", "aarch64-linux-gnu"), "ok");
    assert!(message(&v, "toolchain", "aarch64-linux-gnu").contains("aarch64-linux-gnu"));
    assert_eq!(status(&v, "alias", "aarch64-linux-gnu/bin"), "ok");
    assert_eq!(
        status(&v, "unit", "distsetup-serve-aarch64-linux-gnu"),
        "warn"
    );
    assert_eq!(status(&v, "allow", "distsetup-serve"), "ok");
    assert_eq!(status(&v, "port", &format!(":{port}")), "broken");
    assert_eq!(o.status.code(), Some(1));
    // Start the server the unit describes on that port: now it listens.
    let server = Command::new(crate::support::server::bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--allow",
            "127.0.0.1/32",
            "--lifetime",
            "60",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = KillOnDrop(server);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Enable it the way systemctl does.
    let wants = t.path().join("etc/systemd/system/multi-user.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink(
        "/etc/systemd/system/distsetup-serve-aarch64-linux-gnu.service",
        wants.join("distsetup-serve-aarch64-linux-gnu.service"),
    )
    .unwrap();
    let (o, v) = doctor(&["--volunteer", "--root", root_arg(&t), "--profile", "debian"]);
    assert_eq!(status(&v, "port", &format!(":{port}")), "ok");
    assert_eq!(status(&v, "unit", "distsetup-serve"), "ok");
    assert_eq!(o.status.code(), Some(0), "{v:#}");
    let _ = server.0.kill();
}

struct KillOnDrop(std::process::Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn volunteer_side_finds_a_missing_whitelist_entry_and_a_bad_alias() {
    let t = tempfile::tempdir().unwrap();
    let port = free_port();
    volunteer(t.path(), "distccd", port);
    let wl = t.path().join("usr/lib/distcc");
    let (_, v) = doctor(&["--volunteer", "--root", root_arg(&t), "--profile", "debian"]);
    assert_eq!(status(&v, "whitelist", "distccd"), "ok", "{v:#}");
    // What update-distcc-symlinks does after a gcc upgrade.
    std::fs::remove_file(wl.join("aarch64-linux-gnu-gcc")).unwrap();
    // And an alias someone added by hand for another architecture.
    std::os::unix::fs::symlink(
        "/usr/bin/aarch64-linux-gnu-gcc",
        t.path()
            .join("usr/lib/distsetup/aarch64-linux-gnu/bin/x86_64-pc-linux-gnu-gcc"),
    )
    .unwrap();
    let (o, v) = doctor(&["--volunteer", "--root", root_arg(&t), "--profile", "debian"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(status(&v, "whitelist", "distccd"), "broken");
    assert!(message(&v, "whitelist", "distccd").contains("aarch64-linux-gnu-gcc"));
    assert_eq!(status(&v, "alias", "x86_64-pc-linux-gnu-gcc"), "broken");
}

#[test]
fn an_unconfigured_volunteer_is_broken() {
    let t = tempfile::tempdir().unwrap();
    let (o, v) = doctor(&["--volunteer", "--root", root_arg(&t), "--profile", "debian"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(status(&v, "setup", "this machine"), "broken");
}

/// The object reader tells PIE from non-PIE and each target, from real compilers.
#[test]
fn probe_objects_reveal_machine_version_and_pie() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("p.c");
    std::fs::write(&src, distsetup::doctor::elf::PROBE_SOURCE).unwrap();
    let cases: &[(&str, &[&str], &str, u8, bool)] = &[
        ("gcc", &[], "x86_64", 64, true),
        ("gcc", &["-fno-pie"], "x86_64", 64, false),
        ("gcc", &["-m32"], "i386", 32, true),
        ("aarch64-linux-gnu-gcc", &[], "aarch64", 64, true),
        ("aarch64-linux-gnu-gcc", &["-fno-pie"], "aarch64", 64, false),
        ("arm-linux-gnueabihf-gcc", &[], "arm", 32, true),
        ("arm-linux-gnueabihf-gcc", &["-fno-pie"], "arm", 32, false),
    ];
    for (cc, extra, machine, bits, pic) in cases {
        let obj = dir.path().join("p.o");
        let o = Command::new(cc)
            .args(["-O2", "-c"])
            .args(*extra)
            .arg(&src)
            .arg("-o")
            .arg(&obj)
            .output()
            .unwrap();
        if !o.status.success() {
            // -m32 needs gcc-multilib, which CI does not install.
            assert_eq!(
                extra,
                &["-m32"],
                "{cc} {extra:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            continue;
        }
        let f = distsetup::doctor::elf::inspect(&std::fs::read(&obj).unwrap());
        assert_eq!(f.machine.as_deref(), Some(*machine), "{cc} {extra:?}");
        assert_eq!(f.bits, Some(*bits), "{cc} {extra:?}");
        assert_eq!(f.pic, Some(*pic), "{cc} {extra:?}");
        assert_eq!(f.gcc_major, Some(12), "{cc} {extra:?}: {:?}", f.ident);
    }
}
