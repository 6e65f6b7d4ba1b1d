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

/// UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` without a date crate.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(super::civil_from_days(11_016), (2000, 2, 29));
    }
}
