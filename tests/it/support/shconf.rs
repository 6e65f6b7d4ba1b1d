//! shconf helpers. `Document::to_bytes()` hands back the stored input, so comparing it with
//! the input proves nothing about the parser; the lexer's tokens joined back together do.

use distsetup::shconf::Document;

/// Every token's bytes, concatenated: equal to the input iff the lexer neither dropped,
/// duplicated nor reordered a byte.
pub fn token_join(doc: &Document) -> Vec<u8> {
    doc.token_spans()
        .flat_map(|(_, b)| b.iter().copied())
        .collect()
}
