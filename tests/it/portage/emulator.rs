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
        .map_err(|e| e.to_string())
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
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            disagree.push(format!("{label}:\n  portage: {want:?}\n  model:   {got:?}"));
        }
    }
    println!("{} inputs read by Portage and by the model", inputs.len());
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
