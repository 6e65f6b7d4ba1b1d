//! The layout rules of DESIGN.md that neither the crate graph nor clippy can check.
//!
//! The compiler keeps the big doors: `crates/wire`, `crates/shconf`, `crates/plan` and
//! `crates/server` are crates of their own, so they cannot name the roles; printing,
//! exiting and unwrapping outside the command layer, writes outside the plan crate and
//! sockets outside the server and doctor's probe are clippy errors (`[workspace.lints]`,
//! `clippy.toml`). What is left for this text scan:
//! - the workspace crates depend on each other only as designed (no leaf reaches up);
//! - the plan crate's clippy.toml is the workspace's minus its disk entries, nothing else;
//! - no import cycle between the root library's top-level modules, `super::` paths
//!   included; `hostspec`, `allow`, `prompt` are leaves;
//! - no file over 800 lines, no function over 120 lines, in `src/` and every crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LEAVES: [&str; 3] = ["hostspec", "allow", "prompt"];
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
    rel == "main.rs" || rel == "cli.rs" || rel.starts_with("cli/") || rel.starts_with("commands/")
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

/// The module path of a file of the root library: `doctor/hosts.rs` is `[doctor, hosts]`,
/// `doctor/mod.rs` is `[doctor]`.
fn module_path(rel: &str) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

/// The code without inline modules (`mod tests { ... }`): their `super::` means the file's
/// own module, and tests do not make the layering.
fn without_inline_modules(code: &str) -> String {
    let open = regex::Regex::new(r"^(\s*)(pub(\([a-z:]+\))? )?mod [a-z_0-9]+ \{\s*$").unwrap();
    let mut out = String::new();
    let mut closing: Option<String> = None;
    for line in code.lines() {
        if let Some(close) = &closing {
            if line.trim_end() == close {
                closing = None;
            }
            continue;
        }
        if let Some(c) = open.captures(line) {
            closing = Some(format!("{}}}", &c[1]));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules a file at `module` names through `super::` paths that climb to
/// the crate root (`super::plan` in `doctor/mod.rs`, `super::super::x` in `doctor/a.rs`).
fn super_refs(module: &[String], code: &str) -> BTreeSet<String> {
    let path = regex::Regex::new(r"\b((?:super::)+)(\{[^}]*\}|[a-z_][a-z0-9_]*)").unwrap();
    let mut refs = BTreeSet::new();
    for c in path.captures_iter(code) {
        let climbs = c[1].len() / "super::".len();
        if climbs != module.len() {
            continue; // stays inside the file's own top-level module (or is not valid)
        }
        let target = &c[2];
        let heads: Vec<&str> = match target.strip_prefix('{') {
            Some(group) => group
                .trim_end_matches('}')
                .split(',')
                .map(|i| i.trim().split("::").next().unwrap_or("").trim())
                .collect(),
            None => vec![target],
        };
        refs.extend(
            heads
                .into_iter()
                .filter(|h| !h.is_empty() && *h != "self")
                .map(String::from),
        );
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
        let code = without_inline_modules(&code_only(&std::fs::read_to_string(&f).unwrap()));
        let entry = g.entry(m.clone()).or_default();
        let refs = crate_refs(&code)
            .into_iter()
            .chain(super_refs(&module_path(&r), &code));
        for dep in refs {
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
        g.contains_key("master") && g.contains_key("doctor"),
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
            out.push(format!("{rel}:{}: fn {} is {len} lines", i + 1, &c[8]));
        }
    }
    out
}

/// Every Rust source of the product: `src/` and each `crates/*/src/`.
fn product_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    for c in std::fs::read_dir(&crates).unwrap().flatten() {
        if c.path().join("src").is_dir() {
            rust_files(&c.path().join("src"), &mut files);
        }
    }
    files
}

#[test]
fn no_file_over_800_lines_and_no_function_over_120() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for f in product_sources() {
        let r = f.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let n = text.lines().count();
        if n > MAX_FILE_LINES {
            found.push(format!("{r}: {n} lines"));
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
    let climbing = without_inline_modules(
        "use super::{plan, wire::X};\nuse super::super::hostspec;\nmod tests {\n    use super::master;\n}\n",
    );
    let top = ["doctor".to_string()];
    assert_eq!(
        super_refs(&top, &climbing),
        ["plan", "wire"].map(String::from).into()
    );
    let nested = ["doctor".to_string(), "hosts".to_string()];
    assert_eq!(
        super_refs(&nested, &climbing),
        ["hostspec"].map(String::from).into()
    );
    assert_eq!(module_path("doctor/mod.rs"), top);
    let body = format!("fn big() {{\n{}}}\n", "    x();\n".repeat(130));
    assert_eq!(long_functions("x.rs", &body).len(), 1);
    assert_eq!(long_functions("x.rs", "fn small() {\n}\n").len(), 0);
}

/// The workspace crates each package depends on (normal dependencies).
fn workspace_deps(manifest: &Path) -> BTreeSet<String> {
    let doc: toml_edit::DocumentMut = std::fs::read_to_string(manifest).unwrap().parse().unwrap();
    let members = [
        "distcc-wire",
        "distsetup-shconf",
        "distsetup-plan",
        "distsetup-server",
    ];
    doc.get("dependencies")
        .and_then(|d| d.as_table_like())
        .map(|t| {
            t.iter()
                .map(|(k, _)| k.to_string())
                .filter(|k| members.contains(&k.as_str()) || k.starts_with("distsetup-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_crate_graph_points_one_way() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let deps = |dir: &str| workspace_deps(&crates.join(dir).join("Cargo.toml"));
    // The leaves know no other crate of ours; the server and the link (its LZO, with the
    // decoder's output cap) know only the codec.
    for leaf in ["wire", "shconf", "plan"] {
        assert!(
            deps(leaf).is_empty(),
            "crates/{leaf} depends on {:?}",
            deps(leaf)
        );
    }
    assert_eq!(deps("server"), ["distcc-wire"].map(String::from).into());
    assert_eq!(deps("link"), ["distcc-wire"].map(String::from).into());
    // The relay speaks the protocol, compiles locally through the server when no volunteer
    // is left, and carries jobs over the secure link; nothing depends on the relay.
    assert_eq!(
        deps("relay"),
        ["distcc-wire", "distsetup-link", "distsetup-server"]
            .map(String::from)
            .into()
    );
    // Every member opts into the workspace lints.
    for c in std::fs::read_dir(&crates).unwrap().flatten() {
        let text = std::fs::read_to_string(c.path().join("Cargo.toml")).unwrap();
        assert!(
            text.contains("[lints]\nworkspace = true"),
            "{} does not take the workspace lints",
            c.path().display()
        );
    }
}

#[test]
fn the_plan_crate_lints_are_the_workspace_lints_without_the_disk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let entries = |p: &Path| -> Vec<String> {
        let doc: toml_edit::DocumentMut = std::fs::read_to_string(p).unwrap().parse().unwrap();
        doc["disallowed-methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.to_string().trim().to_string())
            .collect()
    };
    let workspace = entries(&root.join("clippy.toml"));
    let plan = entries(&root.join("crates/plan/clippy.toml"));
    let expected: Vec<String> = workspace
        .iter()
        .filter(|e| !e.contains("only the plan crate writes to disk"))
        .cloned()
        .collect();
    assert!(expected.len() < workspace.len(), "no disk entries found");
    assert_eq!(plan, expected);
}
