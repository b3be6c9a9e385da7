use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::Path;

use super::{count, function, positive_duration, unknown, value, Arg, Common, Errors, Fields};

pub(crate) const ACCEPTED: &[&str] = &[
    "name",
    "failure_threshold",
    "success_threshold",
    "recovery_timeout",
    "half_open_max_calls",
    "failure_if",
    "crate",
];

/// The most probes the runtime's half-open state can count.
const MAX_PROBES: u32 = (1 << 10) - 1;

#[derive(Default)]
pub(crate) struct CircuitBreakerArgs {
    pub(crate) common: Common,
    failure_threshold: Arg<u32>,
    success_threshold: Arg<u32>,
    recovery_timeout: Arg<u128>,
    half_open_max_calls: Arg<u32>,
    pub(crate) failure_if: Arg<Path>,
}

pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> syn::Result<CircuitBreakerArgs> {
    let mut out = CircuitBreakerArgs::default();
    syn::meta::parser(|meta| {
        let key = &meta.path;
        if key.is_ident("failure_threshold") {
            let n = value(&meta, errors)?.and_then(|v| count(&v, "failure_threshold", errors));
            out.failure_threshold.set(key, n, errors);
        } else if key.is_ident("success_threshold") || key.is_ident("half_open_max_calls") {
            let name = if key.is_ident("success_threshold") {
                "success_threshold"
            } else {
                "half_open_max_calls"
            };
            let n = value(&meta, errors)?.and_then(|v| {
                let n = count::<u32>(&v, name, errors)?;
                if n > MAX_PROBES {
                    errors.push(&v, format_args!("`{name}` must be at most {MAX_PROBES}"));
                    return None;
                }
                Some(n)
            });
            let arg = if name == "success_threshold" {
                &mut out.success_threshold
            } else {
                &mut out.half_open_max_calls
            };
            arg.set(key, n, errors);
        } else if key.is_ident("recovery_timeout") {
            let d = value(&meta, errors)?
                .and_then(|v| positive_duration(&v, "`recovery_timeout`", errors));
            out.recovery_timeout.set(key, d, errors);
        } else if key.is_ident("failure_if") {
            let f = value(&meta, errors)?.and_then(|v| function(&v, "failure_if", errors));
            out.failure_if.set(key, f, errors);
        } else if !out.common.parse(&meta, errors)? {
            unknown("circuit_breaker", &meta, ACCEPTED, errors);
            super::skip_value(&meta)?;
        }
        Ok(())
    })
    .parse2(args)?;
    Ok(out)
}

impl CircuitBreakerArgs {
    /// `field: value` for each argument given; the rest come from the config's `DEFAULT`.
    pub(crate) fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        Fields::new(krate)
            .value("failure_threshold", self.failure_threshold.value)
            .value("success_threshold", self.success_threshold.value)
            .duration("recovery_timeout", self.recovery_timeout.value)
            .some("half_open_max_calls", self.half_open_max_calls.value)
            .finish()
    }
}
