//! Format-preserving shell-assignment documents.

mod corpus;
mod edits;
mod props;
