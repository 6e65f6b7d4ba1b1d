//! A small line logger: level threshold, stderr or an append-only file. One `write` per
//! line so concurrent jobs never interleave inside a line.

use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::Mutex;

use super::config::LogLevel;
use super::error::ServeError;

/// Where log lines go.
pub struct Logger {
    level: LogLevel,
    file: Option<Mutex<File>>,
}

impl Logger {
    /// Log at `level` to `file` (appending) or to stderr.
    #[allow(
        clippy::disallowed_methods,
        reason = "the server's own door: its log file, appended to"
    )]
    pub fn open(level: LogLevel, file: Option<&Path>) -> Result<Logger, ServeError> {
        let file = match file {
            Some(p) => Some(Mutex::new(
                File::options()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|source| ServeError::Io {
                        what: format!("opening log file {}", p.display()),
                        source,
                    })?,
            )),
            None => None,
        };
        Ok(Logger { level, file })
    }

    /// True when messages of `level` are written.
    pub fn enabled(&self, level: LogLevel) -> bool {
        level <= self.level
    }

    /// Write one line.
    #[allow(
        clippy::disallowed_methods,
        reason = "the server's log goes to stderr when no log file is given (distccd's --log-stderr)"
    )]
    pub fn log(&self, level: LogLevel, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        let line = format!(
            "{} distsetup-serve[{}] {}: {}\n",
            timestamp(),
            std::process::id(),
            level.name(),
            msg
        );
        // A failing log must not take the server down.
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }
}

/// UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn timestamp() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let t = super::timestamp();
        assert_eq!(t.len(), 24, "{t}");
        assert!(
            t.ends_with('Z') && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'.',
            "{t}"
        );
    }
}
