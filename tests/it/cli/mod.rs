//! `distsetup` subcommands driven as a user would: generated assets, `edit`.

mod assets;
mod contract;
mod edit;
mod edit_doc;
mod frictions;
mod man;
mod packaging;
mod readme;
