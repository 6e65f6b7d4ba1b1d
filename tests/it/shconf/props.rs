//! Property tests: generated documents round-trip byte for byte, and setting a value
//! reads back while every untouched line stays identical.

use distsetup::shconf::{Dialect, Document, Edit, Value};
use proptest::prelude::*;

fn value_text() -> impl Strategy<Value = String> {
    "[ -~]{0,20}"
}

fn line() -> impl Strategy<Value = String> {
    let name = "[A-Z][A-Z0-9_]{0,6}";
    prop_oneof![
        (name, "[a-z0-9./-]{0,10}").prop_map(|(n, v)| format!("{n}={v}")),
        (name, "[a-z0-9 ./$-]{0,12}").prop_map(|(n, v)| format!("{n}=\"{v}\"")),
        (name, "[a-z0-9 \"./$-]{0,12}").prop_map(|(n, v)| format!("export {n}='{v}'")),
        (name, prop::collection::vec("[!a-z]{1,6}", 0..4))
            .prop_map(|(n, v)| format!("{n}=({})", v.join(" "))),
        "#[ -~]{0,20}".prop_map(|c| c),
        Just(String::new()),
        "[ \t]{0,3}".prop_map(|b| b),
        Just("if [ -f x ]; then\n  Z=1\nfi".to_string()),
        Just("echo 'hi' \"there\" | cat".to_string()),
        (name, "[a-z ]{0,8}").prop_map(|(n, v)| format!("{n}=\"{v}\" # it's a comment")),
    ]
}

fn document() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(line(), 0..25),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_newline)| {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(nl);
            if final_newline && !text.is_empty() {
                text.push_str(nl);
            }
            text.into_bytes()
        })
}

fn lines(b: &[u8]) -> Vec<Vec<u8>> {
    b.split(|c| *c == b'\n').map(<[u8]>::to_vec).collect()
}

proptest! {
    #[test]
    fn generated_documents_round_trip(doc in document(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let parsed = Document::parse(&doc, Dialect::Bash).unwrap();
        prop_assert_eq!(parsed.to_bytes(), doc.clone());
        let mut noisy = doc;
        noisy.extend(bytes);
        prop_assert_eq!(Document::parse(&noisy, Dialect::Bash).unwrap().to_bytes(), noisy);
    }

    #[test]
    fn set_then_get_returns_the_value_and_other_lines_stay(doc in document(), value in value_text(), pick in 0usize..8) {
        let names = ["MAKEFLAGS", "DISTCC_HOSTS", "A", "B", "Z", "CFLAGS", "X1", "NEWNAME"];
        let name = names[pick];
        let mut d = Document::parse(&doc, Dialect::Bash).unwrap();
        let edit = Edit::Set { name: name.into(), value: value.clone() };
        match d.apply(&edit) {
            Ok(_) => {
                prop_assert_eq!(d.get(name).map(|a| a.value), Some(Value::Scalar(value.into_bytes())));
                let before = lines(&doc);
                let after = lines(&d.to_bytes());
                let diff = similar::capture_diff_slices(similar::Algorithm::Myers, &before, &after);
                let removed: usize = diff.iter().map(|op| match op {
                    similar::DiffOp::Delete { old_len, .. } => *old_len,
                    similar::DiffOp::Replace { old_len, .. } => *old_len,
                    _ => 0,
                }).sum();
                let added: usize = diff.iter().map(|op| match op {
                    similar::DiffOp::Insert { new_len, .. } => *new_len,
                    similar::DiffOp::Replace { new_len, .. } => *new_len,
                    _ => 0,
                }).sum();
                prop_assert!(removed <= 1 && added <= 2, "removed {} added {}", removed, added);
            }
            Err(_) => prop_assert_eq!(d.to_bytes(), doc),
        }
    }
}
