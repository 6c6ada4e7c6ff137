//! OTP's `code` module (the natives; `stdlib/code.actor` has the parts
//! that wait for the code server thread: loading a file, purging) and the
//! code BIFs of `erlang`:
//! `code:load_file/1`, `load_binary/3`, `delete/1`, `is_loaded/1`,
//! `which/1`, `all_loaded/0`, `ensure_loaded/1`,
//! `erlang:check_process_code/2`, `check_old_code/1`, `module_loaded/1`.
//! Semantics are OTP's: a load is refused with `{error, not_purged}` while
//! an old version exists, `delete/1` makes the current version old. Where
//! OTP reads a `.beam` file from the code path, this VM compiles the
//! module's `.actor` source (the program's folder, the standard library).

use std::sync::Arc;

use super::NativeFn;
use crate::atom::{self, atoms};
use crate::code::{CodeError, CodeServer, Source};
use crate::console::Stream;
use crate::exception::{error, Stop};
use crate::heap::Heap;
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("$load_file", 1) => load_file,
        ("ensure_loaded", 1) => ensure_loaded,
        ("load_binary", 3) => load_binary,
        ("delete", 1) => delete,
        ("is_loaded", 1) => is_loaded,
        ("which", 1) => which,
        ("all_loaded", 0) => all_loaded,
        ("$purge", 2) => request_purge,
        _ => return None,
    })
}

/// The code BIFs of module `erlang`.
pub(super) fn lookup_erlang(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("check_process_code", 2) => check_process_code,
        ("check_old_code", 1) => |_, a| Ok(boolean(code()?.old(module_arg(a[0])?).is_some())),
        ("module_loaded", 1) => |_, a| Ok(boolean(code()?.loaded_version(module_arg(a[0])?).is_some())),
        _ => return None,
    })
}

fn code() -> Result<&'static CodeServer, Stop> {
    crate::scheduler::current().map(|runtime| &runtime.code).ok_or_else(|| error(atoms::BADARG))
}

fn atom_of(name: &str) -> Term {
    atom::intern(name).unwrap_or(atoms::BADARG)
}

fn boolean(value: bool) -> Term {
    if value {
        atoms::TRUE
    } else {
        atoms::FALSE
    }
}

fn module_arg(term: Term) -> Result<Term, Stop> {
    if term.is_atom() {
        Ok(term)
    } else {
        Err(error(atoms::BADARG))
    }
}

fn pair(p: &mut Process, tag: Term, value: Term) -> Term {
    p.ensure(3, &mut []);
    p.heap.tuple(&[tag, value])
}

fn error_pair(p: &mut Process, why: &str) -> Term {
    pair(p, atom_of("error"), atom_of(why))
}

/// `{error, Why}` in a heap with room for it.
fn error_in(heap: &mut Heap, why: &str) -> Term {
    heap.tuple(&[atom_of("error"), atom_of(why)])
}

/// The characters of `text` as terms: a string is `2 * len` words.
fn chars(text: &str) -> Vec<Term> {
    text.chars().map(|c| Term::small(i64::from(u32::from(c))).unwrap_or(Term::NIL)).collect()
}

/// Compiles `source` as module `name`, writing the compiler's messages to
/// `stream`; the module if it compiled.
pub(crate) fn compile(name: &str, source: &Source, stream: Stream) -> Option<compiler::bytecode::Module> {
    let options = compiler::Options { expected_module: Some(name.to_owned()) };
    let (module, diagnostics) = compiler::compile_with_stack(&source.text, &source.file_name, &options);
    if !diagnostics.is_empty() {
        let text = compiler::diagnostic::render(&source.file_name, &source.text, &diagnostics, false);
        crate::console::write(stream, text.as_bytes());
    }
    module
}

/// Loads a compiled module as the current version of `name`: `{module,
/// Name}`, or `{error, not_purged | badfile}` (OTP's results, with its
/// error report for a load refused), built in `heap`, which has room for a
/// pair.
fn publish(heap: &mut Heap, code: &CodeServer, name: Term, file: &str, module: compiler::bytecode::Module) -> Term {
    match code.load(module) {
        Ok(_) => heap.tuple(&[atom_of("module"), name]),
        Err(CodeError::NotPurged) => {
            crate::report::error(&format!("Loading of {file} failed: not_purged\n"));
            error_in(heap, "not_purged")
        }
        Err(CodeError::Load(why)) => {
            crate::report::error(&format!("Loading of {file} failed: {why}\n"));
            error_in(heap, "badfile")
        }
    }
}

/// `code:'$load_file'(Module)`: asks the code server thread to compile the
/// module's source as it is on disk now and load it (compiling takes
/// milliseconds: not on a scheduler); `stdlib/code.actor` waits for the
/// answer, `{Ref, Result}`.
fn load_file(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let runtime = crate::scheduler::current().ok_or_else(|| error(atoms::BADARG))?;
    let module = module_arg(a[0])?;
    let reference = crate::scheduler::new_reference();
    let work = Box::new(move |heap: &mut Heap| load_file_now(&runtime.code, module, heap));
    if !crate::purge::in_code_server(runtime, p.pid, reference, work) {
        return Err(error(atoms::SYSTEM_LIMIT));
    }
    p.ensure(2, &mut []);
    Ok(p.heap.reference(reference))
}

/// `code:load_file/1`'s work: the result in `heap` (room for a pair).
fn load_file_now(code: &CodeServer, module: Term, heap: &mut Heap) -> Term {
    let name = atom::name(module).unwrap_or_default().to_owned();
    let Some(source) = code.find_source(&name) else { return error_in(heap, "nofile") };
    // Refused before compiling, as OTP refuses before reading the file.
    if code.old(module).is_some() {
        crate::report::error(&format!("Loading of {} failed: not_purged\n", source.file_name));
        return error_in(heap, "not_purged");
    }
    let Some(compiled) = compile(&name, &source, Stream::Err) else { return error_in(heap, "badfile") };
    let file = source.file_name.clone();
    let result = publish(heap, code, module, &file, compiled);
    if code.loaded_version(module).is_some() {
        code.add_source(&name, source);
    }
    result
}

/// `code:ensure_loaded(Module)`: loads it if it is not loaded yet.
fn ensure_loaded(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let module = module_arg(a[0])?;
    if code.current(module).is_some() {
        return Ok(pair(p, atom_of("module"), module));
    }
    let name = atom::name(module).unwrap_or_default();
    Ok(error_pair(p, if code.find_source(name).is_some() { "badfile" } else { "nofile" }))
}

/// `code:load_binary(Module, File, Binary)`: loads a module compiled by
/// `vm compile` (checked by the verifier first: a bad binary is
/// `{error, badfile}`, never a crash).
fn load_binary(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let module = module_arg(a[0])?;
    let file = super::erlang::string_of(a[1])
        .or_else(|_| atom::name(a[1]).map(str::to_owned).ok_or_else(|| error(atoms::BADARG)))?;
    let bytes = crate::heap::binary_bytes(a[2]).ok_or_else(|| error(atoms::BADARG))?.to_vec();
    let decoded = compiler::bytecode::format::decode(&bytes)
        .ok()
        .filter(|m| compiler::bytecode::verify::verify(m).is_ok())
        .filter(|m| m.atom(m.name) == atom::name(module).unwrap_or_default());
    let Some(compiled) = decoded else { return Ok(error_pair(p, "badfile")) };
    p.ensure(3, &mut []);
    Ok(publish(&mut p.heap, code, module, &file, compiled))
}

/// `code:delete(Module)`: the current version becomes old.
fn delete(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let module = module_arg(a[0])?;
    if code.old(module).is_some() {
        let name = atom::name(module).unwrap_or_default();
        crate::report::error(&format!("Module {name} must be purged before deleting\n"));
        return Ok(atoms::FALSE);
    }
    Ok(boolean(code.delete(module)))
}

/// `code:is_loaded(Module)`: `{file, File}` or `false`.
fn is_loaded(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let module = module_arg(a[0])?;
    let Some(loaded) = code()?.loaded_version(module) else { return Ok(atoms::FALSE) };
    let file = chars(&loaded.file);
    p.ensure(2 * file.len() + 3, &mut []);
    let file = p.heap.list(&file);
    Ok(p.heap.tuple(&[atom_of("file"), file]))
}

/// `code:which(Module)`: the file it is (or would be) loaded from, or
/// `non_existing`.
fn which(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let code = code()?;
    let module = module_arg(a[0])?;
    let file = match code.loaded_version(module) {
        Some(loaded) => loaded.file.clone(),
        None => match code.find_source(atom::name(module).unwrap_or_default()) {
            Some(source) => source.file_name,
            None => return Ok(atom_of("non_existing")),
        },
    };
    let file = chars(&file);
    p.ensure(2 * file.len(), &mut []);
    Ok(p.heap.list(&file))
}

/// `code:all_loaded()`: `[{Module, File}]`.
fn all_loaded(p: &mut Process, _: &mut [Term]) -> Result<Term, Stop> {
    let loaded: Vec<(Term, Vec<Term>)> = code()?.loaded().iter().map(|m| (m.name, chars(&m.file))).collect();
    // Room for all of it first: nothing built moves while the rest is.
    p.ensure(loaded.iter().map(|(_, file)| 2 * file.len() + 3 + 2).sum(), &mut []);
    let pairs: Vec<Term> = loaded
        .iter()
        .map(|(name, file)| {
            let file = p.heap.list(file);
            p.heap.tuple(&[*name, file])
        })
        .collect();
    Ok(p.heap.list(&pairs))
}

/// `code:'$purge'(Module, hard | soft)`: asks the purger (`purge.rs`) and
/// returns the reference its answer `{Ref, Result}` will carry.
fn request_purge(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let runtime = crate::scheduler::current().ok_or_else(|| error(atoms::BADARG))?;
    let module = module_arg(a[0])?;
    let soft = match atom::name(a[1]) {
        Some("soft") => true,
        Some("hard") => false,
        _ => return Err(error(atoms::BADARG)),
    };
    let reference = crate::scheduler::new_reference();
    if !crate::purge::request(runtime, module, soft, p.pid, reference) {
        return Err(error(atoms::SYSTEM_LIMIT));
    }
    p.ensure(2, &mut []);
    Ok(p.heap.reference(reference))
}

/// `erlang:check_process_code(Pid, Module)`: whether the process runs code
/// of the old version of `Module` (`false` when there is none).
/// For the calling process, the function running the call is not counted
/// (it is this BIF's caller, which the interpreter holds in a register).
fn check_process_code(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if !a[0].is_pid() {
        return Err(error(atoms::BADARG));
    }
    let (pid, module) = (a[0].pid_number(), module_arg(a[1])?);
    let runtime = crate::scheduler::current().ok_or_else(|| error(atoms::BADARG))?;
    let Some(old) = runtime.code.old(module) else { return Ok(atoms::FALSE) };
    if pid == p.pid {
        return Ok(boolean(crate::purge::uses(p, Arc::as_ptr(&old))));
    }
    let Some(proc) = runtime.lookup(pid).filter(|proc| proc.is_alive()) else { return Ok(atoms::FALSE) };
    let Some(body) = proc.wait_body() else { return Ok(atoms::FALSE) };
    Ok(boolean(crate::purge::uses(&body, Arc::as_ptr(&old))))
}
