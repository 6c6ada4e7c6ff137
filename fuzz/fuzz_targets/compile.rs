//! Source text into the compiler, as `vm check` and `vm run` give it.
//! What must hold is in `vm::fuzz_checks::compile`, which the regression test
//! (`tests/fuzz_regressions.rs`) runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vm::fuzz_checks::compile(data));
