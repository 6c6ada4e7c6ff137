//! Programs that must check cleanly: the examples, the benchmark programs in
//! `../shared/bench/programs/`, the standard library in `stdlib/`, and
//! `tests/accept/` (real Erlang modules written in the subset). `vm check` must report nothing at all on them, and erlc must
//! compile each one without a warning, so both agree they are clean Erlang.

mod support;

use std::path::PathBuf;

fn programs() -> Vec<PathBuf> {
    let root = support::root();
    let bench = root.join("../shared/bench/programs");
    assert!(
        bench.is_dir(),
        "{} is missing: the benchmark programs come from the shared folder beside the project",
        bench.display()
    );
    let mut files = Vec::new();
    for dir in [root.join("examples"), root.join("tests/accept"), root.join("stdlib"), bench] {
        files.extend(support::actor_files(&dir));
    }
    files
}

#[test]
fn vm_check_reports_nothing() {
    let files = programs();
    assert!(files.len() >= 20, "expected examples, accept programs and benchmarks, found {}", files.len());
    for path in files {
        let checked = support::check_file(&path);
        assert!(checked.diagnostics.is_empty(), "{}:\n{}", path.display(), checked.rendered);
    }
}

#[test]
fn erlc_compiles_them_without_warnings() {
    for path in programs() {
        let erlc = support::erlc(&path);
        assert!(erlc.succeeded && erlc.lines.is_empty(), "erlc on {}:\n{}", path.display(), erlc.output);
    }
}
