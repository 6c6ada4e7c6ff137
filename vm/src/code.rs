//! The module table (invariant 7 of DESIGN.md): each module has a current
//! and an old version. Loading a new version makes the current one old, and
//! is refused while an old version exists (`code:load_file` returns
//! `{error, not_purged}`); purging drops the old version. Fully qualified
//! calls look up the current version at call time.
//!
//! Modules not loaded yet are compiled on first use from the sources the
//! table was given (the program's folder and the embedded standard library),
//! as the BEAM's code server loads from its code path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

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

#[derive(Debug, Default)]
pub struct CodeServer {
    slots: RwLock<HashMap<Term, Slot>>,
    sources: RwLock<HashMap<String, Source>>,
    /// Counts the loads and purges: what a caller resolved under an older
    /// count may name a version that is no longer current (see `interp.rs`'s
    /// cache of remote calls).
    generation: AtomicU64,
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
        let loaded = Arc::new(LoadedModule::load(module).map_err(CodeError::Load)?);
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let slot = slots.entry(loaded.name).or_default();
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

    /// Drops the old version of a module; `true` if there was one.
    pub fn purge(&self, name: Term) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        let purged = slots.get_mut(&name).and_then(|slot| slot.old.take()).is_some();
        // Cached resolutions made before may hold the purged version.
        self.generation.fetch_add(1, Ordering::Release);
        purged
    }

    /// The source module `name` is compiled from when first used, if any.
    pub fn source(&self, name: &str) -> Option<Source> {
        self.sources.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
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
        if let Some(module) =
            self.slots.read().unwrap_or_else(|p| p.into_inner()).get(&name).and_then(|s| s.current.clone())
        {
            return Some(module);
        }
        let module_name = atom::name(name)?;
        let source = self.sources.read().unwrap_or_else(|p| p.into_inner()).get(module_name).cloned()?;
        let options = compiler::Options { expected_module: Some(module_name.to_owned()) };
        let (compiled, diagnostics) = compiler::compile_with_stack(&source.text, &source.file_name, &options);
        let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        if !errors.is_empty() {
            eprint!("{}", compiler::diagnostic::render(&source.file_name, &source.text, &errors, false));
        }
        match self.load(compiled?) {
            Ok(module) => Some(module),
            // Loaded meanwhile by another caller: use that version.
            Err(CodeError::NotPurged) => {
                self.slots.read().unwrap_or_else(|p| p.into_inner()).get(&name)?.current.clone()
            }
            Err(CodeError::Load(error)) => {
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
