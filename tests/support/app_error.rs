//! The application error of the events' tests: a failure numbered by its attempt, or a
//! rejection by a policy, written as a user's error would be.

use std::fmt;

use resilience::Error;

#[derive(Debug)]
pub enum AppError {
    Down(u32),
    Rejected(Error),
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Down(n) => write!(f, "down {n}"),
            AppError::Rejected(rejection) => write!(f, "{rejection}"),
        }
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Rejected(error)
    }
}

resilience::as_rejection!(AppError::Rejected);
