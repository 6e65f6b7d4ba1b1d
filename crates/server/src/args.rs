//! The server-side argument scan (spec §2.2) and the refusal of options that would turn
//! a compile into code execution or file access outside the job directory.
//!
//! Refused as unsafe (reason [`ArgRefusal::Unsafe`]):
//! - run a program: `-wrapper`, `-fplugin*`, `-fpass-plugin*`, `-fmodule-mapper*`
//!   (`=|prog` runs a mapper program), `-B*`/`--prefix*` (where cc1/as come from),
//!   `-specs*`/`--specs*` (spec files can run anything), `-iplugindir*`,
//!   `--gcc-toolchain*`/`--gcc-install-dir*`/`-ccc-*` (clang: which `as` runs),
//!   `-Xclang`/`-mllvm` followed by `-load`/`-plugin`/`-add-plugin` (clang plugins),
//!   `@file` (response files: can hide any of the above, and read server files);
//! - read a server file into the job: `-include`, `-imacros`, `-fprofile*`,
//!   `-fauto-profile*` (also refused by distcc as non-distributable);
//! - write outside the job directory: `-MF` (and `-Wp,`/`-Xpreprocessor`, which can carry
//!   it), `-aux-info`, `-dumpdir`, `-dumpbase`, `-auxbase*`, `-fdump-*=FILE` and
//!   `-fopt-info*=FILE` (except `=stderr`/`=stdout`), `-fdiagnostics-add-output*`,
//!   `-fdiagnostics-set-output*`, `-Wa,`/`-Xassembler` sub-options `-a*` (listings),
//!   `--MD`, `@file` or `-o`;
//! - any positional argument that is not the single source file (gcc would read it).
//!
//! Allowed on purpose: `-save-temps*`, `-fdump-*` without a file name, `-fstack-usage`,
//! `-gsplit-dwarf`, `-MD`/`-MMD` (their files land in the job directory, which is
//! removed), `--sysroot`/`-isysroot` (only change where headers and libraries are looked
//! up; a preprocessed compile reads neither), `-I`/`-D`/`-U` (meaningless after cpp).

use super::options;

/// What the scan found: where the source and output are, and how to rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    /// Index in argv of the source argument.
    pub input: usize,
    /// The original source name (for logs).
    pub input_name: String,
    /// Extension for the temp input (`.i`, `.ii`, `.mi`, `.mii`).
    pub temp_ext: &'static str,
    /// How the output is named in argv.
    pub output: Output,
    /// `-S`: the output is assembly.
    pub assembly: bool,
}

/// Where the output file name sits in argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `-o FILE`: index of FILE.
    Separate(usize),
    /// `-oFILE`: index of the joined argument.
    Joined(usize),
    /// No `-o`: one is appended.
    Missing,
}

/// Why a command was refused. The `Display` text goes to the client on SERR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgRefusal {
    /// An option that could run code or touch files outside the job.
    #[error(
        "option '{option}' is refused by this server: {why}. Remove it from the flags of \
         distributed compiles (or let this unit compile locally)"
    )]
    Unsafe {
        /// The argument.
        option: String,
        /// What it could do.
        why: &'static str,
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

/// Options whose value is the next argument.
const TAKES_VALUE: &[&str] = &[
    "-o",
    "-x",
    "-include",
    "-imacros",
    "-idirafter",
    "-iprefix",
    "-iwithprefix",
    "-iwithprefixbefore",
    "-isystem",
    "-isysroot",
    "-iquote",
    "-imultilib",
    "-imultiarch",
    "-I",
    "-L",
    "-l",
    "-D",
    "-U",
    "-A",
    "-MF",
    "-MT",
    "-MQ",
    "-Xassembler",
    "-Xlinker",
    "-Xpreprocessor",
    "-Xclang",
    "-mllvm",
    "-target",
    "-aux-info",
    "-dumpdir",
    "-dumpbase",
    "-dumpbase-ext",
    "-T",
    "-u",
    "-z",
    "-e",
    "-wrapper",
    "--param",
    "-arch",
    "-G",
    "--sysroot",
    "-specs",
    "--specs",
    "-B",
    "--prefix",
    "-iplugindir",
    "-auxbase",
    "-auxbase-strip",
];

fn unsafe_(option: &[u8], why: &'static str) -> ArgRefusal {
    ArgRefusal::Unsafe {
        option: String::from_utf8_lossy(option).into_owned(),
        why,
    }
}

fn not_compile(why: String) -> ArgRefusal {
    ArgRefusal::NotCompile(why)
}

/// Check one option (with its separate value, if it takes one) for safety.
fn check_option(a: &[u8], value: Option<&[u8]>) -> Result<(), ArgRefusal> {
    let s = |p: &str| a.starts_with(p.as_bytes());
    if a == b"-wrapper" {
        return Err(unsafe_(
            a,
            "it runs a program of the client's choice around every compiler pass",
        ));
    }
    if s("-fplugin") || s("-fpass-plugin") || s("-iplugindir") {
        return Err(unsafe_(a, "it loads a shared object into the compiler"));
    }
    if s("-fmodule-mapper") {
        return Err(unsafe_(
            a,
            "a module mapper can be a program the compiler runs",
        ));
    }
    if s("-specs") || s("--specs") {
        return Err(unsafe_(
            a,
            "spec files can make the compiler run any program",
        ));
    }
    if s("-B") || s("--prefix") || s("--gcc-toolchain") || s("--gcc-install-dir") || s("-ccc-") {
        return Err(unsafe_(
            a,
            "it chooses which programs the compiler runs (cc1, as)",
        ));
    }
    if a.first() == Some(&b'@') {
        return Err(unsafe_(
            a,
            "response files are read from the server's disk and can hide any option",
        ));
    }
    if a == b"-Xclang" || a == b"-mllvm" {
        let v = value.unwrap_or_default();
        if v.starts_with(b"-load") || v.starts_with(b"-plugin") || v.starts_with(b"-add-plugin") {
            return Err(unsafe_(v, "it loads a shared object into the compiler"));
        }
    }
    if s("-include") || s("-imacros") {
        return Err(unsafe_(
            a,
            "it reads a file from the server's disk (the client never sends it)",
        ));
    }
    if s("-fprofile")
        || s("-fauto-profile")
        || a == b"--coverage"
        || a == b"-ftest-coverage"
        || a == b"-frepo"
    {
        return Err(not_compile(format!(
            "'{}' needs profile files, which distcc does not distribute",
            String::from_utf8_lossy(a)
        )));
    }
    if s("-MF") || s("-Wp,") || a == b"-Xpreprocessor" {
        return Err(unsafe_(
            a,
            "it writes a file at a path of the client's choice",
        ));
    }
    if a == b"-aux-info" || s("-dumpdir") || a == b"-dumpbase" || s("-auxbase") {
        return Err(unsafe_(
            a,
            "it writes files at a path of the client's choice",
        ));
    }
    if s("-fdump-") || s("-fopt-info") || s("-fcallgraph-info") {
        if let Some(pos) = a.iter().position(|&b| b == b'=') {
            if options::outside_job(&a[pos + 1..]) {
                return Err(unsafe_(
                    a,
                    "it writes a dump file outside the job directory",
                ));
            }
        }
    }
    if let Some(how) = a.strip_prefix(b"-save-temps=") {
        if how != b"cwd" && how != b"obj" {
            return Err(unsafe_(
                a,
                "-save-temps takes 'cwd' or 'obj'; anything else is a path outside the job",
            ));
        }
    }
    if s("-fdiagnostics-add-output") || s("-fdiagnostics-set-output") {
        return Err(unsafe_(
            a,
            "it writes diagnostics to a file of the client's choice",
        ));
    }
    let asm_opts: Option<Vec<&[u8]>> = if s("-Wa,") {
        Some(a[4..].split(|&b| b == b',').collect())
    } else if a == b"-Xassembler" {
        Some(vec![value.unwrap_or_default()])
    } else {
        None
    };
    for sub in asm_opts.unwrap_or_default() {
        let include = sub
            .strip_prefix(b"-I")
            .is_some_and(|dir| dir.is_empty() || options::outside_job(dir));
        if sub.starts_with(b"-a")
            || sub.starts_with(b"--MD")
            || sub.starts_with(b"--listing")
            || sub.starts_with(b"@")
            || sub.starts_with(b"-o")
            || include
        {
            return Err(unsafe_(
                a,
                "the assembler would write or read a file at a path of the client's choice",
            ));
        }
    }
    Ok(())
}

/// Check an option in every spelling gcc gives it: as written, as the short option a
/// `--long` alias stands for, and the options inside `-fcompare-debug=`.
fn check_forms(a: &[u8], value: Option<&[u8]>, depth: u8) -> Result<(), ArgRefusal> {
    check_option(a, value)?;
    if depth > 2 {
        return Err(unsafe_(a, "options nested this deep are not checked"));
    }
    if let Some(short) = options::long_alias(a).filter(|s| s.as_slice() != a) {
        if let Some(s) = options::scan_relevant(&short) {
            return Err(not_compile(format!(
                "'{}' is gcc's other spelling of '{s}'; write '{s}' so distcc sees it",
                String::from_utf8_lossy(a)
            )));
        }
        check_forms(&short, value, depth + 1)?;
    }
    if let Some(payload) = options::compare_debug_payload(a) {
        let mut i = 0;
        while i < payload.len() {
            let sub = payload[i].as_slice();
            let takes = TAKES_VALUE.contains(&String::from_utf8_lossy(sub).as_ref());
            let v = payload.get(i + 1).map(Vec::as_slice).filter(|_| takes);
            if sub.first() != Some(&b'-') && sub.first() != Some(&b'@') {
                return Err(unsafe_(
                    a,
                    "a second compile with a file argument of the client's choice",
                ));
            }
            check_forms(sub, v, depth + 1)?;
            i += if takes { 2 } else { 1 };
        }
    }
    Ok(())
}

/// Source extensions distcc distributes, and the extension the temp input gets.
fn source_ext(arg: &[u8]) -> Option<&'static str> {
    let dot = arg.iter().rposition(|&b| b == b'.')?;
    Some(match &arg[dot + 1..] {
        b"c" | b"i" => ".i",
        b"cc" | b"cpp" | b"cxx" | b"cp" | b"c++" | b"C" | b"ii" => ".ii",
        b"m" | b"mi" => ".mi",
        b"mm" | b"M" | b"mii" => ".mii",
        _ => return None,
    })
}

/// Run distcc's scan plus our safety checks over argv (argv[0] is the compiler).
pub fn scan(argv: &[Vec<u8>]) -> Result<Scanned, ArgRefusal> {
    let mut state = ScanState::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_slice();
        let takes_value = TAKES_VALUE.contains(&String::from_utf8_lossy(a).as_ref());
        let value = if takes_value {
            argv.get(i + 1).map(Vec::as_slice)
        } else {
            None
        };
        if takes_value && value.is_none() {
            return Err(not_compile(format!(
                "option '{}' lacks its argument",
                String::from_utf8_lossy(a)
            )));
        }
        if a.first() == Some(&b'-') && a.len() > 1 || a.first() == Some(&b'@') {
            check_forms(a, value, 0)?;
            state.option(i, a, value)?;
            i += if takes_value { 2 } else { 1 };
        } else {
            state.positional(i, a)?;
            i += 1;
        }
    }
    state.finish(argv)
}

/// What the scan has seen so far.
struct ScanState {
    input: Option<usize>,
    output: Output,
    seen_c: bool,
    seen_s: bool,
}

impl ScanState {
    fn new() -> ScanState {
        ScanState {
            input: None,
            output: Output::Missing,
            seen_c: false,
            seen_s: false,
        }
    }

    /// distcc's rules for the option at `argv[i]` (already checked for safety).
    fn option(&mut self, i: usize, a: &[u8], value: Option<&[u8]>) -> Result<(), ArgRefusal> {
        match a {
            b"-E" => {
                return Err(not_compile(
                    "-E (preprocessing) always runs on the client".into(),
                ));
            }
            b"-c" => self.seen_c = true,
            b"-S" => self.seen_s = true,
            b"-o" => self.set_output(Output::Separate(i + 1))?,
            b"-march=native" | b"-mtune=native" | b"-flto" => {
                return Err(not_compile(format!(
                    "'{}' must run on the client",
                    String::from_utf8_lossy(a)
                )));
            }
            b"-x" => check_language(value.unwrap_or_default())?,
            _ if a.starts_with(b"-o") => self.set_output(Output::Joined(i))?,
            _ if a.starts_with(b"-M")
                && !matches!(a, b"-MD" | b"-MMD" | b"-MG" | b"-MP")
                && !a.starts_with(b"-MT")
                && !a.starts_with(b"-MQ") =>
            {
                return Err(not_compile(format!(
                    "'{}' is a preprocessor option",
                    String::from_utf8_lossy(a)
                )));
            }
            _ if a.starts_with(b"-dr") => {
                return Err(not_compile("-dr* is not distributed".into()));
            }
            _ => {}
        }
        Ok(())
    }

    fn set_output(&mut self, output: Output) -> Result<(), ArgRefusal> {
        if self.output != Output::Missing {
            return Err(not_compile("two -o options".into()));
        }
        self.output = output;
        Ok(())
    }

    /// A positional argument at `argv[i]`: the one source file, nothing else.
    fn positional(&mut self, i: usize, a: &[u8]) -> Result<(), ArgRefusal> {
        if source_ext(a).is_none() {
            return Err(unsafe_(
                a,
                "it is neither an option nor the one source file, and the compiler would read it",
            ));
        }
        if self.input.is_some() {
            return Err(not_compile("two input files".into()));
        }
        let base = a.rsplit(|&b| b == b'/').next().unwrap_or(a);
        if base.starts_with(b"conftest.") || base.starts_with(b"tmp.conftest.") {
            return Err(not_compile(
                "autoconf probes always run on the client".into(),
            ));
        }
        self.input = Some(i);
        Ok(())
    }

    /// The checks that need the whole command line.
    fn finish(self, argv: &[Vec<u8>]) -> Result<Scanned, ArgRefusal> {
        if !self.seen_c && !self.seen_s {
            return Err(not_compile(
                "neither -c nor -S: linking is never distributed".into(),
            ));
        }
        let Some(input) = self.input else {
            return Err(not_compile("no source file".into()));
        };
        match self.output {
            Output::Separate(j) if argv.get(j).map(Vec::as_slice) == Some(b"-") => {
                return Err(not_compile("output to stdout (-o -)".into()));
            }
            Output::Joined(j) if argv.get(j).map(Vec::as_slice) == Some(b"-o-") => {
                return Err(not_compile("output to stdout (-o -)".into()));
            }
            _ => {}
        }
        let src = &argv[input];
        Ok(Scanned {
            input,
            input_name: String::from_utf8_lossy(src).into_owned(),
            temp_ext: source_ext(src).unwrap_or(".i"),
            output: self.output,
            assembly: self.seen_s,
        })
    }
}

/// `-x LANG`: only the languages distcc distributes.
fn check_language(lang: &[u8]) -> Result<(), ArgRefusal> {
    let ok = [&b"c"[..], b"c++", b"objective-c", b"objective-c++", b"go"]
        .iter()
        .any(|p| lang.starts_with(p));
    if ok {
        Ok(())
    } else {
        Err(not_compile(format!(
            "language '{}' is not distributed",
            String::from_utf8_lossy(lang)
        )))
    }
}

/// The argv to run: compiler path first, the source and output replaced by the job's
/// temp names (relative to the job directory, which is the compiler's cwd).
pub fn rewrite(
    argv: &[Vec<u8>],
    scan: &Scanned,
    compiler: &[u8],
    input: &str,
    output: &str,
) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(argv.len() + 2);
    out.push(compiler.to_vec());
    for (i, a) in argv.iter().enumerate().skip(1) {
        if i == scan.input {
            out.push(input.as_bytes().to_vec());
        } else if scan.output == Output::Separate(i) {
            out.push(output.as_bytes().to_vec());
        } else if scan.output == Output::Joined(i) {
            out.push(format!("-o{output}").into_bytes());
        } else {
            out.push(a.clone());
        }
    }
    if scan.output == Output::Missing {
        out.push(b"-o".to_vec());
        out.push(output.as_bytes().to_vec());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<Vec<u8>> {
        s.split(' ').map(|a| a.as_bytes().to_vec()).collect()
    }

    #[test]
    fn ordinary_compile_is_scanned_and_rewritten() {
        let a = argv("x86_64-linux-gnu-gcc -O2 -g -c hello.c -o hello.o");
        let s = scan(&a).unwrap();
        assert_eq!(s.input, 4);
        assert_eq!(s.temp_ext, ".i");
        assert_eq!(s.output, Output::Separate(6));
        let r = rewrite(&a, &s, b"/usr/bin/gcc", "in.i", "out.o");
        assert_eq!(r, argv("/usr/bin/gcc -O2 -g -c in.i -o out.o"));
    }

    #[test]
    fn missing_output_is_appended_and_cxx_gets_ii() {
        let a = argv("g++ -c x.cpp");
        let s = scan(&a).unwrap();
        assert_eq!(s.temp_ext, ".ii");
        let r = rewrite(&a, &s, b"/usr/bin/g++", "in.ii", "out.o");
        assert_eq!(r, argv("/usr/bin/g++ -c in.ii -o out.o"));
        let j = argv("gcc -S x.c -ox.s");
        let s = scan(&j).unwrap();
        assert!(s.assembly);
        assert_eq!(
            rewrite(&j, &s, b"gcc", "in.i", "out.s"),
            argv("gcc -S in.i -oout.s")
        );
    }

    #[test]
    fn unsafe_options_are_refused() {
        for bad in [
            "gcc -wrapper /bin/sh,-c,id -c x.c -o x.o",
            "gcc -fplugin=/tmp/p.so -c x.c -o x.o",
            "gcc -fplugin-arg-p-x=1 -c x.c -o x.o",
            "gcc -specs=/tmp/s -c x.c -o x.o",
            "gcc --specs=/tmp/s -c x.c -o x.o",
            "gcc -B/tmp -c x.c -o x.o",
            "gcc -B /tmp -c x.c -o x.o",
            "gcc @/tmp/args -c x.c -o x.o",
            "gcc -iplugindir=/tmp -c x.c -o x.o",
            "gcc -fmodule-mapper=|/bin/sh -c x.c -o x.o",
            "gcc -include /etc/shadow -c x.c -o x.o",
            "gcc -MF /etc/x -c x.c -o x.o",
            "gcc -Wp,-MD,/etc/x -c x.c -o x.o",
            "gcc -aux-info /etc/x -c x.c -o x.o",
            "gcc -dumpdir /etc/ -c x.c -o x.o",
            "gcc -fdump-tree-all=/etc/x -c x.c -o x.o",
            "gcc -Wa,-adhln=/etc/x -c x.c -o x.o",
            "gcc -Xassembler @/etc/x -c x.c -o x.o",
            "clang -Xclang -load -Xclang /tmp/p.so -c x.c -o x.o",
            "gcc --gcc-toolchain=/tmp -c x.c -o x.o",
            "gcc -c x.c /etc/passwd -o x.o",
            // gcc's long aliases (issue 12's bypasses).
            "gcc --plugin=/tmp/p.so -c x.c -o x.o",
            "gcc --dump-tree-original=/d/w.txt -c x.c -o x.o",
            "gcc --dump-final-insns=/d/w -c x.c -o x.o",
            "gcc --opt-info-all=/d/w -c x.c -o x.o",
            "gcc --for-assembler=-adhln=/d/w -c x.c -o x.o",
            "gcc --for-as=-adhln=/d/w -c x.c -o x.o",
            "gcc --specs=/tmp/s -c x.c -o x.o",
            "gcc --include=/etc/shadow -c x.c -o x.o",
            "gcc -fcompare-debug=-fdump-tree-all=/d/w -c x.c -o x.o",
            "gcc -fcompare-debug=--plugin=/p.so -c x.c -o x.o",
            "gcc -save-temps=/tmp/x -c x.c -o x.o",
            "gcc -fdump-tree-all=../w -c x.c -o x.o",
            "gcc -Wa,-I/etc -c x.c -o x.o",
        ] {
            let r = scan(&argv(bad));
            assert!(matches!(r, Err(ArgRefusal::Unsafe { .. })), "{bad}: {r:?}");
        }
    }

    #[test]
    fn options_inside_compare_debug_are_checked() {
        let mut a = argv("gcc -c x.c -o x.o");
        a.push(b"-fcompare-debug=-aux-info /d/w".to_vec());
        assert!(matches!(scan(&a), Err(ArgRefusal::Unsafe { .. })));
        a.pop();
        a.push(b"-fcompare-debug=-O2 -gtoggle".to_vec());
        scan(&a).unwrap_or_else(|e| panic!("{e}"));
        let out = argv("gcc -c x.c --output=/etc/x.o");
        assert!(matches!(scan(&out), Err(ArgRefusal::NotCompile(_))));
    }

    #[test]
    fn distcc_non_compiles_are_refused() {
        for bad in [
            "gcc -E x.c",
            "gcc x.c -o x",
            "gcc -c x.c y.c",
            "gcc -c x.c -o -",
            "gcc -c conftest.c -o conftest.o",
            "gcc -march=native -c x.c -o x.o",
            "gcc -c -x assembler x.c -o x.o",
            "gcc -fprofile-use -c x.c -o x.o",
            "gcc -c",
            "gcc -c x.c -o",
        ] {
            let r = scan(&argv(bad));
            assert!(matches!(r, Err(ArgRefusal::NotCompile(_))), "{bad}: {r:?}");
        }
    }

    #[test]
    fn harmless_options_pass() {
        for ok in [
            "gcc -fdump-tree-optimized=stderr -c x.c -o x.o",
            "gcc -save-temps -MD -gsplit-dwarf --sysroot=/x -Wa,--noexecstack -c x.c -o x.o",
            "gcc --param max-inline-insns-single=500 -x c -c x.c -o x.o",
            "clang -Xclang -fno-pch-timestamp -target aarch64-linux-gnu -c x.c -o x.o",
            "gcc -fdump-tree-all=dump.txt -save-temps=obj --std=c99 -c x.c -o x.o",
            "gcc --param=max-inline-insns-single=5 --all-warnings -c x.c -o x.o",
        ] {
            scan(&argv(ok)).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }
}
