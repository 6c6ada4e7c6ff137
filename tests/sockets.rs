//! Sockets end to end, over loopback: the chat example (`examples/chat/`)
//! driven by clients written here, an echo server in the language holding
//! 2,000 connections at once, peers that vanish mid-stream, and an idle VM
//! with open sockets using no CPU. The socket API's behaviour against erl
//! is in `tests/conformance/tcp_*.actor`; these are the cases a recording
//! cannot hold (many peers, resets, CPU use).
//!
//! Connection counts stay far below this machine's 20,000 descriptors per
//! process (the test process and the VM each hold one per connection).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `vm run` of a server that prints `... port N` as its first line; killed
/// when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(program: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
            .arg("run")
            .arg(program)
            .arg("--")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vm");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the first line");
        let port = line.trim().rsplit(' ').next().and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("no port in the server's first line {line:?}"));
        Server { child, port }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    /// CPU seconds used so far (user + system).
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
        (fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap()) / 100.0
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A line-protocol client.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn new(server: &Server) -> Client {
        let stream = server.connect();
        Client { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream }
    }

    fn say(&mut self, line: &str) {
        self.writer.write_all(format!("{line}\n").as_bytes()).expect("send a line");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read a line");
        line.trim_end().to_owned()
    }
}

fn chat() -> Server {
    Server::start(&support::root().join("examples/chat/chat.actor"), &["0"])
}

#[test]
fn the_chat_server_routes_lines_between_connections() {
    let server = chat();
    let mut alice = Client::new(&server);
    let mut bob = Client::new(&server);
    assert!(alice.line().starts_with("welcome!"));
    assert!(bob.line().starts_with("welcome!"));
    bob.say("hello?");
    assert_eq!(bob.line(), "take a name first: /nick NAME");
    alice.say("/nick alice");
    assert_eq!(alice.line(), "you are alice");
    bob.say("/nick alice");
    assert_eq!(bob.line(), "name taken or not valid: alice");
    bob.say("/nick bob");
    assert_eq!(bob.line(), "you are bob");
    assert_eq!(alice.line(), "* bob joined");
    bob.say("hi all");
    assert_eq!(alice.line(), "<bob> hi all");
    alice.say("/msg bob just for you");
    assert_eq!(bob.line(), "[alice -> you] just for you");
    alice.say("/msg carol anyone?");
    assert_eq!(alice.line(), "no such user: carol");
    alice.say("/who");
    assert_eq!(alice.line(), "online: alice, bob");
    bob.say("/nick robert");
    assert_eq!(bob.line(), "you are robert");
    assert_eq!(alice.line(), "* bob is now robert");
    // Leaving, by /quit and by closing the connection.
    bob.say("/quit");
    assert_eq!(alice.line(), "* robert left");
    assert_eq!(bob.line(), "", "the server closed bob's connection");
    let mut carol = Client::new(&server);
    carol.line();
    carol.say("/nick carol");
    carol.line();
    assert_eq!(alice.line(), "* carol joined");
    drop(carol);
    assert_eq!(alice.line(), "* carol left");
    alice.say("/who");
    assert_eq!(alice.line(), "online: alice");
}

#[test]
fn a_chat_broadcast_reaches_two_hundred_clients() {
    let server = chat();
    let mut clients: Vec<Client> = (0..200).map(|_| Client::new(&server)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.line();
        client.say(&format!("/nick user{i}"));
        assert_eq!(client.line(), format!("you are user{i}"));
    }
    // Each client has seen the joins of those after it; drain them.
    for (i, client) in clients.iter_mut().enumerate() {
        for j in i + 1..200 {
            assert_eq!(client.line(), format!("* user{j} joined"));
        }
    }
    clients[7].say("to everyone");
    for (i, client) in clients.iter_mut().enumerate() {
        if i != 7 {
            assert_eq!(client.line(), "<user7> to everyone");
        }
    }
    // Half of them vanish at once: the rest hear each one leave.
    clients.truncate(100);
    let mut left: Vec<String> = (0..100).map(|_| clients[0].line()).collect();
    left.sort();
    let mut expected: Vec<String> = (100..200).map(|i| format!("* user{i} left")).collect();
    expected.sort();
    assert_eq!(left, expected);
    clients[0].say("/who");
    let online = clients[0].line();
    assert_eq!(online.matches(", ").count() + 1, 100, "{online}");
}

/// The benchmarks' echo server (an acceptor pool, a process per connection).
fn echo_server() -> Server {
    Server::start(&support::root().join("vm/benches/net/echo_server.actor"), &["0"])
}

#[test]
fn two_thousand_connections_are_served_at_once() {
    let server = echo_server();
    let mut streams: Vec<TcpStream> = (0..2_000).map(|_| server.connect()).collect();
    for round in 0..3 {
        for (i, stream) in streams.iter_mut().enumerate() {
            stream.write_all(format!("{round:02}:{i:06}").as_bytes()).unwrap();
        }
        for (i, stream) in streams.iter_mut().enumerate() {
            let mut echo = [0u8; 9];
            stream.read_exact(&mut echo).unwrap();
            assert_eq!(&echo, format!("{round:02}:{i:06}").as_bytes());
        }
    }
}

#[test]
fn peers_that_vanish_mid_stream_leave_the_vm_serving() {
    let mut server = echo_server();
    for i in 0..200 {
        let mut stream = server.connect();
        stream.write_all(&vec![b'x'; 100_000]).unwrap();
        match i % 3 {
            // A reset (linger 0) while the server is still echoing.
            0 => socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO)).unwrap(),
            // Half closed: the server sees the end after the data.
            1 => stream.shutdown(Shutdown::Write).unwrap(),
            _ => {}
        }
        drop(stream);
    }
    assert!(server.is_running());
    let mut stream = server.connect();
    stream.write_all(b"still here").unwrap();
    let mut echo = [0u8; 10];
    stream.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"still here");
}

#[test]
fn an_idle_vm_with_open_sockets_uses_no_cpu() {
    let server = echo_server();
    let streams: Vec<TcpStream> = (0..100).map(|_| server.connect()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = server.cpu_seconds();
    std::thread::sleep(Duration::from_secs(2));
    let used = server.cpu_seconds() - before;
    // The poller waits without a timeout and the schedulers park: a busy
    // loop anywhere would use the whole 2 s.
    assert!(used < 0.1, "an idle VM used {used} s of CPU in 2 s");
    drop(streams);
}
