//! The layout rules of DESIGN.md, checked on the source text:
//! - no import cycle between the library's top-level modules;
//! - `shconf`, `wire`, `hostspec`, `plan`, `allow` and `prompt` are leaves (they import
//!   no other module of the crate);
//! - printing, exiting, dialoguer and progress bars only in the binary's command layer
//!   (`src/main.rs`, `src/cli.rs`, `src/commands/`);
//! - no file over 800 lines, no function over 120 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LEAVES: [&str; 6] = ["shconf", "wire", "hostspec", "plan", "allow", "prompt"];
const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 120;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Path relative to src/, with `/` separators.
fn rel(p: &Path) -> String {
    p.strip_prefix(src()).unwrap().display().to_string()
}

fn in_binary(rel: &str) -> bool {
    rel == "main.rs" || rel == "cli.rs" || rel.starts_with("commands/")
}

/// The library's top-level module a file belongs to (`None` for lib.rs and the binary).
fn top_module(rel: &str) -> Option<String> {
    if rel == "lib.rs" || in_binary(rel) {
        return None;
    }
    Some(
        rel.split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string(),
    )
}

/// The text without comments (line comments and doc comments) and string literals, so
/// that neither a sentence nor a message counts as code.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"' must not open a string.
            out.push_str("' '");
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            out.push_str("' '");
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every crate module a file's code names: `crate::x`, and `crate::{x, y::z}`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let path = regex::Regex::new(r"crate::([a-z_][a-z0-9_]*)").unwrap();
    let group = regex::Regex::new(r"crate::\{([^}]*)\}").unwrap();
    let mut refs: BTreeSet<String> = path.captures_iter(code).map(|c| c[1].to_string()).collect();
    for g in group.captures_iter(code) {
        for item in g[1].split(',') {
            let head = item.trim().split("::").next().unwrap_or("").trim();
            if !head.is_empty() && head != "self" {
                refs.insert(head.to_string());
            }
        }
    }
    refs
}

/// The import graph between top-level library modules.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let r = rel(&f);
        let Some(m) = top_module(&r) else { continue };
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        let entry = g.entry(m.clone()).or_default();
        for dep in crate_refs(&code) {
            if dep != m {
                entry.insert(dep);
            }
        }
    }
    g
}

/// A cycle through `start`, if there is one (depth-first search).
fn cycle_from(g: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        g: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        at: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        for next in g.get(at).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(g, start, next, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    let mut seen = BTreeSet::new();
    walk(g, start, start, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph();
    assert!(
        g.contains_key("master") && g.contains_key("shconf"),
        "{g:?}"
    );
    let cycles: Vec<String> = g
        .keys()
        .filter_map(|m| cycle_from(&g, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_leaves_import_nothing_from_the_crate() {
    let g = graph();
    for leaf in LEAVES {
        let deps = g
            .get(leaf)
            .unwrap_or_else(|| panic!("no module {leaf} in src/"));
        assert!(deps.is_empty(), "{leaf} imports {deps:?}");
    }
}

#[test]
fn only_the_command_layer_prints_prompts_or_exits() {
    let forbidden = [
        "println!",
        "eprintln!",
        "print!",
        "eprint!",
        "dbg!",
        "process::exit",
        "dialoguer",
        "indicatif",
    ];
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut found = Vec::new();
    for f in files {
        let r = rel(&f);
        if in_binary(&r) {
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&f).unwrap());
        for (n, line) in code.lines().enumerate() {
            for word in forbidden {
                if line.contains(word) {
                    found.push(format!("src/{r}:{}: {word}", n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "outside src/commands:\n{}",
        found.join("\n")
    );
}

/// (file, line, name, length) of every function longer than the limit.
fn long_functions(rel: &str, text: &str) -> Vec<String> {
    let start = regex::Regex::new(
        r"^(\s*)(pub(\([a-z:]+\))? )?(const )?(async )?(unsafe )?(extern .C. )?fn ([A-Za-z_0-9]+)",
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(c) = start.captures(l) else { continue };
        let indent = c[1].to_string();
        // The signature ends at the first line ending in `{` (a body) or `;` (none).
        let Some(open) = (i..lines.len())
            .find(|&j| lines[j].trim_end().ends_with('{') || lines[j].trim_end().ends_with(';'))
        else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        let Some(end) = (open + 1..lines.len()).find(|&j| lines[j].trim_end() == close) else {
            continue;
        };
        let len = end - i + 1;
        if len > MAX_FN_LINES {
            out.push(format!("src/{rel}:{}: fn {} is {len} lines", i + 1, &c[8]));
        }
    }
    out
}

#[test]
fn no_file_over_800_lines_and_no_function_over_120() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut found = Vec::new();
    for f in files {
        let r = rel(&f);
        let text = std::fs::read_to_string(&f).unwrap();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            found.push(format!("src/{r}: {n} lines"));
        }
        found.extend(long_functions(&r, &text));
    }
    assert!(found.is_empty(), "too big:\n{}", found.join("\n"));
}

#[test]
fn the_checks_themselves_catch_what_they_look_for() {
    let code = code_only(
        "use crate::{plan, shconf::Document};\n// crate::wizard\nlet s = \"crate::doctor\"; x(crate::wire::Limits);",
    );
    assert_eq!(
        crate_refs(&code),
        ["plan", "shconf", "wire"].map(String::from).into()
    );
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(
        cycle_from(&g, "a"),
        Some(vec!["a".into(), "b".into(), "a".into()])
    );
    let body = format!("fn big() {{\n{}}}\n", "    x();\n".repeat(130));
    assert_eq!(long_functions("x.rs", &body).len(), 1);
    assert_eq!(long_functions("x.rs", "fn small() {\n}\n").len(), 0);
}
