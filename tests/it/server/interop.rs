//! `distsetup serve` against the real Debian distcc 3.4 client on 127.0.0.1.
//! Every client runs with DISTCC_FALLBACK=0 and DISTCC_SKIP_LOCAL_RETRY=1, so a job that
//! did not compile on our server fails the test; the server log proves each remote job.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::server::*;

fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let p = write(dir, name, body);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn native_gcc_and_gxx_over_protocol_1_and_lzo() {
    let server = Server::start(&["--jobs", "2"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    write(w, "hello.c", HELLO);
    write(
        w,
        "hello.cpp",
        "#include <iostream>\n#include <string>\nint main() { std::string s = \"hello from g++\"; std::cout << s << std::endl; }\n",
    );
    for (n, opts) in ["", ",lzo"].iter().enumerate() {
        let hosts = server.hosts(opts);
        let o = distcc(
            &hosts,
            &["gcc", "-O2", "-c", "hello.c", "-o", &format!("c{n}.o")],
            w,
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = distcc(
            &hosts,
            &["g++", "-O2", "-c", "hello.cpp", "-o", &format!("cxx{n}.o")],
            w,
            &[],
        );
        assert!(o.status.success(), "{}", text(&o));
        run_ok(
            Command::new("gcc")
                .current_dir(w)
                .args([&format!("c{n}.o"), "-o", "c"]),
        );
        assert_eq!(
            run_ok(&mut Command::new(w.join("c"))),
            "hello from distsetup\n"
        );
        run_ok(
            Command::new("g++")
                .current_dir(w)
                .args([&format!("cxx{n}.o"), "-o", "cxx"]),
        );
        assert_eq!(run_ok(&mut Command::new(w.join("cxx"))), "hello from g++\n");
    }
    // Same bytes as a local compile.
    run_ok(
        Command::new("gcc")
            .current_dir(w)
            .args(["-O2", "-c", "hello.c", "-o", "local.o"]),
    );
    let local = std::fs::read(w.join("local.o")).unwrap();
    assert_eq!(std::fs::read(w.join("c0.o")).unwrap(), local);
    assert_eq!(std::fs::read(w.join("c1.o")).unwrap(), local);

    let jobs = server.remote_jobs_at_least(4);
    assert_eq!(jobs.len(), 4, "{jobs:?}");
    assert!(jobs.iter().all(|l| l.contains("COMPILE_OK")), "{jobs:?}");
    assert_eq!(jobs.iter().filter(|l| l.contains("protocol 1")).count(), 2);
    assert_eq!(jobs.iter().filter(|l| l.contains("protocol 2")).count(), 2);
    assert!(
        jobs.iter()
            .any(|l| l.contains("x86_64-linux-gnu-g++ hello.cpp")),
        "{jobs:?}"
    );
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn compile_error_shows_gccs_message_and_fails() {
    let server = Server::start(&[]);
    let work = tempfile::tempdir().unwrap();
    write(
        work.path(),
        "bad.c",
        "int main(void) { return undefined_thing; }\n",
    );
    for opts in ["", ",lzo"] {
        let o = distcc(
            &server.hosts(opts),
            &["gcc", "-c", "bad.c", "-o", "bad.o"],
            work.path(),
            &[],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("bad.c:1:"), "{err}");
        assert!(
            err.contains("undefined_thing") && err.contains("undeclared"),
            "{err}"
        );
        assert!(!work.path().join("bad.o").exists());
    }
    let log = server.log_text();
    assert_eq!(log.matches("COMPILE_ERROR exit:1").count(), 2, "{log}");
    assert!(server.tmp_leftovers().is_empty());
}

/// Client-side names of cross compilers the server does not have (symlinks for the
/// client's own preprocessing only).
fn client_cross_bin(dir: &Path) -> String {
    let bin = dir.join("client-bin");
    std::fs::create_dir(&bin).unwrap();
    for (name, target) in [
        (
            "aarch64-unknown-linux-gnu-gcc",
            "/usr/bin/aarch64-linux-gnu-gcc",
        ),
        (
            "armv6j-hardfloat-linux-gnueabi-gcc",
            "/usr/bin/arm-linux-gnueabihf-gcc",
        ),
    ] {
        std::os::unix::fs::symlink(target, bin.join(name)).unwrap();
    }
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

#[test]
fn cross_compiles_through_triple_aliases_run_under_qemu() {
    let server = Server::start(&[
        "--alias",
        "aarch64-unknown-linux-gnu=aarch64-linux-gnu",
        "--alias",
        "armv6j-hardfloat-linux-gnueabi=arm-linux-gnueabihf",
    ]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let path = client_cross_bin(w);
    write(w, "hello.c", HELLO);
    let cases = [
        (
            "aarch64-unknown-linux-gnu-gcc",
            "AArch64",
            "aarch64-linux-gnu-gcc",
            "qemu-aarch64",
            "/usr/aarch64-linux-gnu",
            "",
        ),
        (
            "armv6j-hardfloat-linux-gnueabi-gcc",
            "ARM",
            "arm-linux-gnueabihf-gcc",
            "qemu-arm",
            "/usr/arm-linux-gnueabihf",
            ",lzo",
        ),
    ];
    for (asked, machine, linker, qemu, sysroot, opts) in cases {
        let obj = format!("{asked}.o");
        let o = distcc(
            &server.hosts(opts),
            &[asked, "-O2", "-c", "hello.c", "-o", &obj],
            w,
            &[("PATH", &path)],
        );
        assert!(o.status.success(), "{asked}: {}", text(&o));
        let hdr = run_ok(Command::new("readelf").arg("-h").arg(w.join(&obj)));
        let m = hdr.lines().find(|l| l.contains("Machine:")).unwrap();
        assert!(m.trim_end().ends_with(machine), "{asked}: {m}");
        let exe = format!("{asked}.exe");
        run_ok(Command::new(linker).current_dir(w).args([&obj, "-o", &exe]));
        let out = run_ok(Command::new(qemu).arg("-L").arg(sysroot).arg(w.join(&exe)));
        assert_eq!(out, "hello from distsetup\n", "{asked}");
    }
    let jobs = server.remote_jobs_at_least(2);
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert!(jobs[0].contains("COMPILE_OK") && jobs[0].contains("aarch64-unknown-linux-gnu-gcc"));
    assert!(
        jobs[1].contains("COMPILE_OK") && jobs[1].contains("armv6j-hardfloat-linux-gnueabi-gcc")
    );
}

#[test]
fn refused_compiler_is_explained_to_an_allowed_client() {
    let server = Server::start(&["--stats", "--stats-port", "0"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let path = client_cross_bin(w);
    write(w, "hello.c", HELLO);
    let o = distcc(
        &server.hosts(",lzo"),
        &[
            "aarch64-unknown-linux-gnu-gcc",
            "-c",
            "hello.c",
            "-o",
            "x.o",
        ],
        w,
        &[("PATH", &path)],
    );
    // With DISTCC_SKIP_LOCAL_RETRY the client prints our SERR and exits with our code.
    assert_eq!(o.status.code(), Some(110), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("compiler 'aarch64-unknown-linux-gnu-gcc' is not in this server's table"),
        "{err}"
    );
    assert!(
        err.contains("--alias aarch64-unknown-linux-gnu=aarch64-linux-gnu"),
        "{err}"
    );

    // An unsafe option: refused, explained, nothing compiled.
    write(w, "w.c", "int x;\n");
    let o = distcc(
        &server.hosts(""),
        &["gcc", "-B/nonexistent/", "-c", "w.c", "-o", "w.o"],
        w,
        &[],
    );
    assert_eq!(o.status.code(), Some(101), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("option '-B/nonexistent/' is refused by this server: it chooses which programs the compiler runs"), "{err}");

    // Default client settings: the refusal makes it compile locally, and it says so.
    let state = w.join("state2");
    std::fs::create_dir(&state).unwrap();
    let o = Command::new("distcc")
        .args([
            "aarch64-unknown-linux-gnu-gcc",
            "-c",
            "hello.c",
            "-o",
            "y.o",
        ])
        .current_dir(w)
        .env("PATH", &path)
        .env("DISTCC_HOSTS", server.hosts(""))
        .env("DISTCC_DIR", &state)
        .env_remove("DISTCC_SKIP_LOCAL_RETRY")
        .env_remove("DISTCC_FALLBACK")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("retrying locally"),
        "{}",
        text(&o)
    );
    assert!(w.join("y.o").exists());

    assert!(server.remote_jobs().is_empty());
    let page = String::from_utf8(raw_exchange(
        server.stats_port.unwrap(),
        b"GET / HTTP/1.0\r\n\r\n",
    ))
    .unwrap();
    assert!(
        page.starts_with("HTTP/1.0 200 OK\nContent-Type: text/plain\nConnection: close\n\nargv /"),
        "{page}"
    );
    assert!(
        page.contains("\n<distccstats>\ndcc_tcp_accept 3\n"),
        "{page}"
    );
    assert!(page.contains("\ndcc_compile_ok 0\n"), "{page}");
    assert!(page.contains("\ndcc_other 3\n"), "{page}");
    assert!(page.contains("\ndistsetup_refused_compiler 2\n"), "{page}");
    assert!(
        page.contains("\ndistsetup_refused_unsafe_option 1\n"),
        "{page}"
    );
    assert!(page.ends_with("</distccstats>\n"), "{page}");
    assert!(!page.contains('\r'));
}

#[test]
fn stats_page_counts_compiles() {
    let server = Server::start(&["--stats", "--stats-port", "0"]);
    let work = tempfile::tempdir().unwrap();
    write(work.path(), "hello.c", HELLO);
    let o = distcc(
        &server.hosts(""),
        &["gcc", "-c", "hello.c", "-o", "h.o"],
        work.path(),
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    let page = String::from_utf8(raw_exchange(server.stats_port.unwrap(), b"")).unwrap();
    for line in [
        "dcc_compile_ok 1",
        "dcc_compile_error 0",
        "dcc_longest_job hello.c",
        "dcc_longest_job_compiler x86_64-linux-gnu-gcc",
        "dcc_num_compiles1 1",
        "dcc_max_kids ",
        "dcc_free_space ",
        // Issue 12: how compiles are confined.
        "distsetup_landlock_abi ",
        "distsetup_uid ",
    ] {
        assert!(page.contains(&format!("\n{line}")), "{line}: {page}");
    }
}

#[test]
fn no_allow_refuses_to_start() {
    let o = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1",
            "--port",
            "0",
            "--lifetime",
            "5",
        ])
        .output()
        .unwrap();
    // distccd's status for bad arguments.
    assert_eq!(o.status.code(), Some(101), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no --allow given"),
        "{}",
        text(&o)
    );
    let o = Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1",
            "--port",
            "0",
            "--allow",
            "10.0.0.0/33",
        ])
        .output()
        .unwrap();
    // distccd's status for bad arguments.
    assert_eq!(o.status.code(), Some(101), "{}", text(&o));
}

#[test]
fn sigterm_lets_the_running_job_finish_and_removes_the_pid_file() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let tc = w.join("toolchain");
    std::fs::create_dir(&tc).unwrap();
    // A real gcc behind a name only this toolchain dir has; it is slow on purpose, and
    // its sleep (with an argument no other process has) shows the compile has started:
    // the confined compile cannot write a marker outside its job directory.
    let marker = "2.0417";
    script(
        &tc,
        "slow-linux-gnu-gcc",
        &format!(
            "#!/bin/sh\ncase \" $* \" in *\" -E \"*) ;; *) sleep {marker} ;; esac\nexec gcc \"$@\"\n"
        ),
    );
    // The server gives up root after writing it: a directory its user may write, as
    // /run/distcc is for distccd.
    let run = w.join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(w, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o777)).unwrap();
    let pid_file = run.join("serve.pid");
    let mut server = Server::start(&[
        "--toolchain",
        tc.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
    ]);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, server.pid());
    write(w, "hello.c", HELLO);
    let path = format!("{}:{}", tc.display(), std::env::var("PATH").unwrap());
    let state = w.join("state");
    std::fs::create_dir(&state).unwrap();
    let mut client = Command::new("distcc")
        .args(["slow-linux-gnu-gcc", "-c", "hello.c", "-o", "h.o"])
        .current_dir(w)
        .env("PATH", &path)
        .env("DISTCC_HOSTS", server.hosts(""))
        .env("DISTCC_DIR", &state)
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_SKIP_LOCAL_RETRY", "1")
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !process_with_arg(marker) {
        assert!(
            Instant::now() < deadline,
            "job never started: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = server.stop();
    assert!(st.success(), "{st}: {}", server.log_text());
    assert!(wait_bounded(&mut client, Duration::from_secs(30)).success());
    assert!(w.join("h.o").exists());
    assert!(!pid_file.exists());
    let log = server.log_text();
    assert!(log.contains("SIGTERM: no longer accepting"), "{log}");
    assert!(log.contains("COMPILE_OK"), "{log}");
    assert!(server.tmp_leftovers().is_empty());
}

/// A toolchain dir with `hang-linux-gnu-gcc`: preprocesses like gcc, but the compile
/// step hangs (a sleep with a unique argument we can look for).
fn hanging_toolchain(dir: &Path, marker: &str) -> std::path::PathBuf {
    let tc = dir.join("toolchain");
    std::fs::create_dir(&tc).unwrap();
    script(
        &tc,
        "hang-linux-gnu-gcc",
        &format!(
            "#!/bin/sh\ncase \" $* \" in *\" -E \"*) exec gcc \"$@\" ;; esac\nsleep {marker} &\nwait\n"
        ),
    );
    tc
}

#[test]
fn job_lifetime_kills_a_runaway_compiler_with_status_118() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let marker = "117.25";
    let tc = hanging_toolchain(w, marker);
    let server = Server::start(&["--toolchain", tc.to_str().unwrap(), "--job-lifetime", "1"]);
    write(w, "hello.c", HELLO);
    let path = format!("{}:{}", tc.display(), std::env::var("PATH").unwrap());
    let o = distcc(
        &server.hosts(",lzo"),
        &["hang-linux-gnu-gcc", "-c", "hello.c", "-o", "h.o"],
        w,
        &[("PATH", &path)],
    );
    assert_eq!(o.status.code(), Some(118), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--job-lifetime"),
        "{}",
        text(&o)
    );
    wait_until("the sleep to die", Duration::from_secs(10), || {
        !process_with_arg(marker)
    });
    assert!(server.log_text().contains("COMPILE_TIMEOUT"));
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn client_disconnect_kills_the_compiler_group() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let marker = "118.75";
    let tc = hanging_toolchain(w, marker);
    let server = Server::start(&["--toolchain", tc.to_str().unwrap()]);
    let req = request(
        1,
        &["hang-linux-gnu-gcc", "-c", "t.c", "-o", "t.o"],
        "int x;\n",
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    std::io::Write::write_all(&mut s, &req).unwrap();
    wait_until("the compile to start", Duration::from_secs(20), || {
        process_with_arg(marker)
    });
    drop(s);
    wait_until("the compiler group to die", Duration::from_secs(10), || {
        !process_with_arg(marker)
    });
    wait_until("the log line", Duration::from_secs(10), || {
        server.log_text().contains("CLI_DISCONN")
    });
    assert!(server.tmp_leftovers().is_empty());
}

#[test]
fn inetd_mode_serves_the_ssh_transport() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let log = w.join("inetd.log");
    let tmp = w.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    open_to_all(w, &tmp);
    // What the volunteer installs (README): a wrapper, because the client appends
    // `--inetd --enable-tcp-insecure` to the host's COMMAND.
    let wrapper = script(
        w,
        "distsetup-inetd",
        &format!(
            "#!/bin/sh\nTMPDIR={} exec {} serve \"$@\" --log-file {} --log-level info\n",
            tmp.display(),
            bin(),
            log.display()
        ),
    );
    // Stands in for ssh: drop options and the host name, run the remote command.
    let args_seen = w.join("ssh-args");
    let fake_ssh = script(
        w,
        "fake-ssh",
        &format!(
            "#!/bin/sh\necho \"$@\" > {}\nwhile [ $# -gt 0 ]; do case \"$1\" in -l|-p|-o) shift 2;; -*) shift;; *) shift; break;; esac; done\nexec \"$@\"\n",
            args_seen.display()
        ),
    );
    write(w, "hello.c", HELLO);
    let hosts = format!("builder@volunteer:{},lzo", wrapper.display());
    let o = distcc(
        &hosts,
        &["gcc", "-c", "hello.c", "-o", "h.o"],
        w,
        &[("DISTCC_SSH", fake_ssh.to_str().unwrap())],
    );
    assert!(o.status.success(), "{}", text(&o));
    run_ok(Command::new("gcc").current_dir(w).args(["h.o", "-o", "h"]));
    assert_eq!(
        run_ok(&mut Command::new(w.join("h"))),
        "hello from distsetup\n"
    );
    let seen = std::fs::read_to_string(&args_seen).unwrap();
    assert!(
        seen.contains(&format!(
            "volunteer {} --inetd --enable-tcp-insecure",
            wrapper.display()
        )),
        "{seen}"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("client: stdin COMPILE_OK") && log.contains("(remote, protocol 2)"),
        "{log}"
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

fn niceness(pid: u32) -> i64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised comm: state is field 3, nice is field 19.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split_whitespace().nth(16).unwrap().parse().unwrap()
}

fn own_niceness() -> i64 {
    niceness(std::process::id())
}

#[test]
fn the_server_lowers_its_priority_like_distccd() {
    let base = own_niceness();
    let default = Server::start(&[]);
    assert_eq!(niceness(default.pid()), (base + 5).min(19));
    let seven = Server::start(&["--nice", "7"]);
    assert_eq!(niceness(seven.pid()), (base + 7).min(19));
    let zero = Server::start(&["--nice", "0"]);
    assert_eq!(niceness(zero.pid()), base);
    let o = Command::new(bin())
        .args(["serve", "--allow", "127.0.0.1/32", "--nice", "20"])
        .output()
        .unwrap();
    // distccd's status for bad arguments.
    assert_eq!(o.status.code(), Some(101), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--nice"));
}
