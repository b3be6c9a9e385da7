//! How the arguments reach a body that a hedge runs several times at once.
//!
//! Attempts of a hedged call run at the same time, so none can have an argument to itself:
//! each shares it. The fn's future owns the arguments; a tuple of shared references to
//! them is copied into each attempt, and the body sees, as under `#[retry]`:
//!
//! - `T`, a copy, when `T: Copy`;
//! - `&T` otherwise.
//!
//! An argument the body may change (`&mut self`, `&mut T`, `mut x`) cannot be shared: that
//! is a compile error on it, saying why.
//!
//! ```text
//! Input:   async fn search(&self, query: Query, limit: u32) -> R { body }
//! Prelude: let __resilience_shared = (&query, &limit);
//! Attempt: let (query, limit) = __resilience_shared;
//!          let query = (&&Share::of(query)).how()(query);   // `&Query`
//!          let limit = (&&Share::of(limit)).how()(limit);   // `u32`
//!          body
//! ```

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Pat, ReceiverKind, Type};

use crate::args::Errors;
use crate::item::{bindings, Function};
use crate::lending::Lending;

/// The arguments shared by the attempts of a hedge, in the shape of a [`Lending`] with
/// nothing lent: a prelude that builds the tuple of shared references, and the unpacking
/// each attempt does. Reports each argument that cannot be shared.
pub(crate) fn sharing(function: &Function, krate: &TokenStream, errors: &mut Errors) -> Lending {
    let refuse = |errors: &mut Errors, tokens: &dyn ToTokens, what: &str| {
        errors.push(
            tokens,
            format_args!(
                "`#[hedge]` cannot take {what}: its attempts run at the same time and share the arguments, \
                 so none of them can change one; take it by value or by `&`"
            ),
        );
    };
    let renamed = Ident::new("__resilience_self", Span::call_site());
    let mut shared: Vec<(TokenStream, Ident)> = Vec::new();
    let mut rename_self = false;
    if let Some(receiver) = function.receiver() {
        let self_token = &receiver.self_token;
        let reference = match &receiver.kind {
            ReceiverKind::Reference(_, _, mutability) => Some(mutability.is_some()),
            ReceiverKind::Typed(_, ty) => match ty.as_ref() {
                Type::Reference(reference) => Some(reference.mutability.is_some()),
                _ => None,
            },
            _ => None,
        };
        match reference {
            // `&self` is shared already.
            Some(false) => {}
            Some(true) => refuse(errors, receiver, "`&mut self`"),
            None if receiver.mutability.is_some() => refuse(errors, receiver, "`mut self`"),
            None => {
                rename_self = true;
                shared.push((quote!(&#self_token), renamed));
            }
        }
    }
    for argument in function.arguments() {
        if let Type::Reference(reference) = &*argument.ty {
            if reference.mutability.is_some() {
                refuse(errors, &argument.ty, "a `&mut` argument");
                continue;
            }
        }
        let mut bound = Vec::new();
        bindings(&argument.pat, &mut bound);
        let is_reference = matches!(&*argument.ty, Type::Reference(_));
        let plain = matches!(&*argument.pat, Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none());
        for (ident, mutable) in bound {
            if mutable {
                refuse(errors, &argument.pat, "a `mut` argument");
            } else if !(is_reference && plain) {
                // A `&T` argument is shared already; anything else the fn's future owns.
                shared.push((quote!(&#ident), ident));
            }
        }
    }
    let mut lending = Lending {
        rename_self,
        ..Lending::default()
    };
    if shared.is_empty() {
        return lending;
    }
    let tuple = Ident::new("__resilience_shared", Span::mixed_site());
    let references = shared.iter().map(|(reference, _)| reference);
    let names: Vec<&Ident> = shared.iter().map(|(_, name)| name).collect();
    lending.prelude = quote!(let #tuple = (#(#references,)*););
    lending.unpack = quote! {
        let (#(#names,)*) = #tuple;
        #[allow(unused_imports)]
        use #krate::__private::{ShareCopy as _, ShareRef as _};
        #(let #names = (&&#krate::__private::Share::of(#names)).how()(#names);)*
    };
    lending
}
