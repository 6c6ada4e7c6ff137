//! A process: its heap, its stack of frames (the `y` registers of every
//! active call live in `stack`, in the process's own memory, so deep
//! recursion grows this vector, not the native stack), its exception
//! handlers, its mailbox (the messages taken in from its inbox), where it
//! resumes when it is scheduled again, its links and monitors, and its
//! accounting. This is the part only the scheduler running the process
//! touches; the part other processes reach (the inbox, the run state) is
//! `scheduler::Proc`.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::exception::Exception;
use crate::heap::Heap;
use crate::module::LoadedModule;
use crate::term::Term;

/// Where a function returns to.
///
/// A local call returns into the module it was made in, which is the module
/// running when the return happens, so it needs no reference to the module
/// (`Local`): calls inside a module cost no reference counting. Whenever
/// control moves to another module other than by returning (a remote or fun
/// call, a tail call across modules), the interpreter makes the current
/// continuation `Remote` first, so `Local` is always read in the right module.
#[derive(Debug, Clone, Default)]
pub enum Continuation {
    /// Nothing to return to: the outermost function, or (in the register) a
    /// function whose return address is in its frame.
    #[default]
    Done,
    Local(u32),
    Remote(Arc<LoadedModule>, u32),
}

/// The frame of an active function, pushed by `Allocate`.
#[derive(Debug)]
pub struct Frame {
    /// Where this function returns to.
    pub continuation: Continuation,
    /// The caller's first `y` register in `Process::stack`.
    pub caller_base: usize,
}

/// An active `try` or `catch`, pushed by `Try`/`Catch` and popped when its
/// body ends or an exception reaches it.
#[derive(Debug)]
pub struct Handler {
    pub module: Arc<LoadedModule>,
    pub pc: u32,
    /// How many frames were active: the handler's function is the top one.
    pub frames: usize,
    /// Whether this is a `catch` (the value of an exception is a term) or a `try`.
    pub is_catch: bool,
}

#[derive(Debug)]
pub struct Process {
    pub pid: u64,
    pub heap: Heap,
    /// The `y` registers of every active frame, oldest first.
    pub stack: Vec<Term>,
    /// The current frame's first `y` register in `stack`.
    pub y_base: usize,
    pub frames: Vec<Frame>,
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
}

/// A process's links and monitors.
#[derive(Debug, Default)]
pub struct Ties {
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
}

static NO_TIES: Ties = Ties { links: Vec::new(), monitors: Vec::new(), watchers: Vec::new(), tables: Vec::new() };

/// Where a suspended process goes on.
#[derive(Debug, Clone)]
pub enum Resume {
    /// Calls `module:function` with `saved_x` as the arguments (a new process).
    Start { module: Term, function: Term },
    /// Runs from `pc` in `module` with the continuation register `cont`.
    At { module: Arc<LoadedModule>, pc: u32, cont: Continuation },
}

impl Process {
    pub fn new(pid: u64) -> Process {
        Process {
            pid,
            heap: Heap::new(),
            stack: Vec::new(),
            y_base: 0,
            frames: Vec::new(),
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
        }
    }

    pub fn ties(&self) -> &Ties {
        self.ties.as_deref().unwrap_or(&NO_TIES)
    }

    pub fn ties_mut(&mut self) -> &mut Ties {
        self.ties.get_or_insert_with(Box::default)
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
    }

    /// A major collection now (`erlang:garbage_collect/0`), keeping `roots`.
    pub fn collect_all(&mut self, roots: &mut [Term]) {
        let (front, back) = self.messages.as_mut_slices();
        let work =
            self.heap.collect_all(&mut [roots, &mut self.stack, &mut self.dictionary, front, back, &mut *self.saved_x]);
        self.reductions += (work / 64) as u64;
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
            + std::mem::size_of::<Frame>() * self.frames.capacity()
            + std::mem::size_of::<Process>()
    }
}
