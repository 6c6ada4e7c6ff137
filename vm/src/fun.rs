//! Fun (closure) objects: a heap object whose first payload word is a
//! pointer to the module version that holds its code, then its lambda index
//! (a small integer), then its captured variables. The pointer keeps no
//! reference count: a module version stays loaded while funs of it exist
//! (until purging, issue 7, which must check funs as OTP's purge does).

use std::sync::Arc;

use crate::heap::Heap;
use crate::module::LoadedModule;
use crate::term::{Header, Kind, Term};

/// The words a fun with `free` captured variables takes.
pub fn words(free: usize) -> usize {
    3 + free
}

/// Builds a fun. Needs `words(free.len())` words of room.
pub fn make(heap: &mut Heap, module: &Arc<LoadedModule>, lambda: u32, free: &[Term]) -> Term {
    let mut payload = Vec::with_capacity(2 + free.len());
    payload.push(Arc::as_ptr(module) as u64);
    payload.push(Term::small(i64::from(lambda)).unwrap_or(Term::NIL).raw());
    payload.extend(free.iter().map(|t| t.raw()));
    heap.raw_object(Header::new(Kind::Fun, payload.len()), &payload)
}

/// A fun, local (`Kind::Fun`) or external (`Kind::ExportFun`).
pub fn is_fun(term: Term) -> bool {
    term.is_boxed() && matches!(term.header().kind(), Some(Kind::Fun | Kind::ExportFun))
}

/// The words an external fun takes.
pub const EXPORT_WORDS: usize = 4;

/// `fun M:F/A`. Needs [`EXPORT_WORDS`] words.
pub fn make_export(heap: &mut Heap, module: Term, function: Term, arity: u32) -> Term {
    let arity = Term::small(i64::from(arity)).unwrap_or(Term::NIL);
    heap.raw_object(Header::new(Kind::ExportFun, 3), &[module.raw(), function.raw(), arity.raw()])
}

/// The module, function and arity of an external fun.
pub fn export_parts(term: Term) -> Option<(Term, Term, u32)> {
    if !term.is_boxed() || term.header().kind() != Some(Kind::ExportFun) {
        return None;
    }
    let payload = term.payload();
    // SAFETY: an external fun's payload is three terms.
    let (module, function, arity) =
        unsafe { (Term::from_raw(payload[0]), Term::from_raw(payload[1]), Term::from_raw(payload[2])) };
    Some((module, function, arity.small_value() as u32))
}

/// A fun's arity, local or external.
pub fn arity(term: Term) -> Option<u32> {
    if let Some((_, _, arity)) = export_parts(term) {
        return Some(arity);
    }
    parts_borrowed(term).and_then(|(module, lambda, _)| module.lambdas.get(lambda as usize).map(|l| l.arity))
}

/// A fun's module version, lambda index and captured variables.
pub fn parts<'a>(term: Term) -> Option<(Arc<LoadedModule>, u32, &'a [Term])> {
    if !term.is_boxed() || term.header().kind() != Some(Kind::Fun) {
        return None;
    }
    let payload = term.payload();
    let pointer = payload[0] as *const LoadedModule;
    // SAFETY: word 0 of a fun is `Arc::as_ptr` of a module version that stays
    // loaded while funs of it exist (see the module comment); taking another
    // strong count and rebuilding an `Arc` from it leaves the count balanced.
    let module = unsafe {
        Arc::increment_strong_count(pointer);
        Arc::from_raw(pointer)
    };
    // SAFETY: `Term` is `repr(transparent)` over `u64`; words 1.. are terms.
    let rest = unsafe { std::slice::from_raw_parts(payload[1..].as_ptr().cast::<Term>(), payload.len() - 1) };
    let lambda = rest[0].small_value() as u32;
    Some((module, lambda, &rest[1..]))
}

/// As [`parts`], borrowing the module version instead of counting a reference.
pub fn parts_borrowed<'a>(term: Term) -> Option<(&'a LoadedModule, u32, &'a [Term])> {
    if !term.is_boxed() || term.header().kind() != Some(Kind::Fun) {
        return None;
    }
    let payload = term.payload();
    // SAFETY: word 0 of a fun is `Arc::as_ptr` of a module version that stays
    // loaded while funs of it exist (see the module comment).
    let module = unsafe { &*(payload[0] as *const LoadedModule) };
    // SAFETY: `Term` is `repr(transparent)` over `u64`; words 1.. are terms.
    let rest = unsafe { std::slice::from_raw_parts(payload[1..].as_ptr().cast::<Term>(), payload.len() - 1) };
    Some((module, rest[0].small_value() as u32, &rest[1..]))
}
