//! The master role: the library plan, the CLI, a real makepkg run, and bash as oracle.

mod ccache;
mod cli;
mod makepkg;
mod oracle;
mod planning;
