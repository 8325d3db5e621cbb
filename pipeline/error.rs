//! The one place where a failure becomes a message for a person and an exit
//! code: 2 for what the user can fix (input, flags, configuration), 3 for a
//! snapshot the gate held (nothing wrong with reestr or the command: the data
//! looks suspicious), 130 for a command stopped on request (SIGTERM or
//! SIGINT), 1 for everything else.
//! Each layer has its own error type; this maps them, and no layer imports it.

use std::error::Error as _;

use thiserror::Error;

use crate::compute::ComputeError;
use crate::generate::GenerateError;
use crate::ingest::IngestError;
use crate::nightly::{JobError, NightlyError};
use crate::publish::PublishError;
use crate::stop::Stopped;
use crate::warehouse::WarehouseError;

pub use crate::stop::EXIT_STOPPED;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Generate(#[from] GenerateError),
    #[error(transparent)]
    Compute(#[from] ComputeError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error(transparent)]
    Nightly(#[from] NightlyError),
    #[error("cannot start: {0}")]
    Runtime(String),
    #[error("cannot write the result: {0}")]
    Output(std::io::Error),
}

pub const EXIT_INTERNAL: u8 = 1;
pub const EXIT_USER: u8 = 2;
pub const EXIT_HELD: u8 = 3;

impl From<JobError> for Error {
    fn from(e: JobError) -> Error {
        Error::Nightly(NightlyError::Job(e))
    }
}

impl From<Stopped> for Error {
    fn from(e: Stopped) -> Error {
        Error::from(JobError::Stopped(e))
    }
}

impl Error {
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Ingest(e) => e.is_user_error(),
            Error::Warehouse(e) => e.is_user_error(),
            Error::Generate(e) => matches!(e, GenerateError::BadScale(_)),
            Error::Compute(e) => e.is_user_error(),
            Error::Publish(e) => e.is_user_error(),
            Error::Nightly(e) => e.is_user_error(),
            Error::Runtime(_) | Error::Output(_) => false,
        }
    }

    /// Whether the command ended because a stop was asked for.
    pub fn is_stop(&self) -> bool {
        match self {
            Error::Ingest(IngestError::Stopped) => true,
            Error::Nightly(e) => e.is_stop(),
            _ => false,
        }
    }

    /// Whether the command ended with a snapshot held by the gate.
    pub fn is_held(&self) -> bool {
        matches!(self, Error::Nightly(e) if e.is_held())
    }

    pub fn exit_code(&self) -> u8 {
        if self.is_stop() {
            EXIT_STOPPED
        } else if self.is_held() {
            EXIT_HELD
        } else if self.is_user_error() {
            EXIT_USER
        } else {
            EXIT_INTERNAL
        }
    }

    /// One sentence for a user error or a stop; for an internal one, its
    /// causes and what to do about it.
    pub fn render(&self) -> String {
        if self.is_user_error() || self.is_stop() || self.is_held() {
            return format!("error: {self}");
        }
        let mut text = format!("error: {self}");
        let mut cause = self.source();
        while let Some(c) = cause {
            let line = c.to_string();
            if !text.contains(&line) {
                text.push_str(&format!("\n  caused by: {line}"));
            }
            cause = c.source();
        }
        text.push_str(
            "\nThis is not a problem with the input. Published files are whole: either the last good ones or, \
             if the failure came while committing, ones the next run completes. Check the disk or storage and \
             rerun with -v.",
        );
        text
    }
}
