//! Erlang's term order and equality: `number < atom < reference < fun < port
//! < pid < tuple < map < nil < list < binary`; numbers compare by value (so
//! `1 == 1.0`), exact equality (`=:=`) also tells integers from floats.
//! The exact order (`compare_exact`), used for `=:=` and to sort map keys,
//! is the same except that an integer and a float never compare equal: every
//! integer sorts before every float, as in a map's key order.
//! Long lists are walked iteratively, so comparing them needs no deep stack.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{FromPrimitive, ToPrimitive};

use crate::atom;
use crate::heap::{binary_bytes, integer_value};
use crate::term::{Kind, Term};

/// The rank of a term's type in the term order.
fn rank(term: Term) -> u8 {
    if term.is_small() {
        0
    } else if term.is_atom() {
        1
    } else if term.is_port() {
        4
    } else if term.is_pid() {
        5
    } else if term.is_nil() {
        8
    } else if term.is_cons() {
        9
    } else if term.is_boxed() {
        match term.header().kind() {
            Some(Kind::PositiveBig | Kind::NegativeBig | Kind::Float) => 0,
            Some(Kind::Reference) => 2,
            Some(Kind::Fun | Kind::ExportFun) => 3,
            Some(Kind::Tuple) => 6,
            Some(Kind::Map) => 7,
            Some(Kind::HeapBinary | Kind::RefcBinary | Kind::SubBinary) => 10,
            None => 11,
        }
    } else {
        11
    }
}

/// `a =:= b`
pub fn exact_eq(a: Term, b: Term) -> bool {
    a == b || (!a.is_immediate() && !b.is_immediate() && boxed_exact_eq(a, b))
}

/// `a =:= b` for two boxed terms. Out of line: inlined, its binary test
/// cost the interpreter's loop (which calls `exact_eq`) 9% more
/// instructions on fib.
#[inline(never)]
fn boxed_exact_eq(a: Term, b: Term) -> bool {
    // Binaries (ets keys, often): equal bytes, without ordering them.
    if let Some(x) = binary_bytes(a) {
        return binary_bytes(b).is_some_and(|y| x == y);
    }
    compare_exact(a, b) == Ordering::Equal
}

/// `a == b`
pub fn eq(a: Term, b: Term) -> bool {
    a == b || compare(a, b) == Ordering::Equal
}

/// The term order, with numbers compared by value.
pub fn compare(a: Term, b: Term) -> Ordering {
    compare_with(a, b, false)
}

/// The exact term order: as [`compare`], but integers sort before floats.
/// Map keys are kept in this order.
pub fn compare_exact(a: Term, b: Term) -> Ordering {
    compare_with(a, b, true)
}

fn compare_with(mut a: Term, mut b: Term, exact: bool) -> Ordering {
    loop {
        if a == b {
            return Ordering::Equal;
        }
        let (rank_a, rank_b) = (rank(a), rank(b));
        if rank_a != rank_b {
            return rank_a.cmp(&rank_b);
        }
        match rank_a {
            0 if exact => {
                let (a_float, b_float) = (a.float_value().is_some(), b.float_value().is_some());
                if a_float != b_float {
                    return a_float.cmp(&b_float);
                }
                return compare_numbers(a, b);
            }
            0 => return compare_numbers(a, b),
            1 => return atom::name(a).cmp(&atom::name(b)),
            2 => return a.payload()[0].cmp(&b.payload()[0]),
            3 => return compare_funs(a, b, exact),
            4 => return a.port_number().cmp(&b.port_number()),
            5 => return a.pid_number().cmp(&b.pid_number()),
            6 => {
                let (x, y) = (a.tuple_elements().unwrap_or_default(), b.tuple_elements().unwrap_or_default());
                if x.len() != y.len() {
                    return x.len().cmp(&y.len());
                }
                return compare_all(x.iter().zip(y), exact);
            }
            7 => {
                // By size, then the keys in order (exactly), then the values.
                let (x, y) = (a.map_words().unwrap_or_default(), b.map_words().unwrap_or_default());
                if x.len() != y.len() {
                    return x.len().cmp(&y.len());
                }
                let keys = x.iter().step_by(2).zip(y.iter().step_by(2));
                return compare_all(keys, true)
                    .then_with(|| compare_all(x.iter().skip(1).step_by(2).zip(y.iter().skip(1).step_by(2)), exact));
            }
            9 => {
                match compare_with(a.head(), b.head(), exact) {
                    Ordering::Equal => {}
                    other => return other,
                }
                // Continue with the tails without recursing.
                a = a.tail();
                b = b.tail();
            }
            10 => return binary_bytes(a).cmp(&binary_bytes(b)),
            _ => return a.raw().cmp(&b.raw()),
        }
    }
}

fn compare_all<'a>(pairs: impl Iterator<Item = (&'a Term, &'a Term)>, exact: bool) -> Ordering {
    for (&p, &q) in pairs {
        match compare_with(p, q, exact) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

fn compare_numbers(a: Term, b: Term) -> Ordering {
    if a.is_small() && b.is_small() {
        return a.small_value().cmp(&b.small_value());
    }
    match (a.float_value(), b.float_value()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(x), None) => compare_float_integer(x, &integer_value(b).unwrap_or_default()),
        (None, Some(y)) => compare_float_integer(y, &integer_value(a).unwrap_or_default()).reverse(),
        (None, None) => integer_value(a).cmp(&integer_value(b)),
    }
}

/// Compares a float with an integer exactly, however large the integer.
fn compare_float_integer(float: f64, integer: &BigInt) -> Ordering {
    if let Some(i) = integer.to_i64().filter(|i| i.unsigned_abs() < 1 << 53) {
        return float.partial_cmp(&(i as f64)).unwrap_or(Ordering::Equal);
    }
    let truncated = BigInt::from_f64(float.trunc()).unwrap_or_default();
    match truncated.cmp(integer) {
        Ordering::Equal => float.fract().partial_cmp(&0.0).unwrap_or(Ordering::Equal),
        other => other,
    }
}

/// Funs: external ones by module, function and arity; local ones by module,
/// lambda and captured values; local before external.
fn compare_funs(a: Term, b: Term, exact: bool) -> Ordering {
    use crate::fun;
    match (fun::export_parts(a), fun::export_parts(b)) {
        (Some((m1, f1, a1)), Some((m2, f2, a2))) => {
            atom::name(m1).cmp(&atom::name(m2)).then(atom::name(f1).cmp(&atom::name(f2))).then(a1.cmp(&a2))
        }
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => match (fun::parts_borrowed(a), fun::parts_borrowed(b)) {
            (Some((m1, l1, free1)), Some((m2, l2, free2))) => atom::name(m1.name)
                .cmp(&atom::name(m2.name))
                .then(l1.cmp(&l2))
                .then(free1.len().cmp(&free2.len()))
                .then_with(|| compare_all(free1.iter().zip(free2), exact)),
            _ => a.raw().cmp(&b.raw()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::Heap;

    #[test]
    fn ports_sort_between_funs_and_pids_and_by_number() {
        let mut heap = Heap::with_young_words(16);
        let reference = heap.reference(1);
        let tuple = heap.tuple(&[]);
        let (a, b) = (Term::port(5), Term::port(9));
        assert_eq!(compare(a, b), Ordering::Less);
        assert_eq!(compare(b, a), Ordering::Greater);
        assert_eq!(compare(a, Term::port(5)), Ordering::Equal);
        assert_eq!(compare(reference, a), Ordering::Less);
        assert_eq!(compare(a, Term::pid(1)), Ordering::Less);
        assert_eq!(compare(Term::pid(1), tuple), Ordering::Less);
    }
}
