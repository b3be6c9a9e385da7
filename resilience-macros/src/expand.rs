//! The one pipeline expansion shared by every attribute.
//!
//! The first of our attributes to expand collects the others on the same fn ([`stack`])
//! and emits one pipeline, outermost first, so the stack is the written order whatever
//! order rustc expands attributes in.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, GenericArgument, PathArguments, Type};

use crate::args::{self, Errors, Layer, Parsed, Role, Table, Value};
use crate::item::{Function, Shape};
use crate::keys;
use crate::lending::Lending;
use crate::plain;
use crate::rename::{item_end, rename_self, starts_item};
use crate::sharing::sharing;
use crate::stack::{self, Declared, Marker, Stack};

/// Expands `#[attribute(args)]` on `item`.
pub(crate) fn attribute(
    table: &'static Table,
    args: TokenStream,
    item: TokenStream,
) -> TokenStream {
    let outer = Declared {
        table,
        tokens: args,
        span: Span::call_site(),
    };
    expand(vec![outer], Vec::new(), item, table.attribute)
}

/// Expands the hand-over marker of [`stack`], which is reached only when the attribute it
/// was left for did not take it: that attribute is another crate's, and has expanded. The
/// layers go on around what it made, unless it bears one of our names: then it was written
/// as one of ours, and the stack cannot be what was written.
pub(crate) fn stacked(args: TokenStream, item: TokenStream) -> TokenStream {
    let marker = match syn::parse2::<Marker>(args) {
        Ok(marker) => marker,
        Err(error) => {
            let error = error.into_compile_error();
            return quote!(#item #error);
        }
    };
    let named_like_ours = marker
        .above
        .segments
        .last()
        .is_some_and(|last| args::table(&last.ident.to_string()).is_some());
    if named_like_ours {
        let above = args::key_name(&marker.above);
        let error = syn::Error::new_spanned(
            &marker.above,
            format_args!(
                "`#[{above}]` stands between resilience attributes but is not one of them, so their written order cannot be kept; \
                 move it above them, or name resilience's attribute as `#[resilience::...]` or through a `use`"
            ),
        )
        .into_compile_error();
        return quote!(#item #error);
    }
    let attribute = marker
        .layers
        .first()
        .map_or("retry", |layer| layer.table.attribute);
    expand(marker.layers, marker.paths, item, attribute)
}

fn expand(
    outer: Vec<Declared>,
    outer_paths: Vec<syn::Path>,
    item: TokenStream,
    attribute: &str,
) -> TokenStream {
    let function: Function = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let message = match plain::refusal(attribute) {
                Some(_) => format!("`#[{attribute}]` can only be applied to an `async fn`"),
                None => format!("`#[{attribute}]` can only be applied to a fn"),
            };
            let error = syn::Error::new(span, message).into_compile_error();
            return quote!(#item #error);
        }
    };

    let mut errors = Errors::new();
    let (layers, kept, paths) = match stack::collect(outer, &function, &mut errors) {
        Stack::Handover(tokens) => {
            let errors = errors.finish().err().map(syn::Error::into_compile_error);
            return quote!(#tokens #errors);
        }
        Stack::Complete {
            layers,
            kept,
            paths,
        } => (layers, kept, paths),
    };
    // The collected siblings are never resolved by rustc; naming their paths keeps the
    // user's `use resilience::timeout;` from reading as unused.
    let uses: Vec<TokenStream> = outer_paths
        .iter()
        .chain(&paths)
        .map(|path| quote!(#[allow(unused_imports)] use #path as _;))
        .collect();
    let parsed: Vec<Parsed> = layers
        .into_iter()
        .map(|layer| args::parse(layer.table, layer.tokens, layer.span, &mut errors))
        .collect();
    for layer in &parsed {
        if let Some(key) = layer.get("key") {
            keys::check(key, &function, &mut errors);
        }
    }
    named_twice(&parsed, &mut errors);
    let shape = function.shape();
    match &shape {
        None => errors.push_at(
            function.body_span,
            format_args!("`#[{attribute}]` needs the fn's body: put it on the fn in the `impl`, or give the trait method a default body"),
        ),
        Some(Shape::Plain { .. }) => plain::check(&function, &parsed, attribute, &mut errors),
        Some(_) => {}
    }

    // On a plain fn a hedge is refused as such; what it could not share is beside the point.
    let plain = matches!(shape, Some(Shape::Plain { .. }));
    if !plain && parsed.iter().any(|layer| layer.table.layer == Layer::Hedge) {
        hedge_checks(&function, &parsed, &mut errors);
    }

    match (errors.finish(), shape) {
        (Ok(()), Some(shape)) => Expansion::new(&function, &parsed, shape).emit(&kept, &uses),
        (result, _) => {
            // The fn as written, without our attributes, then the errors: no cascade of
            // follow-on errors, and IDEs keep seeing the fn. The arguments that were read
            // are still checked, so their refusals arrive with the other errors.
            let errors = result.err().map(syn::Error::into_compile_error);
            let checks = parsed.iter().map(|layer| {
                let krate = layer
                    .krate
                    .as_ref()
                    .map_or_else(|| quote!(::resilience), ToTokens::to_token_stream);
                let Checked { checks, .. } = checked(layer, &krate, layer.clean);
                quote!(const _: () = { #checks };)
            });
            let uses = quote!(#(#uses)* #(#checks)*);
            let Function {
                vis,
                defaultness,
                sig,
                body,
                ..
            } = &function;
            let body = match body {
                Some(body) => quote!({ #uses #body }),
                None => quote!(;),
            };
            quote!(#(#kept)* #vis #defaultness #sig #body #errors)
        }
    }
}

/// Everything the emitted code is built from.
struct Expansion<'a> {
    function: &'a Function,
    layers: &'a [Parsed],
    krate: TokenStream,
    ret: Type,
    body: TokenStream,
    boxed: bool,
    /// A plain fn: the layers' `layer_blocking`, the body in a closure, no `.await`.
    blocking: bool,
    /// How the arguments are lent to the layers above a hedge (to every layer without one).
    lending: Lending,
    /// How a hedge's attempts share the arguments, and the layers below it get them.
    shared: Lending,
    /// The hedge's layer, if there is one.
    hedge_at: Option<usize>,
    /// Whether the fn is a method or an associated fn that names `Self`: its default
    /// instance names are `module::Type::function`, one per `Self` type.
    method: bool,
}

impl<'a> Expansion<'a> {
    fn new(function: &'a Function, layers: &'a [Parsed], shape: Shape) -> Self {
        let krate = layers
            .iter()
            .find_map(|layer| layer.krate.as_ref())
            .map_or_else(|| quote!(::resilience), ToTokens::to_token_stream);
        let (ret, body, boxed, blocking) = match shape {
            Shape::Async { ret, body } => (ret, body, false, false),
            Shape::AsyncTrait { ret, body } => (ret, body, true, false),
            Shape::Plain { ret, body } => (ret, body, false, true),
        };
        let hedge_at = layers
            .iter()
            .position(|layer| layer.table.layer == Layer::Hedge);
        // Above a hedge the arguments are lent as under a retry; from the hedge down they
        // are shared, since its attempts run at once.
        let lends_above = layers[..hedge_at.unwrap_or(layers.len())]
            .iter()
            .any(|layer| matches!(layer.table.layer, Layer::Retry | Layer::Fallback));
        let lending = if lends_above {
            Lending::of(function, &krate)
        } else {
            Lending::default()
        };
        let shared = if hedge_at.is_some() {
            // What cannot be shared was reported before the expansion began.
            let mut reported = Errors::new();
            let shared = sharing(function, &krate, &mut reported);
            drop(reported.finish());
            shared
        } else {
            Lending::default()
        };
        let method = function.receiver().is_some() || names_self(&function.sig, &body);
        let body = if lending.rename_self || shared.rename_self {
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
            blocking,
            lending,
            shared,
            hedge_at,
            method,
        }
    }

    /// Whether layer `i` (the body for `i` past the last layer) gets the arguments shared
    /// by a hedge above it rather than lent.
    fn is_shared(&self, i: usize) -> bool {
        self.hedge_at.is_some_and(|hedge| i > hedge)
    }

    /// For a layer that lends the arguments on (a retry, a fallback): the tuple it is
    /// given (`()` when there is nothing to lend), and the statement each of its calls
    /// starts with, which binds the tuple's name for the layers inside it.
    fn lent_to(&self, i: usize) -> (TokenStream, TokenStream) {
        let lent = Ident::new("__resilience_lent", Span::mixed_site());
        // Below a hedge the arguments are shared references, which are `Copy`: each
        // closure captures them as they are, and nothing is lent.
        if self.is_shared(i) || self.lending.lent.is_empty() {
            return (quote!(()), TokenStream::new());
        }
        let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
        let fields = (0..self.lending.lent.len()).map(syn::Index::from);
        (
            quote!(#reborrow),
            quote!(let #reborrow = (#(&mut *#lent.#fields,)*);),
        )
    }

    /// How layer `i` (or the body) unpacks the arguments by the names the body knows.
    fn unpack(&self, i: usize) -> &TokenStream {
        if self.is_shared(i) {
            &self.shared.unpack
        } else {
            &self.lending.unpack
        }
    }

    // Input:
    //     #[circuit_breaker(name = "payments")]
    //     #[retry(max_attempts = 3)]
    //     async fn charge(&mut self, card: Card) -> Result<Receipt, PayError> { body }
    // Output:
    //     async fn charge(&mut self, card: Card) -> Result<Receipt, PayError> {
    //         static __RESILIENCE_0: CallSite<CircuitBreakerConfig> = { const CONFIG = ..; checks; CallSite::shared("payments", CONFIG, here) };
    //         static __RESILIENCE_1: CallSite<RetryConfig> = { ..; CallSite::method(module_path!(), "charge", CONFIG, here) };
    //         static __RESILIENCE_DECLARED: [Declaration; 2] = [Declaration::new(&__RESILIENCE_0), Declaration::new(&__RESILIENCE_1)];
    //         inventory::submit!(Declarations::new(&__RESILIENCE_DECLARED));
    //         let mut card = card;                     // lent to each attempt (see `lending`)
    //         let __resilience_reborrow = (self, &mut card);
    //         Guarded::from_outcome(
    //             __RESILIENCE_0.get_for::<Self>().layer(|_: &_| true, move || {
    //                 __RESILIENCE_1.get_for::<Self>().layer(__resilience_reborrow, |_: &_| true, |_: &_| None, describe::<Ret>(..), move |lent| async move {
    //                     let __resilience_reborrow = (&mut *lent.0, &mut *lent.1);
    //                     let outcome = body(async move {
    //                         let (__resilience_self, card) = __resilience_reborrow;
    //                         let card = (&&&Lend::of(&*card)).how()(card);   // `&Card`
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
        let keyed = self.keyed();
        // A hedge with no lender above it shares the arguments from the start.
        let prelude = match self.lending.lent.is_empty() {
            true => &self.shared.prelude,
            false => &self.lending.prelude,
        };
        let pipeline = self.layer(0);
        // Both ends name `Guarded` at the return type, so a return type that cannot carry a
        // rejection is reported there.
        let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
        let finish =
            quote_spanned!(ret_span=> <#ret as #krate::__private::Guarded>::from_outcome(#outcome));
        let pipeline = match self.blocking {
            true => pipeline,
            false => quote!(#pipeline.await),
        };
        let inner = quote! {
            #(#uses)*
            #statics
            #keyed
            #prelude
            let #outcome = #pipeline;
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

    /// One `static` call site per layer, and one submission of them all to the registry at
    /// link time. Each config is built by the runtime's setters in a `const`, and the
    /// runtime's `validate` runs there: a value it refuses is a compile error in its words,
    /// at the argument's token.
    fn statics(&self) -> TokenStream {
        let krate = &self.krate;
        let fn_name = self.function.sig.ident.to_string();
        let sites = self.layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let site = site(i);
                let Checked { config, ty, checks } = checked(layer, krate, true);
                // Where this attribute was written, so that two default-named instances of one
                // fn are numbered in written order.
                let at = quote_spanned!(layer.span=> #krate::__private::Location::new(::core::file!(), ::core::line!(), ::core::column!()));
                let declaration = match &layer.name {
                    Some((_, name)) => {
                        let name = name.to_tokens(krate);
                        quote!(#krate::__private::CallSite::shared(#name, #config, #at))
                    }
                    None if self.method => quote!(#krate::__private::CallSite::method(::core::module_path!(), #fn_name, #config, #at)),
                    None => quote!(#krate::__private::CallSite::function(::core::module_path!(), #fn_name, #config, #at)),
                };
                quote! {
                    static #site: #krate::__private::CallSite<#ty> = {
                        #checks
                        #declaration
                    };
                }
            });
        let declared = (0..self.layers.len()).map(site);
        let count = self.layers.len();
        let all = Ident::new("__RESILIENCE_DECLARED", Span::mixed_site());
        quote! {
            #(#sites)*
            static #all: [#krate::__private::Declaration; #count] = [
                #(#krate::__private::Declaration::new(&#declared)),*
            ];
            #krate::__private::inventory::submit!(#krate::__private::Declarations::new(&#all));
        }
    }

    /// Layer `i`'s instance, from its call site.
    fn instance(&self, i: usize) -> TokenStream {
        let site = site(i);
        if self.method {
            quote!(#site.get_for::<Self>())
        } else {
            quote!(#site.get())
        }
    }

    // Input:
    //     #[rate_limit(name = "api", max_requests = 100, window = "1m", key = user.id)]
    //     async fn handle(user: &User, req: Request) -> Result<Response, ApiError> { body }
    // Output, before the pipeline (and before a retry's lending takes the arguments):
    //     let __resilience_keyed_0 = { use KeyOfOwned as _, KeyOfRef as _;
    //         __RESILIENCE_0.get().begin((&&KeyOf(&(user.id))).key()) };
    //     let __resilience_keyed_0 = &__resilience_keyed_0;
    // and the layer is `__resilience_keyed_0.layer(move || inner)`.
    /// Each keyed layer's key, evaluated once as the call starts and looked up in its keyed
    /// instance; what the lookup found holds no borrow of the arguments, so the body can
    /// still take them.
    fn keyed(&self) -> TokenStream {
        let krate = &self.krate;
        self.layers
            .iter()
            .enumerate()
            .filter_map(|(i, layer)| {
                let key = layer.get("key")?;
                let span = key.span();
                let key = key.to_tokens(krate);
                let instance = self.instance(i);
                let call = keyed_call(i);
                let begin = quote_spanned!(span=> #instance.begin((&&#krate::__private::KeyOf(&(#key))).key()));
                Some(quote! {
                    let #call = {
                        #[allow(unused_imports)]
                        use #krate::__private::{KeyOfOwned as _, KeyOfRef as _};
                        #begin
                    };
                    let #call = &#call;
                })
            })
            .collect()
    }

    /// The future of layer `i` and everything inside it.
    fn layer(&self, i: usize) -> TokenStream {
        let Some(layer) = self.layers.get(i) else {
            return self.innermost();
        };
        let krate = &self.krate;
        let ret = &self.ret;
        let site = if layer.is_keyed() {
            keyed_call(i).into_token_stream()
        } else {
            self.instance(i)
        };
        let inner = self.layer(i + 1);
        let hooks = layer.table.keys.iter().filter_map(|key| {
            let Role::Hook { wrap, default } = key.role else {
                return None;
            };
            Some(match layer.get(key.name) {
                Some(value) => {
                    let span = value.span();
                    let value = value.to_tokens(krate);
                    let wrap = Ident::new(wrap, Span::call_site());
                    quote_spanned!(span=> #krate::__private::#wrap::<#ret>(#value),)
                }
                None => {
                    let default: TokenStream = default.parse().unwrap_or_default();
                    quote!(#default,)
                }
            })
        });
        let hooks: TokenStream = hooks.collect();
        let describe = describe(krate, ret);
        if self.blocking {
            // A retry writes its errors for its events on the blocking path too.
            let hooks = match layer.table.layer {
                Layer::Retry => quote!(#hooks #describe,),
                _ => hooks,
            };
            return self.layer_blocking(i, layer, site, hooks, inner);
        }
        match layer.table.layer {
            Layer::Once => quote!(#site.layer(#hooks move || #inner)),
            Layer::Retry => {
                let hooks = quote!(#hooks #describe,);
                let lent = Ident::new("__resilience_lent", Span::mixed_site());
                let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
                let (given, rebind) = self.lent_to(i);
                if rebind.is_empty() {
                    return quote! {
                        #site.layer((), #hooks move |()| async move { ((), #inner.await) })
                    };
                }
                quote! {
                    #site.layer(#given, #hooks move |#lent| async move {
                        #rebind
                        let #outcome = #inner.await;
                        (#lent, #outcome)
                    })
                }
            }
            Layer::Fallback => self.fallback(i, layer, site, hooks, inner),
            // Each attempt copies the shared references into its own future (see `sharing`);
            // below a retry or a fallback they are made from what that layer lent.
            Layer::Hedge if !self.lending.lent.is_empty() => {
                let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
                let shared = Ident::new("__resilience_shared", Span::mixed_site());
                let fields = (0..self.lending.lent.len()).map(syn::Index::from);
                quote!({
                    let #shared = (#(&*#reborrow.#fields,)*);
                    #site.layer(move |_| #inner)
                })
            }
            Layer::Hedge => quote!(#site.layer(move |_| #inner)),
        }
    }

    // Input:
    //     #[retry(max_attempts = 3)]
    //     fn read(&mut self, path: String) -> Result<Bytes, IoError> { body }
    // Output, the layer of `layer` for a plain fn:
    //     __RESILIENCE_0.get_for::<Self>().layer_blocking(__resilience_reborrow, |_: &_| true, .., move |lent| {
    //         let __resilience_reborrow = (&mut *lent.0, &mut *lent.1);
    //         let outcome = body_with_blocking(move || { /* as `innermost`, in a closure */ }, ..);
    //         (lent, outcome)
    //     })
    /// Layer `i` of a plain fn, around `inner`, the `Outcome` of the layers inside it: as
    /// [`layer`](Self::layer), with each layer's `layer_blocking` and closures in place of
    /// futures.
    fn layer_blocking(
        &self,
        i: usize,
        layer: &Parsed,
        site: TokenStream,
        hooks: TokenStream,
        inner: TokenStream,
    ) -> TokenStream {
        match layer.table.layer {
            Layer::Once => quote!(#site.layer_blocking(#hooks move || #inner)),
            Layer::Retry => {
                let lent = Ident::new("__resilience_lent", Span::mixed_site());
                let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
                let (given, rebind) = self.lent_to(i);
                if rebind.is_empty() {
                    return quote! {
                        #site.layer_blocking((), #hooks move |()| ((), #inner))
                    };
                }
                quote! {
                    #site.layer_blocking(#given, #hooks move |#lent| {
                        #rebind
                        let #outcome = #inner;
                        (#lent, #outcome)
                    })
                }
            }
            Layer::Fallback => self.fallback(i, layer, site, hooks, inner),
            // `plain::check` refuses a hedge on a plain fn before any expansion.
            Layer::Hedge => quote!(::core::compile_error!("`#[hedge]` cannot guard a plain fn")),
        }
    }

    //     #[fallback(from_cache, from_replica)]
    //     async fn get_user(&self, id: UserId) -> Result<User, AppError> { body }
    // Output (the primary and each fallback are lent the arguments, as a retry's attempts):
    //     __RESILIENCE_0.get_for::<Self>().layer(__resilience_reborrow, |_: &_| true, move |lent| async move {
    //         let __resilience_reborrow = (&mut *lent.0,);
    //         let outcome = /* the layers below and the body */.await;
    //         (lent, outcome)
    //     })
    //     .or_lent(move |lent, error| async move {
    //         let __resilience_reborrow = (&mut *lent.0,);
    //         let outcome = body_with(async move {
    //             let id = (&&&Lend::of(&*id)).how()(id);                       // as the body sees it
    //             let ret = fallback_with::<Result<User, AppError>, _>((self, id, error)).to(from_cache).await;
    //             Guarded::into_result(ret)
    //         }, /* the error read for a rejection it carries */).await;
    //         (lent, outcome)
    //     })
    //     .or_lent(/* the same with from_replica */)
    //     .outcome()
    // On a plain fn: `layer_blocking`, closures in place of async blocks, `to_blocking`
    // for the fallback's call, and no `.await`.
    /// A `#[fallback]` layer: the chain of its fallbacks around the layers below it.
    fn fallback(
        &self,
        i: usize,
        layer: &Parsed,
        site: TokenStream,
        hooks: TokenStream,
        inner: TokenStream,
    ) -> TokenStream {
        let krate = &self.krate;
        let ret = &self.ret;
        let lent = Ident::new("__resilience_lent", Span::mixed_site());
        let outcome = Ident::new("__resilience_outcome", Span::mixed_site());
        let error = Ident::new("__resilience_error", Span::mixed_site());
        let value = Ident::new("__resilience_ret", Span::mixed_site());
        let unpack = self.unpack(i);
        let (given, reborrowed) = self.lent_to(i);
        let arguments = self.fallback_arguments();
        let blocking = self.blocking;
        let steps = layer.given.iter().filter_map(|(key, _, path)| {
            let (Role::Chain, Some(path)) = (&key.role, path) else {
                return None;
            };
            let span = path.span();
            let path = path.to_tokens(krate);
            let into_result =
                quote_spanned!(span=> <#ret as #krate::__private::Guarded>::into_result(#value));
            let rejection = quote! {
                |#error| {
                    use #krate::__private::{CarryNothing as _, CarryRejection as _};
                    (&&#krate::__private::Carry(#error)).rejection()
                }
            };
            if blocking {
                let call = quote_spanned! {span=>
                    #krate::__private::fallback_with::<#ret, _>((#(#arguments,)* #error,)).to_blocking(#path)
                };
                return Some(quote! {
                    .or_lent(move |#lent, #error| {
                        #reborrowed
                        let #outcome = #krate::__private::body_with_blocking(move || {
                            #unpack
                            let #value = #call;
                            #into_result
                        }, #rejection);
                        (#lent, #outcome)
                    })
                });
            }
            // At the fallback's path: a fallback of the wrong shape is reported there.
            let call = quote_spanned! {span=>
                #krate::__private::fallback_with::<#ret, _>((#(#arguments,)* #error,)).to(#path)
            };
            Some(quote! {
                .or_lent(move |#lent, #error| async move {
                    #reborrowed
                    let #outcome = #krate::__private::body_with(async move {
                        #unpack
                        let #value = #call.await;
                        #into_result
                    }, #rejection).await;
                    (#lent, #outcome)
                })
            })
        });
        if blocking {
            return quote! {
                #site.layer_blocking(#given, #hooks move |#lent| {
                    #reborrowed
                    let #outcome = #inner;
                    (#lent, #outcome)
                })
                #(#steps)*
                .outcome()
            };
        }
        quote! {
            #site.layer(#given, #hooks move |#lent| async move {
                #reborrowed
                let #outcome = #inner.await;
                (#lent, #outcome)
            })
            #(#steps)*
            .outcome()
        }
    }

    /// The guarded fn's arguments as a fallback is given them: the receiver first, then
    /// each argument (each name a pattern binds), by the names the body knows them by.
    fn fallback_arguments(&self) -> Vec<TokenStream> {
        let mut arguments = Vec::new();
        if let Some(receiver) = self.function.receiver() {
            arguments.push(if self.lending.rename_self || self.shared.rename_self {
                Ident::new("__resilience_self", Span::call_site()).into_token_stream()
            } else {
                receiver.self_token.into_token_stream()
            });
        }
        for argument in self.function.arguments() {
            let mut bound = Vec::new();
            crate::item::bindings(&argument.pat, &mut bound);
            arguments.extend(
                bound
                    .into_iter()
                    .map(|(ident, _)| ident.into_token_stream()),
            );
        }
        arguments
    }

    /// The body, as a future of the pipeline's `Outcome` (for a plain fn, the `Outcome`
    /// itself, from a closure called at once), its error read for a rejection it carries
    /// where its type implements `AsRejection`.
    ///
    /// `let __ret: Ret = { body }` reports a wrong type at the user's expression; the
    /// unreachable early `return` fixes the block's type before `?` in the body needs it
    /// (async-trait's device).
    fn innermost(&self) -> TokenStream {
        let krate = &self.krate;
        let ret = &self.ret;
        let body = &self.body;
        let unpack = self.unpack(self.layers.len());
        // An argument a key reads was used, though the body may not use it: under a retry
        // the body's copy is a binding of its own, which would be reported unused.
        let read_by_keys = match self.lending.lent.is_empty() {
            true => Vec::new(),
            false => self
                .layers
                .iter()
                .filter_map(|layer| layer.get("key"))
                .flat_map(|key| keys::arguments_read(key, self.function))
                .collect(),
        };
        let unpack = quote!(#unpack #(let _ = &#read_by_keys;)*);
        let value = Ident::new("__resilience_ret", Span::mixed_site());
        let into_result =
            quote_spanned!(ret.span()=> <#ret as #krate::__private::Guarded>::into_result(#value));
        let error = Ident::new("__resilience_error", Span::mixed_site());
        let rejection = quote! {
            |#error| {
                use #krate::__private::{CarryNothing as _, CarryRejection as _};
                (&&#krate::__private::Carry(#error)).rejection()
            }
        };
        if self.blocking {
            // A closure called at once: `return` and `?` in the body leave the body only.
            return quote! {
                #krate::__private::body_with_blocking(move || {
                    let #value = (move || {
                        #unpack
                        if let ::core::option::Option::Some(#value) = ::core::option::Option::None::<#ret> {
                            #[allow(unreachable_code)]
                            return #value;
                        }
                        let #value: #ret = { #body };
                        #[allow(unreachable_code)]
                        #value
                    })();
                    #into_result
                }, #rejection)
            };
        }
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
            }, #rejection)
        }
    }
}

/// How a retry writes the body's error for its events: with `Display` where the error type
/// has it, else `Debug`, else its type's name, so that every error type compiles (autoref
/// specialization, as `Carry`). The error is typed at the return type, since the layer's
/// closures are checked before its error type is known; a return type that is no `Result`
/// is reported there, as the same error as the pipeline's.
fn describe(krate: &TokenStream, ret: &Type) -> TokenStream {
    let error = Ident::new("__resilience_error", Span::mixed_site());
    let f = Ident::new("__resilience_f", Span::mixed_site());
    let ty = quote_spanned!(ret.span()=> &<#ret as #krate::__private::Guarded>::Err);
    quote! {
        |#error: #ty, #f: &mut ::core::fmt::Formatter<'_>| {
            use #krate::__private::{DescribeDebug as _, DescribeDisplay as _, DescribeType as _};
            (&&&#krate::__private::Describe(#error)).describe(#f)
        }
    }
}

/// What a hedged fn cannot have: an argument its attempts cannot share.
fn hedge_checks(function: &Function, parsed: &[Parsed], errors: &mut Errors) {
    let krate = parsed
        .iter()
        .find_map(|layer| layer.krate.as_ref())
        .map_or_else(|| quote!(::resilience), ToTokens::to_token_stream);
    sharing(function, &krate, errors);
}

/// A layer's config in a `const`, and the runtime's verdict on it as compile errors.
struct Checked {
    /// The `const`'s name.
    config: Ident,
    /// Its type: the attribute's config, or a `KeyedConfig` of it.
    ty: TokenStream,
    /// The `const` and the checks.
    checks: TokenStream,
}

/// Builds `layer`'s config with the runtime's setters and checks it with the runtime's
/// `validate`, in one `const _` per argument so that every refusal is reported, each at its
/// argument. A whole config the runtime accepts is accepted; a refused one is pinned on the
/// arguments that break a rule alone on top of the defaults, or on the argument the
/// refusal names, or else on the attribute (a field no argument set: `max_delay` when only
/// `base_delay` was given). Without `whole` (an attribute with other mistakes, whose refused
/// arguments were replaced by their defaults) each argument is checked alone.
fn checked(layer: &Parsed, krate: &TokenStream, whole: bool) -> Checked {
    let ty = Ident::new(layer.table.config, Span::call_site());
    let config = Ident::new("__RESILIENCE_CONFIG", Span::mixed_site());
    let message = Ident::new("__resilience_message", Span::mixed_site());
    let refuse = |span: Span, check: TokenStream| {
        quote_spanned! {span=>
            const _: () = if let ::core::option::Option::Some(#message) = #check {
                ::core::panic!("{}", #message)
            };
        }
    };
    let given: Vec<&str> = layer
        .given
        .iter()
        .filter(|(key, _, value)| matches!(key.role, Role::Setter) && value.is_some())
        .map(|(key, _, _)| key.name)
        .collect();
    let mut setters = TokenStream::new();
    let mut checks = TokenStream::new();
    let mut alone = Vec::new();
    for (key, path, value) in &layer.given {
        let (Role::Setter, Some(value)) = (&key.role, value) else {
            continue;
        };
        let setter = Ident::new(key.name, path.span());
        let span = value.span();
        let value = value.to_tokens(krate);
        let set = quote!(.#setter(#value));
        let verdict = quote!(#krate::#ty::DEFAULT #set.validate());
        let name = key.name;
        let check = match whole {
            true => {
                quote!(#krate::__private::refused(#verdict, #config.validate(), #name, &[#(#given),*]))
            }
            false => quote!(#krate::__private::refused_alone(#verdict)),
        };
        checks.extend(refuse(span, check));
        setters.extend(set);
        alone.push(verdict);
    }
    if whole {
        checks.extend(refuse(
            layer.span,
            quote!(#krate::__private::refused_besides(#config.validate(), &[#(#alone),*], &[#(#given),*])),
        ));
    }
    if let Some((_, name)) = &layer.name {
        let span = name.span();
        let name = name.to_tokens(krate);
        checks.extend(refuse(span, quote!(#krate::__private::refused_name(#name))));
    }
    let base = quote!(const #config: #krate::#ty = #krate::#ty::DEFAULT #setters;);
    if !layer.is_keyed() {
        return Checked {
            checks: quote!(#base #checks),
            ty: quote!(#krate::#ty),
            config,
        };
    }
    // A keyed layer: its settings on a `KeyedConfig` of the config, checked the same way.
    let keyed = Ident::new("__RESILIENCE_KEYED", Span::mixed_site());
    let keyed_ty = quote!(#krate::KeyedConfig<#krate::#ty>);
    let mut keyed_setters = TokenStream::new();
    for (key, path, value) in &layer.given {
        let (Role::Keyed, Some(value)) = (&key.role, value) else {
            continue;
        };
        let setter = Ident::new(key.name, path.span());
        let span = value.span();
        let value = value.to_tokens(krate);
        let set = quote!(.#setter(#value));
        let verdict = quote!(#krate::KeyedConfig::new(#krate::#ty::DEFAULT) #set.validate());
        checks.extend(refuse(
            span,
            quote!(#krate::__private::refused_alone(#verdict)),
        ));
        keyed_setters.extend(set);
    }
    Checked {
        checks: quote! {
            #base
            const #keyed: #keyed_ty = #krate::KeyedConfig::new(#config) #keyed_setters;
            #checks
        },
        ty: keyed_ty,
        config: keyed,
    }
}

fn site(i: usize) -> Ident {
    format_ident!("__RESILIENCE_{}", i, span = Span::mixed_site())
}

/// What layer `i`'s key found in its keyed instance, for the length of the call.
fn keyed_call(i: usize) -> Ident {
    format_ident!("__resilience_keyed_{}", i, span = Span::mixed_site())
}

/// Whether `Self` appears in the signature or the body (outside items nested in the body,
/// which have a `Self` of their own): an associated fn without a receiver, `fn new() ->
/// Counter { Self { .. } }`. One that names neither cannot be told from a free fn.
fn names_self(sig: &syn::Signature, body: &TokenStream) -> bool {
    fn any_self(tokens: TokenStream, skip_items: bool) -> bool {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Ident(ident) if ident == "Self" => return true,
                TokenTree::Ident(ident) if skip_items && starts_item(ident, tokens.get(i + 1)) => {
                    i = item_end(&tokens, i);
                }
                TokenTree::Group(group) if any_self(group.stream(), skip_items) => return true,
                _ => {}
            }
            i += 1;
        }
        false
    }
    // A signature holds no items: its `impl` is a type, `impl Into<Self>`.
    any_self(sig.inputs.to_token_stream(), false)
        || any_self(sig.output.to_token_stream(), false)
        || any_self(body.clone(), true)
}

#[cfg(test)]
mod names {
    use super::*;

    fn named_after_its_type(item: &str) -> bool {
        let function: Function = syn::parse_str(item).unwrap();
        names_self(&function.sig, function.body.as_ref().unwrap())
    }

    #[test]
    fn self_in_the_signature_or_the_body_but_not_in_a_nested_item() {
        assert!(named_after_its_type(
            "async fn new() -> Result<Self, E> { todo() }"
        ));
        assert!(named_after_its_type(
            "async fn from(x: impl Into<Self>) -> R { todo() }"
        ));
        assert!(named_after_its_type("async fn fresh() -> R { Ok(Self) }"));
        assert!(!named_after_its_type(
            "async fn free() -> R { struct S; impl S { fn f() -> Self { S } } Ok(()) }"
        ));
    }
}

/// `impl Trait` cannot be named in a turbofish; `_` lets the body's type fill it in.
fn elide_impl_trait(ty: Type) -> Type {
    match ty {
        Type::ImplTrait(_) => Type::Infer(syn::TypeInfer {
            attrs: Vec::new(),
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
        [args::all_keys(), OTHER_WORDS.to_vec()].concat()
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
            Just("fn f(&mut self, x: String) -> Result<u32, E> { self.n += 1; Ok(x.len()) }".to_owned()),
            Just("#[tokio::test] const fn f() -> impl Future<Output = R> { let body = async {}; body }".to_owned()),
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
        for table in args::ALL {
            let _ = attribute(table, args.clone(), item.clone());
        }
        let _ = stacked(args, item);
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

/// Two attributes of one kind naming one instance on one fn: each attribute is a layer, so
/// a call would go through the instance twice (a bulkhead of one waits on itself for its
/// own slot, a breaker counts each failure twice). Unnamed ones are two instances.
fn named_twice(parsed: &[Parsed], errors: &mut Errors) {
    let named = |layer: &Parsed| match &layer.name {
        Some((key, Value::Tokens(tokens))) => {
            let at = tokens.clone().into_iter().next().map(|token| token.span());
            Some((at.unwrap_or_else(|| key.span()), tokens.to_string()))
        }
        _ => None,
    };
    for (i, layer) in parsed.iter().enumerate() {
        let Some((span, name)) = named(layer) else {
            continue;
        };
        let attribute = layer.table.attribute;
        let earlier = parsed[..i]
            .iter()
            .filter(|earlier| earlier.table.attribute == attribute)
            .any(|earlier| named(earlier).is_some_and(|(_, other)| other == name));
        if earlier {
            errors.push_at(
                span,
                format_args!("a second `#[{attribute}]` named {name} on this fn: each attribute is a layer, so a call would pass through that instance twice; give this one another name, or remove it"),
            );
        }
    }
}
