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

/// Runs a program; returns the process exit status.
pub fn run(path: &Path, args: &[String], schedulers: usize) -> i32 {
    let code = CodeServer::new();
    crate::stdlib::register(&code);
    let Some(module_name) = path.file_stem().and_then(|s| s.to_str()) else {
        eprintln!("{}: not a module file name", path.display());
        return 1;
    };
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries.flatten() {
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "actor") && file != path {
                if let (Some(name), Ok(text)) =
                    (file.file_stem().and_then(|s| s.to_str()), std::fs::read_to_string(&file))
                {
                    code.add_source(name, Source { file_name: file.display().to_string(), text });
                }
            }
        }
    }
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
    runtime.spawn(process);
    let status = runtime.wait();
    let _ = std::io::stdout().flush();
    status
}

/// An uncaught exception as the erl shell shows it.
pub fn describe(exception: &Exception) -> String {
    let class = match exception.class {
        Class::Error => "error",
        Class::Throw => "throw",
        Class::Exit => "exit",
    };
    let reason = exception.reason;
    let text = if exception.class != Class::Error {
        print::print(reason)
    } else if let Some(elements) = reason.tuple_elements().filter(|e| e.len() == 2) {
        let tag = atom::name(elements[0]).unwrap_or("");
        match tag {
            "badmatch" => format!("no match of right hand side value {}", print::print(elements[1])),
            "case_clause" => format!("no case clause matching {}", print::print(elements[1])),
            "try_clause" => format!("no try clause matching {}", print::print(elements[1])),
            "badfun" => format!("bad function {}", print::print(elements[1])),
            _ => print::print(reason),
        }
    } else {
        match atom::name(reason).unwrap_or("") {
            "badarg" => "bad argument".to_owned(),
            "badarith" => "an error occurred when evaluating an arithmetic expression".to_owned(),
            "function_clause" => "no function clause matching".to_owned(),
            "if_clause" => "no true branch found when evaluating an if expression".to_owned(),
            "undef" => match &exception.callee {
                Some((module, function, args)) => format!(
                    "undefined function {}:{}/{}",
                    print::atom_text(atom::name(*module).unwrap_or("?")),
                    print::atom_text(atom::name(*function).unwrap_or("?")),
                    args.len()
                ),
                None => "undefined function".to_owned(),
            },
            _ => print::print(reason),
        }
    };
    let mut out = format!("** exception {class}: {text}\n");
    // A built-in that raised: the shell names it and shows the call.
    let mut lead = "in function ";
    if let Some((module, function, args)) = exception.callee.as_ref().filter(|_| exception.reason != atoms::UNDEF) {
        let name = print::atom_text(atom::name(*function).unwrap_or("?"));
        let qualified = if *module == atoms::ERLANG {
            name.clone()
        } else {
            format!("{}:{name}", print::atom_text(atom::name(*module).unwrap_or("?")))
        };
        let shown: Vec<String> = args.iter().map(|&a| print::print(a)).collect();
        let is_operator =
            *module == atoms::ERLANG && args.len() == 2 && !name.chars().next().is_some_and(char::is_alphabetic);
        if is_operator {
            let operator = atom::name(*function).unwrap_or("?");
            out.push_str(&format!(
                "     in operator  {operator}/2\n        called as {} {operator} {}\n",
                shown[0], shown[1]
            ));
        } else {
            out.push_str(&format!(
                "     in function  {qualified}/{}\n        called as {qualified}({})\n",
                args.len(),
                shown.join(",")
            ));
        }
        lead = "in call from";
    }
    if let Some(location) = exception.trace.first() {
        if let Some(function) = location.module.function_at(location.pc) {
            let line = location.module.line_of(location.pc).map(|l| format!(", line {l}")).unwrap_or_default();
            out.push_str(&format!(
                "     {lead} {}:{}/{} ({}{line})\n",
                print::atom_text(atom::name(location.module.name).unwrap_or("?")),
                print::atom_text(atom::name(function.name).unwrap_or("?")),
                function.arity,
                location.module.file,
            ));
        }
    }
    out
}
