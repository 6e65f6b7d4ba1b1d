//! Static evaluation of shell words: the bytes bash would assign, or the reason the value
//! is dynamic. Never guesses: anything that depends on the environment, a command, the
//! file system (globs) or an unsupported construct is reported as dynamic.
//!
//! References to variables assigned earlier in the same file with a static value
//! (`CXXFLAGS="$CFLAGS -O2"`, Gentoo's `DISTCCD_OPTS="${DISTCCD_OPTS} --port 3632"`) are
//! substituted: bash reads the file top to bottom, so that is exactly what it sees.

use std::collections::HashMap;

/// What is known of a variable at a point in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// Assigned a static scalar.
    Scalar(Vec<u8>),
    /// Assigned a static array.
    Array(Vec<Vec<u8>>),
    /// Assigned, but its value cannot be known statically.
    Unknown(String),
}

/// The variables known so far while walking the file.
pub type Env = HashMap<Vec<u8>, Known>;

/// How the evaluator treats `$`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expansion {
    /// Shell rules (bash, sh, portage).
    Shell,
    /// systemd EnvironmentFile: `$` is an ordinary character.
    None,
}

/// Where a word stands: decides tilde, glob and brace expansion and word splitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// The right-hand side of `NAME=`: no globbing, no splitting, tilde after `=`/`:`.
    Scalar,
    /// An element of `NAME=(…)`: globs, braces, tilde and splitting all apply.
    ArrayElement,
}

/// Why a word's value cannot be known without running the shell.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dynamic {
    /// A quote or expansion that never ends.
    #[error("unterminated {0}")]
    Unterminated(&'static str),
    /// A construct whose result depends on the running shell or the system.
    #[error("uses {0}")]
    Uses(&'static str),
    /// `${NAME...}` with more than a plain name.
    #[error("uses the parameter expansion ${{{0}}}")]
    ParameterExpansion(String),
    /// `$1`, `$@`, `$?`...
    #[error("uses the special parameter ${0}")]
    SpecialParameter(char),
    /// A `$'…'` escape bash knows and we do not model.
    #[error("uses the escape \\{0} in $'…'")]
    AnsiEscape(char),
    /// `$NAME` where NAME's own value is dynamic.
    #[error("depends on ${name}, which {why}")]
    DependsOn {
        /// The variable.
        name: String,
        /// Why its value is dynamic.
        why: String,
    },
    /// `$NAME` where NAME comes from the environment.
    #[error("depends on ${0} from the environment")]
    FromEnvironment(String),
    /// A glob character in an array element.
    #[error("has a glob pattern that depends on the file system")]
    Glob,
    /// `$NAME` unquoted inside `(…)`.
    #[error("unquoted expansion in an array is split and globbed")]
    SplitInArray,
}

/// Evaluate one word. `Ok(bytes)` is the exact value; `Err(why)` means dynamic.
pub fn eval_word(word: &[u8], ctx: Context, env: &Env, exp: Expansion) -> Result<Vec<u8>, Dynamic> {
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        let b = word[i];
        match b {
            b'\\' => {
                match word.get(i + 1) {
                    Some(b'\n') => {}
                    Some(&c) => out.push(c),
                    None => out.push(b'\\'),
                }
                i += 2;
            }
            b'\'' => {
                let end = find(word, i + 1, b'\'').ok_or(Dynamic::Unterminated("single quote"))?;
                out.extend_from_slice(&word[i + 1..end]);
                i = end + 1;
            }
            b'"' => {
                i = double_quoted(word, i + 1, &mut out, env, exp)?;
            }
            b'$' if exp == Expansion::Shell => {
                if word.get(i + 1) == Some(&b'\'') {
                    i = ansi_c(word, i + 2, &mut out)?;
                } else if word.get(i + 1) == Some(&b'"') {
                    return Err(Dynamic::Uses("$\"…\" locale translation"));
                } else {
                    let (value, next) = expansion(word, i, env)?;
                    match value {
                        Some(v) => {
                            if ctx == Context::ArrayElement {
                                return Err(Dynamic::SplitInArray);
                            }
                            out.extend_from_slice(&v);
                        }
                        None => out.push(b'$'),
                    }
                    i = next;
                }
            }
            b'`' if exp == Expansion::Shell => {
                return Err(Dynamic::Uses("command substitution `…`"));
            }
            b'~' if exp == Expansion::Shell && tilde_position(word, i, ctx) => {
                return Err(Dynamic::Uses("~ (home directory) expansion"));
            }
            b'*' | b'?' | b'[' if ctx == Context::ArrayElement => {
                return Err(Dynamic::Glob);
            }
            b'{' if ctx == Context::ArrayElement && word[i..].contains(&b'}') => {
                return Err(Dynamic::Uses("brace expansion"));
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn find(word: &[u8], from: usize, needle: u8) -> Option<usize> {
    word.get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|p| p + from)
}

/// `~` is expanded at the start of a word, and in scalar assignments after `=` or `:`.
fn tilde_position(word: &[u8], i: usize, ctx: Context) -> bool {
    i == 0 || (ctx == Context::Scalar && word[i - 1] == b':')
}

/// Inside double quotes starting at `i` (after the opening quote). Returns the index after
/// the closing quote.
fn double_quoted(
    word: &[u8],
    mut i: usize,
    out: &mut Vec<u8>,
    env: &Env,
    exp: Expansion,
) -> Result<usize, Dynamic> {
    while i < word.len() {
        let b = word[i];
        match b {
            b'"' => return Ok(i + 1),
            b'\\' => {
                match word.get(i + 1) {
                    Some(b'\n') => {}
                    Some(&c) if matches!(c, b'$' | b'`' | b'"' | b'\\') => out.push(c),
                    Some(&c) => {
                        out.push(b'\\');
                        out.push(c);
                    }
                    None => out.push(b'\\'),
                }
                i += 2;
            }
            b'$' if exp == Expansion::Shell => {
                let (value, next) = expansion(word, i, env)?;
                match value {
                    Some(v) => out.extend_from_slice(&v),
                    None => out.push(b'$'),
                }
                i = next;
            }
            b'`' if exp == Expansion::Shell => {
                return Err(Dynamic::Uses("command substitution `…`"));
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err(Dynamic::Unterminated("double quote"))
}

/// At a `$` (not `$'`): returns the substituted bytes (None for a literal `$`) and the
/// index after the expansion.
fn expansion(word: &[u8], i: usize, env: &Env) -> Result<(Option<Vec<u8>>, usize), Dynamic> {
    let next = word.get(i + 1).copied();
    match next {
        Some(b'(') => Err(Dynamic::Uses("command substitution $(…)")),
        Some(b'{') => {
            let end = find(word, i + 2, b'}').ok_or(Dynamic::Unterminated("${"))?;
            let name = &word[i + 2..end];
            if !super::lexer::is_name(name) {
                return Err(Dynamic::ParameterExpansion(
                    String::from_utf8_lossy(name).into_owned(),
                ));
            }
            Ok((Some(lookup(name, env)?), end + 1))
        }
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
            let mut end = i + 1;
            while word
                .get(end)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                end += 1;
            }
            Ok((Some(lookup(&word[i + 1..end], env)?), end))
        }
        Some(c) if c.is_ascii_digit() || b"@*#?$!-".contains(&c) => {
            Err(Dynamic::SpecialParameter(char::from(c)))
        }
        _ => Ok((None, i + 1)),
    }
}

fn lookup(name: &[u8], env: &Env) -> Result<Vec<u8>, Dynamic> {
    let shown = String::from_utf8_lossy(name).into_owned();
    match env.get(name) {
        Some(Known::Scalar(v)) => Ok(v.clone()),
        Some(Known::Array(a)) => Ok(a.first().cloned().unwrap_or_default()),
        Some(Known::Unknown(why)) => Err(Dynamic::DependsOn {
            name: shown,
            why: why.clone(),
        }),
        None => Err(Dynamic::FromEnvironment(shown)),
    }
}

/// `$'…'` starting after the quote. Returns the index after the closing quote.
fn ansi_c(word: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize, Dynamic> {
    while i < word.len() {
        match word[i] {
            b'\'' => return Ok(i + 1),
            b'\\' => {
                let c = *word.get(i + 1).ok_or(Dynamic::Unterminated("$'"))?;
                i += 2;
                let simple = match c {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'e' | b'E' => Some(0x1b),
                    b'f' => Some(0x0c),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0b),
                    b'\\' | b'\'' | b'"' | b'?' => Some(c),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                } else if (b'0'..=b'7').contains(&c) {
                    let mut v = u32::from(c - b'0');
                    let mut n = 1;
                    while n < 3 && word.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                        v = v * 8 + u32::from(word[i] - b'0');
                        i += 1;
                        n += 1;
                    }
                    out.push((v & 0xff) as u8);
                } else if c == b'x' {
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 2 && word.get(i).is_some_and(u8::is_ascii_hexdigit) {
                        v = v * 16 + char::from(word[i]).to_digit(16).unwrap_or(0);
                        i += 1;
                        n += 1;
                    }
                    if n == 0 {
                        return Err(Dynamic::Uses("an empty \\x escape in $'…'"));
                    }
                    out.push(v as u8);
                } else {
                    return Err(Dynamic::AnsiEscape(char::from(c)));
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Err(Dynamic::Unterminated("$'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(w: &str) -> Result<String, String> {
        scalar_typed(w).map_err(|e| e.to_string())
    }

    fn scalar_typed(w: &str) -> Result<String, Dynamic> {
        let mut env = Env::new();
        env.insert(b"CFLAGS".to_vec(), Known::Scalar(b"-O2 -pipe".to_vec()));
        eval_word(w.as_bytes(), Context::Scalar, &env, Expansion::Shell)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(
            scalar(r#""a \"b\" \$c \x""#).as_deref(),
            Ok(r#"a "b" $c \x"#)
        );
        assert_eq!(scalar(r"'it''s'").as_deref(), Ok("its"));
        assert_eq!(scalar(r"a\ b").as_deref(), Ok("a b"));
        assert_eq!(scalar("\"a \\\n  b\"").as_deref(), Ok("a   b"));
        assert_eq!(scalar(r"$'a\tb\x41\101'").as_deref(), Ok("a\tbAA"));
        assert_eq!(scalar(r#""cost $ 5""#).as_deref(), Ok("cost $ 5"));
    }

    #[test]
    fn known_variables_are_substituted_unknown_ones_are_dynamic() {
        assert_eq!(scalar(r#""$CFLAGS -g""#).as_deref(), Ok("-O2 -pipe -g"));
        assert_eq!(scalar(r#""${CFLAGS}""#).as_deref(), Ok("-O2 -pipe"));
        assert!(scalar(r#""$HOME/x""#).unwrap_err().contains("environment"));
        assert!(
            scalar(r#""${X:-y}""#)
                .unwrap_err()
                .contains("parameter expansion")
        );
        assert!(
            scalar(r#""-j$(nproc)""#)
                .unwrap_err()
                .contains("command substitution")
        );
        assert!(scalar("~/pkgs").unwrap_err().contains("~"));
        assert!(scalar("/a:~/b").is_err());
        assert_eq!(scalar("a~b").as_deref(), Ok("a~b"));
    }

    #[test]
    fn array_elements_glob_and_brace() {
        let env = Env::new();
        let el = |w: &str| eval_word(w.as_bytes(), Context::ArrayElement, &env, Expansion::Shell);
        assert!(el("opt/*").is_err());
        assert!(el("{usr,opt}/man").is_err());
        assert_eq!(el("'*.pod'").as_deref(), Ok(&b"*.pod"[..]));
        assert_eq!(el("!distcc").as_deref(), Ok(&b"!distcc"[..]));
    }

    #[test]
    fn environment_files_do_not_expand() {
        let env = Env::new();
        let v = eval_word(b"\"/opt/x:$PATH\"", Context::Scalar, &env, Expansion::None);
        assert_eq!(v.as_deref(), Ok(&b"/opt/x:$PATH"[..]));
    }
}
