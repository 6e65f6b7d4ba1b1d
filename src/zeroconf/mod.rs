//! Zero-configuration discovery (DNS-SD over mDNS, through Avahi), as the stock distcc
//! client does it with `DISTCC_HOSTS=+zeroconf`: it browses
//! `_<machine>--<version>._sub._distcc._tcp` for its `cc -dumpmachine`/`-dumpversion`
//! ([`naming`]), reads `cpus=`/`jobs=` from the TXT record and uses `ADDRESS:PORT/JOBS`.
//!
//! A volunteer advertises through an Avahi static service file ([`service_file`]): one per
//! toolchain, with one subtype for every master name it answers × both ways gcc prints its
//! version, and TXT `cpus`, `jobs`, `cc_machine`, `cc_version` (as distccd's own
//! `--zeroconf` writes them) plus distsetup's `masters=` and `versions=` lists, which let a
//! master tell a near miss (its machine, another version) from a stranger.
//!
//! A master takes a [`Survey`]: one browse of everything and of its own subtype
//! ([`browse`]). It is a snapshot: volunteers come and go, the client follows them live.

pub mod browse;
pub mod naming;
pub mod service_file;
mod survey;

pub use browse::{BrowseError, FieldError, Found};
pub use service_file::{RenderError, ServiceFile};
pub use survey::{
    CompilerId, Kind, Survey, Volunteer, avahi_advice, classify, client_has_zeroconf, compiler_id,
    txt_list,
};
