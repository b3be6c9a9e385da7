//! What the attributes refuse on a plain (non-async) fn, whose waits block its thread.

use syn::{ReturnType, Type, TypeParamBound};

use crate::args::{Errors, Parsed};
use crate::item::{boxed_future_output, Function};

/// Why `attribute` cannot guard a plain fn, if it cannot: it would have to stop a call
/// that is running (at a deadline, or when another attempt won), and a thread cannot be
/// cancelled.
pub(crate) fn refusal(attribute: &str) -> Option<&'static str> {
    match attribute {
        "timeout" => Some(
            "a thread cannot be cancelled, so a plain fn cannot be stopped at a deadline; \
             make it an `async fn`, or run it with `tokio::task::spawn_blocking` under \
             `tokio::time::timeout`, which stops the waiting (the thread runs on to its end)",
        ),
        "hedge" => Some(
            "a thread cannot be cancelled, so the attempts that lose the race could not be stopped; \
             make it an `async fn`, or put `#[hedge]` on an `async fn` that runs this one with \
             `tokio::task::spawn_blocking` (the losing threads run on to their end)",
        ),
        _ => None,
    }
}

/// Reports what makes `function`, a plain fn, unfit for the `layers` on it.
pub(crate) fn check(function: &Function, layers: &[Parsed], attribute: &str, errors: &mut Errors) {
    if function.made_plain_by_a_runtime_attribute() {
        // Guarding the fn `#[tokio::test]` made would guard the whole runtime it starts,
        // blocking: not what was written.
        errors.push(
            function.sig.fn_token,
            format_args!(
                "`#[{attribute}]` is below an attribute that made this `async fn` a plain fn (`#[tokio::test]`, `#[tokio::main]`): \
                 put that attribute below the resilience attributes"
            ),
        );
        return;
    }
    if let ReturnType::Type(_, ty) = &function.sig.output {
        if is_a_future(ty) {
            errors.push(
                ty,
                format_args!(
                    "`#[{attribute}]` cannot guard a plain fn that returns a future: it would guard making the future, not running it; \
                     write it as an `async fn`"
                ),
            );
        }
    }
    if let Some(constness) = &function.sig.constness {
        errors.push(
            constness,
            format_args!(
                "`#[{attribute}]` cannot guard a `const fn`: its policies run at run time"
            ),
        );
    }
    for layer in layers {
        let name = layer.table.attribute;
        if let Some(why) = refusal(name) {
            errors.push_at(
                layer.span,
                format_args!("`#[{name}]` cannot guard a plain fn: {why}"),
            );
        }
        // A keyed instance looks its key up for an async call only.
        if let Some((_, key, _)) = layer.given.iter().find(|(key, _, _)| key.name == "key") {
            errors.push(
                key,
                format_args!(
                    "`key` needs an `async fn`: a keyed `#[{name}]` cannot guard a plain fn; \
                     make it an `async fn`, or take the key's permit by hand with the keyed \
                     instance's `try_acquire(&key)`"
                ),
            );
        }
    }
}

/// Whether `ty` is `impl Future<..>` (or `impl IntoFuture<..>`), with any other bounds,
/// or a boxed `dyn Future` (`Pin<Box<dyn Future<Output = R> + Send>>`) whose body is not
/// the `Box::pin(async move { .. })` that `#[async_trait]` writes.
fn is_a_future(ty: &Type) -> bool {
    if boxed_future_output(ty).is_some() {
        return true;
    }
    let Type::ImplTrait(bounds) = ty else {
        return false;
    };
    bounds.bounds.iter().any(|bound| match bound {
        TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|last| last.ident == "Future" || last.ident == "IntoFuture"),
        _ => false,
    })
}
