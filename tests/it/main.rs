//! The one integration-test binary: every area is a module, so the library and the
//! binary are linked once instead of once per test file.

mod cli;
mod cores;
mod doctor;
mod doctor_agrees;
mod faults;
mod hostspec;
mod master;
mod plan;
mod portage;
mod profile;
mod server;
mod shconf;
mod structure;
mod support;
mod toolchain;
mod volunteer;
mod wire;
mod wizard;
mod zeroconf;
