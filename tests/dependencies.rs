//! What a user's build compiles for us: one `syn`, the one tokio's and thiserror's macros
//! already bring. A second major version would cost every user seconds of a clean build.

use std::process::Command;

#[test]
fn the_normal_dependency_tree_has_one_syn() {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--edges", "normal", "--package", "resilience"])
        .args(["--prefix", "none", "--format", "{p}", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("cargo tree prints UTF-8");
    let mut syns: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.strip_prefix("syn v"))
        .map(|rest| rest.split_whitespace().next().unwrap_or(rest))
        .collect();
    syns.sort_unstable();
    syns.dedup();
    assert_eq!(
        syns.len(),
        1,
        "more than one syn in the normal tree: {syns:?}"
    );
    assert!(syns[0].starts_with("3."), "syn {} is not syn 3", syns[0]);
}
