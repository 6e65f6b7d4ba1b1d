//! The one prompt trait: every question distsetup asks (the plan's "apply?", undo's
//! "restore?", the wizard's flow) goes through [`Ask`]. The terminal implementation
//! (dialoguer) lives in the binary's command layer; [`Script`] answers in tests.

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
    /// Type a line again, starting from `typed` (an earlier answer to correct), checked by
    /// `validate`. Scripts give a whole new answer.
    fn input_again(
        &mut self,
        prompt: &str,
        typed: &str,
        validate: Validate,
    ) -> std::io::Result<String> {
        let _ = typed;
        self.input(prompt, "", validate)
    }
    /// Yes or no.
    fn confirm(&mut self, prompt: &str, default: bool) -> std::io::Result<bool>;
    /// Tell the user something between questions (a finding, a proposal).
    fn say(&mut self, line: &str) -> std::io::Result<()>;
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
    /// What was said between questions, in order.
    pub said: Vec<String>,
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

    fn say(&mut self, line: &str) -> std::io::Result<()> {
        self.said.push(line.to_string());
        Ok(())
    }
}
