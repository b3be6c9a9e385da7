use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::Path;

use super::{
    boolean, choice, count, duration, function, number, positive_duration, unknown, value, Arg,
    Common, Errors, Fields,
};

pub(crate) const ACCEPTED: &[&str] = &[
    "name",
    "max_attempts",
    "base_delay",
    "max_delay",
    "exponential_base",
    "backoff",
    "jitter",
    "retry_if",
    "max_elapsed",
    "retry_after",
    "crate",
];
const BACKOFFS: &[(&str, &str)] = &[
    ("exponential", "Exponential"),
    ("linear", "Linear"),
    ("constant", "Constant"),
];
const JITTERS: &[(&str, &str)] = &[("full", "Full"), ("equal", "Equal"), ("none", "None")];

/// The runtime's default delays, to check `max_delay >= base_delay` when only one is given.
const DEFAULT_BASE_DELAY: u128 = 1_000_000_000;
const DEFAULT_MAX_DELAY: u128 = 60_000_000_000;

#[derive(Default)]
pub(crate) struct RetryArgs {
    pub(crate) common: Common,
    max_attempts: Arg<u32>,
    base_delay: Arg<u128>,
    max_delay: Arg<u128>,
    exponential_base: Arg<f64>,
    backoff: Arg<&'static str>,
    jitter: Arg<&'static str>,
    pub(crate) retry_if: Arg<Path>,
    max_elapsed: Arg<u128>,
    pub(crate) retry_after: Arg<Path>,
}

pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> syn::Result<RetryArgs> {
    let mut out = RetryArgs::default();
    syn::meta::parser(|meta| {
        let key = &meta.path;
        if key.is_ident("max_attempts") {
            let n = value(&meta, errors)?.and_then(|v| count(&v, "max_attempts", errors));
            out.max_attempts.set(key, n, errors);
        } else if key.is_ident("base_delay") {
            let d = value(&meta, errors)?.and_then(|v| duration(&v, errors));
            out.base_delay.set(key, d, errors);
        } else if key.is_ident("max_delay") {
            let d = value(&meta, errors)?.and_then(|v| duration(&v, errors));
            out.max_delay.set(key, d, errors);
        } else if key.is_ident("exponential_base") {
            let f = value(&meta, errors)?.and_then(|v| match number(&v) {
                Some(f) if f.is_finite() && f >= 1.0 => Some(f),
                _ => {
                    errors.push(
                        &v,
                        "`exponential_base` must be a number of at least 1.0, such as `2.0`",
                    );
                    None
                }
            });
            out.exponential_base.set(key, f, errors);
        } else if key.is_ident("backoff") {
            let b = value(&meta, errors)?.and_then(|v| choice(&v, "backoff", BACKOFFS, errors));
            out.backoff.set(key, b, errors);
        } else if key.is_ident("jitter") {
            let j = value(&meta, errors)?.and_then(|v| match boolean(&v) {
                Some(true) => Some("Full"),
                Some(false) => Some("None"),
                None => choice(&v, "jitter", JITTERS, errors),
            });
            out.jitter.set(key, j, errors);
        } else if key.is_ident("retry_if") {
            let f = value(&meta, errors)?.and_then(|v| function(&v, "retry_if", errors));
            out.retry_if.set(key, f, errors);
        } else if key.is_ident("max_elapsed") {
            let d =
                value(&meta, errors)?.and_then(|v| positive_duration(&v, "`max_elapsed`", errors));
            out.max_elapsed.set(key, d, errors);
        } else if key.is_ident("retry_after") {
            let f = value(&meta, errors)?.and_then(|v| function(&v, "retry_after", errors));
            out.retry_after.set(key, f, errors);
        } else if !out.common.parse(&meta, errors)? {
            unknown("retry", &meta, ACCEPTED, errors);
            super::skip_value(&meta)?;
        }
        Ok(())
    })
    .parse2(args)?;
    out.validate(errors);
    Ok(out)
}

impl RetryArgs {
    fn validate(&self, errors: &mut Errors) {
        let base = self.base_delay.value.unwrap_or(DEFAULT_BASE_DELAY);
        let max = self.max_delay.value.unwrap_or(DEFAULT_MAX_DELAY);
        if max >= base {
            return;
        }
        // Point at the key that was written; the defaults alone (1s, 60s) never conflict.
        match (self.max_delay.key(), self.base_delay.key()) {
            (Some(key), _) => errors.push(key, "`max_delay` must not be shorter than `base_delay`"),
            (None, Some(key)) => errors.push(
                key,
                "`base_delay` must not be longer than `max_delay` (60s by default)",
            ),
            (None, None) => {}
        }
    }

    /// `field: value` for each argument given; the rest come from the config's `DEFAULT`.
    pub(crate) fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        Fields::new(krate)
            .value("max_attempts", self.max_attempts.value)
            .duration("base_delay", self.base_delay.value)
            .duration("max_delay", self.max_delay.value)
            .value("exponential_base", self.exponential_base.value)
            .variant("backoff", "Backoff", self.backoff.value)
            .variant("jitter", "Jitter", self.jitter.value)
            .some_duration("max_elapsed", self.max_elapsed.value)
            .finish()
    }
}
