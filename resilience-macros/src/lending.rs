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

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::{LitStr, Pat, Type};

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

/// Replaces the body's `self` with `__resilience_self`, leaving alone `self::` paths and
/// nested items (`fn`, `impl`, `trait`, `mod`), which have a `self` of their own. Inline
/// format arguments (`format!("{self}")`) are renamed too, in the string literals passed
/// to a macro (`name!(..)`), where format strings are.
pub(crate) fn rename_self(tokens: TokenStream) -> TokenStream {
    rename(tokens, false)
}

fn rename(tokens: TokenStream, macro_arguments: bool) -> TokenStream {
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
                let invoked = i >= 2
                    && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '!')
                    && matches!(&tokens[i - 2], TokenTree::Ident(_));
                let mut renamed = Group::new(group.delimiter(), rename(group.stream(), invoked));
                renamed.set_span(group.span());
                out.push(TokenTree::Group(renamed));
            }
            TokenTree::Literal(literal) if macro_arguments => {
                out.push(TokenTree::Literal(rename_in_format(literal)))
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// A string literal whose format arguments name `self` (`"{self}"`, `"{self:>8}"`), with
/// `self` renamed; any other literal as it is. A string that is not a format string keeps
/// its meaning: only `{self}` and `{self:` change, never `{{self}}`.
fn rename_in_format(literal: &Literal) -> Literal {
    let Ok(lit) = syn::parse2::<LitStr>(literal.to_token_stream()) else {
        return literal.clone();
    };
    let text = lit.value();
    if !text.contains("{self") {
        return literal.clone();
    }
    let mut renamed = String::with_capacity(text.len() + 16);
    let mut rest = text.as_str();
    while let Some(at) = rest.find('{') {
        renamed.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(escaped) = after.strip_prefix('{') {
            renamed.push_str("{{");
            rest = escaped;
        } else if let Some(tail) = after
            .strip_prefix("self")
            .filter(|tail| tail.starts_with('}') || tail.starts_with(':'))
        {
            renamed.push_str("{__resilience_self");
            rest = tail;
        } else {
            renamed.push('{');
            rest = after;
        }
    }
    renamed.push_str(rest);
    let mut out = Literal::string(&renamed);
    out.set_span(literal.span());
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(text: &str) -> String {
        let literal: Literal = text.parse().unwrap();
        rename_in_format(&literal).to_string()
    }

    #[test]
    fn format_arguments_naming_self_are_renamed() {
        assert_eq!(renamed(r#""{self}""#), r#""{__resilience_self}""#);
        assert_eq!(
            renamed(r#""a {self:?} b {self:>8}""#),
            r#""a {__resilience_self:?} b {__resilience_self:>8}""#
        );
        assert_eq!(
            renamed(r#""{{self}} {selfish}""#),
            r#""{{self}} {selfish}""#
        );
        assert_eq!(renamed(r#"r"{self}""#), r#""{__resilience_self}""#);
        assert_eq!(renamed("7"), "7");
    }

    #[test]
    fn only_strings_passed_to_macros_are_format_strings() {
        let body: TokenStream =
            r#"let plain = "{self}"; println!("{self} {}", "{self}"); self.go()"#
                .parse()
                .unwrap();
        assert_eq!(
            rename_self(body).to_string(),
            r#"let plain = "{self}" ; println ! ("{__resilience_self} {}" , "{__resilience_self}") ; __resilience_self . go ()"#
        );
    }
}
