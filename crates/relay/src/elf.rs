//! Reading what the *remote* compiler put into a probe object. The client preprocesses
//! locally, so predefined macros (`__VERSION__`, `__PIE__`) would tell us about the local
//! compiler; the object itself is written by the remote one: its ELF header names the
//! machine, `.comment` carries gcc's `.ident` ("GCC: (Debian 12.2.0-14) 12.2.0"), and the
//! relocation against an external function's address shows whether the compiler
//! generated position-independent code by default (GOT relocations) or not.

/// What a probe object says about the compiler that produced it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectFacts {
    /// ELF machine (`x86_64`, `aarch64`, `arm`, ...).
    pub machine: Option<String>,
    /// 32 or 64.
    pub bits: Option<u8>,
    /// The compiler's `.ident`, e.g. `GCC: (Debian 12.2.0-14) 12.2.0`.
    pub ident: Option<String>,
    /// The gcc major version taken from `ident`.
    pub gcc_major: Option<u32>,
    /// Position-independent code by default (`Some(true)`: PIE default), when the
    /// relocations tell.
    pub pic: Option<bool>,
}

impl ObjectFacts {
    /// One line: machine, bits, compiler ident, PIE default.
    pub fn describe(&self) -> String {
        format!(
            "{} objects ({}-bit), {}, {}",
            self.machine.as_deref().unwrap_or("unknown"),
            self.bits.unwrap_or(0),
            self.ident.as_deref().unwrap_or("no compiler ident"),
            match self.pic {
                Some(true) => "PIE by default",
                Some(false) => "no PIE by default",
                None => "PIE default unknown",
            }
        )
    }

    /// Why objects from `self` (a volunteer) cannot be linked with `local`'s (the
    /// master's), or `None` when they can: machine and bits, gcc major version, default PIE.
    pub fn mismatch(&self, local: &ObjectFacts) -> Option<String> {
        if self.machine != local.machine || self.bits != local.bits {
            return Some(format!(
                "makes {} ({}-bit) objects, the master {} ({}-bit)",
                self.machine.as_deref().unwrap_or("unknown"),
                self.bits.unwrap_or(0),
                local.machine.as_deref().unwrap_or("unknown"),
                local.bits.unwrap_or(0)
            ));
        }
        if let (Some(a), Some(b)) = (self.gcc_major, local.gcc_major) {
            if a != b {
                return Some(format!("gcc {a} there, gcc {b} on the master"));
            }
        }
        if let (Some(a), Some(b)) = (self.pic, local.pic) {
            if a != b {
                let word = |p: bool| if p { "PIE" } else { "no PIE" };
                return Some(format!(
                    "default {} there, {} on the master",
                    word(a),
                    word(b)
                ));
            }
        }
        None
    }
}

struct Elf<'a> {
    b: &'a [u8],
    is64: bool,
    le: bool,
}

impl Elf<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let p = [*self.b.get(at)?, *self.b.get(at + 1)?];
        Some(if self.le {
            u16::from_le_bytes(p)
        } else {
            u16::from_be_bytes(p)
        })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }
    fn u64(&self, at: usize) -> Option<u64> {
        let s: [u8; 8] = self.b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.le {
            u64::from_le_bytes(s)
        } else {
            u64::from_be_bytes(s)
        })
    }
    /// A word-sized field: 8 bytes in ELF64, 4 in ELF32.
    fn word(&self, at: usize) -> Option<usize> {
        if self.is64 {
            usize::try_from(self.u64(at)?).ok()
        } else {
            usize::try_from(self.u32(at)?).ok()
        }
    }
}

/// One section header: (name offset, type, file offset, size, entry size).
struct Section {
    name: usize,
    kind: u32,
    offset: usize,
    size: usize,
    entsize: usize,
}

fn sections(e: &Elf) -> Option<(Vec<Section>, usize)> {
    let (shoff, shentsize, shnum, shstrndx) = if e.is64 {
        (e.word(0x28)?, e.u16(0x3a)?, e.u16(0x3c)?, e.u16(0x3e)?)
    } else {
        (e.word(0x20)?, e.u16(0x2e)?, e.u16(0x30)?, e.u16(0x32)?)
    };
    let mut out = Vec::new();
    for i in 0..usize::from(shnum.min(4096)) {
        let at = shoff.checked_add(i.checked_mul(usize::from(shentsize))?)?;
        let s = if e.is64 {
            Section {
                name: e.u32(at)? as usize,
                kind: e.u32(at + 4)?,
                offset: e.word(at + 0x18)?,
                size: e.word(at + 0x20)?,
                entsize: e.word(at + 0x38)?,
            }
        } else {
            Section {
                name: e.u32(at)? as usize,
                kind: e.u32(at + 4)?,
                offset: e.word(at + 0x10)?,
                size: e.word(at + 0x14)?,
                entsize: e.word(at + 0x24)?,
            }
        };
        out.push(s);
    }
    Some((out, usize::from(shstrndx)))
}

fn bytes_of<'a>(e: &Elf<'a>, s: &Section) -> Option<&'a [u8]> {
    e.b.get(s.offset..s.offset.checked_add(s.size)?)
}

/// Relocation types that reach a symbol through the GOT (position-independent code)
/// and types that embed its absolute address, per machine.
fn reloc_kind(machine: &str, t: u32) -> Option<bool> {
    match (machine, t) {
        ("x86_64", 3 | 9 | 41 | 42) => Some(true),
        ("x86_64", 1 | 10 | 11) => Some(false),
        ("aarch64", 300 | 311 | 312) => Some(true),
        ("aarch64", 257 | 263..=266 | 275 | 277) => Some(false),
        ("arm", 26 | 96 | 97) => Some(true),
        ("arm", 2 | 43 | 44 | 47 | 48) => Some(false),
        ("i386", 3 | 9 | 10 | 43) => Some(true),
        ("i386", 1) => Some(false),
        ("riscv", 20) => Some(true),
        ("riscv", 26 | 27) => Some(false),
        _ => None,
    }
}

/// The ELF machine of an object, by the names the rest of distsetup uses (`x86_64`,
/// `aarch64`, `arm`, ...); `elf-machine-N` for others; `None` when it is not ELF.
pub fn machine(bytes: &[u8]) -> Option<String> {
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let pair = [*bytes.get(18)?, *bytes.get(19)?];
    let machine = match bytes.get(5)? {
        1 => u16::from_le_bytes(pair),
        2 => u16::from_be_bytes(pair),
        _ => return None,
    };
    Some(
        match machine {
            3 => "i386",
            40 => "arm",
            62 => "x86_64",
            183 => "aarch64",
            243 => "riscv",
            8 => "mips",
            20 => "ppc",
            21 => "ppc64",
            other => return Some(format!("elf-machine-{other}")),
        }
        .to_owned(),
    )
}

/// Read the facts out of `object` (anything: a failed or hostile reply gives `None`s).
pub fn inspect(object: &[u8]) -> ObjectFacts {
    let machine = machine(object);
    let mut facts = ObjectFacts {
        machine: machine.clone(),
        bits: None,
        ident: None,
        gcc_major: None,
        pic: None,
    };
    if object.get(..4) != Some(b"\x7fELF") {
        return facts;
    }
    let e = Elf {
        b: object,
        is64: object.get(4) == Some(&2),
        le: object.get(5) == Some(&1),
    };
    facts.bits = Some(if e.is64 { 64 } else { 32 });
    let Some((secs, strndx)) = sections(&e) else {
        return facts;
    };
    let names = secs.get(strndx).and_then(|s| bytes_of(&e, s));
    let name_of = |s: &Section| -> &[u8] {
        names
            .and_then(|n| n.get(s.name..))
            .map(|n| n.split(|&c| c == 0).next().unwrap_or_default())
            .unwrap_or_default()
    };
    let mut votes = (0u32, 0u32);
    for s in &secs {
        if name_of(s) == b".comment" {
            if let Some(data) = bytes_of(&e, s) {
                let text = data
                    .split(|&c| c == 0)
                    .find(|t| !t.is_empty())
                    .map(|t| String::from_utf8_lossy(t).into_owned());
                facts.gcc_major = text.as_deref().and_then(gcc_major);
                facts.ident = text;
            }
        }
        // SHT_RELA = 4, SHT_REL = 9.
        if (s.kind == 4 || s.kind == 9) && s.entsize > 0 {
            let (Some(m), Some(data)) = (machine.as_deref(), bytes_of(&e, s)) else {
                continue;
            };
            for i in 0..(data.len() / s.entsize).min(100_000) {
                let at = s.offset + i * s.entsize;
                let t = if e.is64 {
                    e.u64(at + 8).map(|info| (info & 0xffff_ffff) as u32)
                } else {
                    e.u32(at + 4).map(|info| info & 0xff)
                };
                match t.and_then(|t| reloc_kind(m, t)) {
                    Some(true) => votes.0 += 1,
                    Some(false) => votes.1 += 1,
                    None => {}
                }
            }
        }
    }
    facts.pic = match votes {
        (0, 0) => None,
        (p, a) => Some(p >= a),
    };
    facts
}

/// `GCC: (Debian 12.2.0-14) 12.2.0` → 12: the last word that looks like a version.
fn gcc_major(ident: &str) -> Option<u32> {
    if !ident.starts_with("GCC:") {
        return None;
    }
    // The last dotted all-digit word: "12.2.0" in "(Debian 12.2.0-14) 12.2.0",
    // "14.2.1" in "(GNU) 14.2.1 20240910".
    ident
        .split_whitespace()
        .rev()
        .find(|w| {
            w.contains('.')
                && w.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        })
        .and_then(|w| w.split('.').next()?.parse().ok())
}

/// The probe unit: needs no header, takes a function's address (the relocation shows
/// PIC or not) and touches an external variable.
pub const PROBE_SOURCE: &str = "extern void distsetup_probe_ext(void);\n\
extern int distsetup_probe_var;\n\
void *distsetup_probe_addr(void) { return (void *)distsetup_probe_ext; }\n\
int distsetup_probe_read(void) { return distsetup_probe_var; }\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcc_major_from_idents() {
        assert_eq!(gcc_major("GCC: (Debian 12.2.0-14) 12.2.0"), Some(12));
        assert_eq!(gcc_major("GCC: (GNU) 14.2.1 20240910"), Some(14));
        assert_eq!(gcc_major("clang version 17"), None);
    }

    #[test]
    fn garbage_is_not_an_object() {
        let f = inspect(b"not an elf");
        assert_eq!(f.machine, None);
        let mut fake = b"\x7fELF\x02\x01\x01".to_vec();
        fake.resize(80, 0xff);
        let f = inspect(&fake);
        assert_eq!(f.ident, None);
    }
}
