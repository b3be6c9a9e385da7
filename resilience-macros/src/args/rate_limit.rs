use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;

use super::{
    choice, count, duration, positive_duration, unknown, value, Arg, Common, Errors, Fields,
};

pub(crate) const ACCEPTED: &[&str] = &[
    "name",
    "max_requests",
    "window",
    "algorithm",
    "burst",
    "max_wait",
    "crate",
];
const ALGORITHMS: &[(&str, &str)] = &[
    ("token_bucket", "TokenBucket"),
    ("sliding_window", "SlidingWindow"),
    ("fixed_window", "FixedWindow"),
];

#[derive(Default)]
pub(crate) struct RateLimitArgs {
    pub(crate) common: Common,
    max_requests: Arg<u32>,
    window: Arg<u128>,
    algorithm: Arg<&'static str>,
    burst: Arg<u32>,
    max_wait: Arg<u128>,
}

pub(crate) fn parse(
    args: TokenStream,
    at: Span,
    errors: &mut Errors,
) -> syn::Result<RateLimitArgs> {
    let mut out = RateLimitArgs::default();
    syn::meta::parser(|meta| {
        let key = &meta.path;
        if key.is_ident("max_requests") {
            let n = value(&meta, errors)?.and_then(|v| count(&v, "max_requests", errors));
            out.max_requests.set(key, n, errors);
        } else if key.is_ident("window") {
            let d = value(&meta, errors)?.and_then(|v| positive_duration(&v, "`window`", errors));
            out.window.set(key, d, errors);
        } else if key.is_ident("algorithm") {
            let a = value(&meta, errors)?.and_then(|v| choice(&v, "algorithm", ALGORITHMS, errors));
            out.algorithm.set(key, a, errors);
        } else if key.is_ident("burst") {
            let n = value(&meta, errors)?.and_then(|v| count(&v, "burst", errors));
            out.burst.set(key, n, errors);
        } else if key.is_ident("max_wait") {
            let d = value(&meta, errors)?.and_then(|v| duration(&v, errors));
            out.max_wait.set(key, d, errors);
        } else if !out.common.parse(&meta, errors)? {
            unknown("rate_limit", &meta, ACCEPTED, errors);
            super::skip_value(&meta)?;
        }
        Ok(())
    })
    .parse2(args)?;
    out.validate(at, errors);
    Ok(out)
}

impl RateLimitArgs {
    fn validate(&self, at: Span, errors: &mut Errors) {
        let missing: Vec<&str> = [
            ("max_requests", self.max_requests.is_given()),
            ("window", self.window.is_given()),
        ]
        .into_iter()
        .filter(|(_, given)| !given)
        .map(|(key, _)| key)
        .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(" and ");
            errors.push_at(
                at,
                format_args!("`#[rate_limit]` needs {list}, such as `#[rate_limit(max_requests = 100, window = \"1m\")]`"),
            );
        }
        if let (Some(key), Some(algorithm)) = (self.burst.key(), self.algorithm.value) {
            if algorithm != "TokenBucket" {
                errors.push(key, "`burst` sets the capacity of `algorithm = \"token_bucket\"`; the window algorithms have none");
            }
        }
    }

    /// `field: value` for each argument given; the rest come from the config's `DEFAULT`.
    pub(crate) fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        Fields::new(krate)
            .value("max_requests", self.max_requests.value)
            .duration("window", self.window.value)
            .variant("algorithm", "Algorithm", self.algorithm.value)
            .some("burst", self.burst.value)
            .duration("max_wait", self.max_wait.value)
            .finish()
    }
}
