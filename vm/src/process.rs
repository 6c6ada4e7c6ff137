//! A process: its heap, its stack of frames (the `y` registers of every
//! active call live in `stack`, in the process's own memory, so deep
//! recursion grows this vector, not the native stack), its exception
//! handlers, and its accounting. Scheduling arrives with issue 4; for now a
//! process runs to completion on the calling thread.

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
    pub caught: Option<Exception>,
    pub reductions: u64,
    /// The process dictionary: keys and values alternating, in insertion
    /// order (`get/0` lists the newest first, as erl does). A GC root.
    pub dictionary: Vec<Term>,
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
            dictionary: Vec::new(),
        }
    }

    /// Makes room for `words` heap words; `roots` (and the stack) are kept
    /// and updated. The collector's work is charged as reductions.
    pub fn ensure(&mut self, words: usize, roots: &mut [Term]) {
        let work = self.heap.ensure(words, &mut [roots, &mut self.stack, &mut self.dictionary]);
        self.reductions += (work / 64) as u64;
    }

    /// A major collection now (`erlang:garbage_collect/0`), keeping `roots`.
    pub fn collect_all(&mut self, roots: &mut [Term]) {
        let work = self.heap.collect_all(&mut [roots, &mut self.stack, &mut self.dictionary]);
        self.reductions += (work / 64) as u64;
    }

    /// Bytes this process holds: its heap blocks, its stack and frames.
    pub fn memory_bytes(&self) -> usize {
        8 * (self.heap.held_words() + self.stack.capacity() + self.dictionary.capacity())
            + std::mem::size_of::<Frame>() * self.frames.capacity()
            + std::mem::size_of::<Process>()
    }
}
