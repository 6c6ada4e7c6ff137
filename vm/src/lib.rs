//! The actor VM: terms, process heaps and their collector, and (as the issues
//! land) processes, schedulers, the interpreter and the built-in functions.
//! The `vm` binary (`main.rs`) is a thin command line over this library.

pub mod atom;
pub mod bits;
pub mod code;
pub mod compare;
pub mod console;
pub mod control;
pub mod copy;
pub mod coroutine;
pub mod ets;
pub mod exception;
pub mod fun;
pub mod fuzz_checks;
pub mod gc;
pub mod hash;
pub mod heap;
pub mod interp;
pub mod mailbox;
pub mod map;
pub mod module;
pub mod natives;
pub mod net;
pub mod ops;
pub mod pretty;
pub mod print;
pub mod process;
pub mod purge;
pub mod repl;
pub mod report;
pub mod runner;
pub mod scheduler;
pub mod signals;
pub mod stdlib;
pub mod term;
pub mod timer;
pub mod watch;
