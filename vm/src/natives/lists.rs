//! The `lists` functions that are built-ins in OTP (`reverse/2`, `member/2`,
//! `keyfind/3`, `keymember/3`, `keysearch/3`): in Rust, as erl has them in C,
//! with its `badarg` for a bad argument. The rest of `lists` is
//! `stdlib/lists.actor`, whose remote calls of these reach the built-ins.

use super::{NativeFn, Walk};
use crate::atom::atoms;
use crate::compare;
use crate::exception::{Exception, Stop};
use crate::process::Process;
use crate::term::Term;

pub fn lookup(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("reverse", 2) => reverse,
        ("member", 2) => member,
        ("keyfind", 3) => |p, a| Ok(keyfind(p, a)?.unwrap_or(atoms::FALSE)),
        ("keymember", 3) => |p, a| Ok(crate::natives::erlang::boolean(keyfind(p, a)?.is_some())),
        ("keysearch", 3) => |p, a| {
            // Room for `{value, Tuple}` first: finding allocates nothing.
            p.ensure(3, a);
            match keyfind(p, a)? {
                Some(tuple) => Ok(p.heap.tuple(&[crate::atom::intern("value").unwrap_or(atoms::UNDEFINED), tuple])),
                None => Ok(atoms::FALSE),
            }
        },
        _ => return None,
    })
}

fn badarg() -> Stop {
    Stop::Raise(Exception::error(atoms::BADARG))
}

fn reverse(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let mut count = 0;
    let mut cursor = a[0];
    while cursor.is_cons() {
        count += 1;
        cursor = cursor.tail();
    }
    if !cursor.is_nil() {
        return Err(badarg());
    }
    p.ensure(2 * count, a);
    // The room is made: consing allocates nothing more, and a suspension
    // half-way leaves the heap (and so `cursor` and `list`) as it is.
    let (mut cursor, mut list) = (a[0], a[1]);
    let mut walk = Walk::new();
    while cursor.is_cons() {
        list = p.heap.cons(cursor.head(), list);
        cursor = cursor.tail();
        walk.step(p);
    }
    walk.done(p);
    Ok(list)
}

/// `member/2` matches (`=:=`), as OTP's does.
fn member(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let (x, mut cursor) = (a[0], a[1]);
    let mut walk = Walk::new();
    while cursor.is_cons() {
        if compare::exact_eq(cursor.head(), x) {
            walk.done(p);
            return Ok(atoms::TRUE);
        }
        cursor = cursor.tail();
        walk.step(p);
    }
    walk.done(p);
    if cursor.is_nil() {
        Ok(atoms::FALSE)
    } else {
        Err(badarg())
    }
}

/// The first tuple of list `a[2]` whose element `a[1]` equals (`==`) `a[0]`.
fn keyfind(p: &mut Process, a: &mut [Term]) -> Result<Option<Term>, Stop> {
    let (key, index, mut cursor) = (a[0], a[1], a[2]);
    if !index.is_small() || index.small_value() < 1 {
        return Err(badarg());
    }
    let index = index.small_value() as usize;
    let mut walk = Walk::new();
    while cursor.is_cons() {
        let item = cursor.head();
        if let Some(elements) = item.tuple_elements() {
            if elements.get(index - 1).is_some_and(|&e| compare::eq(e, key)) {
                walk.done(p);
                return Ok(Some(item));
            }
        }
        cursor = cursor.tail();
        walk.step(p);
    }
    walk.done(p);
    if cursor.is_nil() {
        Ok(None)
    } else {
        Err(badarg())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtins_are_found_and_others_are_not() {
        for (f, n) in [("reverse", 2), ("member", 2), ("keyfind", 3), ("keymember", 3), ("keysearch", 3)] {
            assert!(lookup(f, n).is_some(), "{f}/{n}");
        }
        assert!(lookup("reverse", 1).is_none());
        assert!(lookup("sort", 1).is_none());
    }
}
