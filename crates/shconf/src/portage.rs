//! What Portage reads from a make.conf: a faithful model of `portage.util.getconfig()`
//! (`allow_sourcing=True`, `tolerant=False`), which is Python's `shlex` in POSIX mode with
//! Portage's word characters, followed by Portage's own `varexpand()`. It is not bash:
//!
//! - `=` is a token of its own, so `FEATURES = "x"` is an assignment; `;` is a word
//!   character, so `FEATURES="x";` assigns `x;`; `#` starts a comment even inside an
//!   unquoted word (`a#b` is `a`);
//! - quote removal happens first, then `${VAR}`/`$VAR` are expanded even in what was
//!   single-quoted; a literal `'` or `"` left in a value switches expansion off or on
//!   (Portage's bug-for-bug behaviour); unknown variables expand to nothing; `$(…)`,
//!   `${X:-y}` make the whole value empty, with a message;
//! - newlines in values become spaces; inside double quotes `\$`, `\\` and `\"` are
//!   escapes, `\` + newline is removed;
//! - `source FILE` reads another file in the middle of the token stream;
//! - anything else (`(`, `+=`, a BOM, `if`, a bare `export NAME`) is a parse error that
//!   stops emerge.
//!
//! No I/O: sourced files are asked for through a callback.

use std::collections::{BTreeMap, VecDeque};

/// One assignment as Portage performs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The variable.
    pub name: String,
    /// The value after expansion.
    pub value: String,
    /// The file it is in (the top file or a sourced one), as Portage names it.
    pub file: String,
    /// 1-based line of the name.
    pub line: usize,
}

/// A message Portage prints while still reading the file (a bad substitution empties
/// the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Portage's words.
    pub message: String,
}

/// A file emerge refuses to read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ParseError {
    /// The file (the top file or a sourced one).
    pub file: String,
    /// 1-based line of the assignment (or token) at fault: what we show the user.
    pub line: usize,
    /// The line Portage's own message names: its lexer's line when it stopped, which is
    /// past the offending token and whatever newline or comment it read along with it.
    pub stop_line: usize,
    /// Portage's words.
    pub message: String,
}

/// Everything one `getconfig()` call reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// Assignments in the order Portage performs them.
    pub assignments: Vec<Assignment>,
    /// Messages printed on the way.
    pub warnings: Vec<Warning>,
}

impl Reading {
    /// The variables as the returned dictionary holds them (the last assignment wins).
    pub fn vars(&self) -> BTreeMap<String, String> {
        self.assignments
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect()
    }
}

/// What a `source` line found.
pub enum Sourced {
    /// The file's bytes.
    Found(Vec<u8>),
    /// No such file (or a path component is not a directory).
    Missing,
    /// Any other failure (a directory, no permission), in words.
    Failed(String),
}

/// How deep `source` may nest.
pub const MAX_SOURCE_DEPTH: usize = 32;

const WORDCHARS: &str = "~!@#$%*_\\:;?,./-+{}";

fn is_wordchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || WORDCHARS.contains(c)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

struct Stream {
    file: String,
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Space,
    Word,
    Quote(char),
    Escape,
    Eof,
}

struct Lexer<'a> {
    streams: Vec<Stream>,
    state: State,
    pushback: VecDeque<String>,
    /// Line where the last token started.
    token_line: usize,
    source: &'a mut dyn FnMut(&str) -> Sourced,
}

impl Lexer<'_> {
    fn current(&mut self) -> &mut Stream {
        let n = self.streams.len() - 1;
        &mut self.streams[n]
    }

    fn error(&mut self, message: String) -> ParseError {
        let s = self.current();
        ParseError {
            file: s.file.clone(),
            line: s.line,
            stop_line: s.line,
            message,
        }
    }

    /// An error at the line where the last token started.
    fn error_at_token(&mut self, message: String) -> ParseError {
        let line = self.token_line;
        ParseError {
            line,
            ..self.error(message)
        }
    }

    fn next_char(&mut self) -> Option<char> {
        let s = self.current();
        let c = s.chars.get(s.pos).copied();
        if c.is_some() {
            s.pos += 1;
        }
        if c == Some('\n') {
            s.line += 1;
        }
        c
    }

    fn skip_comment(&mut self) {
        let s = self.current();
        while let Some(&c) = s.chars.get(s.pos) {
            s.pos += 1;
            if c == '\n' {
                break;
            }
        }
        s.line += 1;
    }

    /// `shlex.read_token()`: `None` at the end of the current stream.
    fn read_token(&mut self) -> Result<Option<String>, ParseError> {
        let mut quoted = false;
        let mut escaped_in = State::Space;
        let mut token = String::new();
        let started = self.current().line;
        self.token_line = started;
        loop {
            let c = self.next_char();
            if token.is_empty() && !quoted && matches!(self.state, State::Space) {
                self.token_line = self.current().line - usize::from(c == Some('\n'));
            }
            match (self.state, c) {
                (State::Eof, _) => {
                    token.clear();
                    break;
                }
                (State::Space | State::Word, None) => {
                    self.state = State::Eof;
                    break;
                }
                (State::Space | State::Word, Some(c)) if is_space(c) => {
                    self.state = State::Space;
                    if !token.is_empty() || quoted {
                        break;
                    }
                }
                (State::Space | State::Word, Some('#')) => {
                    self.skip_comment();
                    if self.state == State::Word {
                        self.state = State::Space;
                        if !token.is_empty() || quoted {
                            break;
                        }
                    }
                }
                (State::Space | State::Word, Some('\\')) => {
                    escaped_in = State::Word;
                    self.state = State::Escape;
                }
                (State::Space | State::Word, Some(q @ ('"' | '\''))) => {
                    self.state = State::Quote(q)
                }
                (State::Space | State::Word, Some(c)) if is_wordchar(c) => {
                    token.push(c);
                    self.state = State::Word;
                }
                (State::Space, Some(c)) => {
                    token.push(c);
                    break;
                }
                (State::Word, Some(c)) => {
                    self.pushback.push_front(c.to_string());
                    self.state = State::Space;
                    break;
                }
                (State::Quote(_), None) => return Err(self.error("No closing quotation".into())),
                (State::Quote(q), Some(c)) => {
                    quoted = true;
                    if c == q {
                        self.state = State::Word;
                    } else if q == '"' && c == '\\' {
                        escaped_in = State::Quote(q);
                        self.state = State::Escape;
                    } else {
                        token.push(c);
                    }
                }
                (State::Escape, None) => return Err(self.error("No escaped character".into())),
                (State::Escape, Some(c)) => {
                    if let State::Quote(q) = escaped_in {
                        if c != '\\' && c != q {
                            token.push('\\');
                        }
                    }
                    token.push(c);
                    self.state = escaped_in;
                }
            }
        }
        Ok((quoted || !token.is_empty()).then_some(token))
    }

    /// `shlex.get_token()` with `source` handling.
    fn get_token(
        &mut self,
        expand: &BTreeMap<String, String>,
    ) -> Result<Option<String>, ParseError> {
        if let Some(t) = self.pushback.pop_front() {
            return Ok(Some(t));
        }
        let mut raw = self.read_token()?;
        while raw.as_deref() == Some("source") {
            let Some(spec) = self.read_token()? else {
                return Err(self.error("source without a file name".into()));
            };
            self.push_source(&spec, expand)?;
            raw = self.get_token(expand)?;
        }
        while raw.is_none() {
            if self.streams.len() == 1 {
                return Ok(None);
            }
            self.streams.pop();
            self.state = State::Space;
            raw = self.get_token(expand)?;
        }
        Ok(raw)
    }

    fn push_source(
        &mut self,
        spec: &str,
        expand: &BTreeMap<String, String>,
    ) -> Result<(), ParseError> {
        let mut ignored = Vec::new();
        let mut path = varexpand(spec, expand, &mut ignored);
        if path.starts_with('"') {
            path = path.chars().skip(1).collect();
            path.pop();
        }
        if path.is_empty() {
            return Err(self.error_at_token("source of an empty file name".into()));
        }
        // Portage would recurse until it runs out of memory; we stop and say why.
        if self.streams.len() > MAX_SOURCE_DEPTH {
            return Err(self.error_at_token(format!(
                "{path}: sourced files nested more than {MAX_SOURCE_DEPTH} deep (does a file source itself?)"
            )));
        }
        if !path.starts_with('/') {
            let file = self.current().file.clone();
            let dir = match file.rfind('/') {
                Some(i) => &file[..i],
                None => "",
            };
            path = if dir.is_empty() {
                path
            } else {
                format!("{dir}/{path}")
            };
        }
        match (self.source)(&path) {
            Sourced::Found(bytes) => {
                self.streams.push(Stream {
                    file: path,
                    chars: python_text(&bytes).chars().collect(),
                    pos: 0,
                    line: 1,
                });
                self.state = State::Space;
                Ok(())
            }
            Sourced::Missing => {
                Err(self.error_at_token(format!("{path}: No such file or directory")))
            }
            Sourced::Failed(why) => Err(self.error_at_token(format!("{path}: {why}"))),
        }
    }
}

/// The text Python's `open()` gives: UTF-8 with bad bytes replaced, and universal
/// newlines (`\r\n` and a lone `\r` read as `\n`).
fn python_text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

/// True when Python's `re.search(r"^\d|\W", key)` finds nothing.
fn valid_name(key: &str) -> bool {
    !key.chars().next().is_some_and(|c| c.is_numeric())
        && key.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `portage.util.getconfig(file, tolerant=False, allow_sourcing=True, expand=expand)` for
/// one file's bytes: `expand` holds the variables known before (and receives each
/// assignment); `source` opens sourced files by the path Portage would open.
pub fn getconfig(
    file: &str,
    bytes: &[u8],
    expand: &mut BTreeMap<String, String>,
    source: &mut dyn FnMut(&str) -> Sourced,
) -> Result<Reading, ParseError> {
    let mut text = python_text(bytes);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let mut lex = Lexer {
        streams: vec![Stream {
            file: file.to_string(),
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
        }],
        state: State::Space,
        pushback: VecDeque::new(),
        token_line: 1,
        source,
    };
    let mut reading = Reading::default();
    loop {
        let mut key = lex.get_token(expand)?;
        if key.as_deref() == Some("export") {
            key = lex.get_token(expand)?;
        }
        let Some(key) = key else { break };
        let (key_file, key_line) = (lex.current().file.clone(), lex.token_line);
        let at = |stop_line: usize, message: String| ParseError {
            file: key_file.clone(),
            line: key_line,
            stop_line,
            message,
        };
        let equals = lex.get_token(expand)?;
        let stop = lex.current().line;
        match equals {
            None => return Err(at(stop, "Unexpected EOF".into())),
            Some(e) if e.is_empty() => return Err(at(stop, "Unexpected EOF".into())),
            Some(e) if e != "=" => {
                return Err(at(stop, format!("Invalid token '{e}' (not '=')")));
            }
            Some(_) => {}
        }
        let value = lex.get_token(expand)?;
        let stop = lex.current().line;
        let Some(val) = value else {
            return Err(at(
                stop,
                format!("Unexpected end of config file: variable '{key}'"),
            ));
        };
        if !valid_name(&key) {
            return Err(at(stop, format!("Invalid variable name '{key}'")));
        }
        let mut messages = Vec::new();
        let value = varexpand(&val, expand, &mut messages);
        reading
            .warnings
            .extend(messages.into_iter().map(|message| Warning {
                file: key_file.clone(),
                line: key_line,
                message,
            }));
        expand.insert(key.clone(), value.clone());
        reading.assignments.push(Assignment {
            name: key,
            value,
            file: key_file,
            line: key_line,
        });
    }
    Ok(reading)
}

const UNEXPECTED_EOF: &str = "unexpected EOF while looking for matching `}'";

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `portage.util.varexpand()`: expansion after shlex removed the quotes. A malformed
/// expansion empties the whole value and leaves a message.
pub fn varexpand(s: &str, vars: &BTreeMap<String, String>, messages: &mut Vec<String>) -> String {
    let c: Vec<char> = s.chars().collect();
    let n = c.len();
    let (mut insing, mut indoub) = (false, false);
    let mut out = String::new();
    let mut pos = 0;
    while pos < n {
        let cur = c[pos];
        if cur == '\'' {
            out.push('\'');
            if !indoub {
                insing = !insing;
            }
            pos += 1;
            continue;
        }
        if cur == '"' {
            out.push('"');
            if !insing {
                indoub = !indoub;
            }
            pos += 1;
            continue;
        }
        if insing {
            out.push(cur);
            pos += 1;
            continue;
        }
        match cur {
            '\n' => {
                out.push(' ');
                pos += 1;
            }
            '\\' => {
                if pos + 1 >= n {
                    out.push('\\');
                    break;
                }
                let next = c[pos + 1];
                pos += 2;
                match next {
                    '$' => out.push('$'),
                    '\\' => {
                        out.push('\\');
                        if pos < n && matches!(c[pos], '\'' | '"' | '$') {
                            out.push(c[pos]);
                            pos += 1;
                        }
                    }
                    '\n' => {}
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '$' => {
                pos += 1;
                if pos == n {
                    out.push('$');
                    continue;
                }
                let braced = c[pos] == '{';
                if braced {
                    pos += 1;
                    if pos == n {
                        messages.push(UNEXPECTED_EOF.into());
                        return String::new();
                    }
                }
                let start = pos;
                while is_var_char(c[pos]) {
                    if pos + 1 >= n {
                        if braced {
                            messages.push(UNEXPECTED_EOF.into());
                            return String::new();
                        }
                        pos += 1;
                        break;
                    }
                    pos += 1;
                }
                let name: String = c[start..pos].iter().collect();
                if braced {
                    if c[pos] != '}' {
                        messages.push(UNEXPECTED_EOF.into());
                        return String::new();
                    }
                    pos += 1;
                }
                if name.is_empty() {
                    messages.push(format!(
                        "${}: bad substitution",
                        if braced { "{}" } else { "" }
                    ));
                    return String::new();
                }
                if let Some(v) = vars.get(&name) {
                    out.push_str(v);
                }
            }
            other => {
                out.push(other);
                pos += 1;
            }
        }
    }
    out
}

/// Read one file that sources nothing (sourcing is an error): for checking how Portage
/// reads a value we are about to write.
pub fn read_alone(bytes: &[u8]) -> Result<Reading, ParseError> {
    let mut none = |_: &str| Sourced::Failed("not followed here".into());
    getconfig("<value>", bytes, &mut BTreeMap::new(), &mut none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sourcing_itself_is_an_error_not_a_hang() {
        let mut again = |_: &str| Sourced::Found(b"source /etc/x\n".to_vec());
        let e = getconfig(
            "/etc/x",
            b"source /etc/x\n",
            &mut BTreeMap::new(),
            &mut again,
        )
        .unwrap_err();
        assert!(e.message.contains("nested more than"), "{e}");
    }

    #[test]
    fn values_as_portage_reads_them() {
        let vars = read_alone(b"A=1\nB='${A} x'\nC=\"a\nb\"\nD=x#y\nE = \"e\"\nF=\"f\";\n")
            .unwrap()
            .vars();
        assert_eq!(vars["B"], "1 x");
        assert_eq!(vars["C"], "a b");
        assert_eq!(vars["D"], "x");
        assert_eq!(vars["E"], "e");
        assert_eq!(vars["F"], "f;");
        let e = read_alone(b"A=1\nFEATURES+=\"x\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (2, "Invalid variable name 'FEATURES+'")
        );
    }
}
