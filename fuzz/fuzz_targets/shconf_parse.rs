//! shconf never panics, the lexer loses no byte (its tokens join back to exactly the
//! input, and to the edited text after an edit), and an edit either applies or leaves the
//! document untouched. `to_bytes()`/`as_bytes()` are the stored text itself, so they can
//! only check what an edit did, never what the lexer did.
#![no_main]

use distsetup_shconf::{Dialect, Document, Edit};
use libfuzzer_sys::fuzz_target;

fn token_join(doc: &Document) -> Vec<u8> {
    doc.token_spans().flat_map(|(_, b)| b.iter().copied()).collect()
}

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::Bash, Dialect::Portage, Dialect::EnvironmentFile] {
        let Ok(mut doc) = Document::parse(data, dialect) else {
            return;
        };
        assert!(token_join(&doc) == data, "tokens do not join back to the input");
        let _ = doc.assignments();
        for edit in [
            Edit::Enable { name: "BUILDENV".into(), word: "distcc".into() },
            Edit::Set { name: "MAKEFLAGS".into(), value: "-j5".into() },
            Edit::Remove { name: "FEATURES".into(), word: "ccache".into() },
        ] {
            let before = doc.to_bytes();
            if doc.apply(&edit).is_err() {
                assert!(doc.as_bytes() == before.as_slice());
            }
            assert!(token_join(&doc) == doc.as_bytes(), "tokens do not join back after {edit:?}");
        }
    }
});
