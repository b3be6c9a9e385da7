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
pub(crate) mod fallback;
pub(crate) mod hedge;
pub(crate) mod rate_limit;
pub(crate) mod retry;
pub(crate) mod timeout;
mod value;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Path};

pub(crate) use errors::{nearest, Errors};
pub(crate) use value::Value;
use value::ValueKind;

/// Every attribute, for the expansion to recognise siblings by name.
pub(crate) const ALL: &[&Table] = &[
    &circuit_breaker::TABLE,
    &retry::TABLE,
    &timeout::TABLE,
    &bulkhead::TABLE,
    &rate_limit::TABLE,
    &fallback::TABLE,
    &hedge::TABLE,
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
    /// Like `Retry`, the primary is lent what the body borrows; then each fallback of the
    /// chain is, in turn.
    Fallback,
    /// `next` is called once per attempt, and attempts run at the same time: each shares
    /// what the body borrows.
    Hedge,
}

/// One `key = value` an attribute accepts.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    kind: ValueKind,
    pub(crate) role: Role,
    /// Keys of which one must be given too for this one to mean anything, and why.
    needs: (&'static [&'static str], &'static str),
    /// Keys beside which this one means nothing, and why.
    excludes: (&'static [&'static str], &'static str),
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
    /// `key = expr`: the instance is keyed, one state per value of `expr`.
    Key,
    /// `KeyedConfig::new(config).key(value)`: a setting of the keyed instance, which needs
    /// `key`.
    Keyed,
    /// One step of a list the layer is given, in written order; the key may be given more
    /// than once (the fallbacks of `#[fallback(a, b)]`).
    Chain,
}

impl Key {
    /// A key with no other key it needs or excludes.
    const fn new(name: &'static str, kind: ValueKind, role: Role) -> Self {
        Self {
            name,
            kind,
            role,
            needs: (&[], ""),
            excludes: (&[], ""),
        }
    }

    pub(crate) const fn setter(name: &'static str, kind: ValueKind) -> Self {
        Self::new(name, kind, Role::Setter)
    }

    /// The key, refused unless one of `keys` is given too: a setting that only matters
    /// with another (the runtime's `validate` checks fields one by one, so it cannot).
    pub(crate) const fn needs(self, keys: &'static [&'static str], why: &'static str) -> Self {
        Self {
            needs: (keys, why),
            ..self
        }
    }

    /// The key, refused beside any of `keys`, which make it mean nothing (a setting
    /// replaced by another; the runtime's `validate` sees values, not which were written).
    pub(crate) const fn excludes(self, keys: &'static [&'static str], why: &'static str) -> Self {
        Self {
            excludes: (keys, why),
            ..self
        }
    }

    /// `key = expr`, the expression over the fn's arguments that keys the instance.
    pub(crate) const fn keying() -> Self {
        Self::new("key", ValueKind::Expression, Role::Key)
    }

    /// A setting of the keyed instance (`max_keys`), given only with `key`.
    pub(crate) const fn keyed(name: &'static str, kind: ValueKind) -> Self {
        Self::new(name, kind, Role::Keyed).needs(
            &["key"],
            ": it sets how a keyed instance holds its keys; add `key = ...`, an expression over the fn's arguments",
        )
    }

    pub(crate) const fn chain(name: &'static str, expected: &'static str) -> Self {
        Self::new(name, ValueKind::Function(expected), Role::Chain)
    }

    pub(crate) const fn hook(
        name: &'static str,
        expected: &'static str,
        wrap: &'static str,
        default: &'static str,
    ) -> Self {
        Self::new(
            name,
            ValueKind::Function(expected),
            Role::Hook { wrap, default },
        )
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
    /// Whether its arguments were read without a mistake, so rules between them can be
    /// checked too.
    pub(crate) clean: bool,
}

impl Parsed {
    /// Whether `key = ...` was given: the instance is keyed.
    pub(crate) fn is_keyed(&self) -> bool {
        self.get("key").is_some()
    }

    /// The value of `key`, if it was given and accepted.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.given
            .iter()
            .find(|(k, _, _)| k.name == key)
            .and_then(|(_, _, value)| value.as_ref())
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
        clean: true,
    };
    let before = errors.len();
    let mut malformed_any = false;
    for argument in split(tokens) {
        match syn::parse2::<Argument>(argument.clone()) {
            Ok(Argument::Keyed(path, expr)) => read(table, &path, Some(expr), &mut parsed, errors),
            Ok(Argument::Bare(path)) if table.positional.is_none() || is_key(table, &path) => {
                errors.push(
                    &path,
                    format_args!("`{0}` needs a value: `{0} = ...`", key_name(&path)),
                );
                read(table, &path, None, &mut parsed, errors);
            }
            Ok(Argument::Bare(path)) => positional(
                table,
                Expr::Path(syn::ExprPath {
                    attrs: Vec::new(),
                    qself: None,
                    path,
                }),
                &mut parsed,
                errors,
            ),
            Ok(Argument::Positional(expr)) => positional(table, expr, &mut parsed, errors),
            Err(_) => {
                // It may have been the required one: "missing" would be noise on top.
                malformed_any = true;
                errors.add(malformed(table, argument));
            }
        }
    }
    for (key, path, _) in &parsed.given {
        let (needs, why) = key.needs;
        if !needs.is_empty() && !parsed.given.iter().any(|(k, _, _)| needs.contains(&k.name)) {
            let needs: Vec<String> = needs.iter().map(|key| format!("`{key}`")).collect();
            errors.push(
                path,
                format_args!("`{}` needs {}{why}", key.name, needs.join(" or ")),
            );
        }
        let (excludes, why) = key.excludes;
        if let Some((other, _, _)) = parsed
            .given
            .iter()
            .find(|(k, _, _)| excludes.contains(&k.name))
        {
            errors.push(
                path,
                format_args!(
                    "`{}` has no effect beside `{}`{why}; leave one of them out",
                    key.name, other.name
                ),
            );
        }
    }
    let missing: Vec<String> = table
        .required
        .iter()
        .filter(|key| !parsed.given.iter().any(|(k, _, _)| k.name == **key))
        .map(|key| format!("`{key}`"))
        .collect();
    if !missing.is_empty() && !malformed_any {
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
    parsed.clean = errors.len() == before;
    parsed
}

/// The arguments between top-level commas.
fn split(tokens: TokenStream) -> Vec<TokenStream> {
    let mut arguments = Vec::new();
    let mut current = TokenStream::new();
    for token in tokens {
        match &token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => {
                arguments.push(std::mem::take(&mut current))
            }
            _ => current.extend([token]),
        }
    }
    arguments.push(current);
    arguments.retain(|argument| !argument.is_empty());
    arguments
}

/// One argument: `key = value`, a lone `key`, or a value without its key.
enum Argument {
    Keyed(Path, Expr),
    Bare(Path),
    Positional(Expr),
}

impl Parse for Argument {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let keyed = input.peek(<syn::Ident as syn::ext::IdentExt>::peek_any)
            && input.peek2(syn::Token![=])
            && !input.peek2(syn::Token![==]);
        if keyed {
            let key = syn::Ident::parse_any(input)?;
            input.parse::<syn::Token![=]>()?;
            return Ok(Argument::Keyed(key.into(), input.parse()?));
        }
        let expr: Expr = input.parse()?;
        Ok(match expr {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                Argument::Bare(path.path)
            }
            expr => Argument::Positional(expr),
        })
    }
}

fn is_key(table: &Table, path: &Path) -> bool {
    let name = key_name(path);
    keys(table).any(|key| key == name)
}

/// The value written without its key: the positional key's, if the attribute has one.
fn positional(table: &'static Table, expr: Expr, parsed: &mut Parsed, errors: &mut Errors) {
    match table.positional {
        Some(key) => {
            let path: Path = syn::Ident::new(key, expr.span()).into();
            read(table, &path, Some(expr), parsed, errors);
        }
        None => {
            let example = table.keys.first().map_or("name", |key| key.name);
            errors.push(
                &expr,
                format_args!(
                    "`#[{}]` takes `key = value` arguments, such as `{example} = ...`; accepted keys: {}",
                    table.attribute,
                    accepted(table)
                ),
            );
        }
    }
}

/// An argument that is not Rust: most often a duration written with a space, `100 millis`.
fn malformed(table: &Table, argument: TokenStream) -> syn::Error {
    let tokens: Vec<TokenTree> = argument.clone().into_iter().collect();
    let spaced_duration = tokens
        .windows(2)
        .any(|pair| matches!(pair, [TokenTree::Literal(_), TokenTree::Ident(_)]));
    let message = if spaced_duration {
        "a duration is one word, `100ms`, or in quotes, `\"100 ms\"`; the units are `ns`, `us`, `ms`, `s`, `m` and `h`".to_owned()
    } else {
        format!(
            "expected `key = value`; `#[{}]` accepts {}",
            table.attribute,
            accepted(table)
        )
    };
    syn::Error::new_spanned(argument, message)
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
                let listed = matches!(key.role, Role::Chain);
                if !listed && parsed.given.iter().any(|(k, _, _)| k.name == key.name) {
                    return duplicate(errors);
                }
                parsed.given.push((key, path.clone(), value));
            }
            None => errors.push(path, unknown(table, &name)),
        },
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
    let keyed_elsewhere = ALL
        .iter()
        .filter(|other| {
            other
                .keys
                .iter()
                .any(|k| k.name == key && matches!(k.role, Role::Key | Role::Keyed))
        })
        .map(|other| format!("`#[{}]`", other.attribute))
        .collect::<Vec<_>>();
    if !keyed_elsewhere.is_empty() {
        return format!(
            "`#[{}]` has no keyed instances; `{key}` is an argument of {} only",
            table.attribute,
            keyed_elsewhere.join(" and ")
        );
    }
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
