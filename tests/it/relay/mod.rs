//! Issue 22: `distsetup relay` between the real distcc client and real volunteers
//! (`distsetup serve`, distccd, and proxies that fail on purpose), all on 127.0.0.1.
//! The client runs with `DISTCC_FALLBACK=0` and the default backoff period: a failure the
//! relay let through would fail the compile or leave a backoff file.

mod master;
pub(crate) mod support;

use std::path::Path;

use support::{Distccd, Fault, Faulty, Relay, backoff_files, build, distcc, machine_of, units};

use crate::support::server::Server;
use crate::support::{on_path, require};

fn need_distcc() -> bool {
    require(
        "the distcc client and distccd",
        on_path("distcc") && on_path("distccd"),
    )
}

/// Every unit compiled, each an x86_64 object, and no backoff file.
fn assert_built(dir: &Path, results: &[(String, std::process::Output)]) {
    for (name, o) in results {
        assert!(
            o.status.success(),
            "{name}: {}",
            crate::support::server::text(o)
        );
        assert_eq!(machine_of(dir, name).as_deref(), Some("x86_64"), "{name}");
    }
    assert_eq!(backoff_files(dir), Vec::<String>::new());
}

fn count(state: &serde_json::Value, key: &str) -> u64 {
    state["counters"][key].as_u64().unwrap()
}

#[test]
fn a_build_goes_through_the_relay_to_serve_and_distccd() {
    if !need_distcc() {
        return;
    }
    let serve = Server::start(&["--jobs", "2"]);
    let distccd = Distccd::start(None);
    let hosts = format!("{}/2 127.0.0.1:{}/2,lzo", serve.hosts(""), distccd.port);
    let relay = Relay::start(&hosts, &[]);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 8);
    let results = build(&relay.hosts(4), dir.path(), &names);
    assert_built(dir.path(), &results);
    let state = relay.settled_state();
    assert_eq!(count(&state, "jobs"), 8, "{state:#}");
    assert_eq!(count(&state, "remote"), 8, "{state:#}");
    assert_eq!(count(&state, "local"), 0, "{state:#}");
    assert_eq!(count(&state, "retries"), 0, "{state:#}");
    let hosts = state["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    let done: u64 = hosts.iter().map(|h| h["done"].as_u64().unwrap()).sum();
    assert_eq!(done, 8, "{state:#}");
    for h in hosts {
        // The client names the compiler by its triple (distcc rewrites gcc).
        let c = &h["compilers"]["x86_64-linux-gnu-gcc"];
        assert_eq!(c["state"], "match", "{state:#}");
        assert!(
            c["detail"].as_str().unwrap().contains("x86_64 objects"),
            "{state:#}"
        );
        assert_eq!(h["slots"], 2);
        assert!(h["benched"].is_null());
    }
    // The text view names both volunteers and the match.
    let o = std::process::Command::new(crate::support::server::bin())
        .args([
            "top",
            "--relay",
            &format!("127.0.0.1:{}", relay.port),
            "--once",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(&format!("127.0.0.1:{}", serve.port)),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{}", distccd.port)),
        "{text}"
    );
    assert!(text.contains("x86_64-linux-gnu-gcc: match"), "{text}");
}

#[test]
fn a_compile_error_passes_through_byte_for_byte_and_is_not_retried() {
    if !need_distcc() {
        return;
    }
    let serve = Server::start(&["--jobs", "2"]);
    let other = Server::start(&["--jobs", "2"]);
    let relay = Relay::start(&format!("{} {}", serve.hosts("/2"), other.hosts("/2")), &[]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.c"),
        "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 1) return 0; }\nint x = ;\n",
    )
    .unwrap();
    let args = ["gcc", "-c", "bad.c", "-o", "bad.o"];
    let direct = distcc(&serve.hosts("/2"), &args, dir.path());
    let relayed = distcc(&relay.hosts(4), &args, dir.path());
    // The compiler's own lines (the client adds "distcc[pid] ERROR" lines of its own).
    let diagnostics = |o: &std::process::Output| -> Vec<u8> {
        o.stderr
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.starts_with(b"distcc["))
            .flatten()
            .copied()
            .collect()
    };
    assert_eq!(
        direct.status.code(),
        Some(1),
        "{}",
        crate::support::server::text(&direct)
    );
    assert_eq!(relayed.status.code(), direct.status.code());
    assert!(!diagnostics(&direct).is_empty());
    assert_eq!(diagnostics(&relayed), diagnostics(&direct));
    let state = relay.settled_state();
    assert_eq!(count(&state, "compile_errors"), 1, "{state:#}");
    assert_eq!(count(&state, "retries"), 0, "{state:#}");
    assert_eq!(count(&state, "local"), 0, "{state:#}");
    assert_eq!(backoff_files(dir.path()), Vec::<String>::new());
    // Exactly one volunteer compiled it, once.
    let bad_c = |s: &Server| {
        s.remote_jobs()
            .iter()
            .filter(|l| l.contains("bad.c"))
            .count()
    };
    assert_eq!(bad_c(&serve) + bad_c(&other), 2, "one direct, one relayed");
}

/// A faulty volunteer listed first beside a good one: every job ends on the good one,
/// the fault is counted as a retry, the faulty host is benched, nothing runs locally.
fn one_fault(fault: Fault, word: &str, extra: &[&str]) {
    if !need_distcc() {
        return;
    }
    let good = Server::start(&["--jobs", "4"]);
    let upstream = Server::start(&["--jobs", "2"]);
    let bad = Faulty::start(upstream.port, fault);
    // The good host has one slot, so waiting for it is worse than trying the other.
    let hosts = format!("127.0.0.1:{}/2 {}", bad.port, good.hosts("/1"));
    let relay = Relay::start(&hosts, extra);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 6);
    let results = build(&relay.hosts(3), dir.path(), &names);
    assert_built(dir.path(), &results);
    let state = relay.settled_state();
    let events = bad.events();
    assert!(events.iter().any(|e| e == "probe"), "{events:?}");
    if fault != Fault::RefuseAfterProbe {
        assert!(events.iter().any(|e| e == "job"), "{events:?} {state:#}");
    }
    assert!(count(&state, "retries") >= 1, "{state:#}");
    assert!(
        state["counters"]["failures"][word].as_u64().unwrap_or(0) >= 1,
        "{state:#}"
    );
    assert_eq!(count(&state, "local"), 0, "{state:#}");
    assert_eq!(count(&state, "remote"), 6, "{state:#}");
    let b = Relay::host(&state, &format!("127.0.0.1:{}", bad.port));
    assert_eq!(b["done"], 0, "{state:#}");
    assert!(b["failures"].as_u64().unwrap() >= 1, "{state:#}");
    let g = Relay::host(&state, &format!("127.0.0.1:{}", good.port));
    assert_eq!(g["done"], 6, "{state:#}");
}

#[test]
fn a_volunteer_that_closes_is_retried_elsewhere() {
    one_fault(Fault::Close, "closed", &[]);
}

#[test]
fn a_volunteer_that_resets_is_retried_elsewhere() {
    one_fault(Fault::Reset, "reset", &[]);
}

#[test]
fn a_silent_volunteer_times_out_and_is_retried_elsewhere() {
    // The I/O time-out holds for the good volunteer too: long enough for its compiles
    // on a loaded machine.
    one_fault(
        Fault::Hang,
        "timeout",
        &["--io-timeout", "6", "--hedge-percent", "0"],
    );
}

#[test]
fn a_garbage_reply_is_retried_elsewhere() {
    one_fault(Fault::Garbage, "garbage", &[]);
}

#[test]
fn a_volunteer_killed_mid_reply_is_retried_elsewhere() {
    one_fault(Fault::KilledMidReply, "closed", &[]);
}

#[test]
fn a_volunteer_that_stops_listening_is_retried_elsewhere() {
    one_fault(Fault::RefuseAfterProbe, "refused", &[]);
}

/// Build `n` units through a relay whose only volunteer is a real serve behind `fault`:
/// the relay's settled state and what the fault proxy saw.
fn build_through_the_only_volunteer(fault: Fault, n: usize) -> (serde_json::Value, Vec<String>) {
    let upstream = Server::start(&["--jobs", "2"]);
    let only = Faulty::start(upstream.port, fault);
    let relay = Relay::start(&format!("127.0.0.1:{}/2", only.port), &[]);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), n);
    let results = build(&relay.hosts(2), dir.path(), &names);
    assert_built(dir.path(), &results);
    (relay.settled_state(), only.events())
}

#[test]
fn with_no_volunteer_left_the_master_compiles_and_says_why() {
    if !need_distcc() {
        return;
    }
    let (state, _) = build_through_the_only_volunteer(Fault::Close, 3);
    assert_eq!(count(&state, "local"), 3, "{state:#}");
    let why = state["counters"]["local_why"].as_object().unwrap();
    let total: u64 = why.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(total, 3, "{state:#}");
    // The first job failed on the only volunteer; the others found it benched.
    assert!(
        why.keys()
            .all(|k| k == "every eligible volunteer failed this job"
                || k == "every eligible volunteer is benched"),
        "{state:#}"
    );
    assert_eq!(count(&state, "failed"), 0, "{state:#}");
}

#[test]
fn jobs_wait_for_a_volunteer_benched_for_one_failure_rather_than_compile_locally() {
    if !need_distcc() {
        return;
    }
    let (state, events) = build_through_the_only_volunteer(Fault::CloseFirst, 6);
    // The job that failed there has no other volunteer: it compiles on the master, and
    // says so. The jobs that came while the volunteer was benched (a second) waited for
    // it to come back instead.
    assert_eq!(count(&state, "local"), 1, "{state:#}");
    assert_eq!(count(&state, "remote"), 5, "{state:#}");
    let why = state["counters"]["local_why"].as_object().unwrap();
    assert_eq!(
        why.keys().collect::<Vec<_>>(),
        ["every eligible volunteer failed this job"],
        "{state:#}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "answered").count(),
        5,
        "{events:?}"
    );
}

/// A distccd volunteer whose compilers are `bin`'s, listed first beside a good serve: a
/// build of six units through the relay sends it no job, `top` shows its compiler as a
/// mismatch whose detail names `detail`, and the only compile it did is the relay's probe.
fn mismatched_volunteer_gets_no_job(bin: &Path, detail: &str) {
    let _ = std::process::Command::new("chmod")
        .arg("755")
        .arg(bin)
        .status();
    let other = Distccd::start(Some(bin));
    let good = Server::start(&["--jobs", "2"]);
    let hosts = format!("127.0.0.1:{}/4 {}", other.port, good.hosts("/2"));
    let relay = Relay::start(&hosts, &[]);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 6);
    let results = build(&relay.hosts(6), dir.path(), &names);
    assert_built(dir.path(), &results);
    let state = relay.settled_state();
    let w = Relay::host(&state, &format!("127.0.0.1:{}", other.port));
    assert_eq!(w["done"], 0, "{state:#}");
    let c = &w["compilers"]["x86_64-linux-gnu-gcc"];
    assert_eq!(c["state"], "mismatch", "{state:#}");
    assert!(c["detail"].as_str().unwrap().contains(detail), "{state:#}");
    let log = other.log_text();
    assert_eq!(log.matches("COMPILE_OK").count(), 1, "{log}");
    assert!(log.contains("distsetup-probe.c"), "{log}");
    assert_eq!(count(&state, "remote"), 6, "{state:#}");
    assert_eq!(count(&state, "local"), 0, "{state:#}");
}

#[test]
fn a_volunteer_with_another_target_gets_no_job() {
    if !need_distcc() {
        return;
    }
    if !require(
        "an aarch64 cross gcc",
        Path::new("/usr/bin/aarch64-linux-gnu-gcc").exists(),
    ) {
        return;
    }
    // distccd whose x86_64-linux-gnu-gcc (the name the client sends) is an aarch64 gcc.
    let bin = tempfile::tempdir().unwrap();
    for name in ["x86_64-linux-gnu-gcc", "gcc", "cc"] {
        std::os::unix::fs::symlink("/usr/bin/aarch64-linux-gnu-gcc", bin.path().join(name))
            .unwrap();
    }
    mismatched_volunteer_gets_no_job(bin.path(), "aarch64");
}

#[test]
fn a_volunteer_with_another_gcc_major_version_gets_no_job() {
    if !need_distcc() {
        return;
    }
    // distccd whose x86_64-linux-gnu-gcc is this gcc saying it is gcc 99: -dumpversion,
    // and the .comment of every object it writes, as a volunteer with another gcc would.
    let bin = tempfile::tempdir().unwrap();
    let liar = "#!/bin/sh\n\
        for a in \"$@\"; do case $a in -dumpversion) echo 99; exit 0 ;; \
        -dumpfullversion) echo 99.1.0; exit 0 ;; esac; done\n\
        /usr/bin/x86_64-linux-gnu-gcc \"$@\" || exit $?\n\
        out='' prev=''\n\
        for a in \"$@\"; do [ \"$prev\" = -o ] && out=$a; prev=$a; done\n\
        if [ -n \"$out\" ] && [ -f \"$out\" ]; then\n\
        objcopy --remove-section .comment \"$out\" &&\n\
        printf 'GCC: (Debian 99.1.0-1) 99.1.0\\0' >\"$out.comment\" &&\n\
        objcopy --add-section .comment=\"$out.comment\" \"$out\" && rm -f \"$out.comment\"\n\
        fi\n";
    for name in ["x86_64-linux-gnu-gcc", "gcc", "cc"] {
        let p = bin.path().join(name);
        std::fs::write(&p, liar).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    mismatched_volunteer_gets_no_job(bin.path(), "99");
}

/// A good serve and a host that slowed down (every job there takes two minutes; its
/// eligibility probe does not), one slot each, and their host line: the good one, the
/// slow one's upstream serve (kept alive), the slow one, the line.
fn good_and_slow() -> (Server, Server, Faulty, String) {
    let good = Server::start(&["--jobs", "2"]);
    let upstream = Server::start(&["--jobs", "2"]);
    let slow = Faulty::start(upstream.port, Fault::Slow(120));
    let hosts = format!("127.0.0.1:{}/1 {}", slow.port, good.hosts("/1"));
    (good, upstream, slow, hosts)
}

#[test]
fn a_straggler_gets_a_duplicate_and_the_loser_is_cancelled() {
    if !need_distcc() {
        return;
    }
    // One slot each: two jobs at once put one on the straggler.
    let (_good, _upstream, slow, hosts) = good_and_slow();
    let relay = Relay::start(
        &hosts,
        &[
            "--hedge-percent",
            "100",
            "--hedge-after-ms",
            "300",
            "--hedge-warmup",
            "0",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 2);
    let results = build(&relay.hosts(2), dir.path(), &names);
    assert_built(dir.path(), &results);
    let events = slow.wait_for("cancelled");
    assert!(events.iter().any(|e| e == "job"), "{events:?}");
    assert!(events.iter().any(|e| e == "cancelled"), "{events:?}");
    assert!(!events.iter().any(|e| e == "answered"), "{events:?}");
    let state = relay.settled_state();
    assert!(count(&state, "hedges") >= 1, "{state:#}");
    assert!(count(&state, "hedge_wins") >= 1, "{state:#}");
    assert!(count(&state, "cancelled") >= 1, "{state:#}");
    assert_eq!(count(&state, "local"), 0, "{state:#}");
    // The timeline draws every attempt, the cancelled one too.
    let svg = dir.path().join("build.svg");
    let o = std::process::Command::new(crate::support::server::bin())
        .args([
            "top",
            "--relay",
            &format!("127.0.0.1:{}", relay.port),
            "--timeline",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{text}");
    assert!(text.contains("cancelled"), "{text}");
}

#[test]
fn a_job_far_past_its_prediction_is_given_up_and_retried_on_a_faster_host() {
    if !need_distcc() {
        return;
    }
    let (good, _upstream, slow, hosts) = good_and_slow();
    // No duplicates: giving the job up is what must rescue it.
    let relay = Relay::start(&hosts, &["--hedge-percent", "0"]);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 12);
    let results = build(&relay.hosts(2), dir.path(), &names);
    assert_built(dir.path(), &results);
    let events = slow.wait_for("cancelled");
    assert!(!events.iter().any(|e| e == "answered"), "{events:?}");
    let state = relay.settled_state();
    assert!(
        state["counters"]["failures"]["too-slow"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{state:#}"
    );
    assert_eq!(count(&state, "hedges"), 0, "{state:#}");
    assert_eq!(count(&state, "local"), 0, "{state:#}");
    assert_eq!(count(&state, "remote"), 12, "{state:#}");
    let g = Relay::host(&state, &format!("127.0.0.1:{}", good.port));
    assert_eq!(g["done"], 12, "{state:#}");
}

#[test]
fn hedging_is_off_when_the_cap_is_zero() {
    if !need_distcc() {
        return;
    }
    let good = Server::start(&["--jobs", "2"]);
    let upstream = Server::start(&["--jobs", "2"]);
    let slow = Faulty::start(upstream.port, Fault::Slow(3));
    let hosts = format!("127.0.0.1:{}/1 {}", slow.port, good.hosts("/1"));
    let relay = Relay::start(
        &hosts,
        &[
            "--hedge-percent",
            "0",
            "--hedge-after-ms",
            "100",
            "--hedge-warmup",
            "0",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 2);
    let results = build(&relay.hosts(2), dir.path(), &names);
    assert_built(dir.path(), &results);
    let state = relay.settled_state();
    assert_eq!(count(&state, "hedges"), 0, "{state:#}");
}

/// `distsetup doctor --json` findings with check `relay`: (subject, status, message).
fn relay_findings(args: &[&str]) -> Vec<(String, String, String)> {
    let o = crate::support::Cmd::new("doctor")
        .args(args)
        .args(["--json", "--profile", "debian"])
        .run();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", crate::support::server::text(&o)));
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "relay")
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("subject"), s("status"), s("message"))
        })
        .collect()
}

#[test]
fn doctor_sees_the_relay_its_volunteers_and_an_idle_service() {
    if !need_distcc() {
        return;
    }
    let serve = Server::start(&["--jobs", "2"]);
    let relay = Relay::start(&serve.hosts("/2"), &[]);
    let dir = tempfile::tempdir().unwrap();
    let names = units(dir.path(), 1);
    assert_built(dir.path(), &build(&relay.hosts(2), dir.path(), &names));
    let empty = tempfile::tempdir().unwrap();
    let root = empty.path().to_str().unwrap();
    let hosts = relay.hosts(2);
    let found = relay_findings(&["--root", root, "--hosts", &hosts, "--speed-rounds", "0"]);
    let running = found
        .iter()
        .find(|(s, _, _)| s == &format!("relay 127.0.0.1:{}", relay.port))
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(running.1, "ok", "{found:?}");
    assert!(running.2.contains("1 volunteers"), "{found:?}");
    let volunteer = format!("127.0.0.1:{} (via the relay)", serve.port);
    assert!(
        found
            .iter()
            .any(|(s, st, m)| s == &volunteer && st == "ok" && m.contains("matches")),
        "{found:?}"
    );
    // The service is installed but the client's list names a volunteer directly.
    std::fs::create_dir_all(empty.path().join("etc/systemd/system")).unwrap();
    std::fs::write(
        empty
            .path()
            .join("etc/systemd/system/distsetup-relay.service"),
        "",
    )
    .unwrap();
    let direct = serve.hosts("/2");
    let found = relay_findings(&["--root", root, "--hosts", &direct, "--speed-rounds", "0"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "warn", "{found:?}");
}
