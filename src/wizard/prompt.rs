//! The questions the wizard asks, behind a trait: dialoguer on a terminal, a script in
//! tests.

use std::collections::VecDeque;

/// A validator for typed answers: `Err(message)` re-asks with the message.
pub type Validate<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// Asks the user.
pub trait Ask {
    /// Pick one of `items`; returns its index.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> std::io::Result<usize>;
    /// Type a line, checked by `validate` (asked again until it passes).
    fn input(&mut self, prompt: &str, default: &str, validate: Validate)
    -> std::io::Result<String>;
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<bool>;
}

fn io(e: dialoguer::Error) -> std::io::Error {
    let dialoguer::Error::IO(e) = e;
    e
}

/// The terminal implementation.
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
}

/// One scripted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Pick the item whose text contains this.
    Pick(String),
    /// Take the default (select, input or confirm).
    Default,
    /// Type this.
    Text(String),
    /// Say yes or no.
    Yes(bool),
}

/// Answers from a list, for tests; records every prompt and every validation message.
#[derive(Debug, Default)]
pub struct Script {
    answers: VecDeque<Answer>,
    /// The prompts, in order.
    pub prompts: Vec<String>,
    /// Messages of answers the validator refused.
    pub refused: Vec<String>,
}

impl Script {
    /// A script giving `answers` in order.
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Script {
        Script {
            answers: answers.into_iter().collect(),
            ..Script::default()
        }
    }

    fn next(&mut self, prompt: &str) -> std::io::Result<Answer> {
        self.prompts.push(prompt.to_string());
        self.answers.pop_front().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("no scripted answer for {prompt:?}"),
            )
        })
    }
}

impl Ask for Script {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> std::io::Result<usize> {
        match self.next(prompt)? {
            Answer::Default => Ok(default),
            Answer::Pick(p) => items.iter().position(|i| i.contains(&p)).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{p:?} is not among {items:?}"),
                )
            }),
            other => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{other:?} for a selection"),
            )),
        }
    }

    fn input(
        &mut self,
        prompt: &str,
        default: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        loop {
            let text = match self.next(prompt)? {
                Answer::Default => default.to_string(),
                Answer::Text(t) => t,
                other => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("{other:?} for an input"),
                    ));
                }
            };
            match validate(&text) {
                Ok(()) => return Ok(text),
                Err(m) => self.refused.push(m),
            }
        }
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<bool> {
        match self.next(prompt)? {
            Answer::Default => Ok(default),
            Answer::Yes(y) => Ok(y),
            other => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{other:?} for a confirmation"),
            )),
        }
    }
}

/// The plan's yes/no question asked through the wizard's [`Ask`].
pub struct Confirm<'a>(pub &'a mut dyn Ask);

impl crate::plan::Prompter for Confirm<'_> {
    fn confirm(&mut self, question: &str) -> std::io::Result<bool> {
        self.0.confirm(question, false)
    }
}
