//! The module table (invariant 7 of DESIGN.md): each module has a current
//! and an old version. Loading a new version makes the current one old, and
//! is refused while an old version exists (`code:load_file` returns
//! `{error, not_purged}`); purging drops the old version. Fully qualified
//! calls look up the current version at call time.
//!
//! Modules not loaded yet are compiled on first use from the sources the
//! table was given (the program's folder and the embedded standard library),
//! as the BEAM's code server loads from its code path.
//!
//! Publishing a version is one swap under the table's write lock: a
//! module is compiled, verified and translated before (off to the side), so
//! no caller ever sees half a module, and a load holds the lock for
//! microseconds. Callers cache what they resolved under a generation count
//! (`interp.rs`), so running processes take the lock only after a change.
//!
//! A purged version is never freed: it moves to a graveyard and is marked
//! purged. Process heaps may point into a version's literals (a literal is
//! not copied when a process takes it), and funs point to their version
//! uncounted; OTP copies such literals out before it frees an area, which
//! this VM does not do yet, so the version's memory is kept (a module's
//! instructions and literals per purge). Calling a fun of a purged version
//! raises `badfun` (see `purge.rs` for which processes a purge kills).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::atom;
use crate::module::{LoadError, LoadedModule};
use crate::term::Term;

#[derive(Debug, Default)]
struct Slot {
    current: Option<Arc<LoadedModule>>,
    old: Option<Arc<LoadedModule>>,
}

/// A module's source, compiled when the module is first needed.
#[derive(Debug, Clone)]
pub struct Source {
    pub file_name: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeError {
    /// An old version is still loaded: purge it first.
    NotPurged,
    Load(LoadError),
}

impl std::fmt::Display for CodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodeError::NotPurged => f.write_str("not_purged"),
            CodeError::Load(why) => write!(f, "{why}"),
        }
    }
}

#[derive(Debug, Default)]
pub struct CodeServer {
    slots: RwLock<HashMap<Term, Slot>>,
    sources: RwLock<HashMap<String, Source>>,
    /// Folders where a module without a source yet is looked for, as
    /// `NAME.actor` (the program's folder).
    path: RwLock<Vec<PathBuf>>,
    /// Counts the loads and purges: what a caller resolved under an older
    /// count may name a version that is no longer current (see `interp.rs`'s
    /// cache of remote calls).
    generation: AtomicU64,
    /// Purged versions, kept (see the module comment).
    graveyard: Mutex<Vec<Arc<LoadedModule>>>,
}

impl CodeServer {
    pub fn new() -> CodeServer {
        CodeServer::default()
    }

    /// Makes `source` the source of module `name`, compiled on first use.
    pub fn add_source(&self, name: &str, source: Source) {
        self.sources.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), source);
    }

    /// Loads a verified module as the current version of its module.
    pub fn load(&self, module: compiler::bytecode::Module) -> Result<Arc<LoadedModule>, CodeError> {
        self.publish(Arc::new(LoadedModule::load(module).map_err(CodeError::Load)?), false)
    }

    /// Makes `loaded` the current version (the atomic switch), refused while
    /// an old version exists. With `if_absent`, a current version already
    /// there is kept and returned instead: two processes calling a module
    /// for the first time at once both compile it, and the second must not
    /// make the first's version old.
    fn publish(&self, loaded: Arc<LoadedModule>, if_absent: bool) -> Result<Arc<LoadedModule>, CodeError> {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let slot = slots.entry(loaded.name).or_default();
        if let Some(current) = slot.current.as_ref().filter(|_| if_absent) {
            return Ok(current.clone());
        }
        if slot.old.is_some() {
            return Err(CodeError::NotPurged);
        }
        slot.old = slot.current.replace(loaded.clone());
        // Released with the new version in place: whoever sees the new count
        // finds the new version.
        self.generation.fetch_add(1, Ordering::Release);
        Ok(loaded)
    }

    /// How many loads and purges there have been.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Drops the old version of a module (marked purged, kept in the
    /// graveyard); `true` if there was one. Which processes still use it is
    /// the caller's business (`purge.rs`).
    pub fn purge(&self, name: Term) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let old = slots.get_mut(&name).and_then(|slot| slot.old.take());
        // Cached resolutions made before may hold the purged version.
        self.generation.fetch_add(1, Ordering::Release);
        drop(slots);
        let Some(old) = old else { return false };
        old.purged.store(true, Ordering::Release);
        self.graveyard.lock().unwrap_or_else(|p| p.into_inner()).push(old);
        true
    }

    /// `code:delete/1`: the current version becomes old, and calls by name
    /// find no version. False (changing nothing) if there is no current
    /// version or an old one is still there.
    pub fn delete(&self, name: Term) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let Some(slot) = slots.get_mut(&name).filter(|s| s.old.is_none() && s.current.is_some()) else {
            return false;
        };
        slot.old = slot.current.take();
        self.generation.fetch_add(1, Ordering::Release);
        true
    }

    /// The current version of a module if it is loaded (never loads it).
    pub fn loaded_version(&self, name: Term) -> Option<Arc<LoadedModule>> {
        self.slots.read().unwrap_or_else(|p| p.into_inner()).get(&name).and_then(|s| s.current.clone())
    }

    /// Adds a folder where modules are looked for by file name.
    pub fn add_path(&self, folder: &Path) {
        let mut path = self.path.write().unwrap_or_else(|p| p.into_inner());
        if !path.iter().any(|f| f == folder) {
            path.push(folder.to_owned());
        }
    }

    /// The source module `name` is compiled from when first used, if any.
    pub fn source(&self, name: &str) -> Option<Source> {
        self.sources.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// The source of `name` as it is on disk now: its known file read again
    /// (the embedded standard library: as embedded), or `NAME.actor` in a
    /// folder of the path (made the module's source from then on).
    pub fn find_source(&self, name: &str) -> Option<Source> {
        if let Some(source) = self.source(name) {
            let text = std::fs::read_to_string(&source.file_name).unwrap_or(source.text);
            return Some(Source { file_name: source.file_name, text });
        }
        let folders = self.path.read().unwrap_or_else(|p| p.into_inner()).clone();
        folders.iter().find_map(|folder| {
            let file = folder.join(format!("{name}.actor"));
            let text = std::fs::read_to_string(&file).ok()?;
            let source = Source { file_name: file.display().to_string(), text };
            self.add_source(name, source.clone());
            Some(source)
        })
    }

    /// The modules loaded now (their current versions), by name.
    pub fn loaded(&self) -> Vec<Arc<LoadedModule>> {
        let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
        let mut loaded: Vec<_> = slots.values().filter_map(|slot| slot.current.clone()).collect();
        loaded.sort_by(|a, b| atom::name(a.name).cmp(&atom::name(b.name)));
        loaded
    }

    /// Every module that is loaded or has a source to load it from.
    pub fn known_modules(&self) -> Vec<String> {
        let mut names: Vec<String> = self.sources.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        names.extend(self.loaded().iter().filter_map(|m| atom::name(m.name).map(str::to_owned)));
        names.sort();
        names.dedup();
        names
    }

    pub fn old(&self, name: Term) -> Option<Arc<LoadedModule>> {
        self.slots.read().unwrap_or_else(|p| p.into_inner()).get(&name).and_then(|s| s.old.clone())
    }

    /// The current version of a module, compiling and loading it from its
    /// source on first use. Compile errors go to stderr; the module is then
    /// missing and calls to it raise `undef`.
    pub fn current(&self, name: Term) -> Option<Arc<LoadedModule>> {
        if let Some(slot) = self.slots.read().unwrap_or_else(|p| p.into_inner()).get(&name) {
            // Deleted (an old version and no current one): not loaded
            // again until purged, where the load would be refused anyway.
            if slot.current.is_some() || slot.old.is_some() {
                return slot.current.clone();
            }
        }
        let module_name = atom::name(name)?;
        let source = self.find_source(module_name)?;
        let options = compiler::Options { expected_module: Some(module_name.to_owned()) };
        let (compiled, diagnostics) = compiler::compile_with_stack(&source.text, &source.file_name, &options);
        let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            eprint!("{}", compiler::diagnostic::render(&source.file_name, &source.text, &errors, false));
        }
        match LoadedModule::load(compiled?) {
            // Published only if no version appeared meanwhile.
            Ok(loaded) => self.publish(Arc::new(loaded), true).ok(),
            Err(error) => {
                eprintln!("{}: cannot load: {error}", source.file_name);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::Machine;
    use crate::process::Process;

    fn compiled(version: u32) -> compiler::bytecode::Module {
        let source = format!("-module(versioned).\n-export([version/0]).\nversion() -> {version}.\n");
        let options = compiler::Options { expected_module: Some("versioned".to_owned()) };
        let (module, diagnostics) = compiler::compile(&source, "versioned.actor", &options);
        module.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    fn call_version(code: &CodeServer) -> i64 {
        let module = atom::intern("versioned").unwrap();
        let function = atom::intern("version").unwrap();
        let mut process = Process::new(1);
        Machine::new(code).call(&mut process, module, function, &[]).map(|t| t.small_value()).unwrap_or(-1)
    }

    #[test]
    fn loading_keeps_two_versions_and_refuses_a_third_until_purged() {
        let code = CodeServer::new();
        let name = atom::intern("versioned").unwrap();
        code.load(compiled(1)).unwrap();
        assert_eq!(call_version(&code), 1);
        code.load(compiled(2)).unwrap();
        assert_eq!(call_version(&code), 2, "remote calls reach the current version");
        assert!(code.old(name).is_some(), "the previous version is kept as old");
        assert_eq!(code.load(compiled(3)).unwrap_err(), CodeError::NotPurged);
        assert_eq!(call_version(&code), 2, "a refused load changes nothing");
        assert!(code.purge(name));
        assert!(!code.purge(name), "nothing left to purge");
        code.load(compiled(3)).unwrap();
        assert_eq!(call_version(&code), 3);
    }

    #[test]
    fn a_call_by_name_reaches_a_version_loaded_after_it_was_first_made() {
        let code = CodeServer::new();
        code.add_source(
            "caller",
            Source {
                file_name: "caller.actor".into(),
                text: "-module(caller).\n-export([call/0]).\ncall() -> apply(versioned, version, []).\n".into(),
            },
        );
        code.load(compiled(1)).unwrap();
        let (caller, call) = (atom::intern("caller").unwrap(), atom::intern("call").unwrap());
        // One machine throughout, so that its cache of remote calls is kept.
        let mut machine = Machine::new(&code);
        let mut process = Process::new(1);
        let mut run = || machine.call(&mut process, caller, call, &[]).map(|t| t.small_value()).ok();
        assert_eq!(run(), Some(1));
        assert_eq!(run(), Some(1));
        code.load(compiled(2)).unwrap();
        assert_eq!(run(), Some(2), "the cached resolution gave way to the new version");
    }

    #[test]
    fn callers_racing_to_load_a_module_first_all_get_one_version() {
        let code = CodeServer::new();
        code.add_source(
            "raced",
            Source { file_name: "raced.actor".into(), text: "-module(raced).\n-export([f/0]).\nf() -> 1.\n".into() },
        );
        let name = atom::intern("raced").unwrap();
        let versions: Vec<usize> = std::thread::scope(|scope| {
            let threads: Vec<_> =
                (0..8).map(|_| scope.spawn(|| Arc::as_ptr(&code.current(name).unwrap()) as usize)).collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(versions.windows(2).all(|w| w[0] == w[1]), "one version for every caller");
        assert!(code.old(name).is_none(), "no racing load made the first one old");
    }

    #[test]
    fn a_module_is_compiled_from_its_source_on_first_use() {
        let code = CodeServer::new();
        code.add_source(
            "lazy",
            Source { file_name: "lazy.actor".into(), text: "-module(lazy).\n-export([f/0]).\nf() -> 42.\n".into() },
        );
        let module = atom::intern("lazy").unwrap();
        let f = atom::intern("f").unwrap();
        let mut process = Process::new(1);
        let result = Machine::new(&code).call(&mut process, module, f, &[]).map(|t| t.small_value());
        assert_eq!(result.ok(), Some(42));
    }
}
