//! Portage's own parser (`portage.util.getconfig`, installed by `scripts/install-deps`)
//! as the oracle for everything distsetup reads from and writes to make.conf.

mod cases;
mod emulator;
mod oracle;
