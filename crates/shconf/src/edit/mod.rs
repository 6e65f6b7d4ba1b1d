//! Edits: each computes byte splices on the source, which are applied and the document
//! re-analysed; bytes outside the splices never change. After applying, the result is
//! checked against the intent (a `Set` must read back as the value it set), and the
//! document is restored when it does not.
//!
//! - this module: the [`Edit`] type, dispatch, the target assignment, the read-back check;
//! - `set`: whole-value edits (`Set`, `SetArray`, `Unset`), commented defaults and where
//!   a new line goes;
//! - `words`: word edits of arrays and word-list strings;
//! - `chain`: accumulating lines (`X="${X} more"`) and their literal words;
//! - `render`: quoting and rendering values for a dialect.

mod chain;
mod render;
mod set;
mod words;

use super::document::Assign;
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

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
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
            // A later `source` makes the end value unknown to the bash model: read back
            // the value right after the assignment itself (make.conf edits are read back
            // in Portage's own model too, by `loadorder::edit_as_portage_reads`).
            (Edit::Set { name, value }, Some(Value::Dynamic { .. }))
                if self.dialect == Dialect::Portage =>
            {
                self.assignments()
                    .iter()
                    .rfind(|a| a.name == *name && a.scope == Scope::TopLevel)
                    .is_some_and(|a| a.value == Value::Scalar(value.as_bytes().to_vec()))
            }
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
