//! Optimisations of the generated code, one function at a time, after labels
//! are resolved. The generator keeps every variable in a frame slot (simple,
//! and obviously right); these passes take back what that costs on the paths
//! that run most:
//!
//! 1. **Copy propagation**: where a `y` slot is known to hold the same term
//!    as an `x` register (one was just moved into the other, and nothing
//!    since wrote either, called, or may have collected garbage), reads of
//!    the slot read the register, and moves that change nothing go.
//! 2. **Dead stores**: a move into a slot that no path reads again goes, and
//!    a slot written only to be moved into an `x` register by the very next
//!    instruction is replaced by that register.
//! 3. **Slots to registers**: a slot whose value never has to outlive a
//!    call, a wait, or a collection that cannot keep it becomes an `x`
//!    register (collections in between count it as `live`).
//! 4. **Frame sinking**: a function's `Allocate` (and the moves of its
//!    arguments into slots) moves off the entry to the first instruction of
//!    each path that needs a frame. A clause that only tests its arguments
//!    and returns (a recursion's base case) then runs with no frame at all.
//! 5. **Slot compaction**: the slots still used are renumbered from `y0`, so
//!    frames are as small as they can be.
//!
//! Every pass is conservative: an instruction it does not model ends every
//! fact, and a function whose shape the frame sinking does not recognise is
//! left with its frame where it was. The verifier checks the result like any
//! module (`tests` in this file run it on every program they compile).

use crate::bytecode::{Instruction as I, Label, Module, Reg, Src};

/// Optimises every function of `module` in place.
pub fn optimize(module: &mut Module) {
    let len = module.code.len();
    let mut starts: Vec<usize> = module.functions.iter().map(|f| f.start.0 as usize).collect();
    starts.push(len);
    let mut placed: Vec<Placed> = Vec::with_capacity(len);
    for window in starts.windows(2) {
        let (start, end) = (window[0], window[1]);
        let mut code: Vec<Option<I>> = module.code[start..end]
            .iter()
            .map(|instruction| {
                let mut instruction = instruction.clone();
                instruction.visit_labels(&mut |label| label.0 -= start as u32);
                Some(instruction)
            })
            .collect();
        propagate_copies(&mut code);
        remove_dead_stores(&mut code);
        rename_slots(&mut code);
        remove_jumps_to_next(&mut code);
        let mut function = sink_frame(&code).unwrap_or_else(|| {
            code.into_iter().map(|instruction| Placed { prologue: Vec::new(), instruction, frameless: false }).collect()
        });
        compact_slots(&mut function);
        placed.extend(function);
    }
    // New positions: each instruction's prologue, then the instruction.
    let mut entry = vec![0u32; len + 1];
    let mut at = vec![0u32; len + 1];
    let mut next = 0u32;
    for (pc, p) in placed.iter().enumerate() {
        entry[pc] = next;
        next += p.prologue.len() as u32;
        at[pc] = next;
        next += u32::from(p.instruction.is_some());
    }
    entry[len] = next;
    at[len] = next;
    let function_of = |pc: usize| starts.partition_point(|&s| s <= pc) - 1;
    let mut code = Vec::with_capacity(next as usize);
    for (pc, p) in placed.into_iter().enumerate() {
        let base = starts[function_of(pc)];
        // A jump from code without a frame enters through the prologue.
        let targets = if p.frameless { &entry } else { &at };
        let mut fix = |label: &mut Label| label.0 = targets[base + label.0 as usize];
        for mut instruction in p.prologue.into_iter().chain(p.instruction) {
            instruction.visit_labels(&mut fix);
            code.push(instruction);
        }
    }
    module.code = code;
    for function in &mut module.functions {
        function.start.0 = entry[function.start.0 as usize];
    }
    for line in &mut module.lines {
        line.0 = entry[line.0 as usize];
    }
    // A line mark on an instruction that went now marks the next one; of
    // two marks on one instruction the later holds (as `line_of` reads them).
    let lines = std::mem::take(&mut module.lines);
    for line in lines {
        match module.lines.last_mut() {
            Some(last) if last.0 == line.0 => *last = line,
            _ if line.0 >= next => {}
            _ => module.lines.push(line),
        }
    }
}

/// What becomes of one instruction of the generated code.
struct Placed {
    /// A frame to make first, when control arrives without one (the moved
    /// `Allocate` and argument moves).
    prologue: Vec<I>,
    /// The instruction, or `None` when it goes.
    instruction: Option<I>,
    /// Whether it runs without a frame: its jumps to an instruction with a
    /// prologue go through the prologue.
    frameless: bool,
}

/// Drops each `Jump` to where control would go anyway: the next
/// instruction that is still there (the generator ends every branch of a
/// `case` with a jump to its end, the last branch too). Runs before frame
/// sinking, which then sees the fall-through as it is.
fn remove_jumps_to_next(code: &mut [Option<I>]) {
    for pc in 0..code.len() {
        if let Some(I::Jump { target }) = code[pc] {
            let target = target.0 as usize;
            if target > pc && code[pc + 1..target].iter().all(Option::is_none) {
                code[pc] = None;
            }
        }
    }
}

/// The control-flow successors of `pc` (a removed instruction falls through).
fn successors(instruction: Option<&I>, pc: usize) -> Vec<usize> {
    match instruction {
        None => vec![pc + 1],
        Some(instruction) => {
            let mut next: Vec<usize> = instruction.labels().iter().map(|label| label.0 as usize).collect();
            if instruction.falls_through() {
                next.push(pc + 1);
            }
            next
        }
    }
}

/// The `y` slots an instruction reads.
fn slot_reads(instruction: &I) -> Vec<u16> {
    let mut reads = Vec::new();
    instruction.clone().visit_srcs(&mut |src| {
        if let Src::Reg(Reg::Y(y)) = *src {
            reads.push(y);
        }
    });
    // A binary match's offset is a register operand that is read too.
    if let I::BsGet { offset: Reg::Y(y), .. } | I::BsTestTail { offset: Reg::Y(y), .. } = instruction {
        reads.push(*y);
    }
    reads
}

/// The registers an instruction writes (its non-source register operands).
fn writes(instruction: &I) -> Vec<Reg> {
    let mut written = Vec::new();
    instruction.clone().visit_regs(&mut |reg| written.push(*reg));
    written
}

/// `(y, x)`: slot `y` and register `x` hold the same term.
type Copies = Vec<(u16, u16)>;

/// What an instruction does to the copies known before it (`valid`: the
/// registers holding terms of the process there; `room`: the heap words a
/// `TestHeap` reserved that are still unused).
fn copies_after(instruction: &I, mut copies: Copies, valid: u64, room: Option<u32>) -> Copies {
    let forget = |copies: &mut Copies, reg: Reg| match reg {
        Reg::X(x) => copies.retain(|&(_, cx)| cx != x),
        Reg::Y(y) => copies.retain(|&(cy, _)| cy != y),
    };
    match instruction {
        I::Move { src, dst } => {
            let known: Vec<u16> = match *src {
                Src::Reg(Reg::Y(y)) => vec![y],
                Src::Reg(Reg::X(x)) => {
                    let mut same: Vec<u16> = copies.iter().filter(|c| c.1 == x).map(|c| c.0).collect();
                    if let Reg::Y(y) = *dst {
                        same.push(y);
                    }
                    same
                }
                _ => Vec::new(),
            };
            forget(&mut copies, *dst);
            match (*src, *dst) {
                (Src::Reg(Reg::X(x)), Reg::Y(y)) => copies.push((y, x)),
                (_, Reg::X(x)) => copies.extend(known.into_iter().map(|y| (y, x))),
                _ => {}
            }
            copies.sort_unstable();
            copies.dedup();
        }
        // A collection keeps x0..x(live-1), raised to keep what it can; the
        // other registers are `[]` after it.
        &I::TestHeap { live, .. } | &I::Bif { live, .. } | &I::GuardBif { live, .. } => {
            let live = raised_live(live, &copies, valid);
            copies.retain(|c| u32::from(c.1) < live);
            for reg in writes(instruction) {
                forget(&mut copies, reg);
            }
        }
        other if keeps_registers(other, room) => {
            for reg in writes(other) {
                forget(&mut copies, reg);
            }
        }
        // Anything else may collect garbage (leaving registers beyond
        // `live` as `[]`), call, wait, catch, or change the frame: nothing
        // is known after it.
        _ => copies.clear(),
    }
    copies
}

/// Moves, reads and tests of registers: they never collect garbage, call,
/// wait, or touch the frame.
fn is_plain(instruction: &I) -> bool {
    instruction.is_test()
        || matches!(
            instruction,
            I::Move { .. }
                | I::GetList { .. }
                | I::GetTupleElement { .. }
                | I::GetMapElement { .. }
                | I::Jump { .. }
                | I::SelectValue { .. }
                | I::BsTestTail { .. }
        )
}

/// The heap words a `PutList` or `PutTuple` builds.
fn put_words(instruction: &I) -> Option<u32> {
    match instruction {
        I::PutList { .. } => Some(2),
        I::PutTuple { elements, .. } => Some(1 + elements.len() as u32),
        _ => None,
    }
}

/// Whether an instruction leaves every `x` register it does not write as
/// it was: the plain ones, the mailbox bookkeeping of a receive, and a
/// `PutList` or `PutTuple` within the room a `TestHeap` made (`room`), which
/// cannot collect.
fn keeps_registers(instruction: &I, room: Option<u32>) -> bool {
    is_plain(instruction)
        || matches!(instruction, I::RemoveMessage {} | I::Timeout {})
        || put_words(instruction).is_some_and(|words| room.is_some_and(|room| words <= room))
}

/// Whether an instruction reads all its sources before it can collect
/// garbage, so that a source may be an `x` register not counted as live.
/// A built-in's arguments are copied out and kept as roots while it runs;
/// `PutList` and `PutTuple` read theirs first and keep them as roots if
/// they must make room (the VM's interpreter does so; after a `TestHeap`
/// there is room, and copies known there were made after it). `MakeFun`,
/// `PutMap*` and the binary ops read their sources after making room.
fn reads_registers_first(instruction: &I) -> bool {
    is_plain(instruction)
        || matches!(
            instruction,
            I::Bif { .. }
                | I::GuardBif { .. }
                | I::PutList { .. }
                | I::PutTuple { .. }
                | I::Badmatch { .. }
                | I::CaseEnd { .. }
                | I::TryCaseEnd { .. }
        )
}

/// The registers `x0..x(n-1)`.
fn below(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

fn x_writes(instruction: &I) -> u64 {
    writes(instruction).iter().fold(0, |mask, reg| match reg {
        Reg::X(x) if *x < 64 => mask | 1 << x,
        _ => mask,
    })
}

/// The `live` a `TestHeap` or built-in call needs so that the copies known
/// before it survive a collection: raised past each copy's register when
/// every register up to it holds a term of the process (`valid`).
fn raised_live(live: u32, copies: &Copies, valid: u64) -> u32 {
    copies.iter().map(|c| u32::from(c.1) + 1).filter(|&n| below(n) & !valid == 0).fold(live, u32::max)
}

/// Pass 1: copy propagation (see the module comment); a `TestHeap` or
/// built-in counts as live the registers that copies read after it are in.
/// Instructions no path reaches go too.
fn propagate_copies(code: &mut [Option<I>]) {
    let arity = match code.first() {
        Some(Some(I::FuncInfo { arity, .. })) => *arity,
        _ => 0,
    };
    let room = rooms(code);
    let valid = x_validity(code, arity);
    let known = forward(
        code,
        Copies::new(),
        |pc, instruction, copies| copies_after(instruction, copies, valid[pc], room[pc]),
        |there, after| there.into_iter().filter(|c| after.contains(c)).collect(),
    );
    for (pc, slot) in code.iter_mut().enumerate() {
        let Some(copies) = &known[pc] else {
            *slot = None;
            continue;
        };
        let Some(instruction) = slot else { continue };
        if let I::TestHeap { live, .. } | I::Bif { live, .. } | I::GuardBif { live, .. } = instruction {
            *live = raised_live(*live, copies, valid[pc]);
        }
        if reads_registers_first(instruction) {
            instruction.visit_srcs(&mut |src| {
                if let Src::Reg(Reg::Y(y)) = *src {
                    if let Some(&(_, x)) = copies.iter().find(|c| c.0 == y) {
                        *src = Src::Reg(Reg::X(x));
                    }
                }
            });
        }
        let unchanged = match instruction {
            I::Move { src: Src::Reg(from), dst } => {
                *from == *dst || matches!((*from, *dst), (Reg::X(x), Reg::Y(y)) if copies.contains(&(y, x)))
            }
            _ => false,
        };
        if unchanged {
            *slot = None;
        }
    }
}

/// A set of `y` slots.
#[derive(Clone, PartialEq)]
struct Slots(Vec<u64>);

impl Slots {
    fn new(count: usize) -> Slots {
        Slots(vec![0; count.div_ceil(64)])
    }
    fn insert(&mut self, y: u16) {
        self.0[y as usize / 64] |= 1 << (y % 64);
    }
    fn remove(&mut self, y: u16) {
        self.0[y as usize / 64] &= !(1 << (y % 64));
    }
    fn contains(&self, y: u16) -> bool {
        self.0[y as usize / 64] & (1 << (y % 64)) != 0
    }
    fn union(&mut self, other: &Slots) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
}

/// Pass 2: removes moves into slots that no path reads before the slot is
/// written again or the frame goes, then writes a value straight into the
/// `x` register it is moved to next when its slot is read nowhere else.
/// A function with `try` or `catch` keeps its stores (a handler may read a
/// slot after an exception from anywhere in the body).
fn remove_dead_stores(code: &mut [Option<I>]) {
    let handles = code.iter().flatten().any(|i| matches!(i, I::Try { .. } | I::Catch { .. }));
    let slots = slot_count(code);
    if handles || slots == 0 {
        return;
    }
    let len = code.len();
    let (_, live_out) = slot_liveness(code, slots);
    for pc in 0..len {
        if let Some(I::Move { dst: Reg::Y(y), .. }) = &code[pc] {
            if !live_out[pc].contains(*y) {
                code[pc] = None;
            }
        }
    }
    // `I -> yN; Move yN -> xM` with yN dead after the move: `I -> xM`.
    let (_, live_out) = slot_liveness(code, slots);
    let mut targeted = vec![false; len + 1];
    for instruction in code.iter().flatten() {
        for label in instruction.labels() {
            targeted[label.0 as usize] = true;
        }
    }
    for pc in 1..len {
        let Some(I::Move { src: Src::Reg(Reg::Y(y)), dst: Reg::X(x) }) = code[pc] else { continue };
        if targeted[pc] || live_out[pc].contains(y) {
            continue;
        }
        let Some(previous) = &mut code[pc - 1] else { continue };
        let written = writes(previous);
        let retargetable =
            matches!(previous, I::GetList { .. } | I::GetTupleElement { .. } | I::Bif { .. } | I::Move { .. });
        if !retargetable
            || !written.contains(&Reg::Y(y))
            || written.contains(&Reg::X(x))
            || slot_reads(previous).contains(&y)
        {
            continue;
        }
        previous.visit_regs(&mut |reg| {
            if *reg == Reg::Y(y) {
                *reg = Reg::X(x);
            }
        });
        code[pc] = None;
    }
    // A slot written by one instruction and read only by the next one (or,
    // for a built-in's result, by none): a spare register instead.
    let spare = spare_register(code);
    let (_, live_out) = slot_liveness(code, slots);
    for pc in 0..len {
        let Some(instruction) = &code[pc] else { continue };
        let [Reg::Y(y)] = writes(instruction)[..] else { continue };
        if slot_reads(instruction).contains(&y) {
            continue;
        }
        let retarget = |instruction: &mut I| {
            instruction.visit_regs(&mut |reg| {
                if *reg == Reg::Y(y) {
                    *reg = Reg::X(spare);
                }
            })
        };
        if !live_out[pc].contains(y) {
            if let Some(result @ (I::Bif { .. } | I::GuardBif { .. })) = &mut code[pc] {
                retarget(result);
            }
            continue;
        }
        let writer =
            matches!(instruction, I::PutTuple { .. } | I::PutList { .. } | I::GetTupleElement { .. } | I::Bif { .. });
        let Some(Some(reader)) = code.get(pc + 1) else { continue };
        if !writer
            || targeted[pc + 1]
            || live_out[pc + 1].contains(y)
            || !reads_registers_first(reader)
            || writes(reader).contains(&Reg::Y(y))
        {
            continue;
        }
        if let Some(writer) = &mut code[pc] {
            retarget(writer);
        }
        if let Some(reader) = &mut code[pc + 1] {
            reader.visit_srcs(&mut |src| {
                if *src == Src::Reg(Reg::Y(y)) {
                    *src = Src::Reg(Reg::X(spare));
                }
            });
        }
    }
}

/// Pass 2b: a slot whose value never has to outlive a call, a wait, or a
/// collection that cannot keep it, becomes an `x` register of its own
/// (above every register the function names). Where a `TestHeap` or a
/// built-in may collect while such a register is live, its `live` is
/// raised past it, when every register below holds a term of the process;
/// a slot for which that fails stays a slot.
fn rename_slots(code: &mut [Option<I>]) {
    let slots = slot_count(code);
    if slots == 0 || code.iter().flatten().any(|i| matches!(i, I::Try { .. } | I::Catch { .. })) {
        return;
    }
    let len = code.len();
    let (_, live_out) = slot_liveness(code, slots);
    let room = rooms(code);
    let mut eligible = vec![true; slots];
    for pc in 0..len {
        let Some(instruction) = &code[pc] else { continue };
        let written: Vec<Reg> = writes(instruction);
        let reads = slot_reads(instruction);
        // A collection that can count the register as live keeps it too.
        let keeps = keeps_registers(instruction, room[pc])
            || matches!(instruction, I::TestHeap { .. } | I::Bif { .. } | I::GuardBif { .. });
        for (y, ok) in eligible.iter_mut().enumerate() {
            let y = y as u16;
            let across = live_out[pc].contains(y) && !written.contains(&Reg::Y(y));
            if (across && !keeps) || (reads.contains(&y) && !reads_registers_first(instruction)) {
                *ok = false;
            }
        }
        if let I::BsGet { offset: Reg::Y(y), .. } | I::BsTestTail { offset: Reg::Y(y), .. } = instruction {
            eligible[*y as usize] = false;
        }
    }
    let arity = match code.first() {
        Some(Some(I::FuncInfo { arity, .. })) => *arity,
        _ => return,
    };
    let base = u32::from(spare_register(code)).max(arity).min(64);
    // Only slots still named get a register: no unwritten gaps below them.
    let mut used = vec![false; slots];
    for instruction in code.iter().flatten() {
        for y in slot_reads(instruction) {
            used[y as usize] = true;
        }
        for reg in writes(instruction) {
            if let Reg::Y(y) = reg {
                used[y as usize] = true;
            }
        }
    }
    loop {
        let renamed: Vec<Option<u16>> = {
            let mut next = base;
            eligible
                .iter()
                .zip(&used)
                .map(|(&ok, &used)| {
                    (ok && used && next < 64).then(|| {
                        next += 1;
                        (next - 1) as u16
                    })
                })
                .collect()
        };
        if renamed.iter().all(Option::is_none) {
            return;
        }
        let mut candidate: Vec<Option<I>> = code.to_vec();
        for instruction in candidate.iter_mut().flatten() {
            instruction.visit_srcs(&mut |src| {
                if let Src::Reg(Reg::Y(y)) = *src {
                    if let Some(x) = renamed[y as usize] {
                        *src = Src::Reg(Reg::X(x));
                    }
                }
            });
            instruction.visit_regs(&mut |reg| {
                if let Reg::Y(y) = *reg {
                    if let Some(x) = renamed[y as usize] {
                        *reg = Reg::X(x);
                    }
                }
            });
        }
        // Where a collection may run, the renamed registers live after it
        // must be roots, and so must every register below them.
        let valid = x_validity(&candidate, arity);
        let mut refused = Vec::new();
        for pc in 0..len {
            let Some(instruction) = &mut candidate[pc] else { continue };
            let written = code[pc].as_ref().map_or_else(Vec::new, writes);
            let needed = (0..slots as u16)
                .filter(|&y| live_out[pc].contains(y) && !written.contains(&Reg::Y(y)))
                .filter_map(|y| renamed[y as usize].map(|x| (y, x)));
            let (I::TestHeap { live, .. } | I::Bif { live, .. } | I::GuardBif { live, .. }) = instruction else {
                continue;
            };
            for (y, x) in needed {
                let raised = (*live).max(u32::from(x) + 1);
                if below(raised) & !valid[pc] == 0 {
                    *live = raised;
                } else {
                    refused.push(y);
                }
            }
        }
        if refused.is_empty() {
            code.clone_from_slice(&candidate);
            return;
        }
        for y in refused {
            eligible[y as usize] = false;
        }
    }
}

/// The heap words a `TestHeap` reserved that are still unused before each
/// instruction (`None` where no path reaches).
fn rooms(code: &[Option<I>]) -> Vec<Option<u32>> {
    forward(
        code,
        0u32,
        |_, instruction, room| match instruction {
            &I::TestHeap { words, .. } => words,
            other if keeps_registers(other, Some(room)) => room - put_words(other).unwrap_or(0),
            _ => 0,
        },
        u32::min,
    )
}

/// The `x` registers (below 64) holding a term of this process before each
/// instruction: the arguments, then what the function wrote since its last
/// call or wait. (A collection leaves registers beyond `live` as `[]`.)
fn x_validity(code: &[Option<I>], arity: u32) -> Vec<u64> {
    forward(
        code,
        below(arity),
        |_, instruction, valid| match instruction {
            I::Call { .. } | I::CallExt { .. } | I::CallFun { .. } => 1,
            I::LoopRec { .. } | I::Wait { .. } | I::WaitTimeout { .. } | I::Try { .. } | I::Catch { .. } => {
                x_writes(instruction)
            }
            other => valid | x_writes(other),
        },
        |a, b| a & b,
    )
    .into_iter()
    .map(|v| v.unwrap_or(0))
    .collect()
}

/// A forward analysis from the entry (and the head) to a fixed point:
/// `step` gives the fact after the instruction at a pc, `meet` joins facts
/// where paths meet. `None` where no path reaches.
fn forward<T: Clone + PartialEq>(
    code: &[Option<I>],
    entry: T,
    step: impl Fn(usize, &I, T) -> T,
    meet: impl Fn(T, T) -> T,
) -> Vec<Option<T>> {
    let len = code.len();
    let mut known: Vec<Option<T>> = vec![None; len];
    let mut pending: Vec<usize> = Vec::new();
    for pc in [0, 1] {
        if pc < len {
            known[pc] = Some(entry.clone());
            pending.push(pc);
        }
    }
    while let Some(pc) = pending.pop() {
        let Some(before) = known[pc].clone() else { continue };
        let after = match &code[pc] {
            Some(instruction) => step(pc, instruction, before),
            None => before,
        };
        for next in successors(code[pc].as_ref(), pc) {
            if next >= len {
                continue;
            }
            let merged = match known[next].clone() {
                None => after.clone(),
                Some(there) => meet(there, after.clone()),
            };
            if known[next].as_ref() != Some(&merged) {
                known[next] = Some(merged);
                pending.push(next);
            }
        }
    }
    known
}

/// An `x` register above every one the function names, or its calls and
/// handlers use (arguments, a called fun, a caught exception's three).
fn spare_register(code: &[Option<I>]) -> u16 {
    let mut top = 0u32;
    for instruction in code.iter().flatten() {
        if let I::TryCase { .. } = instruction {
            top = top.max(3);
        }
        let mut instruction = instruction.clone();
        instruction.visit_srcs(&mut |src| {
            if let Src::Reg(Reg::X(x)) = src {
                top = top.max(u32::from(*x) + 1);
            }
        });
        instruction.visit_regs(&mut |reg| {
            if let Reg::X(x) = reg {
                top = top.max(u32::from(*x) + 1);
            }
        });
        match instruction {
            I::FuncInfo { arity, .. }
            | I::Call { arity, .. }
            | I::CallLast { arity, .. }
            | I::CallOnly { arity, .. }
            | I::CallExt { arity, .. }
            | I::CallExtLast { arity, .. }
            | I::CallExtOnly { arity, .. } => top = top.max(arity),
            // The fun called is in x[arity].
            I::CallFun { arity } | I::CallFunLast { arity, .. } => top = top.max(arity + 1),
            _ => {}
        }
    }
    top as u16
}

/// One more than the highest slot the code names.
fn slot_count(code: &[Option<I>]) -> usize {
    let mut slots = 0usize;
    for instruction in code.iter().flatten() {
        for y in slot_reads(instruction) {
            slots = slots.max(y as usize + 1);
        }
        for reg in writes(instruction) {
            if let Reg::Y(y) = reg {
                slots = slots.max(y as usize + 1);
            }
        }
    }
    slots
}

/// The slots live before and after each instruction (read on some path
/// before being written again).
fn slot_liveness(code: &[Option<I>], slots: usize) -> (Vec<Slots>, Vec<Slots>) {
    let len = code.len();
    let mut live_in = vec![Slots::new(slots); len + 1];
    let mut live_out = vec![Slots::new(slots); len];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..len).rev() {
            let mut out = Slots::new(slots);
            for next in successors(code[pc].as_ref(), pc) {
                if next < len {
                    out.union(&live_in[next]);
                }
            }
            let mut inn = out.clone();
            if let Some(instruction) = &code[pc] {
                if matches!(instruction, I::Allocate { .. } | I::Deallocate { .. }) {
                    inn = Slots::new(slots);
                } else {
                    for reg in writes(instruction) {
                        if let Reg::Y(y) = reg {
                            inn.remove(y);
                        }
                    }
                    for y in slot_reads(instruction) {
                        inn.insert(y);
                    }
                }
            }
            if inn != live_in[pc] {
                live_in[pc] = inn;
                changed = true;
            }
            live_out[pc] = out;
        }
    }
    (live_in, live_out)
}

/// How a path without a frame yet treats an instruction.
enum Frameless {
    /// Runs as it is.
    Keep,
    /// A `Deallocate` of the frame never made: goes.
    Drop,
    /// A tail call that deallocates: becomes the one without a frame.
    Tail(I),
    /// Needs the frame (or the argument registers the prologue reads).
    NeedsFrame,
}

/// `held`: the argument registers whose slots are still to be read.
fn frameless(instruction: &I, held: &[u16]) -> Frameless {
    match instruction {
        I::Deallocate { .. } => return Frameless::Drop,
        &I::CallLast { arity, function, .. } => return Frameless::Tail(I::CallOnly { arity, function }),
        &I::CallExtLast { arity, import, .. } => return Frameless::Tail(I::CallExtOnly { arity, import }),
        I::Return {} | I::FuncInfo { .. } | I::Jump { .. } => return Frameless::Keep,
        _ => {}
    }
    let no_slots = slot_reads(instruction).is_empty()
        && writes(instruction).iter().all(|reg| matches!(reg, Reg::X(x) if !held.contains(x)));
    // A collection keeps the argument registers the prologue still needs.
    let keeps_held = match instruction {
        I::TestHeap { live, .. } | I::Bif { live, .. } | I::GuardBif { live, .. } => {
            held.iter().all(|&x| u32::from(x) < *live)
        }
        _ => false,
    };
    if (is_plain(instruction) || keeps_held) && no_slots {
        Frameless::Keep
    } else {
        Frameless::NeedsFrame
    }
}

const BEFORE: u8 = 1;
const FRAMED: u8 = 2;
const AFTER: u8 = 4;

/// Pass 3: frame sinking (see the module comment). `None` when the function
/// does not start with its frame or a path mixes states in a way this pass
/// does not rewrite.
fn sink_frame(code: &[Option<I>]) -> Option<Vec<Placed>> {
    let len = code.len();
    // No slot left and nothing that needs a frame of its own (a call to
    // return to, a handler, a wait): no frame at all.
    let framed = |i: &I| {
        matches!(
            i,
            I::Call { .. }
                | I::CallExt { .. }
                | I::CallFun { .. }
                | I::CallFunLast { .. }
                | I::Try { .. }
                | I::Catch { .. }
                | I::TryEnd { .. }
                | I::TryCase { .. }
                | I::CatchEnd { .. }
                | I::LoopRec { .. }
                | I::Wait { .. }
                | I::WaitTimeout { .. }
        )
    };
    if slot_count(code) == 0 && !code.iter().flatten().any(framed) {
        let frameless = |instruction: &Option<I>| match instruction {
            Some(I::Allocate { .. } | I::Deallocate { .. }) => None,
            &Some(I::CallLast { arity, function, .. }) => Some(I::CallOnly { arity, function }),
            &Some(I::CallExtLast { arity, import, .. }) => Some(I::CallExtOnly { arity, import }),
            other => other.clone(),
        };
        return Some(
            code.iter().map(|i| Placed { prologue: Vec::new(), instruction: frameless(i), frameless: true }).collect(),
        );
    }
    let Some(Some(allocate @ I::Allocate { .. })) = code.get(1) else { return None };
    let mut prologue = vec![allocate.clone()];
    let mut body = 2;
    while body < len {
        match &code[body] {
            None => {}
            Some(moved @ I::Move { src: Src::Reg(Reg::X(_)), dst: Reg::Y(_) }) => prologue.push(moved.clone()),
            Some(_) => break,
        }
        body += 1;
    }
    // A prologue move matters only where its slot is live: an entry's
    // prologue makes just those, and a path may reuse the register of an
    // argument whose slot nothing reads after.
    let (live_in, _) = slot_liveness(code, slot_count(code).max(1));
    let arguments: Vec<(u16, u16)> = prologue
        .iter()
        .filter_map(|i| match i {
            I::Move { src: Src::Reg(Reg::X(x)), dst: Reg::Y(y) } => Some((*x, *y)),
            _ => None,
        })
        .collect();
    let held = |pc: usize| -> Vec<u16> {
        arguments.iter().filter(|&&(_, y)| live_in[pc].contains(y)).map(|&(x, _)| x).collect()
    };
    let prologue_at = |pc: usize| -> Vec<I> {
        prologue
            .iter()
            .filter(|i| match i {
                I::Move { dst: Reg::Y(y), .. } => live_in[pc].contains(*y),
                _ => true,
            })
            .cloned()
            .collect()
    };
    let mut targeted = vec![false; len + 1];
    for instruction in code.iter().flatten() {
        if matches!(instruction, I::Allocate { .. }) && !std::ptr::eq(instruction, allocate) {
            return None;
        }
        for label in instruction.labels() {
            targeted[label.0 as usize] = true;
        }
    }
    if targeted[1..body].iter().any(|&t| t) {
        return None;
    }
    let mut state = vec![0u8; len];
    let mut entry = vec![false; len];
    let mut framed_fall_in = vec![false; len];
    // (pc, state, reached by falling through)
    let mut pending = vec![(0usize, BEFORE, false), (body, BEFORE, false)];
    while let Some((pc, st, fell)) = pending.pop() {
        if pc >= len {
            return None;
        }
        if st == FRAMED && fell {
            framed_fall_in[pc] = true;
        }
        if state[pc] & st != 0 {
            continue;
        }
        let instruction = code[pc].as_ref();
        let mut go = |st: u8| {
            if let Some(i) = instruction {
                for label in i.labels() {
                    pending.push((label.0 as usize, st, false));
                }
            }
            if instruction.is_none_or(I::falls_through) {
                pending.push((pc + 1, st, true));
            }
        };
        match (st, instruction) {
            (BEFORE, Some(i)) => match frameless(i, &held(pc)) {
                Frameless::NeedsFrame => {
                    entry[pc] = true;
                    pending.push((pc, FRAMED, false));
                    continue;
                }
                Frameless::Drop => {
                    state[pc] |= BEFORE;
                    pending.push((pc + 1, BEFORE, true));
                }
                Frameless::Tail(_) => state[pc] |= BEFORE,
                Frameless::Keep => {
                    state[pc] |= BEFORE;
                    go(BEFORE);
                }
            },
            (FRAMED, Some(I::Deallocate { .. })) => {
                state[pc] |= FRAMED;
                pending.push((pc + 1, AFTER, true));
            }
            (FRAMED, Some(I::Allocate { .. } | I::Return {}))
            | (AFTER, Some(I::Allocate { .. } | I::Deallocate { .. })) => {
                return None;
            }
            _ => {
                state[pc] |= st;
                go(st);
            }
        }
    }
    for pc in 0..len {
        let s = state[pc];
        if (s & FRAMED != 0 && s & (BEFORE | AFTER) != 0) || (entry[pc] && (s & AFTER != 0 || framed_fall_in[pc])) {
            return None;
        }
    }
    let placed = (0..len)
        .map(|pc| {
            let s = state[pc];
            let instruction = match &code[pc] {
                _ if s == 0 || (1..body).contains(&pc) => None,
                Some(i) if s & BEFORE != 0 => match frameless(i, &held(pc)) {
                    Frameless::Drop => None,
                    Frameless::Tail(tail) => Some(tail),
                    _ => Some(i.clone()),
                },
                other => other.clone(),
            };
            let prologue = if entry[pc] { prologue_at(pc) } else { Vec::new() };
            Placed { prologue, instruction, frameless: s & FRAMED == 0 }
        })
        .collect();
    Some(placed)
}

/// Pass 4: renumbers the slots in use from `y0` and sizes the frame to them.
fn compact_slots(function: &mut [Placed]) {
    let mut used: Vec<u16> = Vec::new();
    let mut note = |reg: Reg| {
        if let Reg::Y(y) = reg {
            used.push(y);
        }
    };
    for instruction in function.iter_mut().flat_map(|p| p.prologue.iter_mut().chain(p.instruction.as_mut())) {
        instruction.visit_srcs(&mut |src| {
            if let Src::Reg(reg) = *src {
                note(reg);
            }
        });
        instruction.visit_regs(&mut |reg| note(*reg));
    }
    used.sort_unstable();
    used.dedup();
    let size = used.len() as u32;
    let renumber = |y: u16| used.binary_search(&y).map_or(y, |i| i as u16);
    for instruction in function.iter_mut().flat_map(|p| p.prologue.iter_mut().chain(p.instruction.as_mut())) {
        instruction.visit_srcs(&mut |src| {
            if let Src::Reg(Reg::Y(y)) = src {
                *y = renumber(*y);
            }
        });
        instruction.visit_regs(&mut |reg| {
            if let Reg::Y(y) = reg {
                *y = renumber(*y);
            }
        });
        match instruction {
            I::Allocate { slots }
            | I::Deallocate { slots }
            | I::CallLast { slots, .. }
            | I::CallExtLast { slots, .. }
            | I::CallFunLast { slots, .. } => *slots = size,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytecode::Module;

    fn compile(source: &str) -> Module {
        let (module, diagnostics) = crate::compile(source, "t.actor", &crate::Options::default());
        module.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    /// The instructions of function `name`, FuncInfo first.
    fn function<'m>(module: &'m Module, name: &str) -> &'m [I] {
        let index = module.functions.iter().position(|f| module.atom(f.name) == name).unwrap();
        let start = module.functions[index].start.0 as usize;
        let end = module.functions.get(index + 1).map_or(module.code.len(), |f| f.start.0 as usize);
        &module.code[start..end]
    }

    const FIB: &str = "-module(t).\n-export([fib/1, app/2]).\n\
        fib(N) when N < 2 -> N;\nfib(N) -> fib(N - 1) + fib(N - 2).\n\
        app([], L) -> L;\napp([H | T], L) -> [H | app(T, L)].\n";

    #[test]
    fn a_base_case_runs_without_a_frame() {
        let module = compile(FIB);
        let fib = function(&module, "fib");
        let first_return = fib.iter().position(|i| matches!(i, I::Return {})).unwrap();
        assert!(!fib[..first_return].iter().any(|i| matches!(i, I::Allocate { .. })), "{fib:#?}");
        // The recursive clause still makes one, sized to the two slots it needs.
        assert!(fib.contains(&I::Allocate { slots: 2 }), "{fib:#?}");
        let app = function(&module, "app");
        assert_eq!(
            app[1..4],
            [
                I::IsNil { fail: Label(app[1].labels()[0].0), src: Src::Reg(Reg::X(0)) },
                I::Move { src: Src::Reg(Reg::X(1)), dst: Reg::X(0) },
                I::Return {},
            ]
        );
    }

    #[test]
    fn arguments_are_read_from_their_registers_until_overwritten() {
        let module = compile(FIB);
        let fib = function(&module, "fib");
        // `N - 1` reads x0 (N's slot is a copy of it); `N - 2`, after a call,
        // reads the slot.
        let subtractions: Vec<&Vec<Src>> =
            fib.iter().filter_map(|i| if let I::Bif { args, .. } = i { Some(args) } else { None }).collect();
        assert_eq!(subtractions[0][0], Src::Reg(Reg::X(0)));
        assert_eq!(subtractions[1][0], Src::Reg(Reg::Y(0)));
        // The second result is used from x0 where it lands: no store of it.
        assert_eq!(subtractions[2][1], Src::Reg(Reg::X(0)));
    }

    #[test]
    fn a_result_is_consed_from_its_register_with_the_register_live() {
        let module = compile(FIB);
        let app = function(&module, "app");
        // [H | app(T, L)]: the call's result stays in x0, which the
        // collection TestHeap may run keeps as a root.
        assert!(app.contains(&I::TestHeap { words: 2, live: 1 }), "{app:#?}");
        assert!(app.iter().any(|i| matches!(i, I::PutList { tail: Src::Reg(Reg::X(0)), .. })), "{app:#?}");
        assert!(!app.iter().any(|i| matches!(i, I::Move { dst: Reg::Y(_), .. })), "{app:#?}");
    }

    #[test]
    fn a_loop_that_only_calls_built_ins_runs_without_a_frame() {
        let source = "-module(t).\n-export([send_n/3]).\n\
            send_n(_P, _B, 0) -> ok;\n\
            send_n(P, B, K) -> P ! {data, B}, send_n(P, B, K - 1).\n";
        let module = compile(source);
        let send_n = function(&module, "send_n");
        assert!(!send_n.iter().any(|i| matches!(i, I::Allocate { .. })), "{send_n:#?}");
        // The arguments stay in their registers, kept live across the
        // built-ins that might collect.
        assert!(send_n.iter().any(|i| matches!(i, I::Bif { live: 3, .. })), "{send_n:#?}");
        assert!(send_n.iter().any(|i| matches!(i, I::CallOnly { arity: 3, .. })), "{send_n:#?}");
    }

    #[test]
    fn a_tail_loop_keeps_its_values_in_registers() {
        let source = "-module(t).\n-export([rev/2]).\n\
            rev([H | T], Acc) -> rev(T, [H | Acc]);\nrev([], Acc) -> Acc.\n";
        let module = compile(source);
        let rev = function(&module, "rev");
        // Head and tail in x registers, kept live across the collection
        // TestHeap may run; no frame, no slot.
        assert!(!rev.iter().any(|i| matches!(i, I::Allocate { .. })), "{rev:#?}");
        assert!(rev.contains(&I::TestHeap { words: 2, live: 4 }), "{rev:#?}");
        assert!(rev.iter().any(|i| matches!(i, I::GetList { head: Reg::X(2), tail: Reg::X(3), .. })), "{rev:#?}");
    }

    #[test]
    fn a_value_live_across_a_call_stays_in_its_slot() {
        let module = compile(FIB);
        let fib = function(&module, "fib");
        // N is needed after the first recursive call: its slot stays.
        assert!(fib.iter().any(|i| matches!(i, I::Move { src: Src::Reg(Reg::X(0)), dst: Reg::Y(0) })), "{fib:#?}");
    }

    #[test]
    fn a_path_that_calls_keeps_its_frame_and_verifies() {
        let source = "-module(t).\n-export([f/1, g/1]).\n\
            f(X) -> receive {X, Y} -> Y; stop -> X after 10 -> f(X) end.\n\
            g(X) -> try X + 1 catch error:badarith -> {bad, X} end.\n";
        let module = compile(source);
        crate::bytecode::verify::verify(&module).unwrap();
        // The receive reads X after waiting (registers do not survive a
        // wait): from its slot.
        let f = function(&module, "f");
        let wait = f.iter().position(|i| matches!(i, I::LoopRec { .. })).unwrap();
        assert!(f[wait..].iter().any(|i| slot_reads(i).contains(&0)), "{f:#?}");
        // The handler reads X after the exception (TryCase overwrites
        // x0..x2): from its slot too.
        let g = function(&module, "g");
        let handler = g.iter().position(|i| matches!(i, I::TryCase { .. })).unwrap();
        let tuple = g[handler..].iter().find(|i| matches!(i, I::PutTuple { .. })).unwrap();
        assert!(!slot_reads(tuple).is_empty(), "{g:#?}");
    }

    #[test]
    fn no_jump_goes_to_the_next_instruction() {
        let module = compile(
            "-module(t).\n-export([f/1]).\n\
             f(X) -> Y = case X of 1 -> a; 2 -> b; _ -> c end, {Y, X}.\n",
        );
        for (pc, instruction) in module.code.iter().enumerate() {
            if let I::Jump { target } = instruction {
                assert_ne!(target.0 as usize, pc + 1, "{module}");
            }
        }
        let f = function(&module, "f");
        assert!(
            f.iter().filter(|i| matches!(i, I::Jump { .. })).count() >= 1,
            "the other branches still jump: {module}"
        );
    }

    #[test]
    fn no_slot_is_left_unused() {
        let module = compile(FIB);
        for index in 0..module.functions.len() {
            let name = module.atom(module.functions[index].name).to_owned();
            let code = function(&module, &name);
            let Some(&I::Allocate { slots }) = code.iter().find(|i| matches!(i, I::Allocate { .. })) else { continue };
            let mut used = vec![false; slots as usize];
            for instruction in code {
                let mut instruction = instruction.clone();
                instruction.visit_srcs(&mut |src| {
                    if let Src::Reg(Reg::Y(y)) = src {
                        used[*y as usize] = true;
                    }
                });
                instruction.visit_regs(&mut |reg| {
                    if let Reg::Y(y) = reg {
                        used[*y as usize] = true;
                    }
                });
            }
            assert!(used.iter().all(|&u| u), "{name}: {code:#?}");
        }
    }
}
