//! `vm run`: compiles the program's module (and makes every other `.actor`
//! file of its folder and the standard library available, compiled on first
//! use), runs `main/0` (or `main/1` with the arguments as strings), and turns
//! the outcome into an exit status: 0 when `main` returns, 1 when it raises
//! (the error printed to stderr as the erl shell prints it), or the status
//! given to `erlang:halt/1`. `main` runs as a process on the schedulers;
//! the run ends when it does, whatever other processes are doing.

use std::io::Write as _;
use std::path::Path;

use crate::atom::{self, atoms};
use crate::code::{CodeServer, Source};
use crate::exception::{Class, Exception};
use crate::print;
use crate::process::{Process, Resume};
use crate::scheduler::Runtime;
use crate::term::Term;

/// How `vm run` runs a program.
#[derive(Debug, Clone)]
pub struct Options {
    pub schedulers: usize,
    /// The process limit (`spawn` raises system_limit past it).
    pub max_processes: usize,
    /// The most bytes one process may take before it is killed (default:
    /// a quarter of the memory the VM may use).
    pub max_process_memory: Option<usize>,
    /// Listen on the control socket of this name (`control.rs`).
    pub name: Option<String>,
    /// Load modules again when their sources change (`watch.rs`).
    pub watch: bool,
}

/// Runs a program; returns the process exit status.
pub fn run(path: &Path, args: &[String], options: &Options) -> i32 {
    let Options { schedulers, max_processes, max_process_memory, name, watch } = options.clone();
    if let Some(bytes) = max_process_memory {
        crate::process::set_memory_cap(bytes);
    }
    let code = CodeServer::new();
    crate::stdlib::register(&code);
    let Some(module_name) = path.file_stem().and_then(|s| s.to_str()) else {
        eprintln!("{}: not a module file name", path.display());
        return 1;
    };
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    add_folder(&code, folder, Some(path));
    // The program's own module is compiled now, so its errors stop the run.
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            eprintln!("{}: not UTF-8 text", path.display());
            return 1;
        }
        Err(error) => {
            eprintln!("{}: cannot read: {error}", path.display());
            return 1;
        }
    };
    let file_name = path.display().to_string();
    let options = compiler::Options { expected_module: Some(module_name.to_owned()) };
    let (module, diagnostics) = compiler::compile_with_stack(&text, &file_name, &options);
    let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        let color = std::io::IsTerminal::is_terminal(&std::io::stderr());
        eprint!("{}", compiler::diagnostic::render(&file_name, &text, &errors, color));
        return 1;
    }
    let Some(module) = module else { return 1 };
    if let Err(error) = code.load(module) {
        eprintln!("{file_name}: cannot load: {error:?}");
        return 1;
    }
    // Loaded again from here by `code:load_file/1` and `l/1`.
    code.add_source(module_name, Source { file_name, text });
    let (Ok(module_atom), Ok(main)) = (atom::intern(module_name), atom::intern("main")) else {
        return 1;
    };
    let runtime = match Runtime::start(code, schedulers) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("vm: cannot start the schedulers: {error}");
            return 1;
        }
    };
    runtime.set_max_processes(max_processes);
    // Kept until the run ends: the socket file goes with it.
    let _control = match name.as_deref().map(|name| crate::control::Control::listen(runtime, name)) {
        Some(Err(why)) => {
            eprintln!("vm: {why}");
            return 1;
        }
        Some(Ok(control)) => Some(control),
        None => None,
    };
    if watch {
        if let Err(why) = crate::watch::start(runtime, folder) {
            eprintln!("vm: cannot watch {}: {why}", folder.display());
            return 1;
        }
    }
    let mut process = Process::new(crate::scheduler::MAIN_PID);
    if !args.is_empty() {
        process.ensure(args.iter().map(|a| 2 * a.chars().count() + 2).sum(), &mut []);
        let strings: Vec<Term> = args
            .iter()
            .map(|a| {
                let chars: Vec<Term> = a.chars().map(|c| Term::small(c as i64).unwrap_or(Term::NIL)).collect();
                process.heap.list(&chars)
            })
            .collect();
        process.saved_x = Box::new([process.heap.list(&strings)]);
    }
    process.resume = Some(Resume::Start { module: module_atom, function: main });
    // erl runs `-eval` in a process that traps exits; so does `vm run`, so
    // that a program's links behave as under `erl -noshell -eval`.
    process.trap_exit = true;
    let Some(place) = runtime.reserve_process() else {
        eprintln!("vm: no room in the process table for main");
        return 1;
    };
    runtime.spawn(place, process);
    let status = runtime.wait();
    let _ = std::io::stdout().flush();
    status
}

/// Makes every `.actor` file of `folder` (but `except`) the source of the
/// module its name gives, compiled on first use.
pub fn add_folder(code: &CodeServer, folder: &Path, except: Option<&Path>) {
    code.add_path(folder);
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let file = entry.path();
        if file.extension().is_some_and(|e| e == "actor") && Some(file.as_path()) != except {
            if let (Some(name), Ok(text)) = (file.file_stem().and_then(|s| s.to_str()), std::fs::read_to_string(&file))
            {
                code.add_source(name, Source { file_name: file.display().to_string(), text });
            }
        }
    }
}

/// An uncaught exception as the erl shell shows it.
pub fn describe(exception: &Exception) -> String {
    let class = class_name(exception.class);
    let clause_args = exception.args.as_ref().filter(|_| exception.reason == atoms::FUNCTION_CLAUSE);
    if let (Some(args), Some(location)) = (clause_args, exception.trace.first()) {
        if let Some(function) = location.module.function_at(location.pc) {
            let line = location.module.line_of(location.pc).map(|l| format!(", line {l}")).unwrap_or_default();
            let text = no_clause(location.module.name, function.name, args, &location.module.file, &line);
            return format!("** exception {class}: {text}\n");
        }
    }
    let undef = exception.callee.as_deref().map(|(module, function, args)| (*module, *function, args.len()));
    let text = reason_text(class, exception.reason, undef);
    let mut out = format!("** exception {class}: {text}\n");
    // A built-in that raised: the shell names it and shows the call.
    let mut lead = "in function ";
    if let Some((module, function, args)) = exception.callee.as_deref().filter(|_| exception.reason != atoms::UNDEF) {
        out.push_str(&called_as(*module, *function, args));
        lead = "in call from";
    }
    if let Some(location) = exception.trace.first() {
        if let Some(function) = location.module.function_at(location.pc) {
            let line = location.module.line_of(location.pc).map(|l| format!(", line {l}")).unwrap_or_default();
            out.push_str(&format!(
                "     {lead} {}:{}/{} ({}{line})\n",
                print::atom_text(atom::name(location.module.name).unwrap_or("?")),
                print::atom_text(atom::name(function.name).unwrap_or("?")),
                function.trace_arity,
                location.module.file,
            ));
        }
    }
    out
}

/// The shell's lines naming a built-in or operator that raised, and its arguments.
fn called_as(module: Term, function: Term, args: &[Term]) -> String {
    let name = print::atom_text(atom::name(function).unwrap_or("?"));
    let qualified = if module == atoms::ERLANG {
        name.clone()
    } else {
        format!("{}:{name}", print::atom_text(atom::name(module).unwrap_or("?")))
    };
    let shown: Vec<String> = args.iter().map(|&a| print::print(a)).collect();
    let operator = atom::name(function).filter(|&f| module == atoms::ERLANG && is_operator(f, shown.len()));
    // erl quotes `/` alone (`//2` would read as another operator).
    let named = |operator| if operator == "/" { "'/'" } else { operator };
    match (operator, &shown[..]) {
        (Some(operator), [a]) => format!("     in operator  {}/1\n        called as {operator} {a}\n", named(operator)),
        (Some(operator), [a, b]) => {
            format!("     in operator  {}/2\n        called as {a} {operator} {b}\n", named(operator))
        }
        _ => {
            format!(
                "     in function  {qualified}/{}\n        called as {qualified}({})\n",
                shown.len(),
                shown.join(",")
            )
        }
    }
}

/// The operators of erl_internal (arith_op, bool_op, comp_op, list_op,
/// send_op), by name and arity.
fn is_operator(name: &str, arity: usize) -> bool {
    match arity {
        1 => matches!(name, "+" | "-" | "bnot" | "not"),
        2 => matches!(
            name,
            "+" | "-"
                | "*"
                | "/"
                | "div"
                | "rem"
                | "band"
                | "bor"
                | "bxor"
                | "bsl"
                | "bsr"
                | "and"
                | "or"
                | "xor"
                | "=="
                | "/="
                | "=<"
                | "<"
                | ">="
                | ">"
                | "=:="
                | "=/="
                | "++"
                | "--"
                | "!"
        ),
        _ => false,
    }
}

fn class_name(class: Class) -> &'static str {
    match class {
        Class::Error => "error",
        Class::Throw => "throw",
        Class::Exit => "exit",
    }
}

/// What the shell says of `reason` raised in `class`; `undef` is the
/// function that was missing, for `undef`.
fn reason_text(class: &str, reason: Term, undef: Option<(Term, Term, usize)>) -> String {
    if class != "error" {
        return print::print(reason);
    }
    if let Some(elements) = reason.tuple_elements().filter(|e| e.len() == 2) {
        let tag = atom::name(elements[0]).unwrap_or("");
        return match tag {
            "badmatch" => format!("no match of right hand side value {}", print::print(elements[1])),
            "case_clause" => format!("no case clause matching {}", print::print(elements[1])),
            "try_clause" => format!("no try clause matching {}", print::print(elements[1])),
            "badfun" => format!("bad function {}", print::print(elements[1])),
            "bad_generator" => format!("bad generator {}", print::print(elements[1])),
            "bad_filter" => format!("bad filter {}", print::print(elements[1])),
            _ => print::print(reason),
        };
    }
    match atom::name(reason).unwrap_or("") {
        "badarg" => "bad argument".to_owned(),
        "badarith" => "an error occurred when evaluating an arithmetic expression".to_owned(),
        "function_clause" => "no function clause matching".to_owned(),
        "if_clause" => "no true branch found when evaluating an if expression".to_owned(),
        "undef" => match undef {
            // The shell sends local calls it does not know to shell_default.
            Some((module, function, arity)) if atom::name(module) == Some("shell_default") => {
                format!("undefined shell command {}/{arity}", print::atom_text(atom::name(function).unwrap_or("?")))
            }
            Some((module, function, arity)) => format!(
                "undefined function {}:{}/{arity}",
                print::atom_text(atom::name(module).unwrap_or("?")),
                print::atom_text(atom::name(function).unwrap_or("?")),
            ),
            None => "undefined function".to_owned(),
        },
        _ => print::print(reason),
    }
}

/// An exception caught as `Class:Reason:Stack` (the atom, the reason and
/// the stack trace as terms), as the erl shell shows it. Frames of modules
/// for which `hidden` is true (the shell's own code) are left out.
pub fn describe_caught(class: Term, reason: Term, stack: Term, hidden: &dyn Fn(Term) -> bool) -> String {
    let class = atom::name(class).unwrap_or("error");
    let all: Vec<(Term, Term, Term, Term)> = list_terms(stack)
        .into_iter()
        .filter_map(|frame| match frame.tuple_elements() {
            Some(&[module, function, args, location]) => Some((module, function, args, location)),
            _ => None,
        })
        .collect();
    // The function no clause of which matched is named even when it is
    // hidden (a fun typed at the prompt), as erl names it.
    let has_args = |&(_, _, args, _): &(Term, Term, Term, Term)| args.is_cons() || args.is_nil();
    if let Some(&(module, function, args, location)) =
        all.first().filter(|f| reason == atoms::FUNCTION_CLAUSE && has_args(f))
    {
        let (file, line) = location_parts(location);
        return format!("** exception {class}: {}\n", no_clause(module, function, &list_terms(args), &file, &line));
    }
    let frames: Vec<_> = all.into_iter().filter(|&(module, ..)| !hidden(module)).collect();
    let callee = frames.first().filter(|f| has_args(f)).copied();
    let undef = callee.map(|(module, function, args, _)| (module, function, list_terms(args).len()));
    let mut out = format!("** exception {class}: {}\n", reason_text(class, reason, undef));
    if reason == atoms::UNDEF && class == "error" {
        return out;
    }
    let mut lead = "in function ";
    let mut rest = frames.as_slice();
    if let Some((module, function, args, _)) = callee {
        out.push_str(&called_as(module, function, &list_terms(args)));
        lead = "in call from";
        rest = &frames[1..];
    }
    if let Some(&(module, function, arity, location)) = rest.first() {
        let (file, line) = location_parts(location);
        out.push_str(&format!(
            "     {lead} {}:{}/{} ({file}{line})\n",
            print::atom_text(atom::name(module).unwrap_or("?")),
            print::atom_text(atom::name(function).unwrap_or("?")),
            print::print(arity),
        ));
    }
    out
}

/// The file and the `, line N` of a stack entry's location list.
fn location_parts(location: Term) -> (String, String) {
    let mut file = String::new();
    let mut line = String::new();
    for item in list_terms(location) {
        match item.tuple_elements() {
            Some(&[key, value]) if key == atoms::FILE => {
                file = list_terms(value).into_iter().filter_map(|c| char::from_u32(c.small_value() as u32)).collect();
            }
            Some(&[key, value]) if key == atoms::LINE => line = format!(", line {}", print::print(value)),
            _ => {}
        }
    }
    (file, line)
}

/// erl's text for `function_clause`: the call that no clause matched, and
/// where the function is.
fn no_clause(module: Term, function: Term, args: &[Term], file: &str, line: &str) -> String {
    let shown: Vec<String> = args.iter().map(|&a| print::print(a)).collect();
    format!(
        "no function clause matching {}:{}({}) ({file}{line})",
        print::atom_text(atom::name(module).unwrap_or("?")),
        print::atom_text(atom::name(function).unwrap_or("?")),
        shown.join(",")
    )
}

/// The elements of a proper list (up to an improper tail).
fn list_terms(mut list: Term) -> Vec<Term> {
    let mut items = Vec::new();
    while list.is_cons() {
        items.push(list.head());
        list = list.tail();
    }
    items
}
