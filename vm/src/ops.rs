//! The form the interpreter runs: each verified bytecode instruction
//! translated once, at load, into an [`Op`] whose operands are resolved.
//! Constants (atoms, small integers, `[]`, literals) become the term itself;
//! registers are packed with constants into one word ([`Operand`]); calls to
//! local functions carry their entry address; the operators with a
//! small-integer fast path get their own ops. An `Op` is small (32 bytes),
//! so code stays dense in the cache.

use std::cmp::Ordering;

use compiler::bytecode::{Instruction as I, Reg, Segment, Src};

use crate::module::{Import, LoadedModule, Operator};
use crate::term::Term;

/// A source operand in one word: a constant term (its low two bits are never
/// `00`, the header tag) or a register (`index << 3 | is_y << 2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operand(u64);

impl Operand {
    pub fn constant(term: Term) -> Operand {
        debug_assert!(term.raw() & 0b11 != 0, "a term is never header-tagged");
        Operand(term.raw())
    }

    pub fn register(reg: Reg) -> Operand {
        match reg {
            Reg::X(i) => Operand(u64::from(i) << 3),
            Reg::Y(i) => Operand((u64::from(i) << 3) | 0b100),
        }
    }

    /// The constant term, if this is one.
    #[inline(always)]
    pub fn as_constant(self) -> Option<Term> {
        // SAFETY: only `constant` makes words with non-zero low bits, from a term.
        (self.0 & 0b11 != 0).then(|| unsafe { Term::from_raw(self.0) })
    }

    /// For a register: `(index, is_y)`.
    #[inline(always)]
    pub fn as_register(self) -> (usize, bool) {
        ((self.0 >> 3) as usize, self.0 & 0b100 != 0)
    }
}

/// A destination register: `index << 1 | is_y`. (`live` counts are u16:
/// the verifier bounds them by the 1024 x registers.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dst(u32);

impl Dst {
    pub fn new(reg: Reg) -> Dst {
        match reg {
            Reg::X(i) => Dst(u32::from(i) << 1),
            Reg::Y(i) => Dst((u32::from(i) << 1) | 1),
        }
    }

    #[inline(always)]
    pub fn index(self) -> usize {
        (self.0 >> 1) as usize
    }

    #[inline(always)]
    pub fn is_y(self) -> bool {
        self.0 & 1 != 0
    }

    pub fn reg(self) -> Reg {
        if self.is_y() {
            Reg::Y(self.index() as u16)
        } else {
            Reg::X(self.index() as u16)
        }
    }
}

/// No fail label: the op raises instead of branching.
pub const NO_FAIL: u32 = u32::MAX;

/// A bit-syntax segment with its operands resolved.
#[derive(Debug, Clone, Copy)]
pub struct BsSegment {
    pub spec: Segment,
    pub value: Operand,
    pub size: Operand,
}

/// A type test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    Integer,
    Float,
    Number,
    Atom,
    List,
    Tuple,
    Binary,
    Function,
    Pid,
    Boolean,
    Map,
}

/// A comparison test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    ExactEq,
    ExactNe,
    Eq,
    Ne,
    Lt,
    Ge,
}

impl Compare {
    /// The orderings of two small integers this test accepts, as bits:
    /// 1 less, 2 equal, 4 greater (so the small-integer path of every
    /// comparison is one expression, with no branch on the test).
    pub fn mask(self) -> u8 {
        match self {
            Compare::ExactEq | Compare::Eq => 2,
            Compare::ExactNe | Compare::Ne => 1 | 4,
            Compare::Lt => 1,
            Compare::Ge => 2 | 4,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Op {
    FuncInfo,
    Allocate {
        slots: u32,
    },
    Deallocate,
    Return,
    Call {
        entry: u32,
        arity: u32,
    },
    CallLast {
        entry: u32,
        arity: u32,
    },
    CallOnly {
        entry: u32,
        arity: u32,
    },
    CallExt {
        import: u32,
        arity: u32,
    },
    CallExtLast {
        import: u32,
        arity: u32,
    },
    CallExtOnly {
        import: u32,
        arity: u32,
    },
    CallFun {
        arity: u32,
    },
    CallFunLast {
        arity: u32,
    },
    /// An operator on two operands with its small-integer fast path.
    Operator {
        operator: Operator,
        a: Operand,
        b: Operand,
        dst: Dst,
        import: u32,
        fail: u32,
        live: u16,
    },
    /// `To ! Message` (`erlang:send/2`), calling the built-in directly: it
    /// never collects, so no x register is parked around it.
    Send {
        to: Operand,
        message: Operand,
        dst: Dst,
        import: u32,
    },
    /// `element(N, T)` with the in-range case inline; anything else goes
    /// to the built-in, which raises (or fails the guard).
    Element {
        index: Operand,
        tuple: Operand,
        dst: Dst,
        import: u32,
        fail: u32,
    },
    Bif {
        import: u32,
        args: Box<[Operand]>,
        dst: Dst,
        live: u16,
        fail: u32,
    },
    // `Move`, by the kinds of its operands (the commonest op: no decoding).
    MoveXX {
        src: u32,
        dst: u32,
    },
    MoveXY {
        src: u32,
        dst: u32,
    },
    MoveYX {
        src: u32,
        dst: u32,
    },
    MoveYY {
        src: u32,
        dst: u32,
    },
    MoveCX {
        src: Term,
        dst: u32,
    },
    MoveCY {
        src: Term,
        dst: u32,
    },
    Jump {
        target: u32,
    },
    Test {
        test: TypeTest,
        src: Operand,
        fail: u32,
    },
    IsTupleOfArity {
        src: Operand,
        arity: u32,
        fail: u32,
    },
    Compare {
        compare: Compare,
        mask: u8,
        a: Operand,
        b: Operand,
        fail: u32,
    },
    /// `a =:= imm` (`equal`) or `a =/= imm` with an immediate known at load:
    /// a word comparison, whatever `a` is (no boxed term is exactly equal
    /// to an immediate).
    IsEqImm {
        a: Operand,
        imm: Term,
        equal: bool,
        fail: u32,
    },
    /// `a < imm` and `a >= imm` with a small integer known at load: a word
    /// comparison when `a` is small too (tagged small integers order as
    /// their values).
    LtImm {
        a: Operand,
        imm: Term,
        fail: u32,
    },
    GeImm {
        a: Operand,
        imm: Term,
        fail: u32,
    },
    /// Another comparison with a small integer known at load.
    CompareImm {
        compare: Compare,
        mask: u8,
        a: Operand,
        imm: Term,
        fail: u32,
    },
    /// `a + b` or `a - b` (or `b + a`) where `b` is a small integer known at load:
    /// `delta` is `b`'s tagged payload (negated for `-`), so for a small `a`
    /// the sum of words is the result with its tag, and it overflows
    /// exactly when the result leaves the small range. The import says
    /// which operator it is for the slow path.
    AddImm {
        src: Operand,
        delta: i64,
        dst: Dst,
        import: u32,
        fail: u32,
        live: u16,
    },
    GetList {
        src: Operand,
        head: Dst,
        tail: Dst,
    },
    GetTupleElement {
        src: Operand,
        index: u32,
        dst: Dst,
    },
    TestHeap {
        words: u32,
        live: u16,
    },
    PutList {
        head: Operand,
        tail: Operand,
        dst: Dst,
    },
    PutTuple {
        elements: Box<[Operand]>,
        dst: Dst,
    },
    MakeFun {
        lambda: u32,
        free: Box<[Operand]>,
        dst: Dst,
        live: u16,
    },
    Badmatch {
        src: Operand,
    },
    CaseEnd {
        src: Operand,
    },
    IfEnd,
    TryCaseEnd {
        src: Operand,
    },
    Try {
        handler: u32,
        slot: Dst,
        is_catch: bool,
    },
    TryEnd {
        slot: Dst,
    },
    TryCase {
        slot: Dst,
    },
    CatchEnd {
        slot: Dst,
    },
    Raise {
        class: Operand,
        reason: Operand,
        stacktrace: Operand,
    },
    SelectValue {
        src: Operand,
        fail: u32,
        cases: Box<[(Operand, u32)]>,
    },
    /// A `SelectValue` whose cases are all immediates (atoms, small
    /// integers): a binary search on the raw words, sorted at load.
    SelectImmediate {
        src: Operand,
        fail: u32,
        cases: Box<[(u64, u32)]>,
    },
    GetMapElement {
        src: Operand,
        key: Operand,
        dst: Dst,
        fail: u32,
    },
    PutMap {
        src: Operand,
        pairs: Box<[Operand]>,
        dst: Dst,
        live: u16,
        exact: bool,
    },
    BsCreate {
        segments: Box<[BsSegment]>,
        dst: Dst,
        live: u16,
    },
    BsGet {
        bin: Operand,
        offset: Dst,
        segment: Box<BsSegment>,
        dst: Dst,
        live: u16,
        fail: u32,
    },
    BsTestTail {
        bin: Operand,
        offset: Dst,
        fail: u32,
    },
    LoopRec {
        dst: Dst,
        fail: u32,
    },
    LoopRecEnd {
        target: u32,
    },
    RemoveMessage,
    Wait {
        target: u32,
    },
    WaitTimeout {
        target: u32,
        timeout: Operand,
    },
    Timeout,
    // Fused ops: each stands in for the instruction at its index and the
    // next one (or the one at a test's fail label), which stay in place for
    // jumps to them. One dispatch instead of two on the commonest pairs.
    /// `Deallocate`, then `Return`.
    DeallocateReturn,
    /// `Move src -> x0`, then `Return`.
    MoveReturn {
        src: Operand,
    },
    /// `Allocate`, then `Move src -> dst`.
    AllocateMove {
        slots: u32,
        src: Operand,
        dst: Dst,
    },
    /// `Allocate`, then `Move` of an x register into a y register (an
    /// argument kept across a call).
    AllocateMoveXY {
        slots: u32,
        src: u32,
        dst: u32,
    },
    /// `LtImm` of an x register, then `Return` when it holds (`f(N) when
    /// N < 2 -> N`).
    LtImmReturn {
        a: u32,
        imm: Term,
        fail: u32,
    },
    /// An `LtImmReturn` whose fail label starts with an `AllocateMoveXY`,
    /// done here: `f(N) when N < 2 -> N; f(N) -> ...` with `N` kept in the
    /// frame; the second clause goes on at `fail + 2`.
    LtImmReturnElseSave {
        a: u32,
        imm: Term,
        fail: u32,
        slots: u32,
        src: u32,
        dst: u32,
    },
    /// `Allocate`, then `GetList`.
    AllocateGetList {
        slots: u32,
        src: Operand,
        head: Dst,
        tail: Dst,
    },
    /// `TestHeap` of two words, then `PutList` into x0, then `Return` or
    /// `Deallocate; Return`: `[H | f(T)]` as a function's value.
    TestHeapPutListReturn {
        head: Operand,
        tail: Operand,
        live: u16,
        deallocate: bool,
    },
    /// `TestHeap` of two words, then `PutList`.
    TestHeapPutList {
        head: Operand,
        tail: Operand,
        dst: Dst,
        live: u16,
    },
    /// A comparison test, then `Return` when it holds (a guarded base case).
    CompareReturn {
        compare: Compare,
        mask: u8,
        a: Operand,
        b: Operand,
        fail: u32,
    },
    /// A `CompareImm`, then `Return` when it holds.
    CompareImmReturn {
        compare: Compare,
        mask: u8,
        a: Operand,
        imm: Term,
        fail: u32,
    },
    /// An `AddImm` (with no fail label) of a register (`src`) into an x
    /// register, then the local `Call` at the next index, whose entry and
    /// arity are copied here: `f(N - 1)`.
    AddImmCall {
        src: Dst,
        delta: i64,
        dst: u32,
        import: u32,
        live: u16,
        entry: u32,
        arity: u8,
    },
    /// `MoveXY`, then the `AddImmCall` at the next index (copied here; its
    /// slow path is taken there).
    MoveXYAddImmCall {
        from: u16,
        to: u16,
        src: Dst,
        delta: i64,
        dst: u16,
        arity: u8,
        entry: u32,
    },
    /// An `Operator`, then the local `Call` at the next index (whose operands
    /// the interpreter reads there): `f(N - 1)`.
    OperatorCall {
        operator: Operator,
        a: Operand,
        b: Operand,
        dst: Dst,
        import: u32,
        fail: u32,
        live: u16,
    },
    /// An `OperatorReturn` of `+` on a y register and an x register, with
    /// its `Deallocate`: `f(A) + g(B)` as a function's value (the first
    /// result kept in the frame, the second just returned).
    AddReturnYX {
        a: u32,
        b: u32,
        import: u32,
        fail: u32,
        live: u16,
    },
    /// An `Operator` into x0, then `Return` or `Deallocate; Return` at the
    /// next index (`deallocate`): `fib(N - 1) + fib(N - 2)` as a function's
    /// value.
    OperatorReturn {
        operator: Operator,
        a: Operand,
        b: Operand,
        deallocate: bool,
        import: u32,
        fail: u32,
        live: u16,
    },
    /// `IsNil` and `IsCons` of one register, one at the other's fail label:
    /// goes to `nil`, `cons`, or `other`.
    ListTest {
        src: Operand,
        nil: u32,
        cons: u32,
        other: u32,
    },
    /// A `ListTest` of an x register.
    ListTestX {
        src: u32,
        nil: u32,
        cons: u32,
        other: u32,
    },
    /// A `ListTestX` whose cons branch starts with an `AllocateGetListXYX`
    /// of the same register, done here: the cons clause of a function on
    /// a list goes on at `cons + 2` with its frame made and the list split.
    ListSplit {
        src: u32,
        nil: u32,
        other: u32,
        cons: u32,
        slots: u32,
        head: u32,
        tail: u32,
    },
    /// An `AllocateGetList` of an x register.
    AllocateGetListX {
        slots: u32,
        src: u32,
        head: Dst,
        tail: Dst,
    },
    /// An `AllocateGetList` of an x register, its head to a y register and
    /// its tail to an x register: the head kept, a call on the tail.
    AllocateGetListXYX {
        slots: u32,
        src: u32,
        head: u32,
        tail: u32,
    },
    /// A `TestHeapPutListReturn` of a y register and an x register, with
    /// its `Deallocate`: `[H | f(T)]` with `H` kept in the frame.
    TestHeapPutListReturnYX {
        head: u32,
        tail: u32,
        live: u16,
    },
    // The commonest type tests, without a dispatch on the test.
    IsNil {
        src: Operand,
        fail: u32,
    },
    IsCons {
        src: Operand,
        fail: u32,
    },
}

/// Built-ins that never allocate, so never collect: nothing needs parking
/// around them (`live` 0). Not the map built-ins: their errors
/// (`{badmap, M}`, `{badkey, K}`) are tuples made on the heap.
fn never_collects(module: &LoadedModule, index: u32) -> bool {
    let (m, f) = module.import_names[index as usize];
    crate::atom::name(m) == Some("erlang") && crate::atom::name(f).is_some_and(|f| NEVER_COLLECT.contains(&f))
}

/// The built-ins of [`never_collects`] (a test calls each on a full heap).
const NEVER_COLLECT: &[&str] =
    &["element", "hd", "tl", "tuple_size", "length", "byte_size", "bit_size", "size", "self", "node", "min", "max"];

/// Whether import `index` is `erlang:element/2`.
fn is_element(module: &LoadedModule, index: u32) -> bool {
    let (m, f) = module.import_names[index as usize];
    crate::atom::name(m) == Some("erlang") && crate::atom::name(f) == Some("element")
}

/// Whether import `index` is `erlang:send/2` or `erlang:'!'/2`.
fn is_send(module: &LoadedModule, index: u32) -> bool {
    let (m, f) = module.import_names[index as usize];
    crate::atom::name(m) == Some("erlang") && matches!(crate::atom::name(f), Some("send" | "!"))
}

/// The pairs of an exact map update (`M#{K := V, ...}`) in the order their
/// keys are looked for: when every key is a constant, in term order (as
/// erlc sorts them, so that of two missing keys the smaller is the
/// `badkey`); otherwise as written. The sort is stable: of two equal keys
/// the later value still wins.
fn exact_pairs_in_order(pairs: Box<[Operand]>) -> Box<[Operand]> {
    if pairs.chunks(2).any(|pair| pair[0].as_constant().is_none()) {
        return pairs;
    }
    let mut chunks: Vec<&[Operand]> = pairs.chunks(2).collect();
    chunks.sort_by(|a, b| {
        let (Some(x), Some(y)) = (a[0].as_constant(), b[0].as_constant()) else { return Ordering::Equal };
        crate::compare::compare_exact(x, y)
    });
    chunks.concat().into_boxed_slice()
}

/// Translates a module's instructions, resolving operands against the
/// loaded module's atoms, literals and function table.
pub fn translate(module: &LoadedModule, code: &[I]) -> Vec<Op> {
    let src = |s: &Src| -> Operand {
        match *s {
            Src::Reg(reg) => Operand::register(reg),
            Src::Atom(a) => Operand::constant(module.atoms[a as usize]),
            // The verifier checked the range.
            Src::Int(v) => Operand::constant(Term::small(v).unwrap_or(Term::NIL)),
            Src::Nil => Operand::constant(Term::NIL),
            Src::Literal(l) => Operand::constant(module.literals[l as usize]),
        }
    };
    let srcs = |list: &[Src]| -> Box<[Operand]> { list.iter().map(src).collect() };
    let entry = |function: u32| module.functions[function as usize].start + 1;
    let segment = |s: &Segment| BsSegment { spec: *s, value: src(&s.value), size: src(&s.size) };
    // What is typed at the shell stands for expressions erl evaluates, where
    // an operator is a call of its function: a `badarith` from `1 + a`
    // names `+` in its stack trace, as a call with variables does. So no
    // operator there takes the literal-operand form (which, as compiled erl
    // code, leaves the operator out).
    let evaluated = crate::atom::name(module.name).is_some_and(compiler::shell::is_evaluation_module);
    let mut ops: Vec<Op> = code
        .iter()
        .map(|instruction| match instruction {
            I::FuncInfo { .. } => Op::FuncInfo,
            I::Allocate { slots } => Op::Allocate { slots: *slots },
            I::Deallocate { .. } => Op::Deallocate,
            I::Return {} => Op::Return,
            I::Call { function, arity } => Op::Call { entry: entry(function.0), arity: *arity },
            I::CallLast { function, arity, .. } => Op::CallLast { entry: entry(function.0), arity: *arity },
            I::CallOnly { function, arity } => Op::CallOnly { entry: entry(function.0), arity: *arity },
            I::CallExt { arity, import } => Op::CallExt { import: import.0, arity: *arity },
            I::CallExtLast { arity, import, .. } => Op::CallExtLast { import: import.0, arity: *arity },
            I::CallExtOnly { arity, import } => Op::CallExtOnly { import: import.0, arity: *arity },
            I::CallFun { arity } => Op::CallFun { arity: *arity },
            I::CallFunLast { arity, .. } => Op::CallFunLast { arity: *arity },
            I::Bif { import, args, dst, live } | I::GuardBif { import, args, dst, live, .. } => {
                let fail = match instruction {
                    I::GuardBif { fail, .. } => fail.0,
                    _ => NO_FAIL,
                };
                match (module.imports[import.0 as usize], &args[..]) {
                    (Import::Operator(operator @ (Operator::Add | Operator::Subtract), _), [a, b])
                        if !evaluated && small_delta(operator, src(b)).is_some() =>
                    {
                        Op::AddImm {
                            src: src(a),
                            delta: small_delta(operator, src(b)).unwrap_or(0),
                            dst: Dst::new(*dst),
                            import: import.0,
                            fail,
                            live: *live as u16,
                        }
                    }
                    // `1 + A` is `A + 1` (the slow path's result is the same).
                    (Import::Operator(Operator::Add, _), [a, b])
                        if !evaluated && small_delta(Operator::Add, src(a)).is_some() =>
                    {
                        Op::AddImm {
                            src: src(b),
                            delta: small_delta(Operator::Add, src(a)).unwrap_or(0),
                            dst: Dst::new(*dst),
                            import: import.0,
                            fail,
                            live: *live as u16,
                        }
                    }
                    (Import::Operator(operator, _), [a, b]) => Op::Operator {
                        operator,
                        a: src(a),
                        b: src(b),
                        dst: Dst::new(*dst),
                        import: import.0,
                        fail,
                        live: *live as u16,
                    },
                    (Import::Native(_), [to, message]) if fail == NO_FAIL && is_send(module, import.0) => {
                        Op::Send { to: src(to), message: src(message), dst: Dst::new(*dst), import: import.0 }
                    }
                    (Import::Native(_), [index, tuple]) if is_element(module, import.0) => Op::Element {
                        index: src(index),
                        tuple: src(tuple),
                        dst: Dst::new(*dst),
                        import: import.0,
                        fail,
                    },
                    (Import::Native(_), _) if never_collects(module, import.0) => {
                        Op::Bif { import: import.0, args: srcs(args), dst: Dst::new(*dst), live: 0, fail }
                    }
                    _ => Op::Bif { import: import.0, args: srcs(args), dst: Dst::new(*dst), live: *live as u16, fail },
                }
            }
            I::Move { src: s, dst } => move_op(src(s), *dst),
            I::Jump { target } => Op::Jump { target: target.0 },
            I::IsInteger { fail, src: s } => test(TypeTest::Integer, src(s), fail.0),
            I::IsFloat { fail, src: s } => test(TypeTest::Float, src(s), fail.0),
            I::IsNumber { fail, src: s } => test(TypeTest::Number, src(s), fail.0),
            I::IsAtom { fail, src: s } => test(TypeTest::Atom, src(s), fail.0),
            I::IsNil { fail, src: s } => Op::IsNil { src: src(s), fail: fail.0 },
            I::IsCons { fail, src: s } => Op::IsCons { src: src(s), fail: fail.0 },
            I::IsList { fail, src: s } => test(TypeTest::List, src(s), fail.0),
            I::IsTuple { fail, src: s } => test(TypeTest::Tuple, src(s), fail.0),
            I::IsBinary { fail, src: s } => test(TypeTest::Binary, src(s), fail.0),
            I::IsFunction { fail, src: s } => test(TypeTest::Function, src(s), fail.0),
            I::IsPid { fail, src: s } => test(TypeTest::Pid, src(s), fail.0),
            I::IsBoolean { fail, src: s } => test(TypeTest::Boolean, src(s), fail.0),
            I::IsMap { fail, src: s } => test(TypeTest::Map, src(s), fail.0),
            I::IsTupleOfArity { fail, src: s, arity } => {
                Op::IsTupleOfArity { src: src(s), arity: *arity, fail: fail.0 }
            }
            I::IsEqExact { fail, a, b } => compare(Compare::ExactEq, src(a), src(b), fail.0),
            I::IsNeExact { fail, a, b } => compare(Compare::ExactNe, src(a), src(b), fail.0),
            I::IsEq { fail, a, b } => compare(Compare::Eq, src(a), src(b), fail.0),
            I::IsNe { fail, a, b } => compare(Compare::Ne, src(a), src(b), fail.0),
            I::IsLt { fail, a, b } => compare(Compare::Lt, src(a), src(b), fail.0),
            I::IsGe { fail, a, b } => compare(Compare::Ge, src(a), src(b), fail.0),
            I::GetList { src: s, head, tail } => {
                Op::GetList { src: src(s), head: Dst::new(*head), tail: Dst::new(*tail) }
            }
            I::GetTupleElement { src: s, index, dst } => {
                Op::GetTupleElement { src: src(s), index: *index, dst: Dst::new(*dst) }
            }
            I::TestHeap { words, live } => Op::TestHeap { words: *words, live: *live as u16 },
            I::PutList { head, tail, dst } => Op::PutList { head: src(head), tail: src(tail), dst: Dst::new(*dst) },
            I::PutTuple { elements, dst } => Op::PutTuple { elements: srcs(elements), dst: Dst::new(*dst) },
            I::MakeFun { lambda, free, dst, live } => {
                Op::MakeFun { lambda: lambda.0, free: srcs(free), dst: Dst::new(*dst), live: *live as u16 }
            }
            I::Badmatch { src: s } => Op::Badmatch { src: src(s) },
            I::CaseEnd { src: s } => Op::CaseEnd { src: src(s) },
            I::IfEnd {} => Op::IfEnd,
            I::TryCaseEnd { src: s } => Op::TryCaseEnd { src: src(s) },
            I::Try { handler, slot } => Op::Try { handler: handler.0, slot: Dst::new(*slot), is_catch: false },
            I::Catch { handler, slot } => Op::Try { handler: handler.0, slot: Dst::new(*slot), is_catch: true },
            I::TryEnd { slot } => Op::TryEnd { slot: Dst::new(*slot) },
            I::TryCase { slot } => Op::TryCase { slot: Dst::new(*slot) },
            I::CatchEnd { slot } => Op::CatchEnd { slot: Dst::new(*slot) },
            I::Raise { class, reason, stacktrace } => {
                Op::Raise { class: src(class), reason: src(reason), stacktrace: src(stacktrace) }
            }
            I::SelectValue { src: s, fail, cases } => {
                let resolved: Vec<(Operand, u32)> = cases.iter().map(|(value, label)| (src(value), label.0)).collect();
                let immediates: Option<Vec<(u64, u32)>> = resolved
                    .iter()
                    .map(|(operand, label)| {
                        operand.as_constant().filter(|t| t.is_immediate()).map(|t| (t.raw(), *label))
                    })
                    .collect();
                match immediates {
                    Some(mut keys) => {
                        // The first case of a value wins, as a linear search would.
                        let mut seen = std::collections::HashSet::new();
                        keys.retain(|k| seen.insert(k.0));
                        keys.sort_by_key(|k| k.0);
                        Op::SelectImmediate { src: src(s), fail: fail.0, cases: keys.into_boxed_slice() }
                    }
                    None => Op::SelectValue { src: src(s), fail: fail.0, cases: resolved.into_boxed_slice() },
                }
            }
            I::GetMapElement { fail, src: s, key, dst } => {
                Op::GetMapElement { src: src(s), key: src(key), dst: Dst::new(*dst), fail: fail.0 }
            }
            I::PutMapAssoc { src: s, pairs, dst, live } => {
                Op::PutMap { src: src(s), pairs: srcs(pairs), dst: Dst::new(*dst), live: *live as u16, exact: false }
            }
            I::PutMapExact { src: s, pairs, dst, live } => Op::PutMap {
                src: src(s),
                pairs: exact_pairs_in_order(srcs(pairs)),
                dst: Dst::new(*dst),
                live: *live as u16,
                exact: true,
            },
            I::BsCreate { segments, dst, live } => Op::BsCreate {
                segments: segments.iter().map(segment).collect(),
                dst: Dst::new(*dst),
                live: *live as u16,
            },
            I::BsGet { fail, bin, offset, segment: s, dst, live } => Op::BsGet {
                bin: src(bin),
                offset: Dst::new(*offset),
                segment: Box::new(segment(s)),
                dst: Dst::new(*dst),
                live: *live as u16,
                fail: fail.0,
            },
            I::BsTestTail { fail, bin, offset } => {
                Op::BsTestTail { bin: src(bin), offset: Dst::new(*offset), fail: fail.0 }
            }
            I::LoopRec { fail, dst } => Op::LoopRec { dst: Dst::new(*dst), fail: fail.0 },
            I::LoopRecEnd { target } => Op::LoopRecEnd { target: target.0 },
            I::RemoveMessage {} => Op::RemoveMessage,
            I::Wait { target } => Op::Wait { target: target.0 },
            I::WaitTimeout { target, timeout } => Op::WaitTimeout { target: target.0, timeout: src(timeout) },
            I::Timeout {} => Op::Timeout,
        })
        .collect();
    fuse(module, code, &mut ops, src);
    // A move into the frame before `f(N - 2)` (a first call's result kept,
    // a second call made): fused after the calls were.
    for pc in 0..code.len().saturating_sub(1) {
        if let (
            I::Move { src: Src::Reg(Reg::X(from)), dst: Reg::Y(to) },
            &Op::AddImmCall { src, delta, dst, entry, arity, .. },
        ) = (&code[pc], &ops[pc + 1])
        {
            if let Ok(dst) = u16::try_from(dst) {
                ops[pc] = Op::MoveXYAddImmCall { from: *from, to: *to, src, delta, dst, arity, entry };
            }
        }
    }
    ops
}

/// Puts a fused op at the first instruction of each pair it stands for.
fn fuse(module: &LoadedModule, code: &[I], ops: &mut [Op], src: impl Fn(&Src) -> Operand) {
    for (pc, instruction) in code.iter().enumerate() {
        let next = code.get(pc + 1);
        let fused = match (&ops[pc], next) {
            (&Op::Compare { compare, mask, a, b, fail }, Some(I::Return {})) => {
                Some(Op::CompareReturn { compare, mask, a, b, fail })
            }
            (&Op::CompareImm { compare, mask, a, imm, fail }, Some(I::Return {})) => {
                Some(Op::CompareImmReturn { compare, mask, a, imm, fail })
            }
            (&Op::LtImm { a, imm, fail }, Some(I::Return {})) if a.as_constant().is_none() && !a.as_register().1 => {
                let a = a.as_register().0 as u32;
                match (code.get(fail as usize), code.get(fail as usize + 1)) {
                    (Some(&I::Allocate { slots }), Some(&I::Move { src: Src::Reg(Reg::X(src)), dst: Reg::Y(dst) })) => {
                        Some(Op::LtImmReturnElseSave { a, imm, fail, slots, src: u32::from(src), dst: u32::from(dst) })
                    }
                    _ => Some(Op::LtImmReturn { a, imm, fail }),
                }
            }
            (&Op::LtImm { a, imm, fail }, Some(I::Return {})) => {
                Some(Op::CompareImmReturn { compare: Compare::Lt, mask: Compare::Lt.mask(), a, imm, fail })
            }
            (&Op::GeImm { a, imm, fail }, Some(I::Return {})) => {
                Some(Op::CompareImmReturn { compare: Compare::Ge, mask: Compare::Ge.mask(), a, imm, fail })
            }
            (&Op::AddImm { src, delta, dst, import, fail: NO_FAIL, live }, Some(&I::Call { function, arity }))
                if arity <= u32::from(u8::MAX) && !dst.is_y() && src.as_constant().is_none() =>
            {
                let dst = dst.index() as u32;
                let src = match src.as_register() {
                    (i, true) => Dst::new(Reg::Y(i as u16)),
                    (i, false) => Dst::new(Reg::X(i as u16)),
                };
                let entry = module.functions[function.0 as usize].start + 1;
                Some(Op::AddImmCall { src, delta, dst, import, live, entry, arity: arity as u8 })
            }
            (&Op::Operator { operator, a, b, dst, import, fail, live }, Some(I::Call { .. })) => {
                Some(Op::OperatorCall { operator, a, b, dst, import, fail, live })
            }
            (&Op::Operator { operator, a, b, dst, import, fail, live }, Some(I::Return {} | I::Deallocate { .. }))
                if dst == Dst::new(Reg::X(0))
                    && (matches!(next, Some(I::Return {})) || matches!(code.get(pc + 2), Some(I::Return {}))) =>
            {
                let deallocate = matches!(next, Some(I::Deallocate { .. }));
                match (operator, a.as_register(), b.as_register()) {
                    (Operator::Add, (y, true), (x, false))
                        if deallocate && a.as_constant().is_none() && b.as_constant().is_none() =>
                    {
                        Some(Op::AddReturnYX { a: y as u32, b: x as u32, import, fail, live })
                    }
                    _ => Some(Op::OperatorReturn { operator, a, b, deallocate, import, fail, live }),
                }
            }
            _ => None,
        };
        if let Some(fused) = fused {
            ops[pc] = fused;
            continue;
        }
        let fused = match (instruction, next) {
            (I::Deallocate { .. }, Some(I::Return {})) => Op::DeallocateReturn,
            (I::Move { src: s, dst: Reg::X(0) }, Some(I::Return {})) => Op::MoveReturn { src: src(s) },
            (I::Allocate { slots }, Some(I::Move { src: Src::Reg(Reg::X(s)), dst: Reg::Y(d) })) => {
                Op::AllocateMoveXY { slots: *slots, src: u32::from(*s), dst: u32::from(*d) }
            }
            (I::Allocate { slots }, Some(I::Move { src: s, dst })) => {
                Op::AllocateMove { slots: *slots, src: src(s), dst: Dst::new(*dst) }
            }
            (
                I::Allocate { slots },
                Some(I::GetList { src: Src::Reg(Reg::X(x)), head: Reg::Y(head), tail: Reg::X(tail) }),
            ) => Op::AllocateGetListXYX {
                slots: *slots,
                src: u32::from(*x),
                head: u32::from(*head),
                tail: u32::from(*tail),
            },
            (I::Allocate { slots }, Some(I::GetList { src: Src::Reg(Reg::X(x)), head, tail })) => {
                Op::AllocateGetListX { slots: *slots, src: u32::from(*x), head: Dst::new(*head), tail: Dst::new(*tail) }
            }
            (I::Allocate { slots }, Some(I::GetList { src: s, head, tail })) => {
                Op::AllocateGetList { slots: *slots, src: src(s), head: Dst::new(*head), tail: Dst::new(*tail) }
            }
            (I::TestHeap { words: 2, live }, Some(I::PutList { head, tail, dst: Reg::X(0) }))
                if matches!(
                    (code.get(pc + 2), code.get(pc + 3)),
                    (Some(I::Return {}), _) | (Some(I::Deallocate { .. }), Some(I::Return {}))
                ) =>
            {
                let deallocate = matches!(code.get(pc + 2), Some(I::Deallocate { .. }));
                match (head, tail) {
                    (Src::Reg(Reg::Y(h)), Src::Reg(Reg::X(t))) if deallocate => {
                        Op::TestHeapPutListReturnYX { head: u32::from(*h), tail: u32::from(*t), live: *live as u16 }
                    }
                    _ => Op::TestHeapPutListReturn { head: src(head), tail: src(tail), live: *live as u16, deallocate },
                }
            }
            (I::TestHeap { words: 2, live }, Some(I::PutList { head, tail, dst })) => {
                Op::TestHeapPutList { head: src(head), tail: src(tail), dst: Dst::new(*dst), live: *live as u16 }
            }
            (I::IsNil { fail, src: a } | I::IsCons { fail, src: a }, _) => {
                let nil_first = matches!(instruction, I::IsNil { .. });
                let (then, other) = match code.get(fail.0 as usize) {
                    Some(I::IsCons { fail: other, src: b }) if nil_first && a == b => (fail.0 + 1, other.0),
                    Some(I::IsNil { fail: other, src: b }) if !nil_first && a == b => (fail.0 + 1, other.0),
                    _ => continue,
                };
                let here = pc as u32 + 1;
                let (nil, cons) = if nil_first { (here, then) } else { (then, here) };
                let split = match (code.get(cons as usize), code.get(cons as usize + 1)) {
                    (
                        Some(&I::Allocate { slots }),
                        Some(&I::GetList { src: list, head: Reg::Y(head), tail: Reg::X(tail) }),
                    ) if list == *a => Some((slots, head, tail)),
                    _ => None,
                };
                match (a, split) {
                    (Src::Reg(Reg::X(x)), Some((slots, head, tail))) => Op::ListSplit {
                        src: u32::from(*x),
                        nil,
                        other,
                        cons,
                        slots,
                        head: u32::from(head),
                        tail: u32::from(tail),
                    },
                    (Src::Reg(Reg::X(x)), None) => Op::ListTestX { src: u32::from(*x), nil, cons, other },
                    _ => Op::ListTest { src: src(a), nil, cons, other },
                }
            }
            _ => continue,
        };
        ops[pc] = fused;
    }
}

/// A `Move`, by the kinds of its operands.
fn move_op(src: Operand, dst: Reg) -> Op {
    match (src.as_constant(), src.as_register(), dst) {
        (Some(term), _, Reg::X(d)) => Op::MoveCX { src: term, dst: u32::from(d) },
        (Some(term), _, Reg::Y(d)) => Op::MoveCY { src: term, dst: u32::from(d) },
        (None, (s, false), Reg::X(d)) => Op::MoveXX { src: s as u32, dst: u32::from(d) },
        (None, (s, false), Reg::Y(d)) => Op::MoveXY { src: s as u32, dst: u32::from(d) },
        (None, (s, true), Reg::X(d)) => Op::MoveYX { src: s as u32, dst: u32::from(d) },
        (None, (s, true), Reg::Y(d)) => Op::MoveYY { src: s as u32, dst: u32::from(d) },
    }
}

fn test(test: TypeTest, src: Operand, fail: u32) -> Op {
    Op::Test { test, src, fail }
}

/// A comparison test, specialised when `b` is an immediate known at load.
fn compare(compare: Compare, a: Operand, b: Operand, fail: u32) -> Op {
    let mask = compare.mask();
    match (compare, b.as_constant()) {
        (Compare::ExactEq | Compare::ExactNe, Some(imm)) if imm.is_immediate() => {
            Op::IsEqImm { a, imm, equal: compare == Compare::ExactEq, fail }
        }
        (Compare::Lt, Some(imm)) if imm.is_small() => Op::LtImm { a, imm, fail },
        (Compare::Ge, Some(imm)) if imm.is_small() => Op::GeImm { a, imm, fail },
        (_, Some(imm)) if imm.is_small() => Op::CompareImm { compare, mask, a, imm, fail },
        _ => Op::Compare { compare, mask, a, b, fail },
    }
}

/// For `a + b` or `a - b` with a small integer `b` known at load, the word
/// to add to a small `a`'s word (see `Op::AddImm`).
fn small_delta(operator: Operator, b: Operand) -> Option<i64> {
    let b = b.as_constant().filter(|b| b.is_small())?.small_value();
    let b = if operator == Operator::Subtract { b.checked_neg()? } else { b };
    b.checked_mul(1 << 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each built-in run without parking registers, called with terms of
    /// every kind on a full heap, succeeds or fails without collecting.
    #[test]
    fn the_built_ins_that_skip_parking_never_collect() {
        let mut p = crate::process::Process::new(1);
        let samples = {
            let h = &mut p.heap;
            let pair = h.tuple(&[crate::atom::atoms::TRUE, Term::NIL]);
            let list = h.list(&[Term::small(1).unwrap_or(Term::NIL), pair]);
            let improper = h.cons(pair, pair);
            let float = h.float(1.5);
            vec![
                Term::NIL,
                crate::atom::atoms::TRUE,
                Term::small(2).unwrap_or(Term::NIL),
                Term::small(-1).unwrap_or(Term::NIL),
                pair,
                list,
                improper,
                float,
            ]
        };
        while p.heap.has_room(2) {
            p.heap.cons(Term::NIL, Term::NIL);
        }
        let collections = |p: &crate::process::Process| {
            let stats = p.heap.stats();
            (stats.minor_collections, stats.major_collections)
        };
        let before = collections(&p);
        for name in NEVER_COLLECT {
            for arity in 0..=2u32 {
                let Some(native) = crate::natives::lookup("erlang", name, arity) else { continue };
                let combinations: Vec<Vec<Term>> = match arity {
                    0 => vec![vec![]],
                    1 => samples.iter().map(|&a| vec![a]).collect(),
                    _ => samples.iter().flat_map(|&a| samples.iter().map(move |&b| vec![a, b])).collect(),
                };
                for mut args in combinations {
                    let _ = native(&mut p, &mut args);
                    assert_eq!(collections(&p), before, "erlang:{name}/{arity} collected");
                }
            }
        }
    }

    #[test]
    fn an_op_is_small() {
        assert!(std::mem::size_of::<Op>() <= 32, "Op is {} bytes", std::mem::size_of::<Op>());
        assert_eq!(std::mem::size_of::<Operand>(), 8);
    }

    #[test]
    fn operands_tell_constants_from_registers() {
        for term in [Term::NIL, Term::small(-5).unwrap(), Term::atom(3)] {
            assert_eq!(Operand::constant(term).as_constant(), Some(term));
        }
        let y = Operand::register(Reg::Y(7));
        assert_eq!((y.as_constant(), y.as_register()), (None, (7, true)));
        let x = Operand::register(Reg::X(1023));
        assert_eq!((x.as_constant(), x.as_register()), (None, (1023, false)));
    }
}
