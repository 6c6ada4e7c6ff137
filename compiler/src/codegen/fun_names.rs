//! The names erlc (OTP 25) gives a function's funs and comprehensions,
//! which stack traces and `erlang:fun_info/2` show: `'-main/0-fun-2-'`,
//! `'-main/0-lc$^3/1-1-'`. They are computed before the function is
//! compiled, by walking its clauses in the order erlc's `v3_core` does.
//!
//! The walk takes the operands of tuples, list cells, calls and operators
//! (but `andalso` and `orelse`) last first, as `v3_core` does.
//!
//! One counter per top-level function numbers, in that walk: a fun, after
//! everything its body holds; a local fun reference (`fun f/1`, which erlc
//! wraps in a fun it then drops); and each generator of a comprehension,
//! after the expressions of all its qualifiers and before its head. A
//! second counter numbers the generators alone (erlc's `v3_kernel` lifts
//! each into a function of its own). A list comprehension's generator is
//! named `lc$^N/1`, a binary comprehension's `lbc$^N/2`, after the arity
//! of erlc's own function for it.

use std::collections::HashMap;

use crate::ast::*;

/// Which fun a name is for: `(start, end, which)`, the span of a `fun ...
/// end` with `which` = [`SOURCE_FUN`], or the span of a comprehension with
/// `which` the index of the generator among its generators.
pub(crate) type FunKey = (u32, u32, u32);

/// The `which` of a `fun ... end` written in the source.
pub(crate) const SOURCE_FUN: u32 = u32::MAX;

/// Names the funs and comprehension generators of top-level function
/// `top` (`"main/0"`) into `names`. A key already named keeps its name.
pub(crate) fn number(top: &str, clauses: &[Clause], names: &mut HashMap<FunKey, String>) {
    // The generators' second numbers, in the order of the code v3_core
    // makes (operands first to last): v3_kernel's as it lifts them.
    let mut lifted = Numbering { last_first: false, ..Numbering::default() };
    clauses.iter().for_each(|clause| lifted.clause(clause));
    let lifted: HashMap<FunKey, u32> = lifted.generators.into_iter().map(|(key, _, k)| (key, k)).collect();
    let mut core = Numbering { last_first: true, ..Numbering::default() };
    clauses.iter().for_each(|clause| core.clause(clause));
    for (key, n) in core.funs {
        names.entry(key).or_insert_with(|| format!("-{top}-fun-{n}-"));
    }
    for (key, (kind, arity), n) in core.generators {
        let k = lifted.get(&key).copied().unwrap_or(0);
        names.entry(key).or_insert_with(|| format!("-{top}-{kind}{n}/{arity}-{k}-"));
    }
}

#[derive(Default)]
struct Numbering {
    /// Operands last first (v3_core's `safe_list`), or first to last.
    last_first: bool,
    count: u32,
    generators_seen: u32,
    /// Each source fun, with its number.
    funs: Vec<(FunKey, u32)>,
    /// Each generator, with its kind and arity, and its number: the common
    /// count's when walking last first, its own among generators else.
    generators: Vec<(FunKey, (&'static str, u32), u32)>,
}

impl Numbering {
    fn next(&mut self) -> u32 {
        self.count += 1;
        self.count - 1
    }

    /// Operands, in the walk's order.
    fn operands(&mut self, exprs: &[&Expr]) {
        if self.last_first {
            exprs.iter().rev().for_each(|expr| self.expr(expr));
        } else {
            exprs.iter().for_each(|expr| self.expr(expr));
        }
    }

    /// Guards hold no funs: only bodies are walked.
    fn clause(&mut self, clause: &Clause) {
        self.exprs(&clause.body);
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        exprs.iter().for_each(|expr| self.expr(expr));
    }

    fn operand_list(&mut self, exprs: &[Expr]) {
        self.operands(&exprs.iter().collect::<Vec<_>>());
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Literal(_) | ExprKind::Var(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => {}
            // v3_core takes the operands of a tuple, a list cell, a call and
            // an operator last first (its `safe_list` is a `foldr`).
            ExprKind::Tuple(items) => self.operand_list(items),
            ExprKind::Block(items) => self.exprs(items),
            ExprKind::BinaryOp(BinaryOp::Andalso | BinaryOp::Orelse, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Cons(a, b) | ExprKind::Send(a, b) | ExprKind::BinaryOp(_, a, b) => self.operands(&[a, b]),
            ExprKind::Binary(elements) => {
                for element in elements {
                    self.expr(&element.value);
                    if let Some(size) = &element.size {
                        self.expr(size);
                    }
                }
            }
            ExprKind::Map(base, fields) => {
                if let Some(base) = base {
                    self.expr(base);
                }
                for field in fields {
                    self.expr(&field.key);
                    self.expr(&field.value);
                }
            }
            ExprKind::RecordNew(_, fields) => fields.iter().for_each(|f| self.expr(&f.value)),
            ExprKind::RecordUpdate(base, _, fields) => {
                self.expr(base);
                fields.iter().for_each(|f| self.expr(&f.value));
            }
            ExprKind::RecordAccess(a, _, _) | ExprKind::Match(_, a) | ExprKind::UnaryOp(_, a) | ExprKind::Catch(a) => {
                self.expr(a)
            }
            ExprKind::Call(target, args) => match target {
                CallTarget::Local(_) => self.operand_list(args),
                CallTarget::Remote(module, function) => {
                    let operands: Vec<&Expr> = [&**module, &**function].into_iter().chain(args).collect();
                    self.operands(&operands)
                }
                CallTarget::Fun(fun) => {
                    self.expr(fun);
                    self.operand_list(args);
                }
            },
            ExprKind::Case(subject, clauses) => {
                self.expr(subject);
                clauses.iter().for_each(|clause| self.clause(clause));
            }
            ExprKind::If(clauses) => clauses.iter().for_each(|clause| self.clause(clause)),
            ExprKind::Receive(clauses, after) => {
                clauses.iter().for_each(|clause| self.clause(clause));
                if let Some(after) = after {
                    self.expr(&after.timeout);
                    self.exprs(&after.body);
                }
            }
            ExprKind::Try(t) => {
                self.exprs(&t.body);
                t.clauses.iter().for_each(|clause| self.clause(clause));
                t.catch_clauses.iter().for_each(|clause| self.exprs(&clause.body));
                self.exprs(&t.after);
            }
            ExprKind::Fun(fun) => match &**fun {
                Fun::Lambda(_, clauses) => {
                    clauses.iter().for_each(|clause| self.clause(clause));
                    let n = self.next();
                    self.funs.push(((expr.span.start, expr.span.end, SOURCE_FUN), n));
                }
                Fun::Local(..) => {
                    self.next();
                }
                Fun::Remote(..) => {}
            },
            ExprKind::ListComprehension(head, qualifiers) => self.comprehension(expr.span, head, qualifiers, "lc$^", 1),
            ExprKind::BinaryComprehension(head, qualifiers) => {
                self.comprehension(expr.span, head, qualifiers, "lbc$^", 2)
            }
        }
    }

    fn comprehension(&mut self, span: Span, head: &Expr, qualifiers: &[Qualifier], kind: &'static str, arity: u32) {
        for qualifier in qualifiers {
            match qualifier {
                Qualifier::Generator(_, source) | Qualifier::BinaryGenerator(_, source) => self.expr(source),
                Qualifier::Filter(filter) => self.expr(filter),
            }
        }
        let generators = qualifiers.iter().filter(|q| !matches!(q, Qualifier::Filter(_))).count() as u32;
        for which in 0..generators {
            let n = if self.last_first {
                self.next()
            } else {
                self.generators_seen += 1;
                self.generators_seen - 1
            };
            self.generators.push(((span.start, span.end, which), (kind, arity), n));
        }
        self.expr(head);
    }
}
