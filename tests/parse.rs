//! Parse snapshots: every file in `tests/parse/` (one per group of constructs
//! of LANGUAGE.md) must check without errors, and its syntax tree is pinned by
//! an `insta` snapshot. erlc must accept each file as well, with the same
//! warnings, so the fixtures are real Erlang.

mod support;

use std::path::Path;

fn snapshot(path: &Path) {
    let checked = support::check_file(path);
    assert!(checked.diagnostics.iter().all(|d| !d.is_error()), "{}", checked.rendered);
    let report = format!(
        "----- SOURCE\n{}\n----- DIAGNOSTICS\n{}\n----- AST\n{}\n",
        checked.source, checked.rendered, checked.ast
    );
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(report);
    });
}

#[test]
fn every_construct_parses_to_the_expected_tree() {
    insta::glob!("parse/*.actor", snapshot);
}

#[test]
fn erlc_accepts_every_parse_fixture_with_the_same_warnings() {
    for path in support::actor_files(&support::root().join("tests/parse")) {
        let ours = support::check_file(&path);
        let erlc = support::erlc(&path);
        assert!(erlc.succeeded, "erlc rejects {}:\n{}", path.display(), erlc.output);
        assert_eq!(
            ours.lines(),
            erlc.lines,
            "{}:\n--- vm check\n{}--- erlc\n{}",
            path.display(),
            ours.rendered,
            erlc.output
        );
    }
}
