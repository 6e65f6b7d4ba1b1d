//! Zero-configuration discovery: the names, the Avahi service file, avahi-browse's
//! parsable output (unit level), `volunteer --zeroconf` and `master --hosts +zeroconf` on
//! a root, and the 3-node namespace cluster where the stock distcc client finds a cross
//! volunteer by itself.

mod cli;
mod cluster;
mod unit;
