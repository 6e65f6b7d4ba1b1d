//! The DISTCC_HOSTS grammar.

mod grammar;
mod props;
