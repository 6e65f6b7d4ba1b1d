//! The one line an error is printed as: each cause once (library errors often repeat
//! their source in their own text), OS errors without the internal temporary file
//! tempfile names, and a hint to use sudo when permission was denied to a non-root user.

/// An I/O error as the user needs it: the OS's words, not the temporary file's path.
fn io_text(e: &std::io::Error) -> String {
    if let Some(n) = e.raw_os_error() {
        return std::io::Error::from_raw_os_error(n).to_string();
    }
    // tempfile wraps the OS error as "ERROR at path \"/dir/.distsetup-XXXX\"": the
    // temporary file is ours, not something the user can act on.
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((head, _)) if e.get_ref().is_some() => head.to_string(),
        _ => text,
    }
}

/// The text of one cause of the chain.
fn cause_text(cause: &(dyn std::error::Error + 'static)) -> String {
    if let Some(distsetup::plan::Error::Io { path, source }) = cause.downcast_ref() {
        return format!("{}: {}", path.display(), io_text(source));
    }
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        return io_text(io);
    }
    cause.to_string()
}

fn permission_denied(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::PermissionDenied)
            || matches!(
                c.downcast_ref::<distsetup::plan::Error>(),
                Some(distsetup::plan::Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::PermissionDenied
            )
    })
}

/// `err` as printed after `distsetup: error: `.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause_text(cause);
        if text.is_empty() || parts.iter().any(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    let mut out = parts.join(": ");
    // SAFETY: geteuid has no preconditions.
    if permission_denied(err) && unsafe { libc::geteuid() } != 0 {
        out.push_str("\n  (not running as root: run the same command with sudo)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_repeated_by_its_error_is_said_once() {
        let e = anyhow::Error::new(distsetup::plan::Error::Io {
            path: "/etc/makepkg.conf".into(),
            source: std::io::Error::from_raw_os_error(libc::EACCES),
        });
        let text = error_text(&e);
        assert!(
            text.starts_with("/etc/makepkg.conf: Permission denied (os error 13)"),
            "{text}"
        );
        assert_eq!(text.matches("os error 13").count(), 1, "{text}");
    }

    /// What tempfile returns when the temporary file cannot be created.
    #[test]
    fn the_temporary_files_name_is_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let source = tempfile::Builder::new()
            .prefix(".distsetup-")
            .tempfile_in(&missing)
            .unwrap_err();
        assert!(source.to_string().contains(".distsetup-"), "{source}");
        let e = anyhow::Error::new(distsetup::plan::Error::Io {
            path: "/etc/makepkg.conf".into(),
            source,
        });
        let text = error_text(&e);
        assert!(!text.contains(".distsetup-"), "{text}");
        assert_eq!(text.matches("No such file").count(), 1, "{text}");
    }
}
