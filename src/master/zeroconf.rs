//! `--hosts +zeroconf` (alone or with fixed hosts): the distcc client finds volunteers
//! itself, so the host list is written as given. What this module adds is a snapshot, taken
//! once while configuring, for `-j` and for the checks:
//!
//! - the rule: remote slots = the fixed hosts' limits + the slots of every volunteer
//!   advertised *now* under this master's subtype, counted as the client counts them
//!   (TXT `jobs=`, else `cpus + 2`, else 4); then the profile's `-j` rule as for fixed hosts.
//!   Volunteers that join later are used by the client but not counted in `-j`: re-run
//!   `distsetup master` (or pass `--jobs N`) when the cluster changes;
//! - the local distcc client must be built with Avahi (`distcc --help` says "Built with
//!   Zeroconf support") and avahi-daemon must run, or `+zeroconf` finds nothing.

use super::Report;
use crate::zeroconf::{Kind, Survey};

/// The slots discovered now under this master's subtype, with the notes and warnings that
/// explain them. `cc` is the compiler the client asks (`cc` from PATH).
pub(super) fn snapshot(profile: &str, cc: &str, report: &mut Report) -> usize {
    let survey = Survey::take(cc);
    let advice = crate::zeroconf::avahi_advice(profile);
    match survey.client_zeroconf {
        Some(true) => {}
        Some(false) => report.warnings.push(
            "this distcc client was built without zeroconf (distcc --help does not say \"Built with Zeroconf support\"): \
             +zeroconf finds nothing; install a distcc built with Avahi"
                .into(),
        ),
        None => report
            .warnings
            .push("distcc does not run here: +zeroconf needs the distcc client (built with Avahi)".into()),
    }
    let id = match &survey.id {
        Ok(id) => id,
        Err(e) => {
            report.warnings.push(format!(
                "cannot ask the compiler what the client browses for: {e}; +zeroconf needs a working cc"
            ));
            return 0;
        }
    };
    let volunteers = match &survey.volunteers {
        Ok(v) => v,
        Err(e) => {
            let why = if e.daemon_down() {
                format!("avahi-daemon is not running ({e}): {advice}")
            } else {
                format!("{e}; +zeroconf needs avahi-daemon running: {advice}")
            };
            report.warnings.push(why);
            return 0;
        }
    };
    let slots = survey.slots();
    let matches: Vec<String> = survey.matches().iter().map(|v| v.describe()).collect();
    report.notes.push(format!(
        "zeroconf: the client browses {} (cc says {} {}); found now: {}",
        id.subtype(),
        id.machine,
        id.version,
        if matches.is_empty() {
            "none".to_string()
        } else {
            matches.join("; ")
        }
    ));
    for v in volunteers.iter().filter(|v| v.kind == Kind::NearMiss) {
        report.warnings.push(format!(
            "zeroconf: {} — same machine, other gcc version: the client will not use it \
             (on that volunteer: distsetup volunteer ... --zeroconf --zeroconf-version {})",
            v.describe(),
            id.version
        ));
    }
    report.notes.push(format!(
        "zeroconf: {slots} discovered slots counted for -j; this is a snapshot of now: \
         the client follows volunteers as they come and go, -j does not (re-run distsetup master or pass --jobs N)"
    ));
    slots
}
