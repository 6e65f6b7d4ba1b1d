//! The distcc host-list grammar (`DISTCC_HOSTS`, `/etc/distcc/hosts`): parse to a typed
//! list, format back byte-exact, validate with positions. Pure: no I/O.
//!
//! The grammar is distcc 3.4's (see `spec/distcc-protocol.md` §4.2). We are stricter than
//! distcc in three places, on purpose, because each is a silent mistake in practice:
//! a port outside 1..=65535 (distcc takes `a:` as port 0 and wraps large ports), a host
//! listed twice, and a limit that is not a plain decimal.

use std::fmt;
use std::ops::Range;

/// Default TCP port of distccd.
pub const DEFAULT_PORT: u16 = 3632;
/// Default limit of a remote host.
pub const DEFAULT_REMOTE_LIMIT: u32 = 4;
/// Default limit of `localhost`.
pub const DEFAULT_LOCAL_LIMIT: u32 = 2;
/// A `localhost/N` above this is almost always a typo or a misunderstanding.
pub const HUGE_LOCAL_LIMIT: u32 = 64;

/// A host-list syntax error, with its line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The list does not parse, or says something distcc would reject or misread.
    #[error("line {line}, column {column}: {reason}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Something distcc accepts but that is probably not what the user meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line (1 for whole-list warnings).
    pub line: usize,
    /// 1-based column (1 for whole-list warnings).
    pub column: usize,
    /// The explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Per-host options (`,lzo`, `,cpp`, `,auth[=NAME]`, `,down`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `,lzo`: compress.
    pub lzo: bool,
    /// `,cpp`: pump mode (requires lzo).
    pub cpp: bool,
    /// `,auth` (`Some(None)`) or `,auth=NAME` (`Some(Some(NAME))`).
    pub auth: Option<Option<String>>,
    /// `,down`: the host is never used.
    pub down: bool,
    /// `,tls`: the relay reaches it over the secure link (`serve --tls`); not distcc's own.
    pub tls: bool,
}

impl fmt::Display for Options {
    /// The options as distcc spells them, each with its leading comma.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lzo {
            f.write_str(",lzo")?;
        }
        if self.cpp {
            f.write_str(",cpp")?;
        }
        match &self.auth {
            Some(Some(name)) => write!(f, ",auth={name}")?,
            Some(None) => f.write_str(",auth")?,
            None => {}
        }
        if self.down {
            f.write_str(",down")?;
        }
        if self.tls {
            f.write_str(",tls")?;
        }
        Ok(())
    }
}

/// How distcc reaches a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `localhost[/N]`: run here, without a daemon.
    Local,
    /// `HOST[:PORT]`: distccd over TCP. IPv6 addresses keep their brackets.
    Tcp {
        /// Name or address as written (`[::1]` with brackets).
        host: String,
        /// The explicit port, if any.
        port: Option<u16>,
    },
    /// `[USER]@HOST[:COMMAND]`: distccd over ssh.
    Ssh {
        /// User name (may be empty: `@host`).
        user: String,
        /// Host name.
        host: String,
        /// Remote distccd command.
        command: Option<String>,
    },
}

/// One host of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// How to reach it.
    pub transport: Transport,
    /// The explicit limit (`/N`), if any.
    pub limit: Option<u32>,
    /// Options after the host.
    pub options: Options,
}

impl Host {
    /// The limit distcc uses: the explicit one or the default for the transport.
    pub fn effective_limit(&self) -> u32 {
        self.limit.unwrap_or(match self.transport {
            Transport::Local => DEFAULT_LOCAL_LIMIT,
            _ => DEFAULT_REMOTE_LIMIT,
        })
    }

    /// The TCP port distcc connects to, for TCP hosts.
    pub fn effective_port(&self) -> Option<u16> {
        match self.transport {
            Transport::Tcp { port, .. } => Some(port.unwrap_or(DEFAULT_PORT)),
            _ => None,
        }
    }

    /// The address shown to users and used to spot duplicates.
    pub fn address(&self) -> String {
        match &self.transport {
            Transport::Local => "localhost".to_string(),
            Transport::Tcp { host, .. } => host.clone(),
            Transport::Ssh { user, host, .. } => format!("{user}@{host}"),
        }
    }

    /// Identity for duplicate detection: the same machine and port reached the same way.
    fn identity(&self) -> String {
        match &self.transport {
            Transport::Local => "local".to_string(),
            Transport::Tcp { host, .. } => {
                format!(
                    "tcp {}:{}",
                    host,
                    self.effective_port().unwrap_or(DEFAULT_PORT)
                )
            }
            Transport::Ssh { host, .. } => format!("ssh {host}"),
        }
    }
}

impl fmt::Display for Host {
    /// The canonical spelling (new style: `HOST:PORT/LIMIT,OPTIONS`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.transport {
            Transport::Local => f.write_str("localhost")?,
            Transport::Tcp { host, port } => {
                f.write_str(host)?;
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
            }
            Transport::Ssh { user, host, .. } => write!(f, "{user}@{host}")?,
        }
        if let Some(n) = self.limit {
            write!(f, "/{n}")?;
        }
        if let Transport::Ssh {
            command: Some(c), ..
        } = &self.transport
        {
            write!(f, ":{c}")?;
        }
        write!(f, "{}", self.options)
    }
}

/// What one token of the list means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `--randomize`.
    Randomize,
    /// `--localslots[=N]`.
    LocalSlots(Option<u32>),
    /// `--localslots_cpp[=N]`.
    LocalSlotsCpp(Option<u32>),
    /// `+zeroconf`.
    Zeroconf,
    /// A host.
    Host(Host),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Randomize => f.write_str("--randomize"),
            Item::LocalSlots(None) => f.write_str("--localslots"),
            Item::LocalSlots(Some(n)) => write!(f, "--localslots={n}"),
            Item::LocalSlotsCpp(None) => f.write_str("--localslots_cpp"),
            Item::LocalSlotsCpp(Some(n)) => write!(f, "--localslots_cpp={n}"),
            Item::Zeroconf => f.write_str("+zeroconf"),
            Item::Host(h) => h.fmt(f),
        }
    }
}

/// One token with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Byte range of the token in the source.
    pub span: Range<usize>,
    /// 1-based line of the token.
    pub line: usize,
    /// 1-based column of the token.
    pub column: usize,
    /// What it means.
    pub item: Item,
}

/// A parsed host list. Keeps the source so an unedited list prints back byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostList {
    source: String,
    /// The tokens in order.
    pub entries: Vec<Entry>,
    /// Warnings found while parsing.
    pub warnings: Vec<Warning>,
}

impl HostList {
    /// The hosts, in order.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.entries.iter().filter_map(|e| match &e.item {
            Item::Host(h) => Some(h),
            _ => None,
        })
    }

    /// What `distcc -j` prints: the sum of the limits.
    pub fn total_slots(&self) -> u32 {
        self.hosts().map(Host::effective_limit).sum()
    }

    /// The exact source text.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for HostList {
    /// Byte-exact: the source as parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Format a new list: items separated by single spaces, canonical spelling.
pub fn format(items: &[Item]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Line and column (1-based, columns in characters) of byte offset `at` in `src`.
fn position(src: &str, at: usize) -> (usize, usize) {
    let before = src.get(..at).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// A token-local error: offset within the token and the reason.
type TokenError = (usize, String);

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// Split into (offset, token) pairs; `#` ends a token and starts a comment to end of line.
fn tokens(src: &str) -> (Vec<(usize, &str)>, bool) {
    let mut out = Vec::new();
    let mut saw_comment = false;
    let mut start: Option<usize> = None;
    let mut in_comment = false;
    for (i, c) in src.char_indices() {
        if in_comment {
            if c == '\n' {
                in_comment = false;
            }
            continue;
        }
        if c == '#' || is_space(c) {
            if let Some(s) = start.take() {
                out.push((s, &src[s..i]));
            }
            if c == '#' {
                in_comment = true;
                saw_comment = true;
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &src[s..]));
    }
    (out, saw_comment)
}

/// Parse a decimal limit > 0 starting right after `/` or `=`; returns (limit, digits length).
fn parse_limit(s: &str, at: usize) -> Result<(u32, usize), TokenError> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    let digits = s.get(..len).unwrap_or("");
    match digits.parse::<u32>() {
        Ok(0) => Err((at, "limit must be at least 1 (distcc rejects /0)".into())),
        Ok(n) => Ok((n, len)),
        Err(_) if len == 0 => Err((at, "limit must be a decimal number".into())),
        Err(_) => Err((at, format!("limit {digits} is too large"))),
    }
}

fn parse_port(s: &str, at: usize) -> Result<(u16, usize), TokenError> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    let digits = s.get(..len).unwrap_or("");
    match digits.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok((p as u16, len)),
        _ if len == 0 => Err((at, "port is missing after ':'".into())),
        _ => Err((at, format!("port {digits} is out of range (1-65535)"))),
    }
}

fn parse_options(s: &str, at: usize) -> Result<Options, TokenError> {
    let mut opts = Options::default();
    if s.is_empty() {
        return Ok(opts);
    }
    let Some(rest) = s.strip_prefix(',') else {
        return Err((at, format!("unexpected {s:?} after the host")));
    };
    let mut off = at + 1;
    for opt in rest.split(',') {
        match opt {
            "lzo" => opts.lzo = true,
            "cpp" => opts.cpp = true,
            "down" => opts.down = true,
            "tls" => opts.tls = true,
            "auth" => opts.auth = Some(None),
            o if o.starts_with("auth=") && o.len() > 5 => {
                opts.auth = Some(Some(o[5..].to_string()))
            }
            o => return Err((off, format!("unrecognized option ,{o}"))),
        }
        off += opt.len() + 1;
    }
    if opts.cpp && !opts.lzo {
        return Err((at, "',cpp' (pump mode) requires ',lzo'".into()));
    }
    Ok(opts)
}

/// `--localslots` / `--localslots_cpp` suffix: empty, `/N` or `=N`.
fn parse_slots(rest: &str, at: usize) -> Result<Option<u32>, TokenError> {
    if rest.is_empty() {
        return Ok(None);
    }
    match rest.strip_prefix('=').or_else(|| rest.strip_prefix('/')) {
        Some(num) => {
            let (n, len) = parse_limit(num, at + 1)?;
            if len == num.len() {
                Ok(Some(n))
            } else {
                Err((at + 1 + len, format!("unexpected {:?}", &num[len..])))
            }
        }
        None => Err((at, format!("unexpected {rest:?}"))),
    }
}

fn parse_token(tok: &str) -> Result<Item, TokenError> {
    if tok.starts_with("--randomize") {
        return Ok(Item::Randomize);
    }
    if let Some(rest) = tok.strip_prefix("--localslots_cpp") {
        return parse_slots(rest, 16).map(Item::LocalSlotsCpp);
    }
    if let Some(rest) = tok.strip_prefix("--localslots") {
        return parse_slots(rest, 12).map(Item::LocalSlots);
    }
    if tok == "+zeroconf" {
        return Ok(Item::Zeroconf);
    }
    if tok == "localhost" || tok.starts_with("localhost/") {
        // distcc reads options after localhost too (and then ignores them).
        let mut limit = None;
        let mut pos = 9;
        if let Some(num) = tok.strip_prefix("localhost/") {
            let (n, len) = parse_limit(num, 10)?;
            limit = Some(n);
            pos = 10 + len;
        }
        let options = parse_options(&tok[pos..], pos)?;
        return Ok(Item::Host(Host {
            transport: Transport::Local,
            limit,
            options,
        }));
    }
    if let Some(at_sign) = tok.find('@') {
        return parse_ssh(tok, at_sign).map(Item::Host);
    }
    parse_tcp(tok).map(Item::Host)
}

/// A host name or address as distcc would resolve it: letters, digits, `-`, `.` and
/// `_` (or an IPv6 address in brackets). Anything else is a typo distcc would take as part
/// of a name (`192.168.1.10;3636`), and all digits and dots must be an IPv4 address
/// (`192.168.1.300` is not). `at`: the host's offset in the token.
fn check_host(host: &str, at: usize) -> Result<(), TokenError> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err((at + 1, format!("{inner} is not an IPv6 address"))),
        };
    }
    if let Some((i, c)) = host
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        let hint = if c == ';' {
            " (a port follows ':')"
        } else {
            ""
        };
        return Err((at + i, format!("{c:?} cannot be part of a host name{hint}")));
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && host.parse::<std::net::Ipv4Addr>().is_err()
    {
        return Err((
            at,
            format!("{host} is not an IPv4 address (four numbers from 0 to 255)"),
        ));
    }
    Ok(())
}

fn parse_ssh(tok: &str, at_sign: usize) -> Result<Host, TokenError> {
    let user = &tok[..at_sign];
    let after = &tok[at_sign + 1..];
    let host_len = after.find(['/', ':', ',']).unwrap_or(after.len());
    let host = &after[..host_len];
    if host.is_empty() {
        return Err((at_sign + 1, "hostname is required after '@'".into()));
    }
    check_host(host, at_sign + 1)?;
    let mut pos = at_sign + 1 + host_len;
    let mut limit = None;
    if let Some(num) = tok[pos..].strip_prefix('/') {
        let (n, len) = parse_limit(num, pos + 1)?;
        limit = Some(n);
        pos += 1 + len;
    }
    let mut command = None;
    if let Some(cmd) = tok[pos..].strip_prefix(':') {
        let len = cmd.find(',').unwrap_or(cmd.len());
        if len == 0 {
            return Err((pos + 1, "command is missing after ':'".into()));
        }
        command = Some(cmd[..len].to_string());
        pos += 1 + len;
    }
    let options = parse_options(&tok[pos..], pos)?;
    Ok(Host {
        transport: Transport::Ssh {
            user: user.to_string(),
            host: host.to_string(),
            command,
        },
        limit,
        options,
    })
}

fn parse_tcp(tok: &str) -> Result<Host, TokenError> {
    let host_len = if tok.starts_with('[') {
        match tok.find(']') {
            Some(i) => i + 1,
            None => return Err((0, "unterminated '[' in IPv6 address".into())),
        }
    } else {
        tok.find(['/', ':', ',']).unwrap_or(tok.len())
    };
    let host = &tok[..host_len];
    if host.is_empty() || host == "[]" {
        return Err((0, "hostname is required".into()));
    }
    check_host(host, 0)?;
    let mut pos = host_len;
    let mut port = None;
    let mut limit = None;
    // Either order: `:PORT/LIMIT` or the old `/LIMIT:PORT`.
    for _ in 0..2 {
        if port.is_none()
            && let Some(p) = tok[pos..].strip_prefix(':')
        {
            let (n, len) = parse_port(p, pos + 1)?;
            port = Some(n);
            pos += 1 + len;
        } else if limit.is_none()
            && let Some(num) = tok[pos..].strip_prefix('/')
        {
            let (n, len) = parse_limit(num, pos + 1)?;
            limit = Some(n);
            pos += 1 + len;
        }
    }
    let options = parse_options(&tok[pos..], pos)?;
    Ok(Host {
        transport: Transport::Tcp {
            host: host.to_string(),
            port,
        },
        limit,
        options,
    })
}

/// Parse a host list. Errors carry the line and column; warnings go into the list.
pub fn parse(src: &str) -> Result<HostList, Error> {
    let (toks, saw_comment) = tokens(src);
    let mut entries: Vec<Entry> = Vec::with_capacity(toks.len());
    let err = |at: usize, reason: String| {
        let (line, column) = position(src, at);
        Error::Syntax {
            line,
            column,
            reason,
        }
    };
    for (off, tok) in toks {
        let item = parse_token(tok).map_err(|(rel, reason)| {
            err(off + rel.min(tok.len()), format!("{reason} in {tok:?}"))
        })?;
        if let Item::Host(h) = &item {
            // distcc reads a port up to the next NUL, '/' or ',': a `#` glued to the port
            // is part of it and the whole list is rejected.
            let glued_comment = src.as_bytes().get(off + tok.len()) == Some(&b'#');
            let ends_in_port = matches!(h.transport, Transport::Tcp { port: Some(_), .. })
                && tok
                    .rsplit(':')
                    .next()
                    .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
            if glued_comment && ends_in_port {
                return Err(err(
                    off + tok.len(),
                    format!(
                        "a '#' directly after the port is not a comment to distcc in {tok:?}; put a space before it"
                    ),
                ));
            }
            let id = h.identity();
            if let Some(first) = entries
                .iter()
                .find(|e| matches!(&e.item, Item::Host(o) if o.identity() == id))
            {
                return Err(err(
                    off,
                    format!(
                        "host {} is listed twice (first at line {}, column {})",
                        h.address(),
                        first.line,
                        first.column
                    ),
                ));
            }
        }
        let (line, column) = position(src, off);
        entries.push(Entry {
            span: off..off + tok.len(),
            line,
            column,
            item,
        });
    }
    let mut list = HostList {
        source: src.to_string(),
        entries,
        warnings: Vec::new(),
    };
    list.warnings = warnings(&list, saw_comment);
    Ok(list)
}

fn warnings(list: &HostList, saw_comment: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let whole = |message: String| Warning {
        line: 1,
        column: 1,
        message,
    };
    if list.hosts().next().is_none() {
        out.push(whole(if saw_comment {
            "the list has only comments: distcc finds no hosts at all and compiles everything locally".into()
        } else {
            "the list is empty: distcc finds no hosts at all and compiles everything locally"
                .into()
        }));
    }
    let has_remote = list
        .hosts()
        .any(|h| h.transport != Transport::Local && !h.options.down);
    for (i, e) in list.entries.iter().enumerate() {
        let Item::Host(h) = &e.item else { continue };
        let at = |message: String| Warning {
            line: e.line,
            column: e.column,
            message,
        };
        let first_host = list.entries[..i]
            .iter()
            .all(|o| !matches!(o.item, Item::Host(_)));
        if h.transport == Transport::Local && first_host && has_remote {
            out.push(at("localhost is first: distcc fills its slots before any remote host; put it last (or drop it) so the helpers get the work".into()));
        }
        if h.transport == Transport::Local && h.effective_limit() > HUGE_LOCAL_LIMIT {
            out.push(at(format!(
                "localhost/{} is more parallel jobs than a single machine can usefully run",
                h.effective_limit()
            )));
        }
        if h.options.cpp {
            out.push(at(format!(
                "{} asks for pump mode (,cpp): distsetup serve refuses it, and distcc-pump's \
                 include server fails on Python 3.10 and later (the build falls back to \
                 preprocessing here); drop ,cpp",
                h.address()
            )));
        }
        if h.options.down {
            out.push(at(format!(
                "{} is marked ,down: distcc never uses it",
                h.address()
            )));
        }
        if let Transport::Tcp { host, .. } = &h.transport
            && (host == "127.0.0.1" || host == "::1" || host == "[::1]")
        {
            out.push(at(format!(
                "{host} goes through distccd over TCP; plain `localhost` runs jobs here without a daemon"
            )));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("é x", 3), (1, 3));
    }
}
