//! The system-call filter of a compile: a compiler reads and writes files and talks to
//! its own passes through pipes; it never needs a socket, another process's memory, a
//! mount, BPF, the kernel's keyrings or a namespace. Those calls kill the process that
//! makes them (`SIGSYS`), and the reply says so.
//!
//! One exception: a UNIX socket is refused with `EACCES` instead. glibc asks for one on
//! every user lookup (nscd, systemd's userdb) and carries on when it is refused, and bash
//! looks its user up at start when `SHELL` is unset (as under systemd): killing there
//! would kill every shell-script compiler wrapper before its first line.
//!
//! Landlock's network rules cover TCP only; this filter is what keeps UDP, raw and UNIX
//! sockets out of a compile, and it holds on kernels whose Landlock ABI is older or absent.
//! The programs are built once in the server (allocation happens there) and loaded in the
//! compile's child between fork and exec with two plain system calls.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, sock_filter,
};

/// System calls no compile makes, and what they would give it.
const DENIED: &[(i64, &str)] = &[
    (libc::SYS_connect, "a connection"),
    (libc::SYS_bind, "a listening socket"),
    (libc::SYS_listen, "a listening socket"),
    (libc::SYS_accept, "a connection"),
    (libc::SYS_accept4, "a connection"),
    (libc::SYS_ptrace, "another process's memory"),
    (libc::SYS_process_vm_readv, "another process's memory"),
    (libc::SYS_process_vm_writev, "another process's memory"),
    (libc::SYS_mount, "a mount"),
    (libc::SYS_umount2, "a mount"),
    (libc::SYS_pivot_root, "a mount"),
    (libc::SYS_chroot, "another root"),
    (libc::SYS_fsopen, "a mount"),
    (libc::SYS_fsmount, "a mount"),
    (libc::SYS_fsconfig, "a mount"),
    (libc::SYS_fspick, "a mount"),
    (libc::SYS_move_mount, "a mount"),
    (libc::SYS_open_tree, "a mount"),
    (libc::SYS_bpf, "BPF programs"),
    (libc::SYS_perf_event_open, "performance counters"),
    (libc::SYS_keyctl, "the kernel's keyrings"),
    (libc::SYS_add_key, "the kernel's keyrings"),
    (libc::SYS_request_key, "the kernel's keyrings"),
    (libc::SYS_unshare, "a namespace"),
    (libc::SYS_setns, "a namespace"),
    (libc::SYS_userfaultfd, "page-fault handling"),
    (
        libc::SYS_io_uring_setup,
        "io_uring (which bypasses this filter)",
    ),
    (
        libc::SYS_io_uring_enter,
        "io_uring (which bypasses this filter)",
    ),
    (
        libc::SYS_io_uring_register,
        "io_uring (which bypasses this filter)",
    ),
    (
        libc::SYS_open_by_handle_at,
        "files by handle, past Landlock",
    ),
    (
        libc::SYS_name_to_handle_at,
        "files by handle, past Landlock",
    ),
    (libc::SYS_fanotify_init, "file-system events"),
    (libc::SYS_init_module, "kernel modules"),
    (libc::SYS_finit_module, "kernel modules"),
    (libc::SYS_delete_module, "kernel modules"),
    (libc::SYS_kexec_load, "another kernel"),
    (libc::SYS_kexec_file_load, "another kernel"),
    (libc::SYS_reboot, "a reboot"),
    (libc::SYS_swapon, "swap"),
    (libc::SYS_swapoff, "swap"),
    (libc::SYS_acct, "process accounting"),
    (libc::SYS_quotactl, "disk quotas"),
    (libc::SYS_syslog, "the kernel log"),
];

/// `clone` flags that make a namespace.
const NAMESPACE_FLAGS: &[i32] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// What the reply says when a compile was stopped by the filter.
pub const REFUSED_MESSAGE: &str = "distsetup serve: the compile was stopped by this server's \
     system-call filter (SIGSYS): a compile may not open network sockets (TCP, UDP or any \
     other; a UNIX socket is refused with \"permission denied\"), \
     trace or read other processes, mount, load BPF or kernel modules, use the kernel's \
     keyrings or enter namespaces\n";

/// The filter programs, built once; `None` where seccompiler has no backend for this
/// architecture (32-bit ARM): compiles then rely on Landlock and the unprivileged user.
#[derive(Debug, Clone)]
pub struct Filter {
    programs: Vec<BpfProgram>,
}

fn rule_err(e: impl std::fmt::Display) -> String {
    format!("cannot build the system-call filter: {e}")
}

impl Filter {
    /// Build the programs for the running architecture.
    pub fn build() -> Result<Option<Filter>, String> {
        let Ok(arch) = std::env::consts::ARCH.try_into() else {
            return Ok(None);
        };
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
            DENIED.iter().map(|&(nr, _)| (nr, Vec::new())).collect();
        let mut clone_rules = Vec::new();
        for &flag in NAMESPACE_FLAGS {
            let bit = u64::from(flag.unsigned_abs());
            let cond =
                SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(bit), bit)
                    .map_err(rule_err)?;
            clone_rules.push(SeccompRule::new(vec![cond]).map_err(rule_err)?);
        }
        rules.insert(libc::SYS_clone, clone_rules);
        // Any socket but a UNIX one kills; a UNIX one is refused by the next program.
        let domain = |op| {
            SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                op,
                u64::from(libc::AF_UNIX.unsigned_abs()),
            )
            .and_then(|c| SeccompRule::new(vec![c]))
            .map_err(rule_err)
        };
        rules.insert(libc::SYS_socket, vec![domain(SeccompCmpOp::Ne)?]);
        let deny = SeccompFilter::new(
            rules,
            SeccompAction::Allow,
            SeccompAction::KillProcess,
            arch,
        )
        .map_err(rule_err)?;
        // clone3 passes its flags in memory a filter cannot read: answer ENOSYS, and
        // glibc falls back to clone, whose flags the filter above sees.
        let clone3 = SeccompFilter::new(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS.unsigned_abs()),
            arch,
        )
        .map_err(rule_err)?;
        let unix = SeccompFilter::new(
            BTreeMap::from([
                (libc::SYS_socket, vec![domain(SeccompCmpOp::Eq)?]),
                (libc::SYS_socketpair, Vec::new()),
            ]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::EACCES.unsigned_abs()),
            arch,
        )
        .map_err(rule_err)?;
        let mut programs: Vec<BpfProgram> = vec![
            deny.try_into().map_err(rule_err)?,
            clone3.try_into().map_err(rule_err)?,
            unix.try_into().map_err(rule_err)?,
        ];
        if let Some(x32) = x32_guard() {
            programs.push(x32);
        }
        Ok(Some(Filter { programs }))
    }

    /// The programs, to hand to [`install`] in the child.
    pub fn programs(&self) -> &[BpfProgram] {
        &self.programs
    }
}

/// On x86_64 the x32 ABI reaches the same system calls under numbers with bit 30 set,
/// which the filter above does not list: kill any such call.
fn x32_guard() -> Option<BpfProgram> {
    if !cfg!(target_arch = "x86_64") {
        return None;
    }
    let stmt = |code: u16, k: u32| sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    let ld_nr = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    let jge = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    let ret = (libc::BPF_RET | libc::BPF_K) as u16;
    Some(vec![
        stmt(ld_nr, 0), // seccomp_data.nr
        sock_filter {
            code: jge,
            jt: 0,
            jf: 1,
            k: 0x4000_0000,
        },
        stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
    ])
}

/// Load `programs` into the calling process (the compile's child, before exec).
///
/// # Safety
/// Runs after fork in a multithreaded process: it makes only async-signal-safe system
/// calls and allocates nothing. `PR_SET_NO_NEW_PRIVS` must already be set.
pub unsafe fn install(programs: &[BpfProgram]) -> std::io::Result<()> {
    for p in programs {
        let len =
            u16::try_from(p.len()).map_err(|_| std::io::Error::from_raw_os_error(libc::E2BIG))?;
        let prog = libc::sock_fprog {
            len,
            filter: p.as_ptr().cast::<libc::sock_filter>().cast_mut(),
        };
        // SAFETY: the kernel copies the program; `prog` points into `p`, alive here.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0u32,
                &prog as *const libc::sock_fprog,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// True when a compile ended by the filter: the compiler itself was killed by `SIGSYS`,
/// or it reports a pass that was ("Bad system call").
pub fn stopped_by_filter(wait_status: u32, stderr_head: &[u8]) -> bool {
    let signalled = wait_status & 0x7f == libc::SIGSYS.unsigned_abs();
    signalled
        || wait_status != 0
            && stderr_head
                .windows(b"Bad system call".len())
                .any(|w| w == b"Bad system call")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_here_and_recognises_its_signal() {
        let f = Filter::build()
            .expect("a filter")
            .expect("an architecture it knows");
        assert!(f.programs().len() >= 2);
        assert!(stopped_by_filter(libc::SIGSYS.unsigned_abs(), b""));
        assert!(stopped_by_filter(
            1 << 8,
            b"gcc: internal compiler error: Bad system call signal terminated program cc1"
        ));
        assert!(!stopped_by_filter(0, b"Bad system call"));
        assert!(!stopped_by_filter(1 << 8, b"error: expected ';'"));
    }
}
