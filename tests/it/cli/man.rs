//! The man pages as `man` shows them (issue 25, point 14): every page has a DESCRIPTION
//! that explains, a SYNOPSIS and OPTIONS that show each option's value, FILES, EXAMPLES
//! and EXIT STATUS; the volunteer page says what only the README said (ports, where
//! toolchains are looked for, native and cross distccd).

use std::path::Path;
use std::process::Command;

use crate::support::{on_path, require};

/// `man -l PAGE` as plain text, 200 columns wide, neither hyphenated nor justified.
fn rendered(page: &Path) -> String {
    let o = Command::new("man")
        .args(["--nh", "--nj", "-l"])
        .arg(page)
        .env("MANWIDTH", "200")
        .env("MAN_KEEP_FORMATTING", "0")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(o.status.success(), "man -l {}: {o:?}", page.display());
    // Without a terminal man renders plain text; drop any overstrike left.
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if chars.peek() == Some(&'\u{8}') {
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// The section `name` of a rendered page: its lines up to the next heading, unindented.
fn section(page: &str, name: &str) -> String {
    let mut lines = page.lines().skip_while(|l| *l != name).skip(1);
    let mut out = Vec::new();
    for l in lines.by_ref() {
        if !l.is_empty() && !l.starts_with(' ') {
            break;
        }
        out.extend(l.split_whitespace());
    }
    out.join(" ")
}

fn pages() -> Vec<std::path::PathBuf> {
    crate::support::sorted_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("man"))
}

#[test]
fn every_page_has_the_sections_a_man_page_needs() {
    if !require("man (man-db, groff-base)", on_path("man")) {
        return;
    }
    let pages = pages();
    assert_eq!(pages.len(), 13, "{pages:?}");
    for p in pages {
        let page = rendered(&p);
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXAMPLES",
            "FILES",
            "EXIT STATUS",
        ] {
            assert!(
                page.lines().any(|l| l == heading),
                "{}: no {heading}\n{page}",
                p.display()
            );
        }
        let description = section(&page, "DESCRIPTION");
        let sentences = description.matches(". ").count() + 1;
        assert!(
            sentences >= 3 && description.len() > 300,
            "{}: a DESCRIPTION of one line: {description}",
            p.display()
        );
        // Every option that takes a value shows it in the SYNOPSIS, as in OPTIONS.
        let synopsis = section(&page, "SYNOPSIS");
        let options = section(&page, "OPTIONS");
        for (flag, value) in options
            .split_whitespace()
            .zip(options.split_whitespace().skip(1))
            .filter(|(f, v)| f.starts_with("--") && v.starts_with('<'))
        {
            let value = value.trim_end_matches(',');
            assert!(
                synopsis.contains(&format!("{flag} {value}")),
                "{}: {flag} {value} not in the SYNOPSIS: {synopsis}",
                p.display()
            );
        }
    }
}

#[test]
fn the_volunteer_page_explains_ports_search_paths_and_native_distccd() {
    if !require("man (man-db, groff-base)", on_path("man")) {
        return;
    }
    let page = rendered(&Path::new(env!("CARGO_MANIFEST_DIR")).join("man/distsetup-volunteer.1"));
    let synopsis = section(&page, "SYNOPSIS");
    for part in [
        "--toolchain <NAME|PATH>",
        "[--port <P>]",
        "[--allow <CIDR>...]",
    ] {
        assert!(synopsis.contains(part), "{part}: {synopsis}");
    }
    let description = section(&page, "DESCRIPTION");
    for part in [
        "/opt, /usr/local and the profile's directories",
        "/usr/bin and /usr/local/bin",
        "a stats port 1000 above it",
        "/proc/net/tcp",
        "For this machine's own compiler",
        "the system distccd is the one meant",
    ] {
        assert!(description.contains(part), "{part}: {description}");
    }
}
