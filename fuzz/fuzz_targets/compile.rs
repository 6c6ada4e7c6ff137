//! Source text into the compiler, as `vm check` and `vm run` give it: any
//! text must come back as a module or as diagnostics, never a panic; and a
//! module the compiler returns must pass the verifier and load.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let (module, diagnostics) = compiler::compile_with_stack(source, "fuzz.actor", &compiler::Options::default());
    if let Some(module) = module {
        assert!(!diagnostics.iter().any(|d| d.is_error()), "a module despite errors");
        vm::module::LoadedModule::load(module).expect("a compiled module loads");
    }
});
