use proc_macro2::TokenStream;
use syn::parse::Parser;

use super::{count, duration, unknown, value, Arg, Common, Errors, Fields};

pub(crate) const ACCEPTED: &[&str] = &["name", "max_concurrent", "max_wait", "crate"];

#[derive(Default)]
pub(crate) struct BulkheadArgs {
    pub(crate) common: Common,
    max_concurrent: Arg<usize>,
    max_wait: Arg<u128>,
}

pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> syn::Result<BulkheadArgs> {
    let mut out = BulkheadArgs::default();
    syn::meta::parser(|meta| {
        let key = &meta.path;
        if key.is_ident("max_concurrent") {
            let n = value(&meta, errors)?.and_then(|v| count(&v, "max_concurrent", errors));
            out.max_concurrent.set(key, n, errors);
        } else if key.is_ident("max_wait") {
            let d = value(&meta, errors)?.and_then(|v| duration(&v, errors));
            out.max_wait.set(key, d, errors);
        } else if !out.common.parse(&meta, errors)? {
            unknown("bulkhead", &meta, ACCEPTED, errors);
            super::skip_value(&meta)?;
        }
        Ok(())
    })
    .parse2(args)?;
    Ok(out)
}

impl BulkheadArgs {
    /// `field: value` for each argument given; the rest come from the config's `DEFAULT`.
    pub(crate) fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        Fields::new(krate)
            .value("max_concurrent", self.max_concurrent.value)
            .duration("max_wait", self.max_wait.value)
            .finish()
    }
}
