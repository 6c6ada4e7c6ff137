//! Purging old code (OTP's `code:purge/1`, `code:soft_purge/1` and
//! `erlang:check_process_code/2`): which processes still use a module
//! version, and the thread that purges.
//!
//! A process uses a version when it runs its code: where it resumes, the
//! module of any return address on its stack, any `try`/`catch` handler.
//! Funs do not count, as in OTP since release 19 ("it is impossible to give
//! any guarantees that no processes in the system have such indirect
//! references"): a fun of a purged version raises `badfun` when called.
//!
//! A process's body can only be looked at between its time slices (the
//! scheduler running it holds it), so purging is done by a thread of its
//! own, the code server, which reads idle processes directly and asks
//! running ones (a [`Ticket`] their scheduler answers at the end of the
//! slice). A process that asks for a purge waits for the answer in
//! `receive` (`stdlib/code.actor`), which leaves its own body free to be
//! looked at, so that a caller running old code is killed like any other,
//! as under OTP (where the code server, not the caller, purges). Every
//! purge and load (`code:load_file/1`, the control socket, `--watch`) runs
//! on that thread, one at a time.
//!
//! `purge` sends `exit(Pid, kill)` to every process that uses the old
//! version, waits until they are gone, then drops the version; `soft_purge`
//! drops it only if no process uses it. A version is never freed (see
//! `code.rs`): a fun or literal of it still held anywhere (a heap, an ETS
//! table, a message on its way) stays valid memory, and calling such a fun
//! raises `badfun`, as in OTP.

use std::collections::HashSet;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::atom::atoms;
use crate::copy::Message;
use crate::heap::Heap;
use crate::mailbox::Signal;
use crate::module::LoadedModule;
use crate::process::{Process, Resume};
use crate::scheduler::Runtime;
use crate::term::Term;

/// How long the purger waits for running processes to answer (a process
/// blocked in a native that never ends its slice) before it counts them as
/// unknown.
const BODY_WAIT: Duration = Duration::from_secs(5);

/// Whether `process` runs code of `module` (compared by address).
pub fn uses(process: &Process, module: *const LoadedModule) -> bool {
    let is = |m: &Arc<LoadedModule>| std::ptr::eq(Arc::as_ptr(m), module);
    if let Some(Resume::At { module: m, .. }) = &process.resume {
        if is(m) {
            return true;
        }
    }
    process.far.iter().any(is) || process.handlers.iter().any(|h| is(&h.module))
}

/// A question put to processes that were running when the purger looked:
/// each answers at the end of its slice, when its state can be read
/// (`answer`, called by the scheduler).
#[derive(Debug)]
pub struct CodeCheck {
    /// The address of the old version asked about (kept alive by the asker).
    module: usize,
    state: Mutex<CheckState>,
    done: Condvar,
}

#[derive(Debug, Default)]
struct CheckState {
    /// Processes asked that have not answered yet.
    pending: HashSet<u64>,
    users: Vec<u64>,
}

/// One process's part of a [`CodeCheck`], sent to it as a signal: answered,
/// or dropped unanswered (the process ended); either way it counts once.
#[derive(Debug)]
pub struct Ticket {
    check: Arc<CodeCheck>,
    pid: u64,
}

impl Ticket {
    fn new(check: &Arc<CodeCheck>, pid: u64) -> Ticket {
        check.state.lock().unwrap_or_else(PoisonError::into_inner).pending.insert(pid);
        Ticket { check: check.clone(), pid }
    }

    fn answer(self, process: &Process) {
        // Never dereferenced: compared with the addresses of module versions.
        let module = self.check.module as *const LoadedModule;
        if uses(process, module) {
            self.check.state.lock().unwrap_or_else(PoisonError::into_inner).users.push(self.pid);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.check.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.pending.remove(&self.pid);
        if state.pending.is_empty() {
            self.check.done.notify_all();
        }
    }
}

/// Answers the code checks a process was sent (its scheduler calls this
/// between slices, where `resume` says where it is). Inline: it runs twice
/// per time slice and almost never has anything to do.
#[inline]
pub fn answer(process: &mut Process) {
    if process.checks.is_some() {
        answer_all(process);
    }
}

#[cold]
fn answer_all(process: &mut Process) {
    if let Some(tickets) = process.checks.take() {
        for ticket in *tickets {
            ticket.answer(process);
        }
    }
}

/// The processes that run `module` (stopping at the first when
/// `first_only`), and those that could not say within [`BODY_WAIT`]. A
/// process between slices is looked at directly; one running (or
/// suspended mid-way in a native) is sent a [`Ticket`] that it answers at
/// the end of its slice.
fn users_of(runtime: &Runtime, module: &LoadedModule, first_only: bool) -> (Vec<u64>, Vec<u64>) {
    let check = Arc::new(CodeCheck {
        module: module as *const LoadedModule as usize,
        state: Mutex::new(CheckState::default()),
        done: Condvar::new(),
    });
    let mut users = Vec::new();
    for pid in runtime.pids() {
        let Some(proc) = runtime.lookup(pid).filter(|p| p.is_alive()) else { continue };
        match proc.try_body() {
            Some(body) => {
                if uses(&body, module) {
                    users.push(pid);
                    if first_only {
                        return (users, Vec::new());
                    }
                }
            }
            // Given back (and so dropped, answered as "gone") if it ended.
            None => drop(runtime.signal(pid, Signal::CheckCode(Ticket::new(&check, pid)))),
        };
    }
    let deadline = Instant::now() + BODY_WAIT;
    let mut state = check.state.lock().unwrap_or_else(PoisonError::into_inner);
    while !state.pending.is_empty() && (!first_only || state.users.is_empty()) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        state = check.done.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    users.extend(state.users.iter().copied());
    let unknown = if first_only && !users.is_empty() { Vec::new() } else { state.pending.iter().copied().collect() };
    (users, unknown)
}

/// Work for the code server thread.
type Job = Box<dyn FnOnce() + Send>;

type Jobs = Mutex<Option<Sender<Job>>>;

fn jobs() -> &'static Jobs {
    static JOBS: OnceLock<Jobs> = OnceLock::new();
    JOBS.get_or_init(|| Mutex::new(None))
}

/// Queues `job` for the code server thread (started on first use), which
/// runs jobs one at a time, off the schedulers: every purge and load goes
/// through it, so they are serialized, and it may block (a purge waits for
/// answers, a load compiles). False if the thread cannot be started.
fn submit(job: Job) -> bool {
    let mut sender = jobs().lock().unwrap_or_else(PoisonError::into_inner);
    if sender.is_none() {
        let (send, receive) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new().name("code-server".to_owned()).spawn(move || {
            for job in receive {
                job();
            }
        });
        if started.is_err() {
            return false;
        }
        *sender = Some(send);
    }
    sender.as_ref().is_some_and(|s| s.send(job).is_ok())
}

/// Runs `work` on the code server thread for a process: its result, built
/// in the answer's heap, comes to `reply_to` as the message `{Ref, Result}`
/// (`reference` is Ref's number), for `stdlib/code.actor` to wait for in
/// `receive`.
pub fn in_code_server(
    runtime: &'static Runtime,
    reply_to: u64,
    reference: u64,
    work: Box<dyn FnOnce(&mut Heap) -> Term + Send>,
) -> bool {
    submit(Box::new(move || {
        let mut heap = Heap::with_young_words(64);
        let mut result = [work(&mut heap)];
        heap.ensure(5, &mut [&mut result[..]]);
        let reference = heap.reference(reference);
        let reply = heap.tuple(&[reference, result[0]]);
        let _ = runtime.signal(reply_to, Signal::Message(Message::new(reply)));
    }))
}

/// Runs `work` on the code server thread for a thread that is not a
/// process (the control socket's, `--watch`'s) and waits for its result.
pub fn on_code_server<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (send, receive) = mpsc::channel();
    let queued = submit(Box::new(move || {
        let _ = send.send(work());
    }));
    queued.then(|| receive.recv().ok()).flatten()
}

/// Asks the code server to purge `module` (`soft`: only if no process runs
/// its old version); the answer is OTP's boolean.
pub fn request(runtime: &'static Runtime, module: Term, soft: bool, reply_to: u64, reference: u64) -> bool {
    in_code_server(runtime, reply_to, reference, Box::new(move |_| purge(runtime, module, soft, reply_to).term(soft)))
}

/// What a purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purged {
    /// There was no old version.
    NothingOld,
    /// The old version is gone; these processes were killed first.
    Done { killed: Vec<u64> },
    /// A soft purge found these processes running the old version (or
    /// could not look at them), and changed nothing.
    InUse { users: Vec<u64> },
}

impl Purged {
    /// OTP's result: `purge` whether a process was killed, `soft_purge`
    /// whether no old version is left.
    fn term(&self, soft: bool) -> Term {
        let value = match self {
            Purged::NothingOld => soft,
            Purged::Done { killed } => soft || !killed.is_empty(),
            Purged::InUse { .. } => false,
        };
        if value {
            atoms::TRUE
        } else {
            atoms::FALSE
        }
    }
}

/// Purges the old version of `module` (`soft`: only if no process runs
/// it); blocks until done, so it runs on the code server thread, never on a
/// scheduler. `requester` is the sender of the
/// kills.
pub fn purge(runtime: &Runtime, module: Term, soft: bool, requester: u64) -> Purged {
    let Some(old) = runtime.code.old(module) else { return Purged::NothingOld };
    let (mut users, unknown) = users_of(runtime, &old, soft);
    if soft {
        users.extend(unknown);
        if !users.is_empty() {
            return Purged::InUse { users };
        }
    }
    for &pid in &users {
        let kill = Signal::Exit { from: requester, reason: Message::new(atoms::KILL), linked: false };
        let _ = runtime.signal(pid, kill);
    }
    // Gone before the purge returns, as OTP's code server waits for them.
    let deadline = Instant::now() + BODY_WAIT;
    while users.iter().any(|&pid| runtime.lookup(pid).is_some_and(|p| p.is_alive())) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(100));
    }
    runtime.code.purge(module);
    Purged::Done { killed: users }
}
