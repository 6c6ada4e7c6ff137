//! The instruction set, declared once. From this table the macro derives the
//! `Instruction` enum, its encoder, decoder, disassembler and the operand half
//! of the verifier (control flow and frames are checked in `verify.rs`).
//! Changing an opcode's number, operands or meaning must bump
//! `format::FORMAT_VERSION`.
//!
//! Conventions: arguments are passed in `x0..x(arity-1)` and results returned
//! in `x0`; calls clobber every `x` register; `y` registers are slots of the
//! current frame. `live` operands say how many `x` registers hold live terms
//! where an instruction may collect garbage: they are the roots.

use std::fmt;

use super::format::{DecodeError, Reader, Writer};
use super::operand::{AtomIndex, Import, Label, Lambda, Local, Operand, Reg, Segment, Src};
use super::verify::Context;

macro_rules! instructions {
    ($($(#[doc = $doc:literal])* $opcode:literal $name:ident { $($field:ident : $type:ty),* $(,)? })*) => {
        /// One instruction of the register machine.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Instruction {
            $($(#[doc = $doc])* $name { $($field: $type),* },)*
        }

        impl Instruction {
            pub fn opcode(&self) -> u8 {
                match self {
                    $(Instruction::$name { .. } => $opcode,)*
                }
            }

            pub fn name(&self) -> &'static str {
                match self {
                    $(Instruction::$name { .. } => stringify!($name),)*
                }
            }

            pub fn encode(&self, out: &mut Writer) {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        out.byte($opcode);
                        $($field.encode(out);)*
                    })*
                }
            }

            pub fn decode(input: &mut Reader<'_>) -> Result<Instruction, DecodeError> {
                let opcode = input.byte()?;
                match opcode {
                    $($opcode => Ok(Instruction::$name { $($field: <$type as Operand>::decode(input)?),* }),)*
                    other => Err(input.error(format!("unknown opcode {other}"))),
                }
            }

            /// Checks every operand's indices against the module.
            pub fn verify_operands(&self, context: &mut Context<'_>) -> Result<(), String> {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        $($field.verify(context).map_err(|e| format!("operand `{}`: {e}", stringify!($field)))?;)*
                        Ok(())
                    })*
                }
            }

            /// Calls `f` with every label operand (every branch target).
            pub fn visit_labels(&mut self, f: &mut dyn FnMut(&mut Label)) {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        $($field.visit_labels(f);)*
                    })*
                }
            }

            /// Calls `f` with every source operand (every value read from
            /// a register or constant).
            pub fn visit_srcs(&mut self, f: &mut dyn FnMut(&mut Src)) {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        $($field.visit_srcs(f);)*
                    })*
                }
            }

            /// Calls `f` with every register operand that is not a source:
            /// the registers written (`BsGet` and `BsTestTail` also read
            /// their `offset`).
            pub fn visit_regs(&mut self, f: &mut dyn FnMut(&mut Reg)) {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        $($field.visit_regs(f);)*
                    })*
                }
            }

            /// The instruction's branch targets.
            pub fn labels(&self) -> Vec<Label> {
                let mut labels = Vec::new();
                self.clone().visit_labels(&mut |label| labels.push(*label));
                labels
            }

            pub fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Instruction::$name { $($field),* } => {
                        f.write_str(stringify!($name))?;
                        $(
                            write!(f, " {}=", stringify!($field))?;
                            $field.show(context, f)?;
                        )*
                        Ok(())
                    })*
                }
            }
        }
    };
}

impl Instruction {
    /// A type test or comparison: falls through, or branches to its label;
    /// reads its operands and writes nothing.
    pub fn is_test(&self) -> bool {
        use Instruction as I;
        matches!(
            self,
            I::IsInteger { .. }
                | I::IsFloat { .. }
                | I::IsNumber { .. }
                | I::IsAtom { .. }
                | I::IsNil { .. }
                | I::IsCons { .. }
                | I::IsList { .. }
                | I::IsTuple { .. }
                | I::IsTupleOfArity { .. }
                | I::IsBinary { .. }
                | I::IsFunction { .. }
                | I::IsPid { .. }
                | I::IsBoolean { .. }
                | I::IsMap { .. }
                | I::IsEqExact { .. }
                | I::IsNeExact { .. }
                | I::IsEq { .. }
                | I::IsNe { .. }
                | I::IsLt { .. }
                | I::IsGe { .. }
        )
    }

    /// Whether control can go on to the next instruction (branch targets
    /// aside): false after returns, tail calls, jumps, selects, waits and
    /// raises.
    pub fn falls_through(&self) -> bool {
        use Instruction as I;
        !matches!(
            self,
            I::FuncInfo { .. }
                | I::Return {}
                | I::CallLast { .. }
                | I::CallOnly { .. }
                | I::CallExtLast { .. }
                | I::CallExtOnly { .. }
                | I::CallFunLast { .. }
                | I::Jump { .. }
                | I::LoopRecEnd { .. }
                | I::Wait { .. }
                | I::SelectValue { .. }
                | I::Badmatch { .. }
                | I::CaseEnd { .. }
                | I::IfEnd {}
                | I::TryCaseEnd { .. }
                | I::Raise { .. }
        )
    }
}

instructions! {
    /// The head of function `name/arity` of this module: reaching it raises
    /// `function_clause` with the arguments in x0..x(arity-1).
    0 FuncInfo { name: AtomIndex, arity: u32 }
    /// frame := push(continuation, `slots` y registers all `[]`)
    1 Allocate { slots: u32 }
    /// pop the frame of `slots` y registers; continuation := the saved one
    2 Deallocate { slots: u32 }
    /// pc := continuation (the result is in x0)
    3 Return {}
    /// continuation := next; pc := entry(function)
    4 Call { arity: u32, function: Local }
    /// deallocate `slots`; pc := entry(function) (a tail call)
    5 CallLast { arity: u32, function: Local, slots: u32 }
    /// pc := entry(function) (a tail call from a function without a frame)
    6 CallOnly { arity: u32, function: Local }
    /// continuation := next; pc := the current version's entry of import
    7 CallExt { arity: u32, import: Import }
    /// deallocate `slots`; tail call of the import
    8 CallExtLast { arity: u32, import: Import, slots: u32 }
    /// tail call of the import without a frame
    9 CallExtOnly { arity: u32, import: Import }
    /// continuation := next; call the fun in x[arity] with x0..x(arity-1)
    10 CallFun { arity: u32 }
    /// deallocate `slots`; tail call of the fun in x[arity]
    11 CallFunLast { arity: u32, slots: u32 }
    /// dst := import(args...), a built-in function; raises on failure
    12 Bif { import: Import, args: Vec<Src>, dst: Reg, live: u32 }
    /// dst := import(args...) in a guard; pc := fail on failure
    13 GuardBif { fail: Label, import: Import, args: Vec<Src>, dst: Reg, live: u32 }
    /// dst := src
    14 Move { src: Src, dst: Reg }
    /// pc := target
    15 Jump { target: Label }
    /// unless is_integer(src): pc := fail
    16 IsInteger { fail: Label, src: Src }
    /// unless is_float(src): pc := fail
    17 IsFloat { fail: Label, src: Src }
    /// unless is_number(src): pc := fail
    18 IsNumber { fail: Label, src: Src }
    /// unless is_atom(src): pc := fail
    19 IsAtom { fail: Label, src: Src }
    /// unless src == []: pc := fail
    20 IsNil { fail: Label, src: Src }
    /// unless src is [_ | _]: pc := fail
    21 IsCons { fail: Label, src: Src }
    /// unless is_list(src): pc := fail
    22 IsList { fail: Label, src: Src }
    /// unless is_tuple(src): pc := fail
    23 IsTuple { fail: Label, src: Src }
    /// unless src is a tuple of `arity` elements: pc := fail
    24 IsTupleOfArity { fail: Label, src: Src, arity: u32 }
    /// unless is_binary(src): pc := fail
    25 IsBinary { fail: Label, src: Src }
    /// unless is_function(src): pc := fail
    26 IsFunction { fail: Label, src: Src }
    /// unless is_pid(src): pc := fail
    27 IsPid { fail: Label, src: Src }
    /// unless is_boolean(src): pc := fail
    28 IsBoolean { fail: Label, src: Src }
    /// unless a =:= b: pc := fail
    29 IsEqExact { fail: Label, a: Src, b: Src }
    /// unless a =/= b: pc := fail
    30 IsNeExact { fail: Label, a: Src, b: Src }
    /// unless a == b: pc := fail
    31 IsEq { fail: Label, a: Src, b: Src }
    /// unless a /= b: pc := fail
    32 IsNe { fail: Label, a: Src, b: Src }
    /// unless a < b: pc := fail
    33 IsLt { fail: Label, a: Src, b: Src }
    /// unless a >= b: pc := fail
    34 IsGe { fail: Label, a: Src, b: Src }
    /// head := hd(src); tail := tl(src) (src is known to be a cons)
    35 GetList { src: Src, head: Reg, tail: Reg }
    /// dst := element(index + 1, src) (src is known to be a big enough tuple)
    36 GetTupleElement { src: Src, index: u32, dst: Reg }
    /// make room for `words` heap words, collecting with x0..x(live-1) as roots
    37 TestHeap { words: u32, live: u32 }
    /// dst := [head | tail] (room made by TestHeap)
    38 PutList { head: Src, tail: Src, dst: Reg }
    /// dst := {elements...} (room made by TestHeap)
    39 PutTuple { elements: Vec<Src>, dst: Reg }
    /// dst := a fun of `lambda` closing over `free` (allocates, x0..x(live-1) live)
    40 MakeFun { lambda: Lambda, free: Vec<Src>, dst: Reg, live: u32 }
    /// raise error:{badmatch, src}
    41 Badmatch { src: Src }
    /// raise error:{case_clause, src}
    42 CaseEnd { src: Src }
    /// raise error:if_clause
    43 IfEnd {}
    /// raise error:{try_clause, src}
    44 TryCaseEnd { src: Src }
    /// slot := a catch tag for `handler`: an exception until TryEnd goes there
    45 Try { handler: Label, slot: Reg }
    /// slot := []; the try body finished normally
    46 TryEnd { slot: Reg }
    /// slot := []; x0, x1, x2 := class, reason, stacktrace of the exception caught
    47 TryCase { slot: Reg }
    /// slot := a catch tag for `handler` (for `catch Expr`)
    48 Catch { handler: Label, slot: Reg }
    /// slot := []; if an exception was caught, x0 := its `catch` value
    49 CatchEnd { slot: Reg }
    /// raise class:reason with stacktrace (re-raise from a handler)
    50 Raise { class: Src, reason: Src, stacktrace: Src }
    /// pc := the label paired with src's value, or fail
    51 SelectValue { src: Src, fail: Label, cases: Vec<(Src, Label)> }
    /// unless is_map(src): pc := fail
    52 IsMap { fail: Label, src: Src }
    /// dst := the value under `key` in the map src; pc := fail when src is
    /// not a map or has no such key
    53 GetMapElement { fail: Label, src: Src, key: Src, dst: Reg }
    /// dst := the map src with the pairs `[k0, v0, k1, v1, ...]` put in
    /// (`K => V`); raises {badmap, src} (allocates, x0..x(live-1) live)
    54 PutMapAssoc { src: Src, pairs: Vec<Src>, dst: Reg, live: u32 }
    /// dst := the map src with the values of existing keys replaced
    /// (`K := V`); raises {badmap, src} or {badkey, K}
    55 PutMapExact { src: Src, pairs: Vec<Src>, dst: Reg, live: u32 }
    /// dst := a binary of the segments, built from their values; raises
    /// badarg for a value that does not fit its segment (allocates)
    56 BsCreate { segments: Vec<Segment>, dst: Reg, live: u32 }
    /// Matches `segment` in the binary `bin` at byte `offset` (a small
    /// integer in a register): dst := the value, offset += its size; pc :=
    /// fail when the rest of the binary does not hold it (allocates)
    57 BsGet { fail: Label, bin: Src, offset: Reg, segment: Segment, dst: Reg, live: u32 }
    /// unless the binary `bin` ends at byte `offset`: pc := fail
    58 BsTestTail { fail: Label, bin: Src, offset: Reg }
    /// dst := the message at the receive position of the mailbox (after
    /// taking in the messages that arrived); pc := fail when there is none.
    /// Every x register is dead here (collects).
    59 LoopRec { fail: Label, dst: Reg }
    /// The message at the receive position did not match: step past it;
    /// pc := target (the `LoopRec`)
    60 LoopRecEnd { target: Label }
    /// Takes the message at the receive position out of the mailbox, resets
    /// the position to the oldest message and cancels the receive's timer
    61 RemoveMessage {}
    /// Suspends until a message arrives; then pc := target (the `LoopRec`)
    62 Wait { target: Label }
    /// As `Wait`, with a timeout in milliseconds (or `infinity`) started
    /// the first time; when it expires, goes on to the next instruction.
    /// Raises error:timeout_value for anything else
    63 WaitTimeout { target: Label, timeout: Src }
    /// The receive timed out: resets the receive position
    64 Timeout {}
}
