//! The socket built-ins behind `gen_tcp` and `inet` (`stdlib/gen_tcp.actor`,
//! `stdlib/inet.actor`), in module `prim_inet` as OTP names its layer, and
//! `erlang:ports/0`, `port_close/1`, `port_info/1,2`. Each turns terms into
//! a request on `net` and the answer back into terms: `{ok, _}`, `ok`,
//! `{error, Reason}`, or `{wait, Ref}` when the caller must wait in a
//! `receive` for `{inet_async, S, Ref, Result}` (the library does that).
//! Malformed options are refused as OTP refuses them: `exit(badarg)` from
//! `listen`/`connect`, `{error, einval}` from `setopts`/`getopts`.

use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use super::erlang::{boolean, list_items, string_of};
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Class, Exception, Stop};
use crate::heap::binary_bytes;
use crate::mailbox::Signal;
use crate::net::{self, Active, Answer, Mode, Net, Outcome, Packet, Setting, Socket, MAX_ACTIVE_COUNT};
use crate::process::Process;
use crate::term::{Kind, Term};

pub(super) fn lookup(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("listen", 2) => listen,
        ("connect", 3) => connect,
        ("accept", 1) => accept,
        ("recv", 2) => recv,
        ("send", 2) => send,
        ("cancel", 2) => cancel,
        ("close", 1) => close,
        ("setopts", 2) => setopts,
        ("getopts", 2) => getopts,
        ("owner", 1) => owner,
        ("setowner", 2) => setowner,
        ("peername", 1) => |p, a| address(p, a, true),
        ("sockname", 1) => |p, a| address(p, a, false),
        ("shutdown", 2) => shutdown,
        _ => return None,
    })
}

/// The port built-ins of module `erlang`.
pub(super) fn lookup_erlang(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("ports", 0) => |p, a| {
            let ports: Vec<Term> = net::get().map(Net::ids).unwrap_or_default().into_iter().map(Term::port).collect();
            p.ensure(2 * ports.len(), a);
            Ok(p.heap.list(&ports))
        },
        ("port_close", 1) => |p, a| {
            if !a[0].is_port() {
                return Err(error(atoms::BADARG));
            }
            match open_socket(a[0]) {
                Some((net, socket)) => {
                    close_socket(p, net, &socket);
                    Ok(atoms::TRUE)
                }
                None => Err(error(atoms::BADARG)),
            }
        },
        ("port_info", 1) => |p, a| port_info(p, a, None),
        ("port_info", 2) => |p, a| port_info(p, a, Some(a[1])),
        ("port_to_list", 1) => |p, a| {
            if !a[0].is_port() {
                return Err(error(atoms::BADARG));
            }
            let text = format!("#Port<0.{}>", a[0].port_number());
            Ok(super::erlang::make_string(p, a, &text))
        },
        _ => return None,
    })
}

fn badarg() -> Stop {
    error(atoms::BADARG)
}

/// `exit(badarg)`, as inet's option checks raise it.
fn exit_badarg() -> Stop {
    Stop::Raise(Exception::new(Class::Exit, atoms::BADARG))
}

/// The subsystem, started if need be; the reason if it cannot start.
fn start() -> Result<Result<&'static Net, Term>, Stop> {
    let runtime = crate::scheduler::current().ok_or_else(badarg)?;
    Ok(net::start(runtime).map_err(|e| net::errno(&e)))
}

/// The socket a port term names, if it is open.
fn open_socket(port: Term) -> Option<(&'static Net, Arc<Socket>)> {
    if !port.is_port() {
        return None;
    }
    let net = net::get()?;
    let socket = net.socket(port.port_number())?;
    socket.owner().is_some().then_some((net, socket))
}

/// The socket `a[0]` names, or `badarg` for a term that is not a port.
fn socket_arg(port: Term) -> Result<Option<(&'static Net, Arc<Socket>)>, Stop> {
    if !port.is_port() {
        return Err(badarg());
    }
    Ok(open_socket(port))
}

/// Forgets socket `id` among the caller's (it closed it, or gave it away).
fn disown(p: &mut Process, id: u64) {
    if let Some(ties) = p.ties.as_deref_mut() {
        ties.sockets.retain(|&s| s != id);
    }
}

fn error_tuple(p: &mut Process, a: &mut [Term], reason: Term) -> Term {
    p.ensure(3, a);
    p.heap.tuple(&[atoms::ERROR, reason])
}

fn ok_tuple(p: &mut Process, a: &mut [Term], value: Term) -> Term {
    p.ensure(3, a);
    p.heap.tuple(&[atoms::OK, value])
}

/// An outcome built in the caller's heap.
fn outcome(p: &mut Process, a: &mut [Term], outcome: Outcome) -> Term {
    if let Outcome::Socket(child) = outcome {
        p.own_socket(child);
    }
    p.ensure(outcome.term_words(), a);
    outcome.into_term(&mut p.heap)
}

/// An answer: the outcome now, or `{wait, Ref}`.
fn answer(p: &mut Process, a: &mut [Term], answer: Answer) -> Term {
    match answer {
        Answer::Now(o) => outcome(p, a, o),
        Answer::Wait(reference) => {
            p.ensure(2 + 3, a);
            let reference = p.heap.reference(reference);
            p.heap.tuple(&[atoms::WAIT, reference])
        }
    }
}

/// `prim_inet:listen(Port, Options)`.
fn listen(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let port = port_number(a[0]).ok_or_else(exit_badarg)?;
    let mut settings = parse_settings(a[1]).map_err(|_| exit_badarg())?;
    settings.push(Setting::Port(port));
    let net = match start()? {
        Ok(net) => net,
        Err(reason) => return Ok(error_tuple(p, a, reason)),
    };
    match net.listen(p.pid, &settings) {
        Ok(id) => {
            p.own_socket(id);
            Ok(ok_tuple(p, a, Term::port(id)))
        }
        Err(reason) => Ok(error_tuple(p, a, reason)),
    }
}

/// `prim_inet:connect(Address, Port, Options)`: `{wait, S, Ref}` (the
/// library waits for `{inet_async, S, Ref, ok | {error, R}}`), or
/// `{error, R}` if no socket could be made.
fn connect(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let port = port_number(a[1]).ok_or_else(exit_badarg)?;
    let settings = parse_settings(a[2]).map_err(|_| exit_badarg())?;
    let address = match host_address(a[0])? {
        Ok(address) => address,
        Err(reason) => return Ok(error_tuple(p, a, reason)),
    };
    let net = match start()? {
        Ok(net) => net,
        Err(reason) => return Ok(error_tuple(p, a, reason)),
    };
    match net.connect(p.pid, SocketAddrV4::new(address, port), &settings) {
        Ok((id, reference)) => {
            p.own_socket(id);
            p.ensure(2 + 4, a);
            let reference = p.heap.reference(reference);
            Ok(p.heap.tuple(&[atoms::WAIT, Term::port(id), reference]))
        }
        Err(reason) => Ok(error_tuple(p, a, reason)),
    }
}

fn accept(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match socket_arg(a[0])? {
        Some((net, socket)) => {
            let result = socket.accept(net, p.pid);
            Ok(answer(p, a, result))
        }
        None => Ok(error_tuple(p, a, atoms::CLOSED)),
    }
}

fn recv(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let length = a[1].is_small().then(|| usize::try_from(a[1].small_value()).ok()).flatten().ok_or_else(badarg)?;
    match socket_arg(a[0])? {
        Some((net, socket)) => {
            let result = socket.recv(net, p.pid, length);
            Ok(answer(p, a, result))
        }
        None => Ok(error_tuple(p, a, atoms::CLOSED)),
    }
}

/// `prim_inet:send(S, Data)`: `ok`, `{error, R}`, or `{wait, Ref, Timeout}`
/// above the high watermark (`Timeout` is the `send_timeout` option).
fn send(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let Some((net, socket)) = socket_arg(a[0])? else {
        return Ok(error_tuple(p, a, atoms::CLOSED));
    };
    let copied;
    let bytes = match binary_bytes(a[1]) {
        Some(bytes) => bytes,
        None => match super::binary::iolist_bytes(a[1]) {
            Ok(bytes) => {
                copied = bytes;
                &copied[..]
            }
            Err(_) => return Ok(error_tuple(p, a, atoms::EINVAL)),
        },
    };
    p.reductions += (bytes.len() / 1024) as u64;
    match socket.send(net, p.pid, bytes) {
        Answer::Wait(reference) => {
            let timeout = socket.options().and_then(|o| o.send_timeout);
            p.ensure(2 + 4, a);
            let reference = p.heap.reference(reference);
            let timeout = timeout.map_or(atoms::INFINITY, |t| Term::small(i64::from(t)).unwrap_or(atoms::INFINITY));
            Ok(p.heap.tuple(&[atoms::WAIT, reference, timeout]))
        }
        now => Ok(answer(p, a, now)),
    }
}

/// `prim_inet:cancel(S, Ref)`: whether the request was still waiting.
fn cancel(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let reference = reference_number(a[1]).ok_or_else(badarg)?;
    Ok(boolean(socket_arg(a[0])?.is_some_and(|(net, socket)| socket.cancel(net, reference))))
}

fn close(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if let Some((net, socket)) = socket_arg(a[0])? {
        close_socket(p, net, &socket);
    }
    Ok(atoms::OK)
}

/// Closes a socket for process `p`. Closed by another process, the port's
/// link to its owner carries an exit signal (`normal`), as erl's
/// `port_close/1` does; the owner's own close consumes it, as OTP's
/// `prim_inet:close/1` does.
fn close_socket(p: &mut Process, net: &Net, socket: &Socket) {
    let owner = socket.owner();
    socket.close(net);
    match owner {
        Some(owner) if owner == p.pid => disown(p, socket.id),
        Some(owner) => {
            if let Some(runtime) = crate::scheduler::current() {
                let _ = runtime.signal(owner, Signal::PortExit(socket.id));
            }
        }
        None => {}
    }
}

fn setopts(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let Ok(settings) = parse_settings(a[1]) else {
        return Ok(error_tuple(p, a, atoms::EINVAL));
    };
    match socket_arg(a[0])? {
        Some((net, socket)) => {
            let result = socket.setopts(net, &settings);
            Ok(answer(p, a, result))
        }
        None => Ok(error_tuple(p, a, atoms::EINVAL)),
    }
}

/// `prim_inet:getopts(S, Names)`: `{ok, [{Name, Value}]}` in the order asked.
fn getopts(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let names = list_items(a[1])?;
    let Some((_, socket)) = socket_arg(a[0])? else {
        return Ok(error_tuple(p, a, atoms::EINVAL));
    };
    let Some(options) = socket.options() else {
        return Ok(error_tuple(p, a, atoms::EINVAL));
    };
    let mut values = Vec::with_capacity(names.len());
    for name in names {
        let Some(value) = option_value(&socket, &options, name) else {
            return Ok(error_tuple(p, a, atoms::EINVAL));
        };
        values.push((name, value));
    }
    // Each pair: a 2-tuple, perhaps an inner 2-tuple (`linger`), a cell.
    p.ensure(values.len() * (3 + 3 + 2) + 3, a);
    let mut list = Term::NIL;
    for &(name, value) in values.iter().rev() {
        let value = match value {
            Value::Term(term) => term,
            Value::Pair(x, y) => p.heap.tuple(&[x, y]),
        };
        let pair = p.heap.tuple(&[name, value]);
        list = p.heap.cons(pair, list);
    }
    Ok(p.heap.tuple(&[atoms::OK, list]))
}

#[derive(Clone, Copy)]
enum Value {
    Term(Term),
    Pair(Term, Term),
}

fn option_value(socket: &Socket, options: &net::Options, name: Term) -> Option<Value> {
    let int = |n: u64| Term::small(n as i64).map(Value::Term);
    let flag = |b: bool| Some(Value::Term(boolean(b)));
    match atom::name(name)? {
        "active" => Some(Value::Term(match options.active {
            Active::False => atoms::FALSE,
            Active::True => atoms::TRUE,
            Active::Once => atom::intern("once").ok()?,
            Active::Count(n) => Term::small(i64::from(n))?,
        })),
        "packet" => Some(Value::Term(match options.packet {
            Packet::Raw => Term::small(0)?,
            Packet::Length(n) => Term::small(i64::from(n))?,
            Packet::Line => atoms::LINE,
        })),
        "mode" => Some(Value::Term(
            atom::intern(match options.mode {
                Mode::Binary => "binary",
                Mode::List => "list",
            })
            .ok()?,
        )),
        "packet_size" => int(u64::from(options.packet_size)),
        "buffer" => int(u64::from(options.buffer)),
        "high_watermark" => int(u64::from(options.high_watermark)),
        "low_watermark" => int(u64::from(options.low_watermark)),
        "recbuf" => int(socket.buffer_sizes()?.0 as u64),
        "sndbuf" => int(socket.buffer_sizes()?.1 as u64),
        "send_timeout" => match options.send_timeout {
            None => Some(Value::Term(atoms::INFINITY)),
            Some(t) => int(u64::from(t)),
        },
        "send_timeout_close" => flag(options.send_timeout_close),
        "exit_on_close" => flag(options.exit_on_close),
        "delay_send" => flag(options.delay_send),
        "nodelay" => flag(options.nodelay),
        "keepalive" => flag(options.keepalive),
        "reuseaddr" => flag(options.reuseaddr),
        "linger" => {
            Some(Value::Pair(boolean(options.linger.is_some()), Term::small(i64::from(options.linger.unwrap_or(0)))?))
        }
        "deliver" => Some(Value::Term(atom::intern("term").ok()?)),
        "header" => int(0),
        _ => None,
    }
}

/// `prim_inet:owner(S)`: `{ok, Pid}`, or `{error, einval}` for a closed port.
fn owner(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match socket_arg(a[0])?.and_then(|(_, socket)| socket.owner()) {
        Some(pid) => Ok(ok_tuple(p, a, Term::pid(pid))),
        None => Ok(error_tuple(p, a, atoms::EINVAL)),
    }
}

/// `prim_inet:setowner(S, Pid)` (OTP's `port_connect` plus `unlink`): the
/// caller must own the socket; `{error, badarg}` if `Pid` is gone.
fn setowner(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if !a[1].is_pid() {
        return Err(badarg());
    }
    let new_owner = a[1].pid_number();
    let Some((_, socket)) = socket_arg(a[0])? else {
        return Ok(error_tuple(p, a, atoms::EINVAL));
    };
    match socket.owner() {
        Some(owner) if owner == new_owner => return Ok(atoms::OK),
        Some(owner) if owner == p.pid => {}
        Some(_) => return Ok(error_tuple(p, a, atoms::NOT_OWNER)),
        None => return Ok(error_tuple(p, a, atoms::EINVAL)),
    }
    let runtime = crate::scheduler::current().ok_or_else(badarg)?;
    // The owner changes first: if the new owner ends after its inbox took
    // the socket, its exit closes the socket; if its inbox was closed
    // already, the socket comes back.
    socket.set_owner(new_owner);
    if runtime.signal(new_owner, Signal::Socket(socket.id)).is_err() {
        socket.set_owner(p.pid);
        return Ok(error_tuple(p, a, atoms::BADARG));
    }
    disown(p, socket.id);
    Ok(atoms::OK)
}

/// `inet:peername/1` and `inet:sockname/1`: `{ok, {{A, B, C, D}, Port}}`.
fn address(p: &mut Process, a: &mut [Term], peer: bool) -> Result<Term, Stop> {
    let Some((_, socket)) = socket_arg(a[0])? else {
        return Ok(error_tuple(p, a, atoms::EINVAL));
    };
    match socket.address(peer) {
        Ok(SocketAddr::V4(address)) => {
            p.ensure(5 + 3 + 3, a);
            let octets = address.ip().octets().map(|o| Term::small(i64::from(o)).unwrap_or(Term::NIL));
            let ip = p.heap.tuple(&octets);
            let pair = p.heap.tuple(&[ip, Term::small(i64::from(address.port())).unwrap_or(Term::NIL)]);
            Ok(p.heap.tuple(&[atoms::OK, pair]))
        }
        Ok(SocketAddr::V6(_)) => Ok(error_tuple(p, a, atoms::EINVAL)),
        Err(reason) => Ok(error_tuple(p, a, reason)),
    }
}

fn shutdown(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let how = match atom::name(a[1]) {
        Some("read") => Shutdown::Read,
        Some("write") => Shutdown::Write,
        Some("read_write") => Shutdown::Both,
        _ => return Err(badarg()),
    };
    match socket_arg(a[0])? {
        Some((net, socket)) => {
            let result = socket.shutdown(net, how);
            Ok(answer(p, a, result))
        }
        None => Ok(error_tuple(p, a, atoms::CLOSED)),
    }
}

/// `erlang:port_info/1,2` for sockets: `undefined` once a port is closed.
fn port_info(p: &mut Process, a: &mut [Term], item: Option<Term>) -> Result<Term, Stop> {
    const KEYS: [&str; 7] = ["name", "links", "id", "connected", "input", "output", "os_pid"];
    const NAME: &str = "tcp_inet";
    if !a[0].is_port() || item.is_some_and(|i| !i.is_atom()) {
        return Err(badarg());
    }
    let keys: Vec<&str> = match item {
        Some(item) => vec![KEYS.into_iter().find(|&k| Some(k) == atom::name(item)).ok_or_else(badarg)?],
        None => KEYS.to_vec(),
    };
    let Some(owner) = open_socket(a[0]).and_then(|(_, socket)| socket.owner()) else {
        return Ok(atoms::UNDEFINED);
    };
    let id = Term::small(a[0].port_number() as i64).ok_or_else(badarg)?;
    let key_atoms: Vec<Term> = keys.iter().map(|k| atom::intern(k).map_err(|_| badarg())).collect::<Result<_, _>>()?;
    // Every entry a pair and a cell; the name a string, the links a list.
    p.ensure(5 * keys.len() + 2 * NAME.len() + 2, a);
    let heap = &mut p.heap;
    let entries: Vec<Term> = keys
        .iter()
        .zip(key_atoms)
        .map(|(&key, key_atom)| {
            let value = match key {
                "name" => {
                    let chars: Vec<Term> =
                        NAME.bytes().map(|b| Term::small(i64::from(b)).unwrap_or(Term::NIL)).collect();
                    heap.list(&chars)
                }
                "links" => heap.list(&[Term::pid(owner)]),
                "id" => id,
                "connected" => Term::pid(owner),
                "os_pid" => atoms::UNDEFINED,
                _ => Term::small(0).unwrap_or(Term::NIL),
            };
            heap.tuple(&[key_atom, value])
        })
        .collect();
    Ok(match item {
        Some(_) => entries[0],
        None => heap.list(&entries),
    })
}

/// A port number 0..=65535.
fn port_number(term: Term) -> Option<u16> {
    term.is_small().then(|| u16::try_from(term.small_value()).ok()).flatten()
}

fn reference_number(term: Term) -> Option<u64> {
    (term.is_boxed() && term.header().kind() == Some(Kind::Reference)).then(|| term.payload()[0])
}

/// `{A, B, C, D}`, or the atoms `any` and `loopback`.
fn ip_address(term: Term) -> Option<Ipv4Addr> {
    match atom::name(term) {
        Some("any") => return Some(Ipv4Addr::UNSPECIFIED),
        Some("loopback") => return Some(Ipv4Addr::LOCALHOST),
        _ => {}
    }
    let elements = term.tuple_elements()?;
    let octets: Vec<u8> = elements
        .iter()
        .map(|e| e.is_small().then(|| u8::try_from(e.small_value()).ok()).flatten())
        .collect::<Option<_>>()?;
    let octets: [u8; 4] = octets.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

/// The address `connect` goes to: an address tuple, or a host name as a
/// string or an atom (`{error, nxdomain}` if it does not resolve).
fn host_address(term: Term) -> Result<Result<Ipv4Addr, Term>, Stop> {
    if let Some(address) = term.tuple_elements().and_then(|_| ip_address(term)) {
        return Ok(Ok(address));
    }
    let host = if term.is_atom() {
        atom::name(term).unwrap_or_default().to_owned()
    } else if term.is_cons() {
        string_of(term).map_err(|_| exit_badarg())?
    } else {
        return Err(exit_badarg());
    };
    Ok(net::resolve(&host))
}

fn boolean_arg(term: Term) -> Result<bool, ()> {
    match term {
        t if t == atoms::TRUE => Ok(true),
        t if t == atoms::FALSE => Ok(false),
        _ => Err(()),
    }
}

fn unsigned(term: Term) -> Result<u32, ()> {
    if term.is_small() {
        u32::try_from(term.small_value()).map_err(|_| ())
    } else {
        Err(())
    }
}

/// The options of a `listen`, `connect` or `setopts` list.
fn parse_settings(list: Term) -> Result<Vec<Setting>, ()> {
    let items = list_items(list).map_err(|_| ())?;
    items.into_iter().map(parse_setting).collect()
}

fn parse_setting(option: Term) -> Result<Setting, ()> {
    if option.is_atom() {
        return match atom::name(option) {
            Some("binary") => Ok(Setting::Mode(Mode::Binary)),
            Some("list") => Ok(Setting::Mode(Mode::List)),
            Some("inet") => Ok(Setting::Accepted),
            _ => Err(()),
        };
    }
    let Some(&[key, value]) = option.tuple_elements() else { return Err(()) };
    let setting = match atom::name(key).ok_or(())? {
        "mode" => match atom::name(value) {
            Some("binary") => Setting::Mode(Mode::Binary),
            Some("list") => Setting::Mode(Mode::List),
            _ => return Err(()),
        },
        "active" => match atom::name(value) {
            Some("true") => Setting::Active(Active::True),
            Some("false") => Setting::Active(Active::False),
            Some("once") => Setting::Active(Active::Once),
            _ if value.is_small() => {
                let n = value.small_value();
                if !(-(i64::from(MAX_ACTIVE_COUNT) + 1)..=i64::from(MAX_ACTIVE_COUNT)).contains(&n) {
                    return Err(());
                }
                Setting::ActiveAdd(n as i32)
            }
            _ => return Err(()),
        },
        "packet" => Setting::Packet(match atom::name(value) {
            Some("raw") => Packet::Raw,
            Some("line") => Packet::Line,
            _ if value.is_small() => match value.small_value() {
                0 => Packet::Raw,
                n @ (1 | 2 | 4) => Packet::Length(n as u8),
                _ => return Err(()),
            },
            _ => return Err(()),
        }),
        "packet_size" => Setting::PacketSize(unsigned(value)?),
        "buffer" => Setting::Buffer(unsigned(value)?.max(1)),
        "recbuf" => Setting::Recbuf(unsigned(value)?),
        "sndbuf" => Setting::Sndbuf(unsigned(value)?),
        "high_watermark" => Setting::HighWatermark(unsigned(value)?),
        "low_watermark" => Setting::LowWatermark(unsigned(value)?),
        "send_timeout" if value == atoms::INFINITY => Setting::SendTimeout(None),
        "send_timeout" => Setting::SendTimeout(Some(unsigned(value)?)),
        "send_timeout_close" => Setting::SendTimeoutClose(boolean_arg(value)?),
        "exit_on_close" => Setting::ExitOnClose(boolean_arg(value)?),
        "delay_send" => Setting::DelaySend(boolean_arg(value)?),
        "nodelay" => Setting::Nodelay(boolean_arg(value)?),
        "keepalive" => Setting::Keepalive(boolean_arg(value)?),
        "reuseaddr" => Setting::Reuseaddr(boolean_arg(value)?),
        "linger" => match value.tuple_elements() {
            Some(&[on, seconds]) => {
                let seconds = u16::try_from(unsigned(seconds)?).map_err(|_| ())?;
                Setting::Linger(boolean_arg(on)?.then_some(seconds))
            }
            _ => return Err(()),
        },
        "ip" | "ifaddr" => Setting::Ip(ip_address(value).ok_or(())?),
        "port" => Setting::Port(port_number(value).ok_or(())?),
        "backlog" => Setting::Backlog(unsigned(value)?),
        "deliver" if atom::name(value) == Some("term") => Setting::Accepted,
        "header" if value == Term::small(0).ok_or(())? => Setting::Accepted,
        _ => return Err(()),
    };
    Ok(setting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::Heap;

    fn small(n: i64) -> Term {
        Term::small(n).unwrap()
    }

    #[test]
    fn options_parse_as_inet_reads_them() {
        let mut heap = Heap::with_young_words(256);
        let atom = |name: &str| atom::intern(name).unwrap();
        let once = heap.tuple(&[atom("active"), atom("once")]);
        let packet = heap.tuple(&[atom("packet"), small(2)]);
        let line = heap.tuple(&[atom("packet"), atom("line")]);
        let count = heap.tuple(&[atom("active"), small(-3)]);
        let octets = heap.tuple(&[small(127), small(0), small(0), small(1)]);
        let ip = heap.tuple(&[atom("ip"), octets]);
        let list = heap.list(&[atom("binary"), once, packet, line, count, ip]);
        assert_eq!(
            parse_settings(list),
            Ok(vec![
                Setting::Mode(Mode::Binary),
                Setting::Active(Active::Once),
                Setting::Packet(Packet::Length(2)),
                Setting::Packet(Packet::Line),
                Setting::ActiveAdd(-3),
                Setting::Ip(Ipv4Addr::LOCALHOST),
            ])
        );
        for bad in [
            atom("bogus"),
            heap.tuple(&[atom("packet"), small(3)]),
            heap.tuple(&[atom("active"), atom("maybe")]),
            heap.tuple(&[atom("active"), small(40_000)]),
            heap.tuple(&[atom("nodelay"), small(1)]),
            heap.tuple(&[atom("ip"), small(1)]),
        ] {
            let list = heap.list(&[bad]);
            assert_eq!(parse_settings(list), Err(()), "{bad:?}");
        }
        assert_eq!(parse_settings(atom("binary")), Err(()), "not a list");
    }
}
