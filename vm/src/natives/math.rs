//! The `math` module: OTP's floating-point functions, computed with the
//! platform's libm through Rust's `f64` (as erts uses the C library). As in
//! OTP, arguments may be integers or floats, results are floats, and a
//! result that is not a finite number (`math:log(0)`, `math:sqrt(-1)`)
//! raises `badarith`. `erf/1` and `erfc/1` come from the C library itself
//! (Rust's `f64` has neither), so they agree with erl's bit for bit.

use super::NativeFn;
use crate::atom::atoms;
use crate::exception::{error, Stop};
use crate::heap::integer_value;
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("pi", 0) => |p, a| float(p, a, std::f64::consts::PI),
        ("sqrt", 1) => |p, a| unary(p, a, f64::sqrt),
        ("exp", 1) => |p, a| unary(p, a, f64::exp),
        ("log", 1) => |p, a| unary(p, a, f64::ln),
        ("log2", 1) => |p, a| unary(p, a, f64::log2),
        ("log10", 1) => |p, a| unary(p, a, f64::log10),
        ("sin", 1) => |p, a| unary(p, a, f64::sin),
        ("cos", 1) => |p, a| unary(p, a, f64::cos),
        ("tan", 1) => |p, a| unary(p, a, f64::tan),
        ("asin", 1) => |p, a| unary(p, a, f64::asin),
        ("acos", 1) => |p, a| unary(p, a, f64::acos),
        ("atan", 1) => |p, a| unary(p, a, f64::atan),
        ("sinh", 1) => |p, a| unary(p, a, f64::sinh),
        ("cosh", 1) => |p, a| unary(p, a, f64::cosh),
        ("tanh", 1) => |p, a| unary(p, a, f64::tanh),
        ("asinh", 1) => |p, a| unary(p, a, f64::asinh),
        ("acosh", 1) => |p, a| unary(p, a, f64::acosh),
        ("atanh", 1) => |p, a| unary(p, a, f64::atanh),
        ("ceil", 1) => |p, a| unary(p, a, f64::ceil),
        ("floor", 1) => |p, a| unary(p, a, f64::floor),
        ("pow", 2) => |p, a| binary(p, a, f64::powf),
        ("atan2", 2) => |p, a| binary(p, a, f64::atan2),
        ("fmod", 2) => |p, a| binary(p, a, |x, y| x % y),
        ("erf", 1) => |p, a| unary(p, a, libm::erf),
        ("erfc", 1) => |p, a| unary(p, a, libm::erfc),
        _ => return None,
    })
}

fn number(term: Term) -> Result<f64, Stop> {
    if let Some(f) = term.float_value() {
        return Ok(f);
    }
    integer_value(term).and_then(|i| num_traits::ToPrimitive::to_f64(&i)).ok_or_else(|| error(atoms::BADARG))
}

fn float(p: &mut Process, a: &mut [Term], value: f64) -> Result<Term, Stop> {
    if !value.is_finite() {
        return Err(error(atoms::BADARITH));
    }
    p.ensure(2, a);
    Ok(p.heap.float(value))
}

fn unary(p: &mut Process, a: &mut [Term], f: fn(f64) -> f64) -> Result<Term, Stop> {
    let x = number(a[0])?;
    float(p, a, f(x))
}

fn binary(p: &mut Process, a: &mut [Term], f: fn(f64, f64) -> f64) -> Result<Term, Stop> {
    let (x, y) = (number(a[0])?, number(a[1])?);
    float(p, a, f(x, y))
}

/// The C library's error functions, which erts calls for `math:erf/1` and
/// `math:erfc/1`.
mod libm {
    extern "C" {
        #[link_name = "erf"]
        fn c_erf(x: f64) -> f64;
        #[link_name = "erfc"]
        fn c_erfc(x: f64) -> f64;
    }

    pub fn erf(x: f64) -> f64 {
        // SAFETY: `erf` is a pure function of a double (C99, in the libm
        // that std already links); it reads and writes no memory of ours.
        unsafe { c_erf(x) }
    }

    pub fn erfc(x: f64) -> f64 {
        // SAFETY: as for `erf`.
        unsafe { c_erfc(x) }
    }
}
