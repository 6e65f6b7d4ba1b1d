//! Word edits (`Enable`, `Disable`, `Add`, `Remove`) of arrays (`BUILDENV=(!distcc color)`)
//! and of word-list strings (`FEATURES="ccache"`), in place, keeping order, spacing and
//! quotes.

use super::chain::WordAt;
use super::render::{Style, render_array, render_element, render_scalar};
use super::{Splice, WordOp, invalid};
use crate::document::{Assign, Syntax};
use crate::lexer::Kind;
use crate::{Dialect, Document, Error, Value};

impl Document {
    pub(super) fn word_edit(
        &self,
        name: &str,
        word: &str,
        op: WordOp,
    ) -> Result<Vec<Splice>, Error> {
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
            } else if self.dialect == Dialect::Portage {
                // The variable may come from a file read before this one (legacy
                // /etc/make.conf, a sourced file, an earlier make.conf/ file): keep it.
                accumulating(name, &first)?
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
                    if let Some(s) = self.emptied(line, w) {
                        splices.push(s);
                        continue;
                    }
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

/// `"${NAME} word"`: a new Portage line that adds to what was read before.
fn accumulating(name: &str, word: &str) -> Result<Vec<u8>, Error> {
    if word
        .bytes()
        .any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'$' | b'`' | b'#'))
    {
        return Err(invalid(format!(
            "{word:?} holds a quote or shell character; set the whole value with --set instead"
        )));
    }
    Ok(format!("\"${{{name}}} {word}\"").into_bytes())
}
