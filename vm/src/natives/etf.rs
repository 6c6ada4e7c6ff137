//! `term_to_binary/1,2` and `binary_to_term/1,2`: Erlang's external term
//! format, byte for byte as OTP 25 writes it (atoms as latin-1 `ATOM_EXT`
//! when they can be, floats as `NEW_FLOAT_EXT`, strings of bytes as
//! `STRING_EXT`). Decoding accepts what OTP writes, including the UTF-8
//! atom tags, and refuses anything malformed with `badarg`; it never trusts
//! a length it has not checked against the input.
//!
//! Nesting deeper than 100,000 levels is refused when decoding.
//!
//! Local funs are not encoded (their code is not portable between VMs);
//! `term_to_binary` raises `badarg` for them. Pids and references encode
//! with node `nonode@nohost`, as erl's do on a node without distribution.

use num_bigint::{BigInt, Sign};

use super::owned::Owned;
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Stop};
use crate::heap::{binary_bytes, integer_value};
use crate::process::Process;
use crate::term::{Kind, Term};

/// Nesting deeper than this is refused by `binary_to_term` (`badarg`): the
/// decoder recurses on nesting, within the 1 GiB stack `vm run` gives the
/// program (with room to spare in unoptimised builds).
const MAX_DEPTH: usize = 100_000;

const VERSION: u8 = 131;
const NEW_FLOAT_EXT: u8 = 70;
const NEW_PID_EXT: u8 = 88;
const NEW_PORT_EXT: u8 = 89;
const NEWER_REFERENCE_EXT: u8 = 90;
const SMALL_INTEGER_EXT: u8 = 97;
const INTEGER_EXT: u8 = 98;
const ATOM_EXT: u8 = 100;
const SMALL_TUPLE_EXT: u8 = 104;
const LARGE_TUPLE_EXT: u8 = 105;
const NIL_EXT: u8 = 106;
const STRING_EXT: u8 = 107;
const LIST_EXT: u8 = 108;
const BINARY_EXT: u8 = 109;
const SMALL_BIG_EXT: u8 = 110;
const LARGE_BIG_EXT: u8 = 111;
const EXPORT_EXT: u8 = 113;
const MAP_EXT: u8 = 116;
const ATOM_UTF8_EXT: u8 = 118;
const SMALL_ATOM_UTF8_EXT: u8 = 119;
const SMALL_ATOM_EXT: u8 = 115;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("term_to_binary", 1 | 2) => |p, a| {
            let mut out = vec![VERSION];
            encode(a[0], &mut out)?;
            Ok(super::binary::make_binary(p, a, out))
        },
        ("binary_to_term", 1) => |p, a| decode_term(p, a, false),
        ("binary_to_term", 2) => |p, a| {
            let safe = super::erlang::list_items(a[1])?.iter().any(|&o| atom::name(o) == Some("safe"));
            decode_term(p, a, safe)
        },
        _ => return None,
    })
}

fn badarg() -> Stop {
    error(atoms::BADARG)
}

// ------------------------------------------------------------ encoding

fn encode(term: Term, out: &mut Vec<u8>) -> Result<(), Stop> {
    // Lists are walked iteratively along their tails; nesting in heads and
    // tuples uses an explicit stack.
    let mut pending = vec![term];
    while let Some(term) = pending.pop() {
        encode_one(term, out, &mut pending)?;
    }
    Ok(())
}

fn encode_one(term: Term, out: &mut Vec<u8>, pending: &mut Vec<Term>) -> Result<(), Stop> {
    if term.is_small() {
        return encode_integer(&BigInt::from(term.small_value()), out);
    }
    if term.is_atom() {
        encode_atom(term, out);
        return Ok(());
    }
    if term.is_nil() {
        out.push(NIL_EXT);
        return Ok(());
    }
    if term.is_pid() {
        out.push(NEW_PID_EXT);
        encode_atom(atoms::NONODE, out);
        out.extend_from_slice(&(term.pid_number() as u32).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        return Ok(());
    }
    if term.is_port() {
        out.push(NEW_PORT_EXT);
        encode_atom(atoms::NONODE, out);
        out.extend_from_slice(&(term.port_number() as u32).to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        return Ok(());
    }
    if term.is_cons() {
        if let Some(bytes) = byte_string(term) {
            out.push(STRING_EXT);
            out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            out.extend_from_slice(&bytes);
            return Ok(());
        }
        let mut items = Vec::new();
        let mut cursor = term;
        while cursor.is_cons() {
            items.push(cursor.head());
            cursor = cursor.tail();
        }
        out.push(LIST_EXT);
        out.extend_from_slice(&(items.len() as u32).to_be_bytes());
        pending.push(cursor);
        pending.extend(items.into_iter().rev());
        return Ok(());
    }
    if let Some(elements) = term.tuple_elements() {
        if elements.len() < 256 {
            out.extend_from_slice(&[SMALL_TUPLE_EXT, elements.len() as u8]);
        } else {
            out.push(LARGE_TUPLE_EXT);
            out.extend_from_slice(&(elements.len() as u32).to_be_bytes());
        }
        pending.extend(elements.iter().rev());
        return Ok(());
    }
    if let Some(words) = term.map_words() {
        out.push(MAP_EXT);
        out.extend_from_slice(&((words.len() / 2) as u32).to_be_bytes());
        pending.extend(words.iter().rev());
        return Ok(());
    }
    if let Some(value) = term.float_value() {
        out.push(NEW_FLOAT_EXT);
        out.extend_from_slice(&value.to_bits().to_be_bytes());
        return Ok(());
    }
    if let Some(value) = integer_value(term) {
        return encode_integer(&value, out);
    }
    if let Some(bytes) = binary_bytes(term) {
        out.push(BINARY_EXT);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
        return Ok(());
    }
    if let Some((module, function, arity)) = crate::fun::export_parts(term) {
        out.push(EXPORT_EXT);
        encode_atom(module, out);
        encode_atom(function, out);
        out.extend_from_slice(&[SMALL_INTEGER_EXT, arity as u8]);
        return Ok(());
    }
    if term.is_boxed() && term.header().kind() == Some(Kind::Reference) {
        out.push(NEWER_REFERENCE_EXT);
        out.extend_from_slice(&3u16.to_be_bytes());
        encode_atom(atoms::NONODE, out);
        out.extend_from_slice(&0u32.to_be_bytes());
        let number = term.payload()[0];
        out.extend_from_slice(&((number & 0x3ffff) as u32).to_be_bytes());
        out.extend_from_slice(&(((number >> 18) & 0xffff_ffff) as u32).to_be_bytes());
        out.extend_from_slice(&((number >> 50) as u32).to_be_bytes());
        return Ok(());
    }
    Err(badarg())
}

/// A list of bytes short enough for `STRING_EXT`.
fn byte_string(term: Term) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut cursor = term;
    while cursor.is_cons() {
        let head = cursor.head();
        if !head.is_small() || !(0..256).contains(&head.small_value()) || bytes.len() >= 65535 {
            return None;
        }
        bytes.push(head.small_value() as u8);
        cursor = cursor.tail();
    }
    cursor.is_nil().then_some(bytes)
}

fn encode_atom(term: Term, out: &mut Vec<u8>) {
    let name = atom::name(term).unwrap_or("");
    let latin1: Option<Vec<u8>> = name.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect();
    match latin1 {
        Some(bytes) => {
            out.push(ATOM_EXT);
            out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            out.extend_from_slice(&bytes);
        }
        None if name.len() < 256 => {
            out.extend_from_slice(&[SMALL_ATOM_UTF8_EXT, name.len() as u8]);
            out.extend_from_slice(name.as_bytes());
        }
        None => {
            out.push(ATOM_UTF8_EXT);
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
        }
    }
}

fn encode_integer(value: &BigInt, out: &mut Vec<u8>) -> Result<(), Stop> {
    if let Ok(small) = u8::try_from(value) {
        out.extend_from_slice(&[SMALL_INTEGER_EXT, small]);
    } else if let Ok(word) = i32::try_from(value) {
        out.push(INTEGER_EXT);
        out.extend_from_slice(&word.to_be_bytes());
    } else {
        let (sign, magnitude) = value.to_bytes_le();
        if magnitude.len() < 256 {
            out.extend_from_slice(&[SMALL_BIG_EXT, magnitude.len() as u8]);
        } else {
            out.push(LARGE_BIG_EXT);
            out.extend_from_slice(&(magnitude.len() as u32).to_be_bytes());
        }
        out.push(u8::from(sign == Sign::Minus));
        out.extend_from_slice(&magnitude);
    }
    Ok(())
}

// ------------------------------------------------------------ decoding

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// `binary_to_term(B, [safe])`: no new atoms.
    safe: bool,
    /// A map was read: its keys must be checked for duplicates.
    maps: bool,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Stop> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len()).ok_or_else(badarg)?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, Stop> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn u32(&mut self) -> Result<usize, Stop> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }

    /// A count of items that each take at least `min` bytes: bounded by the
    /// input left, so a hostile count cannot make us allocate.
    fn count(&mut self, n: usize, min: usize) -> Result<usize, Stop> {
        if n.saturating_mul(min) > self.bytes.len() - self.at {
            return Err(badarg());
        }
        Ok(n)
    }

    fn atom(&mut self, tag: u8) -> Result<Term, Stop> {
        let len = match tag {
            ATOM_EXT | ATOM_UTF8_EXT => self.u16()?,
            SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => usize::from(self.u8()?),
            _ => return Err(badarg()),
        };
        let bytes = self.take(len)?;
        let name: String = if tag == ATOM_EXT || tag == SMALL_ATOM_EXT {
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            std::str::from_utf8(bytes).map_err(|_| badarg())?.to_owned()
        };
        if self.safe {
            atom::existing(&name).ok_or_else(badarg)
        } else {
            atom::intern(&name).map_err(|_| error(atoms::SYSTEM_LIMIT))
        }
    }

    fn any_atom(&mut self) -> Result<Term, Stop> {
        let tag = self.u8()?;
        self.atom(tag)
    }

    /// One term. Only the compound terms recurse, and they are all this
    /// function does: the other tags are read by [`Reader::leaf`], out of
    /// line, so that each level of nesting costs a small native frame (an
    /// unoptimised build made this one 22 KB when it held every tag, and
    /// 50,000 levels overflowed a 1 GiB stack).
    fn value(&mut self, depth: usize) -> Result<Owned, Stop> {
        // Decoding, sizing and building recurse on nesting: bound it.
        if depth > MAX_DEPTH {
            return Err(badarg());
        }
        let tag = self.u8()?;
        Ok(match tag {
            LIST_EXT => {
                let n = self.u32()?;
                let n = self.count(n, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                let tail = self.value(depth + 1)?;
                if n == 0 {
                    return Err(badarg());
                }
                Owned::List(items, Box::new(tail))
            }
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT => {
                let n = if tag == SMALL_TUPLE_EXT { usize::from(self.u8()?) } else { self.u32()? };
                let n = self.count(n, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Owned::Tuple(items)
            }
            MAP_EXT => {
                self.maps = true;
                let n = self.u32()?;
                let n = self.count(n, 2)?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    let key = self.value(depth + 1)?;
                    pairs.push((key, self.value(depth + 1)?));
                }
                Owned::Map(pairs)
            }
            _ => self.leaf(tag)?,
        })
    }

    /// A term that holds no other term (an export's arity is read here too).
    #[inline(never)]
    fn leaf(&mut self, tag: u8) -> Result<Owned, Stop> {
        Ok(match tag {
            SMALL_INTEGER_EXT => Owned::Integer(BigInt::from(self.u8()?)),
            INTEGER_EXT => {
                let b = self.take(4)?;
                Owned::Integer(BigInt::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            }
            SMALL_BIG_EXT | LARGE_BIG_EXT => {
                let n = if tag == SMALL_BIG_EXT { usize::from(self.u8()?) } else { self.u32()? };
                let sign = match self.u8()? {
                    0 => Sign::Plus,
                    1 => Sign::Minus,
                    _ => return Err(badarg()),
                };
                Owned::Integer(BigInt::from_bytes_le(sign, self.take(n)?))
            }
            NEW_FLOAT_EXT => {
                let b = self.take(8)?;
                let value = f64::from_bits(u64::from_be_bytes(b.try_into().map_err(|_| badarg())?));
                if !value.is_finite() {
                    return Err(badarg());
                }
                Owned::Float(value)
            }
            ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT | SMALL_ATOM_UTF8_EXT => Owned::Atom(self.atom(tag)?),
            NIL_EXT => Owned::Nil,
            STRING_EXT => {
                let n = self.u16()?;
                let bytes = self.take(n)?;
                let items = bytes.iter().map(|&b| Owned::Integer(BigInt::from(b))).collect();
                Owned::List(items, Box::new(Owned::Nil))
            }
            BINARY_EXT => {
                let n = self.u32()?;
                Owned::Binary(self.take(n)?.to_vec())
            }
            EXPORT_EXT => {
                let module = self.any_atom()?;
                let function = self.any_atom()?;
                let arity = match self.value(MAX_DEPTH)? {
                    Owned::Integer(a) => u32::try_from(a).ok().filter(|&a| a <= 255).ok_or_else(badarg)?,
                    _ => return Err(badarg()),
                };
                Owned::Export(module, function, arity)
            }
            NEW_PID_EXT => {
                self.any_atom()?;
                let number = self.u32()?;
                self.take(8)?;
                Owned::Pid(number as u64)
            }
            NEW_PORT_EXT => {
                self.any_atom()?;
                let number = self.u32()?;
                self.take(4)?;
                Owned::Port(number as u64)
            }
            NEWER_REFERENCE_EXT => {
                let n = self.u16()?;
                self.any_atom()?;
                self.take(4)?;
                let words = self.take(4 * n)?;
                let word = |i: usize| {
                    words.get(4 * i..4 * i + 4).map_or(0, |w| u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
                };
                Owned::Reference(word(0) | (word(1) << 18) | (word(2) << 50))
            }
            _ => return Err(badarg()),
        })
    }
}

fn decode_term(p: &mut Process, a: &mut [Term], safe: bool) -> Result<Term, Stop> {
    let bytes = binary_bytes(a[0]).ok_or_else(badarg)?.to_vec();
    let value = decode(&bytes, safe)?;
    p.ensure(value.words(), a);
    Ok(value.build(&mut p.heap))
}

/// The term of an external-format binary, off any heap. Bytes after the
/// term are ignored, as erl ignores them.
fn decode(bytes: &[u8], safe: bool) -> Result<Owned, Stop> {
    let mut reader = Reader { bytes, at: 0, safe, maps: false };
    if reader.u8()? != VERSION {
        return Err(badarg());
    }
    let value = reader.value(0)?;
    // A map with a key twice is badarg, as in erl (a term without maps
    // needs no look).
    if reader.maps {
        value.check_map_keys().map_err(|_| badarg())?;
    }
    Ok(value)
}

/// `binary_to_term(Bytes)` into `process`'s heap (no other term of it is
/// kept across the call): the term, or `None` where the built-in raises
/// badarg. For the fuzz target (fuzz/) and tests.
pub fn binary_to_term(process: &mut Process, bytes: &[u8]) -> Option<Term> {
    let value = decode(bytes, false).ok()?;
    process.ensure(value.words(), &mut []);
    Some(value.build(&mut process.heap))
}

/// `term_to_binary(Term)`, or `None` where the built-in raises badarg.
pub fn term_to_binary(term: Term) -> Option<Vec<u8>> {
    let mut out = vec![VERSION];
    encode(term, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::Heap;

    fn round_trip(p: &mut Process, term: Term) -> Term {
        let mut out = vec![VERSION];
        encode(term, &mut out).unwrap();
        let mut args = [Term::NIL];
        p.ensure(Heap::words_for_binary(out.len()), &mut args);
        args[0] = p.heap.binary(&out);
        decode_term(p, &mut args, false).unwrap()
    }

    #[test]
    fn a_map_with_a_key_twice_is_badarg() {
        let mut p = Process::new(1);
        // #{1 => 2, 1 => 3}, and #{0.0 => 2, -0.0 => 3} (0.0 =:= -0.0 in OTP 25).
        assert!(binary_to_term(&mut p, &[131, 116, 0, 0, 0, 2, 97, 1, 97, 2, 97, 1, 97, 3]).is_none());
        let zeros = [131, 116, 0, 0, 0, 2, 70, 0, 0, 0, 0, 0, 0, 0, 0, 97, 2, 70, 128, 0, 0, 0, 0, 0, 0, 0, 97, 3];
        assert!(binary_to_term(&mut p, &zeros).is_none());
        // Equal keys deeper down, in maps that are keys: still told apart.
        let nested = [131, 116, 0, 0, 0, 2, 116, 0, 0, 0, 1, 97, 1, 97, 2, 97, 0, 116, 0, 0, 0, 1, 97, 1, 97, 3, 97, 0];
        let term = binary_to_term(&mut p, &nested).expect("#{#{1 => 2} => 0, #{1 => 3} => 0}");
        assert_eq!(term.map_words().map(|w| w.len()), Some(4));
        let twice = [131, 116, 0, 0, 0, 2, 116, 0, 0, 0, 1, 97, 1, 97, 2, 97, 0, 116, 0, 0, 0, 1, 97, 1, 97, 2, 97, 5];
        assert!(binary_to_term(&mut p, &twice).is_none());
    }

    #[test]
    fn terms_survive_a_round_trip() {
        let mut p = Process::new(1);
        let mut roots = [Term::NIL; 1];
        p.ensure(64, &mut roots);
        let list = p.heap.list(&[Term::small(1).unwrap(), atoms::OK, Term::small(300).unwrap()]);
        let tuple = p.heap.tuple(&[list, atoms::ERROR, Term::NIL]);
        let back = round_trip(&mut p, tuple);
        assert_eq!(crate::print::write(back), "{[1,ok,300],error,[]}");
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut p = Process::new(1);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let tags = [70, 88, 90, 97, 98, 100, 104, 105, 106, 107, 108, 109, 110, 111, 113, 116, 118, 119, 115, 255];
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let mut bytes = vec![VERSION];
            for i in 0..len {
                let r = next();
                bytes.push(if i % 3 == 0 { tags[(r % tags.len() as u64) as usize] } else { r as u8 });
            }
            let mut args = [Term::NIL];
            p.ensure(Heap::words_for_binary(bytes.len()), &mut args);
            args[0] = p.heap.binary(&bytes);
            let _ = decode_term(&mut p, &mut args, true);
        }
    }
}
