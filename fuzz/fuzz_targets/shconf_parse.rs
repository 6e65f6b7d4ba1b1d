//! shconf never panics, always round-trips, and an edit either applies or leaves the
//! document untouched.
#![no_main]

use distsetup::shconf::{Dialect, Document, Edit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for dialect in [Dialect::Bash, Dialect::Portage, Dialect::EnvironmentFile] {
        let Ok(mut doc) = Document::parse(data, dialect) else {
            return;
        };
        assert!(doc.as_bytes() == data);
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
        }
    }
});
