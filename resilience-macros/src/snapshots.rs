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

fn expand(source: &str) -> String {
    let mut function: syn::ItemFn = syn::parse_str(source).expect("a snapshot is one fn");
    let first = function.attrs.remove(0);
    let table = args::table(&first.path().segments.last().unwrap().ident.to_string())
        .expect("a snapshot's first attribute is one of ours");
    let arguments = match &first.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let expanded = crate::expand::attribute(table, arguments, function.into_token_stream());
    let file: syn::File = syn::parse2(expanded).expect("the expansion parses");
    prettyplease::unparse(&file)
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
