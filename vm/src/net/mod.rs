//! TCP sockets for `gen_tcp` and `inet` (the design is in
//! `docs/design/io.md`): non-blocking descriptors on epoll (`mio`), one
//! poller thread, and no thread per connection or per operation.
//!
//! A socket is a port to the language (`#Port<0.N>`, an immediate term
//! holding the socket's id) and a [`Socket`] in this module's table. Its
//! owner (the controlling process) gets its `{tcp, S, Data}` messages and
//! takes it down when it ends (`owner_exited`, from the runtime's exit
//! path). A request that cannot complete at once (a `recv` with no data, an
//! `accept` with no connection, a `connect` in progress, a `send` above the
//! high watermark) leaves a waiter on the socket and its caller waits in an
//! ordinary `receive` for `{inet_async, S, Ref, Result}` (`stdlib/gen_tcp.actor`),
//! so a waiting process holds no scheduler and no native stack, exactly
//! like one waiting for a message.
//!
//! The poller thread sleeps in `epoll_wait` without a timeout (an idle VM
//! uses no CPU); it starts with the first socket. When the kernel reports
//! readiness it runs the socket's state machine (`socket.rs`), which reads,
//! cuts packets (`packet.rs`) and pushes messages onto the owners' inboxes
//! like any sender. Built-ins run the same state machine in the calling
//! process, so data already there is returned without a message.

mod options;
mod packet;
mod socket;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};

use mio::net::{TcpListener, TcpStream};

pub use options::{Active, Mode, Options, Setting, MAX_ACTIVE_COUNT};
pub use packet::Packet;
pub use socket::{Answer, Outcome, Socket};

use crate::atom::{self, atoms};
use crate::scheduler::Runtime;
use crate::term::Term;

/// Shards of the socket table (a socket's shard is its id modulo this).
const SHARDS: usize = 64;

/// The first port number: erl's first socket in an `-eval` is usually
/// `#Port<0.5>`, so a program's sockets read alike.
const FIRST_PORT: u64 = 5;

/// Events taken from the kernel per `epoll_wait`.
const EVENTS: usize = 1024;

/// One shard of the socket table, by id.
type Shard = RwLock<HashMap<u64, Arc<Socket>>>;

/// The socket subsystem: the poller's registry and the socket table.
#[derive(Debug)]
pub struct Net {
    registry: mio::Registry,
    table: Box<[Shard]>,
    next_id: AtomicU64,
    /// Sockets in the table (kept beside it so the schedulers can read it
    /// without a lock each time they run out of work).
    open: AtomicUsize,
    runtime: &'static Runtime,
}

static NET: OnceLock<Net> = OnceLock::new();

/// The subsystem, if a socket was ever made (`erlang:ports/0` and the
/// runtime's exit path look without starting it).
pub fn get() -> Option<&'static Net> {
    NET.get()
}

/// The subsystem, started on first use: the poller thread and its epoll
/// descriptor. Fails if the process is out of descriptors or threads.
pub fn start(runtime: &'static Runtime) -> std::io::Result<&'static Net> {
    static STARTING: Mutex<()> = Mutex::new(());
    if let Some(net) = NET.get() {
        return Ok(net);
    }
    let _guard = STARTING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(net) = NET.get() {
        return Ok(net);
    }
    let poll = mio::Poll::new()?;
    let registry = poll.registry().try_clone()?;
    let net = Net {
        registry,
        table: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
        next_id: AtomicU64::new(FIRST_PORT),
        open: AtomicUsize::new(0),
        runtime,
    };
    let net: &'static Net = NET.get_or_init(|| net);
    std::thread::Builder::new().name("poller".to_owned()).spawn(move || net.poll_loop(poll))?;
    Ok(net)
}

/// The ports a process's exit must close: each closes if `pid` still owns it.
pub fn owner_exited(ids: &[u64], pid: u64) {
    let Some(net) = get() else { return };
    for &id in ids {
        if let Some(socket) = net.socket(id) {
            socket.owner_exited(net, pid);
        }
    }
}

/// Whether `pid` owns socket `id` (to prune a process's list of sockets).
pub fn is_owned_by(id: u64, pid: u64) -> bool {
    get().and_then(|net| net.socket(id)).is_some_and(|socket| socket.is_owned_by(pid))
}

impl Net {
    /// The poller thread: waits for readiness and runs the state machine
    /// of each socket that has some, for ever.
    fn poll_loop(&'static self, mut poll: mio::Poll) {
        let mut events = mio::Events::with_capacity(EVENTS);
        loop {
            if let Err(error) = poll.poll(&mut events, None) {
                if error.kind() != std::io::ErrorKind::Interrupted {
                    crate::report::error(&format!("the socket poller cannot wait for events: {error}\n"));
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                continue;
            }
            for event in events.iter() {
                let id = event.token().0 as u64;
                // A socket closed since the event was queued is gone from the
                // table (ids are never reused, so no other socket gets it).
                if let Some(socket) = self.socket(id) {
                    let readable = event.is_readable() || event.is_read_closed() || event.is_error();
                    let writable = event.is_writable() || event.is_write_closed() || event.is_error();
                    let hangup = event.is_read_closed() || event.is_error();
                    socket.on_event(self, readable, writable, hangup);
                }
            }
        }
    }

    fn shard(&self, id: u64) -> &Shard {
        &self.table[id as usize % SHARDS]
    }

    /// The socket of port `id`, if it is open (or still flushing).
    pub fn socket(&self, id: u64) -> Option<Arc<Socket>> {
        self.shard(id).read().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }

    fn remove(&self, id: u64) {
        if self.shard(id).write().unwrap_or_else(PoisonError::into_inner).remove(&id).is_some() {
            self.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The ids of every open port, in order (`erlang:ports/0`).
    pub fn ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .table
            .iter()
            .flat_map(|shard| {
                let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
                shard.iter().filter(|(_, s)| s.owner().is_some()).map(|(&id, _)| id).collect::<Vec<_>>()
            })
            .collect();
        ids.sort_unstable();
        ids
    }

    /// How many sockets the table holds (open, or closed and flushing).
    pub fn count(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Puts a new socket in the table and registers it with the poller.
    fn insert(&self, socket: Socket) -> std::io::Result<Arc<Socket>> {
        let socket = Arc::new(socket);
        self.shard(socket.id).write().unwrap_or_else(PoisonError::into_inner).insert(socket.id, socket.clone());
        self.open.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = socket.register(&self.registry) {
            self.remove(socket.id);
            return Err(error);
        }
        Ok(socket)
    }

    fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// `gen_tcp:listen/2`: a listening socket owned by `owner`.
    pub fn listen(&self, owner: u64, settings: &[Setting]) -> Result<u64, Term> {
        let (options, address, backlog) = creation(settings, Ipv4Addr::UNSPECIFIED);
        let socket = new_socket(&options, settings)?;
        socket.bind(&SocketAddr::V4(address).into()).map_err(|e| errno(&e))?;
        socket.listen(backlog.unwrap_or(5).min(i32::MAX as u32) as i32).map_err(|e| errno(&e))?;
        let listener = TcpListener::from_std(socket.into());
        let id = self.new_id();
        self.insert(Socket::listener(id, listener, owner, options)).map_err(|e| errno(&e))?;
        Ok(id)
    }

    /// `gen_tcp:connect/3,4`: a socket connecting to `to`, owned by
    /// `owner`, who waits for `{inet_async, S, Ref, ok | {error, R}}` with
    /// the reference returned.
    pub fn connect(&self, owner: u64, to: SocketAddrV4, settings: &[Setting]) -> Result<(u64, u64), Term> {
        let (options, local, _) = creation(settings, Ipv4Addr::UNSPECIFIED);
        let socket = new_socket(&options, settings)?;
        if local.port() != 0 || !local.ip().is_unspecified() {
            socket.bind(&SocketAddr::V4(local).into()).map_err(|e| errno(&e))?;
        }
        match socket.connect(&SocketAddr::V4(to).into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(errno(&e)),
        }
        let stream = TcpStream::from_std(socket.into());
        let id = self.new_id();
        let (socket, reference) = Socket::connecting(id, stream, owner, options);
        let socket = self.insert(socket).map_err(|e| errno(&e))?;
        // Connected at once, or refused at once: the state machine sees it
        // now (its answer is the message all the same).
        socket.on_event(self, false, true, false);
        Ok((id, reference))
    }

    /// A connection a listener accepted, with the listener's options,
    /// owned by the acceptor.
    fn adopt(&self, stream: TcpStream, options: Options, owner: u64) -> std::io::Result<u64> {
        if options.nodelay {
            stream.set_nodelay(true)?;
        }
        let id = self.new_id();
        self.insert(Socket::stream(id, stream, owner, options))?;
        Ok(id)
    }
}

/// The options of a new socket, its local address and its backlog.
fn creation(settings: &[Setting], any: Ipv4Addr) -> (Options, SocketAddrV4, Option<u32>) {
    let mut options = Options::default();
    let (mut ip, mut port, mut backlog) = (any, 0, None);
    for &setting in settings {
        match setting {
            Setting::Ip(address) => ip = address,
            Setting::Port(p) => port = p,
            Setting::Backlog(n) => backlog = Some(n),
            // Counts were checked by the caller; `{active, N}` starts from 0.
            other => drop(options.apply(other)),
        }
    }
    (options, SocketAddrV4::new(ip, port), backlog)
}

/// A non-blocking TCP socket with the descriptor options of `settings`.
fn new_socket(options: &Options, settings: &[Setting]) -> Result<socket2::Socket, Term> {
    use socket2::{Domain, Protocol, Type};
    let socket = socket2::Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).map_err(|e| errno(&e))?;
    socket.set_nonblocking(true).map_err(|e| errno(&e))?;
    let set = |result: std::io::Result<()>| result.map_err(|e| errno(&e));
    set(socket.set_reuse_address(options.reuseaddr))?;
    set(socket.set_nodelay(options.nodelay))?;
    set(socket.set_keepalive(options.keepalive))?;
    if let Some(seconds) = options.linger {
        set(socket.set_linger(Some(std::time::Duration::from_secs(u64::from(seconds)))))?;
    }
    for &setting in settings {
        match setting {
            Setting::Recbuf(n) => set(socket.set_recv_buffer_size(n as usize))?,
            Setting::Sndbuf(n) => set(socket.set_send_buffer_size(n as usize))?,
            _ => {}
        }
    }
    Ok(socket)
}

/// The address of a host name: dotted quads and `localhost` at once,
/// others by the system's resolver (which blocks the calling scheduler for
/// the lookup; see `docs/design/io.md`). `nxdomain` if it has no IPv4
/// address.
pub fn resolve(host: &str) -> Result<Ipv4Addr, Term> {
    if host == "localhost" {
        return Ok(Ipv4Addr::LOCALHOST);
    }
    if let Ok(address) = host.parse::<Ipv4Addr>() {
        return Ok(address);
    }
    let addresses = (host, 0).to_socket_addrs().map_err(|_| atoms::NXDOMAIN)?;
    addresses
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or(atoms::NXDOMAIN)
}

/// The POSIX name of an I/O error, as inet_drv reports it (`econnrefused`,
/// `eaddrinuse`, `emfile`...).
pub fn errno(error: &std::io::Error) -> Term {
    let Some(code) = error.raw_os_error() else {
        return match error.kind() {
            std::io::ErrorKind::WriteZero | std::io::ErrorKind::UnexpectedEof => atoms::CLOSED,
            _ => atoms::EINVAL,
        };
    };
    // inet's names; an atom already predefined interns to itself.
    let name = match code {
        libc::EMFILE => "emfile",
        libc::ENFILE => "enfile",
        libc::ECONNREFUSED => "econnrefused",
        libc::ECONNRESET => "econnreset",
        libc::EADDRINUSE => "eaddrinuse",
        libc::EADDRNOTAVAIL => "eaddrnotavail",
        libc::ENOTCONN => "enotconn",
        libc::ENOMEM | libc::ENOBUFS => "enomem",
        libc::EMSGSIZE => "emsgsize",
        libc::EALREADY => "ealready",
        libc::EACCES => "eacces",
        libc::EPERM => "eperm",
        libc::EPIPE => "epipe",
        libc::ETIMEDOUT => "etimedout",
        libc::EHOSTUNREACH => "ehostunreach",
        libc::ENETUNREACH => "enetunreach",
        libc::ENETDOWN => "enetdown",
        libc::ECONNABORTED => "econnaborted",
        libc::EAFNOSUPPORT => "eafnosupport",
        libc::EPROTO => "eproto",
        libc::ENOSPC => "enospc",
        libc::EAGAIN => "eagain",
        _ => return atoms::EINVAL,
    };
    atom::intern(name).unwrap_or(atoms::EINVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_inets_names() {
        let of = |code| errno(&std::io::Error::from_raw_os_error(code));
        assert_eq!(of(libc::EMFILE), atoms::EMFILE);
        assert_eq!(of(libc::ENOBUFS), atoms::ENOMEM);
        assert_eq!(of(libc::EPIPE), atom::intern("epipe").unwrap_or(atoms::EINVAL));
        assert_eq!(of(libc::EINVAL), atoms::EINVAL);
        assert_eq!(of(libc::EDOM), atoms::EINVAL, "an error inet has no name for");
        assert_eq!(errno(&std::io::ErrorKind::UnexpectedEof.into()), atoms::CLOSED);
    }
}
