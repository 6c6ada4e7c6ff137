//! Exceptions as they travel through the interpreter: a class, a reason term
//! (in the raising process's heap) and where it was raised, from which the
//! stack trace term `[{M, F, Arity, [{file, F}, {line, L}]}]` is built only
//! if someone asks for it (a `catch` clause with `:Stack`, or a crash report).

use std::sync::Arc;

use crate::atom::atoms;
use crate::module::LoadedModule;
use crate::term::Term;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Error,
    Throw,
    Exit,
}

impl Class {
    pub fn atom(self) -> Term {
        match self {
            Class::Error => atoms::ERROR,
            Class::Throw => atoms::THROW,
            Class::Exit => atoms::EXIT,
        }
    }

    pub fn from_atom(atom: Term) -> Option<Class> {
        Some(match atom {
            a if a == atoms::ERROR => Class::Error,
            a if a == atoms::THROW => Class::Throw,
            a if a == atoms::EXIT => Class::Exit,
            _ => return None,
        })
    }
}

/// A place in the code: the module version and an instruction index.
#[derive(Debug, Clone)]
pub struct Location {
    pub module: Arc<LoadedModule>,
    pub pc: u32,
}

#[derive(Debug, Clone)]
pub struct Exception {
    pub class: Class,
    pub reason: Term,
    /// Innermost first; filled in by the interpreter as it raises.
    pub trace: Vec<Location>,
    /// A stack trace term already built (a re-raise keeps the original one).
    pub stacktrace: Option<Term>,
    /// The built-in or undefined function the error came from, with its
    /// arguments: the stack trace starts with `{M, F, Args, []}` for it, as
    /// erl's does. Boxed: natives return `Result<Term, Stop>`, which
    /// stays small so that returning a value stays cheap.
    pub callee: Option<Box<(Term, Term, Vec<Term>)>>,
    /// For `function_clause`: the arguments the function was called with.
    /// Its stack entry shows them in place of its arity, as erl's does
    /// (`{lists, nth, [0, []], Location}`).
    pub args: Option<Vec<Term>>,
    /// What was wrong, for a built-in's `badarg` (an atom such as `id` or
    /// `badkey`): the `cause` of its stack entry's `error_info`, which
    /// erl_stdlib_errors explains.
    pub cause: Option<Term>,
}

impl Exception {
    pub fn new(class: Class, reason: Term) -> Exception {
        Exception { class, reason, trace: Vec::new(), stacktrace: None, callee: None, args: None, cause: None }
    }

    pub fn error(reason: Term) -> Exception {
        Exception::new(Class::Error, reason)
    }

    /// The error `reason` from a built-in, with its `error_info` cause (an atom).
    pub fn error_because(reason: Term, cause: Term) -> Exception {
        Exception { cause: Some(cause), ..Exception::error(reason) }
    }
}

/// How a native function or the interpreter stops normal execution.
#[derive(Debug, Clone)]
pub enum Stop {
    Raise(Exception),
    /// `erlang:halt/0,1`: the whole VM stops with this status.
    Halt(i32),
    /// The built-in killed its own process (`exit(self(), kill)`;
    /// `Process::killed` says why): it ends before the call returns, as in
    /// erl.
    Killed,
}

impl From<Exception> for Stop {
    fn from(exception: Exception) -> Stop {
        Stop::Raise(exception)
    }
}

/// `error:badarg` and friends, the common case for native functions.
pub fn error(reason: Term) -> Stop {
    Stop::Raise(Exception::error(reason))
}
