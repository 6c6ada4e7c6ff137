//! The abstract syntax tree of one `.actor` module, as the parser produces it
//! after preprocessing. Every node carries the byte [`Span`] of its source so
//! that later phases can point at it. Patterns are a type of their own
//! ([`Pattern`]), not expressions, so no later phase has to ask "is this
//! expression a legal pattern?": the parser answers that once.
//!
//! The tree is plain data: no phase after the parser mutates it in place.

use std::fmt;

use num_bigint::BigInt;

/// A half-open byte range `start..end` in the source text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        // Sources are limited to 4 GiB by `crate::MAX_SOURCE_BYTES`.
        Span { start: start as u32, end: end as u32 }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// An atom written in the source, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub forms: Vec<Form>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    Attribute(Attribute),
    Function(Function),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub span: Span,
    /// The attribute's name as written after the `-` (`module`, `record`, ...):
    /// diagnostics about the attribute as a whole point here, as erlc's do.
    pub name: Name,
    pub kind: AttributeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttributeKind {
    /// `-module(name).`
    Module(Name),
    /// `-export([f/1, ...]).`
    Export(Vec<FunctionRef>),
    /// `-import(module, [f/1, ...]).`
    Import(Name, Vec<FunctionRef>),
    /// `-compile(Options).`: the options as written (an atom, a tuple or a list).
    Compile(Expr),
    /// `-behaviour(name).` or `-behavior(name).`
    Behaviour(Name),
    /// `-record(name, {field = Default, ...}).`
    Record(Name, Vec<RecordFieldDef>),
    /// Type-level attributes (`-spec`, `-type`, `-opaque`, `-callback`,
    /// `-export_type`, ...): accepted so that real Erlang modules compile, and
    /// otherwise ignored, as the language has no static types.
    TypeLevel(Name),
    /// Any other attribute `-name(Term).` (`-vsn`, `-author`, ...), kept as data.
    Other(Name, Expr),
}

/// `name/arity` in an export or import list.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionRef {
    pub name: Name,
    pub arity: usize,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordFieldDef {
    pub name: Name,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub name: Name,
    pub arity: usize,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// A clause of a function, fun, `case`, `receive`, `if` or `try ... of`.
/// `patterns` has one element per argument (one for `case`, none for `if`).
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub span: Span,
    pub patterns: Vec<Pattern>,
    pub guard: Option<Guard>,
    pub body: Vec<Expr>,
}

/// `when G1a, G1b; G2a`: alternatives separated by `;`, each a conjunction of tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub alternatives: Vec<Vec<Expr>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Integer(BigInt),
    Float(f64),
    Atom(String),
    /// `$c`: an integer, written as a character.
    Char(u32),
    /// `"abc"`: a list of character codes. Adjacent strings are already joined.
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    Var(String),
    Tuple(Vec<Expr>),
    /// `[]`
    Nil,
    /// `[Head | Tail]`; `[a, b]` is `Cons(a, Cons(b, Nil))`.
    Cons(Box<Expr>, Box<Expr>),
    Binary(Vec<BinElement<Expr>>),
    /// `#{K => V}` (base `None`) or `Base#{K => V, K2 := V2}`.
    Map(Option<Box<Expr>>, Vec<MapField>),
    /// `#name{field = V}`
    RecordNew(Name, Vec<RecordField<Expr>>),
    /// `Expr#name{field = V}`
    RecordUpdate(Box<Expr>, Name, Vec<RecordField<Expr>>),
    /// `Expr#name.field`
    RecordAccess(Box<Expr>, Name, Name),
    /// `#name.field`: the field's position in the record tuple.
    RecordIndex(Name, Name),
    /// `Pattern = Expr`
    Match(Box<Pattern>, Box<Expr>),
    /// `To ! Message`
    Send(Box<Expr>, Box<Expr>),
    BinaryOp(BinaryOp, Box<Expr>, Box<Expr>),
    UnaryOp(UnaryOp, Box<Expr>),
    Call(CallTarget, Vec<Expr>),
    Case(Box<Expr>, Vec<Clause>),
    /// The clauses have no patterns, only guards.
    If(Vec<Clause>),
    Receive(Vec<Clause>, Option<Box<After>>),
    Try(Box<Try>),
    Catch(Box<Expr>),
    /// `begin ... end`
    Block(Vec<Expr>),
    Fun(Box<Fun>),
    ListComprehension(Box<Expr>, Vec<Qualifier>),
    BinaryComprehension(Box<Expr>, Vec<Qualifier>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    FloatDiv,
    IntDiv,
    Rem,
    Band,
    Bor,
    Bxor,
    Bsl,
    Bsr,
    And,
    Or,
    Xor,
    Andalso,
    Orelse,
    Append,
    Subtract,
    Eq,
    NotEq,
    ExactEq,
    ExactNotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
}

impl BinaryOp {
    /// The operator as written in source.
    pub fn text(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::FloatDiv => "/",
            BinaryOp::IntDiv => "div",
            BinaryOp::Rem => "rem",
            BinaryOp::Band => "band",
            BinaryOp::Bor => "bor",
            BinaryOp::Bxor => "bxor",
            BinaryOp::Bsl => "bsl",
            BinaryOp::Bsr => "bsr",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Xor => "xor",
            BinaryOp::Andalso => "andalso",
            BinaryOp::Orelse => "orelse",
            BinaryOp::Append => "++",
            BinaryOp::Subtract => "--",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "/=",
            BinaryOp::ExactEq => "=:=",
            BinaryOp::ExactNotEq => "=/=",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::LtEq => "=<",
            BinaryOp::GtEq => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Plus,
    Minus,
    Bnot,
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallTarget {
    /// `f(...)`: a local function, an import or an auto-imported BIF.
    Local(Name),
    /// `M:F(...)`, where `M` and `F` are any expressions.
    Remote(Box<Expr>, Box<Expr>),
    /// `F(...)` where `F` is not an atom: calls a fun.
    Fun(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub timeout: Expr,
    pub body: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Try {
    pub body: Vec<Expr>,
    /// The `of` clauses, if any.
    pub clauses: Vec<Clause>,
    pub catch_clauses: Vec<CatchClause>,
    pub after: Vec<Expr>,
}

/// `Class:Reason:Stack when Guard -> Body` in a `try ... catch`.
#[derive(Debug, Clone, PartialEq)]
pub struct CatchClause {
    pub span: Span,
    /// An atom or a variable; `None` means `throw`.
    pub class: Option<Pattern>,
    pub reason: Pattern,
    /// The variable bound to the stack trace.
    pub stack: Option<Name>,
    pub guard: Option<Guard>,
    pub body: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fun {
    /// `fun name/arity`
    Local(Name, usize),
    /// `fun M:F/A` where each part is an atom, an integer or a variable.
    Remote(Expr, Expr, Expr),
    /// `fun (...) -> ... end`, or a named fun `fun Name(...) -> ... end`.
    Lambda(Option<Name>, Vec<Clause>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `Pattern <- ListExpr`
    Generator(Pattern, Expr),
    /// `<<Pattern>> <= BinaryExpr`
    BinaryGenerator(Pattern, Expr),
    Filter(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct MapField {
    pub key: Expr,
    pub value: Expr,
    /// `:=` (the key must exist) rather than `=>`.
    pub exact: bool,
    pub span: Span,
}

/// `field = Value` in a record expression or pattern; the field `_` sets
/// every field not named.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordField<T> {
    pub name: Name,
    pub value: T,
    pub span: Span,
}

/// One segment `Value:Size/Type-Specifiers` of a binary.
#[derive(Debug, Clone, PartialEq)]
pub struct BinElement<T> {
    pub value: T,
    pub size: Option<Expr>,
    pub specifiers: Vec<BinSpecifier>,
    pub span: Span,
}

/// One type specifier of a binary segment: `integer`, `big`, `unit:8`, ...
/// Checked against the subset by the checker, which names what it refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct BinSpecifier {
    pub name: String,
    pub unit: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub span: Span,
    pub kind: PatternKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PatternKind {
    /// Literals, including the result of constant expressions (`-1`, `1 + 2`).
    Literal(Literal),
    Var(String),
    /// `_`
    Wildcard,
    Tuple(Vec<Pattern>),
    Nil,
    Cons(Box<Pattern>, Box<Pattern>),
    Binary(Vec<BinElement<Pattern>>),
    /// `#{Key := Pattern}`: keys are guard expressions.
    Map(Vec<(Expr, Pattern)>),
    Record(Name, Vec<RecordField<Pattern>>),
    /// `#name.field` in a pattern: the field's index, an integer.
    RecordIndex(Name, Name),
    /// `P1 = P2`: both must match.
    Match(Box<Pattern>, Box<Pattern>),
}

impl Pattern {
    /// Calls `f` with every variable the pattern binds or compares, left to right,
    /// including those in nested patterns but not those in size or key expressions.
    pub fn for_each_var<'a>(&'a self, f: &mut dyn FnMut(&'a str, Span)) {
        match &self.kind {
            PatternKind::Var(name) => f(name, self.span),
            PatternKind::Literal(_) | PatternKind::Wildcard | PatternKind::Nil | PatternKind::RecordIndex(..) => {}
            PatternKind::Tuple(items) => items.iter().for_each(|p| p.for_each_var(f)),
            PatternKind::Cons(head, tail) => {
                head.for_each_var(f);
                tail.for_each_var(f);
            }
            PatternKind::Binary(elements) => elements.iter().for_each(|e| e.value.for_each_var(f)),
            PatternKind::Map(pairs) => pairs.iter().for_each(|(_, p)| p.for_each_var(f)),
            PatternKind::Record(_, fields) => fields.iter().for_each(|field| field.value.for_each_var(f)),
            PatternKind::Match(left, right) => {
                left.for_each_var(f);
                right.for_each_var(f);
            }
        }
    }
}
