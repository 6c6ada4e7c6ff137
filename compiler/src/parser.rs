//! The parser driver and the grammar's semantic actions.
//!
//! Each preprocessed form is parsed on its own by the LALRPOP grammar
//! (`grammar.lalrpop`), so a syntax error in one form never hides the errors of
//! the next: recovery is at the form's `.`, as in `erlc`. The [`Builder`] holds
//! the actions that can fail without stopping the parse (an expression that is
//! not a legal pattern, a head mismatch, a malformed attribute): they record a
//! diagnostic and return a placeholder so the rest of the form is still checked.

use lalrpop_util::{lalrpop_mod, ParseError};
use num_bigint::BigInt;
use num_traits::{ToPrimitive, Zero};

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Spanned, Token};

lalrpop_mod!(
    #[allow(clippy::all, unused_parens, missing_debug_implementations, unreachable_pub)]
    grammar
);

/// Attributes that only carry type information, skipped without parsing their
/// bodies (they use type syntax, which the language does not have).
const TYPE_LEVEL_ATTRIBUTES: &[&str] =
    &["spec", "type", "opaque", "callback", "export_type", "optional_callbacks", "dialyzer", "nominal"];

/// The most tokens one form may have. Nesting depth, and so the stack the
/// later phases need, is bounded by the form's length; see `crate::STACK_SIZE`.
/// A million tokens is some 30,000 lines in a single function.
pub const MAX_FORM_TOKENS: usize = 1_000_000;

/// Parses preprocessed forms into a module; every syntax error is a diagnostic.
pub fn parse_forms(forms: Vec<Vec<Spanned>>) -> (Module, Vec<Diagnostic>) {
    let mut module = Module { forms: Vec::new() };
    let mut diagnostics = Vec::new();
    let parser = grammar::FormParser::new();
    for tokens in forms {
        if tokens.len() > MAX_FORM_TOKENS {
            let span = tokens[0].span.to(tokens[tokens.len() - 1].span);
            diagnostics.push(
                Diagnostic::error("form-too-large", format!("this form has more than {MAX_FORM_TOKENS} tokens"), span)
                    .with_note("split the function, or move large data into a file read at run time"),
            );
            continue;
        }
        if let Some(attribute) = type_level_attribute(&tokens) {
            module.forms.push(Form::Attribute(attribute));
            continue;
        }
        let tokens = strip_record_field_types(tokens);
        let mut builder = Builder::default();
        let input = tokens.iter().map(|t| Ok((t.span.start as usize, t.token.clone(), t.span.end as usize)));
        match parser.parse(&mut builder, input) {
            Ok(_) if builder.drop_form => {}
            Ok(form) => module.forms.push(form),
            Err(error) => diagnostics.push(syntax_error(error, &tokens)),
        }
        diagnostics.append(&mut builder.diagnostics);
    }
    (module, diagnostics)
}

fn type_level_attribute(tokens: &[Spanned]) -> Option<Attribute> {
    match tokens {
        [Spanned { token: Token::Minus, span: start }, Spanned { token: Token::Atom(name), span }, .., last]
            if TYPE_LEVEL_ATTRIBUTES.contains(&name.as_str()) =>
        {
            let name = Name { name: name.clone(), span: *span };
            Some(Attribute { span: start.to(last.span), name: name.clone(), kind: AttributeKind::TypeLevel(name) })
        }
        _ => None,
    }
}

/// `-record(r, {a = 1 :: integer(), b :: atom()})` → `-record(r, {a = 1, b})`:
/// field types are accepted and dropped, as the language has no static types.
fn strip_record_field_types(tokens: Vec<Spanned>) -> Vec<Spanned> {
    let is_record = matches!(tokens.as_slice(), [Spanned { token: Token::Minus, .. }, Spanned { token: Token::Atom(a), .. }, ..] if a == "record");
    if !is_record || !tokens.iter().any(|t| t.token == Token::ColonColon) {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut depth = 0usize;
    let mut skipping_at: Option<usize> = None;
    for t in tokens {
        let opens = matches!(t.token, Token::LParen | Token::LBracket | Token::LBrace | Token::LBin);
        let closes = matches!(t.token, Token::RParen | Token::RBracket | Token::RBrace | Token::RBin);
        if let Some(level) = skipping_at {
            let ends = depth == level && (t.token == Token::Comma || closes);
            if !ends {
                depth = if opens {
                    depth + 1
                } else if closes {
                    depth.saturating_sub(1)
                } else {
                    depth
                };
                continue;
            }
            skipping_at = None;
        }
        if t.token == Token::ColonColon && depth == 2 {
            // depth 1 is `-record(`, depth 2 the field tuple `{`.
            skipping_at = Some(depth);
            continue;
        }
        depth = if opens {
            depth + 1
        } else if closes {
            depth.saturating_sub(1)
        } else {
            depth
        };
        out.push(t);
    }
    out
}

fn syntax_error(error: ParseError<usize, Token, ()>, tokens: &[Spanned]) -> Diagnostic {
    let (span, found, expected) = match error {
        ParseError::UnrecognizedToken { token: (l, token, r), expected } => {
            (Span::new(l, r), token.describe(), expected)
        }
        ParseError::UnrecognizedEof { location, expected } => {
            (Span::new(location, location), "the end of the form".to_owned(), expected)
        }
        ParseError::ExtraToken { token: (l, token, r) } => (Span::new(l, r), token.describe(), Vec::new()),
        ParseError::InvalidToken { location } => {
            (Span::new(location, location + 1), "a bad token".to_owned(), Vec::new())
        }
        ParseError::User { .. } => {
            let span = tokens.first().map(|t| t.span).unwrap_or_default();
            (span, "this form".to_owned(), Vec::new())
        }
    };
    let mut diagnostic =
        Diagnostic::error("syntax", format!("syntax error before: {found}"), span).with_label("unexpected here");
    if !expected.is_empty() && expected.len() <= 12 {
        let expected: Vec<String> = expected.iter().map(|e| describe_terminal(e)).collect();
        diagnostic = diagnostic.with_note(format!("expected one of: {}", expected.join(", ")));
    }
    diagnostic
}

/// LALRPOP names terminals by their grammar text, quoted: `"\"atom\""`, `"\"->\""`.
fn describe_terminal(terminal: &str) -> String {
    let bare = terminal.trim_matches('"');
    match bare {
        "atom" => "an atom".to_owned(),
        "var" => "a variable".to_owned(),
        "integer" => "an integer".to_owned(),
        "float" => "a float".to_owned(),
        "char" => "a character".to_owned(),
        "string" => "a string".to_owned(),
        "dot" => "`.`".to_owned(),
        other => format!("`{}`", other.replace("\\\"", "\"")),
    }
}

pub fn expr(l: usize, r: usize, kind: ExprKind) -> Expr {
    Expr { span: Span::new(l, r), kind }
}

pub fn binary_op(l: usize, r: usize, op: BinaryOp, a: Expr, b: Expr) -> Expr {
    expr(l, r, ExprKind::BinaryOp(op, Box::new(a), Box::new(b)))
}

pub fn unary_op(l: usize, r: usize, op: UnaryOp, e: Expr) -> Expr {
    // `-1` is a literal, as erl_parse makes it: patterns and guards rely on that.
    if op == UnaryOp::Minus {
        match e.kind {
            ExprKind::Literal(Literal::Integer(i)) => return expr(l, r, ExprKind::Literal(Literal::Integer(-i))),
            ExprKind::Literal(Literal::Float(f)) => return expr(l, r, ExprKind::Literal(Literal::Float(-f))),
            ExprKind::Literal(Literal::Char(c)) => {
                return expr(l, r, ExprKind::Literal(Literal::Integer(-BigInt::from(c))));
            }
            kind => return expr(l, r, ExprKind::UnaryOp(op, Box::new(Expr { span: e.span, kind }))),
        }
    }
    expr(l, r, ExprKind::UnaryOp(op, Box::new(e)))
}

pub fn list_expr(span: Span, items: Vec<Expr>, tail: Option<Expr>) -> Expr {
    let mut list =
        tail.unwrap_or(Expr { span: Span::new(span.end as usize - 1, span.end as usize), kind: ExprKind::Nil });
    for item in items.into_iter().rev() {
        let span = item.span.to(list.span);
        list = Expr { span, kind: ExprKind::Cons(Box::new(item), Box::new(list)) };
    }
    list.span = span;
    list
}

pub fn list_pattern(span: Span, items: Vec<Pattern>, tail: Option<Pattern>) -> Pattern {
    let mut list =
        tail.unwrap_or(Pattern { span: Span::new(span.end as usize - 1, span.end as usize), kind: PatternKind::Nil });
    for item in items.into_iter().rev() {
        let span = item.span.to(list.span);
        list = Pattern { span, kind: PatternKind::Cons(Box::new(item), Box::new(list)) };
    }
    list.span = span;
    list
}

/// The grammar's fallible actions: each records a diagnostic instead of failing.
#[derive(Debug, Default)]
pub struct Builder {
    pub diagnostics: Vec<Diagnostic>,
    /// Set when the form is malformed as a whole (a head mismatch): like
    /// erl_parse, the driver then drops it rather than check half a function.
    pub drop_form: bool,
}

impl Builder {
    fn illegal_pattern(&mut self, span: Span, why: &str) -> Pattern {
        let mut diagnostic = Diagnostic::error("illegal-pattern", "illegal pattern", span).with_label(why.to_owned());
        if why.contains("=>") {
            diagnostic = diagnostic.with_note("in a map pattern, write `Key := Pattern`");
        }
        self.diagnostics.push(diagnostic);
        Pattern { span, kind: PatternKind::Wildcard }
    }

    /// `Pattern = Value`: the left side was parsed as an expression.
    pub fn match_expr(&mut self, l: usize, r: usize, left: Expr, value: Expr) -> Expr {
        let pattern = self.pattern(left);
        expr(l, r, ExprKind::Match(Box::new(pattern), Box::new(value)))
    }

    pub fn var_pattern(&mut self, v: Name) -> Pattern {
        let kind = if v.name == "_" { PatternKind::Wildcard } else { PatternKind::Var(v.name) };
        Pattern { span: v.span, kind }
    }

    /// A record field named by a variable: only `_` (all other fields) is allowed.
    pub fn wildcard_field(&mut self, v: Name) -> Name {
        if v.name != "_" {
            self.diagnostics.push(
                Diagnostic::error("syntax", format!("syntax error before: {}", v.name), v.span)
                    .with_label("a record field name must be an atom, or `_` for all other fields"),
            );
        }
        v
    }

    /// Converts an expression that stands where a pattern is expected (the left
    /// side of `=`, a generator) into a pattern, or reports why it cannot be one.
    pub fn pattern(&mut self, e: Expr) -> Pattern {
        let span = e.span;
        let kind = match e.kind {
            ExprKind::Literal(lit) => PatternKind::Literal(lit),
            ExprKind::Var(v) if v == "_" => PatternKind::Wildcard,
            ExprKind::Var(v) => PatternKind::Var(v),
            ExprKind::Nil => PatternKind::Nil,
            ExprKind::Tuple(items) => PatternKind::Tuple(items.into_iter().map(|i| self.pattern(i)).collect()),
            ExprKind::Cons(head, tail) => {
                PatternKind::Cons(Box::new(self.pattern(*head)), Box::new(self.pattern(*tail)))
            }
            ExprKind::Binary(elements) => PatternKind::Binary(
                elements
                    .into_iter()
                    .map(|el| BinElement {
                        value: self.pattern(el.value),
                        size: el.size,
                        specifiers: el.specifiers,
                        span: el.span,
                    })
                    .collect(),
            ),
            ExprKind::Map(None, fields) => return self.map_pattern(span, fields),
            ExprKind::Map(Some(_), _) => return self.illegal_pattern(span, "a map update is not a pattern"),
            ExprKind::RecordNew(name, fields) => PatternKind::Record(
                name,
                fields
                    .into_iter()
                    .map(|f| RecordField { name: f.name, value: self.pattern(f.value), span: f.span })
                    .collect(),
            ),
            ExprKind::RecordIndex(name, field) => PatternKind::RecordIndex(name, field),
            ExprKind::Match(left, right) => PatternKind::Match(left, Box::new(self.pattern(*right))),
            ExprKind::BinaryOp(op, a, b) => {
                let (a, b) = (self.pattern(*a), self.pattern(*b));
                return self.pattern_operator(span, op, a, b);
            }
            ExprKind::UnaryOp(op, operand) => {
                let operand = self.pattern(*operand);
                return self.pattern_unary(span, op, operand);
            }
            ExprKind::Call(..) => return self.illegal_pattern(span, "a function call is not a pattern"),
            _ => return self.illegal_pattern(span, "this expression is not a pattern"),
        };
        Pattern { span, kind }
    }

    pub fn map_pattern(&mut self, span: Span, fields: Vec<MapField>) -> Pattern {
        let mut pairs = Vec::with_capacity(fields.len());
        for field in fields {
            if !field.exact {
                return self.illegal_pattern(field.span, "`=>` is not allowed in a map pattern");
            }
            pairs.push((field.key, self.pattern(field.value)));
        }
        Pattern { span, kind: PatternKind::Map(pairs) }
    }

    /// An operator in a pattern: `"prefix" ++ Rest`, or a constant expression
    /// that is evaluated now (`-1`, `1 + 2`, `16#10 bor 1`), as erlc allows.
    pub fn pattern_operator(&mut self, span: Span, op: BinaryOp, a: Pattern, b: Pattern) -> Pattern {
        if op == BinaryOp::Append {
            return match prefix_elements(&a) {
                Some(items) => {
                    let mut list = b;
                    for item in items.into_iter().rev() {
                        list = Pattern { span, kind: PatternKind::Cons(Box::new(item), Box::new(list)) };
                    }
                    list
                }
                None => self.illegal_pattern(span, "only a string or a proper list can stand left of `++`"),
            };
        }
        match (&a.kind, &b.kind) {
            (PatternKind::Literal(x), PatternKind::Literal(y)) => match fold_binary(op, x, y) {
                Some(lit) => Pattern { span, kind: PatternKind::Literal(lit) },
                None => self.illegal_pattern(span, "this expression cannot be evaluated to a constant"),
            },
            _ => self.illegal_pattern(span, "only constant expressions can use operators in a pattern"),
        }
    }

    pub fn pattern_unary(&mut self, span: Span, op: UnaryOp, p: Pattern) -> Pattern {
        let folded = match (&p.kind, op) {
            (PatternKind::Literal(lit), UnaryOp::Plus) => integer_of(lit).map(Literal::Integer).or(match lit {
                Literal::Float(f) => Some(Literal::Float(*f)),
                _ => None,
            }),
            (PatternKind::Literal(lit), UnaryOp::Minus) => {
                integer_of(lit).map(|i| Literal::Integer(-i)).or(match lit {
                    Literal::Float(f) => Some(Literal::Float(-f)),
                    _ => None,
                })
            }
            (PatternKind::Literal(lit), UnaryOp::Bnot) => integer_of(lit).map(|i| Literal::Integer(-i - 1)),
            _ => None,
        };
        match folded {
            Some(lit) => Pattern { span, kind: PatternKind::Literal(lit) },
            None => self.illegal_pattern(span, "only a number can be negated in a pattern"),
        }
    }

    pub fn call(&mut self, span: Span, target: Expr, args: Vec<Expr>) -> Expr {
        let target = match target.kind {
            ExprKind::Literal(Literal::Atom(name)) => CallTarget::Local(Name { name, span: target.span }),
            _ => CallTarget::Fun(Box::new(target)),
        };
        Expr { span, kind: ExprKind::Call(target, args) }
    }

    pub fn local_fun(&mut self, span: Span, name: Name, arity: BigInt) -> Expr {
        let arity = self.arity(arity, span);
        Expr { span, kind: ExprKind::Fun(Box::new(Fun::Local(name, arity))) }
    }

    fn arity(&mut self, arity: BigInt, span: Span) -> usize {
        match arity.to_usize().filter(|&a| a <= 255) {
            Some(a) => a,
            None => {
                self.diagnostics.push(
                    Diagnostic::error("bad-arity", format!("bad arity {arity}"), span)
                        .with_label("an arity is an integer from 0 to 255"),
                );
                0
            }
        }
    }

    pub fn unit_specifier(&mut self, span: Span, name: String, unit: BigInt) -> BinSpecifier {
        let unit = match unit.to_u32().filter(|u| (1..=256).contains(u)) {
            Some(u) => Some(u),
            None => {
                self.diagnostics.push(Diagnostic::error("bad-binary-segment", "a unit must be from 1 to 256", span));
                Some(8)
            }
        };
        BinSpecifier { name, unit, span }
    }

    pub fn function(&mut self, clauses: Vec<(Name, Clause)>) -> Function {
        let (name, arity) = (clauses[0].0.clone(), clauses[0].1.patterns.len());
        let span = clauses[0].1.span.to(clauses[clauses.len() - 1].1.span);
        for (clause_name, clause) in &clauses[1..] {
            if clause_name.name != name.name || clause.patterns.len() != arity {
                self.drop_form = true;
                self.diagnostics.push(
                    Diagnostic::error("head-mismatch", "head mismatch", clause_name.span)
                        .with_label(format!(
                            "this clause is of {}/{}, the function is {}/{}",
                            clause_name.name,
                            clause.patterns.len(),
                            name.name,
                            arity
                        ))
                        .with_secondary(name.span, "the function's first clause")
                        .with_note("clauses of one function are separated by `;`; end a function with `.`"),
                );
            }
        }
        Function { name, arity, clauses: clauses.into_iter().map(|(_, c)| c).collect(), span }
    }

    pub fn lambda(&mut self, span: Span, clauses: Vec<(Option<Name>, Clause)>) -> Expr {
        let name = clauses[0].0.clone();
        let arity = clauses[0].1.patterns.len();
        for (clause_name, clause) in &clauses[1..] {
            let same_name = clause_name.as_ref().map(|n| &n.name) == name.as_ref().map(|n| &n.name);
            if !same_name || clause.patterns.len() != arity {
                self.diagnostics.push(
                    Diagnostic::error("head-mismatch", "head mismatch", clause.span)
                        .with_label("every clause of a fun must have the same name and number of arguments"),
                );
            }
        }
        let clauses = clauses.into_iter().map(|(_, c)| c).collect();
        Expr { span, kind: ExprKind::Fun(Box::new(Fun::Lambda(name, clauses))) }
    }

    /// Builds an attribute from `-name(Args).`; a malformed one is reported and
    /// kept as an `Other` attribute so that checking continues.
    pub fn attribute(&mut self, span: Span, name: Name, mut args: Vec<Expr>) -> Attribute {
        let kind = match (name.name.as_str(), args.len()) {
            ("module", 1) => match &args[0].kind {
                ExprKind::Literal(Literal::Atom(module)) => {
                    Some(AttributeKind::Module(Name { name: module.clone(), span: args[0].span }))
                }
                _ => None,
            },
            ("export", 1) => self.function_refs(&args[0]).map(AttributeKind::Export),
            ("import", 2) => match (&args[0].kind, self.function_refs(&args[1])) {
                (ExprKind::Literal(Literal::Atom(module)), Some(refs)) => {
                    Some(AttributeKind::Import(Name { name: module.clone(), span: args[0].span }, refs))
                }
                _ => None,
            },
            ("compile", 1) => args.pop().map(AttributeKind::Compile),
            ("behaviour" | "behavior", 1) => match &args[0].kind {
                ExprKind::Literal(Literal::Atom(b)) => {
                    Some(AttributeKind::Behaviour(Name { name: b.clone(), span: args[0].span }))
                }
                _ => None,
            },
            ("record", 2) => self.record_definition(&args[0], &args[1]),
            ("on_load" | "nifs", _) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "outside-subset",
                        format!("the `-{}` attribute is outside the .actor subset", name.name),
                        span,
                    )
                    .with_label("native code cannot be loaded"),
                );
                return Attribute { span, name: name.clone(), kind: AttributeKind::TypeLevel(name) };
            }
            ("module" | "export" | "import" | "compile" | "behaviour" | "behavior" | "record", _) => None,
            (_, 1) => args.pop().map(|value| AttributeKind::Other(name.clone(), value)),
            (_, _) => None,
        };
        match kind {
            Some(kind) => Attribute { span, name, kind },
            None => {
                let expected = match name.name.as_str() {
                    "module" => "-module(name).",
                    "export" => "-export([name/arity, ...]).",
                    "import" => "-import(module, [name/arity, ...]).",
                    "behaviour" | "behavior" => "-behaviour(name).",
                    "record" => "-record(name, {field, field = Default, ...}).",
                    "compile" => "-compile(Options).",
                    _ => "-name(Value).",
                };
                self.diagnostics.push(
                    Diagnostic::error("bad-attribute", format!("bad attribute '{}'", name.name), span)
                        .with_label("malformed")
                        .with_note(format!("the form is {expected}")),
                );
                Attribute { span, name: name.clone(), kind: AttributeKind::TypeLevel(name) }
            }
        }
    }

    fn function_refs(&mut self, list: &Expr) -> Option<Vec<FunctionRef>> {
        let mut refs = Vec::new();
        let mut cursor = list;
        loop {
            match &cursor.kind {
                ExprKind::Nil => return Some(refs),
                ExprKind::Cons(head, tail) => {
                    let ExprKind::BinaryOp(BinaryOp::FloatDiv, name, arity) = &head.kind else { return None };
                    let (ExprKind::Literal(Literal::Atom(n)), ExprKind::Literal(Literal::Integer(a))) =
                        (&name.kind, &arity.kind)
                    else {
                        return None;
                    };
                    let arity = self.arity(a.clone(), head.span);
                    refs.push(FunctionRef { name: Name { name: n.clone(), span: name.span }, arity, span: head.span });
                    cursor = tail;
                }
                _ => return None,
            }
        }
    }

    fn record_definition(&mut self, name: &Expr, fields: &Expr) -> Option<AttributeKind> {
        let ExprKind::Literal(Literal::Atom(record)) = &name.kind else { return None };
        let ExprKind::Tuple(items) = &fields.kind else { return None };
        let mut defs = Vec::with_capacity(items.len());
        for item in items {
            let def = match &item.kind {
                ExprKind::Literal(Literal::Atom(field)) => RecordFieldDef {
                    name: Name { name: field.clone(), span: item.span },
                    default: None,
                    span: item.span,
                },
                ExprKind::Match(pattern, default) => match &pattern.kind {
                    PatternKind::Literal(Literal::Atom(field)) => RecordFieldDef {
                        name: Name { name: field.clone(), span: pattern.span },
                        default: Some((**default).clone()),
                        span: item.span,
                    },
                    _ => return None,
                },
                _ => return None,
            };
            defs.push(def);
        }
        Some(AttributeKind::Record(Name { name: record.clone(), span: name.span }, defs))
    }
}

/// The elements of the left side of `++` in a pattern: a string or proper list.
fn prefix_elements(p: &Pattern) -> Option<Vec<Pattern>> {
    match &p.kind {
        PatternKind::Literal(Literal::String(s)) => Some(
            s.chars().map(|c| Pattern { span: p.span, kind: PatternKind::Literal(Literal::Char(c as u32)) }).collect(),
        ),
        PatternKind::Nil => Some(Vec::new()),
        PatternKind::Cons(head, tail) => {
            let mut items = vec![(**head).clone()];
            items.extend(prefix_elements(tail)?);
            Some(items)
        }
        _ => None,
    }
}

fn integer_of(lit: &Literal) -> Option<BigInt> {
    match lit {
        Literal::Integer(i) => Some(i.clone()),
        Literal::Char(c) => Some(BigInt::from(*c)),
        _ => None,
    }
}

fn float_of(lit: &Literal) -> Option<f64> {
    match lit {
        Literal::Float(f) => Some(*f),
        _ => integer_of(lit).and_then(|i| i.to_f64()),
    }
}

/// Evaluates a constant arithmetic expression in a pattern, as erlc does.
/// `None` when the operator does not apply or the result is undefined.
fn fold_binary(op: BinaryOp, a: &Literal, b: &Literal) -> Option<Literal> {
    if let (Some(x), Some(y)) = (integer_of(a), integer_of(b)) {
        let shift = |n: &BigInt| n.to_i64().filter(|s| s.abs() <= 1 << 16);
        let result = match op {
            BinaryOp::Add => x + y,
            BinaryOp::Sub => x - y,
            BinaryOp::Mul => x * y,
            BinaryOp::IntDiv if !y.is_zero() => x / y,
            BinaryOp::Rem if !y.is_zero() => x % y,
            BinaryOp::Band => x & y,
            BinaryOp::Bor => x | y,
            BinaryOp::Bxor => x ^ y,
            BinaryOp::Bsl => shift_left(x, shift(&y)?),
            BinaryOp::Bsr => shift_left(x, -shift(&y)?),
            BinaryOp::FloatDiv if !y.is_zero() => return Some(Literal::Float(x.to_f64()? / y.to_f64()?)),
            _ => return None,
        };
        return Some(Literal::Integer(result));
    }
    let (x, y) = (float_of(a)?, float_of(b)?);
    let result = match op {
        BinaryOp::Add => x + y,
        BinaryOp::Sub => x - y,
        BinaryOp::Mul => x * y,
        BinaryOp::FloatDiv if y != 0.0 => x / y,
        _ => return None,
    };
    result.is_finite().then_some(Literal::Float(result))
}

fn shift_left(x: BigInt, by: i64) -> BigInt {
    if by >= 0 {
        x << by as usize
    } else {
        // Arithmetic shift right rounds toward negative infinity, as Erlang's bsr.
        x >> (-by) as usize
    }
}
