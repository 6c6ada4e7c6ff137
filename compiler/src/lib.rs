//! The `.actor` compiler: source text in, a checked syntax tree (and, from issue
//! 3 on, bytecode) and diagnostics out. It does no I/O: callers pass source
//! text and a file name, and print the diagnostics it returns.
//!
//! The phases, each in its own module: [`lexer`] (tokens), [`preprocess`]
//! (macros and conditionals, like `epp`), [`parser`] (LALRPOP grammar to
//! [`ast`]), [`check`] (the `erl_lint`-style checks), [`diagnostic`] (errors as
//! data, rendered in one place).

pub mod ast;
pub mod bytecode;
pub mod check;
pub mod codegen;
pub mod diagnostic;
pub mod lexer;
pub mod parser;
pub mod preprocess;
pub mod shell;

use crate::ast::{Module, Span};
use crate::diagnostic::Diagnostic;

/// Spans are 32-bit offsets: a larger source is refused, not mis-parsed.
pub const MAX_SOURCE_BYTES: usize = u32::MAX as usize;

/// The native stack [`check_with_stack`] gives the compiler. The checker and
/// the syntax tree's destructor recurse once per level of nesting (and per
/// operator in a chain like `1 + 1 + ...`); with the token limit per form in
/// `parser::MAX_FORM_TOKENS`, this bounds the depth with room to spare. It is
/// address space reserved, not memory used: pages are touched only as deep as
/// the source nests.
pub const STACK_SIZE: usize = 1 << 30;

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

/// [`check`] on a thread with a [`STACK_SIZE`] stack, then `then` on the
/// result on that same thread: the way to compile untrusted source, however
/// deeply it nests. The syntax tree is also dropped there (its destructor
/// recurses as deeply as the source nests), so only what `then` returns
/// comes back to the caller's thread.
pub fn check_with_stack<R: Send>(
    source: &str,
    file_name: &str,
    options: &Options,
    then: impl FnOnce(&Compiled) -> R + Send,
) -> R {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("compiler".to_owned())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || then(&check(source, file_name, options)));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // The thread's stack could not be reserved: exhausted address space
            // is fatal anyway, and the command would not get far without it.
            Err(error) => panic!("cannot start the compiler thread: {error}"),
        }
    })
}

/// Checks and compiles a source text into a verified bytecode module. Every
/// diagnostic (warnings too) comes back; the module only if there was no error.
pub fn compile(source: &str, file_name: &str, options: &Options) -> (Option<bytecode::Module>, Vec<Diagnostic>) {
    let compiled = check(source, file_name, options);
    if compiled.has_errors() {
        return (None, compiled.diagnostics);
    }
    let mut diagnostics = compiled.diagnostics;
    match codegen::generate(&compiled.module, source, file_name) {
        Ok(module) => {
            if let Err(error) = bytecode::verify::verify(&module) {
                // The generator made code the verifier refuses: a compiler bug,
                // reported rather than loaded.
                diagnostics.push(Diagnostic::error(
                    "internal",
                    format!("the compiler produced invalid code: {error}"),
                    Span::default(),
                ));
                return (None, diagnostics);
            }
            (Some(module), diagnostics)
        }
        Err(errors) => {
            diagnostics.extend(errors);
            sort(&mut diagnostics);
            (None, diagnostics)
        }
    }
}

/// [`compile`] on a thread with a [`STACK_SIZE`] stack. What it returns is
/// shallow (literals nest at most `codegen::MAX_LITERAL_DEPTH` deep), so it may
/// be used and dropped on any thread.
pub fn compile_with_stack(
    source: &str,
    file_name: &str,
    options: &Options,
) -> (Option<bytecode::Module>, Vec<Diagnostic>) {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("compiler".to_owned())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || compile(source, file_name, options));
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(error) => panic!("cannot start the compiler thread: {error}"),
        }
    })
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}
