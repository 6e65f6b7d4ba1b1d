//! One client connection: read the request (with I/O time-outs, before any job slot is
//! taken), vet it, wait for a job slot, compile, reply. Generic over the byte stream, so
//! the same code serves TCP, `--inetd` stdio and in-memory pipes in tests.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::clients::Seat;
use super::config::LogLevel;
use super::grammar::{self, Request};
use super::job::{self, Ended};
use super::reply::{self, Body, Outgoing};
use super::shared::Shared;
use super::source::{self, Claim};
use super::stats::Outcome;
use super::{confine, seccomp};
use distcc_wire::{RequestDecoder, RequestEvent, WireError, codes, wait_status_exit};

#[cfg(test)]
mod tests;

/// A refusal we explain to an allowed peer with a failing STAT and a SERR line.
struct Refusal {
    code: u8,
    reason: &'static str,
    message: String,
}

/// Why a request could not be read (the header here, the source in `source`).
type ReadError = source::SourceError;

/// The request decoder with its read buffer and time-out.
struct RequestReader {
    dec: RequestDecoder,
    buf: Vec<u8>,
    timeout: Duration,
}

impl RequestReader {
    fn new(shared: &Shared) -> RequestReader {
        RequestReader {
            dec: RequestDecoder::new(shared.settings.limits.clone()),
            buf: vec![0u8; 64 * 1024],
            timeout: shared.settings.io_timeout,
        }
    }

    /// Read until the decoder yields its next event.
    async fn next_event<R: AsyncRead + Unpin>(
        &mut self,
        rd: &mut R,
    ) -> Result<RequestEvent, ReadError> {
        loop {
            if let Some(ev) = self.dec.next_event().map_err(ReadError::Wire)? {
                return Ok(ev);
            }
            let n = match tokio::time::timeout(self.timeout, rd.read(&mut self.buf)).await {
                Err(_) => return Err(ReadError::Timeout),
                Ok(Err(e)) => return Err(ReadError::Io(e)),
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                self.dec.finish().map_err(ReadError::Wire)?;
                // finish() is Ok only when done, and then next_event would have returned.
                return Err(ReadError::Wire(WireError::Truncated {
                    waiting_for: "request",
                    received: self.dec.received(),
                }));
            }
            self.dec.feed(&self.buf[..n]);
        }
    }
}

/// Completes when the peer closes its side (EOF or error). Extra bytes are ignored.
async fn peer_gone<R: AsyncRead + Unpin>(rd: &mut R) {
    let mut b = [0u8; 256];
    loop {
        match rd.read(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// What a finished compile reports to the stats.
type JobInfo = Option<(String, String, Duration)>;

/// How a peer appears in logs: its address (IPv4-mapped IPv6 shown as IPv4), or
/// "stdin" for a pipe.
fn peer_label(peer: Option<SocketAddr>) -> String {
    match peer {
        Some(a) => SocketAddr::new(a.ip().to_canonical(), a.port()).to_string(),
        None => "stdin".to_owned(),
    }
}

/// Serve one connection and count it. `peer` is the client's address (already admitted
/// by the caller), `None` for a pipe.
pub(crate) async fn serve<S>(
    shared: &Shared,
    stream: S,
    peer: Option<SocketAddr>,
    seat: Option<Seat>,
) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    serve_as(shared, stream, peer, seat, false).await
}

/// [`serve`]; `link`: the stream is one job of the secure link, where the stream
/// ending early is the master cancelling the job (the relay's hedging).
pub(crate) async fn serve_as<S>(
    shared: &Shared,
    stream: S,
    peer: Option<SocketAddr>,
    seat: Option<Seat>,
    link: bool,
) -> Outcome
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = Conn {
        shared,
        seat,
        io: stream,
        peer: peer_label(peer),
        started: Instant::now(),
        link,
    };
    let (outcome, job) = conn.serve().await;
    let job = job.as_ref().map(|(i, c, t)| (i.as_str(), c.as_str(), *t));
    shared.stats.finished(outcome, job);
    outcome
}

/// A request the server agreed to compile.
struct Job {
    version: u32,
    argv: Vec<Vec<u8>>,
    /// The executable from the compiler table.
    compiler: PathBuf,
    request: Request,
    /// The job directory, holding the source from the start (removed once the reply is
    /// sent).
    dir: Option<tempfile::TempDir>,
    /// The source's share of the server's held-bytes cap.
    _claim: Option<Claim>,
    /// The job's place in its client's queue.
    _place: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Job {
    /// The name the client asked for, for logs and stats.
    fn compiler_shown(&self) -> String {
        shown_compiler(&self.argv)
    }

    /// The source's name inside the job directory.
    fn input_name(&self) -> String {
        format!("input{}", self.request.temp_ext())
    }

    /// The output's name inside the job directory.
    fn output_name(&self) -> &'static str {
        if self.request.assembly() {
            "output.s"
        } else {
            "output.o"
        }
    }
}

fn shown_compiler(argv: &[Vec<u8>]) -> String {
    String::from_utf8_lossy(argv.first().map_or(&b""[..], |v| v)).into_owned()
}

/// What the compile produced, as it goes into the reply.
struct JobResult {
    outcome: Outcome,
    status: u32,
    stdout: Body,
    stderr: Body,
    object: Body,
}

impl JobResult {
    /// Add a server message to what the client sees on stderr.
    fn append_stderr(&mut self, text: &str) {
        match &mut self.stderr {
            Body::Bytes(b) => b.extend_from_slice(text.as_bytes()),
            Body::File(f, len) => {
                let mut c = job::Captured {
                    file: match f.try_clone() {
                        Ok(f) => f,
                        Err(_) => return,
                    },
                    len: *len,
                };
                c.append(text.as_bytes());
                *len = c.len;
            }
        }
    }
}

/// One connection in progress.
struct Conn<'a, S> {
    shared: &'a Shared,
    /// The client's share of the per-client limits (`None` for a pipe).
    seat: Option<Seat>,
    io: S,
    /// For logs ("127.0.0.1:5000", "stdin").
    peer: String,
    started: Instant,
    /// A job of the secure link (its end is a cancellation by the master).
    link: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    async fn serve(&mut self) -> (Outcome, JobInfo) {
        let mut reader = RequestReader::new(self.shared);
        let (version, argv) = match self.read_header(&mut reader).await {
            Ok(header) => header,
            Err(outcome) => return (outcome, None),
        };
        // Vet before the source arrives (the client sends argv first, then runs cpp).
        let verdict = self.vet(version, &argv);
        // Read the rest of the request either way, so a refusal can be answered.
        if version == 3 {
            // Pump mode is always refused; its files are read through the decoder.
            if let Err(outcome) = self.read_source(&mut reader).await {
                return (outcome, None);
            }
        }
        let pending = reader.dec.take_unread();
        drop(reader);
        match verdict {
            Err(refusal) => {
                if version != 3 {
                    if let Err(outcome) = self.receive(version, pending, None).await {
                        return (outcome, None);
                    }
                }
                (self.refuse(version, &argv, refusal).await, None)
            }
            Ok((compiler, request)) => {
                let mut job = Job {
                    version,
                    argv,
                    compiler,
                    request,
                    dir: None,
                    _claim: None,
                    _place: None,
                };
                if let Err(outcome) = self.take_source(&mut job, pending).await {
                    return (outcome, None);
                }
                self.compile_when_slot_free(job).await
            }
        }
    }

    /// Make the job directory and stream the source into it, before any job slot is
    /// taken: a waiting connection holds its source on disk, not in memory.
    async fn take_source(&mut self, job: &mut Job, pending: Vec<u8>) -> Result<(), Outcome> {
        if let Some(seat) = &self.seat {
            // Over its queue, a client's connection waits here, its source unread.
            let timeout = self.shared.settings.io_timeout;
            match tokio::time::timeout(timeout, seat.queue()).await {
                Ok(place) => job._place = place,
                Err(_) => {
                    let msg = "waited the I/O time-out for a place in its queue \
                               (--max-client-queued); closed without reply";
                    return Err(bad_request(self.shared, &self.peer, msg));
                }
            }
        }
        let made = self.job_dir(job);
        let (dir, file) = match made {
            Ok(made) => made,
            Err(msg) => {
                self.receive(job.version, pending, None).await?;
                self.send_failure(job.version, codes::IO_ERROR, &msg).await;
                return Err(Outcome::Other);
            }
        };
        let sink = source::Sink {
            file,
            claim: Claim::new(&self.shared.held),
        };
        job._claim = self.receive(job.version, pending, Some(sink)).await?;
        job.dir = Some(dir);
        Ok(())
    }

    /// Read the DOTI into `sink` (or past it); a peer that fails is logged and closed.
    async fn receive(
        &mut self,
        version: u32,
        pending: Vec<u8>,
        sink: Option<source::Sink>,
    ) -> Result<Option<Claim>, Outcome> {
        let settings = &self.shared.settings;
        let how = source::Receive {
            version,
            limits: &settings.limits,
            timeout: settings.io_timeout,
            pending,
        };
        source::receive(&mut self.io, how, sink).await.map_err(|e| {
            self.shared.log.log(
                LogLevel::Warning,
                &format!(
                    "client: {} {e} while reading the source; closed without reply",
                    self.peer
                ),
            );
            self.shared.stats.refused(e.key());
            Outcome::BadRequest
        })
    }

    /// The protocol version and argv; a peer that sends none is logged and closed.
    async fn read_header(
        &mut self,
        reader: &mut RequestReader,
    ) -> Result<(u32, Vec<Vec<u8>>), Outcome> {
        let log = &self.shared.log;
        let peer = &self.peer;
        match reader.next_event(&mut self.io).await {
            Ok(RequestEvent::Header { version, argv, .. }) => Ok((version, argv)),
            Ok(_) => Err(bad_request(self.shared, peer, "unexpected event")),
            Err(e) => {
                let silent = reader.dec.received() == 0
                    && matches!(e, ReadError::Wire(WireError::Truncated { .. }));
                if silent {
                    log.log(
                        LogLevel::Info,
                        &format!("client: {peer} closed without a request"),
                    );
                } else {
                    log.log(
                        LogLevel::Warning,
                        &format!("client: {peer} {e}; closed without reply"),
                    );
                }
                self.shared.stats.refused(e.key());
                Err(Outcome::BadRequest)
            }
        }
    }

    /// The preprocessed source (empty for a pump request, which is refused anyway).
    async fn read_source(&mut self, reader: &mut RequestReader) -> Result<Vec<u8>, Outcome> {
        let peer = &self.peer;
        match reader.next_event(&mut self.io).await {
            Ok(RequestEvent::Source(s)) => Ok(s),
            Ok(RequestEvent::Files(_)) => Ok(Vec::new()),
            Ok(RequestEvent::Header { .. }) => Err(bad_request(self.shared, peer, "second header")),
            Err(e) => {
                self.shared.log.log(
                    LogLevel::Warning,
                    &format!("client: {peer} {e} while reading the source; closed without reply"),
                );
                self.shared.stats.refused(e.key());
                Err(Outcome::BadRequest)
            }
        }
    }

    /// Decide from the header alone: the compiler to run and the scanned arguments, or
    /// why not.
    fn vet(&self, version: u32, argv: &[Vec<u8>]) -> Result<(PathBuf, Request), Refusal> {
        if version == 3 {
            return Err(Refusal {
                code: codes::PROTOCOL_ERROR,
                reason: "pump",
                message: "pump mode (protocol 3, host option ',cpp') is not supported by this \
                          server; remove ',cpp' from this host in DISTCC_HOSTS (',lzo' alone is \
                          fine)"
                    .into(),
            });
        }
        let resolved = self
            .shared
            .table
            .resolve(argv.first().map_or(&b""[..], |v| v))
            .map_err(|e| Refusal {
                code: codes::COMPILER_MISSING,
                reason: "compiler",
                message: e.to_string(),
            })?;
        let request = grammar::parse(argv).map_err(|e| Refusal {
            code: codes::BAD_ARGUMENTS,
            reason: e.key(),
            message: e.to_string(),
        })?;
        Ok((resolved.path, request))
    }

    /// Log and count a refusal, and explain it to the client.
    async fn refuse(&mut self, version: u32, argv: &[Vec<u8>], r: Refusal) -> Outcome {
        self.shared.log.log(
            LogLevel::Warning,
            &format!(
                "client: {} REFUSED ({}) {}: {}",
                self.peer,
                r.reason,
                shown_compiler(argv),
                r.message
            ),
        );
        self.shared.stats.refused(r.reason);
        let serr = format!("distsetup serve: {}\n", r.message);
        self.send_failure(version, r.code, &serr).await;
        Outcome::Other
    }

    /// Wait for a job slot without dropping the client; give up if it leaves.
    async fn compile_when_slot_free(&mut self, job: Job) -> (Outcome, JobInfo) {
        let shared = self.shared;
        let permit = tokio::select! {
            p = shared.jobs.acquire() => match p {
                Ok(p) => p,
                Err(_) => return (Outcome::Other, None),
            },
            () = peer_gone(&mut self.io) => {
                let left = if self.link { "cancelled by the master" } else { "left" };
                shared.log.log(LogLevel::Info, &format!("client: {} {left} while queued", self.peer));
                return (Outcome::ClientDisconnect, None);
            }
        };
        shared.stats.running_delta(true);
        let compiled = self.compile(job).await;
        shared.stats.running_delta(false);
        // The slot is free before the reply goes out: a client that does not read its
        // reply holds a connection and the job directory, never a compile slot.
        drop(permit);
        let (job, dir, result) = match compiled {
            Ok(done) => done,
            Err(outcome) => return (outcome, None),
        };
        self.reply(job, dir, result).await
    }

    /// Run the compile in a fresh job directory; the directory stays until the reply is
    /// sent (the bodies are streamed from it).
    async fn compile(
        &mut self,
        mut job: Job,
    ) -> Result<(Job, tempfile::TempDir, JobResult), Outcome> {
        let Some(dir) = job.dir.take() else {
            return Err(Outcome::Other);
        };
        let result = self.run_compiler(&job, dir.path()).await;
        Ok((job, dir, result))
    }

    async fn reply(
        &mut self,
        job: Job,
        dir: tempfile::TempDir,
        result: JobResult,
    ) -> (Outcome, JobInfo) {
        let JobResult {
            outcome,
            status,
            stdout,
            stderr,
            object,
        } = result;
        if outcome != Outcome::ClientDisconnect {
            let reply = Outgoing {
                version: job.version,
                status,
                stderr,
                stdout,
                object,
                scratch: Some(dir.path().to_path_buf()),
            };
            self.send(&reply).await;
        }
        // The client may start its next job the moment it has our answer; the directory
        // goes right after the last byte.
        drop(dir);
        let result = JobResult {
            outcome,
            status,
            stdout: Body::Bytes(Vec::new()),
            stderr: Body::Bytes(Vec::new()),
            object: Body::Bytes(Vec::new()),
        };
        let took = self.started.elapsed();
        self.log_finished(&job, &result, took);
        let info = (job.request.input_name.clone(), job.compiler_shown(), took);
        (result.outcome, Some(info))
    }

    /// A private directory under `--tmpdir` and the source file in it, opened for
    /// writing; on failure, the message for the client (the log gets the path, the
    /// client does not).
    #[allow(
        clippy::disallowed_methods,
        reason = "the server's own door: a compile's scratch job directory"
    )]
    fn job_dir(&self, job: &Job) -> Result<(tempfile::TempDir, std::fs::File), String> {
        let tmpdir = &self.shared.settings.tmpdir;
        let made = tempfile::Builder::new()
            .prefix("distsetup-job.")
            .tempdir_in(tmpdir)
            .and_then(|dir| {
                let file = std::fs::File::options()
                    .write(true)
                    .create_new(true)
                    .open(dir.path().join(job.input_name()))?;
                Ok((dir, file))
            });
        made.map_err(|e| {
            self.shared.log.log(
                LogLevel::Error,
                &format!(
                    "cannot make a job directory with its source in {}: {e}",
                    tmpdir.display()
                ),
            );
            format!(
                "distsetup serve: cannot make a job directory on this server: {}\n",
                std::io::Error::from(e.kind())
            )
        })
    }

    /// Run the compiler in `dir` and collect what goes into the reply.
    async fn run_compiler(&mut self, job: &Job, dir: &Path) -> JobResult {
        use std::os::unix::ffi::OsStrExt;
        let shared = self.shared;
        let cmd = job.request.command(
            job.compiler.as_os_str().as_bytes(),
            &job.input_name(),
            job.output_name(),
        );
        if shared.log.enabled(LogLevel::Debug) {
            let shown: Vec<String> = cmd
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            shared.log.log(
                LogLevel::Debug,
                &format!("client: {} running {}", self.peer, shown.join(" ")),
            );
        }
        let ruleset = if shared.settings.landlock {
            let paths = confine::read_exec_paths(&shared.settings.toolchains, &job.compiler);
            match confine::job_ruleset(&paths, dir) {
                Ok(r) => r,
                Err(e) => return self.failed(format!("distsetup serve: {e}\n")),
            }
        } else {
            None
        };
        let spawn = job::Spawn {
            dir,
            argv: &cmd,
            ruleset,
            seccomp: shared.seccomp.as_ref().map(|f| f.programs().to_vec()),
        };
        let ended = job::run(
            &shared.groups,
            shared.job_limits(),
            spawn,
            peer_gone(&mut self.io),
        )
        .await;
        let mut result = self.result_of(ended, &job.compiler);
        if result.status == 0 {
            self.take_object(&mut result, &dir.join(job.output_name()))
                .await;
        }
        result
    }

    /// A compile that could not be started safely: logged, answered as an I/O error.
    fn failed(&self, msg: String) -> JobResult {
        self.shared.log.log(
            LogLevel::Error,
            &format!("client: {} {}", self.peer, msg.trim_end()),
        );
        JobResult {
            outcome: Outcome::CompileError,
            status: wait_status_exit(codes::IO_ERROR),
            stdout: Body::Bytes(Vec::new()),
            stderr: Body::Bytes(msg.into_bytes()),
            object: Body::Bytes(Vec::new()),
        }
    }

    /// The reply's parts for how the compiler ended (the object is read separately).
    fn result_of(&self, ended: Ended, compiler: &Path) -> JobResult {
        let (status, mut extra) = ended.status(self.shared.settings.job_lifetime, compiler);
        if self.link && matches!(ended, Ended::Disconnected) {
            extra = Some("distsetup serve: compile cancelled by the master, killed\n".into());
        }
        let outcome = match &ended {
            Ended::Exited { status: 0, .. } => Outcome::CompileOk,
            Ended::Exited { .. } | Ended::SpawnFailed(_) => Outcome::CompileError,
            Ended::LifetimeExceeded => Outcome::CompileTimeout,
            Ended::Disconnected => Outcome::ClientDisconnect,
        };
        let filtered = match &ended {
            Ended::Exited { status, stderr, .. } if *status != 0 => {
                let tail = stderr.tail(64 * 1024);
                if seccomp::stopped_by_filter(*status, &tail) {
                    Some(seccomp::REFUSED_MESSAGE.to_owned())
                } else if file_too_large(*status, &tail) {
                    Some(format!(
                        "distsetup serve: a file of this compile passed the server's size \
                         limit of {} bytes (--max-object)\n",
                        self.shared.settings.max_object
                    ))
                } else {
                    None
                }
            }
            _ => None,
        };
        let (stdout, stderr) = match ended {
            Ended::Exited { stdout, stderr, .. } => (stdout.into(), stderr.into()),
            _ => (Body::Bytes(Vec::new()), Body::Bytes(Vec::new())),
        };
        let mut result = JobResult {
            outcome,
            status,
            stdout,
            stderr,
            object: Body::Bytes(Vec::new()),
        };
        let extra = match (extra, filtered) {
            (Some(e), _) => Some(e),
            (None, Some(m)) => Some(m),
            (None, None) => None,
        };
        if let Some(extra) = &extra {
            result.append_stderr(extra);
            self.shared.log.log(
                LogLevel::Warning,
                &format!("client: {} {}", self.peer, extra.trim_end()),
            );
        }
        result
    }

    /// Open the output of a successful compile (never through a symlink the compiler
    /// left). A compiler that exits 0 without writing any output (`-fsyntax-only`,
    /// `-dumpversion`, `-print-search-dirs`: build systems' configure checks) gets
    /// distccd's answer, success with an empty object; anything else it left that is not
    /// a readable regular file is a failure, and so is an object over `--max-object`.
    async fn take_object(&self, result: &mut JobResult, output: &Path) {
        match open_object(output, self.shared.settings.max_object) {
            Ok((file, len)) => result.object = Body::File(file, len),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                let name = output.file_name().map_or_else(
                    || output.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let msg = format!(
                    "distsetup serve: the compiler exited 0 but its output {name} cannot be \
                     read: {e}\n"
                );
                self.shared.log.log(
                    LogLevel::Warning,
                    &format!("client: {} {}", self.peer, msg.trim_end()),
                );
                result.append_stderr(&msg);
                result.status = wait_status_exit(codes::IO_ERROR);
                result.outcome = Outcome::CompileError;
            }
        }
    }

    /// distccd's one line per job.
    fn log_finished(&self, job: &Job, result: &JobResult, took: Duration) {
        let status = result.status;
        self.shared.log.log(
            LogLevel::Notice,
            &format!(
                "client: {} {} exit:{} sig:{} core:{} time:{}ms {} {} (remote, protocol {})",
                self.peer,
                result.outcome.word(),
                (status >> 8) & 0xff,
                status & 0x7f,
                u8::from(status & 0x80 != 0),
                took.as_millis(),
                job.compiler_shown(),
                job.request.input_name,
                job.version,
            ),
        );
    }

    /// Reply with a distcc exit code as STAT and `message` on SERR.
    async fn send_failure(&mut self, version: u32, code: u8, message: &str) {
        let reply = Outgoing {
            version,
            status: wait_status_exit(code),
            stderr: Body::Bytes(message.as_bytes().to_vec()),
            stdout: Body::Bytes(Vec::new()),
            object: Body::Bytes(Vec::new()),
            scratch: None,
        };
        self.send(&reply).await;
    }

    /// Stream a reply; failures are logged (the client may be gone, or not reading).
    async fn send(&mut self, reply: &Outgoing) {
        let timeout = self.shared.settings.send_timeout();
        if let Err(e) = reply::send(&mut self.io, reply, timeout).await {
            self.shared.log.log(
                LogLevel::Info,
                &format!("client: {} reply not delivered: {e}", self.peer),
            );
        }
    }
}

/// The object file of a finished compile: a regular file (no symlink followed), at most
/// `max` bytes.
fn open_object(output: &Path, max: u64) -> std::io::Result<(std::fs::File, u64)> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(output)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        return Err(std::io::Error::other(format!(
            "it is {} bytes, over this server's --max-object of {max} bytes",
            meta.len()
        )));
    }
    Ok((file, meta.len()))
}

/// The compiler, or one of its passes, was stopped by `RLIMIT_FSIZE`.
fn file_too_large(status: u32, stderr_tail: &[u8]) -> bool {
    status & 0x7f == libc::SIGXFSZ.unsigned_abs()
        || stderr_tail
            .windows(b"File size limit exceeded".len())
            .any(|w| w == b"File size limit exceeded")
}

fn bad_request(shared: &Shared, peer: &str, why: &str) -> Outcome {
    shared.log.log(
        LogLevel::Warning,
        &format!("client: {peer} {why}; closed without reply"),
    );
    shared.stats.refused("protocol");
    Outcome::BadRequest
}
