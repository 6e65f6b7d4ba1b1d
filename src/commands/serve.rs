//! `distsetup serve`: the embedded compile server's process: settings, then the
//! server until a signal.

use super::ExitStatus;
use crate::cli::ServeArgs;

/// `distsetup serve`.
pub fn run(a: &ServeArgs) -> anyhow::Result<ExitStatus> {
    distsetup::server::run(a.settings()?)?;
    Ok(ExitStatus::Ok)
}
