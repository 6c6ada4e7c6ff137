//! The timer service: `receive ... after` timeouts, `erlang:send_after/3`
//! and `timer:sleep/1` (a `receive after`). One thread keeps every pending
//! timer in a binary heap ordered by deadline, so starting a timer is
//! O(log n) and a million pending timers cost a heap of a million entries;
//! it sleeps until the earliest deadline (or until a nearer one is added:
//! only a timer due before it would wake by itself wakes it)
//! and delivers what expired as signals, through the same inboxes as
//! messages, so a waiting process is woken as by a message.
//!
//! Cancelling removes the timer from the pending table; its heap entry is
//! left and skipped when its deadline comes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::copy::Message;
use crate::mailbox::Signal;
use crate::scheduler::Runtime;
use crate::term::Term;

/// What a timer does when it expires.
#[derive(Debug)]
pub enum Action {
    /// Ends the `receive ... after` that process `pid` waits in.
    Timeout { pid: u64 },
    /// `erlang:send_after/3`: sends `message` to a pid or registered name.
    Send { to: Term, message: Message },
}

#[derive(Debug, Default)]
struct State {
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    pending: HashMap<u64, (Instant, Action)>,
    /// When the timer thread, asleep, will wake by itself (`None`: it waits
    /// for a notification, or it is awake and looks at the heap before it
    /// sleeps again). A new timer wakes it only if due before that: a
    /// `receive ... after` that is started and cancelled again and again
    /// (every `gen_server:call`) then costs the thread nothing.
    wakes_at: Option<Instant>,
    asleep: bool,
}

#[derive(Debug, Default)]
pub struct Timers {
    state: Mutex<State>,
    changed: Condvar,
}

impl Timers {
    /// Starts timer `id` (a fresh reference number).
    pub fn start(&self, id: u64, after: Duration, action: Action) {
        let deadline = Instant::now() + after;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let wake = state.asleep && state.wakes_at.is_none_or(|at| deadline < at);
        state.deadlines.push(Reverse((deadline, id)));
        state.pending.insert(id, (deadline, action));
        if wake {
            // Woken now: later timers need not wake it again.
            state.asleep = false;
        }
        drop(state);
        if wake {
            self.changed.notify_one();
        }
    }

    /// Cancels timer `id`; returns the time it had left, if it was pending.
    pub fn cancel(&self, id: u64) -> Option<Duration> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (deadline, _) = state.pending.remove(&id)?;
        // Nothing is left when it is cancelled: free the heap of dead entries.
        if state.pending.is_empty() {
            state.deadlines.clear();
        }
        Some(deadline.saturating_duration_since(Instant::now()))
    }

    /// The time timer `id` has left, if it is pending.
    pub fn remaining(&self, id: u64) -> Option<Duration> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.pending.get(&id).map(|(deadline, _)| deadline.saturating_duration_since(Instant::now()))
    }

    /// The timer thread: delivers expired timers for ever.
    pub fn run(&self, runtime: &Runtime) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            let mut expired = Vec::new();
            while let Some(&Reverse((deadline, id))) = state.deadlines.peek() {
                if deadline > now {
                    break;
                }
                state.deadlines.pop();
                if let Some((_, action)) = state.pending.remove(&id) {
                    expired.push((id, action));
                }
            }
            if !expired.is_empty() {
                drop(state);
                for (id, action) in expired {
                    match action {
                        Action::Timeout { pid } => {
                            let _ = runtime.signal(pid, Signal::Timeout(id));
                        }
                        Action::Send { to, message } => {
                            let pid = if to.is_pid() { Some(to.pid_number()) } else { runtime.whereis(to) };
                            if let Some(pid) = pid {
                                let _ = runtime.signal(pid, Signal::Message(message));
                            }
                        }
                    }
                }
                state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let next = state.deadlines.peek().map(|&Reverse((deadline, _))| deadline);
            state.wakes_at = next;
            state.asleep = true;
            state = match next {
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(now);
                    self.changed.wait_timeout(state, wait).unwrap_or_else(PoisonError::into_inner).0
                }
            };
            state.asleep = false;
        }
    }
}
