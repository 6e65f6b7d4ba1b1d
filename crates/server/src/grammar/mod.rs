//! The grammar of a distcc compile: an argument vector is parsed into a typed
//! [`Request`] that accepts only what compiling preprocessed input needs, and the command
//! the server runs is built back from that request, never from the words the client sent.
//!
//! - Every option must belong to a family of [`table::FAMILIES`] (written once, with the
//!   reason it is allowed and what its value may be); anything else is refused with a
//!   reason. A value is checked by its class: a word is never a path, text never reaches a
//!   file, `%` (gcc's spec syntax) is refused everywhere.
//! - gcc's `--long` spellings are mapped to the short option the driver makes of them
//!   ([`options::long_alias`]) and parsed as such.
//! - The command is rebuilt in canonical spellings: values joined to their option
//!   (`-DX`, `--param=N=V`), so the compiler cannot split a word differently than this
//!   parser did; `-x` always names the preprocessed language, so the server never runs
//!   the preprocessor; the source and output are the job's own files.
//! - `-fcompare-debug=` carries options for a second compile: each one must pass this
//!   same grammar as a plain flag.

mod options;
pub mod table;

use table::{
    ASSEMBLER, FAMILIES, Family, Form, NATIVE, REFUSED, Refused, Role, TEXT_VALUED_F, Value,
};

/// Why a command was refused. The `Display` text goes to the client on SERR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgRefusal {
    /// An option that could run code or touch files outside the job, or that this
    /// server's grammar does not know.
    #[error(
        "option '{option}' is refused by this server: {why}. Remove it from the flags of \
         distributed compiles (or let this unit compile locally)"
    )]
    Unsafe {
        /// The argument.
        option: String,
        /// Why.
        why: String,
    },
    /// Not a compile distcc distributes (distcc's own rules).
    #[error("not a distributable compile: {0}")]
    NotCompile(String),
}

impl ArgRefusal {
    /// Stats/log key.
    pub fn key(&self) -> &'static str {
        match self {
            ArgRefusal::Unsafe { .. } => "unsafe_option",
            ArgRefusal::NotCompile(_) => "not_compile",
        }
    }
}

fn shown(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

fn unsafe_(option: &[u8], why: impl Into<String>) -> ArgRefusal {
    ArgRefusal::Unsafe {
        option: shown(option),
        why: why.into(),
    }
}

fn not_compile(why: impl Into<String>) -> ArgRefusal {
    ArgRefusal::NotCompile(why.into())
}

/// What the compile produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `-c`: an object file.
    Object,
    /// `-S`: assembler text.
    Assembly,
}

/// The source language (always compiled as its preprocessed form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// C.
    C,
    /// C++.
    Cxx,
    /// Objective-C.
    ObjC,
    /// Objective-C++.
    ObjCxx,
}

impl Language {
    /// From a `-x` value (a source language or its preprocessed form).
    fn from_x(lang: &[u8]) -> Option<Language> {
        let base = lang.strip_suffix(b"-cpp-output").unwrap_or(lang);
        Some(match (base, lang) {
            (_, b"cpp-output") | (b"c", _) => Language::C,
            (b"c++", _) => Language::Cxx,
            (b"objective-c", _) => Language::ObjC,
            (b"objective-c++", _) => Language::ObjCxx,
            _ => return None,
        })
    }

    /// From the source name's extension, as gcc and distcc read it.
    fn from_name(name: &[u8]) -> Option<Language> {
        let dot = name.iter().rposition(|&b| b == b'.')?;
        Some(match &name[dot + 1..] {
            b"c" | b"i" => Language::C,
            b"cc" | b"cpp" | b"cxx" | b"cp" | b"c++" | b"C" | b"CC" | b"ii" => Language::Cxx,
            b"m" | b"mi" => Language::ObjC,
            b"mm" | b"M" | b"mii" => Language::ObjCxx,
            _ => return None,
        })
    }

    /// gcc's name for the preprocessed form.
    pub fn preprocessed(self) -> &'static str {
        match self {
            Language::C => "cpp-output",
            Language::Cxx => "c++-cpp-output",
            Language::ObjC => "objective-c-cpp-output",
            Language::ObjCxx => "objective-c++-cpp-output",
        }
    }

    /// The extension of the job's source file.
    pub fn temp_ext(self) -> &'static str {
        match self {
            Language::C => ".i",
            Language::Cxx => ".ii",
            Language::ObjC => ".mi",
            Language::ObjCxx => ".mii",
        }
    }
}

/// Which compiler family reads the options (clang has a few gcc lacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// gcc and compatible drivers.
    Gcc,
    /// clang.
    Clang,
}

impl Dialect {
    /// From the compiler name the client asked for.
    pub fn of(compiler: &[u8]) -> Dialect {
        let base = compiler.rsplit(|&b| b == b'/').next().unwrap_or(compiler);
        if base.windows(5).any(|w| w == b"clang") {
            Dialect::Clang
        } else {
            Dialect::Gcc
        }
    }
}

/// A compile the grammar accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Object or assembler text.
    pub mode: Mode,
    /// The language in effect for the source.
    pub language: Language,
    /// The client's source name (for logs).
    pub input_name: String,
    /// The accepted options in canonical spelling, in the client's order.
    pub flags: Vec<Vec<u8>>,
}

impl Request {
    /// The extension of the job's source file.
    pub fn temp_ext(&self) -> &'static str {
        self.language.temp_ext()
    }

    /// True for `-S`.
    pub fn assembly(&self) -> bool {
        self.mode == Mode::Assembly
    }

    /// The command to run: the compiler, the accepted options, the preprocessed
    /// language, the mode, the job's source and output (names relative to the job
    /// directory, the compiler's cwd).
    pub fn command(&self, compiler: &[u8], input: &str, output: &str) -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::with_capacity(self.flags.len() + 7);
        out.push(compiler.to_vec());
        out.extend(self.flags.iter().cloned());
        out.push(b"-x".to_vec());
        out.push(self.language.preprocessed().as_bytes().to_vec());
        out.push(match self.mode {
            Mode::Object => b"-c".to_vec(),
            Mode::Assembly => b"-S".to_vec(),
        });
        out.push(input.as_bytes().to_vec());
        out.push(b"-o".to_vec());
        out.push(output.as_bytes().to_vec());
        out
    }
}

/// Parse `argv` (argv[0] is the compiler) into a [`Request`], or say why not.
pub fn parse(argv: &[Vec<u8>]) -> Result<Request, ArgRefusal> {
    let dialect = Dialect::of(argv.first().map_or(&b""[..], |v| v));
    let mut p = Parser {
        dialect,
        mode: None,
        language: None,
        input: None,
        output: false,
        flags: Vec::new(),
    };
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_slice();
        let next = argv.get(i + 1).map(Vec::as_slice);
        check_chars(a)?;
        if a.first() == Some(&b'-') && a.len() > 1 {
            let used = p.option(a, next)?;
            i += used;
        } else if a.first() == Some(&b'@') {
            return Err(unsafe_(
                a,
                "response files are read from the server's disk and can hide any option",
            ));
        } else {
            p.positional(a)?;
            i += 1;
        }
    }
    p.finish()
}

/// `%` is gcc's spec syntax (`%(cpp)` expands inside `-fcompare-debug=`), control bytes
/// have no place on a command line.
fn check_chars(a: &[u8]) -> Result<(), ArgRefusal> {
    if a.contains(&b'%') {
        return Err(unsafe_(
            a,
            "'%' is gcc's spec syntax, which can expand into other options",
        ));
    }
    if a.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(unsafe_(a, "control characters are not part of any option"));
    }
    Ok(())
}

struct Parser {
    dialect: Dialect,
    mode: Option<Mode>,
    /// The `-x` in effect (applies to the source after it).
    language: Option<Language>,
    input: Option<(Vec<u8>, Option<Language>)>,
    output: bool,
    flags: Vec<Vec<u8>>,
}

/// One option matched against the table: its family and its value.
struct Matched<'a> {
    family: &'static Family,
    value: &'a [u8],
    /// Words used: 1, or 2 when the value was the next word.
    used: usize,
}

/// The family an option belongs to, with its value; `None` if no family has it.
fn lookup<'a>(a: &'a [u8], next: Option<&'a [u8]>) -> Result<Option<Matched<'a>>, ArgRefusal> {
    for family in FAMILIES {
        let s = family.spelling.as_bytes();
        let separate = || {
            next.map(|v| Matched {
                family,
                value: v,
                used: 2,
            })
            .ok_or_else(|| not_compile(format!("option '{}' lacks its argument", shown(a))))
        };
        let joined = || {
            a.strip_prefix(s).map(|v| Matched {
                family,
                value: v,
                used: 1,
            })
        };
        let m = match family.form {
            Form::Exact if a == s => Some(Matched {
                family,
                value: b"",
                used: 1,
            }),
            Form::Separate if a == s => Some(separate()?),
            Form::JoinedOrSeparate if a == s => Some(separate()?),
            Form::Joined | Form::JoinedOrSeparate => joined(),
            _ => None,
        };
        if m.is_some() {
            return Ok(m);
        }
    }
    Ok(None)
}

/// The refusal by name for `a`, if it has one.
fn refused_by_name(a: &[u8]) -> Option<ArgRefusal> {
    if a == b"-E" || a == b"-M" || a == b"-MM" {
        return Some(not_compile(format!(
            "'{}' makes the compiler preprocess, which always runs on the client",
            shown(a)
        )));
    }
    if NATIVE.iter().any(|n| a == n.as_bytes()) {
        return Some(not_compile(format!(
            "'{}' must run on the client",
            shown(a)
        )));
    }
    REFUSED
        .iter()
        .find(|(p, _, _)| a.starts_with(p.as_bytes()) && !matches!(*p, "-E" | "-M"))
        .map(|&(_, kind, why)| match kind {
            Refused::Unsafe => unsafe_(a, why),
            Refused::NotCompile => not_compile(format!("'{}': {why}", shown(a))),
        })
}

impl Parser {
    /// Parse the option `a` (with the next word, which it may take as its value); the
    /// number of words used.
    fn option(&mut self, a: &[u8], next: Option<&[u8]>) -> Result<usize, ArgRefusal> {
        if let Some(r) = refused_by_name(a) {
            return Err(r);
        }
        if let Some(m) = lookup(a, next)? {
            self.accept(a, &m)?;
            return Ok(m.used);
        }
        // gcc's other spelling: `--name[=V]` is a short option to the driver.
        if let Some(short) = options::long_alias(a).filter(|s| s.as_slice() != a) {
            check_chars(&short)?;
            if let Some(r) = refused_by_name(&short) {
                return Err(r);
            }
            if let Some(m) = lookup(&short, next)? {
                self.accept(a, &m)?;
                return Ok(m.used);
            }
        }
        Err(unsafe_(
            a,
            "it is not in this server's grammar of a compile (see the serve man page for \
             the options it accepts)",
        ))
    }

    /// Take a matched option into the request.
    fn accept(&mut self, written: &[u8], m: &Matched<'_>) -> Result<(), ArgRefusal> {
        let f = m.family;
        check_chars(m.value)?;
        if m.used == 2 && m.value.is_empty() {
            // Passed on as the bare option, gcc would take the next word as its value.
            return Err(unsafe_(written, "an empty value hides the next word"));
        }
        check_value(written, f, m.value, 0)?;
        match f.role {
            Role::Compile => self.set_mode(Mode::Object),
            Role::Assemble => self.set_mode(Mode::Assembly),
            Role::Output => {
                if self.output {
                    return Err(not_compile("two -o options"));
                }
                if m.value == b"-" {
                    return Err(not_compile("output to stdout (-o -)"));
                }
                self.output = true;
            }
            Role::Language => {
                self.language = Some(Language::from_x(m.value).ok_or_else(|| {
                    not_compile(format!("language '{}' is not distributed", shown(m.value)))
                })?);
            }
            Role::ClangFlag if self.dialect != Dialect::Clang => {
                return Err(unsafe_(written, f.reason));
            }
            Role::ClangFlag => {
                let mut t = b"--target=".to_vec();
                t.extend_from_slice(m.value);
                self.flags.push(t);
            }
            Role::Flag => self.flags.push(canonical(f, m.value)),
            Role::Dropped => {}
        }
        Ok(())
    }

    fn set_mode(&mut self, mode: Mode) {
        // gcc: -S wins over -c.
        if self.mode != Some(Mode::Assembly) {
            self.mode = Some(mode);
        }
    }

    /// A word that is not an option: the one source file.
    fn positional(&mut self, a: &[u8]) -> Result<(), ArgRefusal> {
        let Some(by_name) = Language::from_name(a) else {
            return Err(unsafe_(
                a,
                "it is neither an option nor the one source file, and the compiler would read it",
            ));
        };
        if self.input.is_some() {
            return Err(not_compile("two input files"));
        }
        self.input = Some((a.to_vec(), Some(self.language.unwrap_or(by_name))));
        Ok(())
    }

    fn finish(self) -> Result<Request, ArgRefusal> {
        let Some(mode) = self.mode else {
            return Err(not_compile(
                "neither -c nor -S: linking is never distributed",
            ));
        };
        let Some((name, Some(language))) = self.input else {
            return Err(not_compile("no source file"));
        };
        Ok(Request {
            mode,
            language,
            input_name: shown(&name),
            flags: self.flags,
        })
    }
}

/// The option as the server passes it: the value joined to its spelling, so the
/// compiler cannot read it as a word of its own.
fn canonical(f: &Family, value: &[u8]) -> Vec<u8> {
    let mut out = f.spelling.as_bytes().to_vec();
    if f.form == Form::Separate && !value.is_empty() {
        match f.spelling {
            // gcc takes `--param=N=V` and `--sysroot=DIR` joined.
            "--param" | "--sysroot" => out.push(b'='),
            _ => {
                // -Xassembler V has no joined spelling; -Wa,V says the same.
                out = b"-Wa,".to_vec();
            }
        }
    }
    out.extend_from_slice(value);
    out
}

fn is_word(v: &[u8]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_.,:+=-".contains(&b))
}

fn bad_value(written: &[u8], what: &str) -> ArgRefusal {
    unsafe_(written, format!("its value must be {what}"))
}

/// Check a value against its family's class. `depth` counts `-fcompare-debug=` nesting.
fn check_value(written: &[u8], f: &Family, v: &[u8], depth: u8) -> Result<(), ArgRefusal> {
    let word = "a word (letters, digits, _ . , : + = -), never a path";
    match f.value {
        Value::None | Value::Output | Value::Language | Value::Text => Ok(()),
        Value::Word if is_word(v) => Ok(()),
        Value::Word => Err(bad_value(written, word)),
        Value::OptionalWord if v.is_empty() || is_word(v) => Ok(()),
        Value::OptionalWord => Err(bad_value(written, word)),
        Value::OptLevel => match v {
            b"" | b"0" | b"1" | b"2" | b"3" | b"s" | b"fast" | b"g" | b"z" => Ok(()),
            _ => Err(bad_value(written, "an optimisation level")),
        },
        Value::SaveTemps if v == b"cwd" || v == b"obj" => Ok(()),
        Value::SaveTemps => Err(bad_value(written, "cwd or obj")),
        Value::Triple if is_word(v) && v[0] != b'-' && !v.contains(&b'=') => Ok(()),
        Value::Triple => Err(bad_value(written, "a target triple")),
        Value::FeatureName => check_feature(written, v),
        Value::Assembler => v
            .split(|&b| b == b',')
            .try_for_each(|item| check_assembler(written, item)),
        Value::CompareDebug => check_compare_debug(written, v, depth),
    }
}

/// `-fNAME[=VALUE]`: a name of letters, digits, `_ + -`; the value a word, or text for
/// the families in [`TEXT_VALUED_F`].
fn check_feature(written: &[u8], v: &[u8]) -> Result<(), ArgRefusal> {
    let (name, value) = match v.iter().position(|&b| b == b'=') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let name_ok = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"_+-".contains(&b));
    if !name_ok {
        return Err(bad_value(written, "a feature name"));
    }
    let text = TEXT_VALUED_F.iter().any(|t| {
        let t = &t.as_bytes()[2..];
        v.starts_with(t)
    });
    match value {
        None => Ok(()),
        Some(_) if text => Ok(()),
        Some(val) if val.is_empty() || is_word(val) => Ok(()),
        Some(_) => Err(bad_value(
            written,
            "a word (letters, digits, _ . , : + = -), never a path",
        )),
    }
}

/// One assembler option: in [`ASSEMBLER`] (a `*` entry is a prefix followed by a word).
fn check_assembler(written: &[u8], item: &[u8]) -> Result<(), ArgRefusal> {
    let ok = ASSEMBLER.iter().any(|e| match e.strip_suffix('*') {
        Some(prefix) => item
            .strip_prefix(prefix.as_bytes())
            .is_some_and(|rest| rest.is_empty() || is_word(rest)),
        None => item == e.as_bytes(),
    });
    if ok {
        Ok(())
    } else {
        Err(unsafe_(
            written,
            format!(
                "assembler option '{}' is not among those a compile may pass (listings, \
                 dependency files, include paths and other files are refused)",
                shown(item)
            ),
        ))
    }
}

/// `-fcompare-debug=OPTS`: gcc runs a second compile with OPTS, split on blanks. Each
/// word must be a plain flag of this grammar; no nesting.
fn check_compare_debug(written: &[u8], v: &[u8], depth: u8) -> Result<(), ArgRefusal> {
    if depth > 0 {
        return Err(unsafe_(written, "-fcompare-debug= cannot be nested"));
    }
    for word in v.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        if word.first() != Some(&b'-') || !is_word(word) {
            return Err(unsafe_(
                written,
                format!(
                    "the second compile's option '{}' must be a plain option word",
                    shown(word)
                ),
            ));
        }
        if let Some(r) = refused_by_name(word) {
            return Err(r);
        }
        let m = lookup(word, None)
            .ok()
            .flatten()
            .filter(|m| m.used == 1 && m.family.role == Role::Flag)
            .ok_or_else(|| {
                unsafe_(
                    written,
                    format!(
                        "the second compile's option '{}' is not a flag of this server's grammar",
                        shown(word)
                    ),
                )
            })?;
        check_value(word, m.family, m.value, depth + 1)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
