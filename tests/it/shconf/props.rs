//! Property tests: the lexer's tokens join back to exactly the input (generated
//! documents, and arbitrary bytes), and setting a value reads back while every untouched
//! line stays identical.

use distsetup::shconf::{Dialect, Document, Edit, Value};
use proptest::prelude::*;

use crate::support::shconf::token_join;

const DIALECTS: [Dialect; 3] = [Dialect::Bash, Dialect::Portage, Dialect::EnvironmentFile];

/// Bytes drawn mostly from what shell syntax is made of, so quoting, escapes, comments,
/// arrays, expansions and line ends all meet each other.
fn shellish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"AZaz09_=+-()[]{}$`'\"\\#!;&|<> \t\r\n~*?@%^:,./".to_vec();
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(alphabet),
            1 => any::<u8>(),
        ],
        0..200,
    )
}

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
        prop_assert_eq!(token_join(&parsed), doc.clone());
        let mut noisy = doc;
        noisy.extend(bytes);
        prop_assert_eq!(token_join(&Document::parse(&noisy, Dialect::Bash).unwrap()), noisy);
    }

    /// Would fail if the lexer dropped, duplicated or reordered a single byte of any input
    /// that parses, in any dialect.
    #[test]
    fn arbitrary_bytes_that_parse_lex_losslessly(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let parsed: Vec<(Dialect, Document)> = DIALECTS
            .into_iter()
            .filter_map(|d| Some((d, Document::parse(&bytes, d).ok()?)))
            .collect();
        // Inputs no dialect parses do not count; proptest fails if too many are rejected,
        // so this cannot pass by never parsing anything.
        prop_assume!(!parsed.is_empty());
        for (dialect, doc) in parsed {
            prop_assert_eq!(token_join(&doc), bytes.clone(), "{:?}", dialect);
        }
    }

    #[test]
    fn shell_like_bytes_that_parse_lex_losslessly(bytes in shellish_bytes()) {
        let parsed: Vec<(Dialect, Document)> = DIALECTS
            .into_iter()
            .filter_map(|d| Some((d, Document::parse(&bytes, d).ok()?)))
            .collect();
        // Inputs no dialect parses do not count; proptest fails if too many are rejected,
        // so this cannot pass by never parsing anything.
        prop_assume!(!parsed.is_empty());
        for (dialect, doc) in parsed {
            prop_assert_eq!(token_join(&doc), bytes.clone(), "{:?}", dialect);
        }
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
                // The tokens are re-lexed from the edited text: they still cover it exactly.
                prop_assert_eq!(token_join(&d), d.to_bytes());
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
