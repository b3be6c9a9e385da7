//! What can go wrong when connecting or sharing a name.

use std::fmt;

/// Why [`Backend::connect`](crate::Backend::connect) or a `share_*` call failed. Its
/// `Display` and `Debug` never show the password: a message from Redis or the client that
/// contains it is redacted before it is stored.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use resilience::redis::{Backend, ErrorKind};
/// let error = Backend::connect("not a url").await.unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Connect);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// What kind of [`Error`].
///
/// ```
/// use resilience::redis::ErrorKind;
/// assert_ne!(ErrorKind::Connect, ErrorKind::Unknown);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The URL is malformed, Redis is unreachable, it refused our credentials, or TLS
    /// failed (certificates that do not parse, or a server certificate not trusted).
    Connect,
    /// No instance of that name is in the registry.
    Unknown,
    /// The instance cannot be shared: its config is one a shared instance does not
    /// support, or it is shared already.
    Unsupported,
    /// The [`Settings`](crate::Settings) are invalid.
    Settings,
}

impl Error {
    /// What kind of error this is.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # use resilience::redis::{Backend, ErrorKind};
    /// assert_eq!(Backend::connect("").await.unwrap_err().kind(), ErrorKind::Connect);
    /// # }
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A client error, with every occurrence of `secret` replaced.
    pub(crate) fn redacted(
        kind: ErrorKind,
        error: &dyn fmt::Display,
        secret: Option<&str>,
    ) -> Self {
        let message = error.to_string();
        let message = match secret {
            Some(secret) if !secret.is_empty() => message.replace(secret, "***"),
            _ => message,
        };
        Self::new(kind, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
