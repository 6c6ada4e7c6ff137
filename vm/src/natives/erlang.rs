//! The `erlang` module's BIFs: arithmetic (small integers fast, bignums and
//! floats exact), comparisons, type tests, tuples and lists, conversions and
//! raising exceptions.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

use super::{NativeFn, Walk, CELLS_A_REDUCTION, CHARGE_EVERY};
use crate::atom::{self, atoms};
use crate::compare::{compare, eq, exact_eq};
use crate::exception::{error, Class, Exception, Stop};
use crate::heap::{integer_value, Heap};
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("+", 2) => add,
        ("-", 2) => subtract,
        ("*", 2) => multiply,
        ("/", 2) => divide,
        ("div", 2) => int_div,
        ("rem", 2) => int_rem,
        ("band", 2) => band,
        ("bor", 2) => bor,
        ("bxor", 2) => bxor,
        ("bsl", 2) => bsl,
        ("bsr", 2) => bsr,
        ("-", 1) => negate,
        ("+", 1) => plus,
        ("bnot", 1) => bnot,
        ("abs", 1) => abs,
        ("==", 2) => |_, a| Ok(boolean(eq(a[0], a[1]))),
        ("/=", 2) => |_, a| Ok(boolean(!eq(a[0], a[1]))),
        ("=:=", 2) => |_, a| Ok(boolean(exact_eq(a[0], a[1]))),
        ("=/=", 2) => |_, a| Ok(boolean(!exact_eq(a[0], a[1]))),
        ("<", 2) => |_, a| Ok(boolean(compare(a[0], a[1]) == Ordering::Less)),
        (">", 2) => |_, a| Ok(boolean(compare(a[0], a[1]) == Ordering::Greater)),
        ("=<", 2) => |_, a| Ok(boolean(compare(a[0], a[1]) != Ordering::Greater)),
        (">=", 2) => |_, a| Ok(boolean(compare(a[0], a[1]) != Ordering::Less)),
        ("and", 2) => |_, a| Ok(boolean(bool_of(a[0])? & bool_of(a[1])?)),
        ("or", 2) => |_, a| Ok(boolean(bool_of(a[0])? | bool_of(a[1])?)),
        ("xor", 2) => |_, a| Ok(boolean(bool_of(a[0])? ^ bool_of(a[1])?)),
        ("not", 1) => |_, a| Ok(boolean(!bool_of(a[0])?)),
        ("is_integer", 1) => |_, a| Ok(boolean(a[0].is_integer())),
        ("is_float", 1) => |_, a| Ok(boolean(a[0].float_value().is_some())),
        ("is_number", 1) => |_, a| Ok(boolean(a[0].is_number())),
        ("is_atom", 1) => |_, a| Ok(boolean(a[0].is_atom())),
        ("is_boolean", 1) => |_, a| Ok(boolean(a[0] == atoms::TRUE || a[0] == atoms::FALSE)),
        ("is_list", 1) => |_, a| Ok(boolean(a[0].is_nil() || a[0].is_cons())),
        ("is_tuple", 1) => |_, a| Ok(boolean(a[0].tuple_elements().is_some())),
        ("is_pid", 1) => |_, a| Ok(boolean(a[0].is_pid())),
        ("is_binary", 1) => |_, a| Ok(boolean(crate::heap::binary_bytes(a[0]).is_some())),
        ("is_function", 1) => |_, a| Ok(boolean(is_fun(a[0]))),
        ("is_function", 2) => |_, a| {
            if !a[1].is_small() || a[1].small_value() < 0 {
                return Err(error(atoms::BADARG));
            }
            Ok(boolean(crate::fun::arity(a[0]) == Some(a[1].small_value() as u32)))
        },
        ("fun_info", 2) => |p, a| {
            let value = match (crate::fun::export_parts(a[0]), crate::fun::parts_borrowed(a[0]), atom::name(a[1])) {
                (_, _, Some("arity")) if crate::fun::is_fun(a[0]) => {
                    small(i64::from(crate::fun::arity(a[0]).unwrap_or(0)))
                }
                (Some((module, _, _)), _, Some("module")) => module,
                (_, Some((module, _, _)), Some("module")) => module.name,
                (Some((_, function, _)), _, Some("name")) => function,
                // A local fun's name is the name of the function it was
                // compiled to, such as '-main/0-fun-0-'.
                (_, Some((module, lambda, _)), Some("name")) => module
                    .lambdas
                    .get(lambda as usize)
                    .and_then(|l| module.functions.get(l.function as usize))
                    .map_or(atoms::UNDEFINED, |f| f.name),
                (Some(_), _, Some("type")) => atom::intern("external").unwrap_or(atoms::UNDEFINED),
                (_, Some(_), Some("type")) => atom::intern("local").unwrap_or(atoms::UNDEFINED),
                (Some(_), _, Some("env")) => Term::NIL,
                (_, Some((_, _, free)), Some("env")) => {
                    let free = free.to_vec();
                    p.ensure(2 * free.len() + 3, a);
                    let env = p.heap.list(&free);
                    return Ok(p.heap.tuple(&[a[1], env]));
                }
                _ => return Err(error(atoms::BADARG)),
            };
            p.ensure(3, a);
            Ok(p.heap.tuple(&[a[1], value]))
        },
        ("make_fun", 3) => |p, a| {
            let arity = a[2].is_small().then(|| a[2].small_value()).filter(|n| (0..=255).contains(n));
            match arity {
                Some(arity) if a[0].is_atom() && a[1].is_atom() => {
                    p.ensure(crate::fun::EXPORT_WORDS, a);
                    Ok(crate::fun::make_export(&mut p.heap, a[0], a[1], arity as u32))
                }
                _ => Err(error(atoms::BADARG)),
            }
        },
        ("is_bitstring", 1) => |_, a| Ok(boolean(crate::heap::binary_bytes(a[0]).is_some())),
        // No ports exist yet: this test is false.
        ("is_port", 1) => |_, a| Ok(boolean(a[0].is_port())),
        ("is_record", 2) => {
            |_, a| Ok(boolean(a[1].is_atom() && a[0].tuple_elements().is_some_and(|t| t.first() == Some(&a[1]))))
        }
        ("is_record", 3) => |_, a| {
            Ok(boolean(
                a[1].is_atom()
                    && a[0].tuple_elements().is_some_and(|t| {
                        t.first() == Some(&a[1]) && a[2].is_small() && t.len() as i64 == a[2].small_value()
                    }),
            ))
        },
        ("byte_size", 1) => {
            |_, a| crate::heap::binary_bytes(a[0]).map(|b| small(b.len() as i64)).ok_or_else(|| error(atoms::BADARG))
        }
        ("bit_size", 1) => |_, a| {
            crate::heap::binary_bytes(a[0]).map(|b| small(8 * b.len() as i64)).ok_or_else(|| error(atoms::BADARG))
        },
        ("ceil", 1) => |p, a| float_to_integer(p, a, f64::ceil),
        ("floor", 1) => |p, a| float_to_integer(p, a, f64::floor),
        ("node", 1) => |_, a| {
            let is_reference = a[0].is_boxed() && a[0].header().kind() == Some(crate::term::Kind::Reference);
            if a[0].is_pid() || a[0].is_port() || is_reference {
                Ok(atoms::NONODE)
            } else {
                Err(error(atoms::BADARG))
            }
        },
        ("element", 2) => element,
        ("setelement", 3) => setelement,
        ("tuple_size", 1) => |_, a| tuple_of(a[0]).map(|t| small(t.len() as i64)),
        ("size", 1) => |_, a| match crate::heap::binary_bytes(a[0]) {
            Some(bytes) => Ok(small(bytes.len() as i64)),
            None => tuple_of(a[0]).map(|t| small(t.len() as i64)),
        },
        ("hd", 1) => |_, a| if a[0].is_cons() { Ok(a[0].head()) } else { Err(error(atoms::BADARG)) },
        ("tl", 1) => |_, a| if a[0].is_cons() { Ok(a[0].tail()) } else { Err(error(atoms::BADARG)) },
        ("length", 1) => length,
        ("++", 2) => append,
        ("--", 2) => list_subtract,
        ("tuple_to_list", 1) => tuple_to_list,
        ("make_tuple", 2) => |p, a| {
            let n = a[0].is_small().then(|| a[0].small_value()).filter(|n| (0..1 << 24).contains(n));
            let n = n.ok_or_else(|| error(atoms::BADARG))? as usize;
            p.ensure(1 + n, a);
            Ok(p.heap.tuple(&vec![a[1]; n]))
        },
        ("append_element", 2) => |p, a| {
            let len = tuple_of(a[0])?.len();
            p.ensure(2 + len, a);
            let mut items = tuple_of(a[0])?.to_vec();
            items.push(a[1]);
            Ok(p.heap.tuple(&items))
        },
        ("insert_element", 3) => |p, a| {
            let len = tuple_of(a[1])?.len();
            let at = a[0].is_small().then(|| a[0].small_value()).filter(|&i| i >= 1 && i as usize <= len + 1);
            let at = at.ok_or_else(|| error(atoms::BADARG))? as usize;
            p.ensure(2 + len, a);
            let mut items = tuple_of(a[1])?.to_vec();
            items.insert(at - 1, a[2]);
            Ok(p.heap.tuple(&items))
        },
        ("delete_element", 2) => |p, a| {
            let len = tuple_of(a[1])?.len();
            let at = a[0].is_small().then(|| a[0].small_value()).filter(|&i| i >= 1 && i as usize <= len);
            let at = at.ok_or_else(|| error(atoms::BADARG))? as usize;
            p.ensure(len, a);
            let mut items = tuple_of(a[1])?.to_vec();
            items.remove(at - 1);
            Ok(p.heap.tuple(&items))
        },
        ("list_to_tuple", 1) => list_to_tuple,
        ("atom_to_list", 1) => atom_to_list,
        ("list_to_atom", 1) => list_to_atom,
        ("list_to_existing_atom", 1) => |_, a| {
            let text = string_of(a[0])?;
            atom::existing(&text).ok_or_else(|| error(atoms::BADARG))
        },
        ("pid_to_list", 1) => |p, a| {
            if !a[0].is_pid() {
                return Err(error(atoms::BADARG));
            }
            let text = format!("<0.{}.0>", a[0].pid_number());
            Ok(make_string(p, a, &text))
        },
        ("list_to_pid", 1) => |_, a| {
            // Only this node's pids, `<0.N.0>`, as erl writes them.
            let text = string_of(a[0])?;
            let parts: Vec<&str> =
                text.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or("").split('.').collect();
            match parts.as_slice() {
                ["0", number, "0"] => number
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n < 1 << 40)
                    .map(Term::pid)
                    .ok_or_else(|| error(atoms::BADARG)),
                _ => Err(error(atoms::BADARG)),
            }
        },
        ("integer_to_list", 1) => |p, a| integer_to_list(p, a, 10),
        ("integer_to_list", 2) => |p, a| {
            let base = a[1].is_small().then(|| a[1].small_value()).filter(|b| (2..=36).contains(b));
            match base {
                Some(base) => integer_to_list(p, a, base as u32),
                None => Err(error(atoms::BADARG)),
            }
        },
        ("list_to_integer", 1) => list_to_integer,
        ("list_to_integer", 2) => |p, a| {
            let base = a[1].is_small().then(|| a[1].small_value()).filter(|b| (2..=36).contains(b));
            let base = base.ok_or_else(|| error(atoms::BADARG))? as u32;
            let value = super::binary::parse_integer(&string_of(a[0])?, base)?;
            make_integer(p, a, value)
        },
        ("float_to_list", 1) => |p, a| {
            let text = float_text_default(a[0])?;
            Ok(make_string(p, a, &text))
        },
        ("float_to_list", 2) => |p, a| {
            let text = float_text_with(a[0], a[1])?;
            Ok(make_string(p, a, &text))
        },
        ("list_to_float", 1) => |p, a| {
            let value = parse_float(&string_of(a[0])?)?;
            p.ensure(2, a);
            Ok(p.heap.float(value))
        },
        ("float", 1) => to_float,
        ("round", 1) => |p, a| float_to_integer(p, a, f64::round),
        ("trunc", 1) => |p, a| float_to_integer(p, a, f64::trunc),
        ("min", 2) => |_, a| Ok(if compare(a[0], a[1]) == Ordering::Greater { a[1] } else { a[0] }),
        ("max", 2) => |_, a| Ok(if compare(a[0], a[1]) == Ordering::Less { a[1] } else { a[0] }),
        ("self", 0) => |p, _| Ok(Term::pid(p.pid)),
        ("node", 0) => |_, _| Ok(atoms::NONODE),
        ("error", 1) => |_, a| Err(Stop::Raise(Exception::new(Class::Error, a[0]))),
        // The caller's stack entry shows Args in place of its arity.
        ("error", 2) => |_, a| {
            let mut exception = Exception::new(Class::Error, a[0]);
            exception.args = list_items(a[1]).ok();
            Err(Stop::Raise(exception))
        },
        ("throw", 1) => |_, a| Err(Stop::Raise(Exception::new(Class::Throw, a[0]))),
        ("exit", 1) => |_, a| Err(Stop::Raise(Exception::new(Class::Exit, a[0]))),
        // A bad class or stack trace: raise/3 returns badarg, as erl's does.
        // A longer trace than backtrace_depth is cut to it.
        ("raise", 3) => |p, a| match Class::from_atom(a[0]) {
            Some(class) if is_stacktrace(a[2]) => {
                let depth = crate::interp::backtrace_depth();
                if list_items(a[2]).is_ok_and(|entries| entries.len() > depth) {
                    p.ensure(2 * depth, a);
                    let entries = list_items(a[2])?;
                    a[2] = p.heap.list(&entries[..depth]);
                }
                let mut exception = Exception::new(class, a[1]);
                exception.stacktrace = Some(a[2]);
                Err(Stop::Raise(exception))
            }
            _ => Ok(atoms::BADARG),
        },
        ("halt", 0) => |_, _| Err(Stop::Halt(0)),
        ("halt", 1) => |_, a| match a[0] {
            t if t.is_small() => Err(Stop::Halt(t.small_value() as i32)),
            _ => Err(Stop::Halt(1)),
        },
        _ => return None,
    })
}

/// A proper list of `{M, F, ArityOrArgs, Location}`, `{M, F, ArityOrArgs}`
/// or `{Fun, ArityOrArgs, Location}` entries.
fn is_stacktrace(trace: Term) -> bool {
    let Ok(entries) = list_items(trace) else { return false };
    let arity_or_args = |t: Term| t.is_small() || list_items(t).is_ok();
    entries.iter().all(|entry| match entry.tuple_elements() {
        Some(&[m, f, a, location]) => m.is_atom() && f.is_atom() && arity_or_args(a) && list_items(location).is_ok(),
        Some(&[m, f, a]) if m.is_atom() => f.is_atom() && arity_or_args(a),
        Some(&[fun, a, location]) => is_fun(fun) && arity_or_args(a) && list_items(location).is_ok(),
        _ => false,
    })
}

pub(crate) fn boolean(value: bool) -> Term {
    if value {
        atoms::TRUE
    } else {
        atoms::FALSE
    }
}

fn small(value: i64) -> Term {
    Term::small(value).unwrap_or(Term::NIL)
}

fn bool_of(term: Term) -> Result<bool, Stop> {
    match term {
        t if t == atoms::TRUE => Ok(true),
        t if t == atoms::FALSE => Ok(false),
        _ => Err(error(atoms::BADARG)),
    }
}

fn is_fun(term: Term) -> bool {
    crate::fun::is_fun(term)
}

fn tuple_of<'a>(term: Term) -> Result<&'a [Term], Stop> {
    term.tuple_elements().ok_or_else(|| error(atoms::BADARG))
}

// ---------------------------------------------------------------- numbers

enum Number {
    Integer(BigInt),
    Float(f64),
}

fn number(term: Term) -> Result<Number, Stop> {
    if let Some(f) = term.float_value() {
        return Ok(Number::Float(f));
    }
    integer_value(term).map(Number::Integer).ok_or_else(|| error(atoms::BADARITH))
}

fn to_f64(n: &Number) -> f64 {
    match n {
        Number::Integer(i) => i.to_f64().unwrap_or(f64::INFINITY),
        Number::Float(f) => *f,
    }
}

/// The most bits an integer has, as in OTP: a bignum of 2^19 - 1 words
/// of 64 bits. Past it, arithmetic raises system_limit.
const MAX_INTEGER_BITS: u64 = 64 * ((1 << 19) - 1);

/// An integer result: an immediate, or a bignum built in the heap.
pub(super) fn make_integer(process: &mut Process, args: &mut [Term], value: BigInt) -> Result<Term, Stop> {
    if let Some(small) = value.to_i64().and_then(Term::small) {
        return Ok(small);
    }
    if value.bits() > MAX_INTEGER_BITS {
        return Err(error(atoms::SYSTEM_LIMIT));
    }
    process.ensure(Heap::words_for_integer(&value), args);
    Ok(process.heap.integer(&value))
}

fn make_float(process: &mut Process, args: &mut [Term], value: f64) -> Result<Term, Stop> {
    if !value.is_finite() {
        return Err(error(atoms::BADARITH));
    }
    process.ensure(2, args);
    Ok(process.heap.float(value))
}

fn arithmetic(
    process: &mut Process,
    args: &mut [Term],
    small_op: fn(i64, i64) -> Option<i64>,
    big_op: fn(&BigInt, &BigInt) -> BigInt,
    float_op: fn(f64, f64) -> f64,
) -> Result<Term, Stop> {
    let (a, b) = (args[0], args[1]);
    if a.is_small() && b.is_small() {
        if let Some(result) = small_op(a.small_value(), b.small_value()).and_then(Term::small) {
            return Ok(result);
        }
    }
    match (number(a)?, number(b)?) {
        (Number::Integer(x), Number::Integer(y)) => make_integer(process, args, big_op(&x, &y)),
        (x, y) => make_float(process, args, float_op(to_f64(&x), to_f64(&y))),
    }
}

fn add(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    arithmetic(p, a, i64::checked_add, |x, y| x + y, |x, y| x + y)
}

fn subtract(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    arithmetic(p, a, i64::checked_sub, |x, y| x - y, |x, y| x - y)
}

fn multiply(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    arithmetic(p, a, i64::checked_mul, |x, y| x * y, |x, y| x * y)
}

fn divide(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let (x, y) = (to_f64(&number(a[0])?), to_f64(&number(a[1])?));
    if y == 0.0 {
        return Err(error(atoms::BADARITH));
    }
    make_float(p, a, x / y)
}

fn integers(a: &[Term]) -> Result<(BigInt, BigInt), Stop> {
    match (integer_value(a[0]), integer_value(a[1])) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(error(atoms::BADARITH)),
    }
}

fn int_div(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    division(p, a, i64::checked_div, |x, y| short_div_rem(&x, &y).map_or_else(|| x / y, |(q, _)| q))
}

fn int_rem(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    division(p, a, i64::checked_rem, |x, y| short_div_rem(&x, &y).map_or_else(|| x % y, |(_, r)| r))
}

/// `x div y` and `x rem y` as erl's (truncating; the remainder has the
/// dividend's sign), `y` not zero, when the quotient fits a word and `y`
/// does not (else `None`: num-bigint's `/` and `%` do well). num-bigint divides long operands by
/// Burnikel-Ziegler whatever the quotient's length; when the quotient fits
/// a word (pidigits' `(3 * Q + A) div T`, any `div` of two numbers of a
/// size) that recursion costs many times the one multiply and subtract
/// that suffice: the quotient of the operands' top 64 bits is at most 2
/// above the true one, and each correction is a subtraction.
fn short_div_rem(x: &BigInt, y: &BigInt) -> Option<(BigInt, BigInt)> {
    use num_bigint::{BigUint, Sign};
    let (xm, ym) = (x.magnitude(), y.magnitude());
    let (x_bits, y_bits) = (xm.bits(), ym.bits());
    if y_bits <= 64 || x_bits > y_bits + 62 {
        return None;
    }
    let sign = |positive: bool| if positive { Sign::Plus } else { Sign::Minus };
    if x_bits < y_bits {
        return Some((BigInt::zero(), x.clone()));
    }
    // y = yt * 2^s + yl and x = xt * 2^s + xl with yt of 64 bits and xt of
    // at most 126: q <= xt / yt < q + 3 (xt / (yt * (yt + 1)) < 2).
    let s = y_bits - 64;
    let xt = (xm >> s).to_u128().expect("at most 126 bits above the shift");
    let yt = (ym >> s).to_u64().expect("64 bits above the shift");
    let mut q = xt / u128::from(yt);
    let mut product = ym * BigUint::from(q);
    while product > *xm {
        q -= 1;
        product -= ym;
    }
    let remainder = xm - product;
    let quotient = BigInt::from_biguint(sign(x.is_negative() == y.is_negative()), BigUint::from(q));
    Some((quotient, BigInt::from_biguint(sign(!x.is_negative()), remainder)))
}

/// `div` and `rem`: the small-integer case when it fits, else bignums;
/// a zero divisor is `badarith`.
fn division(
    p: &mut Process,
    a: &mut [Term],
    small: fn(i64, i64) -> Option<i64>,
    big: fn(BigInt, BigInt) -> BigInt,
) -> Result<Term, Stop> {
    if a[0].is_small() && a[1].is_small() && a[1].small_value() != 0 {
        if let Some(q) = small(a[0].small_value(), a[1].small_value()).and_then(Term::small) {
            return Ok(q);
        }
    }
    let (x, y) = integers(a)?;
    if y.is_zero() {
        return Err(error(atoms::BADARITH));
    }
    make_integer(p, a, big(x, y))
}

fn bitwise(p: &mut Process, a: &mut [Term], op: fn(&BigInt, &BigInt) -> BigInt) -> Result<Term, Stop> {
    let (x, y) = integers(a)?;
    make_integer(p, a, op(&x, &y))
}

fn band(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    bitwise(p, a, |x, y| x & y)
}

fn bor(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    bitwise(p, a, |x, y| x | y)
}

fn bxor(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    bitwise(p, a, |x, y| x ^ y)
}

fn shift(p: &mut Process, a: &mut [Term], left: bool) -> Result<Term, Stop> {
    let (x, y) = integers(a)?;
    let Some(by) = y.to_i64() else {
        return Err(error(if (y.is_positive() == left) && !x.is_zero() {
            atoms::SYSTEM_LIMIT
        } else {
            atoms::BADARITH
        }));
    };
    let by = if left { by } else { -by };
    if by > MAX_INTEGER_BITS as i64 {
        return if x.is_zero() { Ok(small(0)) } else { Err(error(atoms::SYSTEM_LIMIT)) };
    }
    let result = if by >= 0 { x << by as usize } else { x >> (-by).min(1 << 30) as usize };
    make_integer(p, a, result)
}

fn bsl(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    shift(p, a, true)
}

fn bsr(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    shift(p, a, false)
}

fn negate(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match number(a[0])? {
        Number::Integer(i) => make_integer(p, a, -i),
        Number::Float(f) => make_float(p, a, -f),
    }
}

fn plus(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    number(a[0]).map(|_| a[0])
}

fn bnot(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let x = integer_value(a[0]).ok_or_else(|| error(atoms::BADARITH))?;
    make_integer(p, a, -x - 1)
}

fn abs(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match number(a[0]).map_err(|_| error(atoms::BADARG))? {
        Number::Integer(i) => make_integer(p, a, i.abs()),
        Number::Float(f) => make_float(p, a, f.abs()),
    }
}

fn to_float(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match number(a[0]).map_err(|_| error(atoms::BADARG))? {
        Number::Float(_) => Ok(a[0]),
        // An integer too big for a float is float/1's badarg, where the
        // same overflow in arithmetic is badarith.
        n => match to_f64(&n) {
            f if f.is_finite() => make_float(p, a, f),
            _ => Err(error(atoms::BADARG)),
        },
    }
}

fn float_to_integer(p: &mut Process, a: &mut [Term], round: fn(f64) -> f64) -> Result<Term, Stop> {
    match number(a[0]).map_err(|_| error(atoms::BADARG))? {
        Number::Integer(_) => Ok(a[0]),
        // A float is finite here, so its rounded value converts exactly.
        Number::Float(f) => make_integer(p, a, num_traits::FromPrimitive::from_f64(round(f)).unwrap_or_default()),
    }
}

// ---------------------------------------------------------------- data

fn element(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let tuple = tuple_of(a[1])?;
    let index = if a[0].is_small() { a[0].small_value() } else { 0 };
    if index < 1 || index as usize > tuple.len() {
        return Err(error(atoms::BADARG));
    }
    Ok(tuple[index as usize - 1])
}

fn setelement(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let len = tuple_of(a[1])?.len();
    let index = if a[0].is_small() { a[0].small_value() } else { 0 };
    if index < 1 || index as usize > len {
        return Err(error(atoms::BADARG));
    }
    p.ensure(1 + len, a);
    let mut elements = tuple_of(a[1])?.to_vec();
    elements[index as usize - 1] = a[2];
    Ok(p.heap.tuple(&elements))
}

/// The elements of a proper list, or `badarg`.
pub(super) fn list_items(list: Term) -> Result<Vec<Term>, Stop> {
    let mut items = Vec::new();
    let mut cursor = list;
    while cursor.is_cons() {
        items.push(cursor.head());
        cursor = cursor.tail();
    }
    if cursor.is_nil() {
        Ok(items)
    } else {
        Err(error(atoms::BADARG))
    }
}

fn length(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let mut walk = Walk::new();
    let mut cursor = a[0];
    while cursor.is_cons() {
        cursor = cursor.tail();
        walk.step(p);
    }
    if !cursor.is_nil() {
        return Err(error(atoms::BADARG));
    }
    let n = walk.0 as i64;
    walk.done(p);
    Ok(small(n))
}

fn append(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if a[0].is_nil() {
        return Ok(a[1]);
    }
    let count = list_items(a[0])?.len();
    p.ensure(2 * count, a);
    let items = list_items(a[0])?;
    let mut list = a[1];
    // The room is made: building allocates nothing more, and a suspension
    // half-way leaves the heap (and so `items` and `list`) as it is.
    let mut walk = Walk::new();
    for &item in items.iter().rev() {
        list = p.heap.cons(item, list);
        walk.step(p);
    }
    walk.done(p);
    Ok(list)
}

fn list_subtract(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let count = list_items(a[0])?.len();
    list_items(a[1])?;
    p.ensure(2 * count, a);
    let mut items = list_items(a[0])?;
    // Quadratic: the elements compared are charged as they go, so that a
    // long subtraction can be suspended half-way (the terms stay put
    // meanwhile: nothing else touches this heap).
    let mut compared = 0;
    for remove in list_items(a[1])? {
        let found = items.iter().position(|&x| exact_eq(x, remove));
        compared += found.map_or(items.len(), |i| i + 1);
        if let Some(i) = found {
            items.remove(i);
        }
        if compared >= CHARGE_EVERY as usize {
            p.charge(compared as u64 / CELLS_A_REDUCTION);
            compared = 0;
        }
    }
    p.reductions += compared as u64 / CELLS_A_REDUCTION;
    Ok(p.heap.list(&items))
}

fn tuple_to_list(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let len = tuple_of(a[0])?.len();
    p.ensure(2 * len, a);
    let items = tuple_of(a[0])?.to_vec();
    Ok(p.heap.list(&items))
}

fn list_to_tuple(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let len = list_items(a[0])?.len();
    p.ensure(1 + len, a);
    let items = list_items(a[0])?;
    Ok(p.heap.tuple(&items))
}

/// `float_to_list/1`: 20 digits after the point in exponent form.
pub(super) fn float_text_default(term: Term) -> Result<String, Stop> {
    let value = term.float_value().ok_or_else(|| error(atoms::BADARG))?;
    Ok(scientific(value, 20))
}

/// `float_to_list/2`: `[{decimals, N}]` (with `compact`), `[{scientific, N}]`,
/// `[short]` or `[]`.
pub(super) fn float_text_with(term: Term, options: Term) -> Result<String, Stop> {
    let value = term.float_value().ok_or_else(|| error(atoms::BADARG))?;
    let mut text = scientific(value, 20);
    let mut compact = false;
    let mut decimals = false;
    for option in list_items(options)? {
        let digits = |v: Term| {
            (v.is_small() && (0..=253).contains(&v.small_value()))
                .then(|| v.small_value() as usize)
                .ok_or_else(|| error(atoms::BADARG))
        };
        match (atom::name(option), option.tuple_elements()) {
            (Some("compact"), _) => compact = true,
            (Some("short"), _) => text = crate::print::float_text(value),
            (_, Some(&[tag, n])) if atom::name(tag) == Some("decimals") => {
                text = crate::print::fixed(value, digits(n)?);
                // erl formats into a buffer of 256 bytes: a longer text
                // (a huge float, or many decimals) is `badarg`.
                if text.len() > 255 {
                    return Err(error(atoms::BADARG));
                }
                decimals = true;
            }
            (_, Some(&[tag, n])) if atom::name(tag) == Some("scientific") => text = scientific(value, digits(n)?),
            _ => return Err(error(atoms::BADARG)),
        }
    }
    if compact && decimals && text.contains('.') {
        let trimmed = text.trim_end_matches('0');
        text = if trimmed.ends_with('.') { format!("{trimmed}0") } else { trimmed.to_owned() };
    }
    Ok(text)
}

/// C's `%.Ne`: a two-digit (at least) signed exponent.
fn scientific(value: f64, digits: usize) -> String {
    let text = format!("{value:.digits$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
}

/// A float as `list_to_float/1` reads it: digits, a point, digits, and an
/// optional exponent (`1.5`, `-2.0e-3`; not `1` or `1e5`).
pub(super) fn parse_float(text: &str) -> Result<f64, Stop> {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    let mut ok = digits(&mut i) && bytes.get(i) == Some(&b'.');
    i += 1;
    ok = ok && digits(&mut i);
    if ok && matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        ok = digits(&mut i);
    }
    let value: f64 = text.parse().map_err(|_| error(atoms::BADARG))?;
    if ok && i == bytes.len() && value.is_finite() {
        Ok(value)
    } else {
        Err(error(atoms::BADARG))
    }
}

/// A string (a list of character codes) as Rust text, or `badarg`.
pub(crate) fn string_of(list: Term) -> Result<String, Stop> {
    list_items(list)?
        .into_iter()
        .map(|c| {
            c.is_small()
                .then(|| c.small_value())
                .and_then(|c| u32::try_from(c).ok())
                .and_then(char::from_u32)
                .ok_or_else(|| error(atoms::BADARG))
        })
        .collect()
}

/// Builds a string (list of character codes).
pub(crate) fn make_string(p: &mut Process, a: &mut [Term], text: &str) -> Term {
    let chars: Vec<Term> = text.chars().map(|c| small(c as i64)).collect();
    p.ensure(2 * chars.len(), a);
    p.heap.list(&chars)
}

fn atom_to_list(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let name = atom::name(a[0]).ok_or_else(|| error(atoms::BADARG))?;
    Ok(make_string(p, a, name))
}

fn list_to_atom(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let text = string_of(a[0])?;
    atom::intern(&text).map_err(|_| error(atoms::SYSTEM_LIMIT))
}

fn integer_to_list(p: &mut Process, a: &mut [Term], base: u32) -> Result<Term, Stop> {
    let value = integer_value(a[0]).ok_or_else(|| error(atoms::BADARG))?;
    let text = value.to_str_radix(base).to_uppercase();
    Ok(make_string(p, a, &text))
}

fn list_to_integer(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let text = string_of(a[0])?;
    let digits = text.strip_prefix('+').unwrap_or(&text);
    if digits.is_empty()
        || !digits.trim_start_matches('-').chars().all(|c| c.is_ascii_digit())
        || digits.trim_start_matches('-').is_empty()
    {
        return Err(error(atoms::BADARG));
    }
    let value: BigInt = digits.parse().map_err(|_| error(atoms::BADARG))?;
    make_integer(p, a, value)
}

#[cfg(test)]
mod tests {
    use num_bigint::{BigInt, BigUint, Sign};
    use proptest::prelude::*;

    use super::short_div_rem;

    fn big(negative: bool, limbs: &[u32]) -> BigInt {
        BigInt::from_biguint(if negative { Sign::Minus } else { Sign::Plus }, BigUint::from_slice(limbs))
    }

    proptest! {
        /// The short quotient agrees with num-bigint's division wherever it
        /// answers: `x` is `q * y + r` built to give quotients of every width
        /// up to a word and remainders up to `y - 1` (where the estimate from
        /// the top bits is furthest off).
        #[test]
        fn short_division_is_num_bigints(
            y_limbs in proptest::collection::vec(any::<u32>(), 3..40),
            q in any::<u64>(),
            q_shift in 2u32..64,
            r_fraction in any::<u64>(),
            y_negative in any::<bool>(),
            x_negative in any::<bool>(),
        ) {
            let y = big(false, &y_limbs);
            prop_assume!(y.bits() > 64);
            let q = BigInt::from(q >> q_shift);
            // r in [0, y): y scaled by r_fraction / 2^64.
            let r = (&y * BigInt::from(r_fraction)) >> 64u32;
            let x_magnitude = &q * &y + r;
            let x = if x_negative { -x_magnitude } else { x_magnitude };
            let y = if y_negative { -y } else { y };
            let (quotient, remainder) = short_div_rem(&x, &y).expect("a quotient of a word");
            prop_assert_eq!(&quotient, &(&x / &y));
            prop_assert_eq!(&remainder, &(&x % &y));
        }
    }

    #[test]
    fn short_division_declines_long_quotients_and_short_divisors() {
        let y = BigInt::from(1u8) << 100u32;
        assert!(short_div_rem(&(&y << 63u32), &y).is_none());
        assert!(short_div_rem(&(&y << 62u32), &y).is_some());
        assert!(short_div_rem(&y, &BigInt::from(u64::MAX)).is_none());
        // A dividend shorter than the divisor: quotient 0, remainder x.
        let x = BigInt::from(-5) << 80u32;
        assert_eq!(short_div_rem(&x, &y), Some((BigInt::from(0), x.clone())));
        // Exact, and one short of exact: the largest correction.
        let q = BigInt::from(u64::MAX >> 2);
        let y = (BigInt::from(1u8) << 200u32) - 1;
        assert_eq!(short_div_rem(&(&q * &y), &y), Some((q.clone(), BigInt::from(0))));
        let x = &q * &y + &y - 1;
        assert_eq!(short_div_rem(&x, &y), Some((q, &y - 1)));
    }
}
