//! The checks `erlc` makes before it compiles (`erl_lint`), on the syntax tree:
//! the module attribute and its name, duplicate and undefined functions,
//! exports and imports, records, unused functions and records here; variables,
//! calls, guards and binary segments inside function bodies in [`body`].
//!
//! Checking never stops at the first problem: every error and warning in the
//! module is reported, each with a stable id (see `docs/diagnostics.md`).

mod bifs;
mod body;

use std::collections::{HashMap, HashSet};

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use crate::Options;

pub use bifs::{is_auto_imported, is_guard_bif};

/// A function's name and arity.
pub(crate) type FunctionKey = (String, usize);

/// What the whole module declares, collected before bodies are checked.
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    pub functions: HashMap<FunctionKey, Span>,
    pub imports: HashMap<FunctionKey, String>,
    /// Records defined so far, in source order: a record must be defined before use.
    pub records: HashMap<String, Record>,
    /// Auto-imported BIFs that `-compile({no_auto_import, [...]})` turns
    /// off (`None`: `-compile(no_auto_import)`, all of them).
    pub no_auto_import: Option<HashSet<FunctionKey>>,
}

#[derive(Debug)]
pub(crate) struct Record {
    pub fields: Vec<String>,
    /// The name of the `-record` attribute that defines it.
    pub span: Span,
}

/// The `-compile` options that change what the checker reports.
#[derive(Debug, Default)]
struct CompileFlags {
    export_all: Option<Span>,
    nowarn_export_all: bool,
    nowarn_unused_vars: bool,
    nowarn_unused_function: bool,
    nowarn_unused_record: bool,
    nowarn_functions: HashSet<FunctionKey>,
    no_auto_import: HashSet<FunctionKey>,
    no_auto_import_all: bool,
}

pub fn check_module(module: &Module, options: &Options) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut info = ModuleInfo::default();
    let flags = compile_flags(module, &mut diagnostics);
    info.no_auto_import = (!flags.no_auto_import_all).then(|| flags.no_auto_import.clone());
    check_module_attribute(module, options, &mut diagnostics);
    collect_functions(module, &mut info, &mut diagnostics);
    let exports = collect_exports(module, &info, &mut diagnostics);
    collect_imports(module, &mut info, &mut diagnostics);
    check_behaviours(module, &exports, flags.export_all.is_some(), &mut diagnostics);

    // Bodies in source order, so that records are known from their definition on.
    let mut calls: HashMap<FunctionKey, HashSet<FunctionKey>> = HashMap::new();
    let mut used_records = HashSet::new();
    let mut seen_function = false;
    for form in &module.forms {
        match form {
            Form::Attribute(attribute) => {
                if seen_function {
                    attribute_after_functions(attribute, &mut diagnostics);
                }
                if let AttributeKind::Record(name, fields) = &attribute.kind {
                    define_record(name, attribute.name.span, fields, &mut info, &mut used_records, &mut diagnostics);
                }
            }
            Form::Function(function) => {
                seen_function = true;
                let key = (function.name.name.clone(), function.arity);
                let mut checker = body::FunctionChecker::new(&info, &mut diagnostics);
                checker.function(function);
                let (called, records, unused) = checker.finish();
                calls.entry(key).or_default().extend(called);
                used_records.extend(records);
                if !flags.nowarn_unused_vars {
                    diagnostics.extend(unused);
                }
            }
        }
    }

    if let Some(span) = flags.export_all {
        if !flags.nowarn_export_all {
            diagnostics.push(
                Diagnostic::warning("export-all", "export_all flag enabled - all functions will be exported", span)
                    .with_note("list the exported functions in -export([...]) instead"),
            );
        }
    } else if !flags.nowarn_unused_function {
        warn_unused_functions(module, &exports, &calls, &flags, &mut diagnostics);
    }
    if !flags.nowarn_unused_record {
        for (name, record) in &info.records {
            if !used_records.contains(name) {
                diagnostics.push(
                    Diagnostic::warning("unused-record", format!("record {name} is unused"), record.span)
                        .with_label("defined here, never used"),
                );
            }
        }
    }
    diagnostics
}

/// Checks an expression sequence typed at the shell, evaluated with the
/// variables `bound` bound (and no local functions but the auto-imported
/// BIFs): returns the variables it binds beyond `bound`, and its errors.
pub fn check_shell_body(body: &[Expr], bound: &[String]) -> (Vec<String>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let info = ModuleInfo::default();
    let mut checker = body::FunctionChecker::new(&info, &mut diagnostics);
    let binds = checker.shell_body(body, bound);
    drop(checker);
    diagnostics.retain(Diagnostic::is_error);
    (binds, diagnostics)
}

fn check_module_attribute(module: &Module, options: &Options, diagnostics: &mut Vec<Diagnostic>) {
    let declared = module.forms.iter().find_map(|form| match form {
        Form::Attribute(Attribute { kind: AttributeKind::Module(name), .. }) => Some(name),
        _ => None,
    });
    match declared {
        None => {
            let span = module.forms.first().map(form_name_span).unwrap_or_default();
            let mut diagnostic = Diagnostic::error("no-module", "no module definition", span)
                .with_note("a module starts with -module(name). where name is the file's name");
            if let Some(expected) = &options.expected_module {
                diagnostic = diagnostic.with_note(format!("for this file: -module({expected})."));
            }
            diagnostics.push(diagnostic);
        }
        Some(name) => {
            if let Some(expected) = options.expected_module.as_deref().filter(|&e| e != name.name) {
                diagnostics.push(
                    Diagnostic::error(
                        "module-name-mismatch",
                        format!("module name '{}' does not match file name '{expected}'", name.name),
                        name.span,
                    )
                    .with_label(format!("the file is named {expected}.actor"))
                    .with_note("rename the file or the module: calls find a module by its file name"),
                );
            }
        }
    }
}

fn form_name_span(form: &Form) -> Span {
    match form {
        Form::Attribute(a) => a.name.span,
        Form::Function(f) => f.name.span,
    }
}

fn collect_functions(module: &Module, info: &mut ModuleInfo, diagnostics: &mut Vec<Diagnostic>) {
    for form in &module.forms {
        let Form::Function(function) = form else { continue };
        let key = (function.name.name.clone(), function.arity);
        if let Some(&first) = info.functions.get(&key) {
            diagnostics.push(
                Diagnostic::error(
                    "duplicate-function",
                    format!("function {}/{} already defined", key.0, key.1),
                    function.name.span,
                )
                .with_secondary(first, "first defined here")
                .with_note("all clauses of a function must be together, separated by `;`"),
            );
        } else {
            info.functions.insert(key, function.name.span);
        }
    }
}

fn collect_exports(module: &Module, info: &ModuleInfo, diagnostics: &mut Vec<Diagnostic>) -> HashSet<FunctionKey> {
    let mut exports = HashSet::new();
    // An export after the first function is an error (reported in source
    // order) and is ignored, as erl_lint ignores it.
    let before_functions = module.forms.iter().take_while(|form| matches!(form, Form::Attribute(_)));
    for form in before_functions {
        let Form::Attribute(Attribute { kind: AttributeKind::Export(refs), .. }) = form else { continue };
        for r in refs {
            let key = (r.name.name.clone(), r.arity);
            if !info.functions.contains_key(&key) {
                diagnostics.push(undefined_function(&key, r.span, info));
            } else if !exports.insert(key) {
                diagnostics.push(Diagnostic::warning(
                    "duplicate-export",
                    format!("function {}/{} already exported", r.name.name, r.arity),
                    r.span,
                ));
            }
        }
    }
    exports
}

fn collect_imports(module: &Module, info: &mut ModuleInfo, diagnostics: &mut Vec<Diagnostic>) {
    for form in &module.forms {
        let Form::Attribute(Attribute { kind: AttributeKind::Import(from, refs), .. }) = form else { continue };
        for r in refs {
            let key = (r.name.name.clone(), r.arity);
            if info.functions.contains_key(&key) {
                diagnostics.push(Diagnostic::error(
                    "import-conflict",
                    format!("defining imported function {}/{}", key.0, key.1),
                    r.span,
                ));
            } else if let Some(other) = info.imports.get(&key).filter(|&m| m != &from.name) {
                diagnostics.push(Diagnostic::error(
                    "import-conflict",
                    format!("function {}/{} already imported from {other}", key.0, key.1),
                    r.span,
                ));
            } else {
                info.imports.insert(key, from.name.clone());
            }
        }
    }
}

/// The diagnostic for a call to, or export of, a function that does not exist,
/// with a hint when another arity of the same name does.
pub(crate) fn undefined_function(key: &FunctionKey, span: Span, info: &ModuleInfo) -> Diagnostic {
    let mut diagnostic =
        Diagnostic::error("undefined-function", format!("function {}/{} undefined", key.0, key.1), span);
    let mut arities: Vec<usize> = info.functions.keys().filter(|(n, _)| n == &key.0).map(|(_, a)| *a).collect();
    arities.sort_unstable();
    if !arities.is_empty() {
        let defined: Vec<String> = arities.iter().map(|a| format!("{}/{a}", key.0)).collect();
        diagnostic = diagnostic.with_note(format!("defined here: {}", defined.join(", ")));
    }
    diagnostic
}

/// Only records and type-level attributes may follow the first function.
fn attribute_after_functions(attribute: &Attribute, diagnostics: &mut Vec<Diagnostic>) {
    let name = match &attribute.kind {
        AttributeKind::Record(..) | AttributeKind::TypeLevel(_) => return,
        AttributeKind::Module(_) => "module",
        AttributeKind::Export(_) => "export",
        AttributeKind::Import(..) => "import",
        AttributeKind::Compile(_) => "compile",
        AttributeKind::Behaviour(_) => "behaviour",
        AttributeKind::Other(name, _) => &name.name,
    };
    diagnostics.push(
        Diagnostic::error(
            "attribute-after-function",
            format!("attribute {name} after function definitions"),
            attribute.name.span,
        )
        .with_note("put attributes other than -record and -spec before the first function"),
    );
}

/// The callbacks an OTP behaviour requires (`Module:behaviour_info(callbacks)`
/// minus the optional ones), for the behaviours the standard library provides.
fn required_callbacks(behaviour: &str) -> &'static [(&'static str, usize)] {
    match behaviour {
        "gen_server" => &[("init", 1), ("handle_call", 3), ("handle_cast", 2)],
        "supervisor" => &[("init", 1)],
        "application" => &[("start", 2), ("stop", 1)],
        _ => &[],
    }
}

/// A behaviour's callbacks must be defined and exported (the behaviour calls them from outside).
fn check_behaviours(
    module: &Module,
    exports: &HashSet<FunctionKey>,
    export_all: bool,
    diagnostics: &mut Vec<Diagnostic>,
) {
    // Who required each callback first, for erl_lint's "conflicting
    // behaviours" warning (two behaviours both call init/1, say).
    let mut required: HashMap<(&str, usize), (&str, Span)> = HashMap::new();
    for form in &module.forms {
        let Form::Attribute(Attribute { kind: AttributeKind::Behaviour(behaviour), name: attribute, .. }) = form else {
            continue;
        };
        let mut callbacks = required_callbacks(&behaviour.name).to_vec();
        callbacks.sort_unstable();
        for &(name, arity) in &callbacks {
            match required.get(&(name, arity)) {
                Some(&(first, span)) => diagnostics.push(
                    Diagnostic::warning(
                        "conflicting-behaviours",
                        format!(
                            "conflicting behaviours - callback {name}/{arity} required by both '{}' and '{first}'",
                            behaviour.name
                        ),
                        attribute.span,
                    )
                    .with_secondary(span, format!("'{first}' requires it too")),
                ),
                None => {
                    required.insert((name, arity), (&behaviour.name, attribute.span));
                }
            }
        }
        for &(name, arity) in required_callbacks(&behaviour.name) {
            if !export_all && !exports.contains(&(name.to_owned(), arity)) {
                diagnostics.push(Diagnostic::warning(
                    "undefined-callback",
                    format!("undefined callback function {name}/{arity} (behaviour '{}')", behaviour.name),
                    attribute.span,
                ));
            }
        }
    }
}

fn define_record(
    name: &Name,
    attribute: Span,
    fields: &[RecordFieldDef],
    info: &mut ModuleInfo,
    used_records: &mut HashSet<String>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(previous) = info.records.get(&name.name) {
        diagnostics.push(
            Diagnostic::error("duplicate-record", format!("record {} already defined", name.name), attribute)
                .with_secondary(previous.span, "first defined here"),
        );
        return;
    }
    let mut names: Vec<String> = Vec::with_capacity(fields.len());
    for field in fields {
        if names.contains(&field.name.name) {
            diagnostics.push(Diagnostic::error(
                "duplicate-field",
                format!("field {} already defined in record {}", field.name.name, name.name),
                field.name.span,
            ));
        }
        names.push(field.name.name.clone());
        if let Some(default) = &field.default {
            // Defaults are evaluated where the record is built: they may not use variables.
            let mut checker = body::FunctionChecker::new(info, diagnostics);
            checker.record_default(default);
            let (_, records, _) = checker.finish();
            used_records.extend(records);
        }
    }
    info.records.insert(name.name.clone(), Record { fields: names, span: attribute });
}

fn compile_flags(module: &Module, diagnostics: &mut Vec<Diagnostic>) -> CompileFlags {
    let mut flags = CompileFlags::default();
    for form in &module.forms {
        let Form::Attribute(Attribute { kind: AttributeKind::Compile(options), name, .. }) = form else { continue };
        let span = &name.span;
        let mut items = Vec::new();
        let mut cursor = options;
        while let ExprKind::Cons(head, tail) = &cursor.kind {
            items.push(&**head);
            cursor = tail;
        }
        if !matches!(cursor.kind, ExprKind::Nil) {
            items.push(cursor);
        }
        for item in items {
            match &item.kind {
                ExprKind::Literal(Literal::Atom(flag)) => match flag.as_str() {
                    "export_all" => flags.export_all = Some(*span),
                    "nowarn_export_all" => flags.nowarn_export_all = true,
                    "nowarn_unused_vars" => flags.nowarn_unused_vars = true,
                    "nowarn_unused_function" => flags.nowarn_unused_function = true,
                    "nowarn_unused_record" => flags.nowarn_unused_record = true,
                    "no_auto_import" => flags.no_auto_import_all = true,
                    _ => {}
                },
                ExprKind::Tuple(pair) if pair.len() == 2 => match &pair[0].kind {
                    ExprKind::Literal(Literal::Atom(key)) if key == "parse_transform" => diagnostics.push(
                        Diagnostic::error(
                            "outside-subset",
                            "parse transforms are outside the .actor subset",
                            item.span,
                        )
                        .with_label("not supported"),
                    ),
                    ExprKind::Literal(Literal::Atom(key)) if key == "nowarn_unused_function" => {
                        flags.nowarn_functions.extend(function_list(&pair[1]));
                    }
                    ExprKind::Literal(Literal::Atom(key)) if key == "no_auto_import" => {
                        flags.no_auto_import.extend(function_list(&pair[1]));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    flags
}

/// `f/1` or `[f/1, g/2]` in a compile option.
fn function_list(expr: &Expr) -> Vec<FunctionKey> {
    let mut keys = Vec::new();
    let mut items = vec![expr];
    while let Some(item) = items.pop() {
        match &item.kind {
            ExprKind::Cons(head, tail) => items.extend([&**head, &**tail]),
            ExprKind::BinaryOp(BinaryOp::FloatDiv, name, arity) => {
                if let (ExprKind::Literal(Literal::Atom(n)), ExprKind::Literal(Literal::Integer(a))) =
                    (&name.kind, &arity.kind)
                {
                    if let Ok(a) = usize::try_from(a) {
                        keys.push((n.clone(), a));
                    }
                }
            }
            _ => {}
        }
    }
    keys
}

/// A local function is unused when no exported function reaches it through
/// calls and `fun f/N` references (`erl_lint` does the same walk).
fn warn_unused_functions(
    module: &Module,
    exports: &HashSet<FunctionKey>,
    calls: &HashMap<FunctionKey, HashSet<FunctionKey>>,
    flags: &CompileFlags,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut reached: HashSet<&FunctionKey> = HashSet::new();
    let mut work: Vec<&FunctionKey> = exports.iter().collect();
    while let Some(key) = work.pop() {
        if reached.insert(key) {
            if let Some(callees) = calls.get(key) {
                work.extend(callees.iter());
            }
        }
    }
    for form in &module.forms {
        let Form::Function(function) = form else { continue };
        let key = (function.name.name.clone(), function.arity);
        if !reached.contains(&key) && !flags.nowarn_functions.contains(&key) {
            diagnostics.push(
                Diagnostic::warning(
                    "unused-function",
                    format!("function {}/{} is unused", key.0, key.1),
                    function.name.span,
                )
                .with_label("never called from an exported function"),
            );
        }
    }
}
