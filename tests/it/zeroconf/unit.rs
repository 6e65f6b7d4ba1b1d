//! Given / running / produces, for the pure parts of `distsetup::zeroconf`.

use distsetup::zeroconf::browse::{self, Found};
use distsetup::zeroconf::naming;
use distsetup::zeroconf::service_file::{self, ServiceFile};
use distsetup::zeroconf::{CompilerId, Kind, RenderError, classify, txt_list};

#[test]
fn subtype_follows_distccs_cleaning_rule() {
    // Arch Linux ARM armv7h: full version, as Arch's gcc prints it.
    assert_eq!(
        naming::subtype("armv7l-unknown-linux-gnueabihf", "14.2.1"),
        "_armv7l-unknown-linux-gnueabihf--14-2-1._sub._distcc._tcp"
    );
    // Debian: major only; upper case lowered, every other odd byte is '-'.
    assert_eq!(
        naming::subtype("x86_64-linux-gnu", "12"),
        "_x86-64-linux-gnu--12._sub._distcc._tcp"
    );
    assert_eq!(naming::clean("ARMv7_L+é"), "armv7-l---");
    // Only the first word of the compiler's answer counts (distcc cuts at blanks).
    assert_eq!(naming::clean("12.2.0 extra\n"), "12-2-0");
    assert_eq!(naming::clean(&"a".repeat(80)).len(), 63);
    assert!(naming::same(
        "aarch64-unknown-linux-gnu",
        "AARCH64_unknown.linux.gnu"
    ));
}

#[test]
fn versions_cover_both_ways_gcc_prints_them() {
    assert_eq!(naming::versions("12", Some("12.2.0")), ["12", "12.2.0"]);
    assert_eq!(naming::versions("14.2.1", None), ["14", "14.2.1"]);
    assert_eq!(naming::versions("13", None), ["13"]);
    assert!(naming::check_version("14.2.1").is_ok());
    for bad in ["", "14.", "v14", "14..1", "14 2"] {
        let e = naming::check_version(bad).unwrap_err();
        assert!(e.to_string().contains("not a gcc version"), "{bad}: {e}");
    }
}

fn file() -> ServiceFile {
    ServiceFile {
        name: "distcc x-tools7h on %h".into(),
        port: 3635,
        subtypes: service_file::subtypes(
            &[
                "arm-unknown-linux-gnueabihf".into(),
                "armv7l-unknown-linux-gnueabihf".into(),
            ],
            &["12".into(), "12.2.0".into()],
        ),
        txt: vec!["jobs=4".into(), "note=<a & \"b\">".into()],
    }
}

#[test]
fn the_service_file_says_type_subtypes_port_and_txt() {
    let text = file().render().unwrap();
    let expected = "\
<?xml version=\"1.0\" standalone=\"no\"?>
<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">
<!-- written by distsetup volunteer (zeroconf); distsetup undo removes it -->
<service-group>
  <name replace-wildcards=\"yes\">distcc x-tools7h on %h</name>
  <service protocol=\"ipv4\">
    <type>_distcc._tcp</type>
    <subtype>_arm-unknown-linux-gnueabihf--12._sub._distcc._tcp</subtype>
    <subtype>_arm-unknown-linux-gnueabihf--12-2-0._sub._distcc._tcp</subtype>
    <subtype>_armv7l-unknown-linux-gnueabihf--12._sub._distcc._tcp</subtype>
    <subtype>_armv7l-unknown-linux-gnueabihf--12-2-0._sub._distcc._tcp</subtype>
    <port>3635</port>
    <txt-record>jobs=4</txt-record>
    <txt-record>note=&lt;a &amp; &quot;b&quot;&gt;</txt-record>
  </service>
</service-group>
";
    assert_eq!(text, expected);
    // An XML comment must not hold "--".
    let comment = text.lines().nth(2).unwrap();
    assert!(!comment[4..comment.len() - 3].contains("--"), "{comment}");
}

#[test]
fn names_that_clean_alike_give_one_subtype() {
    let s = service_file::subtypes(
        &["x86_64-linux-gnu".into(), "x86-64-linux-gnu".into()],
        &["12".into()],
    );
    assert_eq!(s, ["_x86-64-linux-gnu--12._sub._distcc._tcp"]);
}

#[test]
fn dns_limits_are_refused_before_avahi_refuses_the_whole_file() {
    let mut f = file();
    f.subtypes = vec![naming::subtype(&"a".repeat(40), &"1".repeat(30))];
    match f.render() {
        Err(RenderError::LabelTooLong { len, .. }) => assert_eq!(len, 1 + 40 + 2 + 30),
        other => panic!("{other:?}"),
    }
    let mut f = file();
    f.txt = vec!["k=".to_string() + &"v".repeat(260)];
    assert!(matches!(f.render(), Err(RenderError::TxtTooLong(_))));
}

/// What avahi-browse -prtk printed in a cluster node (names escaped as avahi does).
const BROWSE: &str = "\
+;eth0;IPv6;distcc\\032x-tools7h\\032on\\032v1;_distcc._tcp;local
+;eth0;IPv4;distcc\\032x-tools7h\\032on\\032v1;_distcc._tcp;local
+;lo;IPv4;a\\059b\\.c\\\\d\\032\\195\\169;_distcc._tcp;local
=;eth0;IPv6;distcc\\032x-tools7h\\032on\\032v1;_distcc._tcp;local;v1.local;fe80::e8f4:55ff:fe99:f64d;3635;\"jobs=3\" \"cpus=2\"
=;eth0;IPv4;distcc\\032x-tools7h\\032on\\032v1;_distcc._tcp;local;v1.local;10.77.0.2;3635;\"x=a \\\"q\\\" \\\\b;c\" \"jobs=3\" \"cpus=2\"
=;lo;IPv4;a\\059b\\.c\\\\d\\032\\195\\169;_distcc._tcp;local;m.local;127.0.0.1;3632;
+;eth0;IPv4;gone;_distcc._tcp;local
=;eth0;IPv4;gone;_distcc._tcp;local;g.local;10.77.0.9;3632;\"jobs=1\"
-;eth0;IPv4;gone;_distcc._tcp;local
";

#[test]
fn browse_output_is_unescaped_deduplicated_and_follows_removals() {
    let found = browse::parse(BROWSE).unwrap();
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a;b.c\\d é", "distcc x-tools7h on v1"]);
    let v1 = &found[1];
    // IPv4 is preferred: the client cannot use a link-local IPv6 address without a scope.
    assert_eq!(v1.address.to_string(), "10.77.0.2");
    assert_eq!(v1.host, "v1.local");
    assert_eq!(v1.txt, ["x=a \"q\" \\b;c", "jobs=3", "cpus=2"]);
    assert_eq!(v1.host_token(), "10.77.0.2:3635/3");
    assert!(found[0].txt.is_empty());
}

#[test]
fn a_line_avahi_browse_would_not_print_is_an_error_naming_it() {
    let e = browse::parse(
        "+;eth0;IPv4;x;_distcc._tcp;local\nFailed to create client object: Daemon not running\n",
    )
    .unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = browse::parse("=;eth0;IPv4;x;_distcc._tcp;local;h;10.0.0.1;notaport;\n").unwrap_err();
    assert!(e.reason.contains("not a port"), "{e}");
    let e = browse::parse("=;eth0;IPv4;x;_distcc._tcp;local;h;10.0.0.1;1;\"open\n").unwrap_err();
    assert!(e.reason.contains("unterminated"), "{e}");
    assert!(browse::unescape("a\\999").is_err());
    assert!(browse::unescape("a\\").is_err());
}

fn found(name: &str, txt: &[&str]) -> Found {
    Found {
        name: name.into(),
        interface: "eth0".into(),
        protocol: "IPv4".into(),
        host: format!("{name}.local"),
        address: "10.77.0.5".parse().unwrap(),
        port: 3632,
        txt: txt.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn slots_are_counted_as_the_distcc_client_counts_them() {
    assert_eq!(found("a", &["jobs=6", "cpus=2"]).client_slots(), 6);
    assert_eq!(found("a", &["jobs=0", "cpus=3"]).client_slots(), 5);
    assert_eq!(found("a", &["jobs=x"]).client_slots(), 3);
    assert_eq!(found("a", &["cpus=8"]).client_slots(), 4);
    assert_eq!(found("a", &[]).client_slots(), 4);
}

#[test]
fn near_misses_share_the_machine_but_not_the_version() {
    let id = CompilerId {
        machine: "armv7l-unknown-linux-gnueabihf".into(),
        version: "12.2.0".into(),
    };
    let matched = found(
        "v1",
        &[
            "cc_machine=arm-unknown-linux-gnueabihf",
            "masters=armv7l-unknown-linux-gnueabihf",
            "versions=12,12.2.0",
        ],
    );
    let near = found(
        "v2-arm",
        &[
            "cc_machine=arm-unknown-linux-gnueabihf",
            "masters=x,armv7l-unknown-linux-gnueabihf",
            "masters.2=y",
            "versions=13,13.1.0",
        ],
    );
    let other = found(
        "v2-a64",
        &["cc_machine=aarch64-unknown-linux-gnu", "cc_version=12"],
    );
    let stranger = found("plain", &["cpus=4"]);
    let all = vec![stranger, other, near, matched.clone()];
    let v = classify(all, &[matched], &id);
    let kinds: Vec<(&str, Kind)> = v.iter().map(|v| (v.found.name.as_str(), v.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("v1", Kind::Match),
            ("v2-arm", Kind::NearMiss),
            ("plain", Kind::Other),
            ("v2-a64", Kind::Other)
        ]
    );
    assert_eq!(v[1].versions, ["13", "13.1.0"]);
    assert_eq!(
        txt_list(&v[1].found, "masters"),
        ["x", "armv7l-unknown-linux-gnueabihf", "y"]
    );
    assert!(
        v[1].describe().contains("gcc 13, 13.1.0"),
        "{}",
        v[1].describe()
    );
    assert!(v[2].describe().contains("does not say what it serves"));
}
