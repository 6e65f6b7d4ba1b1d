use super::*;

fn argv(s: &str) -> Vec<Vec<u8>> {
    s.split(' ').map(|a| a.as_bytes().to_vec()).collect()
}

fn cmd(s: &str) -> String {
    let r = parse(&argv(s)).unwrap_or_else(|e| panic!("{s}: {e}"));
    let c = r.command(
        b"/usr/bin/gcc",
        &format!("input{}", r.temp_ext()),
        "output.o",
    );
    c.iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn refused(s: &str) -> ArgRefusal {
    match parse(&argv(s)) {
        Ok(r) => panic!("{s} was accepted: {r:?}"),
        Err(e) => e,
    }
}

fn unsafe_why(s: &str) -> String {
    match refused(s) {
        ArgRefusal::Unsafe { why, .. } => why,
        e => panic!("{s}: not refused as unsafe: {e}"),
    }
}

#[test]
fn the_command_is_rebuilt_in_canonical_spellings() {
    assert_eq!(
        cmd("x86_64-linux-gnu-gcc -O2 -g -c hello.c -o hello.o"),
        "/usr/bin/gcc -O2 -g -x cpp-output -c input.i -o output.o"
    );
    // Separate values are joined to their option, -x names the preprocessed form.
    assert_eq!(
        cmd("g++ -D NDEBUG -I /usr/include/x --param max-inline-insns-single=500 -x c++ -c x.cpp"),
        "/usr/bin/gcc --param=max-inline-insns-single=500 -x c++-cpp-output -c input.ii -o output.o"
    );
    // gcc's long spellings become the short option they stand for.
    assert_eq!(
        cmd("gcc --std=c99 --all-warnings --output=/etc/x.o --compile x.c"),
        "/usr/bin/gcc -std=c99 -Wall -x cpp-output -c input.i -o output.o"
    );
    assert_eq!(
        cmd("gcc -S -xc x.c -oout.s -Xassembler --noexecstack"),
        "/usr/bin/gcc -Wa,--noexecstack -x cpp-output -S input.i -o output.o"
    );
    assert_eq!(
        cmd("clang -target aarch64-linux-gnu -c x.m"),
        "/usr/bin/gcc --target=aarch64-linux-gnu -x objective-c-cpp-output -c input.mi -o output.o"
    );
}

#[test]
fn real_build_flags_are_accepted() {
    for ok in [
        "gcc -O2 -g -pipe -Wall -Werror=format-security -Wp -fstack-protector-strong \
         -fstack-clash-protection -fcf-protection -ffile-prefix-map=/build/p-1.0=. \
         -fdebug-prefix-map=/home/u=/usr/src -fPIC -fvisibility=hidden -std=gnu11 \
         -march=x86-64 -mtune=generic -D_FORTIFY_SOURCE=2 -c x.c -o x.o",
        "gcc -fdump-tree-optimized=stderr -save-temps -MD -gsplit-dwarf --sysroot=/x \
         -Wa,--noexecstack -c x.c -o x.o",
        "gcc -fdump-tree-all=dump.txt -save-temps=obj --std=c99 -c x.c -o x.o",
        "gcc --param=max-inline-insns-single=5 --all-warnings -c x.c -o x.o",
        "gcc -fcompare-debug=-O2 -gtoggle -c x.c -o x.o",
        "gcc -fsyntax-only -c x.c -o x.o",
        "gcc -dumpversion -c x.c -o x.o",
        "gcc --print-search-dirs -c x.c -o x.o",
        "gcc -print-file-name=libc.so -c x.c -o x.o",
        "gcc -c conftest.c -o conftest.o",
        "gcc -pthread -Wl,-z,relro -fno-lto -c x.c -o x.o",
        "gcc -Wa,-mrelax-relocations=no,--gdwarf-5 -c x.c -o x.o",
        "clang -Qunused-arguments -fcolor-diagnostics -c x.c -o x.o",
    ] {
        cmd(ok);
    }
}

/// Issue 21's payloads: each refused, with a reason.
#[test]
fn the_attack_classes_are_refused_with_a_reason() {
    // The value-skipping trick: a word after -G/-target/-arch/-Xclang/-mllvm is not a
    // value to gcc on x86.
    for s in [
        "gcc -G -wrapper /bin/sh,-c,id -c x.c -o x.o",
        "gcc -target -wrapper /bin/sh -c x.c -o x.o",
        "gcc -arch -wrapper /bin/sh -c x.c -o x.o",
        "gcc -Xclang -wrapper /bin/sh -c x.c -o x.o",
        "gcc -mllvm -wrapper /bin/sh -c x.c -o x.o",
    ] {
        refused(s);
    }
    let mut a = argv("gcc -c x.c -o x.o");
    a.push(b"-fcompare-debug=-G -wrapper /bin/sh,-c,id".to_vec());
    assert!(matches!(parse(&a), Err(ArgRefusal::Unsafe { .. })));
    a.pop();
    a.push(b"-fcompare-debug=-O2 -target -wrapper".to_vec());
    assert!(matches!(parse(&a), Err(ArgRefusal::Unsafe { .. })));
    // Spec syntax: %(cpp) expands to a space and splits a word.
    a.pop();
    a.push(b"-fcompare-debug=-fno-common%(cpp)-wrapper%(cpp)/bin/sh".to_vec());
    let why = match parse(&a) {
        Err(ArgRefusal::Unsafe { why, .. }) => why,
        r => panic!("{r:?}"),
    };
    assert!(why.contains("spec syntax"), "{why}");
    assert!(unsafe_why("gcc -D%(cpp) -c x.c -o x.o").contains("spec syntax"));
    // Plugins, in every spelling.
    for s in [
        "gcc -fplugin=/usr/lib/x86_64-linux-gnu/libc.so.6 -c x.c -o x.o",
        "gcc -fplugin=libc -c x.c -o x.o",
        "gcc --plugin=/x.so -c x.c -o x.o",
        "gcc -fcompare-debug=-fplugin=libc -c x.c -o x.o",
        "gcc -iplugindir=/usr/lib -c x.c -o x.o",
    ] {
        assert!(unsafe_why(s).contains("shared object"), "{s}");
    }
    // Joined spellings.
    assert!(unsafe_why("gcc -aux-info=/tmp/w -c x.c -o x.o").contains("path"));
    assert!(matches!(
        refused("gcc -xassembler-with-cpp -c x.c -o x.o"),
        ArgRefusal::NotCompile(_)
    ));
    assert!(matches!(
        refused("gcc -xnone -c x.c -o x.o"),
        ArgRefusal::NotCompile(_)
    ));
}

#[test]
fn everything_outside_the_grammar_is_refused() {
    for bad in [
        "gcc -wrapper /bin/sh,-c,id -c x.c -o x.o",
        "gcc -fplugin-arg-p-x=1 -c x.c -o x.o",
        "gcc -specs=/tmp/s -c x.c -o x.o",
        "gcc --specs=/tmp/s -c x.c -o x.o",
        "gcc -B/tmp -c x.c -o x.o",
        "gcc -B /tmp -c x.c -o x.o",
        "gcc @/tmp/args -c x.c -o x.o",
        "gcc -fmodule-mapper=|/bin/sh -c x.c -o x.o",
        "gcc -fmodules-ts -c x.c -o x.o",
        "gcc -aux-info /etc/x -c x.c -o x.o",
        "gcc -dumpdir /etc/ -c x.c -o x.o",
        "gcc -fdump-tree-all=/etc/x -c x.c -o x.o",
        "gcc -fdump-tree-all=../w -c x.c -o x.o",
        "gcc -Wa,-adhln=/etc/x -c x.c -o x.o",
        "gcc -Wa,-I/etc -c x.c -o x.o",
        "gcc -Xassembler @/etc/x -c x.c -o x.o",
        "clang -Xclang -load -Xclang /tmp/p.so -c x.c -o x.o",
        "gcc --gcc-toolchain=/tmp -c x.c -o x.o",
        "gcc -c x.c /etc/passwd -o x.o",
        "gcc --dump-tree-original=/d/w.txt -c x.c -o x.o",
        "gcc --for-assembler=-adhln=/d/w -c x.c -o x.o",
        "gcc -save-temps=/tmp/x -c x.c -o x.o",
        "gcc -fself-test=/tmp -c x.c -o x.o",
        "gcc -foffload=nvptx-none -c x.c -o x.o",
        "gcc -time=/tmp/t -c x.c -o x.o",
        "gcc -v -c x.c -o x.o",
        "gcc -m -c x.c -o x.o",
        "gcc -O9 -c x.c -o x.o",
        "gcc -std=/x -c x.c -o x.o",
        "gcc -target x86_64-linux-gnu -c x.c -o x.o",
    ] {
        let r = refused(bad);
        assert!(matches!(r, ArgRefusal::Unsafe { .. }), "{bad}: {r:?}");
        assert!(r.to_string().contains("refused by this server: "), "{r}");
    }
    // An empty separate value would make gcc read the next word as the value.
    let mut a = argv("gcc -c x.c -o x.o -D");
    a.push(Vec::new());
    a.push(b"-O2".to_vec());
    assert!(matches!(parse(&a), Err(ArgRefusal::Unsafe { .. })));
    let mut a = argv("gcc -c x.c -o x.o");
    a.push(b"-DX=\n".to_vec());
    assert!(matches!(parse(&a), Err(ArgRefusal::Unsafe { .. })));
}

/// What only the client's preprocessor uses is accepted and left out: the compiler never
/// sees it, so it cannot read or write for it.
#[test]
fn preprocessor_options_are_left_out_of_the_command() {
    assert_eq!(
        cmd(
            "gcc -include /etc/shadow -imacros /etc/x -MF /etc/x -MD -Wp,-MD,/etc/x \
             -Wp,-D_FORTIFY_SOURCE=3 -Xpreprocessor -MD --include=/etc/shadow -I/home/u \
             -isystem /opt/i -DX=1 -UY --sysroot=/s -O2 -c x.c -o x.o"
        ),
        "/usr/bin/gcc -O2 -x cpp-output -c input.i -o output.o"
    );
}

#[test]
fn distcc_non_compiles_are_refused() {
    for bad in [
        "gcc -E x.c",
        "gcc -M -c x.c",
        "gcc x.c -o x",
        "gcc -c x.c y.c",
        "gcc -c x.c -o -",
        "gcc -c x.c -o a.o -o b.o",
        "gcc -march=native -c x.c -o x.o",
        "gcc -c -x assembler x.c -o x.o",
        "gcc -fprofile-use -c x.c -o x.o",
        "gcc -flto=auto -c x.c -o x.o",
        "gcc -c",
        "gcc -c x.c -o",
    ] {
        let r = parse(&argv(bad));
        assert!(matches!(r, Err(ArgRefusal::NotCompile(_))), "{bad}: {r:?}");
    }
}

#[test]
fn the_language_in_effect_names_the_job_source() {
    let r = parse(&argv("g++ -c x.cc -o x.o")).unwrap();
    assert_eq!((r.language, r.temp_ext()), (Language::Cxx, ".ii"));
    // -x applies to the files after it; gcc ignores one after the last input.
    let r = parse(&argv("gcc -x c++ -c x.c -o x.o")).unwrap();
    assert_eq!(r.language, Language::Cxx);
    let r = parse(&argv("gcc -c x.c -o x.o -x c++")).unwrap();
    assert_eq!(r.language, Language::C);
    let r = parse(&argv("gcc -S -c x.mm")).unwrap();
    assert_eq!((r.language, r.mode), (Language::ObjCxx, Mode::Assembly));
}
