//! Distro profiles: the loader, and the profiles against the shared corpus.

mod corpus;
mod loader;
