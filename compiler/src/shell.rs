//! The shell's compiler: turns what a user typed at the prompt (an
//! expression sequence ending with `.`) into modules the VM runs, so that
//! the shell evaluates with the same compiler, checks and code as a program
//! does (erl interprets shell input with `erl_eval`; compiling gives the
//! same results here, and runs at full speed).
//!
//! Each evaluation is a module of its own with one function,
//!
//! ```erlang
//! '$eval'(#{'X' := X, ...} = '$Bindings', '$History') ->
//!     E1, ..., '$Result' = En,
//!     {'$Result', [{'NewVar', NewVar}, ...]}.
//! ```
//!
//! which receives the shell's bindings as a map and returns the value with
//! the variables the input bound. The VM never purges these modules: a fun
//! made at the prompt stays callable for the whole session.
//!
//! Local calls follow erl's shell: auto-imported BIFs stay, `v(N)` reads
//! the history and `b()` lists the bindings, anything else is a call to
//! `shell_default` (the shell commands; an undefined one raises `undef`
//! there, which the shell prints as "undefined shell command"). `f()` and
//! `f(Var)` change the bindings themselves, so they must be whole
//! expressions of the sequence: they split it into steps.

use std::collections::HashSet;
use std::ops::Range;

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{self, Spanned, Token};
use crate::{bytecode, check, codegen, parser};

/// The function each evaluation module exports, of arity 2.
pub const ENTRY: &str = "$eval";

/// What the name of each evaluation module starts with (`$shell_1`, ...).
pub const MODULE_PREFIX: &str = "$shell_";

/// Whether `name` is an evaluation module's: code that stands for
/// expressions typed at the shell.
pub fn is_evaluation_module(name: &str) -> bool {
    name.starts_with(MODULE_PREFIX)
}

/// One step of an input.
#[derive(Debug)]
pub enum Step {
    /// Code to run: `'$eval'(Bindings, History)` in `module`, which returns
    /// `{Value, [{Name, Value}, ...]}` with the variables `binds` names.
    Eval { module: Box<bytecode::Module>, binds: Vec<String> },
    /// `f()`: forget every binding.
    ForgetAll,
    /// `f(Var)`: forget one.
    Forget(String),
}

/// The byte ranges of the forms of `text`, each ending with its `.`; text
/// after the last `.` (an unfinished form, or only white space and
/// comments) is not included.
pub fn forms(text: &str) -> Vec<Range<usize>> {
    let (tokens, _) = lexer::lex(text);
    let mut forms = Vec::new();
    let mut start = None;
    for token in &tokens {
        let begin = *start.get_or_insert(token.span.start as usize);
        if token.token == Token::Dot {
            forms.push(begin..token.span.end as usize);
            start = None;
        }
    }
    forms
}

/// Whether `text` ends a form: its last token is a `.` that ends one, and no
/// string, quoted atom or bracket is left open. What the shell's line
/// editor waits for before it evaluates.
pub fn is_complete(text: &str) -> bool {
    let (tokens, diagnostics) = lexer::lex(text);
    // An unterminated string or atom swallows the `.`: the user is still typing it.
    if diagnostics.iter().any(|d| d.id == "unterminated-string" || d.id == "unterminated-atom") {
        return false;
    }
    tokens.last().is_some_and(|t| t.token == Token::Dot)
}

/// Compiles the first form of `text` against the variables `bound`. Each
/// [`Step::Eval`] gets a module named by `module_name`. Errors (not
/// warnings: the shell shows none, as erl's does not) point into `text`.
pub fn compile(
    text: &str,
    bound: &[String],
    module_name: &mut (dyn FnMut() -> String + Send),
) -> Result<Vec<Step>, Vec<Diagnostic>> {
    // The parser, checker and generator recurse as deeply as the input
    // nests: run them where `compile_with_stack` would.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("compiler".to_owned())
            .stack_size(crate::STACK_SIZE)
            .spawn_scoped(scope, || compile_here(text, bound, module_name));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(error) => panic!("cannot start the compiler thread: {error}"),
        }
    })
}

fn compile_here(
    text: &str,
    bound: &[String],
    module_name: &mut (dyn FnMut() -> String + Send),
) -> Result<Vec<Step>, Vec<Diagnostic>> {
    let (body, named) = parse(text)?;
    let mut bound = bound.to_vec();
    let mut steps = Vec::new();
    let mut pending: Vec<Expr> = Vec::new();
    for expr in body {
        match forget_command(&expr) {
            Some(forget) => {
                if !pending.is_empty() {
                    steps.push(eval_step(std::mem::take(&mut pending), &mut bound, &named, text, module_name())?);
                }
                match &forget {
                    Step::Forget(name) => bound.retain(|b| b != name),
                    _ => bound.clear(),
                }
                steps.push(forget);
            }
            None => pending.push(expr),
        }
    }
    if !pending.is_empty() {
        steps.push(eval_step(pending, &mut bound, &named, text, module_name())?);
    }
    Ok(steps)
}

/// The expression sequence of the first form of `text`, and the names of
/// the variables written in it.
fn parse(text: &str) -> Result<(Vec<Expr>, HashSet<String>), Vec<Diagnostic>> {
    let (mut tokens, diagnostics) = lexer::lex(text);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    match tokens.iter().position(|t| t.token == Token::Dot) {
        Some(dot) => tokens.truncate(dot + 1),
        None => {
            let end = Span::new(text.len(), text.len());
            return Err(vec![Diagnostic::error("syntax", "the expression does not end with `.`", end)]);
        }
    }
    let named = tokens
        .iter()
        .filter_map(|t| match &t.token {
            Token::Var(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    // `'$eval'() -> ` before the input makes it a function, which the
    // module grammar parses.
    let prefix = [Token::Atom(ENTRY.to_owned()), Token::LParen, Token::RParen, Token::Arrow];
    let mut form: Vec<Spanned> = prefix.into_iter().map(|token| Spanned { token, span: Span::default() }).collect();
    form.extend(tokens);
    let (module, diagnostics) = parser::parse_forms(vec![form]);
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    match module.forms.into_iter().next() {
        Some(Form::Function(Function { mut clauses, .. })) if clauses.len() == 1 => {
            Ok((clauses.pop().map(|c| c.body).unwrap_or_default(), named))
        }
        _ => Err(vec![Diagnostic::error("syntax", "expected an expression sequence", Span::new(0, text.len()))]),
    }
}

/// `f()` or `f(Var)` as a whole expression.
fn forget_command(expr: &Expr) -> Option<Step> {
    let ExprKind::Call(CallTarget::Local(name), args) = &expr.kind else { return None };
    if name.name != "f" {
        return None;
    }
    match args.as_slice() {
        [] => Some(Step::ForgetAll),
        [Expr { kind: ExprKind::Var(var), .. }] => Some(Step::Forget(var.clone())),
        _ => None,
    }
}

/// Compiles one step. Only the bindings the input names (`named`) are taken
/// from the map: in a session with thousands of bindings a command
/// compiles as fast as in a new one.
fn eval_step(
    mut body: Vec<Expr>,
    bound: &mut Vec<String>,
    named: &HashSet<String>,
    text: &str,
    module: String,
) -> Result<Step, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for expr in &mut body {
        walk(expr, &mut |e| shell_call(e, &mut errors));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let used: Vec<String> = bound.iter().filter(|b| named.contains(*b)).cloned().collect();
    let mut visible = used.clone();
    visible.extend(["$Bindings".to_owned(), "$History".to_owned()]);
    let (binds, errors) = check::check_shell_body(&body, &visible);
    if !errors.is_empty() {
        return Err(errors);
    }
    let ast = evaluation_module(&module, body, &used, &binds);
    let code = codegen::generate(&ast, text, "shell")?;
    if let Err(error) = bytecode::verify::verify(&code) {
        let message = format!("the compiler produced invalid code: {error}");
        return Err(vec![Diagnostic::error("internal", message, Span::default())]);
    }
    bound.extend(binds.iter().cloned());
    Ok(Step::Eval { module: Box::new(code), binds })
}

/// Rewrites a local call as erl's shell resolves it.
fn shell_call(expr: &mut Expr, errors: &mut Vec<Diagnostic>) {
    let span = expr.span;
    let ExprKind::Call(CallTarget::Local(name), args) = &mut expr.kind else { return };
    if check::is_auto_imported(&name.name, args.len()) {
        return;
    }
    let (module, function, extra) = match (name.name.as_str(), args.len()) {
        ("v", 1) => ("shell", "v", Some("$History")),
        ("b", 0) => ("shell", "b", Some("$Bindings")),
        ("f", 0 | 1) => {
            errors.push(
                Diagnostic::error("shell-command", format!("f/{} changes the shell's bindings", args.len()), span)
                    .with_label("not allowed inside an expression")
                    .with_note("use it as an expression of its own: `f(X), X = 2.`"),
            );
            return;
        }
        _ => ("shell_default", name.name.as_str(), None),
    };
    let atom = |text: &str| Expr { span, kind: ExprKind::Literal(Literal::Atom(text.to_owned())) };
    let target = CallTarget::Remote(Box::new(atom(module)), Box::new(atom(function)));
    let mut args = std::mem::take(args);
    if let Some(var) = extra {
        args.push(Expr { span, kind: ExprKind::Var(var.to_owned()) });
    }
    expr.kind = ExprKind::Call(target, args);
}

/// The module of one evaluation step; see the module comment. `bound`
/// are the bindings the step reads.
fn evaluation_module(name: &str, mut body: Vec<Expr>, bound: &[String], binds: &[String]) -> Module {
    let span = Span::default();
    let expr = |kind| Expr { span, kind };
    let atom = |text: &str| Literal::Atom(text.to_owned());
    let var_pattern = |name: &str| Pattern { span, kind: PatternKind::Var(name.to_owned()) };
    let fields = bound.iter().map(|b| (expr(ExprKind::Literal(atom(b))), var_pattern(b))).collect();
    let bindings = Pattern {
        span,
        kind: PatternKind::Match(
            Box::new(Pattern { span, kind: PatternKind::Map(fields) }),
            Box::new(var_pattern("$Bindings")),
        ),
    };
    if let Some(last) = body.pop() {
        body.push(expr(ExprKind::Match(Box::new(var_pattern("$Result")), Box::new(last))));
    }
    let pairs = binds.iter().rev().fold(expr(ExprKind::Nil), |tail, b| {
        let pair = expr(ExprKind::Tuple(vec![expr(ExprKind::Literal(atom(b))), expr(ExprKind::Var(b.clone()))]));
        expr(ExprKind::Cons(Box::new(pair), Box::new(tail)))
    });
    body.push(expr(ExprKind::Tuple(vec![expr(ExprKind::Var("$Result".to_owned())), pairs])));
    let clause = Clause { span, patterns: vec![bindings, var_pattern("$History")], guard: None, body };
    let entry = Name { name: ENTRY.to_owned(), span };
    let attribute = |kind| Form::Attribute(Attribute { span, name: Name { name: String::new(), span }, kind });
    Module {
        forms: vec![
            attribute(AttributeKind::Module(Name { name: name.to_owned(), span })),
            attribute(AttributeKind::Export(vec![FunctionRef { name: entry.clone(), arity: 2, span }])),
            Form::Function(Function { name: entry, arity: 2, clauses: vec![clause], span }),
        ],
    }
}

/// Calls `f` on every expression inside `expr` (but those inside patterns),
/// innermost first, then on `expr`.
fn walk(expr: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    fn all(exprs: &mut [Expr], f: &mut dyn FnMut(&mut Expr)) {
        exprs.iter_mut().for_each(|e| walk(e, f));
    }
    fn clauses(clauses: &mut [Clause], f: &mut dyn FnMut(&mut Expr)) {
        for clause in clauses {
            if let Some(guard) = &mut clause.guard {
                guard.alternatives.iter_mut().for_each(|tests| all(tests, f));
            }
            all(&mut clause.body, f);
        }
    }
    match &mut expr.kind {
        ExprKind::Literal(_) | ExprKind::Var(_) | ExprKind::Nil | ExprKind::RecordIndex(..) => {}
        ExprKind::Tuple(items) | ExprKind::Block(items) => all(items, f),
        ExprKind::Cons(head, tail) => {
            walk(head, f);
            walk(tail, f);
        }
        ExprKind::Binary(elements) => {
            for element in elements {
                walk(&mut element.value, f);
                if let Some(size) = &mut element.size {
                    walk(size, f);
                }
            }
        }
        ExprKind::Map(base, fields) => {
            if let Some(base) = base {
                walk(base, f);
            }
            for field in fields {
                walk(&mut field.key, f);
                walk(&mut field.value, f);
            }
        }
        ExprKind::RecordNew(_, fields) => fields.iter_mut().for_each(|field| walk(&mut field.value, f)),
        ExprKind::RecordUpdate(base, _, fields) => {
            walk(base, f);
            fields.iter_mut().for_each(|field| walk(&mut field.value, f));
        }
        ExprKind::RecordAccess(base, ..) | ExprKind::UnaryOp(_, base) | ExprKind::Catch(base) => walk(base, f),
        ExprKind::Match(_, value) => walk(value, f),
        ExprKind::Send(a, b) | ExprKind::BinaryOp(_, a, b) => {
            walk(a, f);
            walk(b, f);
        }
        ExprKind::Call(target, args) => {
            match target {
                CallTarget::Local(_) => {}
                CallTarget::Remote(module, function) => {
                    walk(module, f);
                    walk(function, f);
                }
                CallTarget::Fun(fun) => walk(fun, f),
            }
            all(args, f);
        }
        ExprKind::Case(subject, branches) => {
            walk(subject, f);
            clauses(branches, f);
        }
        ExprKind::If(branches) => clauses(branches, f),
        ExprKind::Receive(branches, after) => {
            clauses(branches, f);
            if let Some(after) = after {
                walk(&mut after.timeout, f);
                all(&mut after.body, f);
            }
        }
        ExprKind::Try(t) => {
            all(&mut t.body, f);
            clauses(&mut t.clauses, f);
            for handler in &mut t.catch_clauses {
                if let Some(guard) = &mut handler.guard {
                    guard.alternatives.iter_mut().for_each(|tests| all(tests, f));
                }
                all(&mut handler.body, f);
            }
            all(&mut t.after, f);
        }
        ExprKind::Fun(fun) => match &mut **fun {
            Fun::Local(..) => {}
            Fun::Remote(module, function, arity) => {
                walk(module, f);
                walk(function, f);
                walk(arity, f);
            }
            Fun::Lambda(_, branches) => clauses(branches, f),
        },
        ExprKind::ListComprehension(head, qualifiers) | ExprKind::BinaryComprehension(head, qualifiers) => {
            walk(head, f);
            for qualifier in qualifiers {
                match qualifier {
                    Qualifier::Generator(_, source) | Qualifier::BinaryGenerator(_, source) => walk(source, f),
                    Qualifier::Filter(filter) => walk(filter, f),
                }
            }
        }
    }
    f(expr);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> impl FnMut() -> String + Send {
        let mut n = 0;
        move || {
            n += 1;
            format!("{MODULE_PREFIX}{n}")
        }
    }

    fn steps(text: &str, bound: &[&str]) -> Result<Vec<Step>, Vec<Diagnostic>> {
        let bound: Vec<String> = bound.iter().map(|s| s.to_string()).collect();
        compile(text, &bound, &mut names())
    }

    #[test]
    fn forms_end_at_each_terminating_dot() {
        let text = "X = 1. Y = {a, X}.\nZ = 3";
        let found: Vec<&str> = forms(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["X = 1.", "Y = {a, X}."]);
    }

    #[test]
    fn input_is_complete_at_a_dot_outside_strings() {
        assert!(is_complete("X = 1.\n"));
        assert!(is_complete("X = 1."));
        assert!(!is_complete("X = [1,\n"));
        assert!(!is_complete("X = \"a. \n"));
        assert!(!is_complete("X = 1.5"));
        assert!(!is_complete(""));
        assert!(!is_complete("% only a comment.\n"));
    }

    #[test]
    fn an_evaluation_returns_the_variables_it_binds_on_every_path() {
        let steps = steps("X = 1, case X of 1 -> Y = 2, Z = 3; _ -> Y = 4 end, Y + X.", &[]).unwrap();
        let [Step::Eval { module, binds }] = steps.as_slice() else { panic!("{steps:?}") };
        assert_eq!(binds, &["X", "Y"], "Z is bound on one path only");
        assert_eq!(module.atom(module.name), "$shell_1");
    }

    #[test]
    fn bound_variables_are_known_and_unbound_ones_are_errors() {
        assert!(steps("X + 1.", &["X"]).is_ok());
        let errors = steps("X + 1.", &[]).unwrap_err();
        assert_eq!(errors[0].message, "variable 'X' is unbound");
    }

    #[test]
    fn only_the_bindings_the_input_names_are_matched() {
        let steps = steps("Y = X + 1.", &["X", "Unused", "Other"]).unwrap();
        let [Step::Eval { module, binds }] = steps.as_slice() else { panic!("{steps:?}") };
        assert_eq!(binds, &["Y"]);
        let listing = module.to_string();
        assert!(listing.lines().any(|l| l.contains("GetMapElement") && l.contains(" key=X ")), "{listing}");
        assert!(!listing.contains("Unused") && !listing.contains("Other"), "{listing}");
    }

    #[test]
    fn forget_splits_the_sequence() {
        let steps = steps("X = 1, f(X), X = 2, f().", &[]).unwrap();
        let shape: Vec<String> = steps
            .iter()
            .map(|s| match s {
                Step::Eval { binds, .. } => format!("eval {binds:?}"),
                Step::Forget(name) => format!("forget {name}"),
                Step::ForgetAll => "forget all".to_owned(),
            })
            .collect();
        assert_eq!(shape, ["eval [\"X\"]", "forget X", "eval [\"X\"]", "forget all"]);
    }

    #[test]
    fn local_calls_become_shell_commands_or_stay_bifs() {
        let steps = steps("length([1]), help(), v(1).", &[]).unwrap();
        let [Step::Eval { module, .. }] = steps.as_slice() else { panic!() };
        let listing = module.to_string();
        assert!(listing.contains("shell_default:help/0"), "{listing}");
        assert!(listing.contains("shell:v/2"), "{listing}");
        assert!(listing.contains("erlang:length/1"), "length/1 is the auto-imported BIF: {listing}");
    }

    #[test]
    fn syntax_errors_point_into_the_input() {
        let errors = steps("X = (1 + .", &[]).unwrap_err();
        assert_eq!(errors[0].span.start, 9, "{errors:?}");
    }
}
