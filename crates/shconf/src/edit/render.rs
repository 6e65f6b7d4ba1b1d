//! Quoting: how a value is written in the file, and rendering new values for a dialect.

use super::invalid;
use crate::lexer;
use crate::{Dialect, Error};

/// How a value is quoted in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
    Bare,
    Single,
    Double,
    Empty,
    Mixed,
}

pub(super) fn style_of(raw: &[u8]) -> Style {
    let single_segment = |q: u8| {
        raw.len() >= 2
            && raw[0] == q
            && raw[raw.len() - 1] == q
            && lexer::tokenize(raw).len() == 1
            && !raw[1..raw.len() - 1].contains(&q)
    };
    if raw.is_empty() {
        Style::Empty
    } else if single_segment(b'\'') {
        Style::Single
    } else if raw[0] == b'"' && raw[raw.len() - 1] == b'"' && double_body_closed_only_at_end(raw) {
        Style::Double
    } else if !raw
        .iter()
        .any(|b| matches!(b, b'\'' | b'"' | b'\\' | b'$' | b'`'))
    {
        Style::Bare
    } else {
        Style::Mixed
    }
}

/// True when a `"…"` value has no unescaped `"` before its last byte.
fn double_body_closed_only_at_end(raw: &[u8]) -> bool {
    let mut i = 1;
    while i < raw.len() - 1 {
        match raw[i] {
            b'\\' => i += 2,
            b'"' => return false,
            _ => i += 1,
        }
    }
    i == raw.len() - 1
}

fn bare_safe(v: &[u8], extra: &[u8]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,^".contains(b) || extra.contains(b))
}

/// Quote `value` for the dialect, preferring `style`.
pub(super) fn render_scalar(
    value: &[u8],
    style: Style,
    dialect: Dialect,
) -> Result<Vec<u8>, Error> {
    if value.contains(&0) {
        return Err(invalid("a value cannot contain a NUL byte"));
    }
    if value.contains(&b'\n') && dialect != Dialect::Bash {
        return Err(invalid(match dialect {
            Dialect::Portage => "portage turns newlines in values into spaces: write one line",
            _ => "a systemd EnvironmentFile value cannot hold a newline",
        }));
    }
    if dialect == Dialect::Portage {
        return render_portage(value, style);
    }
    let single = |v: &[u8]| [&b"'"[..], v, b"'"].concat();
    let shell_special = |b: &u8| matches!(b, b'\\' | b'"' | b'$' | b'`');
    match style {
        Style::Bare if bare_safe(value, b"") => return Ok(value.to_vec()),
        Style::Single if !value.contains(&b'\'') => return Ok(single(value)),
        _ => {}
    }
    let mut out = vec![b'"'];
    for &b in value {
        let escape = match dialect {
            Dialect::EnvironmentFile => matches!(b, b'\\' | b'"'),
            _ => shell_special(&b),
        };
        if escape {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
    Ok(out)
}

pub(super) fn render_element(value: &[u8], old: Option<&[u8]>) -> Result<Vec<u8>, Error> {
    if value.contains(&0) || value.contains(&b'\n') {
        return Err(invalid(
            "an array element cannot contain a NUL byte or a newline",
        ));
    }
    let style = old.map_or(Style::Bare, style_of);
    match style {
        Style::Double => render_scalar(value, Style::Double, Dialect::Bash),
        Style::Single if !value.contains(&b'\'') => {
            render_scalar(value, Style::Single, Dialect::Bash)
        }
        _ if bare_safe(value, b"!") => Ok(value.to_vec()),
        _ => render_scalar(value, Style::Single, Dialect::Bash),
    }
}

pub(super) fn render_array(values: &[String]) -> Result<Vec<u8>, Error> {
    let mut out = vec![b'('];
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend(render_element(v.as_bytes(), None)?);
    }
    out.push(b')');
    Ok(out)
}

/// make.conf is read by Portage and, in practice, by people and tools who source it with
/// bash: write the value so that both read exactly `value`. Portage expands `$` even in
/// single quotes and keeps `\$` inside double quotes for its own expansion, so double
/// quotes with `\$`, `\\`, `\"` escaped are the usual answer; every candidate is read
/// back by both models before it is taken.
fn render_portage(value: &[u8], style: Style) -> Result<Vec<u8>, Error> {
    let mut double = vec![b'"'];
    for &b in value {
        if matches!(b, b'\\' | b'"' | b'$' | b'`') {
            double.push(b'\\');
        }
        double.push(b);
    }
    double.push(b'"');
    let single = [&b"'"[..], value, b"'"].concat();
    let mut candidates = Vec::new();
    match style {
        Style::Bare if portage_bare_safe(value) => candidates.push(value.to_vec()),
        Style::Single => candidates.push(single.clone()),
        _ => {}
    }
    candidates.push(double);
    candidates.push(single);
    candidates
        .into_iter()
        .find(|c| both_read(c, value))
        .ok_or_else(|| {
            invalid(format!(
                "{:?} cannot be written so that Portage and bash both read it as given \
                 (Portage expands $ inside single quotes and treats a quote inside a value \
                 as a switch); write it by hand",
                String::from_utf8_lossy(value)
            ))
        })
}

/// Characters Portage's tokenizer keeps in one word and bash takes literally.
fn portage_bare_safe(v: &[u8]) -> bool {
    !v.is_empty()
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+,".contains(b))
}

/// Whether `NAME=<raw>` reads as `value` for Portage and for bash.
fn both_read(raw: &[u8], value: &[u8]) -> bool {
    let line = [&b"X="[..], raw, b"\n"].concat();
    let portage = crate::portage::read_alone(&line)
        .ok()
        .and_then(|r| r.vars().remove("X"));
    let bash = crate::value::eval_word(
        raw,
        crate::value::Context::Scalar,
        &Default::default(),
        crate::value::Expansion::Shell,
    );
    portage.as_deref().map(str::as_bytes) == Some(value) && bash.as_deref() == Ok(value)
}
