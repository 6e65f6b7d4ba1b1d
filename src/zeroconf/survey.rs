//! What a master sees on the network now: its own compiler's name (what the distcc client
//! browses for), every distcc service advertised, and which of them match.

use std::process::{Command, Stdio};

use super::browse::{self, BrowseError, Found};
use super::naming::{self, SERVICE_TYPE};

/// What `cc -dumpmachine` and `cc -dumpversion` say: the names the distcc client browses
/// for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompilerId {
    /// `-dumpmachine`, first word.
    pub machine: String,
    /// `-dumpversion`, first word.
    pub version: String,
}

impl CompilerId {
    /// The subtype a client with this compiler browses for.
    pub fn subtype(&self) -> String {
        naming::subtype(&self.machine, &self.version)
    }
}

/// Why the master's compiler could not say what the client browses for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompilerIdError {
    /// It could not be run.
    #[error("{cc} {flag}: {reason}")]
    Run {
        /// The compiler.
        cc: String,
        /// `-dumpmachine` or `-dumpversion`.
        flag: String,
        /// The operating system's reason.
        reason: String,
    },
    /// It ran but printed nothing (or failed).
    #[error("{cc} {flag} printed nothing ({status})")]
    Silent {
        /// The compiler.
        cc: String,
        /// `-dumpmachine` or `-dumpversion`.
        flag: String,
        /// Its exit status.
        status: String,
    },
}

/// Ask `cc` (a name looked up in PATH, as distcc does, or a path).
pub fn compiler_id(cc: &str) -> Result<CompilerId, CompilerIdError> {
    let ask = |flag: &str| -> Result<String, CompilerIdError> {
        let out = Command::new(cc)
            .arg(flag)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| CompilerIdError::Run {
                cc: cc.to_string(),
                flag: flag.to_string(),
                reason: e.to_string(),
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let word = text.split_whitespace().next().unwrap_or_default();
        if !out.status.success() || word.is_empty() {
            return Err(CompilerIdError::Silent {
                cc: cc.to_string(),
                flag: flag.to_string(),
                status: out.status.to_string(),
            });
        }
        Ok(word.to_string())
    };
    Ok(CompilerId {
        machine: ask("-dumpmachine")?,
        version: ask("-dumpversion")?,
    })
}

/// How a discovered service relates to this master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Advertised under this master's subtype: the client will use it.
    Match,
    /// Serves this master's machine, but for another compiler version: the client does not
    /// see it (the usual reason a volunteer is "not found").
    NearMiss,
    /// For another machine, or says nothing about what it serves.
    Other,
}

/// One advertised distcc service, classified.
#[derive(Debug, Clone)]
pub struct Volunteer {
    /// What was resolved.
    pub found: Found,
    /// Match, near miss or other.
    pub kind: Kind,
    /// The machines it says it serves (TXT `cc_machine`, distsetup's `masters`).
    pub machines: Vec<String>,
    /// The versions it says it answers (TXT `cc_version`, distsetup's `versions`).
    pub versions: Vec<String>,
}

/// The values of a list-valued TXT key: `key=a,b` and its continuations `key.2=c`, ...
pub fn txt_list(found: &Found, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in &found.txt {
        let Some((k, v)) = t.split_once('=') else {
            continue;
        };
        let continues = k
            .strip_prefix(key)
            .and_then(|r| r.strip_prefix('.'))
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        if k == key || continues {
            for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !out.iter().any(|x| x == item) {
                    out.push(item.to_string());
                }
            }
        }
    }
    out
}

/// Classify what was found for a master with compiler `id`; `matched` are the instance
/// names found under its subtype.
pub fn classify(all: Vec<Found>, matched: &[Found], id: &CompilerId) -> Vec<Volunteer> {
    let mut all = all;
    for m in matched {
        if !all.iter().any(|a| a.name == m.name) {
            all.push(m.clone());
        }
    }
    let mut out: Vec<Volunteer> = all
        .into_iter()
        .map(|found| {
            let mut machines = txt_list(&found, "cc_machine");
            machines.extend(txt_list(&found, "masters"));
            machines.dedup();
            // distsetup's list is what it advertises (`--zeroconf-version` included);
            // distccd's own --zeroconf only has the compiler's version.
            let mut versions = txt_list(&found, "versions");
            if versions.is_empty() {
                versions = txt_list(&found, "cc_version");
            }
            let kind = if matched.iter().any(|m| m.name == found.name) {
                Kind::Match
            } else if machines.iter().any(|m| naming::same(m, &id.machine)) {
                Kind::NearMiss
            } else {
                Kind::Other
            };
            Volunteer {
                found,
                kind,
                machines,
                versions,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.kind_rank()
            .cmp(&b.kind_rank())
            .then(a.found.name.cmp(&b.found.name))
    });
    out
}

impl Volunteer {
    fn kind_rank(&self) -> u8 {
        match self.kind {
            Kind::Match => 0,
            Kind::NearMiss => 1,
            Kind::Other => 2,
        }
    }

    /// One line for a person: name, address, what it serves.
    pub fn describe(&self) -> String {
        let serves = if self.machines.is_empty() {
            "does not say what it serves".to_string()
        } else {
            format!(
                "serves {} (gcc {})",
                self.machines.join(", "),
                if self.versions.is_empty() {
                    "?".to_string()
                } else {
                    self.versions.join(", ")
                }
            )
        };
        format!(
            "{} at {}:{} ({} slots), {serves}",
            self.found.name,
            self.found.address,
            self.found.port,
            self.found.client_slots()
        )
    }
}

/// Whether the distcc client here was built with Avahi: `Some(false)` when `distcc --help`
/// lacks "Built with Zeroconf support", `None` when distcc does not run.
pub fn client_has_zeroconf() -> Option<bool> {
    let out = Command::new("distcc")
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some(text.contains("Built with Zeroconf support"))
}

/// A snapshot of discovery as this master's distcc client would see it now.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The master's compiler (`cc` from PATH, as the client asks).
    pub id: Result<CompilerId, CompilerIdError>,
    /// `distcc --help` says it was built with zeroconf.
    pub client_zeroconf: Option<bool>,
    /// Every distcc service advertised, classified; or why browsing failed.
    pub volunteers: Result<Vec<Volunteer>, BrowseError>,
}

impl Survey {
    /// Browse once (all distcc services and this master's subtype, at the same time).
    pub fn take(cc: &str) -> Survey {
        let id = compiler_id(cc);
        let client_zeroconf = client_has_zeroconf();
        let volunteers = match &id {
            Ok(id) => {
                let subtype = id.subtype();
                let (all, matched) = std::thread::scope(|s| {
                    let all = s.spawn(|| browse::browse(SERVICE_TYPE));
                    let matched = browse::browse(&subtype);
                    (
                        all.join().unwrap_or_else(|_| {
                            Err(BrowseError::Failed("the browse thread panicked".into()))
                        }),
                        matched,
                    )
                });
                match (all, matched) {
                    (Ok(all), Ok(matched)) => Ok(classify(all, &matched, id)),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            Err(_) => browse::browse(SERVICE_TYPE).map(|all| {
                all.into_iter()
                    .map(|found| Volunteer {
                        found,
                        kind: Kind::Other,
                        machines: Vec::new(),
                        versions: Vec::new(),
                    })
                    .collect()
            }),
        };
        Survey {
            id,
            client_zeroconf,
            volunteers,
        }
    }

    /// The volunteers the client will use.
    pub fn matches(&self) -> Vec<&Volunteer> {
        match &self.volunteers {
            Ok(v) => v.iter().filter(|v| v.kind == Kind::Match).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Slots of the matching volunteers, counted as the client counts them.
    pub fn slots(&self) -> usize {
        self.matches().iter().map(|v| v.found.client_slots()).sum()
    }
}

/// How to install and start avahi-daemon on this profile's distro.
pub fn avahi_advice(profile: &str) -> String {
    match profile {
        "arch" | "archarm" => "pacman -S avahi && systemctl enable --now avahi-daemon".into(),
        "gentoo" => "emerge net-dns/avahi && rc-update add avahi-daemon default && rc-service avahi-daemon start \
                     (systemd: systemctl enable --now avahi-daemon)"
            .into(),
        "debian" => "apt install avahi-daemon && systemctl enable --now avahi-daemon".into(),
        "void" => "xbps-install avahi && ln -s /etc/sv/avahi-daemon /var/service/".into(),
        _ => "install avahi (avahi-daemon) and enable its service".into(),
    }
}
