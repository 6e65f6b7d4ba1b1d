//! Whole-value edits: `Set`, `SetArray`, `Unset`; replacing a commented-out default;
//! placing a new assignment next to the most related one.

use super::render::{Style, render_array, render_scalar, style_of};
use super::{Splice, invalid};
use crate::document::{Assign, Syntax, assignment_split};
use crate::lexer::{self, Kind};
use crate::{Dialect, Document, Error, Scope, Value};

impl Document {
    pub(super) fn set_scalar(&self, name: &str, value: &[u8]) -> Result<Vec<Splice>, Error> {
        match self.target(name)? {
            Some(a) => {
                if a.append {
                    return Err(self.refuse_at(
                        a.name_at,
                        format!("{name} is appended to with += here; edit it by hand"),
                    ));
                }
                let Syntax::Scalar {
                    token,
                    value_start,
                    value_end,
                } = a.syntax
                else {
                    return Err(self.refuse_at(
                        a.name_at,
                        format!(
                            "{name} is an array here; use --enable/--add/--remove for its words"
                        ),
                    ));
                };
                if self.tokens[token].kind == Kind::UnterminatedWord {
                    return Err(self.refuse_at(
                        a.name_at,
                        format!("the value of {name} has a quote that is never closed"),
                    ));
                }
                if a.value == Value::Scalar(value.to_vec()) {
                    return Ok(Vec::new());
                }
                let old = &self.src[value_start..value_end];
                let new = render_scalar(value, style_of(old), self.dialect)?;
                Ok(vec![(value_start, value_end, new)])
            }
            None => {
                if let Some((start, end, export, old)) = self.commented_default(name, false) {
                    let mut line = Vec::new();
                    if export {
                        line.extend_from_slice(b"export ");
                    }
                    line.extend_from_slice(name.as_bytes());
                    line.push(b'=');
                    line.extend(render_scalar(value, style_of(&old), self.dialect)?);
                    return Ok(vec![(start, end, line)]);
                }
                let rendered = render_scalar(value, Style::Double, self.dialect)?;
                Ok(vec![self.insertion(name, &rendered)])
            }
        }
    }

    pub(super) fn set_array(&self, name: &str, values: &[String]) -> Result<Vec<Splice>, Error> {
        if self.dialect != Dialect::Bash {
            return Err(invalid(format!(
                "{name}: arrays exist only in bash files, not in this {} file",
                dialect_name(self.dialect)
            )));
        }
        let rendered = render_array(values)?;
        match self.target(name)? {
            Some(a) => {
                if a.append {
                    return Err(self.refuse_at(
                        a.name_at,
                        format!("{name} is appended to with += here; edit it by hand"),
                    ));
                }
                let wanted: Vec<Vec<u8>> = values.iter().map(|v| v.as_bytes().to_vec()).collect();
                if a.value == Value::Array(wanted) {
                    return Ok(Vec::new());
                }
                match &a.syntax {
                    Syntax::Scalar {
                        value_start,
                        value_end,
                        ..
                    } => Ok(vec![(*value_start, *value_end, rendered)]),
                    Syntax::Array { open, close, .. } => {
                        let Some(close) = close else {
                            return Err(self.refuse_at(
                                a.name_at,
                                format!("the array {name} is never closed"),
                            ));
                        };
                        let start = self.tokens[*open].start;
                        let end = self.tokens[*close].end;
                        Ok(vec![(start, end, rendered)])
                    }
                }
            }
            None => {
                let value = rendered;
                Ok(vec![self.insertion(name, &value)])
            }
        }
    }

    pub(super) fn unset(&self, name: &str) -> Result<Vec<Splice>, Error> {
        let mut splices = Vec::new();
        for a in self.assigns.iter().filter(|a| a.name == name) {
            if a.scope != Scope::TopLevel {
                return Err(self.refuse_at(
                    a.name_at,
                    format!("{name} is assigned inside a conditional block or function here; remove it by hand"),
                ));
            }
            let st = self.statements[a.statement];
            if !st.sole_assignment {
                return Err(self.refuse_at(
                    a.name_at,
                    format!("{name} shares its line with other commands here; remove it by hand"),
                ));
            }
            let start = self.tokens[st.first].start;
            let end = self.tokens[st.last - 1].end;
            splices.push((start, end, Vec::new()));
        }
        Ok(splices)
    }

    /// The last top-level comment line that is a commented-out default of `name`
    /// (`#NAME="…"`, `# export NAME=…`): (start, end, has export, old raw value).
    fn commented_default(&self, name: &str, array: bool) -> Option<(usize, usize, bool, Vec<u8>)> {
        self.statements
            .iter()
            .rev()
            .filter(|s| s.comment_only && s.scope == Scope::TopLevel)
            .find_map(|s| {
                let tok = (s.first..s.last).find(|&t| self.tokens[t].kind == Kind::Comment)?;
                let t = self.tokens[tok];
                let body = &self.src[t.start + 1..t.end];
                let body = trim_start_blanks(body);
                let (export, body) = match body.strip_prefix(b"export") {
                    Some(rest) if rest.first().is_some_and(|b| *b == b' ' || *b == b'\t') => {
                        (true, trim_start_blanks(rest))
                    }
                    _ => (false, body),
                };
                let (name_len, append, eq_end) = assignment_split(body)?;
                if append || &body[..name_len] != name.as_bytes() {
                    return None;
                }
                let toks = lexer::tokenize(body);
                let first = toks.first()?;
                if first.kind != Kind::Word {
                    return None;
                }
                let rest_start = if array {
                    let open = toks.get(1).filter(|t| t.kind == Kind::ArrayOpen)?;
                    let close = toks.iter().position(|t| t.kind == Kind::ArrayClose)?;
                    let _ = open;
                    close + 1
                } else {
                    if toks.get(1).is_some_and(|t| t.kind == Kind::ArrayOpen) {
                        return None;
                    }
                    1
                };
                let trailing_ok = toks[rest_start..]
                    .iter()
                    .all(|t| matches!(t.kind, Kind::Blank | Kind::Comment));
                let ends_with_backslash = body.trim_ascii_end().ends_with(b"\\");
                if !trailing_ok || ends_with_backslash {
                    return None;
                }
                let old = body[eq_end..first.end].to_vec();
                Some((t.start, t.end, export, old))
            })
    }

    /// Where a new assignment goes: after the most related top-level assignment (the
    /// longest shared name prefix, at least 4 bytes), else after the last top-level
    /// assignment, else at the end.
    pub(super) fn insertion(&self, name: &str, value: &[u8]) -> Splice {
        let tops: Vec<&Assign> = self
            .assigns
            .iter()
            .filter(|a| a.scope == Scope::TopLevel)
            .collect();
        let shared = |a: &Assign| {
            a.name
                .bytes()
                .zip(name.bytes())
                .take_while(|(x, y)| x == y)
                .count()
        };
        let best = tops
            .iter()
            .filter(|a| shared(a) >= 4)
            .max_by_key(|a| (shared(a), a.name_at))
            .or_else(|| tops.last());
        let le = self.line_ending();
        let mut line = name.as_bytes().to_vec();
        line.push(b'=');
        line.extend_from_slice(value);
        let at = match best {
            Some(a) => {
                let st = self.statements[a.statement];
                self.tokens[st.last - 1].end
            }
            None => self.src.len(),
        };
        let at = if self.sources_after(at) {
            self.src.len()
        } else {
            at
        };
        let after_newline = at == 0 || self.src[..at].ends_with(b"\n");
        let mut text = Vec::new();
        if after_newline {
            text.extend_from_slice(&line);
            text.extend_from_slice(le);
        } else {
            text.extend_from_slice(le);
            text.extend_from_slice(&line);
        }
        (at, at, text)
    }
}

impl Document {
    /// Whether a Portage `source` line comes at or after `offset`: what it reads would
    /// override a new line placed before it.
    fn sources_after(&self, offset: usize) -> bool {
        self.dialect == Dialect::Portage
            && self.statements.iter().any(|st| {
                !st.comment_only
                    && (st.first..st.last)
                        .find(|&t| self.tokens[t].kind != Kind::Blank)
                        .is_some_and(|t| {
                            self.tokens[t].start >= offset && self.text(t) == b"source"
                        })
            })
    }
}

fn trim_start_blanks(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    &s[n..]
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Bash => "bash",
        Dialect::Portage => "portage make.conf",
        Dialect::EnvironmentFile => "systemd EnvironmentFile",
    }
}
