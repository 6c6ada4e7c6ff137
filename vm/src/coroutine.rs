//! Native stacks for time slices: each scheduler runs its processes' slices
//! on stackful coroutines (`corosensei`) from a pool of its own, so that
//! native code can suspend mid-way ([`suspend`]) and go on later, on the
//! same scheduler, with its native stack intact. A long built-in (a copy
//! of a big message, `length/1` or `++` of a long list, `--`) charges its
//! work as it goes and suspends when the slice's reductions run out; a
//! built-in that waits for another process's body (`process_info/2`)
//! suspends instead of spinning.
//!
//! A slice that ends at a safe point (a call, a `receive`) gives its
//! coroutine back to the pool, so a process between slices holds no native
//! stack: stacks are only held by slices suspended mid-way, at most
//! [`MAX_SUSPENDED`] per scheduler (each guarded stack costs two kernel
//! mappings; past the cap a native runs to its end, as it would without
//! coroutines). Coroutines are not `Send`: a process suspended inside one
//! stays on its scheduler until it resumes (`docs/design/scheduling.md`).

use std::cell::Cell;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

/// The native stack of a slice: as big as a scheduler thread's (native code
/// recurses on deeply nested terms), address space until it is used.
pub const STACK_BYTES: usize = 1 << 30;

/// Slices a scheduler keeps suspended mid-way at once.
pub const MAX_SUSPENDED: usize = 64;

/// Idle coroutines a scheduler keeps for its next slices.
const MAX_IDLE: usize = 4;

/// What a slice coroutine tells its scheduler when it stops running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// The slice is over; the coroutine is free for another one.
    SliceDone,
    /// Native code suspended mid-way; resume the coroutine to go on.
    MidWay,
}

/// A slice to run (`Some`), or, given to an idle coroutine, the end of
/// its loop (`None`). A coroutine suspended mid-way is resumed with `None`.
type Input<T> = Option<T>;

type SliceCoroutine<T> = Coroutine<Input<T>, Stopped, (), DefaultStack>;

thread_local! {
    /// The yielder of the coroutine running on this thread, while it runs
    /// a slice (null otherwise): what [`suspend`] suspends. Type-erased so
    /// that the thread-local needs no type parameter; `SUSPEND` knows it.
    static RUNNING: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
    static SUSPEND: Cell<Option<unsafe fn(*const ())>> = const { Cell::new(None) };
    /// Slices suspended mid-way on this thread.
    static SUSPENDED: Cell<usize> = const { Cell::new(0) };
}

/// Suspends the native code running now, if it runs on a slice coroutine
/// and its scheduler may hold another suspended stack; returns whether it
/// did (it returns once the scheduler resumes it). Outside a coroutine, or
/// past [`MAX_SUSPENDED`], it returns `false` at once and the caller goes on.
pub fn suspend() -> bool {
    let running = RUNNING.with(Cell::get);
    let Some(suspend) = SUSPEND.with(Cell::get) else { return false };
    if running.is_null() || SUSPENDED.with(Cell::get) >= MAX_SUSPENDED {
        return false;
    }
    // SAFETY: `RUNNING` and `SUSPEND` were set together by `slice_loop` on
    // this thread for the coroutine that is running now (they are cleared
    // whenever it stops running), so `running` points to its live yielder,
    // of the type `SUSPEND` expects.
    unsafe { suspend(running) };
    true
}

/// Suspends the coroutine whose yielder `yielder` is, mid-way.
///
/// # Safety
/// `yielder` must point to the yielder of the coroutine running on this
/// thread, a `Yielder<Input<T>, Stopped>`.
unsafe fn suspend_mid_way<T>(yielder: *const ()) {
    // SAFETY: by the caller's contract.
    let yielder = unsafe { &*yielder.cast::<Yielder<Input<T>, Stopped>>() };
    RUNNING.with(|r| r.set(std::ptr::null()));
    SUSPENDED.with(|s| s.set(s.get() + 1));
    let input = yielder.suspend(Stopped::MidWay);
    debug_assert!(input.is_none(), "a suspended slice is resumed with no new work");
    SUSPENDED.with(|s| s.set(s.get() - 1));
    RUNNING.with(|r| r.set(std::ptr::from_ref(yielder).cast()));
    SUSPEND.with(|s| s.set(Some(suspend_mid_way::<T>)));
}

/// A slice suspended mid-way, to be resumed by [`Stacks::resume`] on the
/// thread that suspended it.
pub struct Suspended<T: 'static>(SliceCoroutine<T>);

impl<T> std::fmt::Debug for Suspended<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Suspended")
    }
}

/// A scheduler's slice coroutines: the idle ones, and how to make more.
pub struct Stacks<T: 'static> {
    idle: Vec<SliceCoroutine<T>>,
    /// What a new coroutine runs for each slice (a closure of its own, so
    /// that it owns what a slice needs, such as the x registers).
    make_body: Box<dyn Fn() -> Box<dyn FnMut(T)>>,
}

impl<T> std::fmt::Debug for Stacks<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stacks").field("idle", &self.idle.len()).finish_non_exhaustive()
    }
}

impl<T: 'static> Stacks<T> {
    /// A pool whose coroutines run their slices with bodies from `make_body`.
    pub fn new(make_body: Box<dyn Fn() -> Box<dyn FnMut(T)>>) -> Stacks<T> {
        Stacks { idle: Vec::new(), make_body }
    }

    /// Runs one slice of `work` on a coroutine; returns it suspended if
    /// native code suspended mid-way. If no stack can be had (the kernel
    /// refuses the mapping), the slice runs on this thread's own stack,
    /// where nothing can suspend.
    pub fn run(&mut self, work: T) -> Option<Suspended<T>> {
        let coroutine = match self.idle.pop() {
            Some(coroutine) => Some(coroutine),
            None => DefaultStack::new(STACK_BYTES).ok().map(|stack| {
                let mut body = (self.make_body)();
                Coroutine::with_stack(stack, move |yielder: &Yielder<Input<T>, Stopped>, first: Input<T>| {
                    slice_loop(yielder, first, &mut *body);
                })
            }),
        };
        match coroutine {
            Some(coroutine) => self.step(coroutine, Some(work)),
            None => {
                (self.make_body)()(work);
                None
            }
        }
    }

    /// Goes on with a slice suspended mid-way, on the thread that suspended it.
    pub fn resume(&mut self, suspended: Suspended<T>) -> Option<Suspended<T>> {
        self.step(suspended.0, None)
    }

    fn step(&mut self, mut coroutine: SliceCoroutine<T>, input: Input<T>) -> Option<Suspended<T>> {
        match coroutine.resume(input) {
            CoroutineResult::Yield(Stopped::MidWay) => Some(Suspended(coroutine)),
            CoroutineResult::Yield(Stopped::SliceDone) => {
                if self.idle.len() < MAX_IDLE {
                    self.idle.push(coroutine);
                } else {
                    end(coroutine);
                }
                None
            }
            // The loop only returns when told to.
            CoroutineResult::Return(()) => None,
        }
    }
}

impl<T> Drop for Stacks<T> {
    fn drop(&mut self) {
        for coroutine in self.idle.drain(..) {
            end(coroutine);
        }
    }
}

/// Ends an idle coroutine's loop, so that it returns instead of being
/// unwound.
fn end<T>(mut coroutine: SliceCoroutine<T>) {
    let _ = coroutine.resume(None);
}

/// A slice coroutine's life: run a slice, tell the scheduler it is done,
/// wait for the next.
fn slice_loop<T>(yielder: &Yielder<Input<T>, Stopped>, first: Input<T>, body: &mut dyn FnMut(T)) {
    let mut next = first;
    while let Some(work) = next {
        RUNNING.with(|r| r.set(std::ptr::from_ref(yielder).cast()));
        SUSPEND.with(|s| s.set(Some(suspend_mid_way::<T>)));
        body(work);
        RUNNING.with(|r| r.set(std::ptr::null()));
        next = yielder.suspend(Stopped::SliceDone);
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    /// A pool whose slices record their steps in `log`, suspending once
    /// between the two steps of each slice.
    fn logging(log: &Rc<std::cell::RefCell<Vec<String>>>) -> Stacks<u32> {
        let log = log.clone();
        Stacks::new(Box::new(move || {
            let log = log.clone();
            Box::new(move |n: u32| {
                log.borrow_mut().push(format!("{n} starts"));
                let suspended = suspend();
                log.borrow_mut().push(format!("{n} ends ({suspended})"));
            })
        }))
    }

    #[test]
    fn slices_suspend_mid_way_and_go_on_when_resumed() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut stacks = logging(&log);
        let first = stacks.run(1).expect("suspended");
        let second = stacks.run(2).expect("suspended");
        assert!(stacks.resume(second).is_none());
        assert!(stacks.resume(first).is_none());
        assert_eq!(*log.borrow(), ["1 starts", "2 starts", "2 ends (true)", "1 ends (true)"]);
        assert_eq!(stacks.idle.len(), 2, "finished slices give their coroutines back");
        assert!(!suspend(), "outside a slice nothing suspends");
        assert_eq!(SUSPENDED.with(Cell::get), 0);
    }

    #[test]
    fn past_the_cap_natives_run_to_their_end() {
        let log = Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut stacks = logging(&log);
        let held: Vec<_> = (0..MAX_SUSPENDED as u32).map(|n| stacks.run(n).expect("suspended")).collect();
        assert!(stacks.run(999).is_none(), "a slice past the cap does not suspend");
        assert!(log.borrow().iter().any(|l| l == "999 ends (false)"));
        for suspended in held {
            assert!(stacks.resume(suspended).is_none());
        }
        assert_eq!(SUSPENDED.with(Cell::get), 0);
        assert_eq!(stacks.idle.len(), MAX_IDLE);
    }
}
