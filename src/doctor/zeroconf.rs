//! `+zeroconf` in the host list: list what is advertised on the network for this master's
//! compiler (and the near misses: its machine, another gcc version — the usual reason a
//! volunteer is "not found"), then hand the matches to the probes as fixed hosts.

use super::{Finding, Settings, Status};
use crate::hostspec::{HostList, Item};
use crate::zeroconf::{Kind, Survey};

/// The host list to probe: `text` itself, plus `ADDRESS:PORT/JOBS` for every volunteer
/// discovered now under this master's subtype when the list has `+zeroconf`.
pub(super) fn expand(s: &Settings, list: &HostList, text: &str, f: &mut Vec<Finding>) -> String {
    if !list
        .entries
        .iter()
        .any(|e| matches!(e.item, Item::Zeroconf))
    {
        return text.to_string();
    }
    let tokens = discover(s, f);
    let mut out = text.trim_end().to_string();
    for t in tokens {
        out.push(' ');
        out.push_str(&t);
    }
    out
}

/// The findings of one survey; the host tokens of the matches.
fn discover(s: &Settings, f: &mut Vec<Finding>) -> Vec<String> {
    // The client browses for what `cc` says (distcc's gcc-id.c) unless told otherwise.
    let compiler = s.compiler.as_deref().unwrap_or("cc");
    let survey = Survey::take(compiler);
    let advice = crate::zeroconf::avahi_advice(&s.profile.name);
    if survey.client_zeroconf == Some(false) {
        f.push(
            Finding::new(
                "zeroconf",
                "distcc",
                Status::Broken,
                "this distcc client was built without Avahi (distcc --help lacks \"Built with Zeroconf support\"): +zeroconf finds nothing",
            )
            .hint("install a distcc built with Avahi (Debian's, Arch's and Gentoo's with USE=zeroconf are)"),
        );
    }
    let id = match &survey.id {
        Ok(id) => id.clone(),
        Err(e) => {
            f.push(Finding::new(
                "zeroconf",
                compiler,
                Status::Broken,
                format!("cannot tell what the client browses for: {e}"),
            ));
            return Vec::new();
        }
    };
    let subtype = id.subtype();
    let volunteers = match &survey.volunteers {
        Ok(v) => v,
        Err(e) => {
            f.push(
                Finding::new(
                    "zeroconf",
                    "avahi-daemon",
                    Status::Broken,
                    format!("cannot browse: {e}"),
                )
                .hint(advice),
            );
            return Vec::new();
        }
    };
    for v in volunteers {
        let finding = match v.kind {
            Kind::Match => Finding::new(
                "zeroconf",
                v.found.name.clone(),
                Status::Ok,
                format!("discovered: {}; the client uses it as {}", v.describe(), v.found.host_token()),
            ),
            Kind::NearMiss => Finding::new(
                "zeroconf",
                v.found.name.clone(),
                Status::Warn,
                format!(
                    "near miss: {} — this master's cc says {} {}, so the client (browsing {subtype}) does not see it",
                    v.describe(),
                    id.machine,
                    id.version
                ),
            )
            .hint(format!(
                "on that volunteer: distsetup volunteer ... --zeroconf --zeroconf-version {} (or match the gcc versions)",
                id.version
            )),
            Kind::Other => Finding::new(
                "zeroconf",
                v.found.name.clone(),
                Status::Ok,
                format!("not for this master: {}", v.describe()),
            ),
        };
        f.push(finding);
    }
    let matches = survey.matches();
    if matches.is_empty() {
        f.push(
            Finding::new(
                "zeroconf",
                subtype.clone(),
                Status::Broken,
                format!("no volunteer advertises {subtype} now (cc says {} {}): +zeroconf compiles everything locally", id.machine, id.version),
            )
            .hint("on a volunteer: distsetup volunteer --toolchain T --alias MASTER=T --zeroconf"),
        );
    }
    matches.iter().map(|v| v.found.host_token()).collect()
}
