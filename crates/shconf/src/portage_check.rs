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

/// Whether the value Portage reads went from `before` to `after` as `edit` intends.
pub fn intended(edit: &Edit, before: Option<&str>, after: Option<&str>) -> bool {
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
