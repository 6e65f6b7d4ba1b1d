//! `distsetup serve`: the embedded compile server's process. The library
//! (`distsetup::server`) serves; this module owns what belongs to the process: the
//! allocator tunables, the priority, the async runtime, the signals that stop the
//! server, `--lifetime`, and the pid file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use distsetup::server::{self, LogLevel, ServeError, Server, confine};
use distsetup::wire::codes;

use super::ExitStatus;
use crate::cli::ServeArgs;

/// `distsetup serve`: distccd's exit statuses (101 bad arguments or settings, 102 the
/// port is busy), so a distccd unit keeps its meaning when the binary is swapped.
pub fn run(a: &ServeArgs) -> anyhow::Result<ExitStatus> {
    if a.version {
        // distccd's layout (scripts and distcc's own test suite parse the first two
        // lines): NAME VERSION SYSTEM, then the protocols and the default port.
        println!(
            "distccd {}-distsetup-serve {}-linux\n  (protocols 1 and 2) (default port {})\n  \
             distsetup serve, confinement: Landlock ABI {} (0: none), unprivileged user after bind",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            server::config::DEFAULT_PORT,
            server::confine::landlock_abi(),
        );
        return Ok(ExitStatus::Ok);
    }
    match serve(a) {
        Ok(s) => Ok(s),
        Err(err) => {
            // Each cause once (a bind error's text already ends with its OS error).
            let mut msg = err.to_string();
            for cause in err.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg = format!("{msg}: {c}");
                }
            }
            eprintln!("distsetup: error: {msg}");
            let code = match err.downcast_ref::<ServeError>() {
                Some(ServeError::Bind { .. }) => codes::BIND_FAILED,
                Some(ServeError::Io { .. }) => codes::IO_ERROR,
                _ => codes::BAD_ARGUMENTS,
            };
            Ok(ExitStatus::Distccd(code))
        }
    }
}

fn serve(a: &ServeArgs) -> anyhow::Result<ExitStatus> {
    let server = Server::new(a.settings()?)?;
    limit_heap_retention();
    lower_priority(&server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
        )
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            what: "starting the async runtime".into(),
            source,
        })?;
    let result = if a.tls {
        runtime.block_on(super::serve_tls::run(&server, a))
    } else if server.settings().inetd {
        runtime.block_on(inetd(&server)).map_err(Into::into)
    } else {
        runtime.block_on(daemon(&server)).map_err(Into::into)
    };
    // A blocking stdin read (inetd on a tty or file) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result?;
    Ok(ExitStatus::Ok)
}

/// glibc's malloc raises its mmap threshold each time a large block is freed, after which
/// request and object buffers (hundreds of KiB each) come from the heap and stay
/// there; one arena per worker thread multiplies that. A fixed threshold sends every
/// large buffer back to the kernel on free, and two arenas are plenty for a server whose
/// work happens in the compilers.
fn limit_heap_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Like distccd: lower our priority once, before the runtime's threads exist (Linux
/// niceness is per thread and inherited), so every worker and compiler runs at it.
fn lower_priority(server: &Server) {
    let nice = server.settings().nice;
    if nice <= 0 {
        return;
    }
    // SAFETY: plain syscall with no memory arguments; errno is thread-local.
    let failed = unsafe {
        *libc::__errno_location() = 0;
        libc::nice(nice) == -1 && *libc::__errno_location() != 0
    };
    if failed {
        server.log(
            LogLevel::Warning,
            &format!(
                "could not lower the priority by {nice}: {}",
                std::io::Error::last_os_error()
            ),
        );
    }
}

/// The TCP server until SIGTERM, SIGINT, SIGHUP or `--lifetime`.
async fn daemon(server: &Server) -> Result<(), ServeError> {
    let (listeners, shutdown, pid_file) = start(server).await?;
    let result = server::run(server, listeners, shutdown).await;
    drop(pid_file);
    result
}

/// What the TCP server and the secure link start alike: bind, install the signal
/// handlers, write the pid file, give up root.
pub(super) async fn start(
    server: &Server,
) -> Result<
    (
        server::Listeners,
        impl Future<Output = &'static str> + use<>,
        Option<PidFile>,
    ),
    ServeError,
> {
    let listeners = server::bind(server.settings()).await?;
    let shutdown = shutdown_signal(server.settings().lifetime)?;
    let pid_file = server
        .settings()
        .pid_file
        .as_deref()
        .map(PidFile::write)
        .transpose()?;
    confine_process(server)?;
    let user = confine::ConfineState::current().user;
    server::preflight::check(server, &user);
    Ok((listeners, shutdown, pid_file))
}

/// Completes with the reason on the first SIGTERM, SIGINT or SIGHUP, or when `lifetime`
/// has passed. The handlers are installed now, before the server announces itself.
fn shutdown_signal(
    lifetime: Option<Duration>,
) -> Result<impl Future<Output = &'static str>, ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    let install = |kind| {
        signal(kind).map_err(|source| ServeError::Io {
            what: "installing signal handlers".into(),
            source,
        })
    };
    let mut term = install(SignalKind::terminate())?;
    let mut int = install(SignalKind::interrupt())?;
    let mut hup = install(SignalKind::hangup())?;
    Ok(async move {
        let lifetime = async {
            match lifetime {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = hup.recv() => "SIGHUP",
            () = lifetime => "--lifetime",
        }
    })
}

/// `--pid-file`: holds our pid while the server runs; removed when dropped.
pub(super) struct PidFile(PathBuf);

impl PidFile {
    #[allow(
        clippy::disallowed_methods,
        reason = "a pid file is the running server's own state (like distccd's), not configuration to plan or undo"
    )]
    fn write(path: &Path) -> Result<PidFile, ServeError> {
        std::fs::write(path, format!("{}\n", std::process::id())).map_err(|source| {
            ServeError::Io {
                what: format!("writing pid file {}", path.display()),
                source,
            }
        })?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    /// Removed where the (unprivileged) server may remove it; else emptied, as a pid
    /// file that names no process.
    #[allow(
        clippy::disallowed_methods,
        reason = "removes the pid file this process wrote"
    )]
    fn drop(&mut self) {
        if std::fs::remove_file(&self.0).is_err() {
            let _ = std::fs::write(&self.0, "");
        }
    }
}

/// Once the ports are bound: give up root (and the chance to regain any privilege),
/// check the job directories can still be made, and log how compiles are confined.
fn confine_process(server: &Server) -> Result<(), ServeError> {
    let settings = server.settings();
    let user = settings.user.clone().unwrap_or_else(confine::default_user);
    let keep: Vec<&Path> = settings.pid_file.as_deref().into_iter().collect();
    let state = confine::drop_privileges(&user, &keep)?;
    let probe = tempfile::Builder::new()
        .prefix("distsetup-probe.")
        .tempdir_in(&settings.tmpdir)
        .map_err(|source| ServeError::Io {
            what: format!(
                "as user {}, creating a job directory in {} (TMPDIR must be writable by it)",
                state.user,
                settings.tmpdir.display()
            ),
            source,
        })?;
    drop(probe);
    let level = if state.landlock_abi > 0 && settings.landlock {
        LogLevel::Notice
    } else {
        LogLevel::Warning
    };
    server.log(level, &format!("confinement: {}", state.describe()));
    server.set_confinement(state);
    Ok(())
}

/// `--inetd`: one job over stdin and stdout.
async fn inetd(server: &Server) -> Result<(), ServeError> {
    let stdio = server::inetd::stdio().await?;
    confine_process(server)?;
    server::serve_one(server, stdio.stream, stdio.peer).await;
    Ok(())
}
