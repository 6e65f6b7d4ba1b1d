//! The document: the input bytes, their tokens, the statements they form, and every
//! assignment with its scope and the value bash would see at that point.

use super::lexer::{self, Kind, Token};
use super::value::{self, Context, Env, Expansion, Known};
use super::{AssignmentInfo, Dialect, Error, Scope, Value};

/// A lossless, editable shell-assignment document. See the module docs of [`super`].
#[derive(Debug, Clone)]
pub struct Document {
    pub(super) src: Vec<u8>,
    pub(super) dialect: Dialect,
    pub(super) tokens: Vec<Token>,
    pub(super) statements: Vec<Statement>,
    pub(super) assigns: Vec<Assign>,
    /// Final knowledge about each name after the whole file, keyed by name.
    pub(super) final_env: Env,
    /// Byte offset where each line starts, for positions in O(log n).
    line_starts: Vec<usize>,
}

/// A logical line: the tokens up to and including an unquoted newline outside arrays
/// (and any here-document bodies that follow it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Statement {
    pub first: usize,
    /// One past the last token.
    pub last: usize,
    /// True when the statement holds nothing but one assignment (plus `export`, blanks
    /// and a trailing comment): it can be removed or rewritten as a unit.
    pub sole_assignment: bool,
    /// True when the statement is only blanks and a comment.
    pub comment_only: bool,
    /// Scope at the start of the statement.
    pub scope: Scope,
}

/// How an assignment's value is written.
#[derive(Debug, Clone)]
pub(super) enum Syntax {
    /// `NAME=word`: the value part is `value_start..value_end` inside token `token`.
    Scalar {
        token: usize,
        value_start: usize,
        value_end: usize,
    },
    /// `NAME=( … )`.
    Array {
        open: usize,
        /// Token index of `)`; None when the array never closes.
        close: Option<usize>,
        elements: Vec<usize>,
    },
}

/// One assignment found in the file.
#[derive(Debug, Clone)]
pub(super) struct Assign {
    pub name: String,
    /// Byte offset of the name.
    pub name_at: usize,
    pub exported: bool,
    pub append: bool,
    pub scope: Scope,
    pub statement: usize,
    pub syntax: Syntax,
    /// The value bash sees right after this assignment runs.
    pub value: Value,
}

/// One element of a simple command.
#[derive(Debug, Clone)]
enum Elem {
    Word(usize),
    Array {
        word: usize,
        open: usize,
        close: Option<usize>,
        elements: Vec<usize>,
    },
    Op(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    Cond,
    Case,
    Brace,
    Function,
    Subshell,
}

const SEPARATORS: [&[u8]; 9] = [b";", b"&&", b"||", b"|", b"&", b";;", b";&", b";;&", b"|&"];

/// Builtins that can change variables in ways we do not follow.
const BARRIERS: [&str; 12] = [
    "source",
    ".",
    "eval",
    "read",
    "readarray",
    "mapfile",
    "let",
    "set",
    "printf",
    "getopts",
    "declare",
    "typeset",
];

impl Document {
    /// Parse `input`. Never fails on bytes bash would accept: unknown constructs become
    /// opaque statements, kept verbatim.
    pub fn parse(input: &[u8], dialect: Dialect) -> Result<Document, Error> {
        let tokens = lexer::tokenize(input);
        let mut doc = Document {
            src: input.to_vec(),
            dialect,
            tokens,
            statements: Vec::new(),
            assigns: Vec::new(),
            final_env: Env::new(),
            line_starts: Vec::new(),
        };
        doc.analyse();
        Ok(doc)
    }

    /// The document's bytes: identical to the input until an edit changes them.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.src.clone()
    }

    /// The document's bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.src
    }

    /// The dialect the document was parsed with.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The tokens, for the lossless-lexer test and diagnostics.
    pub fn token_spans(&self) -> impl Iterator<Item = (lexer::Kind, &[u8])> {
        self.tokens
            .iter()
            .map(|t| (t.kind, &self.src[t.start..t.end]))
    }

    pub(super) fn text(&self, tok: usize) -> &[u8] {
        let t = self.tokens[tok];
        &self.src[t.start..t.end]
    }

    /// 1-based line and column of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.src.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        (line, offset - line_start + 1)
    }

    /// The line ending the document uses (`\r\n` when its first line ends so).
    pub fn line_ending(&self) -> &'static [u8] {
        let first = self.tokens.iter().find(|t| t.kind == Kind::Newline);
        match first {
            Some(t) if t.end - t.start == 2 => b"\r\n",
            _ => b"\n",
        }
    }

    /// Every assignment in file order, in every scope.
    pub fn assignments(&self) -> Vec<AssignmentInfo> {
        self.assigns
            .iter()
            .map(|a| self.info(a, a.value.clone()))
            .collect()
    }

    fn info(&self, a: &Assign, value: Value) -> AssignmentInfo {
        let (line, column) = self.position(a.name_at);
        AssignmentInfo {
            name: a.name.clone(),
            line,
            column,
            exported: a.exported,
            append: a.append,
            scope: a.scope,
            value,
        }
    }

    /// The assignment that takes effect for `name`, with the value bash sees at the end
    /// of the file (dynamic when a later conditional assignment or a `source`/`eval`
    /// might change it).
    pub fn get(&self, name: &str) -> Option<AssignmentInfo> {
        let last = self
            .assigns
            .iter()
            .rev()
            .find(|a| a.name == name && a.scope != Scope::Function)?;
        let value = match self.final_env.get(name.as_bytes()) {
            Some(Known::Scalar(v)) => Value::Scalar(v.clone()),
            Some(Known::Array(v)) => Value::Array(v.clone()),
            Some(Known::Unknown(why)) => Value::Dynamic {
                reason: format!("its value {why}"),
            },
            None => Value::Dynamic {
                reason: "it is unset again later".into(),
            },
        };
        Some(self.info(last, value))
    }

    /// Rebuild tokens, statements and assignments from `self.src`.
    pub(super) fn reparse(&mut self) {
        self.tokens = lexer::tokenize(&self.src);
        self.analyse();
    }

    fn analyse(&mut self) {
        self.line_starts = std::iter::once(0)
            .chain(
                self.src
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        self.statements.clear();
        self.assigns.clear();
        let mut walker = Walker {
            env: Env::new(),
            frames: Vec::new(),
            pending_function: false,
            functions: Vec::new(),
        };
        let mut i = 0;
        while i < self.tokens.len() {
            let first = i;
            let mut depth = 0usize;
            while i < self.tokens.len() {
                let kind = self.tokens[i].kind;
                i += 1;
                match kind {
                    Kind::ArrayOpen => depth += 1,
                    Kind::ArrayClose => depth = depth.saturating_sub(1),
                    Kind::Newline if depth == 0 => {
                        while i < self.tokens.len() && self.tokens[i].kind == Kind::HeredocBody {
                            i += 1;
                        }
                        break;
                    }
                    _ => {}
                }
            }
            let index = self.statements.len();
            let scope = walker.scope();
            let (sole, comment_only) = self.walk_statement(first, i, index, &mut walker);
            self.statements.push(Statement {
                first,
                last: i,
                sole_assignment: sole,
                comment_only,
                scope,
            });
        }
        self.final_env = walker.env;
    }

    /// Walk the commands of one statement. Returns (sole assignment, comment only).
    fn walk_statement(
        &mut self,
        first: usize,
        last: usize,
        index: usize,
        w: &mut Walker,
    ) -> (bool, bool) {
        let mut commands: Vec<Vec<Elem>> = vec![Vec::new()];
        let mut comment_only = true;
        let mut has_comment = false;
        let mut t = first;
        while t < last {
            let tok = self.tokens[t];
            match tok.kind {
                Kind::Blank | Kind::Newline | Kind::Continuation | Kind::Bom => {}
                Kind::Comment => has_comment = true,
                Kind::HeredocBody => comment_only = false,
                Kind::Op => {
                    comment_only = false;
                    if SEPARATORS.contains(&self.text(t)) {
                        commands.push(Vec::new());
                    } else if let Some(cmd) = commands.last_mut() {
                        cmd.push(Elem::Op(t));
                    }
                }
                Kind::Word | Kind::UnterminatedWord => {
                    comment_only = false;
                    let next_is_array = self
                        .tokens
                        .get(t + 1)
                        .is_some_and(|n| n.kind == Kind::ArrayOpen);
                    if next_is_array {
                        let open = t + 1;
                        let mut elements = Vec::new();
                        let mut close = None;
                        let mut j = open + 1;
                        while j < last {
                            match self.tokens[j].kind {
                                Kind::ArrayClose => {
                                    close = Some(j);
                                    break;
                                }
                                Kind::Word | Kind::UnterminatedWord | Kind::Op => elements.push(j),
                                _ => {}
                            }
                            j += 1;
                        }
                        if let Some(cmd) = commands.last_mut() {
                            cmd.push(Elem::Array {
                                word: t,
                                open,
                                close,
                                elements,
                            });
                        }
                        t = close.map_or(last, |c| c + 1);
                        continue;
                    } else if let Some(cmd) = commands.last_mut() {
                        // bash reads a byte-order mark as part of the first word, so
                        // `<BOM>NAME=value` is a command, not an assignment.
                        if t > 0 && self.tokens[t - 1].kind == Kind::Bom {
                            cmd.push(Elem::Op(t - 1));
                        }
                        cmd.push(Elem::Word(t));
                    }
                }
                Kind::ArrayOpen | Kind::ArrayClose => comment_only = false,
            }
            t += 1;
        }
        let non_empty: Vec<Vec<Elem>> = commands.into_iter().filter(|c| !c.is_empty()).collect();
        let mut assigned = 0usize;
        let mut other = false;
        for cmd in &non_empty {
            match self.walk_command(cmd, index, w) {
                Some(n) => assigned += n,
                None => other = true,
            }
        }
        (
            assigned == 1 && !other && non_empty.len() == 1,
            comment_only && has_comment,
        )
    }

    /// Process one simple command. Returns Some(number of assignments) when the command
    /// is a pure assignment command, None for anything else.
    fn walk_command(&mut self, cmd: &[Elem], index: usize, w: &mut Walker) -> Option<usize> {
        let mut elems = cmd;
        // Leading `(`: a subshell.
        if let Some(Elem::Op(t)) = elems.first() {
            if self.text(*t) == b"(" {
                w.frames.push(Frame::Subshell);
                elems = &elems[1..];
            }
        }
        let trailing_close = matches!(elems.last(), Some(Elem::Op(t)) if self.text(*t) == b")")
            && w.frames.contains(&Frame::Subshell)
            && !(w.frames.last() == Some(&Frame::Case));
        // Case arms: skip `pattern)`.
        if w.frames.last() == Some(&Frame::Case) {
            if let Some(pos) = elems
                .iter()
                .position(|e| matches!(e, Elem::Op(t) if self.text(*t) == b")"))
            {
                elems = &elems[pos + 1..];
            }
        }
        let result = self.walk_words(elems, index, w);
        if trailing_close {
            w.pop(Frame::Subshell);
        }
        result
    }

    fn walk_words(&mut self, mut elems: &[Elem], index: usize, w: &mut Walker) -> Option<usize> {
        loop {
            let Some(first) = elems.first() else {
                return Some(0);
            };
            let word = match first {
                Elem::Word(t) => self.text(*t).to_vec(),
                _ => Vec::new(),
            };
            match word.as_slice() {
                b"then" | b"else" | b"do" => {
                    elems = &elems[1..];
                    continue;
                }
                b"if" | b"while" | b"until" | b"for" | b"select" => {
                    w.frames.push(Frame::Cond);
                    return None;
                }
                b"elif" => return None,
                b"case" => {
                    w.frames.push(Frame::Case);
                    return None;
                }
                b"fi" | b"done" => {
                    w.pop(Frame::Cond);
                    return None;
                }
                b"esac" => {
                    w.pop(Frame::Case);
                    return None;
                }
                b"{" => {
                    let frame = if std::mem::take(&mut w.pending_function) {
                        Frame::Function
                    } else {
                        Frame::Brace
                    };
                    w.frames.push(frame);
                    elems = &elems[1..];
                    continue;
                }
                b"}" => {
                    w.frames.pop();
                    return None;
                }
                b"function" => {
                    if let Some(Elem::Word(t)) = elems.get(1) {
                        w.functions.push(self.text(*t).to_vec());
                    }
                    w.pending_function = true;
                    if let Some(pos) = elems
                        .iter()
                        .position(|e| matches!(e, Elem::Word(t) if self.text(*t) == b"{"))
                    {
                        elems = &elems[pos..];
                        continue;
                    }
                    return None;
                }
                _ => {}
            }
            // `name() {` or `name ()`.
            if let (Some(Elem::Word(name)), Some(Elem::Op(o)), Some(Elem::Op(c))) =
                (elems.first(), elems.get(1), elems.get(2))
            {
                if self.text(*o) == b"(" && self.text(*c) == b")" {
                    w.functions.push(self.text(*name).to_vec());
                    w.pending_function = true;
                    elems = &elems[3..];
                    continue;
                }
            }
            return self.assignment_command(elems, index, w);
        }
    }

    /// A pure assignment command (`[export|readonly|local] NAME=value …`): records each
    /// assignment and returns how many there were. Anything else is a possible barrier.
    fn assignment_command(
        &mut self,
        elems: &[Elem],
        index: usize,
        w: &mut Walker,
    ) -> Option<usize> {
        let Some((exported, rest)) = self.assignment_words(elems) else {
            self.note_barrier(elems, w);
            return None;
        };
        let mut count = 0;
        for e in rest {
            if self.record_assignment(e, exported, index, w) {
                count += 1;
            }
        }
        Some(count)
    }

    /// Strips a leading `export`/`readonly`/`local` (without options) and returns
    /// (exported, the remaining elements) when every one of those is an assignment — or,
    /// after `export`, a bare name. `None` when the command is not a pure assignment.
    fn assignment_words<'e>(&self, elems: &'e [Elem]) -> Option<(bool, &'e [Elem])> {
        let mut rest = elems;
        let mut exported = false;
        if let Some(Elem::Word(t)) = rest.first() {
            let kw = self.text(*t);
            if matches!(kw, b"export" | b"readonly" | b"local") {
                exported = kw == b"export";
                rest = &rest[1..];
                if rest
                    .iter()
                    .any(|e| matches!(e, Elem::Word(t) if self.text(*t).starts_with(b"-")))
                {
                    return None;
                }
            }
        }
        let all_assignments = !rest.is_empty()
            && rest.iter().all(|e| match e {
                Elem::Array { .. } => true,
                Elem::Word(t) => {
                    let text = self.text(*t);
                    assignment_split(text).is_some() || (exported && lexer::is_name(text))
                }
                Elem::Op(_) => false,
            });
        all_assignments.then_some((exported, rest))
    }

    /// Evaluates one `NAME=value` or `NAME=( … )` element, updates what later lines know
    /// and records the assignment. `false` for `export NAME` without a value.
    fn record_assignment(
        &mut self,
        e: &Elem,
        exported: bool,
        index: usize,
        w: &mut Walker,
    ) -> bool {
        let (word, syntax_of) = match e {
            Elem::Word(t) => (*t, None),
            Elem::Array {
                word,
                open,
                close,
                elements,
            } => (*word, Some((*open, *close, elements.clone()))),
            Elem::Op(_) => return false,
        };
        let text = self.text(word).to_vec();
        let Some((name_len, append, eq_end)) = assignment_split(&text) else {
            return false; // `export NAME` without a value
        };
        let name = String::from_utf8_lossy(&text[..name_len]).into_owned();
        let tok = self.tokens[word];
        let syntax = match syntax_of {
            None => Syntax::Scalar {
                token: word,
                value_start: tok.start + eq_end,
                value_end: tok.end,
            },
            Some((open, close, elements)) => Syntax::Array {
                open,
                close,
                elements,
            },
        };
        let scope = w.scope();
        let value = self.evaluate(&name, append, &syntax, tok.kind, &w.env);
        if scope != Scope::Function {
            let known = self.known_after(&value, scope, tok.start);
            w.env.insert(name.clone().into_bytes(), known);
        }
        self.assigns.push(Assign {
            name,
            name_at: tok.start,
            exported,
            append,
            scope,
            statement: index,
            syntax,
            value,
        });
        true
    }

    /// What the lines after an assignment at byte `at` know about its variable: its
    /// value when it is static and top-level, else why it is uncertain.
    fn known_after(&self, value: &Value, scope: Scope, at: usize) -> Known {
        match (value, scope) {
            (Value::Scalar(v), Scope::TopLevel) => Known::Scalar(v.clone()),
            (Value::Array(v), Scope::TopLevel) => Known::Array(v.clone()),
            (Value::Dynamic { reason }, Scope::TopLevel) => Known::Unknown(format!(
                "is dynamic at line {} ({reason})",
                self.position(at).0
            )),
            _ => Known::Unknown(format!(
                "is assigned inside a conditional block at line {}",
                self.position(at).0
            )),
        }
    }

    /// A command that is not an assignment: `unset` forgets names; `source`, `eval` and
    /// friends (or calls of functions defined in the file) make everything uncertain.
    fn note_barrier(&self, elems: &[Elem], w: &mut Walker) {
        if w.scope() == Scope::Function {
            return;
        }
        let Some(Elem::Word(t)) = elems.first() else {
            return;
        };
        let cmd = self.text(*t);
        let line = self.position(self.tokens[*t].start).0;
        if cmd == b"unset" {
            for e in &elems[1..] {
                if let Elem::Word(t) = e {
                    let arg = self.text(*t);
                    if arg.starts_with(b"-") {
                        if arg != b"-v" {
                            return;
                        }
                        continue;
                    }
                    if w.scope() == Scope::TopLevel {
                        w.env.remove(arg);
                    } else {
                        w.env.insert(
                            arg.to_vec(),
                            Known::Unknown(format!("may be unset conditionally at line {line}")),
                        );
                    }
                }
            }
            return;
        }
        let shown = String::from_utf8_lossy(cmd).into_owned();
        let is_barrier = BARRIERS.iter().any(|b| b.as_bytes() == cmd)
            || w.functions.iter().any(|f| f.as_slice() == cmd);
        if is_barrier {
            for v in w.env.values_mut() {
                *v = Known::Unknown(format!("may be changed by `{shown}` at line {line}"));
            }
        }
    }

    fn evaluate(&self, name: &str, append: bool, syntax: &Syntax, kind: Kind, env: &Env) -> Value {
        if kind == Kind::UnterminatedWord {
            return Value::Dynamic {
                reason: "a quote or substitution is never closed".into(),
            };
        }
        let exp = match self.dialect {
            Dialect::EnvironmentFile => Expansion::None,
            _ => Expansion::Shell,
        };
        let previous = env.get(name.as_bytes());
        let dynamic = |reason: String| Value::Dynamic { reason };
        match syntax {
            Syntax::Scalar {
                value_start,
                value_end,
                ..
            } => {
                let word = &self.src[*value_start..*value_end];
                match value::eval_word(word, Context::Scalar, env, exp) {
                    Err(why) => dynamic(why.to_string()),
                    Ok(v) if !append => Value::Scalar(v),
                    Ok(v) => match previous {
                        Some(Known::Scalar(p)) => Value::Scalar([p.as_slice(), &v].concat()),
                        Some(Known::Unknown(why)) => {
                            dynamic(format!("appends to a value that {why}"))
                        }
                        Some(Known::Array(_)) => dynamic("appends a string to an array".into()),
                        None => dynamic("appends to a value from the environment".into()),
                    },
                }
            }
            Syntax::Array {
                close, elements, ..
            } => {
                if close.is_none() {
                    return dynamic("the array is never closed".into());
                }
                let mut values = Vec::with_capacity(elements.len());
                for &e in elements {
                    if self.tokens[e].kind != Kind::Word {
                        return dynamic(
                            "the array holds an operator or an unterminated word".into(),
                        );
                    }
                    let text = self.text(e);
                    if text.first() == Some(&b'[') {
                        return dynamic("the array uses [index]= elements".into());
                    }
                    match value::eval_word(text, Context::ArrayElement, env, exp) {
                        Ok(v) => values.push(v),
                        Err(why) => return dynamic(why.to_string()),
                    }
                }
                if !append {
                    return Value::Array(values);
                }
                match previous {
                    Some(Known::Array(p)) => {
                        Value::Array(p.iter().cloned().chain(values).collect())
                    }
                    Some(Known::Scalar(p)) => {
                        Value::Array(std::iter::once(p.clone()).chain(values).collect())
                    }
                    Some(Known::Unknown(why)) => dynamic(format!("appends to a value that {why}")),
                    None => dynamic("appends to a value from the environment".into()),
                }
            }
        }
    }
}

/// `NAME=…` or `NAME+=…` at the start of a word: (name length, is append, offset after `=`).
pub(super) fn assignment_split(word: &[u8]) -> Option<(usize, bool, usize)> {
    let eq = word.iter().position(|&b| b == b'=')?;
    let (name, append) = match word[..eq].strip_suffix(b"+") {
        Some(n) => (n, true),
        None => (&word[..eq], false),
    };
    lexer::is_name(name).then_some((name.len(), append, eq + 1))
}

struct Walker {
    env: Env,
    frames: Vec<Frame>,
    pending_function: bool,
    functions: Vec<Vec<u8>>,
}

impl Walker {
    fn scope(&self) -> Scope {
        if self.frames.contains(&Frame::Function) {
            Scope::Function
        } else if self.frames.iter().any(|f| *f != Frame::Brace) {
            Scope::Conditional
        } else {
            Scope::TopLevel
        }
    }

    fn pop(&mut self, want: Frame) {
        if let Some(pos) = self.frames.iter().rposition(|f| *f == want) {
            self.frames.truncate(pos);
        }
    }
}
