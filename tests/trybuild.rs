//! Compile-fail and compile-pass cases of the attributes.
//!
//! The `.stderr` files are recorded, never written by hand:
//! `TRYBUILD=overwrite cargo test --test trybuild`, then read the `git diff`. They belong to
//! one compiler release, so the compile-fail driver runs on that release only; a compiler
//! upgrade is one commit that bumps the gate and records the files again.

#[rustversion::attr(not(stable(1.95)), ignore = "stderr is recorded with Rust 1.95")]
#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("trybuild/fail/*/*.rs");
}

#[test]
fn compile_pass() {
    trybuild::TestCases::new().pass("trybuild/pass/*.rs");
}
