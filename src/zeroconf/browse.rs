//! Reading `avahi-browse --parsable --resolve --terminate --no-db-lookup` output, and
//! running it once (a snapshot of what is advertised now).
//!
//! Lines are `EVENT;IFACE;PROTO;NAME;TYPE;DOMAIN` for `+` (new) and `-` (gone), and
//! `=;IFACE;PROTO;NAME;TYPE;DOMAIN;HOST;ADDRESS;PORT;TXT` once resolved. In names a byte
//! outside the printable set (space included) is `\DDD` (decimal) and `.`, `\` and `;` are
//! escaped; the TXT field is a space-separated list of double-quoted strings with `\"`
//! and `\\` escaped. Anything else (avahi-browse's own complaints) is an error naming the
//! line.

use std::net::IpAddr;
use std::process::{Command, Stdio};

/// One resolved service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The instance name, unescaped.
    pub name: String,
    /// The interface it was seen on.
    pub interface: String,
    /// `IPv4` or `IPv6`.
    pub protocol: String,
    /// The host name (`v1.local`).
    pub host: String,
    /// The address it resolved to.
    pub address: IpAddr,
    /// The port.
    pub port: u16,
    /// The TXT strings, unescaped, in the order avahi-browse printed them.
    pub txt: Vec<String>,
}

impl Found {
    /// The value of TXT key `key` (the first one, as DNS-SD says).
    pub fn txt_value(&self, key: &str) -> Option<&str> {
        self.txt.iter().find_map(|t| {
            let (k, v) = t.split_once('=')?;
            (k.eq_ignore_ascii_case(key)).then_some(v)
        })
    }

    /// The job slots the distcc client gives this host (distcc's `src/zeroconf.c`): `jobs=`
    /// when it is a positive number; else `cpus + 2` when `jobs=` is there but not positive;
    /// else 4.
    pub fn client_slots(&self) -> usize {
        let num = |k: &str| {
            self.txt_value(k)
                .map(|v| v.trim().parse::<i64>().unwrap_or(0))
        };
        let cpus = match num("cpus") {
            Some(c) if c > 0 => c,
            _ => 1,
        };
        match num("jobs") {
            Some(j) if j > 0 => j as usize,
            Some(_) => (cpus + 2) as usize,
            None => 4,
        }
    }

    /// `ADDRESS:PORT/JOBS`, the host token the distcc client writes.
    pub fn host_token(&self) -> String {
        match self.address {
            IpAddr::V4(a) => format!("{a}:{}/{}", self.port, self.client_slots()),
            IpAddr::V6(a) => format!("[{a}]:{}/{}", self.port, self.client_slots()),
        }
    }
}

/// A line avahi-browse printed that is not in its parsable format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("avahi-browse output, line {line}: {reason}: {text:?}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
    /// The line.
    pub text: String,
}

/// What is wrong inside one field of avahi-browse's parsable output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// `\DDD` above 255.
    #[error("escape \\{0} is not a byte")]
    NotAByte(u32),
    /// A `\` with nothing after it.
    #[error("a lone backslash at the end")]
    LoneBackslash,
    /// The unescaped bytes are not UTF-8.
    #[error("the name is not UTF-8")]
    NotUtf8,
    /// A TXT string without its closing quote.
    #[error("an unterminated TXT string")]
    UnterminatedTxt,
    /// A `\` ending a TXT string.
    #[error("a lone backslash in a TXT string")]
    TxtBackslash,
    /// Text between the quoted TXT strings.
    #[error("{0:?} outside a quoted TXT string")]
    OutsideTxt(char),
    /// Too few `;`-separated fields.
    #[error("{found} fields, {expected}")]
    Fields {
        /// How many there were.
        found: usize,
        /// What the line needs.
        expected: &'static str,
    },
    /// The address field.
    #[error("{0:?} is not an address")]
    Address(String),
    /// The port field.
    #[error("{0:?} is not a port")]
    Port(String),
    /// The first field.
    #[error("unknown event {0:?}")]
    Event(String),
}

/// Undo avahi's escaping of a name: `\DDD` is the byte DDD (decimal), `\c` is `c`.
pub fn unescape(field: &str) -> Result<String, FieldError> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let digits = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(u8::is_ascii_digit));
        match (digits, b.get(i + 1)) {
            (Some(d), _) => {
                let n: u32 = std::str::from_utf8(d)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(256);
                let byte = u8::try_from(n).map_err(|_| FieldError::NotAByte(n))?;
                out.push(byte);
                i += 4;
            }
            (None, Some(c)) => {
                out.push(*c);
                i += 2;
            }
            (None, None) => return Err(FieldError::LoneBackslash),
        }
    }
    String::from_utf8(out).map_err(|_| FieldError::NotUtf8)
}

/// Split the TXT field into its strings: `"a=b" "c=\"d\""`.
pub fn parse_txt(field: &str) -> Result<Vec<String>, FieldError> {
    let mut out = Vec::new();
    let mut chars = field.chars();
    loop {
        match chars.next() {
            None => return Ok(out),
            Some(' ') => continue,
            Some('"') => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(FieldError::UnterminatedTxt),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => s.push(c),
                            None => return Err(FieldError::TxtBackslash),
                        },
                        Some(c) => s.push(c),
                    }
                }
                out.push(s);
            }
            Some(c) => return Err(FieldError::OutsideTxt(c)),
        }
    }
}

/// The key of an instance across events.
type Key = (String, String, String, String);

/// Read a whole browse: `+` then `=` adds an instance, `-` removes it. The result holds one
/// entry per instance name: its IPv4 address on a non-loopback interface when it has
/// one, as the client would connect to it.
pub fn parse(text: &str) -> Result<Vec<Found>, ParseError> {
    let mut live: Vec<(Key, Option<Found>)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason: FieldError| ParseError {
            line: n + 1,
            reason: reason.to_string(),
            text: line.to_string(),
        };
        let f: Vec<&str> = line.splitn(10, ';').collect();
        if f.len() < 6 {
            return Err(err(FieldError::Fields {
                found: f.len(),
                expected: "expected at least 6",
            }));
        }
        let name = unescape(f[3]).map_err(err)?;
        let key: Key = (f[1].into(), f[2].into(), name.clone(), f[4].into());
        let pos = live.iter().position(|(k, _)| *k == key);
        match f[0] {
            "+" => {
                if pos.is_none() {
                    live.push((key, None));
                }
            }
            "-" => {
                if let Some(p) = pos {
                    live.remove(p);
                }
            }
            "=" => {
                if f.len() != 10 {
                    return Err(err(FieldError::Fields {
                        found: f.len(),
                        expected: "a resolved line has 10",
                    }));
                }
                let address = f[7]
                    .parse::<IpAddr>()
                    .map_err(|_| err(FieldError::Address(f[7].to_string())))?;
                let port = f[8]
                    .parse::<u16>()
                    .map_err(|_| err(FieldError::Port(f[8].to_string())))?;
                let found = Found {
                    name,
                    interface: f[1].into(),
                    protocol: f[2].into(),
                    host: unescape(f[6]).map_err(err)?,
                    address,
                    port,
                    txt: parse_txt(f[9]).map_err(err)?,
                };
                match pos {
                    Some(p) => live[p].1 = Some(found),
                    None => live.push((key, Some(found))),
                }
            }
            other => return Err(err(FieldError::Event(other.to_string()))),
        }
    }
    Ok(pick(live.into_iter().filter_map(|(_, f)| f).collect()))
}

/// One instance per name, the most usable address first: IPv4 before IPv6, anything
/// before loopback. Sorted by name.
fn pick(mut all: Vec<Found>) -> Vec<Found> {
    let rank = |f: &Found| (f.address.is_loopback(), !f.address.is_ipv4());
    all.sort_by(|a, b| a.name.cmp(&b.name).then(rank(a).cmp(&rank(b))));
    all.dedup_by(|b, a| a.name == b.name);
    all
}

/// Why a browse could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowseError {
    /// avahi-browse is not installed.
    #[error("avahi-browse is not installed (package avahi-utils or avahi)")]
    NoTool,
    /// avahi-browse failed: usually avahi-daemon is not running.
    #[error("avahi-browse failed: {0}")]
    Failed(String),
    /// Its output did not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl BrowseError {
    /// Whether the failure means avahi-daemon is not running (or not reachable over D-Bus).
    pub fn daemon_down(&self) -> bool {
        matches!(self, BrowseError::Failed(m) if m.contains("Daemon not running") || m.contains("create client"))
    }
}

/// How long one browse may take, in seconds (avahi-browse --terminate stops once the
/// cache is exhausted, about a second).
const BROWSE_LIMIT_SECS: &str = "15";

/// Browse `service_type` (a type or a subtype) once and resolve what is there now.
pub fn browse(service_type: &str) -> Result<Vec<Found>, BrowseError> {
    // coreutils' timeout bounds it (exit 124), and says 127 when avahi-browse is missing.
    let out = Command::new("timeout")
        .arg(BROWSE_LIMIT_SECS)
        .args([
            "avahi-browse",
            "--parsable",
            "--resolve",
            "--terminate",
            "--no-db-lookup",
        ])
        .arg(service_type)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BrowseError::Failed(format!("running timeout avahi-browse: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    match out.status.code() {
        Some(0) => Ok(parse(&String::from_utf8_lossy(&out.stdout))?),
        Some(127) => Err(BrowseError::NoTool),
        Some(124) => Err(BrowseError::Failed(format!(
            "no answer within {BROWSE_LIMIT_SECS} s"
        ))),
        _ if !stderr.is_empty() => Err(BrowseError::Failed(stderr)),
        _ => Err(BrowseError::Failed(format!("exit status {}", out.status))),
    }
}
