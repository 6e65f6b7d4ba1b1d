//! Quoting: how a value is written in the file, and rendering new values for a dialect.

use super::invalid;
use crate::shconf::lexer;
use crate::shconf::{Dialect, Error};

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
    let single = |v: &[u8]| [&b"'"[..], v, b"'"].concat();
    let shell_special = |b: &u8| matches!(b, b'\\' | b'"' | b'$' | b'`');
    match style {
        Style::Bare if bare_safe(value, b"") => return Ok(value.to_vec()),
        Style::Single if !value.contains(&b'\'') => return Ok(single(value)),
        _ => {}
    }
    if dialect == Dialect::Portage && value.iter().any(shell_special) {
        if value.contains(&b'\'') {
            return Err(invalid(
                "portage cannot take a value with both a single quote and one of \\ \" $ `",
            ));
        }
        return Ok(single(value));
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
