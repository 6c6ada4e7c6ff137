//! A process: its heap, its stack of frames (the `y` registers of every
//! active call live in `stack`, in the process's own memory, so deep
//! recursion grows this vector, not the native stack), its exception
//! handlers, its mailbox (the messages taken in from its inbox), where it
//! resumes when it is scheduled again, its links and monitors, and its
//! accounting. This is the part only the scheduler running the process
//! touches; the part other processes reach (the inbox, the run state) is
//! `scheduler::Proc`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::exception::Exception;
use crate::heap::Heap;
use crate::module::LoadedModule;
use crate::term::Term;

/// A continuation: where a function returns to, in one word.
///
/// The word is header-tagged (its low two bits are `00`), which no term in a
/// register or a stack slot ever is, so it can sit in `Process::stack` among
/// the `y` slots: the collector passes over it, and a walk down the stack
/// finds the frames by it. It holds a kind, the instruction to return to,
/// and (in a frame) the number of `y` slots below it.
///
/// A local call returns into the module it was made in, which is the module
/// running when the return happens, so it names no module (`local`): calls
/// inside a module cost no reference counting. Whenever control moves to
/// another module other than by returning (a remote or fun call, a tail call
/// across modules), the interpreter makes the continuation `remote` first,
/// pushing the module onto `Process::far`, so `local` is always read in the
/// right module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cp(u64);

const CP_LOCAL: u64 = 0b0000;
const CP_REMOTE: u64 = 0b0100;
const CP_DONE: u64 = 0b1000;
const CP_KIND: u64 = 0b1100;

impl Cp {
    /// Nothing to return to: the outermost function, or (in the register)
    /// a function whose return address is in its frame.
    pub const DONE: Cp = Cp(CP_DONE);

    /// Return to op `pc` in the running module. Op indices fit in 32 bits
    /// (labels are `u32`); taking a `usize` saves the interpreter a
    /// truncation before the shift.
    #[inline(always)]
    pub const fn local(pc: usize) -> Cp {
        Cp(((pc as u64) << 32) | CP_LOCAL)
    }

    /// Return to `pc` in the module on top of `Process::far`.
    #[inline(always)]
    pub const fn remote(pc: u32) -> Cp {
        Cp(((pc as u64) << 32) | CP_REMOTE)
    }

    #[inline(always)]
    pub const fn is_local(self) -> bool {
        self.0 & CP_KIND == CP_LOCAL
    }

    #[inline(always)]
    pub const fn is_remote(self) -> bool {
        self.0 & CP_KIND == CP_REMOTE
    }

    #[inline(always)]
    pub const fn pc(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The frame word for this continuation over `slots` y slots.
    #[inline(always)]
    pub fn frame_word(self, slots: u32) -> Term {
        debug_assert!(slots < 1 << 28);
        // A `Cp` never holds slot bits (its constructors and
        // `from_frame_word` leave them clear).
        Term::frame_word(self.0 | (u64::from(slots) << 4))
    }

    /// The continuation and slot count in a frame word; `None` for a term.
    #[inline(always)]
    pub fn from_frame_word(word: Term) -> Option<(Cp, usize)> {
        let raw = word.raw();
        word.is_frame_word().then_some((Cp(raw & !0xffff_fff0), ((raw >> 4) & 0x0fff_ffff) as usize))
    }
}

impl Default for Cp {
    fn default() -> Cp {
        Cp::DONE
    }
}

/// An active `try` or `catch`, pushed by `Try`/`Catch` and popped when its
/// body ends or an exception reaches it.
#[derive(Debug)]
pub struct Handler {
    pub module: Arc<LoadedModule>,
    pub pc: u32,
    /// The length of `Process::stack` when it was pushed: the top word is
    /// then the frame word of the handler's function.
    pub depth: usize,
    /// The length of `Process::far` when it was pushed.
    pub far: usize,
    /// Whether this is a `catch` (the value of an exception is a term) or a `try`.
    pub is_catch: bool,
}

#[derive(Debug)]
pub struct Process {
    pub pid: u64,
    pub heap: Heap,
    /// Every active frame, oldest first: its `y` slots, the last one `y0`,
    /// then its frame word ([`Cp::frame_word`]). The running function's
    /// frame is on top, so `y(i)` is `stack[len - 2 - i]`.
    pub stack: Vec<Term>,
    /// The modules of the `remote` continuations in `stack` and in the
    /// continuation register, in the same order: each is popped by the
    /// return that goes to it.
    pub far: Vec<Arc<LoadedModule>>,
    pub handlers: Vec<Handler>,
    /// The exception a handler was entered for, until `TryCase`/`CatchEnd` takes it.
    pub caught: Option<Box<Exception>>,
    pub reductions: u64,
    /// The reduction count at which the running slice ends (the process
    /// yields at its next call); a built-in sets it to 0 to make the
    /// process yield, for example after signalling itself.
    pub slice_end: u64,
    /// The reduction count when the running slice began.
    pub slice_start: u64,
    /// The process dictionary: keys and values alternating, in insertion
    /// order (`get/0` lists the newest first, as erl does). A GC root.
    pub dictionary: Vec<Term>,
    /// Messages a `receive` has looked at (or is looking at), oldest
    /// first, copied into this heap. A GC root.
    pub messages: VecDeque<Term>,
    /// Messages taken from the inbox that no `receive` has looked at yet,
    /// after `messages`: still in their buffers, outside the heap, so a
    /// long backlog costs the collector nothing.
    pub pending: VecDeque<crate::copy::Message>,
    /// The receive position: messages before it were tried by the running
    /// `receive` and did not match.
    pub save: u32,
    /// Where the process goes on when it is scheduled again; `None` once it
    /// has finished.
    pub resume: Option<Resume>,
    /// The live x registers while the process is suspended. A GC root.
    pub saved_x: Box<[Term]>,
    /// The timer of the `receive ... after` being waited in, if armed.
    pub timer: Option<std::num::NonZeroU64>,
    /// That timer expired: the `receive` takes its `after` branch.
    pub timed_out: bool,
    pub trap_exit: bool,
    /// Links and monitors; boxed, and made on first use, because most
    /// processes have none and an idle process must stay small.
    pub ties: Option<Box<Ties>>,
    /// Set when a signal kills the process: it exits with this reason at the
    /// next safe point.
    pub killed: Option<Box<crate::copy::Message>>,
    /// Where `io` output goes instead of standard output (inherited from
    /// the parent; set for a remote shell's processes).
    pub output: Option<Arc<crate::console::Sink>>,
    /// Code checks to answer at the end of the slice (`purge.rs`).
    pub checks: Option<Box<Vec<crate::purge::Ticket>>>,
}

/// The most words one process's heap and stack may take: by default a
/// quarter of the memory the VM may use (the smallest of physical memory,
/// half of `ulimit -v`, and `ulimit -d`), or what `--max-process-memory`
/// says. Past it the process is killed, so a runaway recursion or an
/// endless list ends that process, not the VM: growing by doubling, a
/// process at the cap can still get its next block. BEAM has no such cap
/// (its VM dies when memory runs out); `max_heap_size` is the finer limit.
pub fn memory_cap_words() -> usize {
    match MEMORY_CAP.load(Ordering::Relaxed) {
        0 => {
            let words = (available_memory_bytes() / 4 / 8).max(1);
            MEMORY_CAP.store(words, Ordering::Relaxed);
            words
        }
        words => words,
    }
}

/// [`memory_cap_words`], 0 until it is first read or set.
static MEMORY_CAP: AtomicUsize = AtomicUsize::new(0);

/// Sets the cap (`vm run --max-process-memory`), in bytes.
pub fn set_memory_cap(bytes: usize) {
    MEMORY_CAP.store((bytes / 8).max(1), Ordering::Relaxed);
}

fn available_memory_bytes() -> usize {
    // SAFETY: sysconf and getrlimit only read process settings into the
    // values given; the rlimit struct is a plain C struct.
    let (physical, limits) = unsafe {
        let pages = libc::sysconf(libc::_SC_PHYS_PAGES);
        let page = libc::sysconf(libc::_SC_PAGESIZE);
        let physical = if pages > 0 && page > 0 { pages as u64 * page as u64 } else { u64::MAX };
        // Address space counts reservations too (thread stacks, the
        // allocator's arenas, a vector's old and new block while it
        // grows): half of `ulimit -v` is taken as memory.
        let mut limits = Vec::new();
        for (resource, share) in [(libc::RLIMIT_AS, 2), (libc::RLIMIT_DATA, 1)] {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            if libc::getrlimit(resource, &mut limit) == 0 && limit.rlim_cur != libc::RLIM_INFINITY {
                limits.push(limit.rlim_cur / share);
            }
        }
        (physical, limits)
    };
    limits.into_iter().fold(physical, u64::min).min(usize::MAX as u64) as usize
}

/// A process's heap limit, as erl's `max_heap_size` map: checked after each
/// collection against the heap and the stack, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxHeap {
    /// 0: no limit.
    pub size: usize,
    /// Kill the process (reason `killed`) when it is over the limit.
    pub kill: bool,
    /// Report it on standard error.
    pub error_logger: bool,
    /// A collection found the process over a limit that kills: it ends at
    /// its next call.
    pub exceeded: bool,
}

impl Default for MaxHeap {
    fn default() -> MaxHeap {
        MaxHeap { size: 0, kill: true, error_logger: true, exceeded: false }
    }
}

/// A process's links and monitors, and the other state most processes never
/// have (tables, sockets, a heap limit): one box, made on first use.
#[derive(Debug, Default)]
pub struct Ties {
    /// `process_flag(max_heap_size, ...)`, when set.
    pub max_heap: Option<MaxHeap>,
    /// Linked processes.
    pub links: Vec<u64>,
    /// Monitors this process holds: (reference, monitored pid, name it was
    /// monitored by, or `[]`).
    pub monitors: Vec<(u64, u64, Term)>,
    /// Monitors on this process: (reference, watcher, the name the watcher
    /// used, or `[]`).
    pub watchers: Vec<(u64, u64, Term)>,
    /// ETS tables this process owns (they are deleted when it ends).
    pub tables: Vec<u64>,
    /// Sockets this process owns or owned (they close when it ends, if it
    /// still owns them): one closed by its peer or passed on by another
    /// process stays listed until the list is next pruned.
    pub sockets: Vec<u64>,
}

static NO_TIES: Ties = Ties {
    max_heap: None,
    links: Vec::new(),
    monitors: Vec::new(),
    watchers: Vec::new(),
    tables: Vec::new(),
    sockets: Vec::new(),
};

/// Where a suspended process goes on.
#[derive(Debug, Clone)]
pub enum Resume {
    /// Calls `module:function` with `saved_x` as the arguments (a new process).
    Start { module: Term, function: Term },
    /// Runs from `pc` in `module` with the continuation register `cont`.
    At { module: Arc<LoadedModule>, pc: u32, cont: Cp },
}

impl Process {
    pub fn new(pid: u64) -> Process {
        Process {
            pid,
            heap: Heap::new(),
            stack: Vec::new(),
            far: Vec::new(),
            handlers: Vec::new(),
            caught: None,
            reductions: 0,
            slice_end: u64::MAX,
            slice_start: 0,
            dictionary: Vec::new(),
            messages: VecDeque::new(),
            pending: VecDeque::new(),
            save: 0,
            resume: None,
            saved_x: Box::default(),
            timer: None,
            timed_out: false,
            trap_exit: false,
            ties: None,
            killed: None,
            output: None,
            checks: None,
        }
    }

    pub fn ties(&self) -> &Ties {
        self.ties.as_deref().unwrap_or(&NO_TIES)
    }

    pub fn ties_mut(&mut self) -> &mut Ties {
        self.ties.get_or_insert_with(Box::default)
    }

    /// Records that this process owns socket `id`. The list is pruned of
    /// sockets it no longer owns each time its length reaches a power of
    /// two, so a long-lived owner of many short connections keeps a list
    /// as long as its open sockets, at an amortised constant cost.
    pub fn own_socket(&mut self, id: u64) {
        let pid = self.pid;
        let sockets = &mut self.ties_mut().sockets;
        sockets.push(id);
        if sockets.len() >= 16 && sockets.len().is_power_of_two() {
            sockets.retain(|&id| crate::net::is_owned_by(id, pid));
        }
    }

    /// Charges `reductions` for work a native function has done so far.
    /// Once the slice's reductions are spent, the native suspends here (its
    /// slice runs on a coroutine, `coroutine.rs`) and goes on with a fresh
    /// quota when its scheduler next runs the process; the process's heap is
    /// untouched meanwhile, so the terms the native holds stay valid. Where
    /// it cannot suspend, the process yields at its next call instead.
    pub fn charge(&mut self, reductions: u64) {
        self.reductions += reductions;
        // A slice end of 0 asks for a yield at the next call (a signal to
        // act on at once), which going on here with a fresh quota would lose.
        if self.slice_end != 0 && self.reductions >= self.slice_end && crate::coroutine::suspend() {
            self.slice_end = self.reductions + crate::scheduler::QUOTA;
        }
    }

    /// Makes room for `words` heap words; `roots` (and the stack, the
    /// dictionary, the mailbox and the saved registers) are kept and
    /// updated. The collector's work is charged as reductions.
    pub fn ensure(&mut self, words: usize, roots: &mut [Term]) {
        let (front, back) = self.messages.as_mut_slices();
        let work = self
            .heap
            .ensure(words, &mut [roots, &mut self.stack, &mut self.dictionary, front, back, &mut *self.saved_x]);
        self.reductions += (work / 64) as u64;
        if work > 0 && self.ties().max_heap.is_some() {
            self.check_max_heap();
        }
    }

    /// The heap and stack in words, as the heap limit counts them
    /// (`total_heap_size` plus the stack: BEAM's stack is in its heap).
    pub fn heap_and_stack_words(&self) -> usize {
        self.heap.total_words() + self.stack.len()
    }

    /// After a collection: over `max_heap_size`, report it and (with
    /// `kill`) end the process at its next call, as BEAM does.
    #[cold]
    fn check_max_heap(&mut self) {
        let Some(limit) = self.ties().max_heap else { return };
        let total = self.heap_and_stack_words();
        if limit.size == 0 || total <= limit.size || limit.exceeded {
            return;
        }
        if limit.error_logger {
            crate::report::error(&format!(
                "     Process:            <0.{}.0>\n     Context:            maximum heap size reached\n     \
                 Max Heap Size:      {}\n     Total Heap Size:    {total}\n     Kill:               {}\n     \
                 Error Logger:       true\n     Message Queue Len:  {}\n",
                self.pid,
                limit.size,
                limit.kill,
                self.mailbox_len()
            ));
        }
        if limit.kill {
            if let Some(max) = self.ties_mut().max_heap.as_mut() {
                max.exceeded = true;
            }
            // The interpreter checks the slice's end at every call.
            self.slice_end = self.reductions;
        }
    }

    /// Whether the process must end at the end of its slice: a collection
    /// found it over a `max_heap_size` that kills, or its heap and stack
    /// passed [`memory_cap_words`] (checked here, once a slice, so the
    /// interpreter's fast paths carry no check: a slice grows the stack by
    /// at most a few words per reduction).
    pub fn over_memory_limit(&mut self) -> bool {
        if self.ties().max_heap.is_some_and(|m| m.exceeded) {
            return true;
        }
        let total = self.heap_and_stack_words();
        if total <= memory_cap_words() {
            return false;
        }
        crate::report::error(&format!(
            "     Process:            <0.{}.0>\n     Context:            process memory limit reached\n     \
             Memory Limit:       {} words\n     \
             Total Heap Size:    {total}\n     Message Queue Len:  {}\n",
            self.pid,
            memory_cap_words(),
            self.mailbox_len()
        ));
        true
    }

    /// A major collection now (`erlang:garbage_collect/0`), keeping `roots`.
    pub fn collect_all(&mut self, roots: &mut [Term]) {
        let (front, back) = self.messages.as_mut_slices();
        let work =
            self.heap.collect_all(&mut [roots, &mut self.stack, &mut self.dictionary, front, back, &mut *self.saved_x]);
        self.reductions += (work / 64) as u64;
        if self.ties().max_heap.is_some() {
            self.check_max_heap();
        }
    }

    /// Adds a message at the end of the mailbox.
    pub fn deliver(&mut self, message: crate::copy::Message) {
        self.pending.push_back(message);
    }

    /// Whether the mailbox holds a message the running `receive` has not
    /// tried yet.
    pub fn has_untried(&self) -> bool {
        (self.save as usize) < self.messages.len() || !self.pending.is_empty()
    }

    /// Messages in the mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.messages.len() + self.pending.len()
    }

    /// Copies the oldest message no `receive` has looked at into the heap
    /// (it may collect: only the process's own roots are kept).
    pub fn take_next(&mut self) {
        if let Some(message) = self.pending.pop_front() {
            if !self.heap.has_room(message.words()) {
                self.ensure(message.words(), &mut []);
            }
            self.reductions += (message.words() / 64) as u64;
            let term = message.move_into(&mut self.heap);
            self.messages.push_back(term);
        }
    }

    /// Bytes this process holds: its heap blocks, its stack, frames and mailbox.
    pub fn memory_bytes(&self) -> usize {
        8 * (self.heap.held_words()
            + self.stack.capacity()
            + self.dictionary.capacity()
            + self.messages.capacity()
            + self.pending.iter().map(|m| m.words() + std::mem::size_of::<crate::copy::Message>() / 8).sum::<usize>()
            + self.saved_x.len())
            + std::mem::size_of::<Arc<LoadedModule>>() * self.far.capacity()
            + std::mem::size_of::<Process>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_words_round_trip_and_are_never_terms() {
        for (cp, slots) in
            [(Cp::local(0), 0), (Cp::local(u32::MAX as usize), 3), (Cp::remote(77), 1), (Cp::DONE, (1 << 28) - 1)]
        {
            let word = cp.frame_word(slots as u32);
            assert_eq!(Cp::from_frame_word(word), Some((cp, slots)));
            // The collector follows only cons and boxed words; a stack walk
            // tells frames from terms by this.
            assert!(word.is_frame_word() && !word.is_cons() && !word.is_boxed() && !word.is_immediate());
        }
        assert!(Cp::local(5).is_local() && !Cp::local(5).is_remote() && Cp::local(5).pc() == 5);
        assert!(Cp::remote(9).is_remote() && !Cp::remote(9).is_local() && Cp::remote(9).pc() == 9);
        assert!(!Cp::DONE.is_local() && !Cp::DONE.is_remote());
        for term in [Term::NIL, Term::small(-1).unwrap(), Term::atom(2), Term::pid(4)] {
            assert_eq!(Cp::from_frame_word(term), None);
        }
    }
}
