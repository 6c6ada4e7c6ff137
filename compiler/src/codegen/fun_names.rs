//! The names erlc (OTP 25) gives a function's funs and comprehensions,
//! which stack traces and `erlang:fun_info/2` show: `'-main/0-fun-2-'`,
//! `'-main/0-lc$^3/1-1-'`. They are computed before the function is
//! compiled, by walking its clauses in the order erlc's `v3_core` does.
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
    let mut numbering = Numbering { top, funs: 0, generators: 0, names };
    clauses.iter().for_each(|clause| numbering.clause(clause));
}

struct Numbering<'a> {
    top: &'a str,
    funs: u32,
    generators: u32,
    names: &'a mut HashMap<FunKey, String>,
}

impl Numbering<'_> {
    fn next(&mut self) -> u32 {
        self.funs += 1;
        self.funs - 1
    }

    /// Guards hold no funs: only bodies are walked.
    fn clause(&mut self, clause: &Clause) {
        self.exprs(&clause.body);
    }

    fn exprs(&mut self, exprs: &[Expr]) {
        exprs.iter().for_each(|expr| self.expr(expr));
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Literal(_) | ExprKind::Var(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => {}
            ExprKind::Tuple(items) | ExprKind::Block(items) => self.exprs(items),
            ExprKind::Cons(a, b) | ExprKind::Send(a, b) | ExprKind::BinaryOp(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
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
            ExprKind::Call(target, args) => {
                match target {
                    CallTarget::Local(_) => {}
                    CallTarget::Remote(module, function) => {
                        self.expr(module);
                        self.expr(function);
                    }
                    CallTarget::Fun(fun) => self.expr(fun),
                }
                self.exprs(args);
            }
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
                    let name = format!("-{}-fun-{n}-", self.top);
                    self.names.entry((expr.span.start, expr.span.end, SOURCE_FUN)).or_insert(name);
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

    fn comprehension(&mut self, span: Span, head: &Expr, qualifiers: &[Qualifier], kind: &str, arity: u32) {
        for qualifier in qualifiers {
            match qualifier {
                Qualifier::Generator(_, source) | Qualifier::BinaryGenerator(_, source) => self.expr(source),
                Qualifier::Filter(filter) => self.expr(filter),
            }
        }
        let generators = qualifiers.iter().filter(|q| !matches!(q, Qualifier::Filter(_))).count() as u32;
        for which in 0..generators {
            let n = self.next();
            let k = self.generators;
            self.generators += 1;
            let name = format!("-{}-{kind}{n}/{arity}-{k}-", self.top);
            self.names.entry((span.start, span.end, which)).or_insert(name);
        }
        self.expr(head);
    }
}
