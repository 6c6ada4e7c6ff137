//! Code generation: a checked syntax tree to a bytecode module.
//!
//! Module level here (tables of atoms, literals, imports, functions and the
//! queue of functions to compile: the module's own, then the lambdas they
//! create); one function at a time in `function.rs`.
//!
//! The strategy, kept simple so that it is obviously right (see
//! `docs/bytecode.md`): every variable of a function has a `y` slot of the
//! frame, temporaries are `y` slots above them, and `x` registers carry only
//! arguments and results. So, as generated, no `x` register is live where
//! the heap may be collected (`live` is 0) and the stack is the only root
//! besides them.
//! Clauses are matched one after the other; decision trees come later.
//! `optimize.rs` then takes back, function by function, the frames and
//! slot traffic this costs (copy propagation, dead stores, frame sinking,
//! slot compaction).
//!
//! Constructs the generator does not compile yet are reported as
//! `error[not-yet-compiled]` with their location, never miscompiled.

mod fun_names;
mod function;
mod optimize;

use std::collections::{HashMap, VecDeque};

use crate::ast::{self, AttributeKind, Clause, Expr, Form, Span};
use crate::bytecode::{self, Function as FunctionInfo, ImportEntry, Instruction, Label, LambdaEntry, Literal, Local};
use crate::diagnostic::Diagnostic;

/// Constant expressions nested deeper than this are built by code rather than
/// folded into one literal, so that literals stay shallow.
pub const MAX_LITERAL_DEPTH: usize = 64;

/// A function waiting to be compiled: one of the module's own, or a fun's body.
#[derive(Debug, Clone)]
struct Job {
    name: String,
    arity: usize,
    /// The top-level function it is, or whose fun it is: `main/0`.
    top: String,
    clauses: Vec<Clause>,
    /// For a fun: the captured variables, passed after the arguments.
    free: Vec<String>,
    /// For a named fun: the variable that names the fun itself.
    itself: Option<String>,
}

pub(crate) struct Generator {
    line_starts: Vec<usize>,
    out: bytecode::Module,
    atoms: HashMap<String, u32>,
    imports: HashMap<(u32, u32, u32), u32>,
    locals: HashMap<(String, usize), u32>,
    records: HashMap<String, Vec<ast::RecordFieldDef>>,
    /// `-import(M, [f/N])`: the module each imported function comes from.
    explicit_imports: HashMap<(String, usize), String>,
    jobs: VecDeque<(u32, Job)>,
    /// Label id to instruction index, filled as labels are placed.
    labels: Vec<Option<u32>>,
    /// Where the last label was placed: no instruction before it may be
    /// rewritten as if control only came from above.
    last_label_at: Option<usize>,
    lambda_count: usize,
    comprehension_count: usize,
    /// erlc's names for the funs and comprehensions (`fun_names.rs`).
    fun_names: HashMap<fun_names::FunKey, String>,
    diagnostics: Vec<Diagnostic>,
}

/// Compiles a module that passed `check`. `source` gives line numbers.
pub fn generate(module: &ast::Module, source: &str, file: &str) -> Result<bytecode::Module, Vec<Diagnostic>> {
    let mut line_starts = vec![0];
    line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
    let mut generator = Generator {
        line_starts,
        out: bytecode::Module { file: file.to_owned(), ..bytecode::Module::default() },
        atoms: HashMap::new(),
        imports: HashMap::new(),
        locals: HashMap::new(),
        records: HashMap::new(),
        explicit_imports: HashMap::new(),
        jobs: VecDeque::new(),
        labels: Vec::new(),
        last_label_at: None,
        lambda_count: 0,
        comprehension_count: 0,
        fun_names: HashMap::new(),
        diagnostics: Vec::new(),
    };
    generator.collect(module);
    while let Some((index, job)) = generator.jobs.pop_front() {
        generator.compile_job(index, job);
    }
    generator.resolve_labels();
    if generator.diagnostics.is_empty() {
        optimize::optimize(&mut generator.out);
        Ok(generator.out)
    } else {
        Err(generator.diagnostics)
    }
}

impl Generator {
    fn collect(&mut self, module: &ast::Module) {
        let mut exports = Vec::new();
        let mut export_all = false;
        for form in &module.forms {
            match form {
                Form::Attribute(attribute) => match &attribute.kind {
                    AttributeKind::Module(name) => {
                        self.out.name = self.atom(&name.name);
                    }
                    AttributeKind::Export(refs) => {
                        exports.extend(refs.iter().map(|r| (r.name.name.clone(), r.arity)));
                    }
                    AttributeKind::Compile(options) => export_all |= mentions_export_all(options),
                    AttributeKind::Import(from, refs) => {
                        for r in refs {
                            self.explicit_imports.insert((r.name.name.clone(), r.arity), from.name.clone());
                        }
                    }
                    AttributeKind::Record(name, fields) => {
                        self.records.insert(name.name.clone(), fields.clone());
                    }
                    _ => {}
                },
                Form::Function(function) => {
                    let key = (function.name.name.clone(), function.arity);
                    let index = self.declare(&key.0, key.1);
                    let top = format!("{}/{}", key.0, key.1);
                    fun_names::number(&top, &function.clauses, &mut self.fun_names);
                    self.jobs.push_back((
                        index,
                        Job {
                            name: key.0,
                            arity: key.1,
                            top,
                            clauses: function.clauses.clone(),
                            free: Vec::new(),
                            itself: None,
                        },
                    ));
                }
            }
        }
        let mut exported: Vec<(String, usize)> = if export_all {
            let mut all: Vec<(&(String, usize), &u32)> = self.locals.iter().collect();
            all.sort_by_key(|(_, index)| **index);
            all.into_iter().map(|(key, _)| key.clone()).collect()
        } else {
            exports
        };
        exported.dedup();
        for (name, arity) in exported {
            if let Some(&index) = self.locals.get(&(name.clone(), arity)) {
                let atom = self.atom(&name);
                self.out.exports.push((atom, arity as u32, Local(index)));
            }
        }
    }

    /// Reserves a function-table entry; its start is set when it is compiled.
    fn declare(&mut self, name: &str, arity: usize) -> u32 {
        let index = self.out.functions.len() as u32;
        let atom = self.atom(name);
        self.out.functions.push(FunctionInfo { name: atom, arity: arity as u32, start: Label(0) });
        self.locals.insert((name.to_owned(), arity), index);
        index
    }

    pub(crate) fn atom(&mut self, name: &str) -> u32 {
        if let Some(&index) = self.atoms.get(name) {
            return index;
        }
        let index = self.out.atoms.len() as u32;
        self.out.atoms.push(name.to_owned());
        self.atoms.insert(name.to_owned(), index);
        index
    }

    pub(crate) fn literal(&mut self, literal: Literal) -> u32 {
        self.out.literals.push(literal);
        (self.out.literals.len() - 1) as u32
    }

    pub(crate) fn import(&mut self, module: &str, function: &str, arity: usize) -> bytecode::Import {
        let key = (self.atom(module), self.atom(function), arity as u32);
        if let Some(&index) = self.imports.get(&key) {
            return bytecode::Import(index);
        }
        let index = self.out.imports.len() as u32;
        self.out.imports.push(ImportEntry { module: key.0, function: key.1, arity: key.2 });
        self.imports.insert(key, index);
        bytecode::Import(index)
    }

    /// A fun's body, queued as a function of its own; returns its lambda
    /// index. `key` says which fun it is, for erlc's name for it; a fun
    /// erlc does not have (one the compiler makes) is `-main/0-lambda-N-`.
    pub(crate) fn lambda(
        &mut self,
        top: &str,
        key: Option<fun_names::FunKey>,
        clauses: Vec<Clause>,
        free: Vec<String>,
        itself: Option<String>,
    ) -> u32 {
        let args = clauses.first().map_or(0, |c| c.patterns.len());
        let arity = args + free.len();
        let name = key
            .and_then(|key| self.fun_names.get(&key))
            .filter(|name| !self.locals.contains_key(&((*name).clone(), arity)))
            .cloned()
            .unwrap_or_else(|| format!("-{top}-lambda-{}-", self.lambda_count));
        self.lambda_count += 1;
        let index = self.declare(&name, arity);
        let free_count = free.len() as u32;
        let top = top.to_owned();
        self.jobs.push_back((index, Job { name, arity, top, clauses, free, itself }));
        self.out.lambdas.push(LambdaEntry { function: Local(index), arity: args as u32, free: free_count });
        (self.out.lambdas.len() - 1) as u32
    }

    pub(crate) fn local(&self, name: &str, arity: usize) -> Option<u32> {
        self.locals.get(&(name.to_owned(), arity)).copied()
    }

    pub(crate) fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label((self.labels.len() - 1) as u32)
    }

    pub(crate) fn place(&mut self, label: Label) {
        // A jump to the very next instruction does nothing: drop it. Labels
        // placed at the jump now mean the same next instruction.
        if let Some(Instruction::Jump { target }) = self.out.code.last() {
            if *target == label {
                self.out.code.pop();
            }
        }
        self.labels[label.0 as usize] = Some(self.out.code.len() as u32);
        self.last_label_at = Some(self.out.code.len());
    }

    /// A peephole for `I -> from; Move from -> to`: makes the last
    /// instruction write `to` directly and returns true, when it wrote
    /// `from`, nothing can jump between the two, and `from` is dead after
    /// (the caller's promise). The move is then not emitted.
    pub(crate) fn retarget_last(&mut self, from: bytecode::Reg, to: bytecode::Reg) -> bool {
        if self.last_label_at == Some(self.out.code.len()) {
            return false;
        }
        let dst = match self.out.code.last_mut() {
            Some(
                Instruction::Bif { dst, .. }
                | Instruction::Move { dst, .. }
                | Instruction::PutTuple { dst, .. }
                | Instruction::PutList { dst, .. }
                | Instruction::GetTupleElement { dst, .. }
                | Instruction::MakeFun { dst, .. }
                | Instruction::PutMapAssoc { dst, .. }
                | Instruction::PutMapExact { dst, .. }
                | Instruction::BsCreate { dst, .. },
            ) => dst,
            _ => return false,
        };
        if *dst != from {
            return false;
        }
        *dst = to;
        true
    }

    pub(crate) fn emit(&mut self, instruction: Instruction) {
        self.out.code.push(instruction);
    }

    /// Records that the code from here on comes from the line of `span`.
    pub(crate) fn mark_line(&mut self, span: Span) {
        let line = self.line_starts.partition_point(|&start| start <= span.start as usize) as u32;
        let pc = self.out.code.len() as u32;
        match self.out.lines.last_mut() {
            Some(last) if last.1 == line => {}
            Some(last) if last.0 == pc => last.1 = line,
            _ => self.out.lines.push((pc, line)),
        }
    }

    pub(crate) fn unsupported(&mut self, span: Span, what: &str) {
        self.diagnostics.push(
            Diagnostic::error("not-yet-compiled", format!("the code generator does not compile {what} yet"), span)
                .with_note("`vm check` accepts it; running it needs a later version of the compiler"),
        );
    }

    pub(crate) fn record_fields(&self, name: &str) -> Option<&[ast::RecordFieldDef]> {
        self.records.get(name).map(Vec::as_slice)
    }

    /// Replaces label ids in the code by instruction indices.
    fn resolve_labels(&mut self) {
        let positions: Vec<u32> = self.labels.iter().map(|p| p.unwrap_or(0)).collect();
        let fix = |label: &mut Label| label.0 = positions[label.0 as usize];
        for instruction in &mut self.out.code {
            instruction.visit_labels(&mut |label| fix(label));
        }
        for function in &mut self.out.functions {
            fix(&mut function.start);
        }
    }
}

fn mentions_export_all(options: &Expr) -> bool {
    let mut pending = vec![options];
    while let Some(e) = pending.pop() {
        match &e.kind {
            ast::ExprKind::Literal(ast::Literal::Atom(a)) if a == "export_all" => return true,
            ast::ExprKind::Cons(head, tail) => pending.extend([&**head, &**tail]),
            _ => {}
        }
    }
    false
}
