//! The one pipeline expansion shared by every attribute.
//!
//! The first of our attributes to expand collects the others on the same fn and emits one
//! pipeline, outermost first, so the stack is the written order whatever order rustc
//! expands attributes in.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, GenericArgument, Meta, Pat, PathArguments, Type};

use crate::args::{self, Errors};
use crate::item::{bindings, Function, Shape};

/// Which attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    CircuitBreaker,
    Retry,
    Timeout,
    Bulkhead,
    RateLimit,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::CircuitBreaker,
        Kind::Retry,
        Kind::Timeout,
        Kind::Bulkhead,
        Kind::RateLimit,
    ];

    fn attribute(self) -> &'static str {
        match self {
            Kind::CircuitBreaker => "circuit_breaker",
            Kind::Retry => "retry",
            Kind::Timeout => "timeout",
            Kind::Bulkhead => "bulkhead",
            Kind::RateLimit => "rate_limit",
        }
    }

    fn config(self) -> Ident {
        let name = match self {
            Kind::CircuitBreaker => "CircuitBreakerConfig",
            Kind::Retry => "RetryConfig",
            Kind::Timeout => "TimeoutConfig",
            Kind::Bulkhead => "BulkheadConfig",
            Kind::RateLimit => "RateLimiterConfig",
        };
        Ident::new(name, Span::call_site())
    }
}

/// One attribute's parsed arguments.
// A few of these live for one expansion; boxing the largest would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Args {
    CircuitBreaker(args::circuit_breaker::CircuitBreakerArgs),
    Retry(args::retry::RetryArgs),
    Timeout(args::timeout::TimeoutArgs),
    Bulkhead(args::bulkhead::BulkheadArgs),
    RateLimit(args::rate_limit::RateLimitArgs),
}

impl Args {
    fn parse(kind: Kind, tokens: TokenStream, at: Span, errors: &mut Errors) -> syn::Result<Args> {
        Ok(match kind {
            Kind::CircuitBreaker => {
                Args::CircuitBreaker(args::circuit_breaker::parse(tokens, errors)?)
            }
            Kind::Retry => Args::Retry(args::retry::parse(tokens, errors)?),
            Kind::Timeout => Args::Timeout(args::timeout::parse(tokens, at, errors)?),
            Kind::Bulkhead => Args::Bulkhead(args::bulkhead::parse(tokens, errors)?),
            Kind::RateLimit => Args::RateLimit(args::rate_limit::parse(tokens, at, errors)?),
        })
    }

    fn kind(&self) -> Kind {
        match self {
            Args::CircuitBreaker(_) => Kind::CircuitBreaker,
            Args::Retry(_) => Kind::Retry,
            Args::Timeout(_) => Kind::Timeout,
            Args::Bulkhead(_) => Kind::Bulkhead,
            Args::RateLimit(_) => Kind::RateLimit,
        }
    }

    fn common(&self) -> &args::Common {
        match self {
            Args::CircuitBreaker(a) => &a.common,
            Args::Retry(a) => &a.common,
            Args::Timeout(a) => &a.common,
            Args::Bulkhead(a) => &a.common,
            Args::RateLimit(a) => &a.common,
        }
    }

    fn fields(&self, krate: &TokenStream) -> Vec<TokenStream> {
        match self {
            Args::CircuitBreaker(a) => a.fields(krate),
            Args::Retry(a) => a.fields(krate),
            Args::Timeout(a) => a.fields(krate),
            Args::Bulkhead(a) => a.fields(krate),
            Args::RateLimit(a) => a.fields(krate),
        }
    }

    /// The classifying fn the layer is given: `failure_if`, `retry_if`, or "every error".
    fn predicate(&self, krate: &TokenStream, ret: &Type) -> TokenStream {
        let given = match self {
            Args::CircuitBreaker(a) => a.failure_if.value.as_ref(),
            Args::Retry(a) => a.retry_if.value.as_ref(),
            _ => None,
        };
        match given {
            Some(path) => quote_spanned!(path.span()=> #krate::__private::predicate::<#ret>(#path)),
            None => quote!(|_: &_| true),
        }
    }

    /// The retry's `retry_after` hook, or "no hint".
    fn hint(&self, krate: &TokenStream, ret: &Type) -> TokenStream {
        let given = match self {
            Args::Retry(a) => a.retry_after.value.as_ref(),
            _ => None,
        };
        match given {
            Some(path) => quote_spanned!(path.span()=> #krate::__private::hint::<#ret>(#path)),
            None => quote!(|_: &_| ::core::option::Option::None),
        }
    }
}

/// Expands `#[kind(args)]` on `item`.
pub(crate) fn attribute(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: Function = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let message = format!(
                "`#[{}]` can only be applied to an `async fn`",
                kind.attribute()
            );
            let error = syn::Error::new(span, message).into_compile_error();
            return quote!(#item #error);
        }
    };

    let mut errors = Errors::new();
    let mut layers = Vec::new();
    let mut kept = Vec::new();
    // The siblings we collect are never resolved by rustc; naming their paths keeps the
    // user's `use resilience::timeout;` from reading as unused.
    let mut uses = Vec::new();
    // This attribute is the outermost of ours; the rest follow in written order.
    let mut declared = vec![(kind, args, Span::call_site())];
    for attr in &function.attrs {
        match ours(attr) {
            Some(kind) => match sibling_args(kind, attr).inspect(|_| uses.push(use_path(attr))) {
                Ok(tokens) => declared.push((kind, tokens, attr.span())),
                Err(error) => errors.add(error),
            },
            None => kept.push(attr.clone()),
        }
    }
    for (kind, tokens, at) in declared {
        match Args::parse(kind, tokens, at, &mut errors) {
            Ok(args) => layers.push(args),
            Err(error) => errors.add(error),
        }
    }
    let shape = function.shape();
    if shape.is_none() {
        let message = if function.body.is_none() {
            format!("`#[{}]` needs the fn's body: put it on the fn in the `impl`, or give the trait method a default body", kind.attribute())
        } else {
            format!(
                "`#[{}]` can only be applied to an `async fn`",
                kind.attribute()
            )
        };
        match function.body {
            None => errors.push_at(function.body_span, message),
            Some(_) => errors.push(function.sig.fn_token, message),
        }
    }

    match (errors.finish(), shape) {
        (Ok(()), Some(shape)) => Expansion::new(&function, &layers, shape).emit(&kept, &uses),
        (result, _) => {
            // The fn as written, without our attributes, then the errors: no cascade of
            // follow-on errors, and IDEs keep seeing the fn.
            let errors = result.err().map(syn::Error::into_compile_error);
            let Function {
                vis,
                defaultness,
                sig,
                body,
                ..
            } = &function;
            let body = match body {
                Some(body) => quote!({ #(#uses)* #body }),
                None => quote!(;),
            };
            quote!(#(#kept)* #vis #defaultness #sig #body #errors)
        }
    }
}

/// Whether `attr` is one of ours: `#[retry]`, `#[resilience::retry]`, `#[::x::resilience::retry]`.
fn ours(attr: &Attribute) -> Option<Kind> {
    let segments = &attr.path().segments;
    let last = segments.last()?;
    let qualified_by_us = segments.len() == 1
        || segments
            .iter()
            .rev()
            .nth(1)
            .is_some_and(|s| s.ident == "resilience");
    if !qualified_by_us {
        return None;
    }
    Kind::ALL
        .into_iter()
        .find(|kind| last.ident == kind.attribute())
}

fn use_path(attr: &Attribute) -> TokenStream {
    let path = attr.path();
    quote!(#[allow(unused_imports)] use #path as _;)
}

fn sibling_args(kind: Kind, attr: &Attribute) -> syn::Result<TokenStream> {
    match &attr.meta {
        Meta::Path(_) => Ok(TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv.eq_token,
            format!("expected `#[{0}(...)]` or `#[{0}]`", kind.attribute()),
        )),
    }
}

/// Everything the emitted code is built from.
struct Expansion<'a> {
    function: &'a Function,
    layers: &'a [Args],
    krate: TokenStream,
    ret: Type,
    body: TokenStream,
    boxed: bool,
    lending: Lending,
}

impl<'a> Expansion<'a> {
    fn new(function: &'a Function, layers: &'a [Args], shape: Shape) -> Self {
        let krate = layers
            .iter()
            .find_map(|layer| layer.common().krate.value.as_ref())
            .map_or_else(|| quote!(::resilience), ToTokens::to_token_stream);
        let (ret, body, boxed) = match shape {
            Shape::Async { ret, body } => (ret, body, false),
            Shape::AsyncTrait { ret, body } => (ret, body, true),
        };
        let retries = layers.iter().any(|layer| layer.kind() == Kind::Retry);
        let lending = if retries {
            Lending::of(function, &krate)
        } else {
            Lending::default()
        };
        let body = if lending.rename_self {
            rename_self(body)
        } else {
            body
        };
        Self {
            function,
            layers,
            krate,
            ret: elide_impl_trait(ret),
            body,
            boxed,
            lending,
        }
    }

    // Input:
    //     #[circuit_breaker(name = "payments")]
    //     #[retry(max_attempts = 3)]
    //     async fn charge(&mut self, card: Card) -> Result<Receipt, PayError> { body }
    // Output:
    //     async fn charge(&mut self, card: Card) -> Result<Receipt, PayError> {
    //         static __RESILIENCE_0: CallSite<CircuitBreakerConfig> = CallSite::shared("payments", ..);
    //         static __RESILIENCE_1: CallSite<RetryConfig> = CallSite::private(module_path!(), "charge", ..);
    //         let card = (&&Lend(&card)).lend();       // attempts copy or borrow the arguments
    //         let __resilience_reborrow = (self,);     // and are lent `&mut` ones in turn
    //         Guarded::from_outcome(
    //             __RESILIENCE_0.get_for::<Self>().layer(|_: &_| true, move || {
    //                 __RESILIENCE_1.get_for::<Self>().layer(__resilience_reborrow, |_: &_| true, move |lent| async move {
    //                     let __resilience_reborrow = (&mut *lent.0,);
    //                     let outcome = body(async move {
    //                         let (__resilience_self,) = __resilience_reborrow;
    //                         let __ret: Result<Receipt, PayError> = { body }; // `self` renamed
    //                         Guarded::into_result(__ret)
    //                     }).await;
    //                     (lent, outcome)
    //                 })
    //             })
    //             .await,
    //         )
    //     }
    fn emit(&self, kept: &[Attribute], uses: &[TokenStream]) -> TokenStream {
        let krate = &self.krate;
        let ret = &self.ret;
        let ret_span = ret.span();
        let statics = self.statics();
        let prelude = &self.lending.prelude;
        let pipeline = self.layer(0);
        // Both ends name `Guarded` at the return type, so a return type that cannot carry a
        // rejection is reported once, there.
        let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
        let finish =
            quote_spanned!(ret_span=> <#ret as #krate::__private::Guarded>::from_outcome(#outcome));
        let inner = quote! {
            #(#uses)*
            #(#statics)*
            #prelude
            let #outcome = #pipeline.await;
            #finish
        };
        let inner = if self.boxed {
            quote!(::std::boxed::Box::pin(async move { #inner }))
        } else {
            inner
        };
        // The user's braces, so the fn's span is the user's and lints such as `dead_code`
        // still report it.
        let mut block = Group::new(Delimiter::Brace, inner);
        block.set_span(self.function.body_span);
        let Function {
            vis,
            defaultness,
            sig,
            ..
        } = self.function;
        quote!(#(#kept)* #vis #defaultness #sig #block)
    }

    /// One `static` call site per layer, declaring its instance: by name when given (shared
    /// with every fn naming it), else after the fn (private to it).
    fn statics(&self) -> Vec<TokenStream> {
        let krate = &self.krate;
        let fn_name = self.function.sig.ident.to_string();
        self.layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let site = site(i);
                let ty = layer.kind().config();
                let fields = layer.fields(krate);
                let config = quote!(#krate::#ty { #(#fields,)* ..#krate::#ty::DEFAULT });
                let declaration = match &layer.common().name.value {
                    Some(name) => quote!(#krate::__private::CallSite::shared(#name, #config)),
                    None => quote!(#krate::__private::CallSite::private(::core::module_path!(), #fn_name, #config)),
                };
                quote! {
                    #[allow(clippy::needless_update)]
                    static #site: #krate::__private::CallSite<#krate::#ty> = #declaration;
                }
            })
            .collect()
    }

    /// The future of layer `i` and everything inside it.
    fn layer(&self, i: usize) -> TokenStream {
        let Some(layer) = self.layers.get(i) else {
            return self.innermost();
        };
        let site = site(i);
        // A method's default instance name is `Type::method`.
        let site = match self.function.receiver() {
            Some(_) => quote!(#site.get_for::<Self>()),
            None => quote!(#site.get()),
        };
        let inner = self.layer(i + 1);
        let predicate = layer.predicate(&self.krate, &self.ret);
        let hint = layer.hint(&self.krate, &self.ret);
        let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
        match layer.kind() {
            Kind::Retry => {
                let lent = Ident::new("__resilience_lent", Span::mixed_site());
                let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
                if self.lending.lent.is_empty() {
                    return quote! {
                        #site.layer((), #predicate, #hint, move |()| async move { ((), #inner.await) })
                    };
                }
                let fields = (0..self.lending.lent.len()).map(syn::Index::from);
                quote! {
                    #site.layer(#reborrow, #predicate, #hint, move |#lent| async move {
                        let #reborrow = (#(&mut *#lent.#fields,)*);
                        let #outcome = #inner.await;
                        (#lent, #outcome)
                    })
                }
            }
            Kind::CircuitBreaker => quote!(#site.layer(#predicate, move || #inner)),
            Kind::Timeout | Kind::Bulkhead | Kind::RateLimit => quote!(#site.layer(move || #inner)),
        }
    }

    /// The body, as a future of the pipeline's `Outcome`, its error read for a rejection it
    /// carries where its type implements `AsRejection`.
    ///
    /// `let __ret: Ret = { body }` reports a wrong type at the user's expression; the
    /// unreachable early `return` fixes the block's type before `?` in the body needs it
    /// (async-trait's device).
    fn innermost(&self) -> TokenStream {
        let krate = &self.krate;
        let ret = &self.ret;
        let body = &self.body;
        let names = &self.lending.names;
        let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
        let value = Ident::new("__resilience_ret", Span::mixed_site());
        let unpack = (!names.is_empty()).then(|| quote!(let (#(#names,)*) = #reborrow;));
        let into_result =
            quote_spanned!(ret.span()=> <#ret as #krate::__private::Guarded>::into_result(#value));
        let error = Ident::new("__resilience_error", Span::mixed_site());
        quote! {
            #krate::__private::body_with(async move {
                let #value = async move {
                    #unpack
                    if let ::core::option::Option::Some(#value) = ::core::option::Option::None::<#ret> {
                        #[allow(unreachable_code)]
                        return #value;
                    }
                    let #value: #ret = { #body };
                    #[allow(unreachable_code)]
                    #value
                }.await;
                #into_result
            }, |#error| {
                use #krate::__private::{CarryNothing as _, CarryRejection as _};
                (&&#krate::__private::Carry(#error)).rejection()
            })
        }
    }
}

fn site(i: usize) -> Ident {
    format_ident!("__RESILIENCE_{}", i, span = Span::mixed_site())
}

/// How the arguments reach a body that a retry runs more than once.
///
/// An attempt cannot own what the next attempt needs. `Copy` arguments are copied into each
/// attempt; other owned arguments are borrowed through a `&` made once before the first
/// attempt; exclusive ones (`&mut self`, `&mut T` arguments, `mut` bindings) are lent to each
/// attempt and handed back.
#[derive(Default)]
struct Lending {
    /// `let card = <copy or borrow of card>;` for every owned argument, and the initial
    /// tuple of lent references.
    prelude: TokenStream,
    /// The lent references, in tuple order.
    lent: Vec<TokenStream>,
    /// The names the body knows them by, in the same order.
    names: Vec<Ident>,
    /// Whether the body's `self` must become `__resilience_self`: a closure parameter
    /// cannot be called `self`.
    rename_self: bool,
}

impl Lending {
    fn of(function: &Function, krate: &TokenStream) -> Self {
        let mut lending = Lending::default();
        let share = |ident: &dyn ToTokens, from: &dyn ToTokens| quote!(let #ident = (&&#krate::__private::Lend(&#from)).lend(););
        let renamed = Ident::new("__resilience_self", Span::call_site());
        if let Some(receiver) = function.receiver() {
            let self_token = &receiver.self_token;
            let by_reference = match (&receiver.reference, receiver.colon_token) {
                (Some(_), _) => Some(receiver.mutability.is_some()),
                (None, Some(_)) => match unwrap_group(&receiver.ty) {
                    Type::Reference(reference) => Some(reference.mutability.is_some()),
                    _ => None,
                },
                (None, None) => None,
            };
            match by_reference {
                Some(false) => {}
                Some(true) => lending.lend(quote!(#self_token), renamed),
                None if receiver.mutability.is_some() => {
                    lending.lend(quote!(&mut #self_token), renamed)
                }
                None => {
                    lending.prelude.extend(share(&renamed, self_token));
                    lending.rename_self = true;
                }
            }
        }
        for argument in function.arguments() {
            match (&*argument.pat, unwrap_group(&argument.ty)) {
                (Pat::Ident(pat), ty) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    let ident = &pat.ident;
                    match ty {
                        Type::Reference(r) if r.mutability.is_some() => {
                            lending.lend(quote!(#ident), ident.clone())
                        }
                        _ if pat.mutability.is_some() => {
                            lending.lend(quote!(&mut #ident), ident.clone())
                        }
                        Type::Reference(_) => {}
                        _ => lending.prelude.extend(share(ident, ident)),
                    }
                }
                (pat, _) => {
                    let mut bound = Vec::new();
                    bindings(pat, &mut bound);
                    for (ident, mutable) in bound {
                        if mutable {
                            lending.lend(quote!(&mut #ident), ident);
                        } else {
                            lending.prelude.extend(share(&ident, &ident));
                        }
                    }
                }
            }
        }
        if !lending.prelude.is_empty() {
            let prelude = std::mem::take(&mut lending.prelude);
            lending.prelude = quote! {
                #[allow(unused_imports)]
                use #krate::__private::{LendCopy as _, LendRef as _};
                #prelude
            };
        }
        if !lending.lent.is_empty() {
            let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
            let lent = &lending.lent;
            lending
                .prelude
                .extend(quote!(let #reborrow = (#(#lent,)*);));
        }
        lending
    }

    fn lend(&mut self, reference: TokenStream, name: Ident) {
        if name == "__resilience_self" {
            self.rename_self = true;
        }
        self.lent.push(reference);
        self.names.push(name);
    }
}

fn unwrap_group(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => unwrap_group(&group.elem),
        Type::Paren(paren) => unwrap_group(&paren.elem),
        other => other,
    }
}

/// Replaces the body's `self` with `__resilience_self`, leaving alone `self::` paths and
/// nested items (`fn`, `impl`, `trait`, `mod`), which have a `self` of their own.
fn rename_self(tokens: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Ident(ident) if ident == "self" && !starts_path(tokens.get(i + 1)) => {
                out.push(TokenTree::Ident(Ident::new(
                    "__resilience_self",
                    ident.span(),
                )));
            }
            TokenTree::Ident(ident) if starts_item(ident, tokens.get(i + 1)) => {
                // Copy the item through its body untouched.
                while i < tokens.len() {
                    let token = tokens[i].clone();
                    let end = matches!(&token, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
                        || matches!(&token, TokenTree::Punct(p) if p.as_char() == ';');
                    out.push(token);
                    if end {
                        break;
                    }
                    i += 1;
                }
            }
            TokenTree::Group(group) => {
                let mut renamed = Group::new(group.delimiter(), rename_self(group.stream()));
                renamed.set_span(group.span());
                out.push(TokenTree::Group(renamed));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

fn starts_path(next: Option<&TokenTree>) -> bool {
    matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == proc_macro2::Spacing::Joint)
}

/// `fn name`, `impl`, `trait`, `mod`: an item with its own `self`. (`fn(u32)` is a type.)
fn starts_item(ident: &Ident, next: Option<&TokenTree>) -> bool {
    (ident == "fn" && matches!(next, Some(TokenTree::Ident(_))))
        || ident == "impl"
        || ident == "trait"
        || ident == "mod"
}

/// `impl Trait` cannot be named in a turbofish; `_` lets the body's type fill it in.
fn elide_impl_trait(ty: Type) -> Type {
    match ty {
        Type::ImplTrait(_) => Type::Infer(syn::TypeInfer {
            underscore_token: Default::default(),
        }),
        Type::Reference(mut r) => {
            *r.elem = elide_impl_trait(*r.elem);
            Type::Reference(r)
        }
        Type::Tuple(mut t) => {
            t.elems = t.elems.into_iter().map(elide_impl_trait).collect();
            Type::Tuple(t)
        }
        Type::Slice(mut s) => {
            *s.elem = elide_impl_trait(*s.elem);
            Type::Slice(s)
        }
        Type::Array(mut a) => {
            *a.elem = elide_impl_trait(*a.elem);
            Type::Array(a)
        }
        Type::Paren(mut p) => {
            *p.elem = elide_impl_trait(*p.elem);
            Type::Paren(p)
        }
        Type::Group(mut g) => {
            *g.elem = elide_impl_trait(*g.elem);
            Type::Group(g)
        }
        Type::Path(mut p) => {
            for segment in &mut p.path.segments {
                if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let GenericArgument::Type(ty) = arg {
                            *ty = elide_impl_trait(ty.clone());
                        }
                    }
                }
            }
            Type::Path(p)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    //! Hostile input: whatever tokens arrive, the expansion reports errors and never panics.

    use super::*;
    use proptest::prelude::*;

    /// Words that are not argument keys but turn up where keys and values go.
    const OTHER_WORDS: &[&str] = &["x", "self", "true", "false", "fn", "async", "r#type", "_"];
    const LITERALS: &[&str] = &[
        "\"250ms\"",
        "\"\"",
        "\"1h30m\"",
        "\"-1s\"",
        "\"1..5s\"",
        "\"µs\"",
        "\"token_bucket\"",
        "\"a::b\"",
        "0",
        "1",
        "-1",
        "1.5",
        "1e400",
        "99999999999999999999999999",
        "0x10",
        "'c'",
        "b\"x\"",
        "1u8",
        "2.0f32",
    ];
    const PUNCT: &[&str] = &["=", ",", "-", "::", "#", "!", ".", "|", "&", ";", "<", ">"];

    /// Every attribute's keys, and a few words that are none.
    fn words() -> Vec<&'static str> {
        [
            args::circuit_breaker::ACCEPTED,
            args::retry::ACCEPTED,
            args::timeout::ACCEPTED,
            args::bulkhead::ACCEPTED,
            args::rate_limit::ACCEPTED,
            OTHER_WORDS,
        ]
        .concat()
    }

    fn token() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            proptest::sample::select(words()).prop_map(str::to_owned),
            proptest::sample::select(LITERALS).prop_map(str::to_owned),
            proptest::sample::select(PUNCT).prop_map(str::to_owned),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            (proptest::collection::vec(inner, 0..6), 0..3usize).prop_map(|(tokens, delimiter)| {
                let body = tokens.join(" ");
                ["(", "[", "{"][delimiter].to_owned() + &body + [")", "]", "}"][delimiter]
            })
        })
    }

    fn tokens(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(token(), 0..max).prop_map(|tokens| tokens.join(" "))
    }

    /// Valid argument lists with one token replaced, dropped or duplicated.
    fn mutated_args() -> impl Strategy<Value = String> {
        let valid = proptest::sample::select(&[
            "name = \"a\", failure_threshold = 3, recovery_timeout = \"30s\"",
            "max_attempts = 3, base_delay = \"100ms\", max_delay = \"1s\", backoff = \"linear\", jitter = false",
            "\"5s\", name = \"t\"",
            "max_concurrent = 4, max_wait = 0",
            "max_requests = 10, window = \"1m\", algorithm = \"sliding_window\", max_wait = 0.5",
        ][..]);
        (valid, any::<prop::sample::Index>(), token(), 0..3u8).prop_map(
            |(valid, at, replacement, how)| {
                let mut parts: Vec<String> = valid.split(' ').map(str::to_owned).collect();
                let i = at.index(parts.len());
                match how {
                    0 => parts[i] = replacement,
                    1 => drop(parts.remove(i)),
                    _ => parts.insert(i, replacement),
                }
                parts.join(" ")
            },
        )
    }

    fn item() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("async fn f(&self, x: u32) -> Result<u32, E> { Ok(x) }".to_owned()),
            Just("#[retry(max_attempts = 0)] #[timeout] pub async fn f(mut a: Vec<u8>) -> R { a.push(1); loop {} }".to_owned()),
            Just("fn f() -> Pin<Box<dyn Future<Output = R> + Send>> { Box::pin(async move { 1 }) }".to_owned()),
            Just("struct S;".to_owned()),
            tokens(12),
            tokens(6).prop_map(|t| format!("async fn f({t}) -> Result<(), E> {{ {t} }}")),
        ]
    }

    fn expand_all(args: &str, item: &str) {
        let (Ok(args), Ok(item)) = (args.parse::<TokenStream>(), item.parse::<TokenStream>())
        else {
            return;
        };
        for kind in Kind::ALL {
            let _ = attribute(kind, args.clone(), item.clone());
        }
    }

    /// The number of cases: `PROPTEST_CASES` when set (a soak run), else `default`.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(default)
    }

    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases(256)) })]

        #[test]
        fn arbitrary_arguments_never_panic(args in tokens(10), item in item()) {
            expand_all(&args, &item);
        }

        #[test]
        fn mutated_arguments_never_panic(args in mutated_args(), item in item()) {
            expand_all(&args, &item);
        }
    }
}
