//! The error accumulator, and "did you mean".

use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

/// Every mistake found so far, so one build reports all of them.
pub(crate) struct Errors {
    errors: Option<syn::Error>,
    count: usize,
    finished: bool,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Self {
            errors: None,
            count: 0,
            finished: false,
        }
    }

    pub(crate) fn push(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.add(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn push_at(&mut self, span: Span, message: impl Display) {
        self.add(syn::Error::new(span, message));
    }

    /// How many mistakes so far.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    pub(crate) fn add(&mut self, error: syn::Error) {
        self.count += 1;
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// All the errors as one, or `Ok` when there were none.
    pub(crate) fn finish(mut self) -> Result<(), syn::Error> {
        self.finished = true;
        self.errors.take().map_or(Ok(()), Err)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        // As serde's `Ctxt`: forgetting to report is a bug in this crate, not in the input.
        if !self.finished && !std::thread::panicking() {
            panic!("resilience-macros: errors dropped without being reported");
        }
    }
}

/// The accepted word closest to `word` by edit distance, when it is close enough to be a
/// typo, or the one `word` abbreviates.
pub(crate) fn nearest<'a>(word: &str, accepted: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    if word.len() >= 3 {
        if let Some(longer) = accepted
            .iter()
            .find(|candidate| candidate.starts_with(&word))
        {
            return Some(longer);
        }
    }
    accepted
        .iter()
        .map(|candidate| (distance(&word, candidate), *candidate))
        .filter(|(d, candidate)| *d <= (candidate.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, with a transposition counted as one edit.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let accepted = ["max_attempts", "base_delay", "max_delay", "name"];
        assert_eq!(nearest("max_attempt", &accepted), Some("max_attempts"));
        assert_eq!(nearest("base_dealy", &accepted), Some("base_delay"));
        assert_eq!(nearest("nmae", &accepted), Some("name"));
        assert_eq!(nearest("fallback", &accepted), None);
        assert_eq!(
            nearest("sliding", &["token_bucket", "sliding_window"]),
            Some("sliding_window")
        );
    }
}
