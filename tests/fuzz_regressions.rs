//! Every input the fuzzers (fuzz/) found a crash with, kept in
//! `fuzz/regressions/TARGET/`, run through what that target checks, so a
//! fixed crash stays fixed without cargo-fuzz. The checks here are the
//! targets' own (fuzz/fuzz_targets/*.rs).

mod support;

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = support::root().join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.expect("an entry").path()).collect();
    files.sort();
    files.into_iter().map(|path| (path.clone(), std::fs::read(&path).expect("read an input"))).collect()
}

#[test]
fn binary_to_term_inputs_decode_or_are_badarg_and_survive_a_round_trip() {
    use vm::natives::etf::{binary_to_term, term_to_binary};
    let found = inputs("binary_to_term");
    assert!(!found.is_empty(), "the regression inputs are in fuzz/regressions/binary_to_term");
    for (path, data) in found {
        // Each term in a process of its own: decoding into a heap may
        // collect it, which moves the terms decoded there before.
        let mut first = vm::process::Process::new(1);
        let Some(term) = binary_to_term(&mut first, &data) else { continue };
        let encoded = term_to_binary(term).unwrap_or_else(|| panic!("{}: a decoded term encodes", path.display()));
        let mut second = vm::process::Process::new(2);
        let again = binary_to_term(&mut second, &encoded).expect("an encoded term decodes");
        assert!(
            vm::compare::exact_eq(term, again),
            "{}: the round trip changed the term:\n{}\n{}",
            path.display(),
            vm::pretty::pretty(term, 0, 80),
            vm::pretty::pretty(again, 0, 80)
        );
    }
}

#[test]
fn compile_inputs_give_a_module_or_diagnostics() {
    for (path, data) in inputs("compile") {
        let Ok(source) = std::str::from_utf8(&data) else { continue };
        let (module, diagnostics) = compiler::compile_with_stack(source, "fuzz.actor", &compiler::Options::default());
        if let Some(module) = module {
            assert!(!diagnostics.iter().any(|d| d.is_error()), "{}: a module despite errors", path.display());
            vm::module::LoadedModule::load(module).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        }
    }
}

#[test]
fn module_inputs_are_refused_or_load() {
    for (_, data) in inputs("module") {
        let Ok(module) = compiler::bytecode::format::decode(&data) else { continue };
        if compiler::bytecode::verify::verify(&module).is_ok() {
            let _ = vm::module::LoadedModule::load(module);
        }
    }
}

#[test]
fn repl_inputs_give_steps_or_diagnostics() {
    for (_, data) in inputs("repl") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let _ = compiler::shell::is_complete(text);
        let bound = ["X".to_owned(), "Y".to_owned()];
        let mut counter = 0;
        let mut name = move || {
            counter += 1;
            format!("shell_fuzz_{counter}")
        };
        for range in compiler::shell::forms(text) {
            let _ = compiler::shell::compile(&text[range], &bound, &mut name);
        }
    }
}
