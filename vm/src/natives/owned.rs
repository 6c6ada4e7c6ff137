//! Terms that come from outside any heap (a file read by `file:consult`, the
//! external term format) before they are built into one: a reader checks
//! the whole input into an [`Owned`] first, which is then sized, room is made
//! once, and it is built, so nothing is left half-made by bad input or moved
//! by a collection halfway.

use num_bigint::BigInt;

use crate::heap::Heap;
use crate::term::Term;

/// Each key's hash and its index in `pairs`, or `Err` if two keys are
/// exactly equal: keys are told apart by their hashes, and only keys whose
/// hashes collide are compared exactly.
fn distinct_keys(pairs: &[(Owned, Owned)]) -> Result<Vec<(u64, usize)>, DuplicateKey> {
    let mut keys = Vec::with_capacity(pairs.len());
    for (index, (key, _)) in pairs.iter().enumerate() {
        keys.push((key.digest()?, index));
    }
    keys.sort_unstable();
    for pair in keys.windows(2) {
        if pair[0].0 == pair[1].0 {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            pairs[pair[0].1].0.identity(&mut a);
            pairs[pair[1].1].0.identity(&mut b);
            if a == b {
                return Err(DuplicateKey);
            }
        }
    }
    Ok(keys)
}

/// A map in the value has a key twice.
#[derive(Debug)]
pub(super) struct DuplicateKey;

pub(super) enum Owned {
    Integer(BigInt),
    Float(f64),
    Atom(Term),
    Nil,
    Pid(u64),
    Port(u64),
    List(Vec<Owned>, Box<Owned>),
    Tuple(Vec<Owned>),
    Map(Vec<(Owned, Owned)>),
    Binary(Vec<u8>),
    Export(Term, Term, u32),
    Reference(u64),
}

impl Owned {
    /// The heap words [`Owned::build`] needs.
    pub(super) fn words(&self) -> usize {
        match self {
            Owned::Integer(i) => Heap::words_for_integer(i),
            Owned::Float(_) | Owned::Reference(_) => 2,
            Owned::Atom(_) | Owned::Nil | Owned::Pid(_) | Owned::Port(_) => 0,
            Owned::List(items, tail) => items.iter().map(|i| 2 + i.words()).sum::<usize>() + tail.words(),
            Owned::Tuple(items) => 1 + items.len() + items.iter().map(Owned::words).sum::<usize>(),
            Owned::Map(pairs) => {
                crate::map::words(pairs.len()) + pairs.iter().map(|(k, v)| k.words() + v.words()).sum::<usize>()
            }
            Owned::Binary(bytes) => Heap::words_for_binary(bytes.len()),
            Owned::Export(..) => crate::fun::EXPORT_WORDS,
        }
    }

    /// `Err` if a map anywhere in the value has a key twice. One pass: only
    /// keys are hashed ([`Owned::digest`]), and only keys whose hashes
    /// collide are compared exactly (by [`Owned::identity`]).
    pub(super) fn check_map_keys(&self) -> Result<(), DuplicateKey> {
        match self {
            Owned::List(items, tail) => {
                items.iter().try_for_each(Owned::check_map_keys)?;
                tail.check_map_keys()
            }
            Owned::Tuple(items) => items.iter().try_for_each(Owned::check_map_keys),
            Owned::Map(pairs) => {
                pairs.iter().try_for_each(|(_, value)| value.check_map_keys())?;
                distinct_keys(pairs).map(|_| ())
            }
            _ => Ok(()),
        }
    }

    /// A hash of the value, equal for exactly equal (`=:=`) values; `Err`
    /// if a map in it has a key twice.
    fn digest(&self) -> Result<u64, DuplicateKey> {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match self {
            Owned::List(items, tail) => {
                6u8.hash(&mut hasher);
                items.len().hash(&mut hasher);
                for item in items {
                    item.digest()?.hash(&mut hasher);
                }
                tail.digest()?.hash(&mut hasher);
            }
            Owned::Tuple(items) => {
                7u8.hash(&mut hasher);
                items.len().hash(&mut hasher);
                for item in items {
                    item.digest()?.hash(&mut hasher);
                }
            }
            Owned::Map(pairs) => {
                // By key hash, so that the order the pairs came in does not count.
                let mut entries = Vec::with_capacity(pairs.len());
                for (key, index) in distinct_keys(pairs)? {
                    entries.push((key, pairs[index].1.digest()?));
                }
                entries.sort_unstable();
                8u8.hash(&mut hasher);
                entries.hash(&mut hasher);
            }
            leaf => {
                let mut bytes = Vec::new();
                leaf.identity(&mut bytes);
                bytes.hash(&mut hasher);
            }
        }
        Ok(hasher.finish())
    }

    /// Bytes that are equal for two values exactly when the terms they
    /// build are exactly equal (`=:=`).
    pub(super) fn identity(&self, out: &mut Vec<u8>) {
        let bytes = |out: &mut Vec<u8>, tag: u8, data: &[u8]| {
            out.push(tag);
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            out.extend_from_slice(data);
        };
        match self {
            Owned::Integer(i) => bytes(out, 0, &i.to_signed_bytes_le()),
            // 0.0 =:= -0.0, as in OTP 25.
            Owned::Float(f) => bytes(out, 1, &(if *f == 0.0 { 0.0f64 } else { *f }).to_bits().to_le_bytes()),
            Owned::Atom(a) => bytes(out, 2, &a.raw().to_le_bytes()),
            Owned::Nil => out.push(3),
            Owned::Pid(n) => bytes(out, 4, &n.to_le_bytes()),
            Owned::Port(n) => bytes(out, 5, &n.to_le_bytes()),
            Owned::List(items, tail) => {
                bytes(out, 6, &(items.len() as u64).to_le_bytes());
                items.iter().for_each(|i| i.identity(out));
                tail.identity(out);
            }
            Owned::Tuple(items) => {
                bytes(out, 7, &(items.len() as u64).to_le_bytes());
                items.iter().for_each(|i| i.identity(out));
            }
            Owned::Map(pairs) => {
                // In a canonical order: by the keys' own identities.
                let mut entries: Vec<(Vec<u8>, Vec<u8>)> = pairs
                    .iter()
                    .map(|(k, v)| {
                        let (mut key, mut value) = (Vec::new(), Vec::new());
                        k.identity(&mut key);
                        v.identity(&mut value);
                        (key, value)
                    })
                    .collect();
                entries.sort();
                bytes(out, 8, &(entries.len() as u64).to_le_bytes());
                for (key, value) in entries {
                    out.extend_from_slice(&key);
                    out.extend_from_slice(&value);
                }
            }
            Owned::Binary(data) => bytes(out, 9, data),
            Owned::Export(m, f, a) => {
                bytes(out, 10, &m.raw().to_le_bytes());
                out.extend_from_slice(&f.raw().to_le_bytes());
                out.extend_from_slice(&a.to_le_bytes());
            }
            Owned::Reference(n) => bytes(out, 11, &n.to_le_bytes()),
        }
    }

    /// Builds the term; the heap must have [`Owned::words`] words of room.
    pub(super) fn build(&self, heap: &mut Heap) -> Term {
        match self {
            Owned::Integer(i) => heap.integer(i),
            Owned::Float(f) => heap.float(*f),
            Owned::Atom(a) => *a,
            Owned::Nil => Term::NIL,
            Owned::Pid(n) => Term::pid(*n),
            Owned::Port(n) => Term::port(*n),
            Owned::List(items, tail) => {
                let items: Vec<Term> = items.iter().map(|i| i.build(heap)).collect();
                let mut list = tail.build(heap);
                for &item in items.iter().rev() {
                    list = heap.cons(item, list);
                }
                list
            }
            Owned::Tuple(items) => {
                let items: Vec<Term> = items.iter().map(|i| i.build(heap)).collect();
                heap.tuple(&items)
            }
            Owned::Map(pairs) => {
                let pairs: Vec<(Term, Term)> = pairs.iter().map(|(k, v)| (k.build(heap), v.build(heap))).collect();
                heap.map(&crate::map::normalize(pairs))
            }
            Owned::Binary(bytes) => heap.binary(bytes),
            Owned::Export(m, f, a) => crate::fun::make_export(heap, *m, *f, *a),
            Owned::Reference(n) => heap.reference(*n),
        }
    }
}
