//! Edits: each computes byte splices on the source, which are applied and the document
//! re-analysed; bytes outside the splices never change. After applying, the result is
//! checked against the intent (a `Set` must read back as the value it set), and the
//! document is restored when it does not.

use super::document::{Assign, Syntax, assignment_split};
use super::lexer::{self, Kind};
use super::{Dialect, Document, Error, Scope, Value};

/// One edit of one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set a scalar.
    Set {
        /// Variable.
        name: String,
        /// New value (what bash should see).
        value: String,
    },
    /// Set a whole array (bash only).
    SetArray {
        /// Variable.
        name: String,
        /// New elements.
        values: Vec<String>,
    },
    /// Remove the variable's assignments.
    Unset {
        /// Variable.
        name: String,
    },
    /// Turn `!word` (`-word` in Portage strings) into `word` in place; add it if absent.
    Enable {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// Turn `word` into `!word` (`-word`) in place; add the negated word if absent.
    Disable {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// Add `word` when absent.
    Add {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
    /// Remove every occurrence of `word`.
    Remove {
        /// Variable.
        name: String,
        /// Word.
        word: String,
    },
}

impl Edit {
    /// The variable this edit touches.
    pub fn name(&self) -> &str {
        match self {
            Edit::Set { name, .. }
            | Edit::SetArray { name, .. }
            | Edit::Unset { name }
            | Edit::Enable { name, .. }
            | Edit::Disable { name, .. }
            | Edit::Add { name, .. }
            | Edit::Remove { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordOp {
    Enable,
    Disable,
    Add,
    Remove,
}

type Splice = (usize, usize, Vec<u8>);

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Bare,
    Single,
    Double,
    Empty,
    Mixed,
}

fn style_of(raw: &[u8]) -> Style {
    let single_segment = |q: u8| {
        raw.len() >= 2
            && raw[0] == q
            && raw[raw.len() - 1] == q
            && lexer::tokenize(raw).len() == 1
            && !raw[1..raw.len() - 1].contains(&q)
    };
    if raw.is_empty() {
        Style::Empty
    } else if single_segment(b'\'') {
        Style::Single
    } else if raw[0] == b'"' && raw[raw.len() - 1] == b'"' && double_body_closed_only_at_end(raw) {
        Style::Double
    } else if !raw
        .iter()
        .any(|b| matches!(b, b'\'' | b'"' | b'\\' | b'$' | b'`'))
    {
        Style::Bare
    } else {
        Style::Mixed
    }
}

/// True when a `"…"` value has no unescaped `"` before its last byte.
fn double_body_closed_only_at_end(raw: &[u8]) -> bool {
    let mut i = 1;
    while i < raw.len() - 1 {
        match raw[i] {
            b'\\' => i += 2,
            b'"' => return false,
            _ => i += 1,
        }
    }
    i == raw.len() - 1
}

fn bare_safe(v: &[u8], extra: &[u8]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,^".contains(b) || extra.contains(b))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Quote `value` for the dialect, preferring `style`.
fn render_scalar(value: &[u8], style: Style, dialect: Dialect) -> Result<Vec<u8>, Error> {
    if value.contains(&0) {
        return Err(invalid("a value cannot contain a NUL byte"));
    }
    if value.contains(&b'\n') && dialect != Dialect::Bash {
        return Err(invalid(match dialect {
            Dialect::Portage => "portage turns newlines in values into spaces: write one line",
            _ => "a systemd EnvironmentFile value cannot hold a newline",
        }));
    }
    let single = |v: &[u8]| [&b"'"[..], v, b"'"].concat();
    let shell_special = |b: &u8| matches!(b, b'\\' | b'"' | b'$' | b'`');
    match style {
        Style::Bare if bare_safe(value, b"") => return Ok(value.to_vec()),
        Style::Single if !value.contains(&b'\'') => return Ok(single(value)),
        _ => {}
    }
    if dialect == Dialect::Portage && value.iter().any(shell_special) {
        if value.contains(&b'\'') {
            return Err(invalid(
                "portage cannot take a value with both a single quote and one of \\ \" $ `",
            ));
        }
        return Ok(single(value));
    }
    let mut out = vec![b'"'];
    for &b in value {
        let escape = match dialect {
            Dialect::EnvironmentFile => matches!(b, b'\\' | b'"'),
            _ => shell_special(&b),
        };
        if escape {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    Ok(out)
}

fn render_element(value: &[u8], old: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    if value.contains(&0) || value.contains(&b'\n') {
        return Err(invalid(
            "an array element cannot contain a NUL byte or a newline",
        ));
    }
    let style = old.map_or(Style::Bare, style_of);
    match style {
        Style::Double => render_scalar(value, Style::Double, Dialect::Bash),
        Style::Single if !value.contains(&b'\'') => {
            render_scalar(value, Style::Single, Dialect::Bash)
        }
        _ if bare_safe(value, b"!") => Ok(value.to_vec()),
        _ => render_scalar(value, Style::Single, Dialect::Bash),
    }
}

fn render_array(values: &[String]) -> Result<Vec<u8>, Error> {
    let mut out = vec![b'('];
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend(render_element(v.as_bytes(), None)?);
    }
    out.push(b')');
    Ok(out)
}

impl Document {
    /// Apply one edit. `Ok(true)` when the document changed, `Ok(false)` when it already
    /// matched. On `Err` the document is unchanged.
    pub fn apply(&mut self, edit: &Edit) -> Result<bool, Error> {
        let name = edit.name();
        if !lexer::is_name(name.as_bytes()) {
            return Err(invalid(format!("{name:?} is not a valid variable name")));
        }
        if let Some(t) = self
            .tokens
            .iter()
            .find(|t| t.kind == Kind::UnterminatedWord)
        {
            // Everything after an unclosed quote is part of that quote for bash: no edit
            // anywhere in the file can be trusted to mean what it says.
            return Err(self.refuse_at(
                t.start,
                "a quote or substitution opened here is never closed; fix the file first".into(),
            ));
        }
        let splices = match edit {
            Edit::Set { name, value } => self.set_scalar(name, value.as_bytes())?,
            Edit::SetArray { name, values } => self.set_array(name, values)?,
            Edit::Unset { name } => self.unset(name)?,
            Edit::Enable { name, word } => self.word_edit(name, word, WordOp::Enable)?,
            Edit::Disable { name, word } => self.word_edit(name, word, WordOp::Disable)?,
            Edit::Add { name, word } => self.word_edit(name, word, WordOp::Add)?,
            Edit::Remove { name, word } => self.word_edit(name, word, WordOp::Remove)?,
        };
        if splices.is_empty() {
            return Ok(false);
        }
        let before = self.src.clone();
        self.splice(splices);
        if let Err(e) = self.check_result(edit) {
            self.src = before;
            self.reparse();
            return Err(e);
        }
        Ok(true)
    }

    fn splice(&mut self, mut splices: Vec<Splice>) {
        splices.sort_by_key(|s| std::cmp::Reverse(s.0));
        for (start, end, text) in splices {
            self.src.splice(start..end, text);
        }
        self.reparse();
    }

    /// After an edit, the value must read back as intended.
    fn check_result(&self, edit: &Edit) -> Result<(), Error> {
        let got = self.get(edit.name()).map(|a| a.value);
        let ok = match (edit, &got) {
            (Edit::Set { value, .. }, Some(Value::Scalar(v))) => v == value.as_bytes(),
            (Edit::SetArray { values, .. }, Some(Value::Array(v))) => v
                .iter()
                .map(Vec::as_slice)
                .eq(values.iter().map(String::as_bytes)),
            (Edit::Unset { .. }, None) => true,
            (Edit::Unset { .. }, _) => false,
            (Edit::Set { .. } | Edit::SetArray { .. }, _) => false,
            (e, Some(v)) => {
                let words = static_words(v);
                match (e, words) {
                    (_, None) => true,
                    (Edit::Add { word, .. }, Some(w)) => w.iter().any(|x| x == word.as_bytes()),
                    (Edit::Remove { word, .. }, Some(w)) => !w.iter().any(|x| x == word.as_bytes()),
                    (Edit::Enable { word, .. }, Some(w)) => w.iter().any(|x| x == word.as_bytes()),
                    (Edit::Disable { word, .. }, Some(w)) => {
                        !w.iter().any(|x| x == word.as_bytes())
                    }
                    _ => true,
                }
            }
            (_, None) => true,
        };
        if ok {
            Ok(())
        } else {
            Err(invalid(format!(
                "internal check failed: after the edit {} does not read back as intended; nothing was changed",
                edit.name()
            )))
        }
    }

    fn refuse_at(&self, offset: usize, reason: String) -> Error {
        let (line, column) = self.position(offset);
        Error::Refused {
            line,
            column,
            reason,
        }
    }

    /// The assignment to edit: the last top-level one, unless a later assignment in a
    /// conditional or function would make the edit meaningless.
    fn target(&self, name: &str) -> Result<Option<&Assign>, Error> {
        let last_any = self.assigns.iter().rposition(|a| a.name == name);
        let last_top = self
            .assigns
            .iter()
            .rposition(|a| a.name == name && a.scope == Scope::TopLevel);
        match (last_any, last_top) {
            (None, _) => Ok(None),
            (Some(a), Some(t)) if a == t => Ok(Some(&self.assigns[t])),
            (Some(a), _) => {
                let a = &self.assigns[a];
                let place = match a.scope {
                    Scope::Function => "inside a function",
                    _ => "inside a conditional block (if/case/loop)",
                };
                Err(self.refuse_at(
                    a.name_at,
                    format!(
                        "{name} is assigned {place} here, which distsetup cannot edit safely; \
                         change it by hand"
                    ),
                ))
            }
        }
    }

    fn set_scalar(&self, name: &str, value: &[u8]) -> Result<Vec<Splice>, Error> {
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

    fn set_array(&self, name: &str, values: &[String]) -> Result<Vec<Splice>, Error> {
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

    fn unset(&self, name: &str) -> Result<Vec<Splice>, Error> {
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
    fn insertion(&self, name: &str, value: &[u8]) -> Splice {
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

    fn word_edit(&self, name: &str, word: &str, op: WordOp) -> Result<Vec<Splice>, Error> {
        let w = word.as_bytes();
        if w.is_empty() || w.iter().any(|b| b.is_ascii_whitespace() || *b == 0) {
            return Err(invalid(format!("{word:?} is not a single word")));
        }
        let Some(a) = self.target(name)? else {
            let first = match op {
                WordOp::Remove => return Ok(Vec::new()),
                WordOp::Disable => self.negated(w, self.dialect == Dialect::Bash),
                WordOp::Enable | WordOp::Add => w.to_vec(),
            };
            let first = String::from_utf8_lossy(&first).into_owned();
            let rendered = if self.dialect == Dialect::Bash {
                render_array(&[first])?
            } else {
                render_scalar(first.as_bytes(), Style::Double, self.dialect)?
            };
            return Ok(vec![self.insertion(name, &rendered)]);
        };
        if a.append {
            return Err(self.refuse_at(
                a.name_at,
                format!("{name} is appended to with += here; edit it by hand"),
            ));
        }
        match &a.syntax {
            Syntax::Array {
                elements, close, ..
            } => {
                let Value::Array(values) = &a.value else {
                    let reason = match &a.value {
                        Value::Dynamic { reason } => reason.clone(),
                        _ => "it is not a static array".into(),
                    };
                    return Err(self.refuse_at(
                        a.name_at,
                        format!("the value of {name} is dynamic ({reason}); edit it by hand"),
                    ));
                };
                let Some(close) = close else {
                    return Err(
                        self.refuse_at(a.name_at, format!("the array {name} is never closed"))
                    );
                };
                self.array_word_edit(elements, *close, values, w, op)
            }
            Syntax::Scalar { .. } => self.string_word_edit(a, w, op),
        }
    }

    fn negated(&self, w: &[u8], array: bool) -> Vec<u8> {
        let mark = if !array && self.dialect == Dialect::Portage {
            b'-'
        } else {
            b'!'
        };
        [&[mark][..], w].concat()
    }

    fn array_word_edit(
        &self,
        elements: &[usize],
        close: usize,
        values: &[Vec<u8>],
        w: &[u8],
        op: WordOp,
    ) -> Result<Vec<Splice>, Error> {
        let neg = self.negated(w, true);
        let (from, to): (&[u8], &[u8]) = match op {
            WordOp::Enable => (&neg, w),
            WordOp::Disable => (w, &neg),
            WordOp::Add | WordOp::Remove => (w, w),
        };
        let mut splices = Vec::new();
        let present = values.iter().any(|v| v == to);
        match op {
            WordOp::Enable | WordOp::Disable => {
                for (&tok, v) in elements.iter().zip(values) {
                    if v == from {
                        let t = self.tokens[tok];
                        splices.push((t.start, t.end, render_element(to, Some(self.text(tok)))?));
                    }
                }
                if splices.is_empty() && !present {
                    splices.push(self.array_append(elements, close, to)?);
                }
            }
            WordOp::Add => {
                if !present {
                    splices.push(self.array_append(elements, close, to)?);
                }
            }
            WordOp::Remove => {
                for (i, (&tok, v)) in elements.iter().zip(values).enumerate() {
                    if v == w {
                        let t = self.tokens[tok];
                        // Take the blank before the element, or after it for the first one.
                        let before = tok.checked_sub(1).map(|p| self.tokens[p]);
                        let after = self.tokens.get(tok + 1);
                        let (start, end) = match (before, after) {
                            (Some(b), _) if b.kind == Kind::Blank && i > 0 => (b.start, t.end),
                            (_, Some(n)) if n.kind == Kind::Blank => (t.start, n.end),
                            _ => (t.start, t.end),
                        };
                        splices.push((start, end, Vec::new()));
                    }
                }
            }
        }
        Ok(splices)
    }

    fn array_append(&self, elements: &[usize], close: usize, word: &[u8]) -> Result<Splice, Error> {
        let rendered = render_element(word, None)?;
        match elements.last() {
            Some(&last) => {
                let at = self.tokens[last].end;
                Ok((at, at, [&b" "[..], &rendered].concat()))
            }
            None => {
                let at = self.tokens[close].start;
                Ok((at, at, rendered))
            }
        }
    }

    /// Word edits of a string value, across the chain of accumulating assignments
    /// (`X="${X} more"`) that ends at `a`.
    fn string_word_edit(&self, a: &Assign, w: &[u8], op: WordOp) -> Result<Vec<Splice>, Error> {
        let chain = self.chain(a)?;
        let neg = self.negated(w, false);
        let all_words: Vec<&WordAt> = chain.iter().flat_map(|l| l.words.iter()).collect();
        let has = |x: &[u8]| all_words.iter().any(|wa| self.src[wa.start..wa.end] == *x);
        let mut splices = Vec::new();
        let (from, to): (&[u8], &[u8]) = match op {
            WordOp::Enable => (&neg, w),
            WordOp::Disable => (w, &neg),
            WordOp::Add | WordOp::Remove => (w, w),
        };
        let target = chain
            .last()
            .ok_or_else(|| invalid("empty assignment chain"))?;
        match op {
            WordOp::Enable | WordOp::Disable => {
                let present = has(to);
                for wa in &all_words {
                    if self.src[wa.start..wa.end] == *from {
                        splices.push((wa.start, wa.end, to.to_vec()));
                    }
                }
                if splices.is_empty() && !present {
                    splices.extend(self.literal_append(target, to)?);
                }
            }
            WordOp::Add => {
                if !has(w) {
                    splices.extend(self.literal_append(target, w)?);
                }
            }
            WordOp::Remove => {
                for line in &chain {
                    for (i, wa) in line.words.iter().enumerate() {
                        if self.src[wa.start..wa.end] == *w {
                            splices.push(self.word_removal(line, i));
                        }
                    }
                }
                splices = merge_overlapping(splices);
            }
        }
        Ok(splices)
    }

    /// The accumulating chain ending at `a`, each with its literal words.
    fn chain(&self, a: &Assign) -> Result<Vec<Literal>, Error> {
        let same: Vec<&Assign> = self
            .assigns
            .iter()
            .filter(|x| x.name == a.name && x.name_at <= a.name_at)
            .collect();
        let mut chain = Vec::new();
        for x in same.iter().rev() {
            if x.scope != Scope::TopLevel {
                return Err(self.refuse_at(
                    x.name_at,
                    format!(
                        "{} accumulates over an assignment inside a conditional block here; edit it by hand",
                        a.name
                    ),
                ));
            }
            let lit = self.literal(x)?;
            let accumulating = lit.inherits;
            chain.push(lit);
            if !accumulating {
                break;
            }
        }
        chain.reverse();
        Ok(chain)
    }

    /// The literal part of a string assignment, or a refusal explaining why the value
    /// cannot be edited word by word.
    fn literal(&self, a: &Assign) -> Result<Literal, Error> {
        let Syntax::Scalar {
            token,
            value_start,
            value_end,
        } = a.syntax
        else {
            return Err(self.refuse_at(a.name_at, format!("{} is an array here", a.name)));
        };
        let dynamic = |why: &str| {
            self.refuse_at(
                a.name_at,
                format!(
                    "the value of {} is dynamic ({why}); edit it by hand",
                    a.name
                ),
            )
        };
        if self.tokens[token].kind == Kind::UnterminatedWord {
            return Err(dynamic("a quote is never closed"));
        }
        let raw = &self.src[value_start..value_end];
        let style = style_of(raw);
        let (content_start, content_end) = match style {
            Style::Double | Style::Single => (value_start + 1, value_end - 1),
            Style::Bare | Style::Empty => (value_start, value_end),
            Style::Mixed => return Err(dynamic("it mixes quoting styles")),
        };
        let content = &self.src[content_start..content_end];
        let mut prefix = 0;
        let mut inherits = false;
        if style != Style::Single && self.dialect != Dialect::EnvironmentFile {
            for form in [format!("${{{}}}", a.name), format!("${}", a.name)] {
                if let Some(rest) = content.strip_prefix(form.as_bytes()) {
                    let boundary = rest
                        .first()
                        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
                    if boundary {
                        prefix = form.len();
                        inherits = true;
                        break;
                    }
                }
            }
        }
        let body = &content[prefix..];
        if style != Style::Single {
            let mut i = 0;
            while i < body.len() {
                match body[i] {
                    b'\\' if style == Style::Double && body.get(i + 1) == Some(&b'\n') => i += 2,
                    b'\\' | b'$' | b'`' if self.dialect != Dialect::EnvironmentFile => {
                        let why = match &a.value {
                            Value::Dynamic { reason } => reason.as_str(),
                            _ => "it holds an expansion or escape besides the inherited value",
                        };
                        return Err(dynamic(why));
                    }
                    _ => i += 1,
                }
            }
        }
        let mut words = Vec::new();
        let base = content_start + prefix;
        let mut i = 0;
        while i < body.len() {
            if body[i].is_ascii_whitespace()
                || (body[i] == b'\\' && body.get(i + 1) == Some(&b'\n'))
            {
                i += if body[i] == b'\\' { 2 } else { 1 };
                continue;
            }
            let start = i;
            while i < body.len()
                && !body[i].is_ascii_whitespace()
                && !(body[i] == b'\\' && body.get(i + 1) == Some(&b'\n'))
            {
                i += 1;
            }
            words.push(WordAt {
                start: base + start,
                end: base + i,
            });
        }
        Ok(Literal {
            value_start,
            value_end,
            content_start: base,
            content_end,
            style,
            inherits,
            words,
        })
    }

    fn literal_append(&self, lit: &Literal, word: &[u8]) -> Result<Vec<Splice>, Error> {
        if word
            .iter()
            .any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'$' | b'`'))
        {
            return Err(invalid(format!(
                "{:?} holds a quote or shell character; set the whole value with --set instead",
                String::from_utf8_lossy(word)
            )));
        }
        if matches!(lit.style, Style::Bare | Style::Empty) {
            // A bare value cannot take a space: quote the whole value.
            let mut inner = self.src[lit.value_start..lit.value_end].to_vec();
            if lit.words.is_empty() && !lit.inherits {
                inner.clear();
            } else {
                inner.push(b' ');
            }
            inner.extend_from_slice(word);
            let mut text = vec![b'"'];
            text.extend(inner);
            text.push(b'"');
            return Ok(vec![(lit.value_start, lit.value_end, text)]);
        }
        match lit.words.last() {
            Some(last) => Ok(vec![(last.end, last.end, [&b" "[..], word].concat())]),
            None if lit.inherits => Ok(vec![(
                lit.content_start,
                lit.content_start,
                [&b" "[..], word].concat(),
            )]),
            None => {
                let _ = lit.content_end;
                Ok(vec![(lit.content_start, lit.content_start, word.to_vec())])
            }
        }
    }

    /// The splice that removes word `i` of `lit` and one run of blanks next to it.
    fn word_removal(&self, lit: &Literal, i: usize) -> Splice {
        let wa = &lit.words[i];
        let blank = |b: &u8| *b == b' ' || *b == b'\t';
        let mut before = wa.start;
        while before > lit.content_start && blank(&self.src[before - 1]) {
            before -= 1;
        }
        let mut after = wa.end;
        while after < lit.content_end && blank(&self.src[after]) {
            after += 1;
        }
        let preceded_by_word = i > 0
            && before > lit.content_start
            && before < wa.start
            && !matches!(self.src[before - 1], b'\n');
        if preceded_by_word {
            (before, wa.end, Vec::new())
        } else {
            (wa.start, after, Vec::new())
        }
    }
}

fn trim_start_blanks(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    &s[n..]
}

fn merge_overlapping(mut splices: Vec<Splice>) -> Vec<Splice> {
    splices.sort_by_key(|s| s.0);
    let mut out: Vec<Splice> = Vec::new();
    for s in splices {
        match out.last_mut() {
            Some(last) if s.0 < last.1 => last.1 = last.1.max(s.1),
            _ => out.push(s),
        }
    }
    out
}

fn static_words(v: &Value) -> Option<Vec<Vec<u8>>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Scalar(s) => Some(
            s.split(|b| b.is_ascii_whitespace())
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
        ),
        Value::Dynamic { .. } => None,
    }
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Bash => "bash",
        Dialect::Portage => "portage make.conf",
        Dialect::EnvironmentFile => "systemd EnvironmentFile",
    }
}

struct WordAt {
    start: usize,
    end: usize,
}

struct Literal {
    value_start: usize,
    value_end: usize,
    content_start: usize,
    content_end: usize,
    style: Style,
    inherits: bool,
    words: Vec<WordAt>,
}
