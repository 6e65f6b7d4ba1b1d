//! The 12-byte token header: 4 ASCII letters and 8 hex digits (spec §1.2).

use super::WireError;

/// Length of a token header on the wire.
pub const HEADER_LEN: usize = 12;

/// A token name, e.g. `*b"DIST"`.
pub type Name = [u8; 4];

/// Request header, carries the protocol version.
pub const DIST: Name = *b"DIST";
/// v3: the client's working directory.
pub const CDIR: Name = *b"CDIR";
/// Number of argv elements.
pub const ARGC: Name = *b"ARGC";
/// One argv element.
pub const ARGV: Name = *b"ARGV";
/// v1/v2: the preprocessed source.
pub const DOTI: Name = *b"DOTI";
/// v3: number of files that follow.
pub const NFIL: Name = *b"NFIL";
/// v3: absolute client path of the next file.
pub const NAME: Name = *b"NAME";
/// v3: file contents (always LZO).
pub const FILE: Name = *b"FILE";
/// v3: symlink target.
pub const LINK: Name = *b"LINK";
/// Reply header, echoes the version.
pub const DONE: Name = *b"DONE";
/// Wait status of the compile.
pub const STAT: Name = *b"STAT";
/// Compiler stderr.
pub const SERR: Name = *b"SERR";
/// Compiler stdout.
pub const SOUT: Name = *b"SOUT";
/// Output file (object or assembler).
pub const DOTO: Name = *b"DOTO";
/// v3: dependency file.
pub const DOTD: Name = *b"DOTD";

/// Append a header with lowercase zero-padded hex, as distcc's senders do.
pub fn put(out: &mut Vec<u8>, name: Name, value: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&name);
    for shift in (0..8).rev() {
        out.push(HEX[((value >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Parse a header. Upper- and lowercase hex are accepted; a blank, sign or `0x` (which C's
/// `strtoul` would tolerate) is refused, since no real client sends them.
/// `offset` is the header's position in the stream, for the error message.
pub fn parse(header: &[u8; HEADER_LEN], offset: u64) -> Result<(Name, u32), WireError> {
    let mut name = [0u8; 4];
    name.copy_from_slice(&header[..4]);
    let mut value = 0u32;
    for &c in &header[4..] {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => {
                return Err(WireError::BadHex {
                    token: show(&name),
                    text: show(&header[4..]),
                    offset,
                });
            }
        };
        value = (value << 4) | u32::from(digit);
    }
    Ok((name, value))
}

/// Printable form of bytes from the peer (escaped, so logs stay one line).
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(s: &[u8]) -> [u8; 12] {
        let mut h = [0u8; 12];
        h.copy_from_slice(s);
        h
    }

    #[test]
    fn encodes_lowercase_padded() {
        let mut v = Vec::new();
        put(&mut v, DOTO, 0x350);
        assert_eq!(v, b"DOTO00000350");
        v.clear();
        put(&mut v, STAT, 0xdead_beef);
        assert_eq!(v, b"STATdeadbeef");
    }

    #[test]
    fn accepts_both_cases() {
        assert_eq!(parse(&hdr(b"DOTI0000000C"), 0).map(|t| t.1), Ok(12));
        assert_eq!(parse(&hdr(b"DOTI0000000c"), 0).map(|t| t.1), Ok(12));
        assert_eq!(parse(&hdr(b"ARGCFFFFFFFF"), 0).map(|t| t.1), Ok(u32::MAX));
    }

    #[test]
    fn refuses_strtoul_oddities() {
        for bad in [
            b"DIST 0000001",
            b"DIST+0000001",
            b"DIST0x000001",
            b"DIST0000000g",
        ] {
            assert!(matches!(
                parse(&hdr(bad), 7),
                Err(WireError::BadHex { offset: 7, .. })
            ));
        }
    }
}
