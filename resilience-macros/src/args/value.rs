//! Reading one value: counts, numbers, durations (quoted or not), words, paths.
//!
//! A value the macro can read is turned into tokens of the setter's type; whether it is in
//! range is left to the runtime's `validate`. A constant's path (`max_attempts = ATTEMPTS`)
//! or a `const fn` call (`window = Duration::from_secs(60)`) goes through as written, and
//! the same `validate` checks it.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, Path, UnOp};

use super::errors::{nearest, Errors};
use resilience_duration::{decimal, parse, DurationError, SECOND};

/// What a key accepts.
pub(crate) enum ValueKind {
    /// A whole number up to `max` (the setter's type, `ty`).
    Count { ty: &'static str, max: u128 },
    /// A number, `2` or `1.5`.
    Number,
    /// A duration: `"250ms"`, `250ms`, `30`, `0.25`.
    Duration,
    /// One word of a fixed set, each standing for a variant of the enum `ty`.
    Choice {
        ty: &'static str,
        words: &'static [(&'static str, &'static str)],
    },
    /// A [`ValueKind::Choice`] that also takes `true` (the variant `on`) and `false` (`off`).
    Switch {
        ty: &'static str,
        words: &'static [(&'static str, &'static str)],
        on: &'static str,
        off: &'static str,
    },
    /// The path of a fn; the text says which signature.
    Function(&'static str),
    /// A whole percentage, `50`; the runtime checks it is from 1 to 100.
    Percent,
    /// A `SlidingWindow`: a number of calls, `100`, or a duration with its unit, `"60s"`.
    Window,
    /// Any expression, kept as written: it is evaluated in the fn, over its arguments.
    Expression,
}

pub(crate) const U32: ValueKind = ValueKind::Count {
    ty: "u32",
    max: u32::MAX as u128,
};
pub(crate) const USIZE: ValueKind = ValueKind::Count {
    ty: "usize",
    max: u64::MAX as u128,
};

/// A value read, ready to become tokens once the facade's path is known.
pub(crate) enum Value {
    /// `Duration::new(secs, nanos)`, at the span of what the user wrote.
    Duration { nanos: u128, span: Span },
    /// `Enum::Variant` of an enum the facade exports.
    Variant {
        ty: &'static str,
        variant: &'static str,
        span: Span,
    },
    /// Tokens that go as they are: a literal of the setter's type, or a constant.
    Tokens(TokenStream),
    /// `Enum::Variant(inner)` of an enum the facade exports.
    Wrapped {
        ty: &'static str,
        variant: &'static str,
        inner: Box<Value>,
    },
}

impl Value {
    /// The value as an expression, its paths through `krate`.
    pub(crate) fn to_tokens(&self, krate: &TokenStream) -> TokenStream {
        match self {
            Value::Duration { nanos, span } => {
                let secs = u64::try_from(nanos / SECOND).unwrap_or(u64::MAX);
                let subsec = u32::try_from(nanos % SECOND).unwrap_or(0);
                quote_spanned!(*span=> #krate::__private::Duration::new(#secs, #subsec))
            }
            Value::Variant { ty, variant, span } => {
                let ty = syn::Ident::new(ty, *span);
                let variant = syn::Ident::new(variant, *span);
                quote_spanned!(*span=> #krate::#ty::#variant)
            }
            Value::Tokens(tokens) => tokens.clone(),
            Value::Wrapped { ty, variant, inner } => {
                let span = inner.span();
                let ty = syn::Ident::new(ty, span);
                let variant = syn::Ident::new(variant, span);
                let inner = inner.to_tokens(krate);
                quote_spanned!(span=> #krate::#ty::#variant(#inner))
            }
        }
    }

    /// Where errors about this value go: what the user wrote (the tokens made of it start
    /// with the facade's path, at the attribute).
    pub(crate) fn span(&self) -> Span {
        match self {
            Value::Duration { span, .. } | Value::Variant { span, .. } => *span,
            Value::Tokens(tokens) => tokens.span(),
            Value::Wrapped { inner, .. } => inner.span(),
        }
    }
}

impl ValueKind {
    /// Reads `expr` as the value of `key`; reports and returns `None` when it cannot.
    pub(crate) fn read(&self, key: &str, expr: &Expr, errors: &mut Errors) -> Option<Value> {
        if let ValueKind::Expression = self {
            return Some(Value::Tokens(expr.to_token_stream()));
        }
        let expr = ungroup(expr);
        if let ValueKind::Function(expected) = self {
            return match expr {
                Expr::Path(path) if path.qself.is_none() => {
                    Some(Value::Tokens(path.to_token_stream()))
                }
                _ => {
                    errors.push(
                        expr,
                        format_args!(
                            "`{key}` must be the path of a `{expected}`, such as `{key} = my_fn`"
                        ),
                    );
                    None
                }
            };
        }
        if let Some(constant) = constant(expr, self) {
            return Some(Value::Tokens(constant));
        }
        match self {
            ValueKind::Count { ty, max } => count(key, ty, *max, expr, errors),
            ValueKind::Number => number(key, expr, errors),
            ValueKind::Duration => duration(expr, errors).map(|nanos| Value::Duration {
                nanos,
                span: expr.span(),
            }),
            ValueKind::Choice { ty, words } => choice(key, ty, words, expr, errors),
            ValueKind::Switch { ty, words, on, off } => match expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(lit),
                    ..
                }) => Some(Value::Variant {
                    ty,
                    variant: if lit.value { on } else { off },
                    span: lit.span(),
                }),
                _ => choice(key, ty, words, expr, errors),
            },
            ValueKind::Function(_) | ValueKind::Expression => None,
            ValueKind::Percent => percent(key, expr, errors),
            ValueKind::Window => window(key, expr, errors),
        }
    }
}

/// `50`; a fraction, `0.5`, is refused with the percentage it likely meant.
fn percent(key: &str, expr: &Expr, errors: &mut Errors) -> Option<Value> {
    if let Expr::Lit(ExprLit {
        lit: Lit::Float(lit),
        ..
    }) = expr
    {
        let example = match lit.base10_parse::<f64>() {
            Ok(fraction) if fraction > 0.0 && fraction <= 1.0 => format!(
                ": for {}, write `{key} = {}`",
                lit.base10_digits(),
                (fraction * 100.0).round()
            ),
            _ => format!(", such as `{key} = 50`"),
        };
        errors.push(
            lit,
            format_args!("`{key}` is a whole percentage from 1 to 100{example}"),
        );
        return None;
    }
    count(key, "u32", u128::from(u32::MAX), expr, errors)
}

/// `100` (calls) or `"60s"` / `60s` (a time window): a number without a unit counts calls,
/// as a time window always has one.
fn window(key: &str, expr: &Expr, errors: &mut Errors) -> Option<Value> {
    let kinds = format!(
        "`{key}` is a number of calls, such as `{key} = 100`, or a duration with its unit, such as `{key} = \"60s\"`"
    );
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) if lit.suffix().is_empty() => {
            let calls = count(key, "u32", u128::from(u32::MAX), expr, errors)?;
            Some(Value::Wrapped {
                ty: "SlidingWindow",
                variant: "Calls",
                inner: Box::new(calls),
            })
        }
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) if lit.value().trim().parse::<u64>().is_ok() => {
            errors.push(lit, kinds);
            None
        }
        Expr::Lit(ExprLit {
            lit: Lit::Float(lit),
            ..
        }) if lit.suffix().is_empty() => {
            errors.push(lit, kinds);
            None
        }
        _ => {
            let nanos = duration(expr, errors)?;
            Some(Value::Wrapped {
                ty: "SlidingWindow",
                variant: "Time",
                inner: Box::new(Value::Duration {
                    nanos,
                    span: expr.span(),
                }),
            })
        }
    }
}

/// A constant's path or a `const fn` call, which goes through as written; a lowercase
/// word where a choice is expected is read as the word instead.
fn constant(expr: &Expr, kind: &ValueKind) -> Option<TokenStream> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => {
            let is_word = path.path.get_ident().is_some_and(|ident| {
                ident
                    .to_string()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            });
            let word_expected = matches!(kind, ValueKind::Choice { .. } | ValueKind::Switch { .. });
            (!(is_word && word_expected)).then(|| path.to_token_stream())
        }
        Expr::Call(_) | Expr::MethodCall(_) => Some(expr.to_token_stream()),
        _ => None,
    }
}

fn ungroup(expr: &Expr) -> &Expr {
    match expr {
        // A value passed through a `macro_rules!` arrives wrapped in an invisible group.
        Expr::Group(group) => ungroup(&group.expr),
        Expr::Paren(paren) => ungroup(&paren.expr),
        other => other,
    }
}

/// `name = "payments"` or `name = PAYMENTS`; the runtime refuses an empty one.
pub(crate) fn name(expr: &Expr, errors: &mut Errors) -> Option<Value> {
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(Value::Tokens(lit.to_token_stream())),
        Expr::Path(path) if path.qself.is_none() => Some(Value::Tokens(path.to_token_stream())),
        other => {
            errors.push(
                other,
                "`name` must be a string, such as `name = \"payments\"`, or a `&str` constant",
            );
            None
        }
    }
}

/// `crate = "my_crate::resilience"`.
pub(crate) fn krate(expr: &Expr, errors: &mut Errors) -> Option<Path> {
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => match lit.parse::<Path>() {
            Ok(path) => Some(path),
            Err(_) => {
                errors.push(lit, "`crate` must be a path in a string, such as `crate = \"my_crate::resilience\"`");
                None
            }
        },
        other => {
            errors.push(
                other,
                "`crate` must be a path in a string, such as `crate = \"my_crate::resilience\"`",
            );
            None
        }
    }
}

fn count(key: &str, ty: &str, max: u128, expr: &Expr, errors: &mut Errors) -> Option<Value> {
    let whole =
        || format!("`{key}` must be a whole number, such as `{key} = 3`, or a `{ty}` constant");
    let Expr::Lit(ExprLit {
        lit: Lit::Int(lit), ..
    }) = expr
    else {
        errors.push(expr, whole());
        return None;
    };
    if !matches!(
        lit.suffix(),
        "" | "u8" | "u16" | "u32" | "u64" | "usize" | "u128"
    ) {
        errors.push(lit, whole());
        return None;
    }
    match lit.base10_digits().parse::<u128>() {
        Ok(n) if n <= max => Some(Value::Tokens(spanned(
            Literal::u128_unsuffixed(n),
            lit.span(),
        ))),
        _ => {
            errors.push(
                lit,
                format_args!("`{key}` must be at most {max} (it is a `{ty}`)"),
            );
            None
        }
    }
}

fn spanned(mut literal: Literal, span: Span) -> TokenStream {
    literal.set_span(span);
    literal.into_token_stream()
}

fn number(key: &str, expr: &Expr, errors: &mut Errors) -> Option<Value> {
    let (negative, lit) = match expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => (true, ungroup(expr)),
        other => (false, other),
    };
    let parsed = match lit {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit.base10_parse::<f64>().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Float(lit),
            ..
        }) => lit.base10_parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n.is_finite() => {
            let n = if negative { -n } else { n };
            Some(Value::Tokens(spanned(
                Literal::f64_suffixed(n),
                expr.span(),
            )))
        }
        Some(_) => {
            errors.push(expr, format_args!("`{key}` is too large"));
            None
        }
        None => {
            errors.push(
                expr,
                format_args!("`{key}` must be a number, such as `{key} = 2.0`"),
            );
            None
        }
    }
}

fn choice(
    key: &str,
    ty: &'static str,
    words: &'static [(&'static str, &'static str)],
    expr: &Expr,
    errors: &mut Errors,
) -> Option<Value> {
    let list = words
        .iter()
        .map(|(word, _)| format!("\"{word}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let (text, span) = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => (lit.value(), lit.span()),
        Expr::Path(path) if path.path.get_ident().is_some() => {
            (path.path.to_token_stream().to_string(), path.span())
        }
        _ => {
            errors.push(expr, format_args!("`{key}` must be one of {list}"));
            return None;
        }
    };
    if let Some((_, variant)) = words.iter().find(|(word, _)| *word == text) {
        return Some(Value::Variant { ty, variant, span });
    }
    let names: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
    match nearest(&text, &names) {
        Some(near) => errors.push_at(
            span,
            format_args!("unknown `{key}` \"{text}\"; did you mean \"{near}\"?"),
        ),
        None => errors.push_at(
            span,
            format_args!("unknown `{key}` \"{text}\"; expected one of {list}"),
        ),
    }
    None
}

/// A duration in nanoseconds: `"250ms"`, `250ms`, `"1h30m"`, `1.5s`, `30` or `0.25`
/// (seconds).
fn duration(expr: &Expr, errors: &mut Errors) -> Option<u128> {
    let parsed = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => parse(&lit.value()),
        // `250ms` is one token: the number `250` with the suffix `ms`.
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => suffixed(lit.base10_digits(), lit.suffix()),
        Expr::Lit(ExprLit {
            lit: Lit::Float(lit),
            ..
        }) => suffixed(lit.base10_digits(), lit.suffix()),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => Err(DurationError::Negative),
        _ => Err(DurationError::Malformed),
    };
    match parsed {
        Ok(nanos) => Some(nanos),
        Err(error) => {
            errors.push(expr, error);
            None
        }
    }
}

fn suffixed(digits: &str, suffix: &str) -> Result<u128, DurationError> {
    if suffix.is_empty() {
        return decimal(digits, SECOND);
    }
    parse(&format!("{digits}{suffix}"))
}

/// A string literal's expression, for tests.
#[cfg(test)]
fn lit(text: &str) -> Expr {
    let lit = syn::LitStr::new(text, Span::call_site());
    syn::parse2(quote::quote!(#lit)).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_durations_keep_their_unit() {
        for (written, nanos) in [
            ("250ms", 250_000_000),
            ("1m", 60 * SECOND),
            ("1h", 3600 * SECOND),
            ("2m", 120 * SECOND),
            ("1h30m", 5400 * SECOND),
            ("1.5s", 1_500_000_000),
            ("30", 30 * SECOND),
            ("0.25", 250_000_000),
        ] {
            let expr: Expr = syn::parse_str(written).unwrap();
            let mut errors = Errors::new();
            assert_eq!(duration(&expr, &mut errors), Some(nanos), "{written}");
            errors.finish().unwrap();
        }
        let mut errors = Errors::new();
        assert_eq!(duration(&lit("1 sec"), &mut errors), None);
        let message = errors.finish().unwrap_err().to_string();
        assert_eq!(message, "unknown unit `sec`; did you mean `s`? The units are `ns`, `us`, `ms`, `s`, `m` and `h`");
    }
}
