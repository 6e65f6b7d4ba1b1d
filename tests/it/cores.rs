//! Core counting against fake /sys, /proc and cgroup trees (tests/fixtures/cores/*), the
//! real machine, and the -j rules with their reasoning.

use std::collections::BTreeSet;
use std::path::PathBuf;

use distsetup::cores::{JobsRule, TopologySource, count_cores, parse_cpu_list};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cores")
        .join(name)
}

fn mask(cpus: &[usize]) -> BTreeSet<usize> {
    cpus.iter().copied().collect()
}

#[test]
fn smt_siblings_are_counted_once() {
    let c = count_cores(&fixture("smt-4c8t"), None).unwrap();
    assert_eq!((c.logical_online, c.physical, c.usable), (8, 4, 4));
    assert_eq!(c.source, TopologySource::Sysfs);
    // The cgroups on the way up say "max": no quota.
    assert_eq!(c.quota, None);
    assert_eq!(
        c.explain(),
        "8 logical CPUs online, 4 physical cores (SMT siblings counted once, from sysfs topology); → 4 usable cores"
    );
}

#[test]
fn affinity_limits_to_the_cores_of_the_allowed_cpus() {
    // cpu0 and cpu4 are SMT siblings of core 0; cpu1 is core 1: two physical cores.
    let c = count_cores(&fixture("smt-4c8t"), Some(&mask(&[0, 4, 1]))).unwrap();
    assert_eq!((c.logical_allowed, c.physical, c.usable), (3, 2, 2));
    assert_eq!(
        c.reasoning[1],
        "CPU affinity allows 3 of them (2 physical cores)"
    );
}

#[test]
fn affinity_naming_no_online_cpu_is_ignored() {
    let c = count_cores(&fixture("smt-4c8t"), Some(&mask(&[40, 41]))).unwrap();
    assert_eq!(c.physical, 4);
}

#[test]
fn cgroup_v2_quota_on_an_ancestor_rounds_down() {
    let root = fixture("quota-v2-1.5");
    let c = count_cores(&root, None).unwrap();
    assert_eq!(c.physical, 4);
    let q = c.quota.clone().unwrap();
    assert!((q.cpus - 1.5).abs() < 1e-9);
    assert_eq!(
        q.file,
        root.join("sys/fs/cgroup/system.slice/builder.service/cpu.max")
    );
    assert_eq!(c.usable, 1);
    assert_eq!(
        c.reasoning[1],
        format!(
            "cgroup quota of 1.5 CPUs ({}) limits this to 1",
            q.file.display()
        )
    );
}

#[test]
fn cgroup_v1_cfs_quota_is_the_fallback() {
    let root = fixture("quota-v1-2");
    let c = count_cores(&root, None).unwrap();
    // 2 packages × 4 cores.
    assert_eq!(c.physical, 8);
    assert_eq!(c.usable, 2);
    assert_eq!(
        c.quota.unwrap().file,
        root.join("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us")
    );
}

#[test]
fn missing_topology_falls_back_to_cpuinfo() {
    let c = count_cores(&fixture("no-topology-cpuinfo"), None).unwrap();
    assert_eq!(c.source, TopologySource::Cpuinfo);
    assert_eq!((c.logical_online, c.physical), (4, 2));
    assert!(
        c.reasoning[0].contains("from /proc/cpuinfo"),
        "{:?}",
        c.reasoning
    );
}

#[test]
fn no_topology_anywhere_counts_logical_cpus() {
    let c = count_cores(&fixture("arm-cpuinfo-only"), None).unwrap();
    assert_eq!(c.source, TopologySource::LogicalOnly);
    assert_eq!((c.logical_online, c.physical, c.usable), (4, 4, 4));
    assert_eq!(
        c.reasoning[0],
        "4 logical CPUs online, no topology information: counting each as a core"
    );
}

#[test]
fn clusters_with_repeating_core_ids_are_told_apart() {
    let c = count_cores(&fixture("big-little"), None).unwrap();
    assert_eq!(c.physical, 6);
}

#[test]
fn no_cpu_information_is_an_error_naming_both_places() {
    let empty = tempfile::tempdir().unwrap();
    let err = count_cores(empty.path(), None).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "cannot find any CPU: looked at {} and {}",
            empty.path().join("sys/devices/system/cpu").display(),
            empty.path().join("proc/cpuinfo").display()
        )
    );
}

#[test]
fn cpu_lists_parse_like_the_kernel_writes_them() {
    assert_eq!(parse_cpu_list("0-3,5,7-8\n"), mask(&[0, 1, 2, 3, 5, 7, 8]));
    assert_eq!(parse_cpu_list(""), mask(&[]));
    assert_eq!(parse_cpu_list("x,2,3-y"), mask(&[2]));
}

#[test]
fn the_real_machine_agrees_with_nproc() {
    // nproc honours affinity (not cgroups); our physical count can only be lower or equal.
    let c = distsetup::cores::detect().unwrap();
    let nproc: usize =
        String::from_utf8(std::process::Command::new("nproc").output().unwrap().stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
    assert_eq!(c.logical_allowed, nproc);
    assert!(c.physical >= 1 && c.physical <= nproc);
    assert!(c.usable >= 1 && c.usable <= c.physical);
}

#[test]
fn arch_linux_arm_rule_is_physical_cores_plus_one() {
    let a = JobsRule::LocalCoresPlusOne.advise(4, 8);
    assert_eq!(a.flags(), "-j5");
    assert_eq!(a.reasoning, "4 physical cores + 1 → -j5");
}

#[test]
fn gentoo_rule_is_twice_all_plus_one_with_local_load() {
    let a = JobsRule::TwiceAllPlusOneLoadLocal.advise(4, 8);
    assert_eq!(a.flags(), "-j25 -l4");
    assert_eq!(
        a.reasoning,
        "2 × (8 remote slots + 4 local cores) + 1 → -j25; load limit = 4 local cores → -l4"
    );
    // The Gentoo wiki's own example: two quad-core helpers, a dual-core master.
    assert_eq!(
        JobsRule::TwiceAllPlusOneLoadLocal.advise(2, 8).flags(),
        "-j21 -l2"
    );
}

#[test]
fn archwiki_rule_sums_the_slots_and_falls_back_without_hosts() {
    let a = JobsRule::SumOfSlots.advise(4, 11);
    assert_eq!(
        (a.flags(), a.reasoning.as_str()),
        (
            "-j11".to_owned(),
            "sum of host limits: 11 remote slots → -j11"
        )
    );
    let a = JobsRule::SumOfSlots.advise(4, 0);
    assert_eq!(
        (a.flags(), a.reasoning.as_str()),
        (
            "-j5".to_owned(),
            "no remote slots; 4 physical cores + 1 → -j5"
        )
    );
}

#[test]
fn distcc_man_page_rule_doubles_the_remote_slots() {
    let a = JobsRule::TwiceRemoteSlots.advise(2, 8);
    assert_eq!(
        (a.flags(), a.reasoning.as_str()),
        ("-j16".to_owned(), "2 × 8 remote slots → -j16")
    );
    assert_eq!(JobsRule::TwiceRemoteSlots.advise(2, 0).flags(), "-j3");
}

#[test]
fn one_core_reads_in_the_singular_and_zero_cores_count_as_one() {
    assert_eq!(
        JobsRule::LocalCoresPlusOne.advise(1, 0).reasoning,
        "1 physical core + 1 → -j2"
    );
    assert_eq!(JobsRule::LocalCoresPlusOne.advise(0, 0).flags(), "-j2");
}
