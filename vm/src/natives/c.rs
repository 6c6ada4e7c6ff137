//! The shell commands of OTP's `c` module that need the code server: the
//! compiling and loading under `c/1` and `l/1` (`stdlib/c.actor` purges the
//! old code first, killing the processes that run it, as erl's do), the
//! modules `lm/0` loads again (those whose source changed), `m/0,1` (what
//! is loaded), and
//! `h/1,2` (the signature and doc comment of functions, read from the
//! source). The commands written in `.actor` are in `stdlib/c.actor`.
//!
//! Compiler messages and listings go to standard output, as erl's shell
//! prints them there.

use super::NativeFn;
use crate::atom::{self, atoms};
use crate::code::{CodeServer, Source};
use crate::exception::{error, Stop};
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("$c", 1) => compile_file,
        ("$l", 1) => load_module,
        ("$modified", 0) => modified,
        ("m", 0) => modules,
        ("m", 1) => module_info,
        ("h", 1) => |_, a| help(a[0], None),
        ("h", 2) => |_, a| help(a[0], Some(a[1])),
        _ => return None,
    })
}

fn code() -> Result<&'static CodeServer, Stop> {
    crate::scheduler::current().map(|runtime| &runtime.code).ok_or_else(|| error(atoms::BADARG))
}

fn say(text: &str) {
    crate::console::write(crate::console::Stream::Out, text.as_bytes());
}

/// A module name or file name given as an atom or a string.
fn name_of(term: Term) -> Result<String, Stop> {
    match atom::name(term) {
        Some(name) => Ok(name.to_owned()),
        None => super::erlang::string_of(term),
    }
}

fn pair(p: &mut Process, tag: Term, value: Term) -> Term {
    p.ensure(3, &mut []);
    p.heap.tuple(&[tag, value])
}

/// `{old_code, Module}`, when module `name` still has an old version:
/// `stdlib/c.actor` purges it (killing the processes that run it, as erl's
/// `c/1` and `l/1` do) and asks again.
fn old_code(p: &mut Process, code: &CodeServer, name: &str) -> Option<Term> {
    let atom = atom::intern(name).ok()?;
    code.old(atom)?;
    Some(pair(p, atom::intern("old_code").unwrap_or(atoms::BADARG), atom))
}

/// Compiles `text` as module `name` and makes it the current version;
/// prints the compiler's messages. The module's atom on success.
fn compile_and_load(code: &CodeServer, name: &str, file_name: &str, text: String) -> Option<Term> {
    let source = Source { file_name: file_name.to_owned(), text };
    let module = super::code::compile(name, &source, crate::console::Stream::Out)?;
    let atom = atom::intern(name).ok()?;
    match code.load(module) {
        Ok(_) => {
            code.add_source(name, source);
            Some(atom)
        }
        Err(why) => {
            say(&format!("{file_name}: cannot load: {why:?}\n"));
            None
        }
    }
}

/// `c(File)`: `{ok, Module}` or `error` (or `{old_code, Module}`).
fn compile_file(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let mut path = std::path::PathBuf::from(name_of(a[0])?);
    if path.extension().is_none() {
        path.set_extension("actor");
    }
    let file_name = path.display().to_string();
    let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
        return Err(error(atoms::BADARG));
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(why) => {
            let why = match why.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                _ => why.to_string(),
            };
            say(&format!("{file_name}: {why}\n"));
            return Ok(atom::intern("error").unwrap_or(atoms::BADARG));
        }
    };
    if let Some(old) = old_code(p, code, &name) {
        return Ok(old);
    }
    Ok(match compile_and_load(code, &name, &file_name, text) {
        Some(module) => pair(p, atoms::OK, module),
        None => atom::intern("error").unwrap_or(atoms::BADARG),
    })
}

/// The text of a module's source as it is on disk now (the embedded
/// standard library: as embedded).
fn source_now(source: &Source) -> String {
    std::fs::read_to_string(&source.file_name).unwrap_or_else(|_| source.text.clone())
}

/// `l(Module)`: `{module, Module}` or `{error, Why}` (or `{old_code, Module}`).
fn load_module(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let name = atom::name(a[0]).ok_or_else(|| error(atoms::BADARG))?.to_owned();
    if let Some(old) = old_code(p, code, &name) {
        return Ok(old);
    }
    let Some(source) = code.source(&name) else {
        let why = atom::intern("nofile").unwrap_or(atoms::BADARG);
        return Ok(pair(p, atom::intern("error").unwrap_or(atoms::BADARG), why));
    };
    let text = source_now(&source);
    Ok(match compile_and_load(code, &name, &source.file_name, text) {
        Some(module) => pair(p, atom::intern("module").unwrap_or(atoms::BADARG), module),
        None => {
            let why = atom::intern("badfile").unwrap_or(atoms::BADARG);
            pair(p, atom::intern("error").unwrap_or(atoms::BADARG), why)
        }
    })
}

/// The loaded modules whose source file changed since they were loaded
/// (`lm/0` loads them again).
fn modified(p: &mut Process, _: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let changed: Vec<Term> = code
        .loaded()
        .iter()
        .filter(|module| {
            let source = atom::name(module.name).and_then(|name| code.source(name));
            source.is_some_and(|source| source_now(&source) != source.text)
        })
        .map(|module| module.name)
        .collect();
    p.ensure(2 * changed.len(), &mut []);
    Ok(p.heap.list(&changed))
}

/// `m()`: the loaded modules and their files.
fn modules(_: &mut Process, _: &mut [Term]) -> Result<Term, Stop> {
    let mut text = format!("{:<24}{}\n", "Module", "File");
    for module in code()?.loaded() {
        let name = atom::name(module.name).unwrap_or("?");
        if !compiler::shell::is_evaluation_module(name) {
            text.push_str(&format!("{:<24}{}\n", crate::print::atom_text(name), module.file));
        }
    }
    say(&text);
    Ok(atoms::OK)
}

/// `m(Module)`: a module's file and exports.
fn module_info(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let module = code()?.current(a[0]).ok_or_else(|| error(atoms::BADARG))?;
    let mut exports: Vec<(String, u32)> = module
        .exports
        .keys()
        .map(|&(name, arity)| (crate::print::atom_text(atom::name(name).unwrap_or("?")), arity))
        .collect();
    exports.sort();
    let mut text = format!(
        "Module: {}\nFile: {}\nExports:\n",
        crate::print::atom_text(atom::name(module.name).unwrap_or("?")),
        module.file
    );
    for (name, arity) in exports {
        text.push_str(&format!("  {name}/{arity}\n"));
    }
    say(&text);
    Ok(atoms::OK)
}

/// `h(Module)` and `h(Module, Function)`: documentation from the source.
fn help(module: Term, function: Option<Term>) -> Result<Term, Stop> {
    let name = atom::name(module).ok_or_else(|| error(atoms::BADARG))?;
    let function = match function {
        Some(f) => Some(atom::name(f).ok_or_else(|| error(atoms::BADARG))?),
        None => None,
    };
    let code = code()?;
    // A module known only by its natives (erlang, io) has no source to read.
    let Some(source) = code.source(name) else { return missing() };
    let text = match function {
        Some(function) => function_docs(&source.text, function),
        None => {
            let exports: Vec<String> = code
                .current(module)
                .map(|m| m.exports.keys().filter_map(|&(f, _)| atom::name(f).map(str::to_owned)).collect())
                .unwrap_or_default();
            Some(module_docs(&source.text, name, &exports))
        }
    };
    match text {
        Some(text) => {
            say(&text);
            Ok(atoms::OK)
        }
        None => missing(),
    }
}

fn missing() -> Result<Term, Stop> {
    // erl's h/1,2 answer {error, missing} where there is no documentation;
    // the tuple is built by c.actor's wrapper from this atom.
    Ok(atom::intern("missing").unwrap_or(atoms::BADARG))
}

/// The lines of `lines` that start a function: code at column 0 after a
/// line of code ending with `.` (the previous form), with their function's
/// name. Later clauses follow a `;` and are not starts.
fn function_starts<'a>(lines: &[&'a str]) -> Vec<(usize, &'a str)> {
    let mut starts = Vec::new();
    let mut previous_ended = true;
    for (i, line) in lines.iter().enumerate() {
        let code = !line.trim().is_empty() && !line.trim_start().starts_with('%');
        if !code {
            continue;
        }
        if previous_ended {
            if let Some((name, _)) =
                line.split_once('(').filter(|(name, _)| !name.is_empty() && !name.starts_with([' ', '-']))
            {
                starts.push((i, name));
            }
        }
        previous_ended = line.trim_end().ends_with('.');
    }
    starts
}

/// A comment line's text: the `%` marks and one space after them gone.
fn comment_text(line: &str) -> &str {
    let text = line.trim_start().trim_start_matches('%');
    text.strip_prefix(' ').unwrap_or(text)
}

/// Each definition of `function` in `source`: its first clause's head,
/// then its doc comment (the `%` lines just above, `-spec` lines allowed
/// among them).
fn function_docs(source: &str, function: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    for (i, _) in function_starts(&lines).into_iter().filter(|&(_, name)| name == function) {
        out.push_str(&format!("\n  {}\n\n", clause_head(&lines[i..])));
        let above = lines[..i]
            .iter()
            .rev()
            .take_while(|l| l.trim_start().starts_with('%') || l.starts_with("-spec"))
            .collect::<Vec<_>>();
        for doc in above.into_iter().rev() {
            out.push_str(&format!("  {}\n", comment_text(doc)));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A clause head from its first line on, up to its `->`, on one line.
fn clause_head(lines: &[&str]) -> String {
    let mut head = String::new();
    for line in lines.iter().take(10) {
        let line = line.trim();
        if let Some(end) = line.find("->") {
            head.push_str(line[..end].trim_end());
            return head;
        }
        head.push_str(line);
        head.push(' ');
    }
    head.trim_end().to_owned()
}

/// The comment at the top of a module's source, then the heads of its
/// exported functions.
fn module_docs(source: &str, name: &str, exports: &[String]) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = format!("\n  {name}\n\n");
    for line in lines.iter().take_while(|l| l.trim_start().starts_with('%') || l.trim().is_empty()) {
        out.push_str(&format!("  {}\n", comment_text(line)));
    }
    let exported: Vec<usize> =
        function_starts(&lines).into_iter().filter(|(_, f)| exports.iter().any(|e| e == f)).map(|(i, _)| i).collect();
    if !exported.is_empty() {
        out.push_str("\n  Exports:\n");
        for i in exported {
            out.push_str(&format!("    {}\n", clause_head(&lines[i..])));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "%% greet: says hello.\n-module(greet).\n-export([hello/1, hello/2]).\n\n\
        %% Says hello to Name.\n%% Twice if asked.\nhello(Name) ->\n    hello(Name, 1).\n\n\
        -spec hello(string(), integer()) -> ok.\nhello(Name, 0) -> ok;\nhello(Name, N) ->\n    io:format(\"hello ~s~n\", [Name]),\n    hello(Name, N - 1).\n";

    #[test]
    fn a_function_shows_its_heads_and_comments() {
        let docs = function_docs(SOURCE, "hello").unwrap();
        assert_eq!(
            docs,
            "\n  hello(Name)\n\n  Says hello to Name.\n  Twice if asked.\n\n  hello(Name, 0)\n\n  -spec hello(string(), integer()) -> ok.\n"
        );
        assert!(function_docs(SOURCE, "missing").is_none());
    }

    #[test]
    fn a_module_shows_its_top_comment_and_exported_heads() {
        let docs = module_docs(SOURCE, "greet", &["hello".to_owned()]);
        assert!(docs.starts_with("\n  greet\n\n  greet: says hello.\n"), "{docs}");
        assert!(docs.ends_with("  Exports:\n    hello(Name)\n    hello(Name, 0)\n"), "{docs}");
    }
}
