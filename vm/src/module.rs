//! Loaded modules: a verified bytecode module made ready to run. Its atoms
//! are interned, its literals built once into a heap of their own (shared by
//! every process, never collected; pointers into it stay valid as long as
//! the module version lives), and its imports resolved to native functions
//! or to remote calls looked up at call time (so calls reach the current
//! version of a module: invariant 7).

use std::collections::HashMap;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use compiler::bytecode::{self, Literal};

use crate::atom;
use crate::heap::Heap;
use crate::natives::{self, NativeFn};
use crate::term::Term;

#[derive(Debug, Clone, Copy)]
pub enum Import {
    Native(NativeFn),
    /// An operator the interpreter computes inline for two small integers,
    /// calling the native function otherwise. Recognised once, at load.
    Operator(Operator, NativeFn),
    /// `erlang:apply/2,3`: a call whose target is a value.
    Apply(u32),
    Remote {
        module: Term,
        function: Term,
        arity: u32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    Add,
    Subtract,
    Multiply,
    Divide,
    Div,
    Rem,
    Band,
    Bor,
    Bxor,
    Bsl,
    Bsr,
    Less,
    ExactEq,
}

impl Operator {
    fn of(module: &str, function: &str, arity: u32) -> Option<Operator> {
        Some(match (module, function, arity) {
            ("erlang", "+", 2) => Operator::Add,
            ("erlang", "-", 2) => Operator::Subtract,
            ("erlang", "*", 2) => Operator::Multiply,
            ("erlang", "/", 2) => Operator::Divide,
            ("erlang", "div", 2) => Operator::Div,
            ("erlang", "rem", 2) => Operator::Rem,
            ("erlang", "band", 2) => Operator::Band,
            ("erlang", "bor", 2) => Operator::Bor,
            ("erlang", "bxor", 2) => Operator::Bxor,
            ("erlang", "bsl", 2) => Operator::Bsl,
            ("erlang", "bsr", 2) => Operator::Bsr,
            ("erlang", "<", 2) => Operator::Less,
            ("erlang", "=:=", 2) => Operator::ExactEq,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct FunctionEntry {
    pub name: Term,
    pub arity: u32,
    /// The arguments a caller passed: `arity` less a fun's free variables
    /// (which ride after them). A `function_clause` shows these.
    pub args: u32,
    /// The arity a stack trace shows, as erl's: `arity` (a fun's captured
    /// variables count), but one more for a binary comprehension's
    /// function, which in erl also takes the binary being built.
    pub trace_arity: u32,
    /// The `FuncInfo` instruction; the code starts at the next one.
    pub start: u32,
}

#[derive(Debug, Clone)]
pub struct Lambda {
    /// The instruction after the function's `FuncInfo`.
    pub entry: u32,
    pub function: u32,
    pub arity: u32,
    pub free: u32,
}

#[derive(Debug)]
pub struct LoadedModule {
    pub name: Term,
    /// The module's instructions translated for the interpreter (`ops.rs`),
    /// one op per instruction; the bytecode itself is not kept.
    pub ops: Vec<crate::ops::Op>,
    pub atoms: Vec<Term>,
    pub literals: Vec<Term>,
    /// Holds the literals' objects; never collected.
    _literal_heap: Heap,
    pub imports: Vec<Import>,
    /// The module and function atom of each import, for stack traces.
    pub import_names: Vec<(Term, Term)>,
    pub functions: Vec<FunctionEntry>,
    pub exports: HashMap<(Term, u32), u32>,
    pub lambdas: Vec<Lambda>,
    pub file: String,
    lines: Vec<(u32, u32)>,
    /// What this module counts in `erlang:memory(code)`.
    bytes: usize,
    /// Set when the version is purged (`code.rs`): its funs then raise
    /// `badfun` when called, as OTP's do.
    pub purged: AtomicBool,
}

static CODE_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Bytes of loaded code (instructions, literals, tables) in the VM.
pub fn code_memory() -> usize {
    CODE_BYTES.load(Ordering::Relaxed)
}

impl Drop for LoadedModule {
    fn drop(&mut self) {
        CODE_BYTES.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Atom(String),
    Literal(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Atom(why) | LoadError::Literal(why) => f.write_str(why),
        }
    }
}

impl LoadedModule {
    /// Prepares a module that `bytecode::verify::verify` accepted.
    pub fn load(module: bytecode::Module) -> Result<LoadedModule, LoadError> {
        let atoms = module
            .atoms
            .iter()
            .map(|name| atom::intern(name).map_err(|e| LoadError::Atom(format!("atom {name:?}: {e:?}"))))
            .collect::<Result<Vec<Term>, _>>()?;
        let words: usize = module.literals.iter().map(literal_words).sum::<Result<usize, _>>()?;
        let mut literal_heap = Heap::with_young_words(words);
        let literals = module.literals.iter().map(|l| build_literal(&mut literal_heap, l, &atoms)).collect();
        let imports = module
            .imports
            .iter()
            .map(|i| {
                let (m, f) = (&module.atoms[i.module as usize], &module.atoms[i.function as usize]);
                if m == "erlang" && f == "apply" && (i.arity == 2 || i.arity == 3) {
                    Import::Apply(i.arity)
                } else if let Some(native) = natives::lookup(m, f, i.arity) {
                    match Operator::of(m, f, i.arity) {
                        Some(operator) => Import::Operator(operator, native),
                        None => Import::Native(native),
                    }
                } else {
                    Import::Remote {
                        module: atoms[i.module as usize],
                        function: atoms[i.function as usize],
                        arity: i.arity,
                    }
                }
            })
            .collect();
        let mut functions: Vec<FunctionEntry> = module
            .functions
            .iter()
            .map(|f| FunctionEntry {
                name: atoms[f.name as usize],
                arity: f.arity,
                args: f.arity,
                trace_arity: f.arity,
                start: f.start.0,
            })
            .collect();
        for lambda in &module.lambdas {
            let name = &module.atoms[module.functions[lambda.function.0 as usize].name as usize];
            let function = &mut functions[lambda.function.0 as usize];
            function.args = lambda.arity.min(function.arity);
            if name.contains("-lbc$^") {
                function.trace_arity = function.arity + 1;
            }
        }
        let exports = module
            .exports
            .iter()
            .map(|&(name, arity, function)| ((atoms[name as usize], arity), functions[function.0 as usize].start + 1))
            .collect();
        let lambdas = module
            .lambdas
            .iter()
            .map(|l| Lambda {
                entry: functions[l.function.0 as usize].start + 1,
                function: l.function.0,
                arity: l.arity,
                free: l.free,
            })
            .collect();
        let bytes = module.code.len() * std::mem::size_of::<crate::ops::Op>()
            + 8 * words
            + module.imports.len() * std::mem::size_of::<Import>()
            + module.functions.len() * std::mem::size_of::<FunctionEntry>();
        CODE_BYTES.fetch_add(bytes, Ordering::Relaxed);
        let mut loaded = LoadedModule {
            bytes,
            name: atoms[module.name as usize],
            ops: Vec::new(),
            import_names: module
                .imports
                .iter()
                .map(|i| (atoms[i.module as usize], atoms[i.function as usize]))
                .collect(),
            atoms,
            literals,
            _literal_heap: literal_heap,
            imports,
            functions,
            exports,
            lambdas,
            file: module.file,
            lines: module.lines,
            purged: AtomicBool::new(false),
        };
        loaded.ops = crate::ops::translate(&loaded, &module.code);
        Ok(loaded)
    }

    /// The function containing instruction `pc`.
    pub fn function_at(&self, pc: u32) -> Option<&FunctionEntry> {
        let i = self.functions.partition_point(|f| f.start <= pc);
        i.checked_sub(1).map(|i| &self.functions[i])
    }

    pub fn line_of(&self, pc: u32) -> Option<u32> {
        let i = self.lines.partition_point(|&(start, _)| start <= pc);
        i.checked_sub(1).map(|i| self.lines[i].1)
    }

    /// The entry of an exported function.
    pub fn export(&self, name: Term, arity: u32) -> Option<u32> {
        self.exports.get(&(name, arity)).copied()
    }
}

fn literal_words(literal: &Literal) -> Result<usize, LoadError> {
    Ok(match literal {
        Literal::Integer(i) => Heap::words_for_integer(i),
        Literal::Float(_) => 2,
        Literal::Atom(_) | Literal::Nil => 0,
        Literal::List(items, tail) => {
            2 * items.len() + items.iter().map(literal_words).sum::<Result<usize, _>>()? + literal_words(tail)?
        }
        Literal::Tuple(items) => 1 + items.len() + items.iter().map(literal_words).sum::<Result<usize, _>>()?,
        Literal::Map(pairs) => {
            let mut words = crate::map::words(pairs.len());
            for (key, value) in pairs {
                words += literal_words(key)? + literal_words(value)?;
            }
            words
        }
        Literal::Binary(bytes) => Heap::words_for_binary(bytes.len()),
    })
}

fn build_literal(heap: &mut Heap, literal: &Literal, atoms: &[Term]) -> Term {
    match literal {
        Literal::Integer(i) => heap.integer(i),
        Literal::Float(f) => heap.float(*f),
        Literal::Atom(a) => atoms[*a as usize],
        Literal::Nil => Term::NIL,
        Literal::List(items, tail) => {
            let items: Vec<Term> = items.iter().map(|i| build_literal(heap, i, atoms)).collect();
            let mut list = build_literal(heap, tail, atoms);
            for &item in items.iter().rev() {
                list = heap.cons(item, list);
            }
            list
        }
        Literal::Tuple(items) => {
            let items: Vec<Term> = items.iter().map(|i| build_literal(heap, i, atoms)).collect();
            heap.tuple(&items)
        }
        Literal::Binary(bytes) => heap.binary(bytes),
        Literal::Map(pairs) => {
            let pairs: Vec<(Term, Term)> =
                pairs.iter().map(|(k, v)| (build_literal(heap, k, atoms), build_literal(heap, v, atoms))).collect();
            heap.map(&crate::map::normalize(pairs))
        }
    }
}
