//! The `maps` module's native functions and the map BIFs of `erlang`
//! (`map_size`, `map_get`, `is_map_key`). The higher-order functions of
//! `maps` (`fold`, `map`, `filter`, ...) are in `stdlib/maps.actor`.
//!
//! Every builder first validates its arguments, then makes room (which may
//! move them: they are re-read from `args` afterwards), then builds.

use super::NativeFn;
use crate::atom::atoms;
use crate::exception::{error, Stop};
use crate::map;
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("get", 2) => |p, a| get(p, a, 1, 0),
        ("get", 3) => |p, a| {
            let words = words_of(p, a, 1)?;
            Ok(map::get(words, a[0]).unwrap_or(a[2]))
        },
        ("find", 2) => |p, a| {
            let words = words_of(p, a, 1)?;
            match map::get(words, a[0]) {
                Some(value) => {
                    a[1] = value;
                    p.ensure(3, a);
                    Ok(p.heap.tuple(&[atoms::OK, a[1]]))
                }
                None => Ok(atoms::ERROR),
            }
        },
        ("is_key", 2) => |p, a| is_key(p, a, 1, 0),
        ("size", 1) => size,
        ("new", 0) => |p, _| {
            p.ensure(1, &mut []);
            Ok(p.heap.map(&[]))
        },
        ("put", 3) => |p, a| {
            let n = map::size(words_of(p, a, 2)?);
            p.ensure(map::words(n + 1), a);
            let pairs = map::with(a[2].map_words().unwrap_or_default(), a[0], a[1]);
            Ok(p.heap.map(&pairs))
        },
        ("update", 3) => |p, a| {
            let words = words_of(p, a, 2)?;
            if map::get(words, a[0]).is_none() {
                return Err(badkey(p, a, 0));
            }
            p.ensure(map::words(map::size(words)), a);
            let pairs = map::with(a[2].map_words().unwrap_or_default(), a[0], a[1]);
            Ok(p.heap.map(&pairs))
        },
        ("remove", 2) => |p, a| {
            let n = map::size(words_of(p, a, 1)?);
            p.ensure(map::words(n), a);
            let pairs = map::without(a[1].map_words().unwrap_or_default(), a[0]);
            Ok(p.heap.map(&pairs))
        },
        ("take", 2) => |p, a| {
            let words = words_of(p, a, 1)?;
            if map::get(words, a[0]).is_none() {
                return Ok(atoms::ERROR);
            }
            p.ensure(map::words(map::size(words)) + 3, a);
            let words = a[1].map_words().unwrap_or_default();
            let value = map::get(words, a[0]).unwrap_or(Term::NIL);
            let rest = p.heap.map(&map::without(words, a[0]));
            Ok(p.heap.tuple(&[value, rest]))
        },
        ("keys", 1) => |p, a| column(p, a, 0),
        ("values", 1) => |p, a| column(p, a, 1),
        ("to_list", 1) => |p, a| {
            let n = map::size(words_of(p, a, 0)?);
            p.ensure(5 * n, a);
            let pairs = map::pairs(a[0].map_words().unwrap_or_default());
            let tuples: Vec<Term> = pairs.iter().map(|&(k, v)| p.heap.tuple(&[k, v])).collect();
            Ok(p.heap.list(&tuples))
        },
        ("from_list", 1) => |p, a| {
            let n = pairs_of_list(a[0])?.len();
            p.ensure(map::words(n), a);
            let pairs = map::normalize(pairs_of_list(a[0])?);
            Ok(p.heap.map(&pairs))
        },
        ("from_keys", 2) => |p, a| {
            let n = super::erlang::list_items(a[0])?.len();
            p.ensure(map::words(n), a);
            let pairs = super::erlang::list_items(a[0])?.into_iter().map(|k| (k, a[1])).collect();
            Ok(p.heap.map(&map::normalize(pairs)))
        },
        ("merge", 2) => |p, a| {
            let n = map::size(words_of(p, a, 0)?) + map::size(words_of(p, a, 1)?);
            p.ensure(map::words(n), a);
            let pairs = map::merge(a[0].map_words().unwrap_or_default(), a[1].map_words().unwrap_or_default());
            Ok(p.heap.map(&pairs))
        },
        ("with", 2) => |p, a| select(p, a, true),
        ("without", 2) => |p, a| select(p, a, false),
        ("iterator", 1) => |p, a| {
            words_of(p, a, 0)?;
            p.ensure(2, a);
            Ok(p.heap.cons(Term::small(0).unwrap_or(Term::NIL), a[0]))
        },
        ("next", 1) => next,
        _ => return None,
    })
}

/// The `erlang` module's map BIFs.
pub(super) fn lookup_erlang(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("is_map", 1) => |_, a| Ok(super::erlang::boolean(a[0].map_words().is_some())),
        ("map_size", 1) => size,
        ("map_get", 2) => |p, a| get(p, a, 1, 0),
        ("is_map_key", 2) => |p, a| is_key(p, a, 1, 0),
        _ => return None,
    })
}

/// The words of the map in `a[index]`, or `{badmap, a[index]}`.
fn words_of<'a>(p: &mut Process, a: &mut [Term], index: usize) -> Result<&'a [Term], Stop> {
    match a[index].map_words() {
        Some(words) => Ok(words),
        None => Err(tagged(p, a, atoms::BADMAP, index)),
    }
}

/// `error:{Tag, a[index]}`.
fn tagged(p: &mut Process, a: &mut [Term], tag: Term, index: usize) -> Stop {
    p.ensure(3, a);
    error(p.heap.tuple(&[tag, a[index]]))
}

fn badkey(p: &mut Process, a: &mut [Term], index: usize) -> Stop {
    tagged(p, a, atoms::BADKEY, index)
}

fn get(p: &mut Process, a: &mut [Term], map: usize, key: usize) -> Result<Term, Stop> {
    let words = words_of(p, a, map)?;
    match map::get(words, a[key]) {
        Some(value) => Ok(value),
        None => Err(badkey(p, a, key)),
    }
}

fn is_key(p: &mut Process, a: &mut [Term], map: usize, key: usize) -> Result<Term, Stop> {
    let words = words_of(p, a, map)?;
    Ok(super::erlang::boolean(map::get(words, a[key]).is_some()))
}

fn size(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let n = map::size(words_of(p, a, 0)?);
    Ok(Term::small(n as i64).unwrap_or(Term::NIL))
}

/// `maps:keys/1` (column 0) or `maps:values/1` (column 1).
fn column(p: &mut Process, a: &mut [Term], column: usize) -> Result<Term, Stop> {
    let n = map::size(words_of(p, a, 0)?);
    p.ensure(2 * n, a);
    let items: Vec<Term> = a[0].map_words().unwrap_or_default().iter().skip(column).step_by(2).copied().collect();
    Ok(p.heap.list(&items))
}

/// The `{K, V}` pairs of a proper list of 2-tuples, or `badarg`.
fn pairs_of_list(list: Term) -> Result<Vec<(Term, Term)>, Stop> {
    super::erlang::list_items(list)?
        .into_iter()
        .map(|item| match item.tuple_elements() {
            Some(&[k, v]) => Ok((k, v)),
            _ => Err(error(atoms::BADARG)),
        })
        .collect()
}

/// `maps:with/2` (keep the listed keys) or `maps:without/2` (drop them).
fn select(p: &mut Process, a: &mut [Term], keep: bool) -> Result<Term, Stop> {
    let n = map::size(words_of(p, a, 1)?);
    super::erlang::list_items(a[0])?;
    p.ensure(map::words(n), a);
    let keys = super::erlang::list_items(a[0])?;
    let pairs: Vec<(Term, Term)> = map::pairs(a[1].map_words().unwrap_or_default())
        .into_iter()
        .filter(|(k, _)| keys.iter().any(|&key| crate::compare::exact_eq(key, *k)) == keep)
        .collect();
    Ok(p.heap.map(&pairs))
}

/// `maps:next/1`: an iterator is `[Index | Map]` (as OTP's) or the
/// `{K, V, Next}` chain that `next` returns, ending in `none`.
fn next(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let iterator = a[0];
    if iterator == atoms::NONE {
        return Ok(atoms::NONE);
    }
    if let Some(&[_, _, _]) = iterator.tuple_elements() {
        return Ok(iterator);
    }
    let start = iterator.is_cons().then(|| iterator.head()).filter(|i| i.is_small()).map(|i| i.small_value());
    let (Some(start), Some(words)) = (start, iterator.is_cons().then(|| iterator.tail().map_words()).flatten()) else {
        return Err(error(atoms::BADARG));
    };
    let start = usize::try_from(start).map_err(|_| error(atoms::BADARG))?;
    let n = map::size(words).saturating_sub(start);
    if n == 0 {
        return Ok(atoms::NONE);
    }
    p.ensure(4 * n, a);
    let words = a[0].tail().map_words().unwrap_or_default();
    let mut chain = atoms::NONE;
    for pair in words.chunks_exact(2).skip(start).rev() {
        chain = p.heap.tuple(&[pair[0], pair[1], chain]);
    }
    Ok(chain)
}
