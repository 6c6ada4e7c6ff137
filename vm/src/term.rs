//! The term: one tagged 64-bit word, as on the BEAM. Immediates (small
//! integers, atoms, local pids, `[]`) are the word itself; lists and boxed
//! objects are pointers into the owning process's heap with a tag in the low
//! bits. The layout is in `docs/design/terms-and-gc.md`.
//!
//! Reading through a pointer term is sound only while the heap it points into
//! has not been collected since the term was read from a root: the collector
//! moves objects. The interpreter and the BIFs keep that discipline (they
//! reserve heap space before building anything), and the `gc-stress` feature
//! with the heap verifier is how tests catch a slip.

use std::fmt;

/// One Erlang term. `size_of::<Term>() == 8` is pinned by a test.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Term(u64);

const PRIMARY_MASK: u64 = 0b11;
const TAG_HEADER: u64 = 0b00;
const TAG_LIST: u64 = 0b01;
const TAG_BOXED: u64 = 0b10;
const IMMEDIATE_MASK: u64 = 0b1111;
const IMM_SMALL: u64 = 0b0011;
const IMM_ATOM: u64 = 0b0111;
const IMM_PID: u64 = 0b1011;
const IMM_SPECIAL: u64 = 0b1111;
const PAYLOAD_SHIFT: u32 = 4;
/// The special immediates (`IMM_SPECIAL`) are told apart by the two bits
/// above the tag: `[]` (0), the non-value (1) and ports (2, with the port
/// number above them).
const SPECIAL_MASK: u64 = 0b11_1111;
const SPECIAL_PORT: u64 = (2 << PAYLOAD_SHIFT) | IMM_SPECIAL;
const PORT_SHIFT: u32 = 6;

/// The largest and smallest integers held in a word; beyond them, bignums.
pub const MAX_SMALL: i64 = (1 << 59) - 1;
pub const MIN_SMALL: i64 = -(1 << 59);

impl Term {
    /// `[]`
    pub const NIL: Term = Term(IMM_SPECIAL);
    /// The non-value: "no term here". Never stored in a term; used for empty
    /// registers and as the collector's forwarding mark in cons cells.
    pub const NONE: Term = Term((1 << PAYLOAD_SHIFT) | IMM_SPECIAL);

    /// A small integer, or `None` when `value` needs a bignum.
    pub const fn small(value: i64) -> Option<Term> {
        if value >= MIN_SMALL && value <= MAX_SMALL {
            Some(Term(((value as u64) << PAYLOAD_SHIFT) | IMM_SMALL))
        } else {
            None
        }
    }

    pub const fn atom(index: u32) -> Term {
        Term(((index as u64) << PAYLOAD_SHIFT) | IMM_ATOM)
    }

    /// A local pid; `number` is the process number shown as `<0.number.0>`.
    pub const fn pid(number: u64) -> Term {
        Term((number << PAYLOAD_SHIFT) | IMM_PID)
    }

    /// A local port (a socket); `number` is shown as `#Port<0.number>`.
    pub const fn port(number: u64) -> Term {
        Term((number << PORT_SHIFT) | SPECIAL_PORT)
    }

    pub const fn raw(self) -> u64 {
        self.0
    }

    /// # Safety
    /// `raw` must be a word this module produced: an immediate, or a pointer
    /// term to a live object of a heap.
    pub const unsafe fn from_raw(raw: u64) -> Term {
        Term(raw)
    }

    pub const fn is_small(self) -> bool {
        self.0 & IMMEDIATE_MASK == IMM_SMALL
    }

    pub const fn is_atom(self) -> bool {
        self.0 & IMMEDIATE_MASK == IMM_ATOM
    }

    pub const fn is_pid(self) -> bool {
        self.0 & IMMEDIATE_MASK == IMM_PID
    }

    pub const fn is_port(self) -> bool {
        self.0 & SPECIAL_MASK == SPECIAL_PORT
    }

    pub const fn port_number(self) -> u64 {
        self.0 >> PORT_SHIFT
    }

    pub const fn is_nil(self) -> bool {
        self.0 == Term::NIL.0
    }

    pub const fn is_none(self) -> bool {
        self.0 == Term::NONE.0
    }

    /// A non-empty list: a pointer to a cons cell.
    pub const fn is_cons(self) -> bool {
        self.0 & PRIMARY_MASK == TAG_LIST
    }

    /// A pointer to an object with a header.
    pub const fn is_boxed(self) -> bool {
        self.0 & PRIMARY_MASK == TAG_BOXED
    }

    /// A word that is not a term: header-tagged (low bits `00`), which no
    /// term held in a register or a stack slot is. The process stack keeps
    /// its frame words so (`process::Cp`); the collector passes over them.
    pub const fn frame_word(raw: u64) -> Term {
        Term(raw & !PRIMARY_MASK | TAG_HEADER)
    }

    /// Whether this word in a process stack is a frame word, not a term.
    pub const fn is_frame_word(self) -> bool {
        self.0 & PRIMARY_MASK == TAG_HEADER
    }

    pub const fn is_immediate(self) -> bool {
        self.0 & PRIMARY_MASK == 0b11
    }

    /// The value of a small integer. Meaningless for other terms.
    pub const fn small_value(self) -> i64 {
        (self.0 as i64) >> PAYLOAD_SHIFT
    }

    /// The atom table index of an atom. Meaningless for other terms.
    pub const fn atom_index(self) -> u32 {
        (self.0 >> PAYLOAD_SHIFT) as u32
    }

    pub const fn pid_number(self) -> u64 {
        self.0 >> PAYLOAD_SHIFT
    }

    pub(crate) fn from_cons_ptr(cell: *const u64) -> Term {
        debug_assert!(cell as u64 & 0b111 == 0, "heap words are 8-byte aligned");
        Term(cell as u64 | TAG_LIST)
    }

    pub(crate) fn from_boxed_ptr(object: *const u64) -> Term {
        debug_assert!(object as u64 & 0b111 == 0, "heap words are 8-byte aligned");
        Term(object as u64 | TAG_BOXED)
    }

    /// The address a list or boxed term points to.
    pub(crate) fn pointer(self) -> *mut u64 {
        (self.0 & !PRIMARY_MASK) as *mut u64
    }

    /// The head of a cons cell.
    pub fn head(self) -> Term {
        debug_assert!(self.is_cons());
        // SAFETY: a cons term points to a live two-word cell (module invariant).
        unsafe { Term(*self.pointer()) }
    }

    /// The tail of a cons cell.
    pub fn tail(self) -> Term {
        debug_assert!(self.is_cons());
        // SAFETY: as for `head`; the tail is the cell's second word.
        unsafe { Term(*self.pointer().add(1)) }
    }

    /// The header of a boxed object.
    pub fn header(self) -> Header {
        debug_assert!(self.is_boxed());
        // SAFETY: a boxed term points to a live object whose first word is its header.
        unsafe { Header(*self.pointer()) }
    }

    /// The words after a boxed object's header (`arity` of them).
    pub fn payload<'a>(self) -> &'a [u64] {
        let arity = self.header().arity();
        // SAFETY: the object is live and `arity` words follow its header.
        unsafe { std::slice::from_raw_parts(self.pointer().add(1), arity) }
    }

    /// The elements of a tuple, or `None` for any other term.
    pub fn tuple_elements<'a>(self) -> Option<&'a [Term]> {
        if !self.is_boxed() || self.header().kind() != Some(Kind::Tuple) {
            return None;
        }
        let words = self.payload();
        // SAFETY: `Term` is `repr(transparent)` over `u64`, and a tuple's words are terms.
        Some(unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<Term>(), words.len()) })
    }

    /// The words of a map, `[k0, v0, k1, v1, ...]` with the keys in order,
    /// or `None` for any other term.
    pub fn map_words<'a>(self) -> Option<&'a [Term]> {
        if !self.is_boxed() || self.header().kind() != Some(Kind::Map) {
            return None;
        }
        let words = self.payload();
        // SAFETY: `Term` is `repr(transparent)` over `u64`, and a map's words are terms.
        Some(unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<Term>(), words.len()) })
    }

    /// Whether this is a bignum (an integer too large to be small).
    pub fn is_bignum(self) -> bool {
        self.is_boxed() && matches!(self.header().kind(), Some(Kind::PositiveBig | Kind::NegativeBig))
    }

    /// Whether this is an integer, small or big.
    pub fn is_integer(self) -> bool {
        self.is_small() || self.is_bignum()
    }

    /// Whether this is a number: an integer or a float.
    pub fn is_number(self) -> bool {
        self.is_integer() || self.float_value().is_some()
    }

    /// The value of a boxed float, or `None` for any other term. A float's
    /// header is always the same word (`Heap::float` makes every one), so
    /// the test is one comparison: float arithmetic runs through here.
    #[inline(always)]
    pub fn float_value(self) -> Option<f64> {
        if !self.is_boxed() {
            return None;
        }
        // SAFETY: a boxed term points to a live object, its header first;
        // a float's one payload word follows it.
        unsafe {
            let object = self.pointer();
            (*object == FLOAT_HEADER).then(|| f64::from_bits(*object.add(1)))
        }
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_small() {
            write!(f, "{}", self.small_value())
        } else if self.is_atom() {
            write!(f, "{}", crate::atom::name(*self).unwrap_or("<bad atom>"))
        } else if self.is_nil() {
            f.write_str("[]")
        } else if self.is_none() {
            f.write_str("<none>")
        } else if self.is_pid() {
            write!(f, "<0.{}.0>", self.pid_number())
        } else if self.is_port() {
            write!(f, "#Port<0.{}>", self.port_number())
        } else if self.is_cons() {
            write!(f, "[{:?} | {:?}]", self.head(), self.tail())
        } else if let Some(elements) = self.tuple_elements() {
            f.debug_set().entries(elements).finish()
        } else if let Some(value) = self.float_value() {
            write!(f, "{value:?}")
        } else if self.is_boxed() {
            write!(f, "<{:?} object>", self.header().kind())
        } else {
            write!(f, "<header {:#x}>", self.0)
        }
    }
}

/// What a boxed object is, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// `arity` element terms.
    Tuple = 0,
    /// A bignum: `arity` 64-bit limbs, least significant first.
    PositiveBig = 1,
    NegativeBig = 2,
    /// One word: the `f64`'s bits.
    Float = 3,
    /// A closure: a raw pointer to its code entry, then the free variables.
    Fun = 4,
    /// Up to 64 bytes: the byte length, then the bytes packed in words.
    HeapBinary = 5,
    /// A binary of more than 64 bytes: one word, a pointer made by
    /// `Arc::into_raw` to the shared bytes (`Arc<heap::SharedBytes>`). The heap that
    /// holds the handle owns one count of the reference, released when a
    /// collection finds the handle dead (`Heap::off_heap`).
    RefcBinary = 7,
    /// A slice of a binary: the original (a heap or refc binary, never
    /// another slice), then the byte offset and the byte length.
    SubBinary = 8,
    /// A reference (`make_ref/0`): one word, its number, unique in the VM.
    Reference = 9,
    /// An external fun `fun M:F/A`: the module and function atoms and the
    /// arity (a small integer).
    ExportFun = 10,
    /// A map: `arity / 2` key-value pairs, keys sorted in map-key order
    /// (`compare::compare_exact`) and distinct.
    Map = 6,
}

impl Kind {
    fn from_bits(bits: u64) -> Option<Kind> {
        Some(match bits {
            0 => Kind::Tuple,
            1 => Kind::PositiveBig,
            2 => Kind::NegativeBig,
            3 => Kind::Float,
            4 => Kind::Fun,
            5 => Kind::HeapBinary,
            6 => Kind::Map,
            7 => Kind::RefcBinary,
            8 => Kind::SubBinary,
            9 => Kind::Reference,
            10 => Kind::ExportFun,
            _ => return None,
        })
    }

    /// Whether the payload words are terms the collector must trace.
    /// A fun's first payload word is a raw pointer and is skipped separately.
    pub fn payload_is_terms(self) -> bool {
        matches!(self, Kind::Tuple | Kind::Fun | Kind::Map | Kind::ExportFun)
    }

    /// Which payload words (counting the header as word 0) hold terms.
    pub fn term_words(self, arity: usize) -> std::ops::Range<usize> {
        match self {
            Kind::Tuple | Kind::Map | Kind::ExportFun => 1..arity + 1,
            // The first payload word of a fun is its code entry, not a term.
            Kind::Fun => 2..arity + 1,
            // The original binary; offset and length are raw.
            Kind::SubBinary => 1..2,
            _ => 0..0,
        }
    }
}

/// The header of every float: kind `Float`, one payload word.
pub const FLOAT_HEADER: u64 = (1 << 8) | ((Kind::Float as u64) << 2) | TAG_HEADER;

/// The first word of a boxed object: `arity << 8 | kind << 2 | 0b00`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Header(u64);

/// The most payload words one object may have (a tuple's maximum arity is 2^24 - 1 in OTP).
pub const MAX_ARITY: usize = (1 << 40) - 1;

impl Header {
    pub fn new(kind: Kind, arity: usize) -> Header {
        debug_assert!(arity <= MAX_ARITY);
        Header(((arity as u64) << 8) | ((kind as u64) << 2) | TAG_HEADER)
    }

    pub fn raw(self) -> u64 {
        self.0
    }

    pub fn from_raw(raw: u64) -> Header {
        Header(raw)
    }

    /// Whether this word is a header at all (and not, say, a forwarding pointer).
    pub fn is_header(self) -> bool {
        self.0 & PRIMARY_MASK == TAG_HEADER
    }

    pub fn kind(self) -> Option<Kind> {
        Kind::from_bits((self.0 >> 2) & 0x3f)
    }

    pub fn arity(self) -> usize {
        (self.0 >> 8) as usize
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Header({:?}, {})", self.kind(), self.arity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_float_header_is_the_one_heap_float_writes() {
        assert_eq!(FLOAT_HEADER, Header::new(Kind::Float, 1).raw());
    }

    #[test]
    fn a_term_is_one_word() {
        assert_eq!(std::mem::size_of::<Term>(), 8);
        assert_eq!(std::mem::size_of::<Option<Term>>(), 16, "no niche: every bit pattern is used");
    }

    #[test]
    fn small_integers_round_trip_at_the_edges() {
        for value in [0, 1, -1, 42, -42, MAX_SMALL, MIN_SMALL, MAX_SMALL - 1, MIN_SMALL + 1] {
            let term = Term::small(value).unwrap();
            assert!(term.is_small() && !term.is_atom() && !term.is_cons() && !term.is_boxed());
            assert_eq!(term.small_value(), value);
        }
        assert_eq!(Term::small(MAX_SMALL + 1), None);
        assert_eq!(Term::small(MIN_SMALL - 1), None);
    }

    #[test]
    fn immediates_are_distinct() {
        let atom = Term::atom(7);
        let pid = Term::pid(7);
        let small = Term::small(7).unwrap();
        assert!(atom.is_atom() && !atom.is_small() && !atom.is_pid());
        assert!(pid.is_pid() && !pid.is_atom());
        assert_eq!((atom.atom_index(), pid.pid_number(), small.small_value()), (7, 7, 7));
        assert!(Term::NIL.is_nil() && !Term::NIL.is_none() && Term::NONE.is_none());
        let port = Term::port(7);
        assert!(port.is_port() && !port.is_nil() && !port.is_none() && !port.is_pid() && port.port_number() == 7);
        assert!(!Term::NIL.is_port() && !Term::NONE.is_port() && !pid.is_port() && !small.is_port());
        assert_eq!(Term::port((1 << 57) - 1).port_number(), (1 << 57) - 1);
        for term in [atom, pid, small, port, Term::NIL, Term::NONE] {
            assert!(term.is_immediate());
        }
    }

    #[test]
    fn headers_round_trip() {
        let header = Header::new(Kind::Tuple, 3);
        assert!(header.is_header());
        assert_eq!((header.kind(), header.arity()), (Some(Kind::Tuple), 3));
        let big = Header::new(Kind::NegativeBig, MAX_ARITY);
        assert_eq!((big.kind(), big.arity()), (Some(Kind::NegativeBig), MAX_ARITY));
    }
}
