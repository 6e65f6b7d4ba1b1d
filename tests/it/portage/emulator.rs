//! `distsetup::shconf::portage` reads every file exactly as Portage's getconfig does:
//! the same variables with the same values, and an error exactly where emerge stops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use distsetup::loadorder;
use distsetup::plan::SysRoot;

use crate::support::portage::{Job, getconfig, python};

/// Snippets where Portage and bash part ways, or where Portage stops.
const SNIPPETS: &[&str] = &[
    "FEATURES=\"ccache buildpkg\"\n",
    "FEATURES = \"ccache\"\n",
    "FEATURES=\"ccache\";\n",
    "\u{feff}FEATURES=\"x\"\n",
    "FEATURES=(a b)\n",
    "export FEATURES\nFEATURES=\"x\"\n",
    "export FEATURES=\"x\"\n",
    "if true; then FEATURES=x; fi\n",
    "FEATURES+=\"x\"\n",
    "FEATURES=\nMAKEOPTS=\"-j2\"\n",
    "A=1\nX='${A} $A \\$A'\n",
    "A=1\nX=\"${A} \\$A \\\\ \\\" end\"\n",
    "A=1\nX=\"it's $A\"\n",
    "A=1\nX=a\\$A\n",
    "X=\"a\nb\n c\"\n",
    "X=\"a \\\n b\"\n",
    "X=a\\\nb\n",
    "X=ccache#x\n",
    "X=\"a\" # c\nY=b#c d\n",
    "X=\"-j$(nproc)\"\nY=2\n",
    "X=\"${A:-y}\"\n",
    "X=\"cost $ 5\"\n",
    "X=\"$5 $\"\n",
    "X=\"\\\\\\\\\\$\"\n",
    "X=\"\\\\$A\"\n",
    "X=\"a\\b\\nc\"\n",
    "X=a=b\n",
    "X=a^b\n",
    "X=\"unterminated\n",
    "X=\"\"\nY=''\n",
    "\"\"=1\n",
    "1X=2\n",
    "X=\"é ü ß\"\nÄ=1\n",
    "X=a\r\nY=b\r\n",
    "X=no-final-newline",
    "X=1 Y=2\n",
    "X=1 2\n",
    "X=\n",
    "X=\"a\"'b'c\n",
    "source\n",
    "X=a\\",
    "X=\"${A\"\n",
    "X=\"${\"\n",
    "X=\"$\"\n",
    "X=${A}\n",
    "PORTDIR=/usr/portage\nDISTDIR=${PORTDIR}/distfiles\nPKGDIR=$PORTDIR/packages\n",
    "X=~/a:~/b\n",
    "X='a\nb'\n",
    "X=\"a\"\"b\"\n",
];

fn rust_reads(root: &Path, file: &Path) -> Result<BTreeMap<String, String>, String> {
    let root = SysRoot::new(root).unwrap();
    loadorder::portage_view(&root, &[file.to_path_buf()], &BTreeMap::new())
        .map(|v| v.vars())
        .map_err(|e| match e {
            // Where Portage's message says it stopped, beside what we tell the user.
            loadorder::PortageReadError::Parse(p) => format!("stop {}: {p}", p.stop_line),
            other => other.to_string(),
        })
}

/// Where and why a reader stopped: the line and the reason, as one of the ways Portage's
/// reader stops. The model's error reads `stop N: FILE:LINE: REASON` (N: the line
/// Portage's message names); the oracle's `line N: ErrorType: ...REASON...`.
fn stop(text: &str, model: bool) -> (u64, &'static str) {
    let line = if model {
        regex::Regex::new(r"^stop (\d+):")
    } else {
        regex::Regex::new(r"^line (\d+):")
    }
    .unwrap()
    .captures(text)
    .and_then(|c| c[1].parse().ok())
    .unwrap_or(0);
    // (what the model says, what Portage says, the reason both mean)
    let reasons = [
        (
            "No closing quotation",
            "No closing quotation",
            "unclosed quote",
        ),
        (
            "No escaped character",
            "No escaped character",
            "lone backslash",
        ),
        ("Unexpected EOF", "Unexpected EOF", "end of file"),
        (
            "Unexpected end of config file",
            "Unexpected end of config file",
            "no value",
        ),
        ("Invalid token", "Invalid token", "invalid token"),
        (
            "Invalid variable name",
            "Invalid variable name",
            "invalid name",
        ),
        (
            "No such file or directory",
            "No such file or directory",
            "missing source",
        ),
        // `source` with an empty name: Python's shlex fails indexing it.
        (
            "source of an empty file name",
            "string index out of range",
            "empty source",
        ),
        // `source` at the end of the file: shlex hands Portage None for the name.
        (
            "source without a file name",
            "object of type 'NoneType' has no len()",
            "no source name",
        ),
    ];
    let reason = reasons
        .into_iter()
        .find(|(m, p, _)| text.contains(if model { m } else { p }))
        .map_or("other", |(_, _, r)| r);
    (line, reason)
}

/// Both stop, at the line Portage names, for the same reason.
fn same_stop(model: &str, portage: &str) -> bool {
    let (m_line, m_reason) = stop(model, true);
    let (p_line, p_reason) = stop(portage, false);
    m_reason == p_reason && m_reason != "other" && m_line > 0 && m_line == p_line
}

#[test]
fn a_stop_compares_line_and_reason() {
    let m = "stop 2: /r/etc/portage/make.conf:2: No closing quotation";
    assert!(same_stop(m, "line 2: ValueError: No closing quotation"));
    assert!(!same_stop(m, "line 3: ValueError: No closing quotation"));
    assert!(!same_stop(m, "line 2: ParseError: Invalid token 'b'"));
    assert!(!same_stop(
        "stop 1: /etc/x:1: something new",
        "line 1: KeyError: something new"
    ));
}

#[test]
fn the_model_reads_every_snippet_and_file_as_portage_does() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut inputs: Vec<(String, Vec<u8>)> = SNIPPETS
        .iter()
        .map(|s| (format!("snippet {s:?}"), s.as_bytes().to_vec()))
        .collect();
    for f in super::make_conf_inputs() {
        inputs.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    let mut jobs = Vec::new();
    for (i, (_, bytes)) in inputs.iter().enumerate() {
        let root = tmp.path().join(i.to_string());
        std::fs::create_dir_all(root.join("etc/portage")).unwrap();
        std::fs::write(root.join("etc/portage/make.conf"), bytes).unwrap();
        // What the corpus and fixture files source.
        std::fs::create_dir_all(root.join("var/lib/layman")).unwrap();
        std::fs::write(
            root.join("var/lib/layman/make.conf"),
            "PORTDIR_OVERLAY=\"/var/lib/layman/x\"\n",
        )
        .unwrap();
        std::fs::write(root.join("etc/portage/make.conf.lto"), "LTO=\"-flto\"\n").unwrap();
        jobs.push(Job::File(root, PathBuf::from("/etc/portage/make.conf")));
    }
    let answers = getconfig(&py, &jobs);
    let mut disagree = Vec::new();
    for ((label, _), (job, want)) in inputs.iter().zip(jobs.iter().zip(&answers)) {
        let Job::File(root, file) = job else {
            unreachable!()
        };
        let got = rust_reads(root, file);
        let same = match (&got, want) {
            (Ok(a), Ok(b)) => a == b,
            (Err(model), Err(portage)) => same_stop(model, portage),
            _ => false,
        };
        if !same {
            disagree.push(format!("{label}:\n  portage: {want:?}\n  model:   {got:?}"));
        }
    }
    println!("{} inputs read by Portage and by the model", inputs.len());
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// A fixed-seed generator of numbers below `n` (a failure reproduces).
fn random(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    }
}

/// Pieces that make Portage and bash part ways, glued at random (a fixed seed, so a
/// failure reproduces).
const PIECES: &[&str] = &[
    "A", "B", "FEATURES", "=", " = ", "\"", "'", "\\", "$", "${A}", "$A", "${", "}", "#", " ",
    "\n", ";", "(", ")", "x", "-j2", "export ", "source ", "\\\n", "\\$", "\\\\", "é", "+", "~",
    ":", "\t", "\r",
];

#[test]
fn the_model_agrees_with_portage_on_random_snippets() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let mut next = random(0x5eed_1234_abcd_0013);
    let mut snippets = Vec::new();
    for _ in 0..600 {
        // Mostly well-formed starts, so that the interesting part is reached.
        let mut s = String::from(["A=", "B=\"", "A='", "FEATURES="][next(4)]);
        for _ in 0..1 + next(9) {
            s.push_str(PIECES[next(PIECES.len())]);
        }
        snippets.push(s);
    }
    // Values in closed quotes, used by a later line: what an edit writes.
    for _ in 0..600 {
        let q = ["\"", "'"][next(2)];
        let mut s = format!("A=x\nB={q}");
        for _ in 0..1 + next(6) {
            let p = PIECES[next(PIECES.len())];
            if p != q {
                s.push_str(p);
            }
        }
        s.push_str(&format!("{q}\nC=\"${{B}}.\"\n"));
        snippets.push(s);
    }
    let mut jobs = Vec::new();
    for (i, s) in snippets.iter().enumerate() {
        let path = PathBuf::from(format!("/etc/s{i}"));
        std::fs::write(root.join(format!("etc/s{i}")), s).unwrap();
        jobs.push(Job::File(root.to_path_buf(), path));
    }
    let answers = getconfig(&py, &jobs);
    let (mut errors, mut disagree) = (0, Vec::new());
    for ((s, job), want) in snippets.iter().zip(&jobs).zip(&answers) {
        let Job::File(root, file) = job else {
            unreachable!()
        };
        let got = rust_reads(root, file);
        errors += usize::from(want.is_err());
        let same = match (&got, want) {
            (Ok(a), Ok(b)) => a == b,
            (Err(model), Err(portage)) => same_stop(model, portage),
            _ => false,
        };
        if !same {
            disagree.push(format!("{s:?}:\n  portage: {want:?}\n  model:   {got:?}"));
        }
    }
    println!(
        "{} random snippets ({errors} that emerge refuses) read alike by Portage and the model",
        snippets.len()
    );
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}

/// Characters that need care in a make.conf value.
const VALUE_CHARS: &[&str] = &[
    "a", "Z", "0", " ", "-", "$", "{", "}", "\\", "\"", "'", "`", "#", ";", "=", "~", ":", "*",
    "é", "(", ")", "!", "&", "|", "<", "%", "@", ",", "+", "/", "?",
];

#[test]
fn values_written_for_make_conf_read_back_alike_in_portage_and_bash() {
    use distsetup::shconf::{Dialect, Document, Edit};
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    let mut next = random(0x00c0_ffee_0013);
    let (mut written, mut refused) = (Vec::new(), 0);
    for i in 0..400 {
        let value: String = (0..1 + next(8))
            .map(|_| VALUE_CHARS[next(VALUE_CHARS.len())])
            .collect();
        // Half into an existing single-quoted value, half as a new line.
        let start: &[u8] = if i % 2 == 0 { b"X='old'\n" } else { b"Y=1\n" };
        let mut doc = Document::parse(start, Dialect::Portage).unwrap();
        let edit = Edit::Set {
            name: "X".into(),
            value: value.clone(),
        };
        if doc.apply(&edit).is_err() {
            refused += 1;
            continue;
        }
        std::fs::write(root.join(format!("etc/v{i}")), doc.to_bytes()).unwrap();
        written.push((PathBuf::from(format!("/etc/v{i}")), value, doc.to_bytes()));
    }
    let jobs: Vec<Job> = written
        .iter()
        .map(|(p, _, _)| Job::File(root.to_path_buf(), p.clone()))
        .collect();
    let answers = getconfig(&py, &jobs);
    for ((path, value, text), read) in written.iter().zip(&answers) {
        let shown = String::from_utf8_lossy(text);
        let vars = read.as_ref().unwrap_or_else(|e| panic!("{shown}: {e}"));
        assert_eq!(vars.get("X"), Some(value), "Portage reads\n{shown}");
        let bash = std::process::Command::new("bash")
            .args([
                "--norc",
                "--noprofile",
                "-c",
                "source \"$1\"; printf '%s' \"$X\"",
                "bash",
            ])
            .arg(root.join(path.strip_prefix("/").unwrap()))
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&bash.stdout),
            *value,
            "bash reads\n{shown}"
        );
    }
    println!(
        "{} random values written and read back alike by Portage and bash, {refused} refused (no quoting gives both the value)",
        written.len()
    );
    assert!(written.len() > refused, "too few values written");
}
