//! The volunteer role: the CLI against temp roots, and end to end with real distcc.

mod cli;
mod e2e;
mod install;
mod ports;
mod service_user;
mod system_daemon;
mod toolchain_errors;
