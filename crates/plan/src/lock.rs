//! One distsetup at a time per root: an exclusive `flock` on
//! `<root>/var/lib/distsetup/lock`, held for the whole of recovery, the plan check,
//! apply and undo. The holder writes its pid and command line into the file so that a
//! second run that gives up can say who is in the way.

use std::io::{Read as _, Seek as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::journal::{ensure_private_dir, state_err};
use super::{Error, SysRoot, io_err};

/// The state directory of a root, as a system path.
pub(crate) const STATE_DIR: &str = "/var/lib/distsetup";
/// How long a second run waits for the lock before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// A held lock; released when dropped (closing the file releases the flock).
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
    path: PathBuf,
}

impl Lock {
    /// Take the lock of `root`, waiting up to `wait` for another run to finish.
    pub fn acquire(root: &SysRoot, wait: Duration) -> Result<Lock, Error> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let dir = root.path(Path::new(STATE_DIR));
        ensure_private_dir(&dir)?;
        let path = dir.join("lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(state_err(&path))?;
        if !wait_for(&file, &path, libc::LOCK_EX, wait)? {
            // The kernel knows who holds it; what the file says may be a run that has
            // finished since (a reader holding it shared writes nothing).
            let holder = holder_now(&file).unwrap_or_else(|| {
                let mut said = String::new();
                let _ = file.read_to_string(&mut said);
                let said = said.trim().replace('\n', ", ");
                if said.is_empty() {
                    "a process that did not say who it is".into()
                } else {
                    said
                }
            });
            return Err(Error::Locked {
                lock: path,
                holder,
                waited: wait.as_secs_f64(),
            });
        }
        // Who holds it, for the message of a run that gives up. Only informative: a
        // failure here does not matter to the change set.
        let me = format!("pid {}\ncommand {}\n", std::process::id(), command_line());
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(me.as_bytes()));
        Ok(Lock { _file: file, path })
    }

    /// Take the lock of `root` shared, for a run that only reads the journal (`undo
    /// --list` on a read-only root): the lock file is opened read-only and never created.
    /// `None` when there is no lock file (then nobody has written the journal either).
    pub fn shared(root: &SysRoot, wait: Duration) -> Result<Option<Lock>, Error> {
        let path = root.path(Path::new(STATE_DIR)).join("lock");
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(state_err(&path)(e)),
        };
        if !wait_for(&file, &path, libc::LOCK_SH, wait)? {
            return Err(Error::Locked {
                lock: path,
                holder: holder_now(&file)
                    .unwrap_or_else(|| "a process changing this system".into()),
                waited: wait.as_secs_f64(),
            });
        }
        Ok(Some(Lock { _file: file, path }))
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Try `flock(how)` every 20 ms for up to `wait`; whether it was taken.
fn wait_for(
    file: &std::fs::File,
    path: &Path,
    how: libc::c_int,
    wait: Duration,
) -> Result<bool, Error> {
    let start = Instant::now();
    loop {
        // SAFETY: the fd is open for the lifetime of `file`.
        if unsafe { libc::flock(file.as_raw_fd(), how | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io_err(path)(e));
        }
        if start.elapsed() >= wait {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// This process's command line, as the journal and the lock file record it.
pub(crate) fn command_line() -> String {
    std::env::args_os()
        .enumerate()
        .map(|(i, a)| {
            // The program by its name, not the path it was started from.
            let a = match Path::new(&a).file_name() {
                Some(name) if i == 0 => name.to_os_string(),
                _ => a,
            };
            let s = a.to_string_lossy().into_owned();
            if s.is_empty() || s.contains([' ', '\t', '\n', '"', '\'']) {
                format!("{s:?}")
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Who holds the lock on `file` now, from the kernel's table (`/proc/locks`): "pid N,
/// command ..." of the first other process with a lock on the same inode.
fn holder_now(file: &std::fs::File) -> Option<String> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = file.metadata().ok()?;
    let dev = meta.dev() as libc::dev_t;
    let key = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let table = std::fs::read_to_string("/proc/locks").ok()?;
    holder_in(&table, &key, std::process::id()).map(|pid| {
        let command = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|c| {
                String::from_utf8_lossy(&c)
                    .split('\0')
                    .filter(|a| !a.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        if command.is_empty() {
            format!("pid {pid}")
        } else {
            format!("pid {pid}, command {command}")
        }
    })
}

/// The pid of a granted lock (not a waiter, `->`) on `key` (`MAJOR:MINOR:INODE`, hex
/// device numbers as the kernel prints them) held by another process than `me`.
fn holder_in(table: &str, key: &str, me: u32) -> Option<u32> {
    table.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) == Some(&"->") {
            return None;
        }
        let at = fields.iter().position(|f| *f == key)?;
        let pid: u32 = fields.get(at.checked_sub(1)?)?.parse().ok()?;
        (pid != me).then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::holder_in;

    #[test]
    fn the_holder_is_read_from_the_kernels_table() {
        let table = "1: FLOCK  ADVISORY  WRITE 4321 fe:01:1234 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 999 fe:01:1234 0 EOF\n\
                     2: POSIX  ADVISORY  WRITE 77 fe:01:55 0 EOF\n";
        assert_eq!(holder_in(table, "fe:01:1234", 1), Some(4321));
        assert_eq!(holder_in(table, "fe:01:1234", 4321), None);
        assert_eq!(holder_in(table, "fe:01:55", 1), Some(77));
        assert_eq!(holder_in(table, "fe:01:9", 1), None);
    }
}
