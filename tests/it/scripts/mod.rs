//! The shell scripts the tests and benchmarks stand on clean up after themselves.
mod cluster;
mod install_deps;
