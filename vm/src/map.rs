//! Maps in the heap: one object whose payload is the key-value pairs with the
//! keys sorted in the exact term order (`compare::compare_exact`, in which
//! `1` and `1.0` are different keys and integers sort first) and distinct.
//! Lookup is a binary search; an update copies the pairs.
//!
//! OTP switches maps above 32 keys to a hash array mapped trie; this VM keeps
//! every map flat for now, which costs O(n) per update of a large map and
//! makes large maps print in key order where erl prints them in hash order
//! (see `docs/design/terms-and-gc.md`).

use std::cmp::Ordering;

use crate::compare::compare_exact;
use crate::term::Term;

/// The heap words of a map of `pairs` pairs.
pub fn words(pairs: usize) -> usize {
    1 + 2 * pairs
}

/// The number of pairs of a map.
pub fn size(words: &[Term]) -> usize {
    words.len() / 2
}

/// The index of `key`'s pair, or where it would go.
fn search(words: &[Term], key: Term) -> Result<usize, usize> {
    let (mut low, mut high) = (0, words.len() / 2);
    while low < high {
        let middle = (low + high) / 2;
        match compare_exact(words[2 * middle], key) {
            Ordering::Less => low = middle + 1,
            Ordering::Greater => high = middle,
            Ordering::Equal => return Ok(middle),
        }
    }
    Err(low)
}

/// The value under `key`.
pub fn get(words: &[Term], key: Term) -> Option<Term> {
    search(words, key).ok().map(|i| words[2 * i + 1])
}

/// The pairs of a map, in key order.
pub fn pairs(words: &[Term]) -> Vec<(Term, Term)> {
    words.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect()
}

/// The pairs with `key` set to `value` (added, or replacing the old value).
pub fn with(words: &[Term], key: Term, value: Term) -> Vec<(Term, Term)> {
    let mut result = pairs(words);
    match search(words, key) {
        Ok(i) => result[i].1 = value,
        Err(i) => result.insert(i, (key, value)),
    }
    result
}

/// The pairs without `key`.
pub fn without(words: &[Term], key: Term) -> Vec<(Term, Term)> {
    let mut result = pairs(words);
    if let Ok(i) = search(words, key) {
        result.remove(i);
    }
    result
}

/// Sorts pairs by key and keeps the last pair of each key, as building a map
/// from a list does.
pub fn normalize(mut pairs: Vec<(Term, Term)>) -> Vec<(Term, Term)> {
    pairs.sort_by(|a, b| compare_exact(a.0, b.0));
    let mut result: Vec<(Term, Term)> = Vec::with_capacity(pairs.len());
    for pair in pairs {
        match result.last_mut() {
            Some(last) if compare_exact(last.0, pair.0) == Ordering::Equal => *last = pair,
            _ => result.push(pair),
        }
    }
    result
}

/// The pairs of two maps, the second's value winning for a shared key.
pub fn merge(first: &[Term], second: &[Term]) -> Vec<(Term, Term)> {
    let (a, b) = (pairs(first), pairs(second));
    let mut result = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match compare_exact(a[i].0, b[j].0) {
            Ordering::Less => {
                result.push(a[i]);
                i += 1;
            }
            Ordering::Greater => {
                result.push(b[j]);
                j += 1;
            }
            Ordering::Equal => {
                result.push(b[j]);
                i += 1;
                j += 1;
            }
        }
    }
    result.extend_from_slice(&a[i..]);
    result.extend_from_slice(&b[j..]);
    result
}
