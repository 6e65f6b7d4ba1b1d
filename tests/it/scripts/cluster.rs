//! `scripts/cluster`: `down NAME` removes exactly what NAME recorded (never a cluster whose
//! name merely starts with NAME), and a failed `up` leaves no namespace, mount or cgroup.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::cluster;

fn script(args: &[&str]) -> Output {
    Command::new(cluster::script())
        .args(args)
        .output()
        .expect("running scripts/cluster")
}

fn namespaces() -> Vec<String> {
    let o = Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

fn mounts_mentioning(what: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter(|l| l.contains(what))
        .map(String::from)
        .collect()
}

fn cgroups_named(prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for dir in ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(prefix) {
                found.push(format!("{dir}/{name}"));
            }
        }
    }
    found
}

/// Unique, short cluster names for this run (the script allows 12 characters).
fn names() -> (String, String) {
    let base = format!("t{}", std::process::id() % 100_000);
    (base.clone(), format!("{base}-x"))
}

struct Down(Vec<String>);
impl Drop for Down {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = script(&["down", n]);
        }
    }
}

#[test]
fn down_of_a_name_leaves_the_cluster_whose_name_extends_it_alone() {
    if !cluster::available() {
        return;
    }
    let (short, long) = names();
    let _guard = Down(vec![short.clone(), long.clone()]);
    // Cluster "tN-x" with a node "hub2", and cluster "tN" with a node "x-hub".
    let up_long = script(&["up", &long, "hub2=10.91.0.2"]);
    assert!(up_long.status.success(), "{up_long:?}");
    let up_short = script(&["up", &short, "x-hub=10.92.0.2"]);
    assert!(up_short.status.success(), "{up_short:?}");
    let long_ns: Vec<String> = namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&format!("dsc_{long}_")))
        .collect();
    assert_eq!(
        long_ns.len(),
        2,
        "hub and hub2 of {long}: {:?}",
        namespaces()
    );

    let down = script(&["down", &short]);
    assert!(down.status.success(), "{down:?}");
    let left = namespaces();
    for ns in &long_ns {
        assert!(left.contains(ns), "down {short} removed {ns} of {long}");
    }
    assert!(
        !left.iter().any(|n| n.starts_with(&format!("dsc_{short}_"))),
        "{short} left namespaces behind: {left:?}"
    );
    assert!(Path::new(&format!("/run/distsetup-cluster/{long}")).is_dir());
    // The longer cluster still works.
    let exec = script(&[
        "exec", &long, "hub2", "ip", "-brief", "addr", "show", "eth0",
    ]);
    assert!(
        String::from_utf8_lossy(&exec.stdout).contains("10.91.0.2"),
        "{exec:?}"
    );
    let down = script(&["down", &long]);
    assert!(down.status.success(), "{down:?}");
    assert!(
        !namespaces()
            .iter()
            .any(|n| n.starts_with(&format!("dsc_{long}_"))),
        "{:?}",
        namespaces()
    );
}

#[test]
fn a_failed_up_leaves_no_namespace_mount_or_cgroup() {
    if !cluster::available() {
        return;
    }
    let name = format!("f{}", std::process::id() % 100_000);
    let _guard = Down(vec![name.clone()]);
    let state = format!("/run/distsetup-cluster/{name}");
    // Two good nodes (one with a CPU quota, so a cgroup is made), then a bad one: the
    // failure comes after namespaces, mounts and a cgroup exist.
    for bad in ["bad_spec", "n3=10.93.0.4/0"] {
        let up = script(&["up", &name, "n1=10.93.0.2/0.5", "n2=10.93.0.3", bad]);
        assert!(!up.status.success(), "up with {bad} succeeded: {up:?}");
        let stderr = String::from_utf8_lossy(&up.stderr);
        assert!(stderr.contains("up failed; removing"), "{stderr}");
        let ns: Vec<String> = namespaces()
            .into_iter()
            .filter(|n| n.starts_with(&format!("dsc_{name}_")))
            .collect();
        assert!(ns.is_empty(), "namespaces left after a failed up: {ns:?}");
        assert!(
            mounts_mentioning(&state).is_empty(),
            "mounts left: {:?}",
            mounts_mentioning(&state)
        );
        let cg = cgroups_named(&format!("distsetup_{name}_"));
        assert!(cg.is_empty(), "cgroups left: {cg:?}");
        assert!(!Path::new(&state).exists(), "state directory left");
    }
    // An existing cluster is never removed by a second `up` of the same name.
    let up = script(&["up", &name, "n1=10.93.0.2"]);
    assert!(up.status.success(), "{up:?}");
    let again = script(&["up", &name, "n1=10.93.0.2"]);
    assert!(!again.status.success());
    assert!(
        namespaces().contains(&format!("dsc_{name}_n1")),
        "a refused up removed the existing cluster"
    );
}
