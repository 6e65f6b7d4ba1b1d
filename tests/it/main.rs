//! The one integration-test binary: every area is a module, so the library and the
//! binary are linked once instead of once per test file.
//!
//! Test code builds fixtures on disk, starts servers, prints what it saw and unwraps:
//! the workspace's doors (Cargo.toml `[workspace.lints]`, clippy.toml) are for the product.
#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::disallowed_methods,
    clippy::exit,
    clippy::undocumented_unsafe_blocks
)]

mod cli;
mod cores;
mod doctor;
mod doctor_agrees;
mod doctor_profile;
mod faults;
mod hostspec;
mod master;
mod plan;
mod portage;
mod profile;
mod scripts;
mod server;
mod shconf;
mod structure;
mod support;
mod toolchain;
mod volunteer;
mod wire;
mod wizard;
mod zeroconf;
