//! The grammar of compiler names (`TRIPLE-TOOL[-VERSION]`), shared by the settings
//! (`--alias` parsing) and the compiler table. A leaf: it imports nothing from the server.

/// Tool suffixes that make a name a compiler (`TRIPLE-gcc`, ...).
pub const TOOLS: [&str; 5] = ["gcc", "g++", "cc", "c++", "cpp"];

/// The tool part of `name` if it ends in `-gcc`, `-g++`, ... (also `-gcc-12` style
/// version suffixes).
pub fn tool_of(name: &str) -> Option<&str> {
    let (prefix, tool) = split_tool(name)?;
    (!prefix.is_empty()).then_some(tool)
}

/// Split `TRIPLE-TOOL[-VERSION]` into `(TRIPLE, TOOL[-VERSION])`.
pub fn split_tool(name: &str) -> Option<(&str, &str)> {
    for (i, _) in name.match_indices('-') {
        let (prefix, rest) = (&name[..i], &name[i + 1..]);
        let base = rest.split_once('-').map_or(rest, |(t, v)| {
            if v.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !v.is_empty() {
                t
            } else {
                rest
            }
        });
        if TOOLS.contains(&base) || base == "clang" || base == "clang++" {
            return Some((prefix, rest));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_suffixes() {
        assert_eq!(tool_of("aarch64-linux-gnu-gcc"), Some("gcc"));
        assert_eq!(tool_of("x86_64-linux-gnu-g++-12"), Some("g++-12"));
        assert_eq!(tool_of("gcc"), None);
        assert_eq!(tool_of("arm-linux-gnueabihf"), None);
        assert_eq!(
            split_tool("armv6j-hardfloat-linux-gnueabi-c++"),
            Some(("armv6j-hardfloat-linux-gnueabi", "c++"))
        );
    }
}
