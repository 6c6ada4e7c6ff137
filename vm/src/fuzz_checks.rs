//! What each fuzz target (fuzz/) checks of one input, in one place: the
//! targets call these, and so does `tests/fuzz_regressions.rs` for every
//! input a fuzzer once crashed on. Each returns normally for any input it
//! is given and panics (the fuzzer's finding) when what must hold does not.

use crate::natives::etf::{binary_to_term, term_to_binary};
use crate::process::Process;

/// Source text into the compiler: a module or diagnostics; a module comes
/// with no errors, passes the verifier (inside `compile`) and loads.
pub fn compile(data: &[u8]) {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let (module, diagnostics) = compiler::compile_with_stack(source, "fuzz.actor", &compiler::Options::default());
    if let Some(module) = module {
        assert!(!diagnostics.iter().any(|d| d.is_error()), "a module despite errors");
        if let Err(error) = crate::module::LoadedModule::load(module) {
            panic!("a compiled module does not load: {error}");
        }
    }
}

/// Bytes as a module file: refused by the decoder or the verifier, or
/// loaded.
pub fn module(data: &[u8]) {
    let Ok(module) = compiler::bytecode::format::decode(data) else { return };
    if compiler::bytecode::verify::verify(&module).is_ok() {
        let _ = crate::module::LoadedModule::load(module);
    }
}

/// Bytes into `binary_to_term`: a term or badarg; a term comes back
/// unchanged through `term_to_binary`. Each term is decoded in a process
/// of its own: decoding into a heap may collect it, which moves the terms
/// decoded there before.
pub fn binary_to_term_round_trip(data: &[u8]) {
    let mut first = Process::new(1);
    let Some(term) = binary_to_term(&mut first, data) else { return };
    let encoded = term_to_binary(term).expect("a decoded term encodes");
    let mut second = Process::new(2);
    let again = binary_to_term(&mut second, &encoded).expect("an encoded term decodes");
    assert!(
        crate::compare::exact_eq(term, again),
        "the round trip changed the term:\n{}\n{}",
        crate::pretty::pretty(term, 0, 80),
        crate::pretty::pretty(again, 0, 80)
    );
}

/// Lines for the shell's reader: whether the text ends a form, the forms
/// it holds, and each compiled against two bound variables.
pub fn repl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
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
