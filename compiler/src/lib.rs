//! The `.actor` compiler: source text in, a checked syntax tree (and, from issue
//! 3 on, bytecode) and diagnostics out. It does no I/O: callers pass source
//! text and a file name, and print the diagnostics it returns.
//!
//! The phases, each in its own module: [`lexer`] (tokens), [`preprocess`]
//! (macros and conditionals, like `epp`), [`parser`] (LALRPOP grammar to
//! [`ast`]), [`check`] (the `erl_lint`-style checks), [`diagnostic`] (errors as
//! data, rendered in one place).

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod preprocess;

use crate::ast::{Module, Span};
use crate::diagnostic::Diagnostic;

/// Spans are 32-bit offsets: a larger source is refused, not mis-parsed.
pub const MAX_SOURCE_BYTES: usize = u32::MAX as usize;

/// What to check a source against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The module name the file must declare (its file name without `.actor`).
    pub expected_module: Option<String>,
}

/// The result of compiling one source text.
#[derive(Debug)]
pub struct Compiled {
    pub module: Module,
    /// Errors and warnings in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Lexes, preprocesses and parses a source text. `file_name` is what `?FILE` expands to.
pub fn parse(source: &str, file_name: &str) -> Compiled {
    if source.len() > MAX_SOURCE_BYTES {
        let diagnostic = Diagnostic::error("source-too-large", "the source file is larger than 4 GiB", Span::default());
        return Compiled { module: Module { forms: Vec::new() }, diagnostics: vec![diagnostic] };
    }
    let (tokens, mut diagnostics) = lexer::lex(source);
    let preprocessed = preprocess::preprocess(tokens, source, file_name);
    diagnostics.extend(preprocessed.diagnostics);
    let (module, parse_diagnostics) = parser::parse_forms(preprocessed.forms);
    diagnostics.extend(parse_diagnostics);
    sort(&mut diagnostics);
    Compiled { module, diagnostics }
}

/// Parses and checks a source text: everything `vm check` reports.
pub fn check(source: &str, file_name: &str, options: &Options) -> Compiled {
    let mut compiled = parse(source, file_name);
    if !compiled.has_errors() || !compiled.module.forms.is_empty() {
        let found = check::check_module(&compiled.module, options);
        compiled.diagnostics.extend(found);
        sort(&mut compiled.diagnostics);
    }
    compiled
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}
