//! Which of the fn's attributes are ours, in written order, whatever path names them.
//!
//! rustc expands the outermost attribute first and hands it the fn with the others still on
//! it, so the first of ours to expand collects the rest and emits one pipeline. It knows a
//! sibling by its path: `#[resilience::retry]` is ours. `#[retry]` (ours through `use
//! resilience::retry;`, or `ntest`'s), `#[rl::retry]` (through `use resilience as rl;`) or
//! `#[corp::retry]` (a re-export) may be ours or not: a path cannot be resolved from inside
//! a macro. So at such a sibling the expansion stops
//! and hands over: it re-emits the fn with the layers collected so far in a marker,
//! `#[resilience::__private::stacked(..)]`, right below that sibling. If the sibling is
//! ours, it expands next, finds the marker and puts those layers outside its own. If it is
//! not, see below.
//!
//! If the sibling is another crate's attribute, it expands next, and the marker then expands
//! on its own and goes on: another crate's attribute between ours always ends up inside our
//! layers (a `#[tracing::instrument]` under a `#[retry]` records each attempt), whatever
//! the spelling of ours. One that bears one of our names (`ntest`'s `#[timeout]`) is a
//! compile error instead, since it was written as one of ours.
//!
//! ```text
//! #[retry(max_attempts = 3)]                    #[rl::timeout("1s")]
//! #[rl::timeout("1s")]              ==>         #[::resilience::__private::stacked(above = rl::timeout, retry(max_attempts = 3))]
//! async fn f() -> R { .. }                      async fn f() -> R { .. }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Meta, Path, Token};

use crate::args::{self, Errors, Table};
use crate::item::Function;

/// One of our attributes on the fn, as written.
pub(crate) struct Declared {
    pub(crate) table: &'static Table,
    pub(crate) tokens: TokenStream,
    pub(crate) span: Span,
}

/// What the first of our attributes to expand found on the fn.
pub(crate) enum Stack {
    /// Every attribute of ours, outermost first, and the fn's other attributes.
    Complete {
        layers: Vec<Declared>,
        kept: Vec<Attribute>,
        /// The paths the collected siblings were written with, named again in the output
        /// so the user's `use resilience::timeout;` is not reported unused.
        paths: Vec<Path>,
    },
    /// A sibling that may be ours sits below: the fn to emit so that it takes over.
    Handover(TokenStream),
}

/// Collects the stack, starting from `outer`: the expanding attribute, or the layers a
/// marker carried.
pub(crate) fn collect(outer: Vec<Declared>, function: &Function, errors: &mut Errors) -> Stack {
    let mut layers = outer;
    let mut kept = Vec::new();
    let mut paths = Vec::new();
    for (i, attr) in function.attrs.iter().enumerate() {
        if is_marker(attr) {
            match attr.parse_args::<Marker>() {
                // Its layers were written above the one expanding now.
                Ok(marker) => {
                    layers.splice(0..0, marker.layers);
                    paths.extend(marker.paths);
                }
                Err(error) => errors.add(error),
            }
            continue;
        }
        match sibling(attr) {
            Sibling::Ours(table) => match arguments(table, attr) {
                Ok(tokens) => {
                    layers.push(Declared {
                        table,
                        tokens,
                        // Its name: a multi-token span shows only its first token, the `#`.
                        span: attr
                            .path()
                            .segments
                            .last()
                            .map_or_else(|| attr.span(), |s| s.ident.span()),
                    });
                    paths.push(attr.path().clone());
                }
                Err(error) => errors.add(error),
            },
            Sibling::Maybe => {
                return Stack::Handover(handover(&layers, &paths, &kept, i, function))
            }
            Sibling::Other => kept.push(attr.clone()),
        }
    }
    Stack::Complete {
        layers,
        kept,
        paths,
    }
}

enum Sibling {
    Ours(&'static Table),
    /// Named like one of ours through a path we cannot tell is ours.
    Maybe,
    Other,
}

/// `#[resilience::retry]` and `#[::x::resilience::retry]` are ours. rustc's inert
/// attributes (`#[doc]`, `#[allow]`, `#[inline]`, tool attributes) are nobody's. Any other
/// may be ours (`#[retry]`, `#[rl::retry]`, `#[deadline]` after `use resilience::timeout as
/// deadline;`) or another crate's (`#[tracing::instrument]`), so it is handed the layers
/// above it.
fn sibling(attr: &Attribute) -> Sibling {
    let segments = &attr.path().segments;
    let table = segments
        .last()
        .and_then(|last| args::table(&last.ident.to_string()));
    let qualified_by_us = segments
        .iter()
        .rev()
        .nth(1)
        .is_some_and(|s| s.ident == "resilience");
    match table {
        Some(table) if qualified_by_us => Sibling::Ours(table),
        _ if is_inert(attr.path()) => Sibling::Other,
        _ => Sibling::Maybe,
    }
}

/// rustc's own attributes that expand to nothing, and tool attributes.
fn is_inert(path: &Path) -> bool {
    const INERT: &[&str] = &[
        "doc",
        "allow",
        "warn",
        "deny",
        "forbid",
        "expect",
        "inline",
        "cold",
        "must_use",
        "deprecated",
        "track_caller",
        "cfg",
        "cfg_attr",
        "ignore",
        "should_panic",
        "no_mangle",
        "export_name",
        "link_section",
        "target_feature",
        "optimize",
        "instruction_set",
        "used",
    ];
    const TOOLS: &[&str] = &["rustfmt", "clippy", "diagnostic", "rustdoc"];
    const ENTRY_POINTS: &[&str] = &["test", "main", "bench"];
    let entry_point = path
        .segments
        .last()
        .is_some_and(|last| ENTRY_POINTS.iter().any(|name| last.ident == name));
    entry_point
        || match path.segments.first() {
            Some(first) if path.segments.len() == 1 => INERT.iter().any(|name| first.ident == name),
            Some(first) => TOOLS.iter().any(|tool| first.ident == tool),
            None => false,
        }
}

/// `#[..::__private::stacked(..)]`, the hand-over marker.
fn is_marker(attr: &Attribute) -> bool {
    let mut segments = attr.path().segments.iter().rev();
    segments.next().is_some_and(|s| s.ident == "stacked")
        && segments.next().is_some_and(|s| s.ident == "__private")
}

fn arguments(table: &Table, attr: &Attribute) -> syn::Result<TokenStream> {
    match &attr.meta {
        Meta::Path(_) => Ok(TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv.eq_token,
            format!("expected `#[{0}(...)]` or `#[{0}]`", table.attribute),
        )),
    }
}

/// The fn as it was, less the layers collected so far, with a marker carrying them right
/// below the sibling at `at`.
fn handover(
    layers: &[Declared],
    paths: &[Path],
    kept: &[Attribute],
    at: usize,
    function: &Function,
) -> TokenStream {
    let sibling = &function.attrs[at];
    let above = sibling.path();
    let krate = crate_path(layers);
    let carried = layers.iter().map(|layer| {
        let kind = syn::Ident::new(layer.table.attribute, layer.span);
        let tokens = &layer.tokens;
        quote!(#kind(#tokens))
    });
    let rest = &function.attrs[at + 1..];
    let Function {
        vis,
        defaultness,
        sig,
        body,
        ..
    } = function;
    let body = match body {
        Some(body) => quote!({ #body }),
        None => quote!(;),
    };
    quote! {
        #(#kept)*
        #sibling
        #[#krate::__private::stacked(above = #above, paths(#(#paths),*), #(#carried),*)]
        #(#rest)*
        #vis #defaultness #sig #body
    }
}

/// The facade's path as a `crate = "..."` among `layers` gives it.
fn crate_path(layers: &[Declared]) -> TokenStream {
    let mut errors = Errors::new();
    let krate = layers.iter().find_map(|layer| {
        args::parse(layer.table, layer.tokens.clone(), layer.span, &mut errors).krate
    });
    // Only the path is wanted here; the arguments are checked when the stack expands.
    drop(errors.finish());
    krate.map_or_else(|| quote!(::resilience), |path| path.into_token_stream())
}

/// The marker's arguments: `above = path, paths(..), layer(args), ..`.
pub(crate) struct Marker {
    /// The sibling that was expected to take the layers over.
    pub(crate) above: Path,
    pub(crate) paths: Vec<Path>,
    pub(crate) layers: Vec<Declared>,
}

impl Parse for Marker {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        syn::custom_keyword!(above);
        input.parse::<above>()?;
        input.parse::<Token![=]>()?;
        let above: Path = input.parse()?;
        input.parse::<Token![,]>()?;
        syn::custom_keyword!(paths);
        input.parse::<paths>()?;
        let content;
        syn::parenthesized!(content in input);
        let paths = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
        input.parse::<Token![,]>()?;
        let list = Punctuated::<syn::MetaList, Token![,]>::parse_terminated(input)?;
        let layers = list
            .into_iter()
            .map(|meta| {
                let last = meta.path.segments.last().map(|s| s.ident.to_string());
                let table = last.as_deref().and_then(args::table).ok_or_else(|| {
                    syn::Error::new_spanned(&meta.path, "not a resilience attribute")
                })?;
                Ok(Declared {
                    table,
                    span: meta.path.span(),
                    tokens: meta.tokens,
                })
            })
            .collect::<syn::Result<_>>()?;
        Ok(Self {
            above,
            paths: paths.into_iter().collect(),
            layers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand;

    fn expand_first(item: &str) -> String {
        let mut function: syn::ItemFn = syn::parse_str(item).unwrap();
        let first = function.attrs.remove(0);
        let table = args::table(&first.path().segments.last().unwrap().ident.to_string()).unwrap();
        let arguments = match &first.meta {
            Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        expand::attribute(table, arguments, function.into_token_stream()).to_string()
    }

    #[test]
    fn a_sibling_named_through_another_path_is_handed_the_layers_above_it() {
        let out = expand_first(
            r#"#[retry(max_attempts = 3)] #[rl::timeout("1s")] #[inline] async fn f() -> Result<(), E> { Ok(()) }"#,
        );
        let marker = out
            .find(":: resilience :: __private :: stacked")
            .expect(&out);
        let sibling = out.find("rl :: timeout").expect(&out);
        assert!(
            sibling < marker,
            "the marker goes right below the sibling: {out}"
        );
        assert!(out.contains("retry (max_attempts = 3)"), "{out}");
        assert!(!out.contains("CallSite"), "nothing expands yet: {out}");
    }

    #[test]
    fn a_bare_sibling_is_handed_over_too_since_it_may_be_another_crate_s() {
        let out = expand_first(
            r#"#[resilience::retry] #[timeout(100)] async fn f() -> Result<(), E> { Ok(()) }"#,
        );
        assert!(out.contains("stacked (above = timeout"), "{out}");
        assert!(!out.contains("CallSite"), "{out}");
    }

    #[test]
    fn the_sibling_puts_the_carried_layers_outside_its_own() {
        let item = r#"#[rl::timeout("1s")]
            #[::resilience::__private::stacked(above = rl::timeout, paths(), retry(max_attempts = 3))]
            async fn f() -> Result<(), E> { Ok(()) }"#;
        let out = expand_first(item);
        let retry = out.find("RetryConfig").expect(&out);
        let timeout = out.find("TimeoutConfig").expect(&out);
        assert!(retry < timeout, "the retry is the outer layer: {out}");
    }

    #[test]
    fn a_marker_left_by_another_crate_s_attribute_goes_on_expanding() {
        let out = expand::stacked(
            quote!(
                above = tracing::instrument,
                paths(),
                retry(max_attempts = 3)
            ),
            quote!(
                #[timeout("1s")]
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        assert!(
            out.contains("stacked (above = timeout"),
            "the bare sibling is handed over: {out}"
        );
    }

    #[test]
    fn a_renamed_sibling_is_handed_over() {
        let out = expand_first(
            r#"#[retry(max_attempts = 3)] #[deadline("1s")] #[inline] async fn f() -> Result<(), E> { Ok(()) }"#,
        );
        assert!(out.contains("stacked (above = deadline"), "{out}");
        let out = expand_first(
            r#"#[retry(max_attempts = 3)] #[inline] #[doc = "x"] async fn f() -> Result<(), E> { Ok(()) }"#,
        );
        assert!(
            out.contains("CallSite"),
            "inert attributes are nobody's: {out}"
        );
    }

    #[test]
    fn a_marker_left_alone_is_a_compile_error_naming_the_foreign_attribute() {
        let out = expand::stacked(
            quote!(above = backon::retry, paths(), circuit_breaker()),
            quote!(
                async fn f() {}
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains(
                "`#[backon::retry]` stands between resilience attributes but is not one of them"
            ),
            "{out}"
        );
    }
}
