//! A process's heap: a young block that allocation bumps through, an old block
//! that survivors are promoted to, and the builders that make terms in them.
//!
//! Allocation never collects by itself: code that builds terms first calls
//! [`Heap::ensure`] with every word it will need and the roots that hold its
//! live terms, and only then builds, which cannot fail or move anything. The
//! collector is in `gc.rs`; the layout in `docs/design/terms-and-gc.md`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::ToPrimitive;

use crate::gc;
use crate::term::{Header, Kind, Term};

/// Binaries up to this many bytes live in the heap; larger ones are shared
/// off-heap by reference count (invariant 3 of DESIGN.md).
pub const HEAP_BINARY_LIMIT: usize = 64;

/// The young heap a new process starts with, in words. Small, because an idle
/// process must cost at most 1 KB all-in; the heap grows on demand.
pub const INITIAL_YOUNG_WORDS: usize = 32;

/// A block of heap words, 8-byte aligned (the pointer tags rely on it).
///
/// Blocks come from the system allocator, not the VM's global one: they are
/// large, short-lived (a collection frees the from-space) and of every size,
/// and the system allocator hands such blocks straight back to the OS when
/// they are freed, so a process whose garbage dies keeps a small RSS. With
/// mimalloc for these, a loop allocating 10 GB peaked near 47 MB of RSS;
/// with the system allocator, 16 MB. Small blocks (the heaps of most
/// processes, collected every few messages) come from the global allocator,
/// which is faster for them and gives nothing back anyway.
pub(crate) struct Block {
    words: NonNull<u64>,
    len: usize,
}

// SAFETY: a block owns its words exclusively, like a `Box<[u64]>`.
unsafe impl Send for Block {}
// SAFETY: shared access only reads.
unsafe impl Sync for Block {}

impl Block {
    fn layout(len: usize) -> Layout {
        Layout::array::<u64>(len).expect("a heap block of more than isize::MAX bytes")
    }
}

/// Blocks up to this many words come from the global allocator.
const SMALL_BLOCK_WORDS: usize = 4096;

pub(crate) fn new_block(words: usize) -> Block {
    if words == 0 {
        return Block { words: NonNull::dangling(), len: 0 };
    }
    let layout = Block::layout(words);
    // SAFETY: the layout has a non-zero size.
    let raw = unsafe {
        if words <= SMALL_BLOCK_WORDS {
            std::alloc::alloc_zeroed(layout)
        } else {
            System.alloc_zeroed(layout)
        }
    };
    let Some(words_ptr) = NonNull::new(raw.cast::<u64>()) else {
        std::alloc::handle_alloc_error(layout);
    };
    Block { words: words_ptr, len: words }
}

impl Drop for Block {
    fn drop(&mut self) {
        let (words, layout) = (self.words.as_ptr().cast::<u8>(), Block::layout(self.len));
        // SAFETY: allocated by `new_block` with this layout, by the allocator
        // its length chose, and freed once.
        unsafe {
            if self.len > SMALL_BLOCK_WORDS {
                System.dealloc(words, layout);
            } else if self.len > 0 {
                std::alloc::dealloc(words, layout);
            }
        }
    }
}

impl std::ops::Deref for Block {
    type Target = [u64];
    fn deref(&self) -> &[u64] {
        // SAFETY: `words` points to `len` initialised (zeroed at allocation) words.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Block {
    fn deref_mut(&mut self) -> &mut [u64] {
        // SAFETY: as for `deref`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_ptr(), self.len) }
    }
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Block({} words)", self.len)
    }
}

/// The heap size to use for at least `words` words: doubling while small,
/// then growing by a quarter, so that repeated growth stays cheap without
/// overshooting large heaps by much.
pub(crate) fn next_size(words: usize) -> usize {
    let mut size = INITIAL_YOUNG_WORDS;
    while size < words {
        size = if size < 1 << 20 { size * 2 } else { size + size / 4 };
    }
    size
}

/// Collection counters, for `process_info` and `erlang:statistics`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct HeapStats {
    pub minor_collections: u32,
    pub major_collections: u32,
    pub words_copied: u64,
}

#[derive(Debug)]
pub struct Heap {
    pub(crate) young: Block,
    /// The next free word of `young`.
    pub(crate) top: usize,
    /// Words of `young` below this survived the last collection; the next
    /// minor collection promotes them to `old`.
    pub(crate) high_water: usize,
    pub(crate) old: Block,
    pub(crate) old_top: usize,
    pub(crate) stats: HeapStats,
    /// Every refc binary handle in `young` or `old`: the heap owns one
    /// reference count of each, released when a collection finds the handle
    /// dead (`gc::sweep_off_heap`) or when the heap is dropped.
    pub(crate) off_heap: Vec<*mut u64>,
    /// The from-space of the last collection, kept for the next one's
    /// to-space when the sizes match (`gc::take_block`).
    pub(crate) spare: Block,
}

// SAFETY: the raw pointers in `off_heap` point into this heap's own blocks,
// which move with it; the shared bytes they lead to are behind `Arc`s.
unsafe impl Send for Heap {}

// SAFETY: a shared `&Heap` only reads (a module's literal heap is read by
// every process that runs the module); there is no interior mutability.
unsafe impl Sync for Heap {}

impl Drop for Heap {
    fn drop(&mut self) {
        for &object in &self.off_heap {
            // SAFETY: every listed handle is live in this heap's blocks and
            // holds one count, released exactly once here.
            unsafe { release_refc(object) };
        }
    }
}

/// The bytes of a refc binary, shared by every heap holding a handle on
/// them. Their total is `erlang:memory(binary)`.
#[derive(Debug)]
pub struct SharedBytes(Vec<u8>);

static BINARY_BYTES: AtomicUsize = AtomicUsize::new(0);

impl SharedBytes {
    pub fn new(bytes: Vec<u8>) -> Arc<SharedBytes> {
        BINARY_BYTES.fetch_add(bytes.len(), Ordering::Relaxed);
        Arc::new(SharedBytes(bytes))
    }
}

impl Drop for SharedBytes {
    fn drop(&mut self) {
        BINARY_BYTES.fetch_sub(self.0.len(), Ordering::Relaxed);
    }
}

/// Bytes of shared binaries alive in the VM.
pub fn binary_memory() -> usize {
    BINARY_BYTES.load(Ordering::Relaxed)
}

/// Releases the count a refc binary handle holds.
///
/// # Safety
/// `object` must point to a live refc binary handle whose count has not been
/// released yet.
pub(crate) unsafe fn release_refc(object: *mut u64) {
    // SAFETY: the handle's payload word is a pointer from `Arc::into_raw`
    // (caller's guarantee), and its count is released once.
    unsafe { drop(Arc::from_raw(*object.add(1) as *const SharedBytes)) };
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

impl Heap {
    pub fn new() -> Heap {
        Heap::with_young_words(INITIAL_YOUNG_WORDS)
    }

    pub fn with_young_words(words: usize) -> Heap {
        Heap {
            young: new_block(words),
            top: 0,
            high_water: 0,
            old: new_block(0),
            old_top: 0,
            stats: HeapStats::default(),
            off_heap: Vec::new(),
            spare: new_block(0),
        }
    }

    /// Makes room for `words` words, collecting if there is not enough.
    /// `roots` must hold every live term of this heap; they are updated in
    /// place. Returns the collector's work in words copied (0 when none ran),
    /// which the caller charges as reductions.
    pub fn ensure(&mut self, words: usize, roots: &mut [&mut [Term]]) -> usize {
        if cfg!(feature = "gc-stress") || self.young.len() - self.top < words {
            let work = gc::collect(self, roots, words);
            debug_assert!(
                self.young.len() - self.top >= words,
                "collection left {} free words of {} for {words}",
                self.young.len() - self.top,
                self.young.len()
            );
            work
        } else {
            0
        }
    }

    /// Collects now (`erlang:garbage_collect/0`): a major collection.
    pub fn collect_all(&mut self, roots: &mut [&mut [Term]]) -> usize {
        gc::collect_major(self, roots, 0)
    }

    pub fn stats(&self) -> HeapStats {
        self.stats
    }

    /// Words in use, young and old.
    pub fn used_words(&self) -> usize {
        self.top + self.old_top
    }

    /// The young heap's size in words (`process_info(_, heap_size)`).
    pub fn young_words(&self) -> usize {
        self.young.len()
    }

    /// Words held including the spare block kept for the next collection.
    pub fn held_words(&self) -> usize {
        self.young.len() + self.old.len() + self.spare.len()
    }

    /// Young and old heap sizes in words (`process_info(_, total_heap_size)`).
    pub fn total_words(&self) -> usize {
        self.young.len() + self.old.len()
    }

    /// Takes `words` words of the young heap. Panics (a VM bug, not a user
    /// error) if [`Heap::ensure`] did not make room first.
    fn allocate(&mut self, words: usize) -> *mut u64 {
        // A constant message: formatting `words` in would cost a store on
        // every allocation of the interpreter's fast paths.
        assert!(self.young.len() - self.top >= words, "heap allocation without ensure");
        // SAFETY: `top + words <= young.len()`, so the range is inside the block.
        let pointer = unsafe { self.young.as_mut_ptr().add(self.top) };
        self.top += words;
        pointer
    }

    /// `[head | tail]`. Needs 2 words.
    pub fn cons(&mut self, head: Term, tail: Term) -> Term {
        let cell = self.allocate(2);
        // SAFETY: `allocate` returned two words inside the young block.
        unsafe {
            *cell = head.raw();
            *cell.add(1) = tail.raw();
        }
        Term::from_cons_ptr(cell)
    }

    /// A proper list of `elements`. Needs `2 * elements.len()` words.
    pub fn list(&mut self, elements: &[Term]) -> Term {
        elements.iter().rev().fold(Term::NIL, |tail, &head| self.cons(head, tail))
    }

    /// `{elements...}`. Needs `1 + elements.len()` words.
    pub fn tuple(&mut self, elements: &[Term]) -> Term {
        let object = self.allocate(1 + elements.len());
        // SAFETY: `allocate` returned 1 + len words inside the young block.
        unsafe {
            *object = Header::new(Kind::Tuple, elements.len()).raw();
            for (i, element) in elements.iter().enumerate() {
                *object.add(1 + i) = element.raw();
            }
        }
        Term::from_boxed_ptr(object)
    }

    /// A map of `pairs`, which must be sorted by key in map-key order with
    /// no key twice. Needs `1 + 2 * pairs.len()` words.
    pub fn map(&mut self, pairs: &[(Term, Term)]) -> Term {
        let object = self.allocate(1 + 2 * pairs.len());
        // SAFETY: `allocate` returned 1 + 2 * len words inside the young block.
        unsafe {
            *object = Header::new(Kind::Map, 2 * pairs.len()).raw();
            for (i, (key, value)) in pairs.iter().enumerate() {
                *object.add(1 + 2 * i) = key.raw();
                *object.add(2 + 2 * i) = value.raw();
            }
        }
        Term::from_boxed_ptr(object)
    }

    /// A reference with this number. Needs 2 words.
    pub fn reference(&mut self, number: u64) -> Term {
        self.raw_object(Header::new(Kind::Reference, 1), &[number])
    }

    /// A tuple of `len` elements given by `element(i)`. Needs `1 + len` words.
    #[inline(always)]
    pub fn tuple_with(&mut self, len: usize, mut element: impl FnMut(usize) -> Term) -> Term {
        let object = self.allocate(1 + len);
        // SAFETY: `allocate` returned 1 + len words inside the young block.
        unsafe {
            *object = Header::new(Kind::Tuple, len).raw();
            for i in 0..len {
                *object.add(1 + i) = element(i).raw();
            }
        }
        Term::from_boxed_ptr(object)
    }

    /// A boxed float. Needs 2 words.
    pub fn float(&mut self, value: f64) -> Term {
        let object = self.allocate(2);
        // SAFETY: two words inside the young block.
        unsafe {
            *object = crate::term::FLOAT_HEADER;
            *object.add(1) = value.to_bits();
        }
        Term::from_boxed_ptr(object)
    }

    /// An object of `header` with the given payload words, copied as they are.
    pub(crate) fn raw_object(&mut self, header: Header, payload: &[u64]) -> Term {
        debug_assert_eq!(header.arity(), payload.len());
        let object = self.allocate(1 + payload.len());
        // SAFETY: 1 + len words inside the young block.
        unsafe {
            *object = header.raw();
            std::ptr::copy_nonoverlapping(payload.as_ptr(), object.add(1), payload.len());
        }
        Term::from_boxed_ptr(object)
    }

    /// Whether `words` words fit without collecting.
    pub fn has_room(&self, words: usize) -> bool {
        self.young.len() - self.top >= words
    }

    /// The words [`Heap::integer`] needs for `value`: 0 for a small integer.
    pub fn words_for_integer(value: &BigInt) -> usize {
        match value.to_i64().and_then(Term::small) {
            Some(_) => 0,
            None => 1 + value.magnitude().iter_u64_digits().len(),
        }
    }

    /// An integer: small when it fits, a bignum otherwise.
    pub fn integer(&mut self, value: &BigInt) -> Term {
        if let Some(small) = value.to_i64().and_then(Term::small) {
            return small;
        }
        // The limbs are written straight from the bignum's digits (no
        // vector in between: in bignum loops the copies cost as much as
        // the arithmetic).
        let limbs = value.magnitude().iter_u64_digits();
        let len = limbs.len();
        let kind = if value.sign() == Sign::Minus { Kind::NegativeBig } else { Kind::PositiveBig };
        let object = self.allocate(1 + len);
        // SAFETY: 1 + len words inside the young block; the iterator is
        // exact-sized, and `take` bounds the writes by `len` regardless.
        unsafe {
            *object = Header::new(kind, len).raw();
            for (i, limb) in limbs.take(len).enumerate() {
                *object.add(1 + i) = limb;
            }
        }
        Term::from_boxed_ptr(object)
    }

    /// The words [`Heap::heap_binary`] needs for `len` bytes.
    pub fn words_for_heap_binary(len: usize) -> usize {
        2 + len.div_ceil(8)
    }

    /// A binary of at most [`HEAP_BINARY_LIMIT`] bytes, in the heap.
    pub fn heap_binary(&mut self, bytes: &[u8]) -> Term {
        assert!(bytes.len() <= HEAP_BINARY_LIMIT, "a heap binary holds at most {HEAP_BINARY_LIMIT} bytes");
        let words = Heap::words_for_heap_binary(bytes.len());
        let object = self.allocate(words);
        // SAFETY: `words` words inside the young block; the byte copy stays
        // within the payload words after the length word.
        unsafe {
            *object = Header::new(Kind::HeapBinary, words - 1).raw();
            *object.add(1) = bytes.len() as u64;
            let data = object.add(2);
            std::ptr::write_bytes(data, 0, words - 2);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len());
        }
        Term::from_boxed_ptr(object)
    }

    /// The words [`Heap::binary`] needs for `len` bytes.
    pub fn words_for_binary(len: usize) -> usize {
        if len <= HEAP_BINARY_LIMIT {
            Heap::words_for_heap_binary(len)
        } else {
            2
        }
    }

    /// A binary: in the heap up to [`HEAP_BINARY_LIMIT`] bytes, shared
    /// off-heap beyond. Needs [`Heap::words_for_binary`] words.
    pub fn binary(&mut self, bytes: &[u8]) -> Term {
        if bytes.len() <= HEAP_BINARY_LIMIT {
            self.heap_binary(bytes)
        } else {
            self.refc_binary(SharedBytes::new(bytes.to_vec()))
        }
    }

    /// As [`Heap::binary`], taking the bytes without copying large ones.
    pub fn binary_from_vec(&mut self, bytes: Vec<u8>) -> Term {
        if bytes.len() <= HEAP_BINARY_LIMIT {
            self.heap_binary(&bytes)
        } else {
            self.refc_binary(SharedBytes::new(bytes))
        }
    }

    /// A handle on shared bytes. Needs 2 words.
    pub fn refc_binary(&mut self, bytes: Arc<SharedBytes>) -> Term {
        let object = self.allocate(2);
        // SAFETY: two words inside the young block. The handle takes over
        // the count `bytes` held; `off_heap` records it for release.
        unsafe {
            *object = Header::new(Kind::RefcBinary, 1).raw();
            *object.add(1) = Arc::into_raw(bytes) as u64;
        }
        self.off_heap.push(object);
        Term::from_boxed_ptr(object)
    }

    /// The words [`Heap::sub_binary`] needs.
    pub const SUB_BINARY_WORDS: usize = 4;

    /// `len` bytes of `binary` from `offset`, without copying them. Needs
    /// [`Heap::SUB_BINARY_WORDS`] words. `binary` must be a binary and the
    /// range inside it.
    pub fn sub_binary(&mut self, binary: Term, offset: usize, len: usize) -> Term {
        let (original, base) = match binary.header().kind() {
            Some(Kind::SubBinary) => {
                let payload = binary.payload();
                // SAFETY: a sub-binary's first payload word is its original binary.
                (unsafe { Term::from_raw(payload[0]) }, payload[1] as usize)
            }
            _ => (binary, 0),
        };
        debug_assert!(binary_bytes(binary).is_some_and(|b| offset + len <= b.len()));
        self.raw_object(Header::new(Kind::SubBinary, 3), &[original.raw(), (base + offset) as u64, len as u64])
    }

    /// Checks that every term reachable from `roots` is well formed and points
    /// into this heap's live words. Used by tests after every collection.
    pub fn verify(&self, roots: &[&[Term]]) -> Result<(), String> {
        let young = (self.young.as_ptr() as usize, self.top);
        let old = (self.old.as_ptr() as usize, self.old_top);
        let end_of_region = |address: usize| {
            [young, old]
                .into_iter()
                .find_map(|(base, words)| (address >= base && address < base + words * 8).then_some(base + words * 8))
        };
        let mut visited = HashSet::new();
        let mut pending: Vec<Term> = roots.iter().flat_map(|r| r.iter().copied()).collect();
        while let Some(term) = pending.pop() {
            if term.is_immediate() {
                if term.is_atom() && term.atom_index() as usize >= crate::atom::count() {
                    return Err(format!("atom index {} out of range", term.atom_index()));
                }
                continue;
            }
            if !term.is_cons() && !term.is_boxed() {
                return Err(format!("a header word {:#x} where a term should be", term.raw()));
            }
            let address = term.pointer() as usize;
            let Some(region_end) = end_of_region(address) else {
                return Err(format!("{:#x} points outside the heap's live words", term.raw()));
            };
            if !visited.insert(address) {
                continue;
            }
            if term.is_cons() {
                if address + 16 > region_end {
                    return Err(format!("cons cell at {address:#x} runs past the heap"));
                }
                pending.extend([term.head(), term.tail()]);
                continue;
            }
            let header = term.header();
            let Some(kind) = header.kind().filter(|_| header.is_header()) else {
                return Err(format!("bad header {:?} at {address:#x}", header));
            };
            if address + 8 * (1 + header.arity()) > region_end {
                return Err(format!("{kind:?} object at {address:#x} runs past the heap"));
            }
            let payload = term.payload();
            match kind {
                Kind::Tuple => pending.extend(term.tuple_elements().unwrap_or_default()),
                Kind::ExportFun => {
                    if header.arity() != 3 {
                        return Err("an external fun of other than three words".to_owned());
                    }
                    pending.extend(payload.iter().map(|&w| {
                        // SAFETY: an external fun's payload is three terms.
                        unsafe { Term::from_raw(w) }
                    }));
                }
                Kind::Map => {
                    let words = term.map_words().unwrap_or_default();
                    if words.len() % 2 != 0 {
                        return Err(format!("map of {} words", words.len()));
                    }
                    let keys: Vec<Term> = words.iter().step_by(2).copied().collect();
                    if keys.windows(2).any(|k| crate::compare::compare_exact(k[0], k[1]) != std::cmp::Ordering::Less) {
                        return Err("map keys out of order".to_owned());
                    }
                    pending.extend(words);
                }
                Kind::Fun => pending.extend(payload[1..].iter().map(|&w| {
                    // SAFETY: a fun's payload after its entry pointer is terms.
                    unsafe { Term::from_raw(w) }
                })),
                Kind::Float => {}
                Kind::PositiveBig | Kind::NegativeBig => {
                    if payload.is_empty() {
                        return Err("a bignum without limbs".to_owned());
                    }
                }
                Kind::HeapBinary => {
                    let len = payload.first().copied().unwrap_or(u64::MAX) as usize;
                    if len > HEAP_BINARY_LIMIT || Heap::words_for_heap_binary(len) != 1 + header.arity() {
                        return Err(format!("heap binary of {len} bytes with {} words", header.arity()));
                    }
                }
                Kind::Reference => {
                    if header.arity() != 1 {
                        return Err("a reference of other than one word".to_owned());
                    }
                }
                Kind::RefcBinary => {
                    if header.arity() != 1 || !self.off_heap.contains(&(address as *mut u64)) {
                        return Err(format!("refc binary handle at {address:#x} not in the off-heap list"));
                    }
                }
                Kind::SubBinary => {
                    // SAFETY: a sub-binary's first payload word is a term.
                    let original = unsafe { Term::from_raw(payload[0]) };
                    let whole = match original.is_boxed().then(|| original.header().kind()).flatten() {
                        Some(Kind::HeapBinary | Kind::RefcBinary) => binary_bytes(original).map_or(0, <[u8]>::len),
                        _ => return Err("a sub-binary of something other than a binary".to_owned()),
                    };
                    if payload[1] as usize + payload[2] as usize > whole {
                        return Err("a sub-binary past the end of its binary".to_owned());
                    }
                    pending.push(original);
                }
            }
        }
        Ok(())
    }
}

/// The value of an integer term, small or big; `None` for other terms.
pub fn integer_value(term: Term) -> Option<BigInt> {
    if term.is_small() {
        return Some(BigInt::from(term.small_value()));
    }
    if !term.is_boxed() {
        return None;
    }
    let sign = match term.header().kind()? {
        Kind::PositiveBig => Sign::Plus,
        Kind::NegativeBig => Sign::Minus,
        _ => return None,
    };
    Some(BigInt::from_biguint(sign, magnitude(term.payload())))
}

/// A bignum's magnitude from its 64-bit limbs, least significant first.
/// num-bigint takes 32-bit digits: on a little-endian machine the limbs'
/// memory already is those digits in order, so they are read in place
/// (building a vector of halves first cost a third of pidigits' time).
fn magnitude(limbs: &[u64]) -> BigUint {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: `limbs` is valid for `2 * len` u32 reads (the same bytes),
        // u32's alignment divides u64's, and the slice borrows `limbs`.
        let digits = unsafe { std::slice::from_raw_parts(limbs.as_ptr().cast::<u32>(), limbs.len() * 2) };
        BigUint::from_slice(digits)
    }
    #[cfg(not(target_endian = "little"))]
    {
        BigUint::new(limbs.iter().flat_map(|&limb| [limb as u32, (limb >> 32) as u32]).collect())
    }
}

/// The bytes of a binary (heap, refc or sub-binary); `None` for other terms.
/// Valid while `term` is: the slice points into the heap or into shared
/// bytes the term holds a reference to.
pub fn binary_bytes<'a>(term: Term) -> Option<&'a [u8]> {
    if !term.is_boxed() {
        return None;
    }
    let payload = term.payload();
    match term.header().kind()? {
        Kind::HeapBinary => {
            let len = payload[0] as usize;
            // SAFETY: the payload after the length word holds `len` bytes (checked at construction).
            Some(unsafe { std::slice::from_raw_parts(payload[1..].as_ptr().cast::<u8>(), len) })
        }
        Kind::RefcBinary => {
            // SAFETY: the payload is a pointer from `Arc::into_raw`, whose
            // count the live handle holds.
            let bytes = unsafe { &*(payload[0] as *const SharedBytes) };
            Some(&bytes.0)
        }
        Kind::SubBinary => {
            // SAFETY: a sub-binary's first payload word is its original binary.
            let original = binary_bytes(unsafe { Term::from_raw(payload[0]) })?;
            original.get(payload[1] as usize..payload[1] as usize + payload[2] as usize)
        }
        _ => None,
    }
}
