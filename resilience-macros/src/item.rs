//! Reads the annotated fn: its signature parsed, its body kept as opaque tokens.
//!
//! Under `#[async_trait]` the fn we see is no longer `async`: it returns
//! `Pin<Box<dyn Future<Output = R> + Send + 'async_trait>>` and its body is
//! `Box::pin(async move { .. })`. That shape is recognised, and its `R` and the async
//! block's contents stand in for the return type and the body.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{
    Attribute, Block, Expr, FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature,
    Stmt, Token, Type, TypeParamBound, Visibility,
};

pub(crate) struct Function {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) defaultness: Option<Token![default]>,
    pub(crate) sig: Signature,
    /// The body's tokens, or `None` for a declaration without one (`fn f();` in a trait).
    pub(crate) body: Option<TokenStream>,
    /// The body's braces (or the `;`), so the emitted fn spans what the user wrote.
    pub(crate) body_span: Span,
}

impl Parse for Function {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let defaultness = input.parse()?;
        let sig: Signature = input.parse()?;
        let (body, body_span) = if input.peek(Token![;]) {
            let semi: Token![;] = input.parse()?;
            (None, semi.span)
        } else {
            let content;
            let brace = syn::braced!(content in input);
            (Some(content.parse()?), brace.span.join())
        };
        Ok(Self {
            attrs,
            vis,
            defaultness,
            sig,
            body,
            body_span,
        })
    }
}

/// How the fn produces its future.
pub(crate) enum Shape {
    /// `async fn f(..) -> R { body }`
    Async { ret: Type, body: TokenStream },
    /// `fn f(..) -> Pin<Box<dyn Future<Output = R> + Send + 'a>> { Box::pin(async move { body }) }`,
    /// as `#[async_trait]` writes it.
    AsyncTrait { ret: Type, body: TokenStream },
    /// `fn f(..) -> R { body }`: a plain fn, whose waits block the thread.
    Plain { ret: Type, body: TokenStream },
}

impl Function {
    /// The fn's shape, or `None` for a declaration without a body.
    pub(crate) fn shape(&self) -> Option<Shape> {
        let body = self.body.clone()?;
        let ret = match &self.sig.output {
            ReturnType::Type(_, ty) => (**ty).clone(),
            ReturnType::Default => {
                syn::parse_quote_spanned!(self.sig.paren_token.span.close()=> ())
            }
        };
        if self.sig.asyncness.is_some() {
            return Some(Shape::Async { ret, body });
        }
        let async_trait = boxed_future_output(&ret).zip(boxed_async_block(body.clone()));
        Some(match async_trait {
            Some((ret, body)) => Shape::AsyncTrait { ret, body },
            None => Shape::Plain { ret, body },
        })
    }

    /// Whether the body is what `#[tokio::main]` or `#[tokio::test]` make of an `async fn`'s
    /// (`let body = async { .. }; .. block_on(body)`): such an attribute written above ours
    /// expanded first, and the fn it left is no longer the one written.
    pub(crate) fn made_plain_by_a_runtime_attribute(&self) -> bool {
        let Some(body) = &self.body else {
            return false;
        };
        let tokens: Vec<String> = body
            .clone()
            .into_iter()
            .take(4)
            .map(|token| token.to_string())
            .collect();
        tokens == ["let", "body", "=", "async"]
    }

    /// The receiver, if the fn is a method.
    pub(crate) fn receiver(&self) -> Option<&syn::Receiver> {
        match self.sig.inputs.first()? {
            FnArg::Receiver(receiver) => Some(receiver),
            FnArg::Typed(_) => None,
        }
    }

    /// The typed arguments, without the receiver.
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &syn::PatType> {
        self.sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
    }
}

/// `R` of `Pin<Box<dyn Future<Output = R> + ..>>`.
pub(crate) fn boxed_future_output(ty: &Type) -> Option<Type> {
    let boxed = only_generic(ty, "Pin")?;
    let Type::TraitObject(object) = only_generic(boxed, "Box")? else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let future = bound.path.segments.last().filter(|s| s.ident == "Future")?;
        let PathArguments::AngleBracketed(args) = &future.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// The single type argument of a path type whose last segment is `name`.
fn only_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last().filter(|s| s.ident == name)?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

/// The contents of the async block in a body that is only `Box::pin(async move { .. })`.
fn boxed_async_block(body: TokenStream) -> Option<TokenStream> {
    let block: Block = syn::parse2(quote::quote!({ #body })).ok()?;
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    if func.path.segments.last()?.ident != "pin" || call.args.len() != 1 {
        return None;
    }
    let Expr::Async(inner) = call.args.first()? else {
        return None;
    };
    let stmts = &inner.block.stmts;
    Some(quote::quote!(#(#stmts)*))
}

/// Every name a pattern binds, with whether it binds `mut`.
pub(crate) fn bindings(pat: &Pat, out: &mut Vec<(syn::Ident, bool)>) {
    match pat {
        Pat::Ident(ident) => {
            out.push((ident.ident.clone(), ident.mutability.is_some()));
            if let Some((_, sub)) = &ident.subpat {
                bindings(sub, out);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| bindings(p, out)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| bindings(&f.pat, out)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|p| bindings(p, out)),
        Pat::Reference(reference) => bindings(&reference.pat, out),
        Pat::Paren(paren) => bindings(&paren.pat, out),
        Pat::Type(typed) => bindings(&typed.pat, out),
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                bindings(first, out);
            }
        }
        _ => {}
    }
}
