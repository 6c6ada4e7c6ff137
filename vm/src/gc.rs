//! The per-process generational copying collector (invariant 2 of DESIGN.md).
//!
//! Minor collection: a Cheney copy of what is live in the young heap. Objects
//! above the high-water mark (allocated since the last collection) go to a
//! fresh young block; objects below it (they survived one collection already)
//! are promoted to the old heap. The old heap is not traced: terms are
//! immutable, so no old object points to a young one.
//!
//! Major collection (full sweep): everything live, young and old, is copied
//! into one fresh young block and the old heap is released. It runs when the
//! old heap cannot take the next promotion, and on `garbage_collect()`.
//!
//! After either, the young block is resized so that the live data plus the
//! requested words fill about half of it: heaps grow with live data and
//! shrink again after it dies, so a loop that allocates gigabytes of garbage
//! runs in a small, steady heap.
//!
//! This module holds the unsafe pointer work of collection; every block is
//! commented with the invariant it relies on.

use crate::heap::release_refc;
use crate::heap::{new_block, next_size, Block, Heap, INITIAL_YOUNG_WORDS};
use crate::term::{Header, Kind, Term};

/// The smallest young heap after a collection. A new process starts with
/// [`INITIAL_YOUNG_WORDS`] so that an idle one stays small; one that
/// collects is active, and a heap of 2 KB (the BEAM starts every process
/// with 233 words) keeps it from collecting every few messages.
const ACTIVE_YOUNG_WORDS: usize = 256;

/// Collects enough to give `need` free words; returns the words copied.
pub(crate) fn collect(heap: &mut Heap, roots: &mut [&mut [Term]], need: usize) -> usize {
    // Promotion moves at most the words below the high-water mark.
    let promotable = heap.high_water;
    let old_full = heap.old_top > 0 && heap.old.len() - heap.old_top < promotable;
    if old_full {
        collect_major(heap, roots, need)
    } else {
        collect_minor(heap, roots, need)
    }
}

fn collect_minor(heap: &mut Heap, roots: &mut [&mut [Term]], need: usize) -> usize {
    if heap.old.len() - heap.old_top < heap.high_water {
        // The old heap is empty (a fresh process, or just after a major
        // collection): make one that can take this promotion and more.
        debug_assert_eq!(heap.old_top, 0);
        heap.old = new_block(next_size(2 * heap.high_water));
    }
    let young_base = heap.young.as_ptr() as usize;
    // Room for the worst case (everything above the high-water mark
    // survives), and at least the current size, so that a heap in a steady
    // state keeps its size and reuses its spare block.
    let mut to = take_block(heap, (heap.top - heap.high_water + need).max(heap.young.len()));
    let mut copier = Copier {
        from: [(young_base, young_base + heap.top * 8), (0, 0)],
        promote_below: young_base + heap.high_water * 8,
        young: Space::new(&mut to, 0),
        old: Space::new(&mut heap.old, heap.old_top),
        words_copied: 0,
        refc_moved: Vec::new(),
    };
    copier.run(roots);
    let (young_top, old_top, copied) = (copier.young.top, copier.old.top, copier.words_copied);
    sweep_off_heap(heap, &copier.from, copier.refc_moved);
    heap.old_top = old_top;
    install_young(heap, to, young_top, need, roots);
    heap.stats.minor_collections += 1;
    heap.stats.words_copied += copied as u64;
    copied
}

pub(crate) fn collect_major(heap: &mut Heap, roots: &mut [&mut [Term]], need: usize) -> usize {
    let young_base = heap.young.as_ptr() as usize;
    let old_base = heap.old.as_ptr() as usize;
    let mut to = take_block(heap, heap.top + heap.old_top + need);
    let mut no_old = new_block(0);
    let mut copier = Copier {
        from: [(young_base, young_base + heap.top * 8), (old_base, old_base + heap.old_top * 8)],
        promote_below: 0,
        young: Space::new(&mut to, 0),
        old: Space::new(&mut no_old, 0),
        words_copied: 0,
        refc_moved: Vec::new(),
    };
    copier.run(roots);
    let (young_top, copied) = (copier.young.top, copier.words_copied);
    sweep_off_heap(heap, &copier.from, copier.refc_moved);
    heap.old = new_block(0);
    heap.old_top = 0;
    install_young(heap, to, young_top, need, roots);
    heap.stats.major_collections += 1;
    heap.stats.words_copied += copied as u64;
    copied
}

/// Releases the shared bytes of every refc binary handle that died in the
/// collected spaces; the heap's list becomes the handles that were copied
/// (at their new addresses) plus those outside the collected spaces.
fn sweep_off_heap(heap: &mut Heap, from: &[(usize, usize); 2], moved: Vec<*mut u64>) {
    let mut kept = moved;
    for &object in &heap.off_heap {
        if !from.iter().any(|&range| in_range(object as usize, range)) {
            kept.push(object);
            continue;
        }
        // SAFETY: `object` is a handle in a from-space block, which is still
        // allocated; its first word is its header, or the forwarding pointer
        // left when it was copied.
        let header = Header::from_raw(unsafe { *object });
        if header.is_header() {
            // SAFETY: the handle is dead, so this heap's count is released once.
            unsafe { release_refc(object) };
        }
    }
    heap.off_heap = kept;
}

/// A block of at least `words` words: the spare if it is big enough and not
/// more than twice too big (no allocation, no page faults to take), else a
/// new one.
fn take_block(heap: &mut Heap, words: usize) -> Block {
    if heap.spare.len() >= words && heap.spare.len() <= 2 * words.max(INITIAL_YOUNG_WORDS) {
        std::mem::replace(&mut heap.spare, new_block(0))
    } else {
        new_block(words)
    }
}

/// Keeps a from-space block as the next collection's to-space.
fn keep_spare(heap: &mut Heap, block: Block) {
    heap.spare = block;
}

/// Makes `block` (holding `live` words of survivors) the young heap,
/// moved to the ideal size when it is smaller or more than twice as big.
fn install_young(heap: &mut Heap, block: Block, live: usize, need: usize, roots: &mut [&mut [Term]]) {
    // Every collection scans every root (a long mailbox, a deep stack) and
    // copies what lives: room for three times the survivors and four times
    // the roots past them keeps that work a fraction of the words allocated
    // between collections. (Sized only to hold the survivors with a little
    // room, a deep recursion building a list, nrev's, collected every few
    // hundred words: five times as often as now.) The young heap grows as
    // soon as it is smaller than that, and shrinks once more than twice too
    // big.
    let root_words: usize = roots.iter().map(|r| r.len()).sum();
    let mut ideal = next_size((4 * live + need + 4 * root_words).max(ACTIVE_YOUNG_WORDS));
    // Past the process memory cap, room for what is needed and a quarter
    // more, not the policy's multiples: the process is about to be killed
    // for its size (`Process::over_memory_limit`), and its last block must
    // not be what exhausts the machine.
    if ideal > crate::process::memory_cap_words() {
        ideal = next_size(live + need + live / 4).max(heap.young.len().min(ideal));
    }
    let from = std::mem::replace(&mut heap.young, block);
    keep_spare(heap, from);
    heap.top = live;
    heap.high_water = live;
    if heap.young.len() < ideal || heap.young.len() > 2 * ideal {
        resize_young(heap, ideal, roots);
    }
}

/// Moves the young heap into a block of `words` words, adjusting every
/// pointer into it (from the young heap itself and from the roots; the old
/// heap never points into the young one).
fn resize_young(heap: &mut Heap, words: usize, roots: &mut [&mut [Term]]) {
    debug_assert!(words >= heap.top);
    let mut block = new_block(words);
    block[..heap.top].copy_from_slice(&heap.young[..heap.top]);
    let from = heap.young.as_ptr() as usize;
    let range = (from, from + heap.top * 8);
    let delta = (block.as_ptr() as usize).wrapping_sub(from);
    let relocate = |word: &mut u64| {
        // SAFETY: every slot passed here holds a term (see `for_each_term_slot`).
        let term = unsafe { Term::from_raw(*word) };
        if (term.is_cons() || term.is_boxed()) && in_range(term.pointer() as usize, range) {
            *word = word.wrapping_add(delta as u64);
        }
    };
    let base = block.as_mut_ptr();
    let mut index = 0;
    while index < heap.top {
        // SAFETY: `index` walks object starts in the live part of `block`,
        // which is a copy of the young heap's well-formed objects.
        index = unsafe { for_each_term_slot(base, index, |slot| relocate(&mut *slot)) };
    }
    for root in roots.iter_mut().flat_map(|r| r.iter_mut()) {
        // SAFETY: `Term` is `repr(transparent)` over `u64`.
        relocate(unsafe { &mut *(root as *mut Term).cast::<u64>() });
    }
    for object in &mut heap.off_heap {
        if in_range(*object as usize, range) {
            *object = (*object as usize).wrapping_add(delta) as *mut u64;
        }
    }
    let from = std::mem::replace(&mut heap.young, block);
    keep_spare(heap, from);
}

fn in_range(address: usize, (start, end): (usize, usize)) -> bool {
    address >= start && address < end
}

/// Calls `visit` with each word of the object starting at `base[index]` that
/// holds a term, and returns the index of the next object.
///
/// # Safety
/// `base[index]` must start a well-formed object (a header and its payload,
/// or a two-word cons cell) inside the block `base` points to.
#[inline(always)]
pub(crate) unsafe fn for_each_term_slot(base: *mut u64, index: usize, mut visit: impl FnMut(*mut u64)) -> usize {
    // SAFETY: the caller guarantees `base + index` starts an object in the block.
    let word = unsafe { *base.add(index) };
    let header = Header::from_raw(word);
    if !header.is_header() {
        // A cons cell: two terms, no header.
        // SAFETY: a cell is two words inside the block.
        unsafe {
            visit(base.add(index));
            visit(base.add(index + 1));
        }
        return index + 2;
    }
    let arity = header.arity();
    let terms = header.kind().map_or(0..0, |kind| kind.term_words(arity));
    for offset in terms {
        // SAFETY: payload words `1..=arity` follow the header inside the block.
        visit(unsafe { base.add(index + offset) });
    }
    index + 1 + arity
}

/// A to-space: a block and its allocation top.
struct Space {
    base: *mut u64,
    len: usize,
    top: usize,
}

impl Space {
    fn new(block: &mut Block, top: usize) -> Space {
        Space { base: block.as_mut_ptr(), len: block.len(), top }
    }

    fn allocate(&mut self, words: usize) -> *mut u64 {
        // The to-spaces are sized for the worst case (everything survives),
        // so running out is a collector bug.
        assert!(self.top + words <= self.len, "collector to-space overflow");
        // SAFETY: checked just above to be inside the block.
        let pointer = unsafe { self.base.add(self.top) };
        self.top += words;
        pointer
    }
}

struct Copier {
    /// Address ranges being evacuated: the young heap, and in a major
    /// collection the old heap too.
    from: [(usize, usize); 2],
    /// Objects below this address are promoted to `old` (0 in a major collection).
    promote_below: usize,
    young: Space,
    old: Space,
    words_copied: usize,
    /// The new addresses of the refc binary handles copied.
    refc_moved: Vec<*mut u64>,
}

impl Copier {
    fn run(&mut self, roots: &mut [&mut [Term]]) {
        // Scanning starts where copying starts: before the roots are evacuated,
        // since a root may itself be promoted into the old space.
        let (mut young_scan, mut old_scan) = (self.young.top, self.old.top);
        for root in roots.iter_mut().flat_map(|r| r.iter_mut()) {
            *root = self.evacuate(*root);
        }
        while young_scan < self.young.top || old_scan < self.old.top {
            while young_scan < self.young.top {
                let base = self.young.base;
                // SAFETY: `young_scan` walks object starts of what was copied into this space.
                young_scan = unsafe { for_each_term_slot(base, young_scan, |slot| self.evacuate_slot(slot)) };
            }
            while old_scan < self.old.top {
                let base = self.old.base;
                // SAFETY: as above, for the objects promoted into the old space.
                old_scan = unsafe { for_each_term_slot(base, old_scan, |slot| self.evacuate_slot(slot)) };
            }
        }
    }

    fn evacuate_slot(&mut self, slot: *mut u64) {
        // SAFETY: `for_each_term_slot` hands out only slots holding terms.
        unsafe { *slot = self.evacuate(Term::from_raw(*slot)).raw() };
    }

    /// The new location of `term`, copying its object on first sight.
    fn evacuate(&mut self, term: Term) -> Term {
        if !term.is_cons() && !term.is_boxed() {
            return term;
        }
        let pointer = term.pointer();
        let address = pointer as usize;
        if !self.from.iter().any(|&range| in_range(address, range)) {
            // Not in a space being collected: the old heap in a minor
            // collection, or a module's literals.
            return term;
        }
        let to_old = address < self.promote_below;
        let space = if to_old { &mut self.old } else { &mut self.young };
        if term.is_cons() {
            // SAFETY: a cons term in from-space points to a two-word cell.
            unsafe {
                if *pointer == Term::NONE.raw() {
                    // Already copied: the tail holds the forwarding pointer.
                    return Term::from_raw(*pointer.add(1));
                }
                let cell = space.allocate(2);
                std::ptr::copy_nonoverlapping(pointer, cell, 2);
                let moved = Term::from_cons_ptr(cell);
                *pointer = Term::NONE.raw();
                *pointer.add(1) = moved.raw();
                self.words_copied += 2;
                moved
            }
        } else {
            // SAFETY: a boxed term in from-space points to its object's header,
            // or to the forwarding pointer left when it was copied.
            unsafe {
                let header = Header::from_raw(*pointer);
                if !header.is_header() {
                    return Term::from_raw(header.raw());
                }
                let words = 1 + header.arity();
                let object = space.allocate(words);
                std::ptr::copy_nonoverlapping(pointer, object, words);
                let moved = Term::from_boxed_ptr(object);
                *pointer = moved.raw();
                self.words_copied += words;
                if header.kind() == Some(Kind::RefcBinary) {
                    self.refc_moved.push(object);
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use num_bigint::BigInt;

    use crate::heap::{binary_bytes, integer_value, Heap};
    use crate::term::Term;

    /// A term copied out of a heap, to compare before and after collections.
    #[derive(Debug, Clone, PartialEq)]
    enum Value {
        Int(BigInt),
        Float(u64),
        Atom(u32),
        Nil,
        Cons(Box<Value>, Box<Value>),
        Tuple(Vec<Value>),
        Binary(Vec<u8>),
    }

    fn value(term: Term) -> Value {
        if let Some(i) = integer_value(term) {
            Value::Int(i)
        } else if let Some(f) = term.float_value() {
            Value::Float(f.to_bits())
        } else if term.is_atom() {
            Value::Atom(term.atom_index())
        } else if term.is_nil() {
            Value::Nil
        } else if term.is_cons() {
            Value::Cons(Box::new(value(term.head())), Box::new(value(term.tail())))
        } else if let Some(items) = term.tuple_elements() {
            Value::Tuple(items.iter().map(|&t| value(t)).collect())
        } else if let Some(bytes) = binary_bytes(term) {
            Value::Binary(bytes.to_vec())
        } else {
            panic!("unexpected term {term:?}")
        }
    }

    fn small(i: i64) -> Term {
        Term::small(i).unwrap()
    }

    #[test]
    fn a_list_survives_collections_intact() {
        let mut heap = Heap::new();
        let mut roots = [Term::NIL];
        for i in 0..1000 {
            heap.ensure(2, &mut [&mut roots]);
            roots[0] = heap.cons(small(i), roots[0]);
        }
        heap.verify(&[&roots]).unwrap();
        assert!(heap.stats().minor_collections > 0);
        let mut cursor = roots[0];
        for i in (0..1000).rev() {
            assert_eq!(cursor.head(), small(i));
            cursor = cursor.tail();
        }
        assert!(cursor.is_nil());
    }

    #[test]
    fn sharing_is_preserved() {
        let mut heap = Heap::new();
        heap.ensure(7, &mut []);
        let shared = heap.list(&[small(1), small(2)]);
        let mut roots = [heap.tuple(&[shared, shared])];
        heap.collect_all(&mut [&mut roots]);
        heap.verify(&[&roots]).unwrap();
        let elements = roots[0].tuple_elements().unwrap();
        assert_eq!(elements[0].raw(), elements[1].raw(), "one copy of a shared subterm");
    }

    #[test]
    fn survivors_are_promoted_then_swept() {
        let mut heap = Heap::new();
        heap.ensure(3, &mut []);
        let mut roots = [heap.tuple(&[small(1), small(2)])];
        // First collection: the tuple survives into the young heap ...
        heap.ensure(heap.young_words() + 1, &mut [&mut roots]);
        assert_eq!(heap.old_top, 0);
        // ... the second promotes it.
        heap.ensure(heap.young_words() + 1, &mut [&mut roots]);
        assert_eq!(heap.old_top, 3);
        heap.verify(&[&roots]).unwrap();
        heap.collect_all(&mut [&mut roots]);
        assert_eq!((heap.old_top, heap.stats().major_collections), (0, 1));
        assert_eq!(value(roots[0]), Value::Tuple(vec![Value::Int(1.into()), Value::Int(2.into())]));
    }

    #[test]
    fn refc_binaries_live_while_referenced_and_are_released_when_dead() {
        let bytes = crate::heap::SharedBytes::new((0..200u8).collect::<Vec<u8>>());
        let mut heap = Heap::new();
        let mut roots = [Term::NIL; 2];
        heap.ensure(2 + 2 * Heap::SUB_BINARY_WORDS, &mut [&mut roots]);
        let whole = heap.refc_binary(bytes.clone());
        let slice = heap.sub_binary(whole, 10, 100);
        roots[0] = heap.sub_binary(slice, 5, 3);
        assert_eq!(std::sync::Arc::strong_count(&bytes), 2);
        // Minor collections (survivors promoted), then a major one: the
        // slice of a slice keeps the shared bytes alive throughout.
        for _ in 0..3 {
            super::collect(&mut heap, &mut [&mut roots], 0);
            heap.verify(&[&roots]).unwrap();
        }
        heap.collect_all(&mut [&mut roots]);
        heap.verify(&[&roots]).unwrap();
        assert_eq!(binary_bytes(roots[0]), Some(&[15u8, 16, 17][..]));
        assert_eq!(std::sync::Arc::strong_count(&bytes), 2);
        assert_eq!(heap.off_heap.len(), 1);

        roots[0] = Term::NIL;
        super::collect(&mut heap, &mut [&mut roots], 0);
        heap.collect_all(&mut [&mut roots]);
        assert_eq!(std::sync::Arc::strong_count(&bytes), 1, "a dead handle releases its count");
        assert!(heap.off_heap.is_empty());

        heap.ensure(2, &mut [&mut roots]);
        let _held = heap.refc_binary(bytes.clone());
        drop(heap);
        assert_eq!(std::sync::Arc::strong_count(&bytes), 1, "dropping a heap releases its handles");
    }

    #[test]
    fn every_kind_of_object_keeps_its_value() {
        let mut heap = Heap::new();
        let big: BigInt = BigInt::from(2).pow(200) * -3 + 7;
        let words = Heap::words_for_integer(&big) + 2 + Heap::words_for_heap_binary(64) + 4;
        heap.ensure(words, &mut []);
        let elements = [heap.integer(&big), heap.float(-1.5), heap.heap_binary(&[7; 64])];
        let mut roots = [heap.tuple(&elements)];
        let before = value(roots[0]);
        for _ in 0..3 {
            heap.ensure(heap.young_words(), &mut [&mut roots]);
            heap.verify(&[&roots]).unwrap();
        }
        heap.collect_all(&mut [&mut roots]);
        heap.verify(&[&roots]).unwrap();
        assert_eq!(value(roots[0]), before);
    }

    #[test]
    fn a_garbage_heavy_loop_runs_in_a_small_heap() {
        let mut heap = Heap::new();
        let mut roots = [Term::NIL, Term::NIL];
        // Keep a 100-element live list; allocate 10 million words of garbage.
        for i in 0..100 {
            heap.ensure(2, &mut [&mut roots]);
            roots[0] = heap.cons(small(i), roots[0]);
        }
        let mut biggest = 0;
        for i in 0..5_000_000 {
            heap.ensure(2, &mut [&mut roots]);
            roots[1] = heap.cons(small(i), if i % 1000 == 0 { Term::NIL } else { roots[1] });
            biggest = biggest.max(heap.total_words());
        }
        heap.verify(&[&roots]).unwrap();
        assert!(biggest < 64 * 1024, "the heap grew to {biggest} words");
        assert_eq!(value(roots[0].head()), Value::Int(99.into()));
    }

    /// A tiny deterministic generator, so the test needs no extra crate.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn random_graphs_survive_random_collections() {
        for seed in 0..20 {
            let mut rng = Lcg(seed);
            let mut heap = Heap::new();
            let mut roots = vec![Term::NIL; 16];
            for step in 0..3_000 {
                let slot = rng.next(16) as usize;
                let reserve = 8 + Heap::words_for_heap_binary(40);
                heap.ensure(reserve, &mut [&mut roots]);
                // Read the operands only after `ensure`: a collection moves terms.
                let a = roots[rng.next(16) as usize];
                let b = roots[rng.next(16) as usize];
                roots[slot] = match rng.next(6) {
                    0 => heap.cons(a, b),
                    1 => heap.tuple(&[a, b, small(step)]),
                    2 => heap.float(step as f64),
                    3 => heap.integer(&(BigInt::from(step) << 70)),
                    4 => heap.heap_binary(&[step as u8; 40]),
                    _ => Term::NIL,
                };
                if rng.next(50) == 0 {
                    let before: Vec<Value> = roots.iter().map(|&t| value(t)).collect();
                    if rng.next(2) == 0 {
                        heap.collect_all(&mut [&mut roots]);
                    } else {
                        heap.ensure(heap.young_words(), &mut [&mut roots]);
                    }
                    heap.verify(&[&roots]).unwrap_or_else(|e| panic!("seed {seed} step {step}: {e}"));
                    let after: Vec<Value> = roots.iter().map(|&t| value(t)).collect();
                    assert_eq!(before, after, "seed {seed} step {step}");
                }
            }
        }
    }
}
