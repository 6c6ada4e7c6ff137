//! Compiling one function: clauses, patterns, guards and expressions.
//!
//! Frame layout: `y0..y(arity-1)` hold the arguments (moved there at entry),
//! then one slot per variable of the function, then temporaries, which are
//! taken and released in stack order. Every value an expression produces is
//! a `Src`: a constant, a variable's slot, or a temporary slot.

use std::collections::{BTreeSet, HashMap, HashSet};

use num_bigint::BigInt;
use num_traits::ToPrimitive;

mod binary;
mod dispatch;

use super::{Generator, Job};
use crate::ast::*;
use crate::bytecode::{Import, Instruction as I, Label, Literal as Lit, Local, Reg, Src};

/// Integers that fit the VM's immediate small integer.
const SMALL_RANGE: std::ops::Range<i64> = -(1 << 59)..(1 << 59);

impl Generator {
    pub(super) fn compile_job(&mut self, index: u32, job: Job) {
        let start = self.new_label();
        self.place(start);
        self.out.functions[index as usize].start = start;
        if let Some(first) = job.clauses.first() {
            self.mark_line(first.span);
        }
        let name = self.atom(&job.name);
        self.emit(I::FuncInfo { name: crate::bytecode::AtomIndex(name), arity: job.arity as u32 });
        let mut variables = BTreeSet::new();
        for clause in &job.clauses {
            collect_clause(clause, &mut variables);
        }
        variables.extend(job.itself.iter().cloned());
        let mut f = FunctionCompiler::new(self, &job, variables);
        f.compile(&job, start);
    }
}

/// What happens when no clause of a `case`, `if`, `try ... of` or `receive`
/// matches.
enum NoMatch<'a> {
    /// Raise: `CaseEnd`, `IfEnd` or `TryCaseEnd`.
    Raise(I),
    /// Step to the next message (`top` is the `LoopRec`), and wait at
    /// `wait`: for ever, or for a timeout (its value) and then run the body.
    Receive { top: Label, wait: Label, after: Option<(Src, &'a [Expr])> },
}

struct FunctionCompiler<'g> {
    g: &'g mut Generator,
    arity: usize,
    /// The top-level function (`main/0`), whose name names the lambdas.
    top: String,
    slots: HashMap<String, u16>,
    /// The first temporary slot, and the next free one.
    temps_base: u16,
    temps: u16,
    frame_size: u16,
    /// Instructions whose `slots` operand is the frame size, patched at the end.
    frame_patches: Vec<usize>,
    bound: HashSet<String>,
}

impl<'g> FunctionCompiler<'g> {
    fn new(g: &'g mut Generator, job: &Job, variables: BTreeSet<String>) -> FunctionCompiler<'g> {
        let mut slots = HashMap::new();
        let args = job.arity - job.free.len();
        // Captured variables live in the argument slots they arrive in.
        for (i, name) in job.free.iter().enumerate() {
            slots.insert(name.clone(), (args + i) as u16);
        }
        let mut next = job.arity as u16;
        for variable in variables {
            slots.entry(variable).or_insert_with(|| {
                next += 1;
                next - 1
            });
        }
        FunctionCompiler {
            g,
            arity: job.arity,
            top: job.top.clone(),
            slots,
            temps_base: next,
            temps: next,
            frame_size: next,
            frame_patches: Vec::new(),
            bound: job.free.iter().cloned().collect(),
        }
    }

    fn emit(&mut self, instruction: I) {
        self.g.emit(instruction);
    }

    /// Emits an instruction whose `slots` operand is the frame size (patched later).
    fn emit_frame(&mut self, instruction: I) {
        self.frame_patches.push(self.g.out.code.len());
        self.g.emit(instruction);
    }

    fn temp(&mut self) -> Reg {
        let reg = Reg::Y(self.temps);
        self.temps += 1;
        self.frame_size = self.frame_size.max(self.temps);
        reg
    }

    fn release(&mut self, mark: u16) {
        self.temps = mark.max(self.temps_base);
    }

    fn slot(&self, name: &str) -> Reg {
        Reg::Y(self.slots[name])
    }

    fn compile(&mut self, job: &Job, start: Label) {
        self.emit_frame(I::Allocate { slots: 0 });
        for i in 0..self.arity {
            self.emit(I::Move { src: Src::Reg(Reg::X(i as u16)), dst: Reg::Y(i as u16) });
        }
        if let Some(itself) = &job.itself {
            // A named fun finds itself after its arguments and captured variables.
            let dst = self.slot(itself);
            self.emit(I::Move { src: Src::Reg(Reg::X(self.arity as u16)), dst });
            self.bound.insert(itself.clone());
        }
        let base = self.bound.clone();
        let base_slots = self.slots.clone();
        let args: Vec<Src> = (0..self.arity).map(|i| Src::Reg(Reg::Y(i as u16))).collect();
        let dispatch = self.literal_dispatch(&job.clauses, &args);
        for (index, clause) in job.clauses.iter().enumerate() {
            let next = self.clause_start(dispatch.as_ref(), index);
            self.bound = base.clone();
            self.slots = base_slots.clone();
            self.g.mark_line(clause.span);
            // A head pattern that is just a new variable lives in its
            // argument's slot for this clause: no copy.
            for (i, pattern) in clause.patterns.iter().enumerate() {
                if let PatternKind::Var(name) = &pattern.kind {
                    if !self.bound.contains(name) {
                        self.slots.insert(name.clone(), i as u16);
                        self.bound.insert(name.clone());
                    }
                }
            }
            for (i, pattern) in clause.patterns.iter().enumerate() {
                if matches!(&pattern.kind, PatternKind::Var(name) if self.slots.get(name) == Some(&(i as u16))) {
                    continue;
                }
                // The dispatch already matched this column's literal.
                if dispatch.as_ref().is_some_and(|d| d.column == i && d.keyed[index]) {
                    continue;
                }
                self.pattern(pattern, Src::Reg(Reg::Y(i as u16)), next);
            }
            if let Some(guard) = &clause.guard {
                self.guard(guard, next);
            }
            self.body(&clause.body, true);
            self.release(self.temps_base);
            self.clause_end(dispatch.as_ref(), next);
        }
        self.clauses_end(dispatch.as_ref());
        // No clause matched: the arguments go back to x registers for the error.
        for i in 0..self.arity {
            self.emit(I::Move { src: Src::Reg(Reg::Y(i as u16)), dst: Reg::X(i as u16) });
        }
        self.emit_frame(I::Deallocate { slots: 0 });
        self.emit(I::Jump { target: start });
        let size = u32::from(self.frame_size);
        for &pc in &self.frame_patches {
            match &mut self.g.out.code[pc] {
                I::Allocate { slots }
                | I::Deallocate { slots }
                | I::CallLast { slots, .. }
                | I::CallExtLast { slots, .. }
                | I::CallFunLast { slots, .. } => *slots = size,
                other => unreachable!("frame patch on {other:?}"),
            }
        }
    }

    /// Compiles a body; in tail position it returns (or tail-calls) and gives `None`.
    fn body(&mut self, body: &[Expr], tail: bool) -> Option<Src> {
        let (last, init) = body.split_last()?;
        for expr in init {
            let mark = self.temps;
            self.expr(expr, false);
            self.release(mark);
        }
        self.expr(last, tail)
    }

    /// The value in `src` is the function's result if `tail`.
    fn finish(&mut self, src: Src, tail: bool) -> Option<Src> {
        if !tail {
            return Some(src);
        }
        // Returning: every frame slot is dead, so a value just computed
        // into one can be computed into x0 instead.
        let direct = matches!(src, Src::Reg(reg @ Reg::Y(_)) if self.g.retarget_last(reg, Reg::X(0)));
        if !direct {
            self.emit(I::Move { src, dst: Reg::X(0) });
        }
        self.emit_frame(I::Deallocate { slots: 0 });
        self.emit(I::Return {});
        None
    }

    fn value(&mut self, expr: &Expr) -> Src {
        self.expr(expr, false).unwrap_or(Src::Nil)
    }

    fn expr(&mut self, expr: &Expr, tail: bool) -> Option<Src> {
        self.g.mark_line(expr.span);
        if let Some(constant) = self.constant(expr) {
            let src = self.constant_src(constant);
            return self.finish(src, tail);
        }
        match &expr.kind {
            ExprKind::Var(name) => {
                let src = Src::Reg(self.slot(name));
                self.finish(src, tail)
            }
            ExprKind::Tuple(items) => {
                let dst = self.temp();
                let mark = self.temps;
                let elements: Vec<Src> = items.iter().map(|item| self.value(item)).collect();
                self.emit(I::TestHeap { words: 1 + elements.len() as u32, live: 0 });
                self.emit(I::PutTuple { elements, dst });
                self.release(mark);
                self.finish(Src::Reg(dst), tail)
            }
            ExprKind::Cons(..) => {
                let dst = self.temp();
                let mark = self.temps;
                let mut items = Vec::new();
                let mut cursor = expr;
                while let ExprKind::Cons(head, tail) = &cursor.kind {
                    items.push(self.value(head));
                    cursor = tail;
                }
                let tail_src = self.value(cursor);
                self.emit(I::TestHeap { words: 2 * items.len() as u32, live: 0 });
                let mut list = tail_src;
                for head in items.into_iter().rev() {
                    self.emit(I::PutList { head, tail: list, dst });
                    list = Src::Reg(dst);
                }
                self.release(mark);
                self.finish(Src::Reg(dst), tail)
            }
            ExprKind::Match(pattern, value) => {
                let src = self.value(value);
                let fail = self.g.new_label();
                let ok = self.g.new_label();
                self.pattern(pattern, src, fail);
                self.emit(I::Jump { target: ok });
                self.g.place(fail);
                self.emit(I::Badmatch { src });
                self.g.place(ok);
                self.finish(src, tail)
            }
            ExprKind::BinaryOp(BinaryOp::Andalso, a, b) => self.short_circuit(a, b, true, tail),
            ExprKind::BinaryOp(BinaryOp::Orelse, a, b) => self.short_circuit(a, b, false, tail),
            ExprKind::BinaryOp(op, a, b) => {
                let args = vec![(**a).clone(), (**b).clone()];
                if self.constant_arithmetic_fails(*op, a, b) {
                    // erlc folds constant arithmetic and leaves a call of
                    // the operator's BIF where folding fails (`1 + b`):
                    // the raise then names the operator in its stack.
                    let import = self.g.import("erlang", op.text(), 2);
                    return self.call_import(import, &args, tail);
                }
                self.bif_call("erlang", op.text(), &args, tail)
            }
            ExprKind::UnaryOp(op, a) => {
                let name = match op {
                    UnaryOp::Plus => "+",
                    UnaryOp::Minus => "-",
                    UnaryOp::Bnot => "bnot",
                    UnaryOp::Not => "not",
                };
                self.bif_call("erlang", name, std::slice::from_ref(&**a), tail)
            }
            ExprKind::Call(target, args) => self.call(target, args, expr.span, tail),
            ExprKind::Case(subject, clauses) => {
                let subject = self.value(subject);
                self.clauses(clauses, Some(subject), tail, NoMatch::Raise(I::CaseEnd { src: subject }))
            }
            ExprKind::If(clauses) => self.clauses(clauses, None, tail, NoMatch::Raise(I::IfEnd {})),
            ExprKind::Block(body) => self.body(body, tail),
            ExprKind::Catch(inner) => {
                let result = self.temp();
                let tag = self.temp();
                let mark = self.temps;
                let handler = self.g.new_label();
                self.emit(I::Catch { handler, slot: tag });
                let src = self.value(inner);
                self.emit(I::Move { src, dst: Reg::X(0) });
                self.g.place(handler);
                self.emit(I::CatchEnd { slot: tag });
                self.emit(I::Move { src: Src::Reg(Reg::X(0)), dst: result });
                self.release(mark);
                self.finish(Src::Reg(result), tail)
            }
            ExprKind::Try(t) => self.try_expr(t, tail),
            ExprKind::Fun(fun) => self.fun(fun, expr.span, tail),
            ExprKind::RecordNew(name, fields) => {
                let elements = self.record_elements(name, fields, None);
                self.tuple_of(elements, tail)
            }
            ExprKind::RecordUpdate(base, name, fields) => {
                let base = self.value(base);
                self.record_check(base, name);
                let elements = self.record_elements(name, fields, Some(base));
                self.tuple_of(elements, tail)
            }
            ExprKind::RecordAccess(base, name, field) => {
                let base = self.value(base);
                self.record_check(base, name);
                let index = self.field_index(name, field);
                let dst = self.temp();
                self.emit(I::GetTupleElement { src: base, index, dst });
                self.finish(Src::Reg(dst), tail)
            }
            ExprKind::Binary(elements) => self.binary_expr(elements, tail),
            ExprKind::BinaryComprehension(head, qualifiers) => {
                if let Some(checked) = first_generator_checked(head, qualifiers, expr.span) {
                    // Its variable (a slot of its own, see `collect_expr`) is
                    // bound afresh each time: two comprehensions with one span
                    // (a macro's) must not match the first's source.
                    let name = checked_source_name(expr.span);
                    self.bound.remove(&name);
                    let result = self.expr(&checked, tail);
                    self.bound.remove(&name);
                    return result;
                }
                // `<< B || Qs >>` is the concatenation of the binaries `[B || Qs]`.
                let span = expr.span;
                let list = self.g.lower_comprehension(head, qualifiers, span);
                let atom = |a: &str| Box::new(Expr { span, kind: ExprKind::Literal(Literal::Atom(a.to_owned())) });
                let call = Expr {
                    span,
                    kind: ExprKind::Call(CallTarget::Remote(atom("erlang"), atom("list_to_binary")), vec![list]),
                };
                self.expr(&call, tail)
            }
            ExprKind::Map(base, fields) => {
                let dst = self.temp();
                let mark = self.temps;
                let map = match base {
                    Some(base) => self.value(base),
                    None => Src::Literal(self.g.literal(Lit::Map(Vec::new()))),
                };
                let values: Vec<(bool, Src, Src)> =
                    fields.iter().map(|f| (f.exact, self.value(&f.key), self.value(&f.value))).collect();
                self.put_map(map, &values, dst, None);
                self.release(mark);
                self.finish(Src::Reg(dst), tail)
            }
            ExprKind::ListComprehension(head, qualifiers) => {
                let lowered = self.g.lower_comprehension(head, qualifiers, expr.span);
                self.expr(&lowered, tail)
            }
            ExprKind::Receive(clauses, after) => self.receive(clauses, after.as_deref(), tail),
            ExprKind::Send(to, message) => {
                let result = self.temp();
                let mark = self.temps;
                let to = self.value(to);
                let message = self.value(message);
                // As erl: a failure is reported in erlang:send/2.
                let import = self.g.import("erlang", "send", 2);
                self.emit(I::Bif { import, args: vec![to, message], dst: result, live: 0 });
                self.release(mark);
                self.finish(Src::Reg(result), tail)
            }
            ExprKind::Literal(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => {
                unreachable!("constants are handled above")
            }
        }
    }

    /// `a andalso b` / `a orelse b`: `b` runs only if `a` does not decide.
    fn short_circuit(&mut self, a: &Expr, b: &Expr, and: bool, tail: bool) -> Option<Src> {
        let result = self.temp();
        let mark = self.temps;
        let left = self.value(a);
        let (decides, continues) = if and { (false, true) } else { (true, false) };
        let not_continue = self.g.new_label();
        let not_bool = self.g.new_label();
        let done = self.g.new_label();
        let continue_value = self.bool_src(continues);
        self.emit(I::IsEqExact { fail: not_continue, a: left, b: continue_value });
        let right = self.value(b);
        self.emit(I::Move { src: right, dst: result });
        self.emit(I::Jump { target: done });
        self.g.place(not_continue);
        let decided = self.bool_src(decides);
        self.emit(I::IsEqExact { fail: not_bool, a: left, b: decided });
        self.emit(I::Move { src: decided, dst: result });
        self.emit(I::Jump { target: done });
        self.g.place(not_bool);
        // erlang raises {badarg, Left} for a non-boolean left operand.
        let badarg = self.g.atom("badarg");
        self.emit(I::TestHeap { words: 3, live: 0 });
        let reason = self.temp();
        self.emit(I::PutTuple { elements: vec![Src::Atom(badarg), left], dst: reason });
        self.raise("error", Src::Reg(reason));
        self.g.place(done);
        self.release(mark);
        self.finish(Src::Reg(result), tail)
    }

    fn bool_src(&mut self, value: bool) -> Src {
        Src::Atom(self.g.atom(if value { "true" } else { "false" }))
    }

    /// Raises `class:reason` through the BIF of that name.
    fn raise(&mut self, class: &str, reason: Src) {
        let import = self.g.import("erlang", class, 1);
        self.emit(I::Move { src: reason, dst: Reg::X(0) });
        self.emit(I::CallExt { arity: 1, import });
    }

    /// `receive`: the mailbox is scanned from the oldest message; each one is
    /// tried against every clause, a message no clause takes keeps its place
    /// (`LoopRecEnd`), and when none is left the process waits (`Wait`, or
    /// `WaitTimeout` and the `after` body). Every variable lives in a frame
    /// slot, so no x register is live across the wait. The timeout is
    /// evaluated once, before the first message is looked at.
    fn receive(&mut self, clauses: &[Clause], after: Option<&After>, tail: bool) -> Option<Src> {
        let after = after.map(|after| (self.value(&after.timeout), &after.body[..]));
        let message = self.temp();
        let top = self.g.new_label();
        let wait = self.g.new_label();
        self.g.place(top);
        self.emit(I::LoopRec { fail: wait, dst: message });
        self.clauses(clauses, Some(Src::Reg(message)), tail, NoMatch::Receive { top, wait, after })
    }

    /// Case, if and receive clauses: each from the same bindings, joined after.
    fn clauses(&mut self, clauses: &[Clause], subject: Option<Src>, tail: bool, no_match: NoMatch<'_>) -> Option<Src> {
        let receive = matches!(no_match, NoMatch::Receive { .. });
        let result = if tail { None } else { Some(self.temp()) };
        let mark = self.temps;
        let end = self.g.new_label();
        let before = self.bound.clone();
        let mut after = before.clone();
        let dispatch = match subject {
            Some(subject) => self.literal_dispatch(clauses, &[subject]),
            None => None,
        };
        for (index, clause) in clauses.iter().enumerate() {
            let next = self.clause_start(dispatch.as_ref(), index);
            self.bound = before.clone();
            let keyed = dispatch.as_ref().is_some_and(|d| d.keyed[index]);
            if let (Some(subject), Some(pattern), false) = (subject, clause.patterns.first(), keyed) {
                self.pattern(pattern, subject, next);
            }
            if let Some(guard) = &clause.guard {
                self.guard(guard, next);
            }
            if receive {
                self.emit(I::RemoveMessage {});
            }
            if let Some(value) = self.body(&clause.body, tail) {
                if let Some(result) = result {
                    self.emit(I::Move { src: value, dst: result });
                }
                self.emit(I::Jump { target: end });
            }
            self.release(mark);
            after.extend(self.bound.iter().cloned());
            self.clause_end(dispatch.as_ref(), next);
        }
        self.clauses_end(dispatch.as_ref());
        match no_match {
            NoMatch::Raise(instruction) => self.emit(instruction),
            NoMatch::Receive { top, wait, after: timeout } => {
                self.emit(I::LoopRecEnd { target: top });
                self.g.place(wait);
                match timeout {
                    None => self.emit(I::Wait { target: top }),
                    Some((timeout, body)) => {
                        self.emit(I::WaitTimeout { target: top, timeout });
                        self.emit(I::Timeout {});
                        self.bound = before.clone();
                        if let Some(value) = self.body(body, tail) {
                            if let Some(result) = result {
                                self.emit(I::Move { src: value, dst: result });
                            }
                            self.emit(I::Jump { target: end });
                        }
                        self.release(mark);
                        after.extend(self.bound.iter().cloned());
                    }
                }
            }
        }
        self.g.place(end);
        self.bound = after;
        result.map(Src::Reg)
    }

    fn try_expr(&mut self, t: &Try, tail: bool) -> Option<Src> {
        if !t.after.is_empty() {
            // `try B ... after A end` is `try (try B ... end) after A end`:
            // A runs on the normal path, and on the exception path before re-raising.
            let inner = Try {
                body: t.body.clone(),
                clauses: t.clauses.clone(),
                catch_clauses: t.catch_clauses.clone(),
                after: Vec::new(),
            };
            let result = self.temp();
            let tag = self.temp();
            let mark = self.temps;
            let handler = self.g.new_label();
            let done = self.g.new_label();
            self.emit(I::Try { handler, slot: tag });
            let value = if inner.clauses.is_empty() && inner.catch_clauses.is_empty() {
                self.body(&inner.body, false).unwrap_or(Src::Nil)
            } else {
                self.try_expr(&inner, false).unwrap_or(Src::Nil)
            };
            self.emit(I::Move { src: value, dst: result });
            self.emit(I::TryEnd { slot: tag });
            self.body(&t.after, false);
            self.emit(I::Jump { target: done });
            self.g.place(handler);
            self.emit(I::TryCase { slot: tag });
            let saved: Vec<Reg> = (0..3).map(|_| self.temp()).collect();
            for (i, &reg) in saved.iter().enumerate() {
                self.emit(I::Move { src: Src::Reg(Reg::X(i as u16)), dst: reg });
            }
            self.body(&t.after, false);
            self.emit(I::Raise {
                class: Src::Reg(saved[0]),
                reason: Src::Reg(saved[1]),
                stacktrace: Src::Reg(saved[2]),
            });
            self.g.place(done);
            self.release(mark);
            return self.finish(Src::Reg(result), tail);
        }
        let result = self.temp();
        let tag = self.temp();
        let mark = self.temps;
        let handler = self.g.new_label();
        let done = self.g.new_label();
        let before = self.bound.clone();
        self.emit(I::Try { handler, slot: tag });
        let value = self.body(&t.body, false).unwrap_or(Src::Nil);
        let value_reg = self.temp();
        self.emit(I::Move { src: value, dst: value_reg });
        self.emit(I::TryEnd { slot: tag });
        if t.clauses.is_empty() {
            self.emit(I::Move { src: Src::Reg(value_reg), dst: result });
            self.emit(I::Jump { target: done });
        } else {
            let subject = Src::Reg(value_reg);
            let value = self.clauses(&t.clauses, Some(subject), false, NoMatch::Raise(I::TryCaseEnd { src: subject }));
            if let Some(value) = value {
                self.emit(I::Move { src: value, dst: result });
            }
            self.emit(I::Jump { target: done });
        }
        self.g.place(handler);
        self.bound = before.clone();
        self.emit(I::TryCase { slot: tag });
        let class = self.temp();
        let reason = self.temp();
        let stack = self.temp();
        for (i, reg) in [class, reason, stack].into_iter().enumerate() {
            self.emit(I::Move { src: Src::Reg(Reg::X(i as u16)), dst: reg });
        }
        for handler_clause in &t.catch_clauses {
            let next = self.g.new_label();
            self.bound = before.clone();
            match &handler_clause.class {
                Some(class_pattern) => self.pattern(class_pattern, Src::Reg(class), next),
                None => {
                    let throw = self.g.atom("throw");
                    self.emit(I::IsEqExact { fail: next, a: Src::Reg(class), b: Src::Atom(throw) });
                }
            }
            self.pattern(&handler_clause.reason, Src::Reg(reason), next);
            if let Some(variable) = &handler_clause.stack {
                let dst = self.slot(&variable.name);
                self.emit(I::Move { src: Src::Reg(stack), dst });
                self.bound.insert(variable.name.clone());
            }
            if let Some(guard) = &handler_clause.guard {
                self.guard(guard, next);
            }
            let value = self.body(&handler_clause.body, false).unwrap_or(Src::Nil);
            self.emit(I::Move { src: value, dst: result });
            self.emit(I::Jump { target: done });
            self.g.place(next);
        }
        self.emit(I::Raise { class: Src::Reg(class), reason: Src::Reg(reason), stacktrace: Src::Reg(stack) });
        self.g.place(done);
        self.bound = before;
        self.release(mark);
        self.finish(Src::Reg(result), tail)
    }

    // ------------------------------------------------------------ calls

    fn args(&mut self, args: &[Expr]) -> Vec<Src> {
        args.iter().map(|arg| self.value(arg)).collect()
    }

    /// Moves call arguments into x0..: the last argument's value goes
    /// straight to its x register when the instruction that made it was the
    /// last one emitted and its temporary dies with the call.
    fn move_args(&mut self, srcs: &[Src], mark: u16) {
        let last = srcs.len().wrapping_sub(1);
        let direct = match srcs.last() {
            Some(&Src::Reg(Reg::Y(t))) if t >= mark && srcs[..last].iter().all(|s| *s != Src::Reg(Reg::Y(t))) => {
                self.g.retarget_last(Reg::Y(t), Reg::X(last as u16))
            }
            _ => false,
        };
        for (i, &src) in srcs.iter().enumerate() {
            if !(direct && i == last) {
                self.emit(I::Move { src, dst: Reg::X(i as u16) });
            }
        }
    }

    /// The result of a non-tail call, from x0 into a temporary.
    fn call_result(&mut self, dst: Reg) -> Option<Src> {
        self.emit(I::Move { src: Src::Reg(Reg::X(0)), dst });
        Some(Src::Reg(dst))
    }

    fn call(&mut self, target: &CallTarget, args: &[Expr], span: Span, tail: bool) -> Option<Src> {
        match target {
            CallTarget::Local(name) => {
                if name.name == "record_info" && args.len() == 2 && self.g.local("record_info", 2).is_none() {
                    return self.record_info(args, tail);
                }
                if name.name == "is_record" && self.g.local("is_record", 2).is_none() {
                    if let Some(with_size) = self.is_record_with_size(args, span) {
                        let import = self.g.import("erlang", "is_record", 3);
                        return self.call_import(import, &with_size, tail);
                    }
                }
                match self.g.local(&name.name, args.len()) {
                    Some(index) => self.call_local(index, args, tail),
                    None => {
                        let module = self.g.imports_of(&name.name, args.len()).unwrap_or_else(|| "erlang".to_owned());
                        if module == "erlang" && crate::check::is_guard_bif(&name.name, args.len()) {
                            return self.bif_call("erlang", &name.name, args, tail);
                        }
                        let import = self.g.import(&module, &name.name, args.len());
                        self.call_import(import, args, tail)
                    }
                }
            }
            CallTarget::Remote(module, function) => match (&module.kind, &function.kind) {
                (ExprKind::Literal(Literal::Atom(m)), ExprKind::Literal(Literal::Atom(f)))
                    if m == "erlang" && crate::check::is_guard_bif(f, args.len()) =>
                {
                    self.bif_call(m, f, args, tail)
                }
                // As erlc (OTP 25) does: these are the guard BIFs map_get/2
                // and is_map_key/2, which a failure's stack trace names.
                (ExprKind::Literal(Literal::Atom(m)), ExprKind::Literal(Literal::Atom(f)))
                    if m == "maps" && args.len() == 2 && (f == "get" || f == "is_key") =>
                {
                    self.bif_call("erlang", if f == "get" { "map_get" } else { "is_map_key" }, args, tail)
                }
                (ExprKind::Literal(Literal::Atom(m)), ExprKind::Literal(Literal::Atom(f))) => {
                    let import = self.g.import(m, f, args.len());
                    self.call_import(import, args, tail)
                }
                _ => {
                    // M:F(Args) with a computed M or F: erlang:apply(M, F, Args).
                    let dst = if tail { None } else { Some(self.temp()) };
                    let mark = self.temps;
                    let m = self.value(module);
                    let f = self.value(function);
                    let list_expr = list_of(args, span);
                    let list = self.value(&list_expr);
                    let import = self.g.import("erlang", "apply", 3);
                    self.finish_call(&[m, f, list], import, dst, mark, tail)
                }
            },
            CallTarget::Fun(fun) => {
                let dst = if tail { None } else { Some(self.temp()) };
                let mark = self.temps;
                let fun_src = self.value(fun);
                let srcs = self.args(args);
                let arity = srcs.len() as u32;
                // The fun goes after the arguments, in x(arity).
                self.emit(I::Move { src: fun_src, dst: Reg::X(srcs.len() as u16) });
                self.emit_call(&srcs, dst, mark, tail, I::CallFun { arity }, I::CallFunLast { arity, slots: 0 })
            }
        }
    }

    fn call_local(&mut self, index: u32, args: &[Expr], tail: bool) -> Option<Src> {
        let dst = if tail { None } else { Some(self.temp()) };
        let mark = self.temps;
        let srcs = self.args(args);
        let arity = srcs.len() as u32;
        let function = Local(index);
        self.emit_call(&srcs, dst, mark, tail, I::Call { arity, function }, I::CallLast { arity, function, slots: 0 })
    }

    /// Moves the arguments into x registers and emits the call: `last` in
    /// tail position (it deallocates the frame: the frame size is patched
    /// in), `call` otherwise, whose result is moved from x0 into `dst`.
    fn emit_call(&mut self, srcs: &[Src], dst: Option<Reg>, mark: u16, tail: bool, call: I, last: I) -> Option<Src> {
        self.move_args(srcs, mark);
        if tail {
            self.emit_frame(last);
            return None;
        }
        self.emit(call);
        self.release(mark);
        self.call_result(dst.unwrap_or(Reg::X(0)))
    }

    fn call_import(&mut self, import: Import, args: &[Expr], tail: bool) -> Option<Src> {
        let dst = if tail { None } else { Some(self.temp()) };
        let mark = self.temps;
        let srcs = self.args(args);
        self.finish_call(&srcs, import, dst, mark, tail)
    }

    fn finish_call(&mut self, srcs: &[Src], import: Import, dst: Option<Reg>, mark: u16, tail: bool) -> Option<Src> {
        let arity = srcs.len() as u32;
        self.emit_call(srcs, dst, mark, tail, I::CallExt { arity, import }, I::CallExtLast { arity, import, slots: 0 })
    }

    /// An operator or other built-in in a body: `Bif`, which raises on error.
    /// Whether `A op B` is arithmetic on two constants that raises
    /// (`1 + b`, `1 div 0`, `2.0 band 1`).
    fn constant_arithmetic_fails(&mut self, op: BinaryOp, a: &Expr, b: &Expr) -> bool {
        use BinaryOp::*;
        let integer_only = match op {
            Add | Sub | Mul | FloatDiv => false,
            IntDiv | Rem | Band | Bor | Bxor | Bsl | Bsr => true,
            _ => return false,
        };
        let (Some(x), Some(y)) = (self.constant(a), self.constant(b)) else { return false };
        let number = |l: &Lit| match l {
            Lit::Integer(_) => true,
            Lit::Float(_) => !integer_only,
            _ => false,
        };
        let zero = match &y {
            Lit::Integer(i) => i.sign() == num_bigint::Sign::NoSign,
            Lit::Float(f) => *f == 0.0,
            _ => false,
        };
        !number(&x) || !number(&y) || (zero && matches!(op, FloatDiv | IntDiv | Rem))
    }

    fn bif_call(&mut self, module: &str, name: &str, args: &[Expr], tail: bool) -> Option<Src> {
        let dst = self.temp();
        let mark = self.temps;
        let srcs = self.args(args);
        let import = self.g.import(module, name, args.len());
        self.emit(I::Bif { import, args: srcs, dst, live: 0 });
        self.release(mark);
        self.finish(Src::Reg(dst), tail)
    }

    fn fun(&mut self, fun: &Fun, span: Span, tail: bool) -> Option<Src> {
        match fun {
            Fun::Local(name, arity) => match self.g.local(&name.name, *arity) {
                Some(index) => {
                    self.g.out.lambdas.push(crate::bytecode::LambdaEntry {
                        function: Local(index),
                        arity: *arity as u32,
                        free: 0,
                    });
                    let lambda = crate::bytecode::Lambda((self.g.out.lambdas.len() - 1) as u32);
                    let dst = self.temp();
                    self.emit(I::MakeFun { lambda, free: Vec::new(), dst, live: 0 });
                    self.finish(Src::Reg(dst), tail)
                }
                None => {
                    // A BIF or an import: a fun whose body calls it.
                    let module = self.g.imports_of(&name.name, *arity).unwrap_or_else(|| "erlang".to_owned());
                    self.wrapper_fun(&module, &name.name, *arity, span, tail)
                }
            },
            Fun::Remote(module, function, arity) => {
                // An external fun is a value naming M:F/A (erlang:make_fun/3,
                // as erl builds one): calling it calls the current version.
                let args = vec![module.clone(), function.clone(), arity.clone()];
                self.bif_call("erlang", "make_fun", &args, tail)
            }
            Fun::Lambda(name, clauses) => {
                let mut used = BTreeSet::new();
                let mut heads = BTreeSet::new();
                for clause in clauses {
                    collect_clause(clause, &mut used);
                    for pattern in &clause.patterns {
                        pattern.for_each_var(&mut |v, _| {
                            heads.insert(v.to_owned());
                        });
                    }
                }
                let itself = name.as_ref().map(|n| n.name.clone());
                let free: Vec<String> = used
                    .into_iter()
                    .filter(|v| self.bound.contains(v) && !heads.contains(v) && Some(v) != itself.as_ref())
                    .collect();
                // A comprehension's generator is a fun named `Lc-Id-Depth`
                // spanning the comprehension (`lower_qualifiers`).
                let which = match name {
                    Some(n) if n.name.starts_with("Lc-") => n.name.rsplit('-').next().and_then(|d| d.parse().ok()),
                    _ => Some(super::fun_names::SOURCE_FUN),
                };
                let key = which.map(|which| (span.start, span.end, which));
                let lambda = self.g.lambda(&self.top.clone(), key, clauses.clone(), free.clone(), itself);
                let srcs: Vec<Src> = free.iter().map(|v| Src::Reg(self.slot(v))).collect();
                let dst = self.temp();
                self.emit(I::MakeFun { lambda: crate::bytecode::Lambda(lambda), free: srcs, dst, live: 0 });
                self.finish(Src::Reg(dst), tail)
            }
        }
    }

    /// `is_record(X, name)` of a known record as erlc compiles it, in a body
    /// or a guard: `is_record(X, name, Size)`, so that the size is checked too.
    fn is_record_with_size(&self, args: &[Expr], span: Span) -> Option<[Expr; 3]> {
        let [value, record] = args else { return None };
        let ExprKind::Literal(Literal::Atom(name)) = &record.kind else { return None };
        let size = self.g.record_fields(name)?.len() + 1;
        let size = Expr { span, kind: ExprKind::Literal(Literal::Integer(BigInt::from(size))) };
        Some([value.clone(), record.clone(), size])
    }

    /// `fun module:function/arity` as a lambda `fun(A1, ...) -> module:function(A1, ...) end`.
    fn wrapper_fun(&mut self, module: &str, function: &str, arity: usize, span: Span, tail: bool) -> Option<Src> {
        // `-` in the names: no variable in source can have them.
        let variable = |i: usize| Expr { span, kind: ExprKind::Var(format!("Arg-{i}")) };
        let atom = |a: &str| Box::new(Expr { span, kind: ExprKind::Literal(Literal::Atom(a.to_owned())) });
        let clause = Clause {
            span,
            patterns: (0..arity).map(|i| Pattern { span, kind: PatternKind::Var(format!("Arg-{i}")) }).collect(),
            guard: None,
            body: vec![Expr {
                span,
                kind: ExprKind::Call(
                    CallTarget::Remote(atom(module), atom(function)),
                    (0..arity).map(variable).collect(),
                ),
            }],
        };
        let lambda = self.g.lambda(&self.top.clone(), None, vec![clause], Vec::new(), None);
        let dst = self.temp();
        self.emit(I::MakeFun { lambda: crate::bytecode::Lambda(lambda), free: Vec::new(), dst, live: 0 });
        self.finish(Src::Reg(dst), tail)
    }

    // ------------------------------------------------------------ records

    fn record_fields(&self, name: &Name) -> Vec<RecordFieldDef> {
        self.g.record_fields(&name.name).map(<[RecordFieldDef]>::to_vec).unwrap_or_default()
    }

    fn field_index(&self, record: &Name, field: &Name) -> u32 {
        let fields = self.record_fields(record);
        fields.iter().position(|f| f.name.name == field.name).map_or(0, |i| i as u32 + 1)
    }

    /// Jumps to `fail` unless `src` is a `#name{}` record (a tuple of the
    /// record's size tagged with its name).
    fn record_test(&mut self, src: Src, name: &Name, fail: Label) {
        let size = self.record_fields(name).len() as u32 + 1;
        let tag = self.g.atom(&name.name);
        self.emit(I::IsTupleOfArity { fail, src, arity: size });
        let first = self.temp();
        self.emit(I::GetTupleElement { src, index: 0, dst: first });
        self.emit(I::IsEqExact { fail, a: Src::Reg(first), b: Src::Atom(tag) });
    }

    /// Raises `{badrecord, Term}` unless `src` is a `#name{}` record (OTP
    /// 25's reason; older OTPs gave the record's name).
    fn record_check(&mut self, src: Src, name: &Name) {
        let fail = self.g.new_label();
        let ok = self.g.new_label();
        self.record_test(src, name, fail);
        self.emit(I::Jump { target: ok });
        self.g.place(fail);
        let badrecord = self.g.atom("badrecord");
        let reason = self.temp();
        self.emit(I::TestHeap { words: 3, live: 0 });
        self.emit(I::PutTuple { elements: vec![Src::Atom(badrecord), src], dst: reason });
        self.raise("error", Src::Reg(reason));
        self.g.place(ok);
    }

    /// The element sources of a record tuple: given fields, then `_ = V`, then
    /// the definition's defaults (or `undefined`), or the base record's values.
    fn record_elements(&mut self, name: &Name, fields: &[RecordField<Expr>], base: Option<Src>) -> Vec<Src> {
        let definition = self.record_fields(name);
        let everything_else = fields.iter().find(|f| f.name.name == "_");
        let mut elements = vec![Src::Atom(self.g.atom(&name.name))];
        for (i, def) in definition.iter().enumerate() {
            let given = fields.iter().find(|f| f.name.name == def.name.name);
            let src = match (given, base) {
                (Some(field), _) => self.value(&field.value),
                (None, Some(base)) => {
                    let dst = self.temp();
                    self.emit(I::GetTupleElement { src: base, index: i as u32 + 1, dst });
                    Src::Reg(dst)
                }
                (None, None) => match (everything_else, &def.default) {
                    (Some(field), _) => self.value(&field.value),
                    (None, Some(default)) => self.value(default),
                    (None, None) => Src::Atom(self.g.atom("undefined")),
                },
            };
            elements.push(src);
        }
        elements
    }

    fn tuple_of(&mut self, elements: Vec<Src>, tail: bool) -> Option<Src> {
        let dst = self.temp();
        self.emit(I::TestHeap { words: 1 + elements.len() as u32, live: 0 });
        self.emit(I::PutTuple { elements, dst });
        self.finish(Src::Reg(dst), tail)
    }

    fn record_info(&mut self, args: &[Expr], tail: bool) -> Option<Src> {
        let (ExprKind::Literal(Literal::Atom(what)), ExprKind::Literal(Literal::Atom(record))) =
            (&args[0].kind, &args[1].kind)
        else {
            return Some(Src::Nil);
        };
        let fields = self.g.record_fields(record).map(<[RecordFieldDef]>::to_vec).unwrap_or_default();
        let src = if what == "size" {
            Src::Int(fields.len() as i64 + 1)
        } else {
            let atoms: Vec<Lit> = fields.iter().map(|f| Lit::Atom(self.g.atom(&f.name.name))).collect();
            if atoms.is_empty() {
                Src::Nil
            } else {
                Src::Literal(self.g.literal(Lit::List(atoms, Box::new(Lit::Nil))))
            }
        };
        self.finish(src, tail)
    }

    // ------------------------------------------------------------ constants

    /// The value of an expression made only of constants, folded at compile
    /// time into a literal (up to `MAX_LITERAL_DEPTH` deep; deeper ones are
    /// built by code, which keeps literals cheap to walk on any stack).
    fn constant(&mut self, expr: &Expr) -> Option<Lit> {
        self.constant_within(expr, super::MAX_LITERAL_DEPTH)
    }

    fn constant_within(&mut self, expr: &Expr, depth: usize) -> Option<Lit> {
        let depth = depth.checked_sub(1)?;
        Some(match &expr.kind {
            ExprKind::Literal(literal) => self.literal_value(literal),
            ExprKind::Nil => Lit::Nil,
            ExprKind::Tuple(items) => {
                Lit::Tuple(items.iter().map(|i| self.constant_within(i, depth)).collect::<Option<_>>()?)
            }
            ExprKind::Cons(..) => {
                let mut items = Vec::new();
                let mut cursor = expr;
                while let ExprKind::Cons(head, tail) = &cursor.kind {
                    items.push(self.constant_within(head, depth)?);
                    cursor = tail;
                }
                let tail = self.constant_within(cursor, depth)?;
                Lit::List(items, Box::new(tail))
            }
            ExprKind::RecordIndex(record, field) => Lit::Integer(BigInt::from(self.field_index(record, field) + 1)),
            ExprKind::Binary(elements) => Lit::Binary(binary::constant_bytes(elements)?),
            ExprKind::Map(None, fields) if fields.iter().all(|f| !f.exact) => Lit::Map(
                fields
                    .iter()
                    .map(|f| Some((self.constant_within(&f.key, depth)?, self.constant_within(&f.value, depth)?)))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }

    fn literal_value(&mut self, literal: &Literal) -> Lit {
        match literal {
            Literal::Integer(i) => Lit::Integer(i.clone()),
            Literal::Char(c) => Lit::Integer(BigInt::from(*c)),
            Literal::Float(f) => Lit::Float(*f),
            Literal::Atom(a) => Lit::Atom(self.g.atom(a)),
            Literal::String(s) if s.is_empty() => Lit::Nil,
            Literal::String(s) => {
                Lit::List(s.chars().map(|c| Lit::Integer(BigInt::from(c as u32))).collect(), Box::new(Lit::Nil))
            }
        }
    }

    /// A constant as an operand: immediate when it can be, else a literal.
    fn constant_src(&mut self, literal: Lit) -> Src {
        match literal {
            Lit::Atom(a) => Src::Atom(a),
            Lit::Nil => Src::Nil,
            Lit::Integer(ref i) => match i.to_i64().filter(|i| SMALL_RANGE.contains(i)) {
                Some(small) => Src::Int(small),
                None => Src::Literal(self.g.literal(literal)),
            },
            other => Src::Literal(self.g.literal(other)),
        }
    }

    // ------------------------------------------------------------ patterns

    /// Matches `src` against `pattern`, binding new variables; `fail` on mismatch.
    fn pattern(&mut self, pattern: &Pattern, src: Src, fail: Label) {
        match &pattern.kind {
            PatternKind::Wildcard => {}
            PatternKind::Var(name) => {
                let slot = self.slot(name);
                if self.bound.contains(name) {
                    self.emit(I::IsEqExact { fail, a: src, b: Src::Reg(slot) });
                } else {
                    if src != Src::Reg(slot) {
                        self.emit(I::Move { src, dst: slot });
                    }
                    self.bound.insert(name.clone());
                }
            }
            PatternKind::Literal(literal) => {
                let value = self.literal_value(literal);
                let constant = self.constant_src(value);
                self.emit(I::IsEqExact { fail, a: src, b: constant });
            }
            PatternKind::Nil => self.emit(I::IsNil { fail, src }),
            PatternKind::Tuple(items) => {
                self.emit(I::IsTupleOfArity { fail, src, arity: items.len() as u32 });
                for (i, item) in items.iter().enumerate() {
                    if item.kind == PatternKind::Wildcard {
                        continue;
                    }
                    let mark = self.temps;
                    // A new variable takes the element straight into its slot.
                    if let Some(slot) = self.fresh_variable_slot(item) {
                        self.emit(I::GetTupleElement { src, index: i as u32, dst: slot });
                        continue;
                    }
                    let element = self.temp();
                    self.emit(I::GetTupleElement { src, index: i as u32, dst: element });
                    self.pattern(item, Src::Reg(element), fail);
                    self.release(mark);
                }
            }
            PatternKind::Cons(head, tail) => {
                self.emit(I::IsCons { fail, src });
                let mark = self.temps;
                // New variables take the head and tail straight into their
                // slots; anything else is matched from a temporary.
                let same_variable =
                    matches!((&head.kind, &tail.kind), (PatternKind::Var(a), PatternKind::Var(b)) if a == b);
                let head_slot = self.fresh_variable_slot(head);
                let tail_slot = if same_variable { None } else { self.fresh_variable_slot(tail) };
                let h = head_slot.unwrap_or_else(|| self.temp());
                let t = tail_slot.unwrap_or_else(|| self.temp());
                self.emit(I::GetList { src, head: h, tail: t });
                if head_slot.is_none() {
                    self.pattern(head, Src::Reg(h), fail);
                }
                if tail_slot.is_none() {
                    self.pattern(tail, Src::Reg(t), fail);
                }
                self.release(mark);
            }
            PatternKind::Match(a, b) => {
                self.pattern(a, src, fail);
                self.pattern(b, src, fail);
            }
            PatternKind::Record(name, fields) => {
                let definition = self.record_fields(name);
                let everything_else = fields.iter().find(|f| f.name.name == "_").map(|f| &f.value);
                let mut items =
                    vec![Pattern { span: name.span, kind: PatternKind::Literal(Literal::Atom(name.name.clone())) }];
                for def in &definition {
                    let given = fields.iter().find(|f| f.name.name == def.name.name).map(|f| &f.value);
                    let wildcard = Pattern { span: name.span, kind: PatternKind::Wildcard };
                    items.push(given.or(everything_else).cloned().unwrap_or(wildcard));
                }
                self.pattern(&Pattern { span: pattern.span, kind: PatternKind::Tuple(items) }, src, fail);
            }
            PatternKind::RecordIndex(record, field) => {
                let index = i64::from(self.field_index(record, field)) + 1;
                self.emit(I::IsEqExact { fail, a: src, b: Src::Int(index) });
            }
            PatternKind::Binary(elements) => self.binary_pattern(elements, src, fail),
            PatternKind::Map(pairs) => {
                self.emit(I::IsMap { fail, src });
                for (key, value) in pairs {
                    let mark = self.temps;
                    let key = self.guard_value(key, fail);
                    let element = self.temp();
                    self.emit(I::GetMapElement { fail, src, key, dst: element });
                    self.pattern(value, Src::Reg(element), fail);
                    self.release(mark);
                }
            }
        }
    }

    /// For a pattern that is a variable not bound yet: binds it and returns
    /// its slot, for the value to be written there directly.
    fn fresh_variable_slot(&mut self, pattern: &Pattern) -> Option<Reg> {
        let PatternKind::Var(name) = &pattern.kind else { return None };
        if self.bound.contains(name) {
            return None;
        }
        self.bound.insert(name.clone());
        Some(self.slot(name))
    }

    // ------------------------------------------------------------ guards

    /// A guard: alternatives separated by `;`, each a sequence of tests.
    fn guard(&mut self, guard: &Guard, fail: Label) {
        let pass = self.g.new_label();
        let count = guard.alternatives.len();
        for (i, alternative) in guard.alternatives.iter().enumerate() {
            let next = if i + 1 == count { fail } else { self.g.new_label() };
            for test in alternative {
                let mark = self.temps;
                self.test(test, next);
                self.release(mark);
            }
            self.emit(I::Jump { target: pass });
            if i + 1 < count {
                self.g.place(next);
            }
        }
        self.g.place(pass);
    }

    /// A guard test: falls through when true, jumps to `fail` otherwise
    /// (including when evaluating it raises, as guards do).
    fn test(&mut self, expr: &Expr, fail: Label) {
        match &expr.kind {
            ExprKind::Literal(Literal::Atom(a)) if a == "true" => {}
            ExprKind::BinaryOp(op, a, b) => match op {
                BinaryOp::Andalso | BinaryOp::And => {
                    self.test(a, fail);
                    self.test(b, fail);
                }
                BinaryOp::Orelse | BinaryOp::Or => {
                    let second = self.g.new_label();
                    let pass = self.g.new_label();
                    self.test(a, second);
                    self.emit(I::Jump { target: pass });
                    self.g.place(second);
                    self.test(b, fail);
                    self.g.place(pass);
                }
                BinaryOp::ExactEq
                | BinaryOp::ExactNotEq
                | BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::Gt
                | BinaryOp::LtEq
                | BinaryOp::GtEq => {
                    let x = self.guard_value(a, fail);
                    let y = self.guard_value(b, fail);
                    self.emit(match op {
                        BinaryOp::ExactEq => I::IsEqExact { fail, a: x, b: y },
                        BinaryOp::ExactNotEq => I::IsNeExact { fail, a: x, b: y },
                        BinaryOp::Eq => I::IsEq { fail, a: x, b: y },
                        BinaryOp::NotEq => I::IsNe { fail, a: x, b: y },
                        BinaryOp::Lt => I::IsLt { fail, a: x, b: y },
                        BinaryOp::Gt => I::IsLt { fail, a: y, b: x },
                        BinaryOp::LtEq => I::IsGe { fail, a: y, b: x },
                        _ => I::IsGe { fail, a: x, b: y },
                    });
                }
                _ => self.boolean_test(expr, fail),
            },
            ExprKind::UnaryOp(UnaryOp::Not, a) => {
                let pass = self.g.new_label();
                self.test(a, pass);
                self.emit(I::Jump { target: fail });
                self.g.place(pass);
                // `not X` is also false (and so fails) when X is not a boolean.
            }
            ExprKind::Call(target, args) if args.len() == 1 => {
                if let Some(name) = guard_bif_name(target) {
                    let type_test: Option<fn(Label, Src) -> I> = match name {
                        "is_integer" => Some(|fail, src| I::IsInteger { fail, src }),
                        "is_float" => Some(|fail, src| I::IsFloat { fail, src }),
                        "is_number" => Some(|fail, src| I::IsNumber { fail, src }),
                        "is_atom" => Some(|fail, src| I::IsAtom { fail, src }),
                        "is_list" => Some(|fail, src| I::IsList { fail, src }),
                        "is_tuple" => Some(|fail, src| I::IsTuple { fail, src }),
                        "is_binary" => Some(|fail, src| I::IsBinary { fail, src }),
                        "is_function" => Some(|fail, src| I::IsFunction { fail, src }),
                        "is_pid" => Some(|fail, src| I::IsPid { fail, src }),
                        "is_boolean" => Some(|fail, src| I::IsBoolean { fail, src }),
                        "is_map" => Some(|fail, src| I::IsMap { fail, src }),
                        _ => None,
                    };
                    if let Some(make) = type_test {
                        let src = self.guard_value(&args[0], fail);
                        self.emit(make(fail, src));
                        return;
                    }
                }
                self.boolean_test(expr, fail);
            }
            _ => self.boolean_test(expr, fail),
        }
    }

    /// Any other guard expression: true when it evaluates to `true`.
    fn boolean_test(&mut self, expr: &Expr, fail: Label) {
        let value = self.guard_value(expr, fail);
        let truth = self.bool_src(true);
        self.emit(I::IsEqExact { fail, a: value, b: truth });
    }

    /// The value of an expression in a guard; an exception jumps to `fail`.
    fn guard_value(&mut self, expr: &Expr, fail: Label) -> Src {
        if let Some(constant) = self.constant(expr) {
            return self.constant_src(constant);
        }
        match &expr.kind {
            ExprKind::Var(name) => Src::Reg(self.slot(name)),
            ExprKind::BinaryOp(BinaryOp::Andalso | BinaryOp::Orelse, ..) | ExprKind::UnaryOp(UnaryOp::Not, _) => {
                self.test_value(expr)
            }
            ExprKind::BinaryOp(op, a, b) => self.guard_bif(op.text(), &[(**a).clone(), (**b).clone()], fail),
            ExprKind::UnaryOp(op, a) => {
                let name = match op {
                    UnaryOp::Plus => "+",
                    UnaryOp::Minus => "-",
                    UnaryOp::Bnot => "bnot",
                    UnaryOp::Not => "not",
                };
                self.guard_bif(name, std::slice::from_ref(&**a), fail)
            }
            ExprKind::Call(target, args) => match guard_bif_name(target) {
                Some("is_record") if self.g.local("is_record", args.len()).is_none() => {
                    match self.is_record_with_size(args, expr.span) {
                        Some(with_size) => self.guard_bif("is_record", &with_size, fail),
                        None => self.guard_bif("is_record", args, fail),
                    }
                }
                Some(name) => self.guard_bif(name, args, fail),
                None => {
                    self.g.unsupported(expr.span, "this guard expression");
                    Src::Nil
                }
            },
            ExprKind::Tuple(items) => {
                let dst = self.temp();
                let elements: Vec<Src> = items.iter().map(|i| self.guard_value(i, fail)).collect();
                self.emit(I::TestHeap { words: 1 + elements.len() as u32, live: 0 });
                self.emit(I::PutTuple { elements, dst });
                Src::Reg(dst)
            }
            ExprKind::Cons(head, tail) => {
                let dst = self.temp();
                let h = self.guard_value(head, fail);
                let t = self.guard_value(tail, fail);
                self.emit(I::TestHeap { words: 2, live: 0 });
                self.emit(I::PutList { head: h, tail: t, dst });
                Src::Reg(dst)
            }
            ExprKind::Map(base, fields) => self.guard_map(base.as_deref(), fields, fail),
            ExprKind::RecordAccess(base, name, field) => {
                let src = self.guard_value(base, fail);
                self.record_test(src, name, fail);
                let index = self.field_index(name, field);
                let dst = self.temp();
                self.emit(I::GetTupleElement { src, index, dst });
                Src::Reg(dst)
            }
            _ => {
                self.g.unsupported(expr.span, "this guard expression");
                Src::Nil
            }
        }
    }

    /// A map built or updated in a guard (`M#{x => 1} =:= N`).
    fn guard_map(&mut self, base: Option<&Expr>, fields: &[MapField], fail: Label) -> Src {
        let dst = self.temp();
        let mark = self.temps;
        let map = match base {
            Some(base) => self.guard_value(base, fail),
            None => Src::Literal(self.g.literal(Lit::Map(Vec::new()))),
        };
        let values: Vec<(bool, Src, Src)> = fields
            .iter()
            .map(|f| (f.exact, self.guard_value(&f.key, fail), self.guard_value(&f.value, fail)))
            .collect();
        self.put_map(map, &values, dst, Some(fail));
        self.release(mark);
        Src::Reg(dst)
    }

    /// `map#{K => V, K2 := V2, ...}` into `dst`: runs of `=>` and of `:=`
    /// each become one instruction, in source order. In a guard (`fail`),
    /// what would raise jumps there instead: a `map` that is not a map, or
    /// a `:=` key missing from the map its run updates.
    fn put_map(&mut self, mut map: Src, values: &[(bool, Src, Src)], dst: Reg, fail: Option<Label>) {
        if let Some(fail) = fail {
            self.emit(I::IsMap { fail, src: map });
        }
        if values.is_empty() {
            // `M#{}` still checks that M is a map.
            self.emit(I::PutMapAssoc { src: map, pairs: Vec::new(), dst, live: 0 });
        }
        for run in values.chunk_by(|a, b| a.0 == b.0) {
            let exact = run[0].0;
            if let (Some(fail), true) = (fail, exact) {
                let found = self.temp();
                for &(_, key, _) in run {
                    self.emit(I::GetMapElement { fail, src: map, key, dst: found });
                }
            }
            let pairs = run.iter().flat_map(|&(_, k, v)| [k, v]).collect();
            self.emit(if exact {
                I::PutMapExact { src: map, pairs, dst, live: 0 }
            } else {
                I::PutMapAssoc { src: map, pairs, dst, live: 0 }
            });
            map = Src::Reg(dst);
        }
    }

    /// The value of a guard test as `true` or `false`.
    fn test_value(&mut self, expr: &Expr) -> Src {
        let dst = self.temp();
        let false_label = self.g.new_label();
        let done = self.g.new_label();
        self.test(expr, false_label);
        let truth = self.bool_src(true);
        self.emit(I::Move { src: truth, dst });
        self.emit(I::Jump { target: done });
        self.g.place(false_label);
        let falsity = self.bool_src(false);
        self.emit(I::Move { src: falsity, dst });
        self.g.place(done);
        Src::Reg(dst)
    }

    fn guard_bif(&mut self, name: &str, args: &[Expr], fail: Label) -> Src {
        let dst = self.temp();
        let srcs: Vec<Src> = args.iter().map(|a| self.guard_value(a, fail)).collect();
        let import = self.g.import("erlang", name, args.len());
        self.emit(I::GuardBif { fail, import, args: srcs, dst, live: 0 });
        Src::Reg(dst)
    }
}

impl Generator {
    /// `[E || Qualifiers]` as self-recursive funs, as BEAM's compiler lowers it:
    ///
    /// ```text
    /// [E || P <- L, F, Q <- M]  ==>
    ///   (fun Lc1([P | T1]) -> case F of
    ///                           true -> (fun Lc2([Q | T2]) -> [E | Lc2(T2)];
    ///                                        Lc2([_ | T2]) -> Lc2(T2);
    ///                                        Lc2([]) -> Lc1(T1) end)(M);
    ///                           false -> Lc1(T1)
    ///                         end;
    ///           Lc1([_ | T1]) -> Lc1(T1);
    ///           Lc1([]) -> [] end)(L)
    /// ```
    ///
    /// Generator patterns are fresh variables of each fun's head, so they
    /// shadow outer ones exactly as comprehension variables do. The helper
    /// variables' names contain `-`, which no variable in source can.
    fn lower_comprehension(&mut self, head: &Expr, qualifiers: &[Qualifier], span: Span) -> Expr {
        self.comprehension_count += 1;
        let id = self.comprehension_count;
        let var = |name: String| Expr { span, kind: ExprKind::Var(name) };
        let nil = Expr { span, kind: ExprKind::Nil };
        let lowered = lower_qualifiers(head, qualifiers, nil, id, 0, &var, span);
        // Filters before the first generator are lowered in place, and a
        // filter that is not a guard binds a helper variable (for its
        // bad_filter), which would need a slot the function's own variables
        // do not have: such a comprehension runs in a fun of its own, whose
        // clauses get their slots when it is compiled.
        let mut leading_filters = qualifiers.iter().take_while(|q| matches!(q, Qualifier::Filter(_)));
        if !leading_filters.any(|q| matches!(q, Qualifier::Filter(f) if !is_guard_expression(f))) {
            return lowered;
        }
        let clause = Clause { span, patterns: Vec::new(), guard: None, body: vec![lowered] };
        let fun = Expr { span, kind: ExprKind::Fun(Box::new(Fun::Lambda(None, vec![clause]))) };
        Expr { span, kind: ExprKind::Call(CallTarget::Fun(Box::new(fun)), Vec::new()) }
    }

    /// The module a call `name(...)` is imported from, by `-import`.
    pub(super) fn imports_of(&self, name: &str, arity: usize) -> Option<String> {
        self.explicit_imports.get(&(name.to_owned(), arity)).cloned()
    }
}

/// The comprehension from qualifier `depth` on; `rest` is what the list
/// continues with once this level's generator is exhausted.
fn lower_qualifiers(
    head: &Expr,
    qualifiers: &[Qualifier],
    rest: Expr,
    id: usize,
    depth: usize,
    var: &dyn Fn(String) -> Expr,
    span: Span,
) -> Expr {
    let Some((first, others)) = qualifiers.split_first() else {
        return Expr { span, kind: ExprKind::Cons(Box::new(head.clone()), Box::new(rest)) };
    };
    match first {
        Qualifier::Filter(filter) if is_guard_expression(filter) => {
            // A filter that is a guard expression acts as a guard: anything
            // but `true`, or an exception, skips the element.
            let inner = lower_qualifiers(head, others, rest.clone(), id, depth, var, span);
            let truth = Expr { span, kind: ExprKind::Literal(Literal::Atom("true".to_owned())) };
            let guarded = |guard: Expr, body: Expr| Clause {
                span,
                patterns: Vec::new(),
                guard: Some(Guard { alternatives: vec![vec![guard]], span }),
                body: vec![body],
            };
            Expr { span, kind: ExprKind::If(vec![guarded(filter.clone(), inner), guarded(truth, rest)]) }
        }
        Qualifier::Filter(filter) => {
            let inner = lower_qualifiers(head, others, rest.clone(), id, depth, var, span);
            let atom = |a: &str| Pattern { span, kind: PatternKind::Literal(Literal::Atom(a.to_owned())) };
            let clause =
                |pattern: Pattern, body: Expr| Clause { span, patterns: vec![pattern], guard: None, body: vec![body] };
            let bad = format!("Lc-{id}-bad-{depth}");
            let raise = raise_tagged("bad_filter", var(bad.clone()), span);
            Expr {
                span,
                kind: ExprKind::Case(
                    Box::new(filter.clone()),
                    vec![
                        clause(atom("true"), inner),
                        clause(atom("false"), rest),
                        clause(Pattern { span, kind: PatternKind::Var(bad) }, raise),
                    ],
                ),
            }
        }
        Qualifier::Generator(pattern, source) | Qualifier::BinaryGenerator(pattern, source) => {
            let name = format!("Lc-{id}-{depth}");
            let tail = format!("Lc-{id}-tail-{depth}");
            let recurse = Expr {
                span,
                kind: ExprKind::Call(CallTarget::Fun(Box::new(var(name.clone()))), vec![var(tail.clone())]),
            };
            let inner = lower_qualifiers(head, others, recurse.clone(), id, depth + 1, var, span);
            let tail_pattern = Pattern { span, kind: PatternKind::Var(tail) };
            let mut clauses = if matches!(first, Qualifier::BinaryGenerator(..)) {
                binary_generator_clauses(pattern, tail_pattern, inner, recurse, rest, span)
            } else {
                list_generator_clauses(pattern, tail_pattern, inner, recurse, rest, span)
            };
            // Anything else (not a list, an improper tail, not a binary):
            // `{bad_generator, Term}`, as erl raises.
            let other = format!("Lc-{id}-other-{depth}");
            let raise = raise_tagged("bad_generator", var(other.clone()), span);
            clauses.push(clause_of(Pattern { span, kind: PatternKind::Var(other) }, raise, span));
            let fun = Expr { span, kind: ExprKind::Fun(Box::new(Fun::Lambda(Some(Name { name, span }), clauses))) };
            Expr { span, kind: ExprKind::Call(CallTarget::Fun(Box::new(fun)), vec![source.clone()]) }
        }
    }
}

/// `error({Tag, Value})`.
/// The variable [`first_generator_checked`] binds for the comprehension at
/// `span` (with a `-`, which no variable in source has).
fn checked_source_name(span: Span) -> String {
    format!("Lbc-source-{}-{}", span.start, span.end)
}

/// A binary comprehension whose first qualifier is a generator, as erlc
/// (OTP 25) compiles it: the function it is in sizes the result from that
/// generator's list (`length/1`), so a source that is not a proper list
/// raises `{bad_generator, Source}` there, not in the comprehension's own
/// function. `None` if the first qualifier is not a list generator, or
/// is already the checked source. The source is bound to
/// [`checked_source_name`], which the rewritten comprehension reads.
fn first_generator_checked(head: &Expr, qualifiers: &[Qualifier], span: Span) -> Option<Expr> {
    let source_name = checked_source_name(span);
    let (first, rest) = qualifiers.split_first()?;
    // (A binary generator's source erlc checks there only at times, as
    // its optimisations find a size: that one is left to the generator.)
    let Qualifier::Generator(pattern, source) = first else {
        return None;
    };
    if matches!(&source.kind, ExprKind::Var(name) if *name == source_name) {
        return None;
    }
    let var = || Expr { span, kind: ExprKind::Var(source_name.clone()) };
    let qualifiers =
        std::iter::once(Qualifier::Generator(pattern.clone(), var())).chain(rest.iter().cloned()).collect();
    let comprehension = Expr { span, kind: ExprKind::BinaryComprehension(Box::new(head.clone()), qualifiers) };
    // `when length(S) >= 0`: a guard that fails for an improper list.
    let sized =
        Expr { span, kind: ExprKind::Call(CallTarget::Local(Name { name: "length".to_owned(), span }), vec![var()]) };
    let zero = Expr { span, kind: ExprKind::Literal(Literal::Integer(0.into())) };
    let guard = Expr { span, kind: ExprKind::BinaryOp(BinaryOp::GtEq, Box::new(sized), Box::new(zero)) };
    let pattern = Pattern { span, kind: PatternKind::Var(source_name.clone()) };
    let clauses = vec![
        Clause {
            span,
            patterns: vec![pattern.clone()],
            guard: Some(Guard { alternatives: vec![vec![guard]], span }),
            body: vec![comprehension],
        },
        clause_of(pattern, raise_tagged("bad_generator", var(), span), span),
    ];
    Some(Expr { span, kind: ExprKind::Case(Box::new(source.clone()), clauses) })
}

fn raise_tagged(tag: &str, value: Expr, span: Span) -> Expr {
    let tag = Expr { span, kind: ExprKind::Literal(Literal::Atom(tag.to_owned())) };
    let reason = Expr { span, kind: ExprKind::Tuple(vec![tag, value]) };
    Expr { span, kind: ExprKind::Call(CallTarget::Local(Name { name: "error".to_owned(), span }), vec![reason]) }
}

fn clause_of(pattern: Pattern, body: Expr, span: Span) -> Clause {
    Clause { span, patterns: vec![pattern], guard: None, body: vec![body] }
}

/// A list generator's fun: `Lc([P | T]) -> Inner; Lc([_ | T]) -> Lc(T);
/// Lc([]) -> Rest`.
fn list_generator_clauses(
    pattern: &Pattern,
    tail: Pattern,
    inner: Expr,
    recurse: Expr,
    rest: Expr,
    span: Span,
) -> Vec<Clause> {
    let cons = |p: Pattern| Pattern { span, kind: PatternKind::Cons(Box::new(p), Box::new(tail.clone())) };
    vec![
        clause_of(cons(pattern.clone()), inner, span),
        clause_of(cons(Pattern { span, kind: PatternKind::Wildcard }), recurse, span),
        clause_of(Pattern { span, kind: PatternKind::Nil }, rest, span),
    ]
}

/// A binary generator's fun: `Lc(<<P, T/binary>>) -> Inner;
/// Lc(<<P', T/binary>>) -> Lc(T)` where P' has P's segment sizes and no
/// values; `Lc(<<_/binary>>) -> Rest`.
fn binary_generator_clauses(
    pattern: &Pattern,
    tail: Pattern,
    inner: Expr,
    recurse: Expr,
    rest: Expr,
    span: Span,
) -> Vec<Clause> {
    let wildcard = || Pattern { span, kind: PatternKind::Wildcard };
    let binary_rest = |value: Pattern| BinElement {
        value,
        size: None,
        specifiers: vec![BinSpecifier { name: "binary".to_owned(), unit: None, span }],
        span,
    };
    let elements = match &pattern.kind {
        PatternKind::Binary(elements) => elements.clone(),
        _ => Vec::new(),
    };
    let skipping: Vec<BinElement<Pattern>> = elements
        .iter()
        .flat_map(|element| {
            let count = match &element.value.kind {
                PatternKind::Literal(Literal::String(s)) => s.chars().count(),
                _ => 1,
            };
            std::iter::repeat_n(BinElement { value: wildcard(), ..element.clone() }, count)
        })
        .collect();
    let with_tail = |mut elements: Vec<BinElement<Pattern>>| {
        elements.push(binary_rest(tail.clone()));
        Pattern { span, kind: PatternKind::Binary(elements) }
    };
    vec![
        clause_of(with_tail(elements), inner, span),
        clause_of(with_tail(skipping), recurse, span),
        clause_of(Pattern { span, kind: PatternKind::Binary(vec![binary_rest(wildcard())]) }, rest, span),
    ]
}

/// Whether an expression may stand in a guard (erl_lint's `is_guard_test`):
/// constants, variables, operators and guard BIFs only.
fn is_guard_expression(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Var(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => true,
        ExprKind::Tuple(items) => items.iter().all(is_guard_expression),
        ExprKind::Cons(a, b) | ExprKind::BinaryOp(_, a, b) => is_guard_expression(a) && is_guard_expression(b),
        ExprKind::UnaryOp(_, a) | ExprKind::RecordAccess(a, _, _) => is_guard_expression(a),
        ExprKind::Map(base, fields) => {
            base.as_deref().is_none_or(is_guard_expression)
                && fields.iter().all(|f| is_guard_expression(&f.key) && is_guard_expression(&f.value))
        }
        ExprKind::Call(target, args) => {
            guard_bif_name(target).is_some_and(|name| crate::check::is_guard_bif(name, args.len()))
                && args.iter().all(is_guard_expression)
        }
        _ => false,
    }
}

/// The name of a guard BIF call: `f(...)` or `erlang:f(...)`.
fn guard_bif_name(target: &CallTarget) -> Option<&str> {
    match target {
        CallTarget::Local(name) => Some(&name.name),
        CallTarget::Remote(module, function) => match (&module.kind, &function.kind) {
            (ExprKind::Literal(Literal::Atom(m)), ExprKind::Literal(Literal::Atom(f))) if m == "erlang" => Some(f),
            _ => None,
        },
        CallTarget::Fun(_) => None,
    }
}

/// `[A, B, C]` built from expressions, for `apply/3`.
fn list_of(args: &[Expr], span: Span) -> Expr {
    args.iter().rev().fold(Expr { span, kind: ExprKind::Nil }, |tail, head| Expr {
        span,
        kind: ExprKind::Cons(Box::new(head.clone()), Box::new(tail)),
    })
}

/// Every variable a clause binds or reads, including inside nested funs (so
/// that variables a nested fun uses are captured by every fun on the way).
fn collect_clause(clause: &Clause, out: &mut BTreeSet<String>) {
    for pattern in &clause.patterns {
        collect_pattern(pattern, out);
    }
    if let Some(guard) = &clause.guard {
        guard.alternatives.iter().flatten().for_each(|e| collect_expr(e, out));
    }
    clause.body.iter().for_each(|e| collect_expr(e, out));
}

fn collect_pattern(pattern: &Pattern, out: &mut BTreeSet<String>) {
    pattern.for_each_var(&mut |name, _| {
        out.insert(name.to_owned());
    });
}

fn collect_expr(expr: &Expr, out: &mut BTreeSet<String>) {
    let mut pending = vec![expr];
    while let Some(e) = pending.pop() {
        match &e.kind {
            ExprKind::Var(name) => {
                out.insert(name.clone());
            }
            ExprKind::Literal(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => {}
            ExprKind::Tuple(items) | ExprKind::Block(items) => pending.extend(items),
            ExprKind::Cons(a, b) | ExprKind::Send(a, b) | ExprKind::BinaryOp(_, a, b) => pending.extend([&**a, &**b]),
            ExprKind::UnaryOp(_, a) | ExprKind::Catch(a) | ExprKind::RecordAccess(a, _, _) => pending.push(a),
            ExprKind::Binary(elements) => {
                for el in elements {
                    pending.push(&el.value);
                    pending.extend(el.size.as_ref());
                }
            }
            ExprKind::Map(base, fields) => {
                pending.extend(base.as_deref());
                for f in fields {
                    pending.extend([&f.key, &f.value]);
                }
            }
            ExprKind::RecordNew(_, fields) => pending.extend(fields.iter().map(|f| &f.value)),
            ExprKind::RecordUpdate(base, _, fields) => {
                pending.push(base);
                pending.extend(fields.iter().map(|f| &f.value));
            }
            ExprKind::Match(pattern, value) => {
                collect_pattern(pattern, out);
                pending.push(value);
            }
            ExprKind::Call(target, args) => {
                match target {
                    CallTarget::Local(_) => {}
                    CallTarget::Remote(m, f) => pending.extend([&**m, &**f]),
                    CallTarget::Fun(f) => pending.push(f),
                }
                pending.extend(args);
            }
            ExprKind::Case(subject, clauses) => {
                pending.push(subject);
                clauses.iter().for_each(|c| collect_clause(c, out));
            }
            ExprKind::If(clauses) => clauses.iter().for_each(|c| collect_clause(c, out)),
            ExprKind::Receive(clauses, after) => {
                clauses.iter().for_each(|c| collect_clause(c, out));
                if let Some(after) = after {
                    pending.push(&after.timeout);
                    pending.extend(&after.body);
                }
            }
            ExprKind::Try(t) => {
                pending.extend(&t.body);
                t.clauses.iter().for_each(|c| collect_clause(c, out));
                for handler in &t.catch_clauses {
                    handler.class.iter().for_each(|p| collect_pattern(p, out));
                    collect_pattern(&handler.reason, out);
                    if let Some(stack) = &handler.stack {
                        out.insert(stack.name.clone());
                    }
                    handler
                        .guard
                        .iter()
                        .flat_map(|g| g.alternatives.iter().flatten())
                        .for_each(|e| collect_expr(e, out));
                    pending.extend(&handler.body);
                }
                pending.extend(&t.after);
            }
            ExprKind::Fun(fun) => match &**fun {
                Fun::Local(..) => {}
                Fun::Remote(m, f, a) => pending.extend([m, f, a]),
                // A nested fun's variables count too: any of them bound out
                // here must be captured on the way in. (A slot for one that
                // is only the nested fun's own costs a frame word, no more.)
                Fun::Lambda(_, clauses) => clauses.iter().for_each(|c| collect_clause(c, out)),
            },
            ExprKind::ListComprehension(head, qualifiers) | ExprKind::BinaryComprehension(head, qualifiers) => {
                if matches!(e.kind, ExprKind::BinaryComprehension(..))
                    && matches!(qualifiers.first(), Some(Qualifier::Generator(..)))
                {
                    out.insert(checked_source_name(e.span));
                }
                pending.push(head);
                for q in qualifiers {
                    match q {
                        Qualifier::Generator(p, e) | Qualifier::BinaryGenerator(p, e) => {
                            collect_pattern(p, out);
                            pending.push(e);
                        }
                        Qualifier::Filter(e) => pending.push(e),
                    }
                }
            }
        }
    }
}
