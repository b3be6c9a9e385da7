//! Expansion snapshots: what users compile, checked in and reviewed like code.
//!
//! Each `snapshots/<case>.rs` holds one fn with a stack of attributes; its expansion by the
//! first attribute (as rustc would expand it) is kept beside it in `<case>.expanded.rs`. A
//! change to the generated code fails this test until the files are recorded again with
//! `RESILIENCE_SNAPSHOTS=overwrite cargo test -p resilience-macros snapshots`; the
//! `git diff` of the recording is the review.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::ToTokens;

use crate::args;

/// Expands as rustc does: the outermost attribute of ours, again and again, until none is
/// left (a bare `#[retry]` below the first is handed over, see `stack`).
fn expand(source: &str) -> String {
    let mut tokens: TokenStream = source.parse().expect("a snapshot is Rust");
    loop {
        let mut function: syn::ItemFn = syn::parse2(tokens.clone()).expect("one fn");
        let Some(at) = function.attrs.iter().position(is_ours) else {
            break;
        };
        let attribute = function.attrs.remove(at);
        let name = attribute.path().segments.last().unwrap().ident.to_string();
        let arguments = match &attribute.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        tokens = match args::table(&name) {
            Some(table) => crate::expand::attribute(table, arguments, function.into_token_stream()),
            None => crate::expand::stacked(arguments, function.into_token_stream()),
        };
    }
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
    prettyplease::unparse(&file)
}

/// One of our attributes, or the hand-over marker; `rl::` in a snapshot stands for
/// `use resilience as rl;`.
fn is_ours(attribute: &syn::Attribute) -> bool {
    let name = attribute.path().segments.last().unwrap().ident.to_string();
    args::table(&name).is_some() || name == "stacked"
}

#[test]
fn expansions_match_their_snapshots() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
    let overwrite = std::env::var_os("RESILIENCE_SNAPSHOTS").is_some_and(|v| v == "overwrite");
    let mut cases: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.to_string_lossy().ends_with(".expanded.rs"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 4, "the snapshot cases are in {folder:?}");
    let mut stale = Vec::new();
    for case in cases {
        let expanded = expand(&std::fs::read_to_string(&case).unwrap());
        let recorded = case.with_extension("expanded.rs");
        if overwrite {
            std::fs::write(&recorded, &expanded).unwrap();
        } else if std::fs::read_to_string(&recorded).ok().as_deref() != Some(&expanded) {
            stale.push(recorded);
        }
    }
    assert!(
        stale.is_empty(),
        "the expansion changed: {stale:?}; record it with RESILIENCE_SNAPSHOTS=overwrite and review the diff"
    );
}
