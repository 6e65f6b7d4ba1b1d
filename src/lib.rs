//! distsetup: turns a pile of machines into a working distcc build cluster.
//!
//! The binary (`src/main.rs`, `src/cli.rs`) is thin: it parses arguments, resolves them
//! into the typed settings of the modules below and maps errors to exit codes.
//!
//! Rooms have doors:
//! - [`shconf`] and [`wire`] know nothing about files, sockets or distros;
//! - [`hostspec`] is the DISTCC_HOSTS grammar, pure;
//! - only [`plan`] writes to disk; only [`server`] opens sockets.
pub mod allow;
pub mod child;
pub mod cores;
pub mod doctor;
pub mod edit;
pub mod hostspec;
pub mod loadorder;
pub mod master;
pub mod passwd;
pub mod profile;
pub mod prompt;
pub mod toolchain;
pub mod triple;
pub mod volunteer;
pub mod wizard;
pub mod zeroconf;

// The leaves are crates of their own (crates/): the compiler keeps their doors shut.
pub use distcc_wire as wire;
pub use distsetup_link as link;
pub use distsetup_plan as plan;
pub use distsetup_relay as relay;
pub use distsetup_server as server;
pub use distsetup_shconf as shconf;
