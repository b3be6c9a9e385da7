//! How the arguments reach a body that a retry runs more than once.
//!
//! An attempt cannot own what the next attempt needs, and a closure cannot lend out what it
//! captured. So every argument the body owns is lent to each attempt as `&mut T` through
//! the retry's lending tuple and handed back at the attempt's end, and the body sees:
//!
//! - `T`, a copy, when `T: Copy` (`id: u64` stays a `u64`);
//! - `&T` when `T: Sync` (most types);
//! - `&mut T` otherwise (`Cell<u32>`, `mpsc::Receiver<T>`): a `&T` of those is not `Send`,
//!   and the call's future stays `Send` whenever the body's is.
//!
//! The choice is made by the compiler (autoref specialization, `__private::Lend`), not by
//! reading the type's name. Exclusive arguments (`&mut self`, `&mut T`, `mut x`) are lent
//! as `&mut T` as they are; shared ones (`&self`, `&T`) are `Copy` and captured directly.
//!
//! ```text
//! Input:   async fn charge(&mut self, card: Card, id: u64) -> R { body }
//! Prelude: let mut card = card; let mut id = id;
//!          let __resilience_reborrow = (self, &mut card, &mut id);
//! Attempt: let (__resilience_self, card, id) = __resilience_reborrow;   // each `&mut`
//!          let card = (&&&Lend::of(&*card)).how()(card);                // `&Card`
//!          let id = (&&&Lend::of(&*id)).how()(id);                      // `u64`
//!          body, with `self` renamed `__resilience_self`
//! ```

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Pat, ReceiverKind, Type};

use crate::item::{bindings, Function};

/// The lending tuple and how the body gets its arguments back from it.
#[derive(Default)]
pub(crate) struct Lending {
    /// Rebinds owned arguments as `mut` and builds the tuple of `&mut` references.
    pub(crate) prelude: TokenStream,
    /// The lent references, in tuple order.
    pub(crate) lent: Vec<TokenStream>,
    /// Inside an attempt: unpacks the tuple into the names the body knows.
    pub(crate) unpack: TokenStream,
    /// Whether the body's `self` must become `__resilience_self`: a closure parameter
    /// cannot be called `self`.
    pub(crate) rename_self: bool,
}

impl Lending {
    pub(crate) fn of(function: &Function, krate: &TokenStream) -> Self {
        let mut owned = Vec::new();
        let mut exclusive = Vec::new();
        let renamed = Ident::new("__resilience_self", Span::call_site());
        if let Some(receiver) = function.receiver() {
            let self_token = &receiver.self_token;
            let by_reference = match &receiver.kind {
                ReceiverKind::Reference(_, _, mutability) => Some(mutability.is_some()),
                ReceiverKind::Typed(_, ty) => match unwrap_group(ty) {
                    Type::Reference(reference) => Some(reference.mutability.is_some()),
                    _ => None,
                },
                // `self` and `mut self`; the enum is non-exhaustive.
                _ => None,
            };
            match by_reference {
                Some(false) => {}
                Some(true) => exclusive.push((quote!(#self_token), renamed)),
                None if receiver.mutability.is_some() => {
                    exclusive.push((quote!(&mut #self_token), renamed))
                }
                None => owned.push((self_token.to_token_stream(), renamed)),
            }
        }
        for argument in function.arguments() {
            match (&*argument.pat, unwrap_group(&argument.ty)) {
                (Pat::Ident(pat), ty) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    let ident = &pat.ident;
                    match ty {
                        Type::Reference(r) if r.mutability.is_some() => {
                            exclusive.push((quote!(#ident), ident.clone()))
                        }
                        _ if pat.mutability.is_some() => {
                            exclusive.push((quote!(&mut #ident), ident.clone()))
                        }
                        Type::Reference(_) => {}
                        _ => owned.push((ident.to_token_stream(), ident.clone())),
                    }
                }
                (pat, _) => {
                    let mut bound = Vec::new();
                    bindings(pat, &mut bound);
                    for (ident, mutable) in bound {
                        if mutable {
                            exclusive.push((quote!(&mut #ident), ident));
                        } else {
                            owned.push((ident.to_token_stream(), ident));
                        }
                    }
                }
            }
        }
        let mut lending = Lending::default();
        let reborrow = Ident::new("__resilience_reborrow", Span::mixed_site());
        let mut names = Vec::new();
        for (reference, name) in exclusive {
            lending.rename_self |= name == "__resilience_self";
            lending.lent.push(reference);
            names.push(name);
        }
        let mut convert = TokenStream::new();
        for (from, name) in owned {
            lending.rename_self |= name == "__resilience_self";
            lending.prelude.extend(quote!(let mut #name = #from;));
            lending.lent.push(quote!(&mut #name));
            convert.extend(
                quote!(let #name = (&&&#krate::__private::Lend::of(&*#name)).how()(#name);),
            );
            names.push(name);
        }
        if lending.lent.is_empty() {
            return lending;
        }
        let lent = &lending.lent;
        lending
            .prelude
            .extend(quote!(let #reborrow = (#(#lent,)*);));
        let uses = (!convert.is_empty()).then(|| {
            quote! {
                #[allow(unused_imports)]
                use #krate::__private::{LendCopy as _, LendMut as _, LendShared as _};
            }
        });
        lending.unpack = quote! {
            let (#(#names,)*) = #reborrow;
            #uses
            #convert
        };
        lending
    }
}

fn unwrap_group(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => unwrap_group(&group.elem),
        Type::Paren(paren) => unwrap_group(&paren.elem),
        other => other,
    }
}
