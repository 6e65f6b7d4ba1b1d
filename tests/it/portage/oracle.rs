//! The acceptance oracle: every make.conf of our fixtures and of the corpus, in four
//! forms (the file itself, a file in a `make.conf/` directory, a file deep in a nested
//! directory beside others, the legacy /etc/make.conf before a make.conf of its own),
//! after `master --profile gentoo` and after each kind of `edit`: the real Portage reads
//! exactly the intended change of exactly the intended variable, and every other variable
//! as before. And `edit --get` answers what Portage's getconfig reads, for every variable
//! of every file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::Cmd;
use crate::support::portage::{Job, Read, getconfig, python};

const HOSTS: &str = "10.0.0.5/6 10.0.0.6/4";

#[derive(Clone, Copy, Debug)]
enum Form {
    Single,
    Dir,
    Nested,
    /// The legacy /etc/make.conf, read before an /etc/portage/make.conf.
    Legacy,
}

const FORMS: [Form; 4] = [Form::Single, Form::Dir, Form::Nested, Form::Legacy];

impl Form {
    /// Where the file goes (system path), and the other files of the tree.
    fn layout(self, name: &str) -> (String, Vec<(&'static str, &'static str)>) {
        match self {
            Form::Single => ("/etc/portage/make.conf".into(), vec![]),
            Form::Dir => (format!("/etc/portage/make.conf/20-{name}"), vec![]),
            Form::Nested => (
                format!("/etc/portage/make.conf/local/site/{name}"),
                vec![
                    ("/etc/portage/make.conf/00-first.conf", "USE=\"nested\"\n"),
                    (
                        "/etc/portage/make.conf/zz/late.conf",
                        "ACCEPT_LICENSE=\"*\"\n",
                    ),
                ],
            ),
            Form::Legacy => (
                "/etc/make.conf".into(),
                vec![(
                    "/etc/portage/make.conf",
                    "ACCEPT_LICENSE=\"*\"\nMAKEOPTS=\"-j3\"\n",
                )],
            ),
        }
    }
}

/// One run: a command and how the result is judged.
#[derive(Clone, Debug)]
enum Run {
    Master,
    Edit(&'static str, String),
}

impl Run {
    fn label(&self) -> String {
        match self {
            Run::Master => "master --profile gentoo".into(),
            Run::Edit(flag, arg) => format!("edit --{flag} '{arg}'"),
        }
    }

    fn args(&self, file: &str) -> Vec<String> {
        match self {
            Run::Master => [
                "master",
                "--profile",
                "gentoo",
                "--hosts",
                HOSTS,
                "--jobs",
                "7",
            ]
            .map(String::from)
            .to_vec(),
            Run::Edit(flag, arg) => vec!["edit".into(), file.into(), format!("--{flag}={arg}")],
        }
    }

    /// The variables this run may change, and whether the change is as intended.
    fn judge(&self, name: &str, before: Option<&String>, after: Option<&String>) -> bool {
        let words = |v: Option<&String>| -> Vec<String> {
            v.map(|v| v.split_whitespace().map(String::from).collect())
                .unwrap_or_default()
        };
        let (b, a) = (words(before), words(after));
        let minus = |v: &[String], drop: &[&str]| -> Vec<String> {
            v.iter()
                .filter(|w| !drop.contains(&w.as_str()))
                .cloned()
                .collect()
        };
        let (var, arg) = match self {
            Run::Master => match name {
                "FEATURES" => ("FEATURES", "distcc"),
                "MAKEOPTS" => {
                    let v = after.map(String::as_str).unwrap_or_default();
                    return v == "-j7"
                        || v.strip_prefix("-j7 -l")
                            .is_some_and(|n| n.parse::<usize>().is_ok());
                }
                _ => return before == after,
            },
            Run::Edit(_, arg) => arg.split_once('=').unwrap_or((arg, "")),
        };
        if name != var {
            return before == after;
        }
        match self {
            Run::Master | Run::Edit("enable", _) => {
                a.iter().any(|w| w == arg)
                    && !a.iter().any(|w| *w == format!("-{arg}"))
                    && minus(&a, &[arg, &format!("-{arg}")])
                        == minus(&b, &[arg, &format!("-{arg}")])
            }
            Run::Edit("add", _) => {
                a.iter().any(|w| w == arg) && minus(&a, &[arg]) == minus(&b, &[arg])
            }
            Run::Edit("remove", _) => a == minus(&b, &[arg]),
            Run::Edit("set", _) => after.map(String::as_str) == Some(arg),
            Run::Edit(..) => false,
        }
    }
}

/// Lay out one root: the file in its form, the tree's other files, what it sources.
fn lay_out(root: &Path, input: &Path, form: Form) -> String {
    let name = input.file_name().unwrap().to_string_lossy().into_owned();
    let (at, others) = form.layout(&name);
    let put = |sys: &str, bytes: &[u8]| {
        let p = root.join(sys.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    put(&at, &std::fs::read(input).unwrap());
    for (sys, text) in others {
        put(sys, text.as_bytes());
    }
    // What the corpus and fixture files source: layman's overlay list, an LTO file
    // beside the sourcing file.
    put(
        "/var/lib/layman/make.conf",
        b"PORTDIR_OVERLAY=\"/var/lib/layman/x\"\n",
    );
    let dir = Path::new(&at).parent().unwrap().display().to_string();
    let lto = format!("{dir}/make.conf.lto");
    put(&lto, b"LTO=\"-flto\"\n");
    at
}

/// The edits for one file: each kind of edit, on what the file has.
fn runs(file_vars: &BTreeMap<String, String>) -> Vec<Run> {
    let first_feature = file_vars
        .get("FEATURES")
        .and_then(|f| f.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "ccache".into());
    let mut out = vec![
        Run::Master,
        Run::Edit("add", "FEATURES=distcc".into()),
        Run::Edit("enable", "FEATURES=distcc".into()),
        Run::Edit("remove", format!("FEATURES={first_feature}")),
        Run::Edit("set", "MAKEOPTS=-j5 -l4".into()),
        Run::Edit("set", "DISTSETUP_NEW=${X} \"q\" \\b #h".into()),
    ];
    // Re-set a variable the file has, to a value that needs quoting.
    if let Some(name) = file_vars.keys().find(|k| !k.starts_with("FEATURES")) {
        out.push(Run::Edit("set", format!("{name}=new $value's")));
        out.push(Run::Edit("set", format!("{name}=/a/b:c")));
    }
    out
}

struct Case {
    label: String,
    root: PathBuf,
    file: String,
    run: Run,
}

#[test]
fn portage_reads_exactly_the_intended_change_for_every_file_form_and_edit() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let files = super::make_conf_inputs();
    // The file alone, as Portage reads it: decides the edits and answers --get.
    let mut probes = Vec::new();
    for (i, input) in files.iter().enumerate() {
        for form in FORMS {
            let root = tmp.path().join(format!("get-{i}-{form:?}"));
            let at = lay_out(&root, input, form);
            probes.push((input.clone(), form, root.clone(), at.clone()));
        }
    }
    let jobs: Vec<Job> = probes
        .iter()
        .map(|(_, _, root, at)| Job::File(root.clone(), PathBuf::from(at)))
        .collect();
    let alone = getconfig(&py, &jobs);
    let gets = check_gets(&probes, &alone);
    let mut cases = Vec::new();
    for ((input, form, _, _), read) in probes.iter().zip(&alone) {
        let vars = read.as_ref().unwrap();
        for (k, run) in runs(vars).into_iter().enumerate() {
            let root = tmp.path().join(format!("{}-{form:?}-{k}", cases.len()));
            let file = lay_out(&root, input, *form);
            cases.push(Case {
                label: format!("{} ({form:?}) {}", input.display(), run.label()),
                root,
                file,
                run,
            });
        }
    }
    let before = getconfig(
        &py,
        &cases
            .iter()
            .map(|c| Job::MakeConf(c.root.clone()))
            .collect::<Vec<_>>(),
    );
    let (mut refused, mut dependent, mut shadowed) = (Vec::new(), 0, 0);
    let mut unchanged = std::collections::BTreeSet::new();
    let outputs = parallel(&cases, |c| {
        let args = c.run.args(&c.file);
        Cmd::new(&args[0])
            .args(&args[1..])
            .root(&c.root)
            .arg("--yes")
            .run()
    });
    for ((c, b), o) in cases.iter().zip(&before).zip(&outputs) {
        assert!(
            b.is_ok(),
            "{}: Portage cannot read it before: {b:?}",
            c.label
        );
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr).into_owned();
            // Setting a variable that another one expands changes that one too: the
            // edit is refused, rightly, as it would change more than was asked.
            let text = std::fs::read_to_string(c.root.join(c.file.trim_start_matches('/')))
                .unwrap_or_default();
            let referenced = match &c.run {
                Run::Edit("set", arg) => arg.split_once('=').is_some_and(|(n, _)| {
                    text.contains(&format!("${{{n}}}")) || text.contains(&format!("${n}"))
                }),
                _ => false,
            };
            // A file read later in the tree overriding the variable: refused, naming it.
            let overridden = err.contains("Portage takes this value");
            if referenced && err.contains("would change what Portage reads for") {
                dependent += 1;
            } else if overridden {
                shadowed += 1;
            } else {
                refused.push(format!("{}: {err}", c.label));
            }
            unchanged.insert(c.root.clone());
        }
    }
    let after = getconfig(
        &py,
        &cases
            .iter()
            .map(|c| Job::MakeConf(c.root.clone()))
            .collect::<Vec<_>>(),
    );
    let mut wrong = Vec::new();
    for ((c, b), a) in cases.iter().zip(&before).zip(&after) {
        if unchanged.contains(&c.root) {
            assert_eq!(
                b, a,
                "{}: refused, yet Portage reads something else",
                c.label
            );
            continue;
        }
        if let Some(w) = judge(c, b, a) {
            wrong.push(w);
        }
    }
    println!(
        "portage oracle: {} files x {} forms; {} runs (master and edit --add/--enable/--remove/--set) checked by Portage, {dependent} refused because another variable expands the one set, {shadowed} because a later file of the tree sets it, {} refused otherwise; edit --get agreed with getconfig on {gets} variables",
        files.len(),
        FORMS.len(),
        cases.len(),
        refused.len()
    );
    for r in &refused {
        println!("  refused: {r}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(refused.is_empty(), "{}", refused.join("\n"));
}

fn judge(c: &Case, before: &Read, after: &Read) -> Option<String> {
    let (Ok(b), Ok(a)) = (before, after) else {
        return Some(format!(
            "{}: Portage cannot read it after: {after:?}",
            c.label
        ));
    };
    let names: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let bad: Vec<String> = names
        .into_iter()
        .filter(|n| !c.run.judge(n, b.get(*n), a.get(*n)))
        .map(|n| format!("{n}: {:?} -> {:?}", b.get(n), a.get(n)))
        .collect();
    (!bad.is_empty()).then(|| format!("{}: {}", c.label, bad.join("; ")))
}

/// `f` over `items` on a few threads (each item runs a process), results in order.
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let chunk = items.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker"))
            .collect()
    })
}

type Probe = (PathBuf, Form, PathBuf, String);

/// `edit --get` on every variable Portage reads from each file alone gives its value.
fn check_gets(probes: &[Probe], alone: &[Read]) -> usize {
    let mut asks = Vec::new();
    for ((input, form, root, at), read) in probes.iter().zip(alone) {
        let vars = read
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: Portage cannot read it: {e}", input.display()));
        for (name, value) in vars {
            let label = format!("{} {form:?} --get {name}", input.display());
            asks.push((label, root.clone(), at.clone(), name.clone(), value.clone()));
        }
    }
    let answers = parallel(&asks, |(_, root, at, name, _)| {
        Cmd::new("edit")
            .arg(at)
            .root(root)
            .args(["--get", name])
            .run()
    });
    for ((label, _, _, _, value), o) in asks.iter().zip(&answers) {
        assert!(o.status.success(), "{label}");
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            format!("{value}\n"),
            "{label}"
        );
    }
    asks.len()
}
