//! `#[timeout]` takes its duration positionally (`#[timeout("5s")]`), which `syn::meta`
//! refuses, so the first argument is read by hand and the rest as `key = value`.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::Expr;

use super::{positive_duration, unknown, value, Arg, Common, Errors, Fields};

pub(crate) const ACCEPTED: &[&str] = &["duration", "name", "crate"];

#[derive(Default)]
pub(crate) struct TimeoutArgs {
    pub(crate) common: Common,
    duration: Arg<u128>,
}

pub(crate) fn parse(args: TokenStream, at: Span, errors: &mut Errors) -> syn::Result<TimeoutArgs> {
    let mut out = TimeoutArgs::default();
    let parser = |input: ParseStream| {
        // A positional duration is anything but `key = ...`.
        let keyed =
            input.peek(<syn::Ident as syn::ext::IdentExt>::peek_any) && input.peek2(syn::Token![=]);
        if !input.is_empty() && !keyed {
            let expr: Expr = input.parse()?;
            let d = positive_duration(&expr, "a timeout", errors);
            let key: syn::Path = syn::Ident::new("duration", Span::call_site()).into();
            out.duration.set(&key, d, errors);
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        let rest: TokenStream = input.parse()?;
        syn::meta::parser(|meta| {
            if meta.path.is_ident("duration") {
                let d =
                    value(&meta, errors)?.and_then(|v| positive_duration(&v, "a timeout", errors));
                out.duration.set(&meta.path, d, errors);
            } else if !out.common.parse(&meta, errors)? {
                unknown("timeout", &meta, ACCEPTED, errors);
                super::skip_value(&meta)?;
            }
            Ok(())
        })
        .parse2(rest)
    };
    parser.parse2(args)?;
    if !out.duration.is_given() {
        errors.push_at(at, "`#[timeout]` needs a duration: `#[timeout(\"5s\")]` or `#[timeout(duration = \"5s\")]`");
    }
    Ok(out)
}

impl TimeoutArgs {
    /// `field: value`: the duration, the config's only field.
    pub(crate) fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        Fields::new(krate)
            .duration("duration", self.duration.value)
            .finish()
    }
}
