//! The interpreter: runs a process's bytecode. One `match` on the decoded
//! instruction per step (op families are small enough to stay inline for
//! now); every step ends in a [`Transfer`] that says where control goes, so
//! the borrow of the current module's code never outlives the step.
//!
//! Soundness does not rest on the bytecode being well-behaved beyond what the
//! verifier proves: type assumptions (a cons for `GetList`, a tuple for
//! `GetTupleElement`, room made by `TestHeap`) are checked and raise instead
//! of reading bad memory, and after any collection the `x` registers that are
//! not roots are cleared so that no stale pointer can be read.

use std::sync::Arc;

use compiler::bytecode::{Instruction as I, Reg, Src, X_REGISTERS};

use crate::atom::{self, atoms};
use crate::bits::Decoded;
use crate::code::CodeServer;
use crate::compare::{compare, eq, exact_eq};
use crate::exception::{Class, Exception, Location, Stop};
use crate::fun;
use crate::heap::{binary_bytes, integer_value, Heap};
use crate::module::{Import, LoadedModule, Operator};
use crate::natives::NativeFn;
use crate::process::{Continuation, Frame, Handler, Process};
use crate::term::Term;

/// Stack trace entries kept, as BEAM's default `backtrace_depth`.
const TRACE_DEPTH: usize = 8;

enum Transfer {
    Next,
    Jump(u32),
    Enter(Arc<LoadedModule>, u32),
    /// Boxed so that every step's result stays two words.
    Raise(Box<Exception>),
    /// The outermost function returned: the run is over.
    Finish(Term),
    Halt(i32),
}

fn raise(exception: Exception) -> Transfer {
    Transfer::Raise(Box::new(exception))
}

/// The registers and code table a process runs with.
#[derive(Debug)]
pub struct Machine<'c> {
    code: &'c CodeServer,
    x: Vec<Term>,
}

impl<'c> Machine<'c> {
    pub fn new(code: &'c CodeServer) -> Machine<'c> {
        Machine { code, x: vec![Term::NIL; X_REGISTERS] }
    }

    /// Runs `module:function(args...)` in `process` until it returns or raises.
    pub fn call(&mut self, process: &mut Process, module: Term, function: Term, args: &[Term]) -> Result<Term, Stop> {
        let arity = args.len() as u32;
        let target = self.code.current(module).and_then(|m| m.export(function, arity).map(|entry| (m, entry)));
        let Some((module, entry)) = target else {
            return Err(Stop::Raise(Exception::error(atoms::UNDEF)));
        };
        self.x[..args.len()].copy_from_slice(args);
        self.run(process, module, entry)
    }

    fn run(&mut self, process: &mut Process, mut module: Arc<LoadedModule>, mut pc: u32) -> Result<Term, Stop> {
        let mut continuation: Continuation = None;
        loop {
            let transfer = self.step(process, &module, pc, &mut continuation);
            match transfer {
                Transfer::Next => pc += 1,
                Transfer::Jump(target) => pc = target,
                Transfer::Enter(target, entry) => {
                    module = target;
                    pc = entry;
                }
                Transfer::Finish(result) => return Ok(result),
                Transfer::Halt(status) => return Err(Stop::Halt(status)),
                Transfer::Raise(exception) => {
                    let mut exception = *exception;
                    if exception.trace.is_empty() && exception.stacktrace.is_none() {
                        exception.trace = trace(process, &module, pc, &continuation);
                    }
                    match unwind(process, exception) {
                        Ok((handler_module, handler_pc)) => {
                            module = handler_module;
                            pc = handler_pc;
                        }
                        Err(exception) => return Err(Stop::Raise(exception)),
                    }
                }
            }
        }
    }

    #[inline(always)]
    fn read(&self, process: &Process, module: &LoadedModule, src: &Src) -> Term {
        match *src {
            Src::Reg(Reg::X(i)) => self.x[i as usize],
            Src::Reg(Reg::Y(i)) => process.stack[process.y_base + i as usize],
            Src::Atom(a) => module.atoms[a as usize],
            // The verifier checked the range.
            Src::Int(v) => Term::small(v).unwrap_or(Term::NIL),
            Src::Nil => Term::NIL,
            Src::Literal(l) => module.literals[l as usize],
        }
    }

    #[inline(always)]
    fn write(&mut self, process: &mut Process, reg: &Reg, value: Term) {
        match *reg {
            Reg::X(i) => self.x[i as usize] = value,
            Reg::Y(i) => process.stack[process.y_base + i as usize] = value,
        }
    }

    /// Makes heap room with `x0..x(live-1)` and the stack as roots, then
    /// clears the other x registers if a collection ran.
    fn ensure(&mut self, process: &mut Process, words: usize, live: usize) {
        let before = collections(process);
        process.ensure(words, &mut self.x[..live.min(X_REGISTERS)]);
        if before != collections(process) {
            self.x[live.min(X_REGISTERS)..].fill(Term::NIL);
        }
    }

    #[inline(always)]
    fn step(
        &mut self,
        process: &mut Process,
        module: &Arc<LoadedModule>,
        pc: u32,
        continuation: &mut Continuation,
    ) -> Transfer {
        let m: &LoadedModule = module;
        let Some(instruction) = m.code.get(pc as usize) else {
            return raise(Exception::error(atoms::BADARG));
        };
        macro_rules! get {
            ($src:expr) => {
                self.read(process, m, $src)
            };
        }
        macro_rules! test {
            ($fail:expr, $condition:expr) => {
                if $condition {
                    Transfer::Next
                } else {
                    Transfer::Jump($fail.0)
                }
            };
        }
        match instruction {
            I::FuncInfo { .. } => {
                // No clause matched: function_clause, raised where the function is.
                raise(Exception::error(atoms::FUNCTION_CLAUSE))
            }
            I::Allocate { slots } => {
                process.frames.push(Frame { continuation: continuation.take(), caller_base: process.y_base });
                process.y_base = process.stack.len();
                process.stack.resize(process.y_base + *slots as usize, Term::NIL);
                Transfer::Next
            }
            I::Deallocate { .. } => {
                deallocate(process, continuation);
                Transfer::Next
            }
            I::Return {} => match continuation.take() {
                Some((target, entry)) => Transfer::Enter(target, entry),
                None => Transfer::Finish(self.x[0]),
            },
            I::Call { function, .. } => {
                process.reductions += 1;
                *continuation = Some((module.clone(), pc + 1));
                Transfer::Jump(m.functions[function.0 as usize].start + 1)
            }
            I::CallLast { function, .. } => {
                process.reductions += 1;
                deallocate(process, continuation);
                Transfer::Jump(m.functions[function.0 as usize].start + 1)
            }
            I::CallOnly { function, .. } => {
                process.reductions += 1;
                Transfer::Jump(m.functions[function.0 as usize].start + 1)
            }
            I::CallExt { arity, import } => {
                process.reductions += 1;
                let import = m.imports[import.0 as usize];
                // A native function runs now and continues after the call;
                // code is entered with the continuation set to come back here.
                if !matches!(import, Import::Native(_) | Import::Operator(..)) {
                    *continuation = Some((module.clone(), pc + 1));
                }
                self.call_import(process, import, *arity as usize)
            }
            I::CallExtLast { arity, import, .. } => {
                process.reductions += 1;
                deallocate(process, continuation);
                let transfer = self.call_import(process, m.imports[import.0 as usize], *arity as usize);
                self.tail(transfer, continuation)
            }
            I::CallExtOnly { arity, import } => {
                process.reductions += 1;
                let transfer = self.call_import(process, m.imports[import.0 as usize], *arity as usize);
                self.tail(transfer, continuation)
            }
            I::CallFun { arity } => {
                process.reductions += 1;
                *continuation = Some((module.clone(), pc + 1));
                self.call_fun(process, *arity as usize)
            }
            I::CallFunLast { arity, .. } => {
                process.reductions += 1;
                deallocate(process, continuation);
                self.call_fun(process, *arity as usize)
            }
            I::Bif { import, args, dst, live } | I::GuardBif { import, args, dst, live, .. } => {
                let fail = match instruction {
                    I::GuardBif { fail, .. } => Some(fail.0),
                    _ => None,
                };
                let (native, operator) = match m.imports[import.0 as usize] {
                    Import::Native(native) => (native, None),
                    Import::Operator(operator, native) => (native, Some(operator)),
                    // Not a built-in: as a guard it fails, as a body call it is undefined.
                    _ => {
                        return match fail {
                            Some(fail) => Transfer::Jump(fail),
                            None => raise(Exception::error(atoms::UNDEF)),
                        }
                    }
                };
                let mut buffer = [Term::NIL; 8];
                if args.len() > buffer.len() {
                    return raise(Exception::error(atoms::BADARG));
                }
                for (slot, src) in buffer.iter_mut().zip(args) {
                    *slot = get!(src);
                }
                // Small-integer arithmetic and comparisons without a call.
                if let (Some(operator), [a, b]) = (operator, &buffer[..args.len()]) {
                    if let Some(value) = small_operator(operator, *a, *b) {
                        self.write(process, dst, value);
                        return Transfer::Next;
                    }
                }
                match self.call_native(process, native, &mut buffer[..args.len()], *live as usize) {
                    Ok(value) => {
                        self.write(process, dst, value);
                        Transfer::Next
                    }
                    Err(Stop::Raise(exception)) => match fail {
                        Some(fail) => Transfer::Jump(fail),
                        None => raise(exception),
                    },
                    Err(Stop::Halt(status)) => Transfer::Halt(status),
                }
            }
            I::Move { src, dst } => {
                let value = get!(src);
                self.write(process, dst, value);
                Transfer::Next
            }
            I::Jump { target } => Transfer::Jump(target.0),
            I::IsInteger { fail, src } => test!(fail, integer_value(get!(src)).is_some()),
            I::IsFloat { fail, src } => test!(fail, get!(src).float_value().is_some()),
            I::IsNumber { fail, src } => {
                let t = get!(src);
                test!(fail, t.is_small() || t.float_value().is_some() || integer_value(t).is_some())
            }
            I::IsAtom { fail, src } => test!(fail, get!(src).is_atom()),
            I::IsNil { fail, src } => test!(fail, get!(src).is_nil()),
            I::IsCons { fail, src } => test!(fail, get!(src).is_cons()),
            I::IsList { fail, src } => {
                let t = get!(src);
                test!(fail, t.is_cons() || t.is_nil())
            }
            I::IsTuple { fail, src } => test!(fail, get!(src).tuple_elements().is_some()),
            I::IsTupleOfArity { fail, src, arity } => {
                test!(fail, get!(src).tuple_elements().is_some_and(|t| t.len() == *arity as usize))
            }
            I::IsBinary { fail, src } => test!(fail, binary_bytes(get!(src)).is_some()),
            I::IsFunction { fail, src } => test!(fail, fun::is_fun(get!(src))),
            I::IsPid { fail, src } => test!(fail, get!(src).is_pid()),
            I::IsBoolean { fail, src } => {
                let t = get!(src);
                test!(fail, t == atoms::TRUE || t == atoms::FALSE)
            }
            I::IsEqExact { fail, a, b } => test!(fail, exact_eq(get!(a), get!(b))),
            I::IsNeExact { fail, a, b } => test!(fail, !exact_eq(get!(a), get!(b))),
            I::IsEq { fail, a, b } => test!(fail, eq(get!(a), get!(b))),
            I::IsNe { fail, a, b } => test!(fail, !eq(get!(a), get!(b))),
            I::IsLt { fail, a, b } => test!(fail, compare(get!(a), get!(b)).is_lt()),
            I::IsGe { fail, a, b } => test!(fail, compare(get!(a), get!(b)).is_ge()),
            I::GetList { src, head, tail } => {
                let list = get!(src);
                if !list.is_cons() {
                    return raise(Exception::error(atoms::BADARG));
                }
                self.write(process, head, list.head());
                self.write(process, tail, list.tail());
                Transfer::Next
            }
            I::GetTupleElement { src, index, dst } => {
                match get!(src).tuple_elements().and_then(|t| t.get(*index as usize)) {
                    Some(&element) => {
                        self.write(process, dst, element);
                        Transfer::Next
                    }
                    None => raise(Exception::error(atoms::BADARG)),
                }
            }
            I::TestHeap { words, live } => {
                self.ensure(process, *words as usize, *live as usize);
                Transfer::Next
            }
            I::PutList { head, tail, dst } => {
                if !process.heap.has_room(2) {
                    self.ensure(process, 2, 0);
                }
                let (h, t) = (get!(head), get!(tail));
                let list = process.heap.cons(h, t);
                self.write(process, dst, list);
                Transfer::Next
            }
            I::PutTuple { elements, dst } => {
                if !process.heap.has_room(1 + elements.len()) {
                    self.ensure(process, 1 + elements.len(), 0);
                }
                let values: Vec<Term> = elements.iter().map(|e| get!(e)).collect();
                let tuple = process.heap.tuple(&values);
                self.write(process, dst, tuple);
                Transfer::Next
            }
            I::MakeFun { lambda, free, dst, live } => {
                self.ensure(process, fun::words(free.len()), *live as usize);
                let values: Vec<Term> = free.iter().map(|e| get!(e)).collect();
                let made = fun::make(&mut process.heap, module, lambda.0, &values);
                self.write(process, dst, made);
                Transfer::Next
            }
            I::Badmatch { src } => raise(self.error_tuple(process, atoms::BADMATCH, get!(src))),
            I::CaseEnd { src } => raise(self.error_tuple(process, atoms::CASE_CLAUSE, get!(src))),
            I::TryCaseEnd { src } => raise(self.error_tuple(process, atoms::TRY_CLAUSE, get!(src))),
            I::IfEnd {} => raise(Exception::error(atoms::IF_CLAUSE)),
            I::Try { handler, slot } | I::Catch { handler, slot } => {
                let is_catch = matches!(instruction, I::Catch { .. });
                process.handlers.push(Handler {
                    module: module.clone(),
                    pc: handler.0,
                    frames: process.frames.len(),
                    is_catch,
                });
                self.write(process, slot, Term::NIL);
                Transfer::Next
            }
            I::TryEnd { slot } => {
                process.handlers.pop();
                self.write(process, slot, Term::NIL);
                Transfer::Next
            }
            I::TryCase { slot } => {
                self.write(process, slot, Term::NIL);
                let Some(exception) = process.caught.take() else {
                    return raise(Exception::error(atoms::BADARG));
                };
                self.x[0] = exception.class.atom();
                self.x[1] = exception.reason;
                self.x[2] = self.stacktrace(process, &exception, 2);
                Transfer::Next
            }
            I::CatchEnd { slot } => {
                self.write(process, slot, Term::NIL);
                match process.caught.take() {
                    None => {
                        process.handlers.pop();
                    }
                    Some(exception) => self.x[0] = self.catch_value(process, &exception),
                }
                Transfer::Next
            }
            I::Raise { class, reason, stacktrace } => {
                let Some(class) = Class::from_atom(get!(class)) else {
                    return raise(Exception::error(atoms::BADARG));
                };
                let mut exception = Exception::new(class, get!(reason));
                exception.stacktrace = Some(get!(stacktrace));
                raise(exception)
            }
            I::IsMap { fail, src } => test!(fail, get!(src).map_words().is_some()),
            I::GetMapElement { fail, src, key, dst } => {
                let found = get!(src).map_words().and_then(|words| crate::map::get(words, get!(key)));
                match found {
                    Some(value) => {
                        self.write(process, dst, value);
                        Transfer::Next
                    }
                    None => Transfer::Jump(fail.0),
                }
            }
            I::PutMapAssoc { src, pairs, dst, live } | I::PutMapExact { src, pairs, dst, live } => {
                let exact = matches!(instruction, I::PutMapExact { .. });
                let Some(words) = get!(src).map_words() else {
                    return raise(self.error_tuple(process, atoms::BADMAP, get!(src)));
                };
                let mut added = 0;
                for key in pairs.iter().step_by(2) {
                    let key = get!(key);
                    let present = crate::map::get(words, key).is_some();
                    if exact && !present {
                        return raise(self.error_tuple(process, atoms::BADKEY, key));
                    }
                    added += usize::from(!present);
                }
                self.ensure(process, crate::map::words(crate::map::size(words) + added), *live as usize);
                // Read again: the collection may have moved everything.
                let mut result = crate::map::pairs(get!(src).map_words().unwrap_or_default());
                let updates: Vec<(Term, Term)> = pairs.chunks_exact(2).map(|kv| (get!(&kv[0]), get!(&kv[1]))).collect();
                result.extend(updates);
                let map = process.heap.map(&crate::map::normalize(result));
                self.write(process, dst, map);
                Transfer::Next
            }
            I::BsCreate { segments, dst, live } => {
                let mut bytes = Vec::new();
                for segment in segments {
                    if crate::bits::encode(segment, get!(&segment.value), get!(&segment.size), &mut bytes).is_err() {
                        return raise(Exception::error(atoms::BADARG));
                    }
                }
                process.reductions += (bytes.len() / 256) as u64;
                self.ensure(process, Heap::words_for_binary(bytes.len()), *live as usize);
                let binary = process.heap.binary_from_vec(bytes);
                self.write(process, dst, binary);
                Transfer::Next
            }
            I::BsGet { fail, bin, offset, segment, dst, live } => {
                let at = get!(&Src::Reg(*offset));
                let (Some(bytes), true) = (binary_bytes(get!(bin)), at.is_small()) else {
                    return Transfer::Jump(fail.0);
                };
                let Some((decoded, next)) =
                    crate::bits::decode(segment, bytes, at.small_value() as usize, get!(&segment.size))
                else {
                    return Transfer::Jump(fail.0);
                };
                let live = *live as usize;
                let value = match decoded {
                    Decoded::Small(v) => Term::small(v).unwrap_or(Term::NIL),
                    Decoded::Integer(value) => {
                        self.ensure(process, Heap::words_for_integer(&value), live);
                        process.heap.integer(&value)
                    }
                    Decoded::Float(value) => {
                        self.ensure(process, 2, live);
                        process.heap.float(value)
                    }
                    Decoded::Slice { offset, len } => {
                        self.ensure(process, Heap::SUB_BINARY_WORDS, live);
                        // Read again: the collection may have moved the binary.
                        process.heap.sub_binary(get!(bin), offset, len)
                    }
                };
                self.write(process, dst, value);
                self.write(process, offset, Term::small(next as i64).unwrap_or(Term::NIL));
                Transfer::Next
            }
            I::BsTestTail { fail, bin, offset } => {
                let at = get!(&Src::Reg(*offset));
                let len = binary_bytes(get!(bin)).map(<[u8]>::len);
                test!(fail, at.is_small() && len == Some(at.small_value() as usize))
            }
            I::SelectValue { src, fail, cases } => {
                let value = get!(src);
                let target = cases.iter().find(|(case, _)| exact_eq(get!(case), value)).map_or(fail.0, |(_, l)| l.0);
                Transfer::Jump(target)
            }
        }
    }

    /// After a native function in tail position returns, return its result.
    fn tail(&self, transfer: Transfer, continuation: &mut Continuation) -> Transfer {
        match transfer {
            Transfer::Next => match continuation.take() {
                Some((target, entry)) => Transfer::Enter(target, entry),
                None => Transfer::Finish(self.x[0]),
            },
            other => other,
        }
    }

    /// Calls a native function; `live` x registers beyond the arguments stay
    /// roots (they are parked on the stack meanwhile).
    fn call_native(
        &mut self,
        process: &mut Process,
        native: NativeFn,
        args: &mut [Term],
        live: usize,
    ) -> Result<Term, Stop> {
        let before = collections(process);
        if live == 0 {
            let result = native(process, args);
            if before != collections(process) {
                self.x.fill(Term::NIL);
            }
            return result;
        }
        let live = live.min(X_REGISTERS);
        let parked = process.stack.len();
        process.stack.extend_from_slice(&self.x[..live]);
        let result = native(process, args);
        self.x[..live].copy_from_slice(&process.stack[parked..parked + live]);
        process.stack.truncate(parked);
        if before != collections(process) {
            self.x[live..].fill(Term::NIL);
        }
        result
    }

    /// `CallExt`: a native function runs now; a remote one is entered.
    fn call_import(&mut self, process: &mut Process, import: Import, arity: usize) -> Transfer {
        match import {
            Import::Native(native) | Import::Operator(_, native) => {
                let before = collections(process);
                let mut args = [Term::NIL; 8];
                args[..arity.min(8)].copy_from_slice(&self.x[..arity.min(8)]);
                let result = native(process, &mut args[..arity.min(8)]);
                if before != collections(process) {
                    self.x.fill(Term::NIL);
                }
                match result {
                    Ok(value) => {
                        self.x[0] = value;
                        Transfer::Next
                    }
                    Err(Stop::Raise(exception)) => raise(exception),
                    Err(Stop::Halt(status)) => Transfer::Halt(status),
                }
            }
            Import::Remote { module, function, arity } => self.enter_remote(process, module, function, arity),
            Import::Apply(3) => {
                let (module, function, list) = (self.x[0], self.x[1], self.x[2]);
                match self.unpack_arguments(list) {
                    Some(arity) if module.is_atom() && function.is_atom() => {
                        self.enter_remote(process, module, function, arity as u32)
                    }
                    _ => raise(Exception::error(atoms::BADARG)),
                }
            }
            Import::Apply(_) => {
                let (function, list) = (self.x[0], self.x[1]);
                match self.unpack_arguments(list) {
                    Some(arity) => {
                        self.x[arity] = function;
                        self.call_fun(process, arity)
                    }
                    None => raise(Exception::error(atoms::BADARG)),
                }
            }
        }
    }

    /// Moves the elements of a proper list into x0..; returns how many.
    fn unpack_arguments(&mut self, list: Term) -> Option<usize> {
        let mut count = 0;
        let mut cursor = list;
        let mut items = Vec::new();
        while cursor.is_cons() {
            items.push(cursor.head());
            cursor = cursor.tail();
            count += 1;
            if count >= 255 {
                return None;
            }
        }
        if !cursor.is_nil() {
            return None;
        }
        self.x[..count].copy_from_slice(&items);
        Some(count)
    }

    fn enter_remote(&mut self, process: &mut Process, module: Term, function: Term, arity: u32) -> Transfer {
        if let Some(native) =
            crate::natives::lookup(atom::name(module).unwrap_or(""), atom::name(function).unwrap_or(""), arity)
        {
            return self.call_import(process, Import::Native(native), arity as usize);
        }
        match self.code.current(module).and_then(|m| m.export(function, arity).map(|entry| (m, entry))) {
            Some((target, entry)) => Transfer::Enter(target, entry),
            None => raise(Exception::error(atoms::UNDEF)),
        }
    }

    /// Calls the fun in x[arity] with x0..x(arity-1).
    fn call_fun(&mut self, process: &mut Process, arity: usize) -> Transfer {
        let value = self.x[arity];
        let Some((module, lambda, free)) = fun::parts(value) else {
            return raise(self.error_tuple(process, atoms::BADFUN, value));
        };
        let Some(entry) = module.lambdas.get(lambda as usize) else {
            return raise(Exception::error(atoms::BADARG));
        };
        if entry.arity as usize != arity {
            return raise(self.error_tuple(process, atoms::BADARITY, value));
        }
        let free_count = free.len();
        if arity + free_count + 1 > X_REGISTERS {
            return raise(Exception::error(atoms::SYSTEM_LIMIT));
        }
        self.x[arity..arity + free_count].copy_from_slice(free);
        self.x[arity + free_count] = value;
        let entry = entry.entry;
        Transfer::Enter(module, entry)
    }

    /// `error:{Tag, Value}`.
    fn error_tuple(&mut self, process: &mut Process, tag: Term, value: Term) -> Exception {
        let mut roots = [value];
        self.ensure_with(process, 3, &mut roots);
        Exception::error(process.heap.tuple(&[tag, roots[0]]))
    }

    /// The stack trace term of an exception; `live` x registers are kept.
    fn stacktrace(&mut self, process: &mut Process, exception: &Exception, live: usize) -> Term {
        if let Some(term) = exception.stacktrace {
            return term;
        }
        let entries: Vec<(Term, Term, i64, String, Option<u32>)> = exception
            .trace
            .iter()
            .filter_map(|location| {
                let function = location.module.function_at(location.pc)?;
                Some((
                    location.module.name,
                    function.name,
                    i64::from(function.arity),
                    location.module.file.clone(),
                    location.module.line_of(location.pc),
                ))
            })
            .collect();
        let words: usize =
            entries.iter().map(|e| 5 + 4 + 3 + 3 + 2 * e.3.chars().count()).sum::<usize>() + 2 * entries.len();
        self.ensure(process, words, live);
        let mut list = Term::NIL;
        for (module, function, arity, file, line) in entries.into_iter().rev() {
            let chars: Vec<Term> = file.chars().map(|c| Term::small(c as i64).unwrap_or(Term::NIL)).collect();
            let file_name = process.heap.list(&chars);
            let file_entry = process.heap.tuple(&[atoms::FILE, file_name]);
            let mut location = Term::NIL;
            if let Some(line) = line {
                let line_entry = process.heap.tuple(&[atoms::LINE, Term::small(i64::from(line)).unwrap_or(Term::NIL)]);
                location = process.heap.cons(line_entry, location);
            }
            location = process.heap.cons(file_entry, location);
            let arity = Term::small(arity).unwrap_or(Term::NIL);
            let entry = process.heap.tuple(&[module, function, arity, location]);
            list = process.heap.cons(entry, list);
        }
        list
    }

    /// The value of `catch Expr` when Expr raised.
    fn catch_value(&mut self, process: &mut Process, exception: &Exception) -> Term {
        match exception.class {
            Class::Throw => exception.reason,
            Class::Exit => {
                let mut roots = [exception.reason];
                self.ensure_with(process, 3, &mut roots);
                process.heap.tuple(&[atoms::EXIT_SIGNAL, roots[0]])
            }
            Class::Error => {
                self.x[0] = exception.reason;
                let stack = self.stacktrace(process, exception, 1);
                self.x[1] = stack;
                self.ensure(process, 6, 2);
                let pair = process.heap.tuple(&[self.x[0], self.x[1]]);
                process.heap.tuple(&[atoms::EXIT_SIGNAL, pair])
            }
        }
    }

    fn ensure_with(&mut self, process: &mut Process, words: usize, roots: &mut [Term]) {
        let before = collections(process);
        process.ensure(words, roots);
        if before != collections(process) {
            self.x.fill(Term::NIL);
        }
    }
}

/// An operator on two small integers, answered inline; `None` sends the
/// call to the native function (overflow, other types).
#[inline(always)]
fn small_operator(operator: Operator, a: Term, b: Term) -> Option<Term> {
    if !a.is_small() || !b.is_small() {
        return None;
    }
    let (x, y) = (a.small_value(), b.small_value());
    let boolean = |v: bool| Some(if v { atoms::TRUE } else { atoms::FALSE });
    match operator {
        Operator::Add => Term::small(x + y),
        Operator::Subtract => Term::small(x - y),
        Operator::Less => boolean(x < y),
        Operator::ExactEq => boolean(x == y),
    }
}

fn collections(process: &Process) -> u64 {
    let stats = process.heap.stats();
    stats.minor_collections + stats.major_collections
}

/// Pops the current frame, restoring the caller's registers base and this
/// function's continuation.
fn deallocate(process: &mut Process, continuation: &mut Continuation) {
    if let Some(frame) = process.frames.pop() {
        process.stack.truncate(process.y_base);
        process.y_base = frame.caller_base;
        *continuation = frame.continuation;
    }
}

/// Where an exception was raised: the current function, then each caller.
fn trace(process: &Process, module: &Arc<LoadedModule>, pc: u32, continuation: &Continuation) -> Vec<Location> {
    let mut trace = vec![Location { module: module.clone(), pc }];
    // A function without a frame returns straight to `continuation`.
    if let Some((m, p)) = continuation {
        if process.frames.last().is_none_or(|f| !same_return(&f.continuation, m, *p)) {
            trace.push(Location { module: m.clone(), pc: p.saturating_sub(1) });
        }
    }
    for frame in process.frames.iter().rev() {
        if trace.len() >= TRACE_DEPTH {
            break;
        }
        if let Some((m, p)) = &frame.continuation {
            trace.push(Location { module: m.clone(), pc: p.saturating_sub(1) });
        }
    }
    trace.truncate(TRACE_DEPTH);
    trace
}

fn same_return(continuation: &Continuation, module: &Arc<LoadedModule>, pc: u32) -> bool {
    matches!(continuation, Some((m, p)) if Arc::ptr_eq(m, module) && *p == pc)
}

/// Finds the innermost handler for an exception and unwinds to its frame.
fn unwind(process: &mut Process, exception: Exception) -> Result<(Arc<LoadedModule>, u32), Exception> {
    while let Some(handler) = process.handlers.pop() {
        if handler.frames > process.frames.len() {
            // A handler left behind by a frame that is gone: not ours to use.
            continue;
        }
        while process.frames.len() > handler.frames {
            let mut ignored = None;
            deallocate(process, &mut ignored);
        }
        process.caught = Some(exception);
        return Ok((handler.module, handler.pc));
    }
    Err(exception)
}
