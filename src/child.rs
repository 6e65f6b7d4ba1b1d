//! Running a helper program and collecting what it prints, without a panic on an I/O
//! error: std's `Command::output` unwraps the result of reading the child's pipes, so an
//! EIO there (a failing disk, a fault injector) ends the whole run with a panic (exit
//! 101) instead of an error the caller can report.

use std::io::Read as _;
use std::process::{Command, Output, Stdio};

/// [`Command::output`] that returns read errors instead of panicking.
pub trait CheckedOutput {
    /// Run to completion with stdout and stderr captured (stdin as configured); every
    /// failure, reading the pipes included, is an `Err`.
    fn checked_output(&mut self) -> std::io::Result<Output>;
}

impl CheckedOutput for Command {
    fn checked_output(&mut self) -> std::io::Result<Output> {
        let mut child = self.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        let stderr = child.stderr.take();
        let reader = std::thread::Builder::new().spawn(move || {
            let mut buf = Vec::new();
            match stderr {
                Some(mut e) => e.read_to_end(&mut buf).map(|_| buf),
                None => Ok(buf),
            }
        });
        let mut stdout = Vec::new();
        let read_out = match child.stdout.take() {
            Some(mut o) => o.read_to_end(&mut stdout).map(|_| ()),
            None => Ok(()),
        };
        let read_err = match reader {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("stderr reader failed"))),
            Err(e) => Err(e),
        };
        if read_out.is_err() || read_err.is_err() {
            // Do not leave the child running (or a zombie) behind.
            let _ = child.kill();
            let _ = child.wait();
        }
        read_out?;
        let stderr = read_err?;
        let status = child.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}
