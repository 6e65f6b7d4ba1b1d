//! Portage's incremental variables (issue 25, point 16): FEATURES, USE and the others
//! stack, so a later `FEATURES="${FEATURES} -distcc"` (or `-*`) takes distcc away again.
//! An `edit` or `master` that reports success must leave the word in what the real
//! Portage ends with: its own `getconfig` and `stack_lists`, as `config.py` stacks them.

use std::path::Path;

use crate::support::portage::{Job, getconfig, python};
use crate::support::volunteer::text;
use crate::support::{Cmd, Root};

/// What Portage ends with for `name` under `root`, stacked.
fn stacked(py: &Path, root: &Path, name: &str) -> Vec<String> {
    let read = getconfig(py, &[Job::Stacked(root.to_path_buf())]).remove(0);
    let vars = read.unwrap_or_else(|e| panic!("Portage cannot read it: {e}"));
    vars.get(name)
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

const LATER_REMOVED: &[(&str, &str)] = &[
    (
        "FEATURES",
        "FEATURES=\"sandbox distcc\"\nFEATURES=\"${FEATURES} -distcc\"\n",
    ),
    (
        "FEATURES",
        "FEATURES=\"distcc sandbox\"\nFEATURES=\"${FEATURES} -*\"\n",
    ),
    ("USE", "USE=\"X distcc\"\nUSE=\"${USE} -distcc\"\n"),
];

#[test]
fn edit_adding_a_word_a_later_line_removes_really_adds_it() {
    let Some(py) = python() else {
        return;
    };
    for flag in ["add", "enable"] {
        for (name, conf) in LATER_REMOVED {
            let t = Root::new().file("etc/portage/make.conf", conf);
            let before = stacked(&py, t.path(), name);
            assert!(!before.iter().any(|w| w == "distcc"), "{conf}: {before:?}");
            let o = Cmd::new("edit")
                .root(t.path())
                .args([
                    "/etc/portage/make.conf",
                    &format!("--{flag}"),
                    &format!("{name}=distcc"),
                    "--yes",
                ])
                .run();
            assert_eq!(o.status.code(), Some(0), "--{flag} on\n{conf}{}", text(&o));
            let after = stacked(&py, t.path(), name);
            let mut expected = before.clone();
            expected.push("distcc".into());
            assert_eq!(
                after,
                expected,
                "--{flag} on\n{conf}wrote\n{}",
                std::fs::read_to_string(t.join("etc/portage/make.conf")).unwrap()
            );
        }
    }
}

#[test]
fn master_enables_distcc_past_a_later_removal() {
    let Some(py) = python() else {
        return;
    };
    let (_, conf) = LATER_REMOVED[0];
    let t = Root::new().file("etc/portage/make.conf", conf);
    let o = Cmd::new("master")
        .root(t.path())
        .args([
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.5/6",
            "--jobs",
            "7",
            "--yes",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(stacked(&py, t.path(), "FEATURES"), ["sandbox", "distcc"]);
}

#[test]
fn removing_a_word_checks_what_the_words_stack_to() {
    let Some(py) = python() else {
        return;
    };
    // Written twice: removing one spelling would leave the other.
    let conf = "FEATURES=\"distcc sandbox\"\nFEATURES=\"${FEATURES} distcc\"\n";
    let t = Root::new().file("etc/portage/make.conf", conf);
    let o = Cmd::new("edit")
        .root(t.path())
        .args([
            "/etc/portage/make.conf",
            "--disable",
            "FEATURES=distcc",
            "--yes",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(stacked(&py, t.path(), "FEATURES"), ["sandbox"]);
}
