//! Portage against bash, and an edit against its intent, in what Portage reads: the checks
//! behind every make.conf edit (`master` and `edit`).

use super::portage::Assignment;
use super::{Document, Edit, Scope, Value};

/// The first assignment of `name` that Portage reads from this document's own lines and
/// bash reads otherwise (or not at all): (line, what differs). An edit made through the
/// bash model there would not mean what it says to Portage.
pub fn disagreement<'a>(
    doc: &Document,
    portage: impl IntoIterator<Item = &'a Assignment>,
    name: &str,
) -> Option<(usize, String)> {
    let bash = doc.assignments();
    for p in portage.into_iter().filter(|p| p.name == name) {
        let Some(b) = bash
            .iter()
            .find(|b| b.name == name && b.line == p.line && b.scope == Scope::TopLevel)
        else {
            return Some((
                p.line,
                format!(
                    "Portage reads this line as {name}={:?} but bash does not read it as an \
                     assignment (spaces around `=`?); write it as {name}=\"...\"",
                    p.value
                ),
            ));
        };
        if let Value::Scalar(v) = &b.value {
            let bash_value = String::from_utf8_lossy(v).replace('\n', " ");
            if bash_value != p.value {
                return Some((
                    p.line,
                    format!(
                        "Portage reads {name} here as {:?} but bash as {bash_value:?}, so \
                         Portage will not read this file as intended",
                        p.value
                    ),
                ));
            }
        }
    }
    None
}

fn words(v: Option<&str>) -> Vec<&str> {
    v.map(|v| v.split_whitespace().collect())
        .unwrap_or_default()
}

/// Portage's incremental variables (`portage.const.INCREMENTALS`): the words of each
/// value stack, so `FEATURES="${FEATURES} -distcc"` after a `distcc` means no distcc.
pub const INCREMENTALS: [&str; 12] = [
    "ACCEPT_KEYWORDS",
    "CONFIG_PROTECT",
    "CONFIG_PROTECT_MASK",
    "ENV_UNSET",
    "FEATURES",
    "IUSE_IMPLICIT",
    "PROFILE_ONLY_VARIABLES",
    "USE",
    "USE_EXPAND",
    "USE_EXPAND_HIDDEN",
    "USE_EXPAND_IMPLICIT",
    "USE_EXPAND_UNPREFIXED",
];

/// The words an incremental variable ends with, as Portage stacks `value`: in order,
/// `-*` clears everything before it, `-word` removes `word`, any other word is added once.
pub fn stacked(value: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for w in value.split_whitespace() {
        if w == "-*" {
            out.clear();
        } else if let Some(gone) = w.strip_prefix('-') {
            out.retain(|o| *o != gone);
        } else if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Whether the value Portage reads went from `before` to `after` as `edit` intends: the
/// words as written, and for an incremental variable also what they stack to.
pub fn intended(edit: &Edit, before: Option<&str>, after: Option<&str>) -> bool {
    if INCREMENTALS.contains(&edit.name()) {
        // A word (not a `-word`, which is spelling, not a setting) counts by what the
        // words stack to (`distcc -distcc distcc` is on).
        let word_edit = match edit {
            Edit::Enable { word, .. }
            | Edit::Disable { word, .. }
            | Edit::Add { word, .. }
            | Edit::Remove { word, .. } => !word.starts_with('-'),
            Edit::Set { .. } | Edit::Unset { .. } | Edit::SetArray { .. } => false,
        };
        return if word_edit {
            stacks_as_intended(edit, before, after)
        } else {
            as_written(edit, before, after)
        };
    }
    as_written(edit, before, after)
}

/// A word edit of an incremental variable: the stacked word is there (or gone), and every
/// other stacked word is as before.
fn stacks_as_intended(edit: &Edit, before: Option<&str>, after: Option<&str>) -> bool {
    let (b, a) = (stacked(before.unwrap_or("")), stacked(after.unwrap_or("")));
    let rest = |ws: &[&str], word: &str| -> std::collections::BTreeSet<String> {
        ws.iter()
            .filter(|w| **w != word)
            .map(|w| (*w).to_owned())
            .collect()
    };
    match edit {
        Edit::Enable { word, .. } | Edit::Add { word, .. } => {
            a.contains(&word.as_str()) && rest(&a, word) == rest(&b, word)
        }
        Edit::Disable { word, .. } | Edit::Remove { word, .. } => {
            !a.contains(&word.as_str()) && rest(&a, word) == rest(&b, word)
        }
        Edit::Set { .. } | Edit::Unset { .. } | Edit::SetArray { .. } => {
            as_written(edit, before, after)
        }
    }
}

/// Whether `edit` adds a word that `value` (of an incremental variable) writes and then
/// takes away again (`-word` or `-*` later): editing the words in place cannot undo that,
/// a new `NAME="${NAME} word"` line after them can.
pub fn removed_by_stacking(edit: &Edit, value: Option<&str>) -> bool {
    let (Edit::Enable { name, word } | Edit::Add { name, word }) = edit else {
        return false;
    };
    let value = value.unwrap_or("");
    INCREMENTALS.contains(&name.as_str())
        && value.split_whitespace().any(|w| w == word)
        && !stacked(value).contains(&word.as_str())
}

fn as_written(edit: &Edit, before: Option<&str>, after: Option<&str>) -> bool {
    let (b, a) = (words(before), words(after));
    let without = |ws: &[&str], drop: &[&str]| -> Vec<String> {
        ws.iter()
            .filter(|w| !drop.contains(w))
            .map(|w| w.to_string())
            .collect()
    };
    match edit {
        Edit::Set { value, .. } => after == Some(value.as_str()),
        Edit::Unset { .. } => after.is_none(),
        Edit::SetArray { .. } => false,
        Edit::Enable { word, .. } | Edit::Disable { word, .. } => {
            let neg = format!("-{word}");
            let (on, off) = match edit {
                Edit::Enable { .. } => (word.as_str(), neg.as_str()),
                _ => (neg.as_str(), word.as_str()),
            };
            let both = [word.as_str(), neg.as_str()];
            a.contains(&on) && !a.contains(&off) && without(&a, &both) == without(&b, &both)
        }
        Edit::Add { word, .. } => {
            a.contains(&word.as_str()) && without(&a, &[word]) == without(&b, &[word])
        }
        Edit::Remove { word, .. } => !a.contains(&word.as_str()) && a == without(&b, &[word]),
    }
}
