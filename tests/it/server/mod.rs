//! `distsetup serve` against hostile peers, the real distcc client, IPv6 and Lua.

mod buildsys;
mod confined;
mod distcc_suite;
mod distccd_cli;
mod hostile;
mod interop;
mod ipv6;
mod limits;
mod lua;
mod lzo_oracle;
mod memory;
mod oracle;
mod payloads;
