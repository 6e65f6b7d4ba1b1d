//! The terminal side of the one prompt trait ([`distsetup::prompt::Ask`]): dialoguer for
//! questions, standard output for what is said between them, and Ctrl-C while a question
//! waits ([`Interrupted`]).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use distsetup::prompt::{Ask, Validate};

fn io(e: dialoguer::Error) -> std::io::Error {
    let dialoguer::Error::IO(e) = e;
    e
}

/// Questions on the terminal.
#[derive(Debug, Default)]
pub struct Terminal;

impl Ask for Terminal {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> std::io::Result<usize> {
        let _ctrl_c = Interrupted::catch();
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(io)
    }

    fn input(
        &mut self,
        prompt: &str,
        default: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        self.typed(prompt, default, "", validate)
    }

    fn input_again(
        &mut self,
        prompt: &str,
        typed: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        self.typed(prompt, "", typed, validate)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<bool> {
        let _ctrl_c = Interrupted::catch();
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(io)
    }

    fn say(&mut self, line: &str) -> std::io::Result<()> {
        #[allow(
            clippy::disallowed_methods,
            reason = "the command layer owns the terminal"
        )]
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }
}

impl Terminal {
    /// A line, checked by `validate`. An answer it refuses (an empty one too) is shown
    /// with the reason and offered again for editing, never thrown away.
    fn typed(
        &mut self,
        prompt: &str,
        default: &str,
        typed: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        let _ctrl_c = Interrupted::catch();
        let mut again = typed.to_owned();
        loop {
            let mut q = dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                .allow_empty(true);
            if !default.is_empty() {
                q = q.default(default.to_owned());
            }
            if !again.is_empty() {
                q = q.with_initial_text(again.clone());
            }
            let answer = q.interact_text().map_err(io)?;
            match validate(&answer) {
                Ok(()) => return Ok(answer),
                Err(why) => {
                    self.say(&format!("  ✘ {why}"))?;
                    again = answer;
                }
            }
        }
    }
}

/// Ctrl-C while a question waits (and, in the wizard, between its questions): the cursor
/// shown again (menus hide it), one line saying nothing was changed, and exit status 4,
/// "aborted", as the man pages say — instead of dying from SIGINT. Nothing is written
/// before the last answer, so that is true. Installed while the guard lives; the handler
/// it replaced comes back when it is dropped (the apply itself keeps the default).
pub struct Interrupted {
    previous: libc::sighandler_t,
}

/// Whether standard error is a terminal (read once, before any handler can run).
static STDERR_TTY: AtomicBool = AtomicBool::new(false);

const SHOW_CURSOR: &[u8] = b"\x1b[?25h";
const MESSAGE: &[u8] = b"\ndistsetup: interrupted: nothing was changed\n";
/// [`super::ExitStatus::Aborted`]'s number, for the signal handler.
const ABORTED: libc::c_int = 4;

extern "C" fn on_sigint(_: libc::c_int) {
    // SAFETY: write(2) with static buffers and _exit are async-signal-safe; the atomic
    // load is lock-free.
    unsafe {
        if STDERR_TTY.load(Ordering::Relaxed) {
            libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len());
        }
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(ABORTED);
    }
}

impl Interrupted {
    /// Catch Ctrl-C until the guard is dropped.
    pub fn catch() -> Interrupted {
        // SAFETY: isatty has no preconditions; signal installs a handler that only calls
        // async-signal-safe functions.
        let previous = unsafe {
            STDERR_TTY.store(libc::isatty(2) == 1, Ordering::Relaxed);
            libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t)
        };
        Interrupted { previous }
    }
}

impl Drop for Interrupted {
    fn drop(&mut self) {
        // SAFETY: puts back the handler `signal` returned when the guard was made.
        unsafe { libc::signal(libc::SIGINT, self.previous) };
        if STDERR_TTY.load(Ordering::Relaxed) {
            // SAFETY: write(2) on stderr with a static buffer. Dialoguer may leave the
            // cursor hidden when a question ends in an error.
            unsafe { libc::write(2, SHOW_CURSOR.as_ptr().cast(), SHOW_CURSOR.len()) };
        }
    }
}
