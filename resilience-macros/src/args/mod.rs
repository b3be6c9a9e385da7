//! Argument parsing, driven by one key table per attribute.
//!
//! Each attribute is a [`Table`] in its own file: its keys, what each accepts and where its
//! value goes (a config setter, or a hook the layer is given). This module reads any
//! attribute's arguments against its table: duplicates, unknown keys with "did you mean",
//! required keys, and the values themselves ([`value`]). It only parses: whether a value is
//! in range is the runtime's `const fn validate`, run where the expansion builds the config.

pub(crate) mod bulkhead;
pub(crate) mod circuit_breaker;
mod errors;
pub(crate) mod rate_limit;
pub(crate) mod retry;
pub(crate) mod timeout;
mod value;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Expr, Path};

pub(crate) use errors::Errors;
pub(crate) use value::Value;
use value::ValueKind;

/// Every attribute, for the expansion to recognise siblings by name.
pub(crate) const ALL: &[&Table] = &[
    &circuit_breaker::TABLE,
    &retry::TABLE,
    &timeout::TABLE,
    &bulkhead::TABLE,
    &rate_limit::TABLE,
];

/// One attribute: its name, its config type, and its keys.
pub(crate) struct Table {
    /// `retry` in `#[retry]`.
    pub(crate) attribute: &'static str,
    /// The runtime config type the setters build, as the facade exports it.
    pub(crate) config: &'static str,
    /// How the pipeline calls its layer.
    pub(crate) layer: Layer,
    /// The key a first argument without `key =` stands for (`#[timeout("5s")]`).
    pub(crate) positional: Option<&'static str>,
    /// Keys that must be given, and an example that gives them.
    pub(crate) required: &'static [&'static str],
    pub(crate) example: &'static str,
    pub(crate) keys: &'static [Key],
}

/// How the pipeline calls a layer: `site.layer(hooks.., next)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer {
    /// `next` is called once: `move || inner`.
    Once,
    /// `next` is called once per attempt, lent what the body borrows.
    Retry,
}

/// One `key = value` an attribute accepts.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    kind: ValueKind,
    pub(crate) role: Role,
}

/// Where a key's value goes.
pub(crate) enum Role {
    /// `Config::DEFAULT.key(value)`: a config field, checked by the runtime's `validate`.
    Setter,
    /// An argument of the layer, typed by `__private::<wrap>::<Ret>(path)`, or `default`
    /// when not given.
    Hook {
        wrap: &'static str,
        default: &'static str,
    },
}

impl Key {
    pub(crate) const fn setter(name: &'static str, kind: ValueKind) -> Self {
        Self {
            name,
            kind,
            role: Role::Setter,
        }
    }

    pub(crate) const fn hook(
        name: &'static str,
        expected: &'static str,
        wrap: &'static str,
        default: &'static str,
    ) -> Self {
        Self {
            name,
            kind: ValueKind::Function(expected),
            role: Role::Hook { wrap, default },
        }
    }
}

/// One attribute's arguments, read against its table.
pub(crate) struct Parsed {
    pub(crate) table: &'static Table,
    /// Each key given, with its value; a key whose value was refused is kept with `None`,
    /// so it is not also reported missing.
    pub(crate) given: Vec<(&'static Key, Path, Option<Value>)>,
    pub(crate) name: Option<(Path, Value)>,
    pub(crate) krate: Option<Path>,
    /// Where errors about the whole attribute go: the attribute itself.
    pub(crate) span: Span,
}

impl Parsed {
    /// The value of `key`, if it was given and accepted.
    pub(crate) fn get(&self, key: &str) -> Option<(&Path, &Value)> {
        self.given
            .iter()
            .find(|(k, _, _)| k.name == key)
            .and_then(|(_, path, value)| Some((path, value.as_ref()?)))
    }
}

/// Reads `#[attribute(tokens)]`; a syntax error stops, any other mistake is recorded in
/// `errors` and reading goes on, so one build shows every mistake.
pub(crate) fn parse(
    table: &'static Table,
    tokens: TokenStream,
    span: Span,
    errors: &mut Errors,
) -> Parsed {
    let mut parsed = Parsed {
        table,
        given: Vec::new(),
        name: None,
        krate: None,
        span,
    };
    let parser = |input: ParseStream| {
        if let Some(key) = table.positional {
            positional(table, key, input, &mut parsed, errors)?;
        }
        let rest: TokenStream = input.parse()?;
        syn::meta::parser(|meta| {
            read(
                table,
                &meta.path,
                meta_value(&meta, errors)?,
                &mut parsed,
                errors,
            );
            Ok(())
        })
        .parse2(rest)
    };
    if let Err(error) = parser.parse2(tokens.clone()) {
        errors.add(friendlier(table, &tokens, error));
    }
    let missing: Vec<String> = table
        .required
        .iter()
        .filter(|key| !parsed.given.iter().any(|(k, _, _)| k.name == **key))
        .map(|key| format!("`{key}`"))
        .collect();
    if !missing.is_empty() {
        errors.push_at(
            span,
            format_args!(
                "`#[{}]` needs {}: `{}`",
                table.attribute,
                missing.join(" and "),
                table.example
            ),
        );
    }
    parsed
}

/// The first argument of an attribute with a positional key, unless it is `key = ...`.
fn positional(
    table: &'static Table,
    key: &'static str,
    input: ParseStream,
    parsed: &mut Parsed,
    errors: &mut Errors,
) -> syn::Result<()> {
    let keyed =
        input.peek(<syn::Ident as syn::ext::IdentExt>::peek_any) && input.peek2(syn::Token![=]);
    if input.is_empty() || keyed {
        return Ok(());
    }
    let expr: Expr = input.parse()?;
    let path: Path = syn::Ident::new(key, expr.span()).into();
    read(table, &path, Some(expr), parsed, errors);
    if !input.is_empty() {
        input.parse::<syn::Token![,]>()?;
    }
    Ok(())
}

/// Records `path = expr` against the table.
fn read(
    table: &'static Table,
    path: &Path,
    expr: Option<Expr>,
    parsed: &mut Parsed,
    errors: &mut Errors,
) {
    let name = key_name(path);
    let duplicate = |errors: &mut Errors| {
        errors.push(path, format_args!("duplicate `{name}` argument"));
    };
    match name.as_str() {
        "name" => {
            let value = expr.and_then(|expr| value::name(&expr, errors));
            if parsed.name.is_some() {
                return duplicate(errors);
            }
            if let Some(value) = value {
                parsed.name = Some((path.clone(), value));
            }
        }
        "crate" => {
            let value = expr.and_then(|expr| value::krate(&expr, errors));
            if parsed.krate.is_some() {
                return duplicate(errors);
            }
            parsed.krate = value;
        }
        _ => match table.keys.iter().find(|key| key.name == name) {
            Some(key) => {
                let value = expr.and_then(|expr| key.kind.read(key.name, &expr, errors));
                if parsed.given.iter().any(|(k, _, _)| k.name == key.name) {
                    return duplicate(errors);
                }
                parsed.given.push((key, path.clone(), value));
            }
            None => errors.push(path, unknown(table, &name)),
        },
    }
}

/// The value after `key =`; a key without one is reported and `None` returned, and what
/// follows it skipped, so the arguments after it are still checked.
fn meta_value(meta: &syn::meta::ParseNestedMeta, errors: &mut Errors) -> syn::Result<Option<Expr>> {
    if meta.input.peek(syn::Token![=]) {
        return meta.value()?.parse().map(Some);
    }
    errors.push(
        &meta.path,
        format_args!("`{0}` needs a value: `{0} = ...`", key_name(&meta.path)),
    );
    skip_value(meta)?;
    Ok(None)
}

/// Consumes a `(...)` after a key.
fn skip_value(meta: &syn::meta::ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|nested| {
            if nested.input.peek(syn::Token![=]) {
                nested.value()?.parse::<Expr>()?;
            }
            skip_value(&nested)
        })?;
    }
    Ok(())
}

/// syn's message for a token where a key belongs ("unexpected literal") says nothing of
/// what is accepted; this one does.
fn friendlier(table: &Table, tokens: &TokenStream, error: syn::Error) -> syn::Error {
    let first = tokens.clone().into_iter().next();
    match first {
        Some(TokenTree::Literal(literal)) if table.positional.is_none() => {
            let example = table.keys.first().map_or("name", |key| key.name);
            syn::Error::new(
                literal.span(),
                format_args!(
                    "`#[{}]` takes `key = value` arguments, such as `{example} = ...`; accepted keys: {}",
                    table.attribute,
                    accepted(table)
                ),
            )
        }
        _ => error,
    }
}

pub(crate) fn key_name(path: &Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}

fn accepted(table: &Table) -> String {
    keys(table)
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn keys(table: &Table) -> impl Iterator<Item = &'static str> + '_ {
    table
        .keys
        .iter()
        .map(|key| key.name)
        .chain(["name", "crate"])
}

/// "unknown `#[retry]` argument `max_attempt`; did you mean `max_attempts`?"
fn unknown(table: &Table, key: &str) -> String {
    let keys: Vec<&str> = keys(table).collect();
    match errors::nearest(key, &keys) {
        Some(near) => format!(
            "unknown `#[{}]` argument `{key}`; did you mean `{near}`?",
            table.attribute
        ),
        None => format!(
            "unknown `#[{}]` argument `{key}`; expected one of {}",
            table.attribute,
            accepted(table)
        ),
    }
}

/// The attribute's table by its name, `retry` for `#[retry]`.
pub(crate) fn table(attribute: &str) -> Option<&'static Table> {
    ALL.iter()
        .copied()
        .find(|table| table.attribute == attribute)
}

/// Every key of every attribute, for the parser's fuzz vocabulary.
#[cfg(test)]
pub(crate) fn all_keys() -> Vec<&'static str> {
    ALL.iter().flat_map(|table| keys(table)).collect()
}
