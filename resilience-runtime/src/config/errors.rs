//! What is wrong with a config document: every problem, each with where it is.

use std::fmt;

/// One problem of a config document: where it is (a path into the document, such as
/// `circuit_breaker.instances.payments.failure_threshold`, or the name of an environment
/// variable) and what is wrong.
///
/// ```
/// use resilience::config::Document;
/// use resilience::Registry;
///
/// let document = Document::from_toml("[bulkhead.instances.nowhere]\nmax_concurrent = 4").unwrap();
/// let errors = Registry::new().apply(&document).unwrap_err();
/// let error = errors.iter().next().unwrap();
/// assert_eq!(error.path, "bulkhead.instances.nowhere");
/// assert_eq!(error.message, "no bulkhead named `nowhere` is declared");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentError {
    /// Where the problem is.
    pub path: String,
    /// What is wrong, and what is accepted.
    pub message: String,
}

impl DocumentError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// `path: message`.
///
/// ```
/// # use resilience::config::Document;
/// let errors = resilience::Registry::new().apply(&Document::from_toml("[retri]").unwrap()).unwrap_err();
/// assert_eq!(errors.iter().next().unwrap().to_string(), "retri: unknown kind `retri`; did you mean `retry`?");
/// ```
impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for DocumentError {}

/// Every problem of a config document, found together, sorted by path; a document
/// with any problem changes nothing.
///
/// ```
/// use resilience::config::Document;
/// let errors = Document::from_toml("[retry").unwrap_err();
/// assert_eq!(errors.len(), 1);
/// assert!(errors.to_string().starts_with("TOML: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentErrors(Vec<DocumentError>);

impl DocumentErrors {
    pub(crate) fn new(errors: Vec<DocumentError>) -> Self {
        Self(errors)
    }

    /// The problems, sorted by path.
    ///
    /// ```
    /// # use resilience::config::Document;
    /// let errors = resilience::Registry::new().apply(&Document::from_toml("[retri]\n[bulkhed]").unwrap()).unwrap_err();
    /// let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    /// assert_eq!(paths, ["bulkhed", "retri"]);
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, DocumentError> {
        self.0.iter()
    }

    /// How many problems there are: at least one.
    ///
    /// ```
    /// # use resilience::config::Document;
    /// assert_eq!(Document::from_toml("= 1").unwrap_err().len(), 1);
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// One problem a line.
///
/// ```
/// # use resilience::config::Document;
/// let errors = resilience::Registry::new().apply(&Document::from_toml("[retri]\n[bulkhed]").unwrap()).unwrap_err();
/// assert_eq!(errors.to_string().lines().count(), 2);
/// ```
impl fmt::Display for DocumentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DocumentErrors {}

impl<'a> IntoIterator for &'a DocumentErrors {
    type Item = &'a DocumentError;
    type IntoIter = std::slice::Iter<'a, DocumentError>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
