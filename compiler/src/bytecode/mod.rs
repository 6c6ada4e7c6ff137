//! Compiled modules: the register-machine instruction set (`opcodes.rs`, one
//! table from which everything else is derived), operand types
//! (`operand.rs`), the versioned module file format (`format.rs`), the
//! load-time verifier (`verify.rs`) and the disassembler (here).
//! `docs/bytecode.md` describes the machine and the compiled shapes.

pub mod format;
pub mod opcodes;
pub mod operand;
pub mod verify;

use std::fmt;

use num_bigint::BigInt;

pub use opcodes::Instruction;
pub use operand::{AtomIndex, Import, Label, Lambda, Local, Reg, Segment, SegmentType, Src, X_REGISTERS};

/// A constant term, built once when the module is loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Integer(BigInt),
    Float(f64),
    /// An index in the module's atom table.
    Atom(u32),
    Nil,
    /// `[a, b | Tail]`: the elements, then the tail.
    List(Vec<Literal>, Box<Literal>),
    Tuple(Vec<Literal>),
    Binary(Vec<u8>),
    /// The pairs in source order; the loader sorts them (the last of
    /// duplicate keys wins).
    Map(Vec<(Literal, Literal)>),
}

/// A function of the module: where its code starts and what it is called.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: u32,
    pub arity: u32,
    /// The `FuncInfo` instruction heading the function; the entry is the next one.
    pub start: Label,
}

/// `module:function/arity`, resolved when the module is loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportEntry {
    pub module: u32,
    pub function: u32,
    pub arity: u32,
}

/// A fun's code: a local function taking the fun's own `arity` arguments,
/// then its `free` captured variables; when a fun is called, the fun itself
/// is also left in `x(arity + free)` (a named fun reads it to call itself).
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaEntry {
    pub function: Local,
    pub arity: u32,
    pub free: u32,
}

/// One compiled module, as the loader receives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Module {
    /// The module's name: an index in `atoms`.
    pub name: u32,
    pub atoms: Vec<String>,
    pub literals: Vec<Literal>,
    pub imports: Vec<ImportEntry>,
    /// `(name, arity, function)` for each exported function.
    pub exports: Vec<(u32, u32, Local)>,
    pub functions: Vec<Function>,
    pub lambdas: Vec<LambdaEntry>,
    /// The source file, for stack traces.
    pub file: String,
    /// `(instruction, line)`: the line of each instruction from there on.
    pub lines: Vec<(u32, u32)>,
    pub code: Vec<Instruction>,
}

impl Module {
    pub fn atom(&self, index: u32) -> &str {
        self.atoms.get(index as usize).map_or("?", String::as_str)
    }

    /// The source line of instruction `pc`, if known.
    pub fn line_of(&self, pc: u32) -> Option<u32> {
        let i = self.lines.partition_point(|&(start, _)| start <= pc);
        i.checked_sub(1).map(|i| self.lines[i].1)
    }
}

/// `vm disasm`: a readable listing of a module.
impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let context = verify::Context::new(self);
        writeln!(f, "module {} (file {:?})", self.atom(self.name), self.file)?;
        let exports: Vec<String> =
            self.exports.iter().map(|&(name, arity, _)| format!("{}/{arity}", self.atom(name))).collect();
        writeln!(f, "exports [{}]", exports.join(", "))?;
        for (i, literal) in self.literals.iter().enumerate() {
            writeln!(f, "literal{i} = {literal:?}")?;
        }
        let mut function = 0;
        let mut line = None;
        for (pc, instruction) in self.code.iter().enumerate() {
            while function < self.functions.len() && self.functions[function].start.0 as usize == pc {
                let info = &self.functions[function];
                writeln!(f, "\nfunction {}/{}:", self.atom(info.name), info.arity)?;
                function += 1;
            }
            let here = self.line_of(pc as u32);
            let marker = if here != line { here.map_or(String::new(), |l| format!("line {l}")) } else { String::new() };
            line = here;
            write!(f, "  {pc:>5} {marker:>9}  ")?;
            instruction.show(&context, f)?;
            writeln!(f)?;
        }
        Ok(())
    }
}
