//! Bytes into `binary_to_term`: a term or badarg, never a panic; and a term
//! it accepts survives `term_to_binary` and back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vm::natives::etf::{binary_to_term, term_to_binary};

fuzz_target!(|data: &[u8]| {
    // Each term in a process of its own: decoding into a heap may collect
    // it, which moves the terms decoded there before.
    let mut first = vm::process::Process::new(1);
    let Some(term) = binary_to_term(&mut first, data) else { return };
    let encoded = term_to_binary(term).expect("a decoded term encodes");
    let mut second = vm::process::Process::new(2);
    let again = binary_to_term(&mut second, &encoded).expect("an encoded term decodes");
    assert!(vm::compare::exact_eq(term, again), "the round trip changed the term");
});
