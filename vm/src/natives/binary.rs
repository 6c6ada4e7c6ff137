//! Binaries: the `erlang` BIFs that make, take apart and convert binaries
//! (`list_to_binary`, `binary_part`, `atom_to_binary`, `md5` and its
//! incremental `md5_init/update/final`, ...) and OTP's
//! `binary` module (`split`, `match`, `replace`, `encode_unsigned`, ...).
//!
//! Every builder reads what it needs out of its arguments first (bytes are
//! copied into a `Vec`), then makes room, then builds: a collection in
//! between cannot leave it holding a stale pointer.

use num_bigint::{BigInt, Sign};
use num_traits::Signed;

use super::erlang::{list_items, make_integer};
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Stop};
use crate::heap::{binary_bytes, integer_value, Heap};
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup_erlang(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("list_to_binary" | "iolist_to_binary", 1) => |p, a| {
            let bytes = iolist_bytes(a[0])?;
            Ok(make_binary(p, a, bytes))
        },
        ("iolist_size", 1) => |_, a| Ok(small(iolist_bytes(a[0])?.len())),
        ("md5", 1) => |p, a| {
            use md5::Digest;
            let digest = md5::Md5::digest(iolist_bytes(a[0])?);
            Ok(make_binary(p, a, digest.to_vec()))
        },
        ("md5_init", 0) => |p, a| Ok(make_binary(p, a, md5_init())),
        ("md5_update", 2) => |p, a| {
            let context = md5_context(a[0])?;
            let data = iolist_bytes(a[1])?;
            Ok(make_binary(p, a, md5_update(context, &data)))
        },
        ("md5_final", 1) => |p, a| {
            let context = md5_context(a[0])?;
            Ok(make_binary(p, a, md5_final(context)))
        },
        ("binary_to_list", 1) => |p, a| {
            let bytes = bytes_of(a[0])?.to_vec();
            Ok(byte_list(p, a, &bytes))
        },
        ("binary_to_list", 3) => |p, a| {
            let bytes = bytes_of(a[0])?;
            let (start, stop) = (index_of(a[1])?, index_of(a[2])?);
            // 1 =< Start =< Stop =< byte_size, as OTP requires.
            if start < 1 || stop < start || stop > bytes.len() {
                return Err(badarg());
            }
            let part = bytes[start - 1..stop].to_vec();
            Ok(byte_list(p, a, &part))
        },
        ("binary_part", 2) => |p, a| match a[1].tuple_elements() {
            Some(&[start, len]) => part(p, a, start, len),
            _ => Err(badarg()),
        },
        ("binary_part", 3) => |p, a| part(p, a, a[1], a[2]),
        ("split_binary", 2) => |p, a| {
            let len = bytes_of(a[0])?.len();
            let at = index_of(a[1]).ok().filter(|&at| at <= len).ok_or_else(badarg)?;
            p.ensure(2 * Heap::SUB_BINARY_WORDS + 3, a);
            let first = p.heap.sub_binary(a[0], 0, at);
            let second = p.heap.sub_binary(a[0], at, len - at);
            Ok(p.heap.tuple(&[first, second]))
        },
        ("atom_to_binary", 1) => |p, a| atom_to_binary(p, a),
        ("atom_to_binary", 2) => |p, a| {
            encoding(a[1])?;
            atom_to_binary(p, a)
        },
        ("binary_to_atom", 1) => |_, a| binary_to_atom(a[0], false),
        ("binary_to_atom", 2) => |_, a| {
            encoding(a[1])?;
            binary_to_atom(a[0], false)
        },
        ("binary_to_existing_atom", 1) => |_, a| binary_to_atom(a[0], true),
        ("binary_to_existing_atom", 2) => |_, a| {
            encoding(a[1])?;
            binary_to_atom(a[0], true)
        },
        ("integer_to_binary", 1) => |p, a| integer_to_binary(p, a, 10),
        ("integer_to_binary", 2) => |p, a| {
            let base = base_of(a[1])?;
            integer_to_binary(p, a, base)
        },
        ("binary_to_integer", 1) => |p, a| {
            let text = text_of_binary(a[0])?;
            let value = parse_integer(&text, 10)?;
            make_integer(p, a, value)
        },
        ("binary_to_integer", 2) => |p, a| {
            let text = text_of_binary(a[0])?;
            let value = parse_integer(&text, base_of(a[1])?)?;
            make_integer(p, a, value)
        },
        ("float_to_binary", 1) => |p, a| {
            let text = super::erlang::float_text_default(a[0])?;
            Ok(make_binary(p, a, text.into_bytes()))
        },
        ("float_to_binary", 2) => |p, a| {
            let text = super::erlang::float_text_with(a[0], a[1])?;
            Ok(make_binary(p, a, text.into_bytes()))
        },
        ("binary_to_float", 1) => |p, a| {
            let text = text_of_binary(a[0])?;
            let value = super::erlang::parse_float(&text)?;
            p.ensure(2, a);
            Ok(p.heap.float(value))
        },
        _ => return None,
    })
}

/// OTP's `unicode` module: conversions between chardata and UTF-8.
pub(super) fn lookup_unicode(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("characters_to_list", 1) => |p, a| {
            let text = unicode_chars(a[0])?;
            let items: Vec<Term> = text.iter().map(|&c| small(c as usize)).collect();
            p.ensure(2 * items.len(), a);
            Ok(p.heap.list(&items))
        },
        ("characters_to_binary", 1) => |p, a| {
            let text: String = unicode_chars(a[0])?.into_iter().filter_map(char::from_u32).collect();
            Ok(make_binary(p, a, text.into_bytes()))
        },
        _ => return None,
    })
}

/// The characters of Unicode chardata: code points, UTF-8 binaries and
/// nested lists of both.
fn unicode_chars(term: Term) -> Result<Vec<u32>, Stop> {
    let mut out = Vec::new();
    let mut pending = vec![term];
    while let Some(item) = pending.pop() {
        if let Some(bytes) = binary_bytes(item) {
            out.extend(std::str::from_utf8(bytes).map_err(|_| badarg())?.chars().map(u32::from));
        } else if item.is_cons() {
            pending.push(item.tail());
            pending.push(item.head());
        } else if item.is_small() && u32::try_from(item.small_value()).ok().and_then(char::from_u32).is_some() {
            out.push(item.small_value() as u32);
        } else if !item.is_nil() {
            return Err(badarg());
        }
    }
    Ok(out)
}

/// OTP's `binary` module.
pub(super) fn lookup_module(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("at", 2) => |_, a| {
            let bytes = bytes_of(a[0])?;
            let at = index_of(a[1])?;
            bytes.get(at).map(|&b| small(usize::from(b))).ok_or_else(badarg)
        },
        ("first", 1) => |_, a| bytes_of(a[0])?.first().map(|&b| small(usize::from(b))).ok_or_else(badarg),
        ("last", 1) => |_, a| bytes_of(a[0])?.last().map(|&b| small(usize::from(b))).ok_or_else(badarg),
        ("part", 2) => |p, a| match a[1].tuple_elements() {
            Some(&[start, len]) => part(p, a, start, len),
            _ => Err(badarg()),
        },
        ("part", 3) => |p, a| part(p, a, a[1], a[2]),
        ("copy", 1) => |p, a| {
            let bytes = bytes_of(a[0])?.to_vec();
            Ok(make_binary(p, a, bytes))
        },
        ("copy", 2) => |p, a| {
            let bytes = bytes_of(a[0])?;
            let times = index_of(a[1])?;
            let total = bytes.len().checked_mul(times).filter(|&t| t < 1 << 32).ok_or_else(badarg)?;
            let mut out = Vec::with_capacity(total);
            for _ in 0..times {
                out.extend_from_slice(bytes);
            }
            Ok(make_binary(p, a, out))
        },
        ("bin_to_list", 1) => |p, a| {
            let bytes = bytes_of(a[0])?.to_vec();
            Ok(byte_list(p, a, &bytes))
        },
        ("bin_to_list", 2) => |p, a| match a[1].tuple_elements() {
            Some(&[start, len]) => {
                let (from, to) = range(bytes_of(a[0])?.len(), start, len)?;
                let bytes = bytes_of(a[0])?[from..to].to_vec();
                Ok(byte_list(p, a, &bytes))
            }
            _ => Err(badarg()),
        },
        ("bin_to_list", 3) => |p, a| {
            let (from, to) = range(bytes_of(a[0])?.len(), a[1], a[2])?;
            let bytes = bytes_of(a[0])?[from..to].to_vec();
            Ok(byte_list(p, a, &bytes))
        },
        ("list_to_bin", 1) => |p, a| {
            let bytes = iolist_bytes(a[0])?;
            Ok(make_binary(p, a, bytes))
        },
        ("encode_unsigned", 1) => |p, a| encode_unsigned(p, a, false),
        ("encode_unsigned", 2) => |p, a| {
            let little = endianness(a[1])?;
            encode_unsigned(p, a, little)
        },
        ("decode_unsigned", 1) => |p, a| {
            let value = BigInt::from_bytes_be(Sign::Plus, bytes_of(a[0])?);
            make_integer(p, a, value)
        },
        ("decode_unsigned", 2) => |p, a| {
            let bytes = bytes_of(a[0])?;
            let value = if endianness(a[1])? {
                BigInt::from_bytes_le(Sign::Plus, bytes)
            } else {
                BigInt::from_bytes_be(Sign::Plus, bytes)
            };
            make_integer(p, a, value)
        },
        ("longest_common_prefix", 1) => |_, a| {
            let binaries = binaries_of(a[0])?;
            let first = binaries.first().ok_or_else(badarg)?;
            let len = (0..first.len()).take_while(|&i| binaries.iter().all(|b| b.get(i) == Some(&first[i]))).count();
            Ok(small(len))
        },
        ("longest_common_suffix", 1) => |_, a| {
            let binaries = binaries_of(a[0])?;
            let first = binaries.first().ok_or_else(badarg)?;
            let len = (0..first.len())
                .take_while(|&i| {
                    binaries.iter().all(|b| b.len() > i && b[b.len() - 1 - i] == first[first.len() - 1 - i])
                })
                .count();
            Ok(small(len))
        },
        ("match", 2) => |p, a| search(p, a, Term::NIL, false),
        ("match", 3) => |p, a| search(p, a, a[2], false),
        ("matches", 2) => |p, a| search(p, a, Term::NIL, true),
        ("matches", 3) => |p, a| search(p, a, a[2], true),
        ("split", 2) => |p, a| split(p, a, Term::NIL),
        ("split", 3) => |p, a| split(p, a, a[2]),
        ("replace", 3) => |p, a| replace(p, a, Term::NIL),
        ("replace", 4) => |p, a| replace(p, a, a[3]),
        _ => return None,
    })
}

fn badarg() -> Stop {
    error(atoms::BADARG)
}

fn small(n: usize) -> Term {
    Term::small(n as i64).unwrap_or(Term::NIL)
}

// ------------------------------------------------------------ md5

/// The bytes of erts' MD5 context (RFC 1321's `MD5_CTX`, which
/// `erlang:md5_init/0` returns as a binary): the state's four words, the
/// count of bits hashed (two words), the block being filled; all
/// little-endian. The blocks are compressed by the `md-5` crate.
const MD5_CONTEXT: usize = 88;

fn md5_init() -> Vec<u8> {
    let mut context = vec![0; MD5_CONTEXT];
    for (i, word) in [0x6745_2301u32, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476].iter().enumerate() {
        context[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
    }
    context
}

/// A context argument: a binary of the context's size.
fn md5_context(term: Term) -> Result<Vec<u8>, Stop> {
    match binary_bytes(term) {
        Some(bytes) if bytes.len() == MD5_CONTEXT => Ok(bytes.to_vec()),
        _ => Err(error(atoms::BADARG)),
    }
}

/// `MD5Update` as erts does it: each block passes through the buffer, so
/// the context keeps the last block hashed under the bytes not yet hashed,
/// as erl's does. (erl's `md5_init/0` leaves the buffer uninitialised, so
/// bytes past those a context has seen can differ; here they are zero.)
fn md5_update(mut context: Vec<u8>, data: &[u8]) -> Vec<u8> {
    let word = |c: &[u8], i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
    let mut state = [word(&context, 0), word(&context, 4), word(&context, 8), word(&context, 12)];
    let bits = u64::from(word(&context, 16)) | (u64::from(word(&context, 20)) << 32);
    let mut index = ((bits >> 3) & 63) as usize;
    let bits = bits.wrapping_add((data.len() as u64).wrapping_mul(8));
    let block = |bytes: &[u8]| -> [u8; 64] { bytes.try_into().expect("64 bytes") };
    let mut rest = data;
    if index + rest.len() >= 64 {
        let (fill, after) = rest.split_at(64 - index);
        context[24 + index..].copy_from_slice(fill);
        md5::block_api::compress(&mut state, &[block(&context[24..])]);
        let blocks = after.len() / 64;
        let whole: Vec<[u8; 64]> = after[..blocks * 64].chunks_exact(64).map(block).collect();
        md5::block_api::compress(&mut state, &whole);
        if let Some(last) = whole.last() {
            context[24..].copy_from_slice(last);
        }
        rest = &after[blocks * 64..];
        index = 0;
    }
    context[24 + index..24 + index + rest.len()].copy_from_slice(rest);
    for (i, word) in state.iter().enumerate() {
        context[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
    }
    context[16..24].copy_from_slice(&bits.to_le_bytes());
    context
}

/// RFC 1321's `MD5Final`: the padding and the length, then the digest.
fn md5_final(context: Vec<u8>) -> Vec<u8> {
    let bits: [u8; 8] = context[16..24].try_into().expect("8 bytes");
    let index = (u64::from_le_bytes(bits) >> 3) as usize & 63;
    let pad = if index < 56 { 56 - index } else { 120 - index };
    let mut padding = vec![0u8; pad];
    padding[0] = 0x80;
    let context = md5_update(md5_update(context, &padding), &bits);
    context[..16].to_vec()
}

fn bytes_of<'a>(term: Term) -> Result<&'a [u8], Stop> {
    binary_bytes(term).ok_or_else(badarg)
}

/// A non-negative integer argument.
fn index_of(term: Term) -> Result<usize, Stop> {
    (term.is_small() && term.small_value() >= 0).then(|| term.small_value() as usize).ok_or_else(badarg)
}

fn base_of(term: Term) -> Result<u32, Stop> {
    (term.is_small() && (2..=36).contains(&term.small_value())).then(|| term.small_value() as u32).ok_or_else(badarg)
}

/// The encoding argument of `atom_to_binary/2` and friends.
fn encoding(term: Term) -> Result<(), Stop> {
    match atom::name(term) {
        Some("utf8" | "unicode" | "latin1") => Ok(()),
        _ => Err(badarg()),
    }
}

fn endianness(term: Term) -> Result<bool, Stop> {
    match atom::name(term) {
        Some("big") => Ok(false),
        Some("little") => Ok(true),
        _ => Err(badarg()),
    }
}

/// A binary of `bytes`, made after every argument has been read.
pub(super) fn make_binary(p: &mut Process, a: &mut [Term], bytes: Vec<u8>) -> Term {
    p.ensure(Heap::words_for_binary(bytes.len()), a);
    p.reductions += (bytes.len() / 256) as u64;
    p.heap.binary_from_vec(bytes)
}

fn byte_list(p: &mut Process, a: &mut [Term], bytes: &[u8]) -> Term {
    let items: Vec<Term> = bytes.iter().map(|&b| small(usize::from(b))).collect();
    p.ensure(2 * items.len(), a);
    p.reductions += (bytes.len() / 64) as u64;
    p.heap.list(&items)
}

/// The bytes of an iolist: bytes, binaries and nested iolists, with an
/// optional binary tail. Walked with an explicit stack, so any depth is fine.
pub(crate) fn iolist_bytes(term: Term) -> Result<Vec<u8>, Stop> {
    let mut out = Vec::new();
    let mut pending = vec![term];
    while let Some(item) = pending.pop() {
        if let Some(bytes) = binary_bytes(item) {
            out.extend_from_slice(bytes);
        } else if item.is_cons() {
            let head = item.head();
            if head.is_small() && (0..=255).contains(&head.small_value()) {
                out.push(head.small_value() as u8);
                pending.push(item.tail());
            } else if head.is_cons() || head.is_nil() || binary_bytes(head).is_some() {
                pending.push(item.tail());
                pending.push(head);
            } else {
                return Err(badarg());
            }
        } else if !item.is_nil() {
            return Err(badarg());
        }
    }
    Ok(out)
}

/// A list of binaries (for `longest_common_prefix/1`).
fn binaries_of<'a>(list: Term) -> Result<Vec<&'a [u8]>, Stop> {
    list_items(list)?.into_iter().map(bytes_of).collect()
}

/// `{Start, Len}` of a binary of `size` bytes as a byte range; a negative
/// `Len` counts back from `Start`, as `binary_part/3` allows.
fn range(size: usize, start: Term, len: Term) -> Result<(usize, usize), Stop> {
    if !start.is_small() || !len.is_small() {
        return Err(badarg());
    }
    let (start, len) = (start.small_value(), len.small_value());
    let (from, to) = if len < 0 { (start + len, start) } else { (start, start + len) };
    if from < 0 || to as usize > size || from > to {
        return Err(badarg());
    }
    Ok((from as usize, to as usize))
}

fn part(p: &mut Process, a: &mut [Term], start: Term, len: Term) -> Result<Term, Stop> {
    let (from, to) = range(bytes_of(a[0])?.len(), start, len)?;
    p.ensure(Heap::SUB_BINARY_WORDS, a);
    Ok(p.heap.sub_binary(a[0], from, to - from))
}

fn atom_to_binary(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let name = atom::name(a[0]).ok_or_else(badarg)?;
    Ok(make_binary(p, a, name.as_bytes().to_vec()))
}

fn text_of_binary(term: Term) -> Result<String, Stop> {
    String::from_utf8(bytes_of(term)?.to_vec()).map_err(|_| badarg())
}

fn binary_to_atom(term: Term, existing: bool) -> Result<Term, Stop> {
    let text = text_of_binary(term)?;
    if existing {
        atom::existing(&text).ok_or_else(badarg)
    } else {
        atom::intern(&text).map_err(|_| error(atoms::SYSTEM_LIMIT))
    }
}

fn integer_to_binary(p: &mut Process, a: &mut [Term], base: u32) -> Result<Term, Stop> {
    let value = integer_value(a[0]).ok_or_else(badarg)?;
    let text = value.to_str_radix(base).to_uppercase();
    Ok(make_binary(p, a, text.into_bytes()))
}

/// An optionally signed integer in `base`, as `list_to_integer/2` reads it.
pub(super) fn parse_integer(text: &str, base: u32) -> Result<BigInt, Stop> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return Err(badarg());
    }
    let value = BigInt::parse_bytes(digits.as_bytes(), base).ok_or_else(badarg)?;
    Ok(if negative { -value } else { value })
}

fn encode_unsigned(p: &mut Process, a: &mut [Term], little: bool) -> Result<Term, Stop> {
    let value = integer_value(a[0]).filter(|v| !v.is_negative()).ok_or_else(badarg)?;
    let (_, mut bytes) = value.to_bytes_be();
    if little {
        bytes.reverse();
    }
    Ok(make_binary(p, a, bytes))
}

// ------------------------------------------------------------ searching

/// The options `split`, `match` and `replace` share.
struct Options {
    global: bool,
    trim: bool,
    trim_all: bool,
    scope: Option<(usize, usize)>,
    insert_replaced: Vec<usize>,
}

fn options(list: Term, size: usize) -> Result<Options, Stop> {
    let mut options = Options { global: false, trim: false, trim_all: false, scope: None, insert_replaced: Vec::new() };
    for option in list_items(list)? {
        match (atom::name(option), option.tuple_elements()) {
            (Some("global"), _) => options.global = true,
            (Some("trim"), _) => options.trim = true,
            (Some("trim_all"), _) => options.trim_all = true,
            (_, Some(&[tag, value])) if atom::name(tag) == Some("scope") => match value.tuple_elements() {
                Some(&[start, len]) => options.scope = Some(range(size, start, len)?),
                _ => return Err(badarg()),
            },
            (_, Some(&[tag, value])) if atom::name(tag) == Some("insert_replaced") => {
                options.insert_replaced = if value.is_small() {
                    vec![index_of(value)?]
                } else {
                    list_items(value)?.into_iter().map(index_of).collect::<Result<_, _>>()?
                };
            }
            _ => return Err(badarg()),
        }
    }
    Ok(options)
}

/// The patterns: one non-empty binary or a non-empty list of them.
fn patterns<'a>(term: Term) -> Result<Vec<&'a [u8]>, Stop> {
    let patterns = match binary_bytes(term) {
        Some(bytes) => vec![bytes],
        None => binaries_of(term)?,
    };
    if patterns.is_empty() || patterns.iter().any(|p| p.is_empty()) {
        return Err(badarg());
    }
    Ok(patterns)
}

/// The matches of `patterns` in `subject[from..to]`, leftmost first and the
/// longest at a position, not overlapping; only the first unless `global`.
fn find_all(subject: &[u8], patterns: &[&[u8]], (from, to): (usize, usize), global: bool) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = from;
    while at < to {
        let longest =
            patterns.iter().filter(|p| at + p.len() <= to && subject[at..].starts_with(p)).map(|p| p.len()).max();
        match longest {
            Some(len) => {
                found.push((at, len));
                if !global {
                    break;
                }
                at += len;
            }
            None => at += 1,
        }
    }
    found
}

fn search(p: &mut Process, a: &mut [Term], option_list: Term, all: bool) -> Result<Term, Stop> {
    let subject = bytes_of(a[0])?;
    let patterns = patterns(a[1])?;
    let options = options(option_list, subject.len())?;
    let scope = options.scope.unwrap_or((0, subject.len()));
    let found = find_all(subject, &patterns, scope, all);
    p.ensure(5 * found.len() + 2 * found.len(), a);
    let pairs: Vec<Term> = found.iter().map(|&(at, len)| p.heap.tuple(&[small(at), small(len)])).collect();
    if all {
        Ok(p.heap.list(&pairs))
    } else {
        Ok(pairs.first().copied().unwrap_or(atoms::NOMATCH))
    }
}

fn split(p: &mut Process, a: &mut [Term], option_list: Term) -> Result<Term, Stop> {
    let subject = bytes_of(a[0])?;
    let patterns = patterns(a[1])?;
    let options = options(option_list, subject.len())?;
    let scope = options.scope.unwrap_or((0, subject.len()));
    let found = find_all(subject, &patterns, scope, options.global);
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, len) in found {
        parts.push((start, at - start));
        start = at + len;
    }
    parts.push((start, subject.len() - start));
    if options.trim_all {
        parts.retain(|&(_, len)| len > 0);
    } else if options.trim {
        while parts.last().is_some_and(|&(_, len)| len == 0) {
            parts.pop();
        }
    }
    p.ensure(parts.len() * (Heap::SUB_BINARY_WORDS + 2), a);
    let items: Vec<Term> = parts.iter().map(|&(at, len)| p.heap.sub_binary(a[0], at, len)).collect();
    Ok(p.heap.list(&items))
}

fn replace(p: &mut Process, a: &mut [Term], option_list: Term) -> Result<Term, Stop> {
    let subject = bytes_of(a[0])?;
    let patterns = patterns(a[1])?;
    let replacement = bytes_of(a[2])?;
    let options = options(option_list, subject.len())?;
    let scope = options.scope.unwrap_or((0, subject.len()));
    let found = find_all(subject, &patterns, scope, options.global);
    let mut out = Vec::with_capacity(subject.len());
    let mut start = 0;
    for (at, len) in found {
        out.extend_from_slice(&subject[start..at]);
        let matched = &subject[at..at + len];
        let mut previous = 0;
        for &position in options.insert_replaced.iter().filter(|&&i| i <= replacement.len()) {
            out.extend_from_slice(&replacement[previous..position]);
            out.extend_from_slice(matched);
            previous = position;
        }
        if options.insert_replaced.iter().any(|&i| i > replacement.len()) {
            return Err(badarg());
        }
        out.extend_from_slice(&replacement[previous..]);
        start = at + len;
    }
    out.extend_from_slice(&subject[start..]);
    Ok(make_binary(p, a, out))
}
