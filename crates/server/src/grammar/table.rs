//! The grammar's table: every option family a distcc compile may use, each written once
//! with what its value may be and why it is allowed, and the options refused by name with
//! a reason more useful than "not in the grammar". The man page prints both tables.

/// How an option's value is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The option alone (`-c`).
    Exact,
    /// The value follows in the same word (`-O2`, `-fno-common`, `-std=c11`).
    Joined,
    /// The value is the next word (`--param NAME=V`).
    Separate,
    /// Either (`-DX` or `-D X`, `-ofile` or `-o file`).
    JoinedOrSeparate,
}

/// What a value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// No value.
    None,
    /// A word: letters, digits and `_ . , : + = -`, never a path (no `/`).
    Word,
    /// [`Value::Word`] or nothing (`-W`, `-g`).
    OptionalWord,
    /// Any printable text (no `%`): the value is a string the compiler never opens
    /// (macros of an already preprocessed source, debug-info rewrite rules).
    Text,
    /// `-O` levels: nothing, 0-3, s, fast, g, z.
    OptLevel,
    /// A `-f` name and optional `=` word; see [`TEXT_VALUED_F`] and [`REFUSED`].
    FeatureName,
    /// `-x`: c, c++, objective-c, objective-c++ or their `-cpp-output` forms.
    Language,
    /// `-o`: any name; the server writes to its own file instead.
    Output,
    /// Assembler options (`-Wa,` items, `-Xassembler`): see [`ASSEMBLER`].
    Assembler,
    /// A target triple (clang's `-target`): letters, digits, `_ . -`, not an option.
    Triple,
    /// `-fcompare-debug=`: options of a second compile, each checked by this grammar.
    CompareDebug,
    /// `-save-temps=`: `cwd` or `obj` (both the job directory).
    SaveTemps,
}

/// What an accepted option does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `-c`.
    Compile,
    /// `-S`.
    Assemble,
    /// `-o`.
    Output,
    /// `-x`.
    Language,
    /// Passed to the compiler as written (re-joined with its value).
    Flag,
    /// clang only (`-target`).
    ClangFlag,
    /// Accepted and left out of the command: it only concerns the preprocessor, which
    /// ran on the client (gcc would still hand `-I` to the assembler as a search path).
    Dropped,
}

/// One family of options the grammar accepts.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// The option, or the prefix of a joined family.
    pub spelling: &'static str,
    /// How the value is spelled.
    pub form: Form,
    /// What the value may be.
    pub value: Value,
    /// What it does to the request.
    pub role: Role,
    /// Why a compile of preprocessed input may have it (shown in the man page).
    pub reason: &'static str,
}

const fn fam(
    spelling: &'static str,
    form: Form,
    value: Value,
    role: Role,
    reason: &'static str,
) -> Family {
    Family {
        spelling,
        form,
        value,
        role,
        reason,
    }
}

use Form::{Exact, Joined, JoinedOrSeparate, Separate};
use Role::{Flag, Output as Out};

const PREPROCESSED: &str =
    "the source is already preprocessed: accepted and left out of the command";
const CLIENT_CPP: &str = "preprocessor options (a dependency file, forced includes): the client's \
                          preprocessor ran them; left out, so the server never reads or writes for them";
const LINK_ONLY: &str = "only changes how a program is linked; -c and -S link nothing";
const CONFIGURE: &str = "configure checks: print a fact about the compiler and exit without \
                         an object (answered like distccd: success, empty object)";

/// The accepted families, most specific spelling first (a prefix family after the exact
/// options it would swallow).
#[rustfmt::skip]
pub const FAMILIES: &[Family] = &[
    fam("-c", Exact, Value::None, Role::Compile, "compile to an object file: what distcc distributes"),
    fam("-S", Exact, Value::None, Role::Assemble, "compile to assembler text"),
    fam("-o", JoinedOrSeparate, Value::Output, Out, "the output; the server writes the job's own file in its place"),
    fam("-x", JoinedOrSeparate, Value::Language, Role::Language, "the source language; the server always compiles it as preprocessed input, so it never runs the preprocessor"),
    fam("-pipe", Exact, Value::None, Flag, "the compiler's passes talk through pipes"),
    fam("-O", Joined, Value::OptLevel, Flag, "optimisation level"),
    fam("-g", Joined, Value::OptionalWord, Flag, "debug information: format and level (split DWARF lands next to the output, in the job)"),
    fam("-fcompare-debug=", Joined, Value::CompareDebug, Flag, "compile twice and compare; the options of the second compile pass this same grammar"),
    fam("-f", Joined, Value::FeatureName, Flag, "code generation and language features; a value is a word, never a path (dumps land in the job directory)"),
    fam("-march=", Joined, Value::Word, Flag, "target machine (except native, which must be resolved on the client)"),
    fam("-m", Joined, Value::Word, Flag, "target machine options"),
    fam("-std=", Joined, Value::Word, Flag, "language standard"),
    fam("-ansi", Exact, Value::None, Flag, "language standard"),
    fam("-pedantic", Exact, Value::None, Flag, "strict ISO diagnostics"),
    fam("-pedantic-errors", Exact, Value::None, Flag, "strict ISO diagnostics as errors"),
    fam("-w", Exact, Value::None, Flag, "no warnings"),
    fam("-Wa,", Joined, Value::Assembler, Flag, "assembler options from the allowed list (encoding, debug sections, no executable stack)"),
    fam("-Wl,", Joined, Value::Text, Flag, LINK_ONLY),
    fam("-Wp,", Joined, Value::Text, Role::Dropped, CLIENT_CPP),
    fam("-W", Joined, Value::OptionalWord, Flag, "warnings and errors"),
    fam("-Xassembler", Separate, Value::Assembler, Flag, "one assembler option from the allowed list"),
    fam("--param", Separate, Value::Word, Flag, "tuning parameters of the optimisers"),
    fam("--param=", Joined, Value::Word, Flag, "tuning parameters of the optimisers"),
    fam("-save-temps", Exact, Value::None, Flag, "keep intermediate files: they land in the job directory"),
    fam("-save-temps=", Joined, Value::SaveTemps, Flag, "keep intermediate files: cwd and obj are both the job directory"),
    fam("-D", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-U", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-I", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-isystem", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-iquote", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-idirafter", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-nostdinc", Exact, Value::None, Role::Dropped, PREPROCESSED),
    fam("-nostdinc++", Exact, Value::None, Role::Dropped, PREPROCESSED),
    fam("-undef", Exact, Value::None, Role::Dropped, PREPROCESSED),
    fam("--sysroot=", Joined, Value::Text, Role::Dropped, "where headers and libraries would be found; preprocessed input reads neither: left out"),
    fam("--sysroot", Separate, Value::Text, Role::Dropped, "where headers and libraries would be found; preprocessed input reads neither: left out"),
    fam("-MD", Exact, Value::None, Role::Dropped, "dependency files are written by the client's preprocessor: left out"),
    fam("-MMD", Exact, Value::None, Role::Dropped, "dependency files are written by the client's preprocessor: left out"),
    fam("-MF", JoinedOrSeparate, Value::Text, Role::Dropped, CLIENT_CPP),
    fam("-Xpreprocessor", Separate, Value::Text, Role::Dropped, CLIENT_CPP),
    fam("-include", JoinedOrSeparate, Value::Text, Role::Dropped, CLIENT_CPP),
    fam("-imacros", JoinedOrSeparate, Value::Text, Role::Dropped, CLIENT_CPP),
    fam("-MP", Exact, Value::None, Role::Dropped, PREPROCESSED),
    fam("-MG", Exact, Value::None, Role::Dropped, PREPROCESSED),
    fam("-MT", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-MQ", JoinedOrSeparate, Value::Text, Role::Dropped, PREPROCESSED),
    fam("-Qunused-arguments", Exact, Value::None, Flag, "clang: no warning for arguments a compile does not use"),
    fam("-pg", Exact, Value::None, Flag, "profiling calls (mcount): code, no file"),
    fam("-p", Exact, Value::None, Flag, "profiling calls (mcount): code, no file"),
    fam("-pthread", Exact, Value::None, Flag, "thread support: a macro (already expanded) and a link option"),
    fam("-pie", Exact, Value::None, Flag, LINK_ONLY),
    fam("-no-pie", Exact, Value::None, Flag, LINK_ONLY),
    fam("-static", Exact, Value::None, Flag, LINK_ONLY),
    fam("-shared", Exact, Value::None, Flag, LINK_ONLY),
    fam("-rdynamic", Exact, Value::None, Flag, LINK_ONLY),
    fam("-static-libgcc", Exact, Value::None, Flag, LINK_ONLY),
    fam("-static-libstdc++", Exact, Value::None, Flag, LINK_ONLY),
    fam("-nostdlib", Exact, Value::None, Flag, LINK_ONLY),
    fam("-nostartfiles", Exact, Value::None, Flag, LINK_ONLY),
    fam("-nodefaultlibs", Exact, Value::None, Flag, LINK_ONLY),
    fam("-dumpversion", Exact, Value::None, Flag, CONFIGURE),
    fam("-dumpfullversion", Exact, Value::None, Flag, CONFIGURE),
    fam("-dumpmachine", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-search-dirs", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-libgcc-file-name", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-multiarch", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-multi-directory", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-multi-lib", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-multi-os-directory", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-sysroot", Exact, Value::None, Flag, CONFIGURE),
    fam("-print-file-name=", Joined, Value::Word, Flag, CONFIGURE),
    fam("-print-prog-name=", Joined, Value::Word, Flag, CONFIGURE),
    fam("-target", Separate, Value::Triple, Role::ClangFlag, "clang's target triple (gcc has no such option and would read the next word as one)"),
    fam("--target=", Joined, Value::Triple, Role::ClangFlag, "clang's target triple"),
];

/// Why an option is refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// It could run code, load code, or reach files outside the job.
    Unsafe,
    /// distcc never distributes it (it must run on the client).
    NotCompile,
}

/// Options refused by name: (prefix of the short spelling, kind, reason). Checked before
/// [`FAMILIES`], so a refused member of an accepted family (`-fplugin` in `-f`) is
/// refused with its own reason.
#[rustfmt::skip]
pub const REFUSED: &[(&str, Refused, &str)] = &[
    ("-wrapper", Refused::Unsafe, "it runs a program of the client's choice around every compiler pass"),
    ("-fplugin", Refused::Unsafe, "it loads a shared object into the compiler"),
    ("-iplugindir", Refused::Unsafe, "it loads a shared object into the compiler"),
    ("-fpass-plugin", Refused::Unsafe, "it loads a shared object into the compiler"),
    ("-fmodule", Refused::Unsafe, "C++ modules: the mapper can be a program or a network address, and module files are read from disk"),
    ("-fcompare-debug-second", Refused::Unsafe, "it is the driver's own internal switch"),
    ("-fself-test", Refused::Unsafe, "it reads a directory of the client's choice"),
    ("-foffload", Refused::Unsafe, "it configures other compilers the driver runs"),
    ("-fdiagnostics-add-output", Refused::Unsafe, "it writes diagnostics to a file of the client's choice"),
    ("-fdiagnostics-set-output", Refused::Unsafe, "it writes diagnostics to a file of the client's choice"),
    ("-specs", Refused::Unsafe, "spec files can make the compiler run any program"),
    ("-B", Refused::Unsafe, "it chooses which programs the compiler runs (cc1, as)"),
    ("-Xclang", Refused::Unsafe, "it passes options to clang's internals, which this server does not check"),
    ("-mllvm", Refused::Unsafe, "it passes options to LLVM's internals, which this server does not check"),
    ("-aux-info", Refused::Unsafe, "it writes a file at a path of the client's choice"),
    ("-dumpdir", Refused::Unsafe, "it writes files at a path of the client's choice"),
    ("-dumpbase", Refused::Unsafe, "it writes files at a path of the client's choice"),
    ("-auxbase", Refused::Unsafe, "it writes files at a path of the client's choice"),
    ("-fprofile", Refused::NotCompile, "it needs profile files, which distcc does not distribute"),
    ("-fauto-profile", Refused::NotCompile, "it needs profile files, which distcc does not distribute"),
    ("-fbranch-probabilities", Refused::NotCompile, "it needs profile files, which distcc does not distribute"),
    ("-ftest-coverage", Refused::NotCompile, "it writes coverage notes, which distcc does not bring back"),
    ("-fcoverage", Refused::NotCompile, "it writes coverage notes, which distcc does not bring back"),
    ("-flto", Refused::NotCompile, "link-time optimisation must run on the client"),
    ("-E", Refused::NotCompile, "preprocessing always runs on the client"),
    ("-M", Refused::NotCompile, "dependency generation is the client's preprocessor's job"),
];

/// `-f` families whose value is a string the compiler never opens: debug-info rewrite
/// rules, a random seed, name lists.
pub const TEXT_VALUED_F: &[&str] = &[
    "-fdebug-prefix-map=",
    "-ffile-prefix-map=",
    "-fmacro-prefix-map=",
    "-frandom-seed=",
    "-finstrument-functions-exclude-file-list=",
    "-finstrument-functions-exclude-function-list=",
];

/// Options that must run on the client (`-march=native` and friends).
pub const NATIVE: &[&str] = &["-march=native", "-mtune=native", "-mcpu=native"];

/// Assembler options a compile may pass (`-Wa,` items and `-Xassembler`): exact names,
/// or (ending in `*`) a prefix followed by a word. Listings (`-a`), dependency files
/// (`--MD`), include paths (`-I`), output (`-o`) and response files are not among them.
pub const ASSEMBLER: &[&str] = &[
    "--noexecstack",
    "--execstack",
    "-g",
    "--gen-debug",
    "--gdwarf-*",
    "--gdwarf-sections",
    "--compress-debug-sections",
    "--compress-debug-sections=*",
    "--nocompress-debug-sections",
    "--32",
    "--64",
    "--x32",
    "-EL",
    "-EB",
    "--warn",
    "--fatal-warnings",
    "--no-warn",
    "-W",
    "-K",
    "--strip-local-absolute",
    "--size-check=*",
    "--elf-stt-common=*",
    "--generate-missing-build-notes=*",
    "-m*",
];
