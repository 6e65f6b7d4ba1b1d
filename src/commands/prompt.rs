//! The terminal side of the one prompt trait ([`distsetup::prompt::Ask`]): dialoguer for
//! questions, standard output for what is said between them.

use std::io::Write as _;

use distsetup::prompt::{Ask, Validate};

fn io(e: dialoguer::Error) -> std::io::Error {
    let dialoguer::Error::IO(e) = e;
    e
}

/// Questions on the terminal.
#[derive(Debug, Default)]
pub struct Terminal;

impl Ask for Terminal {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> std::io::Result<usize> {
        dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(io)
    }

    fn input(
        &mut self,
        prompt: &str,
        default: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        let mut q = dialoguer::Input::<String>::new().with_prompt(prompt);
        if !default.is_empty() {
            q = q.default(default.to_string());
        }
        q.validate_with(|s: &String| validate(s))
            .interact_text()
            .map_err(io)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<bool> {
        dialoguer::Confirm::new()
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(io)
    }

    #[allow(
        clippy::disallowed_methods,
        reason = "the command layer owns the terminal"
    )]
    fn say(&mut self, line: &str) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()
    }
}
