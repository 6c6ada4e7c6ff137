//! One socket (a listener, a connection, or a connection being made) and
//! its state machine. Every change of state happens under the socket's
//! mutex and ends in [`State::progress`], which does whatever the new state
//! allows: completes a connect, accepts for waiting acceptors, writes
//! queued output, reads and cuts packets for the owner (active mode) or for
//! a waiting `recv`, and notices the end of the stream. The poller thread
//! calls it when the kernel reports readiness; the built-ins call it after
//! each request, so a `recv` whose data is already there, or a `send` the
//! kernel takes at once, completes in the calling process without a
//! message or a thread hand-off.
//!
//! Readiness is edge-triggered (mio): `readable` and `writable` are set by
//! an event and cleared only by an operation that would block, so a socket
//! nobody reads from is never read (its bytes wait in the kernel, which is
//! the flow control of passive mode) and never busies the poller.
//!
//! Messages to processes are pushed while the mutex is held, so everything
//! the socket sent before a change of its state (`{active, false}`, a new
//! owner) is in the old owner's inbox by the time the change returns; this
//! is what `controlling_process/2` relies on to forward them in order.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};

use mio::net::{TcpListener, TcpStream};

use super::options::{Active, ActiveChange, Mode, Options, Setting};
use super::packet::{self, Cut, Packet};
use super::{errno, Net};
use crate::atom::atoms;
use crate::copy::Message;
use crate::heap::Heap;
use crate::mailbox::Signal;
use crate::term::Term;

/// The most bytes one read takes from the kernel: enough for a busy
/// connection's burst, and a per-thread buffer, so an idle connection holds
/// no read buffer of its own.
const READ_CHUNK: usize = 64 * 1024;

/// Input kept by a connection between packets is given back to the
/// allocator when it empties if it grew past this.
const KEEP_INPUT: usize = 4096;

thread_local! {
    static SCRATCH: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// The result of a request, as the built-in returns it or as the
/// `{inet_async, S, Ref, Result}` message carries it.
#[derive(Debug)]
pub enum Outcome {
    Ok,
    /// `{ok, Data}`: a binary or a list, by the mode at delivery.
    Data(Vec<u8>, Mode),
    /// `{ok, Socket}`: an accepted connection (its owner is the acceptor).
    Socket(u64),
    /// `{error, Reason}`.
    Error(Term),
}

impl Outcome {
    fn words(&self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Data(bytes, mode) => 3 + data_words(bytes, *mode),
            Outcome::Socket(_) | Outcome::Error(_) => 3,
        }
    }

    /// The result term; the heap needs [`Outcome::words`] of room.
    fn build(&self, heap: &mut Heap) -> Term {
        match self {
            Outcome::Ok => atoms::OK,
            Outcome::Data(bytes, mode) => {
                let data = build_data(heap, bytes, *mode);
                heap.tuple(&[atoms::OK, data])
            }
            Outcome::Socket(id) => heap.tuple(&[atoms::OK, Term::port(*id)]),
            Outcome::Error(reason) => heap.tuple(&[atoms::ERROR, *reason]),
        }
    }

    /// Builds the result in a process's heap (which must have room).
    pub fn into_term(self, heap: &mut Heap) -> Term {
        self.build(heap)
    }

    /// The heap words [`Outcome::into_term`] needs.
    pub fn term_words(&self) -> usize {
        self.words()
    }
}

fn data_words(bytes: &[u8], mode: Mode) -> usize {
    match mode {
        Mode::Binary => Heap::words_for_binary(bytes.len()),
        Mode::List => 2 * bytes.len(),
    }
}

fn build_data(heap: &mut Heap, bytes: &[u8], mode: Mode) -> Term {
    match mode {
        Mode::Binary => heap.binary(bytes),
        Mode::List => {
            let mut list = Term::NIL;
            for &byte in bytes.iter().rev() {
                list = heap.cons(Term::small(i64::from(byte)).unwrap_or(Term::NIL), list);
            }
            list
        }
    }
}

/// A message built outside any process: in a scratch heap, then copied
/// into a buffer of its own.
fn message(words: usize, build: impl FnOnce(&mut Heap) -> Term) -> Message {
    let mut heap = Heap::with_young_words(words);
    Message::new(build(&mut heap))
}

/// What a request answers at once, or the reference of the
/// `{inet_async, S, Ref, _}` (or `{inet_reply, ...}`) message to wait for.
#[derive(Debug)]
pub enum Answer {
    Now(Outcome),
    Wait(u64),
}

/// A process waiting for a `recv`, an `accept`, a `connect` or a blocked
/// `send` to complete.
#[derive(Debug)]
struct Waiter {
    pid: u64,
    reference: u64,
    /// The length a raw `recv/2` asked for.
    length: usize,
    /// The caller is still in the built-in: its outcome goes to
    /// `State::direct`, not into a message.
    direct: bool,
}

#[derive(Debug)]
enum Io {
    Listener(TcpListener),
    Connecting(TcpStream),
    Stream(TcpStream),
    /// The descriptor is closed but the port lives on (a passive socket
    /// that saw its peer close): requests answer `closed` or `enotconn`.
    Closed,
}

#[derive(Debug)]
struct State {
    io: Io,
    owner: u64,
    options: Options,
    /// Bytes received and not yet delivered, from `consumed` on.
    input: Vec<u8>,
    consumed: usize,
    /// Bytes to send, from `written` on.
    output: Vec<u8>,
    written: usize,
    /// Acceptors (a queue), or the one `recv` or `connect` caller.
    waiters: Vec<Waiter>,
    /// Senders blocked above the high watermark.
    senders: Vec<Waiter>,
    /// The outcome for a caller still in its built-in.
    direct: Option<Outcome>,
    readable: bool,
    writable: bool,
    /// The peer closed its side, and `exit_on_close` is false: sends go on.
    read_closed: bool,
    /// The write side is shut down (`shutdown(S, write)`).
    write_closed: bool,
    /// A read found the end of the stream; what is buffered is delivered
    /// before the end is.
    eof: bool,
    /// The kernel reported the peer's end (or an error): reads go on to
    /// `WouldBlock` or the end from then on.
    hangup: bool,
    /// `shutdown(S, write)` waits for the output to drain.
    shutdown_pending: bool,
    /// The port is gone for its users (closed, or died with its peer); a
    /// closed connection stays only to flush its output.
    gone: bool,
}

/// A socket as the table holds it.
#[derive(Debug)]
pub struct Socket {
    pub id: u64,
    state: Mutex<State>,
}

/// What the state machine works with besides the state: the subsystem
/// (the poller's registry, the table, the runtime) and the socket's id.
#[derive(Clone, Copy)]
struct Cx<'a> {
    net: &'a Net,
    id: u64,
}

/// A setting the socket or the kernel refused.
#[derive(Debug, Clone, Copy)]
struct Einval;

/// How a connection's stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The peer closed, or reset (reported as a close, as erl does unless
    /// `show_econnreset` is set).
    Closed,
    /// A read failed with this reason.
    Error(Term),
    /// A length header announced more than `packet_size`.
    TooLarge,
}

impl Socket {
    fn new(id: u64, io: Io, owner: u64, options: Options) -> Socket {
        Socket {
            id,
            state: Mutex::new(State {
                io,
                owner,
                options,
                input: Vec::new(),
                consumed: 0,
                output: Vec::new(),
                written: 0,
                waiters: Vec::new(),
                senders: Vec::new(),
                direct: None,
                // Unknown until an operation would block: trying costs one
                // system call, assuming wrongly would miss the first edge.
                readable: true,
                writable: true,
                read_closed: false,
                write_closed: false,
                eof: false,
                hangup: false,
                shutdown_pending: false,
                gone: false,
            }),
        }
    }

    pub fn listener(id: u64, listener: TcpListener, owner: u64, options: Options) -> Socket {
        Socket::new(id, Io::Listener(listener), owner, options)
    }

    pub fn stream(id: u64, stream: TcpStream, owner: u64, options: Options) -> Socket {
        Socket::new(id, Io::Stream(stream), owner, options)
    }

    /// A connection being made; its owner waits for the outcome (a message
    /// with the reference returned), queued before the socket is
    /// registered so that no event can come before it.
    pub fn connecting(id: u64, stream: TcpStream, owner: u64, options: Options) -> (Socket, u64) {
        let socket = Socket::new(id, Io::Connecting(stream), owner, options);
        let reference = crate::scheduler::new_reference();
        socket.lock().waiters.push(Waiter { pid: owner, reference, length: 0, direct: false });
        (socket, reference)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers the descriptor with the poller.
    pub fn register(&self, registry: &mio::Registry) -> std::io::Result<()> {
        let token = mio::Token(self.id as usize);
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        match &mut self.lock().io {
            Io::Listener(l) => registry.register(l, token, mio::Interest::READABLE),
            Io::Connecting(s) | Io::Stream(s) => registry.register(s, token, interest),
            Io::Closed => Ok(()),
        }
    }

    /// The kernel reported readiness.
    pub fn on_event(&self, net: &Net, readable: bool, writable: bool, hangup: bool) {
        let mut state = self.lock();
        state.readable |= readable;
        state.hangup |= hangup;
        state.writable |= writable;
        state.progress(Cx { net, id: self.id });
    }

    /// Runs a request on the socket: `f` sees the state (and may queue a
    /// waiter for its caller, returning the reference), then the state
    /// machine goes as far as it can; a caller whose request completed
    /// meanwhile gets the outcome now, one still waiting gets a message.
    fn request(&self, net: &Net, f: impl FnOnce(&mut State, &Net, u64) -> Result<Option<u64>, Outcome>) -> Answer {
        let cx = Cx { net, id: self.id };
        let mut state = self.lock();
        if state.gone {
            return Answer::Now(Outcome::Error(atoms::CLOSED));
        }
        let reference = match f(&mut state, net, self.id) {
            Ok(reference) => reference,
            Err(outcome) => return Answer::Now(outcome),
        };
        state.progress(cx);
        if let Some(outcome) = state.direct.take() {
            return Answer::Now(outcome);
        }
        match reference {
            Some(reference) => {
                let state = &mut *state;
                for waiter in state.waiters.iter_mut().chain(state.senders.iter_mut()) {
                    waiter.direct = false;
                }
                Answer::Wait(reference)
            }
            None => Answer::Now(Outcome::Ok),
        }
    }

    /// `gen_tcp:recv(S, Length)` by process `pid`.
    pub fn recv(&self, net: &Net, pid: u64, length: usize) -> Answer {
        self.request(net, |state, _, _| {
            if !matches!(state.io, Io::Stream(_)) {
                return Err(Outcome::Error(atoms::ENOTCONN));
            }
            if state.options.active != Active::False || (state.options.packet != Packet::Raw && length != 0) {
                return Err(Outcome::Error(atoms::EINVAL));
            }
            if !state.waiters.is_empty() {
                return Err(Outcome::Error(atoms::EALREADY));
            }
            if state.read_closed {
                return Err(Outcome::Error(atoms::CLOSED));
            }
            Ok(Some(state.wait(pid, length)))
        })
    }

    /// `gen_tcp:accept(L)` by process `pid`; acceptors are served in turn.
    pub fn accept(&self, net: &Net, pid: u64) -> Answer {
        self.request(net, |state, _, _| {
            if !matches!(state.io, Io::Listener(_)) {
                return Err(Outcome::Error(atoms::EINVAL));
            }
            Ok(Some(state.wait(pid, 0)))
        })
    }

    /// `gen_tcp:send(S, Bytes)`: written now as far as the kernel takes it,
    /// the rest queued; the caller waits while the queue is above the high
    /// watermark.
    pub fn send(&self, net: &Net, pid: u64, bytes: &[u8]) -> Answer {
        self.request(net, |state, net, id| {
            match state.io {
                Io::Stream(_) if !state.write_closed && !state.shutdown_pending => {}
                Io::Listener(_) | Io::Connecting(_) => return Err(Outcome::Error(atoms::ENOTCONN)),
                _ => return Err(Outcome::Error(atoms::CLOSED)),
            }
            let header = packet::header(state.options.packet, bytes.len());
            if state.output.len() == state.written && state.writable && header.is_none() {
                // Nothing queued: straight from the caller's bytes.
                let Io::Stream(stream) = &mut state.io else { unreachable!("matched above") };
                match write_some(stream, bytes) {
                    Ok((sent, blocked)) => {
                        state.writable &= !blocked;
                        state.output.extend_from_slice(&bytes[sent..]);
                    }
                    Err(_) => {
                        state.stream_ended(Cx { net, id }, End::Closed);
                        return Err(Outcome::Error(atoms::CLOSED));
                    }
                }
            } else {
                if let Some((header, size)) = header {
                    state.output.extend_from_slice(&header[..size]);
                }
                state.output.extend_from_slice(bytes);
            }
            if state.output.len() - state.written > state.options.high_watermark as usize {
                let reference = crate::scheduler::new_reference();
                state.senders.push(Waiter { pid, reference, length: 0, direct: true });
                return Ok(Some(reference));
            }
            Ok(None)
        })
    }

    /// `inet:setopts/2`.
    pub fn setopts(&self, net: &Net, settings: &[Setting]) -> Answer {
        self.request(net, |state, net, id| {
            if settings.iter().any(|s| s.at_creation_only()) {
                return Err(Outcome::Error(atoms::EINVAL));
            }
            for &setting in settings {
                state.set(Cx { net, id }, setting).map_err(|Einval| Outcome::Error(atoms::EINVAL))?;
            }
            Ok(None)
        })
    }

    /// `gen_tcp:close/1`, and the owner's end: the port is gone at once;
    /// queued output is still sent (unless `{linger, {true, 0}}`), then the
    /// descriptor closes.
    pub fn close(&self, net: &Net) {
        let cx = Cx { net, id: self.id };
        let mut state = self.lock();
        if state.gone {
            return;
        }
        state.gone = true;
        state.fail_waiters(cx, atoms::CLOSED);
        let flushing =
            matches!(state.io, Io::Stream(_)) && state.output.len() > state.written && state.options.linger != Some(0);
        if !flushing {
            state.finish(cx);
        }
    }

    /// The owner `pid` ended: the socket closes with it (unless it has
    /// passed to another owner meanwhile).
    pub fn owner_exited(&self, net: &Net, pid: u64) {
        let owned = self.lock().owner == pid;
        if owned {
            self.close(net);
        }
    }

    /// Whether `pid` owns this socket and it is still open.
    pub fn is_owned_by(&self, pid: u64) -> bool {
        let state = self.lock();
        !state.gone && state.owner == pid
    }

    /// Cancels the request `reference` (its caller timed out); false if it
    /// had completed (its message is on its way). A cancelled connect
    /// closes the socket.
    pub fn cancel(&self, net: &Net, reference: u64) -> bool {
        let mut state = self.lock();
        let before = state.waiters.len() + state.senders.len();
        state.waiters.retain(|w| w.reference != reference);
        state.senders.retain(|w| w.reference != reference);
        let cancelled = state.waiters.len() + state.senders.len() < before;
        if cancelled && matches!(state.io, Io::Connecting(_)) {
            state.gone = true;
            state.finish(Cx { net, id: self.id });
        }
        cancelled
    }

    /// `gen_tcp:shutdown(S, How)`.
    pub fn shutdown(&self, net: &Net, how: Shutdown) -> Answer {
        self.request(net, |state, _, _| {
            let Io::Stream(stream) = &state.io else {
                let reason = if matches!(state.io, Io::Closed) { atoms::CLOSED } else { atoms::ENOTCONN };
                return Err(Outcome::Error(reason));
            };
            if how != Shutdown::Write {
                let _ = stream.shutdown(Shutdown::Read);
            }
            // The write side closes once queued output is sent, as inet_drv
            // delays it.
            if how != Shutdown::Read {
                state.shutdown_pending = true;
            }
            Ok(None)
        })
    }

    /// Passes the socket to `pid` (`controlling_process/2`, which checked
    /// that the caller owns it).
    pub fn set_owner(&self, pid: u64) {
        self.lock().owner = pid;
    }

    /// The owner, if the socket is open.
    pub fn owner(&self) -> Option<u64> {
        let state = self.lock();
        (!state.gone).then_some(state.owner)
    }

    /// The options, if the port is open (its descriptor may be closed).
    pub fn options(&self) -> Option<Options> {
        let state = self.lock();
        (!state.gone).then_some(state.options)
    }

    /// Local (`sockname`) or peer (`peername`) address.
    pub fn address(&self, peer: bool) -> Result<SocketAddr, Term> {
        let state = self.lock();
        if state.gone {
            return Err(atoms::EINVAL);
        }
        let result = match (&state.io, peer) {
            (Io::Listener(l), false) => l.local_addr(),
            (Io::Listener(_), true) => return Err(atoms::ENOTCONN),
            (Io::Stream(s) | Io::Connecting(s), false) => s.local_addr(),
            (Io::Stream(s) | Io::Connecting(s), true) => s.peer_addr(),
            (Io::Closed, _) => return Err(atoms::EINVAL),
        };
        result.map_err(|e| errno(&e))
    }

    /// The kernel's buffer sizes, for `getopts` (`recbuf`, `sndbuf`).
    pub fn buffer_sizes(&self) -> Option<(usize, usize)> {
        let state = self.lock();
        let sizes =
            |socket: socket2::SockRef<'_>| Some((socket.recv_buffer_size().ok()?, socket.send_buffer_size().ok()?));
        match &state.io {
            Io::Listener(l) => sizes(socket2::SockRef::from(l)),
            Io::Stream(s) | Io::Connecting(s) => sizes(socket2::SockRef::from(s)),
            Io::Closed => None,
        }
    }
}

/// Writes as much of `bytes` as the kernel takes now: the count, and
/// whether it stopped because the kernel's buffer is full (so that the next
/// writable edge will come).
fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<(usize, bool)> {
    let mut sent = 0;
    while sent < bytes.len() {
        match stream.write(&bytes[sent..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok((sent, true)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((sent, false))
}

impl State {
    /// Queues the caller as a waiter; its reference.
    fn wait(&mut self, pid: u64, length: usize) -> u64 {
        let reference = crate::scheduler::new_reference();
        self.waiters.push(Waiter { pid, reference, length, direct: true });
        reference
    }

    /// Applies one setting (`setopts`); `Err` is `einval`.
    fn set(&mut self, cx: Cx<'_>, setting: Setting) -> Result<(), Einval> {
        let socket = match &self.io {
            Io::Listener(l) => Some(socket2::SockRef::from(l)),
            Io::Stream(s) | Io::Connecting(s) => Some(socket2::SockRef::from(s)),
            Io::Closed => None,
        };
        if let Some(socket) = socket {
            let applied = match setting {
                Setting::Nodelay(b) => socket.set_nodelay(b),
                Setting::Keepalive(b) => socket.set_keepalive(b),
                Setting::Reuseaddr(b) => socket.set_reuse_address(b),
                Setting::Recbuf(n) => socket.set_recv_buffer_size(n as usize),
                Setting::Sndbuf(n) => socket.set_send_buffer_size(n as usize),
                Setting::Linger(l) => socket.set_linger(l.map(|s| std::time::Duration::from_secs(u64::from(s)))),
                _ => Ok(()),
            };
            applied.map_err(|_| Einval)?;
        } else if setting.is_of_descriptor() {
            // The descriptor is closed: only the socket's own options remain.
            return Err(Einval);
        }
        if self.options.apply(setting).map_err(|_| Einval)? == Some(ActiveChange::Passive) {
            self.to_owner(cx, 3, |heap, port| heap.tuple(&[atoms::TCP_PASSIVE, port]));
        }
        Ok(())
    }

    /// Sends the owner a message made by `build` (given the port term) in
    /// `words` words.
    fn to_owner(&self, cx: Cx<'_>, words: usize, build: impl FnOnce(&mut Heap, Term) -> Term) {
        let port = Term::port(cx.id);
        let message = message(words, |heap| build(heap, port));
        // An owner that is gone is closing the socket (`owner_exited`).
        let _ = cx.net.runtime.signal(self.owner, Signal::Message(message));
    }

    /// Answers a waiter: into `direct` if its caller is still in its
    /// built-in, else as `{Tag, S, Ref, Result}` (`inet_async` or
    /// `inet_reply`). An accepted socket passes to the acceptor first; if
    /// the acceptor is gone, the socket closes.
    fn complete(&mut self, cx: Cx<'_>, waiter: Waiter, outcome: Outcome, tag: Term) {
        if waiter.direct {
            self.direct = Some(outcome);
            return;
        }
        if let Outcome::Socket(child) = outcome {
            if cx.net.runtime.signal(waiter.pid, Signal::Socket(child)).is_err() {
                if let Some(socket) = cx.net.socket(child) {
                    socket.close(cx.net);
                }
                return;
            }
        }
        let port = Term::port(cx.id);
        let message = message(5 + 2 + outcome.words(), |heap| {
            let reference = heap.reference(waiter.reference);
            let result = outcome.build(heap);
            heap.tuple(&[tag, port, reference, result])
        });
        let _ = cx.net.runtime.signal(waiter.pid, Signal::Message(message));
    }

    /// Answers every waiter and blocked sender with `{error, Reason}`.
    fn fail_waiters(&mut self, cx: Cx<'_>, reason: Term) {
        for waiter in std::mem::take(&mut self.waiters) {
            self.complete(cx, waiter, Outcome::Error(reason), atoms::INET_ASYNC);
        }
        self.fail_senders(cx);
    }

    fn fail_senders(&mut self, cx: Cx<'_>) {
        for sender in std::mem::take(&mut self.senders) {
            self.complete(cx, sender, Outcome::Error(atoms::CLOSED), atoms::INET_REPLY);
        }
    }

    /// Closes the descriptor for good and leaves the table: the port is gone.
    fn finish(&mut self, cx: Cx<'_>) {
        self.gone = true;
        self.close_descriptor(cx);
        self.fail_waiters(cx, atoms::CLOSED);
        cx.net.remove(cx.id);
    }

    /// Closes the descriptor; the port may live on (`Io::Closed`).
    fn close_descriptor(&mut self, cx: Cx<'_>) {
        let registry = &cx.net.registry;
        match &mut self.io {
            Io::Listener(l) => drop(registry.deregister(l)),
            Io::Connecting(s) | Io::Stream(s) => drop(registry.deregister(s)),
            Io::Closed => {}
        }
        self.io = Io::Closed;
        self.input = Vec::new();
        self.consumed = 0;
        self.output = Vec::new();
        self.written = 0;
    }

    /// Does whatever the state allows now. Called with the lock held, after
    /// every event and every request.
    fn progress(&mut self, cx: Cx<'_>) {
        match self.io {
            Io::Connecting(_) => self.connect_progress(cx),
            Io::Listener(_) => self.accept_progress(cx),
            Io::Stream(_) => {
                self.flush(cx);
                if matches!(self.io, Io::Stream(_)) && !self.gone {
                    self.pump(cx);
                }
            }
            Io::Closed => {}
        }
    }

    /// A connect in progress: once writable, it has succeeded or failed.
    fn connect_progress(&mut self, cx: Cx<'_>) {
        let Io::Connecting(stream) = &self.io else { return };
        if !self.writable {
            return;
        }
        let result = match stream.take_error() {
            Ok(Some(error)) | Err(error) => Err(error),
            Ok(None) => match stream.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotConnected || e.raw_os_error() == Some(libc::EINPROGRESS) => {
                    self.writable = false;
                    return;
                }
                Err(error) => Err(error),
            },
        };
        let waiter = (!self.waiters.is_empty()).then(|| self.waiters.remove(0));
        match result {
            Ok(()) => {
                if let Io::Connecting(stream) = std::mem::replace(&mut self.io, Io::Closed) {
                    self.io = Io::Stream(stream);
                }
                if let Some(waiter) = waiter {
                    self.complete(cx, waiter, Outcome::Ok, atoms::INET_ASYNC);
                }
                self.progress(cx);
            }
            Err(error) => {
                if let Some(waiter) = waiter {
                    self.complete(cx, waiter, Outcome::Error(errno(&error)), atoms::INET_ASYNC);
                }
                self.finish(cx);
            }
        }
    }

    /// A listener: accepts for the waiting acceptors, oldest first.
    fn accept_progress(&mut self, cx: Cx<'_>) {
        while self.readable && !self.waiters.is_empty() {
            let Io::Listener(listener) = &self.io else { return };
            match listener.accept() {
                Ok((stream, _)) => {
                    let waiter = self.waiters.remove(0);
                    let outcome = match cx.net.adopt(stream, self.options, waiter.pid) {
                        Ok(child) => Outcome::Socket(child),
                        Err(error) => Outcome::Error(errno(&error)),
                    };
                    self.complete(cx, waiter, outcome, atoms::INET_ASYNC);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Out of descriptors (`emfile`) and the like: this acceptor
                // is told; the connection waits in the backlog.
                Err(error) => {
                    let waiter = self.waiters.remove(0);
                    self.complete(cx, waiter, Outcome::Error(errno(&error)), atoms::INET_ASYNC);
                }
            }
        }
    }

    /// Writes queued output while the kernel takes it; wakes blocked
    /// senders at the low watermark; finishes a pending shutdown, and a
    /// closed socket's flush.
    fn flush(&mut self, cx: Cx<'_>) {
        if self.output.len() > self.written && self.writable {
            let Io::Stream(stream) = &mut self.io else { return };
            match write_some(stream, &self.output[self.written..]) {
                Ok((sent, blocked)) => {
                    self.written += sent;
                    self.writable &= !blocked;
                }
                Err(_) => {
                    if self.gone {
                        self.finish(cx);
                    } else {
                        self.stream_ended(cx, End::Closed);
                    }
                    return;
                }
            }
            if self.written == self.output.len() {
                self.output.clear();
                self.written = 0;
                if self.output.capacity() > KEEP_INPUT {
                    self.output = Vec::new();
                }
            }
        }
        let queued = self.output.len() - self.written;
        if !self.senders.is_empty() && queued <= self.options.low_watermark as usize {
            for sender in std::mem::take(&mut self.senders) {
                self.complete(cx, sender, Outcome::Ok, atoms::INET_REPLY);
            }
        }
        if queued == 0 {
            if self.shutdown_pending {
                self.shutdown_pending = false;
                self.write_closed = true;
                if let Io::Stream(stream) = &self.io {
                    let _ = stream.shutdown(Shutdown::Write);
                }
            }
            if self.gone {
                self.finish(cx);
            }
        }
    }

    /// Reads and delivers packets while someone wants them: the owner in
    /// active mode, or the waiting `recv`.
    fn pump(&mut self, cx: Cx<'_>) {
        loop {
            let wanted = match self.options.active {
                Active::False => match self.waiters.first() {
                    Some(waiter) => waiter.length,
                    None => return,
                },
                _ => 0,
            };
            if self.read_closed {
                return;
            }
            let options = &self.options;
            let cut = packet::cut(
                &self.input[self.consumed..],
                options.packet,
                wanted,
                options.packet_size as usize,
                options.buffer as usize,
            );
            match cut {
                // Raw bytes go a buffer's worth at a time, as inet_drv reads
                // them: a short chunk waits for the next read first.
                Cut::Packet { start, end }
                    if options.packet == Packet::Raw
                        && wanted == 0
                        && end - start < options.buffer as usize
                        && self.readable
                        && !self.eof => {}
                Cut::Packet { start, end } => {
                    let bytes = self.take_input(start, end);
                    self.deliver(cx, bytes);
                    continue;
                }
                Cut::TooLarge => return self.stream_ended(cx, End::TooLarge),
                Cut::More => {
                    if self.eof {
                        return self.stream_ended(cx, End::Closed);
                    }
                }
            }
            if !self.readable {
                return;
            }
            let Io::Stream(stream) = &mut self.io else { return };
            let input = &mut self.input;
            let read = SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let n = stream.read(&mut scratch)?;
                input.extend_from_slice(&scratch[..n]);
                Ok::<usize, std::io::Error>(n)
            });
            match read {
                Ok(0) => self.eof = true,
                // A short read emptied the kernel's queue: the next bytes
                // will come with an edge of their own, so no read to
                // `WouldBlock` is needed to know it (one system call less
                // per packet). Not once the peer's end was signalled: that
                // edge is spent, and only a read can find it.
                Ok(n) if n < READ_CHUNK && !self.hangup => self.readable = false,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return self.stream_ended(cx, End::Closed),
                Err(e) => return self.stream_ended(cx, End::Error(errno(&e))),
            }
        }
    }

    /// The bytes `start..end` of the undelivered input (a packet without
    /// its header), consuming the input to `end`.
    fn take_input(&mut self, start: usize, end: usize) -> Vec<u8> {
        let (from, to) = (self.consumed + start, self.consumed + end);
        if from == 0 && to == self.input.len() {
            // The whole buffer: moved out, not copied.
            self.consumed = 0;
            return std::mem::take(&mut self.input);
        }
        let bytes = self.input[from..to].to_vec();
        self.consumed = to;
        if self.consumed == self.input.len() {
            self.input.clear();
            self.consumed = 0;
            if self.input.capacity() > KEEP_INPUT {
                self.input = Vec::new();
            }
        } else if self.consumed >= KEEP_INPUT {
            self.input.drain(..self.consumed);
            self.consumed = 0;
        }
        bytes
    }

    /// One packet, to the waiting `recv` or (active) to the owner.
    fn deliver(&mut self, cx: Cx<'_>, bytes: Vec<u8>) {
        let mode = self.options.mode;
        if self.options.active == Active::False {
            let waiter = self.waiters.remove(0);
            self.complete(cx, waiter, Outcome::Data(bytes, mode), atoms::INET_ASYNC);
            return;
        }
        self.to_owner(cx, 4 + data_words(&bytes, mode), |heap, port| {
            let data = build_data(heap, &bytes, mode);
            heap.tuple(&[atoms::TCP, port, data])
        });
        match self.options.active {
            Active::Once => self.options.active = Active::False,
            Active::Count(1) => {
                self.options.active = Active::False;
                self.to_owner(cx, 3, |heap, port| heap.tuple(&[atoms::TCP_PASSIVE, port]));
            }
            Active::Count(n) => self.options.active = Active::Count(n - 1),
            Active::True | Active::False => {}
        }
    }

    /// The stream ended (inet_drv's `tcp_recv_closed` and
    /// `tcp_recv_error`). Passive: the waiting `recv` gets the error, and
    /// the descriptor closes (the port lives on: later requests answer
    /// `enotconn`). Active: the owner gets `{tcp_error, S, R}` (for a read
    /// error) and `{tcp_closed, S}`, and the port is gone. With
    /// `{exit_on_close, false}` only the read side ends, and sends go on.
    fn stream_ended(&mut self, cx: Cx<'_>, end: End) {
        let keep_writing = !self.options.exit_on_close && end == End::Closed;
        if self.options.active == Active::False {
            let reason = match end {
                End::Closed => atoms::CLOSED,
                End::Error(reason) => reason,
                End::TooLarge => atoms::EMSGSIZE,
            };
            for waiter in std::mem::take(&mut self.waiters) {
                self.complete(cx, waiter, Outcome::Error(reason), atoms::INET_ASYNC);
            }
            if keep_writing {
                self.read_closed = true;
            } else {
                self.fail_senders(cx);
                self.close_descriptor(cx);
            }
            return;
        }
        let error = match end {
            End::Closed => None,
            End::Error(reason) => Some(reason),
            End::TooLarge => Some(atoms::EMSGSIZE),
        };
        if let Some(reason) = error {
            self.to_owner(cx, 4, |heap, port| heap.tuple(&[atoms::TCP_ERROR, port, reason]));
        }
        self.to_owner(cx, 3, |heap, port| heap.tuple(&[atoms::TCP_CLOSED, port]));
        if keep_writing {
            self.read_closed = true;
        } else {
            self.finish(cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_is_small() {
        // An idle connection costs its process, this, and a table entry:
        // the memory per connection of docs/design/io.md (264 bytes today).
        let size = std::mem::size_of::<Socket>() + 2 * std::mem::size_of::<usize>();
        assert!(size <= 320, "an Arc<Socket> is {size} bytes");
    }
}
