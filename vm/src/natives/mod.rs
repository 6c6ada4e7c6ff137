//! Built-in functions written in Rust, grouped by the module they belong to
//! (`erlang.rs`, `io.rs`, `math.rs`). Each takes the process and its arguments; an
//! argument slice doubles as the roots kept across any allocation the BIF
//! makes (`Process::ensure`), so a BIF reads its arguments again after
//! allocating. Errors are Erlang exceptions (`badarg`, `badarith`...), never
//! Rust panics.

mod binary;
mod c;
mod code;
mod erlang;
pub mod etf;
mod ets;
mod file;
mod inet;
mod io;
mod lists;
mod logger;
mod maps;
mod math;
mod owned;
pub(crate) mod process;
mod system;

use crate::exception::Stop;
use crate::process::Process;
use crate::term::Term;

pub(crate) use code::compile;

pub type NativeFn = fn(&mut Process, &mut [Term]) -> Result<Term, Stop>;

/// List cells a long built-in walks between two charges (and so between
/// two chances to suspend), and the cells a reduction pays for.
const CHARGE_EVERY: u64 = 1 << 16;
const CELLS_A_REDUCTION: u64 = 16;

/// The cost of a long walk over a list (invariant 4: a long list costs in
/// proportion), charged as it goes so that the process can be suspended
/// half-way: `step` at each cell, `done` at the end.
struct Walk(u64);

impl Walk {
    fn new() -> Walk {
        Walk(0)
    }

    fn step(&mut self, p: &mut Process) {
        self.0 += 1;
        if self.0 % CHARGE_EVERY == 0 {
            p.charge(CHARGE_EVERY / CELLS_A_REDUCTION);
        }
    }

    fn done(self, p: &mut Process) {
        p.reductions += (self.0 % CHARGE_EVERY) / CELLS_A_REDUCTION;
    }
}

/// The native implementation of `module:function/arity`, if there is one.
pub fn lookup(module: &str, function: &str, arity: u32) -> Option<NativeFn> {
    match module {
        "erlang" => erlang::lookup(function, arity)
            .or_else(|| maps::lookup_erlang(function, arity))
            .or_else(|| binary::lookup_erlang(function, arity))
            .or_else(|| system::lookup(function, arity))
            .or_else(|| process::lookup(function, arity))
            .or_else(|| etf::lookup(function, arity))
            .or_else(|| code::lookup_erlang(function, arity))
            .or_else(|| inet::lookup_erlang(function, arity)),
        "prim_inet" => inet::lookup(function, arity),
        "binary" => binary::lookup_module(function, arity),
        "unicode" => binary::lookup_unicode(function, arity),
        "maps" => maps::lookup(function, arity),
        "lists" => lists::lookup(function, arity),
        "io" if (function, arity) == ("get_line", 1) => Some(file::get_line as NativeFn),
        "io" => io::lookup(function, arity),
        "file" => file::lookup(function, arity),
        "io_lib" => io::lookup_io_lib(function, arity),
        "math" => math::lookup(function, arity),
        "logger" => logger::lookup(function, arity),
        "ets" => ets::lookup(function, arity),
        "error_logger" => logger::lookup_error_logger(function, arity),
        "c" => c::lookup(function, arity),
        "code" => code::lookup(function, arity),
        "shell" => crate::repl::lookup_shell(function, arity),
        _ => None,
    }
}
