//! Terms that come from outside any heap (a file read by `file:consult`, the
//! external term format) before they are built into one: a reader checks
//! the whole input into an [`Owned`] first, which is then sized, room is made
//! once, and it is built, so nothing is left half-made by bad input or moved
//! by a collection halfway.

use num_bigint::BigInt;

use crate::heap::Heap;
use crate::term::Term;

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
