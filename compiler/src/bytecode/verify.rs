//! The load-time verifier (invariant 9 of DESIGN.md): a module from disk or
//! from the control socket runs only after this says yes. It checks the
//! tables (every index in range, every function headed by its `FuncInfo`),
//! each operand (by the opcode table), and each function's control flow by
//! abstract interpretation: every path keeps the same frame at every
//! instruction, `y` registers are used only inside a frame of that size,
//! calls happen with a frame, returns without one, and no path runs off the
//! end of a function or jumps into another.

use std::collections::VecDeque;
use std::fmt;

use super::operand::{Reg, X_REGISTERS};
use super::{Instruction, Label, Literal, Module};

/// The most arguments a function may take (as in OTP).
const MAX_ARITY: u32 = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// The instruction at fault, if the problem is in the code.
    pub pc: Option<u32>,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pc {
            Some(pc) => write!(f, "bad module: instruction {pc}: {}", self.message),
            None => write!(f, "bad module: {}", self.message),
        }
    }
}

fn table_error(message: String) -> VerifyError {
    VerifyError { pc: None, message }
}

/// What operands are checked against: the module, and the frame (its number
/// of `y` registers, or `None` outside a frame) at the instruction.
#[derive(Debug)]
pub struct Context<'a> {
    module: &'a Module,
    frame: Option<u32>,
}

impl<'a> Context<'a> {
    pub fn new(module: &'a Module) -> Context<'a> {
        // The disassembler shows any module; only `verify` sets a frame.
        Context { module, frame: Some(u32::MAX) }
    }

    pub fn register(&self, reg: Reg) -> Result<(), String> {
        match reg {
            Reg::X(i) if (i as usize) < X_REGISTERS => Ok(()),
            Reg::X(i) => Err(format!("x{i} is beyond the {X_REGISTERS} x registers")),
            Reg::Y(i) => match self.frame {
                Some(slots) if u32::from(i) < slots => Ok(()),
                Some(slots) => Err(format!("y{i} is outside the frame of {slots} slots")),
                None => Err(format!("y{i} is used outside a frame")),
            },
        }
    }

    pub fn atom(&self, index: u32) -> Result<(), String> {
        self.index(index, "show_atom")
    }

    pub fn literal(&self, index: u32) -> Result<(), String> {
        if (index as usize) < self.module.literals.len() {
            Ok(())
        } else {
            Err(format!("literal {index} does not exist"))
        }
    }

    /// Checks an index operand; `table` names the operand type's table.
    pub fn index(&self, index: u32, table: &str) -> Result<(), String> {
        let (len, what) = match table {
            "show_label" => (self.module.code.len(), "instruction"),
            "show_import" => (self.module.imports.len(), "import"),
            "show_local" => (self.module.functions.len(), "function"),
            "show_lambda" => (self.module.lambdas.len(), "lambda"),
            _ => (self.module.atoms.len(), "atom"),
        };
        if (index as usize) < len {
            Ok(())
        } else {
            Err(format!("{what} {index} does not exist"))
        }
    }

    pub fn atom_text(&self, index: u32) -> String {
        match self.module.atoms.get(index as usize) {
            Some(atom) if atom.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@') => atom.clone(),
            Some(atom) => format!("'{atom}'"),
            None => format!("<atom {index}>"),
        }
    }

    pub fn show_label(&self, index: u32, f: &mut fmt::Formatter<'_>, prefix: &str) -> fmt::Result {
        write!(f, "{prefix}{index}")
    }

    pub fn show_atom(&self, index: u32, f: &mut fmt::Formatter<'_>, _: &str) -> fmt::Result {
        f.write_str(&self.atom_text(index))
    }

    pub fn show_import(&self, index: u32, f: &mut fmt::Formatter<'_>, _: &str) -> fmt::Result {
        match self.module.imports.get(index as usize) {
            Some(import) => {
                write!(f, "{}:{}/{}", self.atom_text(import.module), self.atom_text(import.function), import.arity)
            }
            None => write!(f, "<import {index}>"),
        }
    }

    pub fn show_local(&self, index: u32, f: &mut fmt::Formatter<'_>, _: &str) -> fmt::Result {
        match self.module.functions.get(index as usize) {
            Some(function) => write!(f, "{}/{}", self.atom_text(function.name), function.arity),
            None => write!(f, "<function {index}>"),
        }
    }

    pub fn show_lambda(&self, index: u32, f: &mut fmt::Formatter<'_>, prefix: &str) -> fmt::Result {
        write!(f, "{prefix}{index}")
    }
}

/// Checks a decoded module before it may be loaded.
pub fn verify(module: &Module) -> Result<(), VerifyError> {
    verify_tables(module)?;
    let mut starts: Vec<u32> = module.functions.iter().map(|f| f.start.0).collect();
    starts.push(module.code.len() as u32);
    for window in starts.windows(2) {
        verify_function(module, window[0], window[1])?;
    }
    Ok(())
}

fn verify_tables(module: &Module) -> Result<(), VerifyError> {
    let atoms = module.atoms.len() as u32;
    let atom = |index: u32, what: &str| {
        if index < atoms {
            Ok(())
        } else {
            Err(table_error(format!("{what} names atom {index}, which does not exist")))
        }
    };
    atom(module.name, "the module")?;
    for literal in &module.literals {
        verify_literal(literal, atoms)?;
    }
    for import in &module.imports {
        atom(import.module, "an import")?;
        atom(import.function, "an import")?;
        if import.arity > MAX_ARITY {
            return Err(table_error(format!("an import of arity {}", import.arity)));
        }
    }
    if module.functions.is_empty() != module.code.is_empty() {
        return Err(table_error("code without functions, or functions without code".to_owned()));
    }
    let mut previous_start = None;
    for function in &module.functions {
        atom(function.name, "a function")?;
        if function.arity > MAX_ARITY {
            return Err(table_error(format!("a function of arity {}", function.arity)));
        }
        let start = function.start.0;
        if previous_start.map_or(start != 0, |previous| start <= previous) {
            return Err(table_error("functions must start at 0 and follow each other in code order".to_owned()));
        }
        previous_start = Some(start);
        match module.code.get(start as usize) {
            Some(Instruction::FuncInfo { name, arity }) if name.0 == function.name && *arity == function.arity => {}
            _ => return Err(table_error(format!("function at {start} is not headed by its FuncInfo"))),
        }
    }
    let function_arity = |index: u32| module.functions.get(index as usize).map(|f| f.arity);
    for &(name, arity, function) in &module.exports {
        atom(name, "an export")?;
        match module.functions.get(function.0 as usize) {
            Some(f) if f.name == name && f.arity == arity => {}
            _ => return Err(table_error(format!("export {} does not name its function", module.atom(name)))),
        }
    }
    for lambda in &module.lambdas {
        if function_arity(lambda.function.0) != Some(lambda.arity + lambda.free) {
            return Err(table_error("a lambda whose function does not take its free variables and arguments".into()));
        }
    }
    let code_len = module.code.len() as u32;
    if module.lines.iter().any(|&(pc, _)| pc >= code_len) || !module.lines.windows(2).all(|w| w[0].0 <= w[1].0) {
        return Err(table_error("the line table is out of order or out of range".to_owned()));
    }
    Ok(())
}

fn verify_literal(literal: &Literal, atoms: u32) -> Result<(), VerifyError> {
    let mut pending = vec![literal];
    while let Some(literal) = pending.pop() {
        match literal {
            Literal::Atom(index) if *index >= atoms => {
                return Err(table_error(format!("a literal names atom {index}, which does not exist")));
            }
            Literal::List(items, tail) => {
                pending.extend(items.iter());
                pending.push(tail);
            }
            Literal::Tuple(items) => pending.extend(items.iter()),
            Literal::Map(pairs) => pending.extend(pairs.iter().flat_map(|(key, value)| [key, value])),
            _ => {}
        }
    }
    Ok(())
}

/// What happens after an instruction, for the control-flow walk.
struct Flow {
    /// The frame after the instruction, for the next one and the branch targets.
    frame: Option<u32>,
    next: bool,
    targets: Vec<Label>,
}

fn verify_function(module: &Module, start: u32, end: u32) -> Result<(), VerifyError> {
    let error = |pc: u32, message: String| VerifyError { pc: Some(pc), message };
    let len = (end - start) as usize;
    let mut seen: Vec<Option<Option<u32>>> = vec![None; len];
    let mut pending = VecDeque::new();
    // The entry (after FuncInfo) runs without a frame; so does the FuncInfo,
    // which the first clause's tests jump to when no clause matches.
    pending.push_back((start, None));
    // The entry is the instruction after FuncInfo: it must exist (the
    // interpreter runs from it without checking the code's length).
    if start + 1 >= end {
        return Err(error(start, "a function without code after its FuncInfo".to_owned()));
    }
    pending.push_back((start + 1, None));
    while let Some((pc, frame)) = pending.pop_front() {
        if pc < start || pc >= end {
            return Err(error(pc, "control leaves its function".to_owned()));
        }
        let slot = &mut seen[(pc - start) as usize];
        match slot {
            Some(known) if *known == frame => continue,
            Some(known) => {
                return Err(error(pc, format!("reached with a frame of {frame:?} slots and of {known:?} slots")));
            }
            None => *slot = Some(frame),
        }
        let instruction = &module.code[pc as usize];
        let mut context = Context { module, frame };
        instruction.verify_operands(&mut context).map_err(|message| error(pc, message))?;
        let flow = flow(instruction, frame).map_err(|message| error(pc, message))?;
        if flow.next {
            pending.push_back((pc + 1, flow.frame));
        }
        for target in flow.targets {
            pending.push_back((target.0, flow.frame));
        }
    }
    // Code that control never reaches is still loaded (translated), so its
    // indices into the module's tables must be in range too; no frame is
    // known there, so any y register is allowed.
    for (offset, reached) in seen.iter().enumerate() {
        if reached.is_none() {
            let pc = start + offset as u32;
            module.code[pc as usize]
                .verify_operands(&mut Context::new(module))
                .map_err(|message| error(pc, message))?;
        }
    }
    Ok(())
}

fn require_frame(frame: Option<u32>, slots: u32, what: &str) -> Result<(), String> {
    match frame {
        Some(n) if n == slots => Ok(()),
        Some(n) => Err(format!("{what} of {slots} slots in a frame of {n}")),
        None => Err(format!("{what} outside a frame")),
    }
}

fn flow(instruction: &Instruction, frame: Option<u32>) -> Result<Flow, String> {
    use Instruction as I;
    let next = |frame| Ok(Flow { frame, next: true, targets: Vec::new() });
    let stop = || Ok(Flow { frame: None, next: false, targets: Vec::new() });
    let branch = |targets: Vec<Label>| Ok(Flow { frame, next: true, targets });
    let arity_ok = |arity: u32| {
        if arity <= MAX_ARITY {
            Ok(())
        } else {
            Err(format!("arity {arity}"))
        }
    };
    let live_ok = |live: u32| {
        if live as usize <= X_REGISTERS {
            Ok(())
        } else {
            Err(format!("{live} live registers"))
        }
    };
    let y_slot = |reg: &Reg| match reg {
        Reg::Y(_) => Ok(()),
        Reg::X(_) => Err("a catch tag must be kept in a y register".to_owned()),
    };
    match instruction {
        I::FuncInfo { .. } => stop(),
        I::Allocate { slots } => match frame {
            None if *slots <= u32::from(u16::MAX) => next(Some(*slots)),
            None => Err(format!("a frame of {slots} slots")),
            Some(_) => Err("allocate inside a frame".to_owned()),
        },
        I::Deallocate { slots } => {
            require_frame(frame, *slots, "deallocate")?;
            next(None)
        }
        I::Return {} => match frame {
            None => stop(),
            Some(_) => Err("return without deallocating the frame".to_owned()),
        },
        I::Call { arity, .. } | I::CallExt { arity, .. } | I::CallFun { arity } => {
            arity_ok(*arity)?;
            match frame {
                Some(_) => next(frame),
                None => Err("a call (not a tail call) needs a frame to return to".to_owned()),
            }
        }
        I::CallLast { arity, slots, .. } | I::CallExtLast { arity, slots, .. } | I::CallFunLast { arity, slots } => {
            arity_ok(*arity)?;
            require_frame(frame, *slots, "a tail call deallocating")?;
            stop()
        }
        I::CallOnly { arity, .. } | I::CallExtOnly { arity, .. } => {
            arity_ok(*arity)?;
            match frame {
                None => stop(),
                Some(_) => Err("a tail call that leaves its frame behind".to_owned()),
            }
        }
        I::Bif { args, live, .. } => {
            arity_ok(args.len() as u32)?;
            live_ok(*live)?;
            next(frame)
        }
        I::GuardBif { args, live, .. } => {
            arity_ok(args.len() as u32)?;
            live_ok(*live)?;
            branch(instruction.labels())
        }
        I::PutMapAssoc { pairs, live, .. } | I::PutMapExact { pairs, live, .. } => {
            if pairs.len() % 2 != 0 {
                return Err(format!("{} map operands, not pairs", pairs.len()));
            }
            live_ok(*live)?;
            next(frame)
        }
        I::BsCreate { live, .. } => {
            live_ok(*live)?;
            next(frame)
        }
        I::BsGet { live, .. } => {
            live_ok(*live)?;
            branch(instruction.labels())
        }
        I::TestHeap { live, .. } | I::MakeFun { live, .. } => {
            live_ok(*live)?;
            next(frame)
        }
        I::Move { .. }
        | I::GetList { .. }
        | I::GetTupleElement { .. }
        | I::PutList { .. }
        | I::PutTuple { .. }
        | I::TryEnd { .. }
        | I::TryCase { .. }
        | I::CatchEnd { .. }
        | I::RemoveMessage {}
        | I::Timeout {} => next(frame),
        // Waiting keeps the frame: the wait resumes at its target.
        I::LoopRec { .. } | I::WaitTimeout { .. } => branch(instruction.labels()),
        I::LoopRecEnd { target } | I::Wait { target } => Ok(Flow { frame, next: false, targets: vec![*target] }),
        I::Jump { target } => Ok(Flow { frame, next: false, targets: vec![*target] }),
        // Every conditional test: falls through, or branches to its label.
        I::IsInteger { .. }
        | I::IsFloat { .. }
        | I::IsNumber { .. }
        | I::IsAtom { .. }
        | I::IsNil { .. }
        | I::IsCons { .. }
        | I::IsList { .. }
        | I::IsTuple { .. }
        | I::IsTupleOfArity { .. }
        | I::IsBinary { .. }
        | I::IsFunction { .. }
        | I::IsPid { .. }
        | I::IsBoolean { .. }
        | I::IsMap { .. }
        | I::GetMapElement { .. }
        | I::BsTestTail { .. }
        | I::IsEqExact { .. }
        | I::IsNeExact { .. }
        | I::IsEq { .. }
        | I::IsNe { .. }
        | I::IsLt { .. }
        | I::IsGe { .. } => branch(instruction.labels()),
        I::Try { handler, slot } | I::Catch { handler, slot } => {
            y_slot(slot)?;
            branch(vec![*handler])
        }
        I::SelectValue { .. } => Ok(Flow { frame, next: false, targets: instruction.labels() }),
        I::Badmatch { .. } | I::CaseEnd { .. } | I::IfEnd {} | I::TryCaseEnd { .. } | I::Raise { .. } => stop(),
    }
}
