//! Portage's real make.conf reader (`portage.util.getconfig`), run by
//! `portage_getconfig.py` in the Python environment `scripts/install-deps` makes.
//! Many files are read by one Python process: starting Python and importing Portage costs
//! more than reading a hundred files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where `scripts/install-deps` installs Portage; `DISTSETUP_PORTAGE_PYTHON` overrides.
pub const DEFAULT_PYTHON: &str = "/opt/distsetup-test/venv/bin/python";

/// What Portage read: the variables, or the error emerge would stop with.
pub type Read = Result<BTreeMap<String, String>, String>;

/// One question for the oracle.
#[derive(Debug, Clone)]
pub enum Job {
    /// What Portage's config reads for make.conf under this root: `/etc/make.conf`, then
    /// `/etc/portage/make.conf` (file or directory, recursive), later wins.
    MakeConf(PathBuf),
    /// As [`Job::MakeConf`], each incremental variable (FEATURES, USE, ...) stacked as
    /// Portage's config stacks it (`stack_lists`: `-word` removes, `-*` clears).
    Stacked(PathBuf),
    /// `getconfig(root/path)` alone, nothing known before.
    File(PathBuf, PathBuf),
}

/// The Python that can `import portage`, or `None` after [`super::skip_or_fail`].
#[track_caller]
pub fn python() -> Option<PathBuf> {
    let py = std::env::var_os("DISTSETUP_PORTAGE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PYTHON));
    let ok = Command::new(&py)
        .args(["-c", "import portage.util"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(py)
    } else {
        super::skip_or_fail(&format!(
            "Portage is not importable by {} (run scripts/install-deps)",
            py.display()
        ));
        None
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/portage_getconfig.py")
}

/// Ask Portage every job at once; one answer per job, in order.
pub fn getconfig(py: &Path, jobs: &[Job]) -> Vec<Read> {
    let list: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| match j {
            Job::MakeConf(root) => serde_json::json!({"root": root, "mode": "makeconf"}),
            Job::Stacked(root) => serde_json::json!({"root": root, "mode": "stacked"}),
            Job::File(root, path) => {
                serde_json::json!({"root": root, "mode": "file", "path": path})
            }
        })
        .collect();
    let mut child = Command::new(py)
        .arg(script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let input = serde_json::to_vec(&list).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("python");
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "portage oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("oracle JSON");
    assert_eq!(answers.len(), jobs.len());
    answers
        .into_iter()
        .map(|a| match a.get("error") {
            Some(e) => Err(format!(
                "line {}: {}",
                a.get("line").and_then(|l| l.as_u64()).unwrap_or(0),
                e.as_str().unwrap_or_default()
            )),
            None => Ok(a["vars"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()),
        })
        .collect()
}
