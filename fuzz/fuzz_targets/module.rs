//! Bytes as a module file (`vm compile`'s output, which `vm run` loads):
//! the decoder and the verifier refuse what is malformed with an error, and
//! what the verifier accepts loads without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(module) = compiler::bytecode::format::decode(data) else { return };
    if compiler::bytecode::verify::verify(&module).is_ok() {
        let _ = vm::module::LoadedModule::load(module);
    }
});
