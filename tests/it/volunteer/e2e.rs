//! End to end: Debian's cross compilers arranged as crosstool-ng trees, `distsetup
//! volunteer --root T ... --yes`, then the real distcc client asks for the master's names
//! and compiles through (b) Debian's distccd started with what was written (the unit's
//! ExecStart and PATH, the whitelist bind-mounted over /usr/lib/distcc in a private mount
//! namespace) and (a) the embedded server (ignored until `distsetup serve` exists).
//! Objects are checked with readelf, linked with the local cross compiler and run
//! under qemu-user.

use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::volunteer::{distsetup, free_port, open_tempdir, text, unit_value, xtools};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// One toolchain of the proof: the tree, the master's name, Debian's compiler, qemu.
struct Case {
    xtools: &'static str,
    prefix: &'static str,
    debian: &'static str,
    master: &'static str,
    alias: Option<&'static str>,
    unit_suffix: &'static str,
    readelf_machine: &'static str,
    qemu: &'static str,
}

const CASES: [Case; 2] = [
    Case {
        xtools: "x-tools6h",
        prefix: "armv6-rpi-linux-gnueabi",
        debian: "arm-linux-gnueabihf",
        master: "armv6j-hardfloat-linux-gnueabi",
        alias: Some("armv6j-hardfloat-linux-gnueabi=armv6-rpi-linux-gnueabi"),
        unit_suffix: "armv6h",
        readelf_machine: "ARM",
        qemu: "qemu-arm",
    },
    Case {
        xtools: "x-tools8",
        prefix: "aarch64-unknown-linux-gnu",
        debian: "aarch64-linux-gnu",
        master: "aarch64-unknown-linux-gnu",
        alias: None,
        unit_suffix: "armv8",
        readelf_machine: "AArch64",
        qemu: "qemu-aarch64",
    },
];

fn tools_present() -> bool {
    let all = [
        "distcc",
        "distccd",
        "unshare",
        "qemu-arm",
        "qemu-aarch64",
        "readelf",
        "arm-linux-gnueabihf-gcc",
        "aarch64-linux-gnu-gcc",
    ];
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|p| !crate::support::on_path(p))
        .collect();
    crate::support::require(&format!("{missing:?} on PATH"), missing.is_empty())
}

/// Kills the server when the test ends, however it ends: the whole process group, since
/// the child is a `timeout`/`unshare` wrapper and killing it alone would leave the daemon
/// (and distccd's preforked children) running.
/// distccd makes itself a new process group, so the daemons serving `port` are also
/// found by their command line.
struct Server(Child, u16);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: plain syscall; the group is the one spawn() created for this child.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.0.wait();
        let needle = format!("--port\0{}\0", self.1);
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&needle) {
                // SAFETY: plain syscall on a daemon this test started on its own port.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

fn wait_listening(port: u16, child: &mut Child) {
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited before listening: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server never listened on {port}");
}

/// The distcc client compiles hello.c as the master would (the master's name, preprocessed
/// locally), with no local fallback; then the object is checked, linked and run.
fn compile_through(dir: &Path, case: &Case, port: u16) {
    let client_bin = dir.join("client-bin");
    std::fs::create_dir_all(&client_bin).unwrap();
    for tool in ["gcc", "g++"] {
        let l = client_bin.join(format!("{}-{tool}", case.master));
        if !l.exists() {
            std::os::unix::fs::symlink(format!("/usr/bin/{}-{tool}", case.debian), l).unwrap();
        }
    }
    let src = dir.join("hello.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"hello from the volunteer\"); return 0; }\n",
    )
    .unwrap();
    let obj = dir.join(format!("hello-{}.o", case.xtools));
    let distcc_dir = dir.join("distcc-dir");
    std::fs::create_dir_all(&distcc_dir).unwrap();
    let path = format!("{}:/usr/bin:/bin", client_bin.display());
    let out = Command::new("timeout")
        .args(["60", "distcc", &format!("{}-gcc", case.master), "-O2", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .env("PATH", &path)
        .env("DISTCC_HOSTS", format!("127.0.0.1:{port}"))
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_DIR", &distcc_dir)
        .env("DISTCC_VERBOSE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "distcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let readelf = Command::new("readelf")
        .arg("-h")
        .arg(&obj)
        .output()
        .unwrap();
    let header = String::from_utf8_lossy(&readelf.stdout);
    let machine = header
        .lines()
        .find(|l| l.trim_start().starts_with("Machine:"))
        .unwrap_or_default();
    assert!(machine.contains(case.readelf_machine), "{header}");
    let exe = dir.join(format!("hello-{}", case.xtools));
    let link = Command::new(format!("{}-gcc", case.debian))
        .arg(&obj)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(link.status.success(), "{link:?}");
    let run = Command::new("timeout")
        .args(["60", case.qemu, "-L", &format!("/usr/{}", case.debian)])
        .arg(&exe)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "hello from the volunteer\n",
        "{run:?}"
    );
}

/// `KEY` `VALUE` pairs of an argv: replace the value after `key`.
fn set_arg(argv: &mut [String], key: &str, value: &str) {
    if let Some(i) = argv.iter().position(|a| a == key) {
        if let Some(v) = argv.get_mut(i + 1) {
            *v = value.to_string();
        }
    }
}

/// Re-root the entries of a written PATH that live under the root.
fn reroot_path(path: &str, root: &Path) -> String {
    path.split(':')
        .map(|e| {
            let under = root.join(e.trim_start_matches('/'));
            if e.starts_with("/usr/lib/distsetup") && under.exists() {
                under.display().to_string()
            } else {
                e.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn volunteer(root: &Path, tc: &Path, case: &Case, server: &str, port: u16) {
    let port = port.to_string();
    let mut args = vec![
        "volunteer",
        "--profile",
        "debian",
        "--server",
        server,
        "--root",
        s(root),
        "--toolchain",
        s(tc),
        "--allow",
        "127.0.0.1",
        "--jobs",
        "2",
        "--port",
        &port,
        "--yes",
    ];
    if let Some(a) = case.alias {
        args.extend(["--alias", a]);
    }
    let o = distsetup(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn debian_distccd_compiles_the_masters_names_with_what_volunteer_wrote() {
    if !tools_present() {
        return;
    }
    let unshare_ok = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !crate::support::require("a permitted `unshare -m`", unshare_ok) {
        return;
    }
    let t = open_tempdir();
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    // Both toolchains on one root: two units, ports checked against each other.
    let ports: Vec<u16> = CASES
        .iter()
        .map(|case| {
            let tc = xtools(t.path(), case.xtools, case.prefix, case.debian);
            let port = free_port();
            volunteer(&root, &tc, case, "distccd", port);
            port
        })
        .collect();
    for (case, written_port) in CASES.iter().zip(ports) {
        let unit_path = root
            .join("etc/systemd/system")
            .join(format!("distccd-{}.service", case.unit_suffix));
        let unit = std::fs::read_to_string(&unit_path).unwrap();
        let mut argv: Vec<String> = unit_value(&unit, "ExecStart")
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(argv.first().map(String::as_str), Some("/usr/bin/distccd"));
        assert!(argv.contains(&written_port.to_string()), "{argv:?}");
        let written_path = unit_value(&unit, "Environment")
            .and_then(|e| e.strip_prefix("PATH=").map(str::to_owned))
            .unwrap();
        let log = t.path().join(format!("distccd-{}.log", case.unit_suffix));
        // distccd writes it after dropping to nobody.
        std::fs::write(&log, "").unwrap();
        std::fs::set_permissions(&log, std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .unwrap();
        let port = free_port();
        set_arg(&mut argv, "--port", &port.to_string());
        set_arg(&mut argv, "--stats-port", &(port + 1000).to_string());
        set_arg(&mut argv, "--log-file", s(&log));
        argv.extend(["--listen".into(), "127.0.0.1".into()]);
        argv.extend(["--user".into(), "nobody".into()]);
        let script = "mount --bind \"$1\" /usr/lib/distcc && shift && exec \"$@\"";
        let child = Command::new("unshare")
            .args(["-m", "sh", "-c", script, "sh"])
            .arg(root.join("usr/lib/distcc"))
            .args(["timeout", "120", "env"])
            .arg(format!("PATH={}", reroot_path(&written_path, &root)))
            .args(&argv)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut server = Server(child, port);
        wait_listening(port, &mut server.0);
        compile_through(t.path(), case, port);
        drop(server);
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            log_text.contains("COMPILE_OK") && log_text.contains(&format!("{}-gcc", case.master)),
            "the server log does not show the job:\n{log_text}"
        );
    }
}

/// Where `distsetup serve` would be: the unit's ExecStart names it.
fn serve_argv(unit: &str, root: &Path, port: u16, log: &Path) -> (PathBuf, Vec<String>) {
    let mut argv: Vec<String> = unit_value(unit, "ExecStart")
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let exe = PathBuf::from(argv.remove(0));
    set_arg(&mut argv, "--port", &port.to_string());
    set_arg(&mut argv, "--stats-port", &(port + 1000).to_string());
    // Tests listen on loopback only; the unit listens on every address by default.
    argv.extend(["--listen".to_string(), "127.0.0.1".to_string()]);
    set_arg(&mut argv, "--log-file", s(log));
    if let Some(i) = argv.iter().position(|a| a == "--toolchain") {
        if let Some(v) = argv.get_mut(i + 1) {
            *v = root.join(v.trim_start_matches('/')).display().to_string();
        }
    }
    (exe, argv)
}

#[test]
fn embedded_server_compiles_the_masters_names_from_the_written_unit() {
    if !tools_present() {
        return;
    }
    let t = open_tempdir();
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    for case in &CASES {
        let tc = xtools(t.path(), case.xtools, case.prefix, case.debian);
        volunteer(&root, &tc, case, "embedded", free_port());
        let unit = std::fs::read_to_string(
            root.join("etc/systemd/system")
                .join(format!("distsetup-serve-{}.service", case.xtools)),
        )
        .unwrap();
        let written_path = unit_value(&unit, "Environment")
            .and_then(|e| e.strip_prefix("PATH=").map(str::to_owned))
            .unwrap();
        let log = t.path().join(format!("serve-{}.log", case.xtools));
        let port = free_port();
        let (exe, argv) = serve_argv(&unit, &root, port, &log);
        assert_eq!(exe, PathBuf::from(env!("CARGO_BIN_EXE_distsetup")));
        let child = Command::new("timeout")
            .arg("120")
            .arg(&exe)
            .args(&argv)
            .env("PATH", reroot_path(&written_path, &root))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut server = Server(child, port);
        wait_listening(port, &mut server.0);
        compile_through(t.path(), case, port);
        drop(server);
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            log_text.contains(&format!("{}-gcc", case.master)),
            "the server log does not show the job:\n{log_text}"
        );
    }
}
