//! Diagnostics: every file in `tests/compile_errors/` is checked and its
//! rendered diagnostics (file:line:col, the source line, a caret, the id) are
//! pinned by an `insta` snapshot. Each file's first line says what `erlc`, the
//! reference, makes of the same file, and a second test holds us to it:
//!
//! - `%% erlc: agrees`: erlc reports errors and warnings on exactly the same lines;
//! - `%% erlc: accepts (why)`: erlc compiles it (it is outside the .actor subset);
//! - `%% erlc: rejects (why)`: erlc fails too, for its own reasons.

mod support;

use std::path::Path;

fn snapshot(path: &Path) {
    let checked = support::check_file(path);
    assert!(!checked.diagnostics.is_empty(), "{} is in compile_errors/ but has no diagnostics", path.display());
    let report = format!("----- SOURCE\n{}\n----- DIAGNOSTICS\n{}", checked.source, checked.rendered);
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(report);
    });
}

#[test]
fn diagnostics_render_with_location_and_caret() {
    insta::glob!("compile_errors/*.actor", snapshot);
}

#[test]
fn erlc_gives_the_verdict_each_file_declares() {
    let files = support::actor_files(&support::root().join("tests/compile_errors"));
    assert!(files.len() >= 20, "expected the compile_errors fixtures, found {}", files.len());
    for path in files {
        let ours = support::check_file(&path);
        let erlc = support::erlc(&path);
        let header = ours.source.lines().next().unwrap_or_default().to_owned();
        let context = format!("{}:\n--- vm check\n{}--- erlc\n{}", path.display(), ours.rendered, erlc.output);
        if header.starts_with("%% erlc: agrees") {
            assert_eq!(ours.lines(), erlc.lines, "lines of diagnostics differ for {context}");
        } else if header.starts_with("%% erlc: accepts") {
            assert!(erlc.succeeded, "erlc was expected to accept {context}");
            assert!(ours.diagnostics.iter().any(|d| d.is_error()), "vm check was expected to refuse {context}");
        } else if header.starts_with("%% erlc: rejects") {
            assert!(!erlc.succeeded, "erlc was expected to reject {context}");
            assert!(ours.diagnostics.iter().any(|d| d.is_error()), "vm check was expected to reject {context}");
        } else {
            panic!("{} must start with `%% erlc: agrees|accepts|rejects`", path.display());
        }
    }
}
