//! gcc's other spellings of an option: the driver maps `--X[=V]` to a short option
//! (`--output` to `-o`, `--for-assembler` to `-Wa,`, ...; unknown names to `-fX`, and
//! unambiguous prefixes of the known names count). The grammar parses the short form.

/// gcc's `option_map` (gcc.cc): a long name and the short option it stands for. A value
/// (`--name=V`) is appended to the short option as written here.
const LONG: &[(&str, &str)] = &[
    ("--all-warnings", "-Wall"),
    ("--ansi", "-ansi"),
    ("--assemble", "-S"),
    ("--assert", "-A"),
    ("--classpath", "-fclasspath="),
    ("--bootclasspath", "-fbootclasspath="),
    ("--CLASSPATH", "-fclasspath="),
    ("--comments", "-C"),
    ("--comments-in-macros", "-CC"),
    ("--compile", "-c"),
    ("--debug", "-g"),
    ("--define-macro", "-D"),
    ("--dependencies", "-M"),
    ("--dump", "-d"),
    ("--dumpbase", "-dumpbase"),
    ("--dumpdir", "-dumpdir"),
    ("--encoding", "-fencoding="),
    ("--entry", "-e"),
    ("--extra-warnings", "-W"),
    ("--extdirs", "-fextdirs="),
    ("--for-assembler", "-Wa,"),
    ("--for-linker", "-Xlinker"),
    ("--force-link", "-u"),
    ("--coverage", "--coverage"),
    ("--imacros", "-imacros"),
    ("--include", "-include"),
    ("--include-barrier", "-I-"),
    ("--include-directory", "-I"),
    ("--include-directory-after", "-idirafter"),
    ("--include-prefix", "-iprefix"),
    ("--include-with-prefix", "-iwithprefix"),
    ("--include-with-prefix-before", "-iwithprefixbefore"),
    ("--include-with-prefix-after", "-iwithprefix"),
    ("--language", "-x"),
    ("--library-directory", "-L"),
    ("--machine", "-m"),
    ("--machine-", "-m"),
    ("--no-canonical-prefixes", "-no-canonical-prefixes"),
    ("--no-integrated-cpp", "-no-integrated-cpp"),
    ("--no-line-commands", "-P"),
    ("--no-precompiled-includes", "-noprecomp"),
    ("--no-standard-includes", "-nostdinc"),
    ("--no-standard-libraries", "-nostdlib"),
    ("--no-warnings", "-w"),
    ("--optimize", "-O"),
    ("--output", "-o"),
    ("--output-class-directory", "-foutput-class-dir="),
    ("--param", "--param="),
    ("--pass-exit-codes", "-pass-exit-codes"),
    ("--pedantic", "-pedantic"),
    ("--pedantic-errors", "-pedantic-errors"),
    ("--pie", "-pie"),
    ("--pipe", "-pipe"),
    ("--prefix", "-B"),
    ("--preprocess", "-E"),
    ("--print-file-name", "-print-file-name="),
    ("--print-libgcc-file-name", "-print-libgcc-file-name"),
    ("--print-missing-file-dependencies", "-MG"),
    ("--print-multi-lib", "-print-multi-lib"),
    ("--print-multi-directory", "-print-multi-directory"),
    ("--print-multi-os-directory", "-print-multi-os-directory"),
    ("--print-prog-name", "-print-prog-name="),
    ("--print-search-dirs", "-print-search-dirs"),
    ("--print-sysroot", "-print-sysroot"),
    (
        "--print-sysroot-headers-suffix",
        "-print-sysroot-headers-suffix",
    ),
    ("--profile", "-p"),
    ("--resource", "-fcompile-resource="),
    ("--save-temps", "-save-temps"),
    ("--shared", "-shared"),
    ("--specs", "-specs="),
    ("--static", "-static"),
    ("--std", "-std="),
    ("--symbolic", "-symbolic"),
    ("--sysroot", "--sysroot="),
    ("--time", "-time"),
    ("--trace-includes", "-H"),
    ("--traditional", "-traditional"),
    ("--traditional-cpp", "-traditional-cpp"),
    ("--trigraphs", "-trigraphs"),
    ("--undefine-macro", "-U"),
    ("--user-dependencies", "-MM"),
    ("--verbose", "-v"),
    ("--warn-", "-W"),
    ("--write-dependencies", "-MD"),
    ("--write-user-dependencies", "-MMD"),
];

/// The short option a `--long[=value]` argument stands for, as gcc's driver maps it;
/// `None` for arguments that are not `--` options.
pub(crate) fn long_alias(a: &[u8]) -> Option<Vec<u8>> {
    let rest = a.strip_prefix(b"--")?;
    if rest.is_empty() {
        return None;
    }
    let (name, value) = match rest.iter().position(|&b| b == b'=') {
        Some(i) => (&a[..i + 2], Some(&rest[i + 1..])),
        None => (a, None),
    };
    let exact = LONG.iter().find(|(l, _)| l.as_bytes() == name);
    // "--machine-" and "--warn-" take the rest of the name as their argument.
    let joined = LONG
        .iter()
        .find(|(l, _)| l.ends_with('-') && name.starts_with(l.as_bytes()) && name.len() > l.len());
    let mut prefixed = LONG.iter().filter(|(l, _)| l.as_bytes().starts_with(name));
    let (short, arg): (&str, &[u8]) = if let Some((_, s)) = exact {
        (s, value.unwrap_or_default())
    } else if let Some((l, s)) = joined {
        (s, &a[l.len()..])
    } else if let (Some((_, s)), None) = (prefixed.next(), prefixed.next()) {
        (s, value.unwrap_or_default())
    } else {
        // gcc's catch-all: "--X" is "-fX".
        let mut f = b"-f".to_vec();
        f.extend_from_slice(rest);
        return Some(f);
    };
    let mut out = short.as_bytes().to_vec();
    out.extend_from_slice(arg);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(a: &str) -> String {
        String::from_utf8(long_alias(a.as_bytes()).unwrap_or_default()).unwrap()
    }

    #[test]
    fn long_options_map_as_gccs_driver_maps_them() {
        assert_eq!(alias("--plugin=/x.so"), "-fplugin=/x.so");
        assert_eq!(
            alias("--dump-tree-original=/d/w"),
            "-fdump-tree-original=/d/w"
        );
        assert_eq!(alias("--opt-info-all=/d/w"), "-fopt-info-all=/d/w");
        assert_eq!(alias("--for-assembler=-adhln=/d/w"), "-Wa,-adhln=/d/w");
        assert_eq!(alias("--for-a=-adhln=/d/w"), "-Wa,-adhln=/d/w");
        assert_eq!(alias("--output=/etc/x"), "-o/etc/x");
        assert_eq!(alias("--specs=/s"), "-specs=/s");
        assert_eq!(alias("--prefix=/p/"), "-B/p/");
        assert_eq!(alias("--include=/etc/shadow"), "-include/etc/shadow");
        assert_eq!(alias("--warn-all"), "-Wall");
        assert_eq!(
            alias("--param=max-inline-insns-single=5"),
            "--param=max-inline-insns-single=5"
        );
        assert_eq!(alias("--sysroot=/s"), "--sysroot=/s");
        assert!(long_alias(b"-fplugin=x").is_none());
        assert!(long_alias(b"--").is_none());
    }
}
