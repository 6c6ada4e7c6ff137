//! The built-in functions of processes: spawning, sending, links, monitors,
//! exit signals, the registry, timers and `process_info`. They act through
//! the runtime of the scheduler they run on (`scheduler::current`); run
//! without one (a process run on its own thread by `Machine::call`), they
//! raise `badarg`.

use std::time::Duration;

use crate::atom::{self, atoms};
use crate::copy::{self, Message};
use crate::exception::{error, Stop};
use crate::heap::{next_size, Heap};
use crate::mailbox::Signal;
use crate::natives::erlang::boolean;
use crate::natives::io::items as list_items;
use crate::natives::owned::Owned;
use crate::natives::NativeFn;
use crate::process::{MaxHeap, Process, Resume};
use crate::scheduler::{self, down_message, new_reference, Runtime};
use crate::term::{Kind, Term};
use crate::timer::Action;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("spawn", 1) => |p, a| spawn_fun(p, a, Tie::None),
        ("spawn_link", 1) => |p, a| spawn_fun(p, a, Tie::Link),
        ("spawn_monitor", 1) => |p, a| spawn_fun(p, a, Tie::Monitor),
        ("spawn", 3) => |p, a| spawn_mfa(p, a, Tie::None),
        ("spawn_link", 3) => |p, a| spawn_mfa(p, a, Tie::Link),
        ("spawn_monitor", 3) => |p, a| spawn_mfa(p, a, Tie::Monitor),
        ("!" | "send", 2) => send,
        ("link", 1) => link,
        ("unlink", 1) => unlink,
        ("monitor", 2) => monitor,
        ("demonitor", 1) => |p, a| demonitor(p, a[0], Term::NIL),
        ("demonitor", 2) => |p, a| demonitor(p, a[0], a[1]),
        ("exit", 2) => exit,
        ("process_flag", 2) => process_flag,
        ("register", 2) => register,
        ("unregister", 1) => |_, a| {
            let runtime = runtime()?;
            if a[0].is_atom() && runtime.unregister(a[0]) {
                Ok(atoms::TRUE)
            } else {
                Err(error(atoms::BADARG))
            }
        },
        ("whereis", 1) => |_, a| {
            if !a[0].is_atom() {
                return Err(error(atoms::BADARG));
            }
            Ok(runtime()?.whereis(a[0]).map_or(atoms::UNDEFINED, Term::pid))
        },
        ("registered", 0) => |p, a| {
            let names = runtime()?.registered();
            p.ensure(2 * names.len(), a);
            Ok(p.heap.list(&names))
        },
        ("is_process_alive", 1) => |p, a| {
            if !a[0].is_pid() {
                return Err(error(atoms::BADARG));
            }
            let pid = a[0].pid_number();
            Ok(boolean(pid == p.pid || runtime()?.lookup(pid).is_some_and(|proc| proc.is_alive())))
        },
        ("processes", 0) => |p, a| {
            let pids: Vec<Term> = runtime()?.pids().into_iter().map(Term::pid).collect();
            p.ensure(2 * pids.len(), a);
            Ok(p.heap.list(&pids))
        },
        ("send_after", 3) => send_after,
        ("cancel_timer", 1) => |p, a| timer_left(p, a, true),
        ("read_timer", 1) => |p, a| timer_left(p, a, false),
        ("yield", 0) => |p, _| {
            p.slice_end = 0;
            Ok(atoms::TRUE)
        },
        ("process_info", 1) => |p, a| process_info(p, a[0], None),
        ("process_info", 2) => |p, a| process_info(p, a[0], Some(a[1])),
        _ => return None,
    })
}

fn runtime() -> Result<&'static Runtime, Stop> {
    scheduler::current().ok_or_else(|| error(atoms::BADARG))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tie {
    None,
    Link,
    Monitor,
}

fn spawn_fun(p: &mut Process, a: &mut [Term], link: Tie) -> Result<Term, Stop> {
    // As erl: a fun that takes arguments is refused by the caller.
    if crate::fun::arity(a[0]) != Some(0) {
        return Err(error(atoms::BADARG));
    }
    spawn(p, a[0], Term::NIL, a[0], link, false)
}

fn spawn_mfa(p: &mut Process, a: &mut [Term], link: Tie) -> Result<Term, Stop> {
    if !a[0].is_atom() || !a[1].is_atom() || list_items(a[2]).is_none() {
        return Err(error(atoms::BADARG));
    }
    spawn(p, a[0], a[1], a[2], link, true)
}

/// Spawns a process that calls `module:function` with the elements of the
/// list `args`, or (`function` is `[]`) the fun `args`.
fn spawn(p: &mut Process, module: Term, function: Term, args: Term, link: Tie, is_list: bool) -> Result<Term, Stop> {
    let runtime = runtime()?;
    let place = runtime.reserve_process().ok_or_else(|| error(atoms::SYSTEM_LIMIT))?;
    let words = copy::size(args);
    let pid = runtime.new_pid();
    let mut child = Process::new(pid);
    if words > child.heap.young_words() / 2 {
        child.heap = Heap::with_young_words(next_size(2 * words));
    }
    let copied = copy::copy(args, &mut child.heap);
    child.saved_x = if is_list { list_items(copied).unwrap_or_default().into() } else { Box::new([copied]) };
    child.resume = Some(Resume::Start { module, function });
    child.output = p.output.clone();
    p.reductions += (words / 64) as u64;
    let monitor = match link {
        Tie::None => None,
        Tie::Link => {
            child.ties_mut().links.push(p.pid);
            p.ties_mut().links.push(pid);
            None
        }
        Tie::Monitor => {
            let reference = new_reference();
            child.ties_mut().watchers.push((reference, p.pid, Term::NIL));
            p.ties_mut().monitors.push((reference, pid, Term::NIL));
            Some(reference)
        }
    };
    runtime.spawn(place, child);
    match monitor {
        None => Ok(Term::pid(pid)),
        Some(reference) => {
            p.ensure(2 + 3, &mut []);
            let reference = p.heap.reference(reference);
            Ok(p.heap.tuple(&[Term::pid(pid), reference]))
        }
    }
}

/// The name in `Name` or `{Name, Node}` on this node (the term itself
/// otherwise, for the caller to refuse).
fn local_name(term: Term) -> Term {
    match term.tuple_elements() {
        Some(&[name, node]) if node == atoms::NONODE => name,
        _ => term,
    }
}

/// The pid a send goes to: a pid, a registered name, or `{Name, Node}` on
/// this node. A name nobody has raises `badarg`.
fn destination(runtime: &Runtime, to: Term) -> Result<u64, Stop> {
    if to.is_pid() {
        return Ok(to.pid_number());
    }
    let name = local_name(to);
    name.is_atom().then(|| runtime.whereis(name)).flatten().ok_or_else(|| error(atoms::BADARG))
}

/// Takes in the calling process's own inbox (what was sent to it so far);
/// a signal that kills it makes it yield, to die at once.
fn take_own_signals(runtime: &Runtime, p: &mut Process) {
    if let Some(own) = runtime.lookup(p.pid) {
        if crate::signals::handle(p, own.inbox.take()) {
            p.slice_end = 0;
        }
    }
}

/// A message the process gets from the runtime on behalf of a process that
/// is gone (a `'DOWN'` or `'EXIT'` with `noproc`): through its own inbox,
/// so that it comes after whatever that process sent before it ended.
fn to_self(runtime: &Runtime, p: &mut Process, message: Message) {
    if let Err(Signal::Message(message)) = runtime.signal(p.pid, Signal::Message(message)) {
        // No inbox (not a process of the runtime): nothing can be ahead of it.
        p.deliver(message);
    }
}

/// `Pid ! Message`: the message is copied into a buffer the receiver takes
/// in; a message to a process that is gone is dropped.
/// `To ! Message`; the interpreter calls it directly (`Op::Send`), relying
/// on it never collecting the sender's heap.
pub(crate) fn send(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let runtime = runtime()?;
    let pid = destination(runtime, a[0])?;
    // A long copy is charged as it goes, and may suspend half-way.
    let mut charged = 0;
    let message = Message::new_charged(a[1], &mut |words| {
        charged += words;
        p.charge((words / 128) as u64);
    });
    p.reductions += ((2 * message.words()).saturating_sub(charged) / 128) as u64;
    let _ = runtime.signal(pid, Signal::Message(message));
    Ok(a[1])
}

fn pid_of(term: Term) -> Result<u64, Stop> {
    if term.is_pid() {
        Ok(term.pid_number())
    } else {
        Err(error(atoms::BADARG))
    }
}

fn link(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let pid = pid_of(a[0])?;
    if pid == p.pid || p.ties().links.contains(&pid) {
        return Ok(atoms::TRUE);
    }
    let runtime = runtime()?;
    match runtime.signal(pid, Signal::Link(p.pid)) {
        Ok(()) => p.ties_mut().links.push(pid),
        Err(_) if p.trap_exit => {
            let mut heap = Heap::with_young_words(4);
            let exit = heap.tuple(&[atoms::EXIT_SIGNAL, Term::pid(pid), atoms::NOPROC]);
            to_self(runtime, p, Message::new(exit));
        }
        Err(_) => return Err(error(atoms::NOPROC)),
    }
    Ok(atoms::TRUE)
}

fn unlink(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let pid = pid_of(a[0])?;
    if p.ties().links.contains(&pid) {
        p.ties_mut().links.retain(|&l| l != pid);
        let _ = runtime()?.signal(pid, Signal::Unlink(p.pid));
    }
    Ok(atoms::TRUE)
}

fn monitor(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if a[0] != atoms::PROCESS {
        return Err(error(atoms::BADARG));
    }
    let runtime = runtime()?;
    let (pid, name) = if a[1].is_pid() {
        (Some(a[1].pid_number()), Term::NIL)
    } else {
        let name = local_name(a[1]);
        if !name.is_atom() {
            return Err(error(atoms::BADARG));
        }
        (runtime.whereis(name), name)
    };
    let reference = new_reference();
    let watched = pid.filter(|&pid| runtime.signal(pid, Signal::Monitor { watcher: p.pid, reference, name }).is_ok());
    match watched {
        Some(pid) => p.ties_mut().monitors.push((reference, pid, name)),
        None => {
            to_self(runtime, p, down_message(reference, pid.unwrap_or(0), name, atoms::NOPROC));
        }
    }
    p.ensure(2, a);
    Ok(p.heap.reference(reference))
}

fn reference_number(term: Term) -> Option<u64> {
    (term.is_boxed() && term.header().kind() == Some(Kind::Reference)).then(|| term.payload()[0])
}

fn demonitor(p: &mut Process, reference: Term, options: Term) -> Result<Term, Stop> {
    let number = reference_number(reference).ok_or_else(|| error(atoms::BADARG))?;
    let options = list_items(options).ok_or_else(|| error(atoms::BADARG))?;
    let (mut flush, mut info) = (false, false);
    for option in options {
        match option {
            o if o == atoms::FLUSH => flush = true,
            o if o == atoms::INFO => info = true,
            _ => return Err(error(atoms::BADARG)),
        }
    }
    let runtime = runtime()?;
    let ties = p.ties_mut();
    let found = ties.monitors.iter().position(|m| m.0 == number).map(|i| ties.monitors.remove(i));
    if let Some((_, target, _)) = found {
        let _ = runtime.signal(target, Signal::Demonitor(number));
    }
    if flush {
        // Whatever 'DOWN' is already on its way is in the inbox: take it in.
        take_own_signals(runtime, p);
        let is_down = |m: &Term| {
            m.tuple_elements()
                .is_some_and(|t| t.len() == 5 && t[0] == atoms::DOWN && reference_number(t[1]) == Some(number))
        };
        p.pending.retain(|m| !is_down(&m.term()));
        let mut index = 0;
        while index < p.messages.len() {
            if is_down(&p.messages[index]) {
                p.messages.remove(index);
                if index < p.save as usize {
                    p.save -= 1;
                }
            } else {
                index += 1;
            }
        }
    }
    Ok(boolean(!info || found.is_some()))
}

fn exit(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let pid = pid_of(a[0])?;
    let runtime = runtime()?;
    let signal = Signal::Exit { from: p.pid, reason: Message::new(a[1]), linked: false };
    if pid == p.pid {
        // Handled at once, as the BEAM does with a signal to itself.
        if crate::signals::handle_one(p, signal) {
            return Err(Stop::Killed);
        }
    } else {
        let _ = runtime.signal(pid, signal);
    }
    Ok(atoms::TRUE)
}

fn process_flag(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match a[0] {
        flag if flag == atoms::TRAP_EXIT => {
            let on = match a[1] {
                v if v == atoms::TRUE => true,
                v if v == atoms::FALSE => false,
                _ => return Err(error(atoms::BADARG)),
            };
            Ok(boolean(std::mem::replace(&mut p.trap_exit, on)))
        }
        // Accepted and not enforced; erl's defaults are returned.
        flag if atom::name(flag) == Some("priority") => Ok(atom::intern("normal").unwrap_or(atoms::UNDEFINED)),
        flag if atom::name(flag) == Some("max_heap_size") => {
            let limit = max_heap_of(a[1])?;
            let old = p.ties().max_heap.unwrap_or_default();
            if limit != MaxHeap::default() || p.ties().max_heap.is_some() {
                p.ties_mut().max_heap = (limit != MaxHeap::default()).then_some(limit);
            }
            let old = max_heap_map(old);
            p.ensure(old.words(), a);
            Ok(old.build(&mut p.heap))
        }
        _ => Err(error(atoms::BADARG)),
    }
}

/// `max_heap_size`'s value: a size in words, or a map of `size` and
/// optionally `kill` and `error_logger`; what is left out takes erl's
/// defaults (`true`). A size is 0 (no limit) or at least BEAM's smallest
/// heap, 233 words.
fn max_heap_of(value: Term) -> Result<MaxHeap, Stop> {
    let size = |t: Term| match t.is_small() {
        true if t.small_value() == 0 || t.small_value() >= 233 => Ok(t.small_value() as usize),
        _ => Err(error(atoms::BADARG)),
    };
    let flag = |t: Term| match t {
        t if t == atoms::TRUE => Ok(true),
        t if t == atoms::FALSE => Ok(false),
        _ => Err(error(atoms::BADARG)),
    };
    let Some(words) = value.map_words() else {
        return Ok(MaxHeap { size: size(value)?, ..MaxHeap::default() });
    };
    let mut limit = MaxHeap::default();
    let mut sized = false;
    for pair in words.chunks_exact(2) {
        match atom::name(pair[0]) {
            Some("size") => (limit.size, sized) = (size(pair[1])?, true),
            Some("kill") => limit.kill = flag(pair[1])?,
            Some("error_logger") => limit.error_logger = flag(pair[1])?,
            _ => return Err(error(atoms::BADARG)),
        }
    }
    // A map must name the size, as erl's must.
    if sized {
        Ok(limit)
    } else {
        Err(error(atoms::BADARG))
    }
}

/// `#{error_logger => Bool, kill => Bool, size => Words}`, as erl gives it
/// (from `process_flag/2` and `process_info/2`).
fn max_heap_map(limit: MaxHeap) -> Owned {
    let key = |name: &str| Owned::Atom(atom::intern(name).unwrap_or(atoms::UNDEFINED));
    let flag = |on: bool| Owned::Atom(boolean(on));
    Owned::Map(vec![
        (key("error_logger"), flag(limit.error_logger)),
        (key("kill"), flag(limit.kill)),
        (key("size"), Owned::Integer(limit.size.into())),
    ])
}

fn register(_p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let (name, pid) = (a[0], a[1]);
    if !name.is_atom() || name == atoms::UNDEFINED || !pid.is_pid() {
        return Err(error(atoms::BADARG));
    }
    if runtime()?.register(name, pid.pid_number()) {
        Ok(atoms::TRUE)
    } else {
        Err(error(atoms::BADARG))
    }
}

fn send_after(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let millis = crate::heap::integer_value(a[0]).and_then(|t| u64::try_from(t).ok());
    let Some(millis) = millis.filter(|_| a[1].is_pid() || a[1].is_atom()) else {
        return Err(error(atoms::BADARG));
    };
    let runtime = runtime()?;
    let id = new_reference();
    let action = Action::Send { to: a[1], message: Message::new(a[2]) };
    runtime.timers.start(id, Duration::from_millis(millis), action);
    p.ensure(2, a);
    Ok(p.heap.reference(id))
}

/// `cancel_timer/1` (`cancel`) or `read_timer/1`: the milliseconds left,
/// or `false` when the timer is not pending.
fn timer_left(_p: &mut Process, a: &mut [Term], cancel: bool) -> Result<Term, Stop> {
    let id = reference_number(a[0]).ok_or_else(|| error(atoms::BADARG))?;
    let timers = &runtime()?.timers;
    let left = if cancel { timers.cancel(id) } else { timers.remaining(id) };
    Ok(match left {
        Some(left) => Term::small(left.as_millis() as i64).unwrap_or(Term::NIL),
        None => atoms::FALSE,
    })
}

// ------------------------------------------------------------ process_info

/// The items `process_info/1` lists, in erl's order.
const DEFAULT_ITEMS: [&str; 10] = [
    "current_function",
    "status",
    "message_queue_len",
    "links",
    "dictionary",
    "trap_exit",
    "total_heap_size",
    "heap_size",
    "stack_size",
    "reductions",
];

/// An item's value: built in the caller's heap, copying terms that belong
/// to the inspected process.
enum Value {
    Owned(Owned),
    /// `{Key, Value}` pairs of the inspected process's dictionary, newest first.
    Pairs(Vec<(Term, Term)>),
}

impl Value {
    fn words(&self) -> usize {
        match self {
            Value::Owned(owned) => owned.words(),
            Value::Pairs(pairs) => pairs.iter().map(|&(k, v)| 2 + 3 + copy::size(k) + copy::size(v)).sum(),
        }
    }

    fn build(&self, heap: &mut Heap) -> Term {
        match self {
            Value::Owned(owned) => owned.build(heap),
            Value::Pairs(pairs) => {
                let items: Vec<Term> = pairs
                    .iter()
                    .map(|&(k, v)| {
                        let (k, v) = (copy::copy(k, heap), copy::copy(v, heap));
                        heap.tuple(&[k, v])
                    })
                    .collect();
                heap.list(&items)
            }
        }
    }
}

fn process_info(p: &mut Process, pid: Term, items: Option<Term>) -> Result<Term, Stop> {
    let pid = pid_of(pid)?;
    let names: Vec<Term> = match items {
        None => DEFAULT_ITEMS.iter().map(|n| atom::intern(n).unwrap_or(atoms::UNDEFINED)).collect(),
        Some(item) if item.is_atom() => vec![item],
        Some(list) => list_items(list).ok_or_else(|| error(atoms::BADARG))?,
    };
    if names.iter().any(|n| !n.is_atom()) {
        return Err(error(atoms::BADARG));
    }
    let runtime = scheduler::current();
    let name = runtime.and_then(|r| r.name_of(pid));
    if pid == p.pid {
        if let Some(runtime) = runtime {
            take_own_signals(runtime, p);
        }
        // The values read this process's own terms: sized first, then read
        // again after the room is made (a collection moves them).
        let values = names.iter().map(|&n| item(p, n, name, true)).collect::<Result<Vec<_>, _>>()?;
        p.ensure(info_words(&values, name), &mut []);
        let values = names.iter().map(|&n| item(p, n, name, true)).collect::<Result<Vec<_>, _>>()?;
        return Ok(build_info(p, names, values, items, name));
    }
    let Some(proc) = runtime.and_then(|r| r.lookup(pid)).filter(|proc| proc.is_alive()) else {
        return Ok(atoms::UNDEFINED);
    };
    // Two processes each waiting for the other give up in the end, and
    // read each other as `undefined`.
    let Some(mut body) = proc.wait_body() else { return Ok(atoms::UNDEFINED) };
    // Holding the body makes this thread the inbox's one consumer: what was
    // sent to the process so far counts. (Every push already queued the
    // process if it was waiting, so it will see what was taken in.)
    crate::signals::handle(&mut body, proc.inbox.take());
    let values = names.iter().map(|&n| item(&body, n, name, false)).collect::<Result<Vec<_>, _>>()?;
    p.ensure(info_words(&values, name), &mut []);
    // Built while the other process is held: its terms are copied from where they are.
    let info = build_info(p, names, values, items, name);
    drop(body);
    Ok(info)
}

/// The words [`build_info`] needs.
fn info_words(values: &[Value], name: Option<Term>) -> usize {
    values.iter().map(|v| 3 + 2 + v.words()).sum::<usize>() + 5 * usize::from(name.is_some())
}

/// The result of `process_info/1,2` in the caller's heap, which has
/// [`info_words`] of room.
fn build_info(p: &mut Process, names: Vec<Term>, values: Vec<Value>, items: Option<Term>, name: Option<Term>) -> Term {
    // process_info/1 leaves out registered_name when there is none.
    let registered = atom::intern("registered_name").unwrap_or(atoms::UNDEFINED);
    let mut pairs: Vec<(Term, Value)> = names.into_iter().zip(values).collect();
    if items.is_none() {
        if let Some(name) = name {
            pairs.insert(0, (registered, Value::Owned(Owned::Atom(name))));
        }
    }
    let built: Vec<Term> = pairs
        .iter()
        .map(|(name, value)| {
            let value = value.build(&mut p.heap);
            p.heap.tuple(&[*name, value])
        })
        .collect();
    match items {
        Some(item) if item.is_atom() && item == registered && name.is_none() => Term::NIL,
        Some(item) if item.is_atom() => built[0],
        _ => p.heap.list(&built),
    }
}

fn item(p: &Process, name: Term, registered: Option<Term>, is_self: bool) -> Result<Value, Stop> {
    let number = |n: usize| Value::Owned(Owned::Integer(n.into()));
    let atom = |name: &str| Value::Owned(Owned::Atom(atom::intern(name).unwrap_or(atoms::UNDEFINED)));
    let pids = |pids: &mut dyn Iterator<Item = u64>| {
        Value::Owned(Owned::List(pids.map(Owned::Pid).collect(), Box::new(Owned::Nil)))
    };
    Ok(match atom::name(name).unwrap_or("") {
        "heap_size" => number(p.heap.young_words()),
        "total_heap_size" => number(p.heap.total_words()),
        "memory" => number(p.memory_bytes()),
        "stack_size" => number(p.stack.len()),
        "max_heap_size" => Value::Owned(max_heap_map(p.ties().max_heap.unwrap_or_default())),
        "reductions" => number(p.reductions as usize),
        "message_queue_len" => number(p.mailbox_len()),
        "status" if is_self => atom("running"),
        "status" if matches!(p.resume, Some(Resume::At { .. })) && p.saved_x.is_empty() => atom("waiting"),
        "status" => atom("runnable"),
        "registered_name" => match registered {
            Some(name) => Value::Owned(Owned::Atom(name)),
            None => Value::Owned(Owned::Nil),
        },
        "trap_exit" => Value::Owned(Owned::Atom(boolean(p.trap_exit))),
        "links" => pids(&mut p.ties().links.iter().copied()),
        "monitored_by" => pids(&mut p.ties().watchers.iter().map(|w| w.1)),
        "monitors" => Value::Owned(Owned::List(
            p.ties()
                .monitors
                .iter()
                .map(|&(_, pid, name)| {
                    let object = if name.is_nil() {
                        Owned::Pid(pid)
                    } else {
                        Owned::Tuple(vec![Owned::Atom(name), Owned::Atom(atoms::NONODE)])
                    };
                    Owned::Tuple(vec![Owned::Atom(atoms::PROCESS), object])
                })
                .collect(),
            Box::new(Owned::Nil),
        )),
        "dictionary" => Value::Pairs(p.dictionary.chunks_exact(2).rev().map(|kv| (kv[0], kv[1])).collect()),
        "current_function" => {
            let (module, function, arity) = if is_self {
                (atoms::ERLANG, atom::intern("process_info").unwrap_or(atoms::UNDEFINED), 2)
            } else {
                match &p.resume {
                    Some(Resume::At { module, pc, .. }) => match module.function_at(*pc) {
                        Some(f) => (module.name, f.name, f.arity),
                        None => (module.name, atoms::UNDEFINED, 0),
                    },
                    Some(Resume::Start { module, function }) => (*module, *function, p.saved_x.len() as u32),
                    None => (atoms::UNDEFINED, atoms::UNDEFINED, 0),
                }
            };
            Value::Owned(Owned::Tuple(vec![Owned::Atom(module), Owned::Atom(function), Owned::Integer(arity.into())]))
        }
        "priority" => atom("normal"),
        _ => return Err(error(atoms::BADARG)),
    })
}
