//! The body's `self`, renamed for a retried body.
//!
//! Under `#[retry]` the body runs in a closure that is lent the receiver, and a closure
//! parameter cannot be called `self`, so the body's `self` becomes `__resilience_self`.
//!
//! ```text
//! Input:   self.calls += 1; let s = self::helper(); println!("{self} {:?}", "{self}");
//! Output:  __resilience_self.calls += 1; let s = self::helper(); println!("{__resilience_self} {:?}", "{self}");
//! ```
//!
//! `self::` paths and nested items (`fn`, `impl`, `trait`, `mod`, which have a `self` of
//! their own) are left alone. Inline format arguments (`{self}`, `{self:?}`) are renamed in
//! the format string of the macros known to take one, at its position, and nowhere else:
//! any other string keeps its bytes.

use proc_macro2::{Delimiter, Group, Ident, Literal, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::LitStr;

/// Replaces the body's `self` with `__resilience_self`.
pub(crate) fn rename_self(tokens: TokenStream) -> TokenStream {
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
                let end = item_end(&tokens, i);
                out.extend_from_slice(&tokens[i..=end]);
                i = end;
            }
            TokenTree::Group(group) => {
                let mut stream = rename_self(group.stream());
                if let Some(position) = invoked_macro(&tokens[..i]).and_then(format_string) {
                    stream = rename_format_string(stream, position);
                }
                let mut renamed = Group::new(group.delimiter(), stream);
                renamed.set_span(group.span());
                out.push(TokenTree::Group(renamed));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// The name of the macro whose arguments follow `before` (`format` in `format!(..)`).
fn invoked_macro(before: &[TokenTree]) -> Option<String> {
    match before {
        [.., TokenTree::Ident(name), TokenTree::Punct(bang)] if bang.as_char() == '!' => {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// Where a macro takes its format string.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// The argument at this index.
    At(usize),
    /// The first argument that is a lone string literal (`log` and `tracing`, whose
    /// format string follows `target:` and fields).
    FirstLiteral,
}

fn format_string(name: String) -> Option<Position> {
    Some(match name.as_str() {
        "format" | "format_args" | "print" | "println" | "eprint" | "eprintln" | "panic"
        | "unreachable" | "todo" | "unimplemented" => Position::At(0),
        "write" | "writeln" | "assert" | "debug_assert" => Position::At(1),
        "assert_eq" | "assert_ne" | "debug_assert_eq" | "debug_assert_ne" => Position::At(2),
        "trace" | "debug" | "info" | "warn" | "error" | "event" | "bail" | "anyhow" | "ensure" => {
            Position::FirstLiteral
        }
        _ => return None,
    })
}

/// The macro arguments with `{self}` renamed in the format string at `position`.
fn rename_format_string(stream: TokenStream, position: Position) -> TokenStream {
    let mut tokens: Vec<TokenTree> = stream.into_iter().collect();
    // Each argument's tokens, as index ranges between top-level commas.
    let mut arguments = Vec::new();
    arguments.push(0..0);
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Punct(p) if p.as_char() == ',' && p.spacing() == Spacing::Alone => {
                arguments.push(i + 1..i + 1)
            }
            _ => {
                if let Some(last) = arguments.last_mut() {
                    last.end = i + 1;
                }
            }
        }
    }
    let lone_literal = |range: &std::ops::Range<usize>| {
        range.len() == 1 && matches!(tokens[range.start], TokenTree::Literal(_))
    };
    let target = match position {
        Position::At(n) => arguments.get(n).filter(|range| lone_literal(range)),
        Position::FirstLiteral => arguments.iter().find(|range| lone_literal(range)),
    };
    if let Some(range) = target.cloned() {
        if let TokenTree::Literal(literal) = &tokens[range.start] {
            tokens[range.start] = TokenTree::Literal(rename_in_format(literal));
        }
    }
    tokens.into_iter().collect()
}

/// A string literal whose format arguments name `self` (`"{self}"`, `"{self:>8}"`), with
/// `self` renamed; any other literal as it is. Only `{self}` and `{self:` change, never
/// `{{self}}`.
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
    matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
}

/// The index of the token that ends the item starting at `start`: its body's braces, or
/// its `;`.
pub(crate) fn item_end(tokens: &[TokenTree], start: usize) -> usize {
    tokens[start..]
        .iter()
        .position(|token| match token {
            TokenTree::Group(group) => group.delimiter() == Delimiter::Brace,
            TokenTree::Punct(punct) => punct.as_char() == ';',
            _ => false,
        })
        .map_or(tokens.len() - 1, |at| start + at)
}

/// `fn name`, `impl`, `trait`, `mod`: an item with its own `self` and `Self`. (`fn(u32)`
/// is a type.)
pub(crate) fn starts_item(ident: &Ident, next: Option<&TokenTree>) -> bool {
    (ident == "fn" && matches!(next, Some(TokenTree::Ident(_))))
        || ident == "impl"
        || ident == "trait"
        || ident == "mod"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(body: &str) -> String {
        rename_self(body.parse().unwrap()).to_string()
    }

    #[test]
    fn format_arguments_naming_self_are_renamed_in_format_strings() {
        assert_eq!(
            renamed(r#"format!("{self} {self:?} {self:>8}")"#),
            r#"format ! ("{__resilience_self} {__resilience_self:?} {__resilience_self:>8}")"#
        );
        assert_eq!(
            renamed(r#"write!(f, "{self}")"#),
            r#"write ! (f , "{__resilience_self}")"#
        );
        assert_eq!(
            renamed(r#"tracing::info!(target: "t", id = 1, "{self}")"#),
            r#"tracing :: info ! (target : "t" , id = 1 , "{__resilience_self}")"#
        );
        assert_eq!(
            renamed(r#"println!("{{self}} {selfish}")"#),
            r#"println ! ("{{self}} {selfish}")"#
        );
    }

    #[test]
    fn every_other_string_keeps_its_bytes() {
        assert_eq!(
            renamed(
                r#"let plain = "{self}"; println!("{} {}", "{self}", self.id); assert_eq!(s, "{self}"); json!({"t": "{self}"})"#
            ),
            r#"let plain = "{self}" ; println ! ("{} {}" , "{self}" , __resilience_self . id) ; assert_eq ! (s , "{self}") ; json ! ({ "t" : "{self}" })"#
        );
    }

    #[test]
    fn self_paths_and_nested_items_keep_their_self() {
        assert_eq!(
            renamed("self::helper(self); impl X { fn f(&self) -> Self { self.clone() } }"),
            "self :: helper (__resilience_self) ; impl X { fn f (& self) -> Self { self . clone () } }"
        );
    }
}
