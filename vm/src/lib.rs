//! The actor VM: terms, process heaps and their collector, and (as the issues
//! land) processes, schedulers, the interpreter and the built-in functions.
//! The `vm` binary (`main.rs`) is a thin command line over this library.

pub mod atom;
pub mod gc;
pub mod heap;
pub mod term;
