//! The commands: each takes a validated plan built by `cli` and does the work, with progress
//! bars and Ctrl-C handling. They return a [`CommandError`] saying what kind of failure it was;
//! only `cli` turns that into an exit code.

pub mod analyze;
pub mod backtest;
pub mod calibrate;
pub mod compare;
pub mod facts;
pub mod init;
pub mod merge;
pub mod plot;
pub mod progress;
pub mod rerun;
pub mod run;
pub mod scenarios;
pub mod slurm;
pub mod sweep;
pub mod validate;

/// How a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The input was bad (a config, a sweep file, an argument); nothing was run.
    #[error("{0}")]
    BadInput(String),
    /// The work itself failed (a run, writing results).
    #[error("{0}")]
    Failed(String),
    /// The user interrupted the command; the message says what was kept.
    #[error("{0}")]
    Interrupted(String),
}

impl CommandError {
    /// A bad-input error from anything printable.
    pub fn input(e: impl std::fmt::Display) -> CommandError {
        CommandError::BadInput(e.to_string())
    }

    /// A failed-work error from anything printable.
    pub fn failed(e: impl std::fmt::Display) -> CommandError {
        CommandError::Failed(e.to_string())
    }
}
