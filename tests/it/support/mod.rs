//! Helpers shared by the test modules.

pub mod server;
pub mod volunteer;
pub mod wire;
