//! Portage's own parser (`portage.util.getconfig`, installed by `scripts/install-deps`)
//! as the oracle for everything distsetup reads from and writes to make.conf.

mod cases;
mod emulator;
mod incremental;
mod oracle;

use std::path::{Path, PathBuf};

/// Every make.conf the oracle reads: the corpus's, then our fixtures'.
fn make_conf_inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(c) = crate::support::corpus() {
        out.extend(crate::support::sorted_files(&c.join("make.conf")));
    }
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    out.extend(crate::support::sorted_files(
        &fixtures.join("master/make.conf"),
    ));
    out.push(fixtures.join("shconf/gentoo-make.conf"));
    out
}
