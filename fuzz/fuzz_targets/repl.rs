//! Lines into the shell's reader.
//! What must hold is in `vm::fuzz_checks::repl`, which the regression test
//! (`tests/fuzz_regressions.rs`) runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vm::fuzz_checks::repl(data));
