//! gcc itself as the oracle of the grammar (issue 21): for every argument vector the
//! grammar accepts — real build flags, distcc's own test suite's, and property-generated
//! vectors — the compiler's dry run (`gcc -###` on the command the server would run, in
//! a scratch job directory) must show every program it would execute in a system
//! directory, and every path it would have `cc1`, `as` or `objcopy` read or write inside
//! the job directory or a read-only system directory. No link step may appear.

use std::path::{Path, PathBuf};
use std::process::Command;

use distsetup::server::grammar::{self, ArgRefusal};
use proptest::prelude::*;

/// Flags real builds send (Debian's dpkg-buildflags, Meson's and CMake's defaults, the
/// kernel's, Lua's, autotools projects), and distcc's own test suite's commands.
const CORPUS: &[&str] = &[
    "gcc -g -O2 -ffile-prefix-map=/build/pkg-1.0=. -fstack-protector-strong -fstack-clash-protection -Wformat -Werror=format-security -fcf-protection -Wdate-time -D_FORTIFY_SOURCE=2 -c x.c -o x.o",
    "cc -std=gnu99 -O2 -Wall -Wextra -DLUA_COMPAT_5_3 -DLUA_USE_LINUX -c lapi.c -o lapi.o",
    "cc -Isrc/libfoo.a.p -Isrc -I../src -fdiagnostics-color=always -D_FILE_OFFSET_BITS=64 -Wall -Winvalid-pch -Wextra -std=c11 -O0 -g -fPIC -MD -MQ src/libfoo.a.p/foo.c.o -MF src/libfoo.a.p/foo.c.o.d -o src/libfoo.a.p/foo.c.o -c ../src/foo.c",
    "/usr/bin/cc -DFOO_EXPORTS -I/home/u/proj/include -O3 -DNDEBUG -fPIC -MD -MT CMakeFiles/foo.dir/foo.c.o -MF CMakeFiles/foo.dir/foo.c.o.d -o CMakeFiles/foo.dir/foo.c.o -c /home/u/proj/foo.c",
    "gcc -Wp,-MMD,kernel/.fork.o.d -nostdinc -I./arch/x86/include -D__KERNEL__ -fmacro-prefix-map=./= -Wall -Wundef -Werror=strict-prototypes -fno-strict-aliasing -fno-common -fshort-wchar -fno-PIE -Werror=implicit-function-declaration -std=gnu11 -mno-sse -mno-mmx -mno-sse2 -mno-3dnow -mno-avx -m64 -falign-jumps=1 -falign-loops=1 -mno-80387 -mno-fp-ret-in-387 -mpreferred-stack-boundary=3 -mskip-rax-setup -mtune=generic -mno-red-zone -mcmodel=kernel -Wno-sign-compare -fno-asynchronous-unwind-tables -mindirect-branch=thunk-extern -mindirect-branch-register -mfunction-return=thunk-extern -fno-jump-tables -mharden-sls=all -fpatchable-function-entry=16,16 -fno-delete-null-pointer-checks -O2 -fno-allow-store-data-races -fstack-protector-strong -fomit-frame-pointer -ftrivial-auto-var-init=zero -fno-stack-clash-protection -pg -mrecord-mcount -mfentry -DCC_USING_FENTRY -falign-functions=16 -fstrict-flex-arrays=3 -fno-strict-overflow -fno-stack-check -fconserve-stack -Wa,--noexecstack -c -o kernel/fork.o kernel/fork.c",
    "g++ -std=c++17 -O2 -g -pthread -fvisibility=hidden -fvisibility-inlines-hidden -Wall -Wno-unused-parameter -c a.cpp -o a.o",
    "gcc -O2 -pipe -march=x86-64 -mtune=generic -fno-plt -fexceptions -Wp,-D_FORTIFY_SOURCE=3 -Wformat -Werror=format-security -fstack-clash-protection -fcf-protection -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -g -ffile-prefix-map=/build/p/src=/usr/src/debug/p -flto=auto -c x.c -o x.o",
    "gcc -O2 -g -save-temps -gsplit-dwarf -fstack-usage -fdump-tree-optimized -fdump-rtl-expand=expand.txt -fopt-info-vec=stderr -c x.c -o x.o",
    "gcc -fcompare-debug=-O1 -c x.c -o x.o",
    "gcc -fsyntax-only -c x.c -o x.o",
    "gcc -dumpversion -c x.c -o x.o",
    "gcc -dumpmachine -c x.c -o x.o",
    "gcc --print-search-dirs -c x.c -o x.o",
    "gcc -print-file-name=libc.so -c x.c -o x.o",
    "gcc -print-prog-name=cc1 -c x.c -o x.o",
    "gcc -S -O2 -masm=intel -c x.c -o x.s",
    "gcc -x c++ -std=gnu++20 -c x.c -o x.o",
    "gcc -Wa,-mrelax-relocations=no,--gdwarf-5 -Xassembler --noexecstack -c x.c -o x.o",
    "gcc -pie -no-pie -static -shared -rdynamic -Wl,-z,relro,-z,now,-rpath,/opt/lib -c x.c -o x.o",
    "gcc --sysroot=/opt/sysroot -isystem /opt/sys/include -iquote q -idirafter /a -c x.c -o x.o",
    // distcc's testdistcc.py (the compiler names the client sends).
    "gcc -c hello.c",
    "gcc -g -O2 -W -Wall -Wshadow -Wpointer-arith -Wcast-align -c -o h_strip.o h_strip.c",
    "cc -c -I. -I.. -I../include -I/home/mbp/garnome/include -c -o foo.o foo.c",
    "cc -c -DDEBUG -DFOO=23 -D BAR -c -o foo.o foo.c",
    "cc -o nsinstall.o -c -fPIC -Wall -W -Wno-unused -Wpointer-arith -Wcast-align -pedantic -Wno-long-long -pthread -pipe -g nsinstall.c",
    "gcc -o /tmp/hello.o -c ../src/hello.c",
    "gcc -DMYNAME=quasibar.c bar.c -c -o bar.o",
    "gcc -ohello.o -c hello.c",
    "gcc -c -S hello.c",
    "gcc -S -c hello.c",
    "gcc -MD -c hello.c",
    "gcc -MMD -c hello.c",
    "gcc -Wa,-xarch=v8 -c foo.c",
    "cc -c hello.c -I/usr/include/ -o testtmp.o",
    "c++ -c testtmp.cpp -o testtmp.o",
    "cc -x objective-c -c testtmp.m -o testtmp.o",
    "c++ -x objective-c++ -c testtmp.mm -o testtmp.o",
];

/// Directories a compile may read and execute from (Landlock's read-only set).
const SYSTEM: &[&str] = &["/usr/", "/lib/", "/lib64/", "/bin/", "/etc/"];

/// The programs a compile runs: the compilers proper, the assembler, and objcopy for
/// split DWARF.
const PASSES: &[&str] = &["cc1", "cc1plus", "cc1obj", "cc1objplus", "as", "objcopy"];

/// Options whose value is a string the compiler never opens.
const STRINGS: &[&str] = &[
    "-ffile-prefix-map=",
    "-fdebug-prefix-map=",
    "-fmacro-prefix-map=",
    "-frandom-seed=",
    "-Wl,",
];

/// Options whose next word is a file the sub-command writes.
const WRITES: &[&str] = &[
    "-o",
    "-dumpbase",
    "-dumpdir",
    "-auxbase",
    "-auxbase-strip",
    "-MF",
    "-aux-info",
];

/// The words of one `gcc -###` sub-command line (` "/usr/lib/.../cc1" "-quiet" ...`).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut escaped, mut any) = (false, false, false);
    for c in line.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' && quoted {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            any = true;
        } else if c == ' ' && !quoted {
            if any || !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            any = false;
        } else {
            cur.push(c);
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn inside(job: &Path, path: &str) -> bool {
    let p = Path::new(path);
    let under_job = if p.is_absolute() {
        p.starts_with(job)
    } else {
        true
    };
    under_job && !p.components().any(|c| c == std::path::Component::ParentDir)
}

fn system(path: &str) -> bool {
    SYSTEM.iter().any(|d| path.starts_with(d)) && !path.contains("/../")
        || path.starts_with("/usr/lib/gcc/") // gcc's own libexec, climbing within /usr
}

/// A program name as the driver runs it: absolute, or looked up in PATH.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.starts_with('/') {
        return Some(PathBuf::from(program));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// What is wrong with the dry run of `command` in `job`, if anything.
fn violations(job: &Path, command: &[Vec<u8>]) -> Vec<String> {
    std::fs::write(job.join("input.i"), "int x;\n").unwrap();
    let out = Command::new("gcc")
        .arg("-###")
        .args(
            command[1..]
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned()),
        )
        .current_dir(job)
        .env("TMPDIR", job)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut bad = Vec::new();
    for line in text.lines().filter(|l| l.starts_with(' ')) {
        let w = words(line.trim_start());
        let Some(program) = w.first() else { continue };
        let name = Path::new(program).file_name().unwrap().to_string_lossy();
        if ["collect2", "ld", "ld.bfd", "ld.gold", "lto-wrapper"].contains(&name.as_ref()) {
            bad.push(format!("a link step runs: {line}"));
        }
        let pass = PASSES
            .iter()
            .any(|p| name == *p || name.ends_with(&format!("-{p}")));
        match resolve(program) {
            Some(p) if pass && system(&p.to_string_lossy()) => {}
            // Not installed here (cc1obj): the driver fails, nothing runs.
            None if pass => {}
            other => bad.push(format!(
                "executes {program} ({other:?}), not a compiler pass"
            )),
        }
        for (i, word) in w.iter().enumerate().skip(1) {
            if word.starts_with("-fplugin") || word == "-wrapper" || word == "-plugin" {
                bad.push(format!("loads or runs code: {word} in {line}"));
            }
            if STRINGS.iter().any(|s| word.starts_with(s)) {
                continue;
            }
            let value = word.rsplit_once('=').map_or(word.as_str(), |(_, v)| v);
            let writes = i > 1 && WRITES.contains(&w[i - 1].as_str());
            let path_like = value.contains('/') || writes;
            if !path_like || value == "/dev/null" {
                continue;
            }
            let ok = inside(job, value) || !writes && system(value);
            if !ok {
                let how = if writes { "writes" } else { "reads" };
                bad.push(format!("{how} {value} (from {word}) in: {line}"));
            }
        }
    }
    bad
}

fn argv(s: &str) -> Vec<Vec<u8>> {
    s.split_whitespace()
        .map(|a| a.as_bytes().to_vec())
        .collect()
}

/// Parse; if accepted, the dry run must be clean. Returns whether it was accepted.
fn check(job: &Path, a: &[Vec<u8>]) -> Result<bool, String> {
    match grammar::parse(a) {
        Err(ArgRefusal::Unsafe { .. } | ArgRefusal::NotCompile(_)) => Ok(false),
        Ok(req) => {
            let name = format!("input{}", req.temp_ext());
            let out = if req.assembly() {
                "output.s"
            } else {
                "output.o"
            };
            let cmd = req.command(b"gcc", &name, out);
            let bad = violations(job, &cmd);
            if bad.is_empty() {
                Ok(true)
            } else {
                Err(format!("{a:?} accepted, but:\n{}", bad.join("\n")))
            }
        }
    }
}

#[test]
fn every_accepted_corpus_vector_stays_in_its_job_by_gccs_own_dry_run() {
    let job = tempfile::tempdir().unwrap();
    let mut refused = Vec::new();
    for line in CORPUS {
        if !check(job.path(), &argv(line)).unwrap_or_else(|e| panic!("{e}")) {
            let why = grammar::parse(&argv(line)).err().map(|e| e.to_string());
            refused.push(why.unwrap_or_default());
        }
    }
    // Only what the client itself keeps local (-flto) and a SPARC assembler option
    // distcc's suite uses to test its client's scan are refused.
    assert_eq!(refused.len(), 2, "{refused:#?}");
    for (r, what) in refused.iter().zip(["'-flto=auto'", "'-Wa,-xarch=v8'"]) {
        assert!(r.contains(what), "{r}");
    }
}

/// The oracle can fail: a vector the grammar refuses shows a violation in the dry run.
#[test]
fn the_oracle_sees_what_a_refused_vector_would_do() {
    let job = tempfile::tempdir().unwrap();
    for (cmd, finding) in [
        (
            "gcc -wrapper /bin/sh,-c,id -x cpp-output -c input.i -o output.o",
            "executes /bin/sh",
        ),
        (
            "gcc -fplugin=libc -x cpp-output -c input.i -o output.o",
            "loads or runs code",
        ),
        (
            "gcc -aux-info=/tmp/w -x cpp-output -c input.i -o output.o",
            "writes /tmp/w",
        ),
        (
            "gcc -I/home/u -x cpp-output -c input.i -o output.o",
            "reads /home/u",
        ),
        ("gcc -x cpp-output input.i -o output", "a link step runs"),
    ] {
        let bad = violations(job.path(), &argv(cmd));
        assert!(bad.iter().any(|b| b.contains(finding)), "{cmd}: {bad:?}");
    }
}

/// Words a hostile or careless client could send: options of every family with values
/// that are paths, spec syntax, options in value position, and plain good ones.
fn word() -> impl Strategy<Value = String> {
    let spelling = prop::sample::select(vec![
        "-c",
        "-S",
        "-o",
        "-x",
        "-O",
        "-g",
        "-f",
        "-m",
        "-W",
        "-Wa,",
        "-Wl,",
        "-Wp,",
        "-D",
        "-I",
        "-U",
        "-std=",
        "--param",
        "--param=",
        "-fcompare-debug=",
        "-fdump-tree-all=",
        "-fplugin=",
        "-target",
        "-G",
        "-arch",
        "-Xclang",
        "-mllvm",
        "-Xassembler",
        "-wrapper",
        "-aux-info",
        "-aux-info=",
        "-B",
        "-specs=",
        "--output=",
        "--plugin=",
        "--sysroot",
        "-isystem",
        "-save-temps=",
        "-print-file-name=",
        "-MD",
        "-MF",
        "-include",
        "--",
        "-",
    ]);
    let value = prop::sample::select(vec![
        "",
        "2",
        "c",
        "c++",
        "cpp-output",
        "assembler",
        "/etc/passwd",
        "../w",
        "w.txt",
        "x.c",
        "%(cpp)",
        "-wrapper",
        "/bin/sh,-c,id",
        "no-common",
        "march=x86-64",
        "all",
        "libc",
        "-O2 -wrapper /bin/sh",
        "--noexecstack",
        "-adhln=/tmp/l",
        "max-inline-insns-single=5",
        "obj",
        "/tmp",
        "x86_64-linux-gnu",
        "plugin=libc",
        "stack-protector",
        "=",
        ",",
    ]);
    prop_oneof![
        (spelling, value).prop_map(|(s, v)| format!("{s}{v}")),
        prop::sample::select(vec![
            "x.c",
            "y.cc",
            "-c",
            "-o",
            "out.o",
            "/etc/passwd",
            "@rsp"
        ])
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn every_accepted_generated_vector_stays_in_its_job(
        words in prop::collection::vec(word(), 0..8)
    ) {
        let job = tempfile::tempdir().unwrap();
        let mut a: Vec<Vec<u8>> = vec![b"gcc".to_vec()];
        a.extend(words.iter().map(|w| w.as_bytes().to_vec()));
        // Most random vectors lack a mode or a source: add them half the time.
        if words.len() % 2 == 0 {
            a.extend([b"-c".to_vec(), b"x.c".to_vec()]);
        }
        if let Err(e) = check(job.path(), &a) {
            prop_assert!(false, "{}", e);
        }
    }
}
