//! Erlang's portable term hashes, bit for bit as erts computes them, because
//! programs see them: `erlang:phash2/1,2` (erts `make_hash2`) and
//! `erlang:phash/2` (erts `make_hash`), which also decide the element order
//! of OTP's `dict` and `sets`. Both walk the term with an explicit stack, so
//! any depth is fine.
//!
//! Funs and references hash by this VM's own identities (erl's depend on its
//! module checksums and reference counters, which no program can rely on).

use crate::atom;
use crate::heap::{binary_bytes, integer_value};
use crate::term::{Kind, Term};

/// erts' atom hash: hashpjw over the name's bytes, with its "latin1 clutch"
/// (a two-byte UTF-8 sequence of a Latin-1 character counts as one byte).
pub fn atom_hash(term: Term) -> u32 {
    let name = atom::name(term).unwrap_or("").as_bytes();
    let mut h: u32 = 0;
    let mut i = 0;
    while i < name.len() {
        let mut v = name[i];
        i += 1;
        if i < name.len() && (v & 0xfe) == 0xc2 && (name[i] & 0xc0) == 0x80 {
            v = (v << 6) | (name[i] & 0x3f);
            i += 1;
        }
        h = (h << 4).wrapping_add(u32::from(v));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
            h ^= g;
        }
    }
    h
}

fn is_byte(term: Term) -> bool {
    term.is_small() && (0..256).contains(&term.small_value())
}

fn kind(term: Term) -> Option<Kind> {
    if term.is_boxed() {
        term.header().kind()
    } else {
        None
    }
}

// ------------------------------------------------------------ make_hash2

const HCONST: u32 = 0x9e37_79b9;
const HCONST_2: u32 = 0x3c6e_f372;
const HCONST_3: u32 = 0xdaa6_6d2b;
const HCONST_4: u32 = 0x78dd_e6e4;
const HCONST_5: u32 = 0x1715_609d;
const HCONST_6: u32 = 0xb54c_da56;
const HCONST_7: u32 = 0x5384_540f;
const HCONST_9: u32 = 0x8ff3_4781;
const HCONST_10: u32 = 0x2e2a_c13a;
const HCONST_11: u32 = 0xcc62_3af3;
const HCONST_12: u32 = 0x6a99_b4ac;
const HCONST_13: u32 = 0x08d1_2e65;
const HCONST_14: u32 = 0xa708_a81e;
const HCONST_16: u32 = 0xe377_9b90;
const HCONST_19: u32 = 0xbe1e_08bb;
const NIL_DEF: u32 = 2;

/// Bob Jenkins' mix, as erts' `MIX`.
fn mix(mut a: u32, mut b: u32, mut c: u32) -> (u32, u32, u32) {
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 13);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 8);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 13);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 12);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 16);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 5);
    a = a.wrapping_sub(b).wrapping_sub(c) ^ (c >> 3);
    b = b.wrapping_sub(c).wrapping_sub(a) ^ (a << 10);
    c = c.wrapping_sub(a).wrapping_sub(b) ^ (b >> 15);
    (a, b, c)
}

/// `UINT32_HASH_2`: mixes two words into `hash`.
fn hash_2(hash: &mut u32, x: u32, y: u32, constant: u32) {
    let (_, _, c) = mix(constant.wrapping_add(x), constant.wrapping_add(y), *hash);
    *hash = c;
}

fn hash_1(hash: &mut u32, x: u32, constant: u32) {
    hash_2(hash, x, 0, constant);
}

/// erts' `block_hash` over bytes, seeded with `initval`.
fn block_hash(bytes: &[u8], initval: u32) -> u32 {
    let word = |k: &[u8]| u32::from_le_bytes([k[0], k[1], k[2], k[3]]);
    let (mut a, mut b, mut c) = (HCONST, HCONST, initval);
    let mut chunks = bytes.chunks_exact(12);
    for k in &mut chunks {
        (a, b, c) =
            mix(a.wrapping_add(word(&k[0..4])), b.wrapping_add(word(&k[4..8])), c.wrapping_add(word(&k[8..12])));
    }
    let rest = chunks.remainder();
    // Only the low 32 bits of the length count, as in erts.
    c = c.wrapping_add(bytes.len() as u32);
    for (i, &byte) in rest.iter().enumerate() {
        let byte = u32::from(byte);
        match i {
            0..=3 => a = a.wrapping_add(byte << (8 * i)),
            4..=7 => b = b.wrapping_add(byte << (8 * (i - 4))),
            // The low byte of c holds the length.
            _ => c = c.wrapping_add(byte << (8 * (i - 7))),
        }
    }
    mix(a, b, c).2
}

enum Item {
    Term(Term),
    MapPair,
    MapTail,
    Saved(u32),
}

/// erts' `make_hash2` (`erlang:phash2/1` is its low 27 bits).
pub fn make_hash2(term: Term) -> u32 {
    let mut hash: u32 = 0;
    let mut xor_pairs: u32 = 0;
    let mut stack: Vec<Item> = Vec::new();
    let mut current = Some(term);
    loop {
        if let Some(term) = current.take() {
            current = hash2_one(term, &mut hash, &mut xor_pairs, &mut stack);
            if current.is_some() {
                continue;
            }
        }
        // hash2_common: the next term, or a map marker.
        match stack.pop() {
            None => return hash,
            Some(Item::Term(t)) => current = Some(t),
            Some(Item::MapPair) => {
                xor_pairs ^= hash;
                hash = 0;
            }
            Some(Item::MapTail) => {
                hash = match stack.pop() {
                    Some(Item::Saved(h)) => h,
                    _ => 0,
                };
                hash_1(&mut hash, xor_pairs, HCONST_19);
                xor_pairs = match stack.pop() {
                    Some(Item::Saved(x)) => x,
                    _ => 0,
                };
            }
            Some(Item::Saved(_)) => {}
        }
    }
}

/// Hashes one term into `hash`; returns a term to go on with directly (the
/// first element of a compound), or `None` to take the next from the stack.
fn hash2_one(term: Term, hash: &mut u32, xor_pairs: &mut u32, stack: &mut Vec<Item>) -> Option<Term> {
    if term.is_small() {
        let small = term.small_value();
        if !(-(1 << 27)..(1 << 27)).contains(&small) {
            let (t, constant) = if small < 0 { (small.unsigned_abs(), HCONST_10) } else { (small as u64, HCONST_11) };
            hash_2(hash, t as u32, (t >> 32) as u32, constant);
        } else {
            let y = small as i32;
            if y < 0 {
                hash_1(hash, y.wrapping_neg() as u32, HCONST);
            }
            hash_1(hash, y as u32, HCONST);
        }
        return None;
    }
    if term.is_atom() {
        if *hash == 0 {
            *hash = atom_hash(term);
        } else {
            hash_1(hash, atom_hash(term), HCONST_3);
        }
        return None;
    }
    if term.is_nil() {
        if *hash == 0 {
            *hash = 3_468_870_702;
        } else {
            hash_1(hash, NIL_DEF, HCONST_2);
        }
        return None;
    }
    if term.is_pid() {
        hash_1(hash, term.pid_number() as u32, HCONST_5);
        return None;
    }
    if term.is_port() {
        hash_1(hash, term.port_number() as u32, HCONST_6);
        return None;
    }
    if term.is_cons() {
        let (mut count, mut packed) = (0u32, 0u32);
        let mut cell = term;
        loop {
            let head = cell.head();
            if !is_byte(head) {
                if count > 0 {
                    hash_1(hash, packed, HCONST_4);
                }
                stack.push(Item::Term(cell.tail()));
                return Some(head);
            }
            packed = (packed << 8).wrapping_add(head.small_value() as u32);
            if count == 3 {
                hash_1(hash, packed, HCONST_4);
                count = 0;
                packed = 0;
            } else {
                count += 1;
            }
            let tail = cell.tail();
            if !tail.is_cons() {
                if count > 0 {
                    hash_1(hash, packed, HCONST_4);
                }
                return Some(tail);
            }
            cell = tail;
        }
    }
    match kind(term) {
        Some(Kind::Tuple) => {
            let elements = term.tuple_elements().unwrap_or_default();
            hash_1(hash, elements.len() as u32, HCONST_9);
            let (first, rest) = elements.split_first()?;
            stack.extend(rest.iter().rev().map(|&e| Item::Term(e)));
            Some(*first)
        }
        Some(Kind::Map) => {
            let words = term.map_words().unwrap_or_default();
            hash_1(hash, (words.len() / 2) as u32, HCONST_16);
            if words.is_empty() {
                return None;
            }
            stack.push(Item::Saved(*xor_pairs));
            stack.push(Item::Saved(*hash));
            stack.push(Item::MapTail);
            *hash = 0;
            *xor_pairs = 0;
            for pair in words.chunks_exact(2).rev() {
                stack.push(Item::MapPair);
                stack.push(Item::Term(pair[1]));
                stack.push(Item::Term(pair[0]));
            }
            None
        }
        Some(Kind::Float) => {
            let mut value = term.float_value().unwrap_or(0.0);
            if value == 0.0 {
                value = 0.0;
            }
            let bits = value.to_bits();
            hash_2(hash, (bits >> 32) as u32, bits as u32, HCONST_12);
            None
        }
        Some(Kind::PositiveBig | Kind::NegativeBig) => {
            let constant = if term.header().kind() == Some(Kind::NegativeBig) { HCONST_10 } else { HCONST_11 };
            for &limb in term.payload() {
                hash_2(hash, limb as u32, (limb >> 32) as u32, constant);
            }
            None
        }
        Some(Kind::HeapBinary | Kind::RefcBinary | Kind::SubBinary) => {
            let bytes = binary_bytes(term).unwrap_or_default();
            let constant = HCONST_13.wrapping_add(*hash);
            *hash = if bytes.is_empty() { constant } else { block_hash(bytes, constant) };
            None
        }
        Some(Kind::Reference) => {
            hash_1(hash, term.payload()[0] as u32, HCONST_7);
            None
        }
        Some(Kind::ExportFun) => {
            let (module, function, arity) = crate::fun::export_parts(term)?;
            hash_2(hash, arity, atom_hash(module), HCONST);
            hash_1(hash, atom_hash(function), HCONST_14);
            None
        }
        Some(Kind::Fun) => {
            // This VM's identity of the fun's code, then its free variables.
            let payload = term.payload();
            hash_2(hash, (payload.len() - 1) as u32, payload[0] as u32, HCONST);
            stack.extend(payload[1..].iter().rev().map(|&w| {
                // SAFETY: a fun's payload after its entry word is terms.
                Item::Term(unsafe { Term::from_raw(w) })
            }));
            None
        }
        None => None,
    }
}

/// `erlang:phash2/1`.
pub fn phash2(term: Term) -> u32 {
    make_hash2(term) & ((1 << 27) - 1)
}

// ------------------------------------------------------------ make_hash

const FUNNY_NUMBER1: u32 = 268_440_163;
const FUNNY_NUMBER2: u32 = 268_439_161;
const FUNNY_NUMBER3: u32 = 268_435_459;
const FUNNY_NUMBER4: u32 = 268_436_141;
const FUNNY_NUMBER5: u32 = 268_438_633;
const FUNNY_NUMBER6: u32 = 268_437_017;
const FUNNY_NUMBER8: u32 = 268_437_511;
const FUNNY_NUMBER9: u32 = 268_439_627;
const FUNNY_NUMBER10: u32 = 268_440_479;
const FUNNY_NUMBER11: u32 = 268_440_577;
const FUNNY_NUMBER13: u32 = 268_440_593;
const FUNNY_NUMBER14: u32 = 268_440_611;

enum Op<'a> {
    Hash(Term),
    CdrPre(Term),
    CdrPost,
    Tuple(&'a [Term], u32),
}

/// `UINT32_HASH_STEP`: the word's bytes, least significant first.
fn step(hash: u32, x: u32, prime: u32) -> u32 {
    (0..4).fold(hash, |h, i| h.wrapping_mul(prime).wrapping_add((x >> (8 * i)) & 0xff))
}

/// erts' `make_hash` (`erlang:phash/2`).
pub fn make_hash(term: Term) -> u32 {
    let mut hash: u32 = 0;
    let mut stack = vec![Op::Hash(term)];
    while let Some(op) = stack.pop() {
        match op {
            Op::CdrPost => hash = hash.wrapping_mul(FUNNY_NUMBER8),
            Op::CdrPre(t) if !t.is_cons() => {
                stack.push(Op::CdrPost);
                stack.push(Op::Hash(t));
            }
            Op::CdrPre(t) => hash_list(t, &mut hash, &mut stack),
            Op::Tuple(elements, arity) => match elements.split_first() {
                Some((&first, rest)) => {
                    stack.push(Op::Tuple(rest, arity));
                    stack.push(Op::Hash(first));
                }
                None => hash = hash.wrapping_mul(FUNNY_NUMBER9).wrapping_add(arity),
            },
            Op::Hash(t) => hash_one(t, &mut hash, &mut stack),
        }
    }
    hash
}

fn hash_list<'a>(term: Term, hash: &mut u32, stack: &mut Vec<Op<'a>>) {
    let mut cell = term;
    loop {
        let head = cell.head();
        if !is_byte(head) {
            stack.push(Op::CdrPre(cell.tail()));
            stack.push(Op::Hash(head));
            return;
        }
        *hash = hash.wrapping_mul(FUNNY_NUMBER2).wrapping_add(head.small_value() as u32);
        let tail = cell.tail();
        if !tail.is_cons() {
            stack.push(Op::CdrPost);
            stack.push(Op::Hash(tail));
            return;
        }
        cell = tail;
    }
}

fn hash_one<'a>(term: Term, hash: &mut u32, stack: &mut Vec<Op<'a>>) {
    let h = *hash;
    *hash = if term.is_nil() {
        h.wrapping_mul(FUNNY_NUMBER3).wrapping_add(1)
    } else if term.is_atom() {
        h.wrapping_mul(FUNNY_NUMBER1).wrapping_add(atom_hash(term))
    } else if term.is_small() {
        let value = term.small_value();
        let magnitude = value.unsigned_abs();
        let mut h = step(h, magnitude as u32, FUNNY_NUMBER2);
        if magnitude >> 32 != 0 {
            h = step(h, (magnitude >> 32) as u32, FUNNY_NUMBER2);
        }
        h.wrapping_mul(if value < 0 { FUNNY_NUMBER4 } else { FUNNY_NUMBER3 })
    } else if term.is_pid() {
        step(h, term.pid_number() as u32, FUNNY_NUMBER5).wrapping_mul(FUNNY_NUMBER6)
    } else if term.is_port() {
        step(h, term.port_number() as u32, FUNNY_NUMBER9).wrapping_mul(FUNNY_NUMBER10)
    } else if term.is_cons() {
        hash_list(term, hash, stack);
        return;
    } else {
        match kind(term) {
            Some(Kind::Tuple) => {
                let elements = term.tuple_elements().unwrap_or_default();
                stack.push(Op::Tuple(elements, elements.len() as u32));
                return;
            }
            Some(Kind::Float) => {
                let mut value = term.float_value().unwrap_or(0.0);
                if value == 0.0 {
                    value = 0.0;
                }
                let bits = value.to_bits();
                h.wrapping_mul(FUNNY_NUMBER6).wrapping_add((bits as u32) ^ ((bits >> 32) as u32))
            }
            Some(Kind::PositiveBig | Kind::NegativeBig) => {
                let negative = term.header().kind() == Some(Kind::NegativeBig);
                let magnitude = integer_value(term).unwrap_or_default().magnitude().to_u64_digits();
                let mut h = h;
                for (i, &digit) in magnitude.iter().enumerate() {
                    let bytes = if i + 1 == magnitude.len() && digit >> 32 == 0 { 4 } else { 8 };
                    for j in 0..bytes {
                        h = h.wrapping_mul(FUNNY_NUMBER2).wrapping_add(((digit >> (8 * j)) & 0xff) as u32);
                    }
                }
                h.wrapping_mul(if negative { FUNNY_NUMBER4 } else { FUNNY_NUMBER3 })
            }
            Some(Kind::HeapBinary | Kind::RefcBinary | Kind::SubBinary) => {
                let bytes = binary_bytes(term).unwrap_or_default();
                let h = bytes.iter().fold(h, |h, &b| h.wrapping_mul(FUNNY_NUMBER1).wrapping_add(u32::from(b)));
                h.wrapping_mul(FUNNY_NUMBER4).wrapping_add(bytes.len() as u32)
            }
            Some(Kind::Map) => {
                h.wrapping_mul(FUNNY_NUMBER13).wrapping_add(FUNNY_NUMBER14).wrapping_add(make_hash2(term))
            }
            Some(Kind::Reference) => step(h, term.payload()[0] as u32, FUNNY_NUMBER9).wrapping_mul(FUNNY_NUMBER10),
            Some(Kind::Fun) => h.wrapping_mul(FUNNY_NUMBER10).wrapping_add(make_hash2(term)),
            Some(Kind::ExportFun) => match crate::fun::export_parts(term) {
                Some((module, function, arity)) => h
                    .wrapping_mul(FUNNY_NUMBER11)
                    .wrapping_add(arity)
                    .wrapping_mul(FUNNY_NUMBER1)
                    .wrapping_add(atom_hash(module))
                    .wrapping_mul(FUNNY_NUMBER1)
                    .wrapping_add(atom_hash(function)),
                None => h,
            },
            None => h,
        }
    };
}

/// `erlang:phash/2`: 1..=range. For a range of 2^32 erts adds 1 in 32 bits
/// and keeps the hash when that wraps to 0.
pub fn phash(term: Term, range: u64) -> u64 {
    let hash = make_hash(term);
    if range == 1 << 32 {
        u64::from(hash.checked_add(1).unwrap_or(hash))
    } else {
        u64::from(hash) % range + 1
    }
}
