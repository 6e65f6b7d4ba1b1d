//! Accumulating lines (`DISTCCD_OPTS="${DISTCCD_OPTS} --port 3632"`): the inherited
//! `${NAME}` part is kept verbatim and only the literal words each line adds are edited.

use super::render::{Style, style_of};
use super::{Splice, invalid};
use crate::document::{Assign, Syntax};
use crate::lexer::Kind;
use crate::{Dialect, Document, Error, Scope, Value};

impl Document {
    /// The accumulating chain ending at `a`, each with its literal words.
    pub(super) fn chain(&self, a: &Assign) -> Result<Vec<Literal>, Error> {
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
        let style = style_of(&self.src[value_start..value_end]);
        let (content_start, content_end) = match style {
            Style::Double | Style::Single => (value_start + 1, value_end - 1),
            Style::Bare | Style::Empty => (value_start, value_end),
            Style::Mixed => return Err(dynamic("it mixes quoting styles")),
        };
        let content = &self.src[content_start..content_end];
        // Single quotes and EnvironmentFile values expand nothing: all of it is literal.
        // (Portage expands inside single quotes too.)
        let expands = (style != Style::Single || self.dialect == Dialect::Portage)
            && self.dialect != Dialect::EnvironmentFile;
        let inherited = if expands {
            inherited_prefix(content, &a.name)
        } else {
            None
        };
        let prefix = inherited.unwrap_or(0);
        let body = &content[prefix..];
        if expands && holds_expansion(body, style) {
            let why = match &a.value {
                Value::Dynamic { reason } => reason.as_str(),
                _ => "it holds an expansion or escape besides the inherited value",
            };
            return Err(dynamic(why));
        }
        let base = content_start + prefix;
        Ok(Literal {
            value_start,
            value_end,
            content_start: base,
            content_end,
            style,
            inherits: inherited.is_some(),
            words: split_words(body, base),
        })
    }

    pub(super) fn literal_append(&self, lit: &Literal, word: &[u8]) -> Result<Vec<Splice>, Error> {
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
    /// Removing every word of a bare Portage value would leave `NAME=`, after which
    /// Portage takes the next line's first word as the value: write `NAME=""` instead.
    pub(super) fn emptied(&self, lit: &Literal, w: &[u8]) -> Option<Splice> {
        let all_go =
            !lit.words.is_empty() && lit.words.iter().all(|wa| self.src[wa.start..wa.end] == *w);
        (self.dialect == Dialect::Portage
            && matches!(lit.style, Style::Bare)
            && !lit.inherits
            && all_go)
            .then(|| (lit.value_start, lit.value_end, b"\"\"".to_vec()))
    }

    pub(super) fn word_removal(&self, lit: &Literal, i: usize) -> Splice {
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

/// The length of a leading `${NAME}` or `$NAME` (the value inherited from the previous
/// assignment of `name`), when `content` starts with one.
fn inherited_prefix(content: &[u8], name: &str) -> Option<usize> {
    [format!("${{{name}}}"), format!("${name}")]
        .into_iter()
        .find_map(|form| {
            let rest = content.strip_prefix(form.as_bytes())?;
            let boundary = rest
                .first()
                .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
            boundary.then_some(form.len())
        })
}

/// Whether the literal part of a value holds an expansion or escape (`$`, `` ` ``, `\`)
/// other than a backslash-newline continuation inside double quotes.
fn holds_expansion(body: &[u8], style: Style) -> bool {
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'\\' if style == Style::Double && body.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' | b'$' | b'`' => return true,
            _ => i += 1,
        }
    }
    false
}

/// The blank-separated words of `body` (backslash-newlines separate too), as absolute
/// offsets: `base` is where `body` starts in the source.
fn split_words(body: &[u8], base: usize) -> Vec<WordAt> {
    let continuation = |i: usize| body[i] == b'\\' && body.get(i + 1) == Some(&b'\n');
    let mut words = Vec::new();
    let mut i = 0;
    while i < body.len() {
        if body[i].is_ascii_whitespace() || continuation(i) {
            i += if body[i] == b'\\' { 2 } else { 1 };
            continue;
        }
        let start = i;
        while i < body.len() && !body[i].is_ascii_whitespace() && !continuation(i) {
            i += 1;
        }
        words.push(WordAt {
            start: base + start,
            end: base + i,
        });
    }
    words
}

pub(super) struct WordAt {
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) struct Literal {
    value_start: usize,
    value_end: usize,
    content_start: usize,
    content_end: usize,
    style: Style,
    inherits: bool,
    pub(super) words: Vec<WordAt>,
}
