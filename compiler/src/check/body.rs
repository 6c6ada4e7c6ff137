//! Checks inside one function (or record default): variables, calls, guards,
//! records and binary segments, with `erl_lint`'s rules for variables:
//!
//! - a variable is bound by the first pattern it appears in; a later
//!   appearance in a pattern compares, in an expression reads;
//! - after `case`, `if` and `receive`, a variable bound in every branch is
//!   bound; one bound in only some is *unsafe*: reading it is an error;
//! - everything bound inside `try`, `catch` and the right side of
//!   `andalso`/`orelse` is unsafe after it;
//! - fun heads and comprehension generators bind fresh variables, shadowing
//!   (with a warning) any outside variable of the same name; nothing bound
//!   inside a fun or comprehension is visible after it;
//! - a variable bound and never read is unused (a warning), unless its name
//!   starts with `_`.

use std::collections::{BTreeMap, HashSet};

use num_traits::ToPrimitive;

use super::bifs::{is_auto_imported, is_guard_bif, is_old_bif};
use super::{undefined_function, FunctionKey, ModuleInfo, Record};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

#[derive(Debug, Clone)]
enum VarState {
    /// Bound on every path here; the ids of its binding sites.
    Bound(Vec<usize>),
    /// Bound on some paths through `construct` (at `span`) only.
    Unsafe { ids: Vec<usize>, construct: &'static str, span: Span },
}

impl VarState {
    fn ids(&self) -> &[usize] {
        match self {
            VarState::Bound(ids) | VarState::Unsafe { ids, .. } => ids,
        }
    }
}

/// Variables in scope; ordered so that diagnostics come out deterministically.
type Env = BTreeMap<String, VarState>;

#[derive(Debug)]
struct Binding {
    name: String,
    span: Span,
    used: bool,
}

pub(crate) struct FunctionChecker<'a> {
    info: &'a ModuleInfo,
    diagnostics: &'a mut Vec<Diagnostic>,
    bindings: Vec<Binding>,
    calls: HashSet<FunctionKey>,
    records_used: HashSet<String>,
    in_guard: bool,
    /// The stack trace variable of the catch clause whose guard is being
    /// checked (it is bound only in the clause body), and whether the guard read it.
    stacktrace_in_guard: Option<(String, bool)>,
}

impl<'a> FunctionChecker<'a> {
    pub fn new(info: &'a ModuleInfo, diagnostics: &'a mut Vec<Diagnostic>) -> FunctionChecker<'a> {
        FunctionChecker {
            info,
            diagnostics,
            bindings: Vec::new(),
            calls: HashSet::new(),
            records_used: HashSet::new(),
            in_guard: false,
            stacktrace_in_guard: None,
        }
    }

    pub fn function(&mut self, function: &Function) {
        for clause in &function.clauses {
            self.clause(clause, &mut Env::new(), None);
        }
    }

    /// An expression sequence typed at the shell, run with the variables
    /// `bound` already bound: returns the variables bound on every path
    /// after it that were not bound before.
    pub fn shell_body(&mut self, body: &[Expr], bound: &[String]) -> Vec<String> {
        let mut env = Env::new();
        for name in bound {
            let id = self.new_binding(name, Span::default());
            self.bindings[id].used = true;
            env.insert(name.clone(), VarState::Bound(vec![id]));
        }
        self.body(body, &mut env);
        env.into_iter()
            .filter(|(name, state)| matches!(state, VarState::Bound(_)) && !bound.contains(name))
            .map(|(name, _)| name)
            .collect()
    }

    /// A record field's default value: an expression with no variables in scope.
    pub fn record_default(&mut self, expr: &Expr) {
        self.expr(expr, &mut Env::new());
    }

    /// The local functions called, the records used, and the unused-variable warnings.
    pub fn finish(self) -> (HashSet<FunctionKey>, HashSet<String>, Vec<Diagnostic>) {
        let unused = self
            .bindings
            .iter()
            .filter(|b| !b.used && !b.name.starts_with('_'))
            .map(|b| {
                Diagnostic::warning("unused-variable", format!("variable '{}' is unused", b.name), b.span)
                    .with_note(format!("if this is intended, name it _{} or _", b.name))
            })
            .collect();
        (self.calls, self.records_used, unused)
    }

    // ------------------------------------------------------------ variables

    fn new_binding(&mut self, name: &str, span: Span) -> usize {
        self.bindings.push(Binding { name: name.to_owned(), span, used: false });
        self.bindings.len() - 1
    }

    fn mark_used(&mut self, ids: &[usize]) {
        for &id in ids {
            self.bindings[id].used = true;
        }
    }

    /// A variable read in an expression (or a size or key inside a pattern).
    fn use_var(&mut self, name: &str, span: Span, env: &Env) {
        match env.get(name) {
            Some(VarState::Bound(ids)) => self.mark_used(&ids.clone()),
            Some(state @ VarState::Unsafe { .. }) => {
                let state = state.clone();
                self.unsafe_use(name, span, &state);
            }
            None if self.in_guard && self.stacktrace_in_guard.as_ref().is_some_and(|(n, _)| n == name) => {
                if let Some((_, used)) = &mut self.stacktrace_in_guard {
                    *used = true;
                }
                self.diagnostics.push(
                    Diagnostic::error(
                        "stacktrace-in-guard",
                        format!("stacktrace variable '{name}' must not be used in a guard"),
                        span,
                    )
                    .with_note("the stack trace is bound in the clause body only"),
                );
            }
            None => {
                let mut diagnostic =
                    Diagnostic::error("unbound-variable", format!("variable '{name}' is unbound"), span)
                        .with_label("not bound here");
                if name == "_" {
                    diagnostic = diagnostic.with_note("`_` matches anything in a pattern but has no value to read");
                }
                self.diagnostics.push(diagnostic);
            }
        }
    }

    fn unsafe_use(&mut self, name: &str, span: Span, state: &VarState) {
        let VarState::Unsafe { ids, construct, span: construct_span } = state else { return };
        self.mark_used(ids);
        self.diagnostics.push(
            Diagnostic::error("unsafe-variable", format!("variable '{name}' unsafe in '{construct}'"), span)
                .with_label("used here")
                .with_secondary(
                    *construct_span,
                    format!("bound inside this '{construct}', not on every path through it"),
                )
                .with_note(match *construct {
                    "case" | "if" | "receive" | "try" => {
                        format!("bind '{name}' on every path, or bind the result: {name} = {construct} ... end")
                    }
                    _ => format!("bind '{name}' before the '{construct}', outside it"),
                }),
        );
    }

    /// A variable in a pattern: binds it if new, compares with it otherwise.
    fn bind_or_compare(&mut self, name: &str, span: Span, env: &mut Env) {
        match env.get(name) {
            Some(VarState::Bound(ids)) => self.mark_used(&ids.clone()),
            Some(state @ VarState::Unsafe { .. }) => {
                let state = state.clone();
                self.unsafe_use(name, span, &state);
            }
            None => {
                let id = self.new_binding(name, span);
                env.insert(name.to_owned(), VarState::Bound(vec![id]));
            }
        }
    }

    /// Merges the environments at the end of each branch of `construct`: what
    /// every branch binds is bound, what only some bind is unsafe.
    fn merge(&mut self, env: &mut Env, branches: &[Env], construct: &'static str, span: Span) {
        let mut new_names: Vec<&String> =
            branches.iter().flat_map(|b| b.keys()).filter(|name| !env.contains_key(*name)).collect();
        new_names.sort();
        new_names.dedup();
        for name in new_names {
            let ids: Vec<usize> = branches.iter().filter_map(|b| b.get(name)).flat_map(|s| s.ids().to_vec()).collect();
            let everywhere = branches.iter().all(|b| matches!(b.get(name), Some(VarState::Bound(_))));
            let state = if everywhere { VarState::Bound(ids) } else { VarState::Unsafe { ids, construct, span } };
            env.insert(name.clone(), state);
        }
    }

    /// Marks everything `inner` binds beyond `env` as unsafe after `construct`.
    fn export_unsafe(&mut self, env: &mut Env, inner: &Env, construct: &'static str, span: Span) {
        for (name, state) in inner {
            if env.contains_key(name)
                && !matches!(env.get(name), Some(VarState::Unsafe { construct: c, span: s, .. }) if *c == construct && *s == span)
            {
                continue;
            }
            let mut ids = state.ids().to_vec();
            if let Some(VarState::Unsafe { ids: earlier, .. }) = env.get(name) {
                ids.extend_from_slice(earlier);
            }
            env.insert(name.clone(), VarState::Unsafe { ids, construct, span });
        }
    }

    // ------------------------------------------------------------ clauses

    fn clause(&mut self, clause: &Clause, env: &mut Env, shadowing: Option<&'static str>) {
        self.head(&clause.patterns, env, shadowing);
        if let Some(guard) = &clause.guard {
            self.guard(guard, env);
        }
        self.body(&clause.body, env);
    }

    /// Binds a clause head. With `shadowing` (the construct's name as erl_lint
    /// prints it), the head's variables are fresh even when an outer variable
    /// has the same name (funs, generators).
    fn head(&mut self, patterns: &[Pattern], env: &mut Env, shadowing: Option<&'static str>) {
        if let Some(construct) = shadowing {
            let mut shadowed: Vec<(String, Span)> = Vec::new();
            for pattern in patterns {
                pattern.for_each_var(&mut |name, span| {
                    if env.contains_key(name) && !shadowed.iter().any(|(n, _)| n == name) {
                        shadowed.push((name.to_owned(), span));
                    }
                });
            }
            for (name, span) in shadowed {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "shadowed-variable",
                        format!("variable '{name}' shadowed in {construct}"),
                        span,
                    )
                    .with_label("a new variable, not the one outside")
                    .with_note("to compare with the outer value, use a new name and a guard: X1 when X1 =:= X"),
                );
                env.remove(&name);
            }
        }
        for pattern in patterns {
            self.pattern(pattern, env);
        }
    }

    fn guard(&mut self, guard: &Guard, env: &mut Env) {
        for test in guard.alternatives.iter().flatten() {
            self.guard_expr(test, env);
        }
    }

    fn guard_expr(&mut self, expr: &Expr, env: &mut Env) {
        let outer = std::mem::replace(&mut self.in_guard, true);
        self.expr(expr, env);
        self.in_guard = outer;
    }

    fn body(&mut self, body: &[Expr], env: &mut Env) {
        for expr in body {
            self.expr(expr, env);
        }
    }

    // ------------------------------------------------------------ patterns

    fn pattern(&mut self, pattern: &Pattern, env: &mut Env) {
        match &pattern.kind {
            PatternKind::Var(name) => self.bind_or_compare(name, pattern.span, env),
            PatternKind::Literal(_) | PatternKind::Wildcard | PatternKind::Nil => {}
            PatternKind::Tuple(items) => items.iter().for_each(|p| self.pattern(p, env)),
            PatternKind::Cons(..) => {
                // Iterative along the tail: a long literal list must not exhaust the stack.
                let mut cursor = pattern;
                while let PatternKind::Cons(head, tail) = &cursor.kind {
                    self.pattern(head, env);
                    cursor = tail;
                }
                self.pattern(cursor, env);
            }
            PatternKind::Binary(elements) => {
                for (i, element) in elements.iter().enumerate() {
                    self.pattern(&element.value, env);
                    if let Some(size) = &element.size {
                        self.guard_expr(size, env);
                    }
                    self.binary_segment(element, Some(i + 1 == elements.len()));
                }
            }
            PatternKind::Map(pairs) => {
                for (key, value) in pairs {
                    self.guard_expr(key, env);
                    self.pattern(value, env);
                }
            }
            PatternKind::Record(name, fields) => {
                self.record_fields(name, fields);
                for field in fields {
                    self.pattern(&field.value, env);
                }
            }
            PatternKind::RecordIndex(name, field) => self.record_field(name, field),
            PatternKind::Match(left, right) => {
                self.pattern(left, env);
                self.pattern(right, env);
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn illegal_in_guard(&mut self, expr: &Expr) -> bool {
        let illegal = matches!(
            expr.kind,
            ExprKind::Match(..)
                | ExprKind::Send(..)
                | ExprKind::Case(..)
                | ExprKind::If(..)
                | ExprKind::Receive(..)
                | ExprKind::Try(..)
                | ExprKind::Catch(..)
                | ExprKind::Block(..)
                | ExprKind::Fun(..)
                | ExprKind::ListComprehension(..)
                | ExprKind::BinaryComprehension(..)
        );
        if illegal {
            self.diagnostics.push(
                Diagnostic::error("illegal-guard", "illegal guard expression", expr.span)
                    .with_label("not allowed in a guard")
                    .with_note(
                        "guards allow only constants, variables, operators, and guard BIFs such as is_integer/1",
                    ),
            );
        }
        illegal
    }

    fn expr(&mut self, expr: &Expr, env: &mut Env) {
        if self.in_guard && self.illegal_in_guard(expr) {
            return;
        }
        match &expr.kind {
            ExprKind::Literal(_) | ExprKind::Nil => {}
            ExprKind::Var(name) => self.use_var(name, expr.span, env),
            ExprKind::Tuple(items) => self.body(items, env),
            ExprKind::Cons(..) => {
                let mut cursor = expr;
                while let ExprKind::Cons(head, tail) = &cursor.kind {
                    self.expr(head, env);
                    cursor = tail;
                }
                self.expr(cursor, env);
            }
            ExprKind::Binary(elements) => {
                for element in elements {
                    self.expr(&element.value, env);
                    if let Some(size) = &element.size {
                        self.expr(size, env);
                    }
                    self.binary_segment(element, None);
                }
            }
            ExprKind::Map(base, fields) => {
                if let Some(base) = base {
                    self.expr(base, env);
                }
                for field in fields {
                    if base.is_none() && field.exact {
                        self.diagnostics.push(
                            Diagnostic::error("illegal-map", "`:=` in a map that is being created", field.span)
                                .with_label("only an update of an existing map can require a key")
                                .with_note("use `=>` to create a map: #{Key => Value}"),
                        );
                    }
                    self.expr(&field.key, env);
                    self.expr(&field.value, env);
                }
            }
            ExprKind::RecordNew(name, fields) => {
                self.record_fields(name, fields);
                fields.iter().for_each(|f| self.expr(&f.value, env));
            }
            ExprKind::RecordUpdate(base, name, fields) => {
                self.expr(base, env);
                self.record_fields(name, fields);
                fields.iter().for_each(|f| self.expr(&f.value, env));
            }
            ExprKind::RecordAccess(base, name, field) => {
                self.expr(base, env);
                self.record_field(name, field);
            }
            ExprKind::RecordIndex(name, field) => self.record_field(name, field),
            ExprKind::Match(pattern, value) => {
                self.expr(value, env);
                self.pattern(pattern, env);
            }
            ExprKind::Send(to, message) => {
                self.expr(to, env);
                self.expr(message, env);
            }
            ExprKind::BinaryOp(op @ (BinaryOp::Andalso | BinaryOp::Orelse), left, right) if !self.in_guard => {
                self.expr(left, env);
                let mut right_env = env.clone();
                self.expr(right, &mut right_env);
                self.export_unsafe(env, &right_env, op.text(), expr.span);
            }
            ExprKind::BinaryOp(_, left, right) => {
                self.expr(left, env);
                self.expr(right, env);
            }
            ExprKind::UnaryOp(_, operand) => self.expr(operand, env),
            ExprKind::Call(target, args) => self.call(target, args, expr.span, env),
            ExprKind::Case(subject, clauses) => {
                self.expr(subject, env);
                let branches: Vec<Env> = clauses.iter().map(|c| self.branch(c, env)).collect();
                self.merge(env, &branches, "case", expr.span);
            }
            ExprKind::If(clauses) => {
                let branches: Vec<Env> = clauses.iter().map(|c| self.branch(c, env)).collect();
                self.merge(env, &branches, "if", expr.span);
            }
            ExprKind::Receive(clauses, after) => {
                let mut branches: Vec<Env> = clauses.iter().map(|c| self.branch(c, env)).collect();
                if let Some(after) = after {
                    self.expr(&after.timeout, env);
                    let mut after_env = env.clone();
                    self.body(&after.body, &mut after_env);
                    branches.push(after_env);
                }
                self.merge(env, &branches, "receive", expr.span);
            }
            ExprKind::Try(t) => self.try_expr(t, env, expr.span),
            ExprKind::Catch(inner) => {
                let mut inner_env = env.clone();
                self.expr(inner, &mut inner_env);
                self.export_unsafe(env, &inner_env, "catch", expr.span);
            }
            ExprKind::Block(body) => self.body(body, env),
            ExprKind::Fun(fun) => self.fun(fun, env),
            ExprKind::ListComprehension(head, qualifiers) | ExprKind::BinaryComprehension(head, qualifiers) => {
                let mut inner = env.clone();
                for qualifier in qualifiers {
                    match qualifier {
                        Qualifier::Generator(pattern, source) | Qualifier::BinaryGenerator(pattern, source) => {
                            self.expr(source, &mut inner);
                            self.head(std::slice::from_ref(pattern), &mut inner, Some("generate"));
                        }
                        Qualifier::Filter(filter) => self.expr(filter, &mut inner),
                    }
                }
                self.expr(head, &mut inner);
            }
        }
    }

    /// One clause of a branching construct, from a copy of `env`.
    fn branch(&mut self, clause: &Clause, env: &Env) -> Env {
        let mut branch = env.clone();
        self.clause(clause, &mut branch, None);
        branch
    }

    fn try_expr(&mut self, t: &Try, env: &mut Env, span: Span) {
        let mut body_env = env.clone();
        self.body(&t.body, &mut body_env);
        // The `of` clauses run only after the body succeeded: its variables are bound there.
        let mut ends = vec![body_env.clone()];
        ends.extend(t.clauses.iter().map(|c| self.branch(c, &body_env)));
        // A handler or `after` may run when the body stopped half-way.
        let mut handler_env = env.clone();
        self.export_unsafe(&mut handler_env, &body_env, "try", span);
        for handler in &t.catch_clauses {
            let mut branch = handler_env.clone();
            if let Some(class) = &handler.class {
                self.pattern(class, &mut branch);
            }
            self.pattern(&handler.reason, &mut branch);
            if let Some(stack) = &handler.stack {
                // erl binds the stack trace afresh: one already bound (or
                // unsafe, which is reported too) cannot be compared with it.
                if branch.contains_key(&stack.name) {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "stacktrace-bound",
                            format!("stacktrace variable '{}' must not be previously bound", stack.name),
                            stack.span,
                        )
                        .with_note("use a new variable for the stack trace"),
                    );
                }
                self.bind_or_compare(&stack.name, stack.span, &mut branch);
            }
            if let Some(guard) = &handler.guard {
                // The stack trace is hidden from the guard; reading it there is an error.
                let hidden = handler.stack.as_ref().and_then(|s| branch.remove(&s.name).map(|state| (s, state)));
                self.stacktrace_in_guard = hidden.as_ref().map(|(s, _)| (s.name.clone(), false));
                self.guard(guard, &mut branch);
                if let Some((stack, state)) = hidden {
                    if self.stacktrace_in_guard.as_ref().is_some_and(|(_, used)| *used) {
                        self.mark_used(state.ids());
                    }
                    branch.insert(stack.name.clone(), state);
                }
                self.stacktrace_in_guard = None;
            }
            self.body(&handler.body, &mut branch);
            ends.push(branch);
        }
        for end in &ends {
            self.export_unsafe(&mut handler_env, end, "try", span);
        }
        let mut after_env = handler_env.clone();
        self.body(&t.after, &mut after_env);
        ends.push(after_env);
        for end in &ends {
            self.export_unsafe(env, end, "try", span);
        }
    }

    fn fun(&mut self, fun: &Fun, env: &mut Env) {
        match fun {
            Fun::Local(name, arity) => self.local_function(&(name.name.clone(), *arity), name.span, false),
            Fun::Remote(module, function, arity) => {
                self.expr(module, env);
                self.expr(function, env);
                self.expr(arity, env);
            }
            Fun::Lambda(name, clauses) => {
                for clause in clauses {
                    let mut inner = env.clone();
                    if let Some(name) = name {
                        if inner.remove(&name.name).is_some() {
                            self.diagnostics.push(Diagnostic::warning(
                                "shadowed-variable",
                                format!("variable '{}' shadowed in 'named fun'", name.name),
                                name.span,
                            ));
                        }
                        // The fun's own name: reading it is optional, so it never counts as unused.
                        let id = self.new_binding(&name.name, name.span);
                        self.bindings[id].used = true;
                        inner.insert(name.name.clone(), VarState::Bound(vec![id]));
                    }
                    self.clause(clause, &mut inner, Some("'fun'"));
                }
            }
        }
    }

    // ------------------------------------------------------------ calls

    fn call(&mut self, target: &CallTarget, args: &[Expr], span: Span, env: &mut Env) {
        match target {
            CallTarget::Local(name) => {
                let key = (name.name.clone(), args.len());
                if key.0 == "record_info" && key.1 == 2 && !self.info.functions.contains_key(&key) {
                    return self.record_info(args, span);
                }
                if self.in_guard && (!is_guard_bif(&key.0, key.1) || self.info.functions.contains_key(&key)) {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "illegal-guard",
                            format!("call to local/imported function {}/{} is illegal in guard", key.0, key.1),
                            span,
                        )
                        .with_label("not a guard BIF")
                        .with_note("compute the value before the clause, or test it with case"),
                    );
                } else {
                    self.local_function(&key, name.span, true);
                }
                // is_record/2 with a literal name tests for that record, which must be
                // defined; is_record/3 only checks the tag and size, as in erl_lint.
                if matches!(key, (ref n, 2) if n == "is_record") {
                    if let Some(ExprKind::Literal(Literal::Atom(record))) = args.get(1).map(|a| &a.kind) {
                        let record = Name { name: record.clone(), span: args[1].span };
                        self.record(&record);
                    }
                }
            }
            CallTarget::Remote(module, function) => {
                if self.in_guard {
                    let allowed = match (&module.kind, &function.kind) {
                        (ExprKind::Literal(Literal::Atom(m)), ExprKind::Literal(Literal::Atom(f))) => {
                            m == "erlang" && is_guard_bif(f, args.len())
                        }
                        _ => false,
                    };
                    if !allowed {
                        // As erl_lint: the arguments of an illegal remote call are not looked at.
                        return self.diagnostics.push(
                            Diagnostic::error("illegal-guard", "illegal guard expression", span)
                                .with_label("only erlang's guard BIFs can be called in a guard"),
                        );
                    }
                }
                self.expr(module, env);
                self.expr(function, env);
            }
            CallTarget::Fun(fun) => {
                if self.in_guard {
                    return self.diagnostics.push(
                        Diagnostic::error("illegal-guard", "illegal guard expression", span)
                            .with_label("a fun cannot be called in a guard"),
                    );
                }
                self.expr(fun, env);
            }
        }
        self.body(args, env);
    }

    /// A call `f(...)` (`is_call`) or reference `fun f/N`: to this module,
    /// an import, or a BIF. A call to a local function that has the name of
    /// an auto-imported BIF is ambiguous, as erl_lint says: an error for
    /// the BIFs auto-imported before R14, a warning for the others (the
    /// local function is called), unless `no_auto_import` names it.
    fn local_function(&mut self, key: &FunctionKey, span: Span, is_call: bool) {
        if self.info.functions.contains_key(key) {
            self.calls.insert(key.clone());
            let turned_off = self.info.no_auto_import.as_ref().is_none_or(|names| names.contains(key));
            if is_call && is_auto_imported(&key.0, key.1) && !turned_off {
                let (name, arity) = (&key.0, key.1);
                let resolve = format!(
                    "use erlang:{name}/{arity} or \"-compile({{no_auto_import,[{name}/{arity}]}}).\" to resolve name clash"
                );
                self.diagnostics.push(if is_old_bif(name, arity) {
                    Diagnostic::error(
                        "ambiguous-bif-call",
                        format!("ambiguous call of overridden pre R14 auto-imported BIF {name}/{arity}"),
                        span,
                    )
                    .with_label("a local function and a BIF of this name")
                    .with_note(resolve)
                } else {
                    Diagnostic::warning(
                        "ambiguous-bif-call",
                        format!("ambiguous call of overridden auto-imported BIF {name}/{arity}"),
                        span,
                    )
                    .with_label("calls the local function")
                    .with_note(resolve)
                });
            }
        } else if !self.info.imports.contains_key(key) && !is_auto_imported(&key.0, key.1) {
            self.diagnostics.push(undefined_function(key, span, self.info));
        }
    }

    /// `record_info(fields | size, Name)`: resolved at compile time.
    fn record_info(&mut self, args: &[Expr], span: Span) {
        match (&args[0].kind, &args[1].kind) {
            (ExprKind::Literal(Literal::Atom(what)), ExprKind::Literal(Literal::Atom(record)))
                if what == "fields" || what == "size" =>
            {
                self.record(&Name { name: record.clone(), span: args[1].span });
            }
            _ => self.diagnostics.push(
                Diagnostic::error("illegal-record-info", "illegal record info", span)
                    .with_note("the forms are record_info(fields, name) and record_info(size, name)"),
            ),
        }
    }

    // ------------------------------------------------------------ records

    fn record(&mut self, name: &Name) -> Option<&'a Record> {
        self.records_used.insert(name.name.clone());
        let record = self.info.records.get(&name.name);
        if record.is_none() {
            self.diagnostics.push(
                Diagnostic::error("undefined-record", format!("record {} undefined", name.name), name.span)
                    .with_note("define it before its first use: -record(name, {field, ...})."),
            );
        }
        record
    }

    fn record_field(&mut self, record: &Name, field: &Name) {
        if let Some(definition) = self.record(record) {
            if !definition.fields.contains(&field.name) {
                self.undefined_field(record, field);
            }
        }
    }

    fn record_fields<T>(&mut self, record: &Name, fields: &[RecordField<T>]) {
        let Some(definition) = self.record(record) else { return };
        let mut seen = HashSet::new();
        for field in fields {
            if field.name.name != "_" && !definition.fields.contains(&field.name.name) {
                self.undefined_field(record, &field.name);
            } else if !seen.insert(&field.name.name) {
                self.diagnostics.push(Diagnostic::error(
                    "duplicate-field",
                    format!("field {} already defined in record {}", field.name.name, record.name),
                    field.name.span,
                ));
            }
        }
    }

    fn undefined_field(&mut self, record: &Name, field: &Name) {
        self.diagnostics.push(
            Diagnostic::error(
                "undefined-field",
                format!("field {} undefined in record {}", field.name, record.name),
                field.span,
            )
            .with_note(format!(
                "the fields of {} are: {}",
                record.name,
                self.info.records.get(&record.name).map(|r| r.fields.join(", ")).unwrap_or_default()
            )),
        );
    }

    // ------------------------------------------------------------ binaries

    /// Checks a segment's type specifiers and size against the subset: byte-aligned
    /// segments of type integer, float, binary, bytes or utf8. `last` is
    /// `Some(is_last_segment)` in a pattern.
    fn binary_segment<T>(&mut self, element: &BinElement<T>, last: Option<bool>) {
        let mut segment_type: Option<&str> = None;
        let mut unit: Option<u32> = None;
        for specifier in &element.specifiers {
            let name = specifier.name.as_str();
            match name {
                "unit" if specifier.unit.is_some() => unit = specifier.unit,
                _ if specifier.unit.is_some() => {
                    self.segment_error(specifier.span, format!("bit type '{name}' takes no value; only unit:N does"));
                }
                "integer" | "float" | "binary" | "bytes" | "utf8" => {
                    if let Some(earlier) = segment_type.filter(|&t| t != name) {
                        self.segment_error(specifier.span, format!("conflicting types '{earlier}' and '{name}'"));
                    }
                    segment_type = Some(name);
                }
                "signed" | "unsigned" | "big" | "little" | "native" => {}
                "bits" | "bitstring" | "utf16" | "utf32" => {
                    let what = if name.starts_with("utf") {
                        format!("the `{name}` segment type")
                    } else {
                        format!("the `{name}` segment type (bit-level binaries)")
                    };
                    self.diagnostics.push(
                        Diagnostic::error(
                            "outside-subset",
                            format!("{what} is outside the .actor subset"),
                            specifier.span,
                        )
                        .with_label("not supported")
                        .with_note("segments are byte-aligned: integer, float, binary, bytes or utf8"),
                    );
                    return;
                }
                "unit" => self.segment_error(specifier.span, "unit needs a value: unit:N".to_owned()),
                _ => self.segment_error(specifier.span, format!("bit type '{name}' undefined")),
            }
        }
        let segment_type = segment_type.unwrap_or("integer");
        let literal_size = element.size.as_ref().and_then(|size| match &size.kind {
            ExprKind::Literal(Literal::Integer(n)) => Some(n.to_u64()),
            _ => None,
        });
        if let (Some(None), Some(size)) = (literal_size, &element.size) {
            return self.segment_error(size.span, "a segment size must be a non-negative integer".to_owned());
        }
        let literal_size = literal_size.flatten();
        match segment_type {
            "utf8" => {
                if let Some(size) = &element.size {
                    self.segment_error(size.span, "a utf8 segment has no size".to_owned());
                } else if unit.is_some() {
                    self.segment_error(element.span, "a utf8 segment has no unit".to_owned());
                }
            }
            "binary" | "bytes" => {
                let unit = unit.unwrap_or(8);
                if unit % 8 != 0 {
                    self.non_aligned(element.span, format!("a binary segment with unit:{unit}"));
                }
                if element.size.is_none() && last == Some(false) {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "bad-binary-segment",
                            "a binary segment without size is only allowed at the end of a binary pattern",
                            element.span,
                        )
                        .with_note("give it a size, for example Data:Length/binary"),
                    );
                }
            }
            "float" => {
                let bits = literal_size.map(|n| n * u64::from(unit.unwrap_or(1)));
                if let Some(bits) = bits.filter(|b| ![16, 32, 64].contains(b)) {
                    // A warning, as in erlc: building or matching it fails at run time.
                    self.diagnostics.push(
                        Diagnostic::warning("bad-binary-segment", "bad float bit size", element.span)
                            .with_label(format!("{bits} bits"))
                            .with_note("a float segment is 16, 32 or 64 bits; this one raises badarg when run"),
                    );
                }
            }
            _ => {
                let unit = unit.unwrap_or(1);
                match literal_size {
                    Some(n) if (n * u64::from(unit)) % 8 != 0 => {
                        self.non_aligned(element.span, format!("an integer segment of {} bits", n * u64::from(unit)));
                    }
                    None if element.size.is_none() && unit % 8 != 0 && unit != 1 => {
                        self.non_aligned(element.span, format!("a segment with unit:{unit}"));
                    }
                    _ => {}
                }
            }
        }
    }

    fn segment_error(&mut self, span: Span, message: String) {
        self.diagnostics.push(Diagnostic::error("bad-binary-segment", message, span));
    }

    fn non_aligned(&mut self, span: Span, what: String) {
        self.diagnostics.push(
            Diagnostic::error("outside-subset", format!("{what} is not byte-aligned: outside the .actor subset"), span)
                .with_label("not a whole number of bytes")
                .with_note("segments must be whole bytes: sizes of integer segments are multiples of 8 bits"),
        );
    }
}
