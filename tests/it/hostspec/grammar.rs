//! Given a host list, parsing produces these hosts, slots, errors and warnings; and
//! distcc 3.4 itself (`distcc --show-hosts`, `distcc -j`) agrees with us.

use distsetup::hostspec::{self, Item, Transport};
use std::process::Command;

fn err(spec: &str) -> String {
    hostspec::parse(spec).expect_err(spec).to_string()
}

#[test]
fn every_form_distcc_accepts_parses() {
    let l = hostspec::parse(
        "localhost/3 a b:4000/2,lzo c/7:4001,lzo,cpp [::1]:4002/2,lzo,cpp\n\
         alice@d/9:/opt/distccd,lzo @e f,auth=gss,down g,auth --randomize --localslots=3 \
         --localslots_cpp/5 +zeroconf # trailing comment h\n",
    )
    .unwrap();
    let hosts: Vec<_> = l.hosts().cloned().collect();
    assert_eq!(hosts.len(), 9);
    assert_eq!(hosts[0].transport, Transport::Local);
    assert_eq!(hosts[0].effective_limit(), 3);
    assert_eq!(hosts[1].effective_port(), Some(3632));
    assert_eq!(hosts[1].effective_limit(), 4);
    assert_eq!(hosts[2].effective_port(), Some(4000));
    assert_eq!(hosts[3].effective_port(), Some(4001));
    assert_eq!(hosts[3].limit, Some(7));
    assert!(hosts[3].options.cpp && hosts[3].options.lzo);
    assert_eq!(hosts[4].address(), "[::1]");
    assert_eq!(
        hosts[5].transport,
        Transport::Ssh {
            user: "alice".into(),
            host: "d".into(),
            command: Some("/opt/distccd".into())
        }
    );
    assert_eq!(hosts[6].address(), "@e");
    assert_eq!(hosts[7].options.auth, Some(Some("gss".into())));
    assert!(hosts[7].options.down);
    assert_eq!(hosts[8].options.auth, Some(None));
    assert!(
        l.entries
            .iter()
            .any(|e| e.item == Item::LocalSlots(Some(3)))
    );
    assert!(
        l.entries
            .iter()
            .any(|e| e.item == Item::LocalSlotsCpp(Some(5)))
    );
    assert!(l.entries.iter().any(|e| e.item == Item::Zeroconf));
    assert_eq!(l.total_slots(), 3 + 4 + 2 + 7 + 2 + 9 + 4 + 4 + 4);
}

#[test]
fn unedited_list_prints_back_byte_for_byte_and_spans_point_at_tokens() {
    let src = "  # cluster\r\n\ta/2  b:4000\t#x\n[::1]:9/1,lzo\n\n";
    let l = hostspec::parse(src).unwrap();
    assert_eq!(l.to_string(), src);
    let texts: Vec<&str> = l.entries.iter().map(|e| &src[e.span.clone()]).collect();
    assert_eq!(texts, ["a/2", "b:4000", "[::1]:9/1,lzo"]);
    assert_eq!((l.entries[2].line, l.entries[2].column), (3, 1));
}

#[test]
fn formatter_writes_canonical_new_lists_that_parse_back() {
    let l = hostspec::parse("a/7:4000,lzo u@h/2:/bin/distccd localhost/1").unwrap();
    let items: Vec<Item> = l.entries.iter().map(|e| e.item.clone()).collect();
    let text = hostspec::format(&items);
    assert_eq!(text, "a:4000/7,lzo u@h/2:/bin/distccd localhost/1");
    let again = hostspec::parse(&text).unwrap();
    let items2: Vec<Item> = again.entries.iter().map(|e| e.item.clone()).collect();
    assert_eq!(items, items2);
}

#[test]
fn errors_name_line_and_column() {
    assert_eq!(
        err("a\n  b,cpp"),
        "line 2, column 4: ',cpp' (pump mode) requires ',lzo' in \"b,cpp\""
    );
    assert_eq!(
        err("a/0"),
        "line 1, column 3: limit must be at least 1 (distcc rejects /0) in \"a/0\""
    );
    assert_eq!(
        err("x a:70000"),
        "line 1, column 5: port 70000 is out of range (1-65535) in \"a:70000\""
    );
    assert_eq!(
        err("a\nb a:3632"),
        "line 2, column 3: host a is listed twice (first at line 1, column 1)"
    );
    assert_eq!(
        err(":4200"),
        "line 1, column 1: hostname is required in \":4200\""
    );
    assert_eq!(
        err("a,foo"),
        "line 1, column 3: unrecognized option ,foo in \"a,foo\""
    );
    assert_eq!(
        err("a:3632x"),
        "line 1, column 7: unexpected \"x\" after the host in \"a:3632x\""
    );
    assert_eq!(
        err("localhost/x"),
        "line 1, column 11: limit must be a decimal number in \"localhost/x\""
    );
}

#[test]
fn warnings_for_what_distcc_accepts_but_users_get_wrong() {
    let msgs = |s: &str| -> Vec<String> {
        hostspec::parse(s)
            .unwrap()
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        msgs(""),
        [
            "line 1, column 1: the list is empty: distcc finds no hosts at all and compiles everything locally"
        ]
    );
    assert_eq!(
        msgs("# only a comment\n"),
        [
            "line 1, column 1: the list has only comments: distcc finds no hosts at all and compiles everything locally"
        ]
    );
    assert_eq!(
        msgs("localhost a"),
        [
            "line 1, column 1: localhost is first: distcc fills its slots before any remote host; put it last (or drop it) so the helpers get the work"
        ]
    );
    assert!(msgs("a localhost").is_empty());
    assert_eq!(
        msgs("a localhost/500"),
        [
            "line 1, column 3: localhost/500 is more parallel jobs than a single machine can usefully run"
        ]
    );
    assert_eq!(msgs("a,down").len(), 1);
    assert_eq!(msgs("127.0.0.1").len(), 1);
    // Issue 25 point 10: pump mode is refused by the embedded server and broken upstream.
    assert_eq!(
        msgs("a b:3636/8,lzo,cpp"),
        [
            "line 1, column 3: b asks for pump mode (,cpp): distsetup serve refuses it, and \
             distcc-pump's include server fails on Python 3.10 and later (the build falls back \
             to preprocessing here); drop ,cpp"
        ]
    );
}

/// Issue 25 point 10: typos distcc would take as host names.
#[test]
fn host_names_with_typos_are_refused_where_the_typo_is() {
    assert_eq!(
        err("192.168.1.10;3636/8"),
        "line 1, column 13: ';' cannot be part of a host name (a port follows ':') in \"192.168.1.10;3636/8\""
    );
    assert_eq!(
        err("a 192.168.1.300"),
        "line 1, column 3: 192.168.1.300 is not an IPv4 address (four numbers from 0 to 255) in \"192.168.1.300\""
    );
    assert_eq!(
        err("me@host!name/2"),
        "line 1, column 8: '!' cannot be part of a host name in \"me@host!name/2\""
    );
    assert_eq!(
        err("[fe80::zz]:3632"),
        "line 1, column 2: fe80::zz is not an IPv6 address in \"[fe80::zz]:3632\""
    );
    for fine in [
        "192.168.1.10:3636/8",
        "build-box.lan",
        "box_2",
        "[::1]:4000",
        "10.0.0.1",
    ] {
        assert!(hostspec::parse(fine).is_ok(), "{fine}");
    }
}

/// distcc's own reading of a list: the host tokens it prints and its total slots, or None
/// when it rejects the list.
fn distcc_reads(spec: &str) -> Option<(Vec<String>, u32)> {
    let show = Command::new("distcc")
        .arg("--show-hosts")
        .env("DISTCC_HOSTS", spec)
        .output()
        .expect("distcc is installed (scripts/install-deps)");
    let stderr = String::from_utf8_lossy(&show.stderr);
    if stderr.contains("Failed to get host list") {
        return None;
    }
    let hosts = String::from_utf8_lossy(&show.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let j = Command::new("distcc")
        .arg("-j")
        .env("DISTCC_HOSTS", spec)
        .output()
        .unwrap();
    let slots = String::from_utf8_lossy(&j.stdout).trim().parse().unwrap();
    Some((hosts, slots))
}

#[test]
fn distcc_itself_agrees_with_our_parse() {
    // (spec, we are deliberately stricter than distcc)
    let table: &[(&str, bool)] = &[
        ("localhost", false),
        ("a b", false),
        ("localhost/5 a/3", false),
        ("a/7:4000,lzo", false),
        ("a:4000/7,lzo b", false),
        ("user@host/9:/opt/distccd,lzo", false),
        ("@host", false),
        ("a # comment b", false),
        ("a#comment\nb", false),
        ("[::1]:4000/2,lzo,cpp", false),
        ("--randomize a b c", false),
        ("--localslots=3 --localslots_cpp=9 a/2", false),
        ("a,auth", false),
        ("a,lzo,down b", false),
        ("  a\n\tb\r\n", false),
        (":4200", false),
        ("a,foo", false),
        ("a,cpp", false),
        ("a/0", false),
        ("a/x", false),
        ("a:3632#x", false),
        ("localhost/2,lzo", false),
        ("localhost,lzo", false),
        ("localhost:3632", false),
        ("a:1:2", false),
        ("a:", true),
        ("a/2/3", true),
        ("--localslotsx a", true),
        ("a:99999", true),
        ("a a", true),
        ("192.168.1.10;3636/8", true),
        ("192.168.1.300", true),
    ];
    for &(spec, stricter) in table {
        let ours = hostspec::parse(spec);
        let theirs = distcc_reads(spec);
        if stricter {
            assert!(
                ours.is_err(),
                "{spec:?}: we should reject what distcc takes"
            );
            assert!(theirs.is_some(), "{spec:?}: distcc should accept");
            continue;
        }
        match (ours, theirs) {
            (Ok(l), Some((hosts, slots))) => {
                let mut texts: Vec<String> = l
                    .entries
                    .iter()
                    .filter(|e| matches!(e.item, Item::Host(_)))
                    .map(|e| spec[e.span.clone()].to_string())
                    .collect();
                let mut hosts = hosts;
                if spec.starts_with("--randomize") {
                    texts.sort();
                    hosts.sort();
                }
                assert_eq!(texts, hosts, "{spec:?}: hosts differ");
                assert_eq!(l.total_slots(), slots, "{spec:?}: slots differ");
            }
            (Err(_), None) => {}
            (ours, theirs) => panic!("{spec:?}: we say {ours:?}, distcc says {theirs:?}"),
        }
    }
}

/// `master` says what the host list's warnings say (`,cpp` was accepted silently).
#[test]
fn master_warns_about_pump_mode() {
    let t = crate::support::Root::new().file("etc/portage/make.conf", "FEATURES=\"\"\n");
    let o = crate::support::Cmd::new("master")
        .root(t.path())
        .args([
            "--profile",
            "gentoo",
            "--hosts",
            "10.0.0.5:3636/4,lzo,cpp",
            "--jobs",
            "3",
            "--dry-run",
        ])
        .run();
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: --hosts: line 1, column 1: 10.0.0.5 asks for pump mode (,cpp)"),
        "{err}"
    );
}

/// Issue 25 point 11: the hosts file keeps an inline `# comment` of a host line (it
/// used to keep whole-line comments only).
#[test]
fn master_keeps_inline_comments_of_the_hosts_file() {
    let t = crate::support::Root::new()
        .file("etc/portage/make.conf", "FEATURES=\"\"\n")
        .file(
            "etc/distcc/hosts",
            "# my cluster\n10.0.0.1/4  # the fast one\n10.0.0.2 # the pi\n",
        );
    let o = crate::support::Cmd::new("master")
        .root(t.path())
        .args(["--profile", "gentoo", "--hosts", "10.0.0.3/8 10.0.0.4"])
        .args(["--jobs", "3", "--yes"])
        .run();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(t.join("etc/distcc/hosts")).unwrap(),
        "# my cluster\n10.0.0.3/8 10.0.0.4  # the fast one\n# the pi\n"
    );
}
