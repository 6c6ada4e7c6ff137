//! A process's inbox: the lock-free queue other processes (and the timer
//! thread) push signals onto — messages, exit signals, link and monitor
//! requests, timeouts — and that only the process itself takes from, all at
//! once, when it runs (see `docs/design/receive.md`).
//!
//! It is a Treiber stack: a push is one compare-and-swap on the head; the
//! owner swaps the whole list out and reverses it, which restores the order
//! of the pushes, so signals from one sender arrive in the order sent. An
//! empty inbox is one null word, so an idle process pays 8 bytes for it.
//! A dying process closes its inbox: later pushes fail and the sender knows
//! the receiver is gone (a link or monitor request is then answered with
//! `noproc` by the sender itself).

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::copy::Message;

/// Something sent to a process.
#[derive(Debug)]
pub enum Signal {
    /// A message for the mailbox.
    Message(Message),
    /// An exit signal from `from`: over a link when `linked`, else `exit/2`.
    Exit { from: u64, reason: Message, linked: bool },
    /// `from` linked itself to this process.
    Link(u64),
    /// `from` removed its link to this process.
    Unlink(u64),
    /// `watcher` monitors this process under `reference`, by `name` (an
    /// atom) or by pid (`[]`).
    Monitor { watcher: u64, reference: u64, name: crate::term::Term },
    /// The monitor `reference` on this process was removed.
    Demonitor(u64),
    /// The receive timer `id` expired.
    Timeout(u64),
    /// The process now owns socket (port) `id`: it closes when the process
    /// ends (an accept completed for it, or `controlling_process/2`).
    Socket(u64),
    /// The process now owns ETS table `id` (`give_away/3`, or it is the
    /// heir of an owner that ended): `transfer` is the `'ETS-TRANSFER'`
    /// message that tells it.
    Table { id: u64, transfer: Message },
    /// Socket `id`, which this process owned, was closed by another
    /// process: the exit signal (`normal`) of the port's link to its owner.
    PortExit(u64),
    /// Does the process run a given module version? Answered between
    /// slices (`purge.rs`).
    CheckCode(crate::purge::Ticket),
}

struct Node {
    signal: Signal,
    next: *mut Node,
}

/// The head's value once the inbox is closed. Never dereferenced.
fn closed() -> *mut Node {
    ptr::dangling_mut::<Node>()
}

#[derive(Debug)]
pub struct Inbox {
    head: AtomicPtr<Node>,
}

impl Default for Inbox {
    fn default() -> Inbox {
        Inbox { head: AtomicPtr::new(ptr::null_mut()) }
    }
}

impl Inbox {
    // The signal is handed back on the rare failure path only; boxing it
    // would cost every message an allocation.
    #[allow(clippy::result_large_err)]
    /// Pushes a signal; gives it back if the inbox is closed.
    pub fn push(&self, signal: Signal) -> Result<(), Signal> {
        let node = Box::into_raw(Box::new(Node { signal, next: ptr::null_mut() }));
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head == closed() {
                // SAFETY: `node` came from `Box::into_raw` above and was never shared.
                let node = unsafe { Box::from_raw(node) };
                return Err(node.signal);
            }
            // SAFETY: the node is still ours alone until the swap succeeds.
            unsafe { (*node).next = head };
            // SeqCst: a sender's push and its following read of the
            // receiver's state must not be reordered (see `Runtime::signal`).
            match self.head.compare_exchange_weak(head, node, Ordering::SeqCst, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(current) => head = current,
            }
        }
    }

    /// Whether a signal is waiting (or the inbox is closed).
    pub fn has_signals(&self) -> bool {
        !self.head.load(Ordering::SeqCst).is_null()
    }

    /// Takes every waiting signal, oldest first.
    pub fn take(&self) -> Signals {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head.is_null() || head == closed() {
                return Signals { head: ptr::null_mut() };
            }
            match self.head.compare_exchange_weak(head, ptr::null_mut(), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(current) => head = current,
            }
        }
        // SAFETY: the list was swapped out, so this thread owns its nodes.
        unsafe { Signals::reversed(head) }
    }

    /// Closes the inbox; returns the signals that were waiting, oldest first.
    pub fn close(&self) -> Signals {
        let head = self.head.swap(closed(), Ordering::AcqRel);
        if head == closed() {
            return Signals { head: ptr::null_mut() };
        }
        // SAFETY: as in `take`.
        unsafe { Signals::reversed(head) }
    }
}

/// Signals taken from an inbox, oldest first: the nodes themselves, freed
/// as they are consumed (taking from an inbox allocates nothing).
#[derive(Debug)]
pub struct Signals {
    head: *mut Node,
}

impl Signals {
    /// Puts a swapped-out list (newest first) in push order.
    ///
    /// # Safety
    /// `head` must be null or the head of a list of nodes made by `push`
    /// that no other thread can reach any more.
    unsafe fn reversed(mut head: *mut Node) -> Signals {
        let mut reversed = ptr::null_mut();
        while !head.is_null() {
            // SAFETY: the nodes are owned here (the caller's guarantee).
            unsafe {
                let next = (*head).next;
                (*head).next = reversed;
                reversed = head;
                head = next;
            }
        }
        Signals { head: reversed }
    }
}

impl Iterator for Signals {
    type Item = Signal;

    fn next(&mut self) -> Option<Signal> {
        if self.head.is_null() {
            return None;
        }
        // SAFETY: the node came from `Box::into_raw` and is owned by `self`.
        let node = unsafe { Box::from_raw(self.head) };
        self.head = node.next;
        Some(node.signal)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for signal in self.by_ref() {
            drop(signal);
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        let head = *self.head.get_mut();
        if head != closed() {
            // SAFETY: `&mut self`: no other thread can reach the list.
            drop(unsafe { Signals::reversed(head) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn link_of(signal: &Signal) -> u64 {
        match signal {
            Signal::Link(n) => *n,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn signals_come_out_in_push_order_and_close_refuses_more() {
        let inbox = Inbox::default();
        assert!(!inbox.has_signals());
        for n in 0..5 {
            inbox.push(Signal::Link(n)).unwrap();
        }
        assert!(inbox.has_signals());
        let taken: Vec<u64> = inbox.take().map(|s| link_of(&s)).collect();
        assert_eq!(taken, [0, 1, 2, 3, 4]);
        assert_eq!(inbox.take().count(), 0);
        inbox.push(Signal::Link(9)).unwrap();
        let left: Vec<u64> = inbox.close().map(|s| link_of(&s)).collect();
        assert_eq!(left, [9]);
        assert!(matches!(inbox.push(Signal::Link(10)), Err(Signal::Link(10))));
    }

    #[test]
    fn concurrent_senders_lose_nothing_and_keep_their_own_order() {
        let inbox = Arc::new(Inbox::default());
        let senders: Vec<_> = (0..4u64)
            .map(|sender| {
                let inbox = inbox.clone();
                std::thread::spawn(move || {
                    for n in 0..20_000u64 {
                        inbox.push(Signal::Link(sender << 32 | n)).unwrap();
                    }
                })
            })
            .collect();
        let mut next = [0u64; 4];
        let mut received = 0;
        while received < 80_000 {
            for signal in inbox.take() {
                let value = link_of(&signal);
                let (sender, n) = ((value >> 32) as usize, value & 0xffff_ffff);
                assert_eq!(n, next[sender], "sender {sender} out of order");
                next[sender] += 1;
                received += 1;
            }
        }
        senders.into_iter().for_each(|s| s.join().unwrap());
        assert_eq!(next, [20_000; 4]);
    }
}
