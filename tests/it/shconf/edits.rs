//! Given this file, running this edit, produces exactly these bytes.

use crate::support::shconf::token_join;
use distsetup::shconf::{Dialect, Document, Edit, Value};

fn set(name: &str, value: &str) -> Edit {
    Edit::Set {
        name: name.into(),
        value: value.into(),
    }
}

fn enable(name: &str, word: &str) -> Edit {
    Edit::Enable {
        name: name.into(),
        word: word.into(),
    }
}

fn add(name: &str, word: &str) -> Edit {
    Edit::Add {
        name: name.into(),
        word: word.into(),
    }
}

fn remove(name: &str, word: &str) -> Edit {
    Edit::Remove {
        name: name.into(),
        word: word.into(),
    }
}

fn disable(name: &str, word: &str) -> Edit {
    Edit::Disable {
        name: name.into(),
        word: word.into(),
    }
}

/// Apply `edits` to `given` and compare with `produces`.
fn check(dialect: Dialect, given: &str, edits: &[Edit], produces: &str) {
    let mut doc = Document::parse(given.as_bytes(), dialect).unwrap();
    for e in edits {
        doc.apply(e).unwrap_or_else(|err| panic!("{e:?}: {err}"));
    }
    assert_eq!(String::from_utf8_lossy(&doc.to_bytes()), produces);
}

fn refused(dialect: Dialect, given: &str, edit: Edit, message: &str) {
    let mut doc = Document::parse(given.as_bytes(), dialect).unwrap();
    let err = doc.apply(&edit).unwrap_err().to_string();
    assert!(err.contains(message), "expected {message:?} in {err:?}");
    assert_eq!(
        doc.to_bytes(),
        given.as_bytes(),
        "a refused edit changed the document"
    );
}

#[test]
fn set_keeps_the_quoting_style() {
    check(
        Dialect::Bash,
        "MAKEFLAGS=\"-j2\"\n",
        &[set("MAKEFLAGS", "-j5")],
        "MAKEFLAGS=\"-j5\"\n",
    );
    check(
        Dialect::Bash,
        "PKGEXT='.pkg.tar.xz'\n",
        &[set("PKGEXT", ".pkg.tar.zst")],
        "PKGEXT='.pkg.tar.zst'\n",
    );
    check(
        Dialect::Bash,
        "PKGEXT='.xz'\n",
        &[set("PKGEXT", "it's")],
        "PKGEXT=\"it's\"\n",
    );
    check(
        Dialect::Bash,
        "PORTDIR=/usr/portage\n",
        &[set("PORTDIR", "/var/db/repos/gentoo")],
        "PORTDIR=/var/db/repos/gentoo\n",
    );
    check(
        Dialect::Bash,
        "A=b\n",
        &[set("A", "two words")],
        "A=\"two words\"\n",
    );
    check(
        Dialect::Bash,
        "A=\"x\"\n",
        &[set("A", "say \"hi\" for $5")],
        "A=\"say \\\"hi\\\" for \\$5\"\n",
    );
}

#[test]
fn set_keeps_export_the_inline_comment_and_everything_else() {
    check(
        Dialect::Bash,
        "# head\nexport MAKEFLAGS=\"-j2\"   # it's fast\nB=1\n",
        &[set("MAKEFLAGS", "-j8")],
        "# head\nexport MAKEFLAGS=\"-j8\"   # it's fast\nB=1\n",
    );
}

#[test]
fn set_edits_the_assignment_that_takes_effect() {
    check(
        Dialect::Portage,
        "MAKEOPTS=\"-j4 -l8\"\nMAKEOPTS=\"-j17 -l8\"\n",
        &[set("MAKEOPTS", "-j5 -l4")],
        "MAKEOPTS=\"-j4 -l8\"\nMAKEOPTS=\"-j5 -l4\"\n",
    );
}

#[test]
fn set_reuses_a_commented_default_in_place_but_never_a_documentation_line() {
    let given = "#-- Make Flags: change this for DistCC/SMP systems\n#MAKEFLAGS=\"-j2\"\n\n# Makepkg defaults: BUILDENV=(!distcc)\nBUILDENV=(!distcc color)\n#-- distcc: hosts\n#DISTCC_HOSTS=\"\"\n";
    let produces = "#-- Make Flags: change this for DistCC/SMP systems\nMAKEFLAGS=\"-j5\"\n\n# Makepkg defaults: BUILDENV=(!distcc)\nBUILDENV=(distcc color)\n#-- distcc: hosts\nDISTCC_HOSTS=\"10.0.0.2/4\"\n";
    check(
        Dialect::Bash,
        given,
        &[
            set("MAKEFLAGS", "-j5"),
            enable("BUILDENV", "distcc"),
            set("DISTCC_HOSTS", "10.0.0.2/4"),
        ],
        produces,
    );
    // graysky2 keeps `#MAKEFLAGS=` without quotes.
    check(
        Dialect::Bash,
        "#MAKEFLAGS=\n",
        &[set("MAKEFLAGS", "-j3")],
        "MAKEFLAGS=\"-j3\"\n",
    );
    // `# export X=…` keeps its export.
    check(
        Dialect::Bash,
        "#export DISTCC=\"n\"\n",
        &[set("DISTCC", "y")],
        "export DISTCC=\"y\"\n",
    );
}

#[test]
fn a_commented_continuation_is_not_a_default() {
    check(
        Dialect::Portage,
        "#FEATURES=\"ccache distcc \\\n#  splitdebug\"\nMAKEOPTS=\"-j2\"\n",
        &[add("FEATURES", "distcc")],
        // A new Portage line keeps what earlier files set (issue 13, case 1).
        "#FEATURES=\"ccache distcc \\\n#  splitdebug\"\nMAKEOPTS=\"-j2\"\nFEATURES=\"${FEATURES} distcc\"\n",
    );
}

#[test]
fn new_assignments_go_after_the_most_related_one() {
    check(
        Dialect::Bash,
        "CFLAGS=\"-O2\"\nDISTCC_DIR=/tmp/d\nPKGEXT='.x'\n",
        &[set("DISTCC_HOSTS", "a b")],
        "CFLAGS=\"-O2\"\nDISTCC_DIR=/tmp/d\nDISTCC_HOSTS=\"a b\"\nPKGEXT='.x'\n",
    );
    check(
        Dialect::Portage,
        "MAKEOPTS=\"-j2\"\nUSE=\"x\"\n",
        &[set("MAKEFLAGS", "-j3")],
        "MAKEOPTS=\"-j2\"\nMAKEFLAGS=\"-j3\"\nUSE=\"x\"\n",
    );
    check(
        Dialect::Bash,
        "# only a comment\n",
        &[set("A", "1")],
        "# only a comment\nA=\"1\"\n",
    );
    check(Dialect::Bash, "", &[set("A", "1")], "A=\"1\"\n");
}

#[test]
fn missing_final_newline_crlf_and_bom_survive() {
    check(Dialect::Bash, "A=1", &[set("B", "2")], "A=1\nB=\"2\"");
    check(Dialect::Bash, "A=1", &[set("A", "3")], "A=3");
    check(
        Dialect::Bash,
        "A=\"1\"\r\n#DISTCC_HOSTS=\"\"\r\nBUILDENV=(!distcc color)\r\n",
        &[
            set("DISTCC_HOSTS", "h/2"),
            enable("BUILDENV", "distcc"),
            set("ZZ", "z"),
        ],
        "A=\"1\"\r\nDISTCC_HOSTS=\"h/2\"\r\nBUILDENV=(distcc color)\r\nZZ=\"z\"\r\n",
    );
    check(
        Dialect::Bash,
        "\u{feff}# bom\nMAKEFLAGS=\"-j2\"\n",
        &[set("MAKEFLAGS", "-j4")],
        "\u{feff}# bom\nMAKEFLAGS=\"-j4\"\n",
    );
}

#[test]
fn non_utf8_bytes_are_never_lost() {
    let given = b"NAME=\"caf\xe9\"\nRAW=\x80\x81\nBUILDENV=(!distcc)\n";
    let mut doc = Document::parse(given, Dialect::Bash).unwrap();
    doc.apply(&enable("BUILDENV", "distcc")).unwrap();
    assert_eq!(
        doc.to_bytes(),
        b"NAME=\"caf\xe9\"\nRAW=\x80\x81\nBUILDENV=(distcc)\n"
    );
    assert_eq!(
        doc.get("NAME").unwrap().value,
        Value::Scalar(b"caf\xe9".to_vec())
    );
}

#[test]
fn array_word_edits_work_in_place() {
    check(
        Dialect::Bash,
        "BUILDENV=(!distcc color !ccache check !sign)\n",
        &[
            enable("BUILDENV", "distcc"),
            disable("BUILDENV", "color"),
            remove("BUILDENV", "check"),
            add("BUILDENV", "sign"),
        ],
        "BUILDENV=(distcc !color !ccache !sign sign)\n",
    );
    check(
        Dialect::Bash,
        "BUILDENV=(fakeroot distcc)\n",
        &[enable("BUILDENV", "distcc")],
        "BUILDENV=(fakeroot distcc)\n",
    );
    check(
        Dialect::Bash,
        "PACMAN_AUTH=()\n",
        &[add("PACMAN_AUTH", "sudo")],
        "PACMAN_AUTH=(sudo)\n",
    );
    check(
        Dialect::Bash,
        "VCS=('git::git'\n     'hg::mercurial')\n",
        &[add("VCS", "svn::subversion")],
        "VCS=('git::git'\n     'hg::mercurial' svn::subversion)\n",
    );
    check(
        Dialect::Bash,
        "X=1\n",
        &[enable("BUILDENV", "distcc")],
        "X=1\nBUILDENV=(distcc)\n",
    );
}

#[test]
fn word_list_strings_keep_their_quotes_and_layout() {
    check(
        Dialect::Portage,
        "FEATURES=\"ccache -distcc parallel-fetch\"\n",
        &[enable("FEATURES", "distcc")],
        "FEATURES=\"ccache distcc parallel-fetch\"\n",
    );
    check(
        Dialect::Portage,
        "FEATURES='ccache'\n",
        &[add("FEATURES", "distcc"), remove("FEATURES", "ccache")],
        "FEATURES='distcc'\n",
    );
    check(
        Dialect::Portage,
        "USE=\"\tjpeg png \\\n\tX gtk \\\n\t\"\n",
        &[add("USE", "distcc"), remove("USE", "png")],
        "USE=\"\tjpeg \\\n\tX gtk distcc \\\n\t\"\n",
    );
    check(
        Dialect::Portage,
        "ACCEPT=arm #comment\n",
        &[add("ACCEPT", "x86")],
        "ACCEPT=\"arm x86\" #comment\n",
    );
}

#[test]
fn accumulating_lines_keep_the_inherited_part() {
    let given = "DISTCCD_OPTS=\"\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --port 3632\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow 192.168.0.0/24\"\n";
    check(
        Dialect::Bash,
        given,
        &[
            add("DISTCCD_OPTS", "--verbose"),
            remove("DISTCCD_OPTS", "192.168.0.0/24"),
        ],
        "DISTCCD_OPTS=\"\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --port 3632\"\nDISTCCD_OPTS=\"${DISTCCD_OPTS} --allow --verbose\"\n",
    );
    let doc = Document::parse(given.as_bytes(), Dialect::Bash).unwrap();
    assert_eq!(
        doc.get("DISTCCD_OPTS").unwrap().value,
        Value::Scalar(b" --port 3632 --allow 192.168.0.0/24".to_vec())
    );
    // FEATURES inherited from the profile: only the literal words are edited.
    check(
        Dialect::Portage,
        "FEATURES=\"${FEATURES} ccache\"\n",
        &[add("FEATURES", "distcc")],
        "FEATURES=\"${FEATURES} ccache distcc\"\n",
    );
    check(
        Dialect::Portage,
        "FEATURES=\"${FEATURES}\"\n",
        &[add("FEATURES", "distcc")],
        "FEATURES=\"${FEATURES} distcc\"\n",
    );
}

#[test]
fn dialects_quote_for_their_evaluator() {
    check(
        Dialect::Portage,
        "A=\"x\"\n",
        &[set("A", "cost $5")],
        // Portage expands $ inside single quotes too (issue 13, case 4).
        "A=\"cost \\$5\"\n",
    );
    check(
        Dialect::EnvironmentFile,
        "PATH=\"/usr/bin\"\n",
        &[set("PATH", "/opt/x-tools8/bin:$PATH")],
        "PATH=\"/opt/x-tools8/bin:$PATH\"\n",
    );
    let doc = Document::parse(b"P=\"/a:$PATH\"\n", Dialect::EnvironmentFile).unwrap();
    assert_eq!(
        doc.get("P").unwrap().value,
        Value::Scalar(b"/a:$PATH".to_vec())
    );
    refused(
        Dialect::Portage,
        "A=1\n",
        Edit::SetArray {
            name: "A".into(),
            values: vec!["x".into()],
        },
        "arrays exist only in bash",
    );
    refused(
        Dialect::Portage,
        "A=1\n",
        set("A", "two\nlines"),
        "newlines",
    );
}

#[test]
fn refusals_name_the_place_and_leave_the_document_alone() {
    refused(
        Dialect::Bash,
        "MAKEFLAGS=\"-j$(nproc)\"\n",
        add("MAKEFLAGS", "-l2"),
        "line 1, column 1: the value of MAKEFLAGS is dynamic (uses command substitution $(…))",
    );
    refused(
        Dialect::Bash,
        "OPTS=(a b)\nX=\"open\n",
        set("OPTS", "c"),
        "line 2, column 1: a quote or substitution opened here is never closed",
    );
    refused(
        Dialect::Bash,
        "if true; then\n  B=(x)\nfi\n",
        enable("B", "distcc"),
        "line 2, column 3: B is assigned inside a conditional block",
    );
    refused(
        Dialect::Bash,
        "f() {\n  B=1\n}\n",
        set("B", "2"),
        "line 2, column 3: B is assigned inside a function",
    );
    refused(Dialect::Bash, "A=1\n", set("A", "nul\0byte"), "NUL");
    refused(
        Dialect::Bash,
        "A=1\n",
        set("9A", "x"),
        "not a valid variable name",
    );
    refused(Dialect::Bash, "A=(x)\n", set("A", "y"), "is an array");
    refused(
        Dialect::Bash,
        "A=1; B=2\n",
        Edit::Unset { name: "A".into() },
        "shares its line",
    );
}

#[test]
fn unset_removes_the_whole_line() {
    check(
        Dialect::Bash,
        "# keep\nexport DISTCC_HOSTS=\"\" # empty means no hosts\nB=1\nDISTCC_HOSTS=x\n",
        &[Edit::Unset {
            name: "DISTCC_HOSTS".into(),
        }],
        "# keep\nB=1\n",
    );
}

#[test]
fn a_ten_megabyte_file_parses_and_round_trips() {
    let mut big = Vec::new();
    let mut i = 0;
    while big.len() < 10 * 1024 * 1024 {
        big.extend_from_slice(format!("# comment {i} with 'quotes\nVAR_{i}=\"value {i} $X\" # tail\nARR_{i}=(a 'b c' !d)\n").as_bytes());
        i += 1;
    }
    let mut doc = Document::parse(&big, Dialect::Bash).unwrap();
    assert!(token_join(&doc) == big);
    assert_eq!(doc.apply(&set("VAR_0", "x")), Ok(true));
}
