//! Every input the fuzzers (fuzz/) found a crash with, kept in
//! `fuzz/regressions/TARGET/`, run through that target's check
//! (`vm::fuzz_checks`), so a fixed crash stays fixed without cargo-fuzz.

mod support;

fn each_input(target: &str, check: fn(&[u8])) -> usize {
    let dir = support::root().join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut files: Vec<_> = entries.map(|e| e.expect("an entry").path()).collect();
    files.sort();
    for path in &files {
        let data = std::fs::read(path).expect("read an input");
        // A panic names the input in the test's output.
        eprintln!("{}", path.display());
        check(&data);
    }
    files.len()
}

/// Each target with its check; an input kept for a target that has no
/// regressions yet (repl) is picked up as soon as its folder has one.
const TARGETS: [(&str, fn(&[u8])); 4] = [
    ("compile", vm::fuzz_checks::compile),
    ("module", vm::fuzz_checks::module),
    ("binary_to_term", vm::fuzz_checks::binary_to_term_round_trip),
    ("repl", vm::fuzz_checks::repl),
];

#[test]
fn every_kept_input_passes_its_targets_check() {
    let mut count = 0;
    for (target, check) in TARGETS {
        count += each_input(target, check);
    }
    // The crashes found so far: 2 compile, 2 module, 1 binary_to_term.
    assert!(count >= 5, "found {count} inputs in fuzz/regressions");
}
