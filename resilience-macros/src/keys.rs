//! `key = expr`: checks that the expression is over the fn's arguments.
//!
//! The expression is evaluated in the fn, so rustc resolves its names; but a name that is
//! not an argument may still resolve (a `static`, a `const`), and a key that names no
//! argument is the same key for every call: one state shared by all, a keyed instance in
//! name only. So the expression must name an argument; when it names none, the first
//! name it reads is reported, with the argument it was likely meant to be.

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::ToTokens;

use crate::args::{Errors, Value};
use crate::item::{bindings, Function};

/// Reports `key` if it names none of `function`'s arguments.
pub(crate) fn check(key: &Value, function: &Function, errors: &mut Errors) {
    let Value::Tokens(tokens) = key else {
        return;
    };
    let mut arguments: Vec<String> = Vec::new();
    if function.receiver().is_some() {
        arguments.push("self".to_owned());
    }
    for argument in function.arguments() {
        let mut bound = Vec::new();
        bindings(&argument.pat, &mut bound);
        arguments.extend(bound.into_iter().map(|(ident, _)| ident.to_string()));
    }
    let mut names = Vec::new();
    read_names(tokens.clone(), &mut names);
    if names
        .iter()
        .any(|name| arguments.contains(&name.to_string()))
    {
        return;
    }
    let list = match arguments.as_slice() {
        [] => "it has none".to_owned(),
        all => all
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let fn_name = &function.sig.ident;
    match names.first() {
        Some(name) => {
            let candidates: Vec<&str> = arguments.iter().map(String::as_str).collect();
            let hint = crate::args::nearest(&name.to_string(), &candidates)
                .map(|near| format!("; did you mean `{near}`?"))
                .unwrap_or_default();
            errors.push(
                name,
                format_args!(
                    "`key` must be an expression over the arguments of `{fn_name}` ({list}); `{name}` is not one{hint}"
                ),
            );
        }
        None => errors.push(
            tokens.clone().into_token_stream(),
            format_args!(
                "`key` must be an expression over the arguments of `{fn_name}` ({list}), such as `key = user.id`: a key that names no argument is the same for every call"
            ),
        ),
    }
}

/// The arguments of `function` (by the idents its signature binds, `self` left out) that
/// `key` reads.
pub(crate) fn arguments_read(key: &Value, function: &Function) -> Vec<Ident> {
    let Value::Tokens(tokens) = key else {
        return Vec::new();
    };
    let mut names = Vec::new();
    read_names(tokens.clone(), &mut names);
    let mut read = Vec::new();
    for argument in function.arguments() {
        let mut bound = Vec::new();
        bindings(&argument.pat, &mut bound);
        read.extend(
            bound
                .into_iter()
                .map(|(ident, _)| ident)
                .filter(|ident| names.iter().any(|name| name == ident)),
        );
    }
    read
}

/// The names an expression reads as values: identifiers that do not follow `.` (a field or
/// method) or `::`, and are not followed by `::`, `(` or `!` (a path, a fn, a macro).
fn read_names(tokens: TokenStream, out: &mut Vec<Ident>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            TokenTree::Group(group) => read_names(group.stream(), out),
            TokenTree::Ident(ident) => {
                let before = i.checked_sub(1).and_then(|j| tokens.get(j));
                let after = tokens.get(i + 1);
                let member = matches!(before, Some(TokenTree::Punct(p)) if p.as_char() == '.' || p.as_char() == ':');
                let path_or_call = matches!(after, Some(TokenTree::Punct(p)) if p.as_char() == ':' || p.as_char() == '!')
                    || matches!(after, Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis);
                let keyword = matches!(
                    ident.to_string().as_str(),
                    "as" | "move"
                        | "ref"
                        | "mut"
                        | "true"
                        | "false"
                        | "if"
                        | "else"
                        | "match"
                        | "in"
                        | "let"
                );
                if !member && !path_or_call && !keyword {
                    out.push(ident.clone());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(expr: &str) -> Vec<String> {
        let mut out = Vec::new();
        read_names(expr.parse().unwrap(), &mut out);
        out.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_names_an_expression_reads_are_its_values_not_its_members_or_paths() {
        assert_eq!(names("user.id"), ["user"]);
        assert_eq!(names("host.as_str()"), ["host"]);
        assert_eq!(names("(tenant, user.id)"), ["tenant", "user"]);
        assert_eq!(names("Key::of(&req)"), ["req"]);
        assert_eq!(names("format!(\"{}\", a)"), ["a"]);
        assert_eq!(names("self.host"), ["self"]);
        assert!(names("LIMIT").contains(&"LIMIT".to_owned()));
        assert!(names("42").is_empty());
    }
}
