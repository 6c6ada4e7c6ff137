//! The interpreter: runs a process's code, the [`Op`]s a module was
//! translated into at load (`ops.rs`). `execute` runs inside one module
//! version with the program counter in a local until control leaves that
//! module (a remote call, a return into another module, an exception), so
//! the common path (local calls, moves, tests, arithmetic on small
//! integers) touches no reference counts and returns nothing per step.
//!
//! Soundness does not rest on the bytecode being well-behaved beyond what the
//! verifier proves: type assumptions (a cons for `GetList`, a tuple for
//! `GetTupleElement`, room made by `TestHeap`) are checked and raise instead
//! of reading bad memory, and after any collection the `x` registers that are
//! not roots are cleared so that no stale pointer can be read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use compiler::bytecode::{Reg, X_REGISTERS};

use crate::atom::{self, atoms};
use crate::bits::Decoded;
use crate::code::CodeServer;
use crate::compare::{compare, eq, exact_eq};
use crate::exception::{Class, Exception, Location, Stop};
use crate::fun;
use crate::heap::{binary_bytes, integer_value, Heap};
use crate::mailbox::Inbox;
use crate::module::{Import, LoadedModule, Operator};
use crate::natives::NativeFn;
use crate::ops::{Compare, Dst, Op, Operand, TypeTest, NO_FAIL};
use crate::process::{Cp, Handler, Process, Resume};
use crate::term::Term;

/// Stack trace entries kept: `erlang:system_flag(backtrace_depth, N)`,
/// 8 by default as in BEAM; a trace has at least its raising function.
static TRACE_DEPTH: AtomicUsize = AtomicUsize::new(8);

/// The entries a stack trace keeps (at least one).
pub fn backtrace_depth() -> usize {
    TRACE_DEPTH.load(Ordering::Relaxed).max(1)
}

/// Sets the depth for traces raised from now on; returns the old setting.
pub fn set_backtrace_depth(depth: usize) -> usize {
    TRACE_DEPTH.swap(depth, Ordering::Relaxed)
}

/// Why `execute` left the module it was running.
enum Exit {
    /// Continue in another module version at an instruction.
    Enter(Arc<LoadedModule>, u32),
    /// Boxed so that the common exits stay small.
    Raise(Box<Exception>),
    /// The outermost function returned: the run is over.
    Finish(Term),
    Halt(i32),
    /// The slice's reductions are spent: suspend at `*pc` (a call, run
    /// again on resumption) with this many live x registers.
    Yield(usize),
    /// Waiting in `receive`: suspend at `*pc` (the wait, run again on
    /// resumption), no x register live.
    Wait,
    /// A signal killed the process (`Process::killed` says why).
    Killed,
}

/// How a time slice ended.
#[derive(Debug)]
pub enum SliceEnd {
    /// The quota of reductions ran out; the process can go on at once.
    Yield,
    /// The process waits in `receive` for a message or its timer.
    Wait,
    /// The process's function returned this value.
    Finished(Term),
    /// The process raised and nothing caught it.
    Crashed(Exception),
    /// A signal killed the process (`Process::killed` holds the reason).
    Killed,
    /// `erlang:halt/0,1`: the whole VM stops with this status.
    Halt(i32),
}

/// The registers and code table a process runs with.
#[derive(Debug)]
pub struct Machine<'c> {
    code: &'c CodeServer,
    x: [Term; X_REGISTERS],
    /// Remote calls resolved by name (imports, `apply/3`, `M:F(...)`, `fun
    /// M:F/A`): a direct-mapped cache, each entry good while no module has
    /// been loaded or purged since it was made.
    remotes: Box<[Option<Resolved>; REMOTE_CACHE]>,
}

/// Entries in [`Machine`]'s cache of remote calls.
const REMOTE_CACHE: usize = 64;

/// What `module:function/arity` resolved to, under a code generation.
#[derive(Debug, Clone)]
struct Resolved {
    module: Term,
    function: Term,
    arity: u32,
    generation: u64,
    target: RemoteTarget,
}

#[derive(Debug, Clone)]
enum RemoteTarget {
    Native(NativeFn),
    Code(Arc<LoadedModule>, u32),
}

/// Reads an operand: a constant, or an x or y register.
#[inline(always)]
fn read(x: &[Term], process: &Process, operand: Operand) -> Term {
    read_parts(x, &process.stack, operand)
}

#[inline(always)]
fn write(x: &mut [Term], process: &mut Process, dst: Dst, value: Term) {
    if dst.is_y() {
        y_write(&mut process.stack, dst.index() as u32, value);
    } else {
        x_write(x, dst.index() as u32, value);
    }
}

impl<'c> Machine<'c> {
    pub fn new(code: &'c CodeServer) -> Machine<'c> {
        Machine { code, x: [Term::NIL; X_REGISTERS], remotes: Box::new([const { None }; REMOTE_CACHE]) }
    }

    /// Runs `module:function(args...)` in `process` on this thread, with no
    /// scheduler, until it returns or raises (for tests and tools). Waiting
    /// in `receive` for a message that is not already there raises `badarg`.
    pub fn call(&mut self, process: &mut Process, module: Term, function: Term, args: &[Term]) -> Result<Term, Stop> {
        process.saved_x = args.into();
        process.resume = Some(Resume::Start { module, function });
        let inbox = Inbox::default();
        loop {
            match self.run_slice(process, &inbox, u64::MAX / 2) {
                SliceEnd::Yield => continue,
                SliceEnd::Finished(value) => return Ok(value),
                SliceEnd::Crashed(exception) => return Err(Stop::Raise(exception)),
                SliceEnd::Halt(status) => return Err(Stop::Halt(status)),
                SliceEnd::Killed => return Err(Stop::Killed),
                SliceEnd::Wait => return Err(Stop::Raise(Exception::error(atoms::BADARG))),
            }
        }
    }

    /// Runs `process` from where it was suspended until it has spent
    /// `quota` reductions (at the next call after that), waits in
    /// `receive`, or ends. `inbox` is the process's own.
    pub fn run_slice(&mut self, process: &mut Process, inbox: &Inbox, quota: u64) -> SliceEnd {
        process.slice_start = process.reductions;
        process.slice_end = process.reductions.saturating_add(quota);
        let saved = std::mem::take(&mut process.saved_x);
        let n = saved.len().min(X_REGISTERS);
        self.x[..n].copy_from_slice(&saved[..n]);
        let (mut module, mut pc, mut cont) = match process.resume.take() {
            Some(Resume::At { module, pc, cont }) => (module, pc, cont),
            Some(Resume::Start { module, function }) => match self.start(process, module, function, n) {
                Ok((module, entry)) => (module, entry, Cp::DONE),
                Err(end) => return end,
            },
            None => return SliceEnd::Crashed(Exception::error(atoms::BADARG)),
        };
        loop {
            match self.execute(process, inbox, &module, &mut pc, &mut cont) {
                Exit::Enter(target, entry) => {
                    module = target;
                    pc = entry;
                }
                Exit::Finish(result) => return SliceEnd::Finished(result),
                Exit::Halt(status) => return SliceEnd::Halt(status),
                Exit::Killed => return SliceEnd::Killed,
                // Over max_heap_size or the memory cap: killed (reported).
                Exit::Yield(_) if process.over_memory_limit() => {
                    process.killed = Some(Box::new(crate::copy::Message::new(atoms::KILLED)));
                    return SliceEnd::Killed;
                }
                Exit::Yield(live) => {
                    process.saved_x = self.x[..live].into();
                    process.resume = Some(Resume::At { module, pc, cont });
                    return SliceEnd::Yield;
                }
                Exit::Wait => {
                    process.resume = Some(Resume::At { module, pc, cont });
                    return SliceEnd::Wait;
                }
                Exit::Raise(exception) => {
                    let mut exception = *exception;
                    if exception.trace.is_empty() && exception.stacktrace.is_none() {
                        exception.trace = trace(process, &module, pc, cont);
                    }
                    match unwind(process, exception) {
                        Ok((handler_module, handler_pc)) => {
                            module = handler_module;
                            pc = handler_pc;
                            // The handler's function has a frame: its return is there.
                            cont = Cp::DONE;
                        }
                        Err(exception) => return SliceEnd::Crashed(exception),
                    }
                }
            }
        }
    }

    /// Where a new process starts: `module:function` with the `arity`
    /// arguments in x registers, or (`function` is `[]`) the fun in x0 with
    /// no arguments. A native function runs at once; an undefined function
    /// raises `undef` in the new process, as on the BEAM.
    fn start(
        &mut self,
        process: &mut Process,
        mut module: Term,
        mut function: Term,
        mut arity: usize,
    ) -> Result<(Arc<LoadedModule>, u32), SliceEnd> {
        if function.is_nil() {
            let fun = self.x[0];
            if let Some((fun_module, lambda, free)) = fun::parts(fun) {
                let entry = fun_module.lambdas.get(lambda as usize).filter(|l| l.arity == 0).map(|l| l.entry);
                let Some(entry) = entry.filter(|_| free.len() < X_REGISTERS) else {
                    return Err(SliceEnd::Crashed(Exception::error(atoms::BADARG)));
                };
                self.x[..free.len()].copy_from_slice(free);
                self.x[free.len()] = fun;
                return Ok((fun_module, entry));
            }
            match fun::export_parts(fun) {
                Some((m, f, 0)) => (module, function, arity) = (m, f, 0),
                _ => return Err(SliceEnd::Crashed(Exception::error(atoms::BADARG))),
            }
        }
        if let Some(found) = self.code.current(module).and_then(|m| m.export(function, arity as u32).map(|e| (m, e))) {
            return Ok(found);
        }
        let mut args = self.x[..arity].to_vec();
        let native =
            crate::natives::lookup(atom::name(module).unwrap_or(""), atom::name(function).unwrap_or(""), arity as u32);
        let Some(native) = native else {
            return Err(SliceEnd::Crashed(with_callee(Exception::error(atoms::UNDEF), module, function, &args)));
        };
        Err(match self.call_native(process, native, &mut args, 0) {
            Ok(value) => SliceEnd::Finished(value),
            Err(Stop::Raise(exception)) => SliceEnd::Crashed(with_callee(exception, module, function, &args)),
            Err(Stop::Halt(status)) => SliceEnd::Halt(status),
            Err(Stop::Killed) => SliceEnd::Killed,
        })
    }

    /// Runs in `module` from `*pc` until control leaves it; `*pc` is left at
    /// the instruction that raised, for the stack trace, or at the one to
    /// run again when the process is resumed.
    fn execute(
        &mut self,
        process: &mut Process,
        inbox: &Inbox,
        module: &Arc<LoadedModule>,
        pc: &mut u32,
        cont: &mut Cp,
    ) -> Exit {
        let m: &LoadedModule = module;
        let ops = &m.ops[..];
        // The instruction pointer: the op running (`here!()` is its index).
        let base = ops.as_ptr();
        let mut ip = base.wrapping_add(*pc as usize);
        macro_rules! here {
            () => {
                // SAFETY: `ip` points into `ops` (see the dispatch below), so
                // it is a whole number of ops from its start.
                unsafe { ip.offset_from(base) as u32 }
            };
        }
        // A call's continuation: the op after this one.
        macro_rules! next {
            () => {
                // SAFETY: as in `here!`; the verifier proved that an op
                // after a call exists. (An exact division: the compiler
                // folds it into `Cp::local`'s shift.)
                Cp::local(unsafe { ip.add(1).offset_from(base) } as usize)
            };
        }
        // The continuation register, in a local while the module runs.
        let mut cp = *cont;
        macro_rules! leave {
            ($exit:expr) => {{
                *cont = cp;
                return $exit;
            }};
        }
        macro_rules! get {
            ($operand:expr) => {
                read(&self.x, process, $operand)
            };
        }
        macro_rules! set {
            ($dst:expr, $value:expr) => {{
                let value = $value;
                write(&mut self.x, process, $dst, value);
            }};
        }
        macro_rules! raise {
            ($exception:expr) => {{
                let exception = $exception;
                *pc = here!();
                leave!(Exit::Raise(Box::new(exception)))
            }};
        }
        macro_rules! branch {
            ($condition:expr, $fail:expr) => {
                if $condition {
                    ip = ip.wrapping_add(1)
                } else {
                    ip = base.wrapping_add($fail as usize)
                }
            };
        }
        // A built-in's outcome: its value to `dst`, or the fail label in a
        // guard, or the exception (recording the call for the stack trace).
        macro_rules! bif_done {
            ($result:expr, $import:expr, $args:expr, $dst:expr, $fail:expr) => {
                match $result {
                    Ok(value) => {
                        set!($dst, value);
                        ip = ip.wrapping_add(1);
                    }
                    Err(Stop::Raise(_)) if $fail != NO_FAIL => ip = base.wrapping_add($fail as usize),
                    Err(Stop::Raise(exception)) => {
                        *pc = here!();
                        leave!(callee_exit(exception, m.import_names[$import as usize], $args))
                    }
                    Err(Stop::Halt(status)) => leave!(Exit::Halt(status)),
                    Err(Stop::Killed) => {
                        *pc = here!();
                        leave!(Exit::Killed)
                    }
                }
            };
        }
        // A call's outcome: go on here, jump within this module, or leave it.
        macro_rules! called {
            ($called:expr, $tail:expr) => {
                match $called {
                    Called::Value if $tail => ret!(),
                    Called::Value => ip = ip.wrapping_add(1),
                    Called::Local(entry) => {
                        if !$tail {
                            cp = next!();
                        }
                        ip = base.wrapping_add(entry as usize);
                    }
                    Called::Enter(target, entry) => {
                        if !$tail {
                            process.far.push(module.clone());
                            cp = Cp::remote(here!() + 1);
                        } else if cp.is_local() {
                            process.far.push(module.clone());
                            cp = Cp::remote(cp.pc());
                        }
                        leave!(Exit::Enter(target, entry));
                    }
                    Called::Raise(exception) => raise!(exception),
                    Called::Halt(status) => leave!(Exit::Halt(status)),
                    Called::Killed => {
                        *pc = here!();
                        leave!(Exit::Killed)
                    }
                }
            };
        }
        // A call costs a reduction. Once the slice's reductions are spent:
        // suspend before the call (it runs when the process is resumed),
        // keeping the arguments (and a fun) in x registers.
        macro_rules! reduce {
            ($live:expr) => {
                if process.reductions >= process.slice_end {
                    *pc = here!();
                    leave!(Exit::Yield($live));
                }
                process.reductions += 1;
            };
        }
        // A call through the import table (its arity in x registers).
        macro_rules! call_import {
            ($import:expr, $arity:expr) => {{
                let (entry, names) = (m.imports[$import as usize], m.import_names[$import as usize]);
                self.call_import(process, module, entry, $arity as usize, names)
            }};
        }
        // Takes in what arrived in the inbox (nothing is copied into the
        // heap); a signal may kill the process.
        macro_rules! take_signals {
            () => {
                if inbox.has_signals() {
                    if crate::signals::handle(process, inbox.take()) {
                        *pc = here!();
                        leave!(Exit::Killed);
                    }
                }
            };
        }
        // An operator without a small-integer result: its built-in.
        // An operator's built-in (its slow path), out of line; `literal`:
        // `+` or `-` with a literal integer, whose `badarith` erl reports
        // with no stack trace entry for the operator.
        macro_rules! operator_native {
            ($x:expr, $y:expr, $import:expr, $dst:expr, $fail:expr, $live:expr) => {
                operator_native!($x, $y, $import, $dst, $fail, $live, false)
            };
            ($x:expr, $y:expr, $import:expr, $dst:expr, $fail:expr, $live:expr, literal) => {
                operator_native!($x, $y, $import, $dst, $fail, $live, true)
            };
            ($x:expr, $y:expr, $import:expr, $dst:expr, $fail:expr, $live:expr, $literal:expr) => {{
                match self.operator_slow(process, m, $import, [$x, $y], $live as usize, $fail != NO_FAIL, $literal) {
                    Ok(value) => {
                        set!($dst, value);
                        ip = ip.wrapping_add(1);
                    }
                    Err(None) => ip = base.wrapping_add($fail as usize),
                    Err(Some(exit)) => {
                        *pc = here!();
                        leave!(exit)
                    }
                }
            }};
        }
        // Returns through the continuation register (left empty: the
        // function returned to has its own in its frame, or is done).
        macro_rules! ret {
            () => {{
                let back = std::mem::take(&mut cp);
                if back.is_local() {
                    ip = base.wrapping_add(back.pc() as usize);
                } else {
                    *pc = here!();
                    leave!(return_far(process, back, self.x[0]))
                }
            }};
        }
        // head := hd(src), tail := tl(src) (the code tested for a cons).
        macro_rules! get_list {
            ($src:expr, $head:expr, $tail:expr) => {{
                let list = get!($src);
                if !list.is_cons() {
                    raise!(Exception::error(atoms::BADARG));
                }
                set!($head, list.head());
                set!($tail, list.tail());
            }};
        }
        // `TestHeap words live`: the check for room inline (a call of
        // `ensure` costs a hundred instructions even when there is room);
        // with `gc-stress`, a collection every time. (Moving the check into
        // an inlined `ensure` for every caller cut fib's instructions by 2%
        // but measured 0-15% slower in wall time across runs; the loop's
        // register use shifts with any change, so the measured form stays.)
        macro_rules! make_room {
            ($words:expr, $live:expr) => {
                if cfg!(feature = "gc-stress") || !process.heap.has_room($words as usize) {
                    self.ensure(process, $words as usize, $live as usize);
                }
            };
        }
        // `TestHeap 2 live` then the cell `[head | tail]`.
        macro_rules! test_heap_cons {
            ($head:expr, $tail:expr, $live:expr) => {{
                make_room!(2, $live);
                let (h, t) = (get!($head), get!($tail));
                process.heap.cons(h, t)
            }};
        }
        // Pushes a frame of `slots` slots, all `[]` (the collector reads
        // every slot), and the frame word saving the continuation.
        macro_rules! allocate {
            ($slots:expr) => {{
                push_frame(&mut process.stack, $slots, std::mem::take(&mut cp));
            }};
        }
        loop {
            debug_assert!((here!() as usize) < ops.len());
            // SAFETY: the verifier proved that every instruction control
            // can reach exists: labels, function entries (a function has
            // code after its FuncInfo) and handlers are inside the code,
            // and no path runs off its end, so the instruction after any
            // that goes on (the `+ 1` of a call's return, the `+ 2` after a
            // fused pair) exists too. Every `ip` below is one of those.
            let op = unsafe { &*ip };
            match op {
                Op::FuncInfo => {
                    // No clause matched: function_clause, raised where the
                    // function is, with the arguments it was called with.
                    let arity = m.function_at(here!()).map_or(0, |f| f.args as usize).min(X_REGISTERS);
                    let mut exception = Exception::error(atoms::FUNCTION_CLAUSE);
                    exception.args = Some(self.x[..arity].to_vec());
                    raise!(exception)
                }
                Op::Allocate { slots } => {
                    allocate!(*slots);
                    ip = ip.wrapping_add(1);
                }
                Op::AllocateGetList { slots, src, head, tail } => {
                    allocate!(*slots);
                    get_list!(*src, *head, *tail);
                    ip = ip.wrapping_add(2);
                }
                Op::AllocateMove { slots, src, dst } => {
                    allocate!(*slots);
                    set!(*dst, get!(*src));
                    ip = ip.wrapping_add(2);
                }
                Op::AllocateMoveXY { slots, src, dst } => {
                    push_frame_holding(
                        &mut process.stack,
                        *slots,
                        std::mem::take(&mut cp),
                        *dst,
                        x_read(&self.x, *src),
                    );
                    ip = ip.wrapping_add(2);
                }
                Op::LtImmReturn { a, imm, fail } => {
                    let a = x_read(&self.x, *a);
                    if less_than_imm(a, *imm) {
                        ret!()
                    } else {
                        ip = base.wrapping_add(*fail as usize)
                    }
                }
                Op::LtImmReturnElseSave { a, imm, fail, slots, src, dst } => {
                    let a = x_read(&self.x, *a);
                    if less_than_imm(a, *imm) {
                        ret!()
                    } else {
                        allocate!(*slots);
                        y_write(&mut process.stack, *dst, x_read(&self.x, *src));
                        ip = base.wrapping_add(*fail as usize + 2);
                    }
                }
                Op::Deallocate => {
                    deallocate(process, &mut cp);
                    ip = ip.wrapping_add(1);
                }
                Op::Return => ret!(),
                Op::DeallocateReturn => {
                    deallocate(process, &mut cp);
                    ret!()
                }
                Op::MoveReturn { src } => {
                    self.x[0] = get!(*src);
                    ret!()
                }
                Op::Call { entry, arity } => {
                    reduce!(*arity as usize);
                    cp = next!();
                    ip = base.wrapping_add(*entry as usize);
                }
                Op::CallLast { entry, arity } => {
                    reduce!(*arity as usize);
                    deallocate(process, &mut cp);
                    ip = base.wrapping_add(*entry as usize);
                }
                Op::CallOnly { entry, arity } => {
                    reduce!(*arity as usize);
                    ip = base.wrapping_add(*entry as usize);
                }
                Op::CallExt { import, arity } => {
                    reduce!(*arity as usize);
                    let called = call_import!(*import, *arity);
                    called!(called, false)
                }
                Op::CallExtLast { import, arity } => {
                    reduce!(*arity as usize);
                    deallocate(process, &mut cp);
                    let called = call_import!(*import, *arity);
                    called!(called, true)
                }
                Op::CallExtOnly { import, arity } => {
                    reduce!(*arity as usize);
                    let called = call_import!(*import, *arity);
                    called!(called, true)
                }
                Op::CallFun { arity } => {
                    reduce!(*arity as usize + 1);
                    let called = self.call_fun(process, module, *arity as usize);
                    called!(called, false)
                }
                Op::CallFunLast { arity } => {
                    reduce!(*arity as usize + 1);
                    deallocate(process, &mut cp);
                    let called = self.call_fun(process, module, *arity as usize);
                    called!(called, true)
                }
                Op::OperatorCall { operator, a, b, dst, import, fail, live } => {
                    let (x, y) = (get!(*a), get!(*b));
                    // The next op is the call. Without a small result, the
                    // operator's own slow path runs and the call is
                    // dispatched after it.
                    match (small_operator(*operator, x, y), Some(unsafe { &*ip.wrapping_add(1) })) {
                        (Some(value), Some(&Op::Call { entry, arity })) => {
                            set!(*dst, value);
                            ip = ip.wrapping_add(1);
                            reduce!(arity as usize);
                            cp = next!();
                            ip = base.wrapping_add(entry as usize);
                        }
                        _ => operator_native!(x, y, *import, *dst, *fail, *live),
                    }
                }
                Op::OperatorReturn { operator, a, b, deallocate: frame, import, fail, live } => {
                    let (x, y) = (get!(*a), get!(*b));
                    // The next op returns (its own `Deallocate` fused in, or
                    // not); without a small result it is dispatched after
                    // the operator's slow path.
                    match small_operator(*operator, x, y) {
                        Some(value) => {
                            x_write(&mut self.x, 0, value);
                            if *frame {
                                deallocate(process, &mut cp);
                            }
                            ret!()
                        }
                        None => operator_native!(x, y, *import, Dst::new(Reg::X(0)), *fail, *live),
                    }
                }
                Op::AddReturnYX { a, b, import, fail, live } => {
                    let (x, y) = (y_read(&process.stack, *a), x_read(&self.x, *b));
                    match small_operator(Operator::Add, x, y) {
                        Some(value) => {
                            x_write(&mut self.x, 0, value);
                            deallocate(process, &mut cp);
                            ret!()
                        }
                        None => operator_native!(x, y, *import, Dst::new(Reg::X(0)), *fail, *live),
                    }
                }
                Op::Operator { operator, a, b, dst, import, fail, live } => {
                    let (x, y) = (get!(*a), get!(*b));
                    match small_operator(*operator, x, y) {
                        Some(value) => {
                            set!(*dst, value);
                            ip = ip.wrapping_add(1);
                        }
                        None => match float_operator(&mut process.heap, *operator, x, y) {
                            Some(value) => {
                                set!(*dst, value);
                                ip = ip.wrapping_add(1);
                            }
                            None => operator_native!(x, y, *import, *dst, *fail, *live),
                        },
                    }
                }
                Op::Send { to, message, dst, import } => {
                    let mut args = [get!(*to), get!(*message)];
                    let before = collections(process);
                    let result = crate::natives::process::send(process, &mut args);
                    debug_assert_eq!(before, collections(process), "send collected");
                    bif_done!(result, *import, &args, *dst, NO_FAIL)
                }
                Op::Element { index, tuple, dst, import, fail } => {
                    let (n, t) = (get!(*index), get!(*tuple));
                    match element_of(n, t) {
                        Some(value) => {
                            set!(*dst, value);
                            ip = ip.wrapping_add(1);
                        }
                        None => {
                            let mut args = [n, t];
                            let result = match native_of(m.imports[*import as usize]) {
                                Some(native) => self.call_native(process, native, &mut args, 0),
                                None => Err(Stop::Raise(Exception::error(atoms::UNDEF))),
                            };
                            bif_done!(result, *import, &args, *dst, *fail)
                        }
                    }
                }
                Op::Bif { import, args, dst, live, fail } => {
                    let mut buffer = [Term::NIL; 8];
                    if args.len() > buffer.len() {
                        raise!(Exception::error(atoms::BADARG));
                    }
                    for (slot, &arg) in buffer.iter_mut().zip(args.iter()) {
                        *slot = get!(arg);
                    }
                    // Not a built-in: as a guard it fails, as a body call it is undefined.
                    let result = match native_of(m.imports[*import as usize]) {
                        Some(native) => self.call_native(process, native, &mut buffer[..args.len()], *live as usize),
                        None => Err(Stop::Raise(Exception::error(atoms::UNDEF))),
                    };
                    bif_done!(result, *import, &buffer[..args.len()], *dst, *fail)
                }

                Op::MoveXX { src, dst } => {
                    let value = x_read(&self.x, *src);
                    x_write(&mut self.x, *dst, value);
                    ip = ip.wrapping_add(1);
                }
                Op::MoveXY { src, dst } => {
                    y_write(&mut process.stack, *dst, x_read(&self.x, *src));
                    ip = ip.wrapping_add(1);
                }
                Op::MoveYX { src, dst } => {
                    x_write(&mut self.x, *dst, y_read(&process.stack, *src));
                    ip = ip.wrapping_add(1);
                }
                Op::MoveYY { src, dst } => {
                    let value = y_read(&process.stack, *src);
                    y_write(&mut process.stack, *dst, value);
                    ip = ip.wrapping_add(1);
                }
                Op::MoveCX { src, dst } => {
                    x_write(&mut self.x, *dst, *src);
                    ip = ip.wrapping_add(1);
                }
                Op::MoveCY { src, dst } => {
                    y_write(&mut process.stack, *dst, *src);
                    ip = ip.wrapping_add(1);
                }
                Op::Jump { target } => ip = base.wrapping_add(*target as usize),
                Op::Test { test, src, fail } => branch!(type_test(*test, get!(*src)), *fail),
                Op::ListTest { src, nil, cons, other } => {
                    let list = get!(*src);
                    ip = base.wrapping_add(list_target(list, *nil, *cons, *other) as usize);
                }
                Op::ListTestX { src, nil, cons, other } => {
                    let list = x_read(&self.x, *src);
                    ip = base.wrapping_add(list_target(list, *nil, *cons, *other) as usize);
                }
                Op::ListSplit { src, nil, other, cons, slots, head, tail } => {
                    let list = x_read(&self.x, *src);
                    if list.is_cons() {
                        push_frame_holding(&mut process.stack, *slots, std::mem::take(&mut cp), *head, list.head());
                        x_write(&mut self.x, *tail, list.tail());
                        ip = base.wrapping_add(*cons as usize + 2);
                    } else {
                        let target = list_target(list, *nil, *cons, *other);
                        ip = base.wrapping_add(target as usize);
                    }
                }
                Op::AllocateGetListX { slots, src, head, tail } => {
                    let list = x_read(&self.x, *src);
                    if !list.is_cons() {
                        raise!(Exception::error(atoms::BADARG));
                    }
                    allocate!(*slots);
                    set!(*head, list.head());
                    set!(*tail, list.tail());
                    ip = ip.wrapping_add(2);
                }
                Op::AllocateGetListXYX { slots, src, head, tail } => {
                    let list = x_read(&self.x, *src);
                    if !list.is_cons() {
                        raise!(Exception::error(atoms::BADARG));
                    }
                    push_frame_holding(&mut process.stack, *slots, std::mem::take(&mut cp), *head, list.head());
                    x_write(&mut self.x, *tail, list.tail());
                    ip = ip.wrapping_add(2);
                }
                Op::IsNil { src, fail } => branch!(get!(*src).is_nil(), *fail),
                Op::IsCons { src, fail } => branch!(get!(*src).is_cons(), *fail),
                Op::IsTupleOfArity { src, arity, fail } => {
                    branch!(get!(*src).tuple_elements().is_some_and(|t| t.len() == *arity as usize), *fail)
                }
                Op::Compare { compare, mask, a, b, fail } => {
                    branch!(compare_terms(*compare, *mask, get!(*a), get!(*b)), *fail)
                }
                Op::CompareReturn { compare, mask, a, b, fail } => {
                    if compare_terms(*compare, *mask, get!(*a), get!(*b)) {
                        ret!()
                    } else {
                        ip = base.wrapping_add(*fail as usize)
                    }
                }
                Op::IsEqImm { a, imm, equal, fail } => branch!((get!(*a) == *imm) == *equal, *fail),
                Op::LtImm { a, imm, fail } => {
                    let a = get!(*a);
                    branch!(less_than_imm(a, *imm), *fail)
                }
                Op::GeImm { a, imm, fail } => {
                    let a = get!(*a);
                    branch!(!less_than_imm(a, *imm), *fail)
                }
                Op::CompareImm { compare, mask, a, imm, fail } => {
                    branch!(compare_imm(*compare, *mask, get!(*a), *imm), *fail)
                }
                Op::CompareImmReturn { compare, mask, a, imm, fail } => {
                    if compare_imm(*compare, *mask, get!(*a), *imm) {
                        ret!()
                    } else {
                        ip = base.wrapping_add(*fail as usize)
                    }
                }
                Op::AddImm { src, delta, dst, import, fail, live } => {
                    let x = get!(*src);
                    match add_small(x, *delta) {
                        Some(value) => {
                            set!(*dst, value);
                            ip = ip.wrapping_add(1);
                        }
                        None => {
                            let y = imm_operand(m, *import, *delta);
                            operator_native!(x, y, *import, *dst, *fail, *live, literal)
                        }
                    }
                }
                Op::AddImmCall { src, delta, dst, import, live, entry, arity } => {
                    let index = src.index() as u32;
                    let x = if src.is_y() { y_read(&process.stack, index) } else { x_read(&self.x, index) };
                    match add_small(x, *delta) {
                        Some(value) => {
                            x_write(&mut self.x, *dst, value);
                            ip = ip.wrapping_add(1);
                            reduce!(*arity as usize);
                            cp = next!();
                            ip = base.wrapping_add(*entry as usize);
                        }
                        // The slow path, then the call at the next index.
                        None => {
                            let y = imm_operand(m, *import, *delta);
                            let dst = Dst::new(Reg::X(*dst as u16));
                            operator_native!(x, y, *import, dst, NO_FAIL, *live, literal)
                        }
                    }
                }
                Op::MoveXYAddImmCall { from, to, src, delta, dst, arity, entry } => {
                    y_write(&mut process.stack, u32::from(*to), x_read(&self.x, u32::from(*from)));
                    let index = src.index() as u32;
                    let x = if src.is_y() { y_read(&process.stack, index) } else { x_read(&self.x, index) };
                    match add_small(x, *delta) {
                        Some(value) => {
                            x_write(&mut self.x, u32::from(*dst), value);
                            ip = ip.wrapping_add(2);
                            reduce!(*arity as usize);
                            cp = next!();
                            ip = base.wrapping_add(*entry as usize);
                        }
                        // The `AddImmCall` at the next index takes its slow path.
                        None => ip = ip.wrapping_add(1),
                    }
                }
                Op::GetList { src, head, tail } => {
                    get_list!(*src, *head, *tail);
                    ip = ip.wrapping_add(1);
                }
                Op::GetTupleElement { src, index, dst } => {
                    match get!(*src).tuple_elements().and_then(|t| t.get(*index as usize)) {
                        Some(&element) => {
                            set!(*dst, element);
                            ip = ip.wrapping_add(1);
                        }
                        None => raise!(Exception::error(atoms::BADARG)),
                    }
                }
                Op::TestHeap { words, live } => {
                    make_room!(*words, *live);
                    ip = ip.wrapping_add(1);
                }
                Op::TestHeapPutListReturn { head, tail, live, deallocate: frame } => {
                    self.x[0] = test_heap_cons!(*head, *tail, *live);
                    if *frame {
                        deallocate(process, &mut cp);
                    }
                    ret!()
                }
                Op::TestHeapPutListReturnYX { head, tail, live } => {
                    make_room!(2, *live);
                    // The frame is read and popped before the cell is
                    // written: the compiler cannot tell that the cell's
                    // stores leave the stack's length alone, and would
                    // load it again.
                    let (h, t) = (y_read(&process.stack, *head), x_read(&self.x, *tail));
                    deallocate(process, &mut cp);
                    x_write(&mut self.x, 0, process.heap.cons(h, t));
                    ret!()
                }
                Op::TestHeapPutList { head, tail, dst, live } => {
                    let list = test_heap_cons!(*head, *tail, *live);
                    set!(*dst, list);
                    ip = ip.wrapping_add(2);
                }
                // After a `TestHeap` there is room. Without one, the
                // operands are read first and kept as roots while room is
                // made, so an operand may be any register.
                Op::PutList { head, tail, dst } => {
                    let mut pair = [get!(*head), get!(*tail)];
                    if !process.heap.has_room(2) {
                        self.ensure_with(process, 2, &mut pair);
                    }
                    let list = process.heap.cons(pair[0], pair[1]);
                    set!(*dst, list);
                    ip = ip.wrapping_add(1);
                }
                Op::PutTuple { elements, dst } => {
                    let tuple = if process.heap.has_room(1 + elements.len()) {
                        let (x, stack) = (&self.x, &process.stack);
                        process.heap.tuple_with(elements.len(), |i| read_parts(x, stack, elements[i]))
                    } else {
                        let mut values: Vec<Term> = elements.iter().map(|&e| get!(e)).collect();
                        self.ensure_with(process, 1 + elements.len(), &mut values);
                        process.heap.tuple_with(values.len(), |i| values[i])
                    };
                    set!(*dst, tuple);
                    ip = ip.wrapping_add(1);
                }
                Op::MakeFun { lambda, free, dst, live } => {
                    self.ensure(process, fun::words(free.len()), *live as usize);
                    let values: Vec<Term> = free.iter().map(|&e| get!(e)).collect();
                    let made = fun::make(&mut process.heap, module, *lambda, &values);
                    set!(*dst, made);
                    ip = ip.wrapping_add(1);
                }
                Op::Badmatch { src } => raise!(self.error_tuple(process, atoms::BADMATCH, get!(*src))),
                Op::CaseEnd { src } => raise!(self.error_tuple(process, atoms::CASE_CLAUSE, get!(*src))),
                Op::TryCaseEnd { src } => raise!(self.error_tuple(process, atoms::TRY_CLAUSE, get!(*src))),
                Op::IfEnd => raise!(Exception::error(atoms::IF_CLAUSE)),
                Op::Try { handler, slot, is_catch } => {
                    process.handlers.push(Handler {
                        module: module.clone(),
                        pc: *handler,
                        depth: process.stack.len(),
                        far: process.far.len(),
                        is_catch: *is_catch,
                    });
                    set!(*slot, Term::NIL);
                    ip = ip.wrapping_add(1);
                }
                Op::TryEnd { slot } => {
                    process.handlers.pop();
                    set!(*slot, Term::NIL);
                    ip = ip.wrapping_add(1);
                }
                Op::TryCase { slot } => {
                    set!(*slot, Term::NIL);
                    let Some(exception) = process.caught.take() else {
                        raise!(Exception::error(atoms::BADARG));
                    };
                    self.x[0] = exception.class.atom();
                    self.x[1] = exception.reason;
                    self.x[2] = self.stacktrace(process, &exception, 2);
                    ip = ip.wrapping_add(1);
                }
                Op::CatchEnd { slot } => {
                    set!(*slot, Term::NIL);
                    match process.caught.take() {
                        None => {
                            process.handlers.pop();
                        }
                        Some(exception) => self.x[0] = self.catch_value(process, &exception),
                    }
                    ip = ip.wrapping_add(1);
                }
                Op::Raise { class, reason, stacktrace } => {
                    let Some(class) = Class::from_atom(get!(*class)) else {
                        raise!(Exception::error(atoms::BADARG));
                    };
                    let mut exception = Exception::new(class, get!(*reason));
                    exception.stacktrace = Some(get!(*stacktrace));
                    raise!(exception)
                }
                Op::SelectImmediate { src, fail, cases } => {
                    // An immediate equals a case exactly when its word does;
                    // no boxed term equals an immediate.
                    let raw = get!(*src).raw();
                    let target = match cases.binary_search_by_key(&raw, |c| c.0) {
                        Ok(i) => cases[i].1,
                        Err(_) => *fail,
                    };
                    ip = base.wrapping_add(target as usize);
                }
                Op::SelectValue { src, fail, cases } => {
                    let value = get!(*src);
                    let target = cases.iter().find(|(case, _)| exact_eq(get!(*case), value)).map_or(*fail, |c| c.1);
                    ip = base.wrapping_add(target as usize);
                }
                Op::GetMapElement { src, key, dst, fail } => {
                    let found = get!(*src).map_words().and_then(|words| crate::map::get(words, get!(*key)));
                    match found {
                        Some(value) => {
                            set!(*dst, value);
                            ip = ip.wrapping_add(1);
                        }
                        None => ip = base.wrapping_add(*fail as usize),
                    }
                }
                Op::PutMap { src, pairs, dst, live, exact } => {
                    let Some(words) = get!(*src).map_words() else {
                        raise!(self.error_tuple(process, atoms::BADMAP, get!(*src)));
                    };
                    let mut added = 0;
                    for &key in pairs.iter().step_by(2) {
                        let key = get!(key);
                        let present = crate::map::get(words, key).is_some();
                        if *exact && !present {
                            raise!(self.error_tuple(process, atoms::BADKEY, key));
                        }
                        added += usize::from(!present);
                    }
                    self.ensure(process, crate::map::words(crate::map::size(words) + added), *live as usize);
                    // Read again: the collection may have moved everything.
                    let mut result = crate::map::pairs(get!(*src).map_words().unwrap_or_default());
                    result.extend(pairs.chunks_exact(2).map(|kv| (get!(kv[0]), get!(kv[1]))));
                    let map = process.heap.map(&crate::map::normalize(result));
                    set!(*dst, map);
                    ip = ip.wrapping_add(1);
                }
                Op::BsCreate { segments, dst, live } => {
                    let mut bytes = Vec::new();
                    for segment in segments.iter() {
                        let (value, size) = (get!(segment.value), get!(segment.size));
                        if crate::bits::encode(&segment.spec, value, size, &mut bytes).is_err() {
                            raise!(Exception::error(atoms::BADARG));
                        }
                    }
                    process.reductions += (bytes.len() / 256) as u64;
                    self.ensure(process, Heap::words_for_binary(bytes.len()), *live as usize);
                    let binary = process.heap.binary_from_vec(bytes);
                    set!(*dst, binary);
                    ip = ip.wrapping_add(1);
                }
                Op::BsGet { bin, offset, segment, dst, live, fail } => {
                    let at = get!(Operand::register(offset.reg()));
                    let (Some(bytes), true) = (binary_bytes(get!(*bin)), at.is_small()) else {
                        ip = base.wrapping_add(*fail as usize);
                        continue;
                    };
                    let size = get!(segment.size);
                    let Some((decoded, next)) =
                        crate::bits::decode(&segment.spec, bytes, at.small_value() as usize, size)
                    else {
                        ip = base.wrapping_add(*fail as usize);
                        continue;
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
                            process.heap.sub_binary(get!(*bin), offset, len)
                        }
                    };
                    set!(*dst, value);
                    set!(*offset, Term::small(next as i64).unwrap_or(Term::NIL));
                    ip = ip.wrapping_add(1);
                }
                Op::BsTestTail { bin, offset, fail } => {
                    let at = get!(Operand::register(offset.reg()));
                    let len = binary_bytes(get!(*bin)).map(<[u8]>::len);
                    branch!(at.is_small() && len == Some(at.small_value() as usize), *fail)
                }
                Op::LoopRec { dst, fail } => {
                    if process.save as usize >= process.messages.len() {
                        // The inbox is looked at once what was taken from it
                        // before is used up: its head is a line the senders
                        // write, and taking in batches keeps the order (what
                        // waits there arrived later). Signals still act at
                        // every slice's start.
                        if process.pending.is_empty() {
                            take_signals!();
                        }
                        if !process.pending.is_empty() {
                            let before = collections(process);
                            process.take_next();
                            if before != collections(process) {
                                self.x.fill(Term::NIL);
                            }
                        }
                    }
                    match process.messages.get(process.save as usize) {
                        Some(&message) => {
                            set!(*dst, message);
                            ip = ip.wrapping_add(1);
                        }
                        None => ip = base.wrapping_add(*fail as usize),
                    }
                }
                Op::LoopRecEnd { target } => {
                    process.save += 1;
                    ip = base.wrapping_add(*target as usize);
                }
                Op::RemoveMessage => {
                    // Mostly the oldest message: popping it is cheaper than a removal.
                    if process.save == 0 {
                        process.messages.pop_front();
                    } else {
                        let _ = process.messages.remove(process.save as usize);
                    }
                    process.save = 0;
                    process.timed_out = false;
                    if let Some(timer) = process.timer.take() {
                        crate::scheduler::cancel_receive_timer(timer.get());
                    }
                    ip = ip.wrapping_add(1);
                }
                Op::Wait { target } => {
                    take_signals!();
                    if process.has_untried() {
                        ip = base.wrapping_add(*target as usize);
                    } else {
                        *pc = here!();
                        leave!(Exit::Wait);
                    }
                }
                Op::WaitTimeout { target, timeout } => {
                    take_signals!();
                    if process.has_untried() {
                        ip = base.wrapping_add(*target as usize);
                        continue;
                    }
                    if process.timed_out {
                        ip = ip.wrapping_add(1);
                        continue;
                    }
                    let timeout = get!(*timeout);
                    if timeout == atoms::INFINITY {
                        *pc = here!();
                        leave!(Exit::Wait);
                    }
                    let Some(millis) = integer_value(timeout).and_then(|t| u64::try_from(t).ok()) else {
                        raise!(Exception::error(atoms::TIMEOUT_VALUE))
                    };
                    if millis == 0 {
                        ip = ip.wrapping_add(1);
                        continue;
                    }
                    if process.timer.is_none() {
                        match crate::scheduler::start_receive_timer(process.pid, millis) {
                            Some(timer) => process.timer = std::num::NonZeroU64::new(timer),
                            // No scheduler (a process run on its own): nothing can arrive.
                            None => raise!(Exception::error(atoms::BADARG)),
                        }
                    }
                    *pc = here!();
                    leave!(Exit::Wait);
                }
                Op::Timeout => {
                    process.save = 0;
                    process.timed_out = false;
                    process.timer = None;
                    ip = ip.wrapping_add(1);
                }
            }
        }
    }

    /// An operator's built-in, for the slow path of its op: the value, or
    /// `Err(None)` to take the fail label (`guard`), or how `execute`
    /// leaves (the exception, naming the built-in unless `literal`).
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn operator_slow(
        &mut self,
        process: &mut Process,
        m: &LoadedModule,
        import: u32,
        mut pair: [Term; 2],
        live: usize,
        guard: bool,
        literal: bool,
    ) -> Result<Term, Option<Exit>> {
        // A float result with room for it, or a small integer from `div`,
        // `rem` or a bitwise operator, is made here, without the built-in's
        // call (and its parking of live registers).
        if let Import::Operator(operator, _) = m.imports[import as usize] {
            if let Some(value) = float_operator(&mut process.heap, operator, pair[0], pair[1]) {
                return Ok(value);
            }
            if let Some(value) = small_integer_operator(operator, pair[0], pair[1]) {
                return Ok(value);
            }
        }
        let Some(native) = native_of(m.imports[import as usize]) else {
            return Err(Some(error_exit(atoms::UNDEF)));
        };
        // The arguments are roots while the native runs: read them back
        // from the array it updated.
        match self.call_native(process, native, &mut pair, live) {
            Ok(value) => Ok(value),
            Err(Stop::Raise(_)) if guard => Err(None),
            Err(Stop::Raise(exception)) if literal || is_compiled_divide(m, import) => {
                Err(Some(Exit::Raise(Box::new(exception))))
            }
            Err(Stop::Raise(exception)) => Err(Some(callee_exit(exception, m.import_names[import as usize], &pair))),
            Err(Stop::Halt(status)) => Err(Some(Exit::Halt(status))),
            Err(Stop::Killed) => Err(Some(Exit::Killed)),
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

    /// A call through the import table: a native function runs now (its
    /// result in x0); code is entered.
    fn call_import(
        &mut self,
        process: &mut Process,
        current: &Arc<LoadedModule>,
        import: Import,
        arity: usize,
        (module_name, function): (Term, Term),
    ) -> Called {
        match import {
            Import::Native(native) | Import::Operator(_, native) => {
                let mut args = [Term::NIL; 8];
                let n = arity.min(8);
                args[..n].copy_from_slice(&self.x[..n]);
                match self.call_native(process, native, &mut args[..n], 0) {
                    Ok(value) => {
                        self.x[0] = value;
                        Called::Value
                    }
                    // `args` were roots while the native ran, so they are current.
                    Err(Stop::Raise(exception)) => {
                        Called::Raise(with_callee(exception, module_name, function, &args[..n]))
                    }
                    Err(Stop::Halt(status)) => Called::Halt(status),
                    Err(Stop::Killed) => Called::Killed,
                }
            }
            Import::Remote { module, function, arity } => self.enter_remote(process, current, module, function, arity),
            Import::Apply(3) => {
                let (module, function, list) = (self.x[0], self.x[1], self.x[2]);
                match self.unpack_arguments(list) {
                    Some(arity) if module.is_atom() && function.is_atom() => {
                        self.enter_remote(process, current, module, function, arity as u32)
                    }
                    _ => Called::Raise(Exception::error(atoms::BADARG)),
                }
            }
            Import::Apply(_) => {
                let (function, list) = (self.x[0], self.x[1]);
                match self.unpack_arguments(list) {
                    Some(arity) => {
                        self.x[arity] = function;
                        self.call_fun(process, current, arity)
                    }
                    None => Called::Raise(Exception::error(atoms::BADARG)),
                }
            }
        }
    }

    /// Moves the elements of a proper list into x0..; returns how many.
    fn unpack_arguments(&mut self, list: Term) -> Option<usize> {
        let mut items = Vec::new();
        let mut cursor = list;
        while cursor.is_cons() {
            items.push(cursor.head());
            cursor = cursor.tail();
            if items.len() >= 255 {
                return None;
            }
        }
        if !cursor.is_nil() {
            return None;
        }
        self.x[..items.len()].copy_from_slice(&items);
        Some(items.len())
    }

    /// A call to `module:function/arity` in its current version (or the
    /// native function of that name).
    fn enter_remote(
        &mut self,
        process: &mut Process,
        current: &Arc<LoadedModule>,
        module: Term,
        function: Term,
        arity: u32,
    ) -> Called {
        match self.resolve(module, function, arity) {
            Some(RemoteTarget::Native(native)) => {
                self.call_import(process, current, Import::Native(native), arity as usize, (module, function))
            }
            Some(RemoteTarget::Code(target, entry)) if Arc::ptr_eq(&target, current) => Called::Local(entry),
            Some(RemoteTarget::Code(target, entry)) => Called::Enter(target, entry),
            None => {
                let args = self.x[..(arity as usize).min(X_REGISTERS)].to_vec();
                Called::Raise(with_callee(Exception::error(atoms::UNDEF), module, function, &args))
            }
        }
    }

    /// The native function or the current code of `module:function/arity`,
    /// from the cache when the code is as it was when it was resolved.
    fn resolve(&mut self, module: Term, function: Term, arity: u32) -> Option<RemoteTarget> {
        let generation = self.code.generation();
        let hash =
            (module.raw() ^ function.raw().rotate_left(17) ^ u64::from(arity)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let slot = (hash >> 58) as usize % REMOTE_CACHE;
        if let Some(hit) = &self.remotes[slot] {
            if hit.module == module && hit.function == function && hit.arity == arity && hit.generation == generation {
                return Some(hit.target.clone());
            }
        }
        let target =
            match crate::natives::lookup(atom::name(module).unwrap_or(""), atom::name(function).unwrap_or(""), arity) {
                Some(native) => RemoteTarget::Native(native),
                None => {
                    let found = self.code.current(module)?;
                    let entry = found.export(function, arity)?;
                    RemoteTarget::Code(found, entry)
                }
            };
        // Kept under the count read before resolving: a load meanwhile (by
        // another thread, or the lazy load of this very module) makes it miss
        // once and be resolved again, never stay stale.
        self.remotes[slot] = Some(Resolved { module, function, arity, generation, target: target.clone() });
        Some(target)
    }

    /// Calls the fun in x[arity] with x0..x(arity-1).
    fn call_fun(&mut self, process: &mut Process, current: &Arc<LoadedModule>, arity: usize) -> Called {
        let value = self.x[arity];
        if let Some((module, function, fun_arity)) = fun::export_parts(value) {
            if fun_arity as usize != arity {
                return Called::Raise(self.badarity(process, arity));
            }
            return self.enter_remote(process, current, module, function, fun_arity);
        }
        let Some((module, lambda, free)) = fun::parts_borrowed(value) else {
            return Called::Raise(self.error_tuple(process, atoms::BADFUN, value));
        };
        // Code purged since the fun was made (OTP: the fun's code is gone).
        if module.purged.load(std::sync::atomic::Ordering::Relaxed) {
            return Called::Raise(self.error_tuple(process, atoms::BADFUN, value));
        }
        let Some(entry) = module.lambdas.get(lambda as usize) else {
            return Called::Raise(Exception::error(atoms::BADARG));
        };
        if entry.arity as usize != arity {
            return Called::Raise(self.badarity(process, arity));
        }
        let free_count = free.len();
        if arity + free_count + 1 > X_REGISTERS {
            return Called::Raise(Exception::error(atoms::SYSTEM_LIMIT));
        }
        self.x[arity..arity + free_count].copy_from_slice(free);
        self.x[arity + free_count] = value;
        let entry = entry.entry;
        if std::ptr::eq(module, Arc::as_ptr(current)) {
            Called::Local(entry)
        } else {
            match fun::parts(value) {
                Some((module, _, _)) => Called::Enter(module, entry),
                None => Called::Raise(Exception::error(atoms::BADARG)),
            }
        }
    }

    /// `error:{badarity, {Fun, Args}}` for the fun in x[arity] called with x0..x(arity-1).
    fn badarity(&mut self, process: &mut Process, arity: usize) -> Exception {
        self.ensure(process, 2 * arity + 3 + 3, arity + 1);
        let args = process.heap.list(&self.x[..arity]);
        let pair = process.heap.tuple(&[self.x[arity], args]);
        Exception::error(process.heap.tuple(&[atoms::BADARITY, pair]))
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
                    i64::from(function.trace_arity),
                    location.module.file.clone(),
                    location.module.line_of(location.pc),
                ))
            })
            .collect();
        let words: usize =
            entries.iter().map(|e| 5 + 4 + 3 + 3 + 2 * e.3.chars().count()).sum::<usize>() + 2 * entries.len();
        // The callee's arguments, or those of the function no clause of
        // which matched, ride in x registers above the live ones, so that a
        // collection keeps them.
        let callee = exception.callee.as_deref().filter(|c| live + c.2.len() < X_REGISTERS);
        let clause_args = exception.args.as_ref().filter(|a| callee.is_none() && live + a.len() < X_REGISTERS);
        let n = callee.map(|c| &c.2).or(clause_args).map_or(0, Vec::len);
        if let Some(args) = callee.map(|c| &c.2).or(clause_args) {
            self.x[live..live + n].copy_from_slice(args);
        }
        // The callee's entry: its tuple and cons, the error_info map (two
        // pairs at most), its tagged tuple and cons.
        self.ensure(process, words + 2 * n + 5 + 2 + 5 + 3 + 2, live + n);
        let mut list = Term::NIL;
        for (i, (module, function, arity, file, line)) in entries.into_iter().enumerate().rev() {
            let chars: Vec<Term> = file.chars().map(|c| Term::small(c as i64).unwrap_or(Term::NIL)).collect();
            let file_name = process.heap.list(&chars);
            let file_entry = process.heap.tuple(&[atoms::FILE, file_name]);
            let mut location = Term::NIL;
            if let Some(line) = line {
                let line_entry = process.heap.tuple(&[atoms::LINE, Term::small(i64::from(line)).unwrap_or(Term::NIL)]);
                location = process.heap.cons(line_entry, location);
            }
            location = process.heap.cons(file_entry, location);
            let arity = match clause_args {
                // The innermost entry (the first) is the function's own.
                Some(_) if i == 0 => process.heap.list(&self.x[live..live + n]),
                _ => Term::small(arity).unwrap_or(Term::NIL),
            };
            let entry = process.heap.tuple(&[module, function, arity, location]);
            list = process.heap.cons(entry, list);
        }
        if let Some((module, function, _)) = callee {
            let args = process.heap.list(&self.x[live..live + n]);
            // A built-in's entry says where erl finds its error details.
            let location = if exception.reason == atoms::UNDEF {
                Term::NIL
            } else {
                let errors = if *module == atoms::ERLANG { "erl_erts_errors" } else { "erl_stdlib_errors" };
                let errors = atom::intern(errors).unwrap_or(atoms::UNDEFINED);
                let key = atom::intern("module").unwrap_or(atoms::UNDEFINED);
                // Keys in map order: `cause` sorts before `module`.
                let info = match exception.cause {
                    Some(cause) => {
                        let cause_key = atom::intern("cause").unwrap_or(atoms::UNDEFINED);
                        process.heap.map(&[(cause_key, cause), (key, errors)])
                    }
                    None => process.heap.map(&[(key, errors)]),
                };
                let tag = atom::intern("error_info").unwrap_or(atoms::UNDEFINED);
                let pair = process.heap.tuple(&[tag, info]);
                process.heap.cons(pair, Term::NIL)
            };
            let entry = process.heap.tuple(&[*module, *function, args, location]);
            list = process.heap.cons(entry, list);
        }
        list
    }

    /// The reason a process that raised `exception` exits with:
    /// `{Reason, Stack}` for an error, `{{nocatch, Value}, Stack}` for a
    /// throw, the reason itself for an exit.
    pub fn exit_reason(&mut self, process: &mut Process, exception: &Exception) -> Term {
        if exception.class == Class::Exit {
            return exception.reason;
        }
        self.x[0] = exception.reason;
        let stack = self.stacktrace(process, exception, 1);
        self.x[1] = stack;
        self.ensure(process, 3 + 3, 2);
        let reason =
            if exception.class == Class::Throw { process.heap.tuple(&[atoms::NOCATCH, self.x[0]]) } else { self.x[0] };
        process.heap.tuple(&[reason, self.x[1]])
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

/// The native function behind an import, if it is a built-in.
fn native_of(import: Import) -> Option<NativeFn> {
    match import {
        Import::Native(native) | Import::Operator(_, native) => Some(native),
        _ => None,
    }
}

/// Records the built-in or undefined function an error came from, as erl's
/// stack traces show it; not for `error/1,2`, `throw/1`, `exit/1` and
/// `raise/3`, whose exceptions are the caller's own.
/// `element(N, T)` when `T` is a tuple and `N` in range.
#[inline(always)]
fn element_of(n: Term, t: Term) -> Option<Term> {
    if !n.is_small() {
        return None;
    }
    let elements = t.tuple_elements()?;
    let i = usize::try_from(n.small_value()).ok()?.checked_sub(1)?;
    elements.get(i).copied()
}

fn with_callee(mut exception: Exception, module: Term, function: Term, args: &[Term]) -> Exception {
    let own = module == atoms::ERLANG && matches!(atom::name(function), Some("error" | "throw" | "exit" | "raise"));
    if exception.callee.is_none() && exception.stacktrace.is_none() && exception.class == Class::Error && !own {
        exception.callee = Some(Box::new((module, function, args.to_vec())));
    }
    exception
}

/// Where a call goes.
enum Called {
    /// A native function ran; its result is in x0.
    Value,
    /// Code in the current module version, at this entry.
    Local(u32),
    /// Code in another module version.
    Enter(Arc<LoadedModule>, u32),
    Raise(Exception),
    Halt(i32),
    /// The native killed its own process (`Process::killed` says why).
    Killed,
}

/// Reads x register `i`.
#[inline(always)]
fn x_read(x: &[Term], i: u32) -> Term {
    debug_assert!((i as usize) < x.len());
    // SAFETY: the verifier bounds x registers by X_REGISTERS, the length of
    // the x register file.
    unsafe { *x.get_unchecked(i as usize) }
}

#[inline(always)]
fn x_write(x: &mut [Term], i: u32, value: Term) {
    debug_assert!((i as usize) < x.len());
    // SAFETY: as in `x_read`.
    unsafe { *x.get_unchecked_mut(i as usize) = value }
}

/// Reads y register `i` of the running function's frame.
#[inline(always)]
fn y_read(stack: &[Term], i: u32) -> Term {
    debug_assert!(i as usize + 2 <= stack.len());
    // SAFETY: the verifier proved that every y register an op names is
    // inside the frame of the function running it, and that frame is on
    // top of the stack while the function runs (Allocate pushes it; calls
    // and natives leave the stack as they found it): its frame word at
    // `len - 1`, `y(i)` below.
    unsafe { *stack.get_unchecked(stack.len() - 2 - i as usize) }
}

#[inline(always)]
fn y_write(stack: &mut [Term], i: u32, value: Term) {
    debug_assert!(i as usize + 2 <= stack.len());
    let slot = stack.len() - 2 - i as usize;
    // SAFETY: as in `y_read`.
    unsafe { *stack.get_unchecked_mut(slot) = value }
}

/// Reads an operand from the parts of the register file.
#[inline(always)]
fn read_parts(x: &[Term], stack: &[Term], operand: Operand) -> Term {
    match operand.as_constant() {
        Some(term) => term,
        None => match operand.as_register() {
            (i, true) => y_read(stack, i as u32),
            (i, false) => x_read(x, i as u32),
        },
    }
}

/// An operator on two small integers, answered inline; `None` sends the
/// call to the native function (overflow, other types).
#[inline(always)]
fn small_operator(operator: Operator, a: Term, b: Term) -> Option<Term> {
    if !both_small(a, b) {
        return None;
    }
    // Tagged arithmetic: a small integer's word is its value shifted left
    // past the tag, so words add and subtract as values do, and overflow
    // exactly when the value leaves the small range.
    let (x, y) = (a.raw() as i64, b.raw() as i64);
    let raw = match operator {
        Operator::Add => (x ^ SMALL_TAG).checked_add(y)?,
        Operator::Subtract => x.checked_sub(y)? | SMALL_TAG,
        Operator::Multiply => return small_multiply(a, b),
        // `/` of integers is a float: the slow path's.
        Operator::Divide => return None,
        Operator::Less | Operator::ExactEq => return small_relation(operator, x, y),
        // In `operator_slow`: a call from here costs every other op 3%
        // more instructions (fib, callgrind), inlined or not.
        _ => return None,
    };
    // SAFETY: the word of a small integer (see above).
    Some(unsafe { Term::from_raw(raw as u64) })
}

/// `div`, `rem` and the bitwise operators on two small integers, when the
/// result is small (a zero divisor, a negative shift or one out of range:
/// the built-in's, which raises or makes a bignum).
#[inline(never)]
fn small_integer_operator(operator: Operator, a: Term, b: Term) -> Option<Term> {
    if !both_small(a, b) {
        return None;
    }
    let (x, y) = (a.small_value(), b.small_value());
    Term::small(match operator {
        Operator::Band => x & y,
        Operator::Bor => x | y,
        Operator::Bxor => x ^ y,
        Operator::Div => x.checked_div(y)?,
        Operator::Rem => x.checked_rem(y)?,
        Operator::Bsl if (0..64).contains(&y) => {
            let shifted = x << y;
            if shifted >> y != x {
                return None;
            }
            shifted
        }
        Operator::Bsr if y >= 0 => x >> y.min(63),
        _ => return None,
    })
}

#[inline(always)]
fn small_multiply(a: Term, b: Term) -> Option<Term> {
    Term::small(a.small_value().checked_mul(b.small_value())?)
}

/// `+ - * /` with a float result, boxed in the heap when it has room (else
/// `None`: the slow path collects). Out of line from `execute` with only
/// what it needs: through `operator_slow` a float operation cost twice the
/// instructions.
#[inline(never)]
fn float_operator(heap: &mut Heap, operator: Operator, a: Term, b: Term) -> Option<Term> {
    if cfg!(feature = "gc-stress") || !heap.has_room(2) {
        return None;
    }
    Some(heap.float(float_arithmetic(operator, a, b)?))
}

/// A `/` in compiled code: erl's compiler makes it float arithmetic, whose
/// `badarith` has no stack trace entry for the operator (the shell's `/`
/// has one, as erl_eval's does).
#[cold]
fn is_compiled_divide(m: &LoadedModule, import: u32) -> bool {
    matches!(m.imports[import as usize], Import::Operator(Operator::Divide, _))
        && !atom::name(m.name).is_some_and(compiler::shell::is_evaluation_module)
}

/// `+ - * /` with a float operand (or `/` of two small integers), when the
/// result is a float erl would give (finite: erl raises `badarith` for an
/// infinite or undefined one, which the built-in does).
#[inline]
fn float_arithmetic(operator: Operator, a: Term, b: Term) -> Option<f64> {
    let as_float = |t: Term| if t.is_small() { Some(t.small_value() as f64) } else { t.float_value() };
    if both_small(a, b) && operator != Operator::Divide {
        return None;
    }
    let (x, y) = (as_float(a)?, as_float(b)?);
    let value = match operator {
        Operator::Add => x + y,
        Operator::Subtract => x - y,
        Operator::Multiply => x * y,
        Operator::Divide if y != 0.0 => x / y,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

/// The tag bits of a small integer's word.
const SMALL_TAG: i64 = 0b0011;

#[inline(always)]
fn both_small(a: Term, b: Term) -> bool {
    a.is_small() && b.is_small()
}

/// `<` and `=:=` as operators on two small integers' words.
#[cold]
fn small_relation(operator: Operator, x: i64, y: i64) -> Option<Term> {
    let holds = if operator == Operator::Less { x < y } else { x == y };
    Some(if holds { atoms::TRUE } else { atoms::FALSE })
}

/// A small `a` plus the word `delta` (`Op::AddImm`).
#[inline(always)]
fn add_small(a: Term, delta: i64) -> Option<Term> {
    if !a.is_small() {
        return None;
    }
    let raw = (a.raw() as i64).checked_add(delta)?;
    // SAFETY: `delta` is a small integer's payload, so the sum keeps the tag.
    Some(unsafe { Term::from_raw(raw as u64) })
}

/// The constant operand of an `Op::AddImm`, for its slow path.
#[cold]
fn imm_operand(m: &LoadedModule, import: u32, delta: i64) -> Term {
    let b = delta >> 4;
    let b = match m.imports.get(import as usize) {
        Some(Import::Operator(Operator::Subtract, _)) => -b,
        _ => b,
    };
    Term::small(b).unwrap_or(Term::NIL)
}

/// A comparison test with a small integer `imm`; `mask` is `compare.mask()`.
#[inline(always)]
fn compare_imm(test: Compare, mask: u8, a: Term, imm: Term) -> bool {
    if a.is_small() {
        return small_order_in(mask, a, imm);
    }
    compare_slow(test, a, imm)
}

/// A comparison test; `mask` is `compare.mask()`.
#[inline(always)]
fn compare_terms(test: Compare, mask: u8, a: Term, b: Term) -> bool {
    if both_small(a, b) {
        return small_order_in(mask, a, b);
    }
    compare_slow(test, a, b)
}

/// Whether the order of two small integers is one of `mask`'s (1 less, 2
/// equal, 4 greater). Tagged small integers order as their values.
#[inline(always)]
fn small_order_in(mask: u8, a: Term, b: Term) -> bool {
    let (x, y) = (a.raw() as i64, b.raw() as i64);
    let order = if x < y {
        1
    } else if x == y {
        2
    } else {
        4
    };
    mask & order != 0
}

/// `a < imm` for a small integer `imm`: a word comparison when `a` is
/// small too (tagged small integers order as their values).
#[inline(always)]
fn less_than_imm(a: Term, imm: Term) -> bool {
    if a.is_small() {
        (a.raw() as i64) < imm.raw() as i64
    } else {
        less_slow(a, imm)
    }
}

#[cold]
#[inline(never)]
fn less_slow(a: Term, b: Term) -> bool {
    compare(a, b).is_lt()
}

/// Where a three-way list test goes for `list`.
#[inline(always)]
fn list_target(list: Term, nil: u32, cons: u32, other: u32) -> u32 {
    if list.is_cons() {
        cons
    } else if list == Term::NIL {
        nil
    } else {
        other
    }
}

fn compare_slow(test: Compare, a: Term, b: Term) -> bool {
    // Two floats order as their values (erl has no NaN): the loops that
    // compare floats (`if R < Bound`) skip the general term order.
    if let (Compare::Lt | Compare::Ge, Some(x), Some(y)) = (test, a.float_value(), b.float_value()) {
        return (x < y) == (test == Compare::Lt);
    }
    match test {
        Compare::ExactEq => exact_eq(a, b),
        Compare::ExactNe => !exact_eq(a, b),
        Compare::Eq => eq(a, b),
        Compare::Ne => !eq(a, b),
        Compare::Lt => compare(a, b).is_lt(),
        Compare::Ge => compare(a, b).is_ge(),
    }
}

#[inline(always)]
fn type_test(test: TypeTest, t: Term) -> bool {
    match test {
        TypeTest::Integer => t.is_integer(),
        TypeTest::Float => t.float_value().is_some(),
        // `Term::is_number` spelled out: calling it here measured +3% on fib.
        TypeTest::Number => t.is_integer() || t.float_value().is_some(),
        TypeTest::Atom => t.is_atom(),
        TypeTest::List => t.is_cons() || t.is_nil(),
        TypeTest::Tuple => t.tuple_elements().is_some(),
        TypeTest::Binary => binary_bytes(t).is_some(),
        TypeTest::Function => fun::is_fun(t),
        TypeTest::Pid => t.is_pid(),
        TypeTest::Boolean => t == atoms::TRUE || t == atoms::FALSE,
        TypeTest::Map => t.map_words().is_some(),
    }
}

fn collections(process: &Process) -> u64 {
    let stats = process.heap.stats();
    u64::from(stats.minor_collections) + u64::from(stats.major_collections)
}

/// `error:Reason` leaving `execute`.
#[cold]
fn error_exit(reason: Term) -> Exit {
    Exit::Raise(Box::new(Exception::error(reason)))
}

/// A built-in's exception leaving `execute`, naming the built-in (out of
/// line: raising is rare).
#[cold]
#[inline(never)]
fn callee_exit(exception: Exception, (module, function): (Term, Term), args: &[Term]) -> Exit {
    Exit::Raise(Box::new(with_callee(exception, module, function, args)))
}

/// A return that leaves the module: to the module on top of `far`, or
/// out of the outermost function with `x0`. Out of line: most returns are
/// local.
#[cold]
#[inline(never)]
fn return_far(process: &mut Process, back: Cp, x0: Term) -> Exit {
    if !back.is_remote() {
        return Exit::Finish(x0);
    }
    match process.far.pop() {
        Some(target) => Exit::Enter(target, back.pc()),
        None => Exit::Raise(Box::new(Exception::error(atoms::BADARG))),
    }
}

/// Pushes a frame: `slots` slots of `[]` (the collector reads every slot)
/// and the frame word holding `cp`.
#[inline(always)]
fn push_frame(stack: &mut Vec<Term>, slots: u32, cp: Cp) {
    push_frame_with(stack, slots, cp, None);
}

/// As [`push_frame`], with `value` in slot `y` (which must be one of the
/// `slots`) instead of `[]`: no slot is written twice.
#[inline(always)]
fn push_frame_holding(stack: &mut Vec<Term>, slots: u32, cp: Cp, y: u32, value: Term) {
    push_frame_with(stack, slots, cp, Some((y, value)));
}

/// Frames are a few slots: stores, not a `memcpy` call. Inlined into its
/// two callers, where `held` is known, so the match goes away.
#[inline(always)]
fn push_frame_with(stack: &mut Vec<Term>, slots: u32, cp: Cp, held: Option<(u32, Term)>) {
    let count = slots as usize;
    debug_assert!(held.is_none_or(|(y, _)| (y as usize) < count));
    stack.reserve(count + 1);
    let len = stack.len();
    // SAFETY: `reserve` made room for `count + 1` more terms past `len`;
    // each is written before `set_len` makes it part of the vector (slot
    // `y` of `held` is one of them: `y < count`).
    unsafe {
        let end = stack.as_mut_ptr().add(len);
        match held {
            // A one-slot frame holding a value has nothing to clear.
            Some((y, value)) => {
                if count > 1 {
                    for i in 0..count {
                        end.add(i).write(Term::NIL);
                    }
                }
                end.add(count - 1 - y as usize).write(value);
            }
            // Most frames have one or two slots: no loop for them.
            None => {
                if count >= 1 {
                    end.write(Term::NIL);
                }
                if count >= 2 {
                    end.add(1).write(Term::NIL);
                }
                for i in 2..count {
                    end.add(i).write(Term::NIL);
                }
            }
        }
        end.add(count).write(cp.frame_word(slots));
        stack.set_len(len + count + 1);
    }
}

/// Pops the current frame into the continuation register: the frame word
/// on top says how many slots to pop.
#[inline(always)]
fn deallocate(process: &mut Process, cp: &mut Cp) {
    let stack = &mut process.stack;
    debug_assert!(stack.last().is_some_and(|word| word.is_frame_word()));
    // SAFETY: the verifier proved that every op that deallocates runs in a
    // frame, which is on top of the stack (as for `y_read`): its frame
    // word is the last term, written by `push_frame` over its slots.
    unsafe {
        let word = *stack.get_unchecked(stack.len() - 1);
        let (cont, slots) = Cp::from_frame_word(word).unwrap_unchecked();
        stack.set_len(stack.len() - 1 - slots);
        *cp = cont;
    }
}

/// Where an exception was raised: the current function, then each caller,
/// with each `local` continuation read in the module of the function whose
/// return it is, and each `remote` one naming its module in `far`.
fn trace(process: &Process, module: &Arc<LoadedModule>, pc: u32, cp: Cp) -> Vec<Location> {
    let mut trace = vec![Location { module: module.clone(), pc }];
    let mut owner = module.clone();
    let mut far = process.far.len();
    let mut push = |cp: Cp, trace: &mut Vec<Location>| {
        if cp.is_remote() {
            let Some(index) = far.checked_sub(1) else { return };
            far = index;
            owner = process.far[index].clone();
        } else if !cp.is_local() {
            return;
        }
        trace.push(Location { module: owner.clone(), pc: cp.pc().saturating_sub(1) });
    };
    // A function without a frame has its return address in the register.
    push(cp, &mut trace);
    let depth = backtrace_depth();
    for &word in process.stack.iter().rev() {
        if trace.len() >= depth {
            break;
        }
        if let Some((cp, _)) = Cp::from_frame_word(word) {
            push(cp, &mut trace);
        }
    }
    trace.truncate(depth);
    trace
}

/// Finds the innermost handler for an exception and unwinds to its frame.
fn unwind(process: &mut Process, exception: Exception) -> Result<(Arc<LoadedModule>, u32), Exception> {
    while let Some(handler) = process.handlers.pop() {
        if handler.depth > process.stack.len() || handler.far > process.far.len() {
            // A handler left behind by a frame that is gone: not ours to use.
            continue;
        }
        process.stack.truncate(handler.depth);
        process.far.truncate(handler.far);
        process.caught = Some(Box::new(exception));
        return Ok((handler.module, handler.pc));
    }
    Err(exception)
}
