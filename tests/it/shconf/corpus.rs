//! shconf against real files: byte-exact round trip, a lossless lexer, and bash as the
//! oracle for both the values we read and the edits we make.
//!
//! The real-world corpus is read from `../shared/corpus`; where that folder is absent the
//! corpus part says so and only our fixtures are checked (under DISTSETUP_STRICT=1 the
//! absence fails the test).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::shconf::token_join;
use distsetup::shconf::{Dialect, Document, Edit, Scope, Value};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> Option<PathBuf> {
    crate::support::corpus()
}

/// Every shell-syntax file: the corpus (minus systemd units and crosstool-ng configs,
/// which are not shell) and our fixtures.
fn shell_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(corpus) = corpus_dir() {
        for kind in [
            "makepkg.conf",
            "make.conf",
            "distccd",
            "hosts",
            "runit",
            "xbps-src",
        ] {
            let dir = corpus.join(kind);
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .collect();
            entries.sort();
            files.extend(entries);
        }
        assert!(
            files.len() >= 50,
            "corpus unexpectedly small: {}",
            files.len()
        );
    }
    let fixtures = manifest().join("tests/fixtures/shconf");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    files.extend(entries);
    files
}

fn dialect_for(path: &Path) -> Dialect {
    let s = path.to_string_lossy();
    if s.contains("make.conf/") || s.ends_with("make.conf") {
        Dialect::Portage
    } else {
        Dialect::Bash
    }
}

#[test]
fn every_file_round_trips_byte_for_byte_and_the_lexer_loses_nothing() {
    let files = shell_files();
    let mut exact = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let doc = Document::parse(&bytes, dialect_for(f)).unwrap();
        // The tokens joined back, not to_bytes() (that is the stored input itself).
        assert!(
            token_join(&doc) == bytes,
            "{}: tokens do not join back",
            f.display()
        );
        exact += 1;
    }
    println!("round-tripped byte-exact: {exact} of {} files", files.len());
}

/// What bash sees after sourcing a file, minus what bash sets by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BashVal {
    Scalar(Vec<u8>),
    Array(Vec<Vec<u8>>),
}

const DUMP: &str = r#"
source "$1" >/dev/null 2>&1
printf 'BEGIN\0'
for __n in $(compgen -v); do
  case "$__n" in __n|__d|__f|__v|BASH*|PIPESTATUS|FUNCNAME|GROUPS|LINENO|RANDOM|SECONDS|SRANDOM|EPOCHREALTIME|EPOCHSECONDS|_|HISTCMD|SHLVL|PWD|OLDPWD|PPID|UID|EUID|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|IFS|OPTIND|OPTERR|PS4|DIRSTACK|SHELLOPTS|COMP_WORDBREAKS|BASHOPTS) continue;; esac
  __d=$(declare -p "$__n" 2>/dev/null) || continue
  __f=${__d#declare -}; __f=${__f%% *}
  if [[ $__f == *A* ]]; then continue; fi
  if [[ $__f == *a* ]]; then
    eval "__v=(\"\${${__n}[@]}\")"
    printf 'A\0%s\0%s\0' "$__n" "${#__v[@]}"; (( ${#__v[@]} )) && printf '%s\0' "${__v[@]}"
  else
    printf 'S\0%s\0%s\0' "$__n" "${!__n}"
  fi
done
printf 'END\0'
"#;

/// None when bash cannot source the file to the end (it `exec`s, say).
fn bash_vars(path: &Path) -> Option<BTreeMap<String, BashVal>> {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("env")
        .arg("-i")
        .args([
            "timeout",
            "20",
            "bash",
            "--norc",
            "--noprofile",
            "-c",
            DUMP,
            "dump",
        ])
        .arg(path)
        .current_dir(dir.path())
        .output()
        .expect("bash");
    let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    let begin = fields.iter().position(|f| *f == b"BEGIN")?;
    let mut map = BTreeMap::new();
    let mut i = begin + 1;
    loop {
        match fields.get(i)? {
            f if *f == b"END" => break,
            f if *f == b"S" => {
                let name = String::from_utf8_lossy(fields[i + 1]).into_owned();
                map.insert(name, BashVal::Scalar(fields[i + 2].to_vec()));
                i += 3;
            }
            f if *f == b"A" => {
                let name = String::from_utf8_lossy(fields[i + 1]).into_owned();
                let n: usize = std::str::from_utf8(fields[i + 2]).unwrap().parse().unwrap();
                let elems = fields[i + 3..i + 3 + n]
                    .iter()
                    .map(|e| e.to_vec())
                    .collect();
                map.insert(name, BashVal::Array(elems));
                i += 3 + n;
            }
            other => panic!("unexpected dump field {other:?}"),
        }
    }
    Some(map)
}

fn baseline() -> BTreeMap<String, BashVal> {
    bash_vars(Path::new("/dev/null")).expect("bash sources /dev/null")
}

/// Variables the file sets, as bash sees them.
fn file_vars(path: &Path, base: &BTreeMap<String, BashVal>) -> Option<BTreeMap<String, BashVal>> {
    let mut vars = bash_vars(path)?;
    vars.retain(|k, v| base.get(k) != Some(v));
    Some(vars)
}

/// Files bash can source safely and as intended: not run scripts that `exec` a daemon,
/// and not CRLF files (bash keeps the CR in values and breaks arrays; distsetup reads
/// CR LF as a line ending, as portage and systemd do — covered by given/produces tests).
fn sourceable(path: &Path, bytes: &[u8]) -> bool {
    !path.to_string_lossy().contains("/runit/")
        && !bytes.windows(2).any(|w| w == b"\r\n")
        && !bytes
            .split(|b| *b == b'\n')
            .any(|l| l.starts_with(b"exec "))
}

#[test]
fn static_values_agree_with_bash() {
    let base = baseline();
    let mut compared = 0;
    for f in shell_files() {
        let bytes = std::fs::read(&f).unwrap();
        if !sourceable(&f, &bytes) {
            continue;
        }
        let Some(vars) = file_vars(&f, &base) else {
            continue;
        };
        let doc = Document::parse(&bytes, Dialect::Bash).unwrap();
        let names: std::collections::BTreeSet<String> =
            doc.assignments().into_iter().map(|a| a.name).collect();
        for name in names {
            let Some(info) = doc.get(&name) else { continue };
            let ours = match info.value {
                Value::Scalar(v) => BashVal::Scalar(v),
                Value::Array(v) => BashVal::Array(v),
                Value::Dynamic { .. } => continue,
            };
            let theirs = vars.get(&name).or_else(|| base.get(&name));
            assert_eq!(
                Some(&ours),
                theirs,
                "{}: {name} (line {}) read differently from bash",
                f.display(),
                info.line
            );
            compared += 1;
        }
    }
    println!("static values compared with bash: {compared}");
    // With the shared corpus there are hundreds; our fixtures alone give a few dozen.
    let floor = if corpus_dir().is_some() { 300 } else { 20 };
    assert!(compared > floor, "too few values compared: {compared}");
}

/// The expected bash value after a word edit, from the value before.
fn expected_words(before: Option<&BashVal>, edit: &Edit, neg: u8, array_default: bool) -> BashVal {
    let (word, op) = match edit {
        Edit::Enable { word, .. } => (word, 'e'),
        Edit::Disable { word, .. } => (word, 'd'),
        Edit::Add { word, .. } => (word, 'a'),
        Edit::Remove { word, .. } => (word, 'r'),
        _ => unreachable!(),
    };
    let w = word.as_bytes().to_vec();
    let n = [&[neg][..], &w].concat();
    let (mut words, is_array) = match before {
        Some(BashVal::Array(a)) => (a.clone(), true),
        Some(BashVal::Scalar(s)) => (
            s.split(|b| b.is_ascii_whitespace())
                .filter(|x| !x.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
            false,
        ),
        None => (Vec::new(), array_default),
    };
    let neg_arr = if is_array {
        [&b"!"[..], &w].concat()
    } else {
        n
    };
    let (from, to) = match op {
        'e' => (neg_arr.clone(), w.clone()),
        'd' => (w.clone(), neg_arr.clone()),
        _ => (w.clone(), w.clone()),
    };
    match op {
        'e' | 'd' => {
            let mut replaced = false;
            for x in words.iter_mut() {
                if *x == from {
                    *x = to.clone();
                    replaced = true;
                }
            }
            if !replaced && !words.contains(&to) {
                words.push(to);
            }
        }
        'a' => {
            if !words.contains(&w) {
                words.push(w);
            }
        }
        _ => words.retain(|x| *x != w),
    }
    if is_array {
        BashVal::Array(words)
    } else {
        BashVal::Scalar(words.join(&b' '))
    }
}

fn normalise(v: &BashVal) -> BashVal {
    match v {
        BashVal::Scalar(s) => BashVal::Scalar(
            s.split(|b| b.is_ascii_whitespace())
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(&b' '),
        ),
        a => a.clone(),
    }
}

fn edits_for(dialect: Dialect) -> Vec<Vec<Edit>> {
    let set = |n: &str, v: &str| Edit::Set {
        name: n.into(),
        value: v.into(),
    };
    let word = |op: &str, n: &str, w: &str| {
        let (name, word) = (n.to_string(), w.to_string());
        match op {
            "enable" => Edit::Enable { name, word },
            "disable" => Edit::Disable { name, word },
            "add" => Edit::Add { name, word },
            _ => Edit::Remove { name, word },
        }
    };
    match dialect {
        Dialect::Portage => vec![
            vec![word("add", "FEATURES", "distcc")],
            vec![
                word("enable", "FEATURES", "distcc"),
                set("MAKEOPTS", "-j5 -l2"),
            ],
            vec![word("remove", "FEATURES", "ccache")],
            vec![word("disable", "FEATURES", "distcc")],
            vec![
                set("MAKEOPTS", "-j13 -l4"),
                set("CFLAGS", "-O2 -pipe -march=armv7-a"),
            ],
            vec![word("add", "USE", "distcc"), word("remove", "USE", "X")],
        ],
        _ => vec![
            vec![word("enable", "BUILDENV", "distcc")],
            vec![set("DISTCC_HOSTS", "10.0.0.2/4 127.0.0.1:3633/2,lzo")],
            vec![set("MAKEFLAGS", "-j5")],
            vec![
                word("enable", "BUILDENV", "distcc"),
                set("DISTCC_HOSTS", "192.168.1.20:3635/8"),
                set("MAKEFLAGS", "-j9"),
            ],
            vec![
                word("disable", "BUILDENV", "color"),
                word("remove", "BUILDENV", "check"),
            ],
            vec![word("add", "OPTIONS", "!lto")],
            vec![set(
                "PACKAGER",
                "Jane \"JD\" Doe <jane@example.org> costs $5 `x` \\o/",
            )],
            vec![set("DISTCC_ARGS", "--allow 10.0.0.0/8 --jobs 4")],
            vec![
                word("add", "DISTCCD_OPTS", "--verbose"),
                word("remove", "DISTCCD_OPTS", "-N"),
            ],
            vec![
                set("ALLOWEDNETS", "127.0.0.1 10.1.0.0/16"),
                set("JOBS", "6"),
            ],
        ],
    }
}

#[test]
fn edits_change_exactly_the_intended_variables_as_bash_sees_them() {
    let base = baseline();
    let dir = tempfile::tempdir().unwrap();
    let (mut verified, mut refused) = (0, 0);
    for f in shell_files() {
        let bytes = std::fs::read(&f).unwrap();
        if !sourceable(&f, &bytes) {
            continue;
        }
        let Some(before) = file_vars(&f, &base) else {
            continue;
        };
        let dialect = dialect_for(&f);
        for (k, batch) in edits_for(dialect).into_iter().enumerate() {
            let mut doc = Document::parse(&bytes, dialect).unwrap();
            let mut expected = before.clone();
            let mut applied = Vec::new();
            for edit in &batch {
                let snapshot = doc.to_bytes();
                match doc.apply(edit) {
                    Ok(true) => applied.push(edit.clone()),
                    Ok(false) => {
                        // Already as asked: bash must see the same value as before.
                        applied.push(edit.clone());
                        continue;
                    }
                    Err(e) => {
                        assert_eq!(
                            doc.to_bytes(),
                            snapshot,
                            "a refused edit changed the document"
                        );
                        let _ = e;
                        refused += 1;
                        continue;
                    }
                }
                let name = edit.name().to_string();
                let value = match edit {
                    Edit::Set { value, .. } => BashVal::Scalar(value.as_bytes().to_vec()),
                    _ => {
                        let neg = if dialect == Dialect::Portage {
                            b'-'
                        } else {
                            b'!'
                        };
                        expected_words(expected.get(&name), edit, neg, dialect == Dialect::Bash)
                    }
                };
                expected.insert(name, value);
            }
            let out = dir.path().join(format!("edited-{k}"));
            std::fs::write(&out, doc.to_bytes()).unwrap();
            let after = file_vars(&out, &base)
                .unwrap_or_else(|| panic!("{}: edit {k}: bash failed", f.display()));
            let word_edited: Vec<String> = applied
                .iter()
                .filter(|e| !matches!(e, Edit::Set { .. }))
                .map(|e| e.name().to_string())
                .collect();
            // A variable whose assignment expands a variable that was set changes with it
            // (`CXXFLAGS="${CFLAGS}"` after `CFLAGS=…`): that is what the edit means.
            let text = String::from_utf8_lossy(&bytes);
            let dependent = |k: &str| {
                applied.iter().any(|e| {
                    let n = e.name();
                    k != n
                        && text.lines().any(|l| {
                            l.trim_start().starts_with(&format!("{k}="))
                                && (l.contains(&format!("${{{n}}}"))
                                    || l.contains(&format!("${n}")))
                        })
                })
            };
            let norm = |m: &BTreeMap<String, BashVal>| -> BTreeMap<String, BashVal> {
                m.iter()
                    .filter(|(k, _)| !dependent(k))
                    .map(|(k, v)| {
                        let v = if word_edited.contains(k) {
                            normalise(v)
                        } else {
                            v.clone()
                        };
                        (k.clone(), v)
                    })
                    .collect()
            };
            assert_eq!(
                norm(&after),
                norm(&expected),
                "{}: edits {batch:?} changed something else (or not what was asked)",
                f.display()
            );
            verified += applied.len();
            // A second run changes nothing.
            let mut again = Document::parse(&doc.to_bytes(), dialect).unwrap();
            for edit in &applied {
                assert_eq!(
                    again.apply(edit),
                    Ok(false),
                    "{}: {edit:?} is not idempotent",
                    f.display()
                );
            }
        }
    }
    println!("bash-verified edits: {verified}; refused (document untouched): {refused}");
    let floor = if corpus_dir().is_some() { 200 } else { 20 };
    assert!(verified > floor, "too few verified edits: {verified}");
}

#[test]
fn conditional_and_function_assignments_are_seen_and_refused() {
    let path = manifest().join("tests/fixtures/shconf/control-flow.conf");
    let mut doc = Document::parse(&std::fs::read(path).unwrap(), Dialect::Bash).unwrap();
    let scopes: Vec<(String, Scope)> = doc
        .assignments()
        .into_iter()
        .map(|a| (a.name, a.scope))
        .collect();
    assert!(scopes.contains(&("GREETING".into(), Scope::Function)));
    assert!(scopes.contains(&("LTO".into(), Scope::Conditional)));
    assert!(scopes.contains(&("COMPRESSZST".into(), Scope::TopLevel)));
    let err = doc
        .apply(&Edit::Set {
            name: "LTO".into(),
            value: "no".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("line 17, column 6"), "{err}");
    assert!(err.to_string().contains("conditional"), "{err}");
    let err = doc
        .apply(&Edit::Enable {
            name: "BUILDENV".into(),
            word: "distcc".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("line 25, column 1"), "{err}");
    assert!(err.to_string().contains("+="), "{err}");
    let err = doc
        .apply(&Edit::Add {
            name: "MAKEFLAGS".into(),
            word: "-l2".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("dynamic"), "{err}");
    // Set may replace a dynamic value: the user asked for a new value.
    assert_eq!(
        doc.apply(&Edit::Set {
            name: "MAKEFLAGS".into(),
            value: "-j5".into(),
        }),
        Ok(true)
    );
}
