//! Argument parsing shared by the five attributes: the error accumulator, the one setter
//! that catches duplicates, value readers (durations, counts, paths, choices), the keys
//! every attribute takes (`name`, `crate`), and "did you mean".

pub(crate) mod bulkhead;
pub(crate) mod circuit_breaker;
pub(crate) mod rate_limit;
pub(crate) mod retry;
pub(crate) mod timeout;

use std::fmt::Display;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Path, UnOp};

/// Every mistake found so far, so one build reports all of them.
pub(crate) struct Errors {
    errors: Option<syn::Error>,
    finished: bool,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Self {
            errors: None,
            finished: false,
        }
    }

    pub(crate) fn push(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.add(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn push_at(&mut self, span: Span, message: impl Display) {
        self.add(syn::Error::new(span, message));
    }

    pub(crate) fn add(&mut self, error: syn::Error) {
        match &mut self.errors {
            Some(errors) => errors.combine(error),
            None => self.errors = Some(error),
        }
    }

    /// All the errors as one, or `Ok` when there were none.
    pub(crate) fn finish(mut self) -> Result<(), syn::Error> {
        self.finished = true;
        self.errors.take().map_or(Ok(()), Err)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        // As serde's `Ctxt`: forgetting to report is a bug in this crate, not in the input.
        if !self.finished && !std::thread::panicking() {
            panic!("resilience-macros: errors dropped without being reported");
        }
    }
}

/// One argument's value; remembers that the key was given even when its value was bad,
/// so a bad `window` is not also reported as a missing `window`.
pub(crate) struct Arg<T> {
    given: Option<Path>,
    pub(crate) value: Option<T>,
}

impl<T> Default for Arg<T> {
    fn default() -> Self {
        Self {
            given: None,
            value: None,
        }
    }
}

impl<T> Arg<T> {
    /// Records `key = value`; a second `key` is reported as a duplicate and ignored.
    pub(crate) fn set(&mut self, key: &Path, value: Option<T>, errors: &mut Errors) {
        if self.given.is_some() {
            errors.push(key, format_args!("duplicate `{}` argument", key_name(key)));
            return;
        }
        self.given = Some(key.clone());
        self.value = value;
    }

    pub(crate) fn is_given(&self) -> bool {
        self.given.is_some()
    }

    /// The key as written, to point errors about this argument at.
    pub(crate) fn key(&self) -> Option<&Path> {
        self.given.as_ref()
    }
}

/// The keys every attribute takes.
#[derive(Default)]
pub(crate) struct Common {
    pub(crate) name: Arg<LitStr>,
    pub(crate) krate: Arg<Path>,
}

impl Common {
    /// Reads `name` or `crate`; `false` when the key is neither.
    pub(crate) fn parse(
        &mut self,
        meta: &ParseNestedMeta,
        errors: &mut Errors,
    ) -> syn::Result<bool> {
        if meta.path.is_ident("name") {
            let value = value(meta, errors)?.and_then(|expr| match string(&expr) {
                Some(lit) if !lit.value().trim().is_empty() => Some(lit.clone()),
                _ => {
                    errors.push(
                        &expr,
                        "`name` must be a non-empty string, such as `name = \"payments\"`",
                    );
                    None
                }
            });
            self.name.set(&meta.path, value, errors);
        } else if meta.path.is_ident("crate") {
            let value = value(meta, errors)?.and_then(|expr| {
                match string(&expr).map(|lit| lit.parse::<Path>()) {
                    Some(Ok(path)) => Some(path),
                    _ => {
                        errors.push(&expr, "`crate` must be a path in a string, such as `crate = \"my_crate::resilience\"`");
                        None
                    }
                }
            });
            self.krate.set(&meta.path, value, errors);
        } else {
            return Ok(false);
        }
        Ok(true)
    }
}

/// The value after `key =`; a key without one is reported and `None` returned, so parsing
/// goes on with the next argument.
pub(crate) fn value(meta: &ParseNestedMeta, errors: &mut Errors) -> syn::Result<Option<Expr>> {
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

/// Consumes whatever follows an unknown key (`= expr` or `(...)`), so the arguments after
/// it are still checked.
pub(crate) fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|nested| skip_value(&nested))?;
    }
    Ok(())
}

pub(crate) fn key_name(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// Reports an unknown key, suggesting the nearest accepted one.
pub(crate) fn unknown(
    attribute: &str,
    meta: &ParseNestedMeta,
    accepted: &[&str],
    errors: &mut Errors,
) {
    let key = key_name(&meta.path);
    let message = match nearest(&key, accepted) {
        Some(near) => format!("unknown `#[{attribute}]` argument `{key}`; did you mean `{near}`?"),
        None => {
            let list = accepted
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("unknown `#[{attribute}]` argument `{key}`; expected one of {list}")
        }
    };
    errors.push(&meta.path, message);
}

/// The accepted word closest to `word` by edit distance, when it is close enough to be a
/// typo, or the one `word` abbreviates.
pub(crate) fn nearest<'a>(word: &str, accepted: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    if word.len() >= 3 {
        if let Some(longer) = accepted
            .iter()
            .find(|candidate| candidate.starts_with(&word))
        {
            return Some(longer);
        }
    }
    accepted
        .iter()
        .map(|candidate| (distance(&word, candidate), *candidate))
        .filter(|(d, candidate)| *d <= (candidate.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, with a transposition counted as one edit.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

fn string(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit),
        _ => None,
    }
}

/// A duration in nanoseconds, read from `"250ms"`, `"1m30s"`, `2` or `0.25` (seconds).
pub(crate) fn duration(expr: &Expr, errors: &mut Errors) -> Option<u128> {
    const EXPECTED: &str = "expected a duration such as \"250ms\", \"30s\" or a number of seconds";
    let nanos = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => parse_duration(&lit.value()),
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => decimal(lit.base10_digits(), SECOND),
        Expr::Lit(ExprLit {
            lit: Lit::Float(lit),
            ..
        }) => decimal(lit.base10_digits(), SECOND),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            errors.push(expr, "a duration cannot be negative");
            return None;
        }
        _ => None,
    };
    match nanos {
        Some(nanos) if nanos <= MAX_NANOS => Some(nanos),
        Some(_) => {
            errors.push(expr, "duration too long: at most 500 years");
            None
        }
        None => {
            errors.push(expr, EXPECTED);
            None
        }
    }
}

/// A duration longer than zero; `subject` names it in the error ("`window`", "a timeout").
pub(crate) fn positive_duration(expr: &Expr, subject: &str, errors: &mut Errors) -> Option<u128> {
    let nanos = duration(expr, errors)?;
    if nanos == 0 {
        errors.push(expr, format_args!("{subject} must be longer than zero"));
        return None;
    }
    Some(nanos)
}

const SECOND: u128 = 1_000_000_000;
const MAX_NANOS: u128 = 500 * 365 * 24 * 3600 * SECOND;

/// `"250ms"`, `"1.5s"`, `"2m"`, `"1h30m"`, `"90 s"`; units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`.
fn parse_duration(text: &str) -> Option<u128> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(number_len);
        let tail = tail.trim_start();
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => SECOND,
            "m" => 60 * SECOND,
            "h" => 3600 * SECOND,
            _ => return None,
        };
        total = total.checked_add(decimal(number, scale)?)?;
        rest = tail.trim_start();
    }
    Some(total)
}

/// `digits` (such as `1.25`) times `scale`, exactly; digits finer than a nanosecond are
/// dropped.
fn decimal(digits: &str, scale: u128) -> Option<u128> {
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !(whole
            .chars()
            .chain(fraction.chars())
            .all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut value = whole.checked_mul(scale)?;
    let mut unit = scale;
    for digit in fraction.chars().take(30) {
        unit /= 10;
        value += u128::from(digit.to_digit(10)?) * unit;
    }
    Some(value)
}

/// The `field: value` pairs of a config literal, one for each argument that was given; the
/// others come from the config's `DEFAULT`.
pub(crate) struct Fields<'a> {
    krate: &'a TokenStream,
    fields: Vec<TokenStream>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(krate: &'a TokenStream) -> Self {
        Self {
            krate,
            fields: Vec::new(),
        }
    }

    /// `field: value`.
    pub(crate) fn value(self, field: &str, value: Option<impl ToTokens>) -> Self {
        self.push(field, value.map(|v| v.into_token_stream()))
    }

    /// `field: Some(value)`.
    pub(crate) fn some(self, field: &str, value: Option<impl ToTokens>) -> Self {
        self.push(
            field,
            value.map(|v| quote!(::core::option::Option::Some(#v))),
        )
    }

    /// `field: Duration::new(secs, nanos)`.
    pub(crate) fn duration(self, field: &str, nanos: Option<u128>) -> Self {
        let value = nanos.map(|nanos| self.duration_value(nanos));
        self.push(field, value)
    }

    /// `field: Some(Duration::new(secs, nanos))`.
    pub(crate) fn some_duration(self, field: &str, nanos: Option<u128>) -> Self {
        let value = nanos.map(|nanos| self.duration_value(nanos));
        self.some(field, value)
    }

    fn duration_value(&self, nanos: u128) -> TokenStream {
        let krate = self.krate;
        let secs = u64::try_from(nanos / SECOND).unwrap_or(u64::MAX);
        let subsec = u32::try_from(nanos % SECOND).unwrap_or(0);
        quote!(#krate::__private::Duration::new(#secs, #subsec))
    }

    /// `field: Enum::Variant`, an enum the facade exports.
    pub(crate) fn variant(self, field: &str, ty: &str, variant: Option<&str>) -> Self {
        let krate = self.krate;
        let ty = Ident::new(ty, Span::call_site());
        let value = variant.map(|v| {
            let v = Ident::new(v, Span::call_site());
            quote!(#krate::#ty::#v)
        });
        self.push(field, value)
    }

    pub(crate) fn finish(self) -> Vec<TokenStream> {
        self.fields
    }

    fn push(mut self, field: &str, value: Option<TokenStream>) -> Self {
        if let Some(value) = value {
            let field = Ident::new(field, Span::call_site());
            self.fields.push(quote!(#field: #value));
        }
        self
    }
}

/// A whole number of at least 1 that fits `T`.
pub(crate) fn count<T: std::str::FromStr<Err: Display>>(
    expr: &Expr,
    key: &str,
    errors: &mut Errors,
) -> Option<T> {
    let parsed = match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit
            .base10_parse::<T>()
            .ok()
            .filter(|_| lit.base10_digits() != "0"),
        _ => None,
    };
    if parsed.is_none() {
        errors.push(
            expr,
            format_args!("`{key}` must be a whole number of at least 1"),
        );
    }
    parsed
}

/// A number (integer or float literal).
pub(crate) fn number(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => lit.base10_parse().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Float(lit),
            ..
        }) => lit.base10_parse().ok(),
        _ => None,
    }
}

/// A path to a function, such as `is_transient` or `errors::is_transient`.
pub(crate) fn function(expr: &Expr, key: &str, errors: &mut Errors) -> Option<Path> {
    match expr {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            Some(path.path.clone())
        }
        _ => {
            errors.push(expr, format_args!("`{key}` must be the path of a `fn(&E) -> bool`, such as `{key} = is_transient`"));
            None
        }
    }
}

/// One of a fixed set of words, given as a string: the name of the enum variant it stands
/// for. `accepted` pairs each word with its variant.
pub(crate) fn choice(
    expr: &Expr,
    key: &str,
    accepted: &[(&'static str, &'static str)],
    errors: &mut Errors,
) -> Option<&'static str> {
    let words: Vec<&str> = accepted.iter().map(|(word, _)| *word).collect();
    let list = words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(lit) = string(expr) else {
        errors.push(expr, format_args!("`{key}` must be one of {list}"));
        return None;
    };
    let text = lit.value();
    if let Some((_, variant)) = accepted.iter().find(|(word, _)| *word == text) {
        return Some(variant);
    }
    match nearest(&text, &words) {
        Some(near) => errors.push(
            lit,
            format_args!("unknown `{key}` \"{text}\"; did you mean \"{near}\"?"),
        ),
        None => errors.push(
            lit,
            format_args!("unknown `{key}` \"{text}\"; expected one of {list}"),
        ),
    }
    None
}

/// A `bool` literal, if `expr` is one.
pub(crate) fn boolean(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(lit),
            ..
        }) => Some(lit.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = 1_000_000;
        assert_eq!(parse_duration("250ms"), Some(250 * ms));
        assert_eq!(parse_duration("1.5s"), Some(1500 * ms));
        assert_eq!(parse_duration("2m"), Some(120_000 * ms));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000 * ms));
        assert_eq!(parse_duration(" 90 s "), Some(90_000 * ms));
        assert_eq!(parse_duration("0.001s"), Some(ms));
        assert_eq!(parse_duration("10us"), Some(10_000));
        assert_eq!(parse_duration("0s"), Some(0));
        for bad in ["", "s", "5", "5 parsecs", "1..5s", "-1s", "5ms5", "1e3s"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(decimal("0.25", SECOND), Some(250 * ms));
        assert_eq!(decimal("30", SECOND), Some(30_000 * ms));
        assert_eq!(decimal(".", SECOND), None);
    }

    #[test]
    fn suggestions() {
        let accepted = ["max_attempts", "base_delay", "max_delay", "name"];
        assert_eq!(nearest("max_attempt", &accepted), Some("max_attempts"));
        assert_eq!(nearest("base_dealy", &accepted), Some("base_delay"));
        assert_eq!(nearest("nmae", &accepted), Some("name"));
        assert_eq!(nearest("fallback", &accepted), None);
        assert_eq!(
            nearest("sliding", &["token_bucket", "sliding_window"]),
            Some("sliding_window")
        );
    }
}
