//! The distcc protocol codec: captures, hostile input, interop and properties.

mod captures;
mod hostile;
mod interop;
mod props;
