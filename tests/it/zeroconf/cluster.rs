//! The acceptance test of issue 15, in a 3-node namespace cluster (scripts/cluster):
//!
//! - v1 (10.77.0.2): `distsetup volunteer --zeroconf` with the embedded server and x-tools7h
//!   (Debian's armhf cross gcc) aliased to Arch Linux ARM's armv7h name;
//! - v2 (10.77.0.3): distccd with x-tools8 (aarch64), also `--zeroconf`, and an armhf
//!   toolchain advertised for gcc 13 (a near miss: the master's machine, another version);
//! - m (10.77.0.1): a `cc` that says what an armv7h master says, and the stock distcc client
//!   with `DISTCC_HOSTS=+zeroconf`.
//!
//! Each volunteer's `--root` holds `etc/avahi/services`, bind-mounted as that node's
//! `/etc/avahi/services` before its avahi-daemon starts (avahi watches the directory it
//! finds at start), so what `distsetup volunteer` writes — and what `undo` removes — is
//! what that node's avahi publishes.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use crate::support::cluster::{self, Cluster};
use crate::support::volunteer::{text, unit_value};
use crate::support::{Cmd, Root, XTools, free_port, on_path, require};

const MASTER: &str = "armv7l-unknown-linux-gnueabihf";
const ARM_PREFIX: &str = "arm-unknown-linux-gnueabihf";
const V1: &str = "10.77.0.2";
const V2: &str = "10.77.0.3";

fn tools_present() -> bool {
    let all = [
        "distcc",
        "distccd",
        "qemu-arm",
        "readelf",
        "arm-linux-gnueabihf-gcc",
        "aarch64-linux-gnu-gcc",
    ];
    let missing: Vec<&str> = all.into_iter().filter(|t| !on_path(t)).collect();
    require(&format!("{missing:?} on PATH"), missing.is_empty()) && cluster::available()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(what: &str, o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{what}: {}", text(&o));
    o
}

/// Poll `probe` until it is true; panic with `what` after 60 s (a bound, not a timing
/// assertion: each step normally takes well under a second, but the whole suite runs
/// beside it on two cores).
fn wait_for(what: &str, probe: impl FnMut() -> bool) {
    wait_or_explain(what, probe, String::new);
}

/// [`wait_for`], and on giving up say what `explain` finds (what the client and avahi see).
fn wait_or_explain(what: &str, mut probe: impl FnMut() -> bool, explain: impl Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !probe() {
        if Instant::now() >= deadline {
            panic!("gave up waiting: {what}\n{}", explain());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An empty log file every user may append to (servers drop to an unprivileged user).
fn log_file(path: PathBuf) -> PathBuf {
    std::fs::write(&path, "").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    path
}

/// The written unit's ExecStart and PATH, with paths under `root` re-rooted and the log
/// sent to `log`.
fn unit_command(root: &Path, unit: &str, log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("etc/systemd/system").join(unit))
        .unwrap_or_else(|e| panic!("{unit}: {e}"));
    let reroot = |p: &str| {
        if p.starts_with("/usr/lib/distsetup") {
            root.join(p.trim_start_matches('/')).display().to_string()
        } else {
            p.to_string()
        }
    };
    let path = unit_value(&text, "Environment")
        .and_then(|e| e.strip_prefix("PATH=").map(str::to_owned))
        .unwrap();
    let path: Vec<String> = path.split(':').map(reroot).collect();
    let mut argv: Vec<String> = unit_value(&text, "ExecStart")
        .unwrap()
        .split_whitespace()
        .map(reroot)
        .collect();
    if let Some(i) = argv.iter().position(|a| a == "--log-file") {
        argv[i + 1] = log.display().to_string();
    }
    let mut cmd = vec!["env".to_string(), format!("PATH={}", path.join(":"))];
    cmd.extend(argv);
    cmd
}

/// Every distsetup volunteer run here: no home, on a root, this toolchain, a port free on
/// the host (the port check binds there), allowing the cluster's subnet.
fn volunteer(root: &Path, tc: &Path, port: u16, extra: &[&str]) {
    let o = Cmd::new("volunteer")
        .no_home()
        .root(root)
        .toolchain(tc)
        .port(port)
        .args([
            "--profile",
            "debian",
            "--allow",
            "10.77.0.0/24",
            "--jobs",
            "2",
        ])
        .arg("--zeroconf")
        .args(extra)
        .arg("--yes")
        .run();
    ok("distsetup volunteer", o);
}

/// The master node: its `cc`, the client's environment.
struct Master<'a> {
    c: &'a Cluster,
    bin: PathBuf,
    home: PathBuf,
    dir: PathBuf,
}

impl Master<'_> {
    fn run(&self, cmd: &[&str]) -> Output {
        let mut full: Vec<String> = vec![
            "env".into(),
            format!("PATH={}:/usr/sbin:/usr/bin:/sbin:/bin", self.bin.display()),
            format!("HOME={}", self.home.display()),
            format!("DISTCC_DIR={}", self.home.join(".distcc").display()),
            "DISTCC_HOSTS=+zeroconf".into(),
        ];
        full.extend(cmd.iter().map(|s| s.to_string()));
        self.c.exec("m", &full)
    }

    /// `distsetup SUB --profile archarm --root ROOT --hosts +zeroconf EXTRA...` on the master.
    fn distsetup(&self, sub: &str, root: &Path, extra: &[&str]) -> Output {
        let mut cmd = vec![env!("CARGO_BIN_EXE_distsetup"), sub, "--profile", "archarm"];
        cmd.extend(["--root", s(root), "--hosts", "+zeroconf"]);
        cmd.extend(extra);
        self.run(&cmd)
    }

    /// The hosts the distcc client's zeroconf daemon has written now (the first call
    /// starts that daemon).
    fn client_hosts(&self) -> String {
        String::from_utf8_lossy(&self.run(&["distcc", "--show-hosts"]).stdout).into_owned()
    }

    /// What the client's zeroconf cache holds and what avahi on the master resolves.
    fn explain_discovery(&self) -> String {
        let cache = self.home.join(".distcc/zeroconf/hosts");
        let browse = self.run(&["avahi-browse", "-a", "-t", "-r", "-p"]);
        format!(
            "client's cache {}: {:?}\navahi-browse on the master: {}",
            cache.display(),
            std::fs::read_to_string(&cache),
            text(&browse)
        )
    }

    /// `distcc MACHINE-gcc -c hello.c -o OUT` (`MACHINE`: what this master's cc says);
    /// the object's ELF machine line.
    fn distcc(&self, machine: &str, out: &str, extra_env: &[&str]) -> String {
        let src = self.dir.join("hello.c");
        let obj = self.dir.join(out);
        let mut cmd: Vec<&str> = extra_env.to_vec();
        let compiler = format!("{machine}-gcc");
        cmd.extend(["distcc", &compiler, "-O2", "-c", s(&src), "-o", s(&obj)]);
        ok("distcc", self.run(&cmd));
        let header = ok(
            "readelf",
            std::process::Command::new("readelf")
                .arg("-h")
                .arg(&obj)
                .output()
                .unwrap(),
        );
        let header = String::from_utf8_lossy(&header.stdout).into_owned();
        header
            .lines()
            .find(|l| l.trim_start().starts_with("Machine:"))
            .map(str::to_owned)
            .unwrap_or(header)
    }

    /// The armv7h master compiles hello.c through distcc; the object is for ARM and runs.
    fn compile(&self, out: &str, extra_env: &[&str]) {
        let machine = self.distcc(MASTER, out, extra_env);
        assert!(
            machine.contains("ARM") && !machine.contains("AArch64"),
            "{machine}"
        );
        let obj = self.dir.join(out);
        let exe = obj.with_extension("bin");
        ok(
            "link",
            std::process::Command::new("arm-linux-gnueabihf-gcc")
                .arg(&obj)
                .arg("-o")
                .arg(&exe)
                .output()
                .unwrap(),
        );
        let run = ok(
            "qemu-arm",
            std::process::Command::new("timeout")
                .args(["60", "qemu-arm", "-L", "/usr/arm-linux-gnueabihf"])
                .arg(&exe)
                .output()
                .unwrap(),
        );
        assert_eq!(
            String::from_utf8_lossy(&run.stdout),
            "hello from a volunteer nobody listed\n"
        );
    }
}

/// A master's `bin`: a `cc` that says `machine` and the full version (as Arch's gcc prints
/// it) and otherwise runs Debian's cross gcc `debian-gcc`, and `machine-gcc` linked to it.
fn master_bin(dir: &Path, machine: &str, debian: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = dir.join(format!("bin-{machine}"));
    std::fs::create_dir_all(&bin).unwrap();
    let cc = format!(
        "#!/bin/sh\ncase \"$1\" in\n  -dumpmachine) echo {machine} ;;\n  \
         -dumpversion) exec {debian}-gcc -dumpfullversion ;;\n  *) exec {debian}-gcc \"$@\" ;;\nesac\n"
    );
    std::fs::write(bin.join("cc"), cc).unwrap();
    std::fs::set_permissions(bin.join("cc"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let real = format!("/usr/bin/{debian}-gcc");
    std::os::unix::fs::symlink(real, bin.join(format!("{machine}-gcc"))).unwrap();
    bin
}

/// Lines of `log` that mention the master's compiler (one or more per job).
fn jobs_in(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&format!("{MASTER}-gcc")))
        .count()
}

#[test]
fn the_stock_client_finds_the_cross_volunteer_by_itself_and_loses_it_after_undo() {
    if !tools_present() {
        return;
    }
    let t = Root::new()
        .file("hello.c", "#include <stdio.h>\nint main(void) { puts(\"hello from a volunteer nobody listed\"); return 0; }\n")
        .file("mroot/etc/makepkg.conf", "BUILDENV=(!distcc color check)\n#MAKEFLAGS=\"-j2\"\n")
        .dir("r1/etc/avahi/services")
        .dir("r2/etc/avahi/services")
        .dir("home/.distcc")
        .dir("home64/.distcc");
    let c = Cluster::up(&["m=10.77.0.1", &format!("v1={V1}"), &format!("v2={V2}")]);
    let (r1, r2) = (t.join("r1"), t.join("r2"));
    c.bind("v1", &r1.join("etc/avahi/services"), "/etc/avahi/services");
    c.bind("v2", &r2.join("etc/avahi/services"), "/etc/avahi/services");
    for node in ["m", "v1", "v2"] {
        c.avahi(node);
    }
    let arm = XTools::new("x-tools7h", ARM_PREFIX)
        .using_debian("arm-linux-gnueabihf")
        .build_in(t.path());
    let a64 = XTools::aarch64().build_in(t.path());
    let alias = format!("{MASTER}={ARM_PREFIX}");

    // v1: the embedded server, armhf aliased to the armv7h name, on the node's address.
    let p1 = free_port();
    volunteer(&r1, &arm, p1, &["--alias", &alias, "--listen", V1]);
    let serve_log = log_file(t.join("serve-v1.log"));
    let serve = unit_command(&r1, "distsetup-serve-x-tools7h.service", &serve_log);
    c.spawn("v1", &t.join("v1.out"), &serve);

    // v2: distccd with aarch64; and an armhf toolchain advertised for gcc 13 (no server:
    // nobody may use it, the doctor must call it a near miss).
    let p2 = free_port();
    volunteer(&r2, &a64, p2, &["--server", "distccd"]);
    let p3 = free_port();
    volunteer(
        &r2,
        &arm,
        p3,
        &[
            "--server",
            "distccd",
            "--alias",
            &alias,
            "--zeroconf-version",
            "13.1.0",
        ],
    );
    c.bind("v2", &r2.join("usr/lib/distcc"), "/usr/lib/distcc");
    let distccd_log = log_file(t.join("distccd-v2.log"));
    let mut distccd = unit_command(&r2, "distccd-armv8.service", &distccd_log);
    distccd.extend([
        "--listen".into(),
        V2.into(),
        "--user".into(),
        "nobody".into(),
    ]);
    c.spawn("v2", &t.join("v2.out"), &distccd);

    let m = Master {
        c: &c,
        bin: master_bin(t.path(), MASTER, "arm-linux-gnueabihf"),
        home: t.join("home"),
        dir: t.path().to_path_buf(),
    };
    for (ip, port) in [(V1, p1), (V2, p2)] {
        let probe = format!("exec 3<>/dev/tcp/{ip}/{port}");
        wait_for(&format!("a server on {ip}:{port}"), || {
            m.run(&["bash", "-c", &probe]).status.success()
        });
    }

    // The stock client, DISTCC_HOSTS=+zeroconf: it finds v1 only, as ADDRESS:PORT/JOBS.
    wait_or_explain(
        "the client to discover v1",
        || m.client_hosts().contains(V1),
        || m.explain_discovery(),
    );
    let hosts = m.client_hosts();
    assert!(hosts.contains(&format!("{V1}:{p1}/2")), "{hosts}");
    assert!(
        !hosts.contains(V2),
        "the aarch64 volunteer and the near miss are not for this master: {hosts}"
    );
    m.compile("remote.o", &["env", "DISTCC_FALLBACK=0"]);
    assert!(
        jobs_in(&serve_log) > 0,
        "v1 did not compile it:\n{}",
        std::fs::read_to_string(&serve_log).unwrap_or_default()
    );
    let v2_log = std::fs::read_to_string(&distccd_log).unwrap_or_default();
    assert!(
        !v2_log.contains("COMPILE_OK") && !v2_log.contains(MASTER),
        "the aarch64 volunteer was used:\n{v2_log}"
    );
    // The distccd volunteer is found the same way by the master it is for.
    let a64_name = "aarch64-unknown-linux-gnu";
    let m64 = Master {
        c: &c,
        bin: master_bin(t.path(), a64_name, "aarch64-linux-gnu"),
        home: t.join("home64"),
        dir: t.path().to_path_buf(),
    };
    wait_or_explain(
        "the aarch64 client to discover v2",
        || m64.client_hosts().contains(V2),
        || m64.explain_discovery(),
    );
    assert!(!m64.client_hosts().contains(V1), "{}", m64.client_hosts());
    let machine = m64.distcc(a64_name, "a64.o", &["env", "DISTCC_FALLBACK=0"]);
    assert!(machine.contains("AArch64"), "{machine}");
    let v2_log = std::fs::read_to_string(&distccd_log).unwrap_or_default();
    assert!(
        v2_log.contains("COMPILE_OK"),
        "v2's distccd did not compile it:\n{v2_log}"
    );

    // doctor: lists both volunteers, marks the near miss, probes the match.
    // (Its exit status also reflects the master's own files, not configured yet.)
    let o = m.distsetup(
        "doctor",
        &t.join("mroot"),
        &["--speed-rounds", "0", "--json"],
    );
    let report: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    let finding = |check: &str, subject: &str| -> (String, String) {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == check && f["subject"] == subject)
            .unwrap_or_else(|| panic!("no {check} finding for {subject}: {report:#}"));
        (
            f["status"].as_str().unwrap().to_string(),
            f["message"].as_str().unwrap().to_string(),
        )
    };
    let (st, msg) = finding("zeroconf", "distcc x-tools7h on v1");
    assert!(
        st == "ok" && msg.contains("discovered") && msg.contains(&format!("{V1}:{p1}/2")),
        "{st}: {msg}"
    );
    let (st, msg) = finding("zeroconf", "distcc x-tools7h on v2");
    assert!(
        st == "warn" && msg.contains("near miss") && msg.contains("13.1.0"),
        "{st}: {msg}"
    );
    let (st, msg) = finding("zeroconf", "distcc x-tools8 on v2");
    assert!(
        st == "ok" && msg.contains("not for this master") && msg.contains("aarch64"),
        "{st}: {msg}"
    );
    let (st, msg) = finding("compiler", &format!("{V1}:{p1}"));
    assert!(st == "ok" && msg.contains(MASTER), "{st}: {msg}");
    let probed_v2 =
        report["findings"].as_array().unwrap().iter().any(|f| {
            f["check"] != "zeroconf" && f["subject"].as_str().unwrap_or("").starts_with(V2)
        });
    assert!(!probed_v2, "only the match is probed: {report:#}");
    let discovery_broken = report["findings"].as_array().unwrap().iter().any(|f| {
        f["status"] == "broken"
            && ["zeroconf", "reachable", "compiler"].contains(&f["check"].as_str().unwrap_or(""))
    });
    assert!(!discovery_broken, "{report:#}");

    // master: +zeroconf is written; -j counts v1's 2 slots, and says it is a snapshot.
    let o = ok(
        "master",
        m.distsetup("master", &t.join("mroot"), &["--yes"]),
    );
    let out = text(&o);
    assert!(
        out.contains("distcc x-tools7h on v1 at")
            && out.contains("2 discovered slots counted for -j"),
        "{out}"
    );
    assert!(out.contains("this is a snapshot"), "{out}");
    assert!(out.contains("same machine, other gcc version"), "{out}");
    let conf = std::fs::read_to_string(t.join("mroot/etc/makepkg.conf")).unwrap();
    assert!(conf.contains("DISTCC_HOSTS=\"+zeroconf\""), "{conf}");

    // Undo on v1: the file goes, avahi withdraws it, the client's list loses it, and builds
    // continue on the master.
    ok("undo", Cmd::new("undo").root(&r1).arg("--yes").run());
    assert!(
        !r1.join("etc/avahi/services/distsetup-x-tools7h.service")
            .exists()
    );
    let subtype = distsetup::zeroconf::naming::subtype(MASTER, "12.2.0");
    wait_for("avahi to withdraw v1", || {
        let o = m.run(&["avahi-browse", "-prtk", &subtype]);
        o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("on\\032v1")
    });
    wait_for("the client to drop v1", || !m.client_hosts().contains(V1));
    let before = jobs_in(&serve_log);
    m.compile("local.o", &[]);
    assert_eq!(
        jobs_in(&serve_log),
        before,
        "v1 still got a job after it stopped advertising"
    );
}
