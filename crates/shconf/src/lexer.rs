//! A lossless shell lexer: every byte of the input belongs to exactly one token, so joining
//! the tokens gives the input back (tested on every corpus file). It never fails: an
//! unterminated quote makes one flagged word that runs to the end of the input.
//!
//! It knows just enough bash to find assignments and where commands end: quoting
//! (`'…'`, `"…"`, `$'…'`), `$(…)`, `$((…))`, `${…}`, backquotes, backslash escapes and
//! continuations, comments (a `#` that starts a word), operators, here-documents, and the
//! `NAME=(…)` array syntax.

/// What a token is. Spans are byte offsets into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A UTF-8 byte-order mark at the very start.
    Bom,
    /// Spaces and tabs.
    Blank,
    /// `\n` or `\r\n`.
    Newline,
    /// A backslash-newline between words (bash removes it).
    Continuation,
    /// `#` to the end of the line, without the line ending.
    Comment,
    /// A shell word (may span lines inside quotes).
    Word,
    /// A word whose quote or substitution never closes: it runs to the end of the input.
    UnterminatedWord,
    /// Control and redirection operators: `;` `&&` `|` `(` `)` `<<` …
    Op,
    /// The `(` right after `NAME=` or `NAME+=`.
    ArrayOpen,
    /// The `)` that closes an array.
    ArrayClose,
    /// The lines of a here-document, through its delimiter line and that line's ending.
    HeredocBody,
}

/// One token: its kind and its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Split `src` into tokens covering every byte.
pub fn tokenize(src: &[u8]) -> Vec<Token> {
    Lexer {
        src,
        pos: 0,
        out: Vec::new(),
        in_array: false,
        pending_heredocs: Vec::new(),
    }
    .run()
}

struct PendingHeredoc {
    delimiter: Vec<u8>,
    strip_tabs: bool,
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    out: Vec<Token>,
    in_array: bool,
    pending_heredocs: Vec<PendingHeredoc>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Bytes that end an unquoted word.
fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
    )
}

/// True when `word` is `NAME=` or `NAME+=` with a valid shell name.
pub fn is_assignment_prefix(word: &[u8]) -> bool {
    let body = match word {
        [rest @ .., b'+', b'='] => rest,
        [rest @ .., b'='] => rest,
        _ => return false,
    };
    is_name(body)
}

/// A valid shell variable name.
pub fn is_name(s: &[u8]) -> bool {
    match s.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphabetic() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

impl<'a> Lexer<'a> {
    fn peek(&self, off: usize) -> Option<u8> {
        self.src.get(self.pos + off).copied()
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.out.push(Token {
            kind,
            start,
            end: self.pos,
        });
    }

    fn run(mut self) -> Vec<Token> {
        if self.src.starts_with(&[0xEF, 0xBB, 0xBF]) {
            self.pos = 3;
            self.push(Kind::Bom, 0);
        }
        while self.pos < self.src.len() {
            let start = self.pos;
            let b = self.src[self.pos];
            if is_blank(b) {
                while self.peek(0).is_some_and(is_blank) {
                    self.pos += 1;
                }
                self.push(Kind::Blank, start);
            } else if b == b'\n' || (b == b'\r' && self.peek(1) == Some(b'\n')) {
                self.pos += if b == b'\r' { 2 } else { 1 };
                self.push(Kind::Newline, start);
                if !self.pending_heredocs.is_empty() {
                    self.heredoc_bodies();
                }
            } else if b == b'\\' && self.peek(1) == Some(b'\n') {
                self.pos += 2;
                self.push(Kind::Continuation, start);
            } else if b == b'#' {
                while let Some(c) = self.peek(0) {
                    if c == b'\n' || (c == b'\r' && self.peek(1) == Some(b'\n')) {
                        break;
                    }
                    self.pos += 1;
                }
                self.push(Kind::Comment, start);
            } else if self.in_array && b == b')' {
                self.pos += 1;
                self.in_array = false;
                self.push(Kind::ArrayClose, start);
            } else if is_meta(b) {
                self.operator();
            } else {
                let terminated = self.word();
                let word = &self.src[start..self.pos];
                if terminated
                    && !self.in_array
                    && self.peek(0) == Some(b'(')
                    && is_assignment_prefix(word)
                {
                    self.push(Kind::Word, start);
                    let open = self.pos;
                    self.pos += 1;
                    self.in_array = true;
                    self.push(Kind::ArrayOpen, open);
                } else {
                    let kind = if terminated {
                        Kind::Word
                    } else {
                        Kind::UnterminatedWord
                    };
                    self.push(kind, start);
                }
            }
        }
        self.out
    }

    fn operator(&mut self) {
        const OPS: [&[u8]; 20] = [
            b"<<<", b"<<-", b";;&", b"&>>", b"&&", b"||", b";;", b";&", b"<<", b">>", b"<&", b">&",
            b"<>", b">|", b"&>", b"|&", b";", b"&", b"|", b"<",
        ];
        let start = self.pos;
        let rest = &self.src[self.pos..];
        let len = OPS
            .iter()
            .find(|op| rest.starts_with(op))
            .map_or(1, |op| op.len());
        self.pos += len;
        let op = &self.src[start..self.pos];
        self.push(Kind::Op, start);
        if op == b"<<" || op == b"<<-" {
            self.heredoc_delimiter(op == b"<<-");
        }
    }

    /// After `<<`: lex the blanks and the delimiter word now, and remember the body.
    fn heredoc_delimiter(&mut self, strip_tabs: bool) {
        let blank_start = self.pos;
        while self.peek(0).is_some_and(is_blank) {
            self.pos += 1;
        }
        if self.pos > blank_start {
            self.push(Kind::Blank, blank_start);
        }
        let start = self.pos;
        if self.peek(0).is_none_or(is_meta) {
            return;
        }
        let terminated = self.word();
        self.push(
            if terminated {
                Kind::Word
            } else {
                Kind::UnterminatedWord
            },
            start,
        );
        // The delimiter is the word with its quotes removed.
        let delimiter = self.src[start..self.pos]
            .iter()
            .copied()
            .filter(|b| !matches!(b, b'\'' | b'"' | b'\\'))
            .collect();
        self.pending_heredocs.push(PendingHeredoc {
            delimiter,
            strip_tabs,
        });
    }

    fn heredoc_bodies(&mut self) {
        let start = self.pos;
        for doc in std::mem::take(&mut self.pending_heredocs) {
            loop {
                if self.pos >= self.src.len() {
                    break;
                }
                let line_start = self.pos;
                let line_end = self.src[line_start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(self.src.len(), |i| line_start + i);
                self.pos = (line_end + 1).min(self.src.len());
                let mut line = &self.src[line_start..line_end];
                if let Some(stripped) = line.strip_suffix(b"\r") {
                    line = stripped;
                }
                if doc.strip_tabs {
                    while let Some(rest) = line.strip_prefix(b"\t") {
                        line = rest;
                    }
                }
                if line == doc.delimiter.as_slice() {
                    break;
                }
            }
        }
        if self.pos > start {
            self.push(Kind::HeredocBody, start);
        }
    }

    /// Lex one word starting at `self.pos`. Returns false when a quote or substitution
    /// never closes (the word then runs to the end of the input).
    fn word(&mut self) -> bool {
        while let Some(b) = self.peek(0) {
            if is_meta(b) {
                // `\r\n` ends a word too; a lone `\r` is an ordinary byte, as in bash.
                break;
            }
            if b == b'\r' && self.peek(1) == Some(b'\n') {
                break;
            }
            if self.in_array && b == b')' {
                break;
            }
            if !self.word_part() {
                return false;
            }
        }
        true
    }

    /// Consume one piece of a word: a plain byte, an escape, a quoted section or a
    /// substitution. Returns false when it runs off the end unterminated.
    fn word_part(&mut self) -> bool {
        let b = self.src[self.pos];
        match b {
            b'\\' => {
                self.pos = (self.pos + 2).min(self.src.len());
                true
            }
            b'\'' => self.single_quoted(),
            b'"' => self.double_quoted(),
            b'`' => self.backquoted(),
            b'$' => self.dollar(),
            _ => {
                self.pos += 1;
                true
            }
        }
    }

    fn single_quoted(&mut self) -> bool {
        match self.src[self.pos + 1..].iter().position(|&b| b == b'\'') {
            Some(i) => {
                self.pos += i + 2;
                true
            }
            None => {
                self.pos = self.src.len();
                false
            }
        }
    }

    fn ansi_c_quoted(&mut self) -> bool {
        // at `$'`
        self.pos += 2;
        while let Some(b) = self.peek(0) {
            match b {
                b'\\' => self.pos = (self.pos + 2).min(self.src.len()),
                b'\'' => {
                    self.pos += 1;
                    return true;
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    fn double_quoted(&mut self) -> bool {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return true;
                }
                b'\\' => self.pos = (self.pos + 2).min(self.src.len()),
                b'`' => {
                    if !self.backquoted() {
                        return false;
                    }
                }
                b'$' => {
                    if !self.dollar() {
                        return false;
                    }
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    fn backquoted(&mut self) -> bool {
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            match b {
                b'\\' => self.pos = (self.pos + 2).min(self.src.len()),
                b'`' => {
                    self.pos += 1;
                    return true;
                }
                _ => self.pos += 1,
            }
        }
        false
    }

    /// At a `$`: `$'…'`, `$(…)`, `$((…))`, `${…}`, or a plain `$`.
    fn dollar(&mut self) -> bool {
        match self.peek(1) {
            Some(b'\'') => self.ansi_c_quoted(),
            Some(b'(') => {
                self.pos += 2;
                self.balanced(b'(', b')')
            }
            Some(b'{') => {
                self.pos += 2;
                self.balanced(b'{', b'}')
            }
            _ => {
                self.pos += 1;
                true
            }
        }
    }

    /// Inside `$(`, `$((` or `${`: consume up to the matching close, honouring quotes and
    /// nested substitutions.
    fn balanced(&mut self, open: u8, close: u8) -> bool {
        let mut depth = 1usize;
        while let Some(b) = self.peek(0) {
            match b {
                b'\\' => self.pos = (self.pos + 2).min(self.src.len()),
                b'\'' if open == b'(' || open == b'{' => {
                    if !self.single_quoted() {
                        return false;
                    }
                }
                b'"' => {
                    if !self.double_quoted() {
                        return false;
                    }
                }
                b'`' => {
                    if !self.backquoted() {
                        return false;
                    }
                }
                b'$' => {
                    if !self.dollar() {
                        return false;
                    }
                }
                _ if b == open => {
                    depth += 1;
                    self.pos += 1;
                }
                _ if b == close => {
                    depth -= 1;
                    self.pos += 1;
                    if depth == 0 {
                        return true;
                    }
                }
                _ => self.pos += 1,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        tokenize(src.as_bytes())
            .iter()
            .map(|t| (t.kind, &src[t.start..t.end]))
            .collect()
    }

    #[test]
    fn assignment_with_inline_comment() {
        assert_eq!(
            kinds("ARCH=arm #check it's fine\n"),
            vec![
                (Kind::Word, "ARCH=arm"),
                (Kind::Blank, " "),
                (Kind::Comment, "#check it's fine"),
                (Kind::Newline, "\n"),
            ]
        );
    }

    #[test]
    fn array_with_comment_and_newlines() {
        assert_eq!(
            kinds("A=(x # c\n 'y z')\n"),
            vec![
                (Kind::Word, "A="),
                (Kind::ArrayOpen, "("),
                (Kind::Word, "x"),
                (Kind::Blank, " "),
                (Kind::Comment, "# c"),
                (Kind::Newline, "\n"),
                (Kind::Blank, " "),
                (Kind::Word, "'y z'"),
                (Kind::ArrayClose, ")"),
                (Kind::Newline, "\n"),
            ]
        );
    }

    #[test]
    fn hash_inside_word_is_literal_and_crlf_is_one_newline() {
        assert_eq!(
            kinds("A=a#b\r\n"),
            vec![(Kind::Word, "A=a#b"), (Kind::Newline, "\r\n")]
        );
    }

    #[test]
    fn nested_substitutions_and_quotes() {
        let src = "M=\"-j$(nproc --all \"x)\")\" B=${X:-\"}\"}\n";
        assert_eq!(
            kinds(src),
            vec![
                (Kind::Word, "M=\"-j$(nproc --all \"x)\")\""),
                (Kind::Blank, " "),
                (Kind::Word, "B=${X:-\"}\"}"),
                (Kind::Newline, "\n"),
            ]
        );
    }

    #[test]
    fn unterminated_quote_runs_to_the_end() {
        let toks = kinds("A=\"x\nB=1\n");
        assert_eq!(toks, vec![(Kind::UnterminatedWord, "A=\"x\nB=1\n")]);
    }

    #[test]
    fn heredoc_body_is_one_token() {
        let src = "cat <<-'EOF' >x\n\tit's \"odd\n\tEOF\nA=1\n";
        let toks = kinds(src);
        assert!(toks.contains(&(Kind::HeredocBody, "\tit's \"odd\n\tEOF\n")));
        assert!(toks.contains(&(Kind::Word, "A=1")));
    }

    #[test]
    fn continuation_between_words() {
        assert_eq!(
            kinds("a \\\n b"),
            vec![
                (Kind::Word, "a"),
                (Kind::Blank, " "),
                (Kind::Continuation, "\\\n"),
                (Kind::Blank, " "),
                (Kind::Word, "b"),
            ]
        );
    }
}
