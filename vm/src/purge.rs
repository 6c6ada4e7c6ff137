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
//! own, which waits for each body in turn: a process that asks for a
//! purge waits for the answer in `receive` (`stdlib/code.actor`), which
//! leaves its own body free to be looked at, so that a purger running old
//! code is killed like any other, as under OTP (where the code server, not
//! the caller, purges). Purges are serialized by that thread; loads do not
//! wait for it.
//!
//! `purge` sends `exit(Pid, kill)` to every process that uses the old
//! version, waits until they are gone, then drops the version; `soft_purge`
//! drops it only if no process uses it. A version is never freed (see
//! `code.rs`): a fun or literal of it that escaped the check (in an ETS
//! table, in a message on its way) stays valid memory, and calling such a
//! fun raises `badfun`, as in OTP.

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::atom::atoms;
use crate::copy::Message;
use crate::heap::Heap;
use crate::mailbox::Signal;
use crate::module::LoadedModule;
use crate::process::{Process, Resume};
use crate::scheduler::Runtime;
use crate::term::Term;

/// How long the purger waits for one process's body (a process blocked in
/// a native that never ends its slice) before it counts it as unknown.
const BODY_WAIT: Duration = Duration::from_secs(5);

/// Whether `process` runs code of `module`.
pub fn uses(process: &Process, module: &LoadedModule) -> bool {
    let is = |m: &Arc<LoadedModule>| std::ptr::eq(Arc::as_ptr(m), module);
    if let Some(Resume::At { module: m, .. }) = &process.resume {
        if is(m) {
            return true;
        }
    }
    process.far.iter().any(is) || process.handlers.iter().any(|h| is(&h.module))
}

/// What looking at a process found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Uses,
    Free,
    /// Its body was not free within [`BODY_WAIT`].
    Unknown,
    Gone,
}

/// Looks at process `pid` between its slices (waiting for its body).
fn look_at(runtime: &Runtime, pid: u64, module: &LoadedModule) -> Use {
    let Some(proc) = runtime.lookup(pid) else { return Use::Gone };
    let deadline = Instant::now() + BODY_WAIT;
    let mut pause = Duration::from_micros(20);
    let body = loop {
        if !proc.is_alive() {
            return Use::Gone;
        }
        if let Some(body) = proc.try_body() {
            break body;
        }
        if Instant::now() > deadline {
            return Use::Unknown;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    };
    if uses(&body, module) {
        Use::Uses
    } else {
        Use::Free
    }
}

/// Work for the code server thread, answered with the message
/// `{Ref, Result}` to `reply_to` (`reference` is Ref's number); the work
/// builds Result in the answer's heap.
struct Request {
    work: Box<dyn FnOnce(&mut Heap) -> Term + Send>,
    reply_to: u64,
    reference: u64,
}

type Requests = Mutex<Option<Sender<Request>>>;

fn requests() -> &'static Requests {
    static REQUESTS: OnceLock<Requests> = OnceLock::new();
    REQUESTS.get_or_init(|| Mutex::new(None))
}

/// Runs `work` on the code server thread, one request at a time, off the
/// schedulers (it may block: a purge waits for process bodies, a load
/// compiles); its result comes to `reply_to` as `{Ref, Result}`, for
/// `stdlib/code.actor` to wait for in `receive`. False if the thread
/// cannot be started.
pub fn in_code_server(
    runtime: &'static Runtime,
    reply_to: u64,
    reference: u64,
    work: Box<dyn FnOnce(&mut Heap) -> Term + Send>,
) -> bool {
    let mut sender = requests().lock().unwrap_or_else(PoisonError::into_inner);
    if sender.is_none() {
        let (send, receive) = mpsc::channel::<Request>();
        let started = std::thread::Builder::new().name("code-server".to_owned()).spawn(move || {
            for request in receive {
                let mut heap = Heap::with_young_words(64);
                let mut result = [(request.work)(&mut heap)];
                heap.ensure(5, &mut [&mut result[..]]);
                let result = result[0];
                let reference = heap.reference(request.reference);
                let reply = heap.tuple(&[reference, result]);
                let _ = runtime.signal(request.reply_to, Signal::Message(Message::new(reply)));
            }
        });
        if started.is_err() {
            return false;
        }
        *sender = Some(send);
    }
    sender.as_ref().is_some_and(|s| s.send(Request { work, reply_to, reference }).is_ok())
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
/// it); blocks until done, so it runs on the purger thread or the control
/// socket's, never on a scheduler. `requester` is the sender of the kills.
pub fn purge(runtime: &Runtime, module: Term, soft: bool, requester: u64) -> Purged {
    let Some(old) = runtime.code.old(module) else { return Purged::NothingOld };
    let mut users = Vec::new();
    for pid in runtime.pids() {
        match look_at(runtime, pid, &old) {
            Use::Uses => users.push(pid),
            Use::Unknown if soft => users.push(pid),
            Use::Unknown | Use::Free | Use::Gone => {}
        }
        if soft && !users.is_empty() {
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
