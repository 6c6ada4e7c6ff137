//! Copying a term out of one heap into another: how a message leaves its
//! sender (copied into a buffer the receiver will own, invariant 3 of
//! DESIGN.md) and how it enters the receiver's heap. The copy is flat, as
//! BEAM's `copy_struct`: a subterm shared twice in the source is copied
//! twice. Binaries over 64 bytes are not copied: the copy gets a new handle
//! on the same shared bytes, and its heap owns one more reference count.
//!
//! Both passes are iterative (an explicit stack for sizing, a Cheney scan of
//! the destination for copying), so a million-element list or a deeply
//! nested term cannot overflow the native stack.

use std::sync::Arc;

use crate::gc::for_each_term_slot;
use crate::heap::{release_refc, Heap, SharedBytes};
use crate::term::{Header, Kind, Term};

/// Words a long copy goes through between two reports of its progress
/// (each pass reports them: see [`Message::new_charged`]).
const REPORT_EVERY: usize = 1 << 16;

/// The heap words a copy of `term` takes.
pub fn size(term: Term) -> usize {
    size_reporting(term, &mut |_| {})
}

/// As [`size`], telling `progress` of every [`REPORT_EVERY`] words sized.
fn size_reporting(term: Term, progress: &mut dyn FnMut(usize)) -> usize {
    flat_size(term).unwrap_or_else(|| walk_size(term, progress))
}

/// As [`size_reporting`], by walking every object.
fn walk_size(term: Term, progress: &mut dyn FnMut(usize)) -> usize {
    let mut words = 0;
    let mut reported = 0;
    let mut pending = Pending::default();
    let mut next = Some(term);
    // The last term slot of each object is walked next, without a trip
    // through `pending`: a list's spine, and most small messages, never
    // touch it.
    while let Some(term) = next.or_else(|| pending.pop()) {
        next = None;
        if words - reported >= REPORT_EVERY {
            progress(words - reported);
            reported = words;
        }
        if term.is_cons() {
            words += 2;
            let head = term.head();
            if head.is_cons() || head.is_boxed() {
                pending.push(head);
            }
            next = Some(term.tail());
        } else if term.is_boxed() {
            let header = term.header();
            let arity = header.arity();
            words += 1 + arity;
            let payload = term.payload();
            for offset in header.kind().map_or(0..0, |kind| kind.term_words(arity)) {
                // SAFETY: `term_words` names the payload words that hold terms.
                let inner = unsafe { Term::from_raw(payload[offset - 1]) };
                if inner.is_cons() || inner.is_boxed() {
                    if let Some(later) = next.replace(inner) {
                        pending.push(later);
                    }
                }
            }
        }
    }
    words
}

/// The most common messages, sized without the general walk's stack: a
/// small tuple or a cell whose elements are immediates or objects with no
/// terms inside (numbers, binaries, binary handles). `None` for others.
#[inline(always)]
fn flat_size(term: Term) -> Option<usize> {
    // Each element: 0 words, or a leaf object's.
    let leaf = |inner: Term| -> Option<usize> {
        if inner.is_cons() {
            return None;
        }
        if !inner.is_boxed() {
            return Some(0);
        }
        let header = inner.header();
        let kind = header.kind()?;
        kind.term_words(header.arity()).is_empty().then(|| 1 + header.arity())
    };
    if term.is_cons() {
        return Some(2 + leaf(term.head())? + leaf(term.tail())?);
    }
    if !term.is_boxed() {
        return Some(0);
    }
    let header = term.header();
    let arity = header.arity();
    if header.kind() != Some(Kind::Tuple) || arity > 8 {
        return None;
    }
    let mut words = 1 + arity;
    for &word in term.payload() {
        // SAFETY: a tuple's payload words are terms.
        words += leaf(unsafe { Term::from_raw(word) })?;
    }
    Some(words)
}

/// The terms still to size: a small array first, so that sizing a small
/// message allocates nothing, then a vector.
struct Pending {
    near: [std::mem::MaybeUninit<Term>; 16],
    len: usize,
    far: Vec<Term>,
}

impl Default for Pending {
    fn default() -> Pending {
        Pending { near: [std::mem::MaybeUninit::uninit(); 16], len: 0, far: Vec::new() }
    }
}

impl Pending {
    fn push(&mut self, term: Term) {
        if self.len < self.near.len() {
            self.near[self.len].write(term);
            self.len += 1;
        } else {
            self.far.push(term);
        }
    }

    fn pop(&mut self) -> Option<Term> {
        if let Some(term) = self.far.pop() {
            return Some(term);
        }
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the entries below `len` were written by `push`.
        Some(unsafe { self.near[self.len].assume_init() })
    }
}

/// Copies `term` into `heap`, which must have [`size`]`(term)` words of room
/// (made with `Heap::ensure`); returns the copy.
pub fn copy(term: Term, heap: &mut Heap) -> Term {
    let (base, len, top) = (heap.young.as_mut_ptr(), heap.young.len(), heap.top);
    let off_heap = &mut heap.off_heap;
    // SAFETY: `base[top..len]` is the young block's free part, which nothing
    // else uses while the copy is made.
    let (copied, top) = unsafe { copy_to(term, base, len, top, &mut |object| off_heap.push(object), &mut |_| {}) };
    heap.top = top;
    copied
}

/// Copies `term` to the words `base[top..len]`; returns the copy and the
/// new top. `refc` is told of every refc binary handle made, which holds one
/// more count of its bytes. `progress` is told of every [`REPORT_EVERY`] words copied.
///
/// # Safety
/// `base[..len]` must be a block of words this thread may write, with
/// [`size`]`(term)` free words from `top`, and the source must not change
/// while the copy is made (`progress` may suspend the process, whose heap
/// nothing else touches).
unsafe fn copy_to(
    term: Term,
    base: *mut u64,
    len: usize,
    top: usize,
    refc: &mut dyn FnMut(*mut u64),
    progress: &mut dyn FnMut(usize),
) -> (Term, usize) {
    if !term.is_cons() && !term.is_boxed() {
        return (term, top);
    }
    let mut to = Target { base, len, top };
    let root = to.object(term, refc);
    // Every object copied so far lies in `start..to.top`; scanning them in
    // order copies what their term slots point to (still the source's
    // objects) and makes the slots point to the copies.
    let mut scan = top;
    let mut reported = top;
    while scan < to.top {
        if scan - reported >= REPORT_EVERY {
            progress(scan - reported);
            reported = scan;
        }
        // SAFETY: `scan` walks the starts of the objects just copied, which
        // are well formed; `object` allocates only above `to.top`, past the
        // object being scanned.
        scan = unsafe {
            for_each_term_slot(base, scan, |slot| {
                let copied = to.object(Term::from_raw(*slot), refc);
                *slot = copied.raw();
            })
        };
    }
    (root, to.top)
}

/// Copies `words` words between two blocks that do not overlap. Cells,
/// small tuples and most messages, the common cases, are copied with a
/// fixed length (moves, not a call to `memcpy`, which costs more than the
/// copy at these sizes).
///
/// # Safety
/// As `std::ptr::copy_nonoverlapping` of `words` words.
#[inline(always)]
unsafe fn copy_words(source: *const u64, target: *mut u64, words: usize) {
    macro_rules! fixed {
        ($($n:literal)*) => {
            // SAFETY: the caller's guarantee, for `words` == `$n`.
            unsafe {
                match words {
                    $($n => std::ptr::copy_nonoverlapping(source.cast::<[u64; $n]>(), target.cast::<[u64; $n]>(), 1),)*
                    _ => std::ptr::copy_nonoverlapping(source, target, words),
                }
            }
        };
    }
    fixed!(2 3 4 5 6 7 8)
}

/// Where a copy goes: free words of a block.
struct Target {
    base: *mut u64,
    len: usize,
    top: usize,
}

impl Target {
    /// Copies one cons cell or boxed object as it is (its term slots still
    /// pointing into the source); immediates are returned unchanged.
    #[inline(always)]
    fn object(&mut self, term: Term, refc: &mut dyn FnMut(*mut u64)) -> Term {
        let words = if term.is_cons() {
            2
        } else if term.is_boxed() {
            1 + term.header().arity()
        } else {
            return term;
        };
        // Sized by `size`: running out is a VM bug.
        assert!(self.top + words <= self.len, "message copy overflow");
        // SAFETY: `top + words <= len`: inside the target block; the source
        // object has `words` words (a cell, or a header and its payload).
        unsafe {
            let object = self.base.add(self.top);
            self.top += words;
            let source = term.pointer();
            copy_words(source, object, words);
            if term.is_cons() {
                return Term::from_cons_ptr(object);
            }
            if term.header().kind() == Some(Kind::RefcBinary) {
                // The payload word is a pointer made by `Arc::into_raw`;
                // the copy holds one more count of it.
                Arc::increment_strong_count(*object.add(1) as *const SharedBytes);
                refc(object);
            }
            Term::from_boxed_ptr(object)
        }
    }
}

/// A message on its way: a term copied out of its sender into a buffer of
/// its own, whose words the receiver moves into its heap (pointers moved
/// with them) when it takes the message in. Dropping a message releases the binary counts it holds.
#[derive(Debug)]
pub struct Message {
    buffer: Vec<u64>,
    term: Term,
    /// Whether the buffer holds refc binary handles.
    shares: bool,
}

// SAFETY: the buffer is owned by the message alone (nothing else points into
// it), and shared binary bytes are behind `Arc`s.
unsafe impl Send for Message {}

impl Message {
    /// Copies `term` out of its heap.
    pub fn new(term: Term) -> Message {
        Message::new_charged(term, &mut |_| {})
    }

    /// As [`Message::new`], telling `progress` of the words gone through
    /// as the copy goes (sizing, then copying: twice the message's words
    /// in all, reported in steps), so that a long copy can be charged, and
    /// suspended, half-way. The term must not change meanwhile.
    pub fn new_charged(term: Term, progress: &mut dyn FnMut(usize)) -> Message {
        let words = size_reporting(term, progress);
        let mut buffer: Vec<u64> = Vec::with_capacity(words);
        let mut shares = false;
        // SAFETY: the buffer has room for `words` words, all free; the
        // caller keeps the source as it is.
        let (term, top) = unsafe { copy_to(term, buffer.as_mut_ptr(), words, 0, &mut |_| shares = true, progress) };
        debug_assert_eq!(top, words);
        // SAFETY: the copy wrote every word below `top`, which is `words`
        // (`size` counts exactly the words `copy_to` writes).
        unsafe { buffer.set_len(top) };
        Message { buffer, term, shares }
    }

    /// The words the message takes in the receiver's heap.
    pub fn words(&self) -> usize {
        self.buffer.len()
    }

    /// The term, valid while the message lives (for printing a crash's reason).
    pub fn term(&self) -> Term {
        self.term
    }

    /// Sets element `index` (0-based) of the message's tuple to the small
    /// integer `value`, in place, where that element is a small integer now
    /// (ets's counters). Returns false, changing nothing, when the message is
    /// not a tuple, `index` is out of range, or either term is not small.
    pub fn set_small_element(&mut self, index: usize, value: Term) -> bool {
        let Some(elements) = self.term.tuple_elements() else { return false };
        if index >= elements.len() || !elements[index].is_small() || !value.is_small() {
            return false;
        }
        let slot = std::ptr::from_ref(&elements[index]).cast_mut();
        // SAFETY: the tuple's words are in `self.buffer` (a message's
        // pointers all point into its buffer), which `&mut self` borrows
        // alone, and `index` is inside the tuple. A small integer for a
        // small integer changes no pointer, size or binary count.
        unsafe { slot.write(value) };
        true
    }

    /// Moves the message into `heap`, which must have [`Message::words`] of
    /// room: the terms are copied, and the counts of shared binaries the
    /// buffer held pass to the heap's handles.
    pub fn move_into(mut self, heap: &mut Heap) -> Term {
        let words = self.buffer.len();
        assert!(heap.has_room(words), "message moved into a heap without room");
        if !self.term.is_cons() && !self.term.is_boxed() {
            return self.term;
        }
        // The buffer holds the message's objects one after another, and its
        // pointers all point into it (`copy_to` copies every object it
        // reaches): a copy of the words with each such pointer moved by
        // the distance is the message in the heap, at the cost of a
        // `memcpy` and one walk.
        let from = self.buffer.as_ptr() as usize;
        let range = (from, from + words * 8);
        let top = heap.top;
        // SAFETY: the young block has `words` free words from `top`
        // (asserted above), which nothing else uses meanwhile.
        let base = unsafe { heap.young.as_mut_ptr().add(top) };
        // SAFETY: as above; the buffer is another allocation of `words` words.
        unsafe { copy_words(self.buffer.as_ptr(), base, words) };
        let delta = (base as usize).wrapping_sub(from) as u64;
        let relocate = |word: u64| -> u64 {
            // SAFETY: every slot visited holds a term (see `for_each_term_slot`).
            let term = unsafe { Term::from_raw(word) };
            if (term.is_cons() || term.is_boxed()) && (range.0..range.1).contains(&(term.pointer() as usize)) {
                word.wrapping_add(delta)
            } else {
                word
            }
        };
        let mut index = 0;
        while index < words {
            // SAFETY: `index` walks the starts of the well-formed objects the
            // copy laid out in the buffer, now at `base`.
            let (object, header) = unsafe { (base.add(index), Header::from_raw(*base.add(index))) };
            if header.is_header() && header.kind() == Some(Kind::RefcBinary) {
                // The buffer's count of the bytes passes to this handle.
                heap.off_heap.push(object);
            }
            // SAFETY: as above.
            index = unsafe { for_each_term_slot(base, index, |slot| *slot = relocate(*slot)) };
        }
        heap.top = top + words;
        self.shares = false;
        // SAFETY: the message's root, moved as its slots were.
        unsafe { Term::from_raw(relocate(self.term.raw())) }
    }
}

impl Drop for Message {
    fn drop(&mut self) {
        if !self.shares {
            return;
        }
        let mut index = 0;
        while index < self.buffer.len() {
            let header = Header::from_raw(self.buffer[index]);
            if !header.is_header() {
                index += 2;
                continue;
            }
            if header.kind() == Some(Kind::RefcBinary) {
                // SAFETY: a refc handle this message's copy made, holding one
                // count, released once here.
                unsafe { release_refc(self.buffer.as_mut_ptr().add(index)) };
            }
            index += 1 + header.arity();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::exact_eq;

    fn small(i: i64) -> Term {
        Term::small(i).unwrap()
    }

    /// A list holding a tuple twice, a float, a refc binary and a slice of it.
    fn sample(heap: &mut Heap) -> Term {
        let big = heap.binary(&[7u8; 200]);
        let float = heap.float(1.5);
        let inner = heap.tuple(&[small(1), float, big]);
        let sub = heap.sub_binary(big, 3, 10);
        heap.list(&[inner, inner, sub, Term::atom(3)])
    }

    #[test]
    fn a_copy_equals_the_original_and_lives_in_the_new_heap() {
        let mut source = Heap::with_young_words(1024);
        let list = sample(&mut source);
        let words = size(list);
        // The shared tuple is counted (and copied) twice.
        assert_eq!(words, 4 * 2 + 2 * (4 + 2 + 2) + 4 + 2);
        let message = Message::new(list);
        drop(source);
        let mut target = Heap::with_young_words(words);
        let copied = message.move_into(&mut target);
        assert_eq!(target.used_words(), words);
        let mut check = Heap::with_young_words(1024);
        assert!(exact_eq(copied, sample(&mut check)));
        assert_eq!(target.off_heap.len(), 3, "each copy of the handle holds a count");
    }

    #[test]
    fn long_lists_and_deep_nesting_copy_without_recursion() {
        let mut heap = Heap::with_young_words(4_000_000);
        let items: Vec<Term> = (0..1_000_000).map(small).collect();
        let long = heap.list(&items);
        let mut deep = Term::NIL;
        for _ in 0..200_000 {
            deep = heap.tuple(&[deep]);
        }
        let both = heap.tuple(&[long, deep]);
        let message = Message::new(both);
        let mut target = Heap::with_young_words(message.words());
        let copied = message.move_into(&mut target);
        let parts = copied.tuple_elements().unwrap();
        assert!(exact_eq(parts[0], long));
        let (mut cursor, mut depth) = (parts[1], 0);
        while let Some(inner) = cursor.tuple_elements() {
            (cursor, depth) = (inner[0], depth + 1);
        }
        assert_eq!((cursor, depth), (Term::NIL, 200_000));
    }

    #[test]
    fn messages_hold_and_release_counts_of_shared_bytes() {
        let bytes = SharedBytes::new(vec![1u8; 100]);
        let mut source = Heap::with_young_words(64);
        let handle = source.refc_binary(bytes.clone());
        let term = source.tuple(&[handle, handle]);
        assert_eq!(Arc::strong_count(&bytes), 2);
        let message = Message::new(term);
        assert_eq!(Arc::strong_count(&bytes), 4, "the message holds a count per handle copied");
        let mut target = Heap::with_young_words(message.words());
        message.move_into(&mut target);
        assert_eq!(Arc::strong_count(&bytes), 4, "the message's counts pass to the heap");
        let unreceived = Message::new(term);
        assert_eq!(Arc::strong_count(&bytes), 6);
        drop(unreceived);
        assert_eq!(Arc::strong_count(&bytes), 4);
        drop(target);
        drop(source);
        assert_eq!(Arc::strong_count(&bytes), 1);
    }

    #[test]
    fn flat_messages_are_sized_as_the_walk_sizes_them() {
        let mut heap = Heap::with_young_words(1024);
        let big = heap.binary(&[7u8; 200]);
        let small_binary = heap.binary(b"abc");
        let float = heap.float(2.5);
        let flat = [
            heap.tuple(&[Term::atom(1), Term::pid(3), small(7)]),
            heap.tuple(&[Term::atom(2), big]),
            heap.tuple(&[float, small_binary, big, Term::NIL]),
            heap.tuple(&[]),
            heap.list(&[float]),
        ];
        for term in flat {
            assert_eq!(flat_size(term), Some(walk_size(term, &mut |_| {})), "{term:?}");
        }
        let inner = heap.tuple(&[small(1)]);
        let many: Vec<Term> = (0..9).map(small).collect();
        let nested = [heap.tuple(&[inner]), heap.list(&[small(1), small(2)]), heap.tuple(&many), sample(&mut heap)];
        for term in nested {
            assert_eq!(flat_size(term), None, "{term:?}");
            assert_eq!(size(term), walk_size(term, &mut |_| {}));
        }
    }

    #[test]
    fn immediates_need_no_room() {
        for term in [Term::NIL, small(-3), Term::atom(9), Term::pid(4)] {
            assert_eq!(size(term), 0);
            assert_eq!(Message::new(term).move_into(&mut Heap::with_young_words(0)), term);
        }
    }
}
