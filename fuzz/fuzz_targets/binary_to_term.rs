//! Bytes into `binary_to_term`, and a term it accepts back through `term_to_binary`.
//! What must hold is in `vm::fuzz_checks::binary_to_term_round_trip`, which the regression test
//! (`tests/fuzz_regressions.rs`) runs too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vm::fuzz_checks::binary_to_term_round_trip(data));
