//! The runtime: the process table, the registry of names, the schedulers
//! and the timer thread (invariants 4 to 6 of DESIGN.md; the design is in
//! `docs/design/scheduling.md`).
//!
//! A process is a [`Proc`]: the part other threads reach (its pid, its
//! lock-free inbox, its run state) and its body, the [`Process`] only the
//! scheduler running it touches, behind a mutex that scheduler holds for
//! the length of a time slice (uncontended: a process is in at most one run
//! queue or on one scheduler at a time).
//!
//! Each scheduler thread owns a FIFO run queue (`crossbeam-deque`); idle
//! schedulers steal from the global injector and from each other, and park
//! on a condition variable when there is nothing to run, so an idle VM uses
//! no CPU. The run state makes wake-ups exact: a process about to wait
//! publishes `WAITING` and then looks at its inbox once more; a sender
//! pushes to the inbox and then looks at the state; whichever comes second
//! sees the other (both sides are sequentially consistent), and only the
//! one that moves the state from `WAITING` to `ACTIVE` queues the process.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use crossbeam_deque::{Injector, Steal, Stealer, Worker};

use crate::atom::atoms;
use crate::code::CodeServer;
use crate::copy::Message;
use crate::coroutine::{Stacks, Suspended};
use crate::exception::{Class, Exception};
use crate::heap::Heap;
use crate::interp::{Machine, SliceEnd};
use crate::mailbox::{Inbox, Signal};
use crate::process::Process;
use crate::term::Term;
use crate::timer::{Action, Timers};

/// Reductions in a time slice. BEAM uses 4000; see `docs/design/scheduling.md`.
pub const QUOTA: u64 = 4000;

/// The address space reserved for each scheduler thread's native stack:
/// native code recurses on nested terms (comparing, printing), and the
/// reservation costs no memory until used.
const SCHEDULER_STACK: usize = 1 << 30;

/// The main process's pid number (its end is the run's end), and the first
/// of the others: erl's
/// `-eval` process is `<0.9.0>` and the first process it spawns is
/// usually `<0.79.0>`, so a program's pids read as they do under erl.
pub const MAIN_PID: u64 = 9;
const FIRST_PID: u64 = 79;

/// A process that used up its slice goes back to its scheduler's queue; a
/// parked scheduler is woken only when more than this many wait there. Two
/// processes that feed each other (a sender and its receiver) then share
/// one scheduler, as on the BEAM, instead of bouncing their messages and
/// reference counts between cores; a third runnable process spreads the
/// work.
const YIELD_SPREAD: usize = 2;

/// Rounds an idle scheduler looks for work before it parks, each pausing
/// the core 64 times (some 50 µs in all here; more measured no better).
const SPIN_ROUNDS: u32 = 32;

/// How often (in picks) a scheduler looks at the injector before its own queue.
const INJECTOR_EVERY: u64 = 61;

/// Shards of the process table (a pid's shard is its number modulo this).
const SHARDS: usize = 64;

/// Queued or running.
const ACTIVE: u8 = 0;
/// Suspended in `receive`, in no run queue.
const WAITING: u8 = 1;
/// Gone: its inbox is closed.
const EXITED: u8 = 2;

/// A process as the runtime holds it.
#[derive(Debug)]
pub struct Proc {
    pub pid: u64,
    pub inbox: Inbox,
    state: AtomicU8,
    body: Mutex<Process>,
}

impl Proc {
    pub fn is_alive(&self) -> bool {
        self.state.load(Ordering::SeqCst) != EXITED
    }

    /// The body, if no scheduler is running the process right now.
    pub fn try_body(&self) -> Option<MutexGuard<'_, Process>> {
        self.body.try_lock().ok()
    }

    /// The body, for a native function running in another process: one
    /// another scheduler runs is released at the end of its slice; one
    /// suspended mid-way on this scheduler, when its native finishes.
    /// Meanwhile the caller suspends (where it cannot, it lets the thread
    /// go); `None` after many tries (two processes each waiting for the
    /// other's body).
    pub fn wait_body(&self) -> Option<MutexGuard<'_, Process>> {
        for _ in 0..100_000 {
            if let Some(body) = self.try_body() {
                return Some(body);
            }
            if !crate::coroutine::suspend() {
                std::thread::yield_now();
            }
        }
        self.try_body()
    }
}

type Task = Arc<Proc>;

/// A counter on a cache line of its own (one per scheduler, so that
/// counting does not bounce a line between cores).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Counter(AtomicU64);

/// The process table's hash of a pid: a multiply and a fold (SipHash, the
/// default, was a visible part of every send).
#[derive(Debug, Default, Clone, Copy)]
struct PidHasher(u64);

impl std::hash::Hasher for PidHasher {
    fn finish(&self) -> u64 {
        let h = self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Table = HashMap<u64, Task, std::hash::BuildHasherDefault<PidHasher>>;

#[derive(Debug, Default)]
struct Registry {
    by_name: HashMap<Term, u64>,
    by_pid: HashMap<u64, Term>,
}

/// The VM's shared state. One per `vm run`, made by [`Runtime::start`] and
/// never freed (the OS process ends with it).
#[derive(Debug)]
pub struct Runtime {
    pub code: CodeServer,
    table: Box<[RwLock<Table>]>,
    registry: Mutex<Registry>,
    next_pid: AtomicU64,
    injector: Injector<Task>,
    stealers: Vec<Stealer<Task>>,
    schedulers: usize,
    /// Reductions of finished slices, one counter per scheduler.
    reductions: Box<[Counter]>,
    sleepers: AtomicUsize,
    sleep_lock: Mutex<()>,
    wake_up: Condvar,
    outcome: Mutex<Option<i32>>,
    ended: Condvar,
    finished: AtomicBool,
    pub timers: Timers,
    /// Processes alive or being spawned, and the most there may be
    /// (`vm run --max-processes`; `spawn` raises system_limit past it).
    live: AtomicUsize,
    max_processes: AtomicUsize,
}

/// The default process limit: BEAM's largest `+P`, so that only memory
/// bounds a program that does not ask for less.
pub const DEFAULT_MAX_PROCESSES: usize = 134_217_727;

/// A place in the process table, taken by [`Runtime::reserve_process`]:
/// [`Runtime::spawn`] needs one, so no process is spawned uncounted.
#[derive(Debug)]
pub struct Place(());

thread_local! {
    static CURRENT: Cell<Option<&'static Runtime>> = const { Cell::new(None) };
    static LOCAL: Cell<*const Worker<Task>> = const { Cell::new(std::ptr::null()) };
}

/// The runtime of the scheduler thread this runs on, if any.
pub fn current() -> Option<&'static Runtime> {
    CURRENT.with(Cell::get)
}

/// A fresh reference number, unique in the VM (`make_ref/0`, monitors, timers).
pub fn new_reference() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Starts the timer of a `receive ... after` for process `pid`; `None`
/// when not running under a scheduler.
pub fn start_receive_timer(pid: u64, millis: u64) -> Option<u64> {
    let runtime = current()?;
    let id = new_reference();
    runtime.timers.start(id, Duration::from_millis(millis), Action::Timeout { pid });
    Some(id)
}

pub fn cancel_receive_timer(id: u64) {
    if let Some(runtime) = current() {
        runtime.timers.cancel(id);
    }
}

impl Runtime {
    /// Makes the runtime and starts `schedulers` scheduler threads and the
    /// timer thread.
    pub fn start(code: CodeServer, schedulers: usize) -> std::io::Result<&'static Runtime> {
        let schedulers = schedulers.max(1);
        let workers: Vec<Worker<Task>> = (0..schedulers).map(|_| Worker::new_fifo()).collect();
        let runtime: &'static Runtime = Box::leak(Box::new(Runtime {
            code,
            table: (0..SHARDS).map(|_| RwLock::new(Table::default())).collect(),
            registry: Mutex::new(Registry::default()),
            next_pid: AtomicU64::new(FIRST_PID),
            injector: Injector::new(),
            stealers: workers.iter().map(Worker::stealer).collect(),
            schedulers,
            reductions: (0..schedulers).map(|_| Counter::default()).collect(),
            sleepers: AtomicUsize::new(0),
            sleep_lock: Mutex::new(()),
            wake_up: Condvar::new(),
            outcome: Mutex::new(None),
            ended: Condvar::new(),
            finished: AtomicBool::new(false),
            timers: Timers::default(),
            live: AtomicUsize::new(0),
            max_processes: AtomicUsize::new(DEFAULT_MAX_PROCESSES),
        }));
        for (index, worker) in workers.into_iter().enumerate() {
            std::thread::Builder::new()
                .name(format!("scheduler-{}", index + 1))
                .stack_size(SCHEDULER_STACK)
                .spawn(move || runtime.schedule(worker, index))?;
        }
        std::thread::Builder::new().name("timers".to_owned()).spawn(move || {
            CURRENT.with(|c| c.set(Some(runtime)));
            runtime.timers.run(runtime)
        })?;
        Ok(runtime)
    }

    /// How many scheduler threads run processes.
    pub fn schedulers(&self) -> usize {
        self.schedulers
    }

    /// Reductions spent by every process, as of their last time slice.
    pub fn reductions(&self) -> u64 {
        self.reductions.iter().map(|c| c.0.load(Ordering::Relaxed)).sum()
    }

    /// A pid for a new process.
    pub fn new_pid(&self) -> u64 {
        self.next_pid.fetch_add(1, Ordering::Relaxed)
    }

    /// Sets the process limit (before the first process is spawned).
    pub fn set_max_processes(&self, limit: usize) {
        self.max_processes.store(limit.max(1), Ordering::Relaxed);
    }

    pub fn max_processes(&self) -> usize {
        self.max_processes.load(Ordering::Relaxed)
    }

    /// Takes a place in the process table for a process about to be
    /// spawned; `None` when the table is full (`spawn` raises
    /// system_limit). The place is used by [`Runtime::spawn`] and given
    /// back when that process exits.
    pub fn reserve_process(&self) -> Option<Place> {
        let limit = self.max_processes();
        self.live.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < limit).then_some(n + 1)).ok()?;
        Some(Place(()))
    }

    /// Makes `process` (its pid from [`Runtime::new_pid`], its `resume`
    /// set) a live process in the place taken for it, and queues it.
    pub fn spawn(&self, _place: Place, process: Process) -> u64 {
        let pid = process.pid;
        let proc =
            Arc::new(Proc { pid, inbox: Inbox::default(), state: AtomicU8::new(ACTIVE), body: Mutex::new(process) });
        self.shard(pid).write().unwrap_or_else(PoisonError::into_inner).insert(pid, proc.clone());
        self.enqueue(proc);
        pid
    }

    /// Waits until the run ends; returns its exit status.
    pub fn wait(&self) -> i32 {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(status) = *outcome {
                return status;
            }
            outcome = self.ended.wait(outcome).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Ends the run with `status` (the first call wins).
    pub fn finish(&self, status: i32) {
        let mut outcome = self.outcome.lock().unwrap_or_else(PoisonError::into_inner);
        if outcome.is_none() {
            *outcome = Some(status);
        }
        self.finished.store(true, Ordering::SeqCst);
        self.ended.notify_all();
    }

    fn shard(&self, pid: u64) -> &RwLock<Table> {
        &self.table[pid as usize % SHARDS]
    }

    pub fn lookup(&self, pid: u64) -> Option<Task> {
        self.shard(pid).read().unwrap_or_else(PoisonError::into_inner).get(&pid).cloned()
    }

    /// Every live process's pid, in order.
    pub fn pids(&self) -> Vec<u64> {
        let mut pids: Vec<u64> = self
            .table
            .iter()
            .flat_map(|shard| shard.read().unwrap_or_else(PoisonError::into_inner).keys().copied().collect::<Vec<_>>())
            .collect();
        pids.sort_unstable();
        pids
    }

    /// The memory of every process but `pid` (one running on another
    /// scheduler right now counts as its bare structure).
    pub fn memory_of_others(&self, pid: u64) -> usize {
        let mut bytes = 0;
        for shard in self.table.iter() {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            for proc in shard.values().filter(|p| p.pid != pid) {
                bytes += proc.try_body().map_or(std::mem::size_of::<Proc>(), |body| body.memory_bytes());
            }
        }
        bytes
    }

    pub fn process_count(&self) -> usize {
        self.table.iter().map(|shard| shard.read().unwrap_or_else(PoisonError::into_inner).len()).sum()
    }

    // The signal is handed back on the rare failure path only; boxing it
    // would cost every message an allocation.
    #[allow(clippy::result_large_err)]
    /// Sends a signal to process `pid`; gives it back if there is no such
    /// process (or it is exiting).
    pub fn signal(&self, pid: u64, signal: Signal) -> Result<(), Signal> {
        // Pushed under the shard's read lock: no reference count is taken
        // unless the process must be queued.
        let shard = self.shard(pid).read().unwrap_or_else(PoisonError::into_inner);
        let Some(proc) = shard.get(&pid) else { return Err(signal) };
        proc.inbox.push(signal)?;
        if proc.state.load(Ordering::SeqCst) == WAITING
            && proc.state.compare_exchange(WAITING, ACTIVE, Ordering::SeqCst, Ordering::SeqCst).is_ok()
        {
            let task = proc.clone();
            drop(shard);
            self.enqueue(task);
        }
        Ok(())
    }

    /// Puts a process made runnable (spawned, or woken by a signal) in this
    /// scheduler's queue (or, from another thread, the injector), and wakes
    /// a parked scheduler when there is more work here than this scheduler
    /// can start now.
    fn enqueue(&self, task: Task) {
        self.enqueue_with(task, 1);
    }

    /// As [`Runtime::enqueue`], waking a parked scheduler when more than
    /// `spread` processes wait in this scheduler's queue.
    fn enqueue_with(&self, task: Task, spread: usize) {
        let local = LOCAL.with(Cell::get);
        let here = current().is_some_and(|r| std::ptr::eq(r, self));
        if !local.is_null() && here {
            // SAFETY: `LOCAL` is set by `schedule` on this thread to its own
            // worker, which lives (on that function's stack) as long as the
            // thread schedules; it is only used from this thread.
            let worker = unsafe { &*local };
            worker.push(task);
            if worker.len() > spread {
                self.notify();
            }
        } else {
            self.injector.push(task);
            self.notify();
        }
    }

    /// Wakes one parked scheduler, if any.
    fn notify(&self) {
        // Pairs with the fence in `park`: either this sees the sleeper, or
        // the sleeper sees the work just queued.
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.sleep_lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.wake_up.notify_one();
        }
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Looks for work for a short while (tens of microseconds) before the
    /// scheduler parks, as BEAM's schedulers spin: processes that wake each
    /// other across schedulers then find each other without a futex wait
    /// and wake-up per message (chameneosredux 1.7 s -> 1.0 s, skynet
    /// 1.4 s -> 0.85 s). Not while a socket is open: the poller thread
    /// then needs a core, and on two cores a spinning scheduler took it
    /// (echo_rr 98,400 -> 89,500 req/s). True when there is work.
    fn spin_for_work(&self) -> bool {
        if crate::net::get().is_some_and(|net| net.count() > 0) {
            return false;
        }
        for _ in 0..SPIN_ROUNDS {
            if self.has_work() || self.finished.load(Ordering::Relaxed) {
                return true;
            }
            (0..64).for_each(|_| std::hint::spin_loop());
        }
        false
    }

    fn park(&self) {
        let guard = self.sleep_lock.lock().unwrap_or_else(PoisonError::into_inner);
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !self.has_work() && !self.finished.load(Ordering::SeqCst) {
            drop(self.wake_up.wait(guard).unwrap_or_else(PoisonError::into_inner));
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// The next process to run: from the local queue, except that every
    /// [`INJECTOR_EVERY`]th pick looks at the injector first, so that
    /// processes woken from other threads (by timers) are not starved by a
    /// local queue that never empties.
    fn find_work(&self, local: &Worker<Task>, tick: u64) -> Option<Task> {
        if tick % INJECTOR_EVERY == 0 {
            if let Some(task) = std::iter::repeat_with(|| self.injector.steal_batch_and_pop(local))
                .find(|s| !s.is_retry())
                .and_then(Steal::success)
            {
                return Some(task);
            }
        }
        local.pop().or_else(|| {
            std::iter::repeat_with(|| {
                self.injector
                    .steal_batch_and_pop(local)
                    .or_else(|| self.stealers.iter().map(|s| s.steal_batch_and_pop(local)).collect())
            })
            .find(|s| !s.is_retry())
            .and_then(Steal::success)
        })
    }

    /// A scheduler thread: runs processes until the run ends.
    fn schedule(&'static self, worker: Worker<Task>, index: usize) {
        CURRENT.with(|c| c.set(Some(self)));
        LOCAL.with(|l| l.set(&worker));
        // Each slice runs on a coroutine of this scheduler's, with x
        // registers of its own, so that native code can suspend mid-way.
        let mut stacks: Stacks<Task> = Stacks::new(Box::new(move || {
            let mut machine = Machine::new(&self.code);
            Box::new(move |task: Task| self.run(&mut machine, task, index))
        }));
        // Slices suspended mid-way: their processes stay on this scheduler
        // (ACTIVE, in no queue) until they go on.
        let mut suspended: VecDeque<Suspended<Task>> = VecDeque::new();
        let mut tick = 0u64;
        while !self.finished.load(Ordering::Relaxed) {
            tick = tick.wrapping_add(1);
            // A suspended slice is as ready as a queued process: it goes on
            // every other pick, and always before the scheduler parks.
            if suspended.is_empty() || tick % 2 == 1 {
                if let Some(task) = self.find_work(&worker, tick) {
                    suspended.extend(stacks.run(task));
                    continue;
                }
            }
            match suspended.pop_front() {
                Some(slice) => suspended.extend(stacks.resume(slice)),
                None => {
                    if !self.spin_for_work() {
                        self.park();
                    }
                }
            }
        }
        // The run is over: slices suspended mid-way are abandoned with every
        // other process (unwinding them would only run half-done natives'
        // destructors).
        suspended.into_iter().for_each(std::mem::forget);
        LOCAL.with(|l| l.set(std::ptr::null()));
    }

    /// Runs one time slice of a process.
    fn run(&self, machine: &mut Machine<'_>, task: Task, index: usize) {
        let mut body = task.body.lock().unwrap_or_else(PoisonError::into_inner);
        let start = body.reductions;
        let killed = crate::signals::handle(&mut body, task.inbox.take());
        // Where it stands now is known: answer code checks (`purge.rs`).
        crate::purge::answer(&mut body);
        let end = if killed { SliceEnd::Killed } else { machine.run_slice(&mut body, &task.inbox, QUOTA) };
        // Checks taken in during the slice (a `receive`): it is between
        // slices now if it goes on; one that ends drops them (no code used).
        if matches!(end, SliceEnd::Yield | SliceEnd::Wait) {
            crate::purge::answer(&mut body);
        } else {
            body.checks = None;
        }
        if let Some(counter) = self.reductions.get(index) {
            counter.0.fetch_add(body.reductions - start, Ordering::Relaxed);
        }
        // The main process's end is the run's.
        let is_main = task.pid == MAIN_PID;
        match end {
            SliceEnd::Yield => {
                drop(body);
                self.enqueue_with(task, YIELD_SPREAD);
            }
            SliceEnd::Wait => {
                drop(body);
                task.state.store(WAITING, Ordering::SeqCst);
                if task.inbox.has_signals()
                    && task.state.compare_exchange(WAITING, ACTIVE, Ordering::SeqCst, Ordering::SeqCst).is_ok()
                {
                    self.enqueue(task);
                }
            }
            SliceEnd::Halt(status) => self.finish(status),
            SliceEnd::Finished(_) => {
                if is_main {
                    self.finish(0);
                }
                self.exit(&task, body, Message::new(atoms::NORMAL));
            }
            SliceEnd::Killed => {
                let reason = body.killed.take().map_or_else(|| Message::new(atoms::KILLED), |m| *m);
                if is_main {
                    self.main_failed(&Exception::new(Class::Exit, reason.term()));
                }
                self.exit(&task, body, reason);
            }
            SliceEnd::Crashed(exception) => {
                // Described before the reason is built: building it may
                // collect, which moves the exception's terms.
                if is_main {
                    self.main_failed(&exception);
                }
                let reason = Message::new(machine.exit_reason(&mut body, &exception));
                if !is_main && exception.class != Class::Exit {
                    error_report(task.pid, reason.term());
                }
                self.exit(&task, body, reason);
            }
        }
    }

    /// A process ends with `reason`: it leaves the table and the registry,
    /// then its links get exit signals and its watchers `'DOWN'` messages.
    fn exit(&self, task: &Task, mut body: MutexGuard<'_, Process>, reason: Message) {
        let pid = task.pid;
        task.state.store(EXITED, Ordering::SeqCst);
        let late = task.inbox.close();
        self.shard(pid).write().unwrap_or_else(PoisonError::into_inner).remove(&pid);
        self.live.fetch_sub(1, Ordering::AcqRel);
        self.unregister_pid(pid);
        // Link and monitor requests that arrived while it was ending are
        // answered as if it had ended just after them (the rest of what is
        // taken in goes with the body).
        crate::signals::handle(&mut body, late);
        if let Some(timer) = body.timer.take() {
            self.timers.cancel(timer.get());
        }
        let value = reason.term();
        let ties = body.ties.take().unwrap_or_default();
        for &table in &ties.tables {
            if let Some((heir, transfer)) = crate::ets::owner_exited(table, pid) {
                if self.signal(heir, Signal::Table { id: table, transfer }).is_err() {
                    crate::ets::delete(table);
                }
            }
        }
        crate::net::owner_exited(&ties.sockets, pid);
        for &link in &ties.links {
            let _ = self.signal(link, Signal::Exit { from: pid, reason: Message::new(value), linked: true });
        }
        for &(reference, watcher, name) in &ties.watchers {
            let _ = self.signal(watcher, Signal::Message(down_message(reference, pid, name, value)));
        }
        for &(reference, target, _) in &ties.monitors {
            let _ = self.signal(target, Signal::Demonitor(reference));
        }
    }

    /// The main process raised, or a signal killed it: the run ends with
    /// status 1 and the error printed as erl prints it.
    fn main_failed(&self, exception: &Exception) {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        eprint!("{}", crate::runner::describe(exception));
        self.finish(1);
    }

    // ------------------------------------------------------------ registry

    /// `register(Name, Pid)`: false if the name is taken, the process is
    /// gone, or it has a name already.
    pub fn register(&self, name: Term, pid: u64) -> bool {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let alive = self.lookup(pid).is_some_and(|p| p.is_alive());
        if !alive || registry.by_name.contains_key(&name) || registry.by_pid.contains_key(&pid) {
            return false;
        }
        registry.by_name.insert(name, pid);
        registry.by_pid.insert(pid, name);
        true
    }

    pub fn unregister(&self, name: Term) -> bool {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        match registry.by_name.remove(&name) {
            Some(pid) => {
                registry.by_pid.remove(&pid);
                true
            }
            None => false,
        }
    }

    fn unregister_pid(&self, pid: u64) {
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(name) = registry.by_pid.remove(&pid) {
            registry.by_name.remove(&name);
        }
    }

    pub fn whereis(&self, name: Term) -> Option<u64> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner).by_name.get(&name).copied()
    }

    pub fn name_of(&self, pid: u64) -> Option<Term> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner).by_pid.get(&pid).copied()
    }

    pub fn registered(&self) -> Vec<Term> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner).by_name.keys().copied().collect()
    }
}

/// `{'DOWN', Ref, process, Object, Reason}`, where Object is the pid, or
/// `{Name, Node}` for a monitor made by name.
pub fn down_message(reference: u64, pid: u64, name: Term, reason: Term) -> Message {
    let mut heap = Heap::with_young_words(2 + 3 + 6);
    let reference = heap.reference(reference);
    let object = if name.is_nil() { Term::pid(pid) } else { heap.tuple(&[name, atoms::NONODE]) };
    let down = heap.tuple(&[atoms::DOWN, reference, atoms::PROCESS, object, reason]);
    // The reason is copied from where it is (the dying process's message
    // buffer): the message owns all of its terms.
    Message::new(down)
}

/// erl's report of a process that crashed (on stderr).
fn error_report(pid: u64, reason: Term) {
    let text = crate::pretty::pretty(reason, 0, 80);
    crate::report::error(&format!("Error in process <0.{pid}.0> with exit value:\n{text}\n"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_one_small_allocation() {
        // With the `Arc` counts, a `Proc` and its body are one allocation
        // of mimalloc's 448-byte class; with the 256-byte young heap and a
        // first frame, an idle process stays under 1 KB (the goal of
        // DESIGN.md; `tests/scheduling.rs` measures a million of them).
        let size = std::mem::size_of::<Proc>() + 2 * std::mem::size_of::<usize>();
        assert!(size <= 448, "an Arc<Proc> is {size} bytes");
    }
}
