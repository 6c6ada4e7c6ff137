//! What a process does with the signals it takes from its inbox, in the
//! order they were sent: messages join the mailbox (copied into the heap),
//! link and monitor requests update its tables, receive timeouts mark the
//! `receive` as timed out, sockets and ETS tables passed to the process
//! join its lists (they close, or pass to their heir, when it ends), code
//! checks wait to be answered at the end of the slice (`purge.rs`), and
//! exit signals follow OTP's rules:
//!
//! - `exit(Pid, kill)` (not over a link) kills unconditionally, with reason
//!   `killed`;
//! - with `trap_exit` set, every other exit signal becomes the message
//!   `{'EXIT', From, Reason}` (a `kill` arriving over a link included);
//! - otherwise `normal` is ignored (except `exit(self(), normal)`, which
//!   ends the process), and any other reason kills the process with it.
//!
//! An exit signal over a link that no longer exists (an `unlink` raced it)
//! is dropped. Once the process is killed, later messages and exit signals
//! are dropped; link and monitor requests are still recorded, so that the
//! exit answers them.

use crate::atom::atoms;
use crate::copy::Message;
use crate::heap::Heap;
use crate::mailbox::{Signal, Signals};
use crate::process::Process;
use crate::term::Term;

/// Handles `signals` (messages join the mailbox in their buffers: nothing
/// is copied into the heap here, so no term moves); returns whether the
/// process was killed (its reason is then in `Process::killed`).
pub fn handle(process: &mut Process, signals: Signals) -> bool {
    for signal in signals {
        match signal {
            Signal::Message(message) => {
                if process.killed.is_none() {
                    process.deliver(message);
                }
            }
            Signal::Exit { from, reason, linked } => {
                if process.killed.is_none() {
                    exit_signal(process, from, reason, linked);
                }
            }
            Signal::Link(from) => {
                if !process.ties().links.contains(&from) {
                    process.ties_mut().links.push(from);
                }
            }
            Signal::Unlink(from) => process.ties_mut().links.retain(|&l| l != from),
            Signal::Monitor { watcher, reference, name } => {
                process.ties_mut().watchers.push((reference, watcher, name))
            }
            Signal::Demonitor(reference) => process.ties_mut().watchers.retain(|w| w.0 != reference),
            Signal::Socket(id) => process.own_socket(id),
            // Owned even when killed: its exit then deletes the table or
            // passes it on.
            Signal::Table { id, transfer } => {
                process.ties_mut().tables.push(id);
                if process.killed.is_none() {
                    process.deliver(transfer);
                }
            }
            // A port's `normal` exit signal: seen only when trapping exits.
            Signal::PortExit(id) => {
                if process.killed.is_none() && process.trap_exit {
                    let mut scratch = Heap::with_young_words(4);
                    let message = scratch.tuple(&[atoms::EXIT_SIGNAL, Term::port(id), atoms::NORMAL]);
                    process.deliver(Message::new(message));
                }
            }
            Signal::CheckCode(ticket) => process.checks.get_or_insert_with(Box::default).push(ticket),
            Signal::Timeout(timer) => {
                if process.timer.is_some_and(|t| t.get() == timer) {
                    process.timer = None;
                    process.timed_out = true;
                }
            }
        }
    }
    process.killed.is_some()
}

/// Handles one signal the process sends itself (`exit(self(), Reason)`).
pub fn handle_one(process: &mut Process, signal: Signal) -> bool {
    if let Signal::Exit { from, reason, linked } = signal {
        if process.killed.is_none() {
            exit_signal(process, from, reason, linked);
        }
    }
    process.killed.is_some()
}

fn exit_signal(process: &mut Process, from: u64, reason: Message, linked: bool) {
    let value = reason.term();
    if linked {
        if !process.ties().links.contains(&from) {
            return;
        }
        process.ties_mut().links.retain(|&l| l != from);
    }
    if !linked && value == atoms::KILL {
        process.killed = Some(Box::new(Message::new(atoms::KILLED)));
    } else if process.trap_exit {
        let mut scratch = Heap::with_young_words(4);
        let message = scratch.tuple(&[atoms::EXIT_SIGNAL, Term::pid(from), reason.term()]);
        process.deliver(Message::new(message));
    } else if value != atoms::NORMAL || (!linked && from == process.pid) {
        process.killed = Some(Box::new(reason));
    }
}
