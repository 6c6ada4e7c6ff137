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

#[test]
fn compile_inputs_give_a_module_or_diagnostics() {
    assert!(each_input("compile", vm::fuzz_checks::compile) > 0);
}

#[test]
fn module_inputs_are_refused_or_load() {
    assert!(each_input("module", vm::fuzz_checks::module) > 0);
}

#[test]
fn binary_to_term_inputs_decode_or_are_badarg_and_survive_a_round_trip() {
    assert!(each_input("binary_to_term", vm::fuzz_checks::binary_to_term_round_trip) > 0);
}

#[test]
fn repl_inputs_give_steps_or_diagnostics() {
    each_input("repl", vm::fuzz_checks::repl);
}
